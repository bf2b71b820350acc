"""Where the vehicle kernel's time goes on the city workload (issue 17 part 2).

numba-compiled code is one opaque frame to ``py-spy`` (``step_vehicles`` -> ``_step_kernel``),
so this script times every tick of ``sim.core.queue.step_vehicles`` (CPU seconds) on the
city workload of ``benchmarks/peers.py`` and fits, by least squares over the ticks,

    cpu_s(tick) = a * wait_entries + b * vehicle_events + c * link_visits + d

where ``wait_entries`` is the number of waiting vehicles the wait-list scan examined
(``StepStats.n_checked``; before the wait list was grouped, :mod:`sim.core.waitlist`, it
was the whole list every tick), ``vehicle_events`` the link-to-link moves + entries + arrivals, and
``link_visits`` passes x links. It prints one JSON line: the coefficients (ns per item),
each term's share of the kernel's CPU time, and the totals. Usage::

    python benchmarks/kernel_profile.py --g 50 --n 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload as wl  # noqa: E402 - the sibling module


def profile(g: int, n: int, dt_s: float = 5.0) -> dict:
    """Run the city workload tick by tick and fit the per-item costs (see the docstring)."""
    from sim.core.links import build_links
    from sim.core.queue import new_fleet, new_queues, release, step_vehicles
    from sim.routing import next_hop, stack_tables

    grid = wl.build_grid(g)
    dem = wl.build_city_demand(g, n)
    links = build_links(grid.from_node, grid.to_node, **wl.link_arrays(grid, wl.CITY_LANES),
                        n_nodes=grid.n_nodes)
    next_link = stack_tables([next_hop(links, grid.n_nodes, wl.side_nodes(g, s))
                              for s in range(wl.SIDES)])
    target = np.full(wl.SIDES, -1, dtype=np.int32)
    shelter_open = np.zeros(grid.n_nodes, dtype=np.bool_)
    shelter_open[wl.exits(g)] = True
    room = np.where(shelter_open, 10**12, 0).astype(np.int64)
    speed = np.ones(grid.n_links)
    fleet = new_fleet(n, origin=dem.origin, table=dem.side)
    queues = new_queues(links, n)
    rows = []
    t, released, arrived, first = 0.0, 0, 0, True
    while t < wl.HORIZON_S and arrived < n:
        t1 = min(t + dt_s, wl.HORIZON_S)
        k = int(np.searchsorted(dem.depart_s, t1, side="right"))
        if k > released:
            release(fleet, queues, np.arange(released, k), dem.depart_s[released:k])
            released = k
        c = time.process_time()
        st = step_vehicles(links, queues, fleet, next_link, target, shelter_open, room, speed,
                           t, t1 - t, check_values=first)
        cpu = time.process_time() - c
        first = False
        rows.append((cpu, st.n_checked, st.n_moved_links + st.n_entered + st.n_arrived,
                     st.n_passes * grid.n_links))
        arrived += st.n_arrived
        t = t1
    a = np.array(rows[1:], dtype=np.float64)  # the first tick also checks values
    x = np.column_stack([a[:, 1], a[:, 2], a[:, 3], np.ones(len(a))])
    coef, *_ = np.linalg.lstsq(x, a[:, 0], rcond=None)
    totals = x.sum(axis=0)
    share = coef * totals / a[:, 0].sum()
    return {
        "g": g, "n": n, "ticks": len(rows), "kernel_cpu_s": float(a[:, 0].sum()),
        "wait_entries": int(totals[0]), "vehicle_events": int(totals[1]),
        "link_visits": int(totals[2]),
        "ns_per_wait_entry": coef[0] * 1e9, "ns_per_vehicle_event": coef[1] * 1e9,
        "ns_per_link_visit": coef[2] * 1e9, "us_per_tick_fixed": coef[3] * 1e6,
        "share_wait": share[0], "share_events": share[1], "share_links": share[2],
        "share_fixed": share[3],
    }


def main(argv: list[str] | None = None) -> int:
    """Print the fit as one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--g", type=int, default=wl.CITY_G)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dt", type=float, default=5.0)
    args = ap.parse_args(argv)
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                      for k, v in profile(args.g, args.n, args.dt).items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
