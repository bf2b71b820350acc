"""Routing work skipped or shortened at city scale (issue 17 part 5), checked on small cases.

- :func:`sim.routing.tree_from_predecessors` finds the kept link of each node with one
  merge pass instead of a binary search per node: the same positions as
  ``np.searchsorted``;
- :class:`sim.service_fleet.ServiceFleet` rebuilds, when the link costs change, only the
  routing rows somebody travels on; a row left stale is rebuilt when a vehicle is given
  it again, so what the kernel reads always equals the tree on the current costs.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import queue as Q
from sim.core.links import build_links
from sim.routing import _merge_positions, tree_to
from sim.service_fleet import ServiceFleet


@pytest.mark.parametrize("seed", range(5))
def test_merge_positions_equal_searchsorted(seed):
    rng = np.random.default_rng(seed)
    n = 50
    keys = np.unique(rng.integers(0, n * n, 600)).astype(np.int64)  # sorted pair keys
    v_of, u_of = keys // n, keys % n
    # One pair per node that has any (as a shortest-path tree picks one successor).
    nodes, first = np.unique(v_of, return_index=True)
    pick = first + (rng.random(nodes.size) * np.bincount(v_of)[nodes]).astype(np.int64)
    pred = np.full(n, -9999, np.int32)
    pred[nodes] = u_of[pick]
    out = np.empty(nodes.size, np.int64)
    _merge_positions(nodes.astype(np.int64), pred, np.int64(n), keys, out)
    np.testing.assert_array_equal(out, np.searchsorted(keys, nodes * n + pred[nodes]))
    np.testing.assert_array_equal(keys[out], nodes * n + pred[nodes])


# A diamond with a cross link: 0 -> 1 -> 3 (100 + 100 m), 0 -> 2 -> 3 (150 + 150 m),
# 1 -> 2 (500 m); 10 m/s everywhere, so costs are length / 10 s.
FROM = np.array([0, 1, 0, 2, 1])
TO = np.array([1, 3, 2, 3, 2])
LENGTH = np.array([100.0, 100.0, 150.0, 150.0, 500.0])


def _diamond():
    links = build_links(FROM, TO, LENGTH, np.full(5, 10.0), np.ones(5), np.ones(5),
                        np.full(5, 50), n_nodes=4)
    fleet = Q.new_fleet(3)
    queues = Q.new_queues(links, 3)
    sf = ServiceFleet(links, 4, fleet, queues, np.arange(3), np.zeros(3, np.int32),
                      np.ones(3, np.int8), table_offset=2)
    return links, fleet, sf


def test_cost_change_rebuilds_rows_in_use_and_stale_rows_on_reuse():
    links, fleet, sf = _diamond()
    base_next, base_target = np.full((2, 4), -1, np.int32), np.array([-1, -1], np.int32)
    sf.send(0, 3, 0.0)  # WAITING toward node 3: its row is in use
    sf.send(1, 2, 0.0)
    fleet.state[1] = Q.ARRIVED  # reached node 2: nobody travels on that row any more
    fleet.dest_node[1] = 2
    row3, row2 = 2 + sf._slot_of[3], 2 + sf._slot_of[2]
    nl, _ = sf.stacked(base_next, base_target)
    assert nl[row3, 0] == 0 and nl[row2, 0] == 2  # 0 -> 1 -> 3 (20 s); 0 -> 2 (15 s)
    built = sf.n_trees_built
    # Close 1 -> 3 and 0 -> 2: toward 3 now 0 -> 1 -> 2 -> 3, toward 2 now 0 -> 1 -> 2.
    cost = LENGTH / 10.0
    cost[[1, 2]] = np.inf
    assert sf.set_cost(cost)
    assert sf.n_trees_built == built + 1  # only the row in use was rebuilt
    nl, _ = sf.stacked(base_next, base_target)
    new3 = tree_to(links, 4, 3, cost_s=cost)
    assert np.array_equal(nl[row3], new3.next_link)
    assert new3.next_link[0] == 0 and new3.cost_s[0] == pytest.approx(10 + 50 + 15)
    # Vehicle 2 is sent to node 2: the stale row is rebuilt before it leaves.
    sf.send(2, 2, 0.0)
    nl, _ = sf.stacked(base_next, base_target)
    assert sf._slot_of[2] == row2 - 2  # same row, now current
    new2 = tree_to(links, 4, 2, cost_s=cost)
    assert np.array_equal(nl[row2], new2.next_link) and new2.next_link[0] == 0


def test_tables_returns_every_row_current_even_unused():
    links, fleet, sf = _diamond()
    sf.send(1, 2, 0.0)
    fleet.state[1] = Q.ARRIVED
    cost = LENGTH / 10.0
    cost[2] = np.inf  # 0 -> 2 closed: toward 2 via 1 (10 + 50 s)
    sf.set_cost(cost)
    nl, tg = sf.tables()
    assert tg.tolist() == [2]
    assert np.array_equal(nl[0], tree_to(links, 4, 2, cost_s=cost).next_link)
    assert nl[0, 0] == 0


def test_next_hop_memo_equals_next_hop_through_changes():
    from sim.routing import NextHopMemo, next_hop

    links, _, _ = _diamond()
    memo = NextHopMemo()
    base = LENGTH / 10.0
    closed = base.copy()
    closed[1] = np.inf
    other = build_links(TO, FROM, LENGTH, np.full(5, 10.0), np.ones(5), np.ones(5),
                        np.full(5, 50), n_nodes=4)  # every link reversed, same costs
    steps = [(links, [3], base), (links, [3], base), (links, [2, 3], base),
             (links, [2, 3], closed), (links, [3], closed), (other, [3], closed),
             (links, [], base)]
    results = []
    for lk, targets, cost in steps:
        got = memo(lk, 4, np.array(targets, np.int64), cost_s=cost)
        want = next_hop(lk, 4, np.array(targets, np.int64), cost_s=cost)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
        results.append(got)
    assert results[1] is results[0]  # same inputs: the table is not recomputed
    assert results[2] is not results[1]
    # Analytic: toward 3, node 0 goes 0 -> 1 (link 0, 20 s), then with 1 -> 3 closed
    # 0 -> 2 -> 3 (link 2, 30 s); on the reversed network node 0 cannot reach 3.
    assert results[0].next_link[0] == 0 and results[0].cost_s[0] == pytest.approx(20.0)
    assert results[4].next_link[0] == 2 and results[4].cost_s[0] == pytest.approx(30.0)
    assert results[5].next_link[0] == -1 and np.isinf(results[5].cost_s[0])
