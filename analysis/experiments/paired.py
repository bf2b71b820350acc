"""Paired comparison of two alternatives under common random numbers.

Every alternative runs the same design points with the same seeds, so run (point,
replication) of plan A and of plan B saw the same hazard, the same people and the same
random draws: their difference is the plan's effect plus far less noise than two
independent samples would carry. The comparison is therefore made on per-pair
differences, never on two separate means.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis.experiments._folder import Experiment, ExperimentFolderError, Target
from analysis.experiments.estimates import SEED, bootstrap_mean_ci
from analysis.experiments.targets import HIGHER_IS_BETTER, met

ALPHA = 0.05
"""Significance level for calling one alternative better (two-sided)."""


def _check_alternatives(exp: Experiment, *names: str) -> None:
    for name in names:
        if name not in exp.alternatives:
            msg = (f"{exp.folder / 'experiment.json'}: alternatives: no alternative "
                   f"{name!r}; expected one of {exp.alternatives}")
            raise ExperimentFolderError(msg)


def pairs(exp: Experiment, a: str, b: str, metric: str) -> pd.DataFrame:
    """Runs of ``a`` and ``b`` matched on (point, replication).

    Returns
    -------
    pandas.DataFrame
        Columns ``point``, ``replication``, ``a``, ``b`` (metric values), only pairs where
        both tasks finished; NaN values are kept (not measurable).
    """
    _check_alternatives(exp, a, b)
    key = ["point", "replication"]
    left = exp.ok_rows(a)[[*key, metric]].rename(columns={metric: "a"})
    right = exp.ok_rows(b)[[*key, metric]].rename(columns={metric: "b"})
    return left.merge(right, on=key, how="inner").sort_values(key).reset_index(drop=True)


def signed_rank_p(diff: np.ndarray) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (zeros dropped).

    ``None`` with fewer than one non-zero difference; 1.0 is never invented for all-zero
    differences: they give ``None`` too (no evidence either way).

    Notes
    -----
    ``scipy.stats.wilcoxon`` with ``zero_method="wilcox"`` (Wilcoxon 1945, Biometrics
    Bulletin 1:80-83): exact distribution for small samples without ties, normal
    approximation otherwise.
    """
    nonzero = diff[diff != 0]
    if nonzero.size == 0:
        return None
    return float(stats.wilcoxon(nonzero, zero_method="wilcox").pvalue)


def metric_difference(exp: Experiment, a: str, b: str, metric: str, *,
                      seed: int = SEED) -> dict:
    """Mean paired difference ``b - a`` of one metric, its BCa 95 % CI and signed-rank p.

    Parameters
    ----------
    exp : Experiment
        The experiment.
    a, b : str
        Alternative names; the difference is ``b - a`` in the metric's unit.
    metric : str
        Dotted metric path.
    seed : int
        Bootstrap seed.

    Returns
    -------
    dict
        ``n_pairs``, ``mean_a``, ``mean_b``, ``mean_diff``, ``ci_low``, ``ci_high``,
        ``p_signed_rank``, ``significant`` (CI excludes 0 and p < 0.05), ``better``
        (the better alternative's name, ``"neither"``, or ``None`` when the metric has no
        target to give it a direction).
    """
    matched = pairs(exp, a, b, metric)
    both = matched.dropna(subset=["a", "b"])
    diff = (both["b"] - both["a"]).to_numpy(dtype=np.float64)
    low, high = bootstrap_mean_ci(diff, seed=seed)
    p = signed_rank_p(diff) if diff.size else None
    significant = (p is not None and p < ALPHA and not math.isnan(low)
                   and (low > 0 or high < 0))
    directions = {HIGHER_IS_BETTER[t.op] for t in exp.targets
                  if t.metric == metric and t.op in HIGHER_IS_BETTER}
    better = None
    if len(directions) == 1:
        higher = directions.pop()
        if not significant:
            better = "neither"
        else:
            better = b if (diff.mean() > 0) == higher else a
    return {
        "n_pairs": int(diff.size),
        "mean_a": float(both["a"].mean()) if diff.size else None,
        "mean_b": float(both["b"].mean()) if diff.size else None,
        "mean_diff": float(diff.mean()) if diff.size else None,
        "ci_low": None if math.isnan(low) else low,
        "ci_high": None if math.isnan(high) else high,
        "p_signed_rank": p,
        "significant": bool(significant),
        "better": better,
    }


