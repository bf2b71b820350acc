"""The reversed graph gathered from a :class:`sim.routing.PairIndex` is the sorted one.

``reversed_graph`` used to sort the links by (from, to, cost, link) for every new set of
costs; the index sorts once per network. The reference below is that first version: the
graph (CSR arrays), the pair keys and the links kept must be equal exactly, with parallel
links, ties, zero costs and closed links, and so must the routing tables built on them.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

from sim.routing import NextHopMemo, PairIndex, _next_hop, reversed_graph


def _reference(links, n_nodes, cost_s):
    """The sorting version (the reference): cheapest parallel link, ties to the lowest."""
    n = int(n_nodes)
    idx = np.flatnonzero(np.isfinite(cost_s))
    f = links.from_node[idx].astype(np.int64)
    t = links.to_node[idx].astype(np.int64)
    order = np.lexsort((idx, cost_s[idx], t, f))
    key = f[order] * n + t[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    keep = order[first]
    link_of_pair = idx[keep]
    rev = sp.csr_matrix((cost_s[link_of_pair], (t[keep], f[keep])), shape=(n, n))
    return rev, key[first], link_of_pair


def _same(a, b):
    (ra, ka, la), (rb, kb, lb) = a, b
    assert ra.shape == rb.shape
    assert np.array_equal(ra.indptr, rb.indptr)
    assert np.array_equal(ra.indices, rb.indices)
    assert np.array_equal(ra.data, rb.data)  # explicit zeros kept alike
    assert np.array_equal(ka, kb) and ka.dtype == kb.dtype
    assert np.array_equal(la, lb)


def _random_links(rng, n, n_links):
    # Few nodes for many links: parallel links and self-loops are common.
    return SimpleNamespace(from_node=rng.integers(0, n, n_links).astype(np.int32),
                           to_node=rng.integers(0, n, n_links).astype(np.int32))


def test_index_gives_the_sorted_graph_for_any_costs():
    rng = np.random.default_rng(11)
    for trial in range(300):
        n = int(rng.integers(1, 25))
        links = _random_links(rng, n, int(rng.integers(0, 150)))
        index = PairIndex(links, n)
        for _ in range(3):  # one index, many costs
            m = links.from_node.size
            if trial % 3 == 0:  # ties and zeros
                cost = rng.choice([0.0, 1.0, 2.0, np.inf], m)
            elif trial % 3 == 1:
                cost = np.where(rng.random(m) < 0.3, np.inf, rng.random(m) * 100)
            else:
                cost = np.full(m, np.inf)  # everything closed
            _same(index.graph(cost), _reference(links, n, cost))
            _same(reversed_graph(links, n, cost), _reference(links, n, cost))


def test_tables_on_a_real_network_with_closures(small_district, cache):
    from sim.network import load_map

    net = load_map(small_district / "small.osm.bz2", cache_dir=cache)
    rng = np.random.default_rng(5)
    n = len(net.nodes)
    targets = rng.choice(n, 4, replace=False)
    memo = NextHopMemo()
    for links in (net.drive, net.walk):
        index = PairIndex(links, n)
        for share in (0.0, 0.05, 0.3):
            cost = links.fft_s.copy()
            cost[rng.random(cost.size) < share] = np.inf
            _same(index.graph(cost), _reference(links, n, cost))
            tg = np.unique(targets).astype(np.int64)
            want = _next_hop(links, n, tg, cost, _reference(links, n, cost))
            got = memo(links, n, targets, cost_s=cost)
            for a, b in zip(got, want, strict=True):
                assert np.array_equal(a, b)
