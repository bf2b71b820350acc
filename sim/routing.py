"""Next-hop routing tables: where every node should go next to reach its nearest target.

One multi-source Dijkstra on the reversed graph gives every node its cheapest target
(an open shelter, an incident) and the first link of the path there. The traffic
kernels (:mod:`sim.core.queue`, :mod:`sim.core.walk`) only look up
``next_link[table, node]``; tables are recomputed when a link closes or a shelter fills,
never per agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import dijkstra

from sim._errors import NetworkError
from sim.core.links import Links

__all__ = ["NextHop", "NextHopMemo", "PairIndex", "next_hop", "tree_to", "stack_tables"]


class NextHop(NamedTuple):
    """A routing table toward a set of target nodes.

    Attributes
    ----------
    next_link : int32[N]
        First link of the cheapest path from each node to its target; -1 at the targets
        themselves and at nodes that cannot reach any target.
    cost_s : float64[N]
        Cost of that path (seconds when the cost is a travel time); ``inf`` if unreachable,
        0 at targets.
    target : int32[N]
        The target node each node routes to; -1 if unreachable.
    """

    next_link: np.ndarray
    cost_s: np.ndarray
    target: np.ndarray


def _check(links: Links, n_nodes: int, targets: np.ndarray, cost_s: np.ndarray | None):
    """Validate the inputs of :func:`next_hop`; return (targets int64, cost float64)."""
    n_nodes = int(n_nodes)
    if n_nodes < 0:
        raise NetworkError(f"routing: n_nodes: expected >= 0, got {n_nodes!r}")
    n_links = links.from_node.shape[0]
    if n_links and (
        links.from_node.min() < 0
        or links.to_node.min() < 0
        or max(links.from_node.max(), links.to_node.max()) >= n_nodes
    ):
        raise NetworkError(
            f"routing: links: expected node indices in [0, {n_nodes}), "
            f"got from/to in [{min(links.from_node.min(), links.to_node.min())}, "
            f"{max(links.from_node.max(), links.to_node.max())}]"
        )
    tg = np.asarray(targets)
    if tg.ndim != 1 or (tg.size and not np.issubdtype(tg.dtype, np.integer)):
        raise NetworkError(
            f"routing: targets: expected a 1-D integer array of node indices, "
            f"got shape {tg.shape} dtype {tg.dtype}"
        )
    tg = tg.astype(np.int64)
    bad = tg[(tg < 0) | (tg >= n_nodes)]
    if bad.size:
        raise NetworkError(
            f"routing: targets: expected node indices in [0, {n_nodes}), got {bad[:5].tolist()}"
        )
    if cost_s is None:
        cost = links.length_m / links.ffs_mps
    else:
        cost = np.asarray(cost_s, dtype=np.float64)
        if cost.shape != (n_links,):
            raise NetworkError(
                f"routing: cost_s: expected shape ({n_links},) (one cost per link), "
                f"got {cost.shape}"
            )
    nan = np.flatnonzero(np.isnan(cost))
    if nan.size:
        raise NetworkError(f"routing: cost_s: expected no NaN, got NaN at links {nan[:5].tolist()}")
    neg = np.flatnonzero(cost < 0)
    if neg.size:
        raise NetworkError(
            f"routing: cost_s: expected costs >= 0 (np.inf closes a link), "
            f"got negative at links {neg[:5].tolist()}"
        )
    return np.unique(tg), cost


def next_hop(
    links: Links,
    n_nodes: int,
    targets: np.ndarray,
    *,
    cost_s: np.ndarray | None = None,
) -> NextHop:
    """Route every node to its cheapest target node.

    Parameters
    ----------
    links
        The directed links of the network.
    n_nodes
        Number of nodes (the node indices of ``links`` are ``0 <= i < n_nodes``).
    targets
        Node indices of the targets (open shelters, an incident, ...). May be empty: then
        every node is unreachable.
    cost_s
        Cost per link, float64[L], >= 0; default the free-flow time ``length_m / ffs_mps``
        (seconds). ``np.inf`` closes a link (it is never used).

    Returns
    -------
    NextHop
        ``next_link``, ``cost_s`` and ``target`` per node.

    Raises
    ------
    NetworkError
        Targets out of range, wrong cost shape, negative or NaN cost.

    Notes
    -----
    A single multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra`` with
    ``min_only=True``) on the reversed graph: the predecessor of node ``v`` in the
    reversed tree is the node after ``v`` on its forward path. Among parallel links between
    the same node pair the cheapest is used, ties to the lowest link index.
    """
    tg, cost = _check(links, n_nodes, targets, cost_s)
    return _next_hop(links, int(n_nodes), tg, cost, None)


def _next_hop(links: Links, n: int, tg: np.ndarray, cost: np.ndarray, graph) -> NextHop:
    """:func:`next_hop` on checked inputs; ``graph``: :func:`reversed_graph` of ``cost``."""
    next_link = np.full(n, -1, dtype=np.int32)
    if tg.size == 0 or n == 0:
        return NextHop(next_link, np.full(n, np.inf), np.full(n, -1, dtype=np.int32))

    rev, pair_key, link_of_pair = graph if graph is not None else reversed_graph(links, n, cost)
    dist, pred, src = dijkstra(
        rev, directed=True, indices=tg, min_only=True, return_predecessors=True
    )
    return tree_from_predecessors(dist, pred, src, pair_key, link_of_pair)


class NextHopMemo:
    """:func:`next_hop` that remembers its last inputs and result (one per table kept).

    The model recomputes every routing table when any closure changes or a shelter
    fills; most tables see the same costs again (a closure on the roads leaves the
    footpaths' costs as they were; a full shelter changes the targets only). New costs:
    the reversed graph is gathered from the network's :class:`PairIndex`; same costs: it is
    reused; same costs and targets: the table itself. The result is
    exactly what :func:`next_hop` returns for those inputs (it is a pure function of
    them); callers must not modify a returned table in place.
    """

    def __init__(self) -> None:
        self._links: Links | None = None
        self._pairs: PairIndex | None = None
        self._n = -1
        self._cost: np.ndarray | None = None
        self._graph: tuple | None = None
        self._targets: np.ndarray | None = None
        self._result: NextHop | None = None

    def __call__(self, links: Links, n_nodes: int, targets: np.ndarray, *,
                 cost_s: np.ndarray | None = None) -> NextHop:
        """Same as :func:`next_hop` (same parameters, errors and result)."""
        tg, cost = _check(links, n_nodes, targets, cost_s)
        n = int(n_nodes)
        same_graph = (self._links is links and self._n == n and self._cost is not None
                      and np.array_equal(cost, self._cost))
        if not same_graph:  # (road levers replace the links: identity is part of the key)
            if self._pairs is None or self._pairs.links is not links or self._pairs.n_nodes != n:
                self._pairs = PairIndex(links, n)
            self._links, self._n, self._cost = links, n, cost.copy()
            self._graph = self._pairs.graph(cost)
            self._result = None
        elif self._result is not None and np.array_equal(tg, self._targets):
            return self._result
        self._targets = tg
        self._result = _next_hop(links, n, tg, cost, self._graph)
        return self._result


class PairIndex:
    """The links of a network grouped by node pair, for :func:`reversed_graph`.

    Built once per network (sorting is the costly part of the graph); the reversed graph
    of any costs is then gathered from it without a sort. Parallel links between the same
    pair are a group, in link order.

    Parameters
    ----------
    links
        The directed links.
    n_nodes
        Number of nodes.
    """

    def __init__(self, links: Links, n_nodes: int) -> None:
        n = int(n_nodes)
        f = links.from_node.astype(np.int64)
        t = links.to_node.astype(np.int64)
        self.links, self.n_nodes = links, n
        self.order = np.lexsort((np.arange(f.size), t, f))  # by (from, to, link)
        key = f[self.order] * n + t[self.order]
        first = np.ones(key.size, dtype=bool)
        first[1:] = key[1:] != key[:-1]
        self.start = np.flatnonzero(first)  # first position of each pair's group
        self.key = key[first]  # from * n + to of each pair, ascending
        self.group = np.cumsum(first) - 1  # pair of each position
        self.from_node, self.to_node = f[self.order][first], t[self.order][first]
        # The matrix holds rev[to, from]: pairs by (to, from) give its rows in order.
        self.by_row = np.lexsort((self.from_node, self.to_node))

    def graph(self, cost_s: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """:func:`reversed_graph` of ``cost_s`` (float64[L], s; ``inf`` = closed)."""
        c = cost_s[self.order]
        low = np.minimum.reduceat(c, self.start) if c.size else np.zeros(0)  # per pair
        # Per pair, the first position holding its least cost: the lowest link index
        # among equally cheap parallel links (positions run in link order in a group).
        hit = np.flatnonzero(c == low[self.group])
        first = np.ones(hit.size, dtype=bool)
        first[1:] = self.group[hit[1:]] != self.group[hit[:-1]]
        cheapest = self.order[hit[first]]
        open_pair = np.isfinite(low)  # all its links closed: no edge
        rows = self.by_row[open_pair[self.by_row]]
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int32)
        np.cumsum(np.bincount(self.to_node[rows], minlength=self.n_nodes), out=indptr[1:])
        rev = sp.csr_matrix((low[rows], self.from_node[rows].astype(np.int32), indptr),
                            shape=(self.n_nodes, self.n_nodes))
        return rev, self.key[open_pair], cheapest[open_pair]


def reversed_graph(
    links: Links, n_nodes: int, cost_s: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The reversed graph Dijkstra runs on, one edge per node pair.

    Among parallel links the cheapest is kept, ties to the lowest link index; closed
    links (``inf`` cost) are dropped. Callers that build it for many costs on one network
    keep a :class:`PairIndex` and call its ``graph`` (the same result, without a sort).

    Returns
    -------
    rev : csr_matrix
        ``rev[to, from]`` = cost of the kept link ``from -> to``, seconds, each row's
        columns ascending. scipy keeps explicit zeros of a CSR matrix as zero-cost edges.
    pair_key : int64[K]
        ``from * n_nodes + to`` of each kept link, sorted.
    link_of_pair : int64[K]
        The link index kept for each pair.
    """
    return PairIndex(links, n_nodes).graph(np.asarray(cost_s, dtype=np.float64))


@njit(cache=True)
def _merge_positions(nodes, pred, n, pair_key, out):  # pragma: no cover - numba
    """``out[k]``: first index of ``pair_key`` >= ``nodes[k] * n + pred[nodes[k]]``.

    ``nodes`` ascending and ``0 <= pred < n``, so the keys ascend and one pass over the
    sorted ``pair_key`` serves them all (``np.searchsorted(..., side="left")``).
    """
    j = 0
    m = pair_key.shape[0]
    for k in range(nodes.shape[0]):
        v = nodes[k]
        key = v * n + pred[v]
        while j < m and pair_key[j] < key:
            j += 1
        out[k] = j


def tree_from_predecessors(
    dist: np.ndarray,
    pred: np.ndarray,
    source: np.ndarray | int,
    pair_key: np.ndarray,
    link_of_pair: np.ndarray,
) -> NextHop:
    """Turn Dijkstra's output on the reversed graph into a :class:`NextHop` table.

    ``pred[v]`` on the reversed tree is the node after ``v`` on its forward path, so the
    next link of ``v`` is the kept link of the pair ``(v, pred[v])``.
    """
    n = dist.shape[0]
    next_link = np.full(n, -1, dtype=np.int32)
    nodes = np.flatnonzero(pred >= 0)
    pos = np.empty(nodes.size, dtype=np.int64)
    # = np.searchsorted(pair_key, nodes * n + pred[nodes]): the keys rise with the node,
    # so one merge pass finds them all (a binary search per node cost more than Dijkstra).
    _merge_positions(nodes.astype(np.int64), np.ascontiguousarray(pred), np.int64(n),
                     pair_key, pos)
    next_link[nodes] = link_of_pair[pos]
    target = np.where(np.isfinite(dist), source, -1).astype(np.int32)
    return NextHop(next_link, np.asarray(dist, dtype=np.float64), target)


def tree_to(
    links: Links, n_nodes: int, target_node: int, *, cost_s: np.ndarray | None = None
) -> NextHop:
    """Route every node to one target node (a responder's incident, a shelter, a depot).

    Same as :func:`next_hop` with ``targets=[target_node]``.
    """
    return next_hop(links, n_nodes, np.array([int(target_node)]), cost_s=cost_s)


def stack_tables(tables: Sequence[NextHop | np.ndarray]) -> np.ndarray:
    """Stack routing tables into the 2-D ``next_link`` array the kernels read.

    Parameters
    ----------
    tables
        ``NextHop`` tables (or int arrays of next links), all over the same nodes. By
        convention row 0 is the evacuation table toward open shelters.

    Returns
    -------
    int32[n_tables, n_nodes]
        C-contiguous.
    """
    rows = [t.next_link if isinstance(t, NextHop) else np.asarray(t) for t in tables]
    if not rows:
        raise NetworkError("routing: stack_tables: expected at least one table, got none")
    sizes = {r.shape for r in rows}
    if len(sizes) != 1 or rows[0].ndim != 1:
        raise NetworkError(
            f"routing: stack_tables: expected 1-D tables of one length, got shapes {sorted(sizes)}"
        )
    return np.ascontiguousarray(np.stack(rows), dtype=np.int32)