def target_difference(exp: Experiment, a: str, b: str, target: Target, *,
                      seed: int = SEED) -> dict:
    """Paired difference in P(target met), ``b - a``, with a bootstrap CI and McNemar's test.

    Only pairs where the target is measurable in both runs count.

    Returns
    -------
    dict
        ``n_pairs``, ``p_a``, ``p_b``, ``diff`` (``p_b - p_a``), ``ci_low``, ``ci_high``
        (BCa bootstrap of the mean of the paired met-indicator differences),
        ``only_a``/``only_b`` (pairs met under one alternative only), ``p_mcnemar``
        and ``better`` (the better alternative's name or ``"neither"``).

    Notes
    -----
    McNemar's exact test (McNemar 1947, Psychometrika 12:153-157): under "no difference"
    the discordant pairs split 50/50, so ``only_b ~ Binomial(only_a + only_b, 1/2)``
    (``scipy.stats.binomtest``). It is the signed-rank test's counterpart for 0/1 outcomes.
    """
    matched = pairs(exp, a, b, target.metric)
    ma, mb = met(matched["a"].to_numpy(), target), met(matched["b"].to_numpy(), target)
    keep = np.isfinite(ma) & np.isfinite(mb)
    ma, mb = ma[keep], mb[keep]
    diff = mb - ma
    only_a, only_b = int((diff < 0).sum()), int((diff > 0).sum())
    p = (float(stats.binomtest(only_b, only_a + only_b, 0.5).pvalue)
         if only_a + only_b else None)
    low, high = bootstrap_mean_ci(diff, seed=seed)
    significant = p is not None and p < ALPHA
    better = "neither" if not significant else (b if only_b > only_a else a)
    return {
        "n_pairs": int(diff.size),
        "p_a": float(ma.mean()) if diff.size else None,
        "p_b": float(mb.mean()) if diff.size else None,
        "diff": float(diff.mean()) if diff.size else None,
        "ci_low": None if math.isnan(low) else low,
        "ci_high": None if math.isnan(high) else high,
        "only_a": only_a,
        "only_b": only_b,
        "p_mcnemar": p,
        "better": better,
    }


def seed_mismatches(exp: Experiment, a: str, b: str) -> int:
    """Matched (point, replication) pairs of ``a`` and ``b`` whose seeds differ.

    Zero when the engine kept its common-random-numbers promise; anything else means the
    pairs did not see the same random draws and the pairing gains less than it should.
    """
    key = ["point", "replication"]
    rows = exp.rows
    left = rows.loc[rows["alternative"] == a, [*key, "seed"]]
    right = rows.loc[rows["alternative"] == b, [*key, "seed"]]
    both = left.merge(right, on=key, suffixes=("_a", "_b"))
    return int((both["seed_a"] != both["seed_b"]).sum())


def compare(exp: Experiment, a: str, b: str, *, seed: int = SEED) -> dict:
    """Every metric's and every target's paired comparison of ``b`` against ``a``.

    Returns
    -------
    dict
        ``a``, ``b``, ``seed_mismatches`` (:func:`seed_mismatches`), ``metrics``
        (metric -> :func:`metric_difference`), ``targets`` (name -> :func:`target_difference`).
    """
    _check_alternatives(exp, a, b)
    return {
        "a": a,
        "b": b,
        "seed_mismatches": seed_mismatches(exp, a, b),
        "metrics": {m: metric_difference(exp, a, b, m, seed=seed) for m in exp.metrics},
        "targets": {t.name: target_difference(exp, a, b, t, seed=seed) for t in exp.targets},
    }
