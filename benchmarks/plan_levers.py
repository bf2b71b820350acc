"""What each people-side plan lever changes on the default district, and what it costs.

Runs the default scenario (or ``--scenario``) with ``scenarios/plans/default.toml`` and
with each lever plan (``staged``, ``staged-west``, ``assigned``, ``buses``, and all three
levers together), writes each run folder to a temporary directory, and prints a Markdown
table of ETE 90 / 100 %, persons not sheltered, the relief share within the plan's
target and the buses' last pickup / delivery, then the speed ratio of the all-levers run
to the base run (median CPU time of ``--runs`` simulations each, model build excluded).

    PYTHONPATH=$PWD python benchmarks/plan_levers.py --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLANS = REPO / "scenarios" / "plans"
LEVER_PLANS = ("staged", "staged-west", "assigned", "buses")


def all_levers_plan():
    """default.toml plus the levers of staged, assigned and buses (one plan)."""
    from sim.plan import Plan

    data = tomllib.loads((PLANS / "default.toml").read_text(encoding="utf-8"))
    for name, key in (("staged", "evacuation"), ("assigned", "shelter_assignment"),
                      ("buses", "buses")):
        data[key] = tomllib.loads((PLANS / f"{name}.toml").read_text(encoding="utf-8"))[key]
    data["plan"]["name"] = "all-levers"
    return Plan.from_dict(data, source="all-levers")


def one_run(scenario, plan, net, out: Path) -> tuple[dict, float]:
    """Simulate, write the run folder, return (metrics, simulation CPU seconds).

    CPU time of this process (``time.process_time``; the kernels are single-threaded):
    on a shared machine wall time mostly measures the neighbours' load.
    """
    from analysis.metrics import compute_metrics
    from sim import results, runs
    from sim.model import EvacuationModel

    m = EvacuationModel(scenario=scenario, plan=plan, network=net)
    t0 = time.process_time()
    m.run()
    wall = time.process_time() - t0
    folder = runs.write_run(out, manifest=results.manifest(m), tables=results.tables(m),
                            figures=False, extra=results.extra(m))
    return compute_metrics(folder), wall


def row(name: str, met: dict) -> str:
    def t(pct):
        e = met["ete"]["all"][pct]
        return f"{e['t_min']:.1f}" if e["reached"] else "not reached"

    relief = met.get("hazards", {}).get("response", {}).get("relief", {})
    share = relief.get("within_target_share")
    bus = met.get("buses")
    bus_txt = "–"
    if bus:
        lp, ld = bus["last_pickup"]["t_min"], bus["last_delivery"]["t_min"]
        bus_txt = (f"{bus['persons_delivered']:,} of {bus['rider_persons']:,} riders; last pickup "
                   f"{lp:.0f} min, last delivery {ld:.0f} min" if lp is not None else "none")
    return (f"| {name} | {met['evacuees']['persons']:,} | {t('90')} | {t('100')} | "
            f"{met['not_sheltered']['persons']:,} | "
            f"{'–' if share is None else f'{100 * share:.1f} %'} | {bus_txt} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=REPO / "scenarios" / "default.toml")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of base and all-levers")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from sim.network import load_map
    from sim.plan import load_plan
    from sim.scenario import load_scenario

    sc = load_scenario(args.scenario)
    net = load_map(sc.scenario.map, jam_spacing_m=sc.traffic.jam_spacing_m)
    plans = {"default (no lever)": load_plan(PLANS / "default.toml")}
    plans.update({f"{n}.toml": load_plan(PLANS / f"{n}.toml") for n in LEVER_PLANS})
    plans["all three levers"] = all_levers_plan()
    lines = ["| plan | evacuees | ETE 90 % (min) | ETE 100 % (min) | not sheltered | "
             "relief ≤ 10 h | buses |", "|---|---|---|---|---|---|---|"]
    walls: dict[str, list[float]] = {name: [] for name in plans}
    mets: dict[str, dict] = {}
    timed = ("default (no lever)", "all three levers")
    with tempfile.TemporaryDirectory() as tmp:
        # Timed pair interleaved (base, all, base, all, ...): a shared machine's load
        # drifts, and interleaving spreads it over both.
        for k in range(args.runs):
            for name in timed:
                folder = Path(tmp) / f"timed-{k}-{name[:3]}"
                mets[name], wall = one_run(sc, plans[name], net, folder)
                walls[name].append(wall)
        for i, (name, plan) in enumerate(plans.items()):
            if name not in timed:
                mets[name], wall = one_run(sc, plan, net, Path(tmp) / f"run-{i}")
                walls[name].append(wall)
            print(f"{name}: {statistics.median(walls[name]):.1f} s", file=sys.stderr)
            lines.append(row(name, mets[name]))
    print("\n".join(lines))
    base = statistics.median(walls["default (no lever)"])
    full = statistics.median(walls["all three levers"])
    print(f"\nSpeed: median simulation CPU time, {args.runs} runs each: no lever {base:.1f} s, "
          f"all three levers {full:.1f} s, ratio {full / base:.2f}x (runs: "
          f"{', '.join(f'{w:.1f}' for w in walls['default (no lever)'])} s and "
          f"{', '.join(f'{w:.1f}' for w in walls['all three levers'])} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
