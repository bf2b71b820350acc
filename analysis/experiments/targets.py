"""Targets: was a criterion met in a run, and how likely is it to be met.

A target ``metric op value`` is *met* or *missed* in a finished run where the metric is a
number; where the metric is NaN (not measurable, e.g. no relief was needed) the run is
counted apart and left out of P(met); failed tasks are counted apart too.
"""

from __future__ import annotations

import math
import operator

import numpy as np
from scipy import stats

from analysis.experiments._folder import Experiment, Target
from analysis.experiments.estimates import CONFIDENCE

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
        "==": operator.eq, "!=": operator.ne}

HIGHER_IS_BETTER = {">=": True, ">": True, "<=": False, "<": False}
"""Direction a target gives its metric (``==`` and ``!=`` give none)."""


def met(values: np.ndarray, target: Target) -> np.ndarray:
    """Met (1.0), missed (0.0) or not measurable (NaN) for each value of the target's metric.

    Parameters
    ----------
    values : numpy.ndarray
        Metric values (NaN where not measurable).
    target : Target
        The criterion.

    Returns
    -------
    numpy.ndarray of float64
        1.0, 0.0 or NaN per value.
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ok = _OPS[target.op](values, target.value).astype(np.float64)
    ok[np.isnan(values)] = np.nan
    return ok


def wilson_interval(successes: int, n: int, *,
                    confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    Parameters
    ----------
    successes : int
        Number of successes (runs where the target was met).
    n : int
        Number of trials (measurable runs).
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    (float, float)
        Limits in [0, 1]; ``(nan, nan)`` when ``n == 0``.

    Notes
    -----
    Wilson (1927), JASA 22:209-212: the p for which |p_hat - p| <= z sqrt(p(1-p)/n),
    ``(p_hat + z^2/2n +- z sqrt(p_hat(1-p_hat)/n + z^2/4n^2)) / (1 + z^2/n)``. Brown, Cai
    & DasGupta (2001), Statistical Science 16:101-133, recommend it over the Wald interval,
    whose coverage collapses near 0 and 1 -- where P(target met) of a good plan lives.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(81, 100)]
    [0.7222, 0.8749]
    """
    if n == 0:
        return math.nan, math.nan
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def target_outcomes(exp: Experiment, alternative: str, target: Target) -> np.ndarray:
    """Met / missed / not measurable (1, 0, NaN) per finished run of one alternative."""
    return met(exp.ok_rows(alternative)[target.metric].to_numpy(), target)


def probability(exp: Experiment, alternative: str, target: Target) -> dict:
    """P(target met) with its Wilson 95 % interval and the counts behind it (JSON-able)."""
    outcome = target_outcomes(exp, alternative, target)
    n_met = int(np.nansum(outcome))
    measurable = int(np.isfinite(outcome).sum())
    low, high = wilson_interval(n_met, measurable)
    failed = int(((exp.rows["alternative"] == alternative)
                  & (exp.rows["status"] == "error")).sum())
    return {
        "met": n_met,
        "missed": measurable - n_met,
        "not_measurable": int(outcome.size - measurable),
        "failed": failed,
        "p": n_met / measurable if measurable else None,
        "ci_low": None if math.isnan(low) else low,
        "ci_high": None if math.isnan(high) else high,
    }


def probabilities(exp: Experiment) -> dict[str, dict[str, dict]]:
    """``{target name: {alternative: probability dict}}`` for every target."""
    return {tg.name: {alt: probability(exp, alt, tg) for alt in exp.alternatives}
            for tg in exp.targets}
