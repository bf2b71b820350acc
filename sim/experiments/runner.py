"""Send an experiment's tasks to Dask (or run them here) and write rows as they arrive.

Order of tasks: replication by replication, and within one, point by point with every
alternative of the point next to each other, so a stopped experiment holds complete
pairs and ``stop_when`` sees replications grow evenly.

Execution: by default an embedded ``LocalCluster`` (one single-threaded worker process
per core) that the command starts and closes; ``scheduler`` (``--scheduler`` or
``$DASK_SCHEDULER_ADDRESS``) sends the same tasks to an existing cluster, whose workers
must see the same files (maps, the repository) at the same paths; ``workers=0`` runs
them in this process (debugging, benchmarks). At most ``2 x workers`` tasks are in
flight, so Ctrl-C or the stop rule wastes little.

Sequential rule (``[stop_when]``): after each row, for the chosen alternative (or every
alternative) the 95 % half-width of the mean of ``metric`` over its finished runs is
``t_{0.975, n-1} * s / sqrt(n)`` (Student t, s the sample standard deviation); once every
checked alternative has ``n >= min_runs`` and a half-width ``<= halfwidth`` no new task is
started. Which tasks finish before the stop depends on timing; each row's values do not.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim._errors import RunFolderError
from sim.experiments import store
from sim.experiments.design import design_points, point_values, run_seed, salib_problem
from sim.experiments.spec import Experiment
from sim.experiments.tasks import Task, run_task

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


@dataclass
class Outcome:
    """What a call of :func:`run_experiment` did."""

    out: Path
    total: int
    skipped: int
    ran: int
    failed: int
    stopped_early: bool
    interrupted: bool


def halfwidth95(values: np.ndarray) -> float:
    """95 % half-width of the mean, Student t: ``t_{0.975,n-1} s / sqrt(n)`` (inf if n < 2)."""
    from scipy.stats import t

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.inf
    return float(t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))


def stop_rule_met(exp: Experiment, rows: pd.DataFrame) -> bool:
    """Whether ``[stop_when]`` holds for ``rows`` (False when there is no rule)."""
    rule = exp.spec.stop_when
    if rule is None or rows.empty:
        return False
    names = [rule.alternative] if rule.alternative else [a.name for a in exp.alternatives]
    ok = rows[rows["status"] == "ok"]
    for name in names:
        x = ok.loc[ok["alternative"] == name, rule.metric].to_numpy(np.float64)
        x = x[np.isfinite(x)]
        if x.size < rule.min_runs or halfwidth95(x) > rule.halfwidth:
            return False
    return True


def build_tasks(exp: Experiment, design: pd.DataFrame, *, out: Path | None = None,
                keep_runs: bool = False, cache_dir: str | None = None) -> list[Task]:
    """Every task of the experiment, in execution order (see the module notes)."""
    from sim.results import sha256_file

    seed = exp.spec.experiment.seed
    map_sha = {}
    scenarios = {}
    for p in range(len(design)):
        values = point_values(design, exp, p)
        for alt in exp.alternatives:
            sc = exp.scenario_dict(alt, values)
            m = sc["scenario"]["map"]
            if m not in map_sha:
                map_sha[m] = sha256_file(m)
            scenarios[p, alt.name] = sc
    tasks = []
    for r in range(exp.spec.experiment.replications):
        for p in range(len(design)):
            s = run_seed(seed, p, r)
            for alt in exp.alternatives:
                sc = scenarios[p, alt.name]
                keep = None
                if keep_runs and out is not None:
                    keep = str(out / "runs" / f"p{p:05d}-{alt.name}-r{r:03d}")
                tasks.append(Task(point=p, alternative=alt.name, replication=r, seed=s,
                                  scenario=sc, plan=alt.plan, map_sha256=map_sha[sc["scenario"]
                                                                              ["map"]],
                                  metrics=exp.metrics, source=str(exp.source), keep_dir=keep,
                                  cache_dir=cache_dir))
    return tasks


def prepare(exp: Experiment, out: Path, *, force: bool, command: str) -> pd.DataFrame:
    """Create the folder, or check that an existing one is this experiment (to resume).

    Returns the design (read back from the folder when resuming).
    """
    design = design_points(exp)
    if (out / "experiment.json").is_file() and not force:
        man = store.read_manifest(out)
        if man.get("digest") != exp.digest():
            raise RunFolderError(
                f"{out}: holds another experiment (a different file or changed inputs); "
                f"use --force to start it again from nothing, or choose another --out")
        return pd.read_parquet(out / "design.parquet")
    man = store.manifest(exp, design, command=command, salib_problem=salib_problem(exp))
    store.create(out, man, design, force=force)
    return design


def worker_config() -> dict:
    """Dask settings of the embedded cluster's workers: a task as fast as in this process.

    Measured on the default district (one warm task, thread CPU seconds of
    ``model.run()``): 2.2 s in this process, 3.45 s in a default Dask worker, 2.2-2.4 s
    with these two settings. Dask's statistical profiler walks the task thread's stack
    every 10 ms, and ``MALLOC_TRIM_THRESHOLD_=65536`` (which Dask sets so freed memory
    goes back to the OS at once) makes every large array of the model's ticks fresh pages
    again. Workers of an external cluster (``--scheduler``) need the same: see
    ``docs/experiments.md``.
    """
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)  # keeps OMP/MKL/OPENBLAS_NUM_THREADS = 1
    return {"distributed.worker.profile.enabled": False,
            "distributed.nanny.pre-spawn-environ": environ}


def _client(scheduler: str | None, workers: int):
    import logging

    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    with dask.config.set(worker_config()):  # each nanny keeps the settings it started with
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_experiment(exp: Experiment, out: str | Path, *, scheduler: str | None = None,
                   workers: int | None = None, keep_runs: bool = False, force: bool = False,
                   progress: bool | None = None, command: str = "",
                   cache_dir: str | Path | None = None) -> Outcome:
    """Run (or resume) an experiment into the folder ``out``.

    Parameters
    ----------
    exp : Experiment
        From :func:`sim.experiments.spec.load_experiment`.
    out : str or Path
        Experiment folder; an existing folder of the same experiment is resumed.
    scheduler : str, optional
        Address of a running Dask scheduler; default ``$DASK_SCHEDULER_ADDRESS`` or an
        embedded ``LocalCluster``.
    workers : int, optional
        Worker processes of the embedded cluster (default: CPU cores); 0 runs the tasks
        in this process.
    keep_runs : bool
        Also write each task's run folder under ``out/runs/`` (no figures).
    force : bool
        Start again from nothing, replacing an existing experiment folder.
    progress : bool, optional
        Progress bar over tasks; default only when stderr is a terminal.
    command : str
        The command line, recorded in ``experiment.json``.
    cache_dir : str or Path, optional
        Compiled-map cache of the workers (default: evacsim's).

    Returns
    -------
    Outcome
        Counts of tasks; ``interrupted`` after Ctrl-C (the folder is valid and resumable).
    """
    out = Path(out)
    design = prepare(exp, out, force=force, command=command)
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    n_workers = (os.cpu_count() or 1) if workers is None else int(workers)
    with store.FolderLock(out):
        done = store.done_keys(out)
        cache = None if cache_dir is None else str(cache_dir)
        tasks = build_tasks(exp, design, out=out, keep_runs=keep_runs, cache_dir=cache)
        todo = [t for t in tasks if t.key not in done]
        writer = store.RowWriter(out, exp.metrics)
        rows_seen = store.read_rows(out) if exp.spec.stop_when else None
        outcome = Outcome(out, len(tasks), len(tasks) - len(todo), 0, 0, False, False)
        if exp.spec.stop_when and stop_rule_met(exp, rows_seen):
            outcome.stopped_early = True
            todo = []
        show = sys.stderr.isatty() if progress is None else progress
        bar = None
        if show and todo:
            from tqdm import tqdm

            bar = tqdm(total=len(tasks), initial=outcome.skipped, unit="run",
                       desc=exp.name, file=sys.stderr)
        local = n_workers == 0 and not scheduler

        def take(row: dict) -> bool:
            nonlocal rows_seen
            writer.add(row)
            outcome.ran += 1
            outcome.failed += row["status"] != "ok"
            if bar is not None:
                bar.update(1)
            if local:
                writer.flush()
            if rows_seen is not None:
                rows_seen = pd.concat([rows_seen, pd.DataFrame([row])], ignore_index=True)
                if stop_rule_met(exp, rows_seen):
                    outcome.stopped_early = True
                    return True
            return False

        client = cluster = None
        try:
            if local:
                for task in todo:
                    if take(run_task(task)):
                        break
            elif todo:
                from dask.distributed import as_completed

                client, cluster = _client(scheduler, n_workers)
                width = max(1, 2 * len(client.scheduler_info().get("workers", {})) or 2)
                queue = iter(todo)

                owner: dict = {}

                def submit(task: Task):
                    fut = client.submit(run_task, task, pure=False,
                                        key=f"evacsim-{task.point}-{task.alternative}-"
                                            f"{task.replication}-{exp.digest()[:8]}")
                    owner[fut.key] = task
                    return fut

                pending = as_completed([submit(t) for t in itertools.islice(queue, width)])
                stop = False
                for batch in pending.batches():  # every future finished by now
                    for fut in batch:
                        try:
                            row = fut.result()
                        except Exception as err:  # noqa: BLE001 - a lost worker, not a bad run
                            row = _error_row(owner.pop(fut.key), exp,
                                             f"{type(err).__name__}: {err}")
                        stop = take(row) or stop
                        if not stop:
                            nxt = next(queue, None)
                            if nxt is not None:
                                pending.add(submit(nxt))
                    writer.flush()
        except KeyboardInterrupt:
            outcome.interrupted = True
        finally:
            writer.flush()
            if bar is not None:
                bar.close()
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
    return outcome


def _error_row(task: Task, exp: Experiment, message: str) -> dict:
    row = {"point": task.point, "alternative": task.alternative,
           "replication": task.replication, "seed": task.seed, "status": "error",
           "error": message, "wall_s": math.nan}
    row.update(dict.fromkeys(exp.metrics, math.nan))
    return row
