"""Hot paths of one tick on the default-size district, mid-evacuation.

Run: ``python -m pytest benchmarks -q`` (see benchmarks/README.md). Each benchmark advances
a model to 45 simulated minutes (departures in full swing, queues on the arterials) and
then times one piece of the tick.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import queue, walk
from sim.model import EvacuationModel
from sim.population import build_population, sample_response

from .conftest import bench_sizes

SIZE = min(300_000, max(bench_sizes()))


@pytest.fixture(scope="module")
def busy_model(district, cache_dir) -> EvacuationModel:
    m = EvacuationModel(scenario_path=district(SIZE), cache_dir=cache_dir)
    while m.t_s < 45 * 60 and m.running:
        m.step()
    return m


def test_model_tick(benchmark, busy_model):
    """The whole tick: release, vehicles, pedestrians, shelters, (routing when needed)."""
    benchmark.extra_info["residents"] = busy_model.pop.n_persons
    benchmark.pedantic(busy_model.step, rounds=60, iterations=1, warmup_rounds=2)


def test_vehicle_kernel(benchmark, busy_model):
    m = busy_model
    benchmark.extra_info["vehicles_moving"] = int(np.count_nonzero(m.fleet.state == queue.MOVING))

    def tick():
        queue.step_vehicles(m.net.drive, m.queues, m.fleet, m.drive_next, m.target,
                            m.shelter_open, m.shelter_room, m.drive_speed_factor, m.t_s, m.tick_s)
        m.t_s += m.tick_s

    benchmark.pedantic(tick, rounds=60, iterations=1, warmup_rounds=2)


def test_walk_kernel(benchmark, busy_model):
    m = busy_model
    benchmark.extra_info["walkers_moving"] = int(np.count_nonzero(m.walkers.state == walk.MOVING))

    def tick():
        walk.step_walkers(m.net.walk, m.walkers, m.walk_persons_on, m.walk_next, m.target,
                          m.shelter_open, m.shelter_room, m.walk_speed_factor, m.t_s, m.tick_s)
        m.t_s += m.tick_s

    benchmark.pedantic(tick, rounds=60, iterations=1, warmup_rounds=2)


def test_routing_refresh(benchmark, busy_model):
    """Both next-hop tables (drive and walk) toward the open shelters."""
    benchmark.pedantic(busy_model._refresh_routes, rounds=20, iterations=1, warmup_rounds=1)


def test_person_counts(benchmark, busy_model):
    """State of every household and persons per state (one DataCollector sample)."""
    counts = benchmark(busy_model.person_counts)
    assert counts.sum() == busy_model.pop.n_persons


def test_build_population(benchmark, busy_model):
    """Households placed on the map and their warning / departure times drawn."""
    m = busy_model

    def build():
        rng = np.random.default_rng(1)
        pop = build_population(m.net, m.scenario, rng=rng)
        return sample_response(pop, m.scenario, rng=rng)

    benchmark.pedantic(build, rounds=5, iterations=1, warmup_rounds=1)
