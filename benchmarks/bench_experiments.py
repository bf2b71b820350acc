"""Experiment engine throughput: runs per hour vs back-to-back ``evacsim run`` processes.

Measures, on one scenario (default: the 300k default district, 6 h, no hazard):

1. ``cli``: ``--runs`` back-to-back ``evacsim run --no-figures`` processes (each pays
   interpreter start, imports, map load, simulation, run-folder writing);
2. ``engine wN``: the same number of runs (one design point, ``--runs`` replications)
   through ``run_experiment`` on a ``LocalCluster`` of N single-threaded worker processes
   (cluster start counted separately), runs per hour from the wall time of the
   experiment;
3. per-task phases in this process (build the model, ``model.run()``, metrics from the
   tables in memory, and side by side the same metrics through a written run folder, as
   ``keep_dir`` and ``evacsim run`` do): the overhead beyond the simulation, wall and CPU;
4. resident memory and CPU seconds of every worker after its tasks (psutil via
   ``client.run``; the CPU includes the worker's start and imports), and the median task
   wall time (a worker's first task also imports the model and loads the map: the median
   is the steady state of a long experiment).

Usage (from the repository root, a quiet machine)::

    PYTHONPATH=$PWD python -m benchmarks.bench_experiments --runs 4 --workers 1 2

Prints a Markdown table for ``benchmarks/RESULTS.md``. No timed asserts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _experiment_file(folder: Path, scenario: Path, runs: int, horizon_h: float) -> Path:
    path = folder / "bench.toml"
    path.write_text(f"""
[experiment]
name = "bench"
seed = 1
replications = {runs}
metrics = ["evacuees.arrived_share", "ete.all.90.t_min"]

