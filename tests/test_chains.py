"""Disaster chains (sim/hazards/chains.py): an earthquake that ruptures a chemical tank.

Expected values: certainty at the ends of a lognormal fragility (median far below / far
above the shaking), equality with the same release written by hand at the quake's time
(same random stream by construction), and the HAZUS tank medians at which P = 0.5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim._errors import ScenarioError
from sim.hazards.base import PeopleView
from sim.hazards.chains import TANK_FRAGILITY, bind_hazards, check_chains, tank_answer
from sim.hazards.chemical.hazard import ChemicalHazard, ChemicalSpec
from sim.hazards.earthquake.hazard import EarthquakeHazard, EarthquakeSpec
from tests.data.scenarios.synthetic_net import ORIGIN, grid_net

REPO = Path(__file__).resolve().parents[1]
CENTRE = (ORIGIN[0] + 300.0, ORIGIN[1] + 300.0)


def _blocks():
    return [{"kind": "residential", "x_m": ORIGIN[0] + (i + 0.5) * 100.0,
             "y_m": ORIGIN[1] + (j + 0.5) * 100.0, "area_m2": 6400.0}
            for i in range(6) for j in range(6)]


@pytest.fixture(scope="module")
def net():
    return grid_net(7, 100.0, residential=_blocks())


def _quake(time_min=20.0):
    return EarthquakeSpec.model_validate({
        "magnitude": 6.5, "epicentre_xy_m": CENTRE, "mechanism": "RS", "vs30_mps": 300.0,
        "time_min": time_min,
        "buildings": {"footprint_m2": 400.0, "coverage": 0.3, "levels": [3, 6, 12],
                      "levels_share": [0.3, 0.5, 0.2]}})


def _chem(**kw):
    base = dict(kind="chemical", source={"x_m": CENTRE[0] + 100.0, "y_m": CENTRE[1]},
                rate_kg_s=2.0, duration_min=30.0, wind_speed_mps=3.0, wind_from_deg=270.0,
                stability="D", terrain="rural", substance="chlorine")
    base.update(kw)
    return ChemicalSpec.model_validate(base)


def _view(net):
    x, y = net.nodes.x_m, net.nodes.y_m
    n = len(x)
    return PeopleView(x_m=x, y_m=y, persons=np.full(n, 2, np.int32),
                      state=np.zeros(n, np.int8), indoors=np.zeros(n, bool),
                      has_car=np.zeros(n, bool), drive_link=np.full(n, -1, np.int32),
                      walk_link=np.full(n, -1, np.int32))


def _bind(net, chem_spec, seed=5):
    events = []
    hz = [EarthquakeHazard.from_spec(_quake()), ChemicalHazard.from_spec(chem_spec)]
    out = bind_hazards(hz, net, np.random.default_rng(seed).bit_generator.seed_seq,
                       lambda *a: events.append(a))
    return out, events


def _run(hazards, net, t_end_s=90 * 60.0):
    view = _view(net)
    for t in np.arange(0.0, t_end_s + 1, 60.0):
        for hz in hazards:
            hz.update(float(t), view)
    return hazards


CERTAIN = {"hazard": "earthquake", "tank": "custom", "median_g": 1e-4, "beta": 0.1}
NEVER = {"hazard": "earthquake", "tank": "custom", "median_g": 50.0, "beta": 0.1}


def test_certain_failure_releases_at_the_quake_time(net):
    hz, events = _bind(net, _chem(start_min=0.0, trigger=CERTAIN))
    assert [h.kind for h in hz] == ["earthquake", "chemical"]
    chem = hz[1]
    assert chem.spec.start_min == 20.0 and chem.spec.trigger is None
    assert chem.chain["p_release"] == pytest.approx(1.0) and chem.chain["cause"] == "earthquake"
    (ev,) = [e for e in events if e[1] == "chain_trigger"]
    assert ev[0] == 20 * 60.0 and "ruptured by the earthquake" in ev[5]


def test_certain_hold_never_releases(net):
    hz, events = _bind(net, _chem(start_min=0.0, trigger=NEVER))
    assert [h.kind for h in hz] == ["earthquake"]
    (ev,) = [e for e in events if e[1] == "chain_hold"]
    assert ev[4] == pytest.approx(0.0, abs=1e-12) and "held" in ev[5]


def test_triggered_release_equals_the_release_written_by_hand(net):
    trig, _ = _bind(net, _chem(start_min=0.0, trigger={**CERTAIN, "delay_min": 5.0}))
    hand, _ = _bind(net, _chem(start_min=25.0))
    _run(trig, net)
    _run(hand, net)
    a, b = trig[1].tables(), hand[1].tables()
    assert a.keys() == b.keys()
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])
    arr_a, arr_b = trig[1].arrays(), hand[1].arrays()
    for k in arr_a:
        np.testing.assert_array_equal(arr_a[k], arr_b[k])
    assert any(v.size and np.nanmax(v) > 0 for v in arr_a.values()
               if isinstance(v, np.ndarray) and v.dtype.kind == "f")


def test_release_probability_is_the_lognormal_fragility_at_the_tank(net):
    hz, events = _bind(net, _chem(trigger={"hazard": "earthquake", "tank": "unanchored_steel"}))
    quake = hz[0]
    ev = [e for e in events if e[1] in ("chain_trigger", "chain_hold")][0]
    x, y = np.array([CENTRE[0] + 100.0]), np.array([CENTRE[1]])
    pga = float(np.exp(quake.median_ln(x, y, quake._vs30_at(x, y))[0][0]))
    from scipy.stats import norm

    want = norm.cdf(np.log(pga / 0.68) / 0.75)  # HAZUS unanchored steel, extensive
    assert ev[4] == pytest.approx(want, rel=1e-9)


def test_draws_are_seeded(net):
    trig = {"hazard": "earthquake", "tank": "custom", "median_g": 0.3, "beta": 0.6}
    out = [len(_bind(net, _chem(trigger=trig), seed=s)[0]) for s in range(12)]
    assert out == [len(_bind(net, _chem(trigger=trig), seed=s)[0]) for s in range(12)]
    assert set(out) == {1, 2}  # P(release) strictly between 0 and 1: both outcomes occur


def _scenario_with(hazards):
    import tomllib

    from sim.scenario import Scenario

    path = REPO / "scenarios" / "default.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["hazards"] = hazards
    return Scenario.from_dict(data, source=str(path), base_dir=path.parent)


_CHEM = {"kind": "chemical", "source": {"x_m": 0.0, "y_m": 0.0}, "rate_kg_s": 1.0,
         "duration_min": 10.0, "wind_speed_mps": 3.0, "wind_from_deg": 270.0,
         "stability": "D", "substance": "chlorine"}
_QUAKE = {"kind": "earthquake", "magnitude": 6.0, "epicentre_lonlat": [106.37, 38.95]}


@pytest.mark.parametrize(("hazards", "msg"), [
    ([{**_CHEM, "trigger": {"hazard": "earthquake"}}],
     r"hazards\[0\]\.trigger\.hazard: expected the kind of another hazard of this scenario "
     r"\(chemical\), got 'earthquake'"),
    ([{**_CHEM, "trigger": {"hazard": "chemical"}}],
     r"hazards\[0\]\.trigger\.hazard: expected a chain without a loop"),
    ([_QUAKE, {**_CHEM, "trigger": {"hazard": "earthquake", "tank": "custom"}}],
     r"hazards\[1\]\.trigger\.tank: expected median_g and beta together"),
])
def test_bad_triggers_are_refused_naming_the_field(hazards, msg):
    with pytest.raises(ScenarioError, match=msg):
        _scenario_with(hazards)


def test_a_good_chain_validates():
    sc = _scenario_with([_QUAKE, {**_CHEM, "trigger": {"hazard": "earthquake"}}])
    assert sc.hazards[1].trigger.tank == "unanchored_steel"
    check_chains(sc.hazards)  # and the check alone passes


def test_wildfire_cannot_start_a_chemical_release(tmp_path):
    fire = {"kind": "wildfire", "dem": str(REPO / "maps" / "default-district.dem.asc"),
            "ignitions": [{"lon": 106.318, "lat": 38.956}]}
    with pytest.raises(ScenarioError, match=r"hazards\[1\]\.trigger\.hazard: expected a "
                                            r"hazard that can start a chemical hazard "
                                            r"\(earthquake\), got 'wildfire'"):
        _scenario_with([fire, {**_CHEM, "trigger": {"hazard": "wildfire"}}])


@pytest.mark.parametrize("tank", sorted(TANK_FRAGILITY))
def test_tank_fragility_is_one_half_at_the_hazus_medians(tank):
    med, _ = TANK_FRAGILITY[tank]
    for ds, m in zip(("slight", "moderate", "extensive", "complete"), med, strict=True):
        out = tank_answer(tank, m)
        assert out["p_exceed"][ds] == pytest.approx(0.5)
    out = tank_answer(tank, 0.4)
    assert sum(out["p_state"].values()) == pytest.approx(1.0)
    assert all(v >= -1e-12 for v in out["p_state"].values())


def test_unanchored_tanks_fail_more_easily_than_anchored():
    for pga in (0.2, 0.5, 1.0):
        a = tank_answer("anchored_steel", pga)["p_exceed"]["extensive"]
        u = tank_answer("unanchored_steel", pga)["p_exceed"]["extensive"]
        assert u > a


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim.cli", "hazard", "tank-fragility", *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def test_tank_fragility_calculator():
    r = _cli("--tank", "unanchored_steel", "--pga", "0.68", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["p_exceed"]["extensive"] == pytest.approx(0.5)
    r = _cli("--tank", "paper", "--pga", "0.3")
    assert r.returncode == 2 and "--tank" in r.stderr and "Traceback" not in r.stderr


def test_the_earthquake_chain_scenario_file_validates():
    from sim.scenario import load_scenario

    sc = load_scenario(REPO / "scenarios" / "earthquake-chain.toml")
    assert [h.kind for h in sc.hazards] == ["earthquake", "chemical", "landslide"]
    assert sc.hazards[1].trigger.hazard == "earthquake"
    assert sc.hazards[2].trigger.hazard == "earthquake"
