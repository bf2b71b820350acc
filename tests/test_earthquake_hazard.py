"""The earthquake hazard: spec validation, inventory, damage, people, roads (docs/references.md §3).

Assertions follow from invariants (persons conserved, sets disjoint, determinism), from the
geometry of debris (docs/references.md §3.6) or from limits (no shaking -> no damage).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pydantic import ValidationError

from sim.core.damage import debris_cover_m, debris_reach_m, point_segment
from sim.hazards.base import PeopleView
from sim.hazards.earthquake.buildings import BuildingsSpec, build_inventory, locate_households
from sim.hazards.earthquake.hazard import EarthquakeHazard, EarthquakeSpec
from sim.network.roadnet import RoadNetwork
from tests.data.scenarios.synthetic_net import ORIGIN, grid_net

K, SPACING = 7, 100.0
CENTRE = (ORIGIN[0] + 300.0, ORIGIN[1] + 300.0)


def _blocks():
    """One 80 m x 80 m residential block inside every street cell of the 7 x 7 grid."""
    rows = []
    for i in range(K - 1):
        for j in range(K - 1):
            rows.append({"kind": "residential", "x_m": ORIGIN[0] + (i + 0.5) * SPACING,
                         "y_m": ORIGIN[1] + (j + 0.5) * SPACING, "area_m2": 6400.0})
    return rows


def _net() -> RoadNetwork:
    return grid_net(K, SPACING, residential=_blocks())


def _people(net: RoadNetwork, n_per_block: int = 12, seed: int = 0) -> PeopleView:
    rng = np.random.default_rng(seed)
    res = net.residential
    owner = np.repeat(np.arange(len(res)), n_per_block)
    x = res.x_m[owner] + rng.uniform(-40, 40, owner.size)
    y = res.y_m[owner] + rng.uniform(-40, 40, owner.size)
    n = owner.size
    return PeopleView(x_m=x, y_m=y, persons=rng.integers(1, 5, n).astype(np.int32),
                      state=np.zeros(n, np.int8), indoors=np.ones(n, bool),
                      has_car=np.zeros(n, bool), drive_link=np.full(n, -1, np.int32),
                      walk_link=np.full(n, -1, np.int32))


def _spec(**kw) -> EarthquakeSpec:
    base = {"magnitude": 7.0, "epicentre_xy_m": CENTRE, "mechanism": "RS", "vs30_mps": 300.0,
            "variability": "correlated",
            "buildings": {"footprint_m2": 400.0, "coverage": 0.3, "levels": [3, 6, 12],
                          "levels_share": [0.3, 0.5, 0.2]}}
    base.update(kw)
    return EarthquakeSpec.model_validate(base)


def _strike(spec: EarthquakeSpec, seed: int = 1, net=None, people=None):
    net = net if net is not None else _net()
    hz = EarthquakeHazard.from_spec(spec)
    hz.bind(net, rng=np.random.default_rng(seed))
    upd = hz.update(spec.time_min * 60.0, people if people is not None else _people(net))
    return hz, upd, net


# ------------------------------------------------------------------ spec
@pytest.mark.parametrize(("change", "words"), [
    ({"magnitude": 9.2}, ["magnitude", "Mw 3 to 8.5"]),
    ({"magnitude": 3.0, "gmpe": "yu2013", "magnitude_type": "Ms", "strike_deg": 0.0},
     ["magnitude", "Ms 4 to 8.5"]),
    ({"depth_km": -3.0}, ["depth_km", "0 to 700"]),
    ({"mechanism": "thrust"}, ["mechanism", "'U'", "'RS'"]),
    ({"region": "atlantis"}, ["region", "'global'", "'china'"]),
    ({"vs30_mps": 90.0}, ["vs30_mps", "150 to 1500"]),
    ({"bridge_class": "HWB99"}, ["bridge_class", "HWB1", "HWB28"]),
    ({"gmpe": "yu2013"}, ["strike_deg", "yu2013"]),
    ({"epicentre_xy_m": None}, ["epicentre", "trace"]),
    ({"trace_xy_m": [[0.0, 0.0], [0.0, 1000.0]], "dip_deg": 45.0}, ["width_km", "dip"]),
    ({"buildings": {"mix_low": {"CONCRETE": 1.0}}}, ["mix_low", "URM"]),
    ({"buildings": {"code_mix": {"pre": 0.5, "low": 0.4}}}, ["code_mix", "summing to 1"]),
    ({"colour": "red"}, ["colour", "xtra"]),
])
def test_bad_spec_names_field_and_expected(change, words):
    with pytest.raises(ValidationError) as err:
        _spec(**change)
    text = str(err.value)
    for w in words:
        assert w in text


# ------------------------------------------------------------------ inventory
def test_synthesised_inventory_counts_and_layout():
    net = _net()
    spec = BuildingsSpec(footprint_m2=400.0, coverage=0.3)
    inv = build_inventory(net.residential, spec, rng=np.random.default_rng(0))
    assert inv.source == "synthesised"
    per_block = round(6400.0 * 0.3 / 400.0)  # count = area x coverage / footprint
    assert len(inv) == per_block * len(net.residential)
    np.testing.assert_array_equal(np.diff(inv.place_start), per_block)
    # Every building lies inside its block, set back from the edge.
    dx = np.abs(inv.x_m - net.residential.x_m[inv.place])
    dy = np.abs(inv.y_m - net.residential.y_m[inv.place])
    assert np.all(dx <= 40.0 - 10.0 - 5.0 + 1e-9) and np.all(dy <= 40.0 - 10.0 - 5.0 + 1e-9)
    again = build_inventory(net.residential, spec, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(inv.cls, again.cls)


def test_osm_inventory_reads_levels_material_and_year():
    net = grid_net(3, 100.0, residential=[
        {"kind": "building", "x_m": ORIGIN[0] + 50, "y_m": ORIGIN[1] + 50, "area_m2": 300.0,
         "tags": {"building": "apartments", "building:levels": "9",
                  "building:material": "concrete", "start_date": "2015"}},
        {"kind": "building", "x_m": ORIGIN[0] + 150, "y_m": ORIGIN[1] + 50, "area_m2": 120.0,
         "tags": {"building": "house", "building:material": "brick", "start_date": "1968"}},
    ])
    inv = build_inventory(net.residential, BuildingsSpec(), rng=np.random.default_rng(0))
    assert inv.source == "osm"
    assert inv.class_names().tolist() == ["C1H", "URML"]  # 9 storeys concrete; house -> 2
    assert inv.levels.tolist() == [9, 2]
    assert inv.code.tolist() == [0, 3]  # 2015 >= 2010 -> high; 1968 < 1979 -> pre
    np.testing.assert_allclose(inv.footprint_m2, [300.0, 120.0])


def test_households_go_to_buildings_of_their_block_only():
    net = _net()
    inv = build_inventory(net.residential, BuildingsSpec(footprint_m2=400.0, coverage=0.3),
                          rng=np.random.default_rng(0))
    people = _people(net)
    at_home = np.ones(len(people.persons), bool)
    at_home[::5] = False
    x = people.x_m.copy()
    x[1] = ORIGIN[0] - 500.0  # outside every block
    b = locate_households(inv, net.residential, x, people.y_m, at_home,
                          rng=np.random.default_rng(1))
    assert np.all(b[::5] == -1) and b[1] == -1
    owner = np.repeat(np.arange(len(net.residential)), 12)
    ok = b >= 0
    np.testing.assert_array_equal(inv.place[b[ok]], owner[ok])


# ------------------------------------------------------------------ strike
def test_nothing_happens_before_the_earthquake():
    net = _net()
    hz = EarthquakeHazard.from_spec(_spec(time_min=30.0))
    hz.bind(net, rng=np.random.default_rng(1))
    upd = hz.update(600.0, _people(net))
    assert upd.drive_factor is None and upd.stranded is None and not upd.incidents
    assert hz.tables() == {} and hz.arrays() == {}
    assert np.all(hz.value_at(600.0, np.array([CENTRE[0]]), np.array([CENTRE[1]])) == 0.0)
    assert hz.displaced_households().size == 0
    upd = hz.update(1800.0, _people(net))
    assert upd.drive_factor is not None
    assert hz.value_at(1800.0, np.array([CENTRE[0]]), np.array([CENTRE[1]]))[0] > 0.1
    again = hz.update(1860.0, _people(net))  # it strikes once
    assert again.drive_factor is None and again.stranded is None and not again.incidents


def test_persons_are_conserved_and_outcomes_disjoint():
    hz, upd, net = _strike(_spec(magnitude=7.5))
    people = _people(net)
    s = hz.tables()["summary"].iloc[0]
    b = hz.tables()["buildings"]
    pop = int(people.persons.sum())
    assert s["population"] == pop
    # Everyone is at home, inside a block: every person is in a building.
    assert b["occupants"].sum() == s["persons_in_buildings"] == pop
    # The building table and the summary count the same people.
    assert s["persons_displaced"] == b["displaced"].sum() > 0
    assert s["persons_trapped"] == b["trapped"].sum() > 0
    # Trapped needs Complete damage, displacement Extensive or worse (scenarios/README.md):
    # below that nobody is either.
    light = b["damage_state"].isin(["none", "slight", "moderate"])
    assert b.loc[light, ["trapped", "displaced"]].to_numpy().sum() == 0
    # Killed, trapped, displaced and injured-not-trapped are disjoint groups of the living
    # and the dead, except that the displaced may be injured: killed + trapped + displaced
    # never exceeds the occupants, and each of them is a whole group of households.
    alive = b["occupants"] - b["casualties_s4"]
    assert np.all(b["trapped"] + b["displaced"] <= alive)
    assert s["persons_killed"] + s["persons_trapped"] + s["persons_displaced"] <= pop
    # Every casualty is counted once by severity; the dead are severity 4.
    assert s["casualties_s4"] == s["persons_killed"]
    sev = b[[f"casualties_s{k}" for k in (1, 2, 3, 4)]].to_numpy().sum(axis=1)
    assert np.all(sev <= b["occupants"].to_numpy())
    stranded = set(upd.stranded.tolist())
    displaced = set(hz.displaced_households().tolist())
    assert not stranded & displaced
    assert s["households_stranded"] == len(stranded) >= s["households_trapped"] > 0
    assert s["households_displaced"] == len(displaced) > 0
    # Displaced households live in buildings with Extensive or Complete damage.
    assert set(b.loc[b["displaced"] > 0, "damage_state"]) <= {"extensive", "complete"}
    # Trapped people only where buildings collapsed or are completely damaged.
    assert set(b.loc[b["trapped"] > 0, "damage_state"]) == {"complete"}
    trapped_inc = [i for i in upd.incidents if i.kind == "trapped"]
    assert sum(i.persons for i in trapped_inc) == s["persons_trapped"] == b["trapped"].sum()
    assert len(trapped_inc) == int((b["trapped"] > 0).sum())
    assert all(i.node in set(np.concatenate([net.drive.from_node, net.drive.to_node]))
               for i in upd.incidents)
    hh, t_dep = hz.displaced_departures()
    assert np.all(t_dep >= 600.0 - 1e-9) and np.all(t_dep <= 1800.0 + 1e-9)  # 10 + 0..20 min


def test_debris_blocks_only_links_next_to_collapsed_buildings():
    # 12-storey blocks: debris reaches 0.6 x 36 = 21.6 m, past a 7 m street 11.5 m away.
    spec = _spec(magnitude=8.0, variability="none", debris_from="complete",
                 buildings={"footprint_m2": 400.0, "coverage": 0.3, "levels": [12],
                            "levels_share": [1.0]})
    hz, upd, net = _strike(spec)
    b = hz.tables()["buildings"]
    links = hz.tables()["links"]
    debris = links[(links["reason"] == "debris") & (links["network"] == "drive")]
    assert len(debris) > 0 and (upd.drive_factor == 0).any()
    col = b[b["damage_state"] == "complete"]
    inv = hz.inventory
    half = np.sqrt(inv.footprint_m2[col["building"]]) / 2.0
    reach = debris_reach_m(col["levels"].to_numpy() * 3.0)
    for _, row in debris.iterrows():
        dist, _ = point_segment(col["x_m"].to_numpy(), col["y_m"].to_numpy(),
                                np.full(len(col), row.x0_m), np.full(len(col), row.y0_m),
                                np.full(len(col), row.x1_m), np.full(len(col), row.y1_m))
        road_w = 2 * 3.5  # one lane each way, 3.5 m lanes
        assert np.any(dist - half - reach - road_w / 2 <= 1e-9), row.link
    # Closed where less than debris_pass_width_m = 3 m stays clear, slowed otherwise.
    # docs/references.md §3.6 suggests "blocked if debris >= remaining carriageway width"
    # without a number; 3 m (one lane) is our assumption (scenarios/README.md).
    closed = debris["factor"] == 0
    assert np.all(7.0 - debris.loc[closed, "buried_m"] < 3.0)
    assert np.all(7.0 - debris.loc[~closed, "buried_m"] >= 3.0)
    np.testing.assert_array_equal(upd.drive_factor[debris["link"]], debris["factor"])


def test_debris_geometry_by_hand():
    # A 6-storey (18 m) building: debris reaches 2/3 x 18 = 12 m beyond the wall.
    assert debris_reach_m(np.array([18.0]))[0] == pytest.approx(12.0)
    # Wall 10 m from the centre (20 m square), road 7 m wide, centre line 25 m away:
    # near kerb 25 - 10 - 3.5 = 11.5 m from the wall -> 0.5 m of the road buried.
    assert debris_cover_m(np.array([25.0]), np.array([10.0]), np.array([12.0]),
                          np.array([7.0]))[0] == pytest.approx(0.5)
    d, side = point_segment(np.array([5.0, 5.0]), np.array([3.0, -3.0]), np.zeros(2),
                            np.zeros(2), np.full(2, 10.0), np.zeros(2))
    np.testing.assert_allclose(d, 3.0)
    assert side.tolist() == [1, -1]


def test_no_shaking_no_damage():
    far = (CENTRE[0] + 250_000.0, CENTRE[1])  # a small event 250 km away
    hz, upd, _ = _strike(_spec(magnitude=4.0, epicentre_xy_m=far, variability="none"))
    s = hz.tables()["summary"].iloc[0]
    assert s["buildings_none"] == s["buildings"]
    assert not upd.incidents and upd.stranded.size == 0
    assert np.all(upd.drive_factor == 1.0) and np.all(upd.walk_factor == 1.0)


def test_same_seed_same_result_other_seed_other_result():
    a, ua, _ = _strike(_spec(), seed=4)
    b, ub, _ = _strike(_spec(), seed=4)
    c, uc, _ = _strike(_spec(), seed=5)
    for name in ("buildings", "links", "summary"):
        assert a.tables()[name].equals(b.tables()[name])
    np.testing.assert_array_equal(ua.stranded, ub.stranded)
    assert not np.array_equal(a.tables()["buildings"]["pga_g"], c.tables()["buildings"]["pga_g"])


def test_variability_modes():
    none, _, _ = _strike(_spec(variability="none"))
    b = none.tables()["buildings"]
    inv = none.inventory
    ln_med = none.median_ln(inv.x_m, inv.y_m, np.full(len(inv), 300.0))[0]
    np.testing.assert_allclose(b["pga_g"], np.exp(ln_med), rtol=1e-12)
    # Correlated within-event terms: buildings of one block (< 120 m apart, range 10 km)
    # share nearly the same residual; independent terms do not. Pairs: neighbours within a
    # block, pooled over five events.
    place = np.repeat(np.arange(len(inv.place_start) - 1), np.diff(inv.place_start))
    first = np.flatnonzero(place[:-1] == place[1:])
    r = {}
    for mode in ("correlated", "uncorrelated"):
        a, b = [], []
        for seed in range(11, 16):
            hz, _, _ = _strike(_spec(variability=mode, correlation_range_km=10.0), seed=seed)
            eps = np.log(hz.tables()["buildings"]["pga_g"].to_numpy()) - ln_med
            eps = eps - eps.mean()
            a.append(eps[first])
            b.append(eps[first + 1])
        r[mode] = np.corrcoef(np.concatenate(a), np.concatenate(b))[0, 1]
    n = 5 * first.size
    # Independent pairs: Fisher's z = atanh(r) ~ N(0, 1/(n - 3)); |r| beyond the two-sided
    # 0.1 % quantile (3.29 / sqrt(n - 3) ≈ 0.12 for n = 720) would reject independence.
    assert abs(r["uncorrelated"]) <= np.tanh(3.2905 / np.sqrt(n - 3)), r
    assert r["correlated"] >= 0.9, r


def test_yu2013_and_dipping_fault_surface():
    trace = [[CENTRE[0] - 3000.0, CENTRE[1] - 10_000.0], [CENTRE[0] - 3000.0, CENTRE[1] + 10_000.0]]
    spec = _spec(gmpe="yu2013", magnitude=7.0, magnitude_type="Ms", epicentre_xy_m=None,
                 trace_xy_m=trace, dip_deg=45.0, width_km=10.0, variability="none")
    hz, upd, _ = _strike(spec)
    r = hz.rupture
    assert r.strike_deg == pytest.approx(0.0)
    assert (r.epi_x, r.epi_y) == pytest.approx((CENTRE[0] - 3000.0, CENTRE[1]))
    # Dips east by 45 deg: the surface projection reaches 10 km x cos 45 = 7.07 km east,
    # over the town (R_JB = 0) but not west of the trace.
    assert r.rjb_km(np.array([CENTRE[0]]), np.array([CENTRE[1]]))[0] == 0.0
    assert r.rjb_km(np.array([CENTRE[0] - 5000.0]), np.array([CENTRE[1]]))[0] == \
        pytest.approx(2.0)
    s = hz.tables()["summary"].iloc[0]
    assert s["gmpe"] == "yu2013" and s["ms"] == 7.0 and s["mw"] == pytest.approx(6.58)


def test_bridges_close_by_their_fragility():
    base = _net()
    flags = np.zeros(base.drive.n_links, bool)
    flags[:4] = True  # two streets, both directions
    net = dataclasses.replace(base, drive_bridge=flags)
    hz, upd, _ = _strike(_spec(magnitude=8.0, variability="none"), net=net)
    s = hz.tables()["summary"].iloc[0]
    assert s["bridges_assessed"] == 2
    links = hz.tables()["links"]
    bridge = links[links["reason"] == "bridge"]
    # Sa(1 s) near an M8 reverse event on soft soil is far above HWB5's complete median.
    assert s["bridges_closed"] == 2 and set(bridge["link"]) == {0, 1, 2, 3}
    assert np.all(upd.drive_factor[:4] == 0.0)
    plain, _, _ = _strike(_spec(magnitude=8.0, variability="none"))
    assert plain.tables()["summary"].iloc[0]["bridges_assessed"] == 0


def test_default_district_counts_are_consistent():
    from sim.network import load_map
    from sim.population import build_population
    from sim.scenario import default_scenario_path, load_scenario

    net = load_map("maps/default-district.osm.bz2")
    sc = load_scenario(default_scenario_path())
    pop = build_population(net, sc, rng=np.random.default_rng(1))
    n = len(pop.persons)
    people = PeopleView(pop.x_m, pop.y_m, pop.persons, np.zeros(n, np.int8), np.ones(n, bool),
                        pop.has_car, np.full(n, -1, np.int32), np.full(n, -1, np.int32))
    import tomllib
    from pathlib import Path

    table = tomllib.loads(Path("scenarios/earthquake.toml").read_text("utf-8"))["hazards"][0]
    spec = EarthquakeSpec.model_validate(table, context={"base_dir": "scenarios"})
    hz, upd, _ = _strike(spec, net=net, people=people)
    s = hz.tables()["summary"].iloc[0]
    b = hz.tables()["buildings"]
    assert s["inventory"] == "synthesised"
    # Every household is at home and inside its block: all 300,000 residents are placed.
    assert s["persons_in_buildings"] == s["population"] == pop.n_persons
    assert s["persons_trapped"] + s["persons_displaced"] + s["persons_killed"] <= pop.n_persons
    assert s["persons_killed"] + s["persons_trapped"] + s["persons_injured_not_trapped"] <= \
        pop.n_persons
    assert sum(s[f"buildings_{d}"] for d in ("none", "slight", "moderate", "extensive",
                                               "complete")) == s["buildings"] == len(b)
    assert s["buildings_collapsed"] <= s["buildings_complete"]
    # Collapsed buildings are those that block roads: debris links exist iff collapses do.
    links = hz.tables()["links"]
    assert (len(links[links["reason"] == "debris"]) > 0) == (s["buildings_collapsed"] > 0)
    # Bridges are assessed once per physical bridge (both directions share one).
    # Road km count each street once: a two-way street is two links of one road.
    f = upd.drive_factor
    per_road = net.drive.length_m / np.where(hz.roads.drive_two_way, 2.0, 1.0)
    assert s["road_km_closed"] == pytest.approx(per_road[f == 0].sum() / 1000.0, rel=1e-12)
    assert s["drive_links_closed"] == int(np.count_nonzero(f == 0))
    assert 0 < s["bridges_assessed"] <= int(net.drive_bridge.sum())
    assert hz.arrays()["pga_g"].shape == (hz.grid.ny, hz.grid.nx)


@pytest.mark.slow
def test_model_run_folder_and_analysis(tmp_path, drawn):
    """Through the model (hazard interface) into a run folder, read back by analysis."""
    from analysis.earthquake import earthquake_metrics, plot_pga_map, read_buildings
    from sim import results, runs
    from sim.model import EvacuationModel
    from sim.scenario import FixedDelay, default_scenario_path, load_scenario

    sc = load_scenario(default_scenario_path())
    # A short run in which every warned household has left by the end (fixed, no warning
    # delay; 90 % gone within 2 min): only run-folder states the analysis knows remain.
    sc = sc.model_copy(update={
        "time": sc.time.model_copy(update={"horizon_h": 0.25}),
        "warning": sc.warning.model_copy(update={"delay": FixedDelay(distribution="fixed",
                                                                     min=0.0)}),
        "departure": sc.departure.model_copy(update={"t90_min": 2.0})})
    import tomllib
    from pathlib import Path

    table = tomllib.loads(Path("scenarios/earthquake.toml").read_text("utf-8"))["hazards"][0]
    spec = EarthquakeSpec.model_validate(table, context={"base_dir": "scenarios"})
    hz = EarthquakeHazard.from_spec(spec)
    model = EvacuationModel(scenario=sc, hazards=[hz], cache_dir=False)
    model.run()
    s = hz.tables()["summary"].iloc[0]
    # Trapped, dead and critically injured households were stopped by the model.
    assert int(model.stranded.sum()) == s["households_stranded"] > 0
    # The killed are the model's dead (HAZUS severity 4), not counted among the stranded.
    from sim.population import DEAD, STRANDED

    counts = model.person_counts()
    assert counts[DEAD] == s["persons_killed"] > 0
    assert counts.sum() == model.pop.n_persons
    living = model.pop.persons - model.dead
    assert counts[STRANDED] == living[model.household_state() == STRANDED].sum()
    out = runs.write_run(tmp_path / "run", manifest=results.manifest(model),
                         tables=results.tables(model), extra=results.extra(model), figures=False)
    m = earthquake_metrics(out)
    assert m["inventory"] == "synthesised" and m["gmpe"] == "yu2013"
    assert m["buildings"]["total"] == s["buildings"]
    assert m["buildings"]["collapsed"] == s["buildings_collapsed"]
    assert sum(m["buildings"][d] for d in ("none", "slight", "moderate", "extensive",
                                            "complete")) == s["buildings"]
    assert m["casualties"] == {f"s{k}": int(s[f"casualties_s{k}"]) for k in (1, 2, 3, 4)}
    assert m["persons_trapped"] == s["persons_trapped"]
    assert m["road_km_closed"] == pytest.approx(s["road_km_closed"], rel=1e-9)
    assert m["road_km_slowed"] == pytest.approx(s["road_km_slowed"], rel=1e-9)
    kinds = {k: sum(1 for i in model.incidents if i.kind == k) for k in ("injured", "trapped")}
    assert m["incidents"] == {k: v for k, v in kinds.items() if v}
    for lang in ("en", "zh"):
        plot_pga_map(out, tmp_path / f"pga_{lang}.png", lang=lang)
        ax = drawn[f"pga_{lang}.png"].axes[0]
        img = ax.get_images()[0]
        pga = np.load(out / "hazard" / "earthquake.npz")["pga_g"]
        np.testing.assert_array_equal(img.get_array(), pga)
        assert img.get_clim()[1] >= float(pga.max())  # the colour bar covers the data
        # One dot per damaged building: Extensive and Complete (not collapsed), collapsed.
        dots = [c for c in ax.collections if c.get_offsets().shape[1] == 2 and
                not hasattr(c, "get_segments")]
        b = read_buildings(out)
        heavy = b["damage_state"].isin(["extensive", "complete"]).sum()
        assert sum(len(c.get_offsets()) for c in dots[:3]) == heavy


def test_person_severities_follow_the_hazus_rates():
    from sim.core.damage import person_severity
    from sim.hazards.earthquake.fragility import building_tables

    t = building_tables()
    c1l = t.class_index("C1L")
    n = 400_000
    # One collapsed C1L building (docs/references.md §3.5: 40 / 20 / 5 / 10 %) and one outside.
    sev = person_severity(np.array([0, -1]), np.array([5], np.int8), np.array([c1l]), t.rates,
                          np.array([n, 1000]), np.random.default_rng(2).random(n + 1000))
    freq = np.bincount(sev[:n], minlength=5) / n
    np.testing.assert_allclose(freq, [0.25, 0.40, 0.20, 0.05, 0.10], atol=4 * np.sqrt(0.25 / n))
    assert np.all(sev[n:] == 0)
