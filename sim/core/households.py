"""Per-household state and position in one pass over the households (issue 17 part 5).

Two kernels, pure functions over arrays (``@njit(cache=True)``), that the model calls for
its time series (every sample) and for the hazards' people view (every hazard update):

* :func:`household_states` — the state code of every household (:mod:`sim.states`) from
  its response times, the traffic kernels' mover states, the strandings, the deaths and
  whether a travelling household can still reach an open shelter of its set;
* :func:`household_positions` — where every household is (home, along the link it
  travels, the node a car pulled off at, or its shelter node), projected metres.

They replace about twenty numpy passes over a million rows each (``np.where``, masked
assignments, gathers) by one loop; at 1,000,000 residents (382,000 households) that was
a third of the main thread's hazard time. The numpy formulation they must equal bit for
bit is kept in ``tests/test_households.py`` (the reference of STYLE.md item 3).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.core.queue import ARRIVED, IDLE, MOVING, WAITING
from sim.states import DEAD, EN_ROUTE, NOT_WARNED, SHELTERED, STAYING, STRANDED, WARNED

__all__ = ["Movers", "household_positions", "household_states", "mover_states", "persons_by_state"]

# Kernel constants (numba freezes module globals; plain ints keep the types simple).
_IDLE, _WAITING, _MOVING, _ARRIVED = int(IDLE), int(WAITING), int(MOVING), int(ARRIVED)
_NOT_WARNED, _WARNED, _STAYING, _EN_ROUTE = int(NOT_WARNED), int(WARNED), int(STAYING), \
    int(EN_ROUTE)
_SHELTERED, _STRANDED, _DEAD = int(SHELTERED), int(STRANDED), int(DEAD)


class Movers(NamedTuple):
    """One kind of traveller (cars or walking groups) as the kernels here read it.

    Attributes
    ----------
    household : int64[M]
        Household of each mover row.
    state : int8[M]
        Kernel state (IDLE, WAITING, MOVING, ARRIVED of :mod:`sim.core.queue`).
    link : int32[M]
        Link the mover is on (-1 if none).
    origin : int32[M]
        Node it waits at / starts from.
    shelter_set : int[M]
        Shelter set of its household (row of ``reach``).
    to_node : int32[L]
        End node of each link of its network.
    reach : bool[S, N]
        Per shelter set and node: an open shelter of the set is reachable from there.
    """

    household: np.ndarray
    state: np.ndarray
    link: np.ndarray
    origin: np.ndarray
    shelter_set: np.ndarray
    to_node: np.ndarray
    reach: np.ndarray


@njit(cache=True)
def _mover_kernel(cars_hh, cars_state, walk_hh, walk_state, out):  # pragma: no cover - numba
    for i in range(cars_hh.shape[0]):
        out[cars_hh[i]] = cars_state[i]
    for i in range(walk_hh.shape[0]):
        out[walk_hh[i]] = walk_state[i]


def mover_states(n_households: int, cars: Movers, walkers: Movers) -> np.ndarray:
    """Kernel state (IDLE/WAITING/MOVING/ARRIVED) per household, int8[H] (IDLE if neither)."""
    out = np.zeros(int(n_households), dtype=np.int8)
    _mover_kernel(cars.household, cars.state, walkers.household, walkers.state, out)
    return out


@njit(cache=True)
def _unreachable(m, out):  # pragma: no cover - numba
    """Mark travelling (WAITING/MOVING) households of ``m`` that cannot reach a shelter."""
    for i in range(m.household.shape[0]):
        st = m.state[i]
        if st != _WAITING and st != _MOVING:
            continue
        link = m.link[i]
        node = m.to_node[link] if link >= 0 else m.origin[i]
        if not m.reach[m.shelter_set[i], node]:
            out[m.household[i]] = True


@njit(cache=True)
def _states_kernel(t_s, t_warned_s, complies, t_depart_s, ordered_to_stay, stranded, dead,
                   persons, mover, unreachable, out):  # pragma: no cover - numba
    for h in range(out.shape[0]):
        if dead[h] > 0 and dead[h] == persons[h]:
            out[h] = _DEAD
        elif mover[h] == _ARRIVED:
            out[h] = _SHELTERED
        elif stranded[h] or unreachable[h]:
            out[h] = _STRANDED
        elif t_depart_s[h] <= t_s:
            out[h] = _EN_ROUTE
        elif t_warned_s[h] <= t_s:
            out[h] = _WARNED if complies[h] and not ordered_to_stay[h] else _STAYING
        else:
            out[h] = _NOT_WARNED


def household_states(
    t_s: float,
    *,
    t_warned_s: np.ndarray,
    complies: np.ndarray,
    t_depart_s: np.ndarray,
    ordered_to_stay: np.ndarray,
    stranded: np.ndarray,
    dead: np.ndarray,
    persons: np.ndarray,
    mover: np.ndarray,
    cars: Movers,
    walkers: Movers,
) -> np.ndarray:
    """State code (:mod:`sim.states`) of every household at ``t_s`` (seconds), int8[H].

    In order of precedence: DEAD when all its members died; SHELTERED when its mover
    arrived; STRANDED when stopped by a hazard (``stranded``) or travelling where no open
    shelter of its set can be reached; EN_ROUTE after departure; after the warning WARNED
    if it complies and was not ordered to stay, else STAYING; NOT_WARNED before.
    ``mover``: :func:`mover_states`. NaN times count as never.
    """
    n = mover.shape[0]
    unreachable = np.zeros(n, dtype=np.bool_)
    _unreachable(cars, unreachable)
    _unreachable(walkers, unreachable)
    out = np.empty(n, dtype=np.int8)
    _states_kernel(float(t_s), t_warned_s, complies, t_depart_s, ordered_to_stay, stranded,
                   dead, persons, mover, unreachable, out)
    return out


@njit(cache=True)
def _count_kernel(state, persons, dead, dead_code, out):  # pragma: no cover - numba
    for h in range(state.shape[0]):
        out[state[h]] += persons[h] - dead[h]
        out[dead_code] += dead[h]


def persons_by_state(state: np.ndarray, persons: np.ndarray, dead: np.ndarray,
                     n_states: int) -> np.ndarray:
    """Persons per state code, int64[n_states], in one pass over the households.

    The living count in their household's state, the dead as DEAD (as
    :func:`sim.population.state_counts`).

    ``state`` int8[H] codes in ``[0, n_states)`` (from :func:`household_states`),
    ``persons`` household sizes, ``dead`` int[H] with ``0 <= dead <= persons``.
    """
    out = np.zeros(int(n_states), dtype=np.int64)
    _count_kernel(state, persons, dead, _DEAD, out)
    return out


@njit(cache=True, error_model="numpy")
def _positions_kernel(t_s, x, y, node_x, node_y, car_hh, f_state, f_link, f_t_ready, f_origin,
                      f_dest, car_home, d_from, d_to, d_fft, d_factor, walk_hh, w_state, w_link,
                      w_pos, w_dest, w_from, w_to, w_len, drive_link, walk_link, arrived_at,
                      waiting):  # pragma: no cover - numba
    for i in range(car_hh.shape[0]):
        h = car_hh[i]
        st = f_state[i]
        if st == _MOVING:
            link = f_link[i]
            # Interpolate along the link by the time left to its free-flow exit.
            fft = d_fft[link] / max(d_factor[link], 1e-6)
            frac = 1.0 - (f_t_ready[i] - t_s) / fft
            if frac != frac:
                frac = 1.0
            elif frac < 0.0:
                frac = 0.0
            elif frac > 1.0:
                frac = 1.0
            a, b = d_from[link], d_to[link]
            x[h] = node_x[a] + frac * (node_x[b] - node_x[a])
            y[h] = node_y[a] + frac * (node_y[b] - node_y[a])
            drive_link[h] = link
        elif st == _WAITING:
            waiting[h] = True
            if f_origin[i] != car_home[i]:  # pulled off the road (no route): parked there
                x[h] = node_x[f_origin[i]]
                y[h] = node_y[f_origin[i]]
        arrived_at[h] = f_dest[i]
    for i in range(walk_hh.shape[0]):
        h = walk_hh[i]
        st = w_state[i]
        if st == _MOVING:
            link = w_link[i]
            frac = w_pos[i] / w_len[link]
            if frac < 0.0:
                frac = 0.0
            elif frac > 1.0:
                frac = 1.0
            a, b = w_from[link], w_to[link]
            x[h] = node_x[a] + frac * (node_x[b] - node_x[a])
            y[h] = node_y[a] + frac * (node_y[b] - node_y[a])
            walk_link[h] = link
        elif st == _WAITING:
            waiting[h] = True
        arrived_at[h] = w_dest[i]
    for h in range(x.shape[0]):
        d = arrived_at[h]
        if d >= 0:  # at its shelter node
            x[h] = node_x[d]
            y[h] = node_y[d]


def household_positions(
    t_s: float,
    *,
    home_x_m: np.ndarray,
    home_y_m: np.ndarray,
    node_x_m: np.ndarray,
    node_y_m: np.ndarray,
    cars,
    car_hh: np.ndarray,
    car_home_node: np.ndarray,
    drive,
    drive_speed_factor: np.ndarray,
    walkers,
    walk_hh: np.ndarray,
    walk,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where every household is at ``t_s`` (seconds), projected metres of the map CRS.

    Parameters
    ----------
    home_x_m, home_y_m
        float64[H]: homes.
    node_x_m, node_y_m
        float64[N]: map nodes.
    cars, walkers
        The residents' :class:`~sim.core.queue.Fleet` rows and walkers (state, link,
        ``t_ready_s`` / ``pos_m``, origin, ``dest_node``).
    car_hh, walk_hh
        Household of each car / walking group.
    car_home_node
        Home drive node of each car (a car WAITING elsewhere pulled off the road there).
    drive, walk
        The two networks' links (``from_node``, ``to_node``, ``fft_s`` / ``length_m``).
    drive_speed_factor
        float64[L_drive] in [0, 1]: cars' progress on a link is the free-flow time left,
        stretched by this factor (floored at 1e-6).

    Returns
    -------
    x_m, y_m : float64[H]
        Home, the interpolated point on the link travelled (MOVING), the node a car
        pulled off at (WAITING away from home) or the shelter node (arrived).
    drive_link, walk_link : int32[H]
        Link travelled now, -1 if none.
    arrived : bool[H]
        At a shelter node.
    waiting : bool[H]
        WAITING on a wait list (in the car / at the origin).
    """
    n = home_x_m.shape[0]
    x, y = home_x_m.copy(), home_y_m.copy()
    drive_link = np.full(n, -1, dtype=np.int32)
    walk_link = np.full(n, -1, dtype=np.int32)
    arrived_at = np.full(n, -1, dtype=np.int64)
    waiting = np.zeros(n, dtype=np.bool_)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero free-flow time: frac 1
        _positions_kernel(float(t_s), x, y, node_x_m, node_y_m, car_hh, cars.state, cars.link,
                          cars.t_ready_s, cars.origin, cars.dest_node, car_home_node,
                          drive.from_node, drive.to_node, drive.fft_s, drive_speed_factor,
                          walk_hh, walkers.state, walkers.link, walkers.pos_m, walkers.dest_node,
                          walk.from_node, walk.to_node, walk.length_m, drive_link, walk_link,
                          arrived_at, waiting)
    return x, y, drive_link, walk_link, arrived_at >= 0, waiting
