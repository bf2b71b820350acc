"""Fire arrival times on a grid: minimum travel time with elliptical spread rates.

Each burnable cell has a head-fire rate ``R`` (m/s), the direction of maximum spread (unit
vector ``ux``, ``uy``: east, north) and the eccentricity ``e`` of its fire ellipse. The rate
in a direction at angle ``psi`` from the head is that of an ellipse with the ignition at its
rear focus (Anderson 1983; Finney 1998, FARSITE)::

    R(psi) = R (1 - e) / (1 - e cos psi)

so a point ignition in uniform conditions grows exactly as the fire ellipse. Fire moves
between cell centres along a 16-neighbour stencil (the 8 neighbours and the 8 knight
moves (±1, ±2), (±2, ±1)); a move of length ``d`` takes ``d/2 (1/R_a + 1/R_b)`` with
each end's rate in the move's direction, and the arrival time of every cell is the least
over all paths (Dijkstra's algorithm; a shortest-path formulation of Finney's 2002
minimum travel time). A knight move needs both cells it cuts through burnable; nothing
crosses a non-burnable cell (``R <= 0``).

Known error: paths are chains of stencil moves, so in a uniform medium the travel time
to a point between stencil directions is over-estimated, at most by 2.75 % (between the
0° and 26.6° moves; an 8-neighbour stencil: 8.2 %), so the fire front lags a true
ellipse by up to 2.75 % of its distance from the ignition, and is exact along the 16
stencil directions. Rates are sampled at cell centres.

Row 0 of the grids is the south edge, columns go east (:class:`sim.hazards.terrain.Grid`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The 16-neighbour stencil: (d_row, d_col).
STENCIL = np.array([(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1),
                    (1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2)],
                   dtype=np.int64)


@njit(cache=True)
def _rate(r, ux, uy, e, k, mx, my):
    """Rate of cell ``k`` along the unit move (mx, my), m/s (0 if not burnable)."""
    if r[k] <= 0.0:
        return 0.0
    c = ux[k] * mx + uy[k] * my
    return r[k] * (1.0 - e[k]) / (1.0 - e[k] * c)


@njit(cache=True)
def _push(heap_t, heap_c, n, t, c):
    if n >= heap_t.shape[0]:
        nt = np.empty(2 * heap_t.shape[0], np.float64)
        nc = np.empty(2 * heap_t.shape[0], np.int64)
        nt[:n] = heap_t[:n]
        nc[:n] = heap_c[:n]
        heap_t, heap_c = nt, nc
    i = n
    heap_t[i] = t
    heap_c[i] = c
    while i > 0:
        p = (i - 1) // 2
        if heap_t[p] <= heap_t[i]:
            break
        heap_t[p], heap_t[i] = heap_t[i], heap_t[p]
        heap_c[p], heap_c[i] = heap_c[i], heap_c[p]
        i = p
    return heap_t, heap_c, n + 1


@njit(cache=True)
def _pop(heap_t, heap_c, n):
    t, c = heap_t[0], heap_c[0]
    n -= 1
    heap_t[0], heap_c[0] = heap_t[n], heap_c[n]
    i = 0
    while True:
        a, b, m = 2 * i + 1, 2 * i + 2, i
        if a < n and heap_t[a] < heap_t[m]:
            m = a
        if b < n and heap_t[b] < heap_t[m]:
            m = b
        if m == i:
            break
        heap_t[m], heap_t[i] = heap_t[i], heap_t[m]
        heap_c[m], heap_c[i] = heap_c[i], heap_c[m]
        i = m
    return t, c, n


@njit(cache=True)
def arrival_times(ros_mps, ux, uy, ecc, ign_cells, ign_t_s, cell_m, t_max_s):
    """Fire arrival time of every cell, seconds (``inf`` where it never arrives by ``t_max_s``).

    Parameters
    ----------
    ros_mps, ux, uy, ecc : float64[ny, nx]
        Head rate (m/s, <= 0: not burnable), unit direction of maximum spread (east,
        north) and ellipse eccentricity in [0, 1) per cell.
    ign_cells : int64[k]
        Flat indices of the ignition cells.
    ign_t_s : float64[k]
        Their ignition times, s.
    cell_m : float
        Cell side, m.
    t_max_s : float
        Cells reached later are left at ``inf`` (the search stops there).
    """
    ny, nx = ros_mps.shape
    n = ny * nx
    r, vx, vy, e = ros_mps.ravel(), ux.ravel(), uy.ravel(), ecc.ravel()
    out = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    heap_t = np.empty(max(16, 4 * len(ign_cells)), np.float64)
    heap_c = np.empty(heap_t.shape[0], np.int64)
    hn = 0
    for i in range(len(ign_cells)):
        c = ign_cells[i]
        if r[c] > 0.0 and ign_t_s[i] < out[c]:
            out[c] = ign_t_s[i]
            heap_t, heap_c, hn = _push(heap_t, heap_c, hn, ign_t_s[i], c)
    while hn > 0:
        t, c, hn = _pop(heap_t, heap_c, hn)
        if done[c] or t > out[c]:
            continue
        done[c] = True
        if t > t_max_s:
            out[c] = np.inf
            continue
        row, col = c // nx, c % nx
        for s in range(16):
            dr, dc = STENCIL[s, 0], STENCIL[s, 1]
            rr, cc = row + dr, col + dc
            if rr < 0 or rr >= ny or cc < 0 or cc >= nx:
                continue
            k = rr * nx + cc
            if done[k] or r[k] <= 0.0:
                continue
            if s >= 8:  # a knight move cuts through the two cells beside it
                if abs(dr) == 2:
                    ar, ac, br, bc = row + dr // 2, col, row + dr // 2, col + dc
                else:
                    ar, ac, br, bc = row, col + dc // 2, row + dr, col + dc // 2
                if r[ar * nx + ac] <= 0.0 or r[br * nx + bc] <= 0.0:
                    continue
            d = cell_m * np.sqrt(float(dr * dr + dc * dc))
            mx, my = dc * cell_m / d, dr * cell_m / d
            ra = _rate(r, vx, vy, e, c, mx, my)
            rb = _rate(r, vx, vy, e, k, mx, my)
            tk = t + 0.5 * d * (1.0 / ra + 1.0 / rb)
            if tk < out[k]:
                out[k] = tk
                heap_t, heap_c, hn = _push(heap_t, heap_c, hn, tk, k)
    for c in range(n):
        if out[c] > t_max_s:
            out[c] = np.inf
    return out.reshape(ny, nx)
