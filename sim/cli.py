"""The ``evacsim`` command line.

Every user error (a bad scenario, a missing map, an existing run folder) ends as one
readable line on stderr and exit status 2; a traceback means a bug in evacsim.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim._errors import EvacsimError

EXIT_USER_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``evacsim`` command line; returns the process exit status."""
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
    run.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="run folder to write (default: runs/<scenario>-seed<seed>)",
    )
    run.add_argument("--force", action="store_true", help="replace an existing run folder")
    run.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="language of the summary and figures"
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    run.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="compiled-map cache (default: $EVACSIM_CACHE_DIR or ~/.cache/evacsim)",
    )
    run.set_defaults(func=_cmd_run)

    hz = sub.add_parser("hazard", help="hazard calculators (flood, chemical release, earthquake)")
    hsub = hz.add_subparsers(metavar="CALCULATOR")
    from sim.hazards import chemical_cli, earthquake_cli, flood_cli

    for mod in (flood_cli, chemical_cli, earthquake_cli):
        mod.add_commands(hsub)

    from sim.experiments.cli import add_commands as experiment_commands

    experiment_commands(sub)  # evacsim experiment run | show | compare

    mp = sub.add_parser("map", help="inspect, plot, import or fetch maps")
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


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.report import summary_text
    from sim import results, runs
    from sim.i18n import t
    from sim.model import EvacuationModel
    from sim.scenario import default_scenario_path, load_scenario

    started = time.perf_counter()
    scenario = load_scenario(
        args.scenario if args.scenario is not None else default_scenario_path()
    )
    seed = scenario.scenario.seed if args.seed is None else args.seed
    out = args.out or runs.default_out_dir(scenario.scenario.name, seed)
    runs.check_out_dir(out, force=args.force)  # fail before a minute of simulation, not after
    plan = None
    if args.plan is not None:
        from sim.plan import load_plan

        plan = load_plan(args.plan)
    cache = args.cache_dir
    model = EvacuationModel(scenario=scenario, seed=seed, cache_dir=cache, plan=plan)
    print(
        t(
            "cli.run.start",
            args.lang,
            persons=model.pop.n_persons,
            households=len(model.pop.persons),
            shelters=len(model.shelters),
            map=model.net.name,
        ),
        file=sys.stderr,
    )
    model.run(progress=not args.no_progress)
    man = results.manifest(model, command=shlex.join(["evacsim", *sys.argv[1:]]))
    man["wall_s"] = round(time.perf_counter() - started, 3)
    if args.plan is not None:
        man["plan"] = {"path": str(args.plan.resolve()), "sha256": results.sha256_file(args.plan)}
    path = runs.write_run(
        out,
        manifest=man,
        tables=results.tables(model),
        force=args.force,
        lang=args.lang,
        figures=not args.no_figures,
        extra=results.extra(model),
    )
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
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
            print(f"{key:>24}: {value}")
    return 0


def _cmd_map_plot(args: argparse.Namespace) -> int:
    from sim.network import load_map, plot_map

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
    raise SystemExit(main())
