"""Experiment engine: Dask rows equal in-process rows, resume after a kill, failing tasks,
bad files refused before any run, common random numbers, metric catalogue, Mesa batch_run.

All on the 20,000-person generated district with a 15-minute horizon.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim._errors import ScenarioError
from sim.experiments import store
from sim.experiments.design import design_points, run_seed
from sim.experiments.metric_paths import CORE, is_known
from sim.experiments.runner import build_tasks, halfwidth95, run_experiment
from sim.experiments.spec import load_experiment
from sim.experiments.tasks import flatten, run_task

REPO = Path(__file__).resolve().parents[1]
KEY = ["point", "alternative", "replication"]

BASE = """
[experiment]
name = "{name}"
seed = 11
replications = {reps}
metrics = ["evacuees.arrived_share", "warning.share", "ete.all.50.t_min", "dead"]

[base]
scenario = "{scenario}"
overrides = {{ "time.horizon_h" = 0.25 }}

[[alternatives]]
name = "as-is"

[[alternatives]]
name = "low-coverage"
overrides = {{ "warning.coverage" = 0.6 }}
"""

FACTORS = """
[[factors]]
path = "departure.t90_min"
distribution = "uniform"
min = 10.0
max = 40.0

[[factors]]
path = "walking.speed_mean_mps"
distribution = "triangular"
min = 1.0
mode = 1.3
max = 1.5

[design]
kind = "lhs"
points = {points}

[[targets]]
name = "half-arrive"
metric = "evacuees.arrived_share"
op = ">="
value = 0.5
"""


def _write(tmp: Path, district: Path, name: str, body: str, reps: int = 1) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(BASE.format(name=name, reps=reps, scenario=(district / "small.toml")
                                .as_posix()) + body, encoding="utf-8")
    return path


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.drop(columns=["wall_s"]).sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def small_exp(tmp_path_factory, small_district):
    tmp = tmp_path_factory.mktemp("exp")
    return _write(tmp, small_district, "small", FACTORS.format(points=2), reps=2)


@pytest.fixture(scope="module")
def reference(small_exp, tmp_path_factory, cache) -> Path:
    """The small experiment run in this process, uninterrupted (workers = 0)."""
    out = tmp_path_factory.mktemp("ref") / "ex"
    res = run_experiment(load_experiment(small_exp), out, workers=0, cache_dir=cache)
    assert (res.total, res.ran, res.failed, res.interrupted) == (8, 8, 0, False)
    return out


def test_local_cluster_rows_equal_in_process_rows_bit_for_bit(small_exp, reference, tmp_path,
                                                              cache):
    exp = load_experiment(small_exp)
    res = run_experiment(exp, tmp_path / "ex", workers=2, cache_dir=cache)
    assert (res.total, res.ran, res.failed, res.interrupted) == (8, 8, 0, False)
    rows = store.read_rows(tmp_path / "ex")
    got, want = _sorted(rows), _sorted(store.read_rows(reference))
    assert list(got.columns) == list(want.columns)
    for col in got.columns:  # bit for bit: float columns compared as raw bytes
        if got[col].dtype.kind == "f":
            assert np.array_equal(got[col].to_numpy().view(np.int64),
                                  want[col].to_numpy().view(np.int64)), col
        else:
            assert got[col].tolist() == want[col].tolist(), col
    assert (rows["status"] == "ok").all()
    # Common random numbers: both alternatives of a (point, replication) share the seed.
    assert (rows.groupby(["point", "replication"])["seed"].nunique() == 1).all()
    assert rows["seed"].nunique() == 4
    # The alternative is what differs: lower warning coverage, lower warned share.
    by = rows.groupby("alternative")["warning.share"].mean()
    assert by["low-coverage"] < by["as-is"]


def test_folder_format(small_exp, reference, cache):
    exp = load_experiment(small_exp)
    out = reference
    man = store.read_manifest(out)
    assert man["design"]["kind"] == "lhs" and man["design"]["n_points"] == 2
    assert [a["name"] for a in man["alternatives"]] == ["as-is", "low-coverage"]
    assert str(small_exp.resolve()) in man["inputs"]
    design = pd.read_parquet(out / "design.parquet")
    assert design["point"].tolist() == [0, 1]
    assert design["departure.t90_min"].between(10.0, 40.0).all()
    rows = store.read_rows(out)
    assert list(rows.columns[:7]) == ["point", "alternative", "replication", "seed", "status",
                                      "error", "wall_s"]
    assert rows["point"].dtype == np.int64 and rows["wall_s"].dtype == np.float64
    assert set(exp.metrics) <= set(rows.columns)
    # Running the same command again finds everything done and writes nothing.
    again = run_experiment(exp, out, workers=0, cache_dir=cache)
    assert (again.ran, again.skipped) == (0, 8)
    assert len(store.read_rows(out)) == 8


def test_resume_after_kill_gives_every_task_once_with_identical_values(small_exp, reference,
                                                                       tmp_path, cache):
    out = tmp_path / "ex"
    cmd = [sys.executable, "-m", "sim.cli", "experiment", "run", str(small_exp), "--out",
           str(out), "--workers", "0", "--cache-dir", str(cache)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((out / "rows").glob("part-*.parquet")) and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = store.read_rows(out)
    assert 0 < len(first) < 8, "the kill came too late to test resuming"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = store.read_rows(out)
    assert len(rows) == 8 and not rows.duplicated(KEY).any()
    pd.testing.assert_frame_equal(_sorted(rows), _sorted(store.read_rows(reference)))


def test_failing_task_is_recorded_and_the_others_finish(tmp_path, small_district, cache):
    # Normal(0.95, 0.2) coverage: the LHS strata above the median exceed 1, an invalid share.
    body = """
