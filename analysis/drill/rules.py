"""Rules that turn a run's events and metrics into candidate injects.

Each rule reads :class:`~analysis.drill.rundata.RunData` only and returns
:class:`~analysis.drill.inject.Inject` objects whose figures are cells of the run's files
(named in ``source``). Rules are deterministic: the seed only chooses templated injects
(:mod:`analysis.drill.select`). Where a stream of events would flood the MSEL (hundreds of
trapped-person incidents), a rule keeps the first and the largest, so the choice does
not depend on the seed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.drill.inject import Inject
from analysis.drill.rundata import RunData
from analysis.drill.settings import VariantSpec

SHELTER_NEAR_FULL = 0.9  # "shelter at 90 %" inject threshold (issue 13; a planner's early warning)
MAX_PER_STREAM = 3       # at most this many injects from one stream of like events


def _row(ev: pd.Series) -> str:
    return f"events.csv#row={int(ev['row'])}"


def _first_and_largest(frame: pd.DataFrame, col: str, n: int = MAX_PER_STREAM) -> pd.DataFrame:
    """The earliest row, then the rows with the largest ``col`` (ties: earlier first)."""
    if frame.empty:
        return frame
    first = frame.iloc[[0]]
    rest = frame.iloc[1:].sort_values([col, "t_s"], ascending=[False, True], kind="stable")
    return pd.concat([first, rest.head(n - 1)]).sort_values("t_s", kind="stable")


def rule_start(run: RunData) -> list[Inject]:
    """STARTEX: the scenario's opening situation (population)."""
    ev = run.events[run.events["kind"] == "scenario_start"]
    return [Inject(0.0, "start", {"persons": int(e.value)}, _row(e), sender="monitoring_centre",
                   to="eoc_commander", method="phone", objective="reporting", subject="start",
                   priority=0) for _, e in ev.head(1).iterrows()]


def rule_warning(run: RunData) -> list[Inject]:
    """The warning goes out; its measured coverage; a contingency if below target."""
    w = run.metrics.get("warning") or {}
    spec_w = run.spec.get("warning", {})
    if not w or w.get("share") is None:
        return []
    t0 = float(spec_w.get("start_min", 0.0)) * 60.0
    src = "metrics.json#/warning;metrics.json#/population/persons"
    persons = int(run.metrics["population"]["persons"])
    out = [Inject(t0, "warning", {"warned": int(w["warned"]), "persons": persons,
                                  "pct": round(100.0 * float(w["share"]), 1)}, src,
                  sender="monitoring_centre", to="public_information", method="phone",
                  objective="warning", subject="warning", priority=0)]
    if not w.get("target_met", True):
        out.append(Inject(t0 + 900.0, "warning_gap",
                          {"pct": round(100.0 * float(w["share"]), 1),
                           "target": round(100.0 * float(w["target_share"]), 1),
                           "missing": persons - int(w["warned"])}, src,
                          sender="subdistrict_office", to="public_information", method="phone",
                          objective="warning", subject="warning_gap", priority=1,
                          contingency=True))
    return out


def rule_orders(run: RunData) -> list[Inject]:
    """Protective-action orders, restricted shelters, displaced and unreachable residents."""
    keys = {"protective_action": ("public_information", "warning", 1),
            "shelter_restriction": ("shelter_managers", "evacuation", 3),
            "displaced": ("subdistrict_offices", "evacuation", 1),
            "unreachable_homes": ("subdistrict_offices", "evacuation", 2)}
    out = []
    for kind, (to, obj, prio) in keys.items():
        for _, e in run.events[run.events["kind"] == kind].head(1).iterrows():
            out.append(Inject(float(e.t_s), kind, {"persons": int(e.value)}, _row(e),
                              sender="subdistrict_office", to=to, method="phone", objective=obj,
                              subject=kind, priority=prio))
    return out


