"""Cost of the road levers (issue 14): the default district with and without them.

Run::

    python -m benchmarks.bench_levers [--scenario scenarios/default.toml] [--repeat 3]

Times ``EvacuationModel.run()`` (model build excluded, map loaded once) of three plans,
alternating so machine noise hits all alike:

- ``plan``: ``scenarios/plans/default.toml`` (no road lever);
- ``levers``: the same plus contraflow, the traffic control points, the green channel
  (all roads) and informed drivers (50 %, every 5 min) — the road sections of the
  shipped examples together;
- ``informed``: the plan plus informed drivers only.

Prints the median wall time of each, the ratios against ``plan`` (targets: levers < 1.5x,
informed < 1.3x) and the load average, since the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tomllib
from pathlib import Path

from sim.model import EvacuationModel
from sim.network import load_map
from sim.plan import Plan
from sim.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
PLANS = REPO / "scenarios" / "plans"


def _plans() -> dict[str, Plan]:
    base = tomllib.loads((PLANS / "default.toml").read_text())
    lever = {p: tomllib.loads((PLANS / f"{p}.toml").read_text())
             for p in ("contraflow", "traffic-control", "green-channel", "informed-drivers")}
    roads = {"contraflow": lever["contraflow"]["roads"]["contraflow"],
             "control_points": lever["traffic-control"]["roads"]["control_points"],
             "green_channel": lever["green-channel"]["roads"]["green_channel"]}
    rc = lever["informed-drivers"]["route_choice"]
    return {
        "plan": Plan.from_dict(base, source="default.toml"),
        "levers": Plan.from_dict({**base, "roads": roads, "route_choice": rc},
                                 source="levers"),
        "informed": Plan.from_dict({**base, "route_choice": rc}, source="informed"),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark; return the median seconds per configuration."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(REPO / "scenarios" / "default.toml"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    sc = load_scenario(args.scenario)
    net = load_map(sc.scenario.map, jam_spacing_m=sc.traffic.jam_spacing_m)
    plans = _plans()
    times: dict[str, list[float]] = {k: [] for k in plans}
    loads = []
    for _ in range(args.repeat):
        for name, plan in plans.items():
            m = EvacuationModel(scenario=sc, network=net, plan=plan)
            t = time.perf_counter()
            m.run()
            times[name].append(time.perf_counter() - t)
            loads.append(os.getloadavg()[0])
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:9s} median {med[k]:6.2f} s  runs {[round(x, 2) for x in v]}  "
              f"x{med[k] / med['plan']:.2f} of plan")
    print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
    return med


if __name__ == "__main__":
    main()
