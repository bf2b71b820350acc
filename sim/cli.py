"""The ``evacsim`` command line.

Every user error (a bad scenario, a missing map, an existing run folder) ends as one
readable line on stderr and exit status 2; a traceback means a bug in evacsim.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim._errors import EvacsimError

EXIT_USER_ERROR = 2


# evacsim's work runs in numba kernels, one core each (the flood's water on a second
# thread, figures in a second process); its linear algebra is small. OpenBLAS's thread
# pools (numpy's, and scipy's, which numba loads for its BLAS check) would only spin:
# measured 0.2–0.35 s CPU of every process here (benchmarks/RESULTS.md, issue 17).
# Set before numpy is loaded; a value the user set is kept.
BLAS_THREADS_ENV = {"OPENBLAS_NUM_THREADS": "1"}


def entry() -> None:
    """The ``evacsim`` console script: :func:`main`, then exit with its status.

    At exit CPython runs its cyclic garbage collector once more over every object still
    alive; once numba's compiler, scipy and matplotlib are loaded that walk took 0.2–0.3 s
    of every command here (benchmarks/RESULTS.md, issue 17 part 3). ``gc.freeze`` moves the
    objects out of its reach; their memory goes back to the system with the process. Not in
    :func:`main`, which tests and scripts call in a process that goes on.
    """
    try:
        status = main()
    finally:  # also when argparse exits (--help, --version, a bad option)
        gc.freeze()
    raise SystemExit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``evacsim`` command line; returns the process exit status."""
    for key, value in BLAS_THREADS_ENV.items():
        os.environ.setdefault(key, value)
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return int(args.func(args) or 0)
    except EvacsimError as exc:
        print(f"evacsim: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("evacsim: interrupted; nothing was written", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="evacsim",
        description="Agent-based disaster and evacuation simulation on OpenStreetMap roads.",
    )
    from sim import __version__

    p.add_argument("--version", action="version", version=f"evacsim {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="simulate one scenario and write a run folder")
    run.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        default=None,
        help="scenario TOML file (default: the embedded default district)",
    )
    run.add_argument("--plan", type=Path, default=None,
                     help="response plan TOML: rescue teams, depots, trucks, targets")
    run.add_argument("--seed", type=_seed, default=None,
                     help="random seed, 0 <= seed < 2**63 (default: the scenario's)")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="run folder to write (default: runs/<scenario>[-<plan>]-seed<seed>)",
    )
    run.add_argument("--force", action="store_true", help="replace an existing run folder")
    run.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the summary and figures"
    )
    run.add_argument("--no-progress", action="store_true",
                     help="no progress bar (it is shown only when stderr is a terminal)")
    run.add_argument("--quiet", action="store_true",
                     help="print nothing but errors (and the --json object)")
    run.add_argument("--json", action="store_true",
                     help="print the run's headline metrics as one JSON object on stdout")
    run.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    run.add_argument("--ignore-limits", action="store_true",
                     help="run even where memory or time estimates exceed the machine's")
    run.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="compiled-map cache (default: $EVACSIM_CACHE_DIR or ~/.cache/evacsim)",
    )
    run.set_defaults(func=_cmd_run)
    from analysis.drill import cli as drill_cli

    drill_cli.add_commands(sub)

    hz = sub.add_parser("hazard", help="hazard calculators (flood, chemical release, earthquake, "
                        "wildfire, tank fragility, landslide)")
    hz.set_defaults(func=_group_help(hz))
    hsub = hz.add_subparsers(metavar="CALCULATOR")
    from sim.hazards import chains_cli
    from sim.hazards.chemical import cli as chemical_cli
    from sim.hazards.earthquake import cli as earthquake_cli
    from sim.hazards.flood import cli as flood_cli
    from sim.hazards.landslide import cli as landslide_cli
    from sim.hazards.wildfire import cli as wildfire_cli

    for mod in (flood_cli, chemical_cli, earthquake_cli, wildfire_cli, chains_cli, landslide_cli):
        mod.add_commands(hsub)
    from sim import report_cli  # evacsim report / animate (analysis/report_html, animate)

    report_cli.add_commands(sub)

    from sim import check_cli

    check_cli.add_commands(sub)  # evacsim check, evacsim init
    from analysis.gis import cli as gis_cli
    from sim.view import cli as view_cli

    gis_cli.add_commands(sub)  # evacsim export
    view_cli.add_commands(sub)  # evacsim view

    from sim.experiments.cli import add_commands as experiment_commands

    experiment_commands(sub)  # evacsim experiment run | show | compare

    mp = sub.add_parser("map", help="inspect, plot, import or fetch maps")
    mp.set_defaults(func=_group_help(mp))
    msub = mp.add_subparsers(metavar="ACTION")
    info = msub.add_parser("info", help="nodes, links, km of road, shelters, population, bbox")
    info.add_argument("map", type=Path)
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(func=_cmd_map_info)
    plot = msub.add_parser("plot", help="draw the map to a PNG")
    plot.add_argument("map", type=Path)
    plot.add_argument("-o", "--out", type=Path, required=True)
    plot.add_argument("--lang", choices=("en", "zh"), default="en")
    plot.set_defaults(func=_cmd_map_plot)
    imp = msub.add_parser(
        "import", help="compile a .osm/.osm.pbf/.graphml into maps/<name>.evacmap.npz"
    )
    imp.add_argument("source", type=Path)
    imp.add_argument("--name", required=True)
    imp.add_argument("--out-dir", type=Path, default=Path("maps"))
    imp.add_argument("--force", action="store_true")
    imp.set_defaults(func=_cmd_map_import)
    fetch = msub.add_parser("fetch", help="download a place from OpenStreetMap (needs the network)")
    fetch.add_argument(
        "--place", required=True, help='e.g. "Dawukou District, Shizuishan, Ningxia, China"'
    )
    fetch.add_argument("--name", default=None)
    fetch.add_argument("--out-dir", type=Path, default=Path("maps"))
    fetch.set_defaults(func=_cmd_map_fetch)
    return p


