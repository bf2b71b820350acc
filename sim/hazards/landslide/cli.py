"""``evacsim hazard newmark``: landslide screening of one slope under shaking (and rain).

Wiring: one entry in the tuple of calculator modules in ``sim/cli.py``.
"""

from __future__ import annotations

import argparse
import json
import math


def add_commands(hazard_subparsers) -> None:
    """Add ``newmark`` to an argparse sub-parsers object."""
    p = hazard_subparsers.add_parser(
        "newmark", help="landslide screening: factor of safety, Newmark displacement "
                        "(Jibson 2007) and failure probability (Jibson et al. 2000)")
    p.add_argument("--slope-deg", type=float, required=True, help="slope, degrees (0-89)")
    p.add_argument("--pga", type=float, default=0.0, help="peak ground acceleration, g")
    p.add_argument("--cohesion-kpa", type=float, default=5.0, help="effective cohesion, kPa (5)")
    p.add_argument("--friction-deg", type=float, default=32.0,
                   help="effective friction angle, degrees (32)")
    p.add_argument("--unit-weight", type=float, default=19.0,
                   help="soil unit weight, kN/m3 (19)")
    p.add_argument("--thickness-m", type=float, default=2.4, help="slab thickness, m (2.4)")
    p.add_argument("--saturation", type=float, default=0.0,
                   help="saturated fraction of the slab, 0-1 (0)")
    p.add_argument("--rain-mm-h", type=float, default=None,
                   help="rain intensity, mm/h (with --rain-h: Caine 1980 threshold check)")
    p.add_argument("--rain-h", type=float, default=None, help="rain duration, h")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.set_defaults(func=cmd_newmark)


def _check(name: str, value: float, lo: float, hi: float) -> None:
    from sim._errors import EvacsimError

    if not (math.isfinite(value) and lo <= value <= hi):
        raise EvacsimError(f"newmark: --{name}: expected {lo:g}-{hi:g}, got {value}")


def newmark_answer(args: argparse.Namespace) -> dict:
    """The calculator's answer as a dict."""
    from sim._errors import EvacsimError
    from sim.hazards.landslide import screening as sc

    _check("slope-deg", args.slope_deg, 0.0, 89.0)
    _check("pga", args.pga, 0.0, 5.0)
    _check("cohesion-kpa", args.cohesion_kpa, 0.0, 500.0)
    _check("friction-deg", args.friction_deg, 0.0, 60.0)
    _check("unit-weight", args.unit_weight, 5.0, 30.0)
    _check("thickness-m", args.thickness_m, 0.1, 50.0)
    _check("saturation", args.saturation, 0.0, 1.0)
    soil = sc.Soil(args.cohesion_kpa, args.friction_deg, args.unit_weight, args.thickness_m)
    fs = float(sc.factor_of_safety(args.slope_deg, soil, args.saturation))
    ac = float(sc.critical_acceleration_g(fs, args.slope_deg))
    dn = float(sc.newmark_displacement_cm(ac, args.pga))
    out = {"slope_deg": args.slope_deg, "pga_g": args.pga, "factor_of_safety": fs,
           "critical_acceleration_g": ac, "newmark_displacement_cm": dn,
           "failure_probability": float(sc.failure_probability(dn)),
           "soil": {"cohesion_kpa": soil.cohesion_kpa, "friction_deg": soil.friction_deg,
                    "unit_weight_kn_m3": soil.unit_weight_kn_m3,
                    "thickness_m": soil.thickness_m, "saturation": args.saturation}}
    if (args.rain_mm_h is None) != (args.rain_h is None):
        raise EvacsimError("newmark: --rain-mm-h and --rain-h: expected both or neither")
    if args.rain_mm_h is not None:
        _check("rain-mm-h", args.rain_mm_h, 0.0, 500.0)
        _check("rain-h", args.rain_h, 1 / 6, 240.0)
        out["rain_threshold_mm_h"] = float(sc.caine_threshold_mm_h(args.rain_h))
        out["rain_failure"] = bool(sc.rain_failure(args.slope_deg, args.rain_mm_h, args.rain_h,
                                                   soil))
    for k, v in out.items():  # JSON has no inf: flat ground / unstable slope -> null
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None
    return out


def cmd_newmark(args: argparse.Namespace) -> int:
    """Print the screening of one slope."""
    from sim.i18n import t

    out = newmark_answer(args)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0

    def num(v):
        return "inf" if v is None else f"{v:.3g}"

    print(t("landslide.cli.slope", args.lang, slope=args.slope_deg, pga=args.pga,
            fs=num(out["factor_of_safety"]), ac=num(out["critical_acceleration_g"]),
            dn=num(out["newmark_displacement_cm"]), p=out["failure_probability"]))
    if "rain_failure" in out:
        print(t("landslide.cli.rain", args.lang, threshold=out["rain_threshold_mm_h"],
                fails=t(f"landslide.cli.{'yes' if out['rain_failure'] else 'no'}", args.lang)))
    return 0
