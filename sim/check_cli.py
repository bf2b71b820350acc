"""``evacsim check`` and ``evacsim init``, and the check at the start of ``evacsim run``.

Exit status of ``check``: 0 when no finding is an error (warnings allowed, unless
``--strict``), :data:`sim.check.EXIT_BLOCKING` (1) when one is, 2 for bad input (as every
command). Heavy modules are imported inside the command functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_commands", "checked_model"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``check`` and ``init`` on the top-level sub-command parser."""
    chk = sub.add_parser(
        "check", help="check a scenario before running it: shelter places, reachability, "
                      "service radius, relief target, memory and time")
    chk.add_argument("scenario", type=Path, help="scenario TOML file")
    chk.add_argument("--plan", type=Path, default=None, help="response plan TOML")
    chk.add_argument("--lang", choices=("en", "zh"), default="en")
    chk.add_argument("--json", action="store_true", help="machine-readable findings")
    chk.add_argument("--strict", action="store_true",
                     help="exit 1 on warnings too (not only on blocking problems)")
    chk.add_argument("--ignore-limits", action="store_true",
                     help="build the population even where memory or time estimates exceed "
                          "the machine's")
    chk.add_argument("--cache-dir", type=Path, default=None, help="compiled-map cache")
    chk.set_defaults(func=_cmd_check)

    ini = sub.add_parser(
        "init", help="write a runnable, commented scenario (and zone table) for a map")
    ini.add_argument("map", type=Path, help=".osm, .osm.bz2, .osm.pbf or .graphml")
    ini.add_argument("--out", type=Path, required=True, help="scenario TOML to write")
    ini.add_argument("--force", action="store_true", help="overwrite existing files")
    ini.add_argument("--name", default=None, help="scenario name (default: from the map file)")
    ini.add_argument("--horizon-h", type=float, default=6.0, help="simulated hours (default 6)")
    ini.add_argument("--lang", choices=("en", "zh"), default="en")
    ini.add_argument("--cache-dir", type=Path, default=None, help="compiled-map cache")
    ini.set_defaults(func=_cmd_init)


def checked_model(scenario, *, seed: int, plan=None, cache_dir=None,
                  ignore_limits: bool = False, lang: str = "en", quiet: bool = False):
    """Check resources, build the model, print the plan check on stderr; return the model.

    ``quiet`` keeps the findings off stderr (a refusal is still raised).

    Raises
    ------
    sim.check.ResourceLimitError
        An estimate exceeds the machine's memory or the time limit (before the map or the
        population is allocated) and ``ignore_limits`` is False.
    """
    from sim import check
    from sim.model import EvacuationModel

    net, findings = check.preflight(scenario, plan=plan, cache_dir=cache_dir,
                                    ignore_limits=ignore_limits)
    if not ignore_limits:
        check.refuse_if_blocking(findings, lang=lang)
    model = EvacuationModel(scenario=scenario, seed=seed, network=net, plan=plan,
                            cache_dir=cache_dir)
    findings += check.plan_findings(model, plan)
    if not quiet:
        print(check.render(findings, lang), file=sys.stderr)
    return model


def _cmd_check(args: argparse.Namespace) -> int:
    from sim import check
    from sim.i18n import t
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    plan = None
    if args.plan is not None:
        from sim.plan import load_plan

        plan = load_plan(args.plan)
    net, findings = check.preflight(scenario, plan=plan, cache_dir=args.cache_dir,
                                    ignore_limits=args.ignore_limits)
    if net is not None:
        from sim.model import EvacuationModel

        model = EvacuationModel(scenario=scenario, network=net, plan=plan,
                                cache_dir=args.cache_dir)
        findings += check.plan_findings(model, plan)
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    blocking = errors > 0 or (args.strict and warnings > 0)
    if args.json:
        print(json.dumps({"scenario": str(args.scenario), "blocking": blocking,
                          "findings": [f.to_dict() for f in findings]},
                         indent=2, ensure_ascii=False))
    else:
        print(t("check.header", args.lang, scenario=str(args.scenario)))
        print(check.render(findings, args.lang))
        print(t("check.blocking", args.lang, errors=errors) if errors
              else t("check.none_blocking", args.lang, warnings=warnings))
    return check.EXIT_BLOCKING if blocking else 0


def _cmd_init(args: argparse.Namespace) -> int:
    from sim.i18n import t
    from sim.init_scenario import write_scenario

    res = write_scenario(args.map, args.out, force=args.force, name=args.name,
                         horizon_h=args.horizon_h, cache_dir=args.cache_dir)
    extra = ""
    if res.zones_csv is not None:
        extra = t("check.init.zones_table", args.lang, path=str(res.zones_csv),
                  zones=res.n_zones)
    print(t("check.init.written", args.lang, path=str(res.scenario),
            source=res.choice.source,
            reason=t(f"check.init.reason.{res.choice.reason}", args.lang,
                     **res.choice.values), extra=extra))
    print(t("check.init.next", args.lang, path=str(res.scenario)))
    return 0