def rule_closures(run: RunData) -> list[Inject]:
    """Roads closed: the first closures, the most at once, and all reopened."""
    ev = run.events[run.events["kind"] == "closures"]
    if ev.empty:
        return []
    out = []
    positive = ev[ev["value"] > 0]
    if not positive.empty:
        first = positive.iloc[0]
        out.append(Inject(float(first.t_s), "closures_first", {"roads": int(first.value)},
                          _row(first), sender="traffic_control", to="police_traffic",
                          method="radio", objective="reporting", subject="closures_first",
                          priority=1))
        peak = positive.loc[positive["value"].idxmax()]
        if int(peak.row) != int(first.row):
            out.append(Inject(float(peak.t_s), "closures_peak", {"roads": int(peak.value)},
                              _row(peak), sender="traffic_control", to="police_traffic",
                              method="radio", objective="reporting", subject="closures_peak",
                              priority=2))
        after = ev[(ev["t_s"] > peak.t_s) & (ev["value"] == 0)]
        if not after.empty:
            e = after.iloc[0]
            out.append(Inject(float(e.t_s), "closures_clear", {}, _row(e),
                              sender="traffic_control", to="police_traffic", method="radio",
                              objective="reporting", subject="closures_clear", priority=4))
    return out


def rule_earthquake(run: RunData) -> list[Inject]:
    """Earthquake: first casualty estimate, bridges and roads, the largest trapped incidents."""
    out = []
    summ = run.table("hazard/earthquake_summary.csv")
    if summ is not None and len(summ):
        s = summ.iloc[0]
        src = "hazard/earthquake_summary.csv#row=0"
        out.append(Inject(float(s.t_s), "eq_casualties",
                          {"killed": int(s.persons_killed), "trapped": int(s.persons_trapped),
                           "injured": int(s.persons_injured_not_trapped),
                           "collapsed": int(s.buildings_collapsed)}, src,
                          sender="seismic_bureau", to="eoc_commander", method="phone",
                          objective="reporting", subject="eq_casualties", priority=0))
        if int(s.bridges_closed) > 0 or float(s.road_km_closed) > 0:
            out.append(Inject(float(s.t_s), "eq_roads",
                              {"bridges": int(s.bridges_closed),
                               "assessed": int(s.bridges_assessed),
                               "km": round(float(s.road_km_closed), 1)}, src,
                              sender="traffic_control", to="police_traffic", method="radio",
                              objective="reporting", subject="eq_roads", priority=1))
    trapped = run.events[run.events["kind"] == "earthquake_trapped"]
    for _, e in _first_and_largest(trapped, "value").iterrows():
        out.append(Inject(float(e.t_s), "trapped", {"persons": int(e.value)}, _row(e),
                          sender="field_team", to="fire_rescue", method="radio",
                          objective="response", subject=f"trapped-{int(e.row)}", priority=3))
    return out


def rule_incident_streams(run: RunData) -> list[Inject]:
    """Flood strandings and chemical exposures: the first report and the largest ones."""
    out = []
    for kind, key, to, sender in (("flood_stranded", "stranded", "fire_rescue", "field_team"),
                                  ("chemical_exposed", "exposed", "health", "hospital"),
                                  ("earthquake_injured", "injured", "health", "hospital")):
        ev = run.events[run.events["kind"] == kind]
        for _, e in _first_and_largest(ev, "value", 2).iterrows():
            out.append(Inject(float(e.t_s), key, {"persons": int(e.value)}, _row(e),
                              sender=sender, to=to, method="radio", objective="response",
                              subject=f"{key}-{int(e.row)}", priority=3))
    return out


def rule_chemical(run: RunData) -> list[Inject]:
    """Chemical: the threat zones when first drawn; each wind change (zones move)."""
    out = []
    zones = run.table("hazard/chemical_zones.csv")
    ts = run.table("hazard/chemical_timeseries.csv")
    if zones is not None and ts is not None and len(zones) == 3:
        drawn = ts[ts["aegl1_area_m2"] > 0]
        t0 = float(drawn["t_s"].iloc[0]) if len(drawn) else 0.0
        by = {z: zones[zones["zone"] == z].iloc[0] for z in ("aegl1", "aegl2", "aegl3")}
        out.append(Inject(t0, "threat_zones",
                          {f"{z}_m": round(float(r.length_m)) for z, r in by.items()},
                          ";".join(f"hazard/chemical_zones.csv#zone={z}" for z in by),
                          sender="hazmat_unit", to="eoc_commander", method="radio",
                          objective="reporting", subject="threat_zones", priority=0))
    for k, hz in enumerate(run.spec.get("hazards", [])):
        if hz.get("kind") != "chemical":
            continue
        for j, ch in enumerate(hz.get("wind_changes") or []):
            out.append(Inject(float(ch["at_min"]) * 60.0, "wind_shift",
                              {"from_deg": round(float(ch["from_deg"])),
                               "speed": round(float(ch["speed_mps"]), 1)},
                              f"manifest.json#/scenario/spec/hazards/{k}/wind_changes/{j}",
                              sender="weather_office", to="eoc_commander", method="phone",
                              objective="warning", subject=f"wind-{j}", priority=1))
    return out


