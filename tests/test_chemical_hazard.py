"""The chemical-release hazard: spec, binding, exposure, outcomes, closures, actions.

A synthetic grid map (UTM zone 48N metres) keeps geometry exact: the source tank at the
origin, the wind from the west (blowing toward +x), so "x downwind, y crosswind" of the
textbook formulas are the map's easting/northing offsets. Expected numbers come from the
dispersion formulas (tested against docs/references.md §1 in test_dispersion.py), from analytic
identities, or from the probit's definition.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim._errors import RunFolderError, ScenarioError
from sim.core.links import build_links
from sim.hazards.base import PeopleView
from sim.hazards.chemical import dispersion as disp
from sim.hazards.chemical.hazard import (
    ACTION_CROSSWIND,
    ACTION_EVACUATE,
    ACTION_NONE,
    ACTION_SHELTER,
    ChemicalHazard,
    ChemicalSpec,
)
from sim.hazards.chemical.substances import get_substance
from sim.network.roadnet import Nodes, Places, RoadNetwork

X0, Y0 = 600_000.0, 4_300_000.0  # the tank, UTM 48N metres
EN_ROUTE, SHELTERED = 3, 4  # sim.population state codes (checked below)


def _places(kind=(), name=(), xy=(), tags=None) -> Places:
    n = len(kind)
    xy = np.asarray(xy, dtype=np.float64).reshape(n, 2)
    return Places(
        kind=np.asarray(kind, dtype=object),
        name=np.asarray(name, dtype=object),
        x_m=xy[:, 0],
        y_m=xy[:, 1],
        area_m2=np.zeros(n),
        drive_node=np.zeros(n, np.int32),
        walk_node=np.zeros(n, np.int32),
        osmid=np.arange(n, dtype=np.int64),
        tags=list(tags) if tags is not None else [{} for _ in range(n)],
    )


def grid_net(x_max=6000.0, y_max=2000.0, step=250.0) -> RoadNetwork:
    xs = np.arange(-1000.0, x_max + 1, step)
    ys = np.arange(-y_max, y_max + 1, step)
    gx, gy = np.meshgrid(xs, ys)
    nx = xs.size
    x, y = gx.ravel() + X0, gy.ravel() + Y0
    idx = np.arange(x.size).reshape(ys.size, nx)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    f, t = np.concatenate([a, b]), np.concatenate([b, a])
    length = np.hypot(x[f] - x[t], y[f] - y[t])
    links = build_links(
        f,
        t,
        length,
        np.full(f.size, 10.0),
        np.ones(f.size),
        np.full(f.size, 0.5),
        length / 7.5,
        n_nodes=x.size,
    )
    nodes = Nodes(
        osmid=np.arange(x.size, dtype=np.int64),
        x_m=x,
        y_m=y,
        lon=np.zeros(x.size),
        lat=np.zeros(x.size),
    )
    tanks = _places(
        ["storage_tank", "storage_tank"],
        ["Tank A", "Tank B"],
        [(X0, Y0), (X0, Y0 + 500.0)],
        [
            {"man_made": "storage_tank", "substance": "chlorine"},
            {"man_made": "storage_tank", "substance": "ammonia"},
        ],
    )
    hw = np.full(f.size, "residential", dtype=object)
    return RoadNetwork(
        name="grid",
        source="synthetic",
        crs="EPSG:32648",
        nodes=nodes,
        drive=links,
        walk=links,
        drive_highway=hw,
        walk_highway=hw,
        shelters=_places(),
        facilities=tanks,
        residential=_places(),
        zones=_places(),
        bbox_lonlat=(0.0, 0.0, 1.0, 1.0),
    )


@pytest.fixture(scope="module")
def net() -> RoadNetwork:
    return grid_net()


def spec(**kw) -> ChemicalSpec:
    base = dict(
        kind="chemical",
        source={"tank": "Tank A"},
        rate_kg_s=1.0,
        duration_min=60.0,
        wind_speed_mps=3.0,
        wind_from_deg=270.0,
        stability="D",
        terrain="rural",
    )
    base.update(kw)
    return ChemicalSpec.model_validate(base)


def people(xy, *, indoors=False, persons=None, state=EN_ROUTE) -> PeopleView:
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = xy.shape[0]
    return PeopleView(
        x_m=xy[:, 0] + X0,
        y_m=xy[:, 1] + Y0,
        persons=np.asarray(persons if persons is not None else np.ones(n), dtype=np.int32),
        state=np.full(n, state, dtype=np.int8),
        indoors=np.broadcast_to(np.asarray(indoors), (n,)).copy(),
        has_car=np.zeros(n, bool),
        drive_link=np.full(n, -1, np.int32),
        walk_link=np.full(n, -1, np.int32),
    )


def run(hz: ChemicalHazard, view: PeopleView, until_s: float):
    ups = []
    t = 0.0
    while t <= until_s + 1e-9:
        ups.append(hz.update(t, view))
        t += hz.cadence_s
    return ups


def test_state_codes_match_the_population_module():
    from sim import population

    assert (EN_ROUTE, SHELTERED) == (population.EN_ROUTE, population.SHELTERED)


# --- spec ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mass_kg": 10.0}, "rate_kg_s"),  # both rate and mass
        ({"rate_kg_s": None, "duration_min": None}, "rate_kg_s"),  # neither
        ({"duration_min": None}, "duration_min"),
        ({"substance": "phosgene"}, "substance"),
        ({"sky": "moderate"}, "stability"),  # both stability and sky
        ({"stability": "G"}, "stability"),
        ({"wind_speed_mps": 0.0}, "wind_speed_mps"),
        ({"wind_speed_mps": -2.0}, "wind_speed_mps"),
        (
            {
                "wind_changes": [
                    {"at_min": 20.0, "speed_mps": 2.0, "from_deg": 0.0},
                    {"at_min": 10.0, "speed_mps": 2.0, "from_deg": 0.0},
                ]
            },
            "wind_changes",
        ),
        ({"source": {"tank": "Tank A", "x_m": 1.0, "y_m": 2.0}}, "tank"),
        ({"colour": "red"}, "colour"),
        ({"actions": {"aegl3": "run"}}, "aegl3"),
    ],
)
def test_bad_spec_fields_are_named(change, field):
    with pytest.raises(ValidationError) as err:
        spec(**change)
    assert field in str(err.value)


def test_stability_from_the_sky_or_neutral_by_default():
    assert spec(stability=None, sky="night_clear", wind_speed_mps=1.5).stability_class == "F"
    assert spec(stability=None).stability_class == "D"


# --- binding ---------------------------------------------------------------------------


def test_unknown_tank_lists_the_map_tanks(net):
    with pytest.raises(
        ScenarioError, match=r"source.tank: expected a storage tank of the map \(Tank A, Tank B\)"
    ):
        ChemicalHazard.from_spec(spec(source={"tank": "Tank Z"})).bind(
            net, rng=np.random.default_rng(0)
        )


def test_substance_comes_from_the_tank_and_must_agree(net):
    hz = ChemicalHazard.from_spec(spec(source={"tank": "Tank B"}))
    hz.bind(net, rng=np.random.default_rng(0))
    assert hz.substance.key == "ammonia"
    with pytest.raises(ScenarioError, match="expected the tank's substance 'ammonia'"):
        ChemicalHazard.from_spec(spec(source={"tank": "Tank B"}, substance="chlorine")).bind(
            net, rng=np.random.default_rng(0)
        )


def test_source_by_lon_lat_is_projected(net):
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True).transform(
        X0 + 10.0, Y0 - 20.0
    )
    hz = ChemicalHazard.from_spec(spec(source={"lon": lon, "lat": lat}, substance="chlorine"))
    hz.bind(net, rng=np.random.default_rng(0))
    assert (hz.source_x_m - X0, hz.source_y_m - Y0) == pytest.approx((10.0, -20.0), abs=1e-6)


# --- dispersion in the hazard ----------------------------------------------------------


@pytest.fixture(scope="module")
def steady(net):
    """A 1 kg/s chlorine leak for an hour, receptors outdoors and at home."""
    hz = ChemicalHazard.from_spec(spec(cadence_s=10.0, puff_interval_s=10.0))
    hz.bind(net, rng=np.random.default_rng(1))
    pts = [
        (1000.0, 0.0),
        (2000.0, 0.0),
        (1000.0, 60.0),
        (1000.0, 0.0),
        (60.0, 0.0),
        (-500.0, 0.0),
        (1000.0, 1800.0),
    ]
    view = people(
        pts,
        indoors=np.array([False, False, False, True, False, False, False]),
        persons=np.array([1, 1, 1, 1, 3, 1, 1]),
    )
    ups = run(hz, view, 2.0 * 3600.0)
    return hz, view, ups, pts


def test_dose_of_a_steady_plume_equals_the_analytic_integral(steady):
    # ∫C dt at a point over the whole event = C_plume(x, y) × release duration.
    hz, _, _, pts = steady
    sub = get_substance("chlorine")
    for i in (0, 1, 2):
        x, y = pts[i]
        c = disp.plume_concentration(1000.0, 3.0, x, y, 0.0, stability="D", terrain="rural")
        expected = float(sub.g_m3_to_ppm(c)) * 60.0
        assert hz.ex.dose_ppm_min[i] == pytest.approx(expected, rel=0.01)
        # The plateau is the plume's value too.
        assert hz.ex.peak_ppm[i] == pytest.approx(float(sub.g_m3_to_ppm(c)), rel=0.01)


def test_upwind_and_far_crosswind_breathe_nothing(steady):
    hz = steady[0]
    assert hz.ex.dose_ppm_min[5] == 0.0 and hz.ex.peak_ppm[5] == 0.0
    assert hz.ex.dose_ppm_min[6] == 0.0


def test_sheltering_lowers_peak_and_toxic_load(steady):
    hz = steady[0]
    out, home = 0, 3  # same place, outdoors vs at home
    assert hz.ex.peak_ppm[home] < 0.5 * hz.ex.peak_ppm[out]
    assert hz.ex.load[home] < 0.5 * hz.ex.load[out]
    # Box model: C_in = C(1 - e^{-λt}) during the hour-long plateau (λ = 0.5/h).
    lam_t = 0.5 * 1.0
    assert hz.ex.peak_ppm[home] == pytest.approx(
        hz.ex.peak_ppm[out] * (1 - math.exp(-lam_t)), rel=0.01
    )


def test_close_to_the_source_people_die_and_are_reported(steady):
    hz, view, ups, _ = steady
    assert get_substance("chlorine").death_probability(hz.ex.load[4]) > 0.9999
    assert hz.deaths[4] == 3 and hz.deaths[[0, 1, 2, 3, 5, 6]].sum() == 0
    fatal = [inc for u in ups for inc in u.incidents if inc.kind == "injured"]
    assert sum(i.persons for i in fatal) == 3 and all(i.severity == 4 for i in fatal)
    stranded = np.concatenate([u.stranded for u in ups if u.stranded is not None])
    assert np.unique(stranded).tolist() == [4]  # stopped where they are, awaiting rescue


def test_injury_is_the_aegl2_toxic_load(steady):
    hz = steady[0]
    sub = get_substance("chlorine")
    threshold = 2.0**2 * 60.0  # AEGL-2 (60 min) = 2.0 ppm, n = 2
    for i in range(7):
        hurt = hz.ex.load[i] >= threshold and hz.deaths[i] == 0
        assert (hz.injured[i] > 0) == hurt, i
    assert hz.injury_load == pytest.approx(threshold)
    assert sub.aegl(2, 60) == 2.0


def test_roads_inside_the_aegl3_zone_close_and_reopen(steady, net):
    hz, _, ups, _ = steady
    drive = [u.drive_factor for u in ups if u.drive_factor is not None]
    assert len(drive) >= 2  # closed while the plume lasts, reopened after
    closed_at_peak = drive[0] == 0.0
    mx, my, _ = hz._links["drive"]
    assert closed_at_peak.any()
    # Every closed link's midpoint is downwind of the source and within the AEGL-3 length.
    zone3 = disp.threat_zone(
        1000.0,
        3600.0,
        3.0,
        float(get_substance("chlorine").ppm_to_g_m3(20.0)),
        stability="D",
        terrain="rural",
    )
    assert np.all(mx[closed_at_peak] - X0 > 0)
    assert np.all(mx[closed_at_peak] - X0 <= zone3["length_m"] + 1.0)
    assert np.all(np.abs(my[closed_at_peak] - Y0) <= zone3["max_width_m"])
    assert np.all(drive[-1] == 1.0)
    assert hz.rows[-1]["drive_km_closed"] == 0.0


# An independent plume for the zone checks: docs/references.md §1.1 (ground source and
# receptor), Briggs (1973) rural D typed from §1.4, chlorine from §1.6 and §1.8.
def _independent_peak_ppm(dx_m, dy_m, rate_g_s, wind_mps, duration_s):
    """Peak ground concentration of a finite release at (dx downwind, dy crosswind), ppm."""
    x = np.maximum(dx_m, 1e-9)
    sy = 0.08 * x / np.sqrt(1 + 1e-4 * x)
    sz = 0.06 * x / np.sqrt(1 + 1.5e-3 * x)
    steady = rate_g_s / (np.pi * wind_mps * sy * sz) * np.exp(-(dy_m**2) / (2 * sy**2))
    slug = np.vectorize(math.erf)(wind_mps * duration_s / (2 * math.sqrt(2) * sy))
    g_m3 = np.where(dx_m > 0, steady * slug, 0.0)
    return g_m3 * 1000.0 * 24.45 / 70.90


def _grid_zone_length_m(hz, ppm, rate_g_s, duration_s):
    """The zone's length as the hazard defines it: the farthest cell centre at or above
    ``ppm``, here with the independent plume evaluated on the same cell centres."""
    ny, nx = hz.grid_shape
    cx = hz.grid_x0_m + (np.arange(nx) + 0.5) * hz.grid_cell_m - X0
    cy = hz.grid_y0_m + (np.arange(ny) + 0.5) * hz.grid_cell_m - Y0
    gx, gy = np.meshgrid(cx, cy)
    above = _independent_peak_ppm(gx, gy, rate_g_s, 3.0, duration_s) >= ppm
    return float(np.hypot(gx, gy)[above].max())


def test_threat_zones_match_an_independent_plume_to_one_cell(steady):
    # The zone edge of a puff train sampled every 10 s may differ from the steady plume's by
    # one cell; more would be a wrong zone. (Cell centres lie 25 m off the centreline here,
    # where σy ≈ 55 m at the red edge: the zone is measured where the cells are.)
    hz = steady[0]
    zones = hz.tables()["zones"].set_index("zone")
    for k, ppm in ((2, 2.0), (3, 20.0)):  # chlorine 60-min AEGL-2/3, §1.8
        got = zones.loc[f"aegl{k}", "length_m"]
        assert got == pytest.approx(_grid_zone_length_m(hz, ppm, 1000.0, 3600.0),
                                    abs=hz.grid_cell_m)


def test_the_yellow_zone_on_a_grid_that_holds_it():
    # AEGL-1 (0.5 ppm) reaches ~8.9 km: a 12 km grid holds it. Puffs every 30 s (90 m apart)
    # are smooth against σx = σy ≈ 600 m at that edge.
    wide = grid_net(x_max=11_000.0, y_max=1000.0, step=1000.0)
    hz = ChemicalHazard.from_spec(spec(cadence_s=60.0, puff_interval_s=30.0, grid_cell_m=100.0))
    hz.bind(wide, rng=np.random.default_rng(1))
    run(hz, people([(1000.0, 0.0)]), 2.0 * 3600.0)
    got = hz.tables()["zones"].set_index("zone").loc["aegl1", "length_m"]
    expected = _grid_zone_length_m(hz, 0.5, 1000.0, 3600.0)
    far_edge = hz.grid_x0_m + hz.grid_shape[1] * hz.grid_cell_m - X0
    assert 8000.0 < expected < far_edge - 2 * hz.grid_cell_m  # inside the grid, not clipped
    assert got == pytest.approx(expected, abs=hz.grid_cell_m)


def test_wind_change_turns_the_cloud(net):
    hz = ChemicalHazard.from_spec(
        spec(
            duration_min=40.0, wind_changes=[{"at_min": 20.0, "speed_mps": 3.0, "from_deg": 180.0}]
        )
    )
    hz.bind(net, rng=np.random.default_rng(0))
    before = hz.puffs_at(20 * 60.0)
    after = hz.puffs_at(30 * 60.0)
    # The oldest puff: 20 min east at 3 m/s, then 10 min north.
    assert (before.x_m[0] - X0, before.y_m[0] - Y0) == pytest.approx(
        (3.0 * (1200 - 15), 0.0), abs=1e-6
    )
    assert (after.x_m[0] - X0, after.y_m[0] - Y0) == pytest.approx(
        (3.0 * (1200 - 15), 1800.0), abs=1e-6
    )
    assert after.dir_y[0] == pytest.approx(1.0)
    north = hz.zone_level_at(np.full(3, X0 + 1000.0), Y0 + np.array([1000.0, 1500.0, -1500.0]))
    assert north[0] >= 1 and north[2] == 0


def _puff_peak_time_s(x_m: float, wind_mps: float) -> float:
    """When a ground puff's concentration peaks at ground level ``x_m`` downwind.

    Independent of sim.hazards: the CCPS puff formula with class D σx = σy = 0.06 s^0.92,
    σz = 0.15 s^0.70 at travel distance s = u t (docs/references.md §1.5 P4), maximised
    over a 0.01 s grid. The puff grows as it passes, so the peak comes a little before
    x / u.
    """
    t = np.arange(0.5 * x_m / wind_mps, 1.5 * x_m / wind_mps, 0.01)
    travel = wind_mps * t
    sxy, sz = 0.06 * travel**0.92, 0.15 * travel**0.70
    log_c = -np.log(sxy * sxy * sz) - (x_m - travel) ** 2 / (2 * sxy**2)
    return float(t[np.argmax(log_c)])


def test_instantaneous_release_arrives_passes_and_clears(net):
    hz = ChemicalHazard.from_spec(
        spec(
            rate_kg_s=None,
            duration_min=None,
            mass_kg=200.0,
            receptor={"name": "school", "x_m": X0 + 1500.0, "y_m": Y0},
            cadence_s=10.0,
        )
    )
    hz.bind(net, rng=np.random.default_rng(0))
    run(hz, people([(1500.0, 0.0)]), 3600.0)
    rec = pd.DataFrame(hz.receptor_rows)
    c = rec["outdoor_ppm"].to_numpy()
    peak = int(np.argmax(c))
    assert c[0] == 0.0 and c[peak] > 0.0 and c[-1] < 1e-6 * c[peak]
    # The receptor is sampled every update (10 s): the sampled peak is the sample nearest
    # the true peak, which comes a little before the cloud centre passes (x / u = 500 s).
    t_peak = _puff_peak_time_s(1500.0, 3.0)
    assert 450.0 < t_peak < 500.0
    assert rec["t_s"][peak] == pytest.approx(t_peak, abs=hz.cadence_s / 2)
    assert np.all(np.isfinite(rec[["outdoor_ppm", "indoor_ppm"]].to_numpy()))


def test_same_seed_same_outcomes(net):
    # A crowd at a point where P(death) is about one half: sampled deaths are reproducible
    # and binomial around the probit's expectation.
    def deaths(seed):
        hz = ChemicalHazard.from_spec(spec(rate_kg_s=2.0, duration_min=10.0))
        hz.bind(net, rng=np.random.default_rng(seed))
        run(hz, people([(300.0, 0.0)], persons=[4000]), 1800.0)
        return hz, int(hz.deaths[0])

    hz, a = deaths(7)
    _, b = deaths(7)
    assert a == b
    p = float(get_substance("chlorine").death_probability(hz.ex.load[0]))
    assert 0.02 < p < 0.98
    assert abs(a - 4000 * p) <= 4.0 * math.sqrt(4000 * p * (1 - p))


# --- protective actions ----------------------------------------------------------------


def test_actions_follow_the_forecast_zones_and_sub_district_overrides(net):
    hz = ChemicalHazard.from_spec(
        spec(
            actions={
                "aegl3": "shelter",
                "aegl2": "crosswind",
                "aegl1": "evacuate",
                "outside": "none",
            }
        )
    )
    hz.bind(net, rng=np.random.default_rng(0))
    x = X0 + np.array([200.0, 4000.0, -900.0, 200.0])
    y = Y0 + np.array([0.0, 0.0, 0.0, 0.0])
    level = hz.zone_level_at(x, y)
    assert level[0] == 3 and level[2] == 0
    codes = hz.protective_actions(x, y)
    assert codes[0] == ACTION_SHELTER and codes[2] == ACTION_NONE
    assert codes[1] == {1: ACTION_EVACUATE, 2: ACTION_CROSSWIND, 3: ACTION_SHELTER}[int(level[1])]
    hz2 = ChemicalHazard.from_spec(spec(zone_actions={"East": "evacuate"}))
    hz2.bind(net, rng=np.random.default_rng(0))
    codes2 = hz2.protective_actions(x, y, zone=np.array([0, 1, 1, 1]), zone_names=["West", "East"])
    assert codes2.tolist()[1:] == [ACTION_EVACUATE] * 3 and codes2[0] == ACTION_SHELTER
    with pytest.raises(ScenarioError, match="zone_actions: expected sub-districts of the map"):
        hz2.protective_actions(x, y, zone=np.zeros(4, int), zone_names=["West"])


def test_crosswind_evacuees_avoid_the_downwind_sector(net):
    hz = ChemicalHazard.from_spec(spec(crosswind_sector_deg=45.0))
    hz.bind(net, rng=np.random.default_rng(0))
    sx = X0 + np.array([20_000.0, 0.0, -2000.0, 1500.0, 300.0])
    sy = Y0 + np.array([0.0, 3000.0, 0.0, 1400.0, 0.0])
    cross = hz.shelter_allowed(sx, sy, ACTION_CROSSWIND)
    # Far downwind (outside every zone, but in the sector), crosswind, upwind, 43° off axis.
    assert cross.tolist()[:4] == [False, True, True, False]
    evac = hz.shelter_allowed(sx, sy, ACTION_EVACUATE)
    assert evac[0] and not evac[4]  # 300 m downwind is inside the orange zone
    assert not hz.shelter_allowed(sx, sy, ACTION_SHELTER).any()


# --- outputs ---------------------------------------------------------------------------


def test_tables_and_arrays_are_complete_and_finite(steady):
    hz = steady[0]
    tables = hz.tables()
    assert set(tables) == {"timeseries", "exposure", "receptor", "zones"}
    ex = tables["exposure"]
    assert ex["household"].tolist() == [0, 1, 2, 3, 4]  # only those who breathed gas
    assert set(ex["outcome"]) <= {"none", "injury", "death"}
    assert ex.loc[ex["household"] == 4, "outcome"].item() == "death"
    for frame in tables.values():
        numeric = frame.select_dtypes("number").to_numpy(dtype=float)
        assert np.all(np.isfinite(numeric))
    ts = tables["timeseries"]
    assert np.all(np.diff(ts["persons_above_aegl1"]) >= 0)
    arrays = hz.arrays()
    assert arrays["max_ppm"].shape == arrays["level"].shape == hz.grid_shape
    assert arrays["aegl_ppm"].tolist() == [0.5, 2.0, 20.0]
    assert float(arrays["max_ppm"].max()) > 20.0


def test_chlorine_release_scenario_file_is_valid(cache):
    from sim.scenario import Scenario, default_scenario_path

    path = default_scenario_path().parent / "chlorine-release.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    hazards = data.pop("hazards")
    assert len(hazards) == 1
    chem = ChemicalSpec.model_validate(hazards[0])
    base = Scenario.from_dict(data, source=str(path), base_dir=path.parent)
    from sim.network import load_map

    net = load_map(base.scenario.map, cache_dir=cache)
    hz = ChemicalHazard.from_spec(chem)
    hz.bind(net, rng=np.random.default_rng(0))
    assert hz.substance.key == "chlorine"
    zones = hz.tables()["zones"].set_index("zone")
    assert zones.loc["aegl3", "length_m"] > 0
    # The orange zone reaches where people live.
    res = net.residential
    assert np.any(hz.zone_level_at(res.x_m, res.y_m) >= 2)


# --- in the model, to the run folder, back through analysis ------------------------------


def tank_leak(**changes) -> ChemicalHazard:
    """Chlorine from the generated districts' tank T1, 20 min, 2 m/s from the NE, D urban."""
    fields = dict(kind="chemical", source={"tank": "Chlorine Tank T1"}, rate_kg_s=5.0,
                  duration_min=20.0, wind_speed_mps=2.0, wind_from_deg=45.0, stability="D",
                  terrain="urban")
    return ChemicalHazard.from_spec(ChemicalSpec.model_validate({**fields, **changes}))


