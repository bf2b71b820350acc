"""Shared pytest fixtures and paths."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow running the suite from a checkout that is not installed
    sys.path.insert(0, str(REPO))

from tests.required import skip_unless_ci  # noqa: E402 - needs the checkout on sys.path

SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder with the real OSM / SRTM data; skips where absent, fails in CI."""
    if not SHARED_DATA.is_dir():
        skip_unless_ci(f"real-data test: {SHARED_DATA} is absent in this checkout")
    return SHARED_DATA


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_district", REPO / "maps" / "generate_district.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def small_district(tmp_path_factory) -> Path:
    """A 20,000-person generated district and a scenario file that points at it."""
    d = tmp_path_factory.mktemp("district")
    gen = _generator()
    gen.generate(population=20_000, seed=3, out_dir=d, name="small")
    gen.write_scenario(d, "small")
    return d


@pytest.fixture(scope="session")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def drawn(monkeypatch) -> dict:
    """Figures saved during a test, by file name: assert on what they draw, not on bytes.

    Every evacsim figure ends in ``Figure.savefig``; this records the figure object (axes,
    artists, labels, limits) and still writes the file.
    """
    from matplotlib.figure import Figure

    saved: dict = {}
    original = Figure.savefig

    def record(self, fname, *args, **kwargs):
        saved[Path(fname).name] = self
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return saved
