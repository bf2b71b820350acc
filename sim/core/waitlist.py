"""The origin wait list: released vehicles waiting to enter their first link.

What the vehicle kernel must do with it is defined as one FIFO list in release order
(:mod:`sim.core.queue`, step 2; ``tests/reference.py``): every tick each waiting
vehicle, in that order, enters its first link if there is room. Walking that list every
tick costs one check per waiting vehicle per tick, and when first links are full (the
queues of a large evacuation reach back to the homes) vehicles wait for hundreds of
ticks: at a million trips that walk was half of the kernel's time (177-384 M checks,
``benchmarks/RESULTS.md``).

So the list is kept in **groups**: the vehicles with the same origin node, routing table
and class (resident, or responder: responders may use a green link's reserved lane).
Within one tick's scan every vehicle of a group has the same first link and the same
destination test, and the scan only adds vehicles to links, so once the group's next
vehicle finds its first link full or closed (or has no route) so does every vehicle
behind it: the scan skips the rest of the group. The result is exactly that of the
single list:

- vehicles of one origin are visited in the single list's order (a merge of the
  origin's groups by release sequence number ``seq``);
- vehicles of different origins never compete in the scan (a first link leaves its own
  origin node; a shelter's room is its own node's), so origins may be visited in any
  order; the one list whose order depends on it, the green channel, is re-sorted by
  ``seq`` afterwards (the kernel does that).

A waiting vehicle's group must follow its table: change ``Fleet.table`` only through
:func:`sim.core.queue.set_table` (``new_fleet`` makes the column read-only so that a
direct write fails loudly instead of leaving a vehicle in the wrong group). Its origin
only changes inside the kernel (a vehicle that parks joins the group of the node where
it parked).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = ["WaitList", "new_wait_list"]

# counters[...]
_N_ACTIVE = 0  # origins with at least one group
_SEQ = 1  # next release sequence number
SEQ = _SEQ  # (for kernels that append vehicles themselves)
_FREE = 2  # head of the free list of groups (-1: none)
_HWM = 3  # groups ever allocated (slots below it are in use or free)
# guesses kept per origin node (o_hint): the tables of the four sides, or of the
# residents' and a few responder tables, each find their group at once
HINTS = 4


class WaitList(NamedTuple):
    """Waiting vehicles in groups (origin, table, class), each FIFO in release order.

    Attributes
    ----------
    next : int32[V]
        Next vehicle of the same group, -1 at its tail.
    seq : int64[V]
        Release sequence number: the order of the single FIFO wait list.
    g_origin, g_table : int32[G]
        The group's origin node and routing table.
    g_special : int8[G]
        1 for responders (``kind != 0``), 0 for residents' cars.
    g_head, g_tail : int32[G]
        First and last vehicle of the group (-1 when empty).
    g_next : int32[G]
        Next group of the same origin, or next free group.
    g_cur, g_prev : int32[G]
        The scan's cursor in the group (-1: done for this tick) and the last vehicle it
        kept (-1: none yet).
    o_groups : int32[N]
        First group of each origin node, -1 when none.
    o_pos : int32[N]
        Position of the node in ``active``, -1 when it has no group.
    o_hint : int32[N * HINTS]
        A guess of the group (o, tb, special) at ``o * HINTS + (tb + special) % HINTS``,
        -1 when none. Only a guess: :func:`group_of` takes it when the group's own fields
        match (a freed group's ``g_origin`` is -1), else walks the origin's groups and
        writes the guess. Without it each lookup walks the linked groups of the origin,
        a chain of dependent loads with a hard-to-predict branch per group: 90 ns a
        release against 3 ns (1M releases over 1,444 origins x 4 tables).
    active : int32[N]
        Origin nodes with at least one group (``counters[0]`` of them).
    counters : int64[4]
        Active origins, next sequence number, free-list head, groups allocated.
    """

    next: np.ndarray
    seq: np.ndarray
    g_origin: np.ndarray
    g_table: np.ndarray
    g_special: np.ndarray
    g_head: np.ndarray
    g_tail: np.ndarray
    g_next: np.ndarray
    g_cur: np.ndarray
    g_prev: np.ndarray
    o_groups: np.ndarray
    o_pos: np.ndarray
    o_hint: np.ndarray
    active: np.ndarray
    counters: np.ndarray


def new_wait_list(n_vehicles: int, n_nodes: int) -> WaitList:
    """An empty wait list for ``n_vehicles`` vehicles on a network of ``n_nodes`` nodes.

    A group holds at least one vehicle outside the scan (which frees the groups it
    empties) and :func:`move` (which frees them before it creates new ones), so
    ``n_vehicles`` groups always suffice.

    The group arrays are left uninitialised: a group slot is written in full when
    :func:`group_of` first takes it (``counters[3]`` counts those) and nothing reads a
    slot before. They are sized for the worst case, a group per vehicle, while a run uses
    a few thousand: filling them was 29 MB of memory writes and page faults per million
    vehicles (issue 17); untouched pages cost nothing.
    """
    v, g, n = int(n_vehicles), max(int(n_vehicles), 1), int(n_nodes)
    counters = np.zeros(4, dtype=np.int64)
    counters[_FREE] = -1
    return WaitList(
        next=np.full(v, -1, dtype=np.int32),
        seq=np.full(v, -1, dtype=np.int64),
        g_origin=np.empty(g, dtype=np.int32),
        g_table=np.empty(g, dtype=np.int32),
        g_special=np.empty(g, dtype=np.int8),
        g_head=np.empty(g, dtype=np.int32),
        g_tail=np.empty(g, dtype=np.int32),
        g_next=np.empty(g, dtype=np.int32),
        g_cur=np.empty(g, dtype=np.int32),
        g_prev=np.empty(g, dtype=np.int32),
        o_groups=np.full(n, -1, dtype=np.int32),
        o_pos=np.full(n, -1, dtype=np.int32),
        o_hint=np.full(n * HINTS, -1, dtype=np.int32),
        active=np.full(n, -1, dtype=np.int32),
        counters=counters,
    )


# --------------------------------------------------------------------------- kernels
# The helpers take the WaitList's arrays one by one (the caller unpacks the NamedTuple
# once) and are inlined into their callers: reading an array out of the NamedTuple
# on every call costs a reference-count update per array, which measured ~150 ns a push
# against ~15 ns this way.
# Each array argument of an inlined helper still costs a reference-count update per call
# (~1 ns an array: a 15-array group_of call measured 44 ns against 2 ns for its hint
# check written out), so the hot paths use the small helpers find_group and append and
# call group_of only when the hint misses.
# numba's on-disk cache keys a kernel on its own file only: after changing an inlined
# helper here, touch sim/core/queue.py (or clear its __pycache__) so its kernels recompile.


@njit(inline="always")
def find_group(o_hint, g_origin, g_table, g_special, o, tb, special):
    """The group (o, tb, special) if ``o_hint`` knows it, else -1 (then use group_of)."""
    g = o_hint[np.int64(o) * HINTS + (tb + special) % HINTS]
    if g >= 0 and g_origin[g] == o and g_table[g] == tb and g_special[g] == special:
        return g
    return -1


@njit(inline="always")
def append(nxt, seq, g_head, g_tail, counters, v, g):
    """Append vehicle ``v`` to the tail of group ``g`` with the next sequence number."""
    nxt[v] = -1
    seq[v] = counters[_SEQ]
    counters[_SEQ] += 1
    t = g_tail[g]
    if t < 0:
        g_head[g] = v
    else:
        nxt[t] = v
    g_tail[g] = v


@njit(inline="always")
def group_of(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur, g_prev,
             o_groups, o_pos, o_hint, active, counters, o, tb, special):
    """The group (o, tb, special), created (empty) when missing."""
    k = np.int64(o) * HINTS + (tb + special) % HINTS
    g = o_hint[k]
    if g >= 0 and g_origin[g] == o and g_table[g] == tb and g_special[g] == special:
        return g
    g = o_groups[o]
    while g >= 0:
        if g_table[g] == tb and g_special[g] == special:
            o_hint[k] = g
            return g
        g = g_next[g]
    if counters[_FREE] >= 0:
        g = counters[_FREE]
        counters[_FREE] = g_next[g]
    else:
        g = counters[_HWM]
        if g >= g_origin.shape[0]:  # cannot happen (see new_wait_list); never write past
            raise IndexError("wait list: more groups than vehicles")
        counters[_HWM] += 1
    g_origin[g] = o
    g_table[g] = tb
    g_special[g] = special
    g_head[g] = -1
    g_tail[g] = -1
    g_cur[g] = -1
    g_prev[g] = -1
    if o_groups[o] < 0:
        o_pos[o] = counters[_N_ACTIVE]
        active[counters[_N_ACTIVE]] = o
        counters[_N_ACTIVE] += 1
    g_next[g] = o_groups[o]
    o_groups[o] = g
    o_hint[k] = g
    return g


@njit(inline="always")
def push(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur, g_prev,
         o_groups, o_pos, o_hint, active, counters, v, o, tb, special):
    """Append vehicle ``v`` to group (o, tb, special) with the next sequence number."""
    g = find_group(o_hint, g_origin, g_table, g_special, o, tb, special)
    if g < 0:
        g = group_of(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur,
                     g_prev, o_groups, o_pos, o_hint, active, counters, o, tb, special)
    append(nxt, seq, g_head, g_tail, counters, v, g)


@njit(inline="always")
def drop_empty_groups(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur,
                      g_prev, o_groups, o_pos, o_hint, active, counters, o):
    """Free the empty groups of origin ``o``; take ``o`` off the active list if none is left.

    Returns True when ``o`` left the active list (its slot now holds another origin).
    """
    prev = -1
    g = o_groups[o]
    while g >= 0:
        nx = g_next[g]
        if g_head[g] < 0:
            if prev < 0:
                o_groups[o] = nx
            else:
                g_next[prev] = nx
            g_origin[g] = -1
            g_next[g] = counters[_FREE]
            counters[_FREE] = g
        else:
            prev = g
        g = nx
    if o_groups[o] >= 0 or o_pos[o] < 0:  # groups left, or not active anyway
        return False
    i = o_pos[o]
    last = counters[_N_ACTIVE] - 1
    moved = active[last]
    active[i] = moved
    o_pos[moved] = i
    active[last] = -1
    o_pos[o] = -1
    counters[_N_ACTIVE] = last
    return True


@njit(cache=True)
def move(w, rows, origin, special, old_table, new_table):
    """Move waiting vehicles ``rows`` from group (origin, old_table) to (origin, new_table).

    Each keeps its sequence number, so its place in the single list's order. Per-row
    arrays (``origin``, ``special``, ``old_table``, ``new_table``) are aligned with
    ``rows``; ``rows`` must be sorted by sequence number. Cost: one walk of every group
    touched.
    """
    (nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur, g_prev,
     o_groups, o_pos, o_hint, active, counters) = w
    n = rows.shape[0]
    mark = np.zeros(nxt.shape[0], dtype=np.bool_)
    for i in range(n):
        mark[rows[i]] = True
    # 1. unlink the rows from their old groups (one walk per group)
    for i in range(n):
        g = group_of(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur,
                     g_prev, o_groups, o_pos, o_hint, active, counters,
                     origin[i], old_table[i], special[i])
        prev = -1
        v = g_head[g]
        while v >= 0:
            nx = nxt[v]
            if mark[v]:
                if prev < 0:
                    g_head[g] = nx
                else:
                    nxt[prev] = nx
                if nx < 0:
                    g_tail[g] = prev
                nxt[v] = -1
                mark[v] = False
            else:
                prev = v
            v = nx
    # free the groups left empty first: at most one group per waiting vehicle, always
    for i in range(n):
        drop_empty_groups(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next,
                          g_cur, g_prev, o_groups, o_pos, o_hint, active, counters, origin[i])
    # 2. insert them, in sequence order, into their new groups at their sequence
    # position; a cursor per group (g_prev) makes each group's walk one pass
    for i in range(n):
        g = group_of(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur,
                     g_prev, o_groups, o_pos, o_hint, active, counters,
                     origin[i], new_table[i], special[i])
        g_prev[g] = -1
    for i in range(n):
        v = rows[i]
        s = seq[v]
        g = group_of(nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur,
                     g_prev, o_groups, o_pos, o_hint, active, counters,
                     origin[i], new_table[i], special[i])
        p = g_prev[g]
        nx = g_head[g] if p < 0 else nxt[p]
        while nx >= 0 and seq[nx] < s:
            p = nx
            nx = nxt[nx]
        nxt[v] = nx
        if p < 0:
            g_head[g] = v
        else:
            nxt[p] = v
        if nx < 0:
            g_tail[g] = v
        g_prev[g] = v


@njit(cache=True)
def members_in_order(w, n_wait):
    """The waiting vehicles in the single list's order (release sequence)."""
    (nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur, g_prev,
     o_groups, o_pos, o_hint, active, counters) = w
    out = np.empty(n_wait, dtype=np.int32)
    n = 0
    for i in range(counters[_N_ACTIVE]):
        g = o_groups[active[i]]
        while g >= 0:
            v = g_head[g]
            while v >= 0 and n < n_wait:
                out[n] = v
                n += 1
                v = nxt[v]
            g = g_next[g]
    keys = np.empty(n, dtype=np.int64)
    for k in range(n):
        keys[k] = seq[out[k]]
    return out[:n][np.argsort(keys)]


@njit(cache=True)
def check(w, state, origin, table, kind, n_wait):
    """Consistency of the groups with the fleet; 0 when consistent, else a problem code.

    1: a member's origin, table or class differs from its group's; 2: a member is not
    WAITING; 3: sequence numbers not increasing along a group; 4: the number of members
    differs from ``n_wait``; 5: the active list and ``o_pos`` disagree.
    """
    (nxt, seq, g_origin, g_table, g_special, g_head, g_tail, g_next, g_cur, g_prev,
     o_groups, o_pos, o_hint, active, counters) = w
    n = 0
    for i in range(counters[_N_ACTIVE]):
        o = active[i]
        if o_pos[o] != i or o_groups[o] < 0:
            return 5
        g = o_groups[o]
        while g >= 0:
            v = g_head[g]
            last = -1
            while v >= 0:
                if (origin[v] != o or table[v] != g_table[g]
                        or (1 if kind[v] != 0 else 0) != g_special[g]):
                    return 1
                if state[v] != 1:  # WAITING
                    return 2
                if seq[v] <= last:
                    return 3
                last = seq[v]
                n += 1
                v = nxt[v]
            g = g_next[g]
    if n != n_wait:
        return 4
    return 0
