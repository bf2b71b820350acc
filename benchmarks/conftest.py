"""Fixtures of the pytest-benchmark suites: generated districts at the sizes asked for.

Sizes come from ``EVACSIM_BENCH_SIZES`` (comma-separated residents; default
``10000,100000,300000,1000000``), so the smoke test in ``tests/`` can run every
benchmark once on the smallest district.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def bench_sizes() -> list[int]:
    """Residents per generated district, from ``EVACSIM_BENCH_SIZES``."""
    raw = os.environ.get("EVACSIM_BENCH_SIZES", "10000,100000,300000,1000000")
    return [int(s) for s in raw.split(",") if s.strip()]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_district", REPO / "maps" / "generate_district.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def district(tmp_path_factory):
    """``district(size) -> scenario path`` for a generated district of ``size`` residents."""
    work = tmp_path_factory.mktemp("districts")
    made: dict[int, Path] = {}

    def make(size: int) -> Path:
        if size not in made:
            name = f"district-{size}"
            gen = _generator()
            gen.generate(population=size, seed=1, out_dir=work, name=name)
            made[size] = gen.write_scenario(work, name)
        return made[size]

    return make


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """A compiled-map cache shared by the benchmarks of one session."""
    return tmp_path_factory.mktemp("cache")
