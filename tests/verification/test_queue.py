"""Verification of the spatial-queue kernel (sim.core.queue) against hand derivations.

Conventions: a tick covers (t0, t0 + dt]; event times inside it are exact, so results
must not depend on dt. Tolerances: 1e-9 s absorbs float rounding of sums of a few
free-flow times (each ~1e2 s, relative rounding ~1e-16).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import queue as Q
from sim.core.links import build_links
from sim.routing import next_hop, stack_tables
from tests.reference import random_links

DTS = [1.0, 2.0, 5.0, 10.0]


def line(lengths, speeds, capacity, storage):
    """Links 0 -> 1 -> ... -> k, one per entry."""
    k = len(lengths)
    return build_links(
        np.arange(k),
        np.arange(1, k + 1),
        lengths,
        speeds,
        np.ones(k),
        capacity,
        storage,
        n_nodes=k + 1,
    )


def world(links, n_nodes, shelters, room):
    """Evacuation table toward open shelters, target -1."""
    shelter_open = np.zeros(n_nodes, dtype=bool)
    shelter_open[shelters] = True
    shelter_room = np.zeros(n_nodes, dtype=np.int64)
    shelter_room[shelters] = room
    tables = stack_tables([next_hop(links, n_nodes, np.asarray(shelters))])
    return tables, np.array([-1], dtype=np.int32), shelter_open, shelter_room


def run(
    links, queues, fleet, tables, target, shelter_open, room, dt, n_ticks, sf=None, on_tick=None
):
    sf = np.ones(links.n_links) if sf is None else sf
    for k in range(n_ticks):
        Q.step_vehicles(links, queues, fleet, tables, target, shelter_open, room, sf, k * dt, dt)
        if on_tick is not None:
            on_tick(k, (k + 1) * dt)


def check_invariants(links, queues, fleet):
    n_state = np.bincount(fleet.state, minlength=4)
    assert n_state.sum() == fleet.state.size  # vehicles conserved
    # every moving vehicle sits in one queue or one green lane (responders, issue 14)
    assert queues.count.sum() + queues.n_channel[0] == n_state[Q.MOVING]
    assert queues.n_wait[0] == n_state[Q.WAITING]
    assert np.all(queues.count <= links.storage_veh)  # storage never exceeded
    assert np.all(queues.peak_count <= links.storage_veh)
    moving = np.flatnonzero(fleet.state == Q.MOVING)
    assert np.array_equal(np.bincount(fleet.link[moving], minlength=links.n_links), queues.count)


@pytest.mark.parametrize("dt", DTS)
def test_free_flow_single_vehicle_takes_sum_of_L_over_u(dt):
    # Four links of different length and speed; one vehicle, empty road: no queue, no
    # capacity wait, so t_arrive = t_release + sum(L_i / u_i) whatever the tick.
    lengths = np.array([137.0, 45.5, 250.0, 12.3])
    speeds = np.array([13.9, 8.3, 22.2, 5.0])
    links = line(lengths, speeds, np.full(4, 0.5), np.full(4, 20))
    tables, target, so, room = world(links, 5, [4], 10)
    fleet = Q.new_fleet(1, origin=[0])
    queues = Q.new_queues(links, 1)
    t_rel = 0.3
    Q.release(fleet, queues, np.array([0]), t_rel)
    run(links, queues, fleet, tables, target, so, room, dt, int(60 / dt) + 1)
    expected = t_rel + float(np.sum(lengths / speeds))  # 0.3 + 9.856 + 5.482 + 11.261 + 2.46
    assert fleet.state[0] == Q.ARRIVED
    assert fleet.t_arrive_s[0] == pytest.approx(expected, abs=1e-9)
    assert fleet.dest_node[0] == 4
    assert room[4] == 9  # one person took one place


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("capacity", [0.5, 1.0 / 3.0])
def test_bottleneck_clears_n_vehicles_in_n_over_c(dt, capacity):
    # Link 0 (fast, C0 = 10 veh/s) feeds the bottleneck link 1 (C), then link 2 (C2 = 10
    # veh/s) to the shelter. Storage holds all N, so the bottleneck queue never starves:
    # vehicle i leaves link 1 at T1 + i/C with T1 = fft0 + fft1 (the first one never
    # waits), and reaches the shelter fft2 later (link 2 is free: 1/C2 < 1/C).
    # Hence last - first arrival = (N - 1)/C exactly and the last arrives at
    # fft0 + fft1 + fft2 + (N - 1)/C: N vehicles clear the bottleneck in ~N/C.
    n = 40
    lengths = np.array([100.0, 200.0, 150.0])
    speeds = np.array([10.0, 10.0, 15.0])
    links = line(lengths, speeds, np.array([10.0, capacity, 10.0]), np.full(3, n))
    tables, target, so, room = world(links, 4, [3], 10 * n)
    fleet = Q.new_fleet(n, origin=np.zeros(n))
    queues = Q.new_queues(links, n)
    Q.release(fleet, queues, np.arange(n), 0.0)
    fft = lengths / speeds
    horizon = fft.sum() + n / capacity + 2 * dt
    exits_prev = np.zeros(3, dtype=np.int64)
    last_prev = np.full(3, -np.inf)

    def on_tick(k, t1):
        # per tick, the d new exits of a link happen at headways >= 1/C after the previous
        # exit, so d <= C * (last_exit_now - last_exit_before) (when there was one)
        d = queues.exits - exits_prev
        ok = np.isfinite(last_prev)
        assert np.all(
            d[ok] <= links.capacity_vps[ok] * (queues.last_exit_s[ok] - last_prev[ok]) + 1e-9
        )
        assert np.all(queues.last_exit_s <= t1)
        exits_prev[:] = queues.exits
        last_prev[:] = queues.last_exit_s
        check_invariants(links, queues, fleet)

    run(links, queues, fleet, tables, target, so, room, dt, int(horizon / dt), on_tick=on_tick)
    assert np.all(fleet.state == Q.ARRIVED)
    t = fleet.t_arrive_s
    assert np.all(np.diff(t) > 0)  # FIFO: released in id order, arrive in id order
    assert t[-1] - t[0] == pytest.approx((n - 1) / capacity, abs=1e-9)
    np.testing.assert_allclose(np.diff(t), 1.0 / capacity, rtol=0, atol=1e-9)
    assert t[-1] == pytest.approx(fft.sum() + (n - 1) / capacity, abs=1e-9)
    assert queues.exits.tolist() == [n, n, n]


@pytest.mark.parametrize("dt", DTS)
def test_spillback_queue_propagates_upstream(dt):
    # Link 1 is a narrow exit (C1 = 0.1 veh/s, storage 5); link 0 upstream stores 10.
    # 40 vehicles released at t = 0. Link 1 fills to its storage; then link 0 keeps
    # vehicles whose free-flow time is long over (they wait for room downstream), it
    # fills too, and the rest wait at the origin. Flow conservation across node 1:
    # vehicles that left link 0 = vehicles on link 1 + vehicles that left link 1.
    n = 40
    lengths = np.array([100.0, 100.0, 100.0])
    links = line(lengths, np.full(3, 10.0), np.array([2.0, 0.1, 2.0]), np.array([10, 5, 50]))
    tables, target, so, room = world(links, 4, [3], 10 * n)
    fleet = Q.new_fleet(n, origin=np.zeros(n))
    queues = Q.new_queues(links, n)
    Q.release(fleet, queues, np.arange(n), 0.0)
    seen = {"link1_full": False, "held_on_link0": False, "origin_held": False}

    def on_tick(k, t1):
        check_invariants(links, queues, fleet)
        assert queues.exits[0] == queues.count[1] + queues.exits[1]
        if queues.count[1] == 5:
            seen["link1_full"] = True
        on0 = np.flatnonzero((fleet.state == Q.MOVING) & (fleet.link == 0))
        # Link 0's own outflow (2 veh/s, at most 10 vehicles) delays a vehicle by at most
        # 10 / 2 = 5 s past its t_ready; a vehicle still there 50 s after t_ready is held
        # by the full link downstream: the queue has propagated upstream.
        if np.any(fleet.t_ready_s[on0] < t1 - 50.0):
            seen["held_on_link0"] = True
        # ... and back to the origin: with free links all 40 would have entered at t = 0
        if t1 > 100.0 and queues.n_wait[0] > 0:
            seen["origin_held"] = True

    run(
        links,
        queues,
        fleet,
        tables,
        target,
        so,
        room,
        dt,
        int((n / 0.1 + 100) / dt),
        on_tick=on_tick,
    )
    assert all(seen.values()), seen
    assert queues.peak_count.tolist() == [10, 5, queues.peak_count[2]]
    assert np.all(fleet.state == Q.ARRIVED)  # the jam clears, nobody lost
    # the exit discharges at 1/C1 = 10 s headways from the first arrival on
    np.testing.assert_allclose(np.diff(fleet.t_arrive_s), 10.0, rtol=0, atol=1e-9)


@pytest.mark.parametrize("dt", DTS)
def test_cumulative_curves_A_t_equals_D_t_plus_fft_in_free_flow(dt):
    # Undersaturated: vehicles released at random times >= 4 s apart, link capacities
    # 1 veh/s, so no vehicle ever waits. Link 1 has fft1 = 600 m / 10 m/s = 60 s.
    # In free flow every vehicle leaves link 1 exactly fft1 after entering it, so the
    # cumulative arrival curve into link 1 (= exits of link 0, its only feeder) and the
    # departure curve of link 1 satisfy A(t) = D(t + fft1) at every tick end t.
    rng = np.random.default_rng(7)
    n = 30
    links = line(
        np.array([75.0, 600.0, 80.0]), np.array([12.0, 10.0, 8.0]), np.ones(3), np.full(3, 100)
    )
    tables, target, so, room = world(links, 4, [3], 10 * n)
    t_rel = np.cumsum(rng.uniform(4.0, 20.0, n))
    fleet = Q.new_fleet(n, origin=np.zeros(n))
    queues = Q.new_queues(links, n)
    sf = np.ones(3)
    n_ticks = int((t_rel[-1] + 120) / dt) + 1
    a_curve, d_curve = np.zeros(n_ticks, dtype=np.int64), np.zeros(n_ticks, dtype=np.int64)
    for k in range(n_ticks):
        t0, t1 = k * dt, (k + 1) * dt
        ids = np.flatnonzero((t_rel > t0) & (t_rel <= t1))
        for i in ids:  # each at its own release time inside the tick (a handful per test)
            Q.release(fleet, queues, np.array([i]), t_rel[i])
        Q.step_vehicles(links, queues, fleet, tables, target, so, room, sf, t0, dt)
        a_curve[k], d_curve[k] = queues.exits[0], queues.exits[1]
    lag = int(round(60.0 / dt))
    assert np.array_equal(a_curve[:-lag], d_curve[lag:])
    assert a_curve[-1] == n
    # and per vehicle: travel time = sum of free-flow times
    np.testing.assert_allclose(fleet.t_arrive_s - t_rel, 75 / 12 + 60 + 10, rtol=0, atol=1e-9)


@pytest.mark.parametrize("dt", DTS)
def test_conservation_and_capacity_every_tick_on_random_network(dt):
    rng = np.random.default_rng(2024)
    n_nodes = 40
    links = random_links(rng, n_nodes, 80, storage_max=6)
    shelters = np.array([3, 17, 29])
    tables, target, so, room = world(links, n_nodes, shelters, 400)
    n = 400
    fleet = Q.new_fleet(n, origin=rng.integers(0, n_nodes, n), persons=rng.integers(1, 5, n))
    queues = Q.new_queues(links, n)
    release_tick = np.sort(rng.integers(0, int(300 / dt), n))
    sf = rng.uniform(0.5, 1.0, links.n_links)
    exits_prev = np.zeros(links.n_links, dtype=np.int64)
    last_prev = np.full(links.n_links, -np.inf)
    for k in range(int(1500 / dt)):
        t0, t1 = k * dt, (k + 1) * dt
        Q.release(fleet, queues, np.flatnonzero(release_tick == k), t0)
        Q.step_vehicles(links, queues, fleet, tables, target, so, room, sf, t0, dt)
        check_invariants(links, queues, fleet)
        d = queues.exits - exits_prev
        ok = np.isfinite(last_prev)
        # no link discharges above capacity (see the bottleneck test for the derivation)
        assert np.all(
            d[ok] <= links.capacity_vps[ok] * (queues.last_exit_s[ok] - last_prev[ok]) + 1e-9
        )
        assert np.all(queues.last_exit_s <= t1)
        exits_prev[:] = queues.exits
        last_prev[:] = queues.last_exit_s
        # persons that arrived = places taken (each shelter overfills by < one vehicle)
        arrived = fleet.state == Q.ARRIVED
        assert fleet.persons[arrived].sum() == 1200 - room[shelters].sum()
        assert np.all(room[shelters] > -fleet.persons.max())
    assert (fleet.state == Q.ARRIVED).sum() > n // 2


@pytest.mark.parametrize("dt", DTS)
def test_full_shelter_blocks_then_vehicles_go_on_to_the_next(dt):
    # 0 -> 1 -> 2; shelters at 1 (room 4) and 2 (room 100). Vehicles carry 3 persons.
    # Nearest shelter is node 1: vehicle 0 arrives (room 4 -> 1), vehicle 1 arrives too
    # (room 1 > 0 -> -2: overfill by less than one vehicle), vehicle 2 finds it full,
    # stays at the head of link 0 and gets flag bit 0. The caller then closes shelter 1
    # and recomputes the table: vehicle 2 drives on to node 2.
    links = line(np.array([100.0, 100.0]), np.full(2, 10.0), np.full(2, 0.5), np.full(2, 10))
    tables, target, so, room = world(links, 3, [1, 2], np.array([4, 100]))
    fleet = Q.new_fleet(3, origin=np.zeros(3), persons=np.full(3, 3))
    queues = Q.new_queues(links, 3)
    Q.release(fleet, queues, np.arange(3), 0.0)
    run(links, queues, fleet, tables, target, so, room, dt, int(60 / dt))
    assert fleet.state.tolist() == [Q.ARRIVED, Q.ARRIVED, Q.MOVING]
    assert fleet.dest_node.tolist()[:2] == [1, 1]
    assert room[1] == -2
    assert fleet.flags.tolist() == [0, 0, Q.FLAG_FULL_SHELTER]
    assert fleet.link[2] == 0 and queues.count[0] == 1
    t_block = 60.0
    so[1] = False
    tables = stack_tables([next_hop(links, 3, np.flatnonzero(so))])
    sf = np.ones(2)
    for k in range(int(t_block / dt), int(120 / dt)):
        Q.step_vehicles(links, queues, fleet, tables, target, so, room, sf, k * dt, dt)
    assert fleet.state[2] == Q.ARRIVED and fleet.dest_node[2] == 2
    # it left node 1 at the first instant of the next tick, then 10 s on link 1
    assert fleet.t_arrive_s[2] == pytest.approx(t_block + 10.0, abs=1e-9)
    assert room[2] == 97


@pytest.mark.parametrize("dt", DTS)
def test_no_route_vehicle_parks_and_is_never_lost(dt):
    # 0 -> 1 -> 2, shelter at 2. At t = 0 vehicle 0 is released and enters link 0
    # (fft 20 s > one tick); then link 1 closes (cost inf): no node reaches the shelter.
    # Vehicle 0 leaves link 0 at its free-flow time, 20 s, and parks at node 1; vehicle 1
    # released at node 0 stays waiting. When link 1 reopens at t = 100 s both go: vehicle 0
    # enters link 1 at 100 s and arrives 10 s later; vehicle 1 enters link 0 at 100 s and
    # arrives at 100 + 20 + 10.
    links = line(np.array([200.0, 100.0]), np.full(2, 10.0), np.full(2, 0.5), np.full(2, 10))
    tables, target, so, room = world(links, 3, [2], 100)
    fleet = Q.new_fleet(2, origin=np.zeros(2))
    queues = Q.new_queues(links, 2)
    sf = np.ones(2)
    Q.release(fleet, queues, np.array([0]), 0.0)
    Q.step_vehicles(links, queues, fleet, tables, target, so, room, sf, 0.0, dt)
    closed = stack_tables([next_hop(links, 3, np.array([2]), cost_s=np.array([20.0, np.inf]))])
    assert np.all(closed[0] == -1)
    Q.release(fleet, queues, np.array([1]), dt)
    for k in range(1, int(100 / dt)):
        Q.step_vehicles(links, queues, fleet, closed, target, so, room, sf, k * dt, dt)
        check_invariants(links, queues, fleet)
    assert fleet.state.tolist() == [Q.WAITING, Q.WAITING]
    assert fleet.origin.tolist() == [1, 0] and fleet.link.tolist() == [-1, -1]
    assert fleet.t_release_s[0] == pytest.approx(20.0, abs=1e-9)
    assert queues.exits[0] == 1 and queues.count.sum() == 0
    for k in range(int(100 / dt), int(200 / dt)):
        Q.step_vehicles(links, queues, fleet, tables, target, so, room, sf, k * dt, dt)
    assert fleet.state.tolist() == [Q.ARRIVED, Q.ARRIVED]
    assert fleet.t_arrive_s[0] == pytest.approx(100.0 + 10.0, abs=1e-9)
    assert fleet.t_arrive_s[1] == pytest.approx(100.0 + 20.0 + 10.0, abs=1e-9)


@pytest.mark.parametrize("dt", DTS)
def test_a_vehicle_without_route_does_not_block_the_one_behind(dt):
    # 0 -> 1 -> 2, shelter at 2, capacity 0.5 veh/s (headway 2 s). Both vehicles enter
    # link 0 at t = 0. Vehicle 0 heads for shelter set 1, which has no shelter: no route
    # from node 1, so it parks there at 20 s. Vehicle 1 (set 0) leaves link 0 one headway
    # later, 22 s, and arrives at 22 + 10 = 32 s. Were vehicle 0 to stay at the head of
    # the FIFO link, vehicle 1 would never arrive.
    links = line(np.array([200.0, 100.0]), np.full(2, 10.0), np.full(2, 0.5), np.full(2, 10))
    tables, _, so, room = world(links, 3, [2], 100)
    nowhere_from_1 = np.array([0, -1, -1], dtype=np.int32)
    tables = np.ascontiguousarray(np.vstack([tables, nowhere_from_1]))
    sets = np.vstack([so, np.zeros_like(so)])  # set 1: no shelter at all
    target = np.array([-1, -2], dtype=np.int32)
    fleet = Q.new_fleet(2, origin=np.zeros(2), table=[1, 0])
    queues = Q.new_queues(links, 2)
    Q.release(fleet, queues, np.array([0, 1]), 0.0)
    run(links, queues, fleet, tables, target, sets, room, dt, int(60 / dt))
    check_invariants(links, queues, fleet)
    assert fleet.state.tolist() == [Q.WAITING, Q.ARRIVED]
    assert fleet.origin[0] == 1 and fleet.t_release_s[0] == pytest.approx(20.0, abs=1e-9)
    assert fleet.t_arrive_s[1] == pytest.approx(32.0, abs=1e-9)


def test_bad_inputs_raise_clear_errors():
    links = line(np.array([100.0]), np.array([10.0]), np.array([0.5]), np.array([5]))
    tables, target, so, room = world(links, 2, [1], 10)
    fleet = Q.new_fleet(2, origin=np.zeros(2))
    queues = Q.new_queues(links, 2)
    sf = np.ones(1)
    with pytest.raises(ValueError, match="next_link"):
        Q.step_vehicles(
            links, queues, fleet, tables.astype(np.int64), target, so, room, sf, 0.0, 1.0
        )
    with pytest.raises(ValueError, match="shelter_room"):
        Q.step_vehicles(links, queues, fleet, tables, target, so, room[:1], sf, 0.0, 1.0)
    with pytest.raises(ValueError, match="dt_s"):
        Q.step_vehicles(links, queues, fleet, tables, target, so, room, sf, 0.0, 0.0)
    with pytest.raises(ValueError, match="speed_factor"):
        Q.step_vehicles(links, queues, fleet, tables, target, so, room, -sf, 0.0, 1.0)
    with pytest.raises(ValueError, match="unique"):
        Q.release(fleet, queues, np.array([1, 1]), 0.0)
    with pytest.raises(ValueError, match="one per id"):
        Q.release(fleet, queues, np.array([0, 1]), np.zeros(3))
    Q.release(fleet, queues, np.array([0]), 0.0)
    with pytest.raises(ValueError, match="IDLE"):
        Q.release(fleet, queues, np.array([0]), 0.0)
