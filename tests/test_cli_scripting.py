"""The CLI in scripts: --json and --quiet, no progress redraws when redirected, groups that
list their sub-commands, rounded map info, a default run folder per scenario and plan."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.report import HEADLINE_KEYS
from sim.cli import default_run_dir, main

REPO = Path(__file__).resolve().parents[1]


def _evacsim(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "sim.cli", *argv], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def short_scenario(small_district) -> Path:
    """The 20k district for one simulated hour (enough to evacuate some, fast)."""
    text = (small_district / "small.toml").read_text(encoding="utf-8")
    text = re.sub(r"horizon_h = [0-9.]+", "horizon_h = 1.0", text)
    path = small_district / "short.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_json_prints_the_headline_of_metrics_json(short_scenario, cache, tmp_path):
    out = tmp_path / "run"
    proc = _evacsim("run", str(short_scenario), "--json", "--out", str(out),
                    "--cache-dir", str(cache), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)  # one JSON object, nothing else on stdout
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert printed.pop("run_dir") == str(out)
    assert printed == {k: metrics[k] for k in HEADLINE_KEYS if k in metrics}
    assert printed["evacuees"]["arrived"] > 0
    assert proc.stderr == ""  # --json is quiet on stderr too


def test_redirected_output_has_no_progress_redraws(short_scenario, cache, tmp_path):
    proc = _evacsim("run", str(short_scenario), "--out", str(tmp_path / "r"),
                    "--cache-dir", str(cache), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "\r" not in proc.stdout
    assert str(tmp_path / "r") in proc.stdout  # the summary still says where it wrote
    quiet = _evacsim("run", str(short_scenario), "--quiet", "--out", str(tmp_path / "q"),
                     "--cache-dir", str(cache), "--no-figures")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert (tmp_path / "q" / "metrics.json").is_file()


@pytest.mark.parametrize(("group", "members"), [
    ("map", ["info", "plot", "import", "fetch"]),
    ("hazard", ["flood-speed", "plume", "gmpe"]),
])
def test_a_group_alone_lists_its_own_commands(group, members, capsys):
    assert main([group]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: evacsim {group}")
    assert all(m in err for m in members)


def test_map_info_text_is_rounded(capsys):
    assert main(["map", "info", str(REPO / "maps" / "default-district.osm.bz2")]) == 0
    out = capsys.readouterr().out
    km = next(line for line in out.splitlines() if line.strip().startswith("drive_km"))
    assert re.fullmatch(r"\s*drive_km: \d+\.\d", km), km
    assert not re.search(r"\d\.\d{7,}", out.split("bbox_lonlat")[0])  # no long tails


def test_default_run_folder_names_scenario_plan_and_seed():
    assert default_run_dir("quake", None, 7) == Path("runs/quake-seed7")
    assert default_run_dir("quake", Path("x/more-depots.toml"), 7) == Path(
        "runs/quake-more-depots-seed7")
