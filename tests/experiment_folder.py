"""Write synthetic experiment folders in the engine's format 1 (for the analysis tests).

Format (the contract between ``sim/experiments`` and ``analysis/experiments``):
``experiment.json``, ``design.parquet`` (``point`` + one column per factor) and
``rows/part-<n>.parquet`` (point, alternative, replication, seed, status, error, wall_s,
then one float64 column per metric).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def write_folder(folder: Path, design: pd.DataFrame, rows: pd.DataFrame, *,
                 kind: str = "lhs", metrics: list[str], targets: list[dict] = (),
                 alternatives: list[str] = ("base",), replications: int = 1,
                 salib_problem: dict | None = None, options: dict | None = None,
                 n_parts: int = 2, stop_when: dict | None = None) -> Path:
    """Write ``design`` and ``rows`` (split into ``n_parts`` parts) plus a manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    factors = [c for c in design.columns if c != "point"]
    manifest = {
        "format": 1, "name": folder.name, "created_utc": "2026-12-04T00:00:00Z",
        "command": "evacsim experiment run test.toml", "inputs": {"test.toml": "0" * 64},
        "versions": {"evacsim": "0.1.0"},
        "design": {"kind": kind, "n_points": len(design), "seed": 1,
                   "replications": replications, "salib_problem": salib_problem,
                   "options": options or {}},
        "factors": [{"path": f, "distribution": "uniform", "params": {}} for f in factors],
        "alternatives": [{"name": a, "plan": None, "overrides": {}} for a in alternatives],
        "targets": list(targets), "metrics": list(metrics), "stop_when": stop_when,
    }
    (folder / "experiment.json").write_text(json.dumps(manifest), encoding="utf-8")
    design.to_parquet(folder / "design.parquet", index=False)
    (folder / "rows").mkdir(exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(rows)), n_parts)):
        rows.iloc[part].to_parquet(folder / "rows" / f"part-{i}.parquet", index=False)
    return folder


def task_rows(design: pd.DataFrame, alternatives: list[str], replications: int,
              metrics: dict[str, callable]) -> pd.DataFrame:
    """One ok row per (point, alternative, replication); ``metrics[name](d, alt, rep)``
    gets the design rows (repeated per replication) and returns that metric's column."""
    frames = []
    for alt in alternatives:
        for rep in range(replications):
            frame = pd.DataFrame({
                "point": design["point"].to_numpy(np.int64),
                "alternative": alt,
                "replication": np.int64(rep),
                "seed": (1000 * rep + design["point"]).to_numpy(np.int64),
                "status": "ok", "error": "", "wall_s": 1.0,
            })
            for name, fn in metrics.items():
                frame[name] = np.asarray(fn(design, alt, rep), dtype=np.float64)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)
