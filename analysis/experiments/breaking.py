"""Breaking points: the factor value where P(target met) falls through 90 % and 50 %.

P(met | x) is modelled as a logistic curve ``1 / (1 + exp(-(b0 + b1 x)))`` in one factor
x, fitted by maximum likelihood (statsmodels is not a dependency: Newton-Raphson on the
binomial log-likelihood, cross-checked in the tests against ``scipy.optimize``). The
value where the curve crosses probability p is ``x_p = (logit(p) - b0) / b1``. Its 95 %
CI comes from a case bootstrap that resamples *design points* (all replications of a
point together: they share the factor values, so they are not independent cases),
refits, and takes percentiles of the crossing -- robust to the curve not being exactly
logistic (Efron & Tibshirani 1993, ch. 9 "bootstrapping regression models: pairs").

With a sharp threshold the data may be separable and the MLE slope infinite; the
coefficients are bounded (|b| <= 50 on the standardised factor), which turns the curve
into a step at the right place without the optimiser running off.
"""

from __future__ import annotations

import math

import numpy as np

from analysis.experiments._folder import Experiment, Target
from analysis.experiments.estimates import CONFIDENCE, SEED
from analysis.experiments.targets import target_outcomes

LEVELS = (0.9, 0.5)
"""P(target met) levels whose crossing is reported."""

N_BOOT = 300
"""Bootstrap refits for the crossing CIs (each is a 2-parameter fit on per-point counts)."""

_BOUND = 50.0  # |b0|, |b1| on the standardised factor; logistic slope 50 = step over 0.1 sd


