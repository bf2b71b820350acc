"""Evacuation metrics computed from a run folder (format version 1).

A run folder holds ``manifest.json`` and the tables in :data:`TABLE_FILES`, with the
columns of :data:`TABLE_COLUMNS`. Times are seconds from scenario start; an empty cell
is a time that never happened (not arrived, never full). The functions here read those
files only, so they work on any run, old or new, without the model.

Person weighting: every share, time estimate and percentile counts *persons*, not
households, because a household row carries ``persons`` people who move together.

Notes
-----
Evacuation time estimate (ETE): the time from scenario start until a given share of the
evacuating population has reached a shelter. NUREG/CR-7002 (Jones, Walton & Wolshon,
2011; Rev. 1 2021) reports the 90 % and 100 % values and uses the 90 % value for
protective-action decisions (REFERENCES.md §4.1). Here the share is of *evacuees* (persons
of households that departed), and a value is ``None`` when the share was never reached
within the simulated horizon: nothing is extrapolated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from sim._errors import RunFolderError

FORMAT_VERSION: Final = 2  # 2: the dead (households.dead, timeseries.dead)
"""Version of the run-folder layout this module reads and :mod:`sim.runs` writes."""

TABLE_FILES: Final = {
    "households": "households.csv.gz",
    "timeseries": "timeseries.csv",
    "events": "events.csv",
    "shelters": "shelters.csv",
    "links": "links.csv.gz",
}
"""Table name to file name inside a run folder."""

# Column kinds: "int" integer, "flag" 0/1, "float" float64 (empty = NaN/inf, never
# happened), "id" an identifier kept as text (empty = none), "str" free text.
TABLE_COLUMNS: Final = {
    "households": {
        "household": "id", "zone": "id", "persons": "int", "vulnerable": "int",
        "mode": "str", "home_node": "int", "x_m": "float", "y_m": "float",
        "warned": "flag", "t_warned_s": "float", "complies": "flag",
        "t_depart_s": "float", "t_arrive_s": "float", "shelter": "id", "status": "str",
        "dead": "int",
    },
    "timeseries": {
        "t_s": "float", "not_warned": "int", "warned": "int", "staying": "int",
        "en_route": "int", "sheltered": "int", "stranded": "int", "dead": "int",
        "vehicles_moving": "int", "vehicles_waiting": "int", "walkers_moving": "int",
    },
    "events": {
        "t_s": "float", "kind": "str", "where": "str", "who": "str", "value": "float",
        "message": "str",
    },
    "shelters": {
        "shelter": "id", "name": "str", "kind": "str", "x_m": "float", "y_m": "float",
        "lon": "float", "lat": "float", "area_m2": "float", "capacity": "int",
        "occupancy": "int", "peak_occupancy": "int", "overflow": "int",
        "t_full_s": "float", "turned_away": "int",
    },
    "links": {
        "link": "int", "network": "str", "from_node": "int", "to_node": "int",
        "x0_m": "float", "y0_m": "float", "x1_m": "float", "y1_m": "float",
        "length_m": "float", "highway": "str", "storage": "int", "peak_count": "int",
        "exits": "int",
    },
}
"""Required columns of each table and their kind, in file order."""

MODES: Final = ("car", "walk")
STATUSES: Final = ("sheltered", "en_route", "waiting", "not_warned", "warned", "staying",
                    "stranded", "dead")
TIMESERIES_STATES: Final = ("not_warned", "warned", "staying", "en_route", "sheltered",
                            "stranded", "dead")
ETE_PERCENTS: Final = (50, 90, 95, 100)
DECISION_PERCENT: Final = 90  # NUREG/CR-7002: the 90 % ETE drives decisions (REFS §4.1)
TRAVEL_PERCENTS: Final = (50, 90, 95, 100)
WARNING_TARGET_PERCENT: Final = 90  # district plan: warnings reach >= 90 % (DESIGN.md)

_PANDAS_DTYPE: Final = {"int": "int64", "flag": "int64", "float": "float64", "id": str,
                        "str": str}


def read_manifest(run_dir: str | Path) -> dict:
    """Read ``manifest.json`` of a run folder and check its format version.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    dict
        The manifest as written.

    Raises
    ------
    RunFolderError
        If the file is missing, not JSON, or of another format version.
    """
    path = Path(run_dir) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: missing; expected a run folder written by evacsim"
        raise RunFolderError(msg) from None
    except json.JSONDecodeError as err:
        msg = f"{path}: not valid JSON ({err})"
        raise RunFolderError(msg) from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        msg = f"{path}: format_version: expected {FORMAT_VERSION}, got {version!r}"
        raise RunFolderError(msg)
    return manifest


def read_table(run_dir: str | Path, name: str) -> pd.DataFrame:
    """Read one table of a run folder with the dtypes of :data:`TABLE_COLUMNS`.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    name : {"households", "timeseries", "events", "shelters", "links"}
        Table name.

    Returns
    -------
    pandas.DataFrame
        Int and flag columns as int64, float columns as float64 (empty cell = NaN),
        id and str columns as text (empty cell = ``""``). Extra columns are kept as read.

    Raises
    ------
    RunFolderError
        If the file is missing, a required column is absent or a cell has the wrong type.
    """
    if name not in TABLE_FILES:
        msg = f"table: expected one of {', '.join(TABLE_FILES)}, got {name!r}"
        raise ValueError(msg)
    path = Path(run_dir) / TABLE_FILES[name]
    kinds = TABLE_COLUMNS[name]
    try:
        head = pd.read_csv(path, nrows=0)
    except FileNotFoundError:
        msg = f"{path}: missing; expected the {name} table of a run folder"
        raise RunFolderError(msg) from None
    missing = [c for c in kinds if c not in head.columns]
    if missing:
        msg = f"{path}: missing columns {missing}; expected {list(kinds)}"
        raise RunFolderError(msg)
    floats = [c for c, k in kinds.items() if k == "float"]
    try:
        return pd.read_csv(
            path,
            dtype={c: _PANDAS_DTYPE[k] for c, k in kinds.items()},
            keep_default_na=False,  # a shelter named "NA" stays a name
            na_values={c: [""] for c in floats},
            encoding="utf-8",
        )
    except ValueError as err:
        msg = f"{path}: a cell does not match its column type ({err}); expected {kinds}"
        raise RunFolderError(msg) from None


def _households(run_dir: str | Path) -> pd.DataFrame:
    """Households table with mode and status checked against the known values."""
    hh = read_table(run_dir, "households")
    for column, allowed in (("mode", MODES), ("status", STATUSES)):
        bad = sorted(set(hh[column].unique()) - set(allowed))
        if bad:
            path = Path(run_dir) / TABLE_FILES["households"]
            msg = f"{path}: {column}: expected one of {list(allowed)}, got {bad}"
            raise RunFolderError(msg)
    return hh


def _weighted_time(values: np.ndarray, weights: np.ndarray, total: int,
                   pct: int) -> float | None:
    """Smallest value ``v`` with ``sum(weights[values <= v]) >= pct % of total``.

    The inverse of the weighted empirical distribution ("inverted CDF"), in exact integer
    arithmetic so 90 % of 10 persons is exactly 9. Values of +inf (never happened) count in
    ``total`` but never reach the share. Returns ``None`` when the share is not reached.
    """
    if total <= 0:
        return None
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order].astype(np.int64))
    idx = int(np.searchsorted(cum * 100, pct * int(total), side="left"))
    if idx >= len(order) or not np.isfinite(values[order[idx]]):
        return None
    return float(values[order[idx]])


def _groups(hh: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """("all", hh) followed by one group per travel mode."""
    return [("all", hh)] + [(mode, hh[hh["mode"] == mode]) for mode in MODES]


def ete_table(run_dir: str | Path) -> pd.DataFrame:
    """Evacuation time estimates at 50/90/95/100 % of evacuees, overall and by mode.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        One row per (group, pct): ``group`` ("all", "car", "walk"), ``pct`` (int, %),
        ``evacuees`` (persons of the group's households that departed),
        ``persons_needed`` (persons who must have arrived), ``t_s`` and ``t_min`` (time
        from scenario start, NaN when never reached within the horizon), ``reached``
        (bool).

    Notes
    -----
    ETE as in NUREG/CR-7002 (REFERENCES.md §4.1), weighted by persons: the arrival time of
    the household whose arrival brings the arrived persons to at least ``pct`` % of
    evacuees.
    """
    return _ete(_households(run_dir))


def _ete(hh: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for group, sub in _groups(hh):
        departed = sub[np.isfinite(sub["t_depart_s"].to_numpy())]
        persons = departed["persons"].to_numpy(np.int64)
        total = int(persons.sum())
        arrive = departed["t_arrive_s"].to_numpy(np.float64)
        arrive = np.where(np.isfinite(arrive), arrive, np.inf)
        for pct in ETE_PERCENTS:
            t_s = _weighted_time(arrive, persons, total, pct)
            rows.append({
                "group": group, "pct": pct, "evacuees": total,
                "persons_needed": -(-pct * total // 100),
                "t_s": np.nan if t_s is None else t_s,
                "t_min": np.nan if t_s is None else t_s / 60.0,
                "reached": t_s is not None,
            })
    return pd.DataFrame(rows)


def travel_time_table(run_dir: str | Path) -> pd.DataFrame:
    """Person-weighted travel-time percentiles (``t_arrive_s - t_depart_s``) of arrivals.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        One row per group ("all", "car", "walk"): ``persons`` arrived, ``p50_s``,
        ``p90_s``, ``p95_s``, ``max_s`` in seconds (NaN for a group with no arrival).
        Percentiles are the inverted-CDF kind: the smallest travel time that at least
        that share of arrived persons did not exceed.
    """
    return _travel(_households(run_dir))


def _travel(hh: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for group, sub in _groups(hh):
        tt = (sub["t_arrive_s"] - sub["t_depart_s"]).to_numpy(np.float64)
        ok = np.isfinite(tt)
        persons = sub["persons"].to_numpy(np.int64)[ok]
        total = int(persons.sum())
        row: dict[str, object] = {"group": group, "persons": total}
        for pct in TRAVEL_PERCENTS:
            value = _weighted_time(tt[ok], persons, total, pct)
            row["max_s" if pct == 100 else f"p{pct}_s"] = np.nan if value is None else value
        rows.append(row)
    return pd.DataFrame(rows)


def shelter_loads(run_dir: str | Path) -> pd.DataFrame:
    """Return the shelters table with utilisation and arrivals added.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        Columns of ``shelters.csv`` plus ``utilisation`` (peak_occupancy / capacity, NaN
        where capacity is 0), ``over_capacity`` (bool, peak above capacity) and
        ``arrived_persons`` (persons of households that arrived there).
    """
    return _loads(read_table(run_dir, "shelters"), _households(run_dir))


def _loads(shelters: pd.DataFrame, hh: pd.DataFrame) -> pd.DataFrame:
    arrived = hh[np.isfinite(hh["t_arrive_s"].to_numpy()) & (hh["shelter"] != "")]
    per_shelter = arrived.groupby("shelter")["persons"].sum()
    cap = shelters["capacity"].to_numpy(np.float64)
    peak = shelters["peak_occupancy"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        shelters["utilisation"] = np.where(cap > 0, peak / cap, np.nan)
    shelters["over_capacity"] = shelters["peak_occupancy"] > shelters["capacity"]
    shelters["arrived_persons"] = (
        shelters["shelter"].map(per_shelter).fillna(0).astype(np.int64)
    )
    return shelters


def arrival_curve(run_dir: str | Path) -> pd.DataFrame:
    """Cumulative persons departed and arrived over time (a step function).

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        ``t_s`` (0 and every distinct departure or arrival time, ascending),
        ``departed`` and ``arrived`` (int persons with time <= t_s). Plot with
        ``drawstyle="steps-post"``.
    """
    return _arrival_curve(_households(run_dir))


def _arrival_curve(hh: pd.DataFrame) -> pd.DataFrame:
    persons = hh["persons"].to_numpy(np.int64)
    out: dict[str, np.ndarray] = {}
    events = [np.zeros(1)]
    for column in ("t_depart_s", "t_arrive_s"):
        t = hh[column].to_numpy(np.float64)
        events.append(t[np.isfinite(t)])
    times = np.unique(np.concatenate(events))
    for name, column in (("departed", "t_depart_s"), ("arrived", "t_arrive_s")):
        t = hh[column].to_numpy(np.float64)
        ok = np.isfinite(t)
        order = np.argsort(t[ok], kind="stable")
        cum = np.concatenate([[0], np.cumsum(persons[ok][order])])
        out[name] = cum[np.searchsorted(t[ok][order], times, side="right")]
    return pd.DataFrame({"t_s": times, "departed": out["departed"],
                         "arrived": out["arrived"]})


def _seconds(value: float | None) -> dict[str, float | None]:
    """``{"t_s": ..., "t_min": ...}`` with ``None`` for a time that never happened."""
    if value is None or not np.isfinite(value):
        return {"t_s": None, "t_min": None}
    return {"t_s": float(value), "t_min": float(value) / 60.0}


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _by(values: pd.Series, weights: pd.Series, keys: tuple[str, ...]) -> dict[str, int]:
    """Sum of ``weights`` per key, every key present (0 when absent)."""
    sums = weights.groupby(values).sum()
    return {k: int(sums.get(k, 0)) for k in keys}


def compute_metrics(run_dir: str | Path) -> dict:
    """All headline metrics of one run, as a JSON-ready dict (what ``metrics.json`` holds).

    Parameters
    ----------
    run_dir : str or Path
        The run folder (manifest and tables already written).

    Returns
    -------
    dict
        Sections ``population``, ``warning``, ``compliance``, ``evacuees``, ``ete``,
        ``clearance``, ``travel_time``, ``shelters``, ``not_sheltered``, ``checks``.
        Counts are persons unless named ``households``; times come as ``t_s`` (seconds
        from scenario start) and ``t_min``; ``None`` marks a time never reached within
        ``horizon_s``. Only Python ints, floats, str, bool, None, lists and dicts.

    Notes
    -----
    ETE per NUREG/CR-7002 (REFERENCES.md §4.1), weighted by persons; see
    :func:`ete_table`. Compliance is the share of warned persons whose household complies.
    """
    manifest = read_manifest(run_dir)
    hh = _households(run_dir)
    persons = hh["persons"]
    population = int(persons.sum())
    warned = int(persons[hh["warned"] == 1].sum())
    complying = int(persons[(hh["warned"] == 1) & (hh["complies"] == 1)].sum())
    departed = np.isfinite(hh["t_depart_s"].to_numpy())
    arrived = np.isfinite(hh["t_arrive_s"].to_numpy())
    evacuees = int(persons[departed].sum())
    n_arrived = int(persons[arrived].sum())

    ete = _ete(hh)
    ete_section: dict[str, object] = {"decision_pct": DECISION_PERCENT}
    for group, sub in ete.groupby("group", sort=False):
        ete_section[str(group)] = {
            str(int(r.pct)): {**_seconds(r.t_s if r.reached else None),
                              "reached": bool(r.reached),
                              "persons_needed": int(r.persons_needed)}
            for r in sub.itertuples()
        }
    last = hh["t_arrive_s"].max() if arrived.any() else None
    tt = _travel(hh)
    travel: dict[str, object] = {}
    for r in tt.itertuples():
        entry: dict[str, object] = {"persons": int(r.persons)}
        for key in ("p50", "p90", "p95", "max"):
            value = getattr(r, f"{key}_s")
            entry[f"{key}_s"] = None if np.isnan(value) else float(value)
            entry[f"{key}_min"] = None if np.isnan(value) else float(value) / 60.0
        travel[str(r.group)] = entry

    loads = _loads(read_table(run_dir, "shelters"), hh)
    over = loads[loads["over_capacity"] | (loads["overflow"] > 0)]
    capacity = int(loads["capacity"].sum())
    peak = int(loads["peak_occupancy"].sum())
    shelters = {
        "count": len(loads),
        "capacity": capacity,
        "occupancy": int(loads["occupancy"].sum()),
        "peak_occupancy_sum": peak,
        "utilisation": _share(peak, capacity),
        "full": [str(s) for s in loads.loc[np.isfinite(loads["t_full_s"]), "shelter"]],
        "overflow_total": int(loads["overflow"].sum()),
        "over_capacity": [
            {"shelter": str(r.shelter), "name": str(r.name), "capacity": int(r.capacity),
             "occupancy": int(r.occupancy), "peak_occupancy": int(r.peak_occupancy),
             "overflow": int(r.overflow)}
            for r in over.itertuples()
        ],
        "turned_away": int(loads["turned_away"].sum()),
    }
    # Persons by where they are at the end: the living by their household's status, the
    # dead apart (a household's status is "dead" only when all its members died).
    living = hh["persons"] - hh["dead"]
    status_persons = pd.concat([living, hh["dead"]], ignore_index=True)
    status = pd.concat([hh["status"], pd.Series("dead", index=hh.index)], ignore_index=True)
    mode = pd.concat([hh["mode"], hh["mode"]], ignore_index=True)
    out_of_shelter = (status != "sheltered").to_numpy()
    ts = read_table(run_dir, "timeseries")
    state_sums = ts[list(TIMESERIES_STATES)].sum(axis=1).to_numpy()
    from analysis.hazards import hazard_metrics

    hazards = hazard_metrics(run_dir)
    from analysis.buses import bus_metrics

    buses = bus_metrics(run_dir)
    return {
        "format_version": FORMAT_VERSION,
        "seed": manifest.get("seed"),
        "horizon_s": manifest.get("horizon_s"),
        "population": {"persons": population, "households": len(hh),
                       "by_mode": _by(hh["mode"], persons, MODES)},
        "warning": {"warned": warned, "share": _share(warned, population),
                    "target_share": WARNING_TARGET_PERCENT / 100,
                    "target_met": population > 0
                    and warned * 100 >= population * WARNING_TARGET_PERCENT},
        "compliance": {"complying": complying, "share_of_warned": _share(complying, warned)},
        "evacuees": {"persons": evacuees, "households": int(departed.sum()),
                     "by_mode": _by(hh["mode"][departed], persons[departed], MODES),
                     "arrived": n_arrived, "arrived_share": _share(n_arrived, evacuees),
                     "arrived_by_mode": _by(hh["mode"][arrived], persons[arrived], MODES)},
        "ete": ete_section,
        "clearance": _seconds(None if last is None else float(last)),
        "travel_time": travel,
        "shelters": shelters,
        "not_sheltered": {"persons": int(status_persons[out_of_shelter].sum()),
                          "by_status": _by(status[out_of_shelter], status_persons[out_of_shelter],
                                           tuple(s for s in STATUSES if s != "sheltered")),
                          "by_mode": _by(mode[out_of_shelter], status_persons[out_of_shelter],
                                         MODES)},
        "dead": int(hh["dead"].sum()),
        "checks": {"timeseries_conserves_population": bool(
            len(ts) > 0 and np.all(state_sums == population))},
        **({"hazards": hazards} if hazards else {}),
        **({"buses": buses} if buses else {}),  # plan [buses] (analysis.buses)
    }
