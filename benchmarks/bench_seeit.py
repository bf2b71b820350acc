"""Cost of link loads over time (issue 15 part 2) and of the HTML report (part 3).

Run::

    python -m benchmarks.bench_seeit [--scenario scenarios/default.toml] [--plan PLAN]
        [--repeat 2] [--out /tmp/evacsim-bench-seeit]

For the scenario (default: the 300k default district) it times whole simulations
(model build excluded, map cached) with the link-load sampling on and with it replaced by
a no-op, alternating, and the time spent inside the sampling itself; then writes the run
folder and reports the size of ``traffic/link_loads.npz`` and of the whole folder; then
times ``write_report`` (median of ``--repeat``). Targets: < 10 % extra run time, < 20 MB,
report < 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from sim import results, runs
from sim.model import EvacuationModel
from sim.scenario import default_scenario_path, load_scenario

REPO = Path(__file__).resolve().parents[1]


def _run(scenario, plan, *, sampling: bool) -> tuple[EvacuationModel, float, float]:
    model = EvacuationModel(scenario=scenario, plan=plan)
    inside = [0.0]
    original = model.link_loads.sample

    def timed(*a, **kw):
        t0 = time.perf_counter()
        original(*a, **kw)
        inside[0] += time.perf_counter() - t0

    model.link_loads.sample = timed if sampling else (lambda *a, **kw: None)
    t0 = time.perf_counter()
    model.run()
    return model, time.perf_counter() - t0, inside[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", type=Path, default=default_scenario_path())
    p.add_argument("--plan", type=Path, default=None)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("/tmp/evacsim-bench-seeit"))
    args = p.parse_args(argv)
    scenario = load_scenario(args.scenario)
    plan = None
    if args.plan is not None:
        from sim.plan import load_plan

        plan = load_plan(args.plan)
    on, off, inside = [], [], []
    model = None
    for _ in range(args.repeat):
        _, t_off, _ = _run(scenario, plan, sampling=False)
        model, t_on, t_in = _run(scenario, plan, sampling=True)
        on.append(t_on), off.append(t_off), inside.append(t_in)
    t0 = time.perf_counter()
    arrays = model.link_loads.arrays()
    folder = runs.write_run(args.out / "run", manifest=results.manifest(model),
                            tables=results.tables(model), extra=results.extra(model),
                            force=True)
    t_write = time.perf_counter() - t0
    npz = folder / "traffic" / "link_loads.npz"
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    raw = arrays["count"].nbytes + arrays["queue"].nbytes
    from analysis.report_html import write_report

    rep = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        write_report(folder, force=True)
        rep.append(time.perf_counter() - t0)
    s, n_links = arrays["count"].shape
    print(f"scenario: {args.scenario}  plan: {args.plan}")
    print(f"simulation with sampling (median of {args.repeat}): {statistics.median(on):.2f} s; "
          f"sampling replaced by a no-op: {statistics.median(off):.2f} s")
    print(f"time inside LinkLoadRecorder.sample: {statistics.median(inside) * 1000:.0f} ms "
          f"({100 * statistics.median(inside) / statistics.median(on):.2f} % of the simulation)")
    print(f"link_loads.npz: {s} samples x {n_links} drive links, {arrays['count'].dtype}; "
          f"raw {raw / 1e6:.2f} MB, on disk {npz.stat().st_size / 1e6:.3f} MB; "
          f"whole run folder {total / 1e6:.2f} MB (tables+figures written in {t_write:.1f} s)")
    print(f"report.html: {statistics.median(rep):.2f} s (median of {args.repeat}), "
          f"{(folder / 'report.html').stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
