"""Bus metrics of one run folder (the plan's ``[buses]``, :mod:`sim.buses`).

Reads ``hazard/buses_riders.csv`` (one row per rider household) and
``hazard/buses_trips.csv`` (one row per bus trip); a run without buses has neither.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.memory_run import RunSource, has_file, read_csv

__all__ = ["bus_metrics"]


def bus_metrics(run_dir: RunSource) -> dict | None:
    """Riders, persons picked up and delivered, last pickup and last delivery.

    Parameters
    ----------
    run_dir
        The run folder (or the run in memory, :mod:`analysis.memory_run`).

    Returns
    -------
    dict or None
        ``riders`` (households that left home and wait for a bus), ``rider_persons``,
        ``persons_picked_up``, ``persons_delivered``, ``persons_waiting`` (never picked
        up by the end), ``trips``, ``last_pickup`` and ``last_delivery`` (``t_s``,
        ``t_min``; ``None`` if nobody), ``all_delivered``; ``None`` without buses.
    """
    if not has_file(run_dir, "hazard/buses_riders.csv"):
        return None
    riders = read_csv(run_dir, "hazard/buses_riders.csv")
    trips = (read_csv(run_dir, "hazard/buses_trips.csv")
             if has_file(run_dir, "hazard/buses_trips.csv") else pd.DataFrame())
    want = np.isfinite(riders["t_ready_s"].to_numpy(np.float64))
    picked = np.isfinite(riders["t_pickup_s"].to_numpy(np.float64))
    done = np.isfinite(riders["t_deliver_s"].to_numpy(np.float64))
    persons = riders["persons"].to_numpy(np.int64)

    def when(col: str, mask: np.ndarray) -> dict:
        t = float(riders.loc[mask, col].max()) if mask.any() else None
        return {"t_s": t, "t_min": None if t is None else t / 60.0}

    return {
        "riders": int(want.sum()),
        "rider_persons": int(persons[want].sum()),
        "persons_picked_up": int(persons[picked].sum()),
        "persons_delivered": int(persons[done].sum()),
        "persons_waiting": int(persons[want & ~picked].sum()),
        "trips": len(trips),
        "last_pickup": when("t_pickup_s", picked),
        "last_delivery": when("t_deliver_s", done),
        "all_delivered": bool(done[want].all()),
    }
