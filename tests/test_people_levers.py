"""Plan levers for people on the 20,000-person generated district: phases, shadow, assignment.

Invariants checked (issue 14):

* a zone ordered at t = 30 min has no departure before 30 min + the reception delay's
  minimum (uniform 5..15 min here), while the zone ordered at 0 leaves earlier;
* the shadow evacuees of the unordered zone are a Binomial(n, p) count: inside its
  central 1 - 2e-6 interval (computed from n and p with scipy.stats.binom); the others
  of that zone never leave, and the shadow ones leave only after the first order;
* assigned shelters: from the written households and shelters tables, nobody arrives at
  a shelter outside their area's list before the overflow rule allows it (``wait`` and
  ``next_designated``: never; ``nearest_open``: only after every designated shelter of
  the area was full), and with ``next_designated`` nobody arrives at the i-th shelter
  of the list before the ones ahead of it were full;
* every bad input is one clear line naming the field.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from sim._errors import ScenarioError
from sim.plan import Plan

WEN, HONG = "Wenchang Subdistrict", "Hongguo Town"
DELAY_MIN = 5.0


def scenario(small_district, horizon_h: float):
    """The small district with a uniform 5..15 min reception delay and a short horizon."""
    from sim.scenario import load_scenario

    text = (small_district / "small.toml").read_text(encoding="utf-8")
    text = text.replace('delay = { distribution = "exponential", mean_min = 10.0 }',
                        f'delay = {{ distribution = "uniform", min_min = {DELAY_MIN}, '
                        'max_min = 15.0 }')
    text = text.replace("horizon_h = 6.0", f"horizon_h = {horizon_h}")
    path = small_district / f"levers-{horizon_h}.toml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def plan(**levers) -> Plan:
    return Plan.from_dict({"plan": {"name": "t"}, **levers}, source="p.toml")


# --------------------------------------------------------------------------- phases


@pytest.fixture(scope="module")
def phased(small_district, cache):
    from sim.model import EvacuationModel

    p = plan(evacuation={"phases": [{"zones": [WEN], "order_min": 0.0},
                                    {"zones": [HONG], "order_min": 30.0}]})
    m = EvacuationModel(scenario=scenario(small_district, 1.5), cache_dir=cache, plan=p)
    m.run()
    return m


def test_zone_ordered_at_30_min_departs_after_30_min_plus_the_minimum_delay(phased):
    m = phased
    z = np.asarray(m.pop.zone_names)[m.pop.zone]
    rel = np.full(len(m.pop.persons), np.nan)  # when each household really left (kernels)
    rel[m.car_hh] = m.fleet.t_release_s
    rel[m.walk_hh] = m.walkers.t_release_s
    hong = (z == HONG) & np.isfinite(rel)
    assert hong.sum() > 100
    assert rel[hong].min() >= (30.0 + DELAY_MIN) * 60.0
    assert m.resp.t_warned_s[z == HONG].min() >= (30.0 + DELAY_MIN) * 60.0
    # The other zone, ordered at 0, did leave before 30 min (the phases differ).
    assert np.nanmin(rel[z == WEN]) < 30.0 * 60.0
    assert np.nanmin(rel[z == WEN]) >= DELAY_MIN * 60.0
    orders = [e for e in m.events if e.kind == "evacuation_order"]
    assert [(e.t_s, e.where) for e in orders] == [(0.0, WEN), (1800.0, HONG)]


def test_nearest_first_orders_the_zone_nearest_the_hazard_first(phased):
    from sim.phasing import zone_order_times

    pop = phased.pop
    hong = pop.zone == pop.zone_names.index(HONG)
    x, y = float(pop.x_m[hong].mean()), float(pop.y_m[hong].mean())
    spec = plan(evacuation={"nearest_first": {"x_m": x, "y_m": y, "first_min": 5.0,
                                              "step_min": 20.0}}).evacuation
    order = zone_order_times(spec, pop)
    assert order[pop.zone_names.index(HONG)] == 5.0 * 60
    assert order[pop.zone_names.index(WEN)] == 25.0 * 60


@pytest.mark.parametrize("share", [0.2, 0.5])
def test_shadow_share_within_binomial_bounds(small_district, cache, share):
    from sim.model import EvacuationModel

    p = plan(evacuation={"phases": [{"zones": [WEN], "order_min": 10.0}],
                         "shadow_share": share})
    sc = scenario(small_district, 0.75)
    m = EvacuationModel(scenario=sc, cache_dir=cache, plan=p)
    outside = np.asarray(m.pop.zone_names)[m.pop.zone] == HONG
    n = int(outside.sum())
    k = int(m.phased.shadow.sum())
    lo, hi = binom.ppf(1e-6, n, share), binom.isf(1e-6, n, share)
    assert lo <= k <= hi, (n, k, lo, hi)
    assert not m.phased.shadow[~outside].any()
    dep = m.resp.t_depart_s
    assert np.all(np.isinf(dep[outside & ~m.phased.shadow]))
    assert np.all(np.isfinite(dep[m.phased.shadow]))
    assert dep[m.phased.shadow].min() >= (10.0 + DELAY_MIN) * 60.0
    # Seeded: the same run draws the same shadow households.
    again = EvacuationModel(scenario=sc, cache_dir=cache, plan=p, network=m.net)
    np.testing.assert_array_equal(again.phased.shadow, m.phased.shadow)


# --------------------------------------------------------------------------- assignment

AREAS = [{"zones": [WEN], "shelters": ["Minzhu 3 Sports Centre", "Heping 2 Square",
                                       "Shanqian No. 1 Primary School"]},
         {"zones": [HONG], "shelters": ["Shanqian District Stadium"]}]


@pytest.fixture(scope="module", params=["next_designated", "nearest_open", "wait"])
def assigned(request, small_district, cache):
    from sim import results
    from sim.model import EvacuationModel

    p = plan(shelter_assignment={"overflow": request.param, "areas": AREAS})
    m = EvacuationModel(scenario=scenario(small_district, 3.0), cache_dir=cache, plan=p)
    m.run()
    t = results.tables(m)
    return request.param, m, t["households"], t["shelters"]


def test_nobody_enters_an_unassigned_shelter_before_the_overflow_rule_allows(assigned):
    rule, m, hh, sh = assigned
    node_of = m.shelter_node
    t_full = {}  # per shelter node: when it was full (inf: never)
    for row in sh.itertuples():
        node = int(node_of[row.shelter])
        t = row.t_full_s if np.isfinite(row.t_full_s) else np.inf
        t_full[node] = min(t_full.get(node, np.inf), t)
    name_row = {n: i for i, n in enumerate(sh["name"])}
    arrived = hh[hh["shelter"].notna()]
    outside_after_overflow = 0
    for area in AREAS:
        listed = [int(node_of[name_row[s]]) for s in area["shelters"]]
        mine = arrived[arrived["zone"].isin(area["zones"])]
        node = node_of[mine["shelter"].to_numpy(np.int64)]
        t_arr = mine["t_arrive_s"].to_numpy()
        assert len(mine) > 0
        for i in range(len(mine)):
            if node[i] in listed:
                if rule == "next_designated":
                    ahead = listed[: listed.index(node[i])]
                    assert all(t_full[d] <= t_arr[i] for d in ahead)
            else:
                assert rule == "nearest_open", "outside the list under a waiting rule"
                assert all(t_full[d] <= t_arr[i] for d in listed)
                outside_after_overflow += 1
    if rule == "nearest_open":
        assert outside_after_overflow > 0  # the overflow happened and was used
    else:
        # Waiting rules: Baita Park, designated to nobody, stays empty.
        assert sh.loc[sh["name"] == "Baita Park", "occupancy"].item() == 0


def test_assignment_conserves_persons(assigned):
    _, m, hh, _ = assigned
    assert int(m.person_counts().sum()) == int(hh["persons"].sum()) == m.pop.n_persons


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("levers, field", [
    ({"evacuation": {"phases": [{"zones": [WEN], "order_min": 0.0},
                                {"zones": [HONG, WEN], "order_min": 30.0}]}},
     "evacuation.phases[1].zones"),
    ({"evacuation": {"phases": [{"zones": [WEN], "order_min": 0.0}],
                     "nearest_first": {"x_m": 0.0, "y_m": 0.0, "step_min": 5.0}}},
     "evacuation.phases"),
    ({"evacuation": {"phases": [{"zones": [WEN], "order_min": 0.0}],
                     "shadow_share": 1.5}}, "evacuation.shadow_share"),
    ({"evacuation": {"phases": [{"zones": [WEN], "order_min": -1.0}]}},
     "evacuation.phases[0].order_min"),
    ({"shelter_assignment": {"overflow": "somewhere", "areas": AREAS}},
     "shelter_assignment.overflow"),
    ({"shelter_assignment": {"areas": [AREAS[0], {"zones": [WEN], "shelters": ["x"]}]}},
     "shelter_assignment.areas[1].zones"),
    ({"buses": {"depot": {"x_m": 0.0, "y_m": 0.0}, "count": 2, "seats": 0,
                "pickups": [{"x_m": 0.0, "y_m": 0.0}]}}, "buses.seats"),
    ({"buses": {"depot": {"x_m": 0.0, "y_m": 0.0}, "count": 0, "seats": 40,
                "pickups": [{"x_m": 0.0, "y_m": 0.0}]}}, "buses.count"),
    ({"buses": {"depot": {"x_m": 0.0, "y_m": 0.0}, "count": 1, "seats": 40,
                "pickups": []}}, "buses.pickups"),
    ({"buses": {"depot": {"x_m": 0.0, "y_m": 0.0}, "count": 1, "seats": 40,
                "riders": "share", "pickups": [{"x_m": 0.0, "y_m": 0.0}]}},
     "buses.rider_share"),
])
def test_bad_plan_levers_name_the_field(levers, field):
    with pytest.raises(ScenarioError) as err:
        plan(**levers)
    lines = [ln for ln in str(err.value).splitlines() if ln.startswith("p.toml: ")]
    assert any(ln.startswith(f"p.toml: {field}") for ln in lines), str(err.value)


def test_unknown_zone_and_shelter_names_name_the_field(phased):
    from sim.assignment import assign_shelters
    from sim.phasing import zone_order_times

    pop = phased.pop
    spec = plan(evacuation={"phases": [{"zones": [WEN, "Atlantis"], "order_min": 0.0}]})
    with pytest.raises(ScenarioError, match=r"p\.toml: evacuation\.phases\[0\]\.zones\[1\]: "
                       r"expected a zone of the population .*got 'Atlantis'"):
        zone_order_times(spec.evacuation, pop, source="p.toml")
    sa = plan(shelter_assignment={"areas": [{"zones": ["Nowhere"], "shelters": ["Baita Park"]},
                                            {"zones": [HONG], "shelters": ["Ritz"]}]})
    m = phased
    with pytest.raises(ScenarioError) as err:
        assign_shelters(sa.shelter_assignment, zone=pop.zone, zone_names=pop.zone_names,
                        shelter_names=m.shelter_table.name, shelter_node=m.shelter_node,
                        household_set=m.household_set, stay=m.ordered_to_stay,
                        shelter_sets=m.shelter_sets, route_factors=m._route_factors,
                        set_nodes=m._set_nodes, source="p.toml")
    text = str(err.value)
    assert "p.toml: shelter_assignment.areas[0].zones[0]: expected a zone" in text
    assert "p.toml: shelter_assignment.areas[1].shelters[0]: expected the name of an open " \
           "shelter" in text and "got 'Ritz'" in text


def test_bus_places_off_the_road_name_the_field(phased):
    from sim.model import EvacuationModel

    net = phased.net
    n = int(net.drive.from_node[0])
    on = {"x_m": float(net.nodes.x_m[n]), "y_m": float(net.nodes.y_m[n])}
    far = {"x_m": on["x_m"] + 50_000.0, "y_m": on["y_m"]}
    bad = plan(buses={"depot": far, "count": 1, "seats": 40, "pickups": [on, far]})
    with pytest.raises(ScenarioError) as err:
        EvacuationModel(scenario=phased.scenario, network=net, plan=bad)
    text = str(err.value)
    assert "p.toml: buses.depot: expected a place within plan.max_snap_m" in text
    assert "p.toml: buses.pickups[1]: expected a place within plan.max_snap_m" in text
    assert "buses.pickups[0]" not in text


def test_shipped_lever_plans_load_and_name_real_zones_and_shelters():
    """The example plans of scenarios/plans/ use zones and shelters of the default district."""
    import csv
    from pathlib import Path

    from sim.network import load_map
    from sim.plan import load_plan
    from sim.scenario import default_scenario_path, load_scenario
    from sim.shelters import build_shelters

    repo = Path(__file__).resolve().parents[1]
    with open(repo / "maps" / "default-district.zones.csv", encoding="utf-8") as fh:
        zones = {row["zone"] for row in csv.DictReader(fh)}
    sc = load_scenario(default_scenario_path())
    net = load_map(sc.scenario.map, jam_spacing_m=sc.traffic.jam_spacing_m)
    shelters = set(build_shelters(net, sc).name.astype(str))
    plans = {n: load_plan(repo / "scenarios" / "plans" / f"{n}.toml")
             for n in ("staged", "staged-west", "assigned", "buses")}
    assert plans["staged"].evacuation.nearest_first is not None
    assert {z for ph in plans["staged-west"].evacuation.phases for z in ph.zones} < zones
    areas = plans["assigned"].shelter_assignment.areas
    assert {z for a in areas for z in a.zones} == zones
    designated = [s for a in areas for s in a.shelters]
    assert set(designated) <= shelters and len(designated) == len(set(designated))
    assert plans["buses"].buses.seats > 0 and len(plans["buses"].buses.pickups) == 60
