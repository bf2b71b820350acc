"""The peer-comparison workload of issue 3: a square grid evacuated to its four corners.

Network: a ``g`` x ``g`` grid, node ``(i, j)`` at ``x = 500 i``, ``y = 500 j`` metres, node
index ``i * g + j``. Every pair of 4-neighbours is joined by two directed links, one lane
each, 500 m, free-flow 13.89 m/s (50 km/h), capacity 1800 veh/h/lane, jam density
0.2 veh/m (storage 100 vehicles).

Demand: ``n`` vehicles; vehicle ``k`` departs at ``1800 k / n`` s from a uniformly random
non-corner node (``numpy.random.default_rng(12345).integers`` over the non-corner nodes in
ascending index order) and drives to the Manhattan-nearest of the four corners (``g`` even:
no ties). The corners are shelters with unlimited room. Horizon: 6 simulated hours.

The same arrays feed evacsim (in-process) and the peers (UXsim, SUMO) in
``benchmarks/peers.py``, so every simulator sees identical origins, times and routes.
The city workload of issue 17 (``build_city_demand`` and below) keeps this grid and
departure rule with exits all round the boundary and two-lane links; see its section.
Importing this module does no work and loads only numpy.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# All workload numbers below are fixed by issue 3 (the peers were measured on them).
SPACING_M = 500.0
FFS_MPS = 13.89  # 50 km/h
CAPACITY_VPH_LANE = 1800.0
JAM_DENSITY_VPM = 0.2
DEPART_WINDOW_S = 1800.0  # departures uniform over 30 min
HORIZON_S = 6 * 3600.0
SEED = 12345
# Route tie-break weight, seconds per hop and per hop of distance from the corner's axes.
# Any non-shortest path is >= 2 hops (72 s) longer; the total tie-break on a path is at
# most 2 g * g * TIE_S = 3.2 s at g = 40, so it only ever chooses among shortest paths.
TIE_S = 1e-3


class Grid(NamedTuple):
    """The grid network.

    Attributes
    ----------
    g : int
        Nodes per side.
    x_m, y_m : float64[g*g]
        Node coordinates, metres (x = 500 i, y = 500 j).
    from_node, to_node : int32[L]
        Directed links, ``L = 4 g (g - 1)``, in a fixed order (by tail node, then the
        neighbour order +i, -i, +j, -j).
    corners : int32[4]
        Corner nodes ``(0,0), (0,g-1), (g-1,0), (g-1,g-1)``: the shelters.
    """

    g: int
    x_m: np.ndarray
    y_m: np.ndarray
    from_node: np.ndarray
    to_node: np.ndarray
    corners: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes, ``g * g``."""
        return self.g * self.g

    @property
    def n_links(self) -> int:
        """Number of directed links."""
        return int(self.from_node.shape[0])


class Demand(NamedTuple):
    """One row per vehicle, in departure order.

    Attributes
    ----------
    origin : int32[n]
        Origin node (never a corner).
    depart_s : float64[n]
        Departure time, seconds: ``1800 k / n``.
    corner : int32[n]
        Index 0..3 into :attr:`Grid.corners` of the Manhattan-nearest corner.
    dest : int32[n]
        That corner's node.
    hops : int32[n]
        Manhattan distance to it, in links.
    """

    origin: np.ndarray
    depart_s: np.ndarray
    corner: np.ndarray
    dest: np.ndarray
    hops: np.ndarray


def _check_g(g: int) -> int:
    g = int(g)
    if g < 4 or g % 2:
        raise ValueError(f"workload: g: expected an even grid size >= 4, got {g}")
    return g


def build_grid(g: int) -> Grid:
    """Build the ``g`` x ``g`` grid (``g`` even, >= 4)."""
    g = _check_g(g)
    i, j = np.divmod(np.arange(g * g), g)
    tails, heads = [], []
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        ok = (i + di >= 0) & (i + di < g) & (j + dj >= 0) & (j + dj < g)
        node = np.flatnonzero(ok)
        tails.append(node)
        heads.append((i[ok] + di) * g + (j[ok] + dj))
    tail = np.concatenate(tails)
    head = np.concatenate(heads)
    order = np.lexsort((np.repeat(np.arange(4), [t.size for t in tails]), tail))
    corners = np.array([0, g - 1, (g - 1) * g, g * g - 1], dtype=np.int32)
    return Grid(
        g=g,
        x_m=SPACING_M * i.astype(np.float64),
        y_m=SPACING_M * j.astype(np.float64),
        from_node=tail[order].astype(np.int32),
        to_node=head[order].astype(np.int32),
        corners=corners,
    )


