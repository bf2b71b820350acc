"""Small hand-built RoadNetwork objects for the scenario, population and shelter tests.

They use only the shared dataclasses and ``build_links``, never the map loader, so these
tests do not depend on OSM parsing.
"""

from __future__ import annotations

import numpy as np
from pyproj import Transformer

from sim.core.links import build_links
from sim.network.roadnet import Nodes, Places, RoadNetwork

CRS = "EPSG:32631"  # UTM 31N, metres
ORIGIN = (400_000.0, 4_700_000.0)  # easting, northing of node 0


def make_places(rows: list[dict]) -> Places:
    """Places from dicts with kind, name, x_m, y_m, area_m2 and optional tags/osmid."""
    return Places(
        kind=np.array([r.get("kind", "") for r in rows], dtype=str),
        name=np.array([r.get("name", "") for r in rows], dtype=str),
        x_m=np.array([r["x_m"] for r in rows], dtype=np.float64),
        y_m=np.array([r["y_m"] for r in rows], dtype=np.float64),
        area_m2=np.array([r.get("area_m2", 0.0) for r in rows], dtype=np.float64),
        drive_node=np.array([r.get("drive_node", -1) for r in rows], dtype=np.int32),
        walk_node=np.array([r.get("walk_node", -1) for r in rows], dtype=np.int32),
        osmid=np.array([r.get("osmid", 1000 + i) for i, r in enumerate(rows)], dtype=np.int64),
        tags=[dict(r.get("tags", {})) for r in rows],
    )


def _links(pairs: list[tuple[int, int]], x: np.ndarray, y: np.ndarray, n: int):
    f = np.array([p[0] for p in pairs], dtype=np.int64)
    t = np.array([p[1] for p in pairs], dtype=np.int64)
    length = np.hypot(x[f] - x[t], y[f] - y[t])
    ones = np.ones(len(pairs))
    return build_links(f, t, length, 10.0 * ones, ones, 0.5 * ones,
                       np.maximum(1, (length / 7.5).astype(int)), n_nodes=n)


def grid_net(k: int = 5, spacing_m: float = 100.0, *, shelters: list[dict] | None = None,
             residential: list[dict] | None = None, zones: list[dict] | None = None,
             walk_only_nodes: list[tuple[float, float]] | None = None) -> RoadNetwork:
    """A k x k grid of two-way streets (drive and walk), plus optional walk-only nodes.

    Node ``i * k + j`` sits at ``ORIGIN + (i * spacing, j * spacing)``. Each walk-only node
    gets a footpath to node 0 and no drive link.
    """
    ii, jj = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    x = ORIGIN[0] + ii.ravel() * spacing_m
    y = ORIGIN[1] + jj.ravel() * spacing_m
    pairs = []
    for i in range(k):
        for j in range(k):
            a = i * k + j
            if i + 1 < k:
                pairs += [(a, a + k), (a + k, a)]
            if j + 1 < k:
                pairs += [(a, a + 1), (a + 1, a)]
    extra = walk_only_nodes or []
    x = np.concatenate([x, [p[0] for p in extra]])
    y = np.concatenate([y, [p[1] for p in extra]])
    n = x.size
    walk_pairs = pairs + [p for e in range(len(extra)) for p in ((k * k + e, 0), (0, k * k + e))]
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    nodes = Nodes(osmid=np.arange(n, dtype=np.int64), x_m=x, y_m=y,
                  lon=np.asarray(lon), lat=np.asarray(lat))
    drive, walk = _links(pairs, x, y, n), _links(walk_pairs, x, y, n)
    return RoadNetwork(
        name="grid", source="synthetic grid", crs=CRS, nodes=nodes, drive=drive, walk=walk,
        drive_highway=np.full(drive.n_links, "residential"),
        walk_highway=np.full(walk.n_links, "footway"),
        shelters=make_places(shelters or []), facilities=make_places([]),
        residential=make_places(residential or []), zones=make_places(zones or []),
        bbox_lonlat=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())),
    )


def node_xy(net: RoadNetwork, node: int) -> tuple[float, float]:
    """Projected coordinates of one node."""
    return float(net.nodes.x_m[node]), float(net.nodes.y_m[node])
