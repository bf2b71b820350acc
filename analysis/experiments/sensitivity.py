"""Global sensitivity: which uncertain input drives a metric.

* Sobol' designs: first-order S1 (share of the metric's variance explained by a factor
  alone) and total-order ST (share it explains with all its interactions), by SALib's
  ``sobol.analyze`` on the design's own problem (Saltelli 2002; Saltelli et al. 2010).
* Morris designs: mu* (mean absolute elementary effect: overall influence) and sigma
  (spread of the effects: non-linearity or interactions), by SALib's ``morris.analyze``
  with X taken from ``design.parquet`` (Morris 1991; Campolongo et al. 2007).
* Any other design (Latin hypercube, factorial): Spearman rank correlation of each
  numeric factor with the metric over all runs -- a screening "tornado", not a variance
  decomposition.

Replications: Sobol' and Morris need one output per design point, so the replications
of a point are averaged first. The indices then describe the metric's mean over the
model's own randomness (seed), E[Y | x]; the seed-to-seed noise is not a factor.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from analysis.experiments._folder import Experiment
from analysis.experiments.estimates import SEED

N_RESAMPLES_SALIB = 200
"""Bootstrap resamples SALib uses for its index confidence intervals."""


def point_means(exp: Experiment, alternative: str, metric: str) -> np.ndarray:
    """Mean of the metric over the replications of each design point (NaN where none).

    Returns
    -------
    numpy.ndarray
        One value per design point, in the design's sample order (``point`` 0..n-1).
    """
    ok = exp.ok_rows(alternative)
    means = ok.groupby("point")[metric].mean()
    out = np.full(len(exp.design), np.nan)
    out[means.index.to_numpy()] = means.to_numpy()
    return out


def _problem(exp: Experiment) -> dict:
    problem = dict(exp.manifest["design"]["salib_problem"])
    problem["num_vars"] = len(problem["names"])
    if problem.get("dists") is None:
        problem.pop("dists", None)
    return problem


def _second_order(exp: Experiment, n_points: int, n_vars: int) -> bool | None:
    """Whether the Saltelli sample holds the second-order cross matrices.

    ``design.options.calc_second_order`` when the engine wrote it; otherwise from the size:
    SALib's ``sobol.sample`` makes ``N (2D + 2)`` rows with, ``N (D + 2)`` without, N a
    power of two. At most one of the two quotients is a power of two (their ratio
    (2D+2)/(D+2) lies strictly between 1 and 2), so the size decides.
    """
    option = exp.manifest["design"].get("options", {}).get("calc_second_order")
    if option is not None:
        return bool(option)
    for second, per_n in ((True, 2 * n_vars + 2), (False, n_vars + 2)):
        base = n_points // per_n
        if n_points % per_n == 0 and base > 0 and base & (base - 1) == 0:
            return second
    return None


def _clean(values) -> list[float | None]:
    return [None if not math.isfinite(float(v)) else float(v) for v in values]


def sobol_indices(exp: Experiment, alternative: str, metric: str, *,
                  seed: int = SEED) -> dict:
    """Sobol' first- and total-order indices of one metric (Sobol' designs only).

    Parameters
    ----------
    exp : Experiment
        An experiment whose design kind is ``"sobol"`` (a SALib Saltelli/Sobol' sample).
    alternative, metric : str
        Which runs and which output.
    seed : int
        Seed of SALib's bootstrap of the index confidence intervals.

    Returns
    -------
    dict
        ``method: "sobol"``, ``names``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (95 %
        half-widths), or ``{"method": "sobol", "unavailable": reason}`` when some design
        point has no finite value (every point is needed) or the sample size does not fit.

    Notes
    -----
    SALib ``sobol.analyze``: Jansen/Saltelli estimators (Saltelli et al. 2010, Comput.
    Phys. Commun. 181:259-270). Replications are averaged per point first (module doc).
    """
    from SALib.analyze import sobol

    problem = _problem(exp)
    y = point_means(exp, alternative, metric)
    missing = int(np.isnan(y).sum())
    if missing:
        return {"method": "sobol",
                "unavailable": f"{missing} of {y.size} design points have no finite value"}
    second = _second_order(exp, y.size, problem["num_vars"])
    if second is None:
        return {"method": "sobol", "unavailable": f"{y.size} points is not a Saltelli "
                f"sample size for {problem['num_vars']} factors"}
    if np.all(y == y[0]):
        return {"method": "sobol", "unavailable": "the metric is constant"}
    si = sobol.analyze(problem, y, calc_second_order=second, num_resamples=N_RESAMPLES_SALIB,
                       print_to_console=False, seed=seed)
    return {"method": "sobol", "names": list(problem["names"]),
            "S1": _clean(si["S1"]), "S1_conf": _clean(si["S1_conf"]),
            "ST": _clean(si["ST"]), "ST_conf": _clean(si["ST_conf"])}


def morris_indices(exp: Experiment, alternative: str, metric: str, *,
                   seed: int = SEED) -> dict:
    """Morris mu*, sigma and mu of one metric (Morris designs only).

    Returns
    -------
    dict
        ``method: "morris"``, ``names``, ``mu_star``, ``mu_star_conf``, ``sigma``, ``mu``
        in the metric's unit per unit-hypercube step, or ``unavailable`` with a reason.

    Notes
    -----
    SALib ``morris.analyze`` with X from ``design.parquet`` (the factor columns named in
    the SALib problem, in its order) and ``num_levels`` from the design options (SALib's
    default 4 otherwise). mu* after Campolongo, Cariboni & Saltelli (2007), Environ.
    Model. Softw. 22:1509-1518.
    """
    from SALib.analyze import morris

    problem = _problem(exp)
    y = point_means(exp, alternative, metric)
    missing = int(np.isnan(y).sum())
    if missing:
        return {"method": "morris",
                "unavailable": f"{missing} of {y.size} design points have no finite value"}
    x = exp.design[list(problem["names"])].to_numpy(dtype=np.float64)
    levels = int(exp.manifest["design"].get("options", {}).get("num_levels", 4))
    si = morris.analyze(problem, x, y, num_resamples=N_RESAMPLES_SALIB, num_levels=levels,
                        print_to_console=False, seed=seed)
    return {"method": "morris", "names": list(problem["names"]),
            "mu_star": _clean(si["mu_star"]), "mu_star_conf": _clean(si["mu_star_conf"]),
            "sigma": _clean(si["sigma"]), "mu": _clean(si["mu"])}


def rank_correlations(exp: Experiment, alternative: str, metric: str) -> dict:
    """Spearman rank correlation of each numeric factor with the metric, over all runs.

    Returns
    -------
    dict
        ``method: "spearman"``, ``names``, ``rho`` (in [-1, 1]) and ``p`` (two-sided,
        ``scipy.stats.spearmanr``).
    """
    ok = exp.ok_rows(alternative)
    merged = ok[["point", metric]].merge(exp.design, on="point", how="left")
    merged = merged[np.isfinite(merged[metric].to_numpy(dtype=np.float64))]
    names, rho, p = [], [], []
    for factor in exp.numeric_factors():
        x = merged[factor].to_numpy(dtype=np.float64)
        y = merged[metric].to_numpy(dtype=np.float64)
        names.append(factor)
        if x.size < 3 or np.all(x == x[0]) or np.all(y == y[0]):
            rho.append(None)
            p.append(None)
            continue
        res = stats.spearmanr(x, y)
        rho.append(float(res.statistic))
        p.append(float(res.pvalue))
    return {"method": "spearman", "names": names, "rho": rho, "p": p}


def sensitivity(exp: Experiment, alternative: str, metric: str, *, seed: int = SEED) -> dict:
    """The sensitivity measure the design supports (Sobol', Morris, else Spearman)."""
    problem = exp.manifest["design"].get("salib_problem")
    if exp.kind == "sobol" and problem:
        return sobol_indices(exp, alternative, metric, seed=seed)
    if exp.kind == "morris" and problem:
        return morris_indices(exp, alternative, metric, seed=seed)
    return rank_correlations(exp, alternative, metric)
