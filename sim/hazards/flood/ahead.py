"""The 2-D scheme running ahead of the model on a thread, through its coming updates.

The water of a hydrograph flood does not depend on the people or the traffic: given the
terrain, the inflows and the times at which the model will look, every depth is known in
advance. :class:`WaterAhead` advances the scheme on a thread through those update times
(``kernel.advance`` releases the GIL) and keeps, for each, what an update reads: depth
and peak where they are not zero (water covers a few per cent of the grid), the volumes
and the flow speed of every wet cell. The model's main thread takes them in order; it
waits only when the scheme is behind. The scheme's cost is back-loaded (a dry start,
then the gullies fill while the evacuation is over and the model's ticks are cheap), so
it may run up to ``depth`` updates ahead: it banks the cheap early hours while the main
thread is busy with the evacuation's peak.

The steps are the very steps the scheme takes inside the updates (same target times, same
state), so results are bit-identical (``tests/test_flood_speed.py``).
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from sim.core import flood as kernel

# Updates the water may run ahead of the model: an hour of the model's 60 s cadence.
# Each holds the non-zero depth and peak cells: 0.1-0.3 MB on the default district's
# flash flood, up to ~1.2 MB on the 1M-resident one.
DEPTH = 64

_POLL_S = 0.05  # how often a blocked side looks whether the other stopped


class _Sparse(NamedTuple):
    """What the thread hands over for one update time."""

    t_s: float
    h_at: np.ndarray  # flat indices of the cells whose depth is not +0.0, ascending
    h: np.ndarray  # depth there, m
    peak_at: np.ndarray  # flat indices of the cells whose peak is not +0.0
    peak: np.ndarray  # peak depth there, m
    acc: np.ndarray  # the state's accumulators (time, inflow, outflow, ...)
    wet: np.ndarray  # flat indices of the cells with h > h_min, ascending
    wet_speed: np.ndarray  # flow speed there, m/s (``kernel.cell_speed``)


class Water(NamedTuple):
    """The water at one update time, as an update reads it.

    ``h`` and ``peak`` are the :class:`WaterAhead`'s own grids, rewritten by its next
    :meth:`~WaterAhead.take`: read them before, or copy them.
    """

    t_s: float
    h: np.ndarray  # depth, m (ny, nx)
    peak: np.ndarray  # deepest water since the start, m (ny, nx)
    acc: np.ndarray  # the state's accumulators (time, inflow, outflow, ...)
    wet: np.ndarray  # flat indices of the cells with h > h_min, ascending
    wet_speed: np.ndarray  # flow speed there, m/s (``kernel.cell_speed``)

    def speed(self, cells: np.ndarray) -> np.ndarray:
        """Flow speed at flat cell indices, m/s; 0 where the cell is not wet."""
        cells = np.asarray(cells, dtype=np.int64)
        out = np.zeros(cells.shape)
        if self.wet.size:
            k = np.minimum(np.searchsorted(self.wet, cells), self.wet.size - 1)
            hit = self.wet[k] == cells
            out[hit] = self.wet_speed[k[hit]]
        return out


class WaterAhead:
    """The scheme advanced through ``times`` on a thread; :meth:`take` the water in order.

    Parameters
    ----------
    z, state, params, inflows
        As for :func:`sim.core.flood.advance`. ``state`` belongs to the thread until it
        has stopped (:meth:`close`, or ``times`` exhausted).
    times
        The model's coming update times, s, ascending — exactly the floats at which it
        will call :meth:`take`.
    depth
        Updates the thread may run ahead of :meth:`take`.
    """

    def __init__(self, z: np.ndarray, state: kernel.FloodState, params: kernel.FloodParams,
                 inflows: kernel.Inflows, times: Iterator[float], *, depth: int = DEPTH) -> None:
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: list[BaseException] = []
        # The grids the caller reads, rebuilt from each hand-over's non-zero cells.
        self._h, self._peak = state.h.copy(), state.peak.copy()
        self._h_at, _, self._peak_at, _, _ = kernel.water_cells(self._h, self._peak,
                                                                params.h_min_m)
        self._thread = threading.Thread(
            target=_produce, name="flood-ahead", daemon=True,
            args=(z, state, params, inflows, times, self._q, self._stop, self._error))
        self._thread.start()
        # The thread holds no reference to this object: when it is dropped unclosed (a
        # model stepped by hand and abandoned), the thread is told to stop.
        self._finalizer = weakref.finalize(self, self._stop.set)

    def take(self, t_s: float) -> Water | None:
        """The water at update time ``t_s``; ``None`` once the thread has given all it had.

        Waits for the thread when it is behind. Raises the thread's error, if it failed,
        and :class:`RuntimeError` if ``t_s`` is not the next of ``times``.
        """
        while True:
            try:
                water = self._q.get(timeout=_POLL_S)
                break
            except queue.Empty:
                if not self._thread.is_alive() and self._q.empty():
                    water = None
                    break
        if water is None:
            if self._error:
                raise self._error[0]
            return None
        if water.t_s != t_s:
            raise RuntimeError(f"the flood's water ran ahead to t = {water.t_s!r} s, but the "
                               f"model updated at t = {t_s!r} s")
        for grid, was, at, value in ((self._h, self._h_at, water.h_at, water.h),
                                     (self._peak, self._peak_at, water.peak_at, water.peak)):
            flat = grid.ravel()
            flat[was] = 0.0
            flat[at] = value
        self._h_at, self._peak_at = water.h_at, water.peak_at
        return Water(t_s, self._h, self._peak, water.acc, water.wet, water.wet_speed)

    def close(self) -> None:
        """Stop the thread (after the interval it is computing) and wait for it.

        What it already computed can still be taken; the state is then the thread's last
        update time's, and the caller may advance it further itself.
        """
        self._stop.set()
        self._thread.join()
        self._finalizer.detach()

    @property
    def running(self) -> bool:
        """Whether the thread still works (or waits to hand over its water)."""
        return self._thread.is_alive()


def _produce(z, st, p, src, times, q, stop, error) -> None:
    """The thread: advance to each time, keep what an update reads, hand it over."""
    try:
        while True:
            # Asked to stop: no further time is taken (the state stands at the last one).
            t_s = None if stop.is_set() else next(times, None)
            if t_s is None:
                return
            kernel.advance(z, st, p, src, t_s)
            h_at, depth, peak_at, peak, wet = kernel.water_cells(st.h, st.peak, p.h_min_m)
            water = _Sparse(t_s, h_at, depth, peak_at, peak, st.acc.copy(), wet,
                            kernel.cell_speed(st, wet, p.h_min_m))
            while not stop.is_set():
                try:
                    q.put(water, timeout=_POLL_S)
                    break
                except queue.Full:
                    continue
    except BaseException as err:  # handed to the caller by ``take``
        error.append(err)
