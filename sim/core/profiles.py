"""Grey-scale closing of many 1-D profiles at once (road profiles over the terrain).

The flood looks for bridges along every road link's terrain profile with a grey-scale
closing (a dilation, then an erosion, with a flat window): dips narrower than the window
are filled (:func:`sim.hazards.flood._deck_height`). With tens of thousands of short links,
calling ``scipy.ndimage.grey_closing`` once per link costs more in Python than in
arithmetic; this kernel does all links in one pass, with the same result.

Notes
-----
Window placement and edges follow ``scipy.ndimage.grey_closing(x, size=w,
mode="nearest")`` exactly: the dilation at sample ``i`` takes the maximum over
``[i - (w - 1) // 2, i + w // 2]``, the erosion the minimum over ``[i - w // 2,
i + (w - 1) // 2]``, indices clamped to the segment ("nearest").
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim._errors import EvacsimError

__all__ = ["closing_per_segment"]


@njit(cache=True)
def _closing_kernel(values, ptr, window, out):
    dil = np.empty(values.shape[0])
    for s in range(ptr.shape[0] - 1):
        a, b = ptr[s], ptr[s + 1]
        n = b - a
        w = min(window, n)
        if n < 3 or w < 2:
            for i in range(a, b):
                out[i] = values[i]
            continue
        lo = -((w - 1) // 2)
        for i in range(n):
            m = -np.inf
            for j in range(i + lo, i + lo + w):
                v = values[a + min(max(j, 0), n - 1)]
                if v > m:
                    m = v
            dil[a + i] = m
        lo = -(w // 2)
        for i in range(n):
            m = np.inf
            for j in range(i + lo, i + lo + w):
                v = dil[a + min(max(j, 0), n - 1)]
                if v < m:
                    m = v
            out[a + i] = m


def closing_per_segment(values: np.ndarray, ptr: np.ndarray, window: int) -> np.ndarray:
    """Grey-scale closing of each segment ``values[ptr[s]:ptr[s + 1]]`` on its own.

    Parameters
    ----------
    values : float64[n]
        The profiles end to end (e.g. ground elevation, metres, along each link).
    ptr : int[S + 1]
        Segment boundaries, non-decreasing, ``ptr[0] = 0``, ``ptr[-1] = n``.
    window : int
        Window length in samples, >= 1; a segment shorter than it uses its own length.
        Segments of fewer than 3 samples are returned unchanged.

    Returns
    -------
    float64[n]
        The closed profiles (>= ``values``).
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    ptr = np.ascontiguousarray(ptr, dtype=np.int64)
    if ptr.ndim != 1 or ptr.size < 1 or ptr[0] != 0 or ptr[-1] != values.size or np.any(
        np.diff(ptr) < 0
    ):
        raise EvacsimError("closing_per_segment: ptr: expected 0 = ptr[0] <= ... <= ptr[-1] "
                           f"= {values.size}")
    if int(window) < 1:
        raise EvacsimError(f"closing_per_segment: window: expected >= 1 sample, got {window}")
    out = np.empty_like(values)
    _closing_kernel(values, ptr, int(window), out)
    return out
