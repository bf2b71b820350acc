"""Scenario discovery: boxes of factor ranges where a target fails, by PRIM.

PRIM (Patient Rule Induction Method; Friedman & Fisher 1999, Statistics and Computing
9:123-143) looks for a box -- one interval per factor -- in which the share of runs of
interest (here: target *missed*) is high. Used for scenario discovery as in Bryant &
Lempert (2010), Technol. Forecast. Soc. Change 77:34-49, and Kwakkel's EMA Workbench.

EMA Workbench is not used: ``ema_workbench`` 2.5.3 (the newest for Python 3.11) installs,
but pulls scikit-learn, statsmodels, seaborn and platypus-opt (~180 MB), warns on import
(ipyparallel missing) and its ``Prim`` calls ``DataFrame.drop(inplace=True)``, which
pandas 3.1 deprecates with a ``Pandas4Warning`` -- an error under this project's
``filterwarnings = error`` and a break in pandas 4. The algorithm is small, so this
module implements it faithfully:

1. **Peeling** (F&F sec. 3.1): from the box of all runs, try removing the ``alpha``
   share of the box's runs with the lowest, or the highest, values of each factor; keep
   the peel whose remaining box has the highest density (share of runs of interest).
   Repeat while the box keeps at least ``mass_min`` of all runs. The sequence of boxes is
   the *peeling trajectory* (coverage falls, density rises).
2. **Selection**: among the trajectory's boxes whose density reaches ``threshold``
   (EMA's default 0.8; all boxes if none does), the one with the largest density x
   coverage -- precision times recall of "in the box" as a predictor of failure. EMA
   Workbench leaves this choice to the user (``inspect``); a rule is needed here to print
   a sentence unattended, and this one stops before peeling eats the cases.
3. **Pasting** (F&F sec. 3.2): widen one side of the box by ``alpha`` of its runs while
   that raises density.
4. **Pruning**: a restriction whose removal does not significantly lower density is
   dropped: its quasi-p-value (Bryant & Lempert 2010, sec. 3; one-sided binomial test
   of the box's cases against the density of the box without that restriction) must be
   below 0.05. This keeps the sentence to the factors that matter.
5. **Covering** (F&F sec. 4): take the runs inside the box out and look for the next box.

Only numeric factors take part (discrete string choices are left out and said so).
Box limits are written halfway between the last run kept and the first run peeled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.experiments._folder import Experiment, Target
from analysis.experiments.targets import target_outcomes
from sim.i18n import t

ALPHA = 0.05
"""Peeling / pasting share (F&F recommend 0.05-0.10)."""

MASS_MIN = 0.05
"""Smallest box, as a share of all runs, peeling may reach."""

THRESHOLD = 0.8
"""Density a box should reach to be chosen (EMA Workbench's default)."""

QP_MAX = 0.05
"""Largest quasi-p-value of a restriction kept in the box."""


def _inside(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.all((x >= lo) & (x <= hi), axis=1)


def _peel(x: np.ndarray, y: np.ndarray, alpha: float, mass_min: float):
    n_total = y.size
    lo, hi = x.min(axis=0).astype(float), x.max(axis=0).astype(float)
    inside = np.ones(n_total, dtype=bool)
    trajectory = [(lo.copy(), hi.copy(), inside.copy())]
    while True:
        best = None
        for j in range(x.shape[1]):
            xj = x[inside, j]
            for side in ("low", "high"):
                q = np.quantile(xj, alpha if side == "low" else 1 - alpha)
                if side == "low":
                    keep_j = xj > q if q <= xj.min() else xj >= q
                else:
                    keep_j = xj < q if q >= xj.max() else xj <= q
                n_keep = int(keep_j.sum())
                if n_keep == xj.size or n_keep < mass_min * n_total or n_keep == 0:
                    continue
                density = y[inside][keep_j].mean()
                if best is None or (density, n_keep) > (best[0], best[1]):
                    best = (density, n_keep, j, side, keep_j)
        if best is None:
            return trajectory
        _, _, j, side, keep_j = best
        xj = x[inside, j]
        if side == "low":
            lo[j] = 0.5 * (xj[~keep_j].max() + xj[keep_j].min())
        else:
            hi[j] = 0.5 * (xj[~keep_j].min() + xj[keep_j].max())
        idx = np.flatnonzero(inside)
        inside[idx[~keep_j]] = False
        trajectory.append((lo.copy(), hi.copy(), inside.copy()))


def _paste(x, y, lo, hi, full_lo, full_hi, alpha):
    lo, hi = lo.copy(), hi.copy()
    while True:
        inside = _inside(x, lo, hi)
        density = y[inside].mean()
        best = None
        for j in range(x.shape[1]):
            for side in ("low", "high"):
                bound = lo if side == "low" else hi
                if bound[j] == (full_lo if side == "low" else full_hi)[j]:
                    continue
                others_lo, others_hi = lo.copy(), hi.copy()
                others_lo[j], others_hi[j] = full_lo[j], full_hi[j]
                cand = _inside(x, others_lo, others_hi)
                outside = cand & ~inside
                outside &= (x[:, j] < lo[j]) if side == "low" else (x[:, j] > hi[j])
                if not outside.any():
                    continue
                values = np.sort(x[outside, j])  # nearest the box first:
                values = values[::-1] if side == "low" else values
                n_add = min(max(1, int(round(alpha * inside.sum()))), values.size)
                new = lo.copy() if side == "low" else hi.copy()
                new[j] = (values[n_add - 1] if n_add == values.size
                          else 0.5 * (values[n_add - 1] + values[n_add]))
                trial_lo, trial_hi = (new, hi) if side == "low" else (lo, new)
                trial = _inside(x, trial_lo, trial_hi)
                d = y[trial].mean()
                if d > density and (best is None or d > best[0]):
                    best = (d, trial_lo.copy(), trial_hi.copy())
        if best is None:
            return lo, hi
        _, lo, hi = best


def _qp(x, y, lo, hi, full_lo, full_hi, j) -> float:
    inside = _inside(x, lo, hi)
    wide_lo, wide_hi = lo.copy(), hi.copy()
    wide_lo[j], wide_hi[j] = full_lo[j], full_hi[j]
    wider = _inside(x, wide_lo, wide_hi)
    return float(stats.binomtest(int(y[inside].sum()), int(inside.sum()),
                                 float(y[wider].mean()), alternative="greater").pvalue)


def prim(x: pd.DataFrame, y: np.ndarray, *, alpha: float = ALPHA, mass_min: float = MASS_MIN,
         threshold: float = THRESHOLD, max_boxes: int = 2) -> list[dict]:
    """Find boxes where ``y`` is mostly true, by PRIM peeling, pasting and covering.

    Parameters
    ----------
    x : pandas.DataFrame
        Numeric factor values, one row per run, one column per factor (its own unit).
    y : numpy.ndarray of bool
        True for runs of interest (target missed).
    alpha, mass_min, threshold : float
        Peeling share, smallest box mass, density to aim for (module doc).
    max_boxes : int, default 2
        Boxes to look for by covering.

    Returns
    -------
    list of dict
        Per box: ``limits`` ``{factor: [low or None, high or None]}`` for the kept
        restrictions (None: unrestricted side), ``qp`` per restricted factor, ``density``
        (share of runs in the box that are of interest), ``coverage`` (share of all runs of
        interest that fall in the box), ``mass`` (share of all runs in the box), ``n``
        (runs in the box). Empty when no box beats the overall share.
    """
    names = list(x.columns)
    xs = x.to_numpy(dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    n_cases = int(y.sum())
    remaining = np.ones(y.size, dtype=bool)
    boxes: list[dict] = []
    while len(boxes) < max_boxes and y[remaining].sum() >= 2:
        xr, yr = xs[remaining], y[remaining].astype(np.float64)
        full_lo, full_hi = xr.min(axis=0), xr.max(axis=0)
        trajectory = _peel(xr, yr, alpha, mass_min)
        stats_ = [(yr[ins].mean(), yr[ins].sum()) for _, _, ins in trajectory]
        good = [i for i, (d, _) in enumerate(stats_) if d >= threshold]
        # density x coverage is the product of the box's precision and recall
        pick = max(good or range(len(stats_)), key=lambda i: stats_[i][0] * stats_[i][1])
        lo, hi, _ = trajectory[pick]
        lo, hi = _paste(xr, yr, lo, hi, full_lo, full_hi, alpha)
        changed = True
        while changed:  # drop the least significant restriction until all are needed
            changed = False
            restricted = [j for j in range(len(names))
                          if lo[j] > full_lo[j] or hi[j] < full_hi[j]]
            qps = {j: _qp(xr, yr, lo, hi, full_lo, full_hi, j) for j in restricted}
            worst = max(qps, key=qps.get) if qps else None
            if worst is not None and qps[worst] > QP_MAX:
                lo[worst], hi[worst] = full_lo[worst], full_hi[worst]
                changed = True
        inside = _inside(xr, lo, hi)
        density = float(yr[inside].mean())
        if not qps or density <= yr.mean() or (boxes and density < threshold):
            break  # later boxes only when dense enough to be worth a sentence
        limits = {names[j]: [float(lo[j]) if lo[j] > full_lo[j] else None,
                             float(hi[j]) if hi[j] < full_hi[j] else None]
                  for j in sorted(qps)}
        boxes.append({"limits": limits, "qp": {names[j]: qps[j] for j in sorted(qps)},
                      "density": density, "coverage": float(yr[inside].sum() / n_cases),
                      "mass": float(inside.sum() / y.size), "n": int(inside.sum())})
        idx = np.flatnonzero(remaining)
        remaining[idx[inside]] = False
    return boxes


def failure_boxes(exp: Experiment, alternative: str, target: Target, **options) -> dict:
    """PRIM boxes of the numeric factors where ``target`` is missed, for one alternative.

    Returns
    -------
    dict
        ``target``, ``alternative``, ``missed_share`` (over measurable runs), ``n_runs``,
        ``factors`` used, ``left_out`` (non-numeric factors), and ``boxes`` (see
        :func:`prim`).
    """
    ok = exp.ok_rows(alternative)
    outcome = target_outcomes(exp, alternative, target)
    keep = np.isfinite(outcome)
    factors = exp.numeric_factors()
    x = exp.design.set_index("point").loc[ok["point"].to_numpy()[keep], factors]
    missed = outcome[keep] == 0
    out = {"target": target.name, "alternative": alternative,
           "missed_share": float(missed.mean()) if missed.size else None,
           "n_runs": int(missed.size), "factors": factors,
           "left_out": [f for f in exp.factors if f not in factors], "boxes": []}
    if missed.sum() >= 2 and (~missed).sum() >= 1 and factors:
        out["boxes"] = prim(x.reset_index(drop=True), missed, **options)
    return out


def _num(value: float) -> str:
    return f"{value:.3g}"


def box_sentence(target: str, box: dict, lang: str) -> str:
    """Say a PRIM box as one sentence a planner can read.

    E.g. "relief missed in 83 % of runs when warning.coverage < 0.78 and
    hazard.magnitude > 7.1 (245 runs; 75 % of all misses)" (``lang`` "en" or "zh").
    """
    parts = []
    for factor, (low, high) in box["limits"].items():
        if low is not None and high is not None:
            parts.append(t("expstats.box.between", lang, factor=factor, low=_num(low),
                           high=_num(high)))
        elif low is not None:
            parts.append(t("expstats.box.above", lang, factor=factor, low=_num(low)))
        else:
            parts.append(t("expstats.box.below", lang, factor=factor, high=_num(high)))
    return t("expstats.box.sentence", lang, target=target, density=100 * box["density"],
             conditions=t("expstats.box.and", lang).join(parts), n=box["n"],
             coverage=100 * box["coverage"])
