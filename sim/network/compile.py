"""Compile a raw OSM graph into arrays: drive and walk :class:`~sim.core.links.Links`.

Drive links: drivable highway classes, one-way streets honoured, largest strongly
connected component. Walk links: every way people may walk on, both directions, largest
weakly connected component. Both share one node index space (sorted by OSM id), so a
place snapped to a node can be reached by car and on foot.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sim._errors import NetworkError
from sim.core.links import Links, build_links
from sim.network._osm import RawMap
from sim.network.features import build_places
from sim.network.roadnet import Nodes, RoadNetwork

# Per highway class: (capacity veh/h/lane, lanes per direction, free-flow speed km/h).
# MATSim OsmNetworkReader highway defaults, non-VSP variant (matsim-libs,
# org.matsim.core.utils.io.OsmNetworkReader constructor, setHighwayDefaults(...); the
# same values are in its JosmMATSimWriter and OsmNetworkReaderWithPT). Capacities and
# lanes are unchanged in today's reader; its speeds for secondary and below were cut in
# 2017 (30/25/15/15/10 km/h) to stand in for unmodelled signals. We keep the classic
# speeds because our fallback applies only where OSM has no maxspeed, and signals are
# not modelled separately. service and road: no MATSim default; we use residential's
# and unclassified's (assumption).
DRIVE_DEFAULTS: dict[str, tuple[float, float, float]] = {
    "motorway": (2000.0, 2.0, 120.0),
    "motorway_link": (1500.0, 1.0, 80.0),
    "trunk": (2000.0, 1.0, 80.0),
    "trunk_link": (1500.0, 1.0, 50.0),
    "primary": (1500.0, 1.0, 80.0),
    "primary_link": (1500.0, 1.0, 60.0),
    "secondary": (1000.0, 1.0, 60.0),
    "secondary_link": (1000.0, 1.0, 60.0),
    "tertiary": (600.0, 1.0, 45.0),
    "tertiary_link": (600.0, 1.0, 45.0),
    "unclassified": (600.0, 1.0, 45.0),
    "residential": (600.0, 1.0, 30.0),
    "living_street": (300.0, 1.0, 15.0),
    "service": (600.0, 1.0, 30.0),
    "road": (600.0, 1.0, 45.0),
}

# Ways people may not walk on (besides foot=no).
NOT_WALKABLE = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed",
    "raceway", "bus_guideway", "abandoned", "platform", "busway", "escape", "disused",
})

# Usable walkway width per highway class, metres. Assumption (no survey behind it):
# footpaths ~2 m, a pedestrian street ~5 m, on roads the sidewalks plus the carriageway
# people take over in an evacuation grow with the road class.
WALK_WIDTH_M: dict[str, float] = {
    "footway": 2.0, "path": 1.5, "steps": 1.5, "cycleway": 2.0, "bridleway": 1.5,
    "track": 3.0, "pedestrian": 5.0, "living_street": 3.0, "service": 3.0,
    "residential": 3.0, "unclassified": 3.0, "road": 3.0, "tertiary": 3.5,
    "tertiary_link": 3.0, "secondary": 4.0, "secondary_link": 3.0, "primary": 4.0,
    "primary_link": 3.0, "corridor": 2.0,
}
DEFAULT_WALK_WIDTH_M = 2.0

WALK_SPEED_MPS = 1.34
"""Free walking speed, m/s: Helbing & Molnár (1995), docs/references.md §4.3."""

WALK_FLOW_P_MS = 1.3
"""Walkway capacity, persons per metre width per second. Assumption, of the order of
Weidmann's (1993) maximum specific flow (about 1.2 P/(m·s))."""

WALK_JAM_P_M2 = 5.4
"""Pedestrian jam density, persons/m²: Weidmann (1993) maximum density."""

MIN_LENGTH_M = 1.0
"""Floor for link length: OSM has zero-length segments (duplicated nodes); 1 m keeps the
free-flow time positive without changing any route measurably."""

_DENY = frozenset({"no", "private"})


def _first(value: Any) -> Any:
    """First element of an osmnx list attribute (merged by simplification), else value."""
    return value[0] if isinstance(value, list) and value else value


