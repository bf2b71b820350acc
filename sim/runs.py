"""A run folder on disk: checked before the run, written atomically after it.

Layout (format version 3, see :mod:`analysis.metrics` for the columns)::

    runs/<scenario>-seed<seed>/
        manifest.json      inputs, their sha256, seed, versions, table checksums
        households.csv.gz  one row per household
        timeseries.csv     person counts per state over time
        events.csv         the event log
        shelters.csv       loads per shelter
        links.csv.gz       peak load per link
        traffic/link_loads.npz  vehicles and queue per drive link per sample (docs/report.md)
        metrics.json       computed by analysis.metrics from the files above
        figures/map.png, figures/arrivals.png

Everything is written into a hidden sibling folder first and renamed into place at the
end, so a run folder either exists complete or not at all. Files are byte-identical for
identical inputs except ``created_utc``, ``wall_s`` and ``command`` in the manifest:
floats are written with the shortest repr that round-trips (``repr(float)``), inf and
NaN as an empty cell, lines end in LF, text is UTF-8, and gzip headers carry no
file name and ``mtime=0``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.metrics import FORMAT_VERSION, TABLE_COLUMNS, TABLE_FILES, compute_metrics
from sim._errors import RunFolderError
from sim.background import Background, Gate
from sim.i18n import check_lang, t

logger = logging.getLogger(__name__)

MANIFEST_NONDETERMINISTIC = ("created_utc", "wall_s", "command")
"""Manifest fields that differ between two otherwise identical runs."""

_LATE = ("households",)
"""Tables formatted and written after the figure process is forked: one row per household,
millions of cells (0.8 s of the flash-flood run's 2.4 s writing, issue 17 part 4)."""


def default_out_dir(scenario_name: str, seed: int, root: str | Path = Path("runs")) -> Path:
    """Default folder of a run: ``<root>/<scenario_name>-seed<seed>``.

    Parameters
    ----------
    scenario_name : str
        Scenario name; characters other than letters, digits, ``_``, ``.`` and ``-``
        become ``-`` (Chinese letters are kept).
    seed : int
        Non-negative RNG seed.
    root : str or Path, default "runs"
        Folder that holds runs.

    Returns
    -------
    Path

    Examples
    --------
    >>> default_out_dir("flood drill", 7).as_posix()
    'runs/flood-drill-seed7'
    """
    slug = re.sub(r"[^\w.-]+", "-", scenario_name).strip("-.") or "run"
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed: expected a non-negative integer, got {seed!r}"
        raise ValueError(msg)
    return Path(root) / f"{slug}-seed{int(seed)}"


def list_runs(root: str | Path = Path("runs")) -> list[Path]:
    """Run folders (folders holding a ``manifest.json``) directly under ``root``, by name.

    Parameters
    ----------
    root : str or Path, default "runs"
        Folder that holds runs. A missing ``root`` gives an empty list.

    Returns
    -------
    list of Path
        Hidden folders (unfinished writes, folders being replaced) are skipped.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").is_file()
    )


def check_out_dir(out_dir: str | Path, force: bool = False, *, lang: str = "en") -> Path:
    """Check that a run can be written to ``out_dir``; call it before the simulation.

    Parameters
    ----------
    out_dir : str or Path
        Folder the run will become.
    force : bool, default False
        Allow replacing an existing run folder (one holding ``manifest.json``) or an
        empty folder. Other folders are never replaced, so ``--out . --force`` cannot
        delete a working directory.
    lang : {"en", "zh"}, default "en"
        Language of the error message.

    Returns
    -------
    Path
        ``out_dir`` as a Path.

    Raises
    ------
    RunFolderError
        If ``out_dir`` is a file, exists without ``force``, exists with ``force`` but is
        not a run folder, or its nearest existing parent is a file or not writable.
    """
    check_lang(lang)
    out_dir = Path(out_dir)
    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir() or out_dir.is_symlink():
            raise RunFolderError(t("run.not_a_folder", lang, path=out_dir))
        if not force:
            raise RunFolderError(t("run.exists", lang, path=out_dir))
        if not (out_dir / "manifest.json").is_file() and any(out_dir.iterdir()):
            raise RunFolderError(t("run.not_a_run", lang, path=out_dir))
    parent = out_dir.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise RunFolderError(t("run.parent_not_folder", lang, path=out_dir, parent=parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunFolderError(t("run.not_writable", lang, path=out_dir, parent=parent))
    return out_dir


def _column_text(values: pd.Series, kind: str, where: str) -> np.ndarray:
    """Convert one column to the text written in the CSV (see module notes)."""
    raw = values.to_numpy()
    if kind == "float":
        x = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
        bad = values.notna().to_numpy() & np.isnan(x)
        if bad.any():
            msg = f"{where}: expected numbers, got {values[bad].iloc[0]!r}"
            raise RunFolderError(msg)
        return _float_cells(x)
    if kind in ("int", "flag"):
        if raw.dtype.kind in "iub":
            ints = raw.astype(np.int64)
        else:
            x = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
            wrong = ~np.isfinite(x) | (x != np.round(x))
            if wrong.any():
                msg = (f"{where}: expected whole numbers with no empty cell, "
                       f"got {values[wrong].iloc[0]!r}")
                raise RunFolderError(msg)
            ints = x.astype(np.int64)
        if kind == "flag" and np.any((ints != 0) & (ints != 1)):
            msg = f"{where}: expected 0/1, got {sorted(set(ints.tolist()) - {0, 1})}"
            raise RunFolderError(msg)
        return ints.astype(object)  # Python ints: the csv writer prints str(int)
    if raw.dtype.kind in "iu":
        return raw.astype(object)
    # "id" and "str": None/NaN -> empty; integral floats (ids that passed through a float
    # column because some were missing) lose their ".0" so they match the other table.
    if raw.dtype.kind == "f":
        x = raw.astype(np.float64)
        finite = np.isfinite(x)
        text = _float_cells(x)
        if kind == "id":
            whole = finite & (x == np.round(x))
            text[whole] = x[whole].astype(np.int64).astype(object)
        return text
    series = pd.Series(raw, dtype=object)
    missing = series.isna().to_numpy()
    text = series.astype(str).to_numpy(dtype=object)
    text[missing] = ""
    if kind == "id":
        floats = np.fromiter((isinstance(v, float) and v.is_integer() for v in raw), bool, len(raw))
        text[floats] = [str(int(v)) for v in raw[floats]]
    return text


def _float_cells(x: np.ndarray) -> np.ndarray:
    """CSV cells of a float64 column: the number, or an empty cell where not finite.

    Python floats, which the csv writer prints with ``repr``: the shortest round-trip
    form, the same text as numpy's ``astype(str)`` (``tests/test_runs.py`` checks it) at a
    fraction of the cost (a million-resident households table has millions of cells).
    """
    cells = x.astype(object)
    cells[~np.isfinite(x)] = ""
    return cells


def _table_frame(name: str, table: pd.DataFrame | np.ndarray) -> tuple[str, pd.DataFrame, dict]:
    """A table to write as (file name, DataFrame, column kinds), or the writer's refusal."""
    file_name = TABLE_FILES[name]
    frame = pd.DataFrame(table) if isinstance(table, np.ndarray) else table
    if not isinstance(frame, pd.DataFrame):
        msg = f"tables[{name!r}]: expected a DataFrame or structured array, got {type(table)}"
        raise RunFolderError(msg)
    kinds = TABLE_COLUMNS[name]
    missing = [c for c in kinds if c not in frame.columns]
    if missing:
        msg = f"{file_name}: missing columns {missing}; expected {list(kinds)}"
        raise RunFolderError(msg)
    return file_name, frame, kinds


def _table_cells(name: str, table: pd.DataFrame | np.ndarray
                 ) -> tuple[str, list[str], list[np.ndarray]]:
    """One table checked and turned into text: (file name, header, text columns).

    Every refusal of a bad table happens here; :func:`_encode_table` cannot fail.
    """
    file_name, frame, kinds = _table_frame(name, table)
    columns = list(kinds) + [c for c in frame.columns if c not in kinds]
    return file_name, columns, [
        _column_text(frame[c], kinds.get(c, "str"), f"{file_name}: {c}") for c in columns
    ]


def _encode_table(file_name: str, header: list[str], cells: list[np.ndarray]) -> bytes:
    """Text columns as the file's deterministic CSV bytes (gzipped when its name says so)."""
    data = _csv_bytes(header, cells)
    if not file_name.endswith(".gz"):
        return data
    buffer = io.BytesIO()
    # Level 1: on the 300k default district's households table 0.23 s instead of 0.93 s at
    # level 6, for a file 11 % larger (5.9 vs 5.3 MiB); runs are many, disks are large.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=1,
                       mtime=0) as gz:
        gz.write(data)
    return buffer.getvalue()


