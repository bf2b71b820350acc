"""Link loads over time: vehicles on each drive link and its queue, at the sample cadence.

The model calls :meth:`LinkLoadRecorder.sample` whenever its DataCollector samples (every
``[time] sample_s``); the run folder keeps the result as ``traffic/link_loads.npz`` (see
:meth:`LinkLoadRecorder.arrays` for the arrays), so maps at any sampled time and
animations need no re-run.

Definitions (both read from what the vehicle kernel exposes, :mod:`sim.core.queue`):

- ``count[k, l]``: vehicles on drive link ``l`` at sample ``k`` (``Queues.count``; every
  vehicle of the fleet: residents' cars, rescue teams, relief trucks).
- ``queue[k, l]``: those of them whose free-flow time on the link is up
  (``Fleet.t_ready_s <= t``) but that have not left it yet: they wait for the link's
  outflow, for room on the next link or at a full shelter. A vehicle stopped by a hazard
  (``t_ready_s = inf``) is on the link but not in its queue.

The queue is what delay is made of: a vehicle's delay on a link (time on it beyond its
free-flow time ``length / (ffs * speed_factor)``, the latter at its entry) is the time it
spends in that link's queue, so a link's delay in vehicle-seconds is the time integral of
``queue``. :mod:`analysis.linkloads` estimates it from the samples.
"""

from __future__ import annotations

import numpy as np

from sim.core import queue as q
from sim.core.links import Links

__all__ = ["LinkLoadRecorder"]

_UINT16_MAX = np.iinfo(np.uint16).max


class LinkLoadRecorder:
    """Keeps ``count`` and ``queue`` per drive link at every sample of the model.

    Parameters
    ----------
    drive : Links
        The drive links; their storage bounds every count, which picks the stored dtype
        (uint16 when every storage fits, else uint32).
    """

    def __init__(self, drive: Links) -> None:
        self.n_links = int(drive.n_links)
        storage_max = int(np.max(drive.storage_veh, initial=0))
        self.dtype = np.uint16 if storage_max <= _UINT16_MAX else np.uint32
        self._t_s: list[float] = []
        self._count: list[np.ndarray] = []
        self._queue: list[np.ndarray] = []

    def sample(self, t_s: float, queues: q.Queues, fleet: q.Fleet) -> None:
        """Record the loads at model time ``t_s`` (seconds from scenario start).

        Cost: one pass over the fleet's state arrays and one bincount, no Python loop.
        """
        on_link = (fleet.state == q.MOVING) & (fleet.t_ready_s <= t_s) & (fleet.link >= 0)
        waiting = np.bincount(fleet.link[on_link], minlength=self.n_links)
        self._t_s.append(float(t_s))
        self._count.append(queues.count.astype(self.dtype))
        self._queue.append(waiting.astype(self.dtype))

    def arrays(self) -> dict[str, np.ndarray]:
        """The recorded loads, as written to ``traffic/link_loads.npz``.

        Returns
        -------
        dict
            ``t_s`` float64[S] (sample times, s from scenario start), ``count`` and
            ``queue`` uint16 or uint32 [S, L] (vehicles; ``L`` = drive links, indexed as the
            ``link`` column of the ``drive`` rows of ``links.csv.gz``).
        """
        shape = (len(self._t_s), self.n_links)
        return {
            "t_s": np.asarray(self._t_s, dtype=np.float64),
            "count": np.stack(self._count) if self._count else np.zeros(shape, self.dtype),
            "queue": np.stack(self._queue) if self._queue else np.zeros(shape, self.dtype),
        }