def _values(value: Any) -> list[str]:
    """All values of a tag attribute (list, ';'-separated string or scalar) as strings."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if item is None or (isinstance(item, float) and math.isnan(item)):
            continue
        out += [s.strip() for s in str(item).split(";") if s.strip()]
    return out


def _lanes_total(value: Any) -> float | None:
    """Total lanes from the ``lanes`` tag: the smallest valid number along the edge."""
    nums = []
    for s in _values(value):
        try:
            x = float(s)
        except ValueError:
            continue
        if x >= 1 and math.isfinite(x):
            nums.append(x)
    return min(nums) if nums else None


def _is_oneway(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(bool(v) and str(v).lower() not in ("false", "no", "0") for v in items)


def _drivable(hw: str, d: dict) -> bool:
    if hw not in DRIVE_DEFAULTS or "yes" in _values(d.get("area")):
        return False
    return not (_DENY & set(_values(d.get("access")) + _values(d.get("motor_vehicle"))))


def _walkable(hw: str, d: dict) -> bool:
    return hw not in NOT_WALKABLE and "no" not in _values(d.get("foot"))


def _largest(n: int, src: np.ndarray, dst: np.ndarray, connection: str) -> np.ndarray:
    """Boolean mask of the nodes (0..n-1) in the largest component of the graph."""
    m = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    _, labels = connected_components(m, directed=True, connection=connection)
    counts = np.bincount(labels)
    return labels == int(np.argmax(counts))


def compile_network(raw: RawMap, *, name: str, source: str, jam_spacing_m: float = 7.5
                    ) -> RoadNetwork:
    """Turn a :class:`~sim.network._osm.RawMap` into a :class:`RoadNetwork`.

    Parameters
    ----------
    raw : RawMap
        WGS84 graph and features from one of the readers in :mod:`sim.network._osm`.
    name, source : str
        Short name and origin (file path or place query) recorded in the result.
    jam_spacing_m : float
        Road length one stopped vehicle occupies, metres (> 0); DESIGN.md "Network".

    Returns
    -------
    RoadNetwork
        Projected to the UTM zone of the map (x = easting, y = northing, metres).

    Raises
    ------
    NetworkError
        If no drivable or no walkable way is left.
    """
    import osmnx as ox

    if not jam_spacing_m > 0:
        raise NetworkError(f"{source}: jam_spacing_m: expected > 0 metres, got {jam_spacing_m!r}")
    G = raw.graph
    for _, _, d in G.edges(data=True):
        d["highway"] = str(_first(d.get("highway")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ox.add_edge_speeds(G, hwy_speeds={k: v[2] for k, v in DRIVE_DEFAULTS.items()},
                           fallback=30.0)

    osmids = np.array(sorted(G.nodes), dtype=np.int64)
    pos = {int(o): i for i, o in enumerate(osmids)}
    edges = sorted(G.edges(keys=True, data=True), key=lambda e: (int(e[0]), int(e[1]), e[2]))

    drive = [e for e in edges if _drivable(e[3]["highway"], e[3])]
    if not drive:
        raise NetworkError(f"{source}: expected drivable roads "
                           f"(highway={'|'.join(DRIVE_DEFAULTS)}), found none")
    d_src = np.array([pos[int(e[0])] for e in drive])
    d_dst = np.array([pos[int(e[1])] for e in drive])
    scc = _largest(len(osmids), d_src, d_dst, "strong")
    keep = scc[d_src] & scc[d_dst]
    drive = [e for e, k in zip(drive, keep, strict=True) if k]

    # Walk: one record per physical way segment (a two-way street is two directed edges
    # in G), then both directions.
    seen: dict[tuple, tuple] = {}
    for u, v, _, d in edges:
        if _walkable(d["highway"], d):
            a, b = (int(u), int(v)) if int(u) <= int(v) else (int(v), int(u))
            seen.setdefault((a, b, d["highway"], round(float(d["length"]), 1)), (a, b, d))
    w_pairs = sorted(seen.items(), key=lambda kv: kv[0])
    if not w_pairs:
        raise NetworkError(f"{source}: expected walkable ways, found none")
    w_a = np.array([pos[kv[1][0]] for kv in w_pairs])
    w_b = np.array([pos[kv[1][1]] for kv in w_pairs])
    wcc = _largest(len(osmids), w_a, w_b, "weak")
    w_pairs = [kv for kv, k in zip(w_pairs, wcc[w_a] & wcc[w_b], strict=True) if k]

    # Global node set: nodes on a kept drive or walk link, sorted by OSM id.
    used = np.zeros(len(osmids), dtype=bool)
    for e in drive:
        used[pos[int(e[0])]] = used[pos[int(e[1])]] = True
    for kv in w_pairs:
        used[pos[kv[1][0]]] = used[pos[kv[1][1]]] = True
    node_ids = osmids[used]
    index = {int(o): i for i, o in enumerate(node_ids)}
    nodes, crs = _project_nodes(G, node_ids)

    drive_links, drive_hw = _drive_links(drive, index, jam_spacing_m, len(node_ids))
    walk_links, walk_hw = _walk_links(w_pairs, index, len(node_ids))
    shelters, facilities, residential, zones, buildings = build_places(
        raw.features, crs=crs, nodes=nodes,
        drive_nodes=np.unique(np.concatenate([drive_links.from_node, drive_links.to_node])),
        walk_nodes=np.unique(np.concatenate([walk_links.from_node, walk_links.to_node])),
    )
    bbox = (float(nodes.lon.min()), float(nodes.lat.min()),
            float(nodes.lon.max()), float(nodes.lat.max()))
    return RoadNetwork(
        name=name, source=source, crs=crs, nodes=nodes, drive=drive_links, walk=walk_links,
        drive_highway=drive_hw, walk_highway=walk_hw, shelters=shelters,
        facilities=facilities, residential=residential, zones=zones, bbox_lonlat=bbox,
        drive_bridge=np.array([_tagged(e[3].get("bridge")) for e in drive], dtype=bool),
        drive_tunnel=np.array([_tagged(e[3].get("tunnel")) for e in drive], dtype=bool),
        buildings=buildings,
        drive_name=np.array([_name(e[3].get("name")) for e in drive], dtype=str),
        drive_way=np.array([_way_id(e[3].get("osmid")) for e in drive], dtype=np.int64),
    )


def _name(value) -> str:
    """The OSM ``name`` of an edge, "" if untagged; names of merged edges joined by ';'."""
    return ";".join(_values(value))


def _way_id(value) -> int:
    """The OSM way id of an edge (the first of merged edges), -1 if unknown."""
    value = _first(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _tagged(value) -> bool:
    """An OSM yes-like tag (``bridge=yes|viaduct|...``), also on merged (list) edges."""
    values = value if isinstance(value, list) else [value]
    return any(v is not None and str(v) not in ("no", "nan", "None", "") for v in values)


def _project_nodes(G: nx.MultiDiGraph, node_ids: np.ndarray) -> tuple[Nodes, str]:
    """Project node coordinates to their UTM zone (as ``ox.project_graph`` does for nodes).

    Only node positions are needed downstream, so we project the node GeoDataFrame
    rather than the whole graph with its edge geometries.
    """
    import osmnx as ox
    import pyproj

    lon = np.array([float(G.nodes[int(o)]["x"]) for o in node_ids])
    lat = np.array([float(G.nodes[int(o)]["y"]) for o in node_ids])
    sub = G.subgraph([int(o) for o in node_ids[:1]]).copy()
    gdf = ox.convert.graph_to_gdfs(sub, edges=False)
    crs = pyproj.CRS(ox.projection.project_gdf(gdf).crs)
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(lon, lat)
    epsg = crs.to_epsg()
    crs_str = f"EPSG:{epsg}" if epsg else crs.to_string()
    return Nodes(osmid=node_ids.astype(np.int64), x_m=np.asarray(x, dtype=np.float64),
                 y_m=np.asarray(y, dtype=np.float64), lon=lon, lat=lat), crs_str


def _drive_links(drive: list, index: dict, jam_spacing_m: float, n_nodes: int
                 ) -> tuple[Links, np.ndarray]:
    """Per-link arrays of the drive network; lanes split by direction on two-way roads."""
    n = len(drive)
    f, t = np.empty(n, np.int64), np.empty(n, np.int64)
    length, ffs, lanes, cap = (np.empty(n) for _ in range(4))
    hw = []
    for i, (u, v, _, d) in enumerate(drive):
        cls = d["highway"]
        cap_lane, lanes_dir, _ = DRIVE_DEFAULTS[cls]
        total = _lanes_total(d.get("lanes"))
        if total is not None:
            # MATSim splits a two-way road's lanes tag evenly, at least 1 per direction.
            lanes_dir = total if _is_oneway(d.get("oneway")) else max(1.0, total / 2.0)
        f[i], t[i] = index[int(u)], index[int(v)]
        length[i] = max(MIN_LENGTH_M, float(d["length"]))
        ffs[i] = float(d["speed_kph"]) / 3.6
        lanes[i] = lanes_dir
        cap[i] = lanes_dir * cap_lane / 3600.0
        hw.append(cls)
    storage = np.maximum(1, np.floor(length * lanes / jam_spacing_m)).astype(np.int32)
    links = build_links(f, t, length, ffs, lanes, cap, storage, n_nodes=n_nodes)
    return links, np.array(hw, dtype=str)


def _walk_links(pairs: list, index: dict, n_nodes: int) -> tuple[Links, np.ndarray]:
    """Both directions of every walkable segment; width from :data:`WALK_WIDTH_M`."""
    rows = []
    for (a, b, cls, _), (_, _, d) in pairs:
        width = WALK_WIDTH_M.get(cls, DEFAULT_WALK_WIDTH_M)
        length = max(MIN_LENGTH_M, float(d["length"]))
        rows.append((index[a], index[b], length, width, cls))
        rows.append((index[b], index[a], length, width, cls))
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[4]))
    f = np.array([r[0] for r in rows], dtype=np.int64)
    t = np.array([r[1] for r in rows], dtype=np.int64)
    length = np.array([r[2] for r in rows])
    width = np.array([r[3] for r in rows])
    storage = np.maximum(1, np.floor(length * width * WALK_JAM_P_M2)).astype(np.int32)
    links = build_links(f, t, length, np.full(len(rows), WALK_SPEED_MPS), width,
                        width * WALK_FLOW_P_MS, storage, n_nodes=n_nodes)
    return links, np.array([r[4] for r in rows], dtype=str)
