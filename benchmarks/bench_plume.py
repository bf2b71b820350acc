"""Speed target of the chemical release (issue 5): concentrations at 300,000 people every
minute for 6 hours of a 20-puff release in under 5 s.

    python benchmarks/bench_plume.py [--people 300000] [--puffs 20] [--wind 3.0] [--repeats 3]

The people stand at seeded random points over a 10 km x 15 km district; the release is
chlorine at 5 kg/s cut into ``--puffs`` puffs of 30 s, from a corner of the district with
the wind blowing across it (stability D, Briggs urban). Every minute for 6 h the puff
states are computed and the kernel evaluates all receptors with the floor the hazard
uses (1 % of AEGL-1 split over the puffs). Prints the median wall time over the repeats
(the first, JIT-compiling call is excluded).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sim.core import plume
from sim.hazards.chemical import dispersion as disp
from sim.hazards.chemical.substances import get_substance


def one_run(x: np.ndarray, y: np.ndarray, puffs: int, wind: float) -> tuple[float, int]:
    cl = get_substance("chlorine")
    interval = 30.0
    t_rel, mass, seg = disp.release_segments(0.0, puffs * interval, [0.0], [5000.0], interval)
    floor = 0.01 * float(cl.ppm_to_g_m3(cl.aegl(1, 60))) / t_rel.size
    out = np.empty(x.size)
    exposed = 0
    start = time.perf_counter()
    for step in range(6 * 60 + 1):
        st = disp.puff_train_state(
            step * 60.0,
            source_x_m=9500.0,
            source_y_m=14500.0,
            height_m=0.0,
            t_release_s=t_rel,
            mass=mass,
            segment_s=seg,
            change_t_s=[0.0],
            speed_mps=[wind],
            from_deg=[30.0],
            stability="D",
            terrain="urban",
            initial_sigma_m=1.0,
        )
        st.pop("path_m")
        c = plume.concentration(plume.Puffs(**st), x, y, floor=floor, out=out)
        exposed = max(exposed, int(np.count_nonzero(c)))
    return time.perf_counter() - start, exposed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=300_000)
    ap.add_argument("--puffs", type=int, default=20)
    ap.add_argument("--wind", type=float, default=3.0, help="m/s")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 10_000.0, args.people)
    y = rng.uniform(0.0, 15_000.0, args.people)
    one = plume.Puffs(*(np.ones(1) for _ in plume.Puffs._fields))
    plume.concentration(one, x[:10], y[:10])  # compile (or load the cache) outside the timing
    times = []
    for _ in range(args.repeats):
        wall, exposed = one_run(x, y, args.puffs, args.wind)
        times.append(wall)
    print(
        f"{args.people} people x 361 minutes, {args.puffs} puffs, wind {args.wind} m/s: "
        f"median {statistics.median(times):.2f} s over {args.repeats} runs "
        f"(min {min(times):.2f}, max {max(times):.2f}); "
        f"at most {exposed} people above the floor at once"
    )


if __name__ == "__main__":
    main()
