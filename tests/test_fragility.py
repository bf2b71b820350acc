"""HAZUS fragility curves and casualty rates (docs/references.md §3.3–3.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim._errors import EvacsimError
from sim.hazards.earthquake import fragility as fr

BETA = 0.64  # docs/references.md §3.3: beta = 0.64 for every equivalent-PGA curve
# docs/references.md §3.3, selected medians (g), slight / moderate / extensive / complete.
MEDIANS = {
    ("W1", "high"): (0.26, 0.55, 1.28, 2.01),
    ("W1", "moderate"): (0.24, 0.43, 0.91, 1.34),
    ("W1", "pre"): (0.18, 0.29, 0.51, 0.77),
    ("C1L", "high"): (0.21, 0.35, 0.70, 1.37),
    ("C1L", "moderate"): (0.16, 0.23, 0.41, 0.77),
    ("C1L", "low"): (0.12, 0.15, 0.27, 0.45),
    ("C1L", "pre"): (0.10, 0.12, 0.21, 0.36),
    ("C2L", "moderate"): (0.18, 0.30, 0.49, 0.87),
    ("C2M", "moderate"): (0.15, 0.26, 0.55, 1.02),
    ("RM1L", "moderate"): (0.22, 0.30, 0.50, 0.85),
    ("URML", "low"): (0.14, 0.20, 0.32, 0.46),
    ("URML", "pre"): (0.13, 0.17, 0.26, 0.37),
    ("URMM", "pre"): (0.09, 0.13, 0.21, 0.38),
    ("S1L", "moderate"): (0.15, 0.22, 0.42, 0.80),
    ("PC1", "moderate"): (0.18, 0.24, 0.44, 0.71),
    ("MH", "pre"): (0.08, 0.11, 0.18, 0.34),
}
# docs/references.md §3.5 casualty rates in percent (severity 1..4) and P(collapse | complete).
RATES_C1 = {"slight": (0.05, 0, 0, 0), "moderate": (0.25, 0.030, 0, 0),
            "extensive": (1, 0.1, 0.001, 0.001), "complete": (5, 1, 0.01, 0.01),
            "collapse": (40, 20, 5, 10)}
RATES_URM = {"slight": (0.05, 0, 0, 0), "moderate": (0.35, 0.40, 0.001, 0.001),
             "extensive": (2, 0.2, 0.002, 0.002), "complete": (10, 2, 0.02, 0.02),
             "collapse": (40, 20, 5, 10)}
PGA = np.array([0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0, 4.0])


def phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@pytest.mark.parametrize(("cls", "code"), sorted(MEDIANS))
def test_curves_are_the_lognormal_closed_form_with_published_medians(cls, code):
    med = MEDIANS[(cls, code)]
    for pga in (0.05, 0.17, 0.3, 0.62, 1.5):
        expected = [phi(math.log(pga / m) / BETA) for m in med]
        np.testing.assert_allclose(fr.p_exceed(pga, cls, code), expected, rtol=1e-9, atol=1e-15)
    # At each median the exceedance probability is one half.
    for k, m in enumerate(med):
        assert fr.p_exceed(m, cls, code)[k] == pytest.approx(0.5, abs=1e-12)


def test_monotone_in_pga_and_damage_state_and_states_sum_to_one():
    t = fr.building_tables()
    for cls in t.classes:
        for code in fr.CODES:
            if np.isnan(t.median_g[t.class_index(cls), fr.CODES.index(code), 0]):
                continue
            ex = fr.p_exceed(PGA, cls, code)
            assert np.all(np.diff(ex, axis=0) >= 0), (cls, code)  # up with PGA
            assert np.all(np.diff(ex, axis=1) <= 0), (cls, code)  # down with state
            assert np.all(ex[0] == 0.0)
            ps = fr.p_state(PGA, cls, code)
            assert np.all(ps >= -1e-15)
            np.testing.assert_allclose(ps.sum(axis=1), 1.0, atol=1e-12)


def _expected(pga, cls, code, rates, pc):
    ps = [1.0 - phi(math.log(pga / MEDIANS[(cls, code)][0]) / BETA)]
    ex = [phi(math.log(pga / m) / BETA) for m in MEDIANS[(cls, code)]]
    ps += [ex[0] - ex[1], ex[1] - ex[2], ex[2] - ex[3], ex[3]]
    out = np.zeros(4)
    for p, state in zip(ps[1:], ("slight", "moderate", "extensive", "complete"), strict=True):
        r = np.array(rates[state]) / 100.0
        if state == "complete":
            r = (1 - pc) * r + pc * np.array(rates["collapse"]) / 100.0
        out += p * r
    return out


@pytest.mark.parametrize(("cls", "code", "rates", "pc"), [
    ("C1L", "moderate", RATES_C1, 0.13),
    ("C1L", "pre", RATES_C1, 0.13),
    ("URML", "pre", RATES_URM, 0.15),
    ("URMM", "pre", RATES_URM, 0.15),
])
def test_expected_casualties_are_sum_of_state_probability_times_rate(cls, code, rates, pc):
    for pga in (0.1, 0.3, 0.6, 1.0):
        np.testing.assert_allclose(fr.expected_casualty_fraction(pga, cls, code),
                                   _expected(pga, cls, code, rates, pc), rtol=1e-9, atol=1e-15)


def test_sampled_states_have_the_curve_frequencies():
    t = fr.building_tables()
    i = t.class_index("URML")
    med = np.broadcast_to(t.median_g[i, fr.CODES.index("pre")], (200_000, 4))
    u = np.random.default_rng(3).random(200_000)
    ds = fr.sample_states(np.full(200_000, 0.25), med, t.beta, u)
    freq = np.bincount(ds, minlength=5) / ds.size
    p = fr.p_state(0.25, "URML", "pre")
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(0.25 / ds.size))


def test_bridge_and_tunnel_curves():
    # docs/references.md §3.4: Sa(1.0 s) 0.25/0.35/0.45/0.70, beta 0.6
    hwb5 = fr.transport_curve("HWB5")
    assert hwb5.demand == "sa10" and hwb5.beta == 0.6
    np.testing.assert_allclose(hwb5.median, [0.25, 0.35, 0.45, 0.70])
    htu2 = fr.transport_curve("HTU2")  # PGA 0.5 / 0.7, two states only
    assert htu2.demand == "pga"
    np.testing.assert_allclose(htu2.median[:2], [0.5, 0.7])
    assert np.isnan(htu2.median[2:]).all()
    ds = fr.sample_transport(np.array([10.0, 10.0]), htu2, np.array([0.0, 0.5]))
    assert ds.tolist() == [2, 2]  # never beyond the states the tunnel has


@pytest.mark.parametrize(("call", "words"), [
    (lambda: fr.p_exceed(0.3, "C9X", "moderate"), ["building class", "W1", "URML"]),
    (lambda: fr.p_exceed(0.3, "C1L", "medium"), ["code", "high, moderate, low, pre"]),
    (lambda: fr.p_exceed(0.3, "URML", "high"), ["URML", "low, pre"]),
    (lambda: fr.p_exceed(-0.1, "C1L", "low"), ["pga", ">= 0"]),
    (lambda: fr.transport_curve("HWB99"), ["component", "HWB1", "HTU2"]),
])
def test_bad_input_names_the_valid_choices(call, words):
    with pytest.raises(EvacsimError) as err:
        call()
    for w in words:
        assert w in str(err.value)
