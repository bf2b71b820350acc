"""Link loads over time (``traffic/link_loads.npz``) and the bottlenecks they show.

The file holds, at every sample of the run (``[time] sample_s``, 60 s by default):
``t_s`` float64[S], and per drive link ``count`` (vehicles on it) and ``queue`` (vehicles
whose free-flow time on the link is up but that have not left it), uint16 or uint32
arrays [S, L]. Column ``l`` is the drive link whose ``link`` is ``l`` in ``links.csv.gz``
(rows with ``network == "drive"``). See :mod:`sim.linkloads` for how they are taken.

Delay
-----
A vehicle's delay on a link is its time on the link beyond its free-flow time there
(``length / (ffs * speed_factor)``, the speed factor at its entry, so a flooded road's
slower free-flow time is not counted as delay). That is exactly the time it spends in the
link's ``queue``, so a link's delay in vehicle-hours is the time integral of ``queue``.
It is estimated from the samples by the left Riemann sum
``sum_k queue[k] * (t[k+1] - t[k]) / 3600`` (the last sample closes the run and adds
nothing). Its error per link is at most ``sample_s`` times the number of times the queue
changed between samples; for a bottleneck that holds a queue for tens of minutes it is a
few per cent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.memory_run import RunSource, load_npz, where
from sim._errors import RunFolderError

__all__ = ["LINK_LOADS_FILE", "TOP_BOTTLENECKS", "bottleneck_metrics", "link_delay_veh_h",
           "read_link_loads"]

LINK_LOADS_FILE = "traffic/link_loads.npz"
TOP_BOTTLENECKS = 10
"""Bottlenecks listed in ``metrics.json`` (the links with the most vehicle-hours of delay)."""


def read_link_loads(run_dir: RunSource) -> dict[str, np.ndarray]:
    """Read ``traffic/link_loads.npz`` of a run folder (or of a run in memory).

    Returns
    -------
    dict
        ``t_s`` float64[S] (s from scenario start), ``count`` and ``queue`` int64[S, L]
        (vehicles per drive link).

    Raises
    ------
    RunFolderError
        The file is missing or its arrays do not fit together.
    """
    path = where(run_dir, LINK_LOADS_FILE)
    try:
        z = load_npz(run_dir, LINK_LOADS_FILE)
        out = {"t_s": z["t_s"].astype(np.float64), "count": z["count"].astype(np.int64),
               "queue": z["queue"].astype(np.int64)}
    except FileNotFoundError:
        msg = f"{path}: missing; expected the link loads of a run folder (format version 3)"
        raise RunFolderError(msg) from None
    except (KeyError, ValueError, OSError) as err:
        msg = f"{path}: expected arrays t_s, count, queue ({err})"
        raise RunFolderError(msg) from None
    s = out["t_s"].size
    if out["count"].ndim != 2 or out["count"].shape != out["queue"].shape \
            or out["count"].shape[0] != s:
        msg = (f"{path}: expected count and queue of shape [{s}, links], got "
               f"{out['count'].shape} and {out['queue'].shape}")
        raise RunFolderError(msg)
    return out


def link_delay_veh_h(loads: dict[str, np.ndarray]) -> np.ndarray:
    """Vehicle-hours of delay per drive link (left Riemann sum of ``queue``, see module).

    Examples
    --------
    >>> import numpy as np
    >>> loads = {"t_s": np.array([0.0, 60.0, 120.0]),
    ...          "queue": np.array([[2, 0], [1, 0], [5, 0]])}
    >>> link_delay_veh_h(loads).tolist()  # (2*60 + 1*60) / 3600
    [0.05, 0.0]
    """
    t = np.asarray(loads["t_s"], dtype=np.float64)
    if t.size < 2:
        return np.zeros(np.asarray(loads["queue"]).shape[1])
    dt = np.diff(t)
    return (dt @ np.asarray(loads["queue"], dtype=np.float64)[:-1]) / 3600.0


def bottleneck_metrics(run_dir: RunSource, links: pd.DataFrame,
                       *, top: int = TOP_BOTTLENECKS) -> dict:
    """The ``traffic`` section of ``metrics.json``: total delay and the top bottlenecks.

    Parameters
    ----------
    run_dir : str, Path or MemoryRun
        The run folder (or the run in memory).
    links : pandas.DataFrame
        Its links table (:func:`analysis.metrics.read_table`).
    top : int, default 10
        How many links to list.

    Returns
    -------
    dict
        ``samples``, ``sample_s`` (median spacing), ``delay_veh_h`` (all drive links),
        ``bottlenecks``: up to ``top`` links with delay > 0, most delay first (ties by
        link id), each with ``link``, ``from_node``, ``to_node``, ``highway``,
        ``length_m``, ``storage``, ``x_m``/``y_m`` (midpoint, map CRS), ``delay_veh_h``,
        ``peak_queue``, ``t_peak_queue_s`` (first sample at the peak), ``peak_count``.
    """
    loads = read_link_loads(run_dir)
    delay = link_delay_veh_h(loads)
    drive = links[links["network"] == "drive"].set_index("link")
    order = np.lexsort((np.arange(delay.size), -delay))
    order = order[delay[order] > 0][:top]
    t = loads["t_s"]
    rows = []
    for lk in order:  # top links only
        q = loads["queue"][:, lk]
        k = int(np.argmax(q))
        r = drive.loc[int(lk)] if int(lk) in drive.index else None
        rows.append({
            "link": int(lk),
            "from_node": None if r is None else int(r["from_node"]),
            "to_node": None if r is None else int(r["to_node"]),
            "highway": None if r is None else str(r["highway"]),
            "length_m": None if r is None else float(r["length_m"]),
            "storage": None if r is None else int(r["storage"]),
            "x_m": None if r is None else float((r["x0_m"] + r["x1_m"]) / 2),
            "y_m": None if r is None else float((r["y0_m"] + r["y1_m"]) / 2),
            "delay_veh_h": float(delay[lk]),
            "peak_queue": int(q[k]),
            "t_peak_queue_s": float(t[k]),
            "peak_count": int(loads["count"][:, lk].max()),
        })
    return {
        "samples": int(t.size),
        "sample_s": float(np.median(np.diff(t))) if t.size > 1 else None,
        "delay_veh_h": float(delay.sum()),
        "bottlenecks": rows,
    }
