"""Grey-scale closing per segment (sim.core.profiles) against scipy.ndimage, one by one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sim.core.profiles import closing_per_segment


@pytest.mark.parametrize("window", [1, 2, 3, 4, 7, 12])
def test_matches_scipy_grey_closing_segment_by_segment(window):
    # Random profiles of 0..20 samples (short ones: window larger than the segment).
    rng = np.random.default_rng(window)
    lengths = rng.integers(0, 21, 60)
    ptr = np.concatenate([[0], np.cumsum(lengths)])
    values = rng.normal(100.0, 5.0, ptr[-1])
    got = closing_per_segment(values, ptr, window)
    for a, b in zip(ptr[:-1], ptr[1:], strict=True):
        if b - a < 3:
            expected = values[a:b]  # too short to hold a dip: unchanged
        else:
            expected = ndimage.grey_closing(values[a:b], size=min(window, b - a),
                                            mode="nearest")
        np.testing.assert_array_equal(got[a:b], expected)
    assert np.all(got >= values)  # closing is extensive


def test_a_dip_narrower_than_the_window_is_filled_a_wider_one_is_not():
    flat = np.full(30, 10.0)
    narrow, wide = flat.copy(), flat.copy()
    narrow[10:13] = 4.0  # 3 samples deep 6 m
    wide[5:25] = 4.0  # 20 samples
    out = closing_per_segment(np.r_[narrow, wide], np.array([0, 30, 60]), 5)
    np.testing.assert_array_equal(out[:30], flat)
    np.testing.assert_array_equal(out[30:], wide)


def test_bad_segments_are_refused():
    with pytest.raises(ValueError, match="ptr"):
        closing_per_segment(np.zeros(5), np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="window"):
        closing_per_segment(np.zeros(5), np.array([0, 5]), 0)
