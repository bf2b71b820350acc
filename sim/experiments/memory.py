"""A finished run's outputs as a :class:`~analysis.memory_run.MemoryRun`: no files.

:func:`sim.runs.write_run` formats the tables as CSV and :func:`analysis.tables.read_table`
parses them back; :func:`memory_run` gives the readers the frames that round trip would
give, from the frames in memory:

- float columns: float64, inf and NaN as NaN (the writer's empty cell). The writer writes
  the shortest repr that round-trips and pandas parses it back to the same double, so the
  value is the model's own;
- int and flag columns: int64;
- id and str columns: the writer's own text of each cell (``sim.runs._column_text``; whole
  numbers and text without missing cells directly) as ``str``, the dtype ``read_table``
  asks for;
- columns beyond :data:`~analysis.tables.TABLE_COLUMNS` (``shelters.sources``): written as
  text and parsed back by pandas, as ``read_table`` keeps them "as read";
- hazard, response and bus CSVs, as the reader's own ``pandas.read_csv`` options read
  them (:func:`read_back`): int and bool columns int64, float columns float64 with
  non-finite values NaN where those options make the empty cell NaN; every other column
  (text, whose type pandas infers from the cells) is written by the writer
  (``sim.runs._extra_table_bytes``) and parsed by that same call, alone with the other
  such columns (pandas infers each column from its own cells);
- ``.npz`` files: their arrays (``np.save`` / ``np.load`` keep dtype and shape);
- the manifest: its JSON round trip, without the table checksums (no metric reads them).

Inputs the writer would refuse (a missing table or column, a text cell in a number column)
are refused here with the writer's message. ``tests/test_experiment_metrics.py`` checks
that the metrics equal ``metrics.json`` of the written folder, bit for bit.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Mapping
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from analysis.memory_run import MemoryRun
from analysis.tables import FORMAT_VERSION, TABLE_FILES
from sim._errors import RunFolderError

__all__ = ["as_read", "memory_run", "read_back"]

# pandas.read_csv options whose effect read_back knows; any other option parses the
# written bytes of the whole table.
_KNOWN_OPTIONS = frozenset({"keep_default_na", "na_values", "encoding"})


def _floats(values: pd.Series, where: str) -> np.ndarray:
    """A float column as read back: float64, non-finite as NaN."""
    from sim.runs import _column_text

    if values.dtype.kind in "fiub":
        x = values.to_numpy(np.float64, na_value=np.nan)
    else:  # anything else goes through the writer's checks and text, then is parsed
        text = _column_text(values, "float", where)
        x = np.array([float(v) if v else np.nan for v in text], dtype=np.float64)
    return np.where(np.isfinite(x), x, np.nan)


def _ints(values: pd.Series, kind: str, where: str) -> np.ndarray:
    """An int or flag column as read back: int64 (the writer's checks for other dtypes)."""
    from sim.runs import _column_text

    if values.dtype.kind in "iub" and not values.hasnans:
        ints = values.to_numpy().astype(np.int64)
        if kind == "flag" and np.any((ints != 0) & (ints != 1)):
            _column_text(values, kind, where)  # raises the writer's message
        return ints
    return _column_text(values, kind, where).astype(np.int64)


def _text(values: pd.Series, kind: str, where: str) -> pd.Series:
    """An id or str column as read back: the writer's text of each cell, as ``str``.

    Two common cases skip the writer's per-cell conversion and give the same text: whole
    numbers (``str(int)``, empty where missing) and text without a missing cell (itself).
    """
    from sim.runs import _column_text

    dtype = values.dtype
    if dtype.kind in "iu":  # numpy or nullable integers
        missing = values.isna().to_numpy()
        text = values.to_numpy(np.int64, na_value=0).astype(str).astype(object)
        text[missing] = ""
    elif isinstance(dtype, pd.StringDtype) and not values.hasnans:
        return values.astype(str).reset_index(drop=True)
    else:
        text = _column_text(values, kind, where)
    return pd.Series(text, dtype=str)


def as_read(name: str, table: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    """One core table as :func:`analysis.tables.read_table` reads it after the writer.

    Parameters
    ----------
    name : {"households", "timeseries", "events", "shelters", "links"}
        Table name.
    table : DataFrame or numpy structured array
        The table given to :func:`sim.runs.write_run` (``sim.results.tables``).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`~analysis.tables.TABLE_COLUMNS` in file order, then the
        extra columns, with ``read_table``'s dtypes and values.

    Raises
    ------
    RunFolderError
        Where the writer would refuse the table.
    """
    from sim.runs import _column_text, _csv_bytes, _table_frame

    file_name, frame, kinds = _table_frame(name, table)
    out: dict[str, object] = {}
    for column, kind in kinds.items():
        where = f"{file_name}: {column}"
        if kind == "float":
            out[column] = _floats(frame[column], where)
        elif kind in ("int", "flag"):
            out[column] = _ints(frame[column], kind, where)
        else:
            out[column] = _text(frame[column], kind, where)
    extras = [c for c in frame.columns if c not in kinds]
    result = pd.DataFrame(out)
    if extras:  # no declared type: what pandas infers from the written text
        text = _csv_bytes(extras, [_column_text(frame[c], "str", f"{file_name}: {c}")
                                   for c in extras])
        parsed = pd.read_csv(io.BytesIO(text), keep_default_na=False, encoding="utf-8")
        result = pd.concat([result, parsed], axis=1)
    return result


def _empty_is_na(column: str, options: Mapping[str, object]) -> bool:
    """Whether ``pandas.read_csv`` with ``options`` reads an empty cell of ``column`` as NaN."""
    if options.get("keep_default_na", True):
        return True  # "" is one of pandas' default NA strings
    na = options.get("na_values")
    if isinstance(na, Mapping):
        na = na.get(column)
    if na is None:
        return False
    return na == "" if isinstance(na, str) else "" in list(na)


def read_back(rel: str, frame: pd.DataFrame, **options) -> pd.DataFrame:
    """``pandas.read_csv(<rel as written by sim.runs>, **options)``, from ``frame``.

    Parameters
    ----------
    rel : str
        The file's path in the run folder (``hazard/earthquake_buildings.csv``).
    frame : DataFrame
        The table given to :func:`sim.runs.write_run` in ``extra``.
    **options
        The reader's ``pandas.read_csv`` options.

    Returns
    -------
    pandas.DataFrame
        The frame that call gives for the written file (see the module notes).
    """
    from sim.runs import _extra_table_bytes

    def parse(sub: pd.DataFrame) -> pd.DataFrame:
        return pd.read_csv(io.BytesIO(_extra_table_bytes(rel, sub)), **options)

    columns = list(frame.columns)
    if (len(frame) == 0 or set(options) - _KNOWN_OPTIONS or len(set(columns)) < len(columns)
            or not all(isinstance(c, str) and c for c in columns)):
        return parse(frame)  # header-only files, unknown options, odd headers: as written
    direct: dict[str, np.ndarray] = {}
    for column in columns:
        values = frame[column]
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iub":
            direct[column] = values.to_numpy().astype(np.int64)  # written as whole numbers
        elif isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
            x = values.to_numpy(np.float64)
            finite = np.isfinite(x)
            if finite.all() or _empty_is_na(column, options):
                direct[column] = np.where(finite, x, np.nan)  # repr parses back exactly
    rest = [c for c in columns if c not in direct]
    parsed = parse(frame[rest]) if rest else None
    return pd.DataFrame({c: direct[c] if c in direct else parsed[c] for c in columns})


def _files(extra: Mapping[str, object]) -> dict[str, object]:
    """Hazard outputs by path: readers of ``.csv`` files, arrays of ``.npz`` files."""
    out: dict[str, object] = {}
    for rel, value in extra.items():
        path = PurePosixPath(rel)
        parts = path.parts
        if (path.is_absolute() or len(parts) != 2 or parts[0] not in ("hazard", "traffic")
                or ".." in parts):  # the writer's rule (sim.runs._extra_payload)
            msg = f"extra: expected paths like 'hazard/<name>.csv' or '.npz', got {rel!r}"
            raise RunFolderError(msg)
        if path.suffix == ".csv":
            if not isinstance(value, pd.DataFrame):
                msg = f"extra[{rel!r}]: expected a DataFrame, got {type(value)}"
                raise RunFolderError(msg)
            out[rel] = functools.partial(read_back, rel, value)
        elif path.suffix == ".npz":
            arrays = {k: np.asarray(v) for k, v in value.items()}
            for key, array in arrays.items():
                if array.dtype == object:
                    msg = (f"extra[{rel!r}][{key!r}]: expected a numeric or string array, "
                           "got objects")
                    raise RunFolderError(msg)
            out[rel] = arrays
        else:
            msg = f"extra: {rel!r}: expected a .csv or .npz file name"
            raise RunFolderError(msg)
    return out


def memory_run(manifest: Mapping[str, object], tables: Mapping[str, pd.DataFrame | np.ndarray],
               extra: Mapping[str, object] | None = None, *,
               label: str = "<run in memory>") -> MemoryRun:
    """What :func:`sim.runs.write_run` would write, as its readers would read it back.

    Parameters
    ----------
    manifest : mapping
        Manifest fields (``sim.results.manifest``).
    tables : mapping of str to DataFrame or structured array
        Exactly the tables of :data:`~analysis.tables.TABLE_FILES` (``sim.results.tables``).
    extra : mapping, optional
        Hazard outputs by relative path (``sim.results.extra``).
    label : str, default "<run in memory>"
        Stands for the folder's path in messages.

    Returns
    -------
    MemoryRun
        For :func:`analysis.metrics.compute_metrics` and the readers it calls.

    Raises
    ------
    RunFolderError
        Where ``write_run`` would refuse the same inputs.
    """
    from sim.runs import _json_bytes

    unknown = sorted(set(tables) - set(TABLE_FILES))
    absent = [name for name in TABLE_FILES if name not in tables]
    if unknown or absent:
        msg = (f"tables: expected exactly {list(TABLE_FILES)}, "
               f"missing {absent}, unexpected {unknown}")
        raise RunFolderError(msg)
    if manifest.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        msg = (f"manifest: format_version: expected {FORMAT_VERSION}, "
               f"got {manifest['format_version']!r}")
        raise RunFolderError(msg)
    read = {name: as_read(name, tables[name]) for name in TABLE_FILES}
    files = _files(extra or {})
    man = json.loads(_json_bytes({"format_version": FORMAT_VERSION, **manifest}, "manifest"))
    return MemoryRun(label, man, read, files)
