"""Cost of a disaster chain: an earthquake that ruptures the chlorine tank, against the same
release written by hand at the quake's time.

Issue 18's target: chains add < 10 %. Both variants run ``scenarios/earthquake.toml``
with the chemical table of ``scenarios/chlorine-release.toml`` added: ``hand`` with
``start_min`` = the quake's ``time_min``; ``chain`` with ``trigger`` on the earthquake and
a tank certain to fail (custom median 1e-4 g), so the same release happens and the
difference is the chain's work (binding in order, the fragility draw, the second bind of
the release). Variants alternate; medians of wall and CPU time; load average printed.

Usage::

    python benchmarks/bench_chains.py [--reps 3] [--horizon-h 2]
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


def scenarios(horizon_h: float) -> dict:
    """``hand`` and ``chain`` variants (see the module docstring)."""
    from sim.scenario import Scenario

    quake_path = REPO / "scenarios" / "earthquake.toml"
    quake = tomllib.loads(quake_path.read_text(encoding="utf-8"))
    chem = tomllib.loads((REPO / "scenarios" / "chlorine-release.toml")
                         .read_text(encoding="utf-8"))["hazards"][0]
    t_quake = float(quake["hazards"][0].get("time_min", 0.0))
    hand = {**chem, "start_min": t_quake}
    chain = {**chem, "trigger": {"hazard": "earthquake", "tank": "custom", "median_g": 1e-4,
                                 "beta": 0.1}}
    kw = {"source": str(quake_path), "base_dir": quake_path.parent,
          "overrides": {"time.horizon_h": horizon_h}}
    return {name: Scenario.from_dict({**quake, "hazards": [quake["hazards"][0], h]}, **kw)
            for name, h in (("hand", hand), ("chain", chain))}


def run_once(scenario, out: Path) -> dict:
    """One ``evacsim run`` equivalent; wall and CPU seconds."""
    from sim import results, runs
    from sim.model import EvacuationModel

    w0, c0 = time.perf_counter(), time.process_time()
    model = EvacuationModel(scenario=scenario)
    model.run()
    runs.write_run(out, manifest=results.manifest(model), tables=results.tables(model),
                   figures=True, extra=results.extra(model))
    return {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0,
            "incidents": len(model.incidents), "hazards": [h.kind for h in model.hazards]}


def main(argv=None) -> int:
    """Time the variants and print medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--horizon-h", type=float, default=2.0)
    args = ap.parse_args(argv)
    sc = scenarios(args.horizon_h)
    times: dict[str, list[dict]] = {k: [] for k in sc}
    with tempfile.TemporaryDirectory() as tmp:
        run_once(sc["hand"], Path(tmp) / "warm-up")  # imports, numba caches: not timed
        for rep in range(args.reps):
            for name, s in sc.items():
                r = run_once(s, Path(tmp) / f"{name}-{rep}")
                times[name].append(r)
                print(f"rep {rep} {name:6s} wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  "
                      f"incidents {r['incidents']}  hazards {r['hazards']}", flush=True)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall_s", "cpu_s")}
           for k, v in times.items()}
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    for k, v in med.items():
        print(f"median {k:6s} wall {v['wall_s']:.1f} s  cpu {v['cpu_s']:.1f} s")
    for m in ("wall_s", "cpu_s"):
        print(f"chain overhead ({m}): {100 * (med['chain'][m] / med['hand'][m] - 1):+.1f} % "
              f"(target < 10 %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
