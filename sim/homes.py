"""Where people live: home groups from building footprints or a population raster.

A *home group* is a set of persons who share one home location: one building (all
its households live at its centroid and use its nearest drive and walk node), one
residential area (homes spread over a square around its centroid), one zone centre
(the fallback of last resort) or one raster cell. :func:`sim.population.build_population`
turns groups into households.

Sources (``[population] source``):

- ``"buildings"``: a total (``total``, or each zone's total from ``zones_csv``) is
  split over residential floor area (footprint × storeys, :mod:`sim.network.buildings`)
  by largest remainder, so persons are whole numbers that add up exactly.
- ``"raster"``: a population GeoTIFF (WorldPop / GHSL style, any CRS). Each cell's
  persons go to the map's residential buildings inside the cell (by floor area) or,
  where a cell has none, to homes spread over the cell.

Every fallback is recorded in :attr:`HomeGroups.notes` so that the population report
(:mod:`sim.population_report`) can warn about it. Loops run over zones, never over
buildings or persons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim._errors import ScenarioError
from sim.network.roadnet import RoadNetwork

# Origin codes of a home group.
ORIGIN_BUILDING = 0
ORIGIN_AREA = 1  # a residential landuse area (or building place) of the map
ORIGIN_CENTRE = 2  # the zone's centre point: everyone of the zone on one spot
ORIGIN_CELL = 3  # a raster cell with no building in it
SNAP = -2  # node code: snap each household of the group to its own nearest node

UNZONED = "(unzoned)"

MAX_NODE_SHARE = 0.05
"""Most of a zone's persons one home node should carry. The compiled network is
simplified (nodes only at junctions), so a cul-de-sac of a dozen blocks has one nearest
node; loading a whole neighbourhood at one point makes the evacuation time measure that
artefact (issue 11). Assumption: 5 %, the limit the project's tests hold the placement to."""

SPREAD_K = 8
"""Nearest nodes a building may use when its own nearest is full (see :func:`spread_nodes`)."""


@dataclass(frozen=True)
class HomeGroups:
    """Home groups, one row each.

    Attributes
    ----------
    zone_names : list[str]
    x_m, y_m : float64[G]
        Centre of the group, projected metres.
    half_m : float64[G]
        Homes lie uniformly in the square of half side ``half_m`` around the centre
        (0: all at the centre).
    zone : int64[G]
        Index into ``zone_names``.
    total : int64[G]
        Persons.
    building : int64[G]
        Row of ``RoadNetwork.buildings`` or -1.
    drive_node, walk_node : int32[G]
        Home nodes of the group, or :data:`SNAP` to snap each household.
    origin : int8[G]
        ``ORIGIN_*`` code.
    notes : list[tuple[str, str, int]]
        (zone, code, count): fallbacks taken; codes ``untyped_buildings`` (no home-tagged
        building, untyped ones used), ``landuse`` (no building, residential areas used),
        ``zone_centre`` (nothing residential: everyone at the zone point).
    """

    zone_names: list[str]
    x_m: np.ndarray
    y_m: np.ndarray
    half_m: np.ndarray
    zone: np.ndarray
    total: np.ndarray
    building: np.ndarray
    drive_node: np.ndarray
    walk_node: np.ndarray
    origin: np.ndarray
    notes: list = field(default_factory=list)


