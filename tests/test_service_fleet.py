"""Service vehicles as rows of the shared fleet: tables, sends, redirects, shared queues."""

from __future__ import annotations

import numpy as np
import pytest

from sim._errors import EvacsimError
from sim.core import queue as Q
from sim.core.links import build_links
from sim.routing import next_hop
from sim.service_fleet import ServiceFleet
from tests.verification.test_response_analytic import FFT, LENGTHS, SPEEDS, line_links


def setup(links, n_nodes, n_res, homes, kinds=None):
    homes = np.asarray(homes)
    fleet = Q.new_fleet(n_res + homes.size)
    queues = Q.new_queues(links, n_res + homes.size)
    rows = np.arange(n_res, n_res + homes.size)
    kinds = np.full(homes.size, 1) if kinds is None else kinds
    sf = ServiceFleet(links, n_nodes, fleet, queues, rows, homes, kinds, table_offset=2)
    return fleet, queues, sf


def step_until(links, fleet, queues, sf, base_next, base_target, t_end, dt=5.0, t0=0.0,
               shelter_open=None, room=None, factor=None, each=None):
    n = links.out_ptr.shape[0] - 1
    so = np.zeros(n, bool) if shelter_open is None else shelter_open
    rm = np.zeros(n, np.int64) if room is None else room
    fac = np.ones(links.n_links) if factor is None else factor
    t = t0
    while t < t_end - 1e-9:
        if each is not None:
            each(t)
        nl, tg = sf.stacked(base_next, base_target)
        Q.step_vehicles(links, queues, fleet, nl, tg, so, rm, fac, t, dt)
        t += dt
    return t


def nowhere(n):
    return np.stack([np.full(n, -1, np.int32)] * 2), np.array([-1, -1], np.int32)


def test_send_arrives_after_sum_of_free_flow_times_and_sets_columns():
    links = line_links(LENGTHS, SPEEDS)
    fleet, queues, sf = setup(links, 5, 3, [0, 4], kinds=np.array([1, 2]))
    assert list(fleet.kind[3:]) == [1, 2] and list(fleet.origin[3:]) == [0, 4]
    assert np.all(fleet.persons[3:] == 0)
    bn, bt = nowhere(5)
    sf.send(3, 4, 12.5, persons=3)
    sf.send(4, 0, 0.0)
    assert sf.tables()[1].tolist() == [4, 0]  # one row per destination
    assert fleet.table[3] == 2 and fleet.table[4] == 3
    step_until(links, fleet, queues, sf, bn, bt, 200.0)
    assert sf.arrived(3) and sf.arrived(4)
    assert sf.arrival_s(3) == pytest.approx(12.5 + FFT.sum(), abs=1e-9)
    assert sf.arrival_s(4) == pytest.approx(FFT.sum(), abs=1e-9)
    assert sf.node_of(3) == 4 and sf.node_of(4) == 0
    assert fleet.persons[3] == 3
    # residents' rows were never touched
    assert np.all(fleet.state[:3] == Q.IDLE)
    # travel estimate = the tree the vehicle followed
    assert sf.travel_s(np.array([0]), 4)[0] == pytest.approx(FFT.sum(), abs=1e-9)


def test_same_destination_shares_a_row_and_freed_rows_are_reused():
    links = line_links(LENGTHS, SPEEDS)
    fleet, queues, sf = setup(links, 5, 0, [0, 0])
    bn, bt = nowhere(5)
    sf.send(0, 4, 0.0)
    sf.send(1, 4, 0.0)
    assert sf.tables()[1].tolist() == [4]
    assert sf.stacked(bn, bt)[1].tolist() == [-1, -1, 4]
    step_until(links, fleet, queues, sf, bn, bt, 100.0)
    v = sf.version
    sf.send(0, 2, 100.0)  # row of destination 4 is free now: reused
    assert sf.tables()[1].tolist() == [2]
    assert sf.version > v
    nl, tg = sf.stacked(bn, bt)
    assert nl.shape == (3, 5) and tg.tolist() == [-1, -1, 2]
    assert np.shares_memory(sf.stacked(bn, bt)[0], nl)  # the same buffer, refilled


