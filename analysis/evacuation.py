"""Evacuation numbers from the households table: ETE, travel times, shelter loads, curves.

Person weighting: every share, time estimate and percentile counts *persons*, not
households, because a household row carries ``persons`` people who move together.

Notes
-----
Evacuation time estimate (ETE): the time from scenario start until a given share of the
evacuating population has reached a shelter. NUREG/CR-7002 (Jones, Walton & Wolshon,
2011; Rev. 1 2021) reports the 90 % and 100 % values and uses the 90 % value for
protective-action decisions (docs/references.md §4.1). Here the share is of *evacuees* (persons
of households that departed), and a value is ``None`` when the share was never reached
within the simulated horizon: nothing is extrapolated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.tables import (
    ETE_PERCENTS,
    MODES,
    TRAVEL_PERCENTS,
    _households,
    read_table,
)


def _weighted_time(values: np.ndarray, weights: np.ndarray, total: int,
                   pct: int) -> float | None:
    """Smallest value ``v`` with ``sum(weights[values <= v]) >= pct % of total``.

    The inverse of the weighted empirical distribution ("inverted CDF"), in exact integer
    arithmetic so 90 % of 10 persons is exactly 9. Values of +inf (never happened) count in
    ``total`` but never reach the share. Returns ``None`` when the share is not reached.
    """
    return _weighted_times(values, weights, total, (pct,))[0]


def _weighted_times(values: np.ndarray, weights: np.ndarray, total: int,
                    pcts: tuple[int, ...]) -> list[float | None]:
    """:func:`_weighted_time` for several shares, sorting ``values`` once."""
    if total <= 0:
        return [None] * len(pcts)
    order = np.argsort(values, kind="stable")
    cum100 = np.cumsum(weights[order].astype(np.int64)) * 100
    out: list[float | None] = []
    for pct in pcts:
        idx = int(np.searchsorted(cum100, pct * int(total), side="left"))
        ok = idx < len(order) and np.isfinite(values[order[idx]])
        out.append(float(values[order[idx]]) if ok else None)
    return out


# The households columns ETE and travel times read: selecting them first keeps the
# per-group row selection from copying the text columns (most of its cost).
_TIME_COLUMNS = ("mode", "persons", "t_depart_s", "t_arrive_s")


def _groups(hh: pd.DataFrame, *, by_mode: bool = True) -> list[tuple[str, pd.DataFrame]]:
    """("all", hh) followed by one group per travel mode (the time columns only)."""
    hh = hh[list(_TIME_COLUMNS)]
    return [("all", hh)] + [(mode, hh[hh["mode"] == mode]) for mode in MODES if by_mode]


def ete_table(run_dir: str | Path) -> pd.DataFrame:
    """Evacuation time estimates at 50/90/95/100 % of evacuees, overall and by mode.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        One row per (group, pct): ``group`` ("all", "car", "walk"), ``pct`` (int, %),
        ``evacuees`` (persons of the group's households that departed),
        ``persons_needed`` (persons who must have arrived), ``t_s`` and ``t_min`` (time
        from scenario start, NaN when never reached within the horizon), ``reached``
        (bool).

    Notes
    -----
    ETE as in NUREG/CR-7002 (docs/references.md §4.1), weighted by persons: the arrival time of
    the household whose arrival brings the arrived persons to at least ``pct`` % of
    evacuees.
    """
    return _ete(_households(run_dir))


def _ete(hh: pd.DataFrame, *, by_mode: bool = True) -> pd.DataFrame:
    """:func:`ete_table` of a households frame (``by_mode=False``: the "all" rows only)."""
    rows = []
    for group, sub in _groups(hh, by_mode=by_mode):
        departed = sub[np.isfinite(sub["t_depart_s"].to_numpy())]
        persons = departed["persons"].to_numpy(np.int64)
        total = int(persons.sum())
        arrive = departed["t_arrive_s"].to_numpy(np.float64)
        arrive = np.where(np.isfinite(arrive), arrive, np.inf)
        times = _weighted_times(arrive, persons, total, ETE_PERCENTS)
        for pct, t_s in zip(ETE_PERCENTS, times, strict=True):
            rows.append({
                "group": group, "pct": pct, "evacuees": total,
                "persons_needed": -(-pct * total // 100),
                "t_s": np.nan if t_s is None else t_s,
                "t_min": np.nan if t_s is None else t_s / 60.0,
                "reached": t_s is not None,
            })
    return pd.DataFrame(rows)


def travel_time_table(run_dir: str | Path) -> pd.DataFrame:
    """Person-weighted travel-time percentiles (``t_arrive_s - t_depart_s``) of arrivals.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        One row per group ("all", "car", "walk"): ``persons`` arrived, ``p50_s``,
        ``p90_s``, ``p95_s``, ``max_s`` in seconds (NaN for a group with no arrival).
        Percentiles are the inverted-CDF kind: the smallest travel time that at least
        that share of arrived persons did not exceed.
    """
    return _travel(_households(run_dir))


def _travel(hh: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for group, sub in _groups(hh):
        tt = (sub["t_arrive_s"] - sub["t_depart_s"]).to_numpy(np.float64)
        ok = np.isfinite(tt)
        persons = sub["persons"].to_numpy(np.int64)[ok]
        total = int(persons.sum())
        row: dict[str, object] = {"group": group, "persons": total}
        values = _weighted_times(tt[ok], persons, total, TRAVEL_PERCENTS)
        for pct, value in zip(TRAVEL_PERCENTS, values, strict=True):
            row["max_s" if pct == 100 else f"p{pct}_s"] = np.nan if value is None else value
        rows.append(row)
    return pd.DataFrame(rows)


def shelter_loads(run_dir: str | Path) -> pd.DataFrame:
    """Return the shelters table with utilisation and arrivals added.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        Columns of ``shelters.csv`` plus ``utilisation`` (peak_occupancy / capacity, NaN
        where capacity is 0), ``over_capacity`` (bool, peak above capacity) and
        ``arrived_persons`` (persons of households that arrived there).
    """
    return _loads(read_table(run_dir, "shelters"), _households(run_dir))


def _loads(shelters: pd.DataFrame, hh: pd.DataFrame) -> pd.DataFrame:
    arrived = hh[np.isfinite(hh["t_arrive_s"].to_numpy()) & (hh["shelter"] != "")]
    per_shelter = arrived.groupby("shelter")["persons"].sum()
    cap = shelters["capacity"].to_numpy(np.float64)
    peak = shelters["peak_occupancy"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        shelters["utilisation"] = np.where(cap > 0, peak / cap, np.nan)
    shelters["over_capacity"] = shelters["peak_occupancy"] > shelters["capacity"]
    shelters["arrived_persons"] = (
        shelters["shelter"].map(per_shelter).fillna(0).astype(np.int64)
    )
    return shelters


def arrival_curve(run_dir: str | Path) -> pd.DataFrame:
    """Cumulative persons departed and arrived over time (a step function).

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        ``t_s`` (0 and every distinct departure or arrival time, ascending),
        ``departed`` and ``arrived`` (int persons with time <= t_s). Plot with
        ``drawstyle="steps-post"``.
    """
    return _arrival_curve(_households(run_dir))


def _arrival_curve(hh: pd.DataFrame) -> pd.DataFrame:
    persons = hh["persons"].to_numpy(np.int64)
    out: dict[str, np.ndarray] = {}
    events = [np.zeros(1)]
    for column in ("t_depart_s", "t_arrive_s"):
        t = hh[column].to_numpy(np.float64)
        events.append(t[np.isfinite(t)])
    times = np.unique(np.concatenate(events))
    for name, column in (("departed", "t_depart_s"), ("arrived", "t_arrive_s")):
        t = hh[column].to_numpy(np.float64)
        ok = np.isfinite(t)
        order = np.argsort(t[ok], kind="stable")
        cum = np.concatenate([[0], np.cumsum(persons[ok][order])])
        out[name] = cum[np.searchsorted(t[ok][order], times, side="right")]
    return pd.DataFrame({"t_s": times, "departed": out["departed"],
                         "arrived": out["arrived"]})


def _seconds(value: float | None) -> dict[str, float | None]:
    """``{"t_s": ..., "t_min": ...}`` with ``None`` for a time that never happened."""
    if value is None or not np.isfinite(value):
        return {"t_s": None, "t_min": None}
    return {"t_s": float(value), "t_min": float(value) / 60.0}


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _by(values: pd.Series, weights: pd.Series, keys: tuple[str, ...]) -> dict[str, int]:
    """Sum of ``weights`` per key, every key present (0 when absent)."""
    sums = weights.groupby(values).sum()
    return {k: int(sums.get(k, 0)) for k in keys}
