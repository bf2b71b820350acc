"""``evacsim hazard plume|puff|zones`` as the lead wires them: add_commands on sub-parsers.

Expected numbers: REFERENCES.md §1.5 (De Visscher Ex. 2.1, CCPS puff) and the threat-zone
definition (the zone edge is where the peak concentration equals the AEGL).
"""

from __future__ import annotations

import argparse
import json
import math

import pytest

from sim._errors import EvacsimError
from sim.hazards import dispersion as d
from sim.hazards.chemical_cli import add_commands
from sim.hazards.substances import get_substance


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


def test_zones_edges_sit_at_the_aegls(capsys):
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
    cl = get_substance("chlorine")
    lengths = [out[f"aegl{k}"]["length_m"] for k in (1, 2, 3)]
    assert lengths[0] > lengths[1] > lengths[2] > 0
    for k in (1, 2, 3):
        z = out[f"aegl{k}"]
        assert z["ppm"] == cl.aegl(k, 60) and z["max_width_m"] > 0
        # At the zone's far end the ground-level centreline concentration is the AEGL.
        c = d.plume_concentration(5000.0, 3.0, z["length_m"], stability="D")
        sy, _ = d.briggs_sigmas(z["length_m"], "D")
        peak = float(c) * float(d.slug_peak_factor(3.0, 1800.0, sy))
        assert float(cl.g_m3_to_ppm(peak)) == pytest.approx(z["ppm"], rel=1e-6)
    assert out["aegl3"]["extrapolated"] is False


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
