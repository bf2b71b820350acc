"""Whole-run scaling of evacsim on the generated district: 10k / 100k / 300k / 1M residents.

Each size is generated once (``maps/generate_district.py``, seed 1) into a work folder, then
run ``--repeats`` times as a fresh process (``evacsim run``), so the wall time includes
interpreter start, imports, map loading and numba's cached compilation, exactly as a user
sees it. The first repeat of the first size is a warm-up that fills the numba and map
caches, and is reported separately as "cold".

Usage::

    python benchmarks/scaling.py --sizes 10000 100000 300000 1000000 --repeats 3

Prints a Markdown table (median wall seconds, peak RSS MiB, ticks, ETE90) for
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``cmd`` as a fresh child; returns (wall seconds, peak RSS MiB of that child)."""
    # RUSAGE_CHILDREN's ru_maxrss is the max over all waited-for children; run each
    # measurement through a tiny wrapper process so the max is this child's alone.
    wrapper = (
        "import resource, subprocess, sys, time, json;"
        "t = time.perf_counter(); rc = subprocess.call(sys.argv[1:]);"
        "w = time.perf_counter() - t;"
        "m = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024;"
        "print(json.dumps({'rc': rc, 'wall': w, 'mib': m}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], env=env, check=True, capture_output=True, text=True
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["rc"] != 0:
        raise RuntimeError(f"{cmd} failed with {res['rc']}: {out.stderr[-2000:]}")
    return res["wall"], res["mib"]


def _scenario_for(size: int, work: Path) -> Path:
    name = f"district-{size}"
    path = work / f"{name}.toml"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(REPO / "maps" / "generate_district.py"),
                "--population",
                str(size),
                "--seed",
                "1",
                "--out",
                str(work),
                "--name",
                name,
                "--scenario",
            ],
            check=True,
        )
    return path


def _fmt(minutes: float | None) -> str:
    return "not reached" if minutes is None else f"{minutes:.0f}"


def main(argv: list[str] | None = None) -> int:
    """Run the scaling benchmark and print a Markdown table."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "evacsim-scaling")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, EVACSIM_CACHE_DIR=str(args.work / "cache"))
    rows = []
    for size in args.sizes:
        scen = _scenario_for(size, args.work)
        walls, mems, cold = [], [], None
        for r in range(args.repeats + (1 if not rows else 0)):
            out = args.work / f"run-{size}-{r}"
            cmd = [
                "evacsim",
                "run",
                str(scen),
                "--out",
                str(out),
                "--force",
                "--no-progress",
                "--no-figures",
            ]
            wall, mib = _run_child(cmd, env)
            if not rows and cold is None:
                cold = wall
                continue
            walls.append(wall)
            mems.append(mib)
        metrics = json.loads((out / "metrics.json").read_text())
        manifest = json.loads((out / "manifest.json").read_text())
        rows.append(
            {
                "residents": metrics["population"]["persons"],
                "wall_s_median": statistics.median(walls),
                "wall_s_all": walls,
                "peak_mib_median": statistics.median(mems),
                "sim_end_s": manifest.get("end_s"),
                "ete90_min": metrics["ete"]["all"]["90"]["t_min"],
                "cold_s": cold,
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"\n_{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores_\n")
    print("| residents | wall s (median) | runs | peak MiB | simulated until s | ETE90 min |")
    print("|---:|---:|---|---:|---:|---:|")
    for r in rows:
        runs = ", ".join(f"{w:.1f}" for w in r["wall_s_all"])
        print(
            f"| {r['residents']:,} | {r['wall_s_median']:.1f} | {runs} | "
            f"{r['peak_mib_median']:.0f} | {r['sim_end_s']:.0f} | {r['ete90_min']} |"
        )
    if rows and rows[0]["cold_s"] is not None:
        print(
            f"\nFirst (cold: numba compile + map compile) run of {rows[0]['residents']:,}: "
            f"{rows[0]['cold_s']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
