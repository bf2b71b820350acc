"""This machine's floor for a vehicle kernel: memory bandwidth and random-access latency.

Issue 17 part 2. Two numbers bound any kernel that advances vehicles stored in arrays:

- **streaming bandwidth** (GB/s): numpy copy of a large float64 array (bytes read +
  bytes written per second) and a numba sum over it (bytes read per second). Arrays are
  ``--mib`` MiB each, far above the last-level cache, so the figure is DRAM's.
- **dependent-load latency** (ns): numba pointer chasing through one random cycle over
  ``--mib`` MiB of int64 (``i = nxt[i]``; every load waits for the previous one and
  misses the caches), and the same over a small array that fits in L1/L2, for contrast.

Each figure is the best of ``--repeats`` (the floor is the fastest the machine can do;
a shared machine only adds to it). Usage::

    python benchmarks/machine_floor.py            # prints one JSON line
    python benchmarks/machine_floor.py --mib 512 --repeats 7
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from numba import njit


@njit(cache=True)
def _sum(a: np.ndarray) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return s


@njit(cache=True)
def _chase(nxt: np.ndarray, steps: int) -> int:
    i = 0
    for _ in range(steps):
        i = nxt[i]
    return i


def random_cycle(n: int, seed: int = 0) -> np.ndarray:
    """``nxt`` such that ``i -> nxt[i]`` visits all ``n`` slots in one random cycle."""
    order = np.random.default_rng(seed).permutation(n)
    nxt = np.empty(n, dtype=np.int64)
    nxt[order[:-1]] = order[1:]
    nxt[order[-1]] = order[0]
    return nxt


def _best(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(mib: int = 256, repeats: int = 5, steps: int = 20_000_000) -> dict:
    """Measure the floor; see the module docstring. Returns GB/s (1e9 B/s) and ns."""
    n = mib * 2**20 // 8
    a = np.random.default_rng(1).random(n)
    b = np.empty_like(a)
    t_copy = _best(lambda: np.copyto(b, a), repeats)
    _sum(a[:10])  # compile / load from cache outside the timing
    t_sum = _best(lambda: _sum(a), repeats)
    big = random_cycle(n)
    small = random_cycle(4096)  # 32 KiB: cache-resident
    _chase(small, 10)
    t_big = _best(lambda: _chase(big, steps), repeats)
    t_small = _best(lambda: _chase(small, steps), repeats)
    return {
        "array_mib": mib,
        "copy_gb_s": 2 * a.nbytes / t_copy / 1e9,  # read + write
        "sum_gb_s": a.nbytes / t_sum / 1e9,
        "chase_dram_ns": t_big / steps * 1e9,
        "chase_cache_ns": t_small / steps * 1e9,
        "cores": os.cpu_count(),
        "load_avg_1min": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    """Print the floor as one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=256, help="array size, MiB (>> last-level cache)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20_000_000, help="pointer-chase loads")
    args = ap.parse_args(argv)
    print(json.dumps(measure(args.mib, args.repeats, args.steps)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
