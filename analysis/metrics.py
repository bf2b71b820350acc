"""``metrics.json``: the evacuation metrics of a run, computed from its folder only.

The tables and their readers are :mod:`analysis.tables`; ETE, travel times and shelter
loads :mod:`analysis.evacuation` (both re-exported here, with the ETE definition there);
results by area :mod:`analysis.areas`; hazards :mod:`analysis.hazards`. Works on any run
folder of the current format without the model, and on a run held in memory
(:class:`analysis.memory_run.MemoryRun`: what the folder's files would give back, without
writing and parsing them; an experiment task's metrics) by the same code.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.evacuation import (  # noqa: F401 - re-exported: the public metrics API
    _arrival_curve,
    _by,
    _ete,
    _loads,
    _seconds,
    _share,
    _travel,
    arrival_curve,
    ete_table,
    shelter_loads,
    travel_time_table,
)
from analysis.memory_run import RunSource, has_file
from analysis.tables import (  # noqa: F401 - re-exported: the public metrics API
    DECISION_PERCENT,
    ETE_PERCENTS,
    FORMAT_VERSION,
    MODES,
    SAFE_STATUSES,
    STATUSES,
    TABLE_COLUMNS,
    TABLE_FILES,
    TIMESERIES_STATES,
    TRAVEL_PERCENTS,
    WARNING_TARGET_PERCENT,
    _households,
    read_manifest,
    read_table,
)


def _placement(manifest: dict) -> dict:
    """``source``, ``zones`` and ``warnings`` of the population report (sim.population_report)."""
    rep = manifest.get("population_report") or {}
    if not rep:
        return {}
    return {"source": rep.get("source"), "zones": rep.get("zones", []),
            "zones_without_homes": rep.get("zones_without_homes", []),
            "warnings": rep.get("warnings", [])}


def _coverage_noise(manifest: dict, persons: pd.Series, warned: int) -> dict:
    """Judge a warning share below the target against the sampling noise of its draw.

    Households are warned independently with the scenario's ``warning.coverage`` p, so the
    person-weighted share has standard error ``sqrt(p(1−p) Σ nᵢ²) / Σ nᵢ`` (nᵢ persons of
    household i). A share below the target whose gap is within 1.96 standard errors of a
    drawn ``p >= target`` is sampling noise, not a coverage gap. Empty when the manifest
    does not say which coverage was drawn.
    """
    spec = (manifest.get("scenario") or {}).get("spec") or {}
    p = (spec.get("warning") or {}).get("coverage")
    n = persons.to_numpy(np.float64)
    if not isinstance(p, int | float) or n.sum() <= 0:
        return {}
    se = math.sqrt(p * (1.0 - p) * float((n * n).sum())) / float(n.sum())
    share = warned / float(n.sum())
    target = WARNING_TARGET_PERCENT / 100
    return {"drawn_coverage": float(p), "sampling_se": se,
            "shortfall_is_sampling_noise": bool(share < target and p >= target
                                                and target - share <= 1.96 * se)}


def compute_metrics(run_dir: RunSource) -> dict:
    """All headline metrics of one run, as a JSON-ready dict (what ``metrics.json`` holds).

    Parameters
    ----------
    run_dir : str, Path or MemoryRun
        The run folder (manifest and tables already written), or the same contents in
        memory (:func:`sim.experiments.memory.memory_run`).

    Returns
    -------
    dict
        Sections ``population``, ``warning``, ``compliance``, ``evacuees``, ``ete``,
        ``clearance``, ``travel_time``, ``shelters``, ``protected_in_place``,
        ``not_sheltered``, ``checks``, ``areas`` (:mod:`analysis.areas`), ``traffic``
        (vehicles pulled off the road by the stuck rule, from ``events.csv``; with link
        loads kept, delay and bottlenecks, :mod:`analysis.linkloads`) and ``hazards`` when
        the run had any.
        Counts are persons unless named ``households``; times come as ``t_s`` (seconds
        from scenario start) and ``t_min``; ``None`` marks a time never reached within
        ``horizon_s``. Only Python ints, floats, str, bool, None, lists and dicts.

    Notes
    -----
    ETE per NUREG/CR-7002 (docs/references.md §4.1), weighted by persons; see
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
        "full_names": [str(s) for s in loads.loc[np.isfinite(loads["t_full_s"]), "name"]],
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
    out_of_shelter = (~status.isin(SAFE_STATUSES)).to_numpy()
    protected = (status == "protected_in_place").to_numpy()
    ts = read_table(run_dir, "timeseries")
    state_sums = ts[list(TIMESERIES_STATES)].sum(axis=1).to_numpy()
    from analysis.areas import area_metrics
    from analysis.hazards import hazard_metrics
    from analysis.linkloads import LINK_LOADS_FILE, bottleneck_metrics

    hazards = hazard_metrics(run_dir)
    # issue 14, part 7: how often the stuck rule pulled a blocked vehicle off the road
    ev = read_table(run_dir, "events")
    stuck = ev[ev["kind"] == "vehicles_stuck"]
    traffic = {"vehicles_stuck": int(stuck["value"].sum()), "ticks_with_stuck": int(len(stuck))}
    if has_file(run_dir, LINK_LOADS_FILE):
        traffic.update(bottleneck_metrics(run_dir, read_table(run_dir, "links")))
    from analysis.buses import bus_metrics

    buses = bus_metrics(run_dir)
    return {
        "format_version": FORMAT_VERSION,
        "seed": manifest.get("seed"),
        "horizon_s": manifest.get("horizon_s"),
        "population": {"persons": population, "households": len(hh),
                       "by_mode": _by(hh["mode"], persons, MODES),
                       **_placement(manifest)},
        "warning": {"warned": warned, "share": _share(warned, population),
                    "target_share": WARNING_TARGET_PERCENT / 100,
                    "target_met": population > 0
                    and warned * 100 >= population * WARNING_TARGET_PERCENT,
                    **_coverage_noise(manifest, persons, warned)},
        "compliance": {"complying": complying, "share_of_warned": _share(complying, warned)},
        "evacuees": {"persons": evacuees, "households": int(departed.sum()),
                     "by_mode": _by(hh["mode"][departed], persons[departed], MODES),
                     "arrived": n_arrived, "arrived_share": _share(n_arrived, evacuees),
                     "arrived_by_mode": _by(hh["mode"][arrived], persons[arrived], MODES)},
        "ete": ete_section,
        "clearance": _seconds(None if last is None else float(last)),
        "travel_time": travel,
        "shelters": shelters,
        "protected_in_place": {"persons": int(status_persons[protected].sum()),
                               "households": int((hh["status"] == "protected_in_place").sum())},
        "not_sheltered": {"persons": int(status_persons[out_of_shelter].sum()),
                          "by_status": _by(status[out_of_shelter], status_persons[out_of_shelter],
                                           tuple(s for s in STATUSES
                                                 if s not in SAFE_STATUSES)),
                          "by_mode": _by(mode[out_of_shelter], status_persons[out_of_shelter],
                                         MODES)},
        "dead": int(hh["dead"].sum()),
        "traffic": traffic,
        "checks": {"timeseries_conserves_population": bool(
            len(ts) > 0 and np.all(state_sums == population))},
        **({"hazards": hazards} if hazards else {}),
        "areas": area_metrics(run_dir, hh),  # per zone / sub-district (analysis.areas)
        **({"buses": buses} if buses else {}),  # plan [buses] (analysis.buses)
    }
