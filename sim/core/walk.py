"""Pedestrians on the walking network: link speeds from a speed-density relation.

A walker is a household walking as one group (``persons``). Its speed on a link is
``v0 * f(rho) * speed_factor``, where ``rho`` is the density of the *other* walkers on
the link at the start of the tick (persons per m² of walkway, ``length_m * lanes`` with
``lanes`` = walkway width in metres for walk links) and ``f`` is Weidmann's (1993)
speed-density relation. The group itself is not counted, so a lone household walks at its
free speed ``v0`` and takes exactly ``L / v0``. Pedestrians have no storage limit:
density slows them, it never stops them (``f`` is floored at :data:`MIN_SPEED_FRACTION`).

Within one tick ``(t0, t0 + dt]`` a walker uses its remaining time to cross as many
links as it can, with exact times at nodes. At a node it takes ``next_link[table, node]``;
arrival and full-shelter rules are those of :mod:`sim.core.queue`. A walker that finds no
route, a closed next link (``speed_factor == 0``) or a full shelter waits at the end of
its link. Walkers are processed in index order, which decides who gets the last places
of a shelter within a tick.

Notes
-----
Weidmann, U. (1993) *Transporttechnik der Fussgänger*, Schriftenreihe des IVT Nr. 90,
ETH Zürich, 2nd ed., eq. for the level-walking fundamental diagram:
``v = v0 * (1 - exp(-gamma * (1/rho - 1/rho_max)))``, ``gamma = 1.913 1/m²``,
``rho_max = 5.4 P/m²`` (v0 = 1.34 m/s in the original; here v0 is per walker, see
docs/references.md §4.3).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from sim._errors import EvacsimError
from sim.core.links import Links
from sim.core.queue import (
    ARRIVED,
    FLAG_FULL_SHELTER,
    IDLE,
    MOVING,
    WAITING,
    _check_columns,
    _check_links,
    _need,
    _release_ids_times,
    check_step_values,
    shelter_sets,
)

__all__ = [
    "IDLE",
    "WAITING",
    "MOVING",
    "ARRIVED",
    "FLAG_FULL_SHELTER",
    "WEIDMANN_GAMMA_M2",
    "WEIDMANN_RHO_MAX_PM2",
    "MIN_SPEED_FRACTION",
    "Walkers",
    "WalkStats",
    "weidmann_factor",
    "new_walkers",
    "release_walkers",
    "step_walkers",
]

WEIDMANN_GAMMA_M2 = 1.913  # Weidmann (1993), fit constant, 1/m²
WEIDMANN_RHO_MAX_PM2 = 5.4  # Weidmann (1993), jam density, persons/m²
# Our choice, not Weidmann's: a crowd above jam density still creeps at 5 % of v0, so a
# packed link empties eventually instead of freezing forever.
MIN_SPEED_FRACTION = 0.05
DEFAULT_MAX_HOPS = 10_000  # links one walker may cross in a tick; a guard against 0-length loops


class Walkers(NamedTuple):
    """All walking groups, one row each (states as in :mod:`sim.core.queue`).

    Attributes
    ----------
    state : int8[W]
        IDLE=0, WAITING=1 (released, at its origin), MOVING=2, ARRIVED=3.
    link : int32[W]
        Link it is on, -1 if none.
    pos_m : float64[W]
        Distance along the link from its from-node, metres.
    v0_mps : float64[W]
        Free walking speed, m/s.
    origin : int32[W]
        Origin node.
    table : int32[W]
        Row of ``next_link`` it follows.
    persons : int32[W]
        Group size.
    t_release_s, t_arrive_s : float64[W]
        Release and arrival times, s (NaN until then).
    dest_node : int32[W]
        Node where it arrived, -1 until arrived.
    flags : uint8[W]
        Bit 0: found a full shelter at least once.
    """

    state: np.ndarray
    link: np.ndarray
    pos_m: np.ndarray
    v0_mps: np.ndarray
    origin: np.ndarray
    table: np.ndarray
    persons: np.ndarray
    t_release_s: np.ndarray
    t_arrive_s: np.ndarray
    dest_node: np.ndarray
    flags: np.ndarray


_WALKER_DTYPES = {
    "state": np.int8,
    "link": np.int32,
    "pos_m": np.float64,
    "v0_mps": np.float64,
    "origin": np.int32,
    "table": np.int32,
    "persons": np.int32,
    "t_release_s": np.float64,
    "t_arrive_s": np.float64,
    "dest_node": np.int32,
    "flags": np.uint8,
}


class WalkStats(NamedTuple):
    """What happened in one tick: groups arrived, persons arrived, groups that set off."""

    n_arrived: int
    persons_arrived: int
    n_started: int


@njit(cache=True)
def weidmann_factor(rho_pm2: float) -> float:
    """Weidmann's speed fraction ``v / v0`` at density ``rho_pm2`` (persons/m²), floored.

    Examples
    --------
    >>> round(weidmann_factor(1.0), 4)
    0.7896
    >>> weidmann_factor(0.0)
    1.0
    """
    if rho_pm2 <= 0.0:
        return 1.0
    f = 1.0 - math.exp(-WEIDMANN_GAMMA_M2 * (1.0 / rho_pm2 - 1.0 / WEIDMANN_RHO_MAX_PM2))
    return max(f, MIN_SPEED_FRACTION)


def new_walkers(
    n: int,
    *,
    origin: np.ndarray | None = None,
    table: np.ndarray | None = None,
    persons: np.ndarray | None = None,
    v0_mps: np.ndarray | None = None,
) -> Walkers:
    """Allocate ``n`` IDLE walking groups (defaults: origin -1, table 0, 1 person, 1.34 m/s).

    The default ``v0_mps`` of 1.34 m/s is Helbing & Molnár (1995) / Weidmann (1993)
    (docs/references.md §4.3).
    """
    n = int(n)
    if n < 0:
        raise EvacsimError(f"new_walkers: n: expected >= 0, got {n!r}")

    def col(a, default, dtype):
        if a is None:
            return np.full(n, default, dtype=dtype)
        a = np.ascontiguousarray(a, dtype=dtype)
        if a.shape != (n,):
            raise EvacsimError(f"new_walkers: expected a column of shape ({n},), got {a.shape}")
        return a.copy()

    v0 = col(v0_mps, 1.34, np.float64)
    if n and not (np.all(np.isfinite(v0)) and v0.min() > 0):
        raise EvacsimError("new_walkers: v0_mps: expected finite speeds > 0 m/s")
    return Walkers(
        state=np.zeros(n, dtype=np.int8),
        link=np.full(n, -1, dtype=np.int32),
        pos_m=np.zeros(n),
        v0_mps=v0,
        origin=col(origin, -1, np.int32),
        table=col(table, 0, np.int32),
        persons=col(persons, 1, np.int32),
        t_release_s=np.full(n, np.nan),
        t_arrive_s=np.full(n, np.nan),
        dest_node=np.full(n, -1, dtype=np.int32),
        flags=np.zeros(n, dtype=np.uint8),
    )


@njit(cache=True)
def _release_kernel(walkers, ids, t_s):
    for i in range(ids.shape[0]):
        w = ids[i]
        walkers.state[w] = WAITING
        walkers.t_release_s[w] = t_s[i]


def release_walkers(walkers: Walkers, ids: np.ndarray, t_s: float | np.ndarray) -> None:
    """Release IDLE walkers ``ids`` (unique, with ``origin >= 0``).

    ``t_s`` is the release time in seconds, one for all or one per id; a group sets off
    from its origin node at ``max(t_s, t0)`` of the tick that processes it.
    """
    ids, times = _release_ids_times("release_walkers", walkers.state, walkers.origin, ids, t_s)
    _release_kernel(walkers, ids, times)


@njit(cache=True)
def _step_kernel(
    links,
    walkers,
    persons_on,
    exits,
    next_link,
    target,
    shelter_open,
    shelter_room,
    speed_factor,
    t0,
    dt,
    max_hops,
    stats,
):
    t1 = t0 + dt
    p_start = persons_on.copy()  # densities are those at the start of the tick
    stats[:] = 0
    for w in range(walkers.state.shape[0]):
        s = walkers.state[w]
        if s != WAITING and s != MOVING:
            continue
        tb = walkers.table[w]
        tgt = target[tb]
        p = walkers.persons[w]
        if s == WAITING:
            t = max(walkers.t_release_s[w], t0)
            if t > t1:
                continue
            o = walkers.origin[w]
            at_dest = tgt == o if tgt >= 0 else shelter_open[-tgt - 1, o]
            if at_dest:
                if tgt >= 0 or shelter_room[o] > 0:
                    walkers.state[w] = ARRIVED
                    walkers.t_arrive_s[w] = t
                    walkers.dest_node[w] = o
                    if tgt < 0:
                        shelter_room[o] -= p
                    stats[0] += 1
                    stats[1] += p
                else:
                    walkers.flags[w] |= FLAG_FULL_SHELTER
                continue
            m = next_link[tb, o]
            if m < 0 or speed_factor[m] <= 0.0:
                continue
            walkers.state[w] = MOVING
            walkers.link[w] = m
            walkers.pos_m[w] = 0.0
            persons_on[m] += p
            stats[2] += 1
            start_link = -1  # it was not on any link at the start of the tick
        else:
            if walkers.v0_mps[w] == 0.0:
                continue  # a group stopped where it stands (stranded): v = 0 below
            t = t0
            start_link = walkers.link[w]
        for _ in range(max_hops):
            lk = walkers.link[w]
            others = p_start[lk] - (p if lk == start_link else 0)
            rho = others / (links.length_m[lk] * links.lanes[lk])
            v = walkers.v0_mps[w] * weidmann_factor(rho) * speed_factor[lk]
            if v <= 0.0:
                break
            t_end = t + (links.length_m[lk] - walkers.pos_m[w]) / v
            if t_end > t1:
                walkers.pos_m[w] = min(walkers.pos_m[w] + v * (t1 - t), links.length_m[lk])
                break
            t = t_end
            walkers.pos_m[w] = links.length_m[lk]
            node = links.to_node[lk]
            at_dest = tgt == node if tgt >= 0 else shelter_open[-tgt - 1, node]
            if at_dest:
                if tgt < 0 and shelter_room[node] <= 0:
                    walkers.flags[w] |= FLAG_FULL_SHELTER
                    break
                persons_on[lk] -= p
                exits[lk] += p
                walkers.state[w] = ARRIVED
                walkers.link[w] = -1
                walkers.t_arrive_s[w] = t
                walkers.dest_node[w] = node
                if tgt < 0:
                    shelter_room[node] -= p
                stats[0] += 1
                stats[1] += p
                break
            m = next_link[tb, node]
            if m < 0 or speed_factor[m] <= 0.0:
                break
            persons_on[lk] -= p
            exits[lk] += p
            persons_on[m] += p
            walkers.link[w] = m
            walkers.pos_m[w] = 0.0


def step_walkers(
    links: Links,
    walkers: Walkers,
    persons_on: np.ndarray,
    next_link: np.ndarray,
    target: np.ndarray,
    shelter_open: np.ndarray,
    shelter_room: np.ndarray,
    speed_factor: np.ndarray,
    t0_s: float,
    dt_s: float,
    *,
    exits: np.ndarray | None = None,
    max_hops: int = DEFAULT_MAX_HOPS,
    check_values: bool = True,
) -> WalkStats:
    """Advance all walking groups over the tick ``(t0_s, t0_s + dt_s]``.

    Parameters
    ----------
    links
        The walking network (``lanes`` = walkway width, metres).
    walkers
        Updated in place.
    persons_on
        float64[L]: persons on each link; updated in place (start with zeros).
    next_link, target, shelter_open, shelter_room, speed_factor
        As for :func:`sim.core.queue.step_vehicles`, over the walking network's links.
    t0_s, dt_s
        Tick start and length, seconds (``dt_s > 0``).
    exits
        int64[L]: persons who left each link (to the next one or into a shelter);
        updated in place. ``None``: not counted.
    max_hops
        Cap on links one walker crosses in a tick.
    check_values
        As for :func:`sim.core.queue.step_vehicles`.

    Returns
    -------
    WalkStats
    """
    _check_links("step_walkers", links, check_values)
    _check_columns("step_walkers", "walkers", walkers, _WALKER_DTYPES, walkers.state.shape[0])
    n_links = links.to_node.shape[0]
    n_nodes = links.out_ptr.shape[0] - 1

    def need(name, a, dtype, shape):
        _need("step_walkers", name, a, dtype, shape)

    if not isinstance(next_link, np.ndarray) or next_link.ndim != 2:
        raise EvacsimError(f"step_walkers: next_link: expected int32[T, {n_nodes}]")
    n_tables = next_link.shape[0]
    need("next_link", next_link, np.int32, (n_tables, n_nodes))
    need("target", target, np.int32, (n_tables,))
    need("persons_on", persons_on, np.float64, (n_links,))
    if exits is None:
        exits = np.zeros(n_links, dtype=np.int64)
    need("exits", exits, np.int64, (n_links,))
    shelter_open = shelter_sets("step_walkers", shelter_open, target, n_nodes)
    need("shelter_room", shelter_room, np.int64, (n_nodes,))
    need("speed_factor", speed_factor, np.float64, (n_links,))
    if check_values:
        check_step_values("step_walkers", next_link, speed_factor, walkers.table, n_links)
        if n_links and links.lanes.min() <= 0:
            raise EvacsimError("step_walkers: links.lanes: expected walkway width > 0 m")
    if not (np.isfinite(t0_s) and np.isfinite(dt_s) and dt_s > 0):
        raise EvacsimError(
            f"step_walkers: t0_s, dt_s: expected finite with dt_s > 0, got {t0_s!r}, {dt_s!r}"
        )
    stats = np.zeros(3, dtype=np.int64)
    _step_kernel(
        links,
        walkers,
        persons_on,
        exits,
        next_link,
        target,
        shelter_open,
        shelter_room,
        speed_factor,
        float(t0_s),
        float(dt_s),
        int(max_hops),
        stats,
    )
    return WalkStats(*(int(x) for x in stats))
