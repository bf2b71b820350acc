"""Households on a synthetic map; warning and departure draws against their identities.

Statistical checks use 4-sigma bounds: a share p estimated from n independent draws has
standard error sqrt(p (1 - p) / n); an empirical quantile is checked through the count of
draws below the true quantile, which is Binomial(n, p) whatever the distribution.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr

from sim._errors import ScenarioError
from sim.population import (
    DEAD,
    EN_ROUTE,
    N_STATES,
    NOT_WARNED,
    SHELTERED,
    STATE_NAMES,
    STAYING,
    STRANDED,
    WARNED,
    Population,
    build_population,
    household_state,
    sample_response,
    state_counts,
)
from sim.scenario import Scenario
from tests.data.scenarios.synthetic_net import grid_net

# Areas (m2) of the residential places below; Riverside has two, 3:1.
RES = [
    {"kind": "residential", "x_m": 400_100.0, "y_m": 4_700_100.0, "area_m2": 30_000.0,
     "tags": {"zone": "Riverside"}},
    {"kind": "residential", "x_m": 400_300.0, "y_m": 4_700_300.0, "area_m2": 10_000.0,
     "tags": {"zone": "Riverside"}},
    {"kind": "residential", "x_m": 400_100.0, "y_m": 4_700_350.0, "area_m2": 4_900.0,
     "tags": {"zone": "Hilltop"}},
]
ZONES = [
    {"kind": "suburb", "name": "Riverside", "x_m": 400_200.0, "y_m": 4_700_200.0},
    {"kind": "suburb", "name": "Hilltop", "x_m": 400_100.0, "y_m": 4_700_350.0},
    {"kind": "suburb", "name": "Mill", "x_m": 400_390.0, "y_m": 4_700_010.0},
]


def make_spec(tmp_path: Path, csv_text: str = "zone,population\nRiverside,40000\n"
              "Hilltop,7001\nMill,13\n", **sections) -> Scenario:
    (tmp_path / "m.osm").write_text("<osm/>")
    (tmp_path / "z.csv").write_text(csv_text, encoding="utf-8")
    data = {"scenario": {"name": "t", "map": "m.osm", "seed": 1},
            "population": {"zones_csv": "z.csv"}}
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return Scenario.from_dict(data, source=str(tmp_path / "s.toml"), base_dir=tmp_path)


@pytest.fixture(scope="module")
def net():
    # One walk-only node right next to Riverside's first area: no home may snap to it by car.
    return grid_net(k=5, spacing_m=100.0, residential=RES, zones=ZONES,
                    walk_only_nodes=[(400_101.0, 4_700_101.0)])


def test_zone_totals_exact_and_households_sane(tmp_path, net):
    spec = make_spec(tmp_path)
    pop = build_population(net, spec, rng=np.random.default_rng(7))
    assert pop.zone_names == ["Riverside", "Hilltop", "Mill"]
    assert pop.zone_persons().tolist() == [40000, 7001, 13]  # conservation
    assert pop.n_persons == 47014
    assert pop.persons.min() >= 1 and np.all(pop.vulnerable <= pop.persons)
    assert pop.zone.dtype == np.int16 and pop.persons.dtype == np.int32
    assert pop.home_drive_node.dtype == np.int32 and pop.has_car.dtype == bool
    # Mill has no residential area: everyone is at its zone point (area 0 -> no jitter).
    mill = pop.zone == 2
    assert np.all(pop.x_m[mill] == 400_390.0) and np.all(pop.y_m[mill] == 4_700_010.0)


def test_homes_inside_areas_in_proportion_to_area(tmp_path, net):
    pop = build_population(net, make_spec(tmp_path), rng=np.random.default_rng(8))
    riv = pop.zone == 0
    in_big = (np.abs(pop.x_m - 400_100.0) <= math.sqrt(30_000) / 2) & (
        np.abs(pop.y_m - 4_700_100.0) <= math.sqrt(30_000) / 2)
    in_small = (np.abs(pop.x_m - 400_300.0) <= 50.0) & (np.abs(pop.y_m - 4_700_300.0) <= 50.0)
    assert np.all(in_big[riv] | in_small[riv])
    # Persons are split over the areas multinomially: persons in the big area ~ Bin(40000, 3/4).
    n, p = 40000, 0.75
    share = pop.persons[riv & in_big].sum() / n
    assert abs(share - p) <= 4 * math.sqrt(p * (1 - p) / n)


def test_homes_snap_to_nearest_node_of_each_network(tmp_path, net):
    pop = build_population(net, make_spec(tmp_path), rng=np.random.default_rng(9))
    walk_only = len(net.nodes) - 1
    assert walk_only not in set(pop.home_drive_node.tolist())
    assert walk_only in set(pop.home_walk_node.tolist())  # some homes are nearest to it
    grid = np.arange(25)
    sample = np.arange(0, len(pop), 97)
    d = np.hypot(pop.x_m[sample, None] - net.nodes.x_m[grid],
                 pop.y_m[sample, None] - net.nodes.y_m[grid])
    chosen = np.hypot(pop.x_m[sample] - net.nodes.x_m[pop.home_drive_node[sample]],
                      pop.y_m[sample] - net.nodes.y_m[pop.home_drive_node[sample]])
    np.testing.assert_allclose(chosen, d.min(axis=1))


def test_deterministic_with_seed(tmp_path, net):
    spec = make_spec(tmp_path)
    a = build_population(net, spec, rng=np.random.default_rng(3))
    b = build_population(net, spec, rng=np.random.default_rng(3))
    c = build_population(net, spec, rng=np.random.default_rng(4))
    for f in ("zone", "persons", "vulnerable", "has_car", "home_drive_node", "home_walk_node",
              "x_m", "y_m", "walk_speed_mps"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.x_m, c.x_m) or not np.array_equal(a.persons, c.persons)
    ra = sample_response(a, spec, rng=np.random.default_rng(5))
    rb = sample_response(b, spec, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(ra.t_depart_s, rb.t_depart_s)
    np.testing.assert_array_equal(ra.complies, rb.complies)


def test_shares_household_size_car_and_vulnerable(tmp_path, net):
    spec = make_spec(tmp_path, "zone,population\nRiverside,400000\n",
                     population={"car_ownership": 0.45, "vulnerable_share": 0.135,
                                 "household_size_mean": 2.62})
    pop = build_population(net, spec, rng=np.random.default_rng(11))
    h = len(pop)
    # Car: Bernoulli(0.45) per household.
    assert abs(pop.has_car.mean() - 0.45) <= 4 * math.sqrt(0.45 * 0.55 / h)
    # Size: 1 + Poisson(1.62), variance 1.62; one cut household in 150k is negligible.
    assert abs(pop.persons.mean() - 2.62) <= 4 * math.sqrt(1.62 / h)
    # 65+: Binomial(persons, 0.135) per household = Bernoulli per person.
    n = pop.n_persons
    assert abs(pop.vulnerable.sum() / n - 0.135) <= 4 * math.sqrt(0.135 * 0.865 / n)


def test_walk_speed_is_slowest_member(tmp_path, net):
    spec = make_spec(tmp_path, "zone,population\nRiverside,400000\n")
    pop = build_population(net, spec, rng=np.random.default_rng(12))
    v = pop.walk_speed_mps
    assert v.min() >= 0.5 and v.max() <= 2.5  # truncation bounds
    assert np.all(v[pop.vulnerable > 0] <= 0.8)  # FDMA 2002: people needing help
    mu, sd = 1.34, 0.26  # Helbing & Molnar 1995
    a, b = (0.5 - mu) / sd, (2.5 - mu) / sd
    z = ndtr(b) - ndtr(a)
    for size in (1, 3):
        sel = (pop.vulnerable == 0) & (pop.persons == size)
        n = int(sel.sum())
        x = 1.2
        f = (ndtr((x - mu) / sd) - ndtr(a)) / z  # truncated-normal CDF of one person
        p = 1.0 - (1.0 - f) ** size  # CDF of the minimum of `size` people
        assert abs((v[sel] <= x).mean() - p) <= 4 * math.sqrt(p * (1 - p) / n), size


def test_residential_density_source(tmp_path, net):
    spec = make_spec(tmp_path, population={"source": "residential_density",
                                           "density_per_ha": 100.0, "zones_csv": None})
    pop = build_population(net, spec, rng=np.random.default_rng(1))
    # 100/ha: 3 ha -> 300, 1 ha -> 100, 0.49 ha -> 49.
    assert pop.n_persons == 449
    assert dict(zip(pop.zone_names, pop.zone_persons().tolist(), strict=True)) == {
        "Riverside": 400, "Hilltop": 49, "Mill": 0}


@pytest.mark.parametrize("csv_text,needle", [
    ("zone,population\nRiverside,-5\n",
     "line 2: population: expected a whole number >= 0, got '-5'"),
    ("zone,population\nRiverside,12.5\n",
     "line 2: population: expected a whole number >= 0, got '12.5'"),
    ("zone,population\nAtlantis,10\n", "line 2: zone: expected a zone of the map"),
    ("zone,people\nRiverside,10\n", "line 1: column 'population': expected a header"),
    ("zone,population\nHilltop,1\nHilltop,2\n", "line 3: zone: expected each zone once"),
    ("zone,population,colour\nHilltop,1,red\n", "expected only columns zone, population, kind"),
])
def test_bad_zone_table(tmp_path, net, csv_text, needle):
    spec = make_spec(tmp_path, csv_text)
    with pytest.raises(ScenarioError) as exc:
        build_population(net, spec, rng=np.random.default_rng(0))
    assert f"{tmp_path / 'z.csv'}: " in str(exc.value)
    assert needle in str(exc.value)


def test_bad_zone_table_lists_all_rows(tmp_path, net):
    spec = make_spec(tmp_path, "zone,population\nRiverside,-1\nAtlantis,3\nHilltop,x\n")
    with pytest.raises(ScenarioError) as exc:
        build_population(net, spec, rng=np.random.default_rng(0))
    text = str(exc.value)
    assert "3 problem(s)" in text and "line 2" in text and "line 3" in text and "line 4" in text


def test_zone_known_only_by_areas_or_only_by_point(tmp_path):
    net = grid_net(residential=[dict(RES[0], tags={"zone": "Riverside"})],
                   zones=[])
    spec = make_spec(tmp_path, "zone,population\nRiverside,10\n")
    assert build_population(net, spec, rng=np.random.default_rng(0)).n_persons == 10
    net2 = grid_net(residential=[], zones=[{"name": "Ghost", "x_m": 0.0, "y_m": 0.0}])
    ok = build_population(net2, make_spec(tmp_path, "zone,population\nGhost,5\n"),
                          rng=np.random.default_rng(0))
    assert ok.n_persons == 5  # placed at the zone point


# --- warning and departure --------------------------------------------------------------

def synthetic_population(n: int) -> Population:
    z = np.zeros(n)
    return Population(zone_names=["A"], zone=z.astype(np.int16),
                      persons=np.full(n, 2, np.int32), vulnerable=z.astype(np.int32),
                      has_car=z.astype(bool), home_drive_node=z.astype(np.int32),
                      home_walk_node=z.astype(np.int32), x_m=z, y_m=z,
                      walk_speed_mps=z + 1.34)


N = 200_000


def bound(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


def test_coverage_and_noncompliance(tmp_path):
    spec = make_spec(tmp_path, warning={"coverage": 0.9, "start_min": 15.0,
                                        "delay": {"distribution": "fixed", "min": 5.0}},
                     departure={"curve": "rayleigh", "t90_min": 60.0, "noncompliance": 0.2})
    r = sample_response(synthetic_population(N), spec, rng=np.random.default_rng(21))
    assert abs(r.warned.mean() - 0.9) <= bound(0.9, N)
    assert np.all(r.t_warned_s[r.warned] == (15.0 + 5.0) * 60.0)  # fixed delay
    assert np.all(np.isinf(r.t_warned_s[~r.warned])) and np.all(np.isinf(r.t_depart_s[~r.warned]))
    assert abs((~r.complies).mean() - 0.2) <= bound(0.2, N)
    assert np.all(np.isinf(r.t_depart_s[~r.complies]))  # non-compliant never depart
    leaving = r.warned & r.complies
    assert np.all(np.isfinite(r.t_depart_s[leaving]))
    assert np.all(r.t_depart_s[leaving] >= r.t_warned_s[leaving])


def mobilisation_min(r) -> np.ndarray:
    ok = np.isfinite(r.t_depart_s)
    return (r.t_depart_s[ok] - r.t_warned_s[ok]) / 60.0


def test_rayleigh_quantiles_match_identities(tmp_path):
    spec = make_spec(tmp_path, warning={"coverage": 1.0}, departure={
        "curve": "rayleigh", "t90_min": 120.0, "noncompliance": 0.0})
    m = mobilisation_min(sample_response(synthetic_population(N), spec,
                                         rng=np.random.default_rng(22)))
    sigma = 120.0 / 2.1460  # docs/references.md 4.2
    for p, t in ((0.5, 1.1774 * sigma), (0.9, 2.1460 * sigma)):
        assert abs((m <= t).mean() - p) <= bound(p, m.size), p


def test_logistic_quantiles_match_identities(tmp_path):
    alpha, beta = 0.15, 40.0
    spec = make_spec(tmp_path, warning={"coverage": 1.0}, departure={
        "curve": "logistic", "alpha_per_min": alpha, "beta_min": beta, "noncompliance": 0.0})
    m = mobilisation_min(sample_response(synthetic_population(N), spec,
                                         rng=np.random.default_rng(23)))
    assert m.min() >= 0.0  # clipped at 0
    for p, t in ((0.5, beta), (0.9, beta + 2.1972 / alpha)):  # docs/references.md 4.2
        assert abs((m <= t).mean() - p) <= bound(p, m.size), p


@pytest.mark.parametrize("delay,check", [
    ({"distribution": "exponential", "mean_min": 10.0},
     lambda d: abs(d.mean() - 10.0) <= 4 * 10.0 / math.sqrt(d.size)),  # sd = mean
    ({"distribution": "uniform", "min_min": 5.0, "max_min": 20.0},
     lambda d: d.min() >= 5.0 and d.max() <= 20.0
     and abs((d <= 8.0).mean() - 0.2) <= bound(0.2, d.size)),
    ({"distribution": "lognormal", "median_min": 8.0, "sigma": 0.6},
     lambda d: abs((d <= 8.0).mean() - 0.5) <= bound(0.5, d.size)),
])
def test_warning_delay_distributions(tmp_path, delay, check):
    spec = make_spec(tmp_path, warning={"coverage": 1.0, "delay": delay})
    r = sample_response(synthetic_population(N), spec, rng=np.random.default_rng(24))
    assert check(r.t_warned_s / 60.0)


def test_state_counts_conserve_persons(tmp_path, net):
    spec = make_spec(tmp_path, departure={"curve": "rayleigh", "noncompliance": 0.1})
    pop = build_population(net, spec, rng=np.random.default_rng(30))
    r = sample_response(pop, spec, rng=np.random.default_rng(31))
    assert (NOT_WARNED, WARNED, STAYING, EN_ROUTE, SHELTERED, STRANDED, DEAD) == tuple(range(7))
    assert len(STATE_NAMES) == N_STATES == 7
    last = None
    for t in (0.0, 600.0, 1800.0, 3600.0, 7200.0, 1e9):
        s = household_state(r, t)
        counts = state_counts(s, pop.persons)
        assert counts.sum() == pop.n_persons
        if last is not None:  # departures only accumulate
            assert counts[EN_ROUTE] >= last[EN_ROUTE]
        last = counts
    s = household_state(r, 1e9)
    assert last[NOT_WARNED] == pop.persons[~r.warned].sum()
    assert last[STAYING] == pop.persons[r.warned & ~r.complies].sum()
    s[::2] = SHELTERED  # the model overwrites states; counts still add up
    assert state_counts(s, pop.persons).sum() == pop.n_persons
    # The dead leave their household's state for DEAD; persons are conserved.
    dead = np.minimum(pop.persons, 1) * (np.arange(pop.persons.size) % 3 == 0)
    with_dead = state_counts(s, pop.persons, dead)
    assert with_dead.sum() == pop.n_persons and with_dead[DEAD] == dead.sum()
    assert with_dead[SHELTERED] == pop.persons[s == SHELTERED].sum() - dead[s == SHELTERED].sum()
    with pytest.raises(ValueError, match="state codes"):
        state_counts(np.array([0, 9], np.int8), np.array([1, 1]))
    with pytest.raises(ValueError, match="dead"):
        state_counts(np.array([0, 1], np.int8), np.array([1, 1]), np.array([0, 2]))
