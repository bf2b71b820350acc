"""Results by area: per zone of the map's zone table (the sub-districts and towns).

An *area* is a value of the households table's ``zone`` column: the zones of the
scenario's zone table (``[population] zones_csv``; the default district's six
sub-districts and one town) or, for ``source = "residential_density"``, the map's
administrative zones. Every number here is computed exactly as its district-wide
counterpart in :mod:`analysis.metrics`, on the area's households alone: the ETE of an
area is the overall ETE definition (NUREG/CR-7002, docs/references.md §4.1, person-weighted,
share of the area's evacuees) applied to that area's rows.

``metrics.json`` gets an ``areas`` section (:func:`area_metrics`); ``shelters.csv`` a
``sources`` column (:func:`with_sources`) saying which areas filled each shelter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.evacuation import _TIME_COLUMNS, _ete, _seconds
from analysis.memory_run import RunSource
from analysis.tables import SAFE_STATUSES, STATUSES

__all__ = ["AREA_ETE_PERCENTS", "area_metrics", "area_table", "shelter_sources",
           "with_sources"]

AREA_ETE_PERCENTS = (50, 90, 95, 100)
"""ETE shares reported per area (the same as district-wide)."""


def _shelter_ids(column: pd.Series) -> np.ndarray:
    """Shelter ids as text, ``""`` where none (works on the model's and the file's dtype)."""
    if column.dtype.kind in "iu":  # the model's (nullable) integers: str(int) directly
        out = column.to_numpy(np.int64, na_value=0).astype(str).astype(object)
        out[column.isna().to_numpy()] = ""
        return out
    return column.astype(object).where(column.notna(), "").astype(str).to_numpy(object)


def shelter_sources(households: pd.DataFrame) -> pd.DataFrame:
    """Persons per (shelter, zone) among households that reached a shelter.

    Parameters
    ----------
    households : pandas.DataFrame
        Columns ``zone``, ``persons``, ``shelter`` (id, empty or NA for none) and
        ``t_arrive_s`` (NaN if not arrived).

    Returns
    -------
    pandas.DataFrame
        ``shelter`` (id as text), ``zone``, ``persons`` (int); per shelter the zones in
        decreasing order of persons, ties by zone name.
    """
    shelter = _shelter_ids(households["shelter"])
    arrived = np.isfinite(households["t_arrive_s"].to_numpy(np.float64)) & (shelter != "")
    df = pd.DataFrame({"shelter": shelter[arrived],
                       "zone": households["zone"].astype(str).to_numpy(object)[arrived],
                       "persons": households["persons"].to_numpy(np.int64)[arrived]})
    g = df.groupby(["shelter", "zone"], sort=False)["persons"].sum().reset_index()
    g["_neg"] = -g["persons"]
    g = g.sort_values(["shelter", "_neg", "zone"], kind="stable").drop(columns="_neg")
    return g.reset_index(drop=True).astype({"persons": np.int64})


def with_sources(shelters: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    """Return ``shelters`` with a ``sources`` column: who filled each shelter.

    The cell reads ``"Zone A: 1234; Zone B: 56"``: every zone that sent persons there, in
    decreasing order of persons (ties by name); empty for a shelter nobody reached. The
    full table is :func:`shelter_sources`.
    """
    src = shelter_sources(households)
    text = (src["zone"] + ": " + src["persons"].astype(str)).groupby(src["shelter"],
                                                                      sort=False).agg("; ".join)
    out = shelters.copy()
    out["sources"] = [text.get(s, "") for s in _shelter_ids(shelters["shelter"])]
    return out


def _zones(hh: pd.DataFrame) -> list[str]:
    """Zones in the order they first appear (the zone table's order)."""
    return [str(z) for z in pd.unique(hh["zone"].astype(str))]


def area_table(hh: pd.DataFrame) -> pd.DataFrame:
    """One row per area: persons, evacuees, arrivals, ETE and persons not sheltered.

    Parameters
    ----------
    hh : pandas.DataFrame
        The households table as :func:`analysis.metrics.read_table` returns it.

    Returns
    -------
    pandas.DataFrame
        ``zone``, ``households``, ``persons``, ``evacuees`` (persons of departed
        households), ``arrived`` (persons), ``ete_<p>_s`` for p in 50/90/95/100 (NaN when
        the share was never reached), ``not_sheltered`` (living persons outside a shelter
        at the end plus the dead), one ``ns_<status>`` column per status other than
        sheltered (the cause: en route, waiting, not warned, staying, stranded, dead; those
        protected in place on orders are safe, not counted).
    """
    rows = []
    persons = hh["persons"].to_numpy(np.int64)
    dead = hh["dead"].to_numpy(np.int64)
    status = hh["status"].to_numpy(object)
    zone = hh["zone"].astype(str).to_numpy(object)
    departed = np.isfinite(hh["t_depart_s"].to_numpy(np.float64))
    arrived = np.isfinite(hh["t_arrive_s"].to_numpy(np.float64))
    causes = [s for s in STATUSES if s not in SAFE_STATUSES]
    times = hh[list(_TIME_COLUMNS)]  # what _ete reads: the row selection copies only these
    for z in _zones(hh):  # a loop over areas (a handful), not households
        m = zone == z
        ete = _ete(times[m], by_mode=False)
        ete = ete[ete["group"] == "all"].set_index("pct")["t_s"]
        living = persons[m] - dead[m]
        row: dict[str, object] = {
            "zone": z, "households": int(m.sum()), "persons": int(persons[m].sum()),
            "evacuees": int(persons[m & departed].sum()),
            "arrived": int(persons[m & arrived].sum()),
            **{f"ete_{p}_s": float(ete.get(p, np.nan)) for p in AREA_ETE_PERCENTS},
        }
        by = {c: int(living[status[m] == c].sum()) for c in causes if c != "dead"}
        by["dead"] = int(dead[m].sum())
        row["not_sheltered"] = int(sum(by.values()))
        row.update({f"ns_{c}": by[c] for c in causes})
        rows.append(row)
    return pd.DataFrame(rows)


def _relief_by_area(run_dir: RunSource, hh: pd.DataFrame) -> dict[str, dict] | None:
    """Affected persons and those relieved within the plan's target, per area.

    Household groups of the relief table belong to their household's zone; incident
    groups (people a team brought in) to the zone of the nearest home to the incident
    (an approximation: zones have no polygons in the run folder).
    """
    from analysis.response import has_response, read_response_table, response_targets

    if not has_response(run_dir):
        return None
    rel = read_response_table(run_dir, "relief")
    target_s = float(response_targets(run_dir).get("relief_h", 10.0)) * 3600.0
    zones = hh["zone"].astype(str).to_numpy(object)
    zone_of = np.full(len(rel), "", dtype=object)
    if len(rel):
        src = rel["source"].astype(str).to_numpy(object)
        ref = rel["ref"].to_numpy(np.int64)
        is_hh = src == "household"
        zone_of[is_hh] = zones[ref[is_hh]]
        inc_rows = np.flatnonzero(~is_hh)
        if inc_rows.size and len(hh):
            from scipy.spatial import cKDTree

            inc = read_response_table(run_dir, "incidents").set_index("incident")
            xy = inc.loc[ref[inc_rows], ["x_m", "y_m"]].to_numpy(np.float64)
            tree = cKDTree(hh[["x_m", "y_m"]].to_numpy(np.float64))
            zone_of[inc_rows] = zones[tree.query(xy)[1]]
    persons = rel["persons"].to_numpy(np.int64) if len(rel) else np.zeros(0, np.int64)
    ttr = ((rel["relieved_s"] - rel["affected_s"]).to_numpy(np.float64) if len(rel)
           else np.zeros(0))
    within = np.isfinite(ttr) & (ttr <= target_s)
    out = {}
    for z in _zones(hh):
        m = zone_of == z
        affected, ok = int(persons[m].sum()), int(persons[m & within].sum())
        out[z] = {"affected_persons": affected, "within_target_persons": ok,
                  "within_target_share": ok / affected if affected else None,
                  "target_h": target_s / 3600.0}
    return out


def area_metrics(run_dir: RunSource, hh: pd.DataFrame) -> dict:
    """The ``areas`` section of ``metrics.json``.

    Parameters
    ----------
    run_dir : str, Path or MemoryRun
        The run folder (for the response tables, when the run had a plan).
    hh : pandas.DataFrame
        Its households table (:func:`analysis.metrics.read_table`).

    Returns
    -------
    dict
        ``{"key": "zone", "by_zone": {zone: {...}}}``; per zone ``households``,
        ``persons``, ``evacuees``, ``arrived``, ``ete`` (``"50"``/``"90"``/``"95"``/
        ``"100"`` → ``t_s``, ``t_min``, ``None`` when not reached), ``not_sheltered``
        (``persons`` and ``by_cause``) and, with a plan, ``relief`` (affected persons,
        persons relieved within ``target_h`` hours and their share).
    """
    table = area_table(hh)
    relief = _relief_by_area(run_dir, hh)
    causes = [s for s in STATUSES if s not in SAFE_STATUSES]
    by_zone: dict[str, dict] = {}
    for r in table.to_dict("records"):
        entry: dict[str, object] = {
            "households": int(r["households"]), "persons": int(r["persons"]),
            "evacuees": int(r["evacuees"]), "arrived": int(r["arrived"]),
            "ete": {str(p): _seconds(None if np.isnan(r[f"ete_{p}_s"]) else r[f"ete_{p}_s"])
                    for p in AREA_ETE_PERCENTS},
            "not_sheltered": {"persons": int(r["not_sheltered"]),
                              "by_cause": {c: int(r[f"ns_{c}"]) for c in causes}},
        }
        if relief is not None:
            entry["relief"] = relief[r["zone"]]
        by_zone[str(r["zone"])] = entry
    return {"key": "zone", "by_zone": by_zone}
