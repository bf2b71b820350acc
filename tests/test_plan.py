"""Plan files: validation errors name file and field; map checks in resolve_plan."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim._errors import ScenarioError
from sim.plan import (
    CAPABILITIES,
    Plan,
    apply_to_scenario,
    default_plan_path,
    load_plan,
    resolve_plan,
)
from sim.scenario import default_scenario_path, load_scenario

PLANS = Path(__file__).resolve().parents[1] / "scenarios" / "plans"


@pytest.fixture(scope="module")
def net(cache):
    from sim.network import load_map

    return load_map(load_scenario(default_scenario_path()).scenario.map, cache_dir=cache)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("plan-cache")


def base() -> dict:
    return tomllib.loads(default_plan_path().read_text(encoding="utf-8"))


def errors_of(data: dict) -> str:
    with pytest.raises(ScenarioError) as exc:
        Plan.from_dict(data, source="p.toml")
    return str(exc.value)


@pytest.mark.parametrize("name", ["default", "more-depots"])
def test_shipped_plans_load_and_resolve_on_the_default_map(net, name):
    plan = load_plan(PLANS / f"{name}.toml")
    rp = resolve_plan(plan, net)
    fac = net.facilities
    kinds = np.asarray(fac.kind).astype(str)
    names = np.asarray(fac.name).astype(str)
    used = {s.facility for s in plan.stations} | {d.facility for d in plan.depots}
    # The default district's plan uses every fire station and depot of the map. For its
    # 300,000 residents the generator (maps/district/places.py) places round(P / 50,000)
    # + 1 = 7 fire stations and 1 district + round(P / 100,000) = 3 town-street +
    # round(P / 37,500) = 8 community depots = 12 (the plan's three reserve levels).
    p = 300_000
    assert set(names[kinds == "fire_station"]) <= used
    assert set(names[kinds == "depot"]) <= used
    assert len(set(names[kinds == "fire_station"])) == round(p / 50_000) + 1 == 7
    assert len(set(names[kinds == "depot"])) == 1 + round(p / 100_000) + round(p / 37_500) == 12
    assert rp.hospital_node.size == int(np.count_nonzero(kinds == "hospital"))
    assert np.all(rp.station_node >= 0) and np.all(rp.depot_node >= 0)
    assert rp.team_caps.shape == (rp.team_station.size, len(CAPABILITIES))
    assert rp.depot_stock.shape == (len(plan.depots), len(plan.items))
    # every incident kind has a team able to serve it
    for rule in plan.incidents.values():
        assert rp.team_caps[:, CAPABILITIES.index(rule.capability)].any()


def test_more_depots_has_twenty_depots_and_a_hundred_trucks():
    plan = load_plan(PLANS / "more-depots.toml")
    assert len(plan.depots) == 20
    assert sum(d.trucks.count for d in plan.depots) == 100


def test_station_off_the_network_is_refused(net):
    data = base()
    data["stations"][0] = {"name": "Far away", "x_m": 700000.0, "y_m": 4313000.0,
                           "teams": data["stations"][0]["teams"]}
    with pytest.raises(ScenarioError) as exc:
        resolve_plan(Plan.from_dict(data, source="p.toml"), net)
    msg = str(exc.value)
    assert "p.toml: stations[0]" in msg and "max_snap_m = 500.0" in msg and "'Far away'" in msg


def test_unknown_facility_lists_the_valid_names(net):
    data = base()
    data["depots"][0]["facility"] = "Nowhere Depot"
    with pytest.raises(ScenarioError) as exc:
        resolve_plan(Plan.from_dict(data, source="p.toml"), net)
    msg = str(exc.value)
    assert "depots[0].facility" in msg and "'Nowhere Depot'" in msg
    assert "Shanqian District Material Reserve Depot" in msg


def test_negative_stock_is_refused():
    data = base()
    data["depots"][1]["stock"]["water"] = -5.0
    msg = errors_of(data)
    assert "p.toml: depots[1].stock.water: expected greater than or equal to 0" in msg
    assert "got -5.0" in msg


def test_unknown_item_is_refused():
    data = base()
    data["depots"][2]["stock"]["wine"] = 10.0
    msg = errors_of(data)
    assert "depots[2].stock.wine: expected an item of [items]" in msg
    assert "water" in msg  # the known items are listed


def test_all_problems_reported_together():
    data = base()
    data["dispatch"]["delay_s"] = -1.0
    data["targets"]["relief_h"] = 0.0
    data["plan"]["colour"] = "red"
    msg = errors_of(data)
    assert "3 problem(s)" in msg
    assert "dispatch.delay_s" in msg and "targets.relief_h" in msg and "plan.colour" in msg


def test_capability_nobody_has_is_refused():
    data = base()
    for st in data["stations"]:
        for t in st["teams"]:
            t["capabilities"] = [c for c in t["capabilities"] if c != "hazmat"] or ["medical"]
    msg = errors_of(data)
    assert "incidents.exposed.capability: expected a capability some team has" in msg


def test_unknown_team_kind_and_capability():
    data = base()
    data["stations"][0]["teams"][0]["kind"] = "police"
    data["stations"][0]["teams"][0]["capabilities"] = ["flying"]
    msg = errors_of(data)
    assert "stations[0].teams[0].kind" in msg and "stations[0].teams[0].capabilities[0]" in msg


def test_place_needs_exactly_one_location():
    data = base()
    data["stations"][0]["x_m"] = 1.0  # facility and x_m at once, and y_m missing
    msg = errors_of(data)
    assert "stations[0].facility: expected exactly one of facility" in msg


def test_duplicate_depot_name():
    data = base()
    data["depots"].append(copy.deepcopy(data["depots"][0]))
    msg = errors_of(data)
    assert f"depots[{len(data['depots']) - 1}].name: expected a name no other depot has" in msg


def test_unknown_shelter_in_stock_needs_the_shelter_table(net):
    data = base()
    data["shelters"]["stock"] = {"Atlantis Park": {"water": 10.0}}
    plan = Plan.from_dict(data, source="p.toml")
    with pytest.raises(ScenarioError, match=r"shelters\.stock\.Atlantis Park"):
        resolve_plan(plan, net, shelter_names=np.array(["Baita Park"]))
    rp = resolve_plan(plan, net)  # without the table the names are not checked
    stock = rp.shelter_stock(np.array(["Baita Park", "Atlantis Park"]), np.array([100, 10]))
    per_place = np.array([plan.shelters.stock_per_place[k] for k in rp.items])
    assert np.allclose(stock[0], 100 * per_place)
    assert np.allclose(stock[1], 10 * per_place + np.r_[10.0, 0.0, 0.0, 0.0])


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ScenarioError, match="expected an existing plan file"):
        load_plan(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[plan\nname = 1", encoding="utf-8")
    with pytest.raises(ScenarioError, match="expected valid TOML"):
        load_plan(bad)


def test_apply_to_scenario_merges_shelter_changes():
    sc = load_scenario(default_scenario_path())
    data = base()
    data["shelters"]["closed"] = ["Baita Park"]
    data["shelters"]["extra"] = [{"name": "Plan Hall", "capacity": 500, "x_m": 619000.0,
                                  "y_m": 4315000.0}]
    out = apply_to_scenario(sc, Plan.from_dict(data, source="p.toml"))
    assert "Baita Park" in out.shelters.closed
    assert out.shelters.extra[-1].name == "Plan Hall"
    assert out.source == sc.source
    assert sc.shelters.closed == ()  # the input is unchanged