def rule_flood(run: RunData) -> list[Inject]:
    """Flood: water on the ground first, and the widest extent with persons stranded."""
    ts = run.table("hazard/flood_timeseries.csv")
    if ts is None or ts.empty:
        return []
    out = []
    wet = ts[ts["flooded_area_m2"] > 0]
    if len(wet):
        r = wet.iloc[0]
        out.append(Inject(float(r.t_s), "flood_onset",
                          {"depth_m": round(float(r.max_depth_m), 2)},
                          f"hazard/flood_timeseries.csv#t_s={float(r.t_s)!r}",
                          sender="hydrology_station",
                          to="eoc_commander", method="phone", objective="warning",
                          subject="flood_onset", priority=0))
        p = wet.loc[wet["flooded_area_m2"].idxmax()]
        out.append(Inject(float(p.t_s), "flood_peak",
                          {"area_km2": round(float(p.flooded_area_m2) / 1e6, 2),
                           "stranded": int(p.persons_stranded_cum)},
                          f"hazard/flood_timeseries.csv#t_s={float(p.t_s)!r}",
                          sender="hydrology_station",
                          to="eoc_commander", method="phone", objective="reporting",
                          subject="flood_peak", priority=2))
    return out


def _shelter_names(run: RunData) -> dict[str, str]:
    return dict(zip(run.shelters["shelter"].astype(str), run.shelters["name"], strict=True))


def rule_shelters(run: RunData) -> list[Inject]:
    """Shelters at 90 % of capacity, full, and groups turned away."""
    out = []
    sh = run.shelters
    hh = run.households
    arrived = hh[np.isfinite(hh["t_arrive_s"].to_numpy()) & (hh["shelter"] != "")]
    near = []
    for sid, grp in arrived.groupby("shelter", sort=True):
        row = sh[sh["shelter"] == sid]
        if row.empty or int(row["capacity"].iloc[0]) <= 0:
            continue
        cap = int(row["capacity"].iloc[0])
        g = grp.sort_values("t_arrive_s", kind="stable")
        cum = np.cumsum(g["persons"].to_numpy(np.int64))
        k = int(np.searchsorted(cum, SHELTER_NEAR_FULL * cap, side="left"))
        if k < len(cum):
            t = float(g["t_arrive_s"].iloc[k])
            occupied = int(g.loc[g["t_arrive_s"] <= t, "persons"].sum())
            near.append((t, str(sid), str(row["name"].iloc[0]), occupied, cap))
    for t, sid, name, occupied, cap in sorted(near)[:MAX_PER_STREAM]:
        out.append(Inject(t, "shelter_near_full", {"name": name, "occupied": occupied,
                                                   "capacity": cap},
                          f"households.csv.gz#arrived:shelter={sid},t<={t!r};"
                          f"shelters.csv#shelter={sid}", (name,), sender="shelter_site",
                          to="shelter_managers", method="phone", objective="evacuation",
                          subject=f"near-{sid}", priority=3))
    full = run.events[run.events["kind"] == "shelter_full"]
    turned = dict(zip(sh["name"], sh["turned_away"].astype(int), strict=True))
    sid_of = dict(zip(sh["name"], sh["shelter"].astype(str), strict=True))
    full = full.assign(turned=full["where"].map(turned).fillna(0).astype(int))
    for _, e in _first_and_largest(full, "turned").iterrows():
        name = str(e["where"])
        out.append(Inject(float(e.t_s), "shelter_full",
                          {"name": name, "capacity": int(e.value), "turned": int(e.turned)},
                          f"{_row(e)};shelters.csv#shelter={sid_of.get(name, '')}", (name,),
                          sender="shelter_site", to="shelter_managers", method="phone",
                          objective="evacuation", subject=f"full-{name}", priority=2))
        if int(e.turned) > 0:
            out.append(Inject(float(e.t_s) + 600.0, "turned_away",
                              {"name": name, "turned": int(e.turned)},
                              f"shelters.csv#shelter={sid_of.get(name, '')}", (name,),
                              sender="subdistrict_office", to="eoc_commander", method="phone",
                              objective="evacuation", subject=f"turned-{name}", priority=4,
                              contingency=True))
    return out