[base]
scenario = "{scenario.resolve().as_posix()}"
overrides = {{ "time.horizon_h" = {horizon_h} }}
""", encoding="utf-8")
    return path


def bench_cli(scenario: Path, runs: int, horizon_h: float, tmp: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, all processes) of ``runs`` back-to-back
    ``evacsim run`` processes."""
    import re
    import resource

    text = scenario.read_text(encoding="utf-8")

    def absolute(m: re.Match) -> str:  # the copy lives elsewhere: make input paths absolute
        p = scenario.parent / m.group(1)
        return f'"{p.resolve().as_posix()}"' if p.is_file() else m.group(0)

    text = re.sub(r'"([^"\n]+)"', absolute, text)
    sc = tmp / scenario.name
    sc.write_text(re.sub(r"(?m)^horizon_h = [0-9.]+", f"horizon_h = {horizon_h}", text),
                  encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    for i in range(runs):
        subprocess.run([sys.executable, "-m", "sim.cli", "run", str(sc), "--seed", str(i + 1),
                        "--out", str(tmp / f"run{i}"), "--force", "--no-figures",
                        "--no-progress"], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_engine(exp_file: Path, workers: int, tmp: Path) -> dict:
    """Runs through the engine on a fresh LocalCluster of ``workers`` processes."""
    import logging

    import dask
    from dask.distributed import Client, LocalCluster

    from sim.experiments import store
    from sim.experiments.runner import run_experiment, worker_config
    from sim.experiments.spec import load_experiment

    t0 = time.perf_counter()
    with dask.config.set(worker_config()):  # the engine's own worker settings
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    start_s = time.perf_counter() - t0
    try:
        exp = load_experiment(exp_file)
        t1 = time.perf_counter()
        res = run_experiment(exp, tmp / f"ex-w{workers}", scheduler=cluster.scheduler_address,
                             force=True, progress=False)
        wall = time.perf_counter() - t1
        with Client(cluster) as client:
            import psutil

            def usage() -> tuple[float, float]:
                proc = psutil.Process()
                cpu = proc.cpu_times()
                return proc.memory_info().rss / 2**20, cpu.user + cpu.system

            got = client.run(usage)
            rss = {k: v[0] for k, v in got.items()}
            cpu_s = sum(v[1] for v in got.values())
    finally:
        cluster.close()
    rows = store.read_rows(tmp / f"ex-w{workers}")
    return {"workers": workers, "runs": res.ran, "failed": res.failed, "wall_s": wall,
            "cluster_start_s": start_s, "task_wall_s": float(rows["wall_s"].mean()),
            "task_median_s": float(rows["wall_s"].median()),
            "rss_mib": sorted(rss.values()), "worker_cpu_s": cpu_s}


def bench_phases(exp_file: Path, tmp: Path) -> dict:
    """Build / run / metrics wall and CPU seconds of one task in this process (second of
    two: warm); ``folder_*``: the metrics through a run folder written under ``tmp``."""
    from sim.experiments.design import design_points
    from sim.experiments.runner import build_tasks
    from sim.experiments.spec import load_experiment
    from sim.experiments.tasks import build_model, model_metrics

    exp = load_experiment(exp_file)
    task = build_tasks(exp, design_points(exp))[0]
    out = {}
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        model = build_model(task)
        t1, c1 = time.perf_counter(), time.process_time()
        model.run()
        t2, c2 = time.perf_counter(), time.process_time()
        model_metrics(model)
        t3, c3 = time.perf_counter(), time.process_time()
        model_metrics(model, keep_dir=tmp / "phases-run")
        t4, c4 = time.perf_counter(), time.process_time()
        out = {"build_s": t1 - t0, "run_s": t2 - t1, "metrics_s": t3 - t2,
               "build_cpu_s": c1 - c0, "run_cpu_s": c2 - c1, "metrics_cpu_s": c3 - c2,
               "folder_s": t4 - t3, "folder_cpu_s": c4 - c3}
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line; prints a Markdown table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", type=Path, default=REPO / "scenarios" / "default.toml")
    p.add_argument("--runs", type=int, default=4)
    p.add_argument("--horizon-h", type=float, default=6.0)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--skip-cli", action="store_true")
    a = p.parse_args(argv)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="bench-exp-") as d:
        tmp = Path(d) / "work"
        tmp.mkdir()
        exp_file = _experiment_file(tmp, a.scenario, a.runs, a.horizon_h)
        phases = bench_phases(exp_file, tmp)
        print(f"in-process task phases (warm): build {phases['build_s']:.2f} s, "
              f"run {phases['run_s']:.2f} s, metrics {phases['metrics_s']:.2f} s; "
              f"overhead beyond model.run(): "
              f"{(phases['build_s'] + phases['metrics_s']) / phases['run_s']:.1%} "
              f"(metrics only: {phases['metrics_s'] / phases['run_s']:.1%})")
        print(f"  CPU s: build {phases['build_cpu_s']:.2f}, run {phases['run_cpu_s']:.2f}, "
              f"metrics {phases['metrics_cpu_s']:.2f}; overhead by CPU: "
              f"{(phases['build_cpu_s'] + phases['metrics_cpu_s']) / phases['run_cpu_s']:.1%}")
        print(f"  side by side, metrics through a written run folder (keep_dir): wall "
              f"{phases['folder_s']:.2f} s, CPU {phases['folder_cpu_s']:.2f} s")
        print("| how | runs | wall s | CPU s | runs/hour | mean task s | median task s | "
              "cluster start s | worker RSS MiB | load 1-min |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        if not a.skip_cli:
            wall, cpu = bench_cli(a.scenario, a.runs, a.horizon_h, tmp)
            print(f"| {a.runs} x `evacsim run --no-figures` | {a.runs} | {wall:.1f} | "
                  f"{cpu:.1f} | {3600 * a.runs / wall:.0f} | {wall / a.runs:.1f} | - | - | - | "
                  f"{os.getloadavg()[0]:.2f} |")
        for w in a.workers:
            r = bench_engine(exp_file, w, tmp)
            print(f"| engine, {w} worker(s) | {r['runs']} ({r['failed']} failed) | "
                  f"{r['wall_s']:.1f} | {r['worker_cpu_s']:.1f} | "
                  f"{3600 * r['runs'] / r['wall_s']:.0f} | "
                  f"{r['task_wall_s']:.1f} | {r['task_median_s']:.1f} | "
                  f"{r['cluster_start_s']:.1f} | "
                  f"{', '.join(f'{m:.0f}' for m in r['rss_mib'])} | "
                  f"{os.getloadavg()[0]:.2f} |")
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
