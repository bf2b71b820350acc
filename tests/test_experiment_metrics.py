"""An experiment task's metrics, computed from the run's tables in memory (no files), equal
``metrics.json`` of ``evacsim run`` with the same inputs and seed, bit for bit.

One short run (20,000-person generated district, 30 min) with a flood, a chemical release
and an earthquake each: the task goes through the experiment engine's own path
(``build_tasks`` → ``build_model`` → ``model_metrics``), the reference through the
``evacsim run`` code (:func:`sim.simulate.simulate_to_folder`, a separate model from the
scenario file). Both are deterministic for a seed, so any difference is the in-memory
path's. The core tables the metrics read are compared too, dtype and value.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.tables import TABLE_FILES, read_table
from sim.experiments.design import design_points
from sim.experiments.runner import build_tasks
from sim.experiments.spec import load_experiment
from sim.experiments.tasks import build_model, flatten, model_metrics

HORIZON_H = 0.5


def _centre(small_district: Path, cache: Path) -> tuple[float, float]:
    """The drive node nearest the middle of the district's drive nodes (map CRS, m)."""
    from sim.network import load_map

    net = load_map(small_district / "small.osm.bz2", cache_dir=cache)
    nodes = np.unique(net.drive.from_node)
    x, y = net.nodes.x_m[nodes], net.nodes.y_m[nodes]
    k = np.argmin(np.hypot(x - np.median(x), y - np.median(y)))
    return float(x[k]), float(y[k])


def _hazard(kind: str, x: float, y: float) -> str:
    if kind == "flood":  # a steady 150 m³/s inflow at the centre: roads and homes get wet
        return (f'[[hazards]]\nkind = "flood"\ndem = "small.dem.asc"\n'
                f"home_stranding_depth_m = 0.15\n[[hazards.inflows]]\nx_m = {x!r}\n"
                f"y_m = {y!r}\nhydrograph = [[0.0, 150.0], [60.0, 150.0]]\n")
    if kind == "chemical":  # the generated district's chlorine tank, a large failure
        return ('[[hazards]]\nkind = "chemical"\nsource = { tank = "Chlorine Tank T1" }\n'
                "rate_kg_s = 40.0\nduration_min = 20.0\nwind_speed_mps = 2.0\n"
                'wind_from_deg = 45.0\nstability = "D"\nterrain = "urban"\n')
    return (f'[[hazards]]\nkind = "earthquake"\nmagnitude = 6.5\n'
            f"epicentre_xy_m = [{x!r}, {y!r}]\n")


def _same(a: object, b: object) -> bool:
    """``==`` where NaN equals NaN (a metric may be NaN in both)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@pytest.fixture(scope="module")
def centre(small_district, cache) -> tuple[float, float]:
    return _centre(small_district, cache)


@pytest.mark.parametrize("kind", ["flood", "chemical", "earthquake"])
def test_task_metrics_equal_metrics_json_of_evacsim_run(kind, small_district, cache, centre,
                                                        tmp_path):
    from sim import results
    from sim.experiments.memory import memory_run
    from sim.scenario import load_scenario
    from sim.simulate import simulate_to_folder

    text = (small_district / "small.toml").read_text(encoding="utf-8")
    text = text.replace("hazards = []\n", "").replace("horizon_h = 6.0", f"horizon_h = {HORIZON_H}")
    scenario = small_district / f"metrics-{kind}.toml"
    scenario.write_text(text + "\n" + _hazard(kind, *centre), encoding="utf-8")
    exp_file = tmp_path / "exp.toml"
    exp_file.write_text(f'[experiment]\nname = "m-{kind}"\nseed = 5\nreplications = 1\n'
                        f'metrics = ["evacuees.arrived_share"]\n[base]\n'
                        f'scenario = "{scenario.as_posix()}"\n', encoding="utf-8")
    exp = load_experiment(exp_file)
    task = build_tasks(exp, design_points(exp), cache_dir=str(cache))[0]
    model = build_model(task)
    model.run()
    got = model_metrics(model)  # what the task's row is made of: no files written

    out = simulate_to_folder(load_scenario(scenario), tmp_path / "run", seed=task.seed,
                             figures=False, progress=False, cache_dir=cache, quiet=True)
    want = json.loads((out / "metrics.json").read_text(encoding="utf-8"))

    assert kind in got["hazards"]  # the hazard's section is there to compare
    flat_got, flat_want = flatten(got), flatten(want)
    assert flat_got.keys() == flat_want.keys()
    differ = {k: (flat_got[k], flat_want[k]) for k in flat_want
              if not _same(flat_got[k], flat_want[k])}
    assert not differ
    # The hazard did something, so its numbers are not trivially equal zeros.
    hz = flatten(got["hazards"][kind])
    assert any(isinstance(v, int | float) and not isinstance(v, bool) and v > 0
               for v in hz.values())

    # The core tables the metrics read: what the written files give back, dtypes included.
    run = memory_run(results.manifest(model), results.tables(model), {})
    for name in TABLE_FILES:
        pd.testing.assert_frame_equal(run.table(name), read_table(out, name), check_exact=True,
                                      obj=name)


OPTIONS = [{}, {"keep_default_na": False, "na_values": [""]},
           {"keep_default_na": False, "na_values": {"": [""]}}, {"keep_default_na": False},
           {"keep_default_na": False, "na_values": {"f_gaps": [""]}}, {"dtype": {"n": str}}]


@pytest.mark.parametrize("options", OPTIONS)
def test_hazard_tables_read_back_as_the_written_file(options):
    """Every reader option in use (and two more): the frame equals the file's, dtype too."""
    import io

    from sim.experiments.memory import read_back
    from sim.runs import _extra_table_bytes

    rng = np.random.default_rng(3)
    n = 50
    frame = pd.DataFrame({
        "n": np.arange(n, dtype=np.int32),
        "flag": rng.random(n) < 0.5,
        "f": rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n),
        "f_gaps": np.where(np.arange(n) % 7 == 0, np.inf, rng.random(n)),  # never reached
        "f_none": np.full(n, np.nan),
        "label": np.array(["NA", "None", "", "x", "3"] * 10, dtype=object),  # pandas' NA words
        "digits": np.array(["1", "2"] * 25, dtype=object),  # text that pandas reads as ints
    })
    for sub in (frame, frame.iloc[:0]):
        want = pd.read_csv(io.BytesIO(_extra_table_bytes("hazard/x.csv", sub)), **options)
        got = read_back("hazard/x.csv", sub, **options)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_embedded_workers_run_without_profiler_and_malloc_trim():
    """The engine's LocalCluster workers: no statistical profiler, no MALLOC_TRIM_THRESHOLD_
    (each made a task ~1.5x slower than in-process), one BLAS/OpenMP thread each."""
    import os

    from sim.experiments.runner import _client

    client, cluster = _client(None, 1)
    try:
        def settings() -> tuple:
            import dask

            return (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS"),
                    dask.config.get("distributed.worker.profile.enabled"))

        assert list(client.run(settings).values()) == [(None, "1", False)]
    finally:
        client.close()
        cluster.close()