@pytest.fixture(scope="module")
def chemical_run(request, tmp_path_factory):
    from sim import results, runs
    from sim.model import EvacuationModel

    small = request.getfixturevalue("small_district")
    cache = request.getfixturevalue("cache")
    hz = tank_leak(rate_kg_s=40.0)  # a large tank failure: enough for deaths by the probit
    m = EvacuationModel(scenario_path=small / "small.toml", seed=4, cache_dir=cache, hazards=[hz])
    counts = []
    while m.running:
        m.step()
        counts.append(int(m.person_counts().sum()))
    out = runs.write_run(
        tmp_path_factory.mktemp("runs") / "chem",
        manifest=results.manifest(m),
        tables=results.tables(m),
        figures=False,
        extra=results.extra(m),
    )
    return m, hz, out, counts


def test_model_run_keeps_everyone_and_writes_the_hazard_files(chemical_run):
    m, hz, out, counts = chemical_run
    assert set(counts) == {m.pop.n_persons}
    for name in ("timeseries", "exposure", "receptor", "zones"):
        assert (out / "hazard" / f"chemical_{name}.csv").is_file()
    assert (out / "hazard" / "chemical.npz").is_file()
    ex = pd.read_csv(out / "hazard" / "chemical_exposure.csv")
    assert len(ex) > 0 and ex["persons"].sum() <= m.pop.n_persons
    assert hz.rows[-1]["persons_above_aegl1"] > 0
    # The probit's deaths are the model's dead, in its counts and in the run folder.
    from sim.population import DEAD

    assert m.person_counts()[DEAD] == hz.deaths.sum() == ex["deaths"].sum() > 0
    hh = pd.read_csv(out / "households.csv.gz")
    ts = pd.read_csv(out / "timeseries.csv")
    assert hh["dead"].sum() == ts["dead"].iloc[-1] == hz.deaths.sum()


