"""``evacsim view``: the live model in the browser (argparse wiring only)."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PORT = 8765


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``evacsim view``."""
    p = sub.add_parser(
        "view",
        help="watch and steer the live model in the browser (Mesa SolaraViz)",
        description="Serves a Mesa SolaraViz page on localhost running the real model: roads "
        "by load, shelters by fill, the hazard, people not yet safe; charts; play / pause / "
        "step, speed, and the planner's parameters (Reset rebuilds the model).",
    )
    p.add_argument("scenario", type=Path, nargs="?", default=None,
                   help="scenario TOML (default: the embedded default district)")
    p.add_argument("--plan", type=Path, action="append", default=[],
                   help="response plan TOML offered in the page (repeatable); the first is "
                   "selected at start")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT})")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--frame-s", type=float, default=60.0,
                   help="model time per frame, s (default 60)")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.add_argument("--cache-dir", type=Path, default=None, help="compiled-map cache")
    p.set_defaults(func=_cmd_view)


def _cmd_view(args: argparse.Namespace) -> int:
    from sim._errors import ScenarioError
    from sim.i18n import t
    from sim.plan import load_plan
    from sim.scenario import default_scenario_path, load_scenario
    from sim.view.app import ViewConfig
    from sim.view.serve import port_is_free, serve

    lang = args.lang
    path = (args.scenario or default_scenario_path()).resolve()
    load_scenario(path)  # a bad scenario fails here, in one line, before the server starts
    plans = {}
    for plan_path in args.plan:
        plan = load_plan(plan_path)
        plans[plan.plan.name] = str(plan_path.resolve())
    if not (0 < args.port < 65536) or not port_is_free(args.port):
        raise ScenarioError(t("view.port_busy", lang, port=args.port))
    if not (args.frame_s > 0):
        raise ScenarioError(f"--frame-s: expected a positive number of seconds, got {args.frame_s}")
    config = ViewConfig(scenario_path=str(path), plans=plans, plan=next(iter(plans), "none"),
                        lang=lang, frame_s=args.frame_s, seed=args.seed,
                        cache_dir=str(args.cache_dir) if args.cache_dir else None)
    print(t("view.serving", lang, scenario=path.name, url=f"http://127.0.0.1:{args.port}/"),
          flush=True)
    try:
        serve(config, port=args.port, open_browser=not args.no_browser)
    except KeyboardInterrupt:
        pass
    return 0
