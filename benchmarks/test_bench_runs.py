"""Whole runs of the generated district at 10k / 100k / 300k / 1M residents (6 h horizon).

Timed in-process (model build from the cached map, the run, the run-folder tables);
``benchmarks/scaling.py`` times the same as fresh ``evacsim run`` processes with peak memory.
"""

from __future__ import annotations

import pytest

from sim import results
from sim.model import EvacuationModel

from .conftest import bench_sizes


@pytest.mark.parametrize("size", bench_sizes())
def test_whole_run(benchmark, district, cache_dir, size):
    scenario = district(size)
    EvacuationModel(scenario_path=scenario, cache_dir=cache_dir)  # compile/cache the map first

    def run():
        m = EvacuationModel(scenario_path=scenario, cache_dir=cache_dir)
        m.run()
        results.tables(m)
        return m

    m = benchmark.pedantic(run, rounds=1 if size >= 300_000 else 3, iterations=1)
    benchmark.extra_info.update(residents=m.pop.n_persons, simulated_s=m.t_s,
                                drive_links=m.net.drive.n_links)
    assert m.person_counts().sum() == m.pop.n_persons