def test_chemical_metrics_agree_with_the_files(chemical_run):
    from analysis.chemical import chemical_metrics

    m, hz, out, _ = chemical_run
    met = chemical_metrics(out)
    ts = pd.read_csv(out / "hazard" / "chemical_timeseries.csv")
    ex = pd.read_csv(out / "hazard" / "chemical_exposure.csv")
    assert met["persons_above_aegl1"] == ts["persons_above_aegl1"].iloc[-1]
    assert met["persons_above_aegl1"] >= met["persons_above_aegl2"] >= met["persons_above_aegl3"]
    assert met["deaths"] == ex["deaths"].sum() and met["injured"] == ex["injured"].sum()
    groups = met["exposure"]
    assert groups["evacuees"]["persons"] + groups["in_place"]["persons"] == m.pop.n_persons
    assert (
        met["zones"]["aegl1"]["area_km2"]
        >= met["zones"]["aegl2"]["area_km2"]
        >= met["zones"]["aegl3"]["area_km2"]
    )
    assert met["receptor"]["peak_outdoor_ppm"] > 0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chemical_figures_draw_the_zones_and_the_receptor(chemical_run, tmp_path, lang, drawn):
    from analysis.chemical import plot_receptor, plot_threat_zones

    out = chemical_run[2]
    plot_threat_zones(out, tmp_path / "zones.png", lang=lang)
    plot_receptor(out, tmp_path / "receptor.png", lang=lang)
    arr = np.load(out / "hazard" / "chemical.npz")
    ax = drawn["zones.png"].axes[0]
    # The zone raster is the run's level grid (0 masked), placed on its cells.
    img = ax.get_images()[0]
    np.testing.assert_array_equal(img.get_array().filled(0), arr["level"])
    ny, nx = arr["level"].shape
    x0, y0, cell = float(arr["grid_x0_m"]), float(arr["grid_y0_m"]), float(arr["grid_cell_m"])
    assert img.get_extent() == [x0, x0 + nx * cell, y0, y0 + ny * cell]
    source = ax.lines[0]
    assert (source.get_xdata()[0], source.get_ydata()[0]) == tuple(arr["source_xy_m"])
    # The receptor curve is the receptor table, and the axis holds its peak.
    rec = pd.read_csv(out / "hazard" / "chemical_receptor.csv")
    ax = drawn["receptor.png"].axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), rec["outdoor_ppm"])
    assert ax.get_ylim()[1] >= rec["outdoor_ppm"].max()
    aegls = sorted(ln.get_ydata()[0] for ln in ax.lines[2:5])
    assert aegls == sorted(float(a) for a in arr["aegl_ppm"])


def test_analysis_names_a_missing_hazard_file(tmp_path):
    from analysis.chemical import chemical_metrics

    with pytest.raises(RunFolderError, match="chemical_timeseries.csv: missing"):
        chemical_metrics(tmp_path)
