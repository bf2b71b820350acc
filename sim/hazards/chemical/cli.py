"""``evacsim hazard plume|puff|zones``: dispersion answers without a map or a run.

Coordinates are the textbook ones: ``x`` downwind, ``y`` crosswind, ``z`` height, metres,
the source at the origin. The lead's ``sim/cli.py`` calls :func:`add_commands` on its
``evacsim hazard`` sub-parsers; every bad value ends as an :class:`~sim._errors.EvacsimError`
(one line, exit status 2), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math

from sim._errors import EvacsimError
from sim.hazards.chemical.sigmas import TERRAINS
from sim.hazards.chemical.stability import SKY_CONDITIONS


def add_commands(hazard_subparsers) -> None:
    """Add ``plume``, ``puff`` and ``zones`` to an argparse sub-parsers object."""
    from sim.hazards.chemical.substances import AEGL_DURATIONS_MIN

    p = hazard_subparsers.add_parser(
        "plume", help="steady Gaussian plume concentration at a point (docs/references.md 1.1)"
    )
    p.add_argument("--rate-g-s", type=float, required=True, help="emission rate, g/s")
    _weather(p)
    p.add_argument(
        "--height",
        type=float,
        default=0.0,
        help="effective release height (stack + plume rise), m (default 0)",
    )
    _receptor(p)
    p.set_defaults(func=_cmd_plume)

    q = hazard_subparsers.add_parser(
        "puff", help="instantaneous puff concentration at a point and time (CCPS 1999)"
    )
    q.add_argument("--mass-kg", type=float, required=True, help="released mass, kg")
    _weather(q, terrain=False)
    q.add_argument("--t", type=float, required=True, help="time since the release, s")
    q.add_argument("--height", type=float, default=0.0, help="release height, m (default 0)")
    _receptor(q)
    q.set_defaults(func=_cmd_puff)

    z = hazard_subparsers.add_parser(
        "zones", help="AEGL-1/2/3 threat-zone lengths and widths, the ALOHA way"
    )
    z.add_argument(
        "--substance", required=True, help="a row of the substance table (chlorine, ammonia, ...)"
    )
    z.add_argument("--rate-kg-s", type=float, required=True, help="release rate, kg/s")
    z.add_argument("--duration-min", type=float, required=True, help="release duration, min")
    _weather(z)
    z.add_argument("--height", type=float, default=0.0, help="release height, m (default 0)")
    z.add_argument(
        "--aegl-duration-min",
        type=float,
        default=60.0,
        choices=AEGL_DURATIONS_MIN,
        help="AEGL exposure duration, min (default 60)",
    )
    z.add_argument("--json", action="store_true", help="machine-readable output")
    z.set_defaults(func=_cmd_zones)


def _weather(p: argparse.ArgumentParser, *, terrain: bool = True) -> None:
    p.add_argument("--wind", type=float, required=True, help="wind speed, m/s (> 0)")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--stability", default=None, help="Pasquill-Gifford class A-F (default D, or from --sky)"
    )
    g.add_argument(
        "--sky",
        default=None,
        choices=SKY_CONDITIONS,
        help="sky state; the class then follows from the wind (docs/references.md 1.3)",
    )
    if terrain:
        p.add_argument(
            "--terrain",
            default="rural",
            choices=TERRAINS,
            help="Briggs sigma set (default rural)",
        )


def _receptor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--x", type=float, required=True, help="downwind distance, m")
    p.add_argument("--y", type=float, default=0.0, help="crosswind distance, m (default 0)")
    p.add_argument("--z", type=float, default=0.0, help="height above ground, m (default 0)")
    p.add_argument("--substance", default=None, help="also give ppm for this substance")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _stability(args: argparse.Namespace) -> str:
    from sim.hazards.chemical import dispersion as disp  # scipy: only when computing

    if args.sky is not None:
        return disp.pasquill_class(args.wind, args.sky)
    return disp.check_stability(args.stability if args.stability is not None else "D")


def _substance(key: str | None):
    if key is None:
        return None
    from sim.hazards.chemical.substances import get_substance

    return get_substance(key)


def _run(command: str, body) -> int:
    """Turn a ValueError from the formulas into one readable EvacsimError line."""
    try:
        return body()
    except EvacsimError:
        raise
    except ValueError as exc:
        raise EvacsimError(f"hazard {command}: {exc}") from None


def _emit(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k:>14}: {_fmt(v)}")
        else:
            print(f"{key:>20}: {_fmt(value)}")


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _point_result(c_g_m3: float, sy: float, sz: float, stability: str, sub) -> dict:
    out = {
        "concentration_g_m3": float(c_g_m3),
        "concentration_mg_m3": float(c_g_m3) * 1000.0,
        "sigma_y_m": float(sy),
        "sigma_z_m": float(sz),
        "stability": stability,
    }
    if sub is not None:
        out["ppm"] = float(sub.g_m3_to_ppm(c_g_m3))
        out["substance"] = sub.key
    return out


def _cmd_plume(args: argparse.Namespace) -> int:
    from sim.hazards.chemical import dispersion as disp  # scipy: only when computing

    def body() -> int:
        stability = _stability(args)
        disp.check_wind(args.wind)
        sub = _substance(args.substance)
        c = disp.plume_concentration(
            args.rate_g_s,
            args.wind,
            args.x,
            args.y,
            args.z,
            height_m=args.height,
            stability=stability,
            terrain=args.terrain,
        )
        sy, sz = disp.briggs_sigmas(args.x, stability, args.terrain)
        _emit(_point_result(float(c), float(sy), float(sz), stability, sub), args.json)
        return 0

    return _run("plume", body)


def _cmd_puff(args: argparse.Namespace) -> int:
    from sim.hazards.chemical import dispersion as disp  # scipy: only when computing

    def body() -> int:
        stability = _stability(args)
        u = disp.check_wind(args.wind)
        sub = _substance(args.substance)
        c_kg = disp.puff_concentration(
            args.mass_kg,
            u,
            args.t,
            args.x,
            args.y,
            args.z,
            height_m=args.height,
            stability=stability,
        )
        sxy, sz = disp.ccps_puff_sigmas(u * max(args.t, 0.0), stability)
        out = _point_result(float(c_kg) * 1000.0, float(sxy), float(sz), stability, sub)
        out["sigma_x_m"] = float(sxy)
        out["cloud_centre_x_m"] = u * max(args.t, 0.0)
        _emit(out, args.json)
        return 0

    return _run("puff", body)


def _cmd_zones(args: argparse.Namespace) -> int:
    from sim.hazards.chemical import dispersion as disp  # scipy: only when computing

    def body() -> int:
        stability = _stability(args)
        u = disp.check_wind(args.wind)
        sub = _substance(args.substance)
        for name, value in (("--rate-kg-s", args.rate_kg_s), ("--duration-min", args.duration_min)):
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"{name}: expected a number > 0, got {value!r}")
        out: dict = {
            "substance": sub.key,
            "stability": stability,
            "terrain": args.terrain,
            "aegl_duration_min": args.aegl_duration_min,
            "aegl_verified": sub.aegl_verified,
        }
        for level in (1, 2, 3):
            ppm = sub.aegl(level, args.aegl_duration_min)
            zone = disp.threat_zone(
                args.rate_kg_s * 1000.0,
                args.duration_min * 60.0,
                u,
                float(sub.ppm_to_g_m3(ppm)),
                height_m=args.height,
                stability=stability,
                terrain=args.terrain,
            )
            out[f"aegl{level}"] = {
                "ppm": ppm,
                "length_m": zone["length_m"],
                "max_width_m": zone["max_width_m"],
                # Briggs σ are fitted up to ~10 km (docs/references.md 1.4).
                "extrapolated": zone["length_m"] > 10_000.0,
            }
        _emit(out, args.json)
        return 0

    return _run("zones", body)
