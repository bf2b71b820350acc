"""``evacsim drill``: build an exercise package from a scenario run or a run folder.

::

    evacsim drill SCENARIO --plan PLAN [--drill FILE] [options] --out DIR
    evacsim drill --from-run RUN_DIR [--drill FILE] [options] --out DIR
    evacsim drill evaluate DRILL_DIR --log observed.csv
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``evacsim drill`` on the top-level sub-command parser."""
    p = sub.add_parser("drill", help="exercise package (MSEL, situation manual, evaluation "
                       "guide) from a simulated run; 'drill evaluate' after the exercise")
    p.add_argument("target", nargs="*", metavar="SCENARIO | evaluate DRILL_DIR",
                   help="scenario TOML to simulate, or 'evaluate DRILL_DIR'")
    p.add_argument("--plan", type=Path, default=None, help="response plan TOML")
    p.add_argument("--from-run", type=Path, default=None, help="build from this run folder")
    p.add_argument("--drill", type=Path, default=None,
                   help="drill settings TOML (scenarios/drills/README.md)")
    p.add_argument("--type", choices=("tabletop", "functional", "full-scale"), default=None)
    p.add_argument("--duration-h", type=float, default=None, help="exercise length, hours")
    p.add_argument("--compression", type=float, default=None,
                   help="scenario hours per exercise hour (default: the whole run)")
    p.add_argument("--start", default=None, help="exercise clock at the start, HH:MM")
    p.add_argument("--roles", default=None, help="comma-separated player roles")
    p.add_argument("--injects-per-hour", type=float, default=None)
    p.add_argument("--seed", type=int, default=None, help="seed of the templated injects")
    p.add_argument("--run-seed", type=int, default=None,
                   help="seed of the simulation (default: the scenario's)")
    p.add_argument("--variant", action="append", default=[],
                   help="close-shelter:NAME, remove-teams:SHARE, wind-shift:AT_MIN:FROM_DEG"
                        "[:SPEED], second-breach:AT_MIN[:INFLOW], delay-warning:MIN")
    p.add_argument("--lang", choices=("en", "zh"), default=None)
    p.add_argument("--out", type=Path, default=None, help="package folder (default drills/<name>)")
    p.add_argument("--force", action="store_true", help="replace an existing drill package")
    p.add_argument("--log", type=Path, default=None, help="evaluate: observed log (.csv/.xlsx)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.set_defaults(func=_cmd_drill)


def _overrides(args: argparse.Namespace) -> dict:
    from analysis.drill.variants import parse_cli_variant

    ex = {k: v for k, v in (("type", args.type), ("duration_h", args.duration_h),
                            ("compression", args.compression), ("start_clock", args.start),
                            ("injects_per_hour", args.injects_per_hour), ("seed", args.seed),
                            ("lang", args.lang)) if v is not None}
    out: dict = {"exercise": ex}
    if args.roles is not None:
        out["roles"] = [r.strip() for r in args.roles.split(",") if r.strip()]
    if args.variant:
        out["variants"] = [parse_cli_variant(v) for v in args.variant]
    return out


def _cmd_drill(args: argparse.Namespace) -> int:
    from sim._errors import ScenarioError
    from sim.i18n import t

    if args.target[:1] == ["evaluate"]:
        from analysis.drill.evaluate import evaluate

        if len(args.target) != 2 or args.log is None:
            raise ScenarioError("drill evaluate: expected 'drill evaluate DRILL_DIR --log FILE', "
                                f"got {' '.join(args.target)} --log {args.log}")
        path = evaluate(args.target[1], args.log, lang=args.lang, force=args.force)
        print(t("drill.eval.written", args.lang or "en", path=path))
        return 0
    if len(args.target) > 1:
        raise ScenarioError(f"drill: expected one SCENARIO file, got {args.target}")
    return build(args)


def build(args: argparse.Namespace) -> int:
    """Build a package (the ``drill`` command without ``evaluate``)."""
    from analysis.drill.package import (
        VariantRun,
        check_package_dir,
        finish,
        package_files,
        staging_dir,
    )
    from analysis.drill.rundata import read_run
    from analysis.drill.settings import load_drill, resolve_timing
    from analysis.drill.variants import apply_variant, variant_id, variant_label
    from sim._errors import ScenarioError
    from sim._spec import read_toml
    from sim.i18n import t
    from sim.plan import Plan, load_plan
    from sim.scenario import Scenario, load_scenario
    from sim.simulate import simulate_to_folder

    started = time.perf_counter()
    spec, base = load_drill(args.drill, overrides=_overrides(args))
    lang = spec.exercise.lang
    scenario_path = Path(args.target[0]) if args.target else (
        base / spec.scenario if spec.scenario and args.from_run is None else None)
    plan_path = args.plan or (base / spec.plan if spec.plan else None)
    if (scenario_path is None) == (args.from_run is None):
        raise ScenarioError(t("drill.cli.needs_source", lang,
                              got=f"{scenario_path} and --from-run {args.from_run}"))
    where = str(args.drill) if args.drill else "--variant"
    if args.from_run is not None:
        run0 = read_run(args.from_run)
        name = args.from_run.resolve().name
        sc_dict = run0.spec
        sc_base = Path.cwd()
        plan_rec = (run0.manifest.get("plan") or {}).get("path")
        plan_path = Path(plan_rec) if plan_rec else None
        if plan_path is not None and spec.variants:
            _check_plan_unchanged(plan_path, run0.manifest["plan"].get("sha256", ""),
                                  args.from_run)
        horizon_s = run0.horizon_s
        seed = int(run0.manifest.get("seed", 0))
    else:
        scenario = load_scenario(scenario_path)
        name = scenario.scenario.name
        sc_dict = read_toml(scenario_path, "scenario file")
        sc_base = scenario_path.resolve().parent
        horizon_s = scenario.horizon_s
        seed = scenario.scenario.seed if args.run_seed is None else args.run_seed
    plan_dict = read_toml(plan_path, "plan file") if plan_path is not None else None
    resolve_timing(spec.exercise, horizon_s, where=where if args.drill else "--duration-h")
    for v in spec.variants:  # refuse before minutes of simulation
        apply_variant(v, sc_dict, plan_dict, shelter_names=None, where=where)
    out = args.out or Path("drills") / f"{name}"
    check_package_dir(out, args.force, lang)
    tmp = staging_dir(out)
    try:
        common = {"lang": lang, "figures": False, "progress": not args.no_progress,
                  "cache_dir": args.cache_dir}
        if args.from_run is not None:
            run_ref = str(args.from_run.resolve())
            (tmp / "run").symlink_to(run_ref, target_is_directory=True)
        else:
            run_ref = "run"
            plan = load_plan(plan_path) if plan_path is not None else None
            print(t("drill.cli.running", lang, path=out / "run"), file=sys.stderr)
            simulate_to_folder(scenario, tmp / "run", seed=seed, plan=plan, plan_path=plan_path,
                               command=" ".join(["evacsim", *sys.argv[1:]]), **common)
            run0 = read_run(tmp / "run")
        names = run0.shelters["name"].astype(str).tolist()
        variants = []
        for k, v in enumerate(spec.variants):
            vid = variant_id(k, v)
            label = variant_label(v, lang)
            sc_v, pl_v = apply_variant(v, sc_dict, plan_dict, shelter_names=names, where=where)
            src = f"{where} ({vid})"
            sc_spec = Scenario.from_dict(sc_v, source=src, base_dir=sc_base)
            pl_spec = Plan.from_dict(pl_v, source=src) if pl_v is not None else None
            print(t("drill.cli.variant_running", lang, label=label, path=out / f"run-{vid}"),
                  file=sys.stderr)
            simulate_to_folder(sc_spec, tmp / f"run-{vid}", seed=seed, plan=pl_spec,
                               plan_path=plan_path, command=f"variant {vid}", **common)
            variants.append(VariantRun(vid, label, read_run(tmp / f"run-{vid}"), v))
        pkg = package_files(run0, spec, variants=variants, run_ref=run_ref)
        finish(tmp, out, pkg.files, force=args.force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(t("drill.cli.written", lang, path=out, n=len(pkg.rows),
            seconds=f"{time.perf_counter() - started:.1f}"))
    return 0


def _check_plan_unchanged(path: Path, sha256: str, run_dir: Path) -> None:
    """A variant of a past run re-reads its plan file: refuse one edited since the run."""
    import hashlib

    from sim._errors import ScenarioError

    if not path.is_file():
        raise ScenarioError(f"{run_dir}/manifest.json: plan.path: expected the run's plan file "
                            f"(variants re-run it), got a missing file {path}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        raise ScenarioError(f"{path}: expected the plan file the run {run_dir} used "
                            f"(sha256 {sha256[:12]}...), got a file changed since; variants "
                            "would not compare with the run")
