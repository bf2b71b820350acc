"""What the earthquake does to the roads: debris, damaged bridges and tunnels.

Debris of buildings that shed it (docs/references.md §3.6) buries part of the roads next to them:
a drive link is closed when less than ``debris_pass_width_m`` stays clear, slowed
otherwise; a footway only where less than a file of pedestrians' width stays clear.
Bridges (HAZUS HWB, Sa(1.0 s)) and tunnels (HTU, PGA) close or slow by damage state, only
where the compiled map flags them (``drive_bridge`` / ``drive_tunnel``); the footway of a
collapsed road bridge goes with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.core.damage import LinkIndex, buried_width, debris_reach_m, has_reverse, link_index
from sim.hazards.earthquake.buildings import Inventory
from sim.hazards.earthquake.fragility import DAMAGE_STATES, sample_transport, transport_curve
from sim.network.roadnet import RoadNetwork

if TYPE_CHECKING:
    from sim.hazards.earthquake.spec import EarthquakeSpec

__all__ = ["RoadDamage", "RoadExposure", "Structures", "road_damage", "road_exposure",
           "structures"]

# Width a file of pedestrians needs to pick its way past rubble, m (assumption).
_WALK_PASS_M = 0.5


@dataclass(frozen=True)
class Structures:
    """Bridges or tunnels: physical structures (both directions of a link = one)."""

    links: np.ndarray  # int64[k] link indices
    struct: np.ndarray  # int64[k] structure of each link
    x_m: np.ndarray  # float64[S] midpoints
    y_m: np.ndarray

    @property
    def n(self) -> int:
        """Number of structures."""
        return int(self.x_m.size)


def structures(net: RoadNetwork, links, flag_name: str) -> Structures:
    """The structures on the links ``net.<flag_name>`` flags (none if the map lacks it).

    Parameters
    ----------
    net : RoadNetwork
    links : sim.core.links.Links
        The links the flags belong to (``net.drive``).
    flag_name : str
        ``drive_bridge`` or ``drive_tunnel``: a bool[n_links] attribute of ``net``.
    """
    flags = getattr(net, flag_name, None)
    if flags is None:
        e = np.zeros(0, np.int64)
        return Structures(e, e, np.zeros(0), np.zeros(0))
    idx = np.flatnonzero(np.asarray(flags, bool))
    a, b = links.from_node[idx].astype(np.int64), links.to_node[idx].astype(np.int64)
    key = np.minimum(a, b) * len(net.nodes) + np.maximum(a, b)
    uniq, first, struct = np.unique(key, return_index=True, return_inverse=True)
    i = idx[first]
    nx_, ny_ = net.nodes.x_m, net.nodes.y_m
    xm = (nx_[links.from_node[i]] + nx_[links.to_node[i]]) / 2.0
    ym = (ny_[links.from_node[i]] + ny_[links.to_node[i]]) / 2.0
    return Structures(idx, struct.astype(np.int64), xm, ym)


@dataclass(frozen=True)
class RoadExposure:
    """What of the road network the earthquake can reach, indexed once at bind.

    Attributes
    ----------
    drive_two_way : bool[n_drive]
        The opposite direction exists too (a two-way street).
    drive_index, walk_index : LinkIndex
        Points along the drive / walk links with their width, m (walk: None without
        footways).
    bridges, tunnels : Structures
    """

    drive_two_way: np.ndarray
    drive_index: LinkIndex
    walk_index: LinkIndex | None
    bridges: Structures
    tunnels: Structures


def road_exposure(net: RoadNetwork, lane_width_m: float) -> RoadExposure:
    """Index the roads of ``net``: a two-way street is ``2 × lanes × lane_width_m`` wide."""
    d, w, nodes = net.drive, net.walk, net.nodes
    two_way = has_reverse(d, len(nodes))
    drive_w = d.lanes * lane_width_m * np.where(two_way, 2.0, 1.0)
    drive_index = link_index(d, nodes, drive_w)
    walk_index = link_index(w, nodes, np.asarray(w.lanes, np.float64)) \
        if w.n_links else None
    return RoadExposure(two_way, drive_index, walk_index, structures(net, d, "drive_bridge"),
                        structures(net, d, "drive_tunnel"))


class RoadDamage(NamedTuple):
    """Link factors and damage states after the earthquake.

    Attributes
    ----------
    drive_factor : float64[n_drive]
        1 open, 0 closed, in between slowed (speed multiplier).
    walk_factor : float64[n_walk]
    rows : list of tuple
        One per affected link: (network, link, reason, buried_m, damage_state, factor);
        ``damage_state`` is −1 for debris.
    bridge_ds, tunnel_ds : int[S]
        Damage state per structure (0 none … 4 complete).
    """

    drive_factor: np.ndarray
    walk_factor: np.ndarray
    rows: list
    bridge_ds: np.ndarray
    tunnel_ds: np.ndarray


def road_damage(s: EarthquakeSpec, inv: Inventory, net: RoadNetwork, roads: RoadExposure,
                dmg: dict[str, np.ndarray], sa10_bridges: np.ndarray, pga_tunnels: np.ndarray,
                rng: np.random.Generator) -> RoadDamage:
    """Link factors from debris, bridges and tunnels; rows of the links table.

    Parameters
    ----------
    s : EarthquakeSpec
    inv : Inventory
    net : RoadNetwork
    roads : RoadExposure
        What :func:`road_exposure` returns for ``net``.
    dmg : dict
        Building damage (:func:`sim.hazards.earthquake.damage.damage_buildings`).
    sa10_bridges : float64[n_bridges]
        Realised Sa(1.0 s) at each bridge, g.
    pga_tunnels : float64[n_tunnels]
        Realised PGA at each tunnel, g.
    rng : numpy.random.Generator
    """
    if s.debris_from == "collapse":
        shed = dmg["collapse"]
    elif s.debris_from == "complete":
        shed = dmg["ds"] >= 4
    else:
        shed = dmg["ds"] >= 3
    idx = np.flatnonzero(shed)
    reach = debris_reach_m(inv.height_m(s.buildings.storey_height_m)[idx])
    half = np.sqrt(inv.footprint_m2[idx]) / 2.0
    px, py = inv.x_m[idx], inv.y_m[idx]
    rows = []
    d_buried = buried_width(roads.drive_index, net.drive, net.nodes, px, py, half, reach)
    width = roads.drive_index.width_m
    drive = np.ones(net.drive.n_links)
    hit = d_buried > 0
    closed = hit & (width - d_buried < s.debris_pass_width_m)
    drive[hit] = s.debris_slow_factor
    drive[closed] = 0.0
    for i in np.flatnonzero(hit):
        rows.append(("drive", int(i), "debris", float(d_buried[i]), -1, float(drive[i])))
    walk = np.ones(net.walk.n_links)
    if roads.walk_index is not None and idx.size:
        w_buried = buried_width(roads.walk_index, net.walk, net.nodes, px, py, half, reach)
        over = (w_buried > 0) & (roads.walk_index.width_m - w_buried < _WALK_PASS_M)
        walk[over] = s.walk_debris_factor
        for i in np.flatnonzero(over):
            rows.append(("walk", int(i), "debris", float(w_buried[i]), -1,
                         float(walk[i])))
    close_at = DAMAGE_STATES.index(s.bridge_close_state)
    bridges, tunnels = roads.bridges, roads.tunnels
    bridge_ds = sample_transport(sa10_bridges, transport_curve(s.bridge_class),
                                 rng.random(bridges.n))
    tunnel_ds = sample_transport(pga_tunnels, transport_curve(s.tunnel_class),
                                 rng.random(tunnels.n))
    for what, st, ds, close in (("bridge", bridges, bridge_ds, close_at),
                                ("tunnel", tunnels, tunnel_ds, 2)):
        ds_l = ds[st.struct]
        f = np.where(ds_l >= close, 0.0, np.where(ds_l >= 1, s.bridge_slow_factor, 1.0))
        for li, fi, di in zip(st.links, f, ds_l, strict=True):
            if fi < drive[li]:
                drive[li] = fi
                rows.append(("drive", int(li), what, 0.0, int(di), float(fi)))
    # The footway of a collapsed road bridge (same two nodes) goes with it.
    down = bridges.links[bridge_ds[bridges.struct] >= 4]
    if down.size and net.walk.n_links:
        n = len(net.nodes)
        d, w = net.drive, net.walk
        key_d = np.minimum(d.from_node[down], d.to_node[down]).astype(np.int64) * n + \
            np.maximum(d.from_node[down], d.to_node[down])
        key_w = np.minimum(w.from_node, w.to_node).astype(np.int64) * n + \
            np.maximum(w.from_node, w.to_node)
        for li in np.flatnonzero(np.isin(key_w, key_d)):
            walk[li] = 0.0
            rows.append(("walk", int(li), "bridge", 0.0, 4, 0.0))
    return RoadDamage(drive, walk, rows, bridge_ds, tunnel_ds)
