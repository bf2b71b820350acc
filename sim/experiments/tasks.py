"""One experiment task: build the model in memory, run it, return one row of scalars.

A :class:`Task` carries everything a worker needs as plain data (the full scenario dict,
the plan dict, the seed), so it pickles small and runs the same in any process. The
metrics are those of the run folder's ``metrics.json``, computed by the same code
(:func:`analysis.metrics.compute_metrics`) from the run's tables in memory
(:func:`sim.experiments.memory.memory_run`: what the written files would give back,
without writing or parsing them). With ``keep_dir`` the run folder is written as
``evacsim run`` writes it (without figures) and its ``metrics.json`` is the row's.

Per worker process the compiled road network is cached (:func:`_network`), keyed by the
map file's sha256, so a worker loads each map once; the numba kernels are compiled once
per process by their own cache.
"""

from __future__ import annotations

import functools
import json
import math
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROW_FIXED = ("point", "alternative", "replication", "seed", "status", "error", "wall_s")
"""Leading columns of every row (``docs/experiments.md``); metric columns follow."""


@dataclass(frozen=True)
class Task:
    """One (design point, alternative, replication) run, as plain data."""

    point: int
    alternative: str
    replication: int
    seed: int
    scenario: dict
    plan: dict | None
    map_sha256: str
    metrics: tuple[str, ...]
    source: str = "<experiment>"
    keep_dir: str | None = None
    cache_dir: str | None = None

    @property
    def key(self) -> tuple[int, str, int]:
        """``(point, alternative, replication)``: what identifies a row."""
        return (self.point, self.alternative, self.replication)


@functools.lru_cache(maxsize=4)
def _network(map_path: str, map_sha256: str, jam_spacing_m: float, cache_dir: str | None):
    """The compiled road network of a map, loaded once per worker process.

    ``map_sha256`` is part of the key so an edited map file is loaded again; the model
    does not change the network it is given (``EvacuationModel(network=...)``).
    """
    from sim.network import load_map

    return load_map(map_path, cache_dir=None if cache_dir is None else Path(cache_dir),
                    jam_spacing_m=jam_spacing_m)


def flatten(metrics: dict, prefix: str = "") -> dict[str, Any]:
    """Dotted paths of every leaf of a nested ``metrics.json`` dict."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def as_float(value: Any) -> float:
    """A metric as float64: booleans 0/1, ``None`` (never reached) NaN."""
    if value is None or isinstance(value, (list, dict, str)):
        return math.nan
    return float(value)


def build_model(task: Task):
    """The :class:`~sim.model.EvacuationModel` of a task (not yet run)."""
    from sim.model import EvacuationModel
    from sim.plan import Plan
    from sim.scenario import Scenario

    scenario = Scenario.from_dict(task.scenario, source=f"{task.source} [{task.alternative}, "
                                  f"point {task.point}]", base_dir=Path.cwd())
    plan = None if task.plan is None else Plan.from_dict(task.plan, source=f"{task.source} "
                                                         f"[{task.alternative} plan]")
    net = _network(str(scenario.scenario.map), task.map_sha256,
                   float(scenario.traffic.jam_spacing_m), task.cache_dir)
    return EvacuationModel(scenario=scenario, seed=task.seed, network=net, plan=plan)


def model_metrics(model, keep_dir: str | Path | None = None) -> dict:
    """``metrics.json`` of a finished model, computed by the run-folder code.

    Parameters
    ----------
    model : EvacuationModel
        A model that has run.
    keep_dir : str or Path, optional
        Write the run folder here (kept) and return its ``metrics.json``; default: no
        files, the metrics of the tables in memory.

    Returns
    -------
    dict
        Exactly what ``metrics.json`` of ``evacsim run`` with the same inputs holds.
    """
    from analysis.metrics import compute_metrics
    from sim import results, runs
    from sim.experiments.memory import memory_run

    man = results.manifest(model, command="evacsim experiment")
    if keep_dir is not None:
        path = runs.write_run(keep_dir, manifest=man, tables=results.tables(model), force=True,
                              figures=False, extra=results.extra(model))
        return json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    run = memory_run(man, results.tables(model), results.extra(model),
                     label="<experiment task in memory>")
    # The JSON round trip write_run does: the same types (lists, str keys), same checks.
    return json.loads(runs._json_bytes(compute_metrics(run), "metrics"))


def run_task(task: Task) -> dict[str, Any]:
    """Run one task; never raises for a failing run (the row says ``status = "error"``).

    Returns
    -------
    dict
        ``point, alternative, replication, seed, status, error, wall_s`` and one float per
        kept metric (NaN where not measurable or when the task failed). ``wall_s`` is the
        task's wall-clock time in seconds.
    """
    started = time.perf_counter()
    row: dict[str, Any] = {"point": task.point, "alternative": task.alternative,
                           "replication": task.replication, "seed": task.seed,
                           "status": "ok", "error": ""}
    values = dict.fromkeys(task.metrics, math.nan)
    try:
        model = build_model(task)
        model.run()
        flat = flatten(model_metrics(model, task.keep_dir))
        values = {m: as_float(flat.get(m)) for m in task.metrics}
    except Exception as err:  # noqa: BLE001 - a failed run is a result, recorded in its row
        from sim._errors import EvacsimError

        row["status"] = "error"
        if isinstance(err, EvacsimError):
            row["error"] = str(err).replace("\n", "; ")  # one line per row
        else:
            tb = traceback.extract_tb(err.__traceback__)
            where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
            row["error"] = f"{type(err).__name__}: {err}{where}"
    row["wall_s"] = time.perf_counter() - started
    row.update(values)
    return row
