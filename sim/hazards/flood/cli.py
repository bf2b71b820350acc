"""``evacsim hazard flood-speed`` and ``evacsim hazard flood-rating``: the flood curves.

Wiring (in ``sim/cli.py``)::

    hz = sub.add_parser("hazard", help="hazard curves and calculators")
    hsub = hz.add_subparsers(metavar="CALC")
    from sim.hazards.flood import cli as flood_cli
    flood_cli.add_commands(hsub)

Each sub-command sets ``func`` (called with the parsed namespace, returns the exit
status) like the other ``evacsim`` commands.
"""

from __future__ import annotations

import argparse
import json

from sim.hazards.flood import curves as fc


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def add_commands(hazard_subparsers) -> None:
    """Add ``flood-speed`` and ``flood-rating`` to an argparse sub-parsers object."""
    sp = hazard_subparsers.add_parser(
        "flood-speed", help="vehicle speed in flood water (Pregnolato et al. 2017)")
    sp.add_argument("--depth-mm", type=_non_negative, required=True,
                    help="water depth on the road, mm")
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.add_argument("--lang", choices=("en", "zh"), default="en")
    sp.set_defaults(func=cmd_flood_speed)

    rp = hazard_subparsers.add_parser(
        "flood-rating",
        help="hazard to people in flood water: HR and class (Defra FD2321), H1-H6 (AIDR)")
    rp.add_argument("--depth", type=_non_negative, required=True, help="water depth, m")
    rp.add_argument("--velocity", type=_non_negative, required=True, help="flow speed, m/s")
    rp.add_argument("--debris", type=_non_negative, default=None,
                    help="debris factor DF (default: FD2320 table for urban land)")
    rp.add_argument("--json", action="store_true", help="machine-readable output")
    rp.add_argument("--lang", choices=("en", "zh"), default="en")
    rp.set_defaults(func=cmd_flood_rating)


def flood_speed(depth_mm: float) -> dict:
    """``{"depth_mm", "speed_kmh", "passable"}`` for one depth in millimetres."""
    v = float(fc.vehicle_speed_kmh(depth_mm))
    return {"depth_mm": depth_mm, "speed_kmh": round(v, 4),
            "passable": bool(depth_mm < fc.VEHICLE_CLOSE_DEPTH_MM)}


def flood_rating(depth_m: float, velocity_mps: float, debris: float | None) -> dict:
    """``{"hr", "hr_class", "h_class", ...}`` for one depth (m), speed (m/s), debris factor."""
    df = float(fc.debris_factor(depth_m, velocity_mps)) if debris is None else debris
    hr = float(fc.hazard_rating(depth_m, velocity_mps, df))
    return {"depth_m": depth_m, "velocity_mps": velocity_mps, "debris_factor": df,
            "hr": round(hr, 6), "hr_class": fc.hr_class(hr),
            "h_class": fc.h_class(depth_m, velocity_mps)}


def cmd_flood_speed(args: argparse.Namespace) -> int:
    """Print the Pregnolato speed for ``args.depth_mm``."""
    from sim.i18n import t

    out = flood_speed(args.depth_mm)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        key = "flood.cli.speed" if out["passable"] else "flood.cli.closed"
        print(t(key, args.lang, depth_mm=out["depth_mm"], speed_kmh=out["speed_kmh"]))
    return 0


def cmd_flood_rating(args: argparse.Namespace) -> int:
    """Print HR, its FD2321 class and the H1–H6 class."""
    from sim.i18n import t

    out = flood_rating(args.depth, args.velocity, args.debris)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(t("flood.cli.rating", args.lang, hr=out["hr"],
                hr_class=t(f"flood.hr_class.{out['hr_class']}", args.lang),
                h_class=out["h_class"], h_meaning=t(f"flood.h_class.{out['h_class']}",
                                                    args.lang)))
    return 0
