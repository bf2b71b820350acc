"""Cost of the flood: the flash-flood scenario against the same scenario without it.

Issue 4's target: ``scenarios/flash-flood.toml`` (default district, 6 h, flood grid at the
DEM's resolution) runs in under 2x the time of the same scenario without the flood; issue
17 lowers it to 1.5x.

Each repetition times what ``evacsim run`` does, in-process: load the scenario, build the
model (map from the cache), run it, build the run-folder tables and write the run folder
(figures included). The variants are timed alternately (no-flood, flood, ...) so that
load on the machine hits both alike; medians are printed, with CPU time next to wall time
(CPU time is the steadier figure on a shared machine). The 2-D kernel alone is timed too.

The "serial" variants are the same runs on one core's worth: the hazard's ``prefetch``
off (the 2-D scheme then runs inside each update instead of on a thread beside the model)
and the figures drawn by this process alone (``write_run(background=False)``; by default
a forked second process draws part of them, :mod:`sim.background`). Outputs are the same
bit for bit (tests/test_flood_speed.py, tests/test_background.py); the difference is wall
time where a second core is free. CPU time includes the figure process's.

Usage::

    python benchmarks/bench_flood.py [--reps 3] [--horizon-h 6]
    python benchmarks/bench_flood.py --kernel-only [--reps 3]   # the 2-D scheme alone
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SCENARIO = REPO / "scenarios" / "flash-flood.toml"


def _scenarios(horizon_h: float):
    """The flash-flood scenario and the same without its ``[[hazards]]``."""
    from sim.scenario import Scenario

    data = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    rest = {k: v for k, v in data.items() if k != "hazards"}
    over = {"time.horizon_h": horizon_h}
    return tuple(Scenario.from_dict(d, source=str(SCENARIO), base_dir=SCENARIO.parent,
                                    overrides=over) for d in (rest, data))


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the figure process)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_once(scenario, out: Path, *, serial: bool = False) -> dict:
    """One ``evacsim run`` equivalent; returns wall and CPU seconds and a few results.

    ``serial``: one core's worth, as before issue 17 — no hazard runs ahead on a thread
    (``prefetch`` off) and no second process draws figures (``background`` off). CPU time
    includes the figure process's.
    """
    from sim import results, runs
    from sim.hazards.registry import build_hazards
    from sim.model import EvacuationModel

    w0, c0 = time.perf_counter(), _cpu_s()
    hazards = build_hazards(scenario)  # what the model would build
    if serial:
        for hz in hazards:  # before the model: it tells the hazards their times once built
            hz.prefetch = None  # the model looks it up with getattr: off
    model = EvacuationModel(scenario=scenario, hazards=hazards)
    model.run()
    runs.write_run(out, manifest=results.manifest(model), tables=results.tables(model),
                   figures=True, extra=results.extra(model), background=not serial)
    closed = int((model.drive_speed_factor == 0).sum())
    return {"wall_s": time.perf_counter() - w0, "cpu_s": _cpu_s() - c0,
            "hazards": len(model.hazards), "incidents": len(model.incidents),
            "links_closed_at_end": closed}


def kernel_only(specs, horizon_h: float) -> dict:
    """The 2-D scheme alone over the horizon on the default district's grid."""
    import numpy as np

    from sim.core import flood as kernel
    from sim.hazards.flood.hazard import FloodHazard
    from sim.network import load_map

    hz = FloodHazard.from_spec(specs[0])
    net = load_map(specs[0].dem.parent / "default-district.osm.bz2")
    hz.bind(net, rng=np.random.default_rng(0))
    w0, c0 = time.perf_counter(), time.process_time()
    steps = kernel.advance(hz.z, hz.state, hz.params, hz.inflows, horizon_h * 3600.0)
    st = hz.state
    storage = float(st.h.sum()) * hz.grid.cell_m ** 2
    return {"wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0,
            "steps": int(steps), "cells": hz.grid.nx * hz.grid.ny, "cell_m": hz.grid.cell_m,
            "volume_error": (st.acc[1] - st.acc[2] - storage) / max(st.acc[1], 1.0)}


def main(argv=None) -> int:
    """Time both variants ``--reps`` times each and print medians and the ratio."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--horizon-h", type=float, default=6.0)
    p.add_argument("--kernel-only", action="store_true",
                   help="time only the 2-D kernel, --reps times (median)")
    args = p.parse_args(argv)
    from sim.cli import BLAS_THREADS_ENV

    for key, value in BLAS_THREADS_ENV.items():  # as the evacsim command sets it
        os.environ.setdefault(key, value)
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
    no_flood, flood = _scenarios(args.horizon_h)
    if args.kernel_only:
        sp = flood.hazards
        kernel_only(sp, 0.1)  # warm-up: numba kernels loaded
        ks = [kernel_only(sp, args.horizon_h) for _ in range(args.reps)]
        k = ks[-1]
        each = ", ".join(f"{r['cpu_s']:.2f}" for r in ks)
        print(f"kernel alone: {k['steps']} steps on {k['cells']:,} cells of {k['cell_m']:.1f} m, "
              f"median of {args.reps}: wall {statistics.median(r['wall_s'] for r in ks):.2f} s, "
              f"cpu {statistics.median(r['cpu_s'] for r in ks):.2f} s "
              f"({each}), "
              f"volume error {k['volume_error']:.1e}")
        print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
        return 0
    rows = {"no flood": [], "flood": [], "no flood serial": [], "flood serial": []}
    with tempfile.TemporaryDirectory() as tmp:
        # Warm-up: compiled map in the cache, numba kernels loaded.
        run_once(no_flood, Path(tmp) / "warm0")
        run_once(flood, Path(tmp) / "warm1")
        for k in range(args.reps):
            rows["no flood"].append(run_once(no_flood, Path(tmp) / f"a{k}"))
            rows["flood"].append(run_once(flood, Path(tmp) / f"b{k}"))
            rows["no flood serial"].append(run_once(no_flood, Path(tmp) / f"c{k}", serial=True))
            rows["flood serial"].append(run_once(flood, Path(tmp) / f"d{k}", serial=True))
    med = {name: {key: statistics.median(r[key] for r in rs) for key in ("wall_s", "cpu_s")}
           for name, rs in rows.items()}
    for name, m in med.items():
        print(f"{name:15s} median wall {m['wall_s']:7.2f} s   cpu {m['cpu_s']:7.2f} s   "
              f"({args.reps} reps, {args.horizon_h:g} h)")
    for name, base in (("flood", "no flood"), ("flood serial", "no flood serial")):
        print(f"ratio {name} / {base}: wall {med[name]['wall_s'] / med[base]['wall_s']:.2f}"
              f"   cpu {med[name]['cpu_s'] / med[base]['cpu_s']:.2f}   (target < 1.5)")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print(f"flood run: {rows['flood'][-1]['incidents']} incidents, "
          f"{rows['flood'][-1]['links_closed_at_end']} drive links closed at the end")
    k = kernel_only(flood.hazards, args.horizon_h)
    print(f"kernel alone: {k['steps']} steps on {k['cells']:,} cells of {k['cell_m']:.1f} m, "
          f"wall {k['wall_s']:.2f} s, cpu {k['cpu_s']:.2f} s, "
          f"volume error {k['volume_error']:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
