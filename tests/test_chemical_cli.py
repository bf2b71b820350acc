"""``evacsim hazard plume|puff|zones`` as the lead wires them: add_commands on sub-parsers.

Expected numbers: docs/references.md §1.5 (De Visscher Ex. 2.1, CCPS puff) and the threat-zone
definition (the zone edge is where the peak concentration equals the AEGL).
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from sim._errors import EvacsimError
from sim.hazards.chemical import dispersion as d
from sim.hazards.chemical.cli import add_commands


def call(argv: list[str], capsys) -> dict:
    parser = argparse.ArgumentParser(prog="evacsim hazard")
    add_commands(parser.add_subparsers(metavar="HAZARD"))
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    text = capsys.readouterr().out
    return json.loads(text) if "--json" in argv else {"text": text}


def test_plume_de_visscher(capsys):
    out = call(
        [
            "plume",
            "--rate-g-s",
            "100",
            "--wind",
            "7",
            "--height",
            "90",
            "--stability",
            "D",
            "--terrain",
            "rural",
            "--x",
            "1500",
            "--y",
            "0",
            "--json",
        ],
        capsys,
    )
    assert abs(out["concentration_g_m3"] * 1e6 - 160.3) <= 0.1
    assert out["sigma_y_m"] == pytest.approx(111.90, abs=0.005)
    assert out["sigma_z_m"] == pytest.approx(49.92, abs=0.005)
    assert "ppm" not in out
    side = call(
        [
            "plume",
            "--rate-g-s",
            "100",
            "--wind",
            "7",
            "--height",
            "90",
            "--sky",
            "moderate",
            "--x",
            "1500",
            "--y",
            "100",
            "--json",
        ],
        capsys,
    )
    assert abs(side["concentration_g_m3"] * 1e6 - 107.5) <= 0.1 and side["stability"] == "D"


def test_plume_in_ppm_for_a_substance(capsys):
    out = call(
        [
            "plume",
            "--rate-g-s",
            "100",
            "--wind",
            "7",
            "--x",
            "500",
            "--substance",
            "chlorine",
            "--json",
        ],
        capsys,
    )
    assert out["ppm"] == pytest.approx(
        out["concentration_g_m3"] * 1000.0 * 24.45 / 70.90, rel=1e-12
    )


def test_puff_ccps(capsys):
    out = call(
        [
            "puff",
            "--mass-kg",
            "1",
            "--wind",
            "2",
            "--stability",
            "F",
            "--t",
            "250",
            "--x",
            "500",
            "--json",
        ],
        capsys,
    )
    sxy, sz = 5.047929716825321, 2.214836678536473  # GasDispersion.jl CCPS puff test
    assert out["sigma_y_m"] == pytest.approx(sxy, rel=1e-12)
    assert out["sigma_z_m"] == pytest.approx(sz, rel=1e-12)
    c_kg = 1.0 / (math.sqrt(2 * math.pi) * math.pi * sxy**2 * sz)
    assert out["concentration_g_m3"] == pytest.approx(c_kg * 1000.0, rel=1e-12)


# Independent of sim.hazards: numbers typed from docs/references.md, not imported.
CHLORINE_MW_G_MOL = 70.90  # docs/references.md §1.6
MOLAR_VOLUME_L = 24.45  # L/mol at 25 °C, 1 atm (§1.6)
CHLORINE_AEGL_60MIN_PPM = {1: 0.50, 2: 2.0, 3: 20.0}  # NRC (2004) Vol. 4, §1.8
BRIGGS_RURAL_D = (0.08, 1e-4), (0.06, 1.5e-3)  # σ = a·x·(1 + b·x)^-½ (Briggs 1973, §1.4)


def briggs_rural_d(x_m: float) -> tuple[float, float]:
    (ay, by), (az, bz) = BRIGGS_RURAL_D
    return ay * x_m / math.sqrt(1 + by * x_m), az * x_m / math.sqrt(1 + bz * x_m)


def peak_centreline_g_m3(x_m: float, rate_g_s: float, wind_mps: float, duration_s: float):
    """Ground source and receptor (§1.1, H = z = 0): Q / (π u σy σz), times the slug factor.

    A release of duration D is a slug of length uD whose ends erode with σx = σy; its
    centre holds erf(uD / (2√2 σy)) of the steady plume (§1.7, ALOHA's "at some time").
    """
    sy, sz = briggs_rural_d(x_m)
    steady = rate_g_s / (math.pi * wind_mps * sy * sz)
    return steady * math.erf(wind_mps * duration_s / (2 * math.sqrt(2) * sy))


def long_release_edge_m(rate_g_s: float, wind_mps: float, level_g_m3: float) -> float:
    """Where a long ground release's centreline falls to ``level``, in closed form.

    C(x) = Q / (π u σy σz). With Briggs rural D both σ are a·x·(1 + b·x)^-½, so C(x) = L
    is x⁴ = K² (1 + b_y x)(1 + b_z x) with K = Q / (π u a_y a_z L): a quartic with exactly
    one positive root (the left side outgrows the right for x > 0).
    """
    (ay, by), (az, bz) = BRIGGS_RURAL_D
    k2 = (rate_g_s / (math.pi * wind_mps * ay * az * level_g_m3)) ** 2
    roots = np.roots([1.0, 0.0, -k2 * by * bz, -k2 * (by + bz), -k2])
    real = roots[(abs(roots.imag) < 1e-9 * abs(roots)) & (roots.real > 0)].real
    assert real.size == 1
    return float(real[0])


def test_zones_edges_sit_at_the_aegls(capsys):
    from scipy.optimize import brentq

    out = call(
        [
            "zones",
            "--substance",
            "chlorine",
            "--rate-kg-s",
            "5",
            "--duration-min",
            "30",
            "--wind",
            "3",
            "--stability",
            "D",
            "--json",
        ],
        capsys,
    )
    lengths = [out[f"aegl{k}"]["length_m"] for k in (1, 2, 3)]
    assert lengths[0] > lengths[1] > lengths[2] > 0
    for k in (1, 2, 3):
        z = out[f"aegl{k}"]
        assert z["ppm"] == CHLORINE_AEGL_60MIN_PPM[k] and z["max_width_m"] > 0
        level = z["ppm"] * CHLORINE_MW_G_MOL / MOLAR_VOLUME_L / 1000.0  # g/m³
        edge = brentq(
            lambda x: peak_centreline_g_m3(x, 5000.0, 3.0, 1800.0) - level,  # noqa: B023
            1.0,
            1e6,
            xtol=1e-9,
            rtol=1e-14,
        )
        assert z["length_m"] == pytest.approx(edge, rel=1e-9)
    # The red zone's edge (~3.4 km, σy ≈ 260 m) sees the whole 5.4 km slug: erf(7.4) is 1
    # in double precision, so the steady plume's closed form holds there.
    level3 = 20.0 * CHLORINE_MW_G_MOL / MOLAR_VOLUME_L / 1000.0
    assert out["aegl3"]["length_m"] == pytest.approx(
        long_release_edge_m(5000.0, 3.0, level3), rel=1e-9
    )
    assert out["aegl3"]["extrapolated"] is False


@pytest.mark.parametrize(("duration_s", "sigma_x_m"), [(60.0, 50.0), (300.0, 400.0), (20.0, 5.0)])
def test_slug_peak_factor_is_the_along_wind_integral(duration_s, sigma_x_m):
    # A slug of length uD whose every element spreads as a Gaussian of σx: its centre holds
    # ∫_{-uD/2}^{uD/2} N(s; 0, σx) ds of the steady concentration, integrated numerically.
    from scipy.integrate import quad

    u = 3.0
    half = u * duration_s / 2.0
    dens = lambda s: math.exp(-s * s / (2 * sigma_x_m**2)) / (math.sqrt(2 * math.pi) * sigma_x_m)  # noqa: E731
    expected, _ = quad(dens, -half, half, epsabs=1e-14, epsrel=1e-12)
    got = float(d.slug_peak_factor(u, duration_s, sigma_x_m))
    assert got == pytest.approx(expected, rel=1e-10)
    assert 0.0 < got < 1.0


def test_text_output(capsys):
    out = call(["plume", "--rate-g-s", "10", "--wind", "3", "--x", "200"], capsys)
    assert "concentration_g_m3" in out["text"] and "sigma_y_m" in out["text"]


def test_upwind_receptor_is_zero_not_nan(capsys):
    out = call(["plume", "--rate-g-s", "10", "--wind", "3", "--x", "-50", "--json"], capsys)
    assert out["concentration_g_m3"] == 0.0 and out["sigma_y_m"] == 0.0
    out = call(["puff", "--mass-kg", "1", "--wind", "2", "--t", "0", "--x", "10", "--json"], capsys)
    assert out["concentration_g_m3"] == 0.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["plume", "--rate-g-s", "10", "--wind", "0", "--x", "100"],
            "wind_mps: expected a wind speed > 0",
        ),
        (
            ["plume", "--rate-g-s", "10", "--wind", "-2", "--x", "100"],
            "wind_mps: expected a wind speed > 0",
        ),
        (
            ["plume", "--rate-g-s", "10", "--wind", "3", "--stability", "Z", "--x", "100"],
            "stability: expected one of",
        ),
        (["plume", "--rate-g-s", "10", "--wind", "3", "--x", "nan"], "x_m: expected finite"),
        (["puff", "--mass-kg", "1", "--wind", "nan", "--t", "5", "--x", "10"], "wind_mps"),
        (
            [
                "zones",
                "--substance",
                "phosgene",
                "--rate-kg-s",
                "5",
                "--duration-min",
                "30",
                "--wind",
                "3",
            ],
            "substance: expected one of ammonia, chlorine",
        ),
        (
            [
                "zones",
                "--substance",
                "chlorine",
                "--rate-kg-s",
                "-5",
                "--duration-min",
                "30",
                "--wind",
                "3",
            ],
            "--rate-kg-s: expected a number > 0",
        ),
    ],
)
def test_bad_input_is_one_clear_error(argv, message):
    parser = argparse.ArgumentParser(prog="evacsim hazard")
    add_commands(parser.add_subparsers())
    args = parser.parse_args(argv)
    with pytest.raises(EvacsimError, match=message):
        args.func(args)
