"""Design points of an experiment and the seed of every (point, replication).

Random streams (all from the experiment's ``seed``; ``docs/experiments.md``):

* the design draws from ``SeedSequence(seed, spawn_key=(0,))``;
* the run of design point ``p``, replication ``r`` gets the model seed
  ``SeedSequence(seed, spawn_key=(1, p, r)).generate_state(1, uint64)[0] >> 1``
  (a non-negative int64), the same for every alternative: common random numbers, so
  alternatives are compared pairwise on identical draws. Adding replications later
  (``stop_when``, a larger ``replications``) never changes the seeds already used.

Continuous designs are drawn as probabilities ``u`` in the unit cube and mapped through
each factor's inverse CDF (``ppf``); for Sobol' and Morris designs that is the same
transform SALib applies to the problem recorded in ``experiment.json``
(``salib_problem``), so SALib's analysers read ``design.parquet`` as their ``X``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.spec import Choice, Experiment, Levels, Uniform


def run_seed(seed: int, point: int, replication: int) -> int:
    """Model seed of one (design point, replication); the same for every alternative.

    Parameters
    ----------
    seed : int
        The experiment's seed.
    point, replication : int
        Zero-based indices.

    Returns
    -------
    int
        In ``[0, 2**63)``.
    """
    ss = np.random.SeedSequence(seed, spawn_key=(1, int(point), int(replication)))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _design_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))


def _salib_seed(seed: int) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=(0,)).generate_state(1)[0])


def salib_problem(exp: Experiment) -> dict[str, Any] | None:
    """The SALib problem of a Sobol' or Morris design (``None`` for other designs)."""
    if exp.spec.design.kind not in ("sobol", "morris"):
        return None
    dists, bounds = zip(*(f.law.salib() for f in exp.factors), strict=True)
    return {"num_vars": len(exp.factors), "names": [f.path for f in exp.factors],
            "bounds": [list(b) for b in bounds], "dists": list(dists)}


def design_points(exp: Experiment) -> pd.DataFrame:
    """The design: column ``point`` (0..n-1, in sample order) and one column per factor.

    Parameters
    ----------
    exp : Experiment
        A checked experiment.

    Returns
    -------
    pandas.DataFrame
        Factor columns named by path: float64, or the values' own type (text) for
        ``choice`` / ``levels`` of non-numbers.
    """
    d = exp.spec.design
    k = len(exp.factors)
    seed = exp.spec.experiment.seed
    if d.kind == "single":
        return pd.DataFrame({"point": np.zeros(1, dtype=np.int64)})
    if d.kind == "factorial":
        axes = []
        for f in exp.factors:
            if isinstance(f.law, (Choice, Levels)):
                axes.append(list(f.law.values))
            else:  # midpoints of n equal-probability bins
                axes.append(list(f.law.ppf((np.arange(d.levels) + 0.5) / d.levels)))
        rows = list(itertools.product(*axes))
        cols = {f.path: [r[i] for r in rows] for i, f in enumerate(exp.factors)}
        return _frame(exp, cols, len(rows))
    if d.kind == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=k, rng=_design_rng(seed)).random(d.points)
        return _frame(exp, {f.path: f.law.ppf(u[:, i]) for i, f in enumerate(exp.factors)},
                      d.points)
    unit = {"num_vars": k, "names": [f.path for f in exp.factors], "bounds": [[0.0, 1.0]] * k}
    if d.kind == "sobol":
        from SALib.sample import sobol

        u = sobol.sample(unit, d.n, calc_second_order=d.second_order, seed=_salib_seed(seed))
    else:
        from SALib.sample import morris

        u = morris.sample(unit, d.trajectories, num_levels=d.num_levels,
                          seed=_salib_seed(seed))
    # SALib's unit samples may touch 0 or 1 exactly; a uniform maps them to its ends.
    cols = {}
    for i, f in enumerate(exp.factors):
        ui = u[:, i] if isinstance(f.law, Uniform) else np.clip(u[:, i], 1e-12, 1 - 1e-12)
        cols[f.path] = f.law.ppf(ui)
    return _frame(exp, cols, len(u))


def _frame(exp: Experiment, cols: dict[str, Any], n: int) -> pd.DataFrame:
    out = {"point": np.arange(n, dtype=np.int64)}
    for f in exp.factors:
        values = list(cols[f.path])
        if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
               for v in values):
            out[f.path] = np.asarray(values, dtype=np.float64)
        else:
            out[f.path] = pd.Series([str(v) if not isinstance(v, str) else v for v in values],
                                    dtype=object)
    return pd.DataFrame(out)


def point_values(design: pd.DataFrame, exp: Experiment, point: int) -> dict[str, Any]:
    """Factor values of one design point, as Python values (original types for choices)."""
    row = design.iloc[point]
    out = {}
    for f in exp.factors:
        v = row[f.path]
        if isinstance(f.law, (Choice, Levels)):
            # Recover the original value (a list, a bool ...) from its text form.
            v = next((x for x in f.law.values if (x if isinstance(x, str) else str(x)) == v
                      or x == v), v)
        elif hasattr(v, "item"):
            v = v.item()
        out[f.path] = v
    return out
