"""The experiment folder: ``experiment.json``, ``design.parquet``, ``rows/part-<n>.parquet``.

Format (what ``analysis.experiments`` reads): ``docs/experiments.md``. The folder is
created whole (a temporary sibling renamed into place); afterwards every part file is
written to a temporary name and renamed, so a folder is valid at every instant, also
after a kill. A row is identified by ``(point, alternative, replication)``; a resumed
experiment reads the keys already present and never writes one twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim._errors import RunFolderError
from sim.experiments.spec import Experiment
from sim.experiments.tasks import ROW_FIXED

FORMAT = 1
PART_RE = re.compile(r"^part-(\d+)\.parquet$")


def _pkg(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def manifest(exp: Experiment, design: pd.DataFrame, *, command: str,
             salib_problem: dict | None) -> dict[str, Any]:
    """Content of ``experiment.json`` (see ``docs/experiments.md``)."""
    import sim

    d = exp.spec.design
    options = d.model_dump(mode="json")
    options.pop("kind")
    return {
        "format": FORMAT,
        "name": exp.name,
        "title": exp.spec.experiment.title,
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "digest": exp.digest(),
        "source": str(exp.source.resolve()),
        "inputs": exp.inputs,
        "versions": {"evacsim": sim.__version__, "python": platform.python_version(),
                     **{p: _pkg(p) for p in ("mesa", "numpy", "scipy", "numba", "pandas",
                                             "pyarrow", "dask", "distributed", "SALib")}},
        "design": {"kind": d.kind, "n_points": len(design),
                   "seed": exp.spec.experiment.seed,
                   "replications": exp.spec.experiment.replications,
                   "salib_problem": salib_problem, "options": options},
        "factors": [{"path": f.path, "distribution": f.law.distribution,
                     "params": f.law.params()} for f in exp.factors],
        "alternatives": [{"name": a.name,
                          "plan": None if a.plan_path is None else str(a.plan_path),
                          "overrides": a.overrides, "plan_overrides": a.plan_overrides}
                         for a in exp.alternatives],
        "targets": [t.model_dump(mode="json") for t in exp.spec.targets],
        "metrics": list(exp.metrics),
        "stop_when": None if exp.spec.stop_when is None
        else exp.spec.stop_when.model_dump(mode="json"),
    }


def create(out: Path, man: dict, design: pd.DataFrame, *, force: bool) -> None:
    """Create the experiment folder atomically (replace an old experiment with ``force``)."""
    if out.exists():
        if not (out / "experiment.json").is_file() and (not out.is_dir() or any(out.iterdir())):
            raise RunFolderError(f"{out}: exists and is not an experiment folder; "
                                 f"choose another --out")
        if not force and (out / "experiment.json").is_file():
            raise RunFolderError(f"{out}: an experiment folder exists; use --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        (tmp / "rows").mkdir(parents=True)
        (tmp / "experiment.json").write_text(json.dumps(man, indent=2, ensure_ascii=False)
                                             + "\n", encoding="utf-8")
        design.to_parquet(tmp / "design.parquet", index=False)
        if out.exists():
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_manifest(out: Path) -> dict:
    """``experiment.json`` of a folder."""
    path = out / "experiment.json"
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RunFolderError(f"{path}: expected an experiment manifest, got {err}") from None
    if man.get("format") != FORMAT:
        raise RunFolderError(f"{path}: format: expected {FORMAT}, got {man.get('format')!r}")
    return man


def read_rows(out: Path) -> pd.DataFrame:
    """All rows written so far (empty frame with the fixed columns if none)."""
    parts = sorted((p for p in (out / "rows").glob("part-*.parquet") if PART_RE.match(p.name)),
                   key=lambda p: int(PART_RE.match(p.name).group(1)))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROW_FIXED})
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def done_keys(out: Path) -> set[tuple[int, str, int]]:
    """``(point, alternative, replication)`` of every row written."""
    rows = read_rows(out)
    return {(int(p), str(a), int(r)) for p, a, r in
            zip(rows["point"], rows["alternative"], rows["replication"], strict=True)}


class RowWriter:
    """Appends rows as part files, each written to a temporary name then renamed."""

    def __init__(self, out: Path, metrics: Iterable[str]) -> None:
        self.dir = out / "rows"
        self.metrics = list(metrics)
        nums = [int(m.group(1)) for p in self.dir.glob("part-*.parquet")
                if (m := PART_RE.match(p.name))]
        self.next = max(nums, default=-1) + 1
        self.buffer: list[dict] = []

    def add(self, row: dict) -> None:
        """Buffer one row (written at the next :meth:`flush`)."""
        self.buffer.append(row)

    def flush(self) -> None:
        """Write the buffered rows as one new part file."""
        if not self.buffer:
            return
        rows = self.buffer
        frame = pd.DataFrame({
            "point": np.array([r["point"] for r in rows], dtype=np.int64),
            "alternative": pd.Series([r["alternative"] for r in rows], dtype=object),
            "replication": np.array([r["replication"] for r in rows], dtype=np.int64),
            "seed": np.array([r["seed"] for r in rows], dtype=np.int64),
            "status": pd.Series([r["status"] for r in rows], dtype=object),
            "error": pd.Series([r["error"] for r in rows], dtype=object),
            "wall_s": np.array([r["wall_s"] for r in rows], dtype=np.float64),
            **{m: np.array([r[m] for r in rows], dtype=np.float64) for m in self.metrics},
        })
        path = self.dir / f"part-{self.next}.parquet"
        tmp = self.dir / f".part-{self.next}.parquet.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        self.next += 1
        self.buffer = []


class FolderLock:
    """One writer per experiment folder: ``.lock`` holds the writer's pid.

    A lock left by a process that no longer exists (killed) is taken over.
    """

    def __init__(self, out: Path) -> None:
        self.path = out / ".lock"

    def __enter__(self) -> FolderLock:
        try:
            pid = int(self.path.read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid != os.getpid() and _alive(pid):
            raise RunFolderError(f"{self.path.parent}: process {pid} is writing this "
                                 f"experiment; wait for it or stop it first")
        self.path.write_text(str(os.getpid()))
        return self

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
