"""Vector layers of a run folder: links, shelters, zones, incidents, facilities, grids.

Each function reads run-folder files only (``analysis`` never imports the model) and
returns a :class:`geopandas.GeoDataFrame` in the map's projected CRS (metres), or
``None`` when the run holds nothing for that layer. Columns keep the run's units and
names (``*_s`` seconds from scenario start, ``*_m`` metres); see docs/gis.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.metrics import STATUSES, _ete, _households, read_table
from sim._errors import RunFolderError

DEFAULT_CELL_M = 250.0
"""Side of the household grid cells, m: a city block or two, fine enough to see
neighbourhoods and coarse enough that a cell holds several households (assumption)."""


def _gdf(frame: pd.DataFrame, geometry, crs: str):
    import geopandas as gpd

    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=geometry, crs=crs)


def _points(frame: pd.DataFrame, crs: str, x: str = "x_m", y: str = "y_m"):
    import geopandas as gpd

    return _gdf(frame, gpd.points_from_xy(frame[x].to_numpy(float), frame[y].to_numpy(float)),
                crs)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as err:
        raise RunFolderError(f"{path}: expected a CSV table, got {err}") from None


# ------------------------------------------------------------------ links
def links_layer(run_dir: Path, crs: str):
    """Road and footpath links as LineStrings, with loads and hazard closures.

    Columns: those of ``links.csv.gz`` (``network`` drive/walk, ``highway`` = class,
    ``storage``, ``peak_count``, ``exits``, any extra column such as a capacity) plus
    ``peak_ratio`` (peak_count / storage); from ``hazard/flood_links.csv`` (drive links)
    ``flood_peak_depth_m``, ``flood_closed_from_s`` (first closure), ``flood_closed_to_s``
    (last flood snapshot at which it was still closed, NaN if never closed) and
    ``flood_closed_s`` (total closed time); from ``hazard/earthquake_links.csv``
    ``quake_speed_factor`` (0 closed) ; from a link-loads file (:func:`link_delay`)
    ``delay_veh_h``.
    """
    import shapely

    links = read_table(run_dir, "links")
    xy = np.stack([links[["x0_m", "y0_m"]].to_numpy(float),
                   links[["x1_m", "y1_m"]].to_numpy(float)], axis=1)
    geom = shapely.linestrings(xy)
    storage = links["storage"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        links["peak_ratio"] = np.where(storage > 0, links["peak_count"] / storage, np.nan)
    drive = (links["network"] == "drive").to_numpy()
    hz = run_dir / "hazard"
    if (hz / "flood_links.csv").is_file():
        fl = _read_csv(hz / "flood_links.csv").set_index("link")
        ids = links["link"].to_numpy()
        for src, dst in (("peak_depth_m", "flood_peak_depth_m"),
                         ("first_closed_s", "flood_closed_from_s"),
                         ("closed_s", "flood_closed_s")):
            col = np.full(len(links), np.nan)
            col[drive] = fl[src].reindex(ids[drive]).to_numpy(float)
            links[dst] = col
        links["flood_closed_to_s"] = _flood_closed_to(run_dir, links, drive)
    if (hz / "earthquake_links.csv").is_file():
        eq = _read_csv(hz / "earthquake_links.csv")
        col = np.ones(len(links))
        for net in ("drive", "walk"):
            sub = eq[eq["network"] == net].set_index("link")["factor"]
            rows = (links["network"] == net).to_numpy()
            col[rows] = sub.reindex(links["link"][rows].to_numpy()).fillna(1.0).to_numpy(float)
        links["quake_speed_factor"] = col
    delay = link_delay(run_dir)
    if delay is not None and delay.size == drive.sum():
        col = np.full(len(links), np.nan)
        col[drive] = delay
        links["delay_veh_h"] = col
    return _gdf(links, geom, crs)


def _flood_closed_to(run_dir: Path, links: pd.DataFrame, drive: np.ndarray) -> np.ndarray:
    """Last flood snapshot time at which each drive link was closed (NaN: never)."""
    from analysis.gis.rasters import _load

    out = np.full(len(links), np.nan)
    a = _load(run_dir / "hazard" / "flood.npz")
    if "snapshot_drive_closed" not in a or "snapshot_t_s" not in a:
        return out
    closed = np.asarray(a["snapshot_drive_closed"], bool)
    t = np.asarray(a["snapshot_t_s"], float)
    if closed.ndim != 2 or closed.shape[1] != drive.sum():
        return out
    any_closed = closed.any(axis=0)
    last = closed.shape[0] - 1 - np.argmax(closed[::-1], axis=0)
    col = np.where(any_closed, t[last], np.nan)
    out[drive] = col[links["link"].to_numpy()[drive]]
    return out


def link_delay(run_dir: Path) -> np.ndarray | None:
    """Vehicle-hours of delay per drive link (:func:`analysis.linkloads.link_delay_veh_h`).

    ``None`` when the run kept no link loads over time (``traffic/link_loads.npz``).
    """
    from analysis.linkloads import LINK_LOADS_FILE, link_delay_veh_h, read_link_loads

    if not (run_dir / LINK_LOADS_FILE).is_file():
        return None
    return link_delay_veh_h(read_link_loads(run_dir))


# ------------------------------------------------------------------ shelters
def shelters_layer(run_dir: Path, crs: str):
    """Shelters as points: capacity, occupancy, time full, groups turned away, utilisation."""
    from analysis.metrics import shelter_loads

    sh = shelter_loads(run_dir)
    sh["over_capacity"] = sh["over_capacity"].astype(np.int8)
    return _points(sh, crs)


# ------------------------------------------------------------------ zones
def zone_metrics(hh: pd.DataFrame) -> pd.DataFrame:
    """Per zone of ``households.csv``: persons, evacuees, arrivals, ETE, persons by status.

    ETE 50/90/100 % is :func:`analysis.metrics.ete_table`'s definition applied to the
    zone's households alone (NUREG/CR-7002, docs/references.md §4.1); NaN when not
    reached. Persons by status count the living by their household's status and the dead
    apart, as ``metrics.json`` does.
    """
    rows = []
    for zone, sub in hh.groupby("zone", sort=True):
        persons = sub["persons"].to_numpy(np.int64)
        dead = sub["dead"].to_numpy(np.int64)
        row = {"zone": str(zone), "households": len(sub), "persons": int(persons.sum()),
               "evacuees": int(persons[np.isfinite(sub["t_depart_s"].to_numpy())].sum()),
               "arrived": int(persons[np.isfinite(sub["t_arrive_s"].to_numpy())].sum())}
        ete = _ete(sub)
        ete = ete[ete["group"] == "all"].set_index("pct")["t_s"]
        for pct in (50, 90, 100):
            row[f"ete{pct}_s"] = float(ete.get(pct, np.nan))
        living = persons - dead
        for status in STATUSES:
            row[status] = int(living[(sub["status"] == status).to_numpy()].sum())
        row["dead"] += int(dead.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _area_sections(metrics: dict, names: set[str]) -> dict[str, dict]:
    """Sections of ``metrics.json`` keyed by zone name (the per-area results), flattened.

    A section qualifies when it is a mapping whose keys include some zone names and whose
    values are mappings, or a list of mappings whose ``zone`` (or ``area``, ``name``) field
    holds zone names; it is searched at the top level and one level down.
    """
    def as_area(sec) -> dict | None:
        if isinstance(sec, list) and sec and all(isinstance(v, dict) for v in sec):
            for key in ("zone", "area", "name", "sub_district", "subdistrict"):
                if all(key in v for v in sec) and names & {str(v[key]) for v in sec}:
                    return {str(v[key]): {k: x for k, x in v.items() if k != key} for v in sec}
            return None
        if (isinstance(sec, dict) and sec and names & set(sec)
                and all(isinstance(v, dict) for v in sec.values())):
            return sec
        return None

    found = {}
    for key, sec in metrics.items():
        if as_area(sec) is not None:
            found[key] = as_area(sec)
        elif isinstance(sec, dict):
            found.update({f"{key}_{k}": as_area(v) for k, v in sec.items()
                          if as_area(v) is not None})
    return found


def _flatten(d: dict, prefix: str) -> dict[str, object]:
    out = {}
    for k, v in d.items():
        name = f"{prefix}_{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name))
        elif isinstance(v, bool | int | float | str) or v is None:
            out[name] = v
    return out


def zones_layer(run_dir: Path, crs: str, hh: pd.DataFrame | None = None):
    """Zones (sub-districts, towns) as polygons with their metrics.

    The run folder holds no zone boundaries, so each zone's polygon is the convex hull of
    its households' homes (``x_m``, ``y_m``), buffered by half a grid cell so a zone of
    one or two homes still has an area: the area the zone's homes span, not its
    administrative boundary. Metrics: :func:`zone_metrics`, plus every per-area section
    of ``metrics.json`` (when the run wrote one), flattened as ``<section>_<field>``.
    """
    import shapely

    hh = _households(run_dir) if hh is None else hh
    if hh.empty:
        return None
    table = zone_metrics(hh)
    geoms = []
    for zone in table["zone"]:
        sub = hh[hh["zone"] == zone]
        pts = shapely.multipoints(sub[["x_m", "y_m"]].to_numpy(float))
        geoms.append(shapely.convex_hull(pts).buffer(DEFAULT_CELL_M / 2))
    metrics_path = run_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    for name, section in _area_sections(metrics, set(table["zone"])).items():
        extra = pd.DataFrame([_flatten(section.get(z, {}), name) for z in table["zone"]])
        table = pd.concat([table, extra], axis=1)
    return _gdf(table, geoms, crs)


# ------------------------------------------------------------------ households grid
def households_grid_layer(run_dir: Path, crs: str, *, cell_m: float = DEFAULT_CELL_M,
                          hh: pd.DataFrame | None = None):
    """Persons by end status per square cell of their home, only cells with residents.

    Parameters
    ----------
    run_dir : Path
        The run folder.
    crs : str
        The map's CRS.
    cell_m : float
        Cell side, metres; cells are aligned to multiples of ``cell_m`` in map metres.
    hh : DataFrame, optional
        The households table if already read.

    Returns
    -------
    GeoDataFrame
        ``col``, ``row`` (cell indices: x // cell_m, y // cell_m), ``households``,
        ``persons``, one column per status (the living by their household's status) and
        ``dead``; square polygons.
    """
    import shapely

    if not np.isfinite(cell_m) or cell_m <= 0:
        raise ValueError(f"cell_m: expected a positive number of metres, got {cell_m!r}")
    hh = _households(run_dir) if hh is None else hh
    if hh.empty:
        return None
    ix = np.floor(hh["x_m"].to_numpy(float) / cell_m).astype(np.int64)
    iy = np.floor(hh["y_m"].to_numpy(float) / cell_m).astype(np.int64)
    persons = hh["persons"].to_numpy(np.int64)
    dead = hh["dead"].to_numpy(np.int64)
    frame = pd.DataFrame({"col": ix, "row": iy, "households": 1, "persons": persons})
    status = hh["status"].to_numpy()
    for s in STATUSES:
        frame[s] = np.where(status == s, persons - dead, 0)
    frame["dead"] += dead
    grid = frame.groupby(["col", "row"], sort=True).sum().reset_index()
    x0 = grid["col"].to_numpy(float) * cell_m
    y0 = grid["row"].to_numpy(float) * cell_m
    geom = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    return _gdf(grid, geom, crs)


# ------------------------------------------------------------------ incidents, facilities
def incidents_layer(run_dir: Path, crs: str):
    """Incidents as points: the response table when the run had a plan, else the hazards'.

    ``hazard/response_incidents.csv`` (or ``response/incidents.csv``) carries dispatch,
    arrival and finish times; ``hazard/incidents.csv`` what the hazards raised.
    """
    from analysis.response import _path

    path = _path(run_dir, "incidents")
    if path is None or not path.is_file():
        path = run_dir / "hazard" / "incidents.csv"
    if not path.is_file():
        return None
    inc = _read_csv(path)
    if inc.empty or not {"x_m", "y_m"} <= set(inc.columns):
        return None
    return _points(inc, crs)


def facility_layers(run_dir: Path, crs: str) -> dict[str, object]:
    """Depots and stations from the plan's resolved positions, when the run wrote them.

    Looked up as ``response/<name>.csv``, ``<name>.csv`` or ``hazard/response_<name>.csv``
    for ``depots`` and ``stations``, with ``x_m``/``y_m`` columns. Runs that did not
    write them give no layer.
    """
    from analysis.response import _path

    out = {}
    for name in ("depots", "stations"):
        path = _path(run_dir, name)
        if path is None:
            continue
        frame = _read_csv(path)
        if not frame.empty and {"x_m", "y_m"} <= set(frame.columns):
            out[name] = _points(frame, crs)
    return out


def earthquake_buildings_layer(run_dir: Path, crs: str):
    """Buildings of an earthquake run as points: class, PGA, damage state, people."""
    path = run_dir / "hazard" / "earthquake_buildings.csv"
    if not path.is_file():
        return None
    frame = _read_csv(path)
    return None if frame.empty else _points(frame, crs)
