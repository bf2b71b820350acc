"""Statistics of experiment folders against known answers (analysis/experiments).

Every folder here is synthetic, written in the engine's format 1 by
``tests/experiment_folder.py``, with a planted truth: a known mean, a known threshold, a
known box, the Ishigami function's analytic Sobol' indices.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

sys.path.insert(0, str(Path(__file__).parent))
from experiment_folder import task_rows, write_folder  # noqa: E402

from analysis.experiments import (  # noqa: E402
    Experiment,
    ExperimentFolderError,
    Target,
    compare_text,
    read_experiment,
    show_text,
    summary,
    write_figures,
)
from analysis.experiments.breaking import _nll, breaking_point, fit_logistic  # noqa: E402
from analysis.experiments.discovery import box_sentence, failure_boxes, prim  # noqa: E402
from analysis.experiments.estimates import bootstrap_mean_ci, convergence  # noqa: E402
from analysis.experiments.paired import (  # noqa: E402
    metric_difference,
    signed_rank_p,
    target_difference,
)
from analysis.experiments.sensitivity import sensitivity  # noqa: E402
from analysis.experiments.targets import probability, wilson_interval  # noqa: E402


def _binomial_bound(p: float, reps: int, z: float = 3.29) -> tuple[float, float]:
    """p +- z sd of a share over ``reps`` independent trials (z = 3.29: two-sided 99.9 %)."""
    half = z * math.sqrt(p * (1 - p) / reps)
    return p - half, p + half


# --- bootstrap CI and Wilson interval: coverage -------------------------------------------

def test_bootstrap_ci_of_the_mean_covers_the_true_mean_95_percent_of_the_time():
    # 400 seeded samples of n = 50 from N(10, 2^2); the CI should contain 10 in ~95 % of them.
    rng = np.random.default_rng(7)
    reps, hits = 400, 0
    for i in range(reps):
        low, high = bootstrap_mean_ci(rng.normal(10.0, 2.0, 50), n_resamples=1000, seed=i)
        hits += low <= 10.0 <= high
    low_ok, high_ok = _binomial_bound(0.95, reps)
    assert low_ok <= hits / reps <= high_ok


def test_bootstrap_ci_edge_cases_are_explicit():
    assert all(math.isnan(v) for v in bootstrap_mean_ci(np.array([1.0])))
    assert bootstrap_mean_ci(np.full(10, 3.0)) == (3.0, 3.0)  # point mass: no warning, no NaN
    x = np.random.default_rng(1).uniform(100, 200, 40)
    low, high = bootstrap_mean_ci((x + 1.0) - x)  # a constant shift up to rounding
    assert low == pytest.approx(1.0) and high == pytest.approx(1.0)
    x = np.random.default_rng(0).normal(size=30)
    assert bootstrap_mean_ci(x, seed=5) == bootstrap_mean_ci(x, seed=5)  # reproducible


def test_wilson_interval_known_value_and_exact_coverage():
    # Wilson (1927) score interval for 81/100 at 95 %: solve |p_hat - p| = z sqrt(p(1-p)/n).
    low, high = wilson_interval(81, 100)
    z = stats.norm.ppf(0.975)
    for p in (low, high):
        assert abs(abs(0.81 - p) - z * math.sqrt(p * (1 - p) / 100)) < 1e-12
    # Exact coverage (sum of the binomial pmf over the k whose interval holds p), n = 100,
    # p from 0.05 to 0.95: Brown, Cai & DasGupta (2001, fig. 5) show Wilson's coverage
    # oscillating around 0.95 with mean close to nominal and dips rarely below 0.93.
    n = 100
    ks = np.arange(n + 1)
    limits = np.array([wilson_interval(int(k), n) for k in ks])
    coverage = []
    for p in np.arange(0.05, 0.951, 0.01):
        inside = (limits[:, 0] <= p) & (p <= limits[:, 1])
        coverage.append(stats.binom.pmf(ks[inside], n, p).sum())
    coverage = np.array(coverage)
    assert 0.94 <= coverage.mean() <= 0.96
    assert coverage.min() >= 0.92
    # And by simulation (seeded), p = 0.9, n = 80: within a binomial bound of 0.95.
    rng = np.random.default_rng(3)
    reps = 2000
    hits = sum(lo <= 0.9 <= hi for lo, hi in
               (wilson_interval(int(k), 80) for k in rng.binomial(80, 0.9, reps)))
    lo_ok, hi_ok = _binomial_bound(0.95, reps)
    assert lo_ok - 0.01 <= hits / reps <= hi_ok  # 0.01: Wilson's oscillation at this (n, p)


def test_convergence_half_width_falls_like_one_over_sqrt_n():
    x = np.random.default_rng(11).normal(0, 1, 4096)
    table = convergence(x, n_steps=12)  # 2, 4, ..., 4096
    assert table["n"].iloc[0] == 2 and table["n"].iloc[-1] == 4096
    hw = dict(zip(table["n"], table["half_width"], strict=True))
    # t_{0.975,n-1} s / sqrt(n) with s ~ 1: ratio between n = 1024 and 4096 is ~ 1/2.
    assert 0.45 <= hw[4096] / hw[1024] <= 0.55
    assert abs(hw[4096] - 1.96 / 64) < 0.003


# --- paired comparison under common random numbers ----------------------------------------

def _paired_folder(tmp_path: Path, shift: float, n: int = 150) -> Path:
    design = pd.DataFrame({"point": np.arange(n),
                           "hazard.magnitude": np.linspace(5, 8, n)})

    def ete(d, alt, rep):
        common = np.random.default_rng(rep).normal(0, 30, len(d))  # same draws for both
        own = np.random.default_rng(100 + rep + (alt == "b") * 50).normal(0, 2, len(d))
        return 200 + 20 * d["hazard.magnitude"] + common + own + (shift if alt == "b" else 0)

    rows = task_rows(design, ["a", "b"], 2, {"ete.t_min": ete})
    return write_folder(tmp_path / f"paired{shift}", design, rows, metrics=["ete.t_min"],
                        alternatives=["a", "b"], replications=2,
                        targets=[{"name": "ete", "metric": "ete.t_min", "op": "<=",
                                  "value": 330}])


def test_paired_comparison_detects_a_planted_difference(tmp_path):
    exp = read_experiment(_paired_folder(tmp_path, shift=-3.0))
    d = metric_difference(exp, "a", "b", "ete.t_min")
    assert d["n_pairs"] == 300
    assert d["ci_low"] <= -3.0 <= d["ci_high"] and d["ci_high"] < 0
    assert d["p_signed_rank"] < 1e-6
    assert d["better"] == "b"  # the alternative's name; the target says lower ete is better
    # Unpaired, the same shift is lost in the common noise (sd 30 vs shift 3):
    ta = exp.ok_rows("a")["ete.t_min"].to_numpy()
    tb = exp.ok_rows("b")["ete.t_min"].to_numpy()
    assert stats.mannwhitneyu(ta, tb).pvalue > 0.05


def test_paired_comparison_finds_no_difference_where_none_was_planted(tmp_path):
    exp = read_experiment(_paired_folder(tmp_path, shift=0.0))
    d = metric_difference(exp, "a", "b", "ete.t_min")
    assert d["ci_low"] <= 0.0 <= d["ci_high"]
    assert d["better"] == "neither" and not d["significant"]
    # Over 300 seeded null data sets the signed-rank test rejects at 5 % about 5 % of the
    # time (binomial bound, 99.9 %).
    rng = np.random.default_rng(4)
    rejections = np.mean([signed_rank_p(rng.normal(0, 1, 60)) < 0.05 for _ in range(300)])
    assert rejections <= _binomial_bound(0.05, 300)[1]


def test_paired_target_difference_counts_discordant_pairs(tmp_path):
    exp = read_experiment(_paired_folder(tmp_path, shift=-15.0))
    d = target_difference(exp, "a", "b", exp.target("ete"))
    pa = exp.ok_rows("a")["ete.t_min"].to_numpy() <= 330
    pb = exp.ok_rows("b")["ete.t_min"].to_numpy() <= 330
    assert (d["only_a"], d["only_b"]) == (int((pa & ~pb).sum()), int((pb & ~pa).sum()))
    assert d["only_b"] > 0 and d["p_mcnemar"] < 0.05 and d["better"] == "b"
    assert d["diff"] == pytest.approx(pb.mean() - pa.mean())


# --- global sensitivity: Ishigami (Sobol') and a linear function (Morris) ------------------

def _ishigami_analytic(a: float = 7.0, b: float = 0.1):
    """Ishigami & Homma (1990); variances as in Saltelli et al. (2008), sec. 4.9 / 2.7."""
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a * a / 8
    v13 = b * b * pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def test_ishigami_analytic_values_match_the_cited_numbers():
    s1, st = _ishigami_analytic()
    assert np.round(s1, 4).tolist() == [0.3139, 0.4424, 0.0]
    assert np.round(st, 4).tolist() == [0.5576, 0.4424, 0.2437]


@pytest.mark.parametrize("write_option", [True, False])
def test_sobol_indices_of_ishigami_through_an_experiment_folder(tmp_path, write_option):
    from SALib.sample import sobol as sobol_sample

    names = ["hazard.x1", "hazard.x2", "hazard.x3"]
    problem = {"names": names, "bounds": [[-math.pi, math.pi]] * 3, "dists": None}
    x = sobol_sample.sample({**problem, "num_vars": 3}, 1024, calc_second_order=False, seed=1)
    design = pd.DataFrame(x, columns=names)
    design.insert(0, "point", np.arange(len(design), dtype=np.int64))

    def ishigami(d, alt, rep):
        y = (np.sin(d[names[0]]) + 7 * np.sin(d[names[1]]) ** 2
             + 0.1 * d[names[2]] ** 4 * np.sin(d[names[0]]))
        # Two replications with noise +e and -e: their mean is Ishigami exactly, so the
        # indices only come out right if replications are averaged per point first.
        e = np.random.default_rng(5).normal(0, 3, len(d))
        return y + (e if rep == 0 else -e)

    rows = task_rows(design, ["base"], 2, {"y": ishigami})
    folder = write_folder(tmp_path / "ishigami", design, rows, kind="sobol", metrics=["y"],
                          replications=2, salib_problem=problem,
                          options={"calc_second_order": False} if write_option else {})
    res = sensitivity(read_experiment(folder), "base", "y")
    assert res["method"] == "sobol" and res["names"] == names
    s1, st = _ishigami_analytic()
    for key, truth in (("S1", s1), ("ST", st)):
        est, conf = np.array(res[key]), np.array(res[f"{key}_conf"])
        # SALib's own 95 % half-widths are ~0.05 here; the quasi-random Sobol' sample
        # does much better, so the analytic value must be inside est +- conf AND within 0.02.
        assert np.all(np.abs(est - truth) <= conf)
        assert np.all(np.abs(est - truth) < 0.02)


def test_morris_mu_star_of_a_linear_function_is_its_slope_times_range(tmp_path):
    from SALib.sample import morris as morris_sample

    names = ["a", "b", "c"]
    bounds = [[0.0, 2.0], [10.0, 20.0], [0.0, 1.0]]
    problem = {"names": names, "bounds": bounds, "dists": None}
    x = morris_sample.sample({**problem, "num_vars": 3}, 20, num_levels=4, seed=2)
    design = pd.DataFrame(x, columns=names)
    design.insert(0, "point", np.arange(len(design), dtype=np.int64))
    rows = task_rows(design, ["base"], 1, {"y": lambda d, alt, rep: 3 * d["a"] - 0.5 * d["b"]})
    folder = write_folder(tmp_path / "morris", design, rows, kind="morris", metrics=["y"],
                          salib_problem=problem, options={"num_levels": 4})
    res = sensitivity(read_experiment(folder), "base", "y")
    # Elementary effect on the unit hypercube = slope x (upper - lower), exactly, sd 0
    # (Morris 1991: a linear model has constant elementary effects).
    assert res["mu_star"] == pytest.approx([3 * 2.0, 0.5 * 10.0, 0.0], abs=1e-9)
    assert res["sigma"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


# --- breaking points -------------------------------------------------------------------------

@pytest.mark.parametrize("sign", [1, -1])
def test_breaking_point_recovers_a_planted_logistic_threshold(tmp_path, sign):
    # P(met | c) = 1 / (1 + exp(-sign (c - 0.7) / 0.04)): 50 % at c = 0.7,
    # 90 % at c = 0.7 + sign 0.04 ln 9.
    n = 300
    c = np.random.default_rng(1).uniform(0.4, 1.0, n)
    design = pd.DataFrame({"point": np.arange(n), "warning.coverage": c,
                           "hazard.magnitude": np.random.default_rng(2).uniform(5, 8, n)})

    def relief(d, alt, rep):
        p = 1 / (1 + np.exp(-sign * (d["warning.coverage"] - 0.7) / 0.04))
        return (np.random.default_rng(10 + rep).uniform(size=len(d)) < p).astype(float)

    rows = task_rows(design, ["base"], 3, {"relief": relief})
    folder = write_folder(tmp_path / f"bp{sign}", design, rows, metrics=["relief"],
                          replications=3,
                          targets=[{"name": "relief", "metric": "relief", "op": ">=",
                                    "value": 1}])
    exp = read_experiment(folder)
    res = breaking_point(exp, "base", exp.target("relief"), "warning.coverage")
    truth = {0.5: 0.7, 0.9: 0.7 + sign * 0.04 * math.log(9)}
    for cross in res["crossings"]:
        # sd of the estimate over repeated data sets is <= 0.008 (measured with the
        # coverage test's generator): 0.025 is three of them.
        assert abs(cross["x"] - truth[cross["level"]]) < 0.025 and cross["inside"]
        assert cross["observed"]  # the data's own decile shares pass through the level
        assert cross["ci_low"] < cross["x"] < cross["ci_high"]
        assert cross["ci_high"] - cross["ci_low"] < 0.06
    assert res["b1"] == pytest.approx(sign / 0.04, rel=0.35)
    # the factor that does not matter explains much less
    other = breaking_point(exp, "base", exp.target("relief"), "hazard.magnitude", n_boot=0)
    assert other["deviance_drop"] < 0.05 * res["deviance_drop"]


def test_breaking_point_ci_covers_the_planted_threshold_95_percent_of_the_time():
    # 80 seeded data sets (300 points x 3 replications, threshold 0.7, scale 0.04): the
    # 95 % CI of each crossing should hold the truth in ~95 % of them (binomial bound).
    n, reps = 300, 80
    truth = {0.5: 0.7, 0.9: 0.7 + 0.04 * math.log(9)}
    hits = {0.5: 0, 0.9: 0}
    target = Target("relief", "relief", ">=", 1.0)
    manifest = {"name": "cov", "design": {"kind": "lhs"}, "metrics": ["relief"],
                "factors": [{"path": "c"}], "alternatives": [{"name": "base"}]}
    for r in range(reps):
        rng = np.random.default_rng(r)
        c = rng.uniform(0.4, 1.0, n)
        p = 1 / (1 + np.exp(-(c - 0.7) / 0.04))
        rows = pd.concat([pd.DataFrame({
            "point": np.arange(n), "alternative": "base", "replication": rep, "status": "ok",
            "relief": (rng.uniform(size=n) < p).astype(float)}) for rep in range(3)])
        exp = Experiment(Path("cov"), manifest, pd.DataFrame({"point": np.arange(n), "c": c}),
                         rows, (target,))
        res = breaking_point(exp, "base", target, "c", n_boot=200, seed=r)
        for cross in res["crossings"]:
            hits[cross["level"]] += cross["ci_low"] <= truth[cross["level"]] <= cross["ci_high"]
    low, high = _binomial_bound(0.95, reps)
    assert all(low <= h / reps <= high for h in hits.values())


def test_a_crossing_the_data_never_reach_is_flagged(tmp_path):
    # P(met) = 2/3 below c = 0.7 and 1 above (one band of three fails): the logistic
    # curve crosses 50 % somewhere, the data never go below 2/3.
    n = 300
    design = pd.DataFrame({"point": np.arange(n), "c": np.linspace(0.5, 1, n),
                           "band": np.resize(["north", "south", "west"], n)})
    rows = task_rows(design, ["base"], 2, {"m": lambda d, alt, rep: np.where(
        (d["band"] == "west") & (d["c"] < 0.7), 0.0, 1.0)})
    folder = write_folder(tmp_path / "plateau", design, rows, metrics=["m"],
                          replications=2,
                          targets=[{"name": "t", "metric": "m", "op": ">=", "value": 0.5}])
    exp = read_experiment(folder)
    res = breaking_point(exp, "base", exp.target("t"), "c", n_boot=0)
    low, high = res["binned_range"]
    assert low == pytest.approx(2 / 3, abs=0.01) and high == 1.0
    observed = {c["level"]: c["observed"] for c in res["crossings"]}
    assert observed == {0.9: True, 0.5: False}
    assert "not seen in the data" in show_text(folder, "en")


def test_newton_logistic_fit_equals_scipy_optimize_maximum_likelihood():
    rng = np.random.default_rng(8)
    z = rng.normal(size=80)
    n = rng.integers(1, 5, 80).astype(float)
    k = rng.binomial(n.astype(int), 1 / (1 + np.exp(-(0.3 + 1.5 * z)))).astype(float)
    ours = fit_logistic(z, k, n)
    ref = optimize.minimize(_nll, np.zeros(2), args=(z, k, n), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000}).x
    assert ours == pytest.approx(ref, abs=1e-5)
    both = fit_logistic(z, np.stack([k, k]), np.stack([n, n]))  # vectorised = one by one
    assert both == pytest.approx(np.stack([ours, ours]))


# --- scenario discovery -------------------------------------------------------------------

def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(1)
    n = 2000
    x = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 10, n),
                      "c": rng.uniform(0, 1, n)})
    y = ((x["a"] < 0.3) & (x["b"] > 6)).to_numpy() ^ (rng.uniform(size=n) < 0.05)
    box = prim(x, y)[0]
    assert set(box["limits"]) == {"a", "b"} and box["among"] == {}  # c pruned
    assert box["limits"]["a"][0] is None and abs(box["limits"]["a"][1] - 0.3) < 0.03
    assert abs(box["limits"]["b"][0] - 6) < 0.3 and box["limits"]["b"][1] is None
    # In the true box 95 % are cases (5 % label noise), so density ~ 0.95.
    assert box["density"] > 0.9 and box["coverage"] > 0.65


def test_failure_boxes_and_sentence_from_a_folder(tmp_path):
    n = 1200
    rng = np.random.default_rng(3)
    design = pd.DataFrame({"point": np.arange(n), "warning.coverage": rng.uniform(0.5, 1, n),
                           "hazard.magnitude": rng.uniform(5, 8, n),
                           "hazard.band": rng.choice(["north", "south", "west"], n)})

    def relief(d, alt, rep):
        bad = ((d["warning.coverage"] < 0.78) & (d["hazard.magnitude"] > 7.1)
               & (d["hazard.band"] != "west"))
        return np.where(bad, 0.8, 0.99)

    rows = task_rows(design, ["base"], 1, {"relief": relief})
    rows.loc[rows.index[:5], "relief"] = np.nan  # not measurable: neither met nor missed
    folder = write_folder(tmp_path / "prim", design, rows, metrics=["relief"],
                          targets=[{"name": "relief", "metric": "relief", "op": ">=",
                                    "value": 0.95}])
    exp = read_experiment(folder)
    found = failure_boxes(exp, "base", exp.target("relief"))
    assert found["n_runs"] == n - 5
    box = found["boxes"][0]
    assert box["density"] > 0.95 and box["coverage"] > 0.95
    assert abs(box["limits"]["warning.coverage"][1] - 0.78) < 0.02
    assert abs(box["limits"]["hazard.magnitude"][0] - 7.1) < 0.1
    assert box["among"] == {"hazard.band": ["north", "south"]}
    en, zh = box_sentence("relief", box, "en"), box_sentence("relief", box, "zh")
    assert en.startswith(f"relief missed in {100 * box['density']:.0f} % of runs when "
                         "warning.coverage < 0.78")
    assert "hazard.magnitude > 7.1" in en and "hazard.band is north or south" in en
    assert "且" in zh and "未达成" in zh and "north 或 south" in zh


# --- reading folders: clear errors --------------------------------------------------------

def _small_folder(tmp_path: Path, name: str = "small", n: int = 30) -> Path:
    design = pd.DataFrame({"point": np.arange(n), "warning.coverage": np.linspace(0.5, 1, n)})
    rows = task_rows(design, ["default", "more"], 2, {
        "relief": lambda d, alt, rep: d["warning.coverage"] + (0.05 if alt == "more" else 0)
        + np.random.default_rng(rep).normal(0, 0.05, len(d)),
        "dead": lambda d, alt, rep: np.zeros(len(d))})
    rows.loc[3, ["status", "error"]] = ["error", "warning.coverage: expected <= 1"]
    rows.loc[3, ["relief", "dead"]] = np.nan
    rows.loc[4, "relief"] = np.nan
    return write_folder(tmp_path / name, design, rows, metrics=["relief", "dead"],
                        alternatives=["default", "more"], replications=2,
                        targets=[{"name": "relief", "metric": "relief", "op": ">=",
                                  "value": 0.8},
                                 {"name": "no-deaths", "metric": "dead", "op": "==",
                                  "value": 0}])


def _edit_manifest(folder: Path, **changes) -> None:
    path = folder / "experiment.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def _rewrite_part(folder: Path, **columns) -> None:
    part = folder / "rows" / "part-0.parquet"
    rows = pd.read_parquet(part)
    for name, value in columns.items():
        rows[name] = value
    rows.to_parquet(part, index=False)


@pytest.mark.parametrize("breakage, expected", [
    (lambda f: (f / "experiment.json").unlink(), "experiment.json: missing"),
    (lambda f: (f / "design.parquet").unlink(), "design.parquet: missing"),
    (lambda f: _edit_manifest(f, format=2), "experiment.json: format: expected 1"),
    (lambda f: _edit_manifest(f, metrics=["relief", "dead", "ete.all.90.t_min"]),
     "part-0.parquet: columns: expected the row columns and every kept metric, got "
     "\"missing ['ete.all.90.t_min']\""),
    (lambda f: _edit_manifest(f, targets=[{"name": "x", "metric": "nope", "op": ">=",
                                           "value": 1}]), "targets[0].metric: expected one"),
    (lambda f: _edit_manifest(f, targets=[{"name": "x", "metric": "dead", "op": "=>",
                                           "value": 1}]), "targets[0].op: expected one of"),
    (lambda f: [p.unlink() for p in (f / "rows").glob("*.parquet")], "no part-*.parquet"),
    (lambda f: (f / "experiment.json").write_text("{"), "experiment.json: not valid JSON"),
    (lambda f: _edit_manifest(f, design={"kind": "sobol", "salib_problem": {
        "names": ["warning.coverage", "x"], "bounds": [[0, 1], [0, 1]]}}),
     "design.parquet: columns: expected a column for every name"),
    (lambda f: _edit_manifest(f, design={"kind": "kriging"}), "design.kind: expected one of"),
    (lambda f: _rewrite_part(f, dead="n/a"), "rows: dead: expected numbers"),
])
def test_a_bad_folder_gives_one_clear_error(tmp_path, breakage, expected):
    folder = _small_folder(tmp_path)
    breakage(folder)
    with pytest.raises(ExperimentFolderError) as err:
        read_experiment(folder)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_missing_folder_and_a_repeated_task_are_refused(tmp_path):
    with pytest.raises(ExperimentFolderError, match="no such folder"):
        read_experiment(tmp_path / "nothing")
    folder = _small_folder(tmp_path)
    part = folder / "rows" / "part-0.parquet"
    rows = pd.read_parquet(part)
    pd.concat([rows, rows.iloc[:1]]).to_parquet(part, index=False)
    with pytest.raises(ExperimentFolderError, match="each task once"):
        read_experiment(folder)


# --- entry points: summary, show, compare, figures -----------------------------------------

def test_targets_count_not_measurable_and_failed_runs_apart(tmp_path):
    exp = read_experiment(_small_folder(tmp_path))
    p = probability(exp, "default", exp.target("relief"))
    relief = exp.ok_rows("default")["relief"].to_numpy()
    assert p["failed"] == 1 and p["not_measurable"] == 1
    assert p["met"] == int(np.sum(relief >= 0.8))
    assert p["met"] + p["missed"] == 60 - 1 - 1
    assert p["ci_low"] < p["p"] < p["ci_high"]
    deaths = probability(exp, "default", exp.target("no-deaths"))
    assert deaths["p"] == 1.0 and deaths["ci_high"] == 1.0 and deaths["ci_low"] < 1.0


def test_summary_show_and_compare_text(tmp_path):
    folder = _small_folder(tmp_path)
    s = summary(folder, n_boot_breaking=50)
    json.dumps(s, allow_nan=False)  # JSON-able, NaN written as null
    assert s["failures"]["default"] == {"tasks": 60, "failed": 1, "errors": [
        {"message": "warning.coverage: expected <= 1", "count": 1}]}
    assert s["estimates"]["more"]["relief"]["n"] == 60
    assert s["comparisons"]["more - default"]["metrics"]["relief"]["better"] == "more"
    p = s["targets"]["relief"]["default"]
    for lang in ("en", "zh"):
        text = show_text(folder, lang)
        assert f"{100 * p['p']:.1f}" in text and f"{100 * p['ci_low']:.1f}" in text
        assert "warning.coverage: expected <= 1" in text
    assert "1 of 60 failed" in show_text(folder, "en")
    en = compare_text(folder, "default", "more", "en")
    assert "more better" in en and "signed-rank p" in en
    assert "more 更优" in compare_text(folder, "default", "more", "zh")
    assert s["comparisons"]["more - default"]["seed_mismatches"] == 0
    part = folder / "rows" / "part-1.parquet"
    rows = pd.read_parquet(part)
    rows.loc[rows["alternative"] == "more", "seed"] += 1  # break common random numbers
    rows.to_parquet(part, index=False)
    assert "Warning: 60 matched pairs ran with different seeds" in compare_text(
        folder, "default", "more", "en")
    with pytest.raises(ExperimentFolderError, match="no alternative 'other'"):
        compare_text(folder, "default", "other", "en")


def test_write_figures_makes_every_figure_and_the_same_bytes_twice(tmp_path):
    folder = _small_folder(tmp_path)
    paths = write_figures(folder, "zh")
    names = {p.name for p in paths}
    assert names == {f"{n}.zh.png" for n in ("ci_bars", "distribution", "sensitivity",
                                             "breaking_point", "boxes", "convergence")}
    first = {p.name: p.read_bytes() for p in paths}
    assert all(b.startswith(b"\x89PNG") for b in first.values())
    assert {p.name: p.read_bytes() for p in write_figures(folder, "zh")} == first
    assert not list((folder / "figures").glob(".*"))  # no temporary files left behind


def test_stop_rule_and_a_design_without_factors(tmp_path):
    # 20 replications of one point with values 0..19: sd = sqrt(35) (variance of 0..19,
    # ddof 1, is 20*21/12 = 35), so the half-width is t_{.975,19} sqrt(35/20) and the runs
    # needed for a 0.5 half-width are ceil((1.96 sqrt(35) / 0.5)^2) (Law 2015, sec. 9.4.1).
    design = pd.DataFrame({"point": np.arange(1)})
    rows = task_rows(design, ["a", "b"], 20, {"m": lambda d, alt, rep: np.full(len(d), rep)})
    rows.loc[rows["alternative"] == "b", ["status", "error"]] = ["error", "boom"]
    rows.loc[rows["alternative"] == "b", "m"] = np.nan
    folder = write_folder(tmp_path / "single", design, rows, kind="single", metrics=["m"],
                          alternatives=["a", "b"], replications=20,
                          targets=[{"name": "t", "metric": "m", "op": "<", "value": 10}],
                          stop_when={"metric": "m", "half_width": 0.5})
    s = summary(folder)
    status = s["stop_when"]["status"]
    assert status["a"]["half_width"] == pytest.approx(stats.t.ppf(0.975, 19) * math.sqrt(1.75))
    z = stats.norm.ppf(0.975)
    assert status["a"]["runs_needed"] == math.ceil((z * math.sqrt(35) / 0.5) ** 2)
    assert not status["a"]["reached"] and status["b"]["n"] == 0
    assert s["targets"]["t"]["b"] == {"met": 0, "missed": 0, "not_measurable": 0,
                                      "failed": 20, "p": None, "ci_low": None, "ci_high": None}
    assert "about 538 runs needed" in show_text(folder, "en")
    assert [p.name for p in write_figures(folder, "en")] == [
        "ci_bars.en.png", "distribution.en.png", "convergence.en.png"]  # nothing to explain
