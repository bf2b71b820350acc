"""The experiment's numbers as one JSON-able dict and as text tables (English / Chinese).

These are the entry points ``evacsim experiment show`` and ``compare`` call:
:func:`summary`, :func:`show_text` and :func:`compare_text`.
"""

from __future__ import annotations

import math
from pathlib import Path

from analysis.experiments._folder import Experiment, read_experiment
from analysis.experiments.breaking import breaking_point, key_factor
from analysis.experiments.discovery import box_sentence, failure_boxes
from analysis.experiments.estimates import (
    convergence,
    estimates,
    failures,
    metric_values,
    runs_needed,
)
from analysis.experiments.paired import compare
from analysis.experiments.sensitivity import sensitivity
from analysis.experiments.targets import probabilities
from sim.i18n import check_lang, t


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _jsonable(value.item())
    return value


def _stop_status(exp: Experiment) -> dict | None:
    """Half-width now vs the ``stop_when`` tolerance, if the manifest has one we can read.

    Reads ``{"metric": path, "half_width": tolerance}`` (optionally ``"alternative"``);
    any other shape is reported as given, untouched.
    """
    rule = exp.manifest.get("stop_when")
    if not isinstance(rule, dict):
        return None
    metric, tol = rule.get("metric"), rule.get("half_width")
    if metric not in exp.metrics or not isinstance(tol, (int, float)) or tol <= 0:
        return {"rule": rule}
    status = {}
    for alt in exp.alternatives:
        values = metric_values(exp, alt, metric)
        table = convergence(values, n_steps=2)
        now = float(table["half_width"].iloc[-1]) if len(table) else None
        status[alt] = {"n": int(values.size), "half_width": now,
                       "reached": now is not None and now < tol,
                       "runs_needed": runs_needed(values, float(tol))}
    return {"rule": rule, "status": status}


def summary(folder: Path, *, n_boot_breaking: int = 300) -> dict:
    """Everything the analysis says about an experiment folder, JSON-able.

    Parameters
    ----------
    folder : Path
        The experiment folder.
    n_boot_breaking : int, default 300
        Bootstrap refits for breaking-point CIs.

    Returns
    -------
    dict
        ``name``, ``design`` (kind, points, replications), ``alternatives``, ``metrics``,
        ``failures``, ``estimates`` (alternative -> metric -> n, mean, median, BCa CI),
        ``targets`` (target -> alternative -> P(met), Wilson CI, counts), ``convergence``
        (alternative -> metric -> [{n, half_width}]), ``stop_when``, ``sensitivity``
        (alternative -> metric -> indices), ``breaking_points`` (target -> alternative ->
        crossings along the factor that explains the target best), ``discovery`` (target
        -> alternative -> PRIM boxes with sentences in en and zh) and ``comparisons``
        (first alternative against each other one). NaN is written as null.
    """
    exp = read_experiment(folder)
    design = exp.manifest["design"]
    out = {
        "name": exp.name,
        "design": {"kind": exp.kind, "n_points": len(exp.design),
                   "replications": design.get("replications"), "seed": design.get("seed")},
        "alternatives": exp.alternatives,
        "metrics": exp.metrics,
        "factors": exp.factors,
        "failures": failures(exp),
        "estimates": estimates(exp),
        "targets": probabilities(exp),
        "convergence": {alt: {m: convergence(metric_values(exp, alt, m)).to_dict("records")
                              for m in exp.metrics} for alt in exp.alternatives},
        "stop_when": _stop_status(exp),
        "sensitivity": {alt: {m: sensitivity(exp, alt, m) for m in exp.metrics}
                        for alt in exp.alternatives},
        "breaking_points": {},
        "discovery": {},
        "comparisons": {},
    }
    for target in exp.targets:
        out["breaking_points"][target.name] = {}
        out["discovery"][target.name] = {}
        for alt in exp.alternatives:
            factor = key_factor(exp, alt, target)
            if factor is not None:
                res = breaking_point(exp, alt, target, factor, n_boot=n_boot_breaking)
                res.pop("boot_b", None)
                out["breaking_points"][target.name][alt] = res
            found = failure_boxes(exp, alt, target)
            for box in found["boxes"]:
                box["sentence"] = {lang: box_sentence(target.name, box, lang)
                                   for lang in ("en", "zh")}
            out["discovery"][target.name][alt] = found
    first = exp.alternatives[0]
    for other in exp.alternatives[1:]:
        out["comparisons"][f"{other} - {first}"] = compare(exp, first, other)
    return _jsonable(out)


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _p(value: float | None) -> str:
    return "-" if value is None else (f"{value:.3f}" if value >= 0.001 else "<0.001")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header).rstrip(), *(fmt.format(*r).rstrip() for r in rows)]


