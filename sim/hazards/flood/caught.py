"""Households the flood catches at an update: one pass over the households.

At every flood update a household not yet stranded is caught when it travels a drive
link closed to cars, a walk link closed on foot, or (once the water anywhere is deep
enough) sits at home in water at least ``home_stranding_depth_m`` deep. Written with
numpy that is a dozen full passes over the households (masks, ``flatnonzero``, gathers)
per update; :func:`caught` does it in one, with the same answer
(``tests/test_flood_road_water.py`` compares it with the numpy expressions it replaces).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Cause codes of :func:`caught`, in the order the incidents name them.
HOME, ROAD, FOOTPATH = 0, 1, 2


@njit(cache=True)
def _caught_kernel(drive_link, walk_link, d_closed, w_closed, stranded, check_home, indoors,
                   state, at_home_max, x_m, y_m, x0, y0, cell_m, nx, ny, home_cell, flat,
                   home_depth, idx, cause):  # pragma: no cover - numba
    n = 0
    for i in range(stranded.shape[0]):
        if stranded[i]:
            continue
        code = -1
        if check_home and indoors[i] and state[i] <= at_home_max:
            c = home_cell[i]
            if c == -2:  # first time at home seen: look its cell up (as Grid.cell_of)
                col = np.floor((x_m[i] - x0) / cell_m)
                row = np.floor((y_m[i] - y0) / cell_m)
                inside = col >= 0 and col < nx and row >= 0 and row < ny  # False for NaN
                c = np.int64(row * nx + col) if inside else np.int64(-1)
                home_cell[i] = c
            d = flat[c] if c >= 0 else 0.0
            if d >= home_depth:
                code = HOME
        if code < 0:
            dl = drive_link[i]
            if dl >= 0 and d_closed[dl]:
                code = ROAD
            else:
                wl = walk_link[i]
                if wl >= 0 and w_closed[wl]:
                    code = FOOTPATH
        if code >= 0:
            idx[n] = i
            cause[n] = code
            n += 1
    return n


def caught(*, drive_link: np.ndarray, walk_link: np.ndarray, d_closed: np.ndarray,
           w_closed: np.ndarray, stranded: np.ndarray, check_home: bool, indoors: np.ndarray,
           state: np.ndarray, at_home_max: int, x_m: np.ndarray, y_m: np.ndarray, grid,
           home_cell: np.ndarray, flat_h: np.ndarray,
           home_depth_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Households caught by the water now, and why.

    Parameters
    ----------
    drive_link, walk_link
        int[H]: link each household travels now, -1 if none.
    d_closed, w_closed
        bool[L_drive], bool[L_walk]: links closed to cars / on foot.
    stranded
        bool[H]: already stranded (never caught twice).
    check_home
        Look at households at home at all (the deepest water reaches ``home_depth_m``).
    indoors, state, at_home_max
        At home = ``indoors`` and ``state <= at_home_max`` (population state codes).
    x_m, y_m
        float64[H]: positions, map metres (read only for a home cell not yet known).
    grid
        :class:`sim.hazards.terrain.Grid` of ``flat_h``.
    home_cell
        int64[H]: flat grid cell of each home, -1 off the grid, -2 not looked up yet;
        filled in place for households first seen at home (a home never moves).
    flat_h
        float64[ny * nx]: water depth per cell, metres.
    home_depth_m
        Depth at home (m) from which a household is stranded there.

    Returns
    -------
    households : int64[K]
        Caught households, in increasing order.
    cause : int8[K]
        :data:`HOME` (takes precedence), :data:`ROAD` (a closed drive link), else
        :data:`FOOTPATH`.
    """
    n = stranded.shape[0]
    idx = np.empty(n, np.int64)
    cause = np.empty(n, np.int8)
    k = _caught_kernel(drive_link, walk_link, d_closed, w_closed, stranded, bool(check_home),
                       indoors, state, int(at_home_max), np.asarray(x_m, np.float64),
                       np.asarray(y_m, np.float64), float(grid.x0_m), float(grid.y0_m),
                       float(grid.cell_m), int(grid.nx), int(grid.ny), home_cell, flat_h,
                       float(home_depth_m), idx, cause)
    return idx[:k].copy(), cause[:k].copy()