def _nll(beta: np.ndarray, z: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    """Binomial negative log-likelihood of logit P = b0 + b1 z (constant terms dropped)."""
    eta = beta[0] + beta[1] * z
    return float(np.sum(n * np.logaddexp(0, eta) - k * eta))


def fit_logistic(z: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Maximum-likelihood ``(b0, b1)`` of binomial logistic regressions on one covariate.

    Parameters
    ----------
    z : numpy.ndarray
        Covariate per group, shape (m,) (standardise it first for good conditioning).
    k, n : numpy.ndarray
        Successes and trials per group, shape (m,) or (B, m) for B fits at once (a
        bootstrap passes its resampling weights times the counts).

    Returns
    -------
    numpy.ndarray
        ``[b0, b1]``, shape (2,) or (B, 2), each bounded to [-50, 50].

    Notes
    -----
    Newton-Raphson on the concave log-likelihood (= IRLS; McCullagh & Nelder 1989,
    *Generalized Linear Models*, sec. 4.4), vectorised over fits, steps capped at 5 and
    coefficients clipped to the bound so separable data end at a steep step instead of
    diverging. ``tests/test_experiment_analysis.py`` checks it against
    ``scipy.optimize.minimize`` on the same likelihood.
    """
    single = np.ndim(k) == 1
    k, n = np.atleast_2d(k).astype(np.float64), np.atleast_2d(n).astype(np.float64)
    beta = np.zeros((k.shape[0], 2))
    for _ in range(100):
        eta = beta[:, :1] + beta[:, 1:] * z
        p = 0.5 * (1 + np.tanh(eta / 2))  # expit without overflow
        w = n * p * (1 - p) + 1e-12
        r = k - n * p
        g0, g1 = r.sum(1), (r * z).sum(1)
        h00, h01, h11 = w.sum(1), (w * z).sum(1), (w * z * z).sum(1)
        det = h00 * h11 - h01 * h01
        step = np.stack([(h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det], axis=1)
        step = np.clip(np.nan_to_num(step), -5.0, 5.0)
        new = np.clip(beta + step, -_BOUND, _BOUND)
        done = np.max(np.abs(new - beta)) < 1e-10
        beta = new
        if done:
            break
    return beta[0] if single else beta


def _crossing(beta: np.ndarray, level: float) -> float:
    if abs(beta[1]) < 1e-9:
        return math.nan
    return (math.log(level / (1 - level)) - beta[0]) / beta[1]


def _grouped(exp: Experiment, alternative: str, target: Target, factor: str):
    """Per design point: factor value, met count, measurable count (points with any)."""
    ok = exp.ok_rows(alternative)
    outcome = target_outcomes(exp, alternative, target)
    keep = np.isfinite(outcome)
    points = ok["point"].to_numpy()[keep]
    k = np.bincount(points, weights=outcome[keep], minlength=len(exp.design))
    n = np.bincount(points, minlength=len(exp.design)).astype(np.float64)
    x = exp.design[factor].to_numpy(dtype=np.float64)
    has = n > 0
    return x[has], k[has], n[has]


def _binned_shares(x: np.ndarray, k: np.ndarray, n: np.ndarray,
                   bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Share met and its binomial standard error in ``bins`` quantile bins of the factor."""
    order = np.argsort(x, kind="stable")
    groups = [idx for idx in np.array_split(order, bins) if idx.size]
    trials = np.array([n[idx].sum() for idx in groups])
    share = np.array([k[idx].sum() for idx in groups]) / trials
    return share, np.sqrt(share * (1 - share) / trials)


def breaking_point(exp: Experiment, alternative: str, target: Target, factor: str, *,
                   n_boot: int = N_BOOT, seed: int = SEED,
                   confidence: float = CONFIDENCE) -> dict:
    """Where P(target met) crosses 90 % and 50 % along one factor, with bootstrap CIs.

    Parameters
    ----------
    exp : Experiment
        The experiment.
    alternative : str
        Which alternative's runs.
    target : Target
        The criterion.
    factor : str
        A numeric factor (dotted path, a column of ``design.parquet``), in its own unit.
    n_boot : int, default 300
        Bootstrap refits (0: no CI).
    seed : int
        Bootstrap seed.
    confidence : float, default 0.95
        CI level.

    Returns
    -------
    dict
        ``factor``, ``n_runs``, ``n_points``, ``b0``, ``b1`` (on the factor's own scale:
        logit P = b0 + b1 x), ``range`` (observed factor min, max), ``deviance_drop``
        (likelihood-ratio statistic against a constant P: larger = the factor explains
        more), and ``crossings``: per level ``{"level", "x", "ci_low", "ci_high",
        "inside"}`` where ``x`` is None if the curve is flat and ``inside`` says whether x
        lies within the observed range (outside it is an extrapolation).
    """
    x, k, n = _grouped(exp, alternative, target, factor)
    out = {"factor": factor, "n_runs": int(n.sum()), "n_points": int(x.size)}
    if x.size < 3 or np.all(x == x[0]):
        out["unavailable"] = "fewer than 3 distinct factor values with measurable runs"
        return out
    mu, sd = float(x.mean()), float(x.std())
    z = (x - mu) / sd
    beta = fit_logistic(z, k, n)
    p0 = k.sum() / n.sum()
    null = 0.0 if p0 in (0.0, 1.0) else -(k.sum() * math.log(p0)
                                           + (n.sum() - k.sum()) * math.log(1 - p0))
    drop = 2 * (null - _nll(beta, z, k, n))
    boots = np.empty((0, 2))
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, x.size, (n_boot, x.size))
        weights = np.stack([np.bincount(d, minlength=x.size) for d in draws])
        boots = fit_logistic(z, k * weights, n * weights)
    tail = (1 - confidence) / 2
    share, se = _binned_shares(x, k, n)
    crossings = []
    for level in LEVELS:
        zc = _crossing(beta, level)
        # reached by some decile's share within 2 binomial standard errors, on both sides
        observed = bool(np.any(share - 2 * se <= level) and np.any(share + 2 * se >= level))
        entry = {"level": level, "x": None, "ci_low": None, "ci_high": None, "inside": False,
                 "observed": observed}
        if math.isfinite(zc):
            xc = mu + sd * zc
            entry["x"] = xc
            entry["inside"] = bool(x.min() <= xc <= x.max())
        if boots.size:
            zb = np.array([_crossing(b, level) for b in boots])
            zb = zb[np.isfinite(zb)]
            if zb.size >= 0.9 * n_boot:
                entry["ci_low"] = float(mu + sd * np.quantile(zb, tail))
                entry["ci_high"] = float(mu + sd * np.quantile(zb, 1 - tail))
        crossings.append(entry)
    out.update({"b0": float(beta[0] - beta[1] * mu / sd), "b1": float(beta[1] / sd),
                "range": [float(x.min()), float(x.max())], "deviance_drop": float(drop),
                "binned_range": [float(share.min()), float(share.max())],
                "crossings": crossings,
                "boot_b": [[float(b[0] - b[1] * mu / sd), float(b[1] / sd)] for b in boots]})
    return out


def key_factor(exp: Experiment, alternative: str, target: Target) -> str | None:
    """The numeric factor whose logistic fit explains the target best (largest deviance drop)."""
    best, best_drop = None, 0.0
    for factor in exp.numeric_factors():
        res = breaking_point(exp, alternative, target, factor, n_boot=0)
        drop = res.get("deviance_drop", 0.0)
        if drop > best_drop:
            best, best_drop = factor, drop
    return best