def rule_ete(run: RunData) -> list[Inject]:
    """Evacuation milestones: half, the decision share (90 %) and all evacuees sheltered."""
    ete = (run.metrics.get("ete") or {}).get("all") or {}
    evac = int((run.metrics.get("evacuees") or {}).get("persons", 0))
    out = []
    for pct, key in (("50", "ete_half"), ("90", "ete_decision"), ("100", "ete_all")):
        e = ete.get(pct) or {}
        if not e.get("reached"):
            continue
        src = f"metrics.json#/ete/all/{pct};metrics.json#/evacuees/persons"
        fmt = {"arrived": int(e["persons_needed"]), "evacuees": evac}
        if pct == "90":
            src += ";metrics.json#/ete/decision_pct"
            fmt["pct"] = int(run.metrics["ete"]["decision_pct"])
        out.append(Inject(float(e["t_s"]), key, fmt, src, sender="traffic_control",
                          to="eoc_commander", method="message", objective="evacuation",
                          subject=key, priority=2))
    return out


def rule_response(run: RunData) -> list[Inject]:
    """Responders late against the plan's target; the largest backlog of waiting incidents."""
    inc = run.table("hazard/response_incidents.csv")
    tg = run.table("hazard/response_targets.csv")
    if inc is None or tg is None or inc.empty:
        return []
    targets = dict(zip(tg["key"].astype(str), tg["value"].astype(str), strict=True))
    target_min = float(targets.get("response_min", "30"))
    tsrc = "hazard/response_targets.csv#key=response_min"
    resp = (inc["arrived_s"] - inc["created_s"]).to_numpy(np.float64)
    late = inc[~(resp <= target_min * 60.0)]
    out = []
    for _, r in _first_and_largest(late.assign(t_s=late["created_s"]), "persons", 2).iterrows():
        out.append(Inject(float(r.created_s) + target_min * 60.0, "responder_late",
                          {"incident": int(r.incident), "persons": int(r.persons),
                           "target": round(target_min)},
                          f"hazard/response_incidents.csv#incident={int(r.incident)};{tsrc}",
                          sender="field_team", to="fire_rescue", method="radio",
                          objective="response", subject=f"late-{int(r.incident)}", priority=2,
                          contingency=False))
    created = inc["created_s"].to_numpy(np.float64)
    disp = inc["dispatched_s"].to_numpy(np.float64)
    disp = np.where(np.isfinite(disp), disp, np.inf)
    times = np.unique(created[np.isfinite(created) & (created <= run.horizon_s)])
    if times.size:
        waiting = ((created[None, :] <= times[:, None]) & (disp[None, :] > times[:, None])).sum(1)
        k = int(np.argmax(waiting))
        if waiting[k] > 1:
            t = float(times[k])
            out.append(Inject(t, "backlog", {"waiting": int(waiting[k])},
                              f"hazard/response_incidents.csv#waiting:t={t!r}",
                              sender="dispatch_centre", to="eoc_commander", method="phone",
                              objective="response", subject="backlog", priority=2,
                              contingency=True))
    return out