def _table_bytes(name: str, table: pd.DataFrame | np.ndarray) -> bytes:
    """One table as deterministic CSV bytes (gzipped when its file name says so)."""
    return _encode_table(*_table_cells(name, table))


def _extra_table_bytes(rel: str, frame: pd.DataFrame) -> bytes:
    """A hazard table as deterministic CSV: floats, ints and text as in the core tables."""
    if not isinstance(frame, pd.DataFrame):
        msg = f"extra[{rel!r}]: expected a DataFrame, got {type(frame)}"
        raise RunFolderError(msg)
    kinds = {c: ("int" if frame[c].dtype.kind in "iub" else "float" if frame[c].dtype.kind == "f"
                 else "str") for c in frame.columns}
    return _csv_bytes(list(kinds), [_column_text(frame[c], k, f"{rel}: {c}")
                                    for c, k in kinds.items()])


def _csv_bytes(header: list[str], columns: list[np.ndarray]) -> bytes:
    """Text columns as CSV (minimal quoting, LF line ends, UTF-8).

    The standard library's C writer, row by row from the columns: the same bytes as
    ``DataFrame.to_csv`` gives (which uses it too), without pandas' per-chunk overhead.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([str(h) for h in header])
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue().encode("utf-8")


def _npz_bytes(rel: str, arrays: Mapping[str, np.ndarray]) -> bytes:
    """Arrays as an .npz whose bytes depend on the arrays only (fixed zip timestamps)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            value = np.asarray(arrays[key])
            if value.dtype == object:
                msg = f"extra[{rel!r}][{key!r}]: expected a numeric or string array, got objects"
                raise RunFolderError(msg)
            member = io.BytesIO()
            np.lib.format.write_array(member, value, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue())
    return buffer.getvalue()