[[factors]]
path = "warning.coverage"
distribution = "normal"
mean = 0.95
sd = 0.2

[design]
kind = "lhs"
points = 4
"""
    exp = load_experiment(_write(tmp_path, small_district, "fails", body))
    res = run_experiment(exp, tmp_path / "ex", workers=0, cache_dir=cache)
    rows = store.read_rows(tmp_path / "ex")
    design = pd.read_parquet(tmp_path / "ex" / "design.parquet")
    bad_points = set(design.loc[design["warning.coverage"] > 1.0, "point"])
    assert 0 < len(bad_points) < 4
    failed = rows[rows["status"] == "error"]
    assert set(failed["point"]) == bad_points and res.failed == len(failed)
    assert failed["error"].str.contains("warning.coverage").all()
    assert failed["error"].str.contains("less than or equal to 1").all()
    assert failed["evacuees.arrived_share"].isna().all()
    ok = rows[rows["status"] == "ok"]
    assert len(ok) == 2 * (4 - len(bad_points)) and (ok["error"] == "").all()
    assert ok["warning.share"].notna().all()


@pytest.mark.parametrize(("body", "field", "words"), [
    ('[[factors]]\npath = "warning.coverag"\ndistribution = "uniform"\nmin = 0.5\nmax = 0.9\n'
     '[design]\nkind = "lhs"\npoints = 2\n', "factors[0] (warning.coverag).path",
     "unknown field 'coverag'"),
    ('[[factors]]\npath = "warning.coverage"\ndistribution = "uniform"\nmin = 0.5\nmax = 1.2\n'
     '[design]\nkind = "lhs"\npoints = 2\n', "factors[0] (warning.coverage)", "value 1.2"),
    ('[[factors]]\npath = "warning.coverage"\ndistribution = "uniform"\nmin = 0.5\nmax = 0.9\n'
     '[design]\nkind = "lhs"\npoints = 0\n', "design.points", "greater than or equal to 1"),
    ('[[targets]]\nname = "t"\nmetric = "ete.all.90.t_hours"\nop = "<="\nvalue = 240.0\n',
     "targets[0].metric", "ete.all.90.t_hours"),
    ('[[targets]]\nname = "t"\nmetric = "hazards.response.relief.within_target_share"\n'
     'op = ">="\nvalue = 0.95\n', "targets[0].metric", "hazards.response only with a plan"),
    ('[[factors]]\npath = "hazards.flood.magnitude"\ndistribution = "uniform"\nmin = 1.0\n'
     'max = 2.0\n[design]\nkind = "lhs"\npoints = 2\n', "factors[0] (hazards.flood.magnitude)",
     "index"),
    ('[[factors]]\npath = "warning.coverage"\ndistribution = "uniform"\nmin = 0.5\nmax = 0.9\n',
     "design.kind", "got 'single'"),
])
def test_bad_experiment_files_fail_before_any_run(tmp_path, small_district, body, field, words):
    path = _write(tmp_path, small_district, "bad", body)
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert str(path) in msg and field in msg and words in msg, msg


def test_bad_override_is_checked_by_the_schema(tmp_path, small_district):
    path = _write(tmp_path, small_district, "bad", "")
    path.write_text(path.read_text().replace('"warning.coverage" = 0.6',
                                             '"warning.coverage" = 1.6'))
    with pytest.raises(ScenarioError, match=r"low-coverage.*warning\.coverage"):
        load_experiment(path)


def test_common_random_numbers_and_design_are_reproducible(small_exp):
    exp = load_experiment(small_exp)
    d1, d2 = design_points(exp), design_points(exp)
    pd.testing.assert_frame_equal(d1, d2)
    tasks = build_tasks(exp, d1)
    for t in tasks:
        assert t.seed == run_seed(11, t.point, t.replication)
    seeds = {(t.point, t.replication): set() for t in tasks}
    for t in tasks:
        seeds[t.point, t.replication].add(t.seed)
    assert all(len(s) == 1 for s in seeds.values())
    assert len({next(iter(s)) for s in seeds.values()}) == len(seeds)
    # Each LHS stratum of each factor holds exactly one point.
    u = (d1["departure.t90_min"] - 10.0) / 30.0
    assert sorted((u * len(d1)).astype(int)) == list(range(len(d1)))


def test_metric_catalogue_matches_a_real_run(small_exp, tmp_path, cache):
    exp = load_experiment(small_exp)
    task = build_tasks(exp, design_points(exp), cache_dir=str(cache))[0]
    from dataclasses import replace

    row = run_task(replace(task, keep_dir=str(tmp_path / "run")))
    assert row["status"] == "ok", row["error"]
    import json

    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    numeric = {k for k, v in flatten(metrics).items()
               if isinstance(v, (int, float, type(None))) and k != "format_version"}
    assert all(is_known(k, [], has_plan=False) for k in numeric), sorted(
        k for k in numeric if not is_known(k, [], has_plan=False))
    assert set(CORE) <= set(flatten(metrics))
    # The task's row holds exactly the run folder's metrics.json values.
    flat = flatten(metrics)
    for m in exp.metrics:
        want = math.nan if flat[m] is None else float(flat[m])
        assert row[m] == want or (math.isnan(row[m]) and math.isnan(want))


def test_halfwidth_is_the_student_t_interval():
    # n = 4, s = 1: t_{0.975,3} = 3.182446 (tables), half-width = 3.182446 / 2.
    x = np.array([1.0, 2.0, 3.0, 4.0]) / np.std([1.0, 2.0, 3.0, 4.0], ddof=1)
    assert halfwidth95(x) == pytest.approx(3.182446 / 2.0, rel=1e-6)
    assert halfwidth95(np.array([1.0])) == math.inf


def test_mesa_batch_run_drives_the_model(small_district, cache, tmp_path):
    # batch_run reads the DataCollector at every step, so the scenario samples every tick.
    from mesa.batchrunner import batch_run

    from sim.model import EvacuationModel

    text = (small_district / "small.toml").read_text()
    text = text.replace("sample_s = 60.0", "sample_s = 5.0").replace("horizon_h = 6.0",
                                                                       "horizon_h = 0.05")
    path = small_district / "batch.toml"
    path.write_text(text)
    out = batch_run(EvacuationModel, parameters={"scenario_path": str(path), "seed": [1, 2],
                                                 "cache_dir": str(cache)},
                    iterations=2, max_steps=10_000, number_processes=1,
                    display_progress=False)
    assert len(out) == 4
    assert {(r["iteration"], r["seed"]) for r in out} == {(0, 1), (0, 2), (1, 1), (1, 2)}
    by_seed = {}
    for r in out:  # same seed, same final state: the model is reproducible under batch_run
        by_seed.setdefault(r["seed"], []).append((r["sheltered"], r["en_route"], r["Step"]))
    assert all(a == b for a, b in by_seed.values())
    persons = sum(r[k] for k in ("not_warned", "warned", "staying", "en_route", "sheltered",
                                 "stranded", "dead") for r in out[:1])
    assert persons > 10_000


@pytest.mark.slow
@pytest.mark.parametrize("name", ["quake-relief", "flood-warning", "chlorine-wind"])
def test_shipped_experiments_pass_every_check(name):
    exp = load_experiment(REPO / "scenarios" / "experiments" / f"{name}.toml")
    design = design_points(exp)
    assert len(design) >= 4 and len(exp.alternatives) == 2
    # Every design point gives a valid scenario for every alternative.
    from sim.experiments.design import point_values
    from sim.scenario import Scenario

    for p in range(len(design)):
        for alt in exp.alternatives:
            Scenario.from_dict(exp.scenario_dict(alt, point_values(design, exp, p)),
                               source=name)


@pytest.mark.parametrize(("design", "n"), [
    ('kind = "factorial"\nlevels = 3', 3 * 2),
    ('kind = "sobol"\nn = 4', 4 * (2 + 2)),
    ('kind = "sobol"\nn = 4\nsecond_order = true', 4 * (2 * 2 + 2)),
])
def test_designs_have_the_documented_size(tmp_path, small_district, design, n):
    body = f"""
