"""Figures of an experiment folder (matplotlib, Agg canvas, labels in English or Chinese).

Written to ``<folder>/figures/<name>.<lang>.png``; each PNG goes to a temporary sibling
first and is renamed into place, so a figure is either complete or absent. Fonts and the
canvas come from :mod:`analysis.figures` (Chinese labels need a CJK font; without one
they fall back to English and a warning is logged).
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np

from analysis.experiments._folder import Experiment, read_experiment
from analysis.experiments.breaking import breaking_point, key_factor
from analysis.experiments.discovery import failure_boxes
from analysis.experiments.estimates import convergence, estimates, metric_values
from analysis.experiments.sensitivity import sensitivity
from analysis.experiments.targets import target_outcomes
from analysis.plotting import _DPI, _label_lang_and_font, _new_figure
from sim.i18n import t

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _save_atomic(fig, out_png: Path) -> Path:
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_png.stem}.", suffix=".png", dir=out_png.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=_DPI, metadata={"Software": None})
        os.replace(tmp, out_png)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_png


def key_metric(exp: Experiment) -> str:
    """The metric of the first target, else the first kept metric."""
    return exp.targets[0].metric if exp.targets else exp.metrics[0]


def _ci_bars(exp: Experiment, lang: str, font: dict):
    est = estimates(exp)
    metrics = exp.metrics
    ncols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig = _new_figure(4.2 * ncols, 3.2 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    xs = np.arange(len(exp.alternatives))
    for ax, metric in zip(axes, metrics, strict=False):
        for i, alt in enumerate(exp.alternatives):
            e = est[alt][metric]
            if e["mean"] is None:
                continue
            low = e["ci_low"] if e["ci_low"] is not None else e["mean"]
            high = e["ci_high"] if e["ci_high"] is not None else e["mean"]
            ax.errorbar([i], [e["mean"]], yerr=[[e["mean"] - low], [high - e["mean"]]],
                        fmt="o", capsize=5, color=_COLOURS[i % len(_COLOURS)])
        for target in exp.targets:
            if target.metric == metric:
                ax.axhline(target.value, color="#d62728", linestyle="--", linewidth=1)
                ax.annotate(t("expstats.fig.target_line", lang, name=target.name),
                            (0.01, target.value), xycoords=("axes fraction", "data"),
                            va="bottom", fontsize=8, color="#d62728", **font)
        ax.set_xticks(xs, exp.alternatives, fontsize=8, **font)
        ax.set_xlim(-0.6, len(xs) - 0.4)
        ax.set_title(metric, fontsize=9)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(t("expstats.fig.ci_title", lang), **font)
    return fig


def _distribution(exp: Experiment, lang: str, font: dict):
    metric = key_metric(exp)
    fig = _new_figure(6.4, 4.0)
    ax = fig.add_subplot()
    samples = [metric_values(exp, alt, metric) for alt in exp.alternatives]
    finite = np.concatenate([s for s in samples if s.size] or [np.zeros(1)])
    bins = np.histogram_bin_edges(finite, bins=min(40, max(5, int(math.sqrt(finite.size)))))
    for i, (alt, values) in enumerate(zip(exp.alternatives, samples, strict=True)):
        if values.size:
            ax.hist(values, bins=bins, histtype="step", linewidth=1.5, label=alt,
                    color=_COLOURS[i % len(_COLOURS)])
    for target in exp.targets:
        if target.metric == metric:
            ax.axvline(target.value, color="#d62728", linestyle="--", linewidth=1,
                       label=t("expstats.fig.target_line", lang, name=target.name))
    ax.set_xlabel(metric)
    ax.set_ylabel(t("expstats.fig.runs", lang), **font)
    ax.legend(prop=font.get("fontproperties"), fontsize=8)
    ax.set_title(t("expstats.fig.dist_title", lang, metric=metric), **font)
    return fig


def _sensitivity(exp: Experiment, lang: str, font: dict):
    metric, alt = key_metric(exp), exp.alternatives[0]
    res = sensitivity(exp, alt, metric)
    if res.get("unavailable") or not res.get("names"):
        return None
    names = res["names"]
    y = np.arange(len(names))
    fig = _new_figure(6.4, 1.2 + 0.45 * len(names))
    ax = fig.add_subplot()

    def arr(key):
        return np.array([np.nan if v is None else v for v in res[key]], dtype=float)

    if res["method"] == "sobol":
        ax.barh(y - 0.2, arr("S1"), 0.4, xerr=arr("S1_conf"),
                label=t("expstats.fig.first_order", lang), color=_COLOURS[0])
        ax.barh(y + 0.2, arr("ST"), 0.4, xerr=arr("ST_conf"),
                label=t("expstats.fig.total_order", lang), color=_COLOURS[1])
        ax.legend(prop=font.get("fontproperties"), fontsize=8)
        title = "expstats.fig.sobol_title"
    elif res["method"] == "morris":
        ax.barh(y, arr("mu_star"), 0.6, xerr=arr("mu_star_conf"), color=_COLOURS[0])
        ax.set_xlabel(t("expstats.fig.mu_star", lang), **font)
        title = "expstats.fig.morris_title"
    else:
        rho = arr("rho")
        order = np.argsort(-np.abs(np.nan_to_num(rho)))[::-1]
        names = [names[i] for i in order]
        ax.barh(y, rho[order], 0.6,
                color=[_COLOURS[0] if v >= 0 else _COLOURS[3] for v in rho[order]])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlim(-1, 1)
        ax.set_xlabel(t("expstats.fig.rho", lang), **font)
        title = "expstats.fig.tornado_title"
    ax.set_yticks(y, names, fontsize=8)
    ax.set_title(t(title, lang, metric=metric, alternative=alt), **font)
    return fig


def _breaking(exp: Experiment, lang: str, font: dict):
    if not exp.targets:
        return None
    target, alt = exp.targets[0], exp.alternatives[0]
    factor = key_factor(exp, alt, target)
    if factor is None:
        return None
    res = breaking_point(exp, alt, target, factor)
    if "crossings" not in res:
        return None
    outcome = target_outcomes(exp, alt, target)
    keep = np.isfinite(outcome)
    x = exp.design.set_index("point").loc[exp.ok_rows(alt)["point"].to_numpy()[keep], factor]
    x, y = x.to_numpy(dtype=float), outcome[keep]
    fig = _new_figure(6.4, 4.0)
    ax = fig.add_subplot()
    edges = np.unique(np.quantile(x, np.linspace(0, 1, 11)))
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    centres = [x[which == b].mean() for b in range(edges.size - 1) if np.any(which == b)]
    shares = [y[which == b].mean() for b in range(edges.size - 1) if np.any(which == b)]
    ax.plot(centres, shares, "o", color="grey", label=t("expstats.fig.observed", lang))
    grid = np.linspace(x.min(), x.max(), 200)

    def curve(b0, b1):
        return 1 / (1 + np.exp(-np.clip(b0 + b1 * grid, -500, 500)))

    if res["boot_b"]:
        boots = np.array([curve(b0, b1) for b0, b1 in res["boot_b"]])
        ax.fill_between(grid, np.quantile(boots, 0.025, axis=0),
                        np.quantile(boots, 0.975, axis=0), color=_COLOURS[0], alpha=0.2)
    ax.plot(grid, curve(res["b0"], res["b1"]), color=_COLOURS[0],
            label=t("expstats.fig.fitted", lang))
    for c in res["crossings"]:
        if c["x"] is not None and c["inside"]:
            ax.axvline(c["x"], color="#d62728", linestyle=":", linewidth=1)
            ax.axhline(c["level"], color="#d62728", linestyle=":", linewidth=0.6)
            if c["ci_low"] is not None:
                ax.axvspan(c["ci_low"], c["ci_high"], color="#d62728", alpha=0.08)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(factor)
    ax.set_ylabel(t("expstats.fig.p_met", lang), **font)
    ax.legend(prop=font.get("fontproperties"), fontsize=8)
    ax.set_title(t("expstats.fig.breaking_title", lang, target=target.name, factor=factor,
                   alternative=alt), **font)
    return fig


def box_dims(box: dict, exp: Experiment) -> list[str]:
    """Numeric factors to draw a box over: its restricted ones first, then the others."""
    dims = list(box["limits"])
    return dims + [f for f in exp.numeric_factors() if f not in dims]


def _boxes(exp: Experiment, lang: str, font: dict):
    if not exp.targets:
        return None
    target, alt = exp.targets[0], exp.alternatives[0]
    found = failure_boxes(exp, alt, target)
    if not found["boxes"] or not box_dims(found["boxes"][0], exp):
        return None
    box = found["boxes"][0]
    dims = box_dims(box, exp)
    fx, fy = dims[0], (dims[1] if len(dims) > 1 else None)
    outcome = target_outcomes(exp, alt, target)
    keep = np.isfinite(outcome)
    points = exp.ok_rows(alt)["point"].to_numpy()[keep]
    n = np.bincount(points, minlength=len(exp.design))
    share = np.bincount(points, weights=outcome[keep] == 0, minlength=len(exp.design))
    has = n > 0
    d = exp.design[has]
    fig = _new_figure(6.4, 5.0)
    ax = fig.add_subplot()
    xv = d[fx].to_numpy(dtype=float)
    yv = d[fy].to_numpy(dtype=float) if fy else np.random.default_rng(0).uniform(size=xv.size)
    dots = ax.scatter(xv, yv, s=10, c=share[has] / n[has], cmap="RdYlBu_r", vmin=0, vmax=1)
    bar = fig.colorbar(dots, ax=ax)
    bar.set_label(t("expstats.fig.missed_share", lang), **font)

    def span(f, values):
        low, high = box["limits"].get(f, [None, None])
        return (values.min() if low is None else low), (values.max() if high is None else high)

    x0, x1 = span(fx, xv)
    y0, y1 = span(fy, yv) if fy else (0.0, 1.0)
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="black",
                           linewidth=1.5))
    ax.set_xlabel(fx)
    if fy:
        ax.set_ylabel(fy)
    ax.set_title(t("expstats.fig.box_title", lang, target=target.name, alternative=alt),
                 **font)
    return fig


def _convergence(exp: Experiment, lang: str, font: dict):
    metric = key_metric(exp)
    fig = _new_figure(6.4, 4.0)
    ax = fig.add_subplot()
    for i, alt in enumerate(exp.alternatives):
        table = convergence(metric_values(exp, alt, metric))
        if len(table):
            ax.loglog(table["n"], table["half_width"], "o-", label=alt,
                      color=_COLOURS[i % len(_COLOURS)])
    ax.set_xlabel(t("expstats.fig.runs", lang), **font)
    ax.set_ylabel(f"{t('expstats.fig.half_width', lang)} ({metric})", **font)
    ax.legend(prop=font.get("fontproperties"), fontsize=8)
    ax.set_title(t("expstats.fig.convergence_title", lang), **font)
    return fig


_FIGURES = {"ci_bars": _ci_bars, "distribution": _distribution,
            "sensitivity": _sensitivity, "breaking_point": _breaking,
            "boxes": _boxes, "convergence": _convergence}


def write_figures(folder: Path, lang: str) -> list[Path]:
    """Draw the experiment's figures into ``<folder>/figures/``.

    Parameters
    ----------
    folder : Path
        The experiment folder.
    lang : {"en", "zh"}
        Label language.

    Returns
    -------
    list of Path
        The PNGs written, among ``ci_bars`` (mean and 95 % CI per alternative and metric,
        target lines dashed), ``distribution`` (histogram of the key metric -- the first
        target's -- per alternative), ``sensitivity`` (Sobol' S1/ST bars, Morris mu*, or a
        Spearman tornado, for the key metric and the first alternative), ``breaking_point``
        (P(first target met) along its key factor: binned shares, logistic fit with its
        bootstrap band, 50/90 % crossings), ``boxes`` (design points coloured by the share of
        their runs that missed the first target, over the first PRIM box's two numeric
        factors, the box drawn; its categories, if any, are in the sentence) and
        ``convergence`` (CI half-width against runs, log-log). A figure whose analysis is
        unavailable (no target, no box) is skipped.
    """
    exp = read_experiment(folder)
    label_lang, font = _label_lang_and_font(lang)
    written = []
    for name, draw in _FIGURES.items():
        fig = draw(exp, label_lang, font)
        if fig is not None:
            written.append(_save_atomic(fig, exp.folder / "figures" / f"{name}.{lang}.png"))
    return written
