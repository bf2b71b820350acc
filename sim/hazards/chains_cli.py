"""``evacsim hazard tank-fragility``: HAZUS damage-state probabilities of a storage tank.

Wiring: one entry in the tuple of calculator modules in ``sim/cli.py``.
"""

from __future__ import annotations

import argparse
import json


def add_commands(hazard_subparsers) -> None:
    """Add ``tank-fragility`` to an argparse sub-parsers object."""
    from sim.hazards.chains import TANK_FRAGILITY  # light: numpy and pydantic only

    p = hazard_subparsers.add_parser(
        "tank-fragility", help="HAZUS damage states of a storage tank at a PGA (disaster chains)")
    p.add_argument("--tank", required=True,
                   help="tank class: " + ", ".join(TANK_FRAGILITY))
    p.add_argument("--pga", type=float, required=True, help="peak ground acceleration, g")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.set_defaults(func=cmd_tank_fragility)


def cmd_tank_fragility(args: argparse.Namespace) -> int:
    """Print P(DS >= ds) and P(DS = ds) of ``args.tank`` at ``args.pga``."""
    from sim._errors import EvacsimError
    from sim.hazards.chains import TANK_FRAGILITY, tank_answer
    from sim.i18n import t

    if args.tank not in TANK_FRAGILITY:
        raise EvacsimError(f"tank-fragility: --tank: expected one of "
                           f"{', '.join(TANK_FRAGILITY)}, got {args.tank!r}")
    out = tank_answer(args.tank, args.pga)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(t("chains.cli.tank", args.lang, tank=args.tank, pga_g=args.pga))
    for name, p in out["p_state"].items():
        print(t("chains.cli.state", args.lang, state=t(f"chains.ds.{name}", args.lang),
                p_state=p, p_exceed=out["p_exceed"].get(name, 1.0)))
    return 0
