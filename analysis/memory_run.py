"""A run folder's contents held in memory, for the readers of :mod:`analysis`.

:func:`sim.runs.write_run` turns a run's manifest, tables and hazard outputs into files,
and :func:`analysis.metrics.compute_metrics` reads them back. An experiment task wants only
the metrics, thousands of times: a :class:`MemoryRun` holds what the files would give back
without writing or parsing the large tables. Every reader that ``compute_metrics`` calls
(:func:`analysis.tables.read_table` and ``read_manifest``, the hazard, response, bus and
link-load readers) takes one in place of the run folder (``run_dir``) through the helpers
below, so the metrics are computed by the same code from either.

What a :class:`MemoryRun` returns must equal what the reader would get from the file
(the test ``tests/test_experiment_metrics.py`` compares both, bit for bit); it is built by
:func:`sim.experiments.memory.memory_run`, which knows the writer's format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["MemoryRun", "RunSource", "has_file", "load_npz", "read_csv", "where"]

# pandas 3 copies on write: a shallow copy is a fresh frame to its caller. Before it, a
# caller's in-place change would reach the kept frame, so those get a deep copy.
_DEEP_COPY = int(pd.__version__.split(".")[0]) < 3


class MemoryRun:
    """A run's manifest, core tables (as read) and other files, in memory.

    Parameters
    ----------
    label : str
        Where the run came from (for messages, in place of the folder's path).
    manifest : dict
        ``manifest.json`` as :func:`json.loads` gives it back.
    tables : mapping of str to DataFrame
        The core tables by name (``households``, ...), each exactly as
        :func:`analysis.tables.read_table` reads the written file.
    files : mapping of str to callable or mapping of arrays
        Other files by path relative to the run folder (``hazard/flood_links.csv``):
        ``.csv`` as a callable that takes ``pandas.read_csv``'s options and returns the
        frame that call would read from the written file; ``.npz`` as their arrays.
    """

    def __init__(self, label: str, manifest: dict, tables: Mapping[str, pd.DataFrame],
                 files: Mapping[str, Callable[..., pd.DataFrame] | Mapping[str, np.ndarray]]):
        self.label = label
        self.manifest = manifest
        self._tables = dict(tables)
        self._files = dict(files)
        self._read: dict[tuple[str, str], pd.DataFrame] = {}

    def table(self, name: str) -> pd.DataFrame:
        """A fresh frame of a core table: callers may change it, as one just read."""
        return self._tables[name].copy(deep=_DEEP_COPY)

    def csv(self, rel: str, **options) -> pd.DataFrame:
        """A fresh frame of the CSV file ``rel`` read with ``pandas.read_csv(**options)``.

        Read once per set of options (the response tables are read by several metrics).
        """
        key = (rel, repr(sorted(options.items())))
        if key not in self._read:
            reader = self.data(rel)
            if not callable(reader):
                msg = f"{where(self, rel)}: expected a CSV file, got arrays"
                raise ValueError(msg)
            self._read[key] = reader(**options)
        return self._read[key].copy(deep=_DEEP_COPY)

    def has(self, rel: str) -> bool:
        """Whether the run folder would hold the file ``rel``."""
        return rel in self._files

    def data(self, rel: str) -> Callable[..., pd.DataFrame] | Mapping[str, np.ndarray]:
        """A CSV file's reader or an .npz file's arrays (``FileNotFoundError`` if absent)."""
        try:
            return self._files[rel]
        except KeyError:
            raise FileNotFoundError(str(where(self, rel))) from None

    def __repr__(self) -> str:
        return f"MemoryRun({self.label!r})"


RunSource = str | Path | MemoryRun
"""What the readers take as ``run_dir``: a run folder or a run in memory."""


def where(run_dir: RunSource, rel: str) -> Path:
    """The path of ``rel`` in the run (for messages; a memory run's label is the folder)."""
    return Path(run_dir.label if isinstance(run_dir, MemoryRun) else run_dir) / rel


def has_file(run_dir: RunSource, rel: str) -> bool:
    """Whether the run holds the file ``rel`` (relative to the run folder)."""
    if isinstance(run_dir, MemoryRun):
        return run_dir.has(rel)
    return (Path(run_dir) / rel).is_file()


def read_csv(run_dir: RunSource, rel: str, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` of the run's file ``rel`` with the caller's options.

    A memory run gives the frame this call would read from the written file. Raises
    ``FileNotFoundError`` when the run has no such file.
    """
    if isinstance(run_dir, MemoryRun):
        return run_dir.csv(rel, **kwargs)
    return pd.read_csv(Path(run_dir) / rel, **kwargs)


def load_npz(run_dir: RunSource, rel: str) -> dict[str, np.ndarray]:
    """Every array of the run's ``.npz`` file ``rel`` (``FileNotFoundError`` if absent)."""
    if isinstance(run_dir, MemoryRun):
        arrays = run_dir.data(rel)
        if callable(arrays):
            msg = f"{where(run_dir, rel)}: expected an .npz file, got a table"
            raise ValueError(msg)
        return {k: np.asarray(v) for k, v in arrays.items()}
    with np.load(Path(run_dir) / rel, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