def _header(exp: Experiment, lang: str) -> list[str]:
    design = exp.manifest["design"]
    return [t("expstats.title", lang, name=exp.name, kind=exp.kind, points=len(exp.design),
              reps=design.get("replications", "?"), alts=len(exp.alternatives))]


def _sensitivity_lines(res: dict, metric: str, alt: str, lang: str) -> list[str]:
    method = res["method"]
    head = t(f"expstats.sens.{method}", lang, metric=metric, alternative=alt)
    if res.get("unavailable"):
        return [head, "  " + t("expstats.sens.unavailable", lang, reason=res["unavailable"])]
    if not res["names"]:
        return []
    rows = []
    for i, name in enumerate(res["names"]):
        if method == "sobol":
            cells = [f"{_g(res['S1'][i])} ± {_g(res['S1_conf'][i])}",
                     f"{_g(res['ST'][i])} ± {_g(res['ST_conf'][i])}"]
        elif method == "morris":
            cells = [f"{_g(res['mu_star'][i])} ± {_g(res['mu_star_conf'][i])}",
                     _g(res["sigma"][i])]
        else:
            cells = [_g(res["rho"][i]), _p(res["p"][i])]
        rows.append([name, *cells])
    cols = {"sobol": ("S1", "ST"), "morris": ("mu*", "sigma"), "spearman": ("rho", "p")}
    table = _table([t("expstats.col.factor", lang), *cols[method]], rows)
    return [head, *("  " + line for line in table)]


def show_text(folder: Path, lang: str) -> str:
    """The experiment as text: alternatives x metrics with CIs, targets, failures.

    Parameters
    ----------
    folder : Path
        The experiment folder.
    lang : {"en", "zh"}
        Language.

    Returns
    -------
    str
        Title; a table per metric and alternative (runs, mean with its 95 % bootstrap
        CI, median, runs where not measurable); per target and alternative P(met) in %
        with its 95 % Wilson interval and the met / missed / not measurable / failed
        counts; the CI half-width of the key metric's mean after 2 ... all runs; its
        sensitivity indices per alternative (Sobol', Morris or Spearman); the
        ``stop_when`` rule's state (if the manifest has one this reads);
        failed tasks per alternative with the most frequent error; the factor that
        explains each target best with its 50 % / 90 % crossings; PRIM boxes as
        sentences.
    """
    check_lang(lang)
    exp = read_experiment(folder)
    lines = _header(exp, lang)
    est = estimates(exp)
    rows = []
    for metric in exp.metrics:
        for alt in exp.alternatives:
            e = est[alt][metric]
            rows.append([metric, alt, str(e["n"]), _g(e["mean"]),
                         f"[{_g(e['ci_low'])}, {_g(e['ci_high'])}]", _g(e["median"]),
                         str(e["not_measurable"])])
    lines += ["", *_table([t(f"expstats.col.{c}", lang) for c in
                          ("metric", "alternative", "n", "mean", "ci", "median", "nm")], rows)]
    if exp.targets:
        probs = probabilities(exp)
        rows = []
        for target in exp.targets:
            rule = f"{target.metric} {target.op} {target.value:g}"
            for alt in exp.alternatives:
                p = probs[target.name][alt]
                rows.append([target.name, rule, alt, _pct(p["p"]),
                             f"[{_pct(p['ci_low'])}, {_pct(p['ci_high'])}]",
                             str(p["met"]), str(p["missed"]), str(p["not_measurable"]),
                             str(p["failed"])])
        lines += ["", t("expstats.targets", lang),
                  *_table([t(f"expstats.col.{c}", lang) for c in
                           ("target", "rule", "alternative", "p_met", "wilson", "met",
                            "missed", "nm", "failed")], rows)]
    lines += ["", t("expstats.failures", lang)]
    for alt, f in failures(exp).items():
        line = t("expstats.failed", lang, alternative=alt, failed=f["failed"], tasks=f["tasks"])
        if f["errors"]:
            top = f["errors"][0]
            line += t("expstats.top_error", lang, message=top["message"], count=top["count"])
        lines.append("  " + line)
    key = exp.targets[0].metric if exp.targets else exp.metrics[0]
    lines += ["", t("expstats.convergence", lang, metric=key)]
    for alt in exp.alternatives:
        table = convergence(metric_values(exp, alt, key), n_steps=6)
        steps = ", ".join(f"{n}: {_g(h)}" for n, h in zip(table["n"], table["half_width"],
                                                          strict=True))
        lines.append(f"  {alt}: {steps or '-'}")
    for alt in exp.alternatives:
        lines += ["", *_sensitivity_lines(sensitivity(exp, alt, key), key, alt, lang)]
    stop = _stop_status(exp)
    if stop and "status" in stop:
        lines += ["", t("expstats.stop_rule", lang, metric=stop["rule"]["metric"],
                        tol=_g(stop["rule"]["half_width"]))]
        for alt, st in stop["status"].items():
            lines.append("  " + t("expstats.stop_reached" if st["reached"] else
                                  "expstats.stop_not_reached", lang, alternative=alt,
                                  now=_g(st["half_width"]), n=st["n"],
                                  needed=st["runs_needed"] if st["runs_needed"] else "-"))
    for target in exp.targets:
        for alt in exp.alternatives:
            factor = key_factor(exp, alt, target)
            if factor is not None:
                bp = breaking_point(exp, alt, target, factor)
                lines += ["", t("expstats.breaking", lang, target=target.name, alternative=alt,
                                factor=factor)]
                for c in bp["crossings"]:
                    key = "expstats.crossing" if c["inside"] else "expstats.crossing_outside"
                    line = t(key, lang, level=100 * c["level"], x=_g(c["x"]),
                             low=_g(c["ci_low"]), high=_g(c["ci_high"]))
                    if not c["observed"]:
                        line += t("expstats.not_observed", lang,
                                  low=100 * bp["binned_range"][0],
                                  high=100 * bp["binned_range"][1])
                    lines.append("  " + line)
            for box in failure_boxes(exp, alt, target)["boxes"]:
                lines.append("  " + f"[{alt}] " + box_sentence(target.name, box, lang))
    return "\n".join(lines)


