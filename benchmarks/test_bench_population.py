"""Speed target of issue 11: population from buildings for 1,000,000 residents in < 5 s.

Run: ``python -m pytest benchmarks/test_bench_population.py -q`` (pytest-benchmark; the
median is the number to compare). The map is generated: a 150 × 150 street grid at 80 m
(12 km square, 22,500 junctions), ten zones (place points) and 250,000 building
footprints scattered over the blocks — 60 % houses, 15 % apartments with 3 to 12 tagged
storeys, 20 % untyped buildings in residential land, 5 % shops and churches (no
residents). Timed: :func:`sim.population.build_population` with ``source =
"buildings"`` and ``total`` = the residents asked: the largest-remainder split over
floor area, node spreading, household sizes, cars, 65+ members and walking speeds.

``EVACSIM_BENCH_SIZES`` (largest value, capped at 1,000,000) sets the residents, so the
smoke run of the benchmark suites stays small.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from sim.network.buildings import Buildings
from sim.population import build_population
from sim.scenario import Scenario

from .conftest import REPO, bench_sizes

RESIDENTS = min(1_000_000, max(bench_sizes()))


def _town(n_buildings: int):
    import sys

    sys.path.insert(0, str(REPO))
    from tests.data.scenarios.synthetic_net import grid_net

    k, spacing = 150, 80.0
    zones = [{"kind": "suburb", "name": f"Z{i}", "x_m": 400_000.0 + 1_200.0 * (i + 0.5) * 2,
              "y_m": 4_700_000.0 + 6_000.0} for i in range(5)]
    zones += [{"kind": "suburb", "name": f"Z{i + 5}", "x_m": z["x_m"], "y_m": 4_706_000.0 + 3_000.0}
              for i, z in enumerate(zones)]
    net = grid_net(k=k, spacing_m=spacing, zones=zones)
    rng = np.random.default_rng(11)
    x = 400_000.0 + rng.uniform(0, (k - 1) * spacing, n_buildings)
    y = 4_700_000.0 + rng.uniform(0, (k - 1) * spacing, n_buildings)
    kinds = rng.choice(["house", "apartments", "yes", "retail", "church"], n_buildings,
                       p=[0.60, 0.15, 0.20, 0.04, 0.01])
    levels = np.where(kinds == "apartments", rng.integers(3, 13, n_buildings), 0)
    zx, zy = np.array([z["x_m"] for z in zones]), np.array([z["y_m"] for z in zones])
    zone = np.argmin(np.hypot(x[:, None] - zx, y[:, None] - zy), axis=1)
    from scipy.spatial import cKDTree

    _, near = cKDTree(np.column_stack([net.nodes.x_m, net.nodes.y_m])).query(
        np.column_stack([x, y]))
    b = Buildings(
        osmid=np.arange(n_buildings, dtype=np.int64), x_m=x, y_m=y,
        footprint_m2=rng.uniform(60.0, 600.0, n_buildings), levels=levels.astype(np.int16),
        kind=kinds.astype(str), in_residential=np.ones(n_buildings, bool),
        other_use=np.zeros(n_buildings, bool),
        zone=np.array([zones[i]["name"] for i in zone], dtype=str),
        drive_node=near.astype(np.int32), walk_node=near.astype(np.int32),
        material=np.full(n_buildings, "", dtype=str), year=np.full(n_buildings, -1, np.int16))
    return dataclasses.replace(net, buildings=b)


@pytest.fixture(scope="module")
def town():
    return _town(max(1_000, RESIDENTS // 4))


def test_population_from_buildings(benchmark, town, tmp_path_factory):
    d = tmp_path_factory.mktemp("pop")
    (d / "m.osm").write_text("<osm/>")
    spec = Scenario.from_dict(
        {"scenario": {"name": "bench", "map": "m.osm", "seed": 1},
         "population": {"source": "buildings", "total": RESIDENTS}},
        source=str(Path(d) / "s.toml"), base_dir=d)
    benchmark.extra_info["residents"] = RESIDENTS
    benchmark.extra_info["buildings"] = len(town.buildings)
    pop = benchmark.pedantic(
        lambda: build_population(town, spec, rng=np.random.default_rng(1)),
        rounds=5, iterations=1, warmup_rounds=1)
    assert pop.n_persons == RESIDENTS
