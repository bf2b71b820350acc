"""The flood's passes over the households at an update, each in one pass (numba).

- :func:`caught`: a household not yet stranded is caught when it travels a drive link
  closed to cars, a walk link closed on foot, or (once the water anywhere is deep enough)
  sits at home in water at least ``home_stranding_depth_m`` deep;
- :func:`expose`: households travelling through hazardous water not (yet) closing the
  link are flagged, with the time first seen;
- :func:`people_blocks`: persons outside shelters and persons stranded per block of
  ``k`` x ``k`` grid cells, for the run folder's snapshots.

Written with numpy each was a handful to a dozen full passes over the households (masks,
``flatnonzero``, gathers, a per-cell count over the whole grid then summed by blocks) on
every update; these are pure functions over arrays with the same answers
(``tests/test_flood_road_water.py`` compares each with the numpy expressions it replaced).
A point's grid cell is computed as :meth:`sim.hazards.terrain.Grid.cell_of` does.
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


@njit(cache=True)
def _expose_kernel(t_s, drive_link, walk_link, d_depth, wet_depth, d_closed, w_class, w_closed,
                   drove, walked, t_first):  # pragma: no cover - numba
    for i in range(drive_link.shape[0]):
        dl = drive_link[i]
        if dl >= 0 and d_depth[dl] > wet_depth and not d_closed[dl]:
            drove[i] = True
            if t_first[i] != t_first[i]:  # NaN: first time in water
                t_first[i] = t_s
        wl = walk_link[i]
        if wl >= 0 and w_class[wl] >= 1 and not w_closed[wl]:
            walked[i] = True
            if t_first[i] != t_first[i]:
                t_first[i] = t_s


def expose(t_s: float, *, drive_link: np.ndarray, walk_link: np.ndarray, d_depth: np.ndarray,
           wet_depth_m: float, d_closed: np.ndarray, w_class: np.ndarray, w_closed: np.ndarray,
           drove: np.ndarray, walked: np.ndarray, t_first_s: np.ndarray) -> None:
    """Flag households travelling through hazardous water that does not close the link.

    Parameters
    ----------
    t_s
        Time of the update, seconds since start.
    drive_link, walk_link
        int[H]: link each household travels now, -1 if none.
    d_depth, wet_depth_m
        float64[L_drive]: water above each drive link (m); deeper than ``wet_depth_m`` (m)
        is "through water".
    d_closed, w_closed
        bool: links closed to cars / on foot (travellers there are stranded, not exposed).
    w_class
        int8[L_walk]: FD2321 class of each walk link (0 low ... 3 extreme); from 1 on it
        is hazardous.
    drove, walked, t_first_s
        bool[H], bool[H], float64[H]: updated in place (``t_first_s`` NaN until the first
        exposure, then its time in seconds).
    """
    _expose_kernel(float(t_s), drive_link, walk_link, d_depth, float(wet_depth_m), d_closed,
                   w_class, w_closed, drove, walked, t_first_s)


@njit(cache=True)
def _blocks_kernel(x_m, y_m, persons, state, stranded, shelter_code, x0, y0, cell_m, nx, ny, k,
                   bx, out_people, out_stranded):  # pragma: no cover - numba
    for i in range(x_m.shape[0]):
        col = np.floor((x_m[i] - x0) / cell_m)
        row = np.floor((y_m[i] - y0) / cell_m)
        if not (col >= 0 and col < nx and row >= 0 and row < ny):
            continue
        b = (np.int64(row) // k) * bx + np.int64(col) // k
        if state[i] != shelter_code:
            out_people[b] += persons[i]
        if stranded[i]:
            out_stranded[b] += persons[i]


def people_blocks(*, x_m: np.ndarray, y_m: np.ndarray, persons: np.ndarray, state: np.ndarray,
                  stranded: np.ndarray, shelter_code: int, grid,
                  k: int) -> tuple[np.ndarray, np.ndarray]:
    """Persons per block of ``k`` x ``k`` grid cells: outside shelters, and stranded.

    Parameters
    ----------
    x_m, y_m
        float64[H]: household positions, map metres (off the grid: not counted).
    persons
        int[H]: household sizes.
    state, shelter_code
        Population state codes; households in ``shelter_code`` are not counted as outside.
    stranded
        bool[H]: stranded households.
    grid
        :class:`sim.hazards.terrain.Grid`; blocks cover it from cell (0, 0), the last
        row and column of blocks possibly partial (as ``hazard._block`` pads).
    k
        Cells per block side (>= 1).

    Returns
    -------
    people, stranded : float32[ceil(ny / k), ceil(nx / k)]
        Persons (whole numbers, summed exactly in float64 before the cast).
    """
    by, bx = -(-int(grid.ny) // k), -(-int(grid.nx) // k)
    out_p = np.zeros(by * bx)
    out_s = np.zeros(by * bx)
    _blocks_kernel(np.asarray(x_m, np.float64), np.asarray(y_m, np.float64), persons, state,
                   stranded, int(shelter_code), float(grid.x0_m), float(grid.y0_m),
                   float(grid.cell_m), int(grid.nx), int(grid.ny), int(k), bx, out_p, out_s)
    return (out_p.reshape(by, bx).astype(np.float32),
            out_s.reshape(by, bx).astype(np.float32))
