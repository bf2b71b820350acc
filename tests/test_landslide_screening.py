"""Landslide screening (sim/hazards/landslide/screening.py) and ``evacsim hazard newmark``.

Expected values: the formulas' limits and identities (flat ground never slides, FS = 1
gives a_c = 0, a_c >= a_max gives no displacement, P(f) tends to Jibson et al.'s 0.335),
monotonicity in slope and shaking (the issue's must-hold), and Caine's threshold at
D = 1 h (14.82 mm/h, the equation's coefficient).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.hazards.landslide import screening as sc

REPO = Path(__file__).resolve().parents[1]


def test_flat_ground_never_slides():
    for pga in (0.1, 0.5, 1.5):
        assert float(sc.shaking_failure_probability(0.0, pga)) == 0.0
    assert not bool(sc.rain_failure(0.0, 100.0, 24.0))
    assert np.isinf(sc.factor_of_safety(0.0, sc.Soil()))


def test_probability_grows_with_slope_and_with_shaking():
    slopes = np.arange(0.0, 60.0, 2.5)
    pgas = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2])
    p = sc.shaking_failure_probability(slopes[:, None], pgas[None, :])
    assert np.all(np.diff(p, axis=0) >= 0)  # steeper: never less likely
    assert np.all(np.diff(p, axis=1) >= 0)  # harder shaking: never less likely
    assert p.max() > 0.3 and p.min() == 0.0
    # Strictly increasing where the slope can slide at all but is not yet certain.
    row = p[:, 3]
    mid = (row > 1e-6) & (row < 0.335 - 1e-6)
    assert mid.sum() >= 2 and np.all(np.diff(row[mid]) > 0)


def test_identities_of_the_newmark_chain():
    soil = sc.Soil(cohesion_kpa=0.0, friction_deg=30.0)
    # Dry cohesionless slab: FS = tan(phi)/tan(alpha) -> 1 at alpha = phi.
    assert float(sc.factor_of_safety(30.0, soil)) == pytest.approx(1.0)
    assert float(sc.critical_acceleration_g(1.0, 30.0)) == pytest.approx(0.0)
    assert float(sc.critical_acceleration_g(2.0, 30.0)) == pytest.approx(0.5)  # (2-1) sin 30
    assert float(sc.newmark_displacement_cm(0.3, 0.3)) == 0.0
    assert float(sc.newmark_displacement_cm(0.4, 0.3)) == 0.0
    # Jibson 2007 eq. 6 at a_c/a_max = 0.5: 10^(0.215 + 2.341 log 0.5 - 1.438 log 0.5).
    want = 10 ** (0.215 + (2.341 - 1.438) * math.log10(0.5))
    assert float(sc.newmark_displacement_cm(0.1, 0.2)) == pytest.approx(want)
    assert float(sc.failure_probability(0.0)) == 0.0
    assert float(sc.failure_probability(1e4)) == pytest.approx(0.335)
    # Saturation lowers the factor of safety.
    assert float(sc.factor_of_safety(30.0, sc.Soil(), 1.0)) < float(sc.factor_of_safety(30.0,
                                                                                   sc.Soil()))


def test_caine_threshold_and_rain_screening():
    assert float(sc.caine_threshold_mm_h(1.0)) == pytest.approx(14.82)
    d = np.array([0.5, 1, 6, 24, 72])
    assert np.all(np.diff(sc.caine_threshold_mm_h(d)) < 0)  # longer rain: lower intensity
    slopes = np.arange(0.0, 60.0, 1.0)
    heavy = sc.rain_failure(slopes, 30.0, 6.0)
    assert not heavy[0] and heavy[-1]
    first = int(np.argmax(heavy))
    assert np.all(heavy[first:])  # once steep enough, every steeper slope fails too
    assert not np.any(sc.rain_failure(slopes, 1.0, 6.0))  # below the threshold: nothing


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim.cli", "hazard", "newmark", *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def test_newmark_calculator_json_and_errors():
    r = _cli("--slope-deg", "35", "--pga", "0.3", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["failure_probability"] == pytest.approx(
        float(sc.shaking_failure_probability(35.0, 0.3)), rel=1e-12)
    r = _cli("--slope-deg", "95")
    assert r.returncode == 2 and "--slope-deg: expected 0-89" in r.stderr
    r = _cli("--slope-deg", "30", "--rain-mm-h", "20")
    assert r.returncode == 2 and "expected both or neither" in r.stderr
