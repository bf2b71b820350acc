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
   share of the box's runs with the lowest, or the highest, values of each factor (or
   one category of a categorical factor); keep the peel with the largest density gain
   per run removed (density: share of runs of interest; F&F sec. 5, EMA's "lenient1").
   Repeat while the box keeps at least ``mass_min`` of all runs. The sequence of boxes is
   the *peeling trajectory* (coverage falls, density rises).
2. **Selection**: among the trajectory's boxes whose density reaches ``threshold``
   (EMA's default 0.8; all boxes if none does), the one with the largest density x
   coverage -- precision times recall of "in the box" as a predictor of failure. EMA
   Workbench leaves this choice to the user (``inspect``); a rule is needed here to print
   a sentence unattended, and this one stops before peeling eats the cases.
3. **Pasting** (F&F sec. 3.2): widen one side of the box by ``alpha`` of its runs (or add
   back one category) while that does not lower density.
4. **Pruning**: a restriction whose removal does not significantly lower density is
   dropped: its quasi-p-value (Bryant & Lempert 2010, sec. 3; one-sided binomial test
   of the box's cases against the density of the box without that restriction) must be
   below 0.05. This keeps the sentence to the factors that matter.
5. **Covering** (F&F sec. 4): take the runs inside the box out and look for the next box.

Categorical factors (discrete string choices) are peeled one category at a time and
pasted back one at a time (F&F sec. 7). Box limits are written halfway between the last
run kept and the first run peeled.
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


class _Box:
    """A PRIM box: limits ``lo``/``hi`` per factor, allowed codes per categorical factor.

    ``allowed[j]`` is a bool array over category codes, None for numeric factors.
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray, allowed: list):
        self.lo, self.hi, self.allowed = lo, hi, allowed

    def copy(self) -> _Box:
        return _Box(self.lo.copy(), self.hi.copy(),
                    [None if a is None else a.copy() for a in self.allowed])

    def inside(self, x: np.ndarray) -> np.ndarray:
        mask = np.all((x >= self.lo) & (x <= self.hi), axis=1)
        for j, ok in enumerate(self.allowed):
            if ok is not None:
                mask &= ok[x[:, j].astype(np.int64)]
        return mask

    def widened(self, full: _Box, j: int) -> _Box:
        """Return a copy without the restriction on factor j."""
        box = self.copy()
        box.lo[j], box.hi[j] = full.lo[j], full.hi[j]
        if box.allowed[j] is not None:
            box.allowed[j] = full.allowed[j].copy()
        return box

    def restricted(self, full: _Box) -> list[int]:
        return [j for j in range(self.lo.size)
                if self.lo[j] > full.lo[j] or self.hi[j] < full.hi[j]
                or (self.allowed[j] is not None
                    and not np.array_equal(self.allowed[j], full.allowed[j]))]


def _full_box(x: np.ndarray, categorical: list[int]) -> _Box:
    allowed = [None] * x.shape[1]
    for j in categorical:
        allowed[j] = np.zeros(int(x[:, j].max()) + 1, dtype=bool)
        allowed[j][np.unique(x[:, j].astype(np.int64))] = True
    return _Box(x.min(axis=0).astype(float), x.max(axis=0).astype(float), allowed)


def _peel_candidates(x: np.ndarray, inside: np.ndarray, box: _Box, alpha: float):
    """(keep mask within the box's runs, new box) for every possible peel."""
    for j in range(x.shape[1]):
        xj = x[inside, j]
        if box.allowed[j] is not None:  # categorical: remove one category
            present = np.unique(xj.astype(np.int64))
            if present.size < 2:
                continue
            for code in present:
                new = box.copy()
                new.allowed[j][code] = False
                yield xj != code, new
            continue
        for side in ("low", "high"):
            q = np.quantile(xj, alpha if side == "low" else 1 - alpha)
            if side == "low":
                keep = xj > q if q <= xj.min() else xj >= q
            else:
                keep = xj < q if q >= xj.max() else xj <= q
            if keep.all() or not keep.any():
                continue
            new = box.copy()
            if side == "low":
                new.lo[j] = 0.5 * (xj[~keep].max() + xj[keep].min())
            else:
                new.hi[j] = 0.5 * (xj[~keep].min() + xj[keep].max())
            yield keep, new


def _peel(x: np.ndarray, y: np.ndarray, full: _Box, alpha: float, mass_min: float):
    inside = np.ones(y.size, dtype=bool)
    box = full.copy()
    trajectory = [(box, inside.copy())]
    while True:
        best = None
        y_box = y[inside]
        for keep, new in _peel_candidates(x, inside, box, alpha):
            n_keep = int(keep.sum())
            if n_keep < mass_min * y.size:
                continue
            # density gained per run removed (F&F sec. 5; EMA's "lenient1"), so that peeling
            # a whole category is not preferred just because it removes many runs at once
            gain = (y_box[keep].mean() - y_box.mean()) / (y_box.size - n_keep)
            if best is None or (gain, n_keep) > (best[0], best[1]):
                best = (gain, n_keep, keep, new)
        if best is None:
            return trajectory
        _, _, keep, box = best
        idx = np.flatnonzero(inside)
        inside[idx[~keep]] = False
        trajectory.append((box, inside.copy()))


def _paste(x: np.ndarray, y: np.ndarray, box: _Box, full: _Box, alpha: float) -> _Box:
    while True:
        inside = box.inside(x)
        density = y[inside].mean()
        best = None
        for j in box.restricted(full):
            others = box.widened(full, j).inside(x) & ~inside
            if not others.any():
                continue
            candidates = []
            if box.allowed[j] is not None:  # categorical: add one category back
                for code in np.flatnonzero(full.allowed[j] & ~box.allowed[j]):
                    new = box.copy()
                    new.allowed[j][code] = True
                    candidates.append(new)
            else:
                n_add = max(1, int(round(alpha * inside.sum())))
                for side in ("low", "high"):
                    out = others & ((x[:, j] < box.lo[j]) if side == "low"
                                    else (x[:, j] > box.hi[j]))
                    if not out.any():
                        continue
                    values = np.sort(x[out, j])  # nearest the box first:
                    values = values[::-1] if side == "low" else values
                    k = min(n_add, values.size)
                    edge = (values[k - 1] if k == values.size
                            else 0.5 * (values[k - 1] + values[k]))
                    new = box.copy()
                    if side == "low":
                        new.lo[j] = edge
                    else:
                        new.hi[j] = edge
                    candidates.append(new)
            for new in candidates:
                d = y[new.inside(x)].mean()
                # ">=": a paste that keeps density and adds runs is taken (coverage grows)
                if d >= density and (best is None or d > best[0]):
                    best = (d, new)
        if best is None:
            return box
        box = best[1]


def _qp(x: np.ndarray, y: np.ndarray, box: _Box, full: _Box, j: int) -> float:
    inside = box.inside(x)
    wider = box.widened(full, j).inside(x)
    return float(stats.binomtest(int(y[inside].sum()), int(inside.sum()),
                                 float(y[wider].mean()), alternative="greater").pvalue)


def prim(x: pd.DataFrame, y: np.ndarray, *, alpha: float = ALPHA, mass_min: float = MASS_MIN,
         threshold: float = THRESHOLD, max_boxes: int = 2) -> list[dict]:
    """Find boxes where ``y`` is mostly true, by PRIM peeling, pasting and covering.

    Parameters
    ----------
    x : pandas.DataFrame
        Factor values, one row per run, one column per factor: numeric (its own unit) or
        categorical (any other dtype; peeled one category at a time, F&F sec. 7).
    y : numpy.ndarray of bool
        True for runs of interest (target missed).
    alpha, mass_min, threshold : float
        Peeling share, smallest box mass, density to aim for (module doc).
    max_boxes : int, default 2
        Boxes to look for by covering.

    Returns
    -------
    list of dict
        Per box: ``limits`` ``{factor: [low or None, high or None]}`` for the kept numeric
        restrictions (None: unrestricted side), ``among`` ``{factor: [categories]}`` for
        the kept categorical ones, ``qp`` per restricted factor, ``density`` (share of runs
        in the box that are of interest), ``coverage`` (share of all runs of interest in
        the box), ``mass`` (share of all runs in the box), ``n`` (runs in the box). Empty
        when no box beats the overall share.
    """
    names = list(x.columns)
    categorical = [j for j, c in enumerate(names)
                   if not pd.api.types.is_numeric_dtype(x[c])]
    labels = {j: np.unique(x[names[j]].astype(str).to_numpy()) for j in categorical}
    xs = np.empty((len(x), len(names)))
    for j, name in enumerate(names):
        xs[:, j] = (np.searchsorted(labels[j], x[name].astype(str).to_numpy())
                    if j in labels else x[name].to_numpy(dtype=np.float64))
    y = np.asarray(y, dtype=bool)
    n_cases = int(y.sum())
    remaining = np.ones(y.size, dtype=bool)
    boxes: list[dict] = []
    while len(boxes) < max_boxes and y[remaining].sum() >= 2:
        xr, yr = xs[remaining], y[remaining].astype(np.float64)
        full = _full_box(xr, categorical)
        trajectory = _peel(xr, yr, full, alpha, mass_min)
        stats_ = [(yr[ins].mean(), yr[ins].sum()) for _, ins in trajectory]
        good = [i for i, (d, _) in enumerate(stats_) if d >= threshold]
        # density x coverage is the product of the box's precision and recall
        pick = max(good or range(len(stats_)), key=lambda i: stats_[i][0] * stats_[i][1])
        box = _paste(xr, yr, trajectory[pick][0], full, alpha)
        while True:  # drop the least significant restriction until all are needed
            qps = {j: _qp(xr, yr, box, full, j) for j in box.restricted(full)}
            worst = max(qps, key=qps.get) if qps else None
            if worst is None or qps[worst] <= QP_MAX:
                break
            box = box.widened(full, worst)
        inside = box.inside(xr)
        density = float(yr[inside].mean())
        if not qps or density <= yr.mean() or (boxes and density < threshold):
            break  # later boxes only when dense enough to be worth a sentence
        limits = {names[j]: [float(box.lo[j]) if box.lo[j] > full.lo[j] else None,
                             float(box.hi[j]) if box.hi[j] < full.hi[j] else None]
                  for j in sorted(qps) if j not in labels}
        among = {names[j]: [str(labels[j][c]) for c in np.flatnonzero(box.allowed[j])]
                 for j in sorted(qps) if j in labels}
        boxes.append({"limits": limits, "among": among,
                      "qp": {names[j]: qps[j] for j in sorted(qps)},
                      "density": density, "coverage": float(yr[inside].sum() / n_cases),
                      "mass": float(inside.sum() / y.size), "n": int(inside.sum())})
        idx = np.flatnonzero(remaining)
        remaining[idx[inside]] = False
    return boxes


def failure_boxes(exp: Experiment, alternative: str, target: Target, **options) -> dict:
    """PRIM boxes of the factors where ``target`` is missed, for one alternative.

    Returns
    -------
    dict
        ``target``, ``alternative``, ``missed_share`` (over measurable runs), ``n_runs``,
        ``factors`` used (numeric and categorical), and ``boxes`` (see :func:`prim`).
    """
    ok = exp.ok_rows(alternative)
    outcome = target_outcomes(exp, alternative, target)
    keep = np.isfinite(outcome)
    factors = exp.factors
    x = exp.design.set_index("point").loc[ok["point"].to_numpy()[keep], factors]
    missed = outcome[keep] == 0
    out = {"target": target.name, "alternative": alternative,
           "missed_share": float(missed.mean()) if missed.size else None,
           "n_runs": int(missed.size), "factors": factors, "boxes": []}
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
    for factor, values in box.get("among", {}).items():
        parts.append(t("expstats.box.among", lang, factor=factor,
                       values=t("expstats.box.or", lang).join(values)))
    return t("expstats.box.sentence", lang, target=target, density=100 * box["density"],
             conditions=t("expstats.box.and", lang).join(parts), n=box["n"],
             coverage=100 * box["coverage"])
