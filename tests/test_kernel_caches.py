"""The vehicle kernel's caches (issue 17, UXsim 50x): they change no result.

- ``Queues.head_ready_s``: each link's head ``t_ready_s`` (inf when empty), which lets the
  main pass skip a link on link data; exact after every tick (also asserted tick by tick
  against the reference in tests/test_core_reference.py), and a lowered ``t_ready_s``
  of a queued head outside the kernel is refused, while a raised one (a stopped car) is
  honoured.
- ``WaitList.o_hint``: a guess of each (origin, table, class) group, taken only when the
  group's own fields match; with more tables than guess slots per origin, and groups
  freed and reused, every lookup still finds the one right group.
- ``sim.core.prefetch.prefetch``: a hint only, harmless at any index.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim._errors import EvacsimError
from sim.core import queue as Q
from sim.core import waitlist as W
from sim.core.links import build_links
from sim.core.prefetch import prefetch


def _chain():
    """0 -> 1 -> 2: two 100 m links at 10 m/s (10 s each), 1 veh/s, 5 vehicles each."""
    return build_links(np.array([0, 1]), np.array([1, 2]), length_m=np.full(2, 100.0),
                       ffs_mps=np.full(2, 10.0), lanes=np.ones(2), capacity_vps=np.ones(2),
                       storage_veh=np.full(2, 5), n_nodes=3)


def _args():
    next_link = np.array([[0, 1, -1]], dtype=np.int32)
    room = np.zeros(3, dtype=np.int64)
    room[2] = 10**9
    return next_link, np.array([-1], np.int32), np.array([False, False, True]), room, np.ones(2)


def _heads(fleet, queues):
    """t_ready_s of each link's head vehicle, inf on empty links (what the cache holds)."""
    out = np.full(queues.count.size, np.inf)
    busy = queues.count > 0
    out[busy] = fleet.t_ready_s[queues.buf[queues.buf_off[busy] + queues.head[busy]]]
    return out


def test_head_ready_is_exact_after_every_tick():
    links = _chain()
    fleet = Q.new_fleet(6, origin=np.zeros(6, np.int32))
    queues = Q.new_queues(links, 6)
    assert np.all(queues.head_ready_s == np.inf)  # empty links
    Q.release(fleet, queues, np.arange(6), np.arange(6) * 2.0)
    for k in range(40):
        Q.step_vehicles(links, queues, fleet, *_args(), k * 1.0, 1.0)
        np.testing.assert_array_equal(queues.head_ready_s, _heads(fleet, queues))
    assert (fleet.state == Q.ARRIVED).all()
    assert np.all(queues.head_ready_s == np.inf)


def test_a_stopped_head_stays_put_and_a_lowered_ready_time_is_refused():
    links = _chain()
    fleet = Q.new_fleet(2, origin=np.zeros(2, np.int32))
    queues = Q.new_queues(links, 2)
    Q.release(fleet, queues, np.array([0, 1]), 0.0)
    Q.step_vehicles(links, queues, fleet, *_args(), 0.0, 1.0)
    assert fleet.link.tolist() == [0, 0] and queues.head_ready_s[0] == 10.0
    # raising a head's ready time outside the kernel (the model stops stranded cars so)
    # is honoured although the cache still holds the old, lower time: nobody leaves
    fleet.t_ready_s[0] = np.inf
    for k in range(1, 30):
        Q.step_vehicles(links, queues, fleet, *_args(), float(k), 1.0)
    assert fleet.link.tolist() == [0, 0] and queues.count.tolist() == [2, 0]
    assert queues.head_ready_s[0] == np.inf  # re-read once the head was looked at
    # lowering it would be missed by the cache: step_vehicles refuses that state
    fleet.t_ready_s[0] = 5.0
    with pytest.raises(EvacsimError, match=r"fleet\.t_ready_s: vehicle 0 at the head of link 0"):
        Q.step_vehicles(links, queues, fleet, *_args(), 30.0, 1.0)


@njit(cache=False)
def _lookup_all(w, o, tb, special, out):
    (nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur, g_prev,
     o_groups, o_pos, o_hint, active, counters) = w
    for i in range(o.shape[0]):
        g = W.find_group(o_hint, g_origin, g_table, g_special, o[i], tb[i], special[i])
        if g < 0:
            g = W.group_of(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next,
                           g_cur, g_prev, o_groups, o_pos, o_hint, active, counters,
                           o[i], tb[i], special[i])
        out[i] = g


def test_group_hints_never_give_a_wrong_group():
    # 3 origins x 7 tables x 2 classes = 42 groups on 4 guess slots per origin: most keys
    # share a slot. Freeing groups (a scan that empties them) and making new ones reuses
    # group slots, so a stale guess points at a slot now holding another group.
    rng = np.random.default_rng(11)
    n = 4000
    o = rng.integers(0, 3, n).astype(np.int32)
    tb = rng.integers(0, 7, n).astype(np.int32)
    sp = rng.integers(0, 2, n).astype(np.int8)
    w = W.new_wait_list(n, 3)
    got = np.empty(n, np.int64)
    for _ in range(3):
        _lookup_all(w, o, tb, sp, got)
        # one group per key, and every key's group carries that key
        keys = (o.astype(np.int64) * 7 + tb) * 2 + sp
        assert np.unique(got).size == np.unique(keys).size
        for g in np.unique(got):
            k = keys[got == g]
            assert np.all(k == k[0])
            i = int(np.flatnonzero(got == g)[0])
            assert (w.g_origin[g], w.g_table[g], w.g_special[g]) == (o[i], tb[i], sp[i])
        # free every group (as the scan does once they are empty), then shuffle the keys
        # so that the next round allocates the freed slots to other keys
        for node in range(3):
            W.drop_empty_groups(*w, node)
        assert w.counters[0] == 0 and np.all(w.g_origin[: w.counters[3]] == -1)
        perm = rng.permutation(n)
        o, tb, sp = o[perm], tb[perm], sp[perm]


@njit(cache=False)
def _sum_with_prefetch(a, idx):
    s = 0.0
    for i in range(idx.shape[0]):
        prefetch(a, idx[i] + 10**9)  # far outside the array: a hint, never a load
        prefetch(a, -idx[i] - 1)
        s += a[idx[i]]
    return s


def test_prefetch_is_only_a_hint():
    a = np.arange(1000, dtype=np.float64)
    idx = np.random.default_rng(0).integers(0, 1000, 5000)
    assert _sum_with_prefetch(a, idx) == a[idx].sum()
