"""The array form of a road or footpath network, as the kernels see it."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Links(NamedTuple):
    """Directed links of one network (drive or walk) over the map's global node indices.

    All arrays have one row per link except the CSR pair ``out_ptr``/``out_links``.

    Attributes
    ----------
    from_node, to_node : int32[L]
        Global node indices (rows of :class:`sim.network.RoadNetwork` node arrays).
    length_m : float64[L]
        Link length, metres.
    ffs_mps : float64[L]
        Free-flow speed, metres per second.
    lanes : float64[L]
        Lanes in this direction (>= 1). For walk links: usable walkway width in metres.
    capacity_vps : float64[L]
        Outflow capacity of the link, vehicles per second over all lanes
        (walk links: persons per second).
    storage_veh : int32[L]
        Vehicles the link holds at jam density, ``max(1, floor(length * lanes / spacing))``.
    out_ptr : int32[N+1]
        CSR row pointer: the out-links of node ``n`` are ``out_links[out_ptr[n]:out_ptr[n+1]]``.
    out_links : int32[L]
        Link indices sorted by ``from_node``.
    """

    from_node: np.ndarray
    to_node: np.ndarray
    length_m: np.ndarray
    ffs_mps: np.ndarray
    lanes: np.ndarray
    capacity_vps: np.ndarray
    storage_veh: np.ndarray
    out_ptr: np.ndarray
    out_links: np.ndarray

    @property
    def n_links(self) -> int:
        """Number of links."""
        return int(self.from_node.shape[0])

    @property
    def fft_s(self) -> np.ndarray:
        """Free-flow travel time per link, seconds."""
        return self.length_m / self.ffs_mps


def build_links(
    from_node: np.ndarray,
    to_node: np.ndarray,
    length_m: np.ndarray,
    ffs_mps: np.ndarray,
    lanes: np.ndarray,
    capacity_vps: np.ndarray,
    storage_veh: np.ndarray,
    *,
    n_nodes: int,
) -> Links:
    """Assemble :class:`Links` with the right dtypes and the CSR out-link index.

    Parameters
    ----------
    from_node, to_node
        Global node index of each link's tail and head, ``0 <= i < n_nodes``.
    length_m, ffs_mps, lanes, capacity_vps, storage_veh
        Per-link attributes in the units of :class:`Links`.
    n_nodes
        Number of nodes of the map (the CSR pointer has ``n_nodes + 1`` rows).

    Returns
    -------
    Links
        Contiguous arrays, int32 indices, float64 attributes.
    """
    f = np.ascontiguousarray(from_node, dtype=np.int32)
    t = np.ascontiguousarray(to_node, dtype=np.int32)
    order = np.argsort(f, kind="stable").astype(np.int32)
    counts = np.bincount(f, minlength=n_nodes)
    out_ptr = np.zeros(n_nodes + 1, dtype=np.int32)
    np.cumsum(counts, out=out_ptr[1:])
    return Links(
        from_node=f,
        to_node=t,
        length_m=np.ascontiguousarray(length_m, dtype=np.float64),
        ffs_mps=np.ascontiguousarray(ffs_mps, dtype=np.float64),
        lanes=np.ascontiguousarray(lanes, dtype=np.float64),
        capacity_vps=np.ascontiguousarray(capacity_vps, dtype=np.float64),
        storage_veh=np.ascontiguousarray(storage_veh, dtype=np.int32),
        out_ptr=out_ptr,
        out_links=order,
    )
