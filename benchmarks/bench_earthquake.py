"""Earthquake speed target: shaking and damage for 100,000 buildings in under 2 s.

Run: ``python benchmarks/bench_earthquake.py [--buildings 100000] [--repeats 5]``.
Times :meth:`EarthquakeHazard.update` at the moment of the earthquake — ground motion
(Yu et al. 2013 or BSSA14, correlated variability), damage states, casualties of every
resident, trapped / displaced households, debris on the roads, incidents and the output
tables — on a synthetic town of square blocks; ``bind`` (inventory, indexes) is timed
apart. Prints the median over the repeats (a fresh hazard each time: it strikes once).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sim.hazards.base import PeopleView  # noqa: E402
from sim.hazards.earthquake.hazard import EarthquakeHazard, EarthquakeSpec  # noqa: E402
from tests.data.scenarios.synthetic_net import ORIGIN, grid_net  # noqa: E402

PER_BLOCK = 40  # buildings per 80 m x 80 m block (160 m2 footprints, full coverage)
HH_PER_BUILDING = 2.5


def town(n_buildings: int):
    """A k x k street grid (100 m) with one residential block per cell."""
    blocks = math.ceil(n_buildings / PER_BLOCK)
    k = math.ceil(math.sqrt(blocks)) + 1
    rows = [{"kind": "residential", "x_m": ORIGIN[0] + (i + 0.5) * 100.0,
             "y_m": ORIGIN[1] + (j + 0.5) * 100.0, "area_m2": 6400.0}
            for i in range(k - 1) for j in range(k - 1)][:blocks]
    return grid_net(k, 100.0, residential=rows), k


def people(net, n_buildings: int, seed: int = 0) -> PeopleView:
    rng = np.random.default_rng(seed)
    res = net.residential
    n = int(n_buildings * HH_PER_BUILDING)
    owner = rng.integers(0, len(res), n)
    x = res.x_m[owner] + rng.uniform(-40, 40, n)
    y = res.y_m[owner] + rng.uniform(-40, 40, n)
    return PeopleView(x, y, rng.integers(1, 5, n).astype(np.int32), np.zeros(n, np.int8),
                      np.ones(n, bool), np.zeros(n, bool), np.full(n, -1, np.int32),
                      np.full(n, -1, np.int32))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buildings", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--gmpe", choices=("yu2013", "bssa14"), default="yu2013")
    args = ap.parse_args(argv)
    net, k = town(args.buildings)
    pv = people(net, args.buildings)
    centre = (ORIGIN[0] + 50.0 * k, ORIGIN[1] + 50.0 * k)
    spec = EarthquakeSpec.model_validate({
        "magnitude": 7.0, "magnitude_type": "Ms", "gmpe": args.gmpe, "strike_deg": 0.0,
        "epicentre_xy_m": (centre[0] - 3000.0, centre[1]), "mechanism": "NS",
        "variability": "correlated",
        "buildings": {"footprint_m2": 160.0, "coverage": 1.0, "setback_m": 2.0}})
    binds, strikes = [], []
    for r in range(args.repeats):
        hz = EarthquakeHazard.from_spec(spec)
        t0 = time.perf_counter()
        hz.bind(net, rng=np.random.default_rng(r))
        t1 = time.perf_counter()
        hz.update(0.0, pv)
        t2 = time.perf_counter()
        binds.append(t1 - t0)
        strikes.append(t2 - t1)
    s = hz.tables()["summary"].iloc[0]
    print(f"{len(hz.inventory):,} buildings, {int(pv.persons.sum()):,} residents, "
          f"{net.drive.n_links:,} drive links, gmpe {args.gmpe}")
    print(f"bind   median {statistics.median(binds):.3f} s")
    print(f"strike median {statistics.median(strikes):.3f} s (target < 2 s; "
          f"{args.repeats} repeats, min {min(strikes):.3f}, max {max(strikes):.3f})")
    print(f"  damage: {int(s['buildings_complete'])} complete, "
          f"{int(s['buildings_collapsed'])} collapsed; {int(s['persons_trapped'])} trapped; "
          f"{s['road_km_closed']:.1f} road-km closed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
