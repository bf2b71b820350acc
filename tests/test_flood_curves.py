"""The flood curves at the points tabulated in docs/references.md §2.1–2.3, and the CLI."""

from __future__ import annotations

import argparse
import json
import re

import numpy as np
import pytest

from sim.hazards.flood import cli as flood_cli
from sim.hazards.flood import curves as fc

# docs/references.md 2.1 [C] values of the Pregnolato polynomial (km/h at depth in mm).
PREGNOLATO_POINTS = [(0.0, 86.94), (50.0, 61.55), (100.0, 40.65), (150.0, 24.26),
                     (200.0, 12.36), (250.0, 4.97), (299.9, 2.08), (300.0, 0.0)]


@pytest.mark.parametrize(("depth_mm", "speed_kmh"), PREGNOLATO_POINTS)
def test_pregnolato_speed_at_the_tabulated_depths(depth_mm, speed_kmh):
    assert round(fc.vehicle_speed_kmh(depth_mm), 2) == speed_kmh


def test_pregnolato_is_zero_from_300_mm_and_vectorised():
    w = np.array([0.0, 299.9, 300.0, 450.0, 1000.0])
    v = fc.vehicle_speed_kmh(w)
    assert v.shape == w.shape
    assert v[0] == pytest.approx(86.9448)
    assert v[1] > 0 and np.all(v[2:] == 0.0)
    # Monotone decreasing below the cut-off (vertex at ~307 mm is never reached).
    grid = np.linspace(0, 299.9, 500)
    assert np.all(np.diff(fc.vehicle_speed_kmh(grid)) < 0)


# docs/references.md 2.2 [C] examples: (d, v, DF) -> HR, class.
HR_POINTS = [((0.2, 0.5, 0.0), 0.20, "low"), ((0.5, 1.0, 0.5), 1.25, "significant"),
             ((0.5, 1.0, 1.0), 1.75, "significant"), ((1.0, 1.5, 1.0), 3.0, "extreme")]


@pytest.mark.parametrize(("args", "hr", "cls"), HR_POINTS)
def test_hazard_rating_examples(args, hr, cls):
    value = fc.hazard_rating(*args)
    assert value == pytest.approx(hr, abs=1e-12)
    assert fc.hr_class(value) == cls


def test_hr_class_limits_of_fd2321():
    # < 0.75 low; 0.75-1.25 moderate; 1.25-2.0 significant; > 2.0 extreme. The shared ends
    # 0.75 and 1.25 go to the more severe class; 2.0 stays significant ("> 2.0").
    # [U] The upper limit 2.0 is unverified (docs/references.md §2.2: one implementation
    # uses 2.5; the FD2321 table was not read): this pins the implementation to the value
    # we chose, it does not confirm the source.
    assert [fc.hr_class(x) for x in (0.0, 0.7499, 0.75, 1.2499)] == [
        "low", "low", "moderate", "moderate"]
    assert [fc.hr_class(x) for x in (1.25, 2.0, 2.0001)] == [
        "significant", "significant", "extreme"]
    assert fc.HR_LABELS["significant"].startswith("Danger for most")


def test_debris_factor_table():
    # docs/references.md §2.2 table, [U]: recalled from FD2320/TR2, not read in the report.
    # It pins the implementation to that recollection; it is not a verified source value.
    # d <= 0.25 -> 0; 0.25-0.75 -> urban 1, woodland 0.5, pasture 0; deeper or faster
    # than 2 m/s -> urban 1, woodland 1, pasture 0.5.
    assert fc.debris_factor(0.25, 3.0) == 0.0
    assert [fc.debris_factor(0.5, 1.0, lu) for lu in ("urban", "woodland", "pasture")] == [
        1.0, 0.5, 0.0]
    assert [fc.debris_factor(0.8, 1.0, lu) for lu in ("urban", "woodland", "pasture")] == [
        1.0, 1.0, 0.5]
    assert fc.debris_factor(0.5, 2.5, "pasture") == 0.5


# docs/references.md 2.3 [C] examples: (D, V) -> class.
H_POINTS = [((0.2, 1.0), "H1"), ((0.4, 1.0), "H2"), ((0.8, 0.5), "H3"), ((1.5, 0.5), "H4"),
            ((1.0, 2.5), "H5"), ((4.5, 0.1), "H6")]


@pytest.mark.parametrize(("dv", "cls"), H_POINTS)
def test_h_class_examples(dv, cls):
    assert fc.h_class(*dv) == cls


def test_h_class_limits_and_still_water():
    # Each limit of H1 (D*V <= 0.3, D <= 0.3, V <= 2.0) is inclusive.
    assert fc.h_class(0.3, 1.0) == "H1"
    assert fc.h_class(0.15, 2.0) == "H1"
    assert fc.h_class(0.15, 2.01) == "H5"  # V > 2 leaves H1-H4 at once
    assert fc.h_class(1.2, 0.0) == "H3"  # still water: D*V = 0
    assert fc.h_class(4.0, 0.0) == "H5"
    idx = fc.h_class_index(np.array([0.2, 0.4, 0.8]), np.array([1.0, 1.0, 0.5]))
    assert idx.tolist() == [1, 2, 3]


def _run(argv, capsys):
    parser = argparse.ArgumentParser()
    flood_cli.add_commands(parser.add_subparsers())
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    return capsys.readouterr().out


def test_cli_flood_speed_json(capsys):
    out = json.loads(_run(["flood-speed", "--depth-mm", "150", "--json"], capsys))
    assert round(out["speed_kmh"], 2) == 24.26 and out["passable"] is True
    out = json.loads(_run(["flood-speed", "--depth-mm", "300", "--json"], capsys))
    assert out["speed_kmh"] == 0.0 and out["passable"] is False


def test_cli_flood_rating_json(capsys):
    argv = ["flood-rating", "--depth", "0.5", "--velocity", "1.0", "--debris", "0.5", "--json"]
    out = json.loads(_run(argv, capsys))
    assert out["hr"] == pytest.approx(1.25)
    assert out["hr_class"] == "significant"
    assert out["h_class"] == "H2"  # D*V = 0.5 <= 0.6, D = 0.5 <= 0.5, V = 1 <= 2


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_text_output(capsys, lang):
    text = _run(["flood-rating", "--depth", "1.0", "--velocity", "1.5", "--debris", "1.0",
                 "--lang", lang], capsys)
    # HR = d (v + 0.5) + DF = 1.0 × 2.0 + 1.0 = 3 (> 2.0: extreme); D·V = 1.5 lies in
    # (1.0, 4.0] with D, V <= 4: H5 (docs/references.md 2.3 limits).
    assert re.search(r"HR = 3(?![\d.])", text) and "H5" in text
    assert ("extreme" if lang == "en" else "极高") in text
    text = _run(["flood-speed", "--depth-mm", "100", "--lang", lang], capsys)
    assert "40.65" in text


def test_cli_refuses_negative_depth(capsys):
    parser = argparse.ArgumentParser()
    flood_cli.add_commands(parser.add_subparsers())
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["flood-speed", "--depth-mm", "-5"])
    assert exc.value.code == 2
    assert "expected a number >= 0" in capsys.readouterr().err