def test_base_rows_changed_in_place_reach_the_stacked_table():
    # The model rewrites rows of its table in place (informed drivers' periodic update):
    # the kernel's stacked table must see them, whatever the array's identity says.
    links = line_links(LENGTHS, SPEEDS)
    fleet, queues, sf = setup(links, 5, 0, [0])
    bn, bt = nowhere(5)
    sf.send(0, 4, 0.0)
    assert (sf.stacked(bn, bt)[0][:2] == -1).all()
    bn[1] = next_hop(links, 5, np.array([4])).next_link
    bt[1] = 4
    nl, tg = sf.stacked(bn, bt)
    assert nl[1].tolist() == bn[1].tolist() and tg[1] == 4


def test_tables_grow_past_the_initial_buffer_and_match_the_trees():
    # 12 vehicles at node 0 bound for 12 different nodes of a 13-node line: 12 rows in
    # use at once (the buffer starts with 8), each equal to the tree toward its node.
    k = 12
    links = line_links(np.full(k, 100.0), np.full(k, 10.0))
    fleet, queues, sf = setup(links, k + 1, 0, np.zeros(k, int))
    bn, bt = nowhere(k + 1)
    for v in range(k):
        sf.send(v, v + 1, 0.0)
    nl, tg = sf.stacked(bn, bt)
    assert nl.shape == (2 + k, k + 1) and nl.flags.c_contiguous
    assert np.array_equal(nl[:2], bn) and tg[2:].tolist() == list(range(1, k + 1))
    for j, dest in enumerate(tg[2:]):
        assert np.array_equal(nl[2 + j], sf.tree(int(dest)).next_link)
    step_until(links, fleet, queues, sf, bn, bt, 200.0)
    # link capacity 1 veh/s: vehicle v leaves link 0 at 10 + v (headway 1 s) and keeps
    # that 1 s lag on the empty links after it: arrival 10 (v + 1) + v
    v = np.arange(k)
    assert np.allclose(fleet.t_arrive_s, 10.0 * (v + 1) + v, atol=1e-9)


def test_send_refuses_a_vehicle_on_the_road_and_unknown_rows():
    links = line_links(LENGTHS, SPEEDS)
    fleet, queues, sf = setup(links, 5, 1, [0])
    bn, bt = nowhere(5)
    sf.send(1, 4, 0.0)
    step_until(links, fleet, queues, sf, bn, bt, 5.0)
    assert fleet.state[1] == Q.MOVING
    with pytest.raises(EvacsimError, match="expected an IDLE or ARRIVED vehicle"):
        sf.send(1, 0, 10.0)
    with pytest.raises(EvacsimError, match="not a service vehicle"):
        sf.destination(0)
    with pytest.raises(EvacsimError, match="expected unique fleet rows"):
        ServiceFleet(links, 5, fleet, queues, np.array([5]), np.array([0]), np.array([1]),
                     table_offset=2)


def test_redirect_on_a_link_turns_at_the_end_of_that_link():
    # Sent 0 -> 4; at t = 5 s it is on link 0 (0 -> 1, 9.86 s). Redirected to node 0 it
    # reaches node 1 at fft0 and drives back over link 4 (1 -> 0): arrival 2 * fft0.
    links = line_links(LENGTHS, SPEEDS)
    fleet, queues, sf = setup(links, 5, 0, [0])
    bn, bt = nowhere(5)
    sf.send(0, 4, 0.0)
    t = step_until(links, fleet, queues, sf, bn, bt, 5.0)
    assert fleet.link[0] == 0
    sf.redirect(0, 0)
    step_until(links, fleet, queues, sf, bn, bt, 60.0, t0=t)
    assert sf.arrival_s(0) == pytest.approx(2 * FFT[0], abs=1e-9)
    assert sf.node_of(0) == 0


def test_future_release_is_kept_exactly_and_can_be_moved():
    links = line_links(LENGTHS, SPEEDS)
    fleet, queues, sf = setup(links, 5, 0, [0])
    bn, bt = nowhere(5)
    sf.send(0, 4, 100.0)
    t = step_until(links, fleet, queues, sf, bn, bt, 50.0)
    assert fleet.state[0] == Q.WAITING
    assert sf.eta_from(0, t) == (0, 100.0)
    sf.redirect(0, 2, t_s=123.4)
    step_until(links, fleet, queues, sf, bn, bt, 300.0, t0=t)
    assert sf.arrival_s(0) == pytest.approx(123.4 + FFT[:2].sum(), abs=1e-9)