def nearest_corner(g: int, node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Manhattan-nearest corner of each node.

    Returns
    -------
    corner : int32[...]
        Index 0..3 into :attr:`Grid.corners` (``2 * (i >= g/2) + (j >= g/2)``).
    hops : int32[...]
        Manhattan distance to it, in links.
    """
    g = _check_g(g)
    i, j = np.divmod(np.asarray(node, dtype=np.int64), g)
    hi_i = i >= g // 2
    hi_j = j >= g // 2
    hops = np.where(hi_i, g - 1 - i, i) + np.where(hi_j, g - 1 - j, j)
    return (2 * hi_i + hi_j).astype(np.int32), hops.astype(np.int32)


def build_demand(g: int, n: int, *, seed: int = SEED) -> Demand:
    """Draw the ``n`` vehicles of the workload (see the module docstring)."""
    g = _check_g(g)
    n = int(n)
    if n < 1:
        raise ValueError(f"workload: n: expected >= 1 vehicles, got {n}")
    corners = build_grid(g).corners
    candidates = np.setdiff1d(np.arange(g * g), corners)  # ascending
    rng = np.random.default_rng(seed)
    origin = candidates[rng.integers(0, candidates.size, size=n)].astype(np.int32)
    corner, hops = nearest_corner(g, origin)
    return Demand(
        origin=origin,
        depart_s=DEPART_WINDOW_S * np.arange(n, dtype=np.float64) / n,
        corner=corner,
        dest=corners[corner],
        hops=hops,
    )


def link_arrays(grid: Grid, lanes: int = 1) -> dict[str, np.ndarray]:
    """Per-link attributes in evacsim's units (the keyword arguments of ``build_links``).

    ``lanes`` multiplies the capacity and the storage (1: the corners workload; the city
    workload uses ``CITY_LANES``).
    """
    n = grid.n_links
    return {
        "length_m": np.full(n, SPACING_M),
        "ffs_mps": np.full(n, FFS_MPS),
        "lanes": np.full(n, float(lanes)),
        "capacity_vps": np.full(n, lanes * CAPACITY_VPH_LANE / 3600.0),
        "storage_veh": np.full(n, int(lanes * SPACING_M * JAM_DENSITY_VPM), dtype=np.int32),
    }


def tie_break_cost_s(grid: Grid, corner: int) -> np.ndarray:
    """Link costs toward one corner: free-flow time plus a tie-break among shortest paths.

    Every shortest path to a corner is monotone, and a grid has many. A plain Dijkstra
    breaks the ties one way for the whole quadrant, and ~95 % of it then enters the corner
    by the same one of its two entry links, halving the shelter's intake. The tie-break
    (``TIE_S`` per link times the head node's distance to the nearer of the corner's two
    axes) sends each vehicle first toward the nearer axis: nodes below the corner's
    diagonal use one entry link and nodes above it the other, as a balanced assignment
    would.
    """
    g = grid.g
    ci, cj = np.divmod(int(grid.corners[corner]), g)
    hi, hj = np.divmod(grid.to_node.astype(np.int64), g)
    off_axis = np.minimum(np.abs(hi - ci), np.abs(hj - cj))
    return SPACING_M / FFS_MPS + TIE_S * off_axis


def routes(grid: Grid, next_link: np.ndarray, corner: int, nodes: np.ndarray) -> list[list[int]]:
    """Link sequences from ``nodes`` to ``grid.corners[corner]`` following ``next_link[corner]``.

    Used to give SUMO the same fixed routes as evacsim.
    """
    out = []
    dest = int(grid.corners[corner])
    for node in np.asarray(nodes).tolist():
        path = []
        while node != dest:
            lk = int(next_link[corner, node])
            if lk < 0 or len(path) > 4 * grid.g:
                raise ValueError(f"workload: no route from node {node} to corner {dest}")
            path.append(lk)
            node = int(grid.to_node[lk])
        out.append(path)
    return out


# --------------------------------------------------------------------------- city workload
#
# Issue 17: the corners workload saturates its four corners (1 veh/s each) long before
# N = 200,000, so SUMO teleports and nobody can compare at scale. The city workload keeps
# the grid and the departure rule, but every non-corner boundary node is an exit, each
# vehicle drives straight to the nearest side (4 (g - 2) exits), and links have two lanes.
# No two flows ever cross (every node's through traffic goes one way), so the comparison
# measures the engines, not their junction models. Sizing (``exit_load``): at g = 50 and
# N = 1,000,000 the busiest exit gets 10,501 vehicles, 2.9 h at 1 veh/s (two lanes), well
# inside the 6 h horizon; one lane would need g >= 80, and UXsim's all-pairs route tables
# then take > 10 GB (measured: 10.5 GB RSS at g = 80 with 10,000 vehicles). The million is
# run at g = 40 (13,235 at the busiest exit, 3.7 h): UXsim keeps a preference per link per
# vehicle, 15.7 GB for 200,000 platoons at g = 50, 10 GB at g = 40 (benchmarks/README.md).

SIDES = 4  # exit sides, in tie-break order: i = 0, i = g - 1, j = 0, j = g - 1
CITY_G = 50
CITY_LANES = 2


class CityDemand(NamedTuple):
    """One row per vehicle of the city workload, in departure order.

    Attributes
    ----------
    origin : int32[n]
        Origin node, an interior node (``0 < i, j < g - 1``).
    depart_s : float64[n]
        Departure time, seconds: ``1800 k / n``.
    side : int32[n]
        Exit side 0..3 (``i = 0``, ``i = g - 1``, ``j = 0``, ``j = g - 1``): the nearest one,
        the first in that order on a tie.
    dest : int32[n]
        The exit: the origin's projection onto that side (never a corner).
    hops : int32[n]
        Links to it (the distance to the side).
    """

    origin: np.ndarray
    depart_s: np.ndarray
    side: np.ndarray
    dest: np.ndarray
    hops: np.ndarray


def exits(g: int) -> np.ndarray:
    """The exit nodes of the city workload: every non-corner boundary node, ascending."""
    g = _check_g(g)
    i, j = np.divmod(np.arange(g * g), g)
    edge_i = (i == 0) | (i == g - 1)
    edge_j = (j == 0) | (j == g - 1)
    return np.flatnonzero(edge_i ^ edge_j).astype(np.int32)


def nearest_side(g: int, node: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest side of each interior node: (side 0..3, exit node, hops)."""
    g = _check_g(g)
    node = np.asarray(node, dtype=np.int64)
    if node.size > g * g and node.min() >= 0 and node.max() < g * g:
        # a million vehicles on g*g nodes: answer per node, then look up (0.17 s -> 5 ms
        # of every peer's process at 1M; the same arrays)
        side, dest, hops = _nearest_side(g, np.arange(g * g))
        return side[node], dest[node], hops[node]
    return _nearest_side(g, node)


def _nearest_side(g: int, node: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    i, j = np.divmod(node, g)
    d = np.stack([i, g - 1 - i, j, g - 1 - j])
    side = d.argmin(axis=0)  # first minimum on a tie
    exit_i = np.choose(side, [np.zeros_like(i), np.full_like(i, g - 1), i, i])
    exit_j = np.choose(side, [j, j, np.zeros_like(j), np.full_like(j, g - 1)])
    return (side.astype(np.int32), (exit_i * g + exit_j).astype(np.int32),
            d.min(axis=0).astype(np.int32))


def build_city_demand(g: int, n: int, *, seed: int = SEED) -> CityDemand:
    """Draw the ``n`` vehicles of the city workload: uniform over the interior nodes."""
    g = _check_g(g)
    n = int(n)
    if n < 1:
        raise ValueError(f"workload: n: expected >= 1 vehicles, got {n}")
    i, j = np.divmod(np.arange(g * g), g)
    interior = np.flatnonzero((i > 0) & (i < g - 1) & (j > 0) & (j < g - 1))  # ascending
    rng = np.random.default_rng(seed)
    origin = interior[rng.integers(0, interior.size, size=n)].astype(np.int32)
    side, dest, hops = nearest_side(g, origin)
    return CityDemand(origin=origin,
                      depart_s=DEPART_WINDOW_S * np.arange(n, dtype=np.float64) / n,
                      side=side, dest=dest, hops=hops)


def side_nodes(g: int, side: int) -> np.ndarray:
    """The exits on one side (the targets of that side's routing table)."""
    ex = exits(g)
    i, j = np.divmod(ex, g)
    on = [i == 0, i == g - 1, j == 0, j == g - 1][side]
    return ex[on]


def straight_route(grid: Grid, origin: int, dest: int) -> list[int]:
    """Link indices of the straight path from ``origin`` to ``dest`` (same row or column)."""
    g = grid.g
    lookup = {(a, b): k for k, (a, b) in
              enumerate(zip(grid.from_node.tolist(), grid.to_node.tolist(), strict=True))}
    return _straight(lookup, g, origin, dest)


def _straight(lookup: dict, g: int, origin: int, dest: int) -> list[int]:
    (oi, oj), (di, dj) = divmod(int(origin), g), divmod(int(dest), g)
    if oi != di and oj != dj:
        raise ValueError(f"workload: {origin} and {dest} share no row or column")
    si, sj = np.sign(di - oi), np.sign(dj - oj)
    path, (ci, cj) = [], (oi, oj)
    while (ci, cj) != (di, dj):
        ni, nj = ci + si, cj + sj
        path.append(lookup[(ci * g + cj, ni * g + nj)])
        ci, cj = ni, nj
    return path


def exit_load(g: int, n: int) -> np.ndarray:
    """Vehicles bound for each exit (``exits(g)`` order), for sizing the grid."""
    dem = build_city_demand(g, n)
    return np.bincount(np.searchsorted(exits(g), dem.dest), minlength=exits(g).size)
