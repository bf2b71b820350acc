"""``evacsim hazard gmpe`` / ``fragility``: the calculators behind the earthquake hazard."""

from __future__ import annotations

import argparse
import json

import pytest

from sim._errors import EvacsimError
from sim.hazards.earthquake import cli as earthquake_cli


def _run(argv: list[str], capsys) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="evacsim hazard")
    earthquake_cli.add_commands(parser.add_subparsers(metavar="CALC"))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out


def test_gmpe_bssa14_json_matches_the_test_value(capsys):
    # docs/references.md §3.1 NGA-West2 row: M 6.0 SS, R_JB 1 km, Vs30 300
    # -> 0.48927 g, 38.229 cm/s.
    code, out = _run(["gmpe", "--model", "bssa14", "--mag", "6", "--rjb", "1", "--vs30", "300",
                      "--mechanism", "SS", "--region", "global", "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["pga_g"] == pytest.approx(0.48927, rel=1e-3)
    assert data["pgv_cm_s"] == pytest.approx(38.229, rel=1e-3)
    assert data["ln_sigma_pga"] == pytest.approx(0.6051, rel=1e-3)


def test_gmpe_yu2013_json_matches_openquake(capsys):
    # OpenQuake yu_2013_mean_active.csv: Ms 7, azimuth 90, Repi 30 km -> 0.1473592 g.
    code, out = _run(["gmpe", "--model", "yu2013", "--ms", "7", "--repi", "30", "--azimuth",
                      "90", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and set(data) >= {"pga_g", "pgv_cm_s", "ln_sigma_pga"}
    assert data["pga_g"] == pytest.approx(0.1473592, rel=5e-3)
    assert data["pgv_cm_s"] == pytest.approx(10.54869, rel=5e-3)
    assert data["ln_sigma_pga"] == 0.5428


def test_fragility_json_probabilities(capsys):
    code, out = _run(["fragility", "--building", "C1L", "--code", "moderate", "--pga", "0.3",
                      "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    ex, st = data["p_exceed"], data["p_state"]
    assert list(ex) == ["slight", "moderate", "extensive", "complete"]
    assert list(st) == ["none", "slight", "moderate", "extensive", "complete"]
    assert sum(st.values()) == pytest.approx(1.0, abs=1e-12)
    # Median of slight damage for C1L moderate code is 0.16 g, beta 0.64 (docs/references.md §3.3).
    import math

    from scipy.special import ndtr

    assert ex["slight"] == pytest.approx(float(ndtr(math.log(0.3 / 0.16) / 0.64)), rel=1e-12)
    assert st["complete"] == ex["complete"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_text_output_in_both_languages(capsys, lang):
    code, out = _run(["fragility", "--building", "URML", "--code", "pre", "--pga", "0.2",
                      "--lang", lang], capsys)
    assert code == 0 and len(out.strip().splitlines()) == 6
    code, out = _run(["gmpe", "--model", "bssa14", "--mag", "6.5", "--rjb", "20",
                      "--lang", lang], capsys)
    assert code == 0 and "0.1172" in out  # docs/references.md §3.1 extra point: 0.1172 g


@pytest.mark.parametrize(("argv", "words"), [
    (["gmpe", "--model", "bssa14", "--mag", "9.5", "--rjb", "10"], ["magnitude", "3 to 8.5"]),
    (["gmpe", "--model", "bssa14", "--mag", "6", "--rjb", "10", "--mechanism", "X"],
     ["mechanism", "U, SS, NS, RS"]),
    (["gmpe", "--model", "bssa14", "--mag", "6"], ["--rjb"]),
    (["gmpe", "--model", "yu2013", "--ms", "3", "--repi", "10"], ["Ms", "4 to 8.5"]),
    (["gmpe", "--model", "yu2013", "--repi", "10"], ["--mag", "--ms"]),
    (["fragility", "--building", "XYZ", "--pga", "0.3"], ["building class", "C1L"]),
    (["fragility", "--building", "URMM", "--code", "high", "--pga", "0.3"], ["low, pre"]),
    (["fragility", "--building", "W1", "--pga", "-1"], ["pga", ">= 0"]),
])
def test_bad_input_is_a_clear_error(argv, words, capsys):
    parser = argparse.ArgumentParser(prog="evacsim hazard")
    earthquake_cli.add_commands(parser.add_subparsers(metavar="CALC"))
    args = parser.parse_args(argv)
    with pytest.raises(EvacsimError) as err:
        args.func(args)
    for w in words:
        assert w in str(err.value)