def compare_text(folder: Path, a: str, b: str, lang: str) -> str:
    """Paired comparison of alternative ``b`` against ``a`` as text.

    Parameters
    ----------
    folder : Path
        The experiment folder.
    a, b : str
        Alternative names (differences are ``b - a``).
    lang : {"en", "zh"}
        Language.

    Returns
    -------
    str
        Per metric: pairs, both means, the mean paired difference with its 95 % bootstrap
        CI, the Wilcoxon signed-rank p-value and which alternative is better (where a
        target gives the metric a direction; "no significant difference" otherwise); per
        target: P(met) under each, the paired difference in percentage points with its
        CI, McNemar's p and which is better.
    """
    check_lang(lang)
    exp = read_experiment(folder)
    res = compare(exp, a, b)
    lines = [*_header(exp, lang), t("expstats.compare_title", lang, a=a, b=b)]
    if res["seed_mismatches"]:
        lines.append(t("expstats.seed_mismatch", lang, n=res["seed_mismatches"]))

    def verdict(better: str | None, significant: bool) -> str:
        if better in (a, b):
            return t("expstats.better", lang, name=better)
        if better is None and significant:
            return t("expstats.differs", lang)
        return t("expstats.no_difference", lang)

    rows = []
    for metric, d in res["metrics"].items():
        rows.append([metric, str(d["n_pairs"]), _g(d["mean_a"]), _g(d["mean_b"]),
                     _g(d["mean_diff"]), f"[{_g(d['ci_low'])}, {_g(d['ci_high'])}]",
                     _p(d["p_signed_rank"]), verdict(d["better"], d["significant"])])
    lines += ["", *_table([t("expstats.col.metric", lang), t("expstats.col.pairs", lang),
                           a, b, t("expstats.col.diff", lang, a=a, b=b),
                           t("expstats.col.ci", lang), t("expstats.col.p_wilcoxon", lang),
                           t("expstats.col.verdict", lang)], rows)]
    if res["targets"]:
        rows = []
        for name, d in res["targets"].items():
            ci = (f"[{_pct(d['ci_low'])}, {_pct(d['ci_high'])}]")
            rows.append([name, str(d["n_pairs"]), _pct(d["p_a"]), _pct(d["p_b"]),
                         _pct(d["diff"]), ci, f"{d['only_a']}/{d['only_b']}",
                         _p(d["p_mcnemar"]), verdict(d["better"], False)])
        lines += ["", t("expstats.targets", lang),
                  *_table([t("expstats.col.target", lang), t("expstats.col.pairs", lang),
                           f"P {a} %", f"P {b} %", t("expstats.col.diff_pp", lang),
                           t("expstats.col.ci", lang), t("expstats.col.discordant", lang),
                           t("expstats.col.p_mcnemar", lang), t("expstats.col.verdict", lang)],
                          rows)]
    lines += ["", t("expstats.compare_note", lang)]
    return "\n".join(lines)
