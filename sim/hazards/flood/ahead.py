"""The 2-D scheme running ahead of the model on a thread, through its coming updates.

The water of a hydrograph flood does not depend on the people or the traffic: given the
terrain, the inflows and the times at which the model will look, every depth is known in
advance. :class:`WaterAhead` advances the scheme on a thread through those update times
(``kernel.advance`` releases the GIL) and keeps, for each, what an update reads: the
depth and peak grids, the volumes and the flow speed of every wet cell. The model's main
thread takes them in order; it waits only when the scheme is behind, and the scheme may
run up to ``depth`` updates ahead, so a stretch where the water is costly (the gullies
filling) is paid while the main thread is busy elsewhere (the evacuation's peak).

The steps are the very steps the scheme takes inside the updates (same target times, same
state), so results are bit-identical (``tests/test_flood_speed.py``).
"""

from __future__ import annotations

import itertools
import queue
import threading
import weakref
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from sim.core import flood as kernel

# Updates the water may run ahead of the model. The per-update cost of the scheme varies
# tenfold over a flash flood (dry start, gullies filling) and so does the model's (the
# evacuation's peak, then a few stragglers): a few updates of slack let each absorb the
# other's peaks. Each costs two grids (depth, peak): 3.4 MB on the default district,
# 7 MB on the 1M-resident one.
DEPTH = 16

_POLL_S = 0.05  # how often a blocked side looks whether the other stopped


class Water(NamedTuple):
    """The water at one update time, as an update reads it."""

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
        # A ring of buffers: the thread may fill one while ``depth`` wait in the queue and
        # the caller still reads the one it took last.
        ring = [(np.empty_like(state.h), np.empty_like(state.peak)) for _ in range(depth + 2)]
        self._thread = threading.Thread(
            target=_produce, name="flood-ahead", daemon=True,
            args=(z, state, params, inflows, times, self._q, self._stop, self._error, ring))
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
        return water

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


def _produce(z, st, p, src, times, q, stop, error, ring) -> None:
    """The thread: advance to each time, copy what an update reads, hand it over."""
    try:
        for k in itertools.count():
            # Asked to stop: no further time is taken (the state stands at the last one).
            t_s = None if stop.is_set() else next(times, None)
            if t_s is None:
                return
            kernel.advance(z, st, p, src, t_s)
            h, peak = ring[k % len(ring)]
            np.copyto(h, st.h)
            np.copyto(peak, st.peak)
            wet = np.flatnonzero(h.ravel() > p.h_min_m)
            water = Water(t_s, h, peak, st.acc.copy(), wet,
                          kernel.cell_speed(st, wet, p.h_min_m))
            while not stop.is_set():
                try:
                    q.put(water, timeout=_POLL_S)
                    break
                except queue.Full:
                    continue
    except BaseException as err:  # handed to the caller by ``take``
        error.append(err)
