"""Time-varying releases: a train of puffs carried by a changing wind.

A continuous release whose rate changes is cut into equal segments, each released as one
puff (:func:`release_segments`); a piecewise-constant wind carries every puff along a
path that bends when the wind turns (:func:`wind_track`), and the puffs spread with the
distance they have travelled (:func:`puff_train_state`). The kernel
:mod:`sim.core.plume` sums their concentrations. Coordinates: projected metres, x east,
y north; wind directions are where the wind comes *from*, degrees clockwise from north.

Notes
-----
Briggs plume σ and CCPS puff σ: :mod:`sim.hazards.chemical.sigmas` (docs/references.md
§1.4, §1.5 P4).
"""

from __future__ import annotations

import math

import numpy as np

from sim.hazards.chemical.sigmas import Terrain, briggs_sigmas, ccps_puff_sigmas
from sim.hazards.chemical.stability import check_wind


def downwind_unit(from_deg) -> tuple[np.ndarray, np.ndarray]:
    """Unit vector (east, north) the wind blows toward, for a wind *from* ``from_deg``.

    Meteorological convention: the direction the wind comes from, degrees clockwise from
    north (a wind from 45° blows toward the south-west).

    Examples
    --------
    >>> [round(float(v), 6) + 0.0 for v in downwind_unit(90.0)]  # from the east -> west
    [-1.0, 0.0]
    """
    rad = np.deg2rad(np.asarray(from_deg, dtype=np.float64))
    return -np.sin(rad), -np.cos(rad)


def wind_track(t_s, change_t_s, speed_mps, from_deg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How far the air has moved from t = 0 to ``t_s`` under a piecewise-constant wind.

    Parameters
    ----------
    t_s : float or array
        Times, s (≥ 0).
    change_t_s : float64[K]
        Start time of each wind period, s; ``change_t_s[0]`` must be 0, increasing.
    speed_mps, from_deg : float64[K]
        Wind speed (> 0) and direction (from, degrees) of each period.

    Returns
    -------
    x_m, y_m : ndarray
        Displacement east and north, m.
    path_m : ndarray
        Distance travelled along the (bending) path, m.

    Examples
    --------
    >>> x, y, s = wind_track(20.0, [0.0, 10.0], [2.0, 3.0], [270.0, 180.0])
    >>> round(float(x), 6), round(float(y), 6), float(s)  # 20 m east, then 30 m north
    (20.0, 30.0, 50.0)
    """
    starts = np.asarray(change_t_s, dtype=np.float64)
    u = np.asarray(speed_mps, dtype=np.float64)
    ex, ey = downwind_unit(from_deg)
    if starts.ndim != 1 or starts.size == 0 or starts[0] != 0.0 or np.any(np.diff(starts) <= 0):
        raise ValueError(f"change_t_s: expected increasing times starting at 0 s, got {starts!r}")
    if u.shape != starts.shape or ex.shape != starts.shape:
        raise ValueError("speed_mps, from_deg: expected one value per wind period")
    for v in u:
        check_wind(v)
    durations = np.diff(starts)
    cum_x = np.concatenate([[0.0], np.cumsum(u[:-1] * ex[:-1] * durations)])
    cum_y = np.concatenate([[0.0], np.cumsum(u[:-1] * ey[:-1] * durations)])
    cum_s = np.concatenate([[0.0], np.cumsum(u[:-1] * durations)])
    t = np.asarray(t_s, dtype=np.float64)
    k = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, starts.size - 1)
    dt = t - starts[k]
    return cum_x[k] + u[k] * ex[k] * dt, cum_y[k] + u[k] * ey[k] * dt, cum_s[k] + u[k] * dt


def release_segments(
    start_s: float, duration_s: float, change_t_s, rate, interval_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a time-varying continuous release into equal segments, one puff each.

    Parameters
    ----------
    start_s, duration_s : float
        Release start (≥ 0) and duration (> 0), s.
    change_t_s : float64[K]
        Times after ``start_s`` at which the rate changes, s; the first must be 0.
    rate : float64[K]
        Emission rate from each change on (mass/s, ≥ 0); piecewise constant.
    interval_s : float
        Target segment length, s; the release is cut into ``ceil(duration/interval)``
        equal segments.

    Returns
    -------
    t_release_s : float64[N]
        Segment midpoints: when each puff leaves the source.
    mass : float64[N]
        Mass released in each segment (exact integral of the rate).
    segment_s : float64[N]
        Segment length, s.

    Examples
    --------
    >>> t, m, d = release_segments(0.0, 60.0, [0.0, 30.0], [2.0, 1.0], 30.0)
    >>> t.tolist(), m.tolist(), d.tolist()
    ([15.0, 45.0], [60.0, 30.0], [30.0, 30.0])
    """
    if not (math.isfinite(duration_s) and duration_s > 0.0 and interval_s > 0.0):
        raise ValueError(
            f"duration_s, interval_s: expected > 0 s, got {duration_s!r}, {interval_s!r}"
        )
    starts = np.asarray(change_t_s, dtype=np.float64)
    q = np.asarray(rate, dtype=np.float64)
    if (
        starts.size == 0
        or starts[0] != 0.0
        or np.any(np.diff(starts) <= 0)
        or q.shape != starts.shape
    ):
        raise ValueError("change_t_s, rate: expected increasing times from 0 s with one rate each")
    if np.any(~np.isfinite(q)) or np.any(q < 0.0):
        raise ValueError(f"rate: expected finite rates >= 0, got {q!r}")
    n = max(1, math.ceil(duration_s / interval_s - 1e-9))
    edges = np.linspace(0.0, duration_s, n + 1)
    # Cumulative released mass at any time: integral of the piecewise-constant rate.
    cum = np.concatenate([[0.0], np.cumsum(q[:-1] * np.diff(starts))])

    def released(t: np.ndarray) -> np.ndarray:
        k = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, starts.size - 1)
        return cum[k] + q[k] * (t - starts[k])

    mass = np.diff(released(edges))
    return start_s + 0.5 * (edges[:-1] + edges[1:]), mass, np.diff(edges)


