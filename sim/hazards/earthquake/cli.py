"""``evacsim hazard gmpe`` and ``evacsim hazard fragility``: the earthquake calculators.

Wiring (in ``sim/cli.py``, next to the flood and chemical calculators)::

    from sim.hazards.earthquake import cli as earthquake_cli
    earthquake_cli.add_commands(hsub)

Each sub-command sets ``func`` (called with the parsed namespace, returns the exit
status). Bad values (magnitude out of the model's range, unknown mechanism, region or
building class, a code the class lacks) raise :class:`~sim._errors.EvacsimError`, which
``evacsim`` prints as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import json

from sim._errors import EvacsimError


def add_commands(hazard_subparsers) -> None:
    """Add ``gmpe`` and ``fragility`` to an argparse sub-parsers object."""
    g = hazard_subparsers.add_parser(
        "gmpe", help="median PGA / PGV and sigma: BSSA14 (NGA-West2) or Yu et al. 2013 (China)")
    g.add_argument("--model", choices=("bssa14", "yu2013"), default="bssa14",
                   help="ground motion model (default bssa14)")
    g.add_argument("--mag", type=float, default=None,
                   help="moment magnitude Mw (bssa14: 3-8.5; for yu2013 converted to Ms)")
    g.add_argument("--ms", type=float, default=None,
                   help="surface-wave magnitude Ms (yu2013: 4-8.5; for bssa14 converted to Mw)")
    g.add_argument("--rjb", type=float, default=None,
                   help="bssa14: Joyner-Boore distance, km (0-300)")
    g.add_argument("--vs30", type=float, default=760.0,
                   help="bssa14: Vs30, m/s (150-1500; default 760)")
    g.add_argument("--mechanism", default="U", help="bssa14: U|SS|NS|RS (default U)")
    g.add_argument("--region", default="global",
                   help="bssa14: global|california|china|turkey|japan|italy|taiwan "
                        "(anelastic term; default global)")
    g.add_argument("--repi", type=float, default=None, help="yu2013: epicentral distance, km")
    g.add_argument("--azimuth", type=float, default=0.0,
                   help="yu2013: degrees between the site's direction from the epicentre and "
                        "the rupture's long axis (0 = along strike; default 0)")
    g.add_argument("--yu-region", default="active",
                   help="yu2013: active|tibet|eastern|stable (default active)")
    g.add_argument("--json", action="store_true", help="machine-readable output")
    g.add_argument("--lang", choices=("en", "zh"), default="en")
    g.set_defaults(func=cmd_gmpe)

    f = hazard_subparsers.add_parser(
        "fragility", help="HAZUS damage-state probabilities of a building class at a PGA")
    f.add_argument("--building", required=True,
                   help="HAZUS model building type (W1, C1L, URML, ...)")
    f.add_argument("--code", default="moderate", help="high|moderate|low|pre (default moderate)")
    f.add_argument("--pga", type=float, required=True, help="peak ground acceleration, g")
    f.add_argument("--json", action="store_true", help="machine-readable output")
    f.add_argument("--lang", choices=("en", "zh"), default="en")
    f.set_defaults(func=cmd_fragility)


def gmpe_answer(args: argparse.Namespace) -> dict:
    """The ``gmpe`` result as a dict (``pga_g``, ``pgv_cm_s``, ``ln_sigma_pga``, inputs)."""
    from sim.hazards.earthquake import gmpe

    if (args.mag is None) == (args.ms is None):
        raise EvacsimError("gmpe: expected exactly one of --mag (Mw) or --ms (Ms)")
    if args.model == "bssa14":
        if args.rjb is None:
            raise EvacsimError("gmpe: --rjb: expected the Joyner-Boore distance in km for "
                               "--model bssa14")
        mw = args.mag if args.mag is not None else gmpe.ms_to_mw(args.ms)
        gm = gmpe.bssa14(mw, args.rjb, args.vs30, mechanism=args.mechanism, region=args.region)
        inputs = {"mw": mw, "rjb_km": args.rjb, "vs30_mps": args.vs30,
                  "mechanism": args.mechanism, "region": args.region}
    else:
        if args.repi is None:
            raise EvacsimError("gmpe: --repi: expected the epicentral distance in km for "
                               "--model yu2013")
        ms = args.ms if args.ms is not None else gmpe.mw_to_ms(args.mag)
        gm = gmpe.yu2013(ms, args.repi, args.azimuth, region=args.yu_region)
        inputs = {"ms": ms, "repi_km": args.repi, "azimuth_deg": args.azimuth,
                  "region": args.yu_region}
    return {"model": args.model, **inputs, "pga_g": float(gm.pga_g[0]),
            "pgv_cm_s": float(gm.pgv_cm_s[0]), "ln_sigma_pga": float(gm.ln_sigma_pga[0])}


def fragility_answer(building: str, code: str, pga_g: float) -> dict:
    """``{"p_exceed": {...}, "p_state": {...}, ...}`` for one class, code and PGA (g)."""
    from sim.hazards.earthquake import fragility as fr

    ex = fr.p_exceed(pga_g, building, code)
    st = fr.state_probabilities(ex)
    names = fr.DAMAGE_STATES
    return {"building": building, "code": code, "pga_g": pga_g,
            "p_exceed": {n: float(v) for n, v in zip(names[1:], ex, strict=True)},
            "p_state": {n: float(v) for n, v in zip(names, st, strict=True)},
            "expected_casualty_share": {
                f"s{s}": float(v) for s, v in zip(fr.SEVERITIES, fr.expected_casualty_fraction(
                    pga_g, building, code), strict=True)}}


def cmd_gmpe(args: argparse.Namespace) -> int:
    """Print the median ground motion of ``args``."""
    from sim.i18n import t

    out = gmpe_answer(args)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(t("earthquake.cli.gmpe", args.lang, model=out["model"], pga_g=out["pga_g"],
                pgv_cm_s=out["pgv_cm_s"], sigma=out["ln_sigma_pga"]))
    return 0


def cmd_fragility(args: argparse.Namespace) -> int:
    """Print P(DS ≥ ds) and P(DS = ds) for ``args.building`` at ``args.pga``."""
    from sim.i18n import t

    out = fragility_answer(args.building, args.code, args.pga)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(t("earthquake.cli.fragility", args.lang, building=out["building"],
            code=t(f"earthquake.code.{out['code']}", args.lang), pga_g=out["pga_g"]))
    for name, p in out["p_state"].items():
        ex = out["p_exceed"].get(name, 1.0)  # P(DS >= none) = 1
        print(t("earthquake.cli.state", args.lang, state=t(f"earthquake.ds.{name}", args.lang),
                p_state=p, p_exceed=ex))
    return 0
