"""``evacsim hazard fire-spread``: the Rothermel head fire of one fuel model, wind and slope.

Wiring (one line in ``sim/cli.py``, with the other hazard calculators)::

    from sim.hazards.wildfire import cli as wildfire_cli
    wildfire_cli.add_commands(hsub)

Bad values (unknown fuel model, negative wind, slope out of range) raise
:class:`~sim._errors.EvacsimError`, which ``evacsim`` prints as one line (exit status 2).
"""

from __future__ import annotations

import argparse
import json

from sim._errors import EvacsimError


def add_commands(hazard_subparsers) -> None:
    """Add ``fire-spread`` to an argparse sub-parsers object."""
    p = hazard_subparsers.add_parser(
        "fire-spread",
        help="surface fire spread rate (Rothermel 1972) of a fuel model, wind and slope")
    p.add_argument("--fuel-model", required=True,
                   help="standard fuel model: number or code (1-13 / FM1-FM13, GR2, GS1, GS4, "
                        "SH2, NB1 ...)")
    p.add_argument("--wind-mps", type=float, default=0.0,
                   help="wind speed, m/s (midflame, or 20-ft with --wind-height 20ft)")
    p.add_argument("--wind-height", choices=("midflame", "20ft"), default="midflame",
                   help="where --wind-mps is measured; 20ft applies the unsheltered wind "
                        "adjustment factor of the fuel bed (default midflame)")
    p.add_argument("--wind-dir-deg", type=float, default=0.0,
                   help="direction the wind blows TOWARD, degrees clockwise from upslope "
                        "(default 0: upslope)")
    p.add_argument("--slope-deg", type=float, default=0.0, help="slope, degrees (0-60)")
    p.add_argument("--m1", type=float, default=6.0, help="1-h dead fuel moisture, %% (6)")
    p.add_argument("--m10", type=float, default=7.0, help="10-h dead fuel moisture, %% (7)")
    p.add_argument("--m100", type=float, default=8.0, help="100-h dead fuel moisture, %% (8)")
    p.add_argument("--mherb", type=float, default=60.0, help="live herbaceous moisture, %% (60)")
    p.add_argument("--mwoody", type=float, default=90.0, help="live woody moisture, %% (90)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.set_defaults(func=cmd_fire_spread)


def fire_spread_answer(args: argparse.Namespace) -> dict:
    """The head fire of ``args`` as a dict (SI units; see :func:`rothermel.spread_rate_mps`)."""
    from sim.hazards.wildfire import fuel as fu
    from sim.hazards.wildfire import rothermel as ro

    fm = fu.fuel_model(args.fuel_model, field="fire-spread: --fuel-model")
    if not args.wind_mps >= 0.0 or args.wind_mps > 60.0:
        raise EvacsimError(f"fire-spread: --wind-mps: expected 0-60 m/s, got {args.wind_mps}")
    if not 0.0 <= args.slope_deg <= 60.0:
        raise EvacsimError(f"fire-spread: --slope-deg: expected 0-60 degrees, "
                           f"got {args.slope_deg}")
    for name in ("m1", "m10", "m100"):
        v = getattr(args, name)
        if not 1.0 <= v <= 60.0:
            raise EvacsimError(f"fire-spread: --{name}: expected 1-60 %, got {v}")
    for name in ("mherb", "mwoody"):
        v = getattr(args, name)
        if not 30.0 <= v <= 300.0:
            raise EvacsimError(f"fire-spread: --{name}: expected 30-300 %, got {v}")
    moist = ro.Moisture(args.m1 / 100, args.m10 / 100, args.m100 / 100, args.mherb / 100,
                        args.mwoody / 100)
    waf = ro.wind_adjustment_factor(fm.depth_ft) if args.wind_height == "20ft" else 1.0
    out = ro.spread_rate_mps(fm, moist, midflame_mps=args.wind_mps * waf,
                             slope_deg=args.slope_deg, wind_from_upslope_deg=args.wind_dir_deg)
    return {"fuel_model": fm.code, "fuel_name": fm.name, "midflame_wind_mps": args.wind_mps * waf,
            "wind_adjustment_factor": waf, "slope_deg": args.slope_deg,
            "wind_dir_from_upslope_deg": args.wind_dir_deg,
            "moisture_pct": {"1h": args.m1, "10h": args.m10, "100h": args.m100,
                             "herb": args.mherb, "woody": args.mwoody}, **out}


def cmd_fire_spread(args: argparse.Namespace) -> int:
    """Print the head fire of ``args``."""
    from sim.i18n import t

    out = fire_spread_answer(args)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(t("wildfire.cli.head", args.lang, code=out["fuel_model"], name=out["fuel_name"],
            ros=out["ros_m_per_h"], direction=out["direction_from_upslope_deg"],
            lb=out["length_to_breadth"]))
    print(t("wildfire.cli.flanks", args.lang, back=out["backing_mps"] * 3600,
            flank=out["flanking_mps"] * 3600, fli=out["fireline_intensity_kw_m"],
            wind=out["midflame_wind_mps"]))
    return 0