def largest_remainder(totals: np.ndarray, group: np.ndarray, weight: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """Split each group's integer total over its items in proportion to weight, exactly.

    Hamilton's largest-remainder method: every item gets ``floor(quota)``, the persons
    left go one each to the items with the largest fractional quota (ties broken by a
    seeded random key).

    Parameters
    ----------
    totals : int[G]
        Persons per group.
    group : int[N]
        Group of each item (-1: in no group, gets 0).
    weight : float[N]
        Non-negative weights; a group with persons needs a positive weight sum.
    rng : numpy.random.Generator
        Breaks ties.

    Returns
    -------
    int64[N]
        Persons per item; sums to ``totals[g]`` over each group ``g``.
    """
    totals = np.asarray(totals, np.int64)
    group = np.asarray(group, np.int64)
    w = np.where(group >= 0, np.maximum(np.asarray(weight, np.float64), 0.0), 0.0)
    g = np.maximum(group, 0)
    wsum = np.bincount(g, weights=w, minlength=totals.size)
    share = np.divide(w, wsum[g], out=np.zeros_like(w), where=wsum[g] > 0)
    quota = totals[g] * share
    # Bias down by a few ulps so float round-off can never give a sum above the total.
    base = np.floor(quota * (1.0 - 1e-12)).astype(np.int64)
    left = totals - np.bincount(g, weights=base, minlength=totals.size).astype(np.int64)
    order = np.lexsort((rng.random(w.size), -(quota - base), g))
    gs = g[order]
    first = np.searchsorted(gs, gs)  # index of the first item of each item's group
    rank = np.arange(w.size) - first
    give = (rank < left[gs]) & (w[order] > 0)
    base[order[give]] += 1
    got = np.bincount(g, weights=base, minlength=totals.size).astype(np.int64)
    if np.any(got != totals):
        bad = int(np.flatnonzero(got != totals)[0])
        raise ValueError(f"group {bad}: {totals[bad]} persons but no positive weight to carry "
                         f"them (got {got[bad]})")
    return base


def building_groups(net: RoadNetwork, *, where: str, total: int | None,
                    zones_csv: Path | None, rng: np.random.Generator) -> HomeGroups:
    """Home groups for ``source = "buildings"``.

    Parameters
    ----------
    net
        The compiled map, with building footprints.
    where
        The scenario file, for messages.
    total
        Persons of the whole map (when no zone table is given).
    zones_csv
        Zone table ``zone,population``: each zone's persons over its own buildings.
    rng
        Breaks ties of the largest-remainder split.

    Returns
    -------
    HomeGroups

    Raises
    ------
    ScenarioError
        The map has no building footprints, or a zone with persons has no building,
        no residential area and no zone point.
    """
    from sim.zone_table import read_zone_table

    b = net.building_table()
    if len(b) == 0:
        raise ScenarioError(f"{where}: population.source: expected a map with building "
                            "footprints for 'buildings', got none; use source = 'zones' "
                            "with a zone table, or 'raster'")
    floor = b.floor_area_m2()
    homes = b.residential_use()
    untyped = _untyped(b)
    bzone = np.asarray(b.zone, dtype=str)
    res_zone = np.array([str((t or {}).get("zone", "")) for t in _tags(net.residential)],
                        dtype=str)
    map_zones = list(dict.fromkeys(str(z) for z in net.zones.name))
    notes: list = []
    if zones_csv is not None:
        known = set(map_zones) | set(bzone[bzone != ""]) | {z for z in res_zone if z}
        names, totals, lines = read_zone_table(zones_csv, known_zones=known)
    else:
        names = [*map_zones]
        if np.any(bzone == "") or np.any(res_zone == ""):
            names.append(UNZONED)
        lines = [0] * len(names)
    index = {n: i for i, n in enumerate(names)}
    bz = _zone_index(bzone, index)
    weight = np.where(homes, floor, 0.0)
    if zones_csv is None:
        if weight.sum() <= 0:
            weight = np.where(untyped, floor, 0.0)
            notes.append(("(all)", "untyped_buildings", int(untyped.sum())))
            if weight.sum() <= 0:
                raise ScenarioError(f"{where}: population.source: expected residential "
                                    "buildings on the map, got none that could be homes")
        per_building = largest_remainder(np.array([int(total)]), np.where(bz >= 0, 0, -1),
                                         weight, rng)
        groups = [_from_buildings(b, np.flatnonzero(per_building > 0), bz, per_building)]
        return _finish(net, names, groups, notes)
    wz = np.bincount(np.maximum(bz, 0), weights=np.where(bz >= 0, weight, 0.0),
                     minlength=len(names))
    groups, problems = [], []
    area_zones: list[int] = []
    for zi, (name, persons, line) in enumerate(zip(names, totals, lines, strict=True)):
        if persons == 0 or wz[zi] > 0:
            continue
        mine = (bz == zi) & untyped
        if floor[mine].sum() > 0:  # no home-tagged building: untyped ones, with a warning
            weight = np.where(mine, floor, weight)
            notes.append((name, "untyped_buildings", int(mine.sum())))
        elif np.any(res_zone == name):
            area_zones.append(zi)
            notes.append((name, "landuse", int(np.count_nonzero(res_zone == name))))
        elif name in map_zones:
            area_zones.append(zi)
            notes.append((name, "zone_centre", 1))
        else:
            problems.append(f"{zones_csv}: line {line}: zone: expected a zone with buildings, "
                            f"residential areas or a zone point on the map, got {name!r} "
                            "with none")
    if problems:
        raise ScenarioError("\n".join(problems))
    by_b = np.where(np.isin(np.arange(len(names)), area_zones), 0, totals)
    per_building = largest_remainder(by_b, bz, weight, rng)
    groups.append(_from_buildings(b, np.flatnonzero(per_building > 0), bz, per_building))
    if area_zones:
        groups.append(_area_groups(net, names, totals, area_zones, res_zone, rng))
    return _finish(net, names, groups, notes)


def raster_groups(net: RoadNetwork, *, where: str, raster: Path, total: int | None,
                  rng: np.random.Generator) -> HomeGroups:
    """Home groups for ``source = "raster"``: a population GeoTIFF sampled to homes.

    Cells whose centre lies inside the map's bounding box count. Each cell's persons
    go to the residential buildings inside it (by floor area); a cell with none keeps
    its persons spread over the cell. Persons per cell are the raster values, scaled
    to ``total`` when given, made whole by largest remainder (the sum is ``total``, or
    the raster's sum over the map rounded).

    Raises
    ------
    ScenarioError
        Unreadable raster, no CRS, or no populated cell on the map.
    """
    import pyproj
    import rasterio
    from rasterio.errors import RasterioError

    try:
        with rasterio.open(raster) as ds:
            values = ds.read(1, masked=True).astype(np.float64).filled(0.0)
            affine, crs = ds.transform, ds.crs
    except (RasterioError, OSError) as err:
        raise ScenarioError(f"{where}: population.raster: expected a readable GeoTIFF, "
                            f"could not read {raster}: {err}") from None
    if crs is None:
        raise ScenarioError(f"{where}: population.raster: expected a GeoTIFF with a CRS, "
                            f"{raster} has none")
    values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    rows, cols = np.nonzero(values)
    to_map = pyproj.Transformer.from_crs(crs, net.crs, always_xy=True)
    to_ras = pyproj.Transformer.from_crs(net.crs, crs, always_xy=True)
    cx, cy = _apply(affine, cols + 0.5, rows + 0.5)
    mx, my = (np.asarray(v, np.float64) for v in to_map.transform(cx, cy))
    x1, y1 = (np.asarray(v, np.float64)
              for v in to_map.transform(*_apply(affine, cols + 1.5, rows + 1.5)))
    nx_, ny_ = net.nodes.x_m, net.nodes.y_m
    inside = ((mx >= nx_.min()) & (mx <= nx_.max()) & (my >= ny_.min()) & (my <= ny_.max()))
    if not np.any(inside):
        raise ScenarioError(f"{where}: population.raster: expected populated cells over the "
                            f"map, got none in {raster} (check its CRS and extent)")
    rows, cols, mx, my = rows[inside], cols[inside], mx[inside], my[inside]
    # Homes of a cell without buildings spread over a square inside the cell (0.45 of
    # its shorter side: the grid may be turned a little against the map's CRS).
    half = 0.45 * np.minimum(np.abs(x1[inside] - mx), np.abs(y1[inside] - my))
    val = values[rows, cols]
    want = int(total) if total is not None else int(round(val.sum()))
    cell_persons = largest_remainder(np.array([want]), np.zeros(val.size, np.int64), val, rng)
    # Buildings -> cell (in the raster's own grid).
    b = net.building_table()
    homes = np.flatnonzero(b.residential_use())
    cell_id = np.full(values.shape, -1, np.int64)
    cell_id[rows, cols] = np.arange(rows.size)
    bcell = np.full(homes.size, -1, np.int64)
    if homes.size:
        rx, ry = to_ras.transform(b.x_m[homes], b.y_m[homes])
        c, r = _apply(~affine, np.asarray(rx), np.asarray(ry))
        c, r = np.floor(c).astype(np.int64), np.floor(r).astype(np.int64)
        ok = (r >= 0) & (r < values.shape[0]) & (c >= 0) & (c < values.shape[1])
        bcell[ok] = cell_id[r[ok], c[ok]]
    floor = b.floor_area_m2()[homes]
    covered = np.bincount(np.maximum(bcell, 0), weights=np.where(bcell >= 0, floor, 0.0),
                          minlength=rows.size) > 0
    names = list(dict.fromkeys(str(z) for z in net.zones.name)) or [UNZONED]
    if UNZONED not in names:
        names.append(UNZONED)
    index = {n: i for i, n in enumerate(names)}
    per_b = largest_remainder(np.where(covered, cell_persons, 0), bcell, floor, rng)
    bz = _zone_index(np.asarray(b.zone[homes], dtype=str), index, missing=index[UNZONED])
    full_bz = np.full(len(b), -1, np.int64)
    full_bz[homes] = bz
    full_per = np.zeros(len(b), np.int64)
    full_per[homes] = per_b
    groups = [_from_buildings(b, homes[per_b > 0], full_bz, full_per)]
    bare = np.flatnonzero(~covered & (cell_persons > 0))
    cz = _nearest_zone(net, mx[bare], my[bare], index)
    n = bare.size
    groups.append((mx[bare], my[bare], half[bare], cz, cell_persons[bare],
                   np.full(n, -1, np.int64), np.full(n, SNAP, np.int32),
                   np.full(n, SNAP, np.int32), np.full(n, ORIGIN_CELL, np.int8)))
    return _finish(net, names, groups, [])


def spread_nodes(net: RoadNetwork, x_m: np.ndarray, y_m: np.ndarray, zone: np.ndarray,
                 persons: np.ndarray, *, network: str, share: float = MAX_NODE_SHARE,
                 k: int = SPREAD_K, nearest: np.ndarray | None = None) -> np.ndarray:
    """Home node of each building: its nearest node, unless that node is full.

    Round ``r`` (0 .. k-1): every building not yet placed asks for its ``r``-th nearest
    node; a node takes the buildings asking for it nearest first, for each zone, until
    the next one would bring the zone's persons on it above ``share`` of the zone's
    persons (the nearest building always fits on an empty node). A building still
    unplaced after ``k`` rounds keeps its nearest node. Loops run over the ``k``
    rounds, never over buildings.

    Parameters
    ----------
    net
        The compiled map.
    x_m, y_m : float[B]
        Building centroids, projected metres.
    zone : int[B]
        Zone of each building.
    persons : int[B]
        Persons living in each building.
    network : {"drive", "walk"}
        Which links a node must touch.
    share, k
        Capacity share and number of candidate nodes.
    nearest : int[B], optional
        Each building's nearest node when known (the map's building table): then the
        ``k`` nearest are searched only for buildings whose nearest is full.

    Returns
    -------
    int32[B]
        Global node index per building (-1 everywhere if the network has no links).
    """
    from scipy.spatial import cKDTree

    links = net.drive if network == "drive" else net.walk
    n = np.asarray(x_m).size
    eligible = np.unique(np.concatenate([links.from_node, links.to_node]))
    if eligible.size == 0 or n == 0:
        return np.full(n, -1, np.int32)
    kk = int(min(k, eligible.size))
    tree = cKDTree(np.column_stack([net.nodes.x_m[eligible], net.nodes.y_m[eligible]]))
    x_m, y_m = np.asarray(x_m, np.float64), np.asarray(y_m, np.float64)
    cand = np.full((n, kk), -1, np.int64)
    dist = np.zeros((n, kk))
    if nearest is None:
        d, idx = tree.query(np.column_stack([x_m, y_m]), k=kk)
        dist[:], cand[:] = d.reshape(n, kk), eligible[idx.reshape(n, kk)]
    else:
        cand[:, 0] = nearest
        dist[:, 0] = np.hypot(net.nodes.x_m[nearest] - x_m, net.nodes.y_m[nearest] - y_m)
    zone = np.asarray(zone, np.int64)
    persons = np.asarray(persons, np.int64)
    zone_total = np.bincount(zone, weights=persons).astype(np.int64)
    cap = np.maximum(np.floor(share * zone_total), 1).astype(np.int64)
    n_nodes = len(net.nodes)
    node = np.full(n, -1, np.int64)
    for r in range(kk):
        todo = np.flatnonzero(node < 0)
        if todo.size == 0:
            break
        if r == 1 and nearest is not None:  # k nearest only for those left over
            d, idx = tree.query(np.column_stack([x_m[todo], y_m[todo]]), k=kk)
            dist[todo], cand[todo] = d.reshape(todo.size, kk), eligible[idx.reshape(todo.size, kk)]
            cand[todo, 0] = nearest[todo]
        done = np.flatnonzero(node >= 0)
        used_keys, inv = np.unique(zone[done] * n_nodes + node[done], return_inverse=True)
        used = np.bincount(inv, weights=persons[done]).astype(np.int64)
        key = zone[todo] * n_nodes + cand[todo, r]
        order = np.lexsort((dist[todo, r], key))
        key_s, pers_s = key[order], persons[todo][order]
        have = np.zeros(key_s.size, np.int64)
        if used_keys.size:
            pos = np.minimum(np.searchsorted(used_keys, key_s), used_keys.size - 1)
            have = np.where(used_keys[pos] == key_s, used[pos], 0)
        cum = np.cumsum(pers_s)
        first = np.searchsorted(key_s, key_s)
        cum_in = cum - np.where(first > 0, cum[first - 1], 0)  # within its key, inclusive
        fits = have + cum_in <= cap[zone[todo][order]]
        fits |= (have == 0) & (np.arange(key_s.size) == first)  # a lone big building
        node[todo[order[fits]]] = cand[todo[order[fits]], r]
    left = node < 0
    node[left] = cand[left, 0]
    return node.astype(np.int32)


# --- private machinery -------------------------------------------------------------------

def _zone_index(zone: np.ndarray, index: dict[str, int], missing: int = -1) -> np.ndarray:
    """Index of each zone name ("" = UNZONED), one dict look-up per distinct name."""
    uniq, inv = np.unique(np.asarray(zone, dtype=str), return_inverse=True)
    codes = np.array([index.get(str(u) or UNZONED, missing) for u in uniq] or [missing],
                     np.int64)
    return codes[inv] if zone.size else np.zeros(0, np.int64)


def _apply(affine, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An affine transform applied to arrays (what affine 3.1 deprecates as ``A * (u, v)``)."""
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    return affine.a * u + affine.b * v + affine.c, affine.d * u + affine.e * v + affine.f


def _tags(places) -> list:
    tags = list(places.tags)
    return tags if len(tags) == len(places) else [{}] * len(places)


def _untyped(b) -> np.ndarray:
    """Buildings that may be homes but are not tagged so: not excluded, no other use."""
    from sim.network.buildings import NON_RESIDENTIAL_TYPES

    kind = np.asarray(b.kind, dtype=str)
    return ~np.isin(kind, list(NON_RESIDENTIAL_TYPES)) & ~b.other_use


def _from_buildings(b, rows: np.ndarray, bz: np.ndarray, persons: np.ndarray) -> tuple:
    n = rows.size
    return (b.x_m[rows], b.y_m[rows], np.zeros(n), bz[rows], persons[rows], rows.astype(np.int64),
            b.drive_node[rows].astype(np.int32), b.walk_node[rows].astype(np.int32),
            np.full(n, ORIGIN_BUILDING, np.int8))


def _area_groups(net, names, totals, zone_ids, res_zone, rng) -> tuple:
    """Residential areas (by area) or the zone point for zones without buildings."""
    res, zones = net.residential, net.zones
    zone_pts = {str(nm): i for i, nm in reversed(list(enumerate(zones.name)))}
    cols: list[list] = [[] for _ in range(9)]
    for zi in zone_ids:
        areas = np.flatnonzero(res_zone == names[zi])
        if areas.size:
            w = np.maximum(res.area_m2[areas], 0.0)
            split = largest_remainder(np.array([totals[zi]]), np.zeros(areas.size, np.int64),
                                      w if w.sum() > 0 else np.ones(areas.size), rng)
            x, y, h, origin = res.x_m[areas], res.y_m[areas], np.sqrt(w) / 2.0, ORIGIN_AREA
        else:
            k = zone_pts[names[zi]]
            x, y = zones.x_m[[k]], zones.y_m[[k]]
            h = np.sqrt(np.maximum(zones.area_m2[[k]], 0.0)) / 2.0
            split, origin = np.array([totals[zi]]), ORIGIN_CENTRE
        n = split.size
        for c, v in zip(cols, (x, y, h, np.full(n, zi), split, np.full(n, -1),
                               np.full(n, SNAP), np.full(n, SNAP), np.full(n, origin)),
                        strict=True):
            c.append(np.asarray(v))
    return tuple(np.concatenate(c) for c in cols)


def _nearest_zone(net, x, y, index) -> np.ndarray:
    """Zone index of points: that of the nearest building, else of the nearest zone point."""
    from scipy.spatial import cKDTree

    b = net.building_table()
    if x.size == 0:
        return np.zeros(0, np.int64)
    if len(b):
        _, j = cKDTree(np.column_stack([b.x_m, b.y_m])).query(np.column_stack([x, y]))
        names = b.zone[np.asarray(j)]
    elif len(net.zones):
        _, j = cKDTree(np.column_stack([net.zones.x_m, net.zones.y_m])).query(
            np.column_stack([x, y]))
        names = net.zones.name[np.asarray(j)]
    else:
        names = np.full(x.size, "")
    return np.array([index.get(str(z) or UNZONED, index[UNZONED]) for z in names], np.int64)


def _finish(net: RoadNetwork, names: list[str], groups: list[tuple], notes: list
            ) -> HomeGroups:
    cols = [np.concatenate([g[i] for g in groups]) for i in range(9)]
    keep = cols[4] > 0
    x, y, h, z, t, bld, dn, wn, org = (c[keep] for c in cols)
    b = org == ORIGIN_BUILDING
    if np.any(b):
        dn[b] = spread_nodes(net, x[b], y[b], z[b], t[b], network="drive", nearest=dn[b])
        wn[b] = spread_nodes(net, x[b], y[b], z[b], t[b], network="walk", nearest=wn[b])
    return HomeGroups(list(names), x.astype(np.float64), y.astype(np.float64),
                      h.astype(np.float64), z.astype(np.int64), t.astype(np.int64),
                      bld.astype(np.int64), dn.astype(np.int32), wn.astype(np.int32),
                      org.astype(np.int8), notes)