def default_run_dir(scenario_name: str, plan: Path | None, seed: int) -> Path:
    """``runs/<scenario>-seed<seed>``, or ``runs/<scenario>-<plan>-seed<seed>`` with a plan.

    One folder per scenario, plan and seed, so the README's tour of runs goes through one
    after another without ``--force``.

    Examples
    --------
    >>> default_run_dir("flash-flood", Path("plans/staged.toml"), 42).as_posix()
    'runs/flash-flood-staged-seed42'
    """
    from sim import runs

    name = scenario_name if plan is None else f"{scenario_name}-{plan.name.removesuffix('.toml')}"
    return runs.default_out_dir(name, seed)


def _group_help(parser: argparse.ArgumentParser):
    """A command group called without its sub-command prints its own list (exit 2)."""

    def show(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR

    return show


def _seed(text: str) -> int:
    """Parse ``--seed`` (argparse type): the range the scenario's ``seed`` field accepts."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError(f"expected 0 <= seed < 2**63, got {seed}")
    return seed


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.report import headline, summary_text
    from sim import runs
    from sim.i18n import t
    from sim.scenario import default_scenario_path, load_scenario
    from sim.simulate import simulate_to_folder

    started = time.perf_counter()
    scenario = load_scenario(
        args.scenario if args.scenario is not None else default_scenario_path()
    )
    seed = scenario.scenario.seed if args.seed is None else args.seed
    out = args.out or default_run_dir(scenario.scenario.name, args.plan, seed)
    quiet = args.quiet or args.json
    runs.check_out_dir(out, force=args.force)  # fail before a minute of simulation, not after
    plan = None
    if args.plan is not None:
        from sim.plan import load_plan

        plan = load_plan(args.plan)
    path = simulate_to_folder(
        scenario,
        out,
        seed=seed,
        plan=plan,
        plan_path=args.plan,
        force=args.force,
        lang=args.lang,
        figures=not args.no_figures,
        progress=not args.no_progress,
        cache_dir=args.cache_dir,
        command=shlex.join(["evacsim", *sys.argv[1:]]),
        started=started,
        ignore_limits=args.ignore_limits,
        quiet=quiet,
    )
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    if args.json:
        print(json.dumps({"run_dir": str(path), **headline(metrics)}, ensure_ascii=False))
    elif not args.quiet:
        print(summary_text(metrics, lang=args.lang))
        print(
            t(
                "cli.run.written",
                args.lang,
                path=str(path),
                wall_s=f"{time.perf_counter() - started:.1f}",
            )
        )
    return 0


def _cmd_map_info(args: argparse.Namespace) -> int:
    from sim.network import load_map, map_info

    info = map_info(load_map(args.map))
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False, default=str))
    else:
        for key, value in info.items():
            print(f"{key:>24}: {_rounded(value, 6 if key.startswith('bbox') else 1)}")
    return 0


def _rounded(value: object, digits: int) -> object:
    """``value`` with every float rounded for people to read (nested dicts, lists, tuples)."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_rounded(v, digits) for v in value)
    return value


def _cmd_map_plot(args: argparse.Namespace) -> int:
    from analysis.map_plot import plot_map
    from sim.network import load_map

    plot_map(load_map(args.map), args.out, lang=args.lang)
    print(args.out)
    return 0


def _cmd_map_import(args: argparse.Namespace) -> int:
    from sim.network import import_map

    print(import_map(args.source, name=args.name, out_dir=args.out_dir, force=args.force))
    return 0


def _cmd_map_fetch(args: argparse.Namespace) -> int:
    from sim.network import fetch_place

    print(fetch_place(args.place, out_dir=args.out_dir, name=args.name))
    return 0


if __name__ == "__main__":  # pragma: no cover
    entry()
