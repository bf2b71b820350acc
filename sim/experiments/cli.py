"""``evacsim experiment run | show | compare``: the command-line side of experiments."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

EXIT_INTERRUPTED = 130


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``evacsim experiment ...`` on the top-level sub-command parser."""
    ex = sub.add_parser("experiment", help="many runs under uncertainty, several plans, on Dask")
    esub = ex.add_subparsers(metavar="ACTION")
    run = esub.add_parser("run", help="run (or resume) an experiment file")
    run.add_argument("file", type=Path, help="experiment TOML (scenarios/experiments/)")
    run.add_argument("--out", type=Path, default=None,
                     help="experiment folder (default: experiments/<name>)")
    run.add_argument("--scheduler", default=None,
                     help="address of a running Dask scheduler (default: "
                          "$DASK_SCHEDULER_ADDRESS or an embedded local cluster)")
    run.add_argument("--workers", type=int, default=None,
                     help="worker processes of the embedded cluster (default: cores; "
                          "0 = run in this process)")
    run.add_argument("--keep-runs", action="store_true",
                     help="also write every run folder under <out>/runs/ (no figures)")
    run.add_argument("--force", action="store_true",
                     help="start again from nothing, replacing the experiment folder")
    run.add_argument("--cache-dir", type=Path, default=None, help="compiled-map cache")
    run.add_argument("--lang", choices=("en", "zh"), default="en")
    run.set_defaults(func=_cmd_run)
    show = esub.add_parser("show", help="summary table of an experiment folder")
    show.add_argument("folder", type=Path)
    show.add_argument("--lang", choices=("en", "zh"), default="en")
    show.add_argument("--json", action="store_true", help="machine-readable summary")
    show.set_defaults(func=_cmd_show)
    cmp_ = esub.add_parser("compare", help="paired comparison of two alternatives")
    cmp_.add_argument("folder", type=Path)
    cmp_.add_argument("--plans", nargs=2, metavar=("A", "B"), required=True)
    cmp_.add_argument("--lang", choices=("en", "zh"), default="en")
    cmp_.add_argument("--json", action="store_true", help="machine-readable summary")
    cmp_.set_defaults(func=_cmd_compare)


def _cmd_run(args: argparse.Namespace) -> int:
    from sim._errors import EvacsimError
    from sim.experiments.runner import run_experiment
    from sim.experiments.spec import load_experiment
    from sim.i18n import t

    exp = load_experiment(args.file)
    out = args.out or Path("experiments") / exp.name
    if args.workers is not None and args.workers < 0:
        raise EvacsimError(f"--workers: expected 0 or more, got {args.workers}")
    res = run_experiment(exp, out, scheduler=args.scheduler, workers=args.workers,
                         keep_runs=args.keep_runs, force=args.force,
                         command=shlex.join(["evacsim", *sys.argv[1:]]),
                         cache_dir=args.cache_dir)
    done = res.skipped + res.ran
    if res.interrupted:
        print(t("experiment.interrupted", args.lang, path=str(out), done=done,
                total=res.total), file=sys.stderr)
        return EXIT_INTERRUPTED
    print(t("experiment.finished", args.lang, path=str(out), ran=res.ran,
            skipped=res.skipped, failed=res.failed, total=res.total))
    if res.stopped_early:
        print(t("experiment.stopped_early", args.lang))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    try:
        from analysis import experiments as ax
    except ImportError:  # until the statistics module is merged: a minimal table
        ax = None
    if ax is not None and args.json:
        print(json.dumps(ax.summary(args.folder), indent=2, ensure_ascii=False, default=str))
    elif ax is not None:
        print(ax.show_text(args.folder, args.lang))
    else:
        print(_minimal_table(args.folder, args.lang, as_json=args.json))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from sim._errors import EvacsimError

    try:
        from analysis import experiments as ax
    except ImportError:
        raise EvacsimError("evacsim experiment compare needs analysis.experiments, "
                           "which this installation lacks") from None
    a, b = args.plans
    if args.json:
        print(json.dumps(ax.summary(args.folder), indent=2, ensure_ascii=False, default=str))
    else:
        print(ax.compare_text(args.folder, a, b, args.lang))
    return 0


def _minimal_table(folder: Path, lang: str, *, as_json: bool) -> str:
    """Mean of every kept metric per alternative over the ``ok`` rows, and row counts."""
    from sim.experiments import store
    from sim.i18n import t

    man = store.read_manifest(folder)
    rows = store.read_rows(folder)
    out = {}
    for alt in [a["name"] for a in man["alternatives"]]:
        sub = rows[rows["alternative"] == alt]
        ok = sub[sub["status"] == "ok"]
        out[alt] = {"runs": len(sub), "failed": int((sub["status"] != "ok").sum()),
                    **{m: (float(ok[m].mean()) if m in ok and len(ok) else None)
                       for m in man["metrics"]}}
    if as_json:
        return json.dumps(out, indent=2, ensure_ascii=False)
    lines = [t("experiment.show_header", lang, name=man["name"], n=len(rows))]
    for alt, vals in out.items():
        lines.append(f"[{alt}] " + t("experiment.show_runs", lang, runs=vals["runs"],
                                       failed=vals["failed"]))
        lines += [f"  {m}: {v:.4g}" if v is not None and v == v else f"  {m}: -"
                  for m, v in vals.items() if m not in ("runs", "failed")]
    return "\n".join(lines)
