"""Means, medians and bootstrap confidence intervals per alternative and metric.

A run's metric is one draw from the distribution the uncertain inputs and the seed
induce; the mean over runs estimates its expectation, and the bootstrap CI says how far
that estimate may be from it given the number of runs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis.experiments._folder import Experiment

CONFIDENCE = 0.95
"""Confidence level of every interval in this package."""

N_RESAMPLES = 2000
"""Bootstrap resamples. Efron & Tibshirani (1993, ch. 19) suggest >= 1000 for percentile
and BCa intervals; 2000 keeps the Monte Carlo error of the limits well below their width."""

SEED = 20_240_601
"""Default seed of the bootstrap, so the same folder always gives the same intervals."""


def bootstrap_mean_ci(values: np.ndarray, *, confidence: float = CONFIDENCE,
                      n_resamples: int = N_RESAMPLES,
                      seed: int = SEED) -> tuple[float, float]:
    """Bias-corrected and accelerated (BCa) bootstrap CI of the mean.

    Parameters
    ----------
    values : numpy.ndarray
        Finite sample (NaNs must be removed first), in the metric's own unit.
    confidence : float, default 0.95
        Confidence level.
    n_resamples : int, default 2000
        Bootstrap resamples.
    seed : int
        Seed of the resampling (same input and seed give the same interval).

    Returns
    -------
    (float, float)
        Lower and upper limits, in the metric's unit; ``(nan, nan)`` for fewer than two
        values; ``(v, v)`` when every value is ``v`` up to rounding (the bootstrap
        distribution is a point); the percentile interval where BCa is undefined.

    Notes
    -----
    ``scipy.stats.bootstrap`` with ``method="BCa"`` (Efron 1987, JASA 82:171-185;
    Efron & Tibshirani 1993, ch. 14).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return math.nan, math.nan
    mean = float(values.mean())
    if np.ptp(values) <= 1e-12 * max(1.0, abs(mean)):
        # A point mass up to rounding (e.g. paired differences that are all the same
        # shift): the bootstrap distribution is that point; BCa's acceleration would be 0/0.
        return mean, mean
    for method in ("BCa", "percentile"):
        with np.errstate(invalid="ignore", divide="ignore"):
            res = stats.bootstrap((values,), np.mean, confidence_level=confidence,
                                  n_resamples=n_resamples, method=method, vectorized=True,
                                  rng=np.random.default_rng(seed))
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            break  # else: BCa undefined (degenerate jackknife), use the percentile interval
    return low, high


def t_half_width(values: np.ndarray, *, confidence: float = CONFIDENCE) -> float:
    """Half-width of the Student-t CI of the mean, ``t_{1-a/2,n-1} s / sqrt(n)``.

    Parameters
    ----------
    values : numpy.ndarray
        Finite sample, in the metric's unit.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    float
        Half-width in the metric's unit (NaN for fewer than two values).

    Notes
    -----
    Used for the convergence table, where it is computed for many prefixes of the runs:
    it is cheap and, by the central limit theorem, close to the bootstrap half-width once
    n is a few dozen (Law 2015, *Simulation Modeling and Analysis*, 5th ed., sec. 9.4.1).
    """
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if n < 2:
        return math.nan
    quantile = stats.t.ppf(0.5 + confidence / 2, n - 1)
    return float(quantile * values.std(ddof=1) / math.sqrt(n))


def metric_values(exp: Experiment, alternative: str, metric: str) -> np.ndarray:
    """Finite values of one metric over one alternative's finished runs.

    Rows are in (replication, point) order: every design point once, then again, so
    that a prefix of the runs is a smaller experiment over the whole design (what the
    convergence table needs), not a few points' replications.
    """
    rows = exp.ok_rows(alternative).sort_values(["replication", "point"], kind="stable")
    values = rows[metric].to_numpy(dtype=np.float64)
    return values[np.isfinite(values)]


def estimate(values: np.ndarray, *, seed: int = SEED) -> dict:
    """Mean, median, BCa 95 % CI of the mean and count of a sample (JSON-able)."""
    low, high = bootstrap_mean_ci(values, seed=seed)
    n = int(values.size)
    return {
        "n": n,
        "mean": float(values.mean()) if n else None,
        "median": float(np.median(values)) if n else None,
        "ci_low": None if math.isnan(low) else low,
        "ci_high": None if math.isnan(high) else high,
        "half_width": None if math.isnan(low) else (high - low) / 2,
    }


def estimates(exp: Experiment, *, seed: int = SEED) -> dict[str, dict[str, dict]]:
    """Estimates for every alternative and metric.

    Returns
    -------
    dict
        ``{alternative: {metric: estimate}}``; each estimate is :func:`estimate`'s dict plus
        ``not_measurable``, the finished runs where the metric is NaN.
    """
    out: dict[str, dict[str, dict]] = {}
    for alt in exp.alternatives:
        ok = exp.ok_rows(alt)
        out[alt] = {}
        for metric in exp.metrics:
            raw = ok[metric].to_numpy(dtype=np.float64)
            finite = raw[np.isfinite(raw)]
            entry = estimate(finite, seed=seed)
            entry["not_measurable"] = int(raw.size - finite.size)
            out[alt][metric] = entry
    return out


def failures(exp: Experiment) -> dict[str, dict]:
    """Tasks per alternative: total, failed, and the most frequent error messages."""
    out = {}
    for alt in exp.alternatives:
        rows = exp.rows[exp.rows["alternative"] == alt]
        errors = rows.loc[rows["status"] == "error", "error"].astype(str)
        top = errors.value_counts().head(3)
        out[alt] = {"tasks": int(len(rows)), "failed": int(errors.size),
                    "errors": [{"message": m, "count": int(c)} for m, c in top.items()]}
    return out


def convergence(values: np.ndarray, *, n_steps: int = 12,
                confidence: float = CONFIDENCE) -> pd.DataFrame:
    """CI half-width of the mean against the number of runs used.

    Parameters
    ----------
    values : numpy.ndarray
        Finite values in run order (:func:`metric_values`: replication, then point).
    n_steps : int, default 12
        Number of prefix lengths, spaced geometrically from 2 to ``len(values)``.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``n`` (runs) and ``half_width`` (Student-t, metric's unit), one row per
        prefix length. For independent runs it falls like 1/sqrt(n): quadrupling the runs
        halves it.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return pd.DataFrame({"n": pd.Series([], dtype="int64"),
                             "half_width": pd.Series([], dtype="float64")})
    sizes = np.unique(np.geomspace(2, values.size, n_steps).round().astype(np.int64))
    widths = [t_half_width(values[:n], confidence=confidence) for n in sizes]
    return pd.DataFrame({"n": sizes, "half_width": widths})


def runs_needed(values: np.ndarray, tolerance: float, *,
                confidence: float = CONFIDENCE) -> int | None:
    """Runs needed for a CI half-width of ``tolerance`` (metric's unit), from the sample's sd.

    ``n = ceil((z s / tolerance)^2)`` (Law 2015, sec. 9.4.1); ``None`` with fewer than two
    values. Used to say how far an experiment is from a ``stop_when`` tolerance.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 or tolerance <= 0:
        return None
    z = stats.norm.ppf(0.5 + confidence / 2)
    return int(math.ceil((z * values.std(ddof=1) / tolerance) ** 2))
