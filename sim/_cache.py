"""Where evacsim keeps derived data (compiled maps, fetched data): resolved per call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

CACHE_ENV = "EVACSIM_CACHE_DIR"
"""Environment variable that moves the cache; default ``~/.cache/evacsim``."""


def resolve_cache_dir(cache_dir: Path | str | None | Literal[False]) -> Path | None:
    """Return the cache folder to use, or None when caching is switched off.

    Parameters
    ----------
    cache_dir : Path, str, None or False
        A folder; None for the default (``$EVACSIM_CACHE_DIR``, else
        ``~/.cache/evacsim``, read now, not at import); False for no cache.

    Returns
    -------
    Path or None
    """
    if cache_dir is False:
        return None
    if cache_dir is None:
        return Path(os.environ.get(CACHE_ENV, "~/.cache/evacsim")).expanduser()
    return Path(cache_dir).expanduser()
