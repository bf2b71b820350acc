"""Simulate one scenario (and plan) and write its run folder: what ``evacsim run`` does.

Factored out of :mod:`sim.cli` so other commands (``evacsim drill``) run a scenario by the
same code path: build the model, run it, write the manifest, tables and hazard outputs
atomically. Loading the files and printing the summary stay with the caller.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sim.plan import Plan
from sim.scenario import Scenario


def simulate_to_folder(
    scenario: Scenario,
    out: str | Path,
    *,
    seed: int,
    plan: Plan | None = None,
    plan_path: str | Path | None = None,
    force: bool = False,
    lang: str = "en",
    figures: bool = True,
    progress: bool = True,
    cache_dir: str | Path | None = None,
    command: str = "",
    started: float | None = None,
    ignore_limits: bool = False,
    quiet: bool = False,
) -> Path:
    """Build the model, run it to its horizon and write the run folder atomically.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    out : str or Path
        Run folder to write (checked with :func:`sim.runs.check_out_dir` by the caller
        before this long call; checked again when written).
    seed : int
        Non-negative random seed.
    plan : Plan, optional
        The validated response plan.
    plan_path : str or Path, optional
        The plan's file, recorded in the manifest with its sha256 (``None``: no record).
    force : bool, default False
        Replace an existing run folder.
    lang : {"en", "zh"}, default "en"
        Language of the progress line and figures.
    figures : bool, default True
        Draw the PNG figures.
    progress : bool, default True
        Show a progress bar on stderr (only where stderr is a terminal: a redirected log
        gets no carriage-return redraws).
    cache_dir : str or Path, optional
        Compiled-map cache folder.
    command : str, default ""
        The command line recorded in the manifest.
    started : float, optional
        ``time.perf_counter()`` at the start of the command (for ``wall_s``); default now.
    ignore_limits : bool, default False
        Run even where the memory or time estimate exceeds the machine's
        (:mod:`sim.check`); otherwise such a run is refused before anything is allocated.
    quiet : bool, default False
        Print nothing on stderr (plan check, start line, population report, progress).

    Returns
    -------
    Path
        The finished run folder.
    """
    from sim import results, runs
    from sim.check_cli import checked_model
    from sim.i18n import t
    from sim.population_report import report_lines

    started = time.perf_counter() if started is None else started
    # Resource limits (refused before anything large is allocated), then the plan check.
    model = checked_model(scenario, seed=seed, plan=plan, cache_dir=cache_dir,
                          ignore_limits=ignore_limits, lang=lang, quiet=quiet)
    if not quiet:
        print(
            t(
                "cli.run.start",
                lang,
                persons=model.pop.n_persons,
                households=len(model.pop.persons),
                shelters=len(model.shelters),
                map=model.net.name,
            ),
            file=sys.stderr,
        )
        print("\n".join(report_lines(model.population_report, lang)), file=sys.stderr)
    # A progress bar redraws one line with carriage returns: only for a person watching.
    model.run(progress=progress and not quiet and sys.stderr.isatty())
    man = results.manifest(model, command=command)
    man["wall_s"] = round(time.perf_counter() - started, 3)
    if plan_path is not None:
        man["plan"] = {"path": str(Path(plan_path).resolve()),
                       "sha256": results.sha256_file(plan_path)}
    return runs.write_run(
        out,
        manifest=man,
        tables=results.tables(model),
        force=force,
        lang=lang,
        figures=figures,
        extra=results.extra(model),
    )