def test_closure_rebuilds_tables_and_estimates():
    # Two routes 0 -> 3: via 1 (100 + 100 m) or via 2 (300 + 300 m), 10 m/s. Closing
    # 0 -> 1 makes the long way the route and its cost 60 s.
    f = np.array([0, 1, 0, 2])
    t = np.array([1, 3, 2, 3])
    length = np.array([100.0, 100.0, 300.0, 300.0])
    links = build_links(f, t, length, np.full(4, 10.0), np.ones(4), np.ones(4),
                        np.full(4, 10), n_nodes=4)
    fleet, queues, sf = setup(links, 4, 0, [0])
    assert sf.travel_s(np.array([0]), 3)[0] == pytest.approx(20.0)
    sf.send(0, 3, 0.0)
    nl0 = sf.tables()[0].copy()
    cost = links.length_m / links.ffs_mps
    cost[0] = np.inf
    assert sf.set_cost(cost)
    assert not sf.set_cost(cost.copy())  # unchanged costs: nothing rebuilt
    assert sf.travel_s(np.array([0]), 3)[0] == pytest.approx(60.0)
    assert sf.tables()[0][0, 0] == 2 and nl0[0, 0] == 0
    bn, bt = nowhere(4)
    factor = np.ones(4)
    factor[0] = 0.0
    step_until(links, fleet, queues, sf, bn, bt, 100.0, factor=factor)
    assert sf.arrival_s(0) == pytest.approx(60.0, abs=1e-9)
    nh = sf.nearest("x", np.array([1, 3]))
    assert nh.target[0] == 3  # node 1 is unreachable from 0 now
    ref = next_hop(links, 4, np.array([1, 3]), cost_s=cost)
    assert np.array_equal(nh.next_link, ref.next_link)


def test_service_vehicle_queues_behind_residents_at_a_bottleneck():
    # Ten resident cars and then one rescue vehicle enter link 0 (capacity 0.5 veh/s) at
    # t = 0 toward node 1. FIFO: the rescue vehicle leaves the link 10 headways (20 s)
    # after the first car's free-flow exit, not at its own free-flow time.
    lengths = np.array([100.0, 50.0])
    links = build_links(np.array([0, 1]), np.array([1, 2]), lengths, np.full(2, 10.0),
                        np.ones(2), np.array([0.5, 10.0]), np.full(2, 20), n_nodes=3)
    fleet, queues, sf = setup(links, 3, 10, [0])
    fleet.origin[:10] = 0
    base = next_hop(links, 3, np.array([2]))
    bn = np.stack([base.next_link, np.full(3, -1, np.int32)])
    bt = np.array([-1, -1], np.int32)
    so = np.zeros(3, bool)
    so[2] = True
    room = np.zeros(3, np.int64)
    room[2] = 100
    Q.release(fleet, queues, np.arange(10), 0.0)
    sf.send(10, 2, 0.0)
    step_until(links, fleet, queues, sf, bn, bt, 200.0, shelter_open=so, room=room)
    assert np.all(fleet.state == Q.ARRIVED)
    # car i leaves link 0 at 10 + 2 i; the rescue vehicle is 11th: 10 + 20 = 30, + 5 s.
    assert sf.arrival_s(10) == pytest.approx(10.0 + 10 / 0.5 + 5.0, abs=1e-9)
    assert room[2] == 100 - 10  # service vehicles never take shelter room


@pytest.mark.parametrize("seed", range(6))
def test_cached_trees_equal_sim_routing_tree_to(seed):
    # The fleet's trees reuse one reversed graph per cost version; they must be exactly
    # sim.routing.tree_to (same tie rules), with and without closed links, and parallel
    # links and zero-cost links present.
    from sim.routing import tree_to
    from tests.reference import random_links

    rng = np.random.default_rng(seed)
    n = 30
    links = random_links(rng, n, 60)
    fleet, queues, sf = setup(links, n, 0, [0])
    cost = np.round(links.length_m / links.ffs_mps, 0)  # rounded: ties happen
    cost[rng.integers(0, links.n_links, 3)] = 0.0
    for closed in (False, True):
        if closed:
            cost[rng.integers(0, links.n_links, 6)] = np.inf
        sf.set_cost(cost)
        for target in rng.integers(0, n, 8):
            ref = tree_to(links, n, int(target), cost_s=cost)
            got = sf.tree(int(target))
            assert np.array_equal(got.next_link, ref.next_link)
            assert np.array_equal(got.cost_s, ref.cost_s)
            assert np.array_equal(got.target, ref.target)