def puff_train_state(
    t_s: float,
    *,
    source_x_m: float,
    source_y_m: float,
    height_m: float,
    t_release_s,
    mass,
    segment_s,
    change_t_s,
    speed_mps,
    from_deg,
    stability: str,
    terrain: Terrain = "rural",
    instantaneous: bool = False,
    initial_sigma_m: float = 0.0,
):
    """Centres and spreads of the puffs released before ``t_s`` (projected metres).

    Each puff leaves the source at its release time, moves with the wind (:func:`wind_track`)
    and spreads with the distance ``s`` it has travelled: Briggs plume σy(s), σz(s) for a
    continuous release (so that a steady release reproduces the Gaussian plume) or CCPS
    puff σ for an instantaneous one. Its along-wind spread adds the segment it stands for,
    ``σx² = σy² + (u Δt)²/12`` (the variance of a uniform slug of length uΔt), and an
    initial source spread adds ``σ0²`` to every σ². The along-wind axis is the current wind.

    Returns
    -------
    dict
        Arrays ``x_m, y_m, height_m, mass, sigma_x_m, sigma_y_m, sigma_z_m, dir_x, dir_y``
        (the fields of :class:`sim.core.plume.Puffs`) for released puffs, and ``path_m``.
    """
    t_rel = np.asarray(t_release_s, dtype=np.float64)
    live = t_rel < t_s
    t_rel = t_rel[live]
    x_now, y_now, s_now = wind_track(t_s, change_t_s, speed_mps, from_deg)
    x_rel, y_rel, s_rel = wind_track(t_rel, change_t_s, speed_mps, from_deg)
    path = s_now - s_rel
    if instantaneous:
        sy, sz = ccps_puff_sigmas(path, stability)
    else:
        sy, sz = briggs_sigmas(path, stability, terrain)
    _, _, s_end = wind_track(
        t_rel + np.asarray(segment_s, dtype=np.float64)[live] / 2.0, change_t_s, speed_mps, from_deg
    )
    _, _, s_start = wind_track(
        np.maximum(t_rel - np.asarray(segment_s, dtype=np.float64)[live] / 2.0, 0.0),
        change_t_s,
        speed_mps,
        from_deg,
    )
    slug = s_end - s_start  # the segment's length along the wind when it was released
    s0 = float(initial_sigma_m) ** 2
    sy2 = sy**2 + s0
    idx = np.clip(
        np.searchsorted(np.asarray(change_t_s, dtype=np.float64), t_s, side="right") - 1,
        0,
        len(change_t_s) - 1,
    )
    ex, ey = downwind_unit(np.asarray(from_deg, dtype=np.float64)[idx])
    n = int(t_rel.size)
    return {
        "x_m": source_x_m + (x_now - x_rel),
        "y_m": source_y_m + (y_now - y_rel),
        "height_m": np.full(n, float(height_m)),
        "mass": np.asarray(mass, dtype=np.float64)[live],
        "sigma_x_m": np.sqrt(sy2 + (0.0 if instantaneous else 1.0) * slug**2 / 12.0),
        "sigma_y_m": np.sqrt(sy2),
        "sigma_z_m": np.sqrt(sz**2 + s0),
        "dir_x": np.full(n, float(ex)),
        "dir_y": np.full(n, float(ey)),
        "path_m": path,
    }
