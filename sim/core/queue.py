"""Vehicles on roads: a mesoscopic spatial-queue model with exact event times.

Each link is a FIFO queue with a free-flow time ``length / (ffs * speed_factor)``, an
outflow capacity ``C`` (vehicles per second) and a storage (vehicles at jam density).
A vehicle may leave its link when its free-flow time is up, the link's outflow allows
(one vehicle per ``1/C`` seconds) and the next link has room (spillback). Departure times
are exact timestamps inside the tick, not tick boundaries, so a saturated link discharges
at exact headways ``1/C`` whatever the tick length.

Semantics of one tick ``(t0, t0 + dt]`` (:func:`step_vehicles`):

1. Main pass over links in index order. The head vehicle of link ``l`` leaves at
   ``tau = max(t_ready, last_exit[l] + 1/C[l], t0)`` if ``tau <= t0 + dt`` and

   - ``to_node`` is its destination (the table's target node, or, for a target
     ``-k-1 < 0``, any node open in shelter set ``k``, ``shelter_open[k, node]``): it
     arrives at ``tau``; for a negative target it needs ``shelter_room > 0`` and takes
     ``persons`` from it (the last vehicle may overfill by less than its own persons).
     A full shelter keeps it at the head, sets flag bit 0 and blocks the link for the
     rest of the tick;
   - otherwise it enters ``m = next_link[table, to_node]`` at ``tau`` if
     ``count[m] < storage[m]`` and ``speed_factor[m] > 0``; else it stays and blocks
     the link for the rest of the tick;
   - if there is no route from ``to_node`` (``m == -1``: every shelter of its set full or
     cut off) it leaves the link at ``tau`` and parks at ``to_node``: it joins the end of
     the origin wait list with ``origin = to_node`` and ``t_release = tau`` (state
     WAITING), so it blocks nobody and enters the road again when a route reappears.

   - **stuck rule** (``stuck_s < inf``): a head vehicle blocked by its next link (full or
     closed) that could have left at ``e = max(t_ready, last_exit[l] + 1/C[l])`` but for
     that link is *stuck* once ``e + stuck_s <= t0 + dt``: it leaves the link at
     ``max(e + stuck_s, t0)`` and pulls off the road at ``to_node`` exactly like a vehicle
     without a route (end of the wait list, ``origin = to_node``, WAITING), with flag bit 1
     set and ``stuck[l]`` counted. It re-enters when its next link has room, after
     through traffic. This is evacsim's answer to gridlock (SUMO teleports a vehicle
     after ``time-to-teleport`` = 300 s, MATSim moves it on after ``stuckTime``): the
     vehicle is not moved ahead or deleted, it leaves the queue it blocks; the junction
     holds any number of such vehicles (it has no storage of its own).
   - **green channel**: a responder (``kind != 0``) whose next link ``m`` is a green link
     (``green[m]``, open) does not join ``m``'s queue: it enters ``m``'s reserved lane
     (the channel list) without a storage check and without counting in ``count[m]``.

   A vehicle that enters a higher-index link may move on in the same pass.
2. The origin wait list, FIFO in release order: each vehicle enters its first link at
   ``max(t_release, t0)`` if there is room (through traffic has priority over vehicles
   entering from an origin, as in MATSim's QueueLink), or arrives at once when its
   origin is its destination. A responder whose first link is green enters the channel.
   (Implementation: the list is kept in groups by origin, table and class so that a
   group behind a full first link costs one check per tick, not one per vehicle; the
   order is exactly the single list's, :mod:`sim.core.waitlist`.)
2b. The channel (after the wait list in the first pass and after every follow-up pass),
   in insertion order: a vehicle on green link ``l`` with ``t_ready <= t0 + dt`` leaves
   it at ``tau = max(t_ready, t0)`` (no headway, no queue: the reserved lane's capacity
   is not binding for the few responders) and arrives, parks (no route), moves to its
   next green link (``t_ready = tau + free-flow time``; it may go on in the same step),
   or joins the queue of its next non-green link if that has room (else it waits at the
   end of ``l``, and no stuck rule applies). Leaving a green link counts in ``exits``.
3. Follow-up passes over the links that received, in this tick, a vehicle that can still
   leave before ``t0 + dt`` and that the main pass had already passed (a dirty list),
   until none is left or ``max_passes`` is reached. Short links (free-flow time < dt)
   therefore cost no extra tick, and a lone vehicle's arrival time is exactly the sum of
   its free-flow times.

``peak_count`` is updated at every entry.

Approximations (all on the side of delay, none breaks an invariant): room on the next link
is checked when the link is processed, not at ``tau``; a link blocked by a full next link
is not revisited when room frees later in the same tick (it waits for the next tick,
then leaves at ``t0`` of that tick); vehicles left after ``max_passes`` continue next tick.

Notes
-----
Gawron (1998) "An iterative algorithm to determine the dynamic user equilibrium in a
traffic simulation model", Int. J. Mod. Phys. C 9(3):393-407 (the queue model);
Cetin, Burri & Nagel (2003) "A large-scale agent-based traffic microsimulation based on
queue model", STRC 2003 (storage constraint, spillback, MATSim's QSim).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from sim._errors import EvacsimError
from sim.core import waitlist
from sim.core.links import Links
from sim.core.prefetch import prefetch
from sim.core.waitlist import WaitList

__all__ = [
    "IDLE",
    "WAITING",
    "MOVING",
    "ARRIVED",
    "FLAG_FULL_SHELTER",
    "FLAG_STUCK",
    "Fleet",
    "Queues",
    "StepStats",
    "new_fleet",
    "new_queues",
    "check_step_values",
    "check_head_ready",
    "release",
    "set_table",
    "shelter_sets",
    "step_vehicles",
    "waiting",
]

# Agent states, shared with sim.core.walk.
IDLE = 0  # not released yet
WAITING = 1  # released, waiting at its origin node to enter its first link
MOVING = 2  # on a link
ARRIVED = 3  # reached its destination
# flags bit 0: the agent found its shelter full at least once.
FLAG_FULL_SHELTER = 1
# flags bit 1: the vehicle was stuck at least once (pulled off the road by the stuck rule).
FLAG_STUCK = 2

# A cap on follow-up passes per tick; only reached with zero-length loops. Vehicles left
# over simply continue next tick, so conservation never depends on it.
DEFAULT_MAX_PASSES = 1000


class Fleet(NamedTuple):
    """All vehicles (residents' cars, rescue vehicles, relief trucks), one row each.

    Attributes
    ----------
    state : int8[V]
        IDLE=0, WAITING=1, MOVING=2, ARRIVED=3.
    link : int32[V]
        Link the vehicle is on, -1 when not on a link.
    t_ready_s : float64[V]
        Earliest time it may leave its link: entry time + length / (ffs * speed_factor), s.
    origin : int32[V]
        Node it departs from.
    table : int32[V], read-only
        Row of ``next_link`` it follows. Change it with :func:`set_table` (the wait list
        groups waiting vehicles by table, :mod:`sim.core.waitlist`).
    persons : int32[V]
        Persons on board.
    kind : int8[V]
        0 resident car, 1 rescue vehicle, 2 relief truck (the kernel treats all alike but
        on green links, where kinds 1 and 2 use the reserved lane).
    t_release_s : float64[V]
        Release time, s (NaN until released).
    t_arrive_s : float64[V]
        Arrival time, s (NaN until arrived).
    dest_node : int32[V]
        Node where it arrived, -1 until arrived.
    flags : uint8[V]
        Bit 0: found a full shelter at least once. Bit 1: stuck at least once.
    """

    state: np.ndarray
    link: np.ndarray
    t_ready_s: np.ndarray
    origin: np.ndarray
    table: np.ndarray
    persons: np.ndarray
    kind: np.ndarray
    t_release_s: np.ndarray
    t_arrive_s: np.ndarray
    dest_node: np.ndarray
    flags: np.ndarray


class Queues(NamedTuple):
    """Per-link FIFO queues and the origin wait list.

    Attributes
    ----------
    count : int32[L]
        Vehicles on each link.
    head : int32[L]
        Position of the head vehicle in the link's ring buffer.
    buf_off : int64[L]
        Offset of each link's ring buffer (capacity ``storage_veh``) in ``buf``.
    buf : int32[sum(storage_veh)]
        Vehicle ids.
    last_exit_s : float64[L]
        Time the last vehicle left the link, s (-inf before the first).
    peak_count : int32[L]
        Largest count seen.
    exits : int64[L]
        Vehicles that left the link (to another link or to their destination).
    waiting : WaitList
        Released vehicles waiting at their origin, FIFO in release order, kept in groups
        (:mod:`sim.core.waitlist`; :func:`waiting` lists them in order).
    n_wait : int64[1]
        Length of the wait list.
    stuck : int64[L]
        Vehicles pulled off each link by the stuck rule.
    channel : int32[V]
        Responders on the reserved lane of a green link, in insertion order.
    n_channel : int64[1]
        Length of the channel list.
    head_ready_s : float64[L]
        ``t_ready_s`` of each link's head vehicle, ``inf`` on an empty link: the kernel
        keeps it exact, so a link whose head cannot leave in a tick costs one compare on
        link data instead of a read in the fleet's columns. Outside the kernel it must
        stay a lower bound of the head's ``t_ready_s``: raising a queued vehicle's
        ``t_ready_s`` (stopping it) is safe, lowering it is not (checked by
        :func:`step_vehicles` with ``check_values``).
    """

    count: np.ndarray
    head: np.ndarray
    buf_off: np.ndarray
    buf: np.ndarray
    last_exit_s: np.ndarray
    peak_count: np.ndarray
    exits: np.ndarray
    waiting: WaitList
    n_wait: np.ndarray
    stuck: np.ndarray
    channel: np.ndarray
    n_channel: np.ndarray
    head_ready_s: np.ndarray


class StepStats(NamedTuple):
    """What happened in one tick.

    Attributes
    ----------
    n_moved_links : int
        Link-to-link moves.
    n_arrived : int
        Vehicles that arrived.
    persons_arrived : int
        Persons in those vehicles.
    n_entered : int
        Vehicles that entered their first link from the wait list.
    n_passes : int
        Passes over links (1 = main pass only).
    n_parked : int
        Vehicles that found no route at the end of their link and pulled off the road.
    n_stuck : int
        Vehicles pulled off the road by the stuck rule.
    n_checked : int
        Waiting vehicles the wait-list scan examined (a group blocked by a full first link
        costs one, whatever its length).
    """

    n_moved_links: int
    n_arrived: int
    persons_arrived: int
    n_entered: int
    n_passes: int
    n_parked: int
    n_stuck: int
    n_checked: int


def new_fleet(
    n: int,
    *,
    origin: np.ndarray | None = None,
    table: np.ndarray | None = None,
    persons: np.ndarray | None = None,
    kind: np.ndarray | None = None,
) -> Fleet:
    """Allocate ``n`` IDLE vehicles.

    Parameters
    ----------
    n
        Number of vehicles.
    origin, table, persons, kind
        Optional initial columns (default: origin -1 = unset, table 0, 1 person, kind 0).
    """
    n = int(n)
    if n < 0:
        raise EvacsimError(f"new_fleet: n: expected >= 0, got {n!r}")

    def col(a, default, dtype):
        if a is None:
            return np.full(n, default, dtype=dtype)
        a = np.ascontiguousarray(a, dtype=dtype)
        if a.shape != (n,):
            raise EvacsimError(f"new_fleet: expected a column of shape ({n},), got {a.shape}")
        return a.copy()

    tables = col(table, 0, np.int32)
    tables.flags.writeable = False  # set_table keeps the wait list's groups in step
    return Fleet(
        state=np.zeros(n, dtype=np.int8),
        link=np.full(n, -1, dtype=np.int32),
        t_ready_s=np.full(n, np.nan),
        origin=col(origin, -1, np.int32),
        table=tables,
        persons=col(persons, 1, np.int32),
        kind=col(kind, 0, np.int8),
        t_release_s=np.full(n, np.nan),
        t_arrive_s=np.full(n, np.nan),
        dest_node=np.full(n, -1, dtype=np.int32),
        flags=np.zeros(n, dtype=np.uint8),
    )


def new_queues(links: Links, n_vehicles: int) -> Queues:
    """Allocate empty queues for ``links`` and a wait list for ``n_vehicles``."""
    storage = np.asarray(links.storage_veh)
    if storage.size and storage.min() < 1:
        raise EvacsimError(
            f"new_queues: links.storage_veh: expected >= 1 on every link, got min {storage.min()}"
        )
    n_links = storage.shape[0]
    off = np.zeros(n_links, dtype=np.int64)
    if n_links:
        np.cumsum(storage[:-1], out=off[1:])
    return Queues(
        count=np.zeros(n_links, dtype=np.int32),
        head=np.zeros(n_links, dtype=np.int32),
        buf_off=off,
        buf=np.full(int(storage.sum()), -1, dtype=np.int32),
        last_exit_s=np.full(n_links, -np.inf),
        peak_count=np.zeros(n_links, dtype=np.int32),
        exits=np.zeros(n_links, dtype=np.int64),
        waiting=waitlist.new_wait_list(n_vehicles, np.shape(links.out_ptr)[0] - 1),
        n_wait=np.zeros(1, dtype=np.int64),
        stuck=np.zeros(n_links, dtype=np.int64),
        channel=np.full(int(n_vehicles), -1, dtype=np.int32),
        n_channel=np.zeros(1, dtype=np.int64),
        head_ready_s=np.full(n_links, np.inf),
    )


# --------------------------------------------------------------------------- kernels
# The per-link loop is written out in one function over local arrays: passing the
# NamedTuples to a helper per link costs a reference-count update per array per call
# (measured: ~0.2 us per link, 4 ms per tick on 20k empty links).


@njit(cache=True)
def _release_kernel(fleet, q, ids, t_s):
    (w_next, w_seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur, g_prev,
     o_groups, o_pos, o_hint, active, counters) = q.waiting
    state = fleet.state
    t_release = fleet.t_release_s
    origin = fleet.origin
    table = fleet.table
    kind = fleet.kind
    # every id IDLE, none twice (a repeat finds the state this loop just set): else undo
    for i in range(ids.shape[0]):
        v = ids[i]
        if state[v] != IDLE:
            for j in range(i):
                state[ids[j]] = IDLE
            return i
        state[v] = WAITING
    seq0 = counters[waitlist.SEQ]
    for i in range(ids.shape[0]):
        v = ids[i]
        t_release[v] = t_s[i]
        # = waitlist.push, written out: every array argument of an inlined helper costs
        # a reference-count update per call (sim.core.waitlist), 36 -> 10 ms at 1M
        o = origin[v]
        tb = table[v]
        special = np.int8(kind[v] != 0)
        g = o_hint[np.int64(o) * waitlist.HINTS + (tb + special) % waitlist.HINTS]
        if not (g >= 0 and g_origin[g] == o and g_table[g] == tb and g_special[g] == special):
            g = waitlist.group_of(w_next, w_seq, g_origin, g_table, g_special, g_head, g_tail,
                                  g_next, g_cur, g_prev, o_groups, o_pos, o_hint, active,
                                  counters, o, tb, special)
        w_next[v] = -1
        w_seq[v] = seq0 + i
        t = g_tail[g]
        if t < 0:
            g_head[g] = v
        else:
            w_next[t] = v
        g_tail[g] = v
    counters[waitlist.SEQ] = seq0 + ids.shape[0]
    q.n_wait[0] += ids.shape[0]
    return -1


@njit(cache=True)
def _step_kernel(
    links,
    q,
    fleet,
    next_link,
    target,
    shelter_open,
    shelter_room,
    speed_factor,
    green,
    stuck_s,
    t0,
    dt,
    max_passes,
    stats,
):
    t1 = t0 + dt
    to_node = links.to_node
    length_m = links.length_m
    ffs_mps = links.ffs_mps
    capacity = links.capacity_vps
    storage = links.storage_veh
    count = q.count
    head = q.head
    buf_off = q.buf_off
    buf = q.buf
    last_exit = q.last_exit_s
    peak = q.peak_count
    exits = q.exits
    head_ready = q.head_ready_s
    (w_next, w_seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur, g_prev,
     o_groups, o_pos, o_hint, active, counters) = q.waiting
    channel = q.channel
    stuck = q.stuck
    state = fleet.state
    link = fleet.link
    t_ready = fleet.t_ready_s
    table = fleet.table
    persons = fleet.persons
    kind = fleet.kind
    t_release = fleet.t_release_s
    t_arrive = fleet.t_arrive_s
    dest_node = fleet.dest_node
    flags = fleet.flags

    n_links = to_node.shape[0]
    dirty = np.zeros(n_links, dtype=np.bool_)
    dirty_list = np.empty(n_links, dtype=np.int32)
    cur = np.empty(n_links, dtype=np.int32)
    n_dirty = 0
    n_moved = 0
    n_arrived = 0
    persons_arrived = 0
    n_entered = 0
    n_parked = 0
    n_stuck = 0
    n_checked = 0

    n_pass = 0
    n_items = n_links
    pf_lk = -1  # the main pass has asked for the head vehicles of links up to pf_lk
    while True:
        # ---- one pass over links: all of them (pass 0) or the dirty ones (later passes)
        for item in range(n_items):
            lk = item if n_pass == 0 else cur[item]
            # tau = max(t_ready[head], last_exit + headway, t0) > t1 on link data alone
            # (empty links hold inf): most links cost this compare and no fleet read
            if head_ready[lk] > t1:
                continue
            headway = 1.0 / capacity[lk]
            if last_exit[lk] + headway > t1:
                continue
            node = to_node[lk]
            # prefetch hints (no effect on results): the fleet rows of the head vehicles
            # of the next two links the main pass will work on, and of the vehicle behind
            # this head, so that their cache misses overlap this link's work
            if n_pass == 0:
                steps = 1
                if pf_lk <= lk:
                    pf_lk = lk
                    steps = 2
                for _ in range(steps):
                    pf_lk += 1
                    while pf_lk < n_links and head_ready[pf_lk] > t1:
                        pf_lk += 1
                    if pf_lk < n_links:
                        u = buf[buf_off[pf_lk] + head[pf_lk]]
                        prefetch(t_ready, u)
                        prefetch(table, u)
                        prefetch(link, u)
            while count[lk] > 0:
                v = buf[buf_off[lk] + head[lk]]
                tau = max(t_ready[v], last_exit[lk] + headway, t0)
                if tau > t1:
                    break
                tb = table[v]
                tgt = target[tb]
                is_dest = (tgt == node) if tgt >= 0 else shelter_open[-tgt - 1, node]
                m = -1
                to_channel = False
                is_stuck = False
                if is_dest:
                    if tgt < 0 and shelter_room[node] <= 0:
                        flags[v] |= FLAG_FULL_SHELTER
                        break
                else:
                    m = next_link[tb, node]
                    if m >= 0:
                        if green[m] and kind[v] != 0 and speed_factor[m] > 0.0:
                            to_channel = True
                        elif count[m] >= storage[m] or speed_factor[m] <= 0.0:
                            # blocked by the next link; stuck once it waited stuck_s
                            e = max(t_ready[v], last_exit[lk] + headway)
                            if e + stuck_s <= t1:
                                is_stuck = True
                                tau = max(e + stuck_s, t0)
                            else:
                                break
                # leave link l at tau (FIFO pop)
                for j in range(1, min(count[lk], 3)):
                    pos = head[lk] + j
                    if pos >= storage[lk]:
                        pos -= storage[lk]
                    u = buf[buf_off[lk] + pos]
                    prefetch(t_ready, u)
                    prefetch(table, u)
                    prefetch(link, u)
                    prefetch(persons, u)
                h = head[lk] + 1
                if h >= storage[lk]:
                    h = 0
                head[lk] = h
                count[lk] -= 1
                last_exit[lk] = tau
                exits[lk] += 1
                if is_dest:
                    state[v] = ARRIVED
                    link[v] = -1
                    t_arrive[v] = tau
                    dest_node[v] = node
                    if tgt < 0:
                        shelter_room[node] -= persons[v]
                    n_arrived += 1
                    persons_arrived += persons[v]
                    continue
                if m < 0 or is_stuck:
                    # no route from here, or stuck: pull off the road at the node and wait
                    state[v] = WAITING
                    link[v] = -1
                    fleet.origin[v] = node
                    t_release[v] = tau
                    waitlist.push(w_next, w_seq, g_origin, g_table, g_special, g_head,
                                  g_tail, g_next, g_cur, g_prev, o_groups, o_pos, o_hint, active,
                                  counters, v, node, tb, np.int8(kind[v] != 0))
                    q.n_wait[0] += 1
                    if is_stuck:
                        flags[v] |= FLAG_STUCK
                        stuck[lk] += 1
                        n_stuck += 1
                    else:
                        n_parked += 1
                    continue
                link[v] = m
                tr = tau + length_m[m] / (ffs_mps[m] * speed_factor[m])
                t_ready[v] = tr
                n_moved += 1
                if to_channel:
                    channel[q.n_channel[0]] = v
                    q.n_channel[0] += 1
                    continue
                # enter link m at tau (FIFO push)
                if count[m] == 0:
                    head_ready[m] = tr
                pos = head[m] + count[m]
                if pos >= storage[m]:
                    pos -= storage[m]
                buf[buf_off[m] + pos] = v
                count[m] += 1
                if count[m] > peak[m]:
                    peak[m] = count[m]
                # m can still be left in this tick: revisit it unless this pass reaches it
                if tr <= t1 and (n_pass > 0 or m < lk) and not dirty[m]:
                    dirty[m] = True
                    dirty_list[n_dirty] = m
                    n_dirty += 1
            # the head changed or cannot leave: keep head_ready exact
            if count[lk] > 0:
                head_ready[lk] = t_ready[buf[buf_off[lk] + head[lk]]]
            else:
                head_ready[lk] = np.inf

        if n_pass == 0:
            # ---- the origin wait list, FIFO in release order (sim.core.waitlist): origin
            # by origin, its groups merged by sequence number; a group whose next vehicle
            # is blocked by its first link (full, closed, no route) is skipped whole
            ch0 = q.n_channel[0]
            ai = 0
            while ai < counters[0]:
                o = active[ai]
                emptied = False  # a group of o lost its last vehicle
                g = o_groups[o]
                while g >= 0:
                    g_cur[g] = g_head[g]
                    g_prev[g] = -1
                    g = g_next[g]
                while True:
                    best = -1
                    best_seq = 0
                    g = o_groups[o]
                    while g >= 0:
                        c = g_cur[g]
                        if c >= 0 and (best < 0 or w_seq[c] < best_seq):
                            best = g
                            best_seq = w_seq[c]
                        g = g_next[g]
                    if best < 0:
                        break
                    g = best
                    v = g_cur[g]
                    nxt = w_next[v]
                    n_checked += 1
                    tau = max(t_release[v], t0)
                    tb = table[v]
                    tgt = target[tb]
                    stays = True
                    blocked = False
                    if tau <= t1:
                        if (tgt == o) if tgt >= 0 else shelter_open[-tgt - 1, o]:
                            if tgt >= 0 or shelter_room[o] > 0:
                                state[v] = ARRIVED
                                t_arrive[v] = tau
                                dest_node[v] = o
                                if tgt < 0:
                                    shelter_room[o] -= persons[v]
                                n_arrived += 1
                                persons_arrived += persons[v]
                                stays = False
                            else:
                                flags[v] |= FLAG_FULL_SHELTER
                        else:
                            m = next_link[tb, o]
                            if m >= 0 and green[m] and kind[v] != 0 and speed_factor[m] > 0.0:
                                state[v] = MOVING
                                link[v] = m
                                t_ready[v] = tau + length_m[m] / (ffs_mps[m] * speed_factor[m])
                                channel[q.n_channel[0]] = v
                                q.n_channel[0] += 1
                                n_entered += 1
                                stays = False
                            elif m >= 0 and count[m] < storage[m] and speed_factor[m] > 0.0:
                                tr = tau + length_m[m] / (ffs_mps[m] * speed_factor[m])
                                if count[m] == 0:
                                    head_ready[m] = tr
                                pos = head[m] + count[m]
                                if pos >= storage[m]:
                                    pos -= storage[m]
                                buf[buf_off[m] + pos] = v
                                count[m] += 1
                                if count[m] > peak[m]:
                                    peak[m] = count[m]
                                state[v] = MOVING
                                link[v] = m
                                t_ready[v] = tr
                                n_entered += 1
                                if tr <= t1 and not dirty[m]:
                                    dirty[m] = True
                                    dirty_list[n_dirty] = m
                                    n_dirty += 1
                                stays = False
                            else:
                                # every vehicle behind it in the group has this first link
                                blocked = True
                    if stays:
                        g_prev[g] = v
                        g_cur[g] = -1 if blocked else nxt
                    else:
                        p = g_prev[g]
                        if p < 0:
                            g_head[g] = nxt
                            emptied = emptied or nxt < 0
                        else:
                            w_next[p] = nxt
                        if nxt < 0:
                            g_tail[g] = p
                        g_cur[g] = nxt
                        q.n_wait[0] -= 1
                # groups are never empty outside the scan, so with none emptied here there
                # is nothing to free (and the call, 15 arrays, costs ~40 ns an origin)
                if not (emptied and waitlist.drop_empty_groups(
                        w_next, w_seq, g_origin, g_table, g_special, g_head, g_tail, g_next,
                        g_cur, g_prev, o_groups, o_pos, o_hint, active, counters, o)):
                    ai += 1
            # origins were visited in no particular order: the channel keeps release order
            n_new = q.n_channel[0] - ch0
            if n_new > 1:
                keys = np.empty(n_new, dtype=np.int64)
                for i in range(n_new):
                    keys[i] = w_seq[channel[ch0 + i]]
                order = np.argsort(keys)
                got = channel[ch0 : ch0 + n_new].copy()
                for i in range(n_new):
                    channel[ch0 + i] = got[order[i]]

        # ---- the channel (responders on green links), in insertion order
        j = 0
        for i in range(q.n_channel[0]):
            v = channel[i]
            keep = True
            while True:
                lk = link[v]
                if t_ready[v] > t1:
                    break
                tau = max(t_ready[v], t0)
                node = to_node[lk]
                tb = table[v]
                tgt = target[tb]
                if (tgt == node) if tgt >= 0 else shelter_open[-tgt - 1, node]:
                    if tgt < 0 and shelter_room[node] <= 0:
                        flags[v] |= FLAG_FULL_SHELTER
                        break
                    exits[lk] += 1
                    state[v] = ARRIVED
                    link[v] = -1
                    t_arrive[v] = tau
                    dest_node[v] = node
                    if tgt < 0:
                        shelter_room[node] -= persons[v]
                    n_arrived += 1
                    persons_arrived += persons[v]
                    keep = False
                    break
                m = next_link[tb, node]
                if m < 0:
                    exits[lk] += 1
                    state[v] = WAITING
                    link[v] = -1
                    fleet.origin[v] = node
                    t_release[v] = tau
                    waitlist.push(w_next, w_seq, g_origin, g_table, g_special, g_head,
                                  g_tail, g_next, g_cur, g_prev, o_groups, o_pos, o_hint, active,
                                  counters, v, node, tb, np.int8(kind[v] != 0))
                    q.n_wait[0] += 1
                    n_parked += 1
                    keep = False
                    break
                if speed_factor[m] <= 0.0 or (not green[m] and count[m] >= storage[m]):
                    break
                exits[lk] += 1
                link[v] = m
                tr = tau + length_m[m] / (ffs_mps[m] * speed_factor[m])
                t_ready[v] = tr
                n_moved += 1
                if green[m]:
                    continue
                if count[m] == 0:
                    head_ready[m] = tr
                pos = head[m] + count[m]
                if pos >= storage[m]:
                    pos -= storage[m]
                buf[buf_off[m] + pos] = v
                count[m] += 1
                if count[m] > peak[m]:
                    peak[m] = count[m]
                if tr <= t1 and not dirty[m]:
                    dirty[m] = True
                    dirty_list[n_dirty] = m
                    n_dirty += 1
                keep = False
                break
            if keep:
                channel[j] = v
                j += 1
        q.n_channel[0] = j

        n_pass += 1
        if n_dirty == 0 or n_pass >= max_passes:
            break
        # ---- next pass: the dirty links in ascending order
        n_items = n_dirty
        cur[:n_items] = dirty_list[:n_items]
        cur[:n_items].sort()
        for i in range(n_items):
            dirty[cur[i]] = False
        n_dirty = 0

    stats[0] = n_moved
    stats[1] = n_arrived
    stats[2] = persons_arrived
    stats[3] = n_entered
    stats[4] = n_pass
    stats[5] = n_parked
    stats[6] = n_stuck
    stats[7] = n_checked


# --------------------------------------------------------------------------- wrappers


_LINK_DTYPES = {
    "from_node": np.int32,
    "to_node": np.int32,
    "length_m": np.float64,
    "ffs_mps": np.float64,
    "lanes": np.float64,
    "capacity_vps": np.float64,
    "storage_veh": np.int32,
}
_FLEET_DTYPES = {
    "state": np.int8,
    "link": np.int32,
    "t_ready_s": np.float64,
    "origin": np.int32,
    "table": np.int32,
    "persons": np.int32,
    "kind": np.int8,
    "t_release_s": np.float64,
    "t_arrive_s": np.float64,
    "dest_node": np.int32,
    "flags": np.uint8,
}
# dtype instances (numpy's singletons) so the per-tick check can compare by identity
_LINK_DTYPES = {k: np.dtype(v) for k, v in _LINK_DTYPES.items()}
_FLEET_DTYPES = {k: np.dtype(v) for k, v in _FLEET_DTYPES.items()}


def _check_columns(who: str, what: str, tup, dtypes: dict, n: int) -> None:
    """Every column of a NamedTuple of arrays has its dtype and length ``n``."""
    shape = (n,)
    for name, dtype in dtypes.items():
        a = getattr(tup, name)
        if type(a) is not np.ndarray or a.dtype is not dtype or a.shape != shape:
            if isinstance(a, np.ndarray) and a.dtype == dtype and a.shape == shape:
                continue  # a subclass or an equal, non-identical dtype object
            raise EvacsimError(
                f"{who}: {what}.{name}: expected {np.dtype(dtype).name}[{n}], got "
                f"{getattr(a, 'dtype', type(a).__name__)}{list(getattr(a, 'shape', ()))} "
                f"(build it with the module's constructor)"
            )


def _check_links(who: str, links: Links, values: bool = True) -> None:
    """Links as :func:`sim.core.links.build_links` makes them, with positive capacities."""
    n_links = np.shape(links.to_node)[0]
    _check_columns(who, "links", links, _LINK_DTYPES, n_links)
    if values and n_links and (
        links.length_m.min() <= 0
        or links.ffs_mps.min() <= 0
        or links.capacity_vps.min() <= 0
        or links.storage_veh.min() < 1
    ):
        raise EvacsimError(
            f"{who}: links: expected length_m, ffs_mps, capacity_vps > 0 and storage_veh >= 1"
        )


def _need(who: str, name: str, a: np.ndarray, dtype, shape: tuple) -> None:
    """An array argument of ``who`` with exactly this dtype and shape, or a clear error."""
    if not isinstance(a, np.ndarray) or a.dtype != dtype or a.shape != shape:
        got = (getattr(a, "dtype", type(a).__name__), getattr(a, "shape", None))
        raise EvacsimError(
            f"{who}: {name}: expected {np.dtype(dtype).name}{list(shape)}, "
            f"got {got[0]}{list(got[1]) if got[1] is not None else ''}"
        )


def _release_ids_times(who: str, state: np.ndarray, origin: np.ndarray, ids, t_s,
                       states: bool = True):
    """Validate the arguments of a release; return (ids int64[k], times float64[k]).

    ``states=False`` leaves "unique and IDLE" to the caller's kernel (one pass there).
    """
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    n = state.shape[0]
    if ids.ndim != 1:
        raise EvacsimError(f"{who}: ids: expected a 1-D array, got shape {ids.shape}")
    if np.ndim(t_s) not in (0, 1) or (np.ndim(t_s) == 1 and np.shape(t_s) != ids.shape):
        raise EvacsimError(
            f"{who}: t_s: expected one time or one per id ({ids.size}), got shape {np.shape(t_s)}"
        )
    times = np.ascontiguousarray(np.broadcast_to(np.asarray(t_s, dtype=np.float64), ids.shape))
    if ids.size:
        if ids.min() < 0 or ids.max() >= n or (states and np.unique(ids).size != ids.size):
            raise EvacsimError(
                f"{who}: ids: expected unique indices in [0, {n}), got {ids[:5].tolist()}..."
            )
        bad = ids[state[ids] != IDLE] if states else ids[:0]
        if bad.size:
            raise EvacsimError(f"{who}: ids: expected IDLE agents, got {bad[:5].tolist()}")
        bad = ids[origin[ids] < 0]
        if bad.size:
            raise EvacsimError(
                f"{who}: origin: expected a node index, got -1 for {bad[:5].tolist()}"
            )
        if not np.all(np.isfinite(times)):
            raise EvacsimError(f"{who}: t_s: expected finite times, got {t_s!r}")
    return ids, times


def release(fleet: Fleet, queues: Queues, ids: np.ndarray, t_s: float | np.ndarray) -> None:
    """Release IDLE vehicles ``ids``: they join the origin wait list in the given order.

    Parameters
    ----------
    fleet, queues
        Updated in place.
    ids
        Unique vehicle indices, all IDLE, with ``origin >= 0``. Their order is the FIFO
        order of the wait list (give them sorted by release time).
    t_s
        Release time, seconds, one for all or one per id; a vehicle enters its first link
        at ``max(t_s, t0)`` of the tick that processes it.
    """
    ids, times = _release_ids_times("release", fleet.state, fleet.origin, ids, t_s,
                                    states=False)
    bad = _release_kernel(fleet, queues, ids, times)
    if bad >= 0:
        v = int(ids[bad])
        why = "it appears twice" if np.count_nonzero(ids == v) > 1 else f"state {fleet.state[v]}"
        raise EvacsimError(f"release: ids: expected unique IDLE vehicles, got {v} ({why})")


def waiting(queues: Queues) -> np.ndarray:
    """The waiting vehicles (state WAITING), in the wait list's FIFO order: int32[n_wait]."""
    return waitlist.members_in_order(queues.waiting, int(queues.n_wait[0]))


def _check_wait(fleet: Fleet, queues: Queues) -> None:
    """The wait list's groups agree with the fleet (see :func:`sim.core.waitlist.check`)."""
    code = waitlist.check(queues.waiting, fleet.state, fleet.origin, fleet.table, fleet.kind,
                          int(queues.n_wait[0]))
    if code:
        what = {1: "a waiting vehicle's origin, table or kind no longer matches its group "
                   "(tables must change through set_table)",
                2: "a vehicle in the wait list is not WAITING",
                3: "a group is out of release order",
                4: "n_wait differs from the vehicles in the wait list",
                5: "the list of origins with waiting vehicles is inconsistent"}[code]
        raise EvacsimError(f"step_vehicles: queues: {what}")


def check_head_ready(who: str, fleet: Fleet, queues: Queues) -> None:
    """``queues.head_ready_s`` is a lower bound of every head vehicle's ``t_ready_s``.

    The kernel skips a link whose ``head_ready_s`` lies beyond the tick without reading
    its head vehicle, so a head whose ``t_ready_s`` was lowered outside the kernel (a
    raw write to ``fleet.t_ready_s``) would be held too long: refuse that state.
    Raising it (stopping a vehicle, ``inf``) is allowed. O(links).
    """
    busy = np.flatnonzero(queues.count > 0)
    heads = queues.buf[queues.buf_off[busy] + queues.head[busy]]
    bad = queues.head_ready_s[busy] > fleet.t_ready_s[heads]
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise EvacsimError(
            f"{who}: fleet.t_ready_s: vehicle {int(heads[k])} at the head of link "
            f"{int(busy[k])} is ready at {fleet.t_ready_s[heads[k]]!r} s, before "
            f"queues.head_ready_s {queues.head_ready_s[busy[k]]!r} s (t_ready_s of a vehicle "
            f"on a link may only be raised outside sim.core.queue)"
        )


def set_table(fleet: Fleet, queues: Queues | None, rows, tables) -> None:
    """Give vehicles ``rows`` the routing-table rows ``tables``.

    The only way to change ``fleet.table`` (it is read-only): a WAITING vehicle moves to
    the wait-list group of its new table and keeps its place in the list's order.

    Parameters
    ----------
    fleet
        The fleet (or a view of its first rows, as the model's residents' fleet is).
    queues
        The queues the fleet steps with; may be None while no row is WAITING.
    rows
        Unique vehicle indices.
    tables
        One table row for all, or one per row.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64).reshape(-1)
    n = fleet.state.shape[0]
    if rows.size and (rows.min() < 0 or rows.max() >= n or np.unique(rows).size != rows.size):
        raise EvacsimError(f"set_table: rows: expected unique indices in [0, {n}), got "
                           f"{rows[:5].tolist()}...")
    new = np.broadcast_to(np.asarray(tables, dtype=np.int32), rows.shape).copy()
    if new.size and new.min() < 0:
        raise EvacsimError(f"set_table: tables: expected rows >= 0, got {new.min()}")
    old = fleet.table[rows].copy()
    _write_locked(fleet.table, rows, new)
    wait = fleet.state[rows] == WAITING
    if not wait.any():
        return
    if queues is None:
        raise EvacsimError("set_table: queues: needed to regroup WAITING vehicles")
    r = rows[wait]
    order = np.argsort(queues.waiting.seq[r], kind="stable")
    r = r[order]
    waitlist.move(queues.waiting, r.astype(np.int32), fleet.origin[r],
                  (fleet.kind[r] != 0).astype(np.int8), old[wait][order], new[wait][order])


def _write_locked(a: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """Write into a read-only column (or a view of one), then lock it again."""
    chain = [a]
    while isinstance(chain[-1].base, np.ndarray):
        chain.append(chain[-1].base)
    for x in reversed(chain):  # the owner first: a view can be unlocked only after it
        x.flags.writeable = True
    try:
        a[rows] = values
    finally:
        for x in chain:
            x.flags.writeable = False


def shelter_sets(
    who: str, shelter_open: np.ndarray, target: np.ndarray, n_nodes: int
) -> np.ndarray:
    """Check ``shelter_open`` and ``target`` together; return the sets as bool[S, N].

    A 1-D ``shelter_open`` is one set (a view, no copy). Targets must be node indices or
    ``-k-1`` for an existing set ``k``.
    """
    if isinstance(shelter_open, np.ndarray) and shelter_open.ndim == 1:
        shelter_open = shelter_open.reshape(1, -1)
    if (
        not isinstance(shelter_open, np.ndarray)
        or shelter_open.dtype != np.bool_
        or shelter_open.ndim != 2
        or shelter_open.shape[1] != n_nodes
        or shelter_open.shape[0] < 1
    ):
        raise EvacsimError(
            f"{who}: shelter_open: expected bool[{n_nodes}] or bool[S, {n_nodes}], got "
            f"{getattr(shelter_open, 'dtype', type(shelter_open).__name__)}"
            f"{list(getattr(shelter_open, 'shape', ()))}"
        )
    n_sets = shelter_open.shape[0]
    # (a few tables: Python's min/max of the list beat two numpy reductions per tick)
    t = target.tolist()
    if t and (min(t) < -n_sets or max(t) >= n_nodes):
        raise EvacsimError(
            f"{who}: target: expected node indices in [0, {n_nodes}) or shelter sets "
            f"-1..-{n_sets}, got {target}"
        )
    return shelter_open


def step_vehicles(
    links: Links,
    queues: Queues,
    fleet: Fleet,
    next_link: np.ndarray,
    target: np.ndarray,
    shelter_open: np.ndarray,
    shelter_room: np.ndarray,
    speed_factor: np.ndarray,
    t0_s: float,
    dt_s: float,
    *,
    max_passes: int = DEFAULT_MAX_PASSES,
    check_values: bool = True,
    green: np.ndarray | None = None,
    stuck_s: float = np.inf,
) -> StepStats:
    """Advance all vehicles over the tick ``(t0_s, t0_s + dt_s]`` (see the module docstring).

    Parameters
    ----------
    links
        The drive network.
    queues, fleet
        Updated in place.
    next_link
        int32[T, N]: routing tables (:func:`sim.routing.stack_tables`).
    target
        int32[T]: the target node of each table, or ``-k-1`` for "any node open in
        shelter set ``k``" (-1: set 0).
    shelter_open
        bool[S, N] (or bool[N], one set): per shelter set, the shelter nodes that table's
        travellers may enter (sets let households with different orders head for
        different shelters, e.g. only those outside a threat zone).
    shelter_room
        int64[N]: persons of room left per shelter node; updated in place.
    speed_factor
        float64[L] in [0, inf): multiplies the free-flow speed; 0 closes the link to
        entering vehicles.
    t0_s, dt_s
        Tick start and length, seconds (``dt_s > 0``).
    max_passes
        Cap on passes over links per tick.
    check_values
        Check every value range (link indices in the tables, speed factors, table rows,
        link constants): O(links + nodes x tables) per call. Types and shapes are always
        checked. A caller that builds these arrays itself and checks them when they change
        (the model) passes False: the checks cost several times the kernel's own time.

    Returns
    -------
    StepStats
    """
    _check_links("step_vehicles", links, check_values)
    n_links = links.to_node.shape[0]
    n_nodes = links.out_ptr.shape[0] - 1
    _check_columns("step_vehicles", "fleet", fleet, _FLEET_DTYPES, fleet.state.shape[0])
    if queues.waiting.next.shape[0] < fleet.state.shape[0] or (
        check_values and queues.buf.shape[0] < links.storage_veh.sum()
    ):
        raise EvacsimError(
            "step_vehicles: queues: expected queues from new_queues(links, n_vehicles) for "
            "these links and this fleet"
        )
    if not isinstance(next_link, np.ndarray) or next_link.ndim != 2:
        raise EvacsimError(
            f"step_vehicles: next_link: expected int32[T, {n_nodes}], "
            f"got {getattr(next_link, 'shape', type(next_link).__name__)}"
        )
    n_tables = next_link.shape[0]
    _need("step_vehicles", "next_link", next_link, np.int32, (n_tables, n_nodes))
    _need("step_vehicles", "target", target, np.int32, (n_tables,))
    shelter_open = shelter_sets("step_vehicles", shelter_open, target, n_nodes)
    _need("step_vehicles", "shelter_room", shelter_room, np.int64, (n_nodes,))
    _need("step_vehicles", "speed_factor", speed_factor, np.float64, (n_links,))
    _need("step_vehicles", "queues.count", queues.count, np.int32, (n_links,))
    _need("step_vehicles", "queues.head_ready_s", queues.head_ready_s, np.float64, (n_links,))
    if fleet.table.flags.writeable:
        raise EvacsimError(
            "step_vehicles: fleet.table: expected the read-only column of new_fleet (change "
            "tables with set_table, which keeps the wait list's groups in step)"
        )
    if check_values:
        check_step_values("step_vehicles", next_link, speed_factor, fleet.table, n_links,
                          links.from_node)
        _check_wait(fleet, queues)
        check_head_ready("step_vehicles", fleet, queues)
    if not (math.isfinite(t0_s) and math.isfinite(dt_s) and dt_s > 0):
        raise EvacsimError(
            f"step_vehicles: t0_s, dt_s: expected finite with dt_s > 0, got {t0_s!r}, {dt_s!r}"
        )
    if green is None:
        green = np.zeros(n_links, dtype=np.bool_)
    _need("step_vehicles", "green", green, np.bool_, (n_links,))
    if not (stuck_s > 0):  # NaN fails too
        raise EvacsimError(f"step_vehicles: stuck_s: expected > 0 seconds (inf: never), "
                           f"got {stuck_s!r}")
    if queues.channel.shape[0] < fleet.state.shape[0] or queues.stuck.shape != (n_links,):
        raise EvacsimError(
            "step_vehicles: queues: expected queues from new_queues(links, n_vehicles) for "
            "these links and this fleet"
        )
    stats = np.zeros(8, dtype=np.int64)
    _step_kernel(
        links,
        queues,
        fleet,
        next_link,
        target,
        shelter_open,
        shelter_room,
        speed_factor,
        green,
        float(stuck_s),
        float(t0_s),
        float(dt_s),
        int(max_passes),
        stats,
    )
    return StepStats(*stats.tolist())


def check_step_values(
    who: str,
    next_link: np.ndarray,
    speed_factor: np.ndarray,
    table: np.ndarray,
    n_links: int,
    from_node: np.ndarray | None = None,
) -> None:
    """Value ranges of a step's routing tables, speed factors and table rows.

    With ``from_node`` (the links' start nodes) every table entry ``next_link[t, n]`` must
    also be a link leaving node ``n``: the wait list relies on a first link belonging to
    its origin node (:mod:`sim.core.waitlist`).
    """
    n_tables = next_link.shape[0]
    if next_link.size and (next_link.min() < -1 or next_link.max() >= n_links):
        raise EvacsimError(
            f"{who}: next_link: expected link indices in [-1, {n_links}), got "
            f"[{next_link.min()}, {next_link.max()}]"
        )
    if from_node is not None and next_link.size:
        t, n = np.nonzero(next_link >= 0)
        bad = from_node[next_link[t, n]] != n
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise EvacsimError(
                f"{who}: next_link: expected links leaving their node; row {t[k]}, node "
                f"{n[k]} gives link {next_link[t[k], n[k]]}, which leaves node "
                f"{from_node[next_link[t[k], n[k]]]}"
            )
    if n_links and not (np.all(np.isfinite(speed_factor)) and speed_factor.min() >= 0):
        raise EvacsimError(f"{who}: speed_factor: expected finite values >= 0")
    if table.size and (table.min() < 0 or table.max() >= n_tables):
        raise EvacsimError(
            f"{who}: table: expected rows in [0, {n_tables}), got [{table.min()}, {table.max()}]"
        )
