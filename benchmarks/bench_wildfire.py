"""Cost of the wildfire: ``scenarios/wildfire.toml`` against the same run without the fire.

Issue 18's target: the wildfire (12 h on the default district's DEM) plus the evacuation
runs in under 2x the time of the same run without it. "The same run": the scenario with
its ``[warning] start_min`` set to 0 in both variants, so the same households leave at
the same times and the difference is the hazard (fire arrival at bind, closures,
re-routing, strandings, its tables); the trigger warning then moves nobody (nobody is
warned later than 0). The scenario as shipped (warned by trigger points) is timed too.

Each repetition does what ``evacsim run`` does, in-process: load the scenario, build the
model, run it, build the tables and write the run folder (figures included). Variants
alternate so load on the shared machine hits them alike; medians of wall and CPU time.

Usage::

    python benchmarks/bench_wildfire.py [--reps 3] [--horizon-h 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SCENARIO = REPO / "scenarios" / "wildfire.toml"


def scenarios(horizon_h: float) -> dict:
    """The three variants: ``no_fire`` and ``fire`` (both warned at 0), ``shipped``."""
    from sim.scenario import Scenario

    data = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    rest = {k: v for k, v in data.items() if k != "hazards"}
    kw = {"source": str(SCENARIO), "base_dir": SCENARIO.parent}
    at0 = {"time.horizon_h": horizon_h, "warning.start_min": 0.0}
    return {"no_fire": Scenario.from_dict(rest, overrides=at0, **kw),
            "fire": Scenario.from_dict(data, overrides=at0, **kw),
            "shipped": Scenario.from_dict(data, overrides={"time.horizon_h": horizon_h}, **kw)}


def run_once(scenario, out: Path) -> dict:
    """One ``evacsim run`` equivalent; wall and CPU seconds and a few results."""
    from sim import results, runs
    from sim.model import EvacuationModel

    w0, c0 = time.perf_counter(), time.process_time()
    model = EvacuationModel(scenario=scenario)
    model.run()
    runs.write_run(out, manifest=results.manifest(model), tables=results.tables(model),
                   figures=True, extra=results.extra(model))
    return {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0,
            "incidents": len(model.incidents), "t_end_h": model.t_s / 3600.0}


def main(argv=None) -> int:
    """Time the variants and print medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--horizon-h", type=float, default=12.0)
    args = ap.parse_args(argv)
    sc = scenarios(args.horizon_h)
    times: dict[str, list[dict]] = {k: [] for k in sc}
    with tempfile.TemporaryDirectory() as tmp:
        run_once(sc["fire"], Path(tmp) / "warm-up")  # imports, numba caches: not timed
        for rep in range(args.reps):
            for name, s in sc.items():
                r = run_once(s, Path(tmp) / f"{name}-{rep}")
                times[name].append(r)
                print(f"rep {rep} {name:8s} wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  "
                      f"incidents {r['incidents']}  end {r['t_end_h']:.2f} h", flush=True)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall_s", "cpu_s")}
           for k, v in times.items()}
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    for k, v in med.items():
        print(f"median {k:8s} wall {v['wall_s']:.1f} s  cpu {v['cpu_s']:.1f} s")
    for m in ("wall_s", "cpu_s"):
        print(f"ratio fire / no_fire ({m}): {med['fire'][m] / med['no_fire'][m]:.2f} "
              f"(target < 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