def rule_relief(run: RunData) -> list[Inject]:
    """Supplies out at shelters, depot stock exhausted, relief target at risk, neighbour aid."""
    out = []
    names = _shelter_names(run)
    rel = run.table("hazard/response_relief.csv")
    if rel is not None and len(rel):
        waits = rel[(rel["wait_supplies_s"] > 0) & (rel["place"] == "shelter")
                    & rel["safe_s"].notna()]
        firsts = waits.sort_values(["safe_s", "group"], kind="stable").drop_duplicates("shelter")
        for _, r in firsts.head(MAX_PER_STREAM).iterrows():
            sid = str(int(r.shelter)) if pd.notna(r.shelter) else ""
            name = names.get(sid, sid)
            out.append(Inject(float(r.safe_s), "supplies_out", {"name": name,
                                                                 "persons": int(r.persons)},
                              f"hazard/response_relief.csv#group={int(r.group)}", (name,),
                              sender="shelter_site", to="logistics", method="phone",
                              objective="relief", subject=f"supplies-{sid}", priority=3))
    stock = run.table("hazard/response_stock.csv")
    if stock is not None and len(stock):
        st = stock.reset_index(drop=True)
        gone = st[(st["in_depots"] <= 0) & (st["initial"] > 0)]
        for item, grp in gone.groupby("item", sort=True):
            r = grp.iloc[0]
            out.append(Inject(float(r.t_s), "stock_out", {"item": str(item)},
                              f"hazard/response_stock.csv#row={int(grp.index[0])}",
                              sender="depot", to="logistics", method="phone", objective="relief",
                              subject=f"stock-{item}", priority=3))
    relief = ((run.metrics.get("hazards") or {}).get("response") or {}).get("relief") or {}
    share = relief.get("within_target_share")
    if share is not None and (share < 1.0 or relief.get("never_relieved_persons", 0) > 0):
        tgt = ((run.metrics.get("hazards") or {}).get("response") or {}).get("targets") or {}
        relief_h = float(tgt.get("relief_h", 10.0))
        t = min(relief_h * 3600.0 / 2.0, run.horizon_s / 2.0)
        out.append(Inject(t, "relief_at_risk",
                          {"pct": round(100.0 * float(share), 1),
                           "never": int(relief["never_relieved_persons"]),
                           "affected": int(relief["affected_persons"]),
                           "hours": round(relief_h)},
                          "metrics.json#/hazards/response/relief;"
                          "metrics.json#/hazards/response/targets/relief_h",
                          sender="logistics_cell", to="eoc_commander", method="message",
                          objective="relief", subject="relief_at_risk", priority=1))
    dl = run.table("hazard/response_deliveries.csv")
    neighbours = _neighbour_depots(run)
    if dl is not None and len(dl) and neighbours:
        d = dl.reset_index(drop=True)
        mine = d[d["depot"].isin(neighbours)]
        if len(mine):
            k = int(mine["t_s"].idxmin())
            r = d.loc[k]
            out.append(Inject(float(r.t_s), "neighbour_aid",
                              {"name": str(r.shelter), "amount": round(float(r.amount)),
                               "item": str(r["item"])},
                              f"hazard/response_deliveries.csv#row={k}", (str(r.shelter),),
                              sender="neighbour_district", to="neighbour_liaison",
                              method="phone", objective="relief", subject="neighbour_aid",
                              priority=2))
    return out


def _neighbour_depots(run: RunData) -> set[str]:
    """Names of the plan's neighbour-level depots (from the plan file the run recorded)."""
    import tomllib

    path = (run.manifest.get("plan") or {}).get("path")
    if not path or not Path(path).is_file():
        return set()
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return {str(d.get("name") or d.get("facility")) for d in data.get("depots", [])
            if d.get("level") == "neighbour"}


def variant_triggers(run: RunData, v: VariantSpec) -> list[Inject]:
    """The inject announcing a variant that no event of its run shows by itself.

    ``close_shelter``: the shelter cannot open (from the variant run's scenario spec);
    ``remove_teams``: the teams the variant's plan still has (its targets table). Other
    variants show through the rules (a wind change, a later warning, a second flood wave).
    """
    if v.kind == "close_shelter":
        closed = run.spec.get("shelters", {}).get("closed", [])
        if v.shelter in closed:
            k = closed.index(v.shelter)
            return [Inject(0.0, "variant_shelter_closed", {"name": v.shelter},
                           f"manifest.json#/scenario/spec/shelters/closed/{k}", (v.shelter,),
                           sender="shelter_site", to="shelter_managers", method="phone",
                           objective="evacuation", subject="variant-shelter", priority=0)]
    if v.kind == "remove_teams":
        tg = run.table("hazard/response_targets.csv")
        if tg is not None and "teams" in set(tg["key"].astype(str)):
            teams = float(tg.loc[tg["key"].astype(str) == "teams", "value"].iloc[0])
            return [Inject(0.0, "variant_teams", {"teams": round(teams)},
                           "hazard/response_targets.csv#key=teams", sender="dispatch_centre",
                           to="fire_rescue", method="phone", objective="response",
                           subject="variant-teams", priority=0)]
    return []


RULES: tuple[Callable[[RunData], list[Inject]], ...] = (
    rule_start, rule_warning, rule_orders, rule_closures, rule_earthquake,
    rule_incident_streams, rule_chemical, rule_flood, rule_shelters, rule_ete, rule_response,
    rule_relief)
"""Every rule, in the order their injects are listed before sorting by time."""


def candidates(run: RunData) -> list[Inject]:
    """All event-driven candidate injects of a run, sorted by time (stable)."""
    out = [inj for rule in RULES for inj in rule(run)]
    return sorted(out, key=lambda i: i.t_s)
