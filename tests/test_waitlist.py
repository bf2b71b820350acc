"""The wait list's groups (sim.core.waitlist): same order as one FIFO list, less work.

The order itself is checked against the plain-Python reference's single list in
tests/test_core_reference.py (including tables changed under waiting vehicles); here:
what grouping saves, and that its invariants are guarded.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim._errors import EvacsimError
from sim.core import queue as Q
from sim.core.links import build_links


def _chain(storage: int = 1):
    """0 -> 1 -> 2, 100 m links at 10 m/s, 1 veh/s, ``storage`` vehicles each."""
    return build_links(np.array([0, 1]), np.array([1, 2]), length_m=np.full(2, 100.0),
                       ffs_mps=np.full(2, 10.0), lanes=np.ones(2),
                       capacity_vps=np.ones(2), storage_veh=np.full(2, storage), n_nodes=3)


def _step(links, queues, fleet, t0, dt=1.0, speed_factor=None):
    next_link = np.array([[0, 1, -1]], dtype=np.int32)
    room = np.zeros(3, dtype=np.int64)
    room[2] = 10**9
    open_ = np.array([False, False, True])
    sf = np.ones(2) if speed_factor is None else speed_factor
    return Q.step_vehicles(links, queues, fleet, next_link, np.array([-1], np.int32), open_,
                           room, sf, t0, dt)


def test_a_full_first_link_costs_one_check_per_tick_not_one_per_vehicle():
    # 1,000 cars wait at node 0 behind a first link that holds one car and whose next link
    # is closed: nothing can move. A single FIFO list would examine all 999 waiting cars
    # every tick; the group is examined once (its head is blocked, so is everyone behind).
    links = _chain(storage=1)
    n = 1000
    fleet = Q.new_fleet(n, origin=np.zeros(n, np.int32))
    queues = Q.new_queues(links, n)
    Q.release(fleet, queues, np.arange(n), 0.0)
    closed = np.array([1.0, 0.0])
    checked = [_step(links, queues, fleet, float(k), speed_factor=closed).n_checked
               for k in range(20)]
    assert int(queues.n_wait[0]) == n - 1  # one car on link 0, the rest waiting
    assert checked[0] == 2  # the first enters, the second is blocked
    assert checked[1:] == [1] * 19
    # and the order is still the release order: ids 1..999
    assert Q.waiting(queues).tolist() == list(range(1, n))


def test_once_the_road_opens_the_cars_leave_in_release_order():
    links = _chain(storage=1)
    n = 50
    fleet = Q.new_fleet(n, origin=np.zeros(n, np.int32))
    queues = Q.new_queues(links, n)
    ids = np.random.default_rng(3).permutation(n)  # release order is not id order
    Q.release(fleet, queues, ids, 0.0)
    for k in range(1200):  # storage 1: one car per 10 s link traversal
        _step(links, queues, fleet, float(k))
    assert (fleet.state == Q.ARRIVED).all()
    # one link at 1 veh/s: arrivals strictly in release order
    assert np.all(np.diff(fleet.t_arrive_s[ids]) > 0)


def test_tables_are_read_only_and_set_table_keeps_the_wait_order():
    links = _chain(storage=1)
    n = 6
    fleet = Q.new_fleet(n, origin=np.zeros(n, np.int32))
    queues = Q.new_queues(links, n)
    with pytest.raises(ValueError, match="read-only"):
        fleet.table[0] = 1
    Q.release(fleet, queues, np.array([5, 4, 3, 2, 1, 0]), 0.0)
    # two tables now: the odd cars move to table 1 but keep their places in the list
    Q.set_table(fleet, queues, np.array([1, 3, 5]), 1)
    assert fleet.table.tolist() == [0, 1, 0, 1, 0, 1]
    assert Q.waiting(queues).tolist() == [5, 4, 3, 2, 1, 0]
    Q._check_wait(fleet, queues)  # groups agree with the tables


def test_a_writeable_table_is_refused():
    links = _chain()
    fleet = Q.new_fleet(2, origin=np.zeros(2, np.int32))
    fleet = fleet._replace(table=fleet.table.copy())  # a copy is writeable again
    with pytest.raises(EvacsimError, match="set_table"):
        _step(links, Q.new_queues(links, 2), fleet, 0.0)


def test_tables_must_leave_their_node():
    links = _chain()
    fleet = Q.new_fleet(1, origin=np.zeros(1, np.int32))
    queues = Q.new_queues(links, 1)
    bad = np.array([[1, 1, -1]], dtype=np.int32)  # node 0 "leaves" by link 1 (1 -> 2)
    with pytest.raises(EvacsimError, match="leaving their node"):
        Q.step_vehicles(links, queues, fleet, bad, np.array([2], np.int32),
                        np.zeros(3, bool), np.zeros(3, np.int64), np.ones(2), 0.0, 1.0)


def test_a_refused_release_changes_nothing():
    # The kernel checks "unique and IDLE" itself, before any side effect.
    links = _chain()
    fleet = Q.new_fleet(4, origin=np.zeros(4, np.int32))
    queues = Q.new_queues(links, 4)
    with pytest.raises(EvacsimError, match="appears twice"):
        Q.release(fleet, queues, np.array([0, 2, 3, 2]), 0.0)
    assert fleet.state.tolist() == [Q.IDLE] * 4 and int(queues.n_wait[0]) == 0
    Q.release(fleet, queues, np.array([3]), 0.0)
    with pytest.raises(EvacsimError, match="state 1"):
        Q.release(fleet, queues, np.array([1, 3]), 0.0)
    assert fleet.state.tolist() == [Q.IDLE, Q.IDLE, Q.IDLE, Q.WAITING]
    assert Q.waiting(queues).tolist() == [3]
