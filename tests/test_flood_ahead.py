"""The water running ahead on a thread (:mod:`sim.hazards.flood.ahead`) hands over exactly
what the scheme stepped in place gives, in order, and stops cleanly.

Invariants: for every update time, the depth, peak and volumes taken from the thread are
the same bits as :func:`sim.core.flood.advance` run to that time in this thread, and the
flow speed it gives at any cell is :func:`sim.core.flood.cell_speed`'s; the thread never
holds more than ``depth`` updates; an update out of order, or an error in the thread, is
an error in the caller; after ``close`` the state stands at the last time computed.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from sim.core import flood as K
from sim.hazards.flood.ahead import WaterAhead

TIMES = [60.0 * k for k in range(1, 31)]  # the model's 60 s cadence, half an hour


def _case():
    """A sloping 30 x 40 grid of 10 m with a bumpy bed, one inflow, an open boundary."""
    rng = np.random.default_rng(11)
    ny, nx = 30, 40
    z = (np.arange(nx)[None, :] * -0.05 + np.zeros((ny, 1))
         + rng.uniform(0.0, 0.3, (ny, nx)))
    p = K.FloodParams(10.0, 0.03, 0.5, 10.0, 1e-3, 1.0, True, 0.9)
    src = K.Inflows(np.array([15]), np.array([3]), np.array([[0.0, 600.0, 1200.0]]),
                    np.array([[20.0, 20.0, 0.0]]), np.array([3]))
    return z, p, src


def _bits(a, b) -> bool:
    """Equal bit for bit (-0.0 is not +0.0, unlike ``np.array_equal``)."""
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def test_the_water_taken_is_the_water_stepped_in_place():
    z, p, src = _case()
    ref = K.new_state(np.zeros(z.shape))
    ahead = WaterAhead(z, K.new_state(np.zeros(z.shape)), p, src, iter(TIMES), depth=3)
    cells = np.arange(z.size, dtype=np.int64)
    wet_seen = 0
    for t in TIMES:
        water = ahead.take(t)
        K.advance(z, ref, p, src, t)
        assert water.t_s == t
        assert _bits(water.h, ref.h) and _bits(water.peak, ref.peak) and _bits(water.acc, ref.acc)
        assert np.array_equal(water.speed(cells), K.cell_speed(ref, cells, p.h_min_m))
        some = cells[::7][::-1].copy()  # any order, repeats of nothing
        assert np.array_equal(water.speed(some), K.cell_speed(ref, some, p.h_min_m))
        wet_seen = max(wet_seen, water.wet.size)
    assert wet_seen > 50  # the water did spread
    assert (ref.h > 0).sum() < ref.h.size  # and some cells stayed dry: a sparse hand-over
    assert ahead.take(TIMES[-1] + 60.0) is None  # all given
    assert not ahead.running


def test_the_thread_runs_at_most_depth_updates_ahead():
    z, p, src = _case()
    st = K.new_state(np.zeros(z.shape))
    consumed = []

    def times():
        for t in TIMES:
            consumed.append(t)
            yield t

    ahead = WaterAhead(z, st, p, src, times(), depth=2)
    deadline = time.monotonic() + 30.0
    while len(consumed) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # would be ample to run through all 30 if nothing held it
    # Two wait in the queue, the third is computed and waits to be handed over.
    assert len(consumed) == 3
    assert ahead.take(TIMES[0]).t_s == TIMES[0]
    ahead.close()
    assert not ahead.running
    # After close the state stands at the last time the thread advanced to, and what
    # was handed over before can still be taken, in order.
    assert st.acc[0] == pytest.approx(consumed[-1], abs=1e-9)
    given = []
    for t in TIMES[1:]:
        water = ahead.take(t)
        if water is None:
            break
        given.append(water.t_s)
    assert len(given) >= 2 and given == TIMES[1 : 1 + len(given)]
    assert given[-1] <= consumed[-1]


def test_an_update_out_of_order_is_an_error():
    z, p, src = _case()
    ahead = WaterAhead(z, K.new_state(np.zeros(z.shape)), p, src, iter(TIMES), depth=2)
    with pytest.raises(RuntimeError, match="ran ahead to t = 60.0 s, but the model updated at "
                                           "t = 120.0 s"):
        ahead.take(120.0)
    ahead.close()


def test_an_error_in_the_thread_reaches_the_caller():
    z, p, src = _case()

    def times():
        yield 60.0
        raise ValueError("no more times")

    ahead = WaterAhead(z, K.new_state(np.zeros(z.shape)), p, src, times(), depth=2)
    assert ahead.take(60.0).t_s == 60.0
    with pytest.raises(ValueError, match="no more times"):
        ahead.take(120.0)


def test_a_dropped_unclosed_thread_stops():
    import gc

    z, p, src = _case()
    ahead = WaterAhead(z, K.new_state(np.zeros(z.shape)), p, src,
                       itertools.count(60.0, 60.0), depth=1)  # endless
    thread = ahead._thread
    del ahead
    gc.collect()
    thread.join(timeout=30.0)
    assert not thread.is_alive()


def test_the_hand_over_keeps_negative_zeros_and_drops_only_positive_ones():
    rng = np.random.default_rng(2)
    h = np.where(rng.random((17, 23)) < 0.2, rng.random((17, 23)) * 0.01, 0.0)
    peak = np.maximum(h, np.where(rng.random(h.shape) < 0.2, 0.5, 0.0))
    h[0, 1], h[3, 4], peak[5, 6] = -0.0, 1e-300, -0.0
    h_at, h_val, p_at, p_val, wet = K.water_cells(h, peak, 1e-3)
    for grid, at, val in ((h, h_at, h_val), (peak, p_at, p_val)):
        ref = np.flatnonzero(grid.ravel().view(np.uint64))  # +0.0 is the only zero bit pattern
        assert np.array_equal(at, ref)
        assert np.array_equal(val.view(np.uint64), grid.ravel()[ref].view(np.uint64))
    assert 1 in h_at.tolist() and 5 * 23 + 6 in p_at.tolist()  # the -0.0 cells
    assert np.array_equal(wet, np.flatnonzero(h.ravel() > 1e-3))
