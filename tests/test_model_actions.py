"""Protective-action orders in the model: who stays and where evacuees may go.

A chlorine leak on the 20,000-person generated district with a plan that sends the red
and orange zones crosswind and the yellow zone out of the zone. The invariants: nobody
enters a shelter their order bars (docs/references.md §1: evacuate only to shelters outside
the threat zone; crosswind evacuees keep out of the downwind sector), the orders matter
(some households' nearest shelter is barred to them), nobody ordered to stay leaves, and
persons are conserved.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import queue
from sim.hazards.chemical.hazard import (
    ACTION_CROSSWIND,
    ACTION_EVACUATE,
    ACTION_STAY,
    ChemicalHazard,
)
from sim.population import STRANDED
from tests.test_chemical_hazard import tank_leak


def _hazard(actions: dict[str, str]) -> ChemicalHazard:
    return tank_leak(crosswind_sector_deg=45.0, actions=actions)


@pytest.fixture(scope="module")
def ordered_run(request):
    from sim.model import EvacuationModel

    small = request.getfixturevalue("small_district")
    cache = request.getfixturevalue("cache")
    hz = _hazard({"aegl3": "crosswind", "aegl2": "crosswind", "aegl1": "evacuate",
                  "outside": "stay"})
    m = EvacuationModel(scenario_path=small / "small.toml", seed=4, cache_dir=cache, hazards=[hz])
    codes = hz.protective_actions(m.pop.x_m, m.pop.y_m)
    # Where each household's route would end with every shelter open to it (set 0).
    origin = np.where(m.pop.has_car, m.pop.home_drive_node, m.pop.home_walk_node)
    unrestricted = np.where(m.pop.has_car, m.drive_routes[0].target[origin],
                            m.walk_routes[0].target[origin])
    counts = []
    while m.running:
        m.step()
        counts.append(int(m.person_counts().sum()))
    return m, hz, codes, unrestricted, counts


def _admitted_at(m, hz, node: np.ndarray, code: int) -> np.ndarray:
    """Per node: does some shelter there admit households with ``code``."""
    t = m.shelter_table
    ok = hz.shelter_allowed(t.x_m, t.y_m, code)
    admitted = np.zeros(len(m.net.nodes), dtype=bool)
    admitted[m.shelter_node[ok]] = True
    return admitted[node]


def test_orders_give_each_group_its_own_shelter_set(ordered_run):
    m, hz, codes, _, _ = ordered_run
    for code in (ACTION_EVACUATE, ACTION_CROSSWIND):
        k = np.unique(m.household_set[codes == code])
        assert k.size == 1, "one set per order"
        allowed = hz.shelter_allowed(m.shelter_table.x_m, m.shelter_table.y_m, code)
        np.testing.assert_array_equal(m.shelter_sets[k[0]], allowed)
    assert len(m.shelter_sets) == 3  # every shelter (unused here), out of zone, crosswind


def test_nobody_enters_a_shelter_their_order_bars(ordered_run):
    m, hz, codes, unrestricted, _ = ordered_run
    dest = np.full(len(m.pop.persons), -1, dtype=np.int64)
    dest[m.car_hh] = m.fleet.dest_node
    dest[m.walk_hh] = m.walkers.dest_node
    state = m.household_state()
    for code in (ACTION_EVACUATE, ACTION_CROSSWIND):
        group = codes == code
        arrived = group & (dest >= 0)
        assert arrived.any()
        assert _admitted_at(m, hz, dest[arrived], code).all()
        # Left without a place only once every shelter their order admits is full (the
        # crosswind plan here admits one stadium for ~5,600 residents).
        if (group & (state == STRANDED)).any():
            k = m.household_set[group][0]
            assert (m.shelter_room[m.shelter_node[m.shelter_sets[k]]] <= 0).all()
    # The restriction is not idle: some crosswind households' nearest shelter is barred.
    cross = (codes == ACTION_CROSSWIND) & (unrestricted >= 0)
    assert (~_admitted_at(m, hz, unrestricted[cross], ACTION_CROSSWIND)).any()


def test_households_ordered_to_stay_never_leave_and_persons_are_conserved(ordered_run):
    m, _, codes, _, counts = ordered_run
    stay = codes == ACTION_STAY
    assert stay.any()
    assert (m._mover_state()[stay] == queue.IDLE).all()
    assert set(counts) == {m.pop.n_persons}


def test_ordered_to_stay_is_protected_in_place_not_unsheltered(ordered_run, tmp_path):
    from analysis.metrics import compute_metrics
    from sim import results, runs

    m, _, codes, _, _ = ordered_run
    out = runs.write_run(tmp_path / "r", manifest=results.manifest(m),
                         tables=results.tables(m), figures=False, extra=results.extra(m))
    hh = results.tables(m)["households"]
    stay = codes == ACTION_STAY
    # Every household ordered home that is alive there is "protected_in_place", no other.
    home = stay & (hh["status"].isin(["staying", "protected_in_place"])).to_numpy()
    assert (hh["status"][home] == "protected_in_place").all() and home.any()
    assert not (hh["status"][~stay] == "protected_in_place").any()
    met = compute_metrics(out)
    living = (hh["persons"] - hh["dead"])[home]
    assert met["protected_in_place"] == {"persons": int(living.sum()),
                                         "households": int(home.sum())}
    assert "protected_in_place" not in met["not_sheltered"]["by_status"]
    # Everyone is somewhere: sheltered, protected, or not sheltered (living and dead).
    sheltered = int(hh["persons"][hh["status"] == "sheltered"].sum()
                    - hh["dead"][hh["status"] == "sheltered"].sum())
    assert (sheltered + met["protected_in_place"]["persons"] + met["not_sheltered"]["persons"]
            == m.pop.n_persons)


def test_crosswind_routes_spend_less_time_in_the_zone(request):
    # Penalised routes (links inside the yellow zone cost ZONE_COST_FACTOR x) minimise
    # t_out + F t_in; plain ones t_out + t_in, to the same shelters. Adding the two
    # optimality conditions gives (F - 1) t_in(penalised) <= (F - 1) t_in(plain): for every
    # household the time spent inside the zone can only drop.
    from sim.model import EvacuationModel
    from sim.routing import next_hop

    small = request.getfixturevalue("small_district")
    cache = request.getfixturevalue("cache")
    hz = _hazard({"aegl3": "crosswind", "aegl2": "crosswind", "aegl1": "crosswind",
                  "outside": "stay"})
    m = EvacuationModel(scenario_path=small / "small.toml", seed=4, cache_dir=cache, hazards=[hz])
    d = m.net.drive
    inside = hz.route_avoid(ACTION_CROSSWIND)[0] > 1.0
    assert inside.any() and not inside.all()
    k = 1  # the crosswind set (every traveller here is ordered crosswind)
    assert (m.household_set[~m.ordered_to_stay] == k).all()
    targets = np.flatnonzero(m.dest_open[k]).astype(np.int32)
    plain = next_hop(d, len(m.net.nodes), targets, cost_s=d.fft_s).next_link
    penalised = m.drive_next[k + 1]

    def time_inside(table, node):
        t = 0.0
        for _ in range(d.n_links):
            link = table[node]
            if link < 0:
                return t
            t += d.fft_s[link] * inside[link]
            node = d.to_node[link]
        raise AssertionError("route does not end")

    homes = np.unique(m.fleet.origin[m.household_set[m.car_hh] == k])
    t_pen = np.array([time_inside(penalised, n) for n in homes])
    t_plain = np.array([time_inside(plain, n) for n in homes])
    assert np.all(t_pen <= t_plain + 1e-9)
    assert t_pen.sum() < t_plain.sum()  # the penalty changes some routes
