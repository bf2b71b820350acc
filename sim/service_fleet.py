"""Rescue vehicles and relief trucks as rows of the one shared :class:`~sim.core.queue.Fleet`.

Service vehicles queue with residents' cars on the same links (DESIGN.md "Traffic
core": one fleet for every vehicle, a ``kind`` column). This module owns a block of
fleet rows and the routing tables that take them to single destinations: one table per
distinct destination in use (an incident, a hospital, a shelter, a depot, a station),
built with :func:`sim.routing.tree_to` on the same link costs the model routes residents
with. The same trees give the travel-time estimates the dispatcher and the depots rank
by, so estimate and route never disagree.

Table rows: the model stacks its own rows first (row 0: to the nearest open shelter,
row 1: nowhere) and this module's rows after them, at ``table_offset + k``. A vehicle that
is not travelling keeps ``table = 0``; the kernel never reads it then.

Kernel semantics used here (:mod:`sim.core.queue`): a vehicle whose table target is a
node arrives when it reaches that node (``t_arrive_s``, ``dest_node`` set, state
ARRIVED); a release puts it on the origin wait list and it enters its first link at
``max(t_release, t0)`` of the tick that processes it, so a release time in the future
is kept exactly (the vehicle waits, parked, until then). Changing ``table`` of a vehicle
on a link re-routes it from the end of that link. Green channel (priority at link exits)
is not modelled: service vehicles queue like everybody else.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim._errors import EvacsimError
from sim.core import queue
from sim.core.links import Links
from sim.routing import NextHop, PairIndex, next_hop, tree_from_predecessors

__all__ = ["ServiceFleet"]


class ServiceFleet:
    """The service vehicles' fleet rows and their per-destination routing tables.

    Parameters
    ----------
    links
        The drive network.
    n_nodes
        Number of map nodes.
    fleet, queues
        The model's shared fleet and queues (updated in place by :meth:`send`).
    rows
        int64[V]: the fleet rows this object owns (all IDLE).
    home_nodes
        int32[V]: node where each vehicle starts (station, depot).
    kinds
        int8[V]: 1 rescue vehicle, 2 relief truck (written to ``fleet.kind``).
    table_offset
        Index of this module's first row in the stacked ``next_link`` the kernel reads.
    cost_s
        float64[L]: link cost for routing (default free-flow time; ``inf`` closes).
    max_trees
        Trees kept in the estimate cache (least recently used are dropped).
    """

    def __init__(
        self,
        links: Links,
        n_nodes: int,
        fleet: queue.Fleet,
        queues: queue.Queues,
        rows: np.ndarray,
        home_nodes: np.ndarray,
        kinds: np.ndarray,
        *,
        table_offset: int,
        cost_s: np.ndarray | None = None,
        max_trees: int | None = None,
    ) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        home = np.asarray(home_nodes, dtype=np.int32)
        if rows.ndim != 1 or home.shape != rows.shape or np.shape(kinds) != rows.shape:
            raise EvacsimError(
                f"ServiceFleet: rows, home_nodes, kinds: expected 1-D arrays of one length, got "
                f"shapes {rows.shape}, {home.shape}, {np.shape(kinds)}")
        n_v = fleet.state.shape[0]
        if rows.size and (rows.min() < 0 or rows.max() >= n_v or np.unique(rows).size != rows.size):
            raise EvacsimError(f"ServiceFleet: rows: expected unique fleet rows in [0, {n_v}), "
                               f"got {rows[:5].tolist()}...")
        if rows.size and np.any(fleet.state[rows] != queue.IDLE):
            raise EvacsimError("ServiceFleet: rows: expected IDLE vehicles")
        if home.size and (home.min() < 0 or home.max() >= n_nodes):
            raise EvacsimError(f"ServiceFleet: home_nodes: expected node indices in "
                               f"[0, {n_nodes}), got {home[:5].tolist()}...")
        self.links = links
        self.n_nodes = int(n_nodes)
        self.fleet = fleet
        self.queues = queues
        self.rows = rows
        self.table_offset = int(table_offset)
        fleet.origin[rows] = home
        fleet.kind[rows] = np.asarray(kinds, dtype=np.int8)
        fleet.persons[rows] = 0
        queue.set_table(fleet, queues, rows, 0)
        self._cost = (links.length_m / links.ffs_mps if cost_s is None
                      else np.asarray(cost_s, np.float64).copy())
        self._trees: OrderedDict[int, NextHop] = OrderedDict()
        self.max_trees = int(max_trees) if max_trees else max(64, int(4e7 // max(12 * n_nodes, 1)))
        self._slot_of: dict[int, int] = {}  # destination node -> slot k
        self._stale: set[int] = set()  # slots whose row predates the current costs
        self._n_slots = 0
        # Rows 0..table_offset-1 of the buffers take the model's base rows (stacked());
        # slot k lives in row table_offset + k. Capacity doubles when full.
        self._buf = np.full((self.table_offset + 8, self.n_nodes), -1, dtype=np.int32)
        self._buf_tgt = np.full(self.table_offset + 8, -1, dtype=np.int32)
        self._dest = np.full(rows.size, -1, dtype=np.int64)  # destination per vehicle
        self._local_of = {int(r): k for k, r in enumerate(rows)}
        self.version = 0
        self._nearest: dict[str, NextHop] = {}
        self._graph: tuple | None = None
        self._pairs: PairIndex | None = None  # the links by node pair, built at first use
        self.n_trees_built = 0
        self.cost_version = 0

    # ---------------------------------------------------------------- routing
    def tree(self, to_node: int) -> NextHop:
        """The shortest-path tree toward ``to_node`` on the current costs (cached)."""
        to_node = int(to_node)
        t = self._trees.get(to_node)
        if t is not None:
            self._trees.move_to_end(to_node)
            return t
        t = self._tree(to_node)
        self.n_trees_built += 1
        self._trees[to_node] = t
        while len(self._trees) > self.max_trees:
            self._trees.popitem(last=False)
        return t

    def _tree(self, to_node: int) -> NextHop:
        """:func:`sim.routing.tree_to` on a reversed graph kept per cost version.

        The graph of :func:`sim.routing.reversed_graph`, gathered once per cost change
        instead of once per tree; ``tests/test_service_fleet.py`` checks the result equals
        :func:`sim.routing.tree_to` exactly.
        """
        if self._graph is None:
            if self._pairs is None:
                self._pairs = PairIndex(self.links, self.n_nodes)
            self._graph = self._pairs.graph(self._cost)
        rev, pair_key, link_of_pair = self._graph
        dist, pred = dijkstra(rev, directed=True, indices=int(to_node),
                              return_predecessors=True)
        return tree_from_predecessors(dist, pred, int(to_node), pair_key, link_of_pair)

    def travel_s(self, from_nodes: np.ndarray, to_node: int) -> np.ndarray:
        """Route cost (free-flow seconds on current costs) from nodes to ``to_node``."""
        return self.tree(to_node).cost_s[np.asarray(from_nodes, dtype=np.int64)]

    def nearest(self, key: str, targets: np.ndarray) -> NextHop:
        """Multi-source table toward the cheapest of ``targets``.

        Cached under ``key`` until the costs change; ``target[n]`` is the nearest one
        from node ``n``.
        """
        nh = self._nearest.get(key)
        if nh is None:
            nh = next_hop(self.links, self.n_nodes, np.asarray(targets, np.int64),
                          cost_s=self._cost)
            self._nearest[key] = nh
        return nh

    def set_cost(self, cost_s: np.ndarray) -> bool:
        """Adopt new link costs; rebuild every table in use when they changed.

        Returns whether anything changed. Call it where the model refreshes its own
        routes (closures): ``cost_s = fft_s / speed_factor``, ``inf`` where closed.
        """
        cost = np.asarray(cost_s, np.float64)
        if cost.shape == self._cost.shape and np.array_equal(cost, self._cost):
            return False
        self._cost = cost.copy()
        self._trees.clear()
        self._nearest.clear()
        self._graph = None
        self.cost_version += 1
        # Only the rows somebody travels on now are rebuilt; the kernel reads no other
        # (a vehicle not travelling never looks at its table). The others are marked
        # stale and rebuilt by _slot when a vehicle is given them again.
        in_use = set(self._dest[self._travelling()].tolist())
        for node, k in self._slot_of.items():
            if node in in_use:
                self._buf[self.table_offset + k] = self.tree(node).next_link
                self._stale.discard(node)
            else:
                self._stale.add(node)
        self.version += 1
        return True

    def tables(self, cost_s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Service routing rows: ``next_link`` int32[T_s, N] and ``target`` int32[T_s].

        Row ``k`` leads to node ``target[k]``; in the kernel's stacked table it is row
        ``table_offset + k``. ``cost_s`` given: adopt it first (see :meth:`set_cost`).
        """
        if cost_s is not None:
            self.set_cost(cost_s)
        for node in sorted(self._stale):  # every row current, also those nobody uses
            self._buf[self.table_offset + self._slot_of[node]] = self.tree(node).next_link
        self._stale.clear()
        a, b = self.table_offset, self.table_offset + self._n_slots
        return self._buf[a:b], self._buf_tgt[a:b]

    def stacked(self, base_next: np.ndarray, base_target: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """``base`` rows followed by this module's rows, as the kernel reads them.

        ``base_next`` must have exactly ``table_offset`` rows. The result is a view of a
        buffer this object keeps: the base rows are copied in on every call (the model
        rewrites them in place, e.g. informed drivers' rows, so neither identity nor
        ``id()`` tells whether they changed; an ``id()`` may even be reused by a new
        array after the old one is freed), service rows are written in place when a
        destination is added.
        """
        if base_next.shape != (self.table_offset, self.n_nodes) or \
                base_target.shape != (self.table_offset,):
            raise EvacsimError(f"ServiceFleet.stacked: base_next, base_target: expected "
                               f"shapes ({self.table_offset}, {self.n_nodes}) and "
                               f"({self.table_offset},), got {base_next.shape} and "
                               f"{base_target.shape}")
        self._buf[: self.table_offset] = base_next
        self._buf_tgt[: self.table_offset] = base_target
        n = self.table_offset + self._n_slots
        return self._buf[:n], self._buf_tgt[:n]

    def _slot(self, to_node: int) -> int:
        k = self._slot_of.get(to_node)
        if k is not None:
            if to_node in self._stale:  # costs changed while nobody travelled on it
                self._buf[self.table_offset + k] = self.tree(to_node).next_link
                self._stale.discard(to_node)
                self.version += 1
            return k
        # Reuse a slot nobody travels on (its destination left every vehicle).
        in_use = set(self._dest[self._travelling()].tolist())
        free = [(n, s) for n, s in self._slot_of.items() if n not in in_use]
        row = self.tree(to_node).next_link
        if free:
            old, k = min(free, key=lambda p: p[1])
            del self._slot_of[old]
            self._stale.discard(old)
        else:
            k = self._n_slots
            if self.table_offset + k >= self._buf.shape[0]:
                grow = self._buf.shape[0]
                self._buf = np.concatenate(
                    [self._buf, np.full((grow, self.n_nodes), -1, np.int32)])
                self._buf_tgt = np.concatenate([self._buf_tgt, np.full(grow, -1, np.int32)])
            self._n_slots += 1
        self._buf[self.table_offset + k] = row
        self._buf_tgt[self.table_offset + k] = to_node
        self._slot_of[to_node] = k
        self.version += 1
        return k

    def _travelling(self) -> np.ndarray:
        st = self.fleet.state[self.rows]
        return (st == queue.WAITING) | (st == queue.MOVING)

    # ---------------------------------------------------------------- vehicles
    def _local(self, row: int) -> int:
        k = self._local_of.get(int(row))
        if k is None:
            raise EvacsimError(f"ServiceFleet: row {row} is not a service vehicle")
        return k

    def node_of(self, row: int) -> int:
        """Node the vehicle is at.

        IDLE/WAITING: its origin; ARRIVED: its destination; MOVING: the end of its link.
        """
        f = self.fleet
        st = f.state[row]
        if st == queue.ARRIVED:
            return int(f.dest_node[row])
        if st == queue.MOVING:
            return int(self.links.to_node[f.link[row]])
        return int(f.origin[row])

    def arrived(self, row: int) -> bool:
        """Whether the vehicle has reached the destination it was last sent to."""
        return bool(self.fleet.state[row] == queue.ARRIVED)

    def arrival_s(self, row: int) -> float:
        """Arrival time at its destination, seconds (NaN if not arrived)."""
        return float(self.fleet.t_arrive_s[row])

    def send(self, row: int, to_node: int, t_s: float, *, persons: int = 0) -> None:
        """Send a vehicle that stands at a node (IDLE or ARRIVED) to ``to_node``.

        It is reset to IDLE with ``origin`` = its node, given the table that leads to
        ``to_node``, and released at ``t_s`` (seconds; a future time is kept: it waits at
        its node until then). ``persons`` on board are carried along.
        """
        f = self.fleet
        st = f.state[row]
        if st not in (queue.IDLE, queue.ARRIVED):
            raise EvacsimError(f"ServiceFleet.send: row {row}: expected an IDLE or ARRIVED "
                               f"vehicle, got state {int(st)} (use redirect for one on the road)")
        node = self.node_of(row)
        to_node = int(to_node)
        k = self._slot(to_node)
        f.state[row] = queue.IDLE
        f.origin[row] = node
        f.link[row] = -1
        f.t_arrive_s[row] = np.nan
        f.dest_node[row] = -1
        f.t_ready_s[row] = np.nan
        queue.set_table(f, self.queues, [row], self.table_offset + k)
        f.persons[row] = int(persons)
        self._dest[self._local(row)] = to_node
        queue.release(f, self.queues, np.array([row], np.int64), float(t_s))

    def redirect(self, row: int, to_node: int, *, t_s: float | None = None) -> None:
        """Give a travelling vehicle (WAITING or MOVING) a new destination.

        A MOVING vehicle finishes its link and then follows the new table; a WAITING one
        keeps its place on the wait list, and ``t_s`` (if given) becomes its release time.
        """
        f = self.fleet
        st = f.state[row]
        if st not in (queue.WAITING, queue.MOVING):
            raise EvacsimError(f"ServiceFleet.redirect: row {row}: expected a WAITING or "
                               f"MOVING vehicle, got state {int(st)}")
        k = self._slot(int(to_node))
        queue.set_table(f, self.queues, [row], self.table_offset + k)
        self._dest[self._local(row)] = int(to_node)
        if st == queue.WAITING and t_s is not None:
            f.t_release_s[row] = float(t_s)

    def destination(self, row: int) -> int:
        """Node the vehicle was last sent to (-1 if never)."""
        return int(self._dest[self._local(row)])

    def where_free(self, rows: np.ndarray, t_s: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised :meth:`eta_from`: (node int64[k], free_at float64[k], moving bool[k])."""
        f = self.fleet
        rows = np.asarray(rows, np.int64)
        st = f.state[rows]
        moving = st == queue.MOVING
        waiting = st == queue.WAITING
        node = np.where(st == queue.ARRIVED, f.dest_node[rows], f.origin[rows]).astype(np.int64)
        node[moving] = self.links.to_node[f.link[rows[moving]]]
        free_at = np.full(rows.size, float(t_s))
        ready = f.t_ready_s[rows]
        free_at[moving] = np.maximum(t_s, np.where(np.isfinite(ready[moving]), ready[moving], t_s))
        free_at[waiting] = np.maximum(t_s, f.t_release_s[rows[waiting]])
        return node, free_at, moving

    def eta_from(self, row: int, t_s: float) -> tuple[int, float]:
        """Where and when the vehicle can next start a trip: (node, earliest time, s).

        MOVING: the end of its link at its free-flow exit time; WAITING: its origin at
        its release time; otherwise its node now.
        """
        f = self.fleet
        st = f.state[row]
        if st == queue.MOVING:
            t = f.t_ready_s[row]
            return self.node_of(row), float(max(t_s, t if np.isfinite(t) else t_s))
        if st == queue.WAITING:
            return int(f.origin[row]), float(max(t_s, f.t_release_s[row]))
        return self.node_of(row), float(t_s)
