"""Plain-Python reference of the spatial-queue kernel (sim.core.queue), for tests only.

Written for reading, not speed: one ``deque`` per link, a ``list`` as the wait list and
dicts of per-vehicle fields. It follows the rules of the ``sim.core.queue`` module
docstring step by step; ``tests/test_core_reference.py`` compares the two.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

IDLE, WAITING, MOVING, ARRIVED = 0, 1, 2, 3


@dataclass
class RefVehicle:
    origin: int
    table: int
    persons: int
    state: int = IDLE
    link: int = -1
    t_ready: float = float("nan")
    t_release: float = float("nan")
    t_arrive: float = float("nan")
    dest: int = -1
    full_seen: bool = False
    kind: int = 0  # 0 resident car; != 0 responder (uses green links' reserved lane)
    stuck_seen: bool = False


@dataclass
class RefLink:
    to_node: int
    length: float
    ffs: float
    capacity: float
    storage: int
    queue: deque = field(default_factory=deque)
    last_exit: float = float("-inf")
    exits: int = 0
    peak: int = 0
    stuck: int = 0


class RefQueueSim:
    """The queue model with lists; same rules as ``sim.core.queue.step_vehicles``."""

    def __init__(self, links, vehicles, next_link, target, shelter_open, shelter_room,
                 green=None, stuck_s=float("inf")):
        self.links = [
            RefLink(
                int(links.to_node[i]),
                float(links.length_m[i]),
                float(links.ffs_mps[i]),
                float(links.capacity_vps[i]),
                int(links.storage_veh[i]),
            )
            for i in range(len(links.to_node))
        ]
        self.veh = vehicles
        self.next_link = [[int(x) for x in row] for row in next_link]
        self.target = [int(x) for x in target]
        # one shelter set per row; a 1-D mask is a single set
        rows = shelter_open if getattr(shelter_open, "ndim", 1) == 2 else [shelter_open]
        self.shelter_open = [[bool(x) for x in row] for row in rows]
        self.room = [int(x) for x in shelter_room]
        self.wait: list[int] = []
        self.green = [False] * len(self.links) if green is None else [bool(g) for g in green]
        self.stuck_s = float(stuck_s)
        self.channel: list[int] = []  # responders on green links' reserved lanes

    def release(self, ids, times):
        for v, t in zip(ids, times, strict=True):
            self.veh[v].state = WAITING
            self.veh[v].t_release = t
            self.wait.append(v)

    def is_dest(self, node, tgt):
        # a negative target -k-1 means "any open node of shelter set k"
        return tgt == node if tgt >= 0 else self.shelter_open[-tgt - 1][node]

    def enter(self, v, m, tau, speed_factor):
        link = self.links[m]
        link.queue.append(v)
        link.peak = max(link.peak, len(link.queue))
        self.veh[v].link = m
        self.veh[v].t_ready = tau + link.length / (link.ffs * speed_factor[m])

    def arrive(self, v, node, tau, tgt):
        veh = self.veh[v]
        veh.state, veh.link, veh.t_arrive, veh.dest = ARRIVED, -1, tau, node
        if tgt < 0:
            self.room[node] -= veh.persons

    def park(self, v, node, tau):
        """Pull off the road at ``node`` at ``tau``: the end of the wait list."""
        veh = self.veh[v]
        veh.state, veh.link, veh.origin, veh.t_release = WAITING, -1, node, tau
        self.wait.append(v)

    def to_channel(self, v, m, tau, speed_factor):
        """A responder takes green link m's reserved lane (no queue, no storage)."""
        link = self.links[m]
        self.veh[v].link = m
        self.veh[v].t_ready = tau + link.length / (link.ffs * speed_factor[m])
        self.channel.append(v)

    def drain(self, i, t0, t1, speed_factor):
        """Move head vehicles off link i; return the links that got a vehicle ready in time."""
        link = self.links[i]
        got_ready = []
        while link.queue:
            v = link.queue[0]
            veh = self.veh[v]
            earliest = max(veh.t_ready, link.last_exit + 1.0 / link.capacity)
            tau = max(earliest, t0)
            if tau > t1:
                break
            tgt = self.target[veh.table]
            node = link.to_node
            if self.is_dest(node, tgt):
                if tgt < 0 and self.room[node] <= 0:
                    veh.full_seen = True
                    break
                link.queue.popleft()
                link.last_exit, link.exits = tau, link.exits + 1
                self.arrive(v, node, tau, tgt)
                continue
            m = self.next_link[veh.table][node]
            if m < 0:
                # no route: park at the node, at the end of the wait list
                link.queue.popleft()
                link.last_exit, link.exits = tau, link.exits + 1
                self.park(v, node, tau)
                continue
            if veh.kind != 0 and self.green[m] and speed_factor[m] > 0:
                link.queue.popleft()
                link.last_exit, link.exits = tau, link.exits + 1
                self.to_channel(v, m, tau, speed_factor)
                continue
            if len(self.links[m].queue) >= self.links[m].storage or speed_factor[m] <= 0:
                if earliest + self.stuck_s > t1:
                    break
                # stuck: blocked for stuck_s, it pulls off the road at the node
                tau = max(earliest + self.stuck_s, t0)
                link.queue.popleft()
                link.last_exit, link.exits = tau, link.exits + 1
                link.stuck += 1
                veh.stuck_seen = True
                self.park(v, node, tau)
                continue
            link.queue.popleft()
            link.last_exit, link.exits = tau, link.exits + 1
            self.enter(v, m, tau, speed_factor)
            if veh.t_ready <= t1:
                got_ready.append(m)
        return got_ready

    def run_channel(self, t0, t1, speed_factor):
        """Move the responders on green links; return the queues they joined in time."""
        got_ready = []
        still = []
        for v in self.channel:
            veh = self.veh[v]
            keep = True
            while veh.t_ready <= t1:
                lk = self.links[veh.link]
                tau = max(veh.t_ready, t0)
                node, tgt = lk.to_node, self.target[veh.table]
                if self.is_dest(node, tgt):
                    if tgt < 0 and self.room[node] <= 0:
                        veh.full_seen = True
                        break
                    lk.exits += 1
                    self.arrive(v, node, tau, tgt)
                    keep = False
                    break
                m = self.next_link[veh.table][node]
                if m < 0:
                    lk.exits += 1
                    self.park(v, node, tau)
                    keep = False
                    break
                nxt = self.links[m]
                if speed_factor[m] <= 0 or (not self.green[m] and len(nxt.queue) >= nxt.storage):
                    break
                lk.exits += 1
                if self.green[m]:
                    veh.link = m
                    veh.t_ready = tau + nxt.length / (nxt.ffs * speed_factor[m])
                    continue
                self.enter(v, m, tau, speed_factor)
                if veh.t_ready <= t1:
                    got_ready.append(m)
                keep = False
                break
            if keep:
                still.append(v)
        self.channel = still
        return got_ready

    def step(self, t0, dt, speed_factor, max_passes=1000):
        t1 = t0 + dt
        pending = []  # links to revisit, in the order they were first marked
        # main pass
        for i in range(len(self.links)):
            for m in self.drain(i, t0, t1, speed_factor):
                if m < i and m not in pending:
                    pending.append(m)
        passes = 1
        # wait list, FIFO
        still = []
        for v in self.wait:
            veh = self.veh[v]
            tau = max(veh.t_release, t0)
            tgt = self.target[veh.table]
            o = veh.origin
            if tau <= t1:
                if self.is_dest(o, tgt):
                    if tgt >= 0 or self.room[o] > 0:
                        self.arrive(v, o, tau, tgt)
                        continue
                    veh.full_seen = True
                else:
                    m = self.next_link[veh.table][o]
                    if m >= 0 and speed_factor[m] > 0 and veh.kind != 0 and self.green[m]:
                        veh.state = MOVING
                        self.to_channel(v, m, tau, speed_factor)
                        continue
                    if (
                        m >= 0
                        and len(self.links[m].queue) < self.links[m].storage
                        and speed_factor[m] > 0
                    ):
                        veh.state = MOVING
                        self.enter(v, m, tau, speed_factor)
                        if veh.t_ready <= t1 and m not in pending:
                            pending.append(m)
                        continue
            still.append(v)
        self.wait = still
        for m in self.run_channel(t0, t1, speed_factor):
            if m not in pending:
                pending.append(m)
        # follow-up passes, each over the marked links in ascending order, then the channel
        while pending and passes < max_passes:
            current = sorted(pending)
            pending = []
            for i in current:
                for m in self.drain(i, t0, t1, speed_factor):
                    if m not in pending:
                        pending.append(m)
            for m in self.run_channel(t0, t1, speed_factor):
                if m not in pending:
                    pending.append(m)
            passes += 1


def random_links(rng, n_nodes, n_extra, *, storage_max=8, cap_range=(0.1, 1.0)):
    """A seeded random, strongly connected directed network as ``Links`` (for tests).

    A ring through all nodes (so every node reaches every other) plus ``n_extra`` random
    links (parallel links allowed, no self-loops).
    """
    import numpy as np

    from sim.core.links import build_links

    perm = rng.permutation(n_nodes)
    f = list(perm)
    t = list(np.roll(perm, -1))
    while len(f) < n_nodes + n_extra:
        a, b = rng.integers(0, n_nodes, 2)
        if a != b:
            f.append(a)
            t.append(b)
    n_links = len(f)
    length = rng.uniform(5.0, 300.0, n_links)
    lanes = rng.integers(1, 3, n_links).astype(float)
    return build_links(
        np.array(f),
        np.array(t),
        length,
        rng.uniform(5.0, 25.0, n_links),
        lanes,
        rng.uniform(*cap_range, n_links),
        rng.integers(1, storage_max + 1, n_links),
        n_nodes=n_nodes,
    )
