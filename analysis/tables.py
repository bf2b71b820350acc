"""The tables of a run folder (format version 3): names, columns, and their readers.

A run folder holds ``manifest.json`` and the tables in :data:`TABLE_FILES`, with the
columns of :data:`TABLE_COLUMNS`. Times are seconds from scenario start; an empty cell
is a time that never happened (not arrived, never full). Every reader of run folders
(:mod:`analysis.metrics`, the figures, reports, drills, exports) reads them here.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pandas as pd

from analysis.memory_run import MemoryRun, RunSource, where
from sim._errors import RunFolderError

FORMAT_VERSION: Final = 3  # 2: the dead; 3: areas, shelters.sources, traffic/link_loads.npz
"""Version of the run-folder layout this module reads and :mod:`sim.runs` writes."""

TABLE_FILES: Final = {
    "households": "households.csv.gz",
    "timeseries": "timeseries.csv",
    "events": "events.csv",
    "shelters": "shelters.csv",
    "links": "links.csv.gz",
}
"""Table name to file name inside a run folder."""

# Column kinds: "int" integer, "flag" 0/1, "float" float64 (empty = NaN/inf, never
# happened), "id" an identifier kept as text (empty = none), "str" free text.
TABLE_COLUMNS: Final = {
    "households": {
        "household": "id", "zone": "id", "persons": "int", "vulnerable": "int",
        "mode": "str", "home_node": "int", "x_m": "float", "y_m": "float",
        "warned": "flag", "t_warned_s": "float", "complies": "flag",
        "t_depart_s": "float", "t_arrive_s": "float", "shelter": "id", "status": "str",
        "dead": "int",
    },
    "timeseries": {
        "t_s": "float", "not_warned": "int", "warned": "int", "staying": "int",
        "en_route": "int", "sheltered": "int", "stranded": "int", "dead": "int",
        "vehicles_moving": "int", "vehicles_waiting": "int", "walkers_moving": "int",
    },
    "events": {
        "t_s": "float", "kind": "str", "where": "str", "who": "str", "value": "float",
        "message": "str",
    },
    "shelters": {
        "shelter": "id", "name": "str", "kind": "str", "x_m": "float", "y_m": "float",
        "lon": "float", "lat": "float", "area_m2": "float", "capacity": "int",
        "occupancy": "int", "peak_occupancy": "int", "overflow": "int",
        "t_full_s": "float", "turned_away": "int",
    },
    "links": {
        "link": "int", "network": "str", "from_node": "int", "to_node": "int",
        "x0_m": "float", "y0_m": "float", "x1_m": "float", "y1_m": "float",
        "length_m": "float", "highway": "str", "storage": "int", "peak_count": "int",
        "exits": "int",
    },
}
"""Required columns of each table and their kind, in file order."""

MODES: Final = ("car", "walk")
STATUSES: Final = ("sheltered", "protected_in_place", "en_route", "waiting", "not_warned",
                    "warned", "staying", "stranded", "dead")
# Safe at the end of a run: in a shelter, or at home on a hazard's order to shelter in
# place (chemical release); every other status is "not sheltered".
SAFE_STATUSES: Final = ("sheltered", "protected_in_place")
TIMESERIES_STATES: Final = ("not_warned", "warned", "staying", "en_route", "sheltered",
                            "stranded", "dead")
ETE_PERCENTS: Final = (50, 90, 95, 100)
DECISION_PERCENT: Final = 90  # NUREG/CR-7002: the 90 % ETE drives decisions (REFS §4.1)
TRAVEL_PERCENTS: Final = (50, 90, 95, 100)
WARNING_TARGET_PERCENT: Final = 90  # district plan: warnings reach >= 90 % (DESIGN.md)

_PANDAS_DTYPE: Final = {"int": "int64", "flag": "int64", "float": "float64", "id": str,
                        "str": str}


def read_manifest(run_dir: RunSource) -> dict:
    """Read ``manifest.json`` of a run folder and check its format version.

    Parameters
    ----------
    run_dir : str, Path or MemoryRun
        The run folder (or a run held in memory, :mod:`analysis.memory_run`).

    Returns
    -------
    dict
        The manifest as written.

    Raises
    ------
    RunFolderError
        If the file is missing, not JSON, or of another format version.
    """
    path = where(run_dir, "manifest.json")
    try:
        manifest = (run_dir.manifest if isinstance(run_dir, MemoryRun)
                    else json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        msg = f"{path}: missing; expected a run folder written by evacsim"
        raise RunFolderError(msg) from None
    except json.JSONDecodeError as err:
        msg = f"{path}: not valid JSON ({err})"
        raise RunFolderError(msg) from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        # One message for every reader (analysis.runfolder.check_run_folder uses this).
        made_by = manifest.get("evacsim_version", "?") if isinstance(manifest, dict) else "?"
        msg = (f"{path}: format_version: expected {FORMAT_VERSION}, got {version!r} "
               f"(written by evacsim {made_by}); this evacsim cannot read that layout: "
               "re-run the scenario with this version (the manifest's command)")
        raise RunFolderError(msg)
    return manifest


def read_table(run_dir: RunSource, name: str) -> pd.DataFrame:
    """Read one table of a run folder with the dtypes of :data:`TABLE_COLUMNS`.

    Parameters
    ----------
    run_dir : str, Path or MemoryRun
        The run folder (or a run held in memory: its table as this reads the file).
    name : {"households", "timeseries", "events", "shelters", "links"}
        Table name.

    Returns
    -------
    pandas.DataFrame
        Int and flag columns as int64, float columns as float64 (empty cell = NaN),
        id and str columns as text (empty cell = ``""``). Extra columns are kept as read.

    Raises
    ------
    RunFolderError
        If the file is missing, a required column is absent or a cell has the wrong type.
    """
    if name not in TABLE_FILES:
        msg = f"table: expected one of {', '.join(TABLE_FILES)}, got {name!r}"
        raise ValueError(msg)
    if isinstance(run_dir, MemoryRun):
        return run_dir.table(name)
    path = Path(run_dir) / TABLE_FILES[name]
    kinds = TABLE_COLUMNS[name]
    try:
        head = pd.read_csv(path, nrows=0)
    except FileNotFoundError:
        msg = f"{path}: missing; expected the {name} table of a run folder"
        raise RunFolderError(msg) from None
    missing = [c for c in kinds if c not in head.columns]
    if missing:
        msg = f"{path}: missing columns {missing}; expected {list(kinds)}"
        raise RunFolderError(msg)
    floats = [c for c, k in kinds.items() if k == "float"]
    reads = _READS.get()
    key = None
    if reads is not None:  # inside reuse_reads(): the folder does not change meanwhile
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        if key in reads:
            return reads[key].copy()
    try:
        frame = pd.read_csv(
            path,
            dtype={c: _PANDAS_DTYPE[k] for c, k in kinds.items()},
            keep_default_na=False,  # a shelter named "NA" stays a name
            na_values={c: [""] for c in floats},
            encoding="utf-8",
        )
    except ValueError as err:
        msg = f"{path}: a cell does not match its column type ({err}); expected {kinds}"
        raise RunFolderError(msg) from None
    if key is not None:
        reads[key] = frame.copy()
    return frame


_READS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("_READS", default=None)


@contextlib.contextmanager
def reuse_reads() -> Iterator[None]:
    """Within the block, :func:`read_table` parses each table file once (copies after).

    For a writer that reads a run folder it has just written several times (metrics,
    then each figure): at 1,000,000 residents the households table takes ~1.5 s to
    parse. The caller promises the files do not change inside the block.
    """
    token = _READS.set({})
    try:
        yield
    finally:
        _READS.reset(token)


def _households(run_dir: RunSource) -> pd.DataFrame:
    """Households table with mode and status checked against the known values."""
    hh = read_table(run_dir, "households")
    for column, allowed in (("mode", MODES), ("status", STATUSES)):
        bad = sorted(set(hh[column].unique()) - set(allowed))
        if bad:
            path = where(run_dir, TABLE_FILES["households"])
            msg = f"{path}: {column}: expected one of {list(allowed)}, got {bad}"
            raise RunFolderError(msg)
    return hh