[[factors]]
path = "departure.t90_min"
distribution = "uniform"
min = 10.0
max = 40.0

[[factors]]
path = "shelters.closed"
distribution = "{'levels' if 'factorial' in design else 'uniform'}"
{'values = [[], ["x"]]' if 'factorial' in design else 'min = 0.0'}
{'' if 'factorial' in design else 'max = 1.0'}

[design]
{design}
"""
    if "factorial" not in design:
        body = body.replace('path = "shelters.closed"', 'path = "walking.speed_sd_mps"')
    exp = load_experiment(_write(tmp_path, small_district, "d", body))
    d = design_points(exp)
    assert len(d) == n and d["point"].tolist() == list(range(n))
    if "factorial" in design:  # every (level, value) pair once; t90 at bin midpoints
        assert sorted(set(d["departure.t90_min"])) == pytest.approx([15.0, 25.0, 35.0])
        assert d.groupby(["departure.t90_min", "shelters.closed"]).size().eq(1).all()
    else:
        from sim.experiments.design import salib_problem

        prob = salib_problem(exp)
        assert prob["names"] == ["departure.t90_min", "walking.speed_sd_mps"]
        assert prob["bounds"] == [[10.0, 40.0], [0.0, 1.0]]
        assert d["departure.t90_min"].between(10.0, 40.0).all()


def test_stop_when_ends_the_experiment_once_the_mean_is_known(tmp_path, small_district, cache):
    body = """
[stop_when]
metric = "warning.share"
halfwidth = 0.05
min_runs = 3
"""
    path = _write(tmp_path, small_district, "stop", body, reps=12)
    exp = load_experiment(path)
    res = run_experiment(exp, tmp_path / "ex", workers=0, cache_dir=cache)
    rows = store.read_rows(tmp_path / "ex")
    assert res.stopped_early and len(rows) < 24
    for _, sub in rows.groupby("alternative"):
        x = sub["warning.share"].to_numpy()
        assert len(x) >= 3 and halfwidth95(x) <= 0.05
