"""The wildfire behind the hazard interface: closures, homes reached, trigger warning, CLI.

Expected values follow from the interface contract (sim/hazards/base.py) and from the
arrival field the hazard itself reports (``arrival_s``, checked against the kernel's own
reference in test_wildfire_spread), never from a recorded run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim._errors import ScenarioError
from sim.hazards.base import PeopleView
from sim.hazards.wildfire import fuel as fu
from sim.hazards.wildfire import rothermel as ro
from sim.hazards.wildfire.hazard import WildfireHazard
from sim.hazards.wildfire.spec import WildfireSpec
from sim.hazards.wildfire.trigger import shift_response

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_net(small_district, cache):
    from sim.network import load_map

    return load_map(small_district / "small.osm.bz2", cache_dir=cache)


def _spec(base_dir, **kw):
    return WildfireSpec.model_validate({"kind": "wildfire", **kw},
                                       context={"base_dir": base_dir})


def _view(x, y, *, state=None, indoors=None, drive_link=None):
    n = len(x)
    return PeopleView(
        x_m=np.asarray(x, float), y_m=np.asarray(y, float), persons=np.full(n, 2, np.int32),
        state=np.zeros(n, np.int8) if state is None else np.asarray(state, np.int8),
        indoors=np.ones(n, bool) if indoors is None else np.asarray(indoors, bool),
        has_car=np.ones(n, bool),
        drive_link=np.full(n, -1, np.int32) if drive_link is None else drive_link,
        walk_link=np.full(n, -1, np.int32))


def _west_edge_point(net):
    nodes = np.unique(net.drive.from_node)
    x, y = net.nodes.x_m[nodes], net.nodes.y_m[nodes]
    return float(x.min() - 200.0), float(np.median(y))


@pytest.fixture(scope="module")
def burning(small_district, small_net):
    x0, y0 = _west_edge_point(small_net)
    spec = _spec(small_district, dem="small.dem.asc", fuel_model="FM1", wind_speed_mps=6.0,
                 wind_from_deg=270.0, ignitions=[{"x_m": x0, "y_m": y0, "t_min": 5.0}],
                 trigger_min=30.0)
    hz = WildfireHazard.from_spec(spec)
    hz.bind(small_net, rng=np.random.default_rng(0))
    return hz


def test_arrival_starts_at_the_ignition_and_spares_built_up_cells(burning):
    hz = burning
    a = hz.arrival_s.ravel()
    assert a[hz.ign_cells[0]] == 5 * 60.0
    assert np.nanmin(np.where(np.isfinite(a), a, np.nan)) == 5 * 60.0
    assert np.all(np.isinf(hz.arrival_s[hz.urban]))  # NB1: nothing burns in town
    assert np.isfinite(hz.arrival_s).sum() > 100


def test_roads_close_while_fire_is_near_and_reopen_after_the_smoke(burning, small_net):
    hz = burning
    s = hz.spec
    seen_closed = np.zeros(small_net.drive.n_links, bool)
    x, y = small_net.nodes.x_m[:1], small_net.nodes.y_m[:1]
    for t in np.arange(0.0, 6 * 3600.0, 600.0):
        hz._prev_d = hz._prev_w = None  # ask for the full factor every time
        upd = hz.update(float(t), _view(x, y, state=[4], indoors=[False]))
        closed = upd.drive_factor == 0
        want = (hz.d_open <= t) & (t <= hz.d_close)
        assert np.array_equal(closed, want)
        seen_closed |= closed
        # A closed link has burning within the buffer: some cell within road_buffer_m
        # (plus half a cell diagonal) of the link's samples ignited by now.
    assert seen_closed.any()
    k = np.flatnonzero(seen_closed)[0]
    assert hz.d_close[k] - hz.d_open[k] >= s.smoke_clear_min * 60.0
    # Independent of the hazard's bookkeeping: the closing time is no earlier than the
    # fire's arrival somewhere within road_buffer_m (+ one cell) of the link's end nodes
    # or the points between them.
    cx, cy = hz.grid.centres()
    a = hz.arrival_s
    fr, to = small_net.drive.from_node[k], small_net.drive.to_node[k]
    px = np.linspace(small_net.nodes.x_m[fr], small_net.nodes.x_m[to], 20)
    py = np.linspace(small_net.nodes.y_m[fr], small_net.nodes.y_m[to], 20)
    d = np.min(np.hypot(cx[..., None] - px, cy[..., None] - py), axis=-1)
    near = d <= s.road_buffer_m + 1.5 * hz.grid.cell_m
    assert hz.d_open[k] >= a[near].min() - 1e-6


def test_homes_reached_by_fire_are_trapped_once(burning, small_net):
    hz = burning
    cx, cy = hz.grid.centres()
    burn = np.isfinite(hz.arrival_s)
    # Households at cell centres next to burning cells and far inside the built-up area.
    ii = np.flatnonzero(burn.ravel())[:: max(1, burn.sum() // 40)]
    x, y = cx.ravel()[ii] + 3.0, cy.ravel()[ii] + 3.0
    t_home = hz.home_arrival_s(x, y)
    assert np.all(t_home <= hz.arrival_s.ravel()[ii])  # within reach of its own cell
    view = _view(x, y)
    hz._caught = None
    hz._home_t = None
    caught_at = np.full(len(x), np.inf)
    for t in np.arange(0.0, 8 * 3600.0, 300.0):
        upd = hz.update(float(t), view)
        if upd.stranded is not None:
            assert np.all(np.isinf(caught_at[upd.stranded]))  # each once
            caught_at[upd.stranded] = t
            assert all(i.kind == "trapped" and i.hazard == "wildfire" for i in upd.incidents)
    reached = np.isfinite(t_home) & (t_home < 8 * 3600.0 - 300.0)
    assert np.array_equal(np.isfinite(caught_at), np.isfinite(t_home) & (t_home <= 8 * 3600 - 300))
    assert reached.any()
    # Caught at the first update at or after the fire came within reach.
    step = caught_at[reached] - t_home[reached]
    assert np.all((step >= 0) & (step < 300.0))


def test_households_away_from_home_are_not_trapped(burning):
    hz = burning
    cx, cy = hz.grid.centres()
    i = int(np.flatnonzero(np.isfinite(hz.arrival_s).ravel())[0])
    x, y = cx.ravel()[[i]], cy.ravel()[[i]]
    hz._caught = None
    hz._home_t = None
    upd = hz.update(24 * 3600.0, _view(x, y, state=[4], indoors=[True]))  # in a shelter
    assert upd.stranded is None


def test_trigger_warning_is_arrival_minus_lead_per_zone(burning):
    hz = burning
    cx, cy = hz.grid.centres()
    i = np.flatnonzero(np.isfinite(hz.arrival_s).ravel())[::97][:6]
    x, y = cx.ravel()[i], cy.ravel()[i]
    home = hz.home_arrival_s(x, y)
    per_hh = hz.spec.model_copy(update={"trigger_scope": "household"})
    hz.spec, keep = per_hh, hz.spec
    try:
        t = hz.warning_start_s(x, y, np.zeros(len(x), np.int64))
    finally:
        hz.spec = keep
    np.testing.assert_allclose(t, np.maximum(home - 30 * 60.0, 5 * 60.0))
    zone = np.array([0, 0, 0, 1, 1, 1])
    tz = hz.warning_start_s(x, y, zone)
    for z in (0, 1):
        assert np.all(tz[zone == z] == t[zone == z].min())


def test_without_trigger_min_nobody_is_warned_by_the_fire(burning):
    hz = burning
    keep = hz.spec
    hz.spec = keep.model_copy(update={"trigger_min": None})
    try:
        t = hz.warning_start_s(np.array([hz.grid.x0_m + 50.0]), np.array([hz.grid.y0_m + 50.0]),
                               np.zeros(1, np.int64))
    finally:
        hz.spec = keep
    assert np.all(np.isinf(t))


def test_shift_response_moves_warning_and_departure_together():
    t_w = np.array([600.0, 900.0, np.inf, 700.0])
    t_d = np.array([1800.0, np.inf, np.inf, 2000.0])  # 2nd does not comply, 3rd not reached
    start = np.array([300.0, 0.0, 0.0, 900.0])  # general start 600 s
    moved = shift_response(t_w, t_d, 600.0, start)
    assert moved.tolist() == [True, True, False, False]
    assert t_w.tolist() == [300.0, 300.0, np.inf, 700.0]
    assert t_d.tolist() == [1500.0, np.inf, np.inf, 2000.0]


def test_ignition_off_the_grid_or_in_town_is_refused(small_district, small_net, burning):
    spec = _spec(small_district, dem="small.dem.asc",
                 ignitions=[{"x_m": 0.0, "y_m": 0.0}])
    with pytest.raises(ScenarioError, match=r"ignitions\[0\]: expected a point on the DEM"):
        WildfireHazard.from_spec(spec).bind(small_net, rng=np.random.default_rng(0))
    cx, cy = burning.grid.centres()
    k = int(np.flatnonzero(burning.urban.ravel())[0])
    spec = _spec(small_district, dem="small.dem.asc",
                 ignitions=[{"x_m": float(cx.ravel()[k]), "y_m": float(cy.ravel()[k])}])
    with pytest.raises(ScenarioError, match=r"ignitions\[0\]: expected a point in burnable"):
        WildfireHazard.from_spec(spec).bind(small_net, rng=np.random.default_rng(0))


def test_bad_fuel_model_in_a_scenario_names_the_field(tmp_path):
    from sim.scenario import load_scenario

    text = (REPO / "scenarios" / "wildfire.toml").read_text(encoding="utf-8")
    text = text.replace('fuel_model = "GR2"', 'fuel_model = "FM99"')
    text = text.replace('"../maps/', f'"{REPO / "maps"}/')
    p = tmp_path / "bad.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"hazards\[0\]\.fuel_model: expected a standard "
                                            r"fuel model.*got 'FM99'$"):
        load_scenario(p)


def test_the_wildfire_scenario_file_validates():
    from sim.scenario import load_scenario

    sc = load_scenario(REPO / "scenarios" / "wildfire.toml")
    (hz,) = sc.hazards
    assert hz.kind == "wildfire" and hz.fuel_model == "GR2" and len(hz.ignitions) == 1


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim.cli", "hazard", "fire-spread", *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def test_fire_spread_calculator_json_equals_the_library():
    r = _cli("--fuel-model", "10", "--wind-mps", "4.4704", "--slope-deg", "10", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    want = ro.spread_rate_mps(fu.fuel_model(10), ro.Moisture(), midflame_mps=4.4704,
                              slope_deg=10.0)
    assert out["ros_mps"] == pytest.approx(want["ros_mps"], rel=1e-12)
    assert out["fuel_model"] == "FM10" and out["length_to_breadth"] > 1


def test_fire_spread_calculator_refuses_an_unknown_fuel_model():
    r = _cli("--fuel-model", "FM99")
    assert r.returncode == 2
    assert "--fuel-model: expected a standard fuel model" in r.stderr
    assert "Traceback" not in r.stderr


# --------------------------------------------------------------------------- in the model
@pytest.fixture(scope="module")
def fire_run(small_district, small_net, cache):
    from sim.model import EvacuationModel
    from sim.scenario import load_scenario

    x0, y0 = _west_edge_point(small_net)
    spec = _spec(small_district, dem="small.dem.asc", fuel_model="FM1", wind_speed_mps=6.0,
                 ignitions=[{"x_m": x0, "y_m": y0}], trigger_min=60.0)
    sc = load_scenario(small_district / "small.toml")
    sc = sc.model_copy(update={"warning": sc.warning.model_copy(update={"start_min": 600.0})})
    runs = []
    for _ in range(2):
        hz = WildfireHazard.from_spec(spec)
        m = EvacuationModel(scenario=sc, seed=2, cache_dir=cache, network=small_net,
                            hazards=[hz])
        m.run()
        runs.append((m, hz))
    return runs


def test_trigger_points_warn_before_the_general_warning(fire_run, small_net, cache):
    from sim.model import EvacuationModel

    m, hz = fire_run[0]
    assert any(e.kind == "trigger_warning" for e in m.events)
    # The same run's draws without the fire (the response stream does not depend on it).
    m0 = EvacuationModel(scenario=m.scenario, seed=2, cache_dir=cache, network=small_net,
                         hazards=[])
    start = hz.warning_start_s(m.pop.x_m, m.pop.y_m, m.pop.zone)
    general = 600 * 60.0
    shift = np.where(start < general, general - start, 0.0)
    old_w, old_d = m0.resp.t_warned_s, m0.resp.t_depart_s
    np.testing.assert_array_equal(m.resp.t_warned_s, old_w - np.where(np.isfinite(old_w),
                                                                      shift, 0.0))
    moved = np.isfinite(old_w) & (shift > 0)
    assert moved.sum() > 0
    # Departures keep their mobilisation delay (those ordered to stay keep inf).
    keep = moved & np.isfinite(old_d) & np.isfinite(m.resp.t_depart_s)
    np.testing.assert_allclose(m.resp.t_depart_s[keep] - m.resp.t_warned_s[keep],
                               old_d[keep] - old_w[keep])


def test_model_strands_whom_the_fire_catches_and_is_deterministic(fire_run):
    (m, hz), (m2, hz2) = fire_run
    caught = hz.tables()["caught"]
    assert caught["household"].is_unique
    assert np.all(m.stranded[caught["household"].to_numpy()])
    fire_inc = [i for i in m.incidents if i.hazard == "wildfire"]
    assert sum(i.persons for i in fire_inc) == caught["persons"].sum()
    assert caught.equals(hz2.tables()["caught"])
    assert np.array_equal(m.household_state(), m2.household_state())


def _fuel_raster(small_district, tmp_path, right_value: int) -> Path:
    """The small DEM's grid with fuel model 1 in its west half and ``right_value`` east."""
    lines = (small_district / "small.dem.asc").read_text().splitlines()
    head = {ln.split()[0].lower(): float(ln.split()[1]) for ln in lines[:6]}
    n_c, n_r = int(head["ncols"]), int(head["nrows"])
    row = " ".join("1" if j < n_c // 2 else str(right_value) for j in range(n_c))
    p = tmp_path / "fuel.asc"
    p.write_text("\n".join(lines[:6] + [row] * n_r) + "\n")
    (tmp_path / "fuel.prj").write_text((small_district / "small.dem.prj").read_text())
    return p


def test_fuel_raster_sets_the_fuel_per_cell(small_district, small_net, tmp_path):
    x0, y0 = _west_edge_point(small_net)
    p = _fuel_raster(small_district, tmp_path, 99)  # NB9 bare ground in the east half
    spec = _spec(small_district, dem="small.dem.asc", fuel_model="FM3", fuel_raster=str(p),
                 urban_fuel_model="NB1", ignitions=[{"x_m": x0, "y_m": y0}])
    hz = WildfireHazard.from_spec(spec)
    hz.bind(small_net, rng=np.random.default_rng(0))
    used = set(np.unique(hz.fuel).tolist())
    assert used <= {1, 3, 91, 99} and {1, 99} <= used  # FM3 only off the raster
    assert np.all(np.isinf(hz.arrival_s[hz.fuel == 99]))  # bare ground never burns
    assert np.all(hz.ros[hz.fuel == 99] == 0.0)
    assert np.isfinite(hz.arrival_s[hz.fuel == 1]).any()


def test_fuel_raster_with_an_unknown_model_is_refused(small_district, small_net, tmp_path):
    x0, y0 = _west_edge_point(small_net)
    p = _fuel_raster(small_district, tmp_path, 77)
    spec = _spec(small_district, dem="small.dem.asc", fuel_raster=str(p),
                 ignitions=[{"x_m": x0, "y_m": y0}])
    with pytest.raises(ScenarioError, match=r"fuel\.asc: .*fuel_raster: expected standard fuel "
                                            r"model numbers .*got 77"):
        WildfireHazard.from_spec(spec).bind(small_net, rng=np.random.default_rng(0))
