"""Reading and checking an experiment folder (the engine's output, format 1).

The folder holds ``experiment.json`` (the manifest), ``design.parquet`` (one row per
design point) and ``rows/part-*.parquet`` (one row per task: point x alternative x
replication). This module is the only place that knows the layout; everything else in
:mod:`analysis.experiments` works on the :class:`Experiment` it returns. It never imports
the simulation model.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim._errors import EvacsimError

FORMAT_VERSION = 1
"""The experiment-folder format this package reads."""

DESIGN_KINDS = ("lhs", "factorial", "sobol", "morris", "single")
"""Design kinds the manifest may name."""

TARGET_OPS = (">=", "<=", ">", "<", "==", "!=")
"""Comparison operators a target may use."""

ROW_COLUMNS = ("point", "alternative", "replication", "seed", "status", "error", "wall_s")
"""Columns every rows part has before its metric columns."""

_MANIFEST_KEYS = ("format", "name", "design", "factors", "alternatives", "targets", "metrics")


class ExperimentFolderError(EvacsimError):
    """An experiment folder is missing, of another format, or inconsistent."""


@dataclass(frozen=True)
class Target:
    """A named criterion on one metric: ``metric op value`` (e.g. ``dead == 0``)."""

    name: str
    metric: str
    op: str
    value: float


@dataclass(frozen=True)
class Experiment:
    """An experiment folder read into memory.

    Attributes
    ----------
    folder : Path
        The folder.
    manifest : dict
        ``experiment.json`` as written by the engine.
    design : pandas.DataFrame
        ``design.parquet``: column ``point`` (0..n-1 in the design's sample order) and one
        column per factor, named by its dotted path.
    rows : pandas.DataFrame
        All ``rows/part-*.parquet`` parts concatenated and sorted by
        (alternative, point, replication); metric columns are float64.
    targets : tuple of Target
        The manifest's targets.
    """

    folder: Path
    manifest: dict
    design: pd.DataFrame
    rows: pd.DataFrame
    targets: tuple[Target, ...]

    @property
    def name(self) -> str:
        """The experiment's name."""
        return str(self.manifest["name"])

    @property
    def kind(self) -> str:
        """The design kind (``"lhs"``, ``"sobol"``, ...)."""
        return str(self.manifest["design"]["kind"])

    @property
    def metrics(self) -> list[str]:
        """Kept metrics (dotted paths), in the manifest's order."""
        return list(self.manifest["metrics"])

    @property
    def alternatives(self) -> list[str]:
        """Alternative names in the manifest's order."""
        return [str(a["name"]) for a in self.manifest["alternatives"]]

    @property
    def factors(self) -> list[str]:
        """Factor paths (the design's columns besides ``point``)."""
        return [str(f["path"]) for f in self.manifest["factors"]]

    def numeric_factors(self) -> list[str]:
        """Factors whose design column is numeric (discrete string choices excluded)."""
        return [f for f in self.factors if pd.api.types.is_numeric_dtype(self.design[f])]

    def ok_rows(self, alternative: str) -> pd.DataFrame:
        """Rows of one alternative whose task finished (status ``"ok"``)."""
        rows = self.rows
        return rows[(rows["alternative"] == alternative) & (rows["status"] == "ok")]

    def target(self, name: str) -> Target:
        """The target called ``name`` (``ExperimentFolderError`` if there is none)."""
        for target in self.targets:
            if target.name == name:
                return target
        msg = (f"{self.folder / 'experiment.json'}: targets: no target {name!r}; "
               f"expected one of {[t.name for t in self.targets]}")
        raise ExperimentFolderError(msg)


def _fail(path: Path, field: str, expected: str, got: object) -> ExperimentFolderError:
    return ExperimentFolderError(f"{path}: {field}: expected {expected}, got {got!r}")


def _read_manifest(folder: Path) -> dict:
    path = folder / "experiment.json"
    if not folder.is_dir():
        msg = f"{folder}: not an experiment folder (no such folder)"
        raise ExperimentFolderError(msg)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = (f"{path}: missing; {folder} is not an experiment folder "
               "(run `evacsim experiment run` to make one)")
        raise ExperimentFolderError(msg) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"{path}: not valid JSON ({err})"
        raise ExperimentFolderError(msg) from None
    if not isinstance(manifest, dict):
        raise _fail(path, "(top level)", "a JSON object", type(manifest).__name__)
    if manifest.get("format") != FORMAT_VERSION:
        raise _fail(path, "format", f"{FORMAT_VERSION} (this evacsim reads experiment "
                    f"folders of format {FORMAT_VERSION} only)", manifest.get("format"))
    missing = [key for key in _MANIFEST_KEYS if key not in manifest]
    if missing:
        raise _fail(path, ", ".join(missing), "present", None)
    design = manifest["design"]
    if not isinstance(design, dict) or design.get("kind") not in DESIGN_KINDS:
        kind = design.get("kind") if isinstance(design, dict) else design
        raise _fail(path, "design.kind", f"one of {DESIGN_KINDS}", kind)
    if not isinstance(manifest["metrics"], list) or not manifest["metrics"]:
        raise _fail(path, "metrics", "a non-empty list of dotted metric paths",
                    manifest["metrics"])
    if not isinstance(manifest["alternatives"], list) or not manifest["alternatives"]:
        raise _fail(path, "alternatives", "a non-empty list", manifest["alternatives"])
    return manifest


def _read_targets(path: Path, manifest: dict) -> tuple[Target, ...]:
    targets = []
    for i, entry in enumerate(manifest["targets"]):
        field = f"targets[{i}]"
        if not isinstance(entry, dict) or not {"name", "metric", "op", "value"} <= entry.keys():
            raise _fail(path, field, "an object with name, metric, op, value", entry)
        if entry["op"] not in TARGET_OPS:
            raise _fail(path, f"{field}.op", f"one of {TARGET_OPS}", entry["op"])
        if entry["metric"] not in manifest["metrics"]:
            raise _fail(path, f"{field}.metric", f"one of the kept metrics "
                        f"{manifest['metrics']}", entry["metric"])
        try:
            value = float(entry["value"])
        except (TypeError, ValueError):
            raise _fail(path, f"{field}.value", "a number", entry["value"]) from None
        if not math.isfinite(value):
            raise _fail(path, f"{field}.value", "a finite number", entry["value"])
        targets.append(Target(str(entry["name"]), str(entry["metric"]), entry["op"], value))
    return tuple(targets)


def _read_design(folder: Path, manifest: dict) -> pd.DataFrame:
    path = folder / "design.parquet"
    if not path.is_file():
        msg = f"{path}: missing; an experiment folder needs its design table"
        raise ExperimentFolderError(msg)
    design = pd.read_parquet(path)
    factors = [str(f.get("path")) for f in manifest["factors"]]
    missing = [c for c in ["point", *factors] if c not in design.columns]
    if missing:
        raise _fail(path, "columns", f"'point' and one column per factor {factors}",
                    f"missing {missing}")
    problem = manifest["design"].get("salib_problem")
    if problem is not None:
        names = problem.get("names") if isinstance(problem, dict) else None
        if not isinstance(names, list) or any(n not in design.columns for n in names):
            raise _fail(path, "columns", "a column for every name in "
                        "experiment.json design.salib_problem.names", names)
    n = len(design)
    points = design["point"].to_numpy()
    if not np.array_equal(np.sort(points), np.arange(n)):
        raise _fail(path, "point", f"the integers 0..{n - 1}, each once", "other values")
    return design.sort_values("point", kind="stable").reset_index(drop=True)


def _read_rows(folder: Path, manifest: dict, n_points: int) -> pd.DataFrame:
    parts = sorted((folder / "rows").glob("part-*.parquet"))
    if not parts:
        msg = f"{folder / 'rows'}: no part-*.parquet files; the experiment has no results yet"
        raise ExperimentFolderError(msg)
    frames = [pd.read_parquet(p) for p in parts]
    metrics = list(manifest["metrics"])
    for part, frame in zip(parts, frames, strict=True):
        missing = [c for c in [*ROW_COLUMNS, *metrics] if c not in frame.columns]
        if missing:
            raise _fail(part, "columns", "the row columns and every kept metric",
                        f"missing {missing}")
    rows = pd.concat(frames, ignore_index=True)
    first = parts[0]
    for metric in metrics:
        try:
            rows[metric] = rows[metric].astype("float64")
        except (TypeError, ValueError):
            raise _fail(first.parent, metric, "numbers (float64, NaN where not measurable)",
                        str(rows[metric].dtype)) from None
    bad_status = sorted(set(rows["status"]) - {"ok", "error"})
    if bad_status:
        raise _fail(first.parent, "status", "'ok' or 'error'", bad_status[:3])
    names = [str(a["name"]) for a in manifest["alternatives"]]
    unknown = sorted(set(rows["alternative"]) - set(names))
    if unknown:
        raise _fail(first.parent, "alternative", f"one of {names}", unknown[:3])
    out_of_range = (rows["point"] < 0) | (rows["point"] >= n_points)
    if out_of_range.any():
        raise _fail(first.parent, "point", f"0..{n_points - 1} (design.parquet)",
                    int(rows.loc[out_of_range, "point"].iloc[0]))
    key = ["alternative", "point", "replication"]
    twice = rows.duplicated(key)
    if twice.any():
        raise _fail(first.parent, "(alternative, point, replication)", "each task once",
                    tuple(rows.loc[twice, key].iloc[0]))
    return rows.sort_values(key, kind="stable").reset_index(drop=True)


def read_experiment(folder: str | Path) -> Experiment:
    """Read and check an experiment folder.

    Parameters
    ----------
    folder : str or Path
        The folder ``evacsim experiment run`` wrote.

    Returns
    -------
    Experiment
        Manifest, design table, all rows and the targets.

    Raises
    ------
    ExperimentFolderError
        With one line naming the file, the field and what was expected, when the folder
        or one of its files is missing, its format is not 1, a target names a metric that
        is not kept, a rows part lacks a metric column, or rows repeat a task.
    """
    folder = Path(folder)
    manifest = _read_manifest(folder)
    targets = _read_targets(folder / "experiment.json", manifest)
    design = _read_design(folder, manifest)
    rows = _read_rows(folder, manifest, len(design))
    return Experiment(folder, manifest, design, rows, targets)
