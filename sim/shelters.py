"""Shelters opened by the plan: map places plus plan additions, with capacities.

Capacity of a map shelter is its usable area divided by the area one person needs,
``floor(area_m2 * usable_fraction[kind] / area_per_person_m2)``; GB 50413-2007 asks
>= 2 m² per person in a fixed shelter (docs/references.md 4.4). Where the map carries an OSM
``capacity=*`` tag (a whole number > 0) that number is used instead: somebody counted it.

Coordinates: ``x_m``/``y_m`` are metres in the map's projected CRS (``RoadNetwork.crs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim._errors import ScenarioError
from sim.network.roadnet import RoadNetwork
from sim.population import snap_to_nodes
from sim.scenario import Scenario

# Added before flooring so that exact products (1000 * 0.6 / 2 = 300) are not lost to
# binary round-off (299.99999...).
_FLOOR_EPS = 1e-9


@dataclass(frozen=True)
class ShelterTable:
    """Open shelters, one row each.

    Attributes
    ----------
    name, kind : str array[S]
        Unnamed map shelters are called ``f"{kind}-{osmid}"``.
    x_m, y_m : float64[S]
        Projected metres.
    area_m2 : float64[S]
        Site area; NaN for plan shelters (not given).
    capacity : int64[S]
        Persons it can hold.
    capacity_basis : str array[S]
        ``"area"`` (formula), ``"osm_tag"`` (OSM ``capacity=*``) or ``"plan"``.
    drive_node, walk_node : int32[S]
        Node where vehicles / walkers arrive (global node index; walk -1 if no walk network).
    source : str array[S]
        ``"map"`` or ``"plan"``.
    """

    name: np.ndarray
    kind: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    area_m2: np.ndarray
    capacity: np.ndarray
    capacity_basis: np.ndarray
    drive_node: np.ndarray
    walk_node: np.ndarray
    source: np.ndarray

    def __len__(self) -> int:
        return int(self.capacity.shape[0])

    @property
    def total_capacity(self) -> int:
        """Sum of capacities, persons."""
        return int(self.capacity.sum())


def area_capacity(area_m2: np.ndarray, usable_fraction: np.ndarray,
                  area_per_person_m2: float) -> np.ndarray:
    """Persons a site holds: ``floor(area * usable_fraction / area_per_person)``, int64.

    Examples
    --------
    >>> area_capacity(np.array([5000.0]), np.array([0.6]), 2.0)
    array([1500])
    """
    raw = np.asarray(area_m2, np.float64) * np.asarray(usable_fraction, np.float64)
    return np.floor(raw / area_per_person_m2 + _FLOOR_EPS).astype(np.int64)


def build_shelters(net: RoadNetwork, spec: Scenario) -> ShelterTable:
    """Build the table of shelters the plan opens.

    Map shelters of ``shelters.kinds`` with ``area_m2 >= min_area_m2``, minus
    ``shelters.closed`` (matched by name; every shelter with that name closes), plus
    ``shelters.extra`` snapped to the nearest drive / walk node.

    Raises
    ------
    ScenarioError
        A name in ``closed`` that no map shelter has (valid names listed), a plan shelter
        farther than ``max_snap_m`` from any drive node, duplicate plan names, or no
        shelter open at all. All problems are reported together.
    """
    sp = spec.shelters
    src = spec.source
    m = net.shelters
    n_map = len(m)
    kind = np.asarray(m.kind, dtype=str) if n_map else np.zeros(0, dtype=str)
    osmid = np.asarray(m.osmid) if n_map else np.zeros(0, np.int64)
    name = np.array([str(nm) if str(nm) else f"{k}-{o}" for nm, k, o in
                     zip(m.name, kind, osmid, strict=True)], dtype=object)
    area = np.asarray(m.area_m2, np.float64)
    candidate = np.isin(kind, list(sp.kinds)) & (area >= sp.min_area_m2)
    problems: list[str] = []

    all_names = set(name.tolist())
    closed = np.zeros(n_map, dtype=bool)
    for i, nm in enumerate(sp.closed):
        if nm not in all_names:
            valid = sorted(set(name[candidate].tolist()))
            shown = ", ".join(valid[:30]) + (f", ... ({len(valid) - 30} more)"
                                             if len(valid) > 30 else "")
            problems.append(f"{src}: shelters.closed[{i}]: expected the name of a map shelter "
                            f"({shown or 'none'}), got {nm!r}")
        closed |= name == nm
    keep = np.flatnonzero(candidate & ~closed)

    frac = np.array([sp.usable_fraction.get(k, 0.0) for k in kind[keep]], np.float64)
    cap = area_capacity(area[keep], frac, sp.area_per_person_m2)
    basis = np.full(keep.size, "area", dtype=object)
    tags = list(m.tags) if len(m.tags) == n_map else [{}] * n_map
    for j, i in enumerate(keep):  # loop over shelters (tens to hundreds), not residents
        tagged = _tag_capacity((tags[i] or {}).get("capacity"))
        if tagged is not None:
            cap[j], basis[j] = tagged, "osm_tag"
    drive = np.asarray(m.drive_node, np.int32)[keep]
    walk = np.asarray(m.walk_node, np.int32)[keep]
    if np.any(drive < 0) or np.any(walk < 0):  # not snapped by the map compiler
        d2, _ = snap_to_nodes(net, m.x_m[keep], m.y_m[keep], network="drive")
        w2, _ = snap_to_nodes(net, m.x_m[keep], m.y_m[keep], network="walk")
        drive, walk = np.where(drive < 0, d2, drive), np.where(walk < 0, w2, walk)

    ex = _extras(net, spec, set(name[keep].tolist()), problems)
    if problems:
        raise ScenarioError(f"{src}: {len(problems)} problem(s) with the shelters:\n"
                            + "\n".join(problems))
    table = ShelterTable(
        name=np.concatenate([name[keep], ex["name"]]).astype(str),
        kind=np.concatenate([kind[keep].astype(object), ex["kind"]]).astype(str),
        x_m=np.concatenate([np.asarray(m.x_m, np.float64)[keep], ex["x_m"]]),
        y_m=np.concatenate([np.asarray(m.y_m, np.float64)[keep], ex["y_m"]]),
        area_m2=np.concatenate([area[keep], np.full(len(ex["name"]), np.nan)]),
        capacity=np.concatenate([cap, ex["capacity"]]).astype(np.int64),
        capacity_basis=np.concatenate([basis, np.full(len(ex["name"]), "plan", object)]
                                      ).astype(str),
        drive_node=np.concatenate([drive, ex["drive_node"]]).astype(np.int32),
        walk_node=np.concatenate([walk, ex["walk_node"]]).astype(np.int32),
        source=np.array(["map"] * keep.size + ["plan"] * len(ex["name"]), dtype=str),
    )
    if len(table) == 0:
        raise ScenarioError(
            f"{src}: shelters: expected at least one open shelter, got none: no shelter is "
            f"open: the map has {n_map} candidate place(s), {int(candidate.sum())} of kinds "
            f"{list(sp.kinds)} with area >= {sp.min_area_m2} m², {int((candidate & closed).sum())}"
            " closed by the plan, and the plan adds none (shelters.extra)")
    return table


def node_capacity(table: ShelterTable, n_nodes: int, *,
                  network: Literal["drive", "walk"] = "drive") -> np.ndarray:
    """Shelter capacity summed per node, int64[n_nodes] (0 where no shelter).

    Several shelters may snap to one node; the model treats a node as one destination.
    """
    nodes = table.drive_node if network == "drive" else table.walk_node
    out = np.zeros(n_nodes, dtype=np.int64)
    ok = nodes >= 0
    np.add.at(out, nodes[ok].astype(np.intp), table.capacity[ok])
    return out


# --- private machinery -------------------------------------------------------------------

def _tag_capacity(raw) -> int | None:
    """OSM ``capacity=*`` as a whole number > 0, else None (then the area formula counts)."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def _extras(net: RoadNetwork, spec: Scenario, open_map_names: set[str], problems: list[str]
            ) -> dict:
    """Plan shelters as columns, snapped; problems appended to ``problems``."""
    sp, src = spec.shelters, spec.source
    extra = sp.extra
    x = np.array([e.x_m if e.x_m is not None else np.nan for e in extra], np.float64)
    y = np.array([e.y_m if e.y_m is not None else np.nan for e in extra], np.float64)
    ll = np.array([e.lon is not None for e in extra], dtype=bool)
    if ll.any():
        from pyproj import Transformer
        from pyproj.exceptions import CRSError, ProjError

        try:
            tr = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
            lon = np.array([e.lon for e in extra if e.lon is not None], np.float64)
            lat = np.array([e.lat for e in extra if e.lat is not None], np.float64)
            x[ll], y[ll] = tr.transform(lon, lat)
        except (CRSError, ProjError) as exc:
            problems.append(f"{src}: shelters.extra: expected lon/lat that can be projected to "
                            f"the map CRS {net.crs!r}, got an error: {exc}")
    drive, dist = snap_to_nodes(net, np.nan_to_num(x), np.nan_to_num(y), network="drive")
    walk, _ = snap_to_nodes(net, np.nan_to_num(x), np.nan_to_num(y), network="walk")
    seen: set[str] = set()
    for i, e in enumerate(extra):
        if e.name in seen or e.name in open_map_names:
            problems.append(f"{src}: shelters.extra[{i}].name: expected a name not used by "
                            f"another open shelter, got {e.name!r}")
        seen.add(e.name)
        if not np.isfinite(x[i]) or dist[i] > sp.max_snap_m:
            problems.append(
                f"{src}: shelters.extra[{i}]: expected a point within shelters.max_snap_m = "
                f"{sp.max_snap_m} m of a drivable road, got {e.name!r} at x={x[i]:.1f}, "
                f"y={y[i]:.1f} m ({dist[i]:.0f} m from the nearest drive node)")
    return {
        "name": np.array([e.name for e in extra], dtype=object),
        "kind": np.array([e.kind for e in extra], dtype=object),
        "x_m": x, "y_m": y,
        "capacity": np.array([e.capacity for e in extra], dtype=np.int64),
        "drive_node": drive.astype(np.int32), "walk_node": walk.astype(np.int32),
    }
