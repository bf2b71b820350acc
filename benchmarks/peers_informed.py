"""Informed drivers (issue 14, part 6) on the peer workload of ``benchmarks/peers.py``.

Mean travel time on the grid-to-corners workload with a share of evacsim's drivers
re-routing every ``--update-min`` minutes on current travel times
(:func:`sim.route_choice.congested_cost_s`, one Dijkstra per corner per update), next to
the all-static run and, when ``uxsim`` is installed (``pip install -e .[peers]``), UXsim's
default dynamic user-optimal route choice (``World(cpp=True)``, platoon 5, as in
``peers.py``). Each vehicle keeps its corner (the workload fixes destinations); only the
route to it changes. Usage::

    python benchmarks/peers_informed.py --size 20x10000 --shares 0 0.5 1 --update-min 5
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload as wl  # noqa: E402  (the sibling module, as peers.py does)


def run_informed(g: int, n: int, share: float, *, update_s: float = 300.0, dt_s: float = 5.0,
                 seed: int = 1) -> np.ndarray:
    """evacsim's kernel on the workload with ``share`` informed drivers; travel times, s."""
    from sim.core.links import build_links
    from sim.core.queue import new_fleet, new_queues, release, step_vehicles
    from sim.route_choice import congested_cost_s, informed_mask
    from sim.routing import next_hop, stack_tables

    grid = wl.build_grid(g)
    dem = wl.build_demand(g, n)
    links = build_links(grid.from_node, grid.to_node, **wl.link_arrays(grid), n_nodes=grid.n_nodes)
    static = [next_hop(links, grid.n_nodes, grid.corners[c:c + 1],
                       cost_s=wl.tie_break_cost_s(grid, c)) for c in range(4)]
    next_link = stack_tables(static + static)  # rows 4..7: informed drivers of corner 0..3
    target = np.r_[grid.corners, grid.corners].astype(np.int32)
    informed = informed_mask(n, share, seed)
    fleet = new_fleet(n, origin=dem.origin, table=dem.corner + 4 * informed)
    queues = new_queues(links, n)
    shelter_open = np.zeros(grid.n_nodes, dtype=np.bool_)
    room = np.zeros(grid.n_nodes, dtype=np.int64)
    sf = np.ones(grid.n_links)
    t, released, arrived, due = 0.0, 0, 0, 0.0
    while t < wl.HORIZON_S and arrived < n:
        if share > 0 and t >= due:
            due += update_s
            cost = congested_cost_s(links.fft_s, sf, queues.count, links.capacity_vps)
            for c in range(4):
                next_link[4 + c] = next_hop(links, grid.n_nodes, grid.corners[c:c + 1],
                                            cost_s=cost).next_link
        t1 = min(t + dt_s, wl.HORIZON_S)
        k = int(np.searchsorted(dem.depart_s, t1, side="right"))
        if k > released:
            release(fleet, queues, np.arange(released, k), dem.depart_s[released:k])
            released = k
        arrived += step_vehicles(links, queues, fleet, next_link, target, shelter_open, room,
                                 sf, t, t1 - t).n_arrived
        t = t1
    return fleet.t_arrive_s - dem.depart_s


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="20x10000", help="GxN: grid side and vehicles")
    ap.add_argument("--shares", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    ap.add_argument("--update-min", type=float, default=5.0)
    ap.add_argument("--no-uxsim", action="store_true")
    args = ap.parse_args(argv)
    g, n = (int(x) for x in args.size.split("x"))
    out: dict = {"size": args.size, "update_min": args.update_min, "evacsim": {}}
    for s in args.shares:
        tt = run_informed(g, n, s, update_s=args.update_min * 60.0)
        done = tt[np.isfinite(tt)]
        out["evacsim"][f"share={s:g}"] = {"mean_tt_s": float(done.mean()),
                                          "arrived": int(done.size)}
        print(f"evacsim informed share {s:g}: mean travel time {done.mean():.1f} s "
              f"({done.size} of {n} arrived)", flush=True)
    if not args.no_uxsim:
        try:
            import peers  # noqa: F401  (needs uxsim through its child)
            import uxsim  # noqa: F401
        except ImportError:
            print("uxsim is not installed: pip install -e .[peers]")
        else:
            from peers import _child_uxsim

            res = _child_uxsim(g, n, "cpp-5")
            out["uxsim_duo_cpp5"] = res
            print(f"UXsim DUO (cpp, platoon 5): mean travel time {res['mean_tt_s']:.1f} s "
                  f"({res['arrived']} of {res['demand']} arrived)")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
