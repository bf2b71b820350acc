"""Water on the roads: per-link maxima over the flood grid's samples along each link.

Every flood update reads the depth under ~40k points sampled along the road links of a
district (:func:`sim.hazards.flood.hazard._link_samples`) and keeps, per link, the deepest
water above the road (above the deck on a bridge). Written with numpy that is a gather,
a subtraction, a clip and ``maximum.reduceat``, each a full temporary over the samples,
on every update. :func:`link_excess_max` does it in one pass; :func:`wet_samples` gives
the walk samples where the water is deep enough to rate (the others have a hazard
rating of 0). Both are pure functions over arrays (``@njit(cache=True)``) that repeat
numpy's ``maximum`` rule exactly (``a if a >= b else b``), so the results are the same
bits as the numpy chain (``tests/test_flood_road_water.py`` compares them).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _excess_kernel(flat, cells, deck, ptr, out):  # pragma: no cover - numba
    for link in range(ptr.shape[0] - 1):
        m = 0.0
        for s in range(ptr[link], ptr[link + 1]):
            c = cells[s]
            h = flat[c] if c >= 0 else 0.0
            v = h - deck[s]
            v = v if v > 0.0 else 0.0  # np.maximum(v, 0.0), a zero always +0.0
            # np.maximum.reduceat: the running maximum starts at the first sample.
            m = v if s == ptr[link] else (m if m >= v else v)
        out[link] = m


def link_excess_max(flat_h: np.ndarray, cells: np.ndarray, deck: np.ndarray,
                    ptr: np.ndarray) -> np.ndarray:
    """Deepest water above the road along each link, metres.

    Parameters
    ----------
    flat_h
        float64[ny * nx]: water depth per grid cell, metres (the grid raveled).
    cells
        int64[S]: grid cell under each road sample, -1 off the grid (depth 0 there).
    deck
        float64[S]: height of the road above the ground at each sample, metres (> 0
        only on bridges).
    ptr
        int64[L + 1]: the samples of link ``l`` are ``ptr[l]:ptr[l + 1]`` (each link has
        at least one).

    Returns
    -------
    float64[L]
        ``max over the link's samples of max(depth - deck, 0)``, metres: the same bits
        as ``np.maximum.reduceat(np.maximum(depth - deck, 0.0), ptr[:-1])``. A zero is
        always +0.0 (numpy's sign of a zero from ``maximum(-0.0, 0.0)`` depends on its
        SIMD path; the 2-D scheme never writes -0.0, it sets ``h <= 0`` to 0.0).
    """
    out = np.empty(ptr.shape[0] - 1)
    _excess_kernel(flat_h, cells, deck, ptr, out)
    return out


@njit(cache=True)
def _wet_kernel(flat, cells, deck, wet_depth, idx, depth):  # pragma: no cover - numba
    n = 0
    for s in range(cells.shape[0]):
        c = cells[s]
        if c < 0:
            continue  # off the grid: depth 0, never wet
        v = flat[c] - deck[s]
        if v > wet_depth:
            idx[n] = s
            depth[n] = v
            n += 1
    return n


def wet_samples(flat_h: np.ndarray, cells: np.ndarray, deck: np.ndarray,
                wet_depth_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Road samples with more than ``wet_depth_m`` of water above the road.

    Parameters
    ----------
    flat_h, cells, deck
        As in :func:`link_excess_max` (metres; -1 cells are off the grid, depth 0).
    wet_depth_m
        Depth (m, > 0) above which a sample counts as wet.

    Returns
    -------
    idx : int64[W]
        The wet samples, in increasing order.
    depth_m : float64[W]
        Water above the road there, ``depth - deck`` (m, > ``wet_depth_m``).
    """
    idx = np.empty(cells.shape[0], np.int64)
    depth = np.empty(cells.shape[0])
    n = _wet_kernel(flat_h, cells, deck, float(wet_depth_m), idx, depth)
    return idx[:n].copy(), depth[:n].copy()