def _extra_payload(extra: Mapping[str, object]) -> dict[str, bytes]:
    """Serialise hazard outputs: ``*.csv`` from DataFrames, ``*.npz`` from dicts of arrays."""
    out = {}
    for rel, value in sorted(extra.items()):
        path = Path(rel)
        parts = path.parts
        if (path.is_absolute() or len(parts) != 2 or parts[0] not in ("hazard", "traffic")
                or ".." in parts):
            msg = f"extra: expected paths like 'hazard/<name>.csv' or '.npz', got {rel!r}"
            raise RunFolderError(msg)
        if path.suffix == ".csv":
            out[rel] = _extra_table_bytes(rel, value)
        elif path.suffix == ".npz":
            out[rel] = _npz_bytes(rel, value)
        else:
            msg = f"extra: {rel!r}: expected a .csv or .npz file name"
            raise RunFolderError(msg)
    return out


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write files (paths relative to ``folder``), making their sub-folders."""
    for rel, data in files.items():
        (folder / rel).parent.mkdir(exist_ok=True)
        (folder / rel).write_bytes(data)


def _covers(files: frozenset[str], read: str, every: frozenset[str]) -> bool:
    """Whether ``files`` hold ``read``: a file, or (ending in "/") all of ``every`` there."""
    if read.endswith("/"):
        return all(f in files for f in every if f.startswith(read))
    return read in files


def _check_reads(steps: tuple, every: frozenset[str], folder: Path) -> None:
    """Refuse figure steps that read a file the writer does not write before the figures.

    A step must not start before the files it reads are complete (:func:`_in_order` waits
    for them); one that reads something never written there would read a missing file.
    """
    for step in steps:
        never = [r for r in step.reads if not r.endswith("/") and r not in every]
        if never:
            msg = (f"{folder}: figures drawn by {step.draw.__qualname__} read {never}, "
                   f"which are not written before the figures; expected some of {sorted(every)}")
            raise RunFolderError(msg)


def _in_order(steps: tuple, folder: Path, written: frozenset[str], every: frozenset[str],
              gate: Gate):
    """Draw ``steps`` in order; one that reads a file not in ``written`` waits for ``gate``.

    ``written``: the files complete when the drawing starts; ``every``: those complete
    once ``gate`` opens (all the writer writes before the figures). A guard: each file a
    step reads must be there when it starts, or the step is refused.
    """
    def draw() -> list[Path]:
        paths: list[Path] = []
        files = written
        for step in steps:
            if not all(_covers(files, r, every) for r in step.reads):
                gate.wait()
                files = every
            missing = [r for r in step.reads if not r.endswith("/") and not (folder / r).is_file()]
            if missing:
                msg = (f"{folder}: figures drawn by {step.draw.__qualname__} read {missing}, "
                       "which are not written yet")
                raise RunFolderError(msg)
            paths += step.draw()
        return paths
    return draw


def _json_bytes(obj: dict, where: str) -> bytes:
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as err:
        msg = f"{where}: cannot be written as JSON ({err}); use null for missing values"
        raise RunFolderError(msg) from None
    return (text + "\n").encode("utf-8")


def write_run(
    out_dir: str | Path,
    *,
    manifest: Mapping[str, object],
    tables: Mapping[str, pd.DataFrame | np.ndarray],
    force: bool = False,
    lang: str = "en",
    figures: bool = True,
    extra: Mapping[str, object] | None = None,
    background: bool = True,
) -> Path:
    """Write a complete run folder atomically.

    Parameters
    ----------
    out_dir : str or Path
        Folder the run becomes (see :func:`default_out_dir`).
    manifest : mapping
        Manifest fields (see DESIGN.md); ``format_version`` is set to 1 and a
        ``tables`` entry with each table file's sha256 is added.
    tables : mapping of str to DataFrame or numpy structured array
        ``households``, ``timeseries``, ``events``, ``shelters`` and ``links`` with at
        least the columns of :data:`analysis.metrics.TABLE_COLUMNS`; extra columns are
        written after them as text.
    force : bool, default False
        Replace an existing run folder (see :func:`check_out_dir`).
    lang : {"en", "zh"}, default "en"
        Language of figure labels and error messages.
    figures : bool, default True
        Draw ``figures/map.png``, ``figures/arrivals.png`` and the hazards' figures.
    background : bool, default True
        Let a forked second process draw part of the figures meanwhile, where that is safe
        (:mod:`sim.background`); the files are the same either way.
    extra : mapping, optional
        Hazard outputs by relative path: ``"hazard/<name>.csv"`` → DataFrame,
        ``"hazard/<name>.npz"`` → mapping of arrays. Written deterministically too.

    Returns
    -------
    Path
        The finished run folder.

    Raises
    ------
    RunFolderError
        If the folder cannot be written or a table lacks columns or has bad cells.
        Nothing is left behind on any failure; with ``force`` the old run survives.

    Notes
    -----
    Order: every table and the manifest are checked; the small tables and the hazard
    files are written; the figure process is forked (it draws what reads only those: the
    hazards' figures); the households table is formatted and written, then the manifest
    (its checksums), and a :class:`sim.background.Gate` lets the figure process go on to the
    figures that read them; the metrics are computed and the rest of the figures drawn.
    """
    out_dir = check_out_dir(out_dir, force, lang=lang)
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
    # Check and serialise before touching the disk: a bad table or manifest fails with no
    # folder created. The large tables are only turned into text here; their formatting
    # (csv + gzip, most of this writer's own time) waits until the figure process is off.
    cells = {name: _table_cells(name, tables[name]) for name in TABLE_FILES}
    payload = {cells[n][0]: _encode_table(*cells[n]) for n in TABLE_FILES if n not in _LATE}
    extras = _extra_payload(extra or {})
    payload.update(extras)
    head = {"format_version": FORMAT_VERSION, **manifest}
    _json_bytes(head, "manifest")  # refused now (NaN, objects), not after the fork
    order = [TABLE_FILES[name] for name in TABLE_FILES] + list(extras)  # the manifest's
    late = [TABLE_FILES[name] for name in _LATE] + ["manifest.json"]

    parent = out_dir.parent
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = parent / f".{out_dir.name}.tmp-{tag}"
    old = parent / f".{out_dir.name}.old-{tag}"
    moved_old = False
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        _write_files(tmp, payload)
        written = frozenset(payload)  # before the fork: what its first steps may read
        every = written | set(late)  # once the gate opens: all but metrics and figures
        here: tuple = ()
        there: tuple = ()
        if figures:
            from analysis.figures import figure_parts

            here, there = figure_parts(tmp, lang=lang)  # after hazard/: it says what is drawn
            _check_reads(here + there, every, tmp)
        from analysis.tables import reuse_reads

        # The second process (where one can be forked) starts now and draws ``there``:
        # first what reads only the files above (the hazards' figures), then, once the
        # gate opens, the rest. This process meanwhile writes the households table and
        # the manifest, opens the gate, computes the metrics and draws ``here``.
        with reuse_reads(), Gate() as gate, Background(
                _in_order(there, tmp, written, every, gate), fork=background and bool(there),
                what=f"{tmp / 'figures'}: drawing the figures") as drawing:
            for name in _LATE:
                file_name = TABLE_FILES[name]
                payload[file_name] = _encode_table(*cells.pop(name))
                _write_files(tmp, {file_name: payload[file_name]})
            digests = {f: hashlib.sha256(payload[f]).hexdigest() for f in order}
            _write_files(tmp, {"manifest.json": _json_bytes({**head, "tables": digests},
                                                            "manifest")})
            gate.open()
            metrics = compute_metrics(tmp)
            (tmp / "metrics.json").write_bytes(_json_bytes(metrics, "metrics"))
            _in_order(here, tmp, every, every, gate)()
            drawing.result()
        check_out_dir(out_dir, force, lang=lang)  # it may have appeared meanwhile
        if out_dir.exists():
            os.replace(out_dir, old)
            moved_old = True
        os.rename(tmp, out_dir)
    except BaseException as err:
        if moved_old and not out_dir.exists():
            os.replace(old, out_dir)
            moved_old = False
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError):
            msg = t("run.write_failed", lang, path=out_dir, error=err)
            raise RunFolderError(msg) from err
        raise
    if moved_old:
        shutil.rmtree(old, ignore_errors=True)
    logger.info("run folder written: %s", out_dir)
    return out_dir
