"""Buses on a hand-made line road: completion time derived by hand.

Road 0 - 1 - 2 - 3 - 4 (links both ways, lengths and speeds of
tests/verification/test_response_analytic.py); depot at node 0, one pickup point at
node 2, the only shelter at node 4. A lone vehicle's trip takes exactly the sum of the
free-flow times F_i = L_i / u_i of its links (the queue kernel's exact event times), so
with T01 = F0 + F1 (depot -> stop) and T23 = F2 + F3 (stop <-> shelter, both ways):

One bus of 5 seats; boarding b = 3 s/person, alighting a = 2 s/person. Riders at the
stop: r0 (4 persons, ready 0 s), r1 (3 persons, ready 0 s), r2 (2 persons, ready 100 s).

* trip 1: at t = 0 r0 and r1 wait, but 4 + 3 > 5, so the bus claims r0 alone and leaves
  the depot at 0; at the stop at T01; nobody else fits; boards 4: leaves at
  T01 + 12; at the shelter D1 = T01 + 12 + T23; free at D1 + 8.
* trip 2: r1 waits; the bus leaves the shelter at D1 + 8, reaches the stop at
  D1 + 8 + T23 (r2 not ready: that is ~63 s < 100 s), boards 3: leaves at
  D1 + 8 + T23 + 9; at the shelter D2 = D1 + 17 + 2 T23; free at D2 + 6 (~92 s).
* trip 3: r2 is ready at 100 s > D2 + 6, so the bus leaves the shelter at 100, is at
  the stop at 100 + T23, boards 2: the last pickup is P3 = 100 + T23 + 6, the last
  delivery D3 = P3 + T23.

Every stop lasts at least one tick for dt in {1, 5} s (12, 8, 9, 6 and 6 s), so these
times are exact (the dispatcher's timing rule, sim/buses.py). Tolerance 1e-9 s.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.buses import BUS, BusService
from sim.core import queue as Q
from sim.routing import next_hop
from sim.service_fleet import ServiceFleet
from tests.verification.test_response_analytic import FFT, LENGTHS, SPEEDS, line_links

T01 = FFT[0] + FFT[1]
T23 = FFT[2] + FFT[3]


def run_line(dt, horizon_s=400.0, *, ready=(0.0, 0.0, 100.0), persons=(4, 3, 2), seats=5):
    links = line_links(LENGTHS, SPEEDS)
    n = len(LENGTHS) + 1
    fleet = Q.new_fleet(1)
    queues = Q.new_queues(links, 1)
    sf = ServiceFleet(links, n, fleet, queues, np.array([0]), np.array([0], np.int32),
                      np.array([BUS], np.int8), table_offset=2)
    shelter = n - 1
    base_next = np.stack([next_hop(links, n, np.array([shelter])).next_link,
                          np.full(n, -1, np.int32)])
    base_target = np.array([-1, -1], np.int32)  # row 0: any open shelter (set 0)
    shelter_open = np.zeros(n, bool)
    shelter_open[shelter] = True
    room = np.zeros(n, np.int64)
    room[shelter] = 1000
    delivered = []
    bs = BusService(sf, np.array([0]), 0, np.array([2]), np.arange(len(ready)),
                    np.array(persons), np.zeros(len(ready), np.int64), np.array(ready, float),
                    seats=seats, board_s_per_person=3.0, alight_s_per_person=2.0,
                    deliver=lambda hh, t, node: delivered.append((hh.tolist(), t, node)))
    for k in range(int(np.ceil(horizon_s / dt))):
        t0 = k * dt
        bs.step(t0, dt)
        nl, tg = sf.stacked(base_next, base_target)
        Q.step_vehicles(links, queues, fleet, nl, tg, shelter_open, room,
                        np.ones(links.n_links), t0, dt)
    return bs, room, delivered


@pytest.mark.parametrize("dt", [1.0, 5.0])
def test_one_bus_completion_time_by_hand(dt):
    bs, room, delivered = run_line(dt)
    d1 = T01 + 12.0 + T23
    d2 = d1 + 8.0 + T23 + 9.0 + T23
    p3 = 100.0 + T23 + 6.0
    d3 = p3 + T23
    riders = bs.riders_table()
    np.testing.assert_allclose(riders["t_pickup_s"], [T01 + 12.0, d1 + 8.0 + T23 + 9.0, p3],
                               atol=1e-9)
    np.testing.assert_allclose(riders["t_deliver_s"], [d1, d2, d3], atol=1e-9)
    s = bs.summary()
    assert s["last_pickup_s"] == pytest.approx(p3, abs=1e-9)
    assert s["last_delivery_s"] == pytest.approx(d3, abs=1e-9)
    assert s["trips"] == 3 and s["all_delivered"] and s["persons_delivered"] == 9
    # The bus took room at the shelter like any vehicle: 9 persons.
    assert room[len(LENGTHS)] == 1000 - 9
    assert [d[0] for d in delivered] == [[0], [1], [2]]
    # Every rider claimed: the bus went home to the depot.
    assert bs.service.node_of(0) == 0


def test_households_larger_than_the_seats_are_refused():
    from sim._errors import ScenarioError

    with pytest.raises(ScenarioError, match="buses.seats"):
        run_line(5.0, 10.0, persons=(6, 3, 2), seats=5)


def test_zero_seats_is_a_clear_error():
    from sim._errors import ScenarioError
    from sim.plan import Plan

    with pytest.raises(ScenarioError, match=r"buses\.seats"):
        Plan.from_dict({"plan": {"name": "t"}, "buses": {
            "depot": {"x_m": 0.0, "y_m": 0.0}, "count": 1, "seats": 0,
            "pickups": [{"x_m": 1.0, "y_m": 1.0}]}}, source="p.toml")


# --------------------------------------------------------------------------- in the model


@pytest.fixture(scope="module")
def bus_run(small_district, cache, tmp_path_factory):
    """The small district with 3 buses of 40 seats at 6 pickup points (run folder written)."""
    from analysis.metrics import compute_metrics
    from sim import results, runs
    from sim.model import EvacuationModel
    from sim.network import load_map
    from sim.plan import Plan
    from sim.scenario import load_scenario

    sc = load_scenario(small_district / "small.toml")
    net = load_map(sc.scenario.map, cache_dir=cache, jam_spacing_m=sc.traffic.jam_spacing_m)
    nodes = np.unique(net.drive.from_node)
    pick = np.random.default_rng(5).choice(nodes, 6, replace=False)
    xy = lambda n: {"x_m": float(net.nodes.x_m[n]), "y_m": float(net.nodes.y_m[n])}  # noqa: E731
    plan = Plan.from_dict({"plan": {"name": "t"}, "buses": {
        "depot": xy(nodes[0]), "count": 3, "seats": 40, "max_walk_m": 600.0,
        "pickups": [xy(n) for n in pick]}}, source="p.toml")
    m = EvacuationModel(scenario=sc, network=net, plan=plan)
    m.run()
    out = runs.write_run(tmp_path_factory.mktemp("bus") / "run", manifest=results.manifest(m),
                         tables=results.tables(m), figures=False, extra=results.extra(m))
    return m, out, compute_metrics(out)


def test_bus_riders_arrive_by_bus_only_and_metrics_match(bus_run):
    import pandas as pd

    m, out, met = bus_run
    bs = m.buses
    riders = pd.read_csv(out / "hazard" / "buses_riders.csv")
    from analysis.metrics import read_table

    hh = read_table(out, "households")
    hh.index = hh["household"].astype(np.int64)
    done = riders[riders["t_deliver_s"].notna()]
    assert len(done) > 50
    # A delivered rider's household arrived when its bus did, at the bus's shelter node.
    np.testing.assert_allclose(hh.loc[done["household"], "t_arrive_s"], done["t_deliver_s"])
    assert (hh.loc[done["household"], "status"] == "sheltered").all()
    # Riders never set off on foot; pickups follow readiness, deliveries follow pickups.
    pos = m._pos_in_walk[riders["household"].to_numpy()]
    assert np.isnan(m.walkers.t_release_s[pos]).all()
    assert (done["t_pickup_s"] >= done["t_ready_s"]).all()
    assert (done["t_deliver_s"] > done["t_pickup_s"]).all()
    # Seats: no trip carries more than a bus holds.
    assert bs.trips_table()["persons"].max() <= 40
    s = bs.summary()
    b = met["buses"]
    assert b["persons_delivered"] == s["persons_delivered"] == done["persons"].sum()
    assert b["last_delivery"]["t_s"] == pytest.approx(s["last_delivery_s"])
    assert b["last_pickup"]["t_s"] == pytest.approx(s["last_pickup_s"])
    kinds = {e.kind for e in m.events}
    assert {"bus_riders", "bus_pickup", "bus_delivery"} <= kinds
    # Nobody is lost: the state counts add up to the population.
    assert int(m.person_counts().sum()) == m.pop.n_persons
