"""Shared pytest fixtures and paths."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow running the suite from a checkout that is not installed
    sys.path.insert(0, str(REPO))

SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder with the real OSM / SRTM data; skips the test where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real-data test: {SHARED_DATA} is absent in this checkout")
    return SHARED_DATA
