"""Gas concentration of a set of Gaussian puffs at many receptors, and exposure over time.

Two kernels, pure functions over arrays (``@njit(cache=True)``):

* :func:`concentration` — the sum over puffs of the ground-reflected Gaussian puff

  ``C = m / ((2π)^{3/2} σx σy σz) · exp(−a²/2σx² − c²/2σy²) · V(z)``, with the reflected
  vertical term ``V(z) = e^{−(z−h)²/2σz²} + e^{−(z+h)²/2σz²}``

  with ``a``/``c`` the along-/cross-wind offsets from the puff centre (the puff is
  stretched along its unit vector ``dir_x, dir_y``). docs/references.md §1.5 (CCPS 1999).
* :func:`exposure_step` — what each household breathes over one interval: outdoors the
  outdoor concentration, indoors a one-box air-exchange model
  ``dC_in/dt = λ (C_out − C_in)``, accumulating dose ∫C dt, toxic load ∫C^n dt and peak.

Speed: contributions below ``floor`` are dropped (each puff gets a reach radius
``σ_max √(2 ln(peak/floor))``), and receptors in coarse grid cells that no puff reaches
are skipped with one lookup, so the cost is ~1 ns per far receptor plus the receptor–puff
pairs that matter. With ``floor = 0`` and ``max_sigmas = inf`` the kernel is the exact sum.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from sim._errors import EvacsimError

__all__ = ["Puffs", "Exposure", "concentration", "new_exposure", "exposure_step", "count_below"]

_TWO_PI_POW_1_5 = (2.0 * math.pi) ** 1.5
_MASK_CELLS = 128  # coarse cells along the longer side of the receptors' bounding box


class Puffs(NamedTuple):
    """A set of Gaussian puffs at one instant, one row each (projected metres).

    Attributes
    ----------
    x_m, y_m : float64[P]
        Centre on the ground plane.
    height_m : float64[P]
        Centre height above ground (effective release height).
    mass : float64[P]
        Mass in the puff (g gives g/m³).
    sigma_x_m, sigma_y_m, sigma_z_m : float64[P]
        Along-wind, crosswind and vertical spread, m. A puff with any σ ≤ 0 contributes 0.
    dir_x, dir_y : float64[P]
        Unit vector of the along-wind axis.
    """

    x_m: np.ndarray
    y_m: np.ndarray
    height_m: np.ndarray
    mass: np.ndarray
    sigma_x_m: np.ndarray
    sigma_y_m: np.ndarray
    sigma_z_m: np.ndarray
    dir_x: np.ndarray
    dir_y: np.ndarray


class Exposure(NamedTuple):
    """What each receptor (household) has breathed so far, one row each.

    Attributes
    ----------
    c_in_ppm : float64[H]
        Indoor concentration of the home (one-box model state), ppm.
    dose_ppm_min : float64[H]
        ∫ C dt of the air breathed, ppm·min.
    load : float64[H]
        Toxic load ∫ C^n dt, ppm^n·min.
    peak_ppm : float64[H]
        Highest concentration breathed at an update, ppm.
    t_exposed_s, t_indoors_s : float64[H]
        Time breathing a concentration > 0, and the part of it spent indoors, s.
    """

    c_in_ppm: np.ndarray
    dose_ppm_min: np.ndarray
    load: np.ndarray
    peak_ppm: np.ndarray
    t_exposed_s: np.ndarray
    t_indoors_s: np.ndarray


@njit(cache=True)
def _concentration_kernel(p, rx, ry, rz, floor, max_sigmas, out):  # pragma: no cover - numba
    n = rx.shape[0]
    n_puffs = p.x_m.shape[0]
    norm = np.zeros(n_puffs)
    reach = np.full(n_puffs, -1.0)
    ax = np.zeros(n_puffs)
    ay = np.zeros(n_puffs)
    az = np.zeros(n_puffs)
    any_puff = False
    for j in range(n_puffs):
        sx, sy, sz, m = p.sigma_x_m[j], p.sigma_y_m[j], p.sigma_z_m[j], p.mass[j]
        if not (sx > 0.0 and sy > 0.0 and sz > 0.0 and m > 0.0):
            continue
        norm[j] = m / (_TWO_PI_POW_1_5 * sx * sy * sz)
        smax = max(sx, sy)
        r = max_sigmas * smax
        if floor > 0.0:
            peak = 2.0 * norm[j]  # the largest value anywhere (reflection doubles it)
            if peak <= floor:
                continue
            r = min(r, smax * math.sqrt(2.0 * math.log(peak / floor)))
        reach[j] = r
        ax[j] = 0.5 / (sx * sx)
        ay[j] = 0.5 / (sy * sy)
        az[j] = 0.5 / (sz * sz)
        any_puff = True
    for i in range(n):
        out[i] = 0.0
    if n == 0 or not any_puff:
        return
    x0, x1, y0, y1 = rx[0], rx[0], ry[0], ry[0]
    for i in range(n):
        x0 = min(x0, rx[i])
        x1 = max(x1, rx[i])
        y0 = min(y0, ry[i])
        y1 = max(y1, ry[i])
    cell = max(max(x1 - x0, y1 - y0) / _MASK_CELLS, 1e-6)
    nx = int((x1 - x0) / cell) + 1
    ny = int((y1 - y0) / cell) + 1
    mask = np.zeros((ny, nx), dtype=np.bool_)
    # Per cell, the puffs whose reach box (one cell wider on each side, against round-off)
    # touches it, in puff order: a receptor sums only those, in the same order and with
    # the same reach tests as over all puffs, so the sum is bit for bit the same.
    box = np.full((n_puffs, 4), -1, dtype=np.int64)
    count = np.zeros(ny * nx + 1, dtype=np.int64)
    for j in range(n_puffs):
        r = reach[j]
        if r < 0.0:
            continue
        lo_x = (p.x_m[j] - r - x0) / cell
        hi_x = (p.x_m[j] + r - x0) / cell
        lo_y = (p.y_m[j] - r - y0) / cell
        hi_y = (p.y_m[j] + r - y0) / cell
        if not (hi_x < -1.0 or hi_y < -1.0 or lo_x > nx or lo_y > ny):
            box[j, 0] = min(max(int(max(lo_x, 0.0)) - 1, 0), nx - 1)
            box[j, 1] = min(int(max(min(hi_x, nx - 1.0), 0.0)) + 1, nx - 1)
            box[j, 2] = min(max(int(max(lo_y, 0.0)) - 1, 0), ny - 1)
            box[j, 3] = min(int(max(min(hi_y, ny - 1.0), 0.0)) + 1, ny - 1)
            for iy in range(box[j, 2], box[j, 3] + 1):
                for ix in range(box[j, 0], box[j, 1] + 1):
                    count[iy * nx + ix + 1] += 1
        if hi_x < 0.0 or hi_y < 0.0 or lo_x > nx - 1 or lo_y > ny - 1:
            continue
        ix0 = int(max(lo_x, 0.0))
        ix1 = int(min(hi_x, nx - 1.0))
        iy0 = int(max(lo_y, 0.0))
        iy1 = int(min(hi_y, ny - 1.0))
        for iy in range(iy0, iy1 + 1):
            for ix in range(ix0, ix1 + 1):
                mask[iy, ix] = True
    for c in range(ny * nx):
        count[c + 1] += count[c]
    fill = count[:-1].copy()
    cell_puffs = np.empty(count[ny * nx], dtype=np.int32)
    for j in range(n_puffs):
        if box[j, 0] < 0:
            continue
        for iy in range(box[j, 2], box[j, 3] + 1):
            for ix in range(box[j, 0], box[j, 1] + 1):
                c = iy * nx + ix
                cell_puffs[fill[c]] = j
                fill[c] += 1
    _sum_puffs(p, rx, ry, rz, norm, reach, ax, ay, az, mask, x0, y0, cell, count, cell_puffs,
               out)


@njit(cache=True)
def _sum_puffs(p, rx, ry, rz, norm, reach, ax, ay, az, mask, x0, y0, cell, cell_start,
               cell_puffs, out):  # pragma: no cover
    n_puffs = p.x_m.shape[0]
    nx = mask.shape[1]
    ground = np.empty(n_puffs)  # the reflected vertical factor at z = 0: 2 exp(-h²/2σz²)
    for j in range(n_puffs):
        h = p.height_m[j]
        ground[j] = 2.0 * math.exp(-h * h * az[j])
    for i in range(rx.shape[0]):
        z = rz[i] if rz.shape[0] > 1 else rz[0]
        cy, cx = int((ry[i] - y0) / cell), int((rx[i] - x0) / cell)
        if z < 0.0 or not mask[cy, cx]:
            continue
        acc = 0.0
        c = cy * nx + cx
        for k in range(cell_start[c], cell_start[c + 1]):
            j = cell_puffs[k]
            r = reach[j]
            if r < 0.0:
                continue
            dx = rx[i] - p.x_m[j]
            if dx > r or dx < -r:
                continue
            dy = ry[i] - p.y_m[j]
            if dy > r or dy < -r or dx * dx + dy * dy > r * r:
                continue
            along = dx * p.dir_x[j] + dy * p.dir_y[j]
            cross = -dx * p.dir_y[j] + dy * p.dir_x[j]
            if z == 0.0:
                vertical = ground[j]
            else:
                h = p.height_m[j]
                vertical = math.exp(-(z - h) * (z - h) * az[j]) + math.exp(
                    -(z + h) * (z + h) * az[j]
                )
            acc += norm[j] * math.exp(-along * along * ax[j] - cross * cross * ay[j]) * vertical
        out[i] = acc


def _as_puffs(puffs: Puffs) -> Puffs:
    cols = [np.ascontiguousarray(c, dtype=np.float64) for c in puffs]
    n = cols[0].shape[0]
    for name, col in zip(Puffs._fields, cols, strict=True):
        if col.ndim != 1 or col.shape[0] != n:
            raise EvacsimError(
                f"puffs.{name}: expected a 1-D array of {n} values, got shape {col.shape}"
            )
        if not np.all(np.isfinite(col)):
            raise EvacsimError(f"puffs.{name}: expected finite values, got NaN or inf")
    return Puffs(*cols)


def concentration(
    puffs: Puffs,
    x_m,
    y_m,
    z_m=0.0,
    *,
    floor: float = 0.0,
    max_sigmas: float = math.inf,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Sum of all puffs' concentrations at receptors (x, y, z).

    Parameters
    ----------
    puffs : Puffs
    x_m, y_m : array
        Receptor positions, projected metres (same CRS as the puffs).
    z_m : float or array, default 0
        Receptor height above ground, m; below ground (< 0) gives 0.
    floor : float, default 0
        Drop each puff's contribution where it is below this value (unit of the result).
        The error per receptor is at most ``floor`` times the number of puffs.
    max_sigmas : float, default inf
        Also drop contributions farther than this many σ from the puff centre.
    out : float64 array, optional
        Where to write the result (reused between calls to save allocations).

    Returns
    -------
    float64 array
        Concentration in the puffs' mass unit per m³, shaped like ``x_m``.

    Raises
    ------
    EvacsimError
        Non-finite receptor coordinates or puff values, or mismatched shapes.
    """
    p = _as_puffs(puffs)
    shape = np.shape(x_m)
    x = np.ascontiguousarray(x_m, dtype=np.float64).ravel()
    y = np.ascontiguousarray(y_m, dtype=np.float64).ravel()
    z = np.ascontiguousarray(z_m, dtype=np.float64).ravel()  # length 1 = same height everywhere
    if x.shape != y.shape or z.size not in (1, x.size):
        raise EvacsimError(
            f"x_m, y_m, z_m: expected the same shape (z_m may be a number), got "
            f"{np.shape(x_m)}, {np.shape(y_m)}, {np.shape(z_m)}"
        )
    for name, arr in (("x_m", x), ("y_m", y), ("z_m", z)):
        # A sum is finite only if every term is (a cheap test for 10^5 receptors).
        if not math.isfinite(float(arr.sum())) and not np.all(np.isfinite(arr)):
            raise EvacsimError(f"{name}: expected finite receptor coordinates, got NaN or inf")
    if not (floor >= 0.0 and max_sigmas > 0.0):
        raise EvacsimError(
            f"floor, max_sigmas: expected floor >= 0 and max_sigmas > 0, got "
            f"{floor!r}, {max_sigmas!r}"
        )
    if out is None or out.shape != (x.size,) or out.dtype != np.float64:
        out = np.empty(x.size, dtype=np.float64)
    _concentration_kernel(p, x, y, z, float(floor), float(max_sigmas), out)
    return out.reshape(shape)


def new_exposure(n: int) -> Exposure:
    """Zeroed exposure state for ``n`` receptors."""
    return Exposure(*(np.zeros(n, dtype=np.float64) for _ in Exposure._fields))


@njit(cache=True)
def _exposure_kernel(
    ex, c_prev, c_now, indoors, decay, e1, e2, dt_min, dt_s, n_exp
):  # pragma: no cover
    for i in range(c_now.shape[0]):
        cp = c_prev[i]
        cn = c_now[i]
        cin0 = ex.c_in_ppm[i]
        if cp == 0.0 and cn == 0.0 and cin0 == 0.0:
            continue  # clean air in and out: every sum below would add exactly zero
        cbar = 0.5 * (cp + cn)
        cin1 = cbar + (cin0 - cbar) * decay
        ex.c_in_ppm[i] = cin1
        if indoors[i]:
            d = cin0 - cbar  # C_in(s) = cbar + d·exp(-λ s) on the interval
            i1 = cbar * dt_min + d * e1
            if n_exp == 1.0:
                i_n = i1
            elif n_exp == 2.0:
                i_n = cbar * cbar * dt_min + 2.0 * cbar * d * e1 + d * d * e2
            else:  # composite Simpson, 16 panels, of (cbar + d e^{-λs})^n
                lam = -math.log(decay) / dt_min if decay > 0.0 else 0.0
                h = dt_min / 16.0
                i_n = 0.0
                for k in range(17):
                    w = 1.0 if (k == 0 or k == 16) else (4.0 if k % 2 == 1 else 2.0)
                    c = max(cbar + d * math.exp(-lam * h * k), 0.0)
                    i_n += w * c**n_exp
                i_n *= h / 3.0
            breathed_peak = max(cin0, cin1)
            breathing = cin0 > 0.0 or cbar > 0.0
        else:
            i1 = cbar * dt_min
            i_n = 0.5 * (cp**n_exp + cn**n_exp) * dt_min
            breathed_peak = cn
            breathing = cbar > 0.0
        ex.dose_ppm_min[i] += i1
        ex.load[i] += i_n
        if breathed_peak > ex.peak_ppm[i]:
            ex.peak_ppm[i] = breathed_peak
        if breathing:
            ex.t_exposed_s[i] += dt_s
            if indoors[i]:
                ex.t_indoors_s[i] += dt_s


def exposure_step(
    ex: Exposure,
    c_prev_ppm,
    c_now_ppm,
    indoors,
    *,
    dt_s: float,
    air_changes_per_h: float,
    exponent: float,
) -> None:
    """Accumulate one interval of exposure into ``ex`` (in place).

    Parameters
    ----------
    ex : Exposure
        State, updated in place.
    c_prev_ppm, c_now_ppm : float64[H]
        Outdoor concentration at each household's position at the start and the end of
        the interval, ppm.
    indoors : bool[H]
        The household spends the interval indoors (breathes the box-model air).
    dt_s : float
        Interval length, s (≥ 0).
    air_changes_per_h : float
        λ, air changes per hour of the homes (≥ 0; 0 = perfectly sealed).
    exponent : float
        n of the toxic load ∫C^n dt.

    Notes
    -----
    The outdoor concentration is taken as its interval mean ``(c_prev + c_now)/2``. Indoors
    the one-box ODE ``dC_in/dt = λ (C_out − C_in)`` is solved exactly for that constant
    forcing, ``C_in(s) = C̄ + (C_in0 − C̄) e^{−λs}``, and ∫C_in dt, ∫C_in² dt are its exact
    integrals (other n: Simpson's rule, 16 panels). Outdoors the integrals are trapezoidal.
    """
    if not (dt_s >= 0.0 and air_changes_per_h >= 0.0 and exponent > 0.0):
        raise EvacsimError(
            f"dt_s, air_changes_per_h, exponent: expected >= 0, >= 0, > 0, got "
            f"{dt_s!r}, {air_changes_per_h!r}, {exponent!r}"
        )
    dt_min = dt_s / 60.0
    lam = air_changes_per_h / 60.0  # per minute
    if lam > 0.0:
        decay = math.exp(-lam * dt_min)
        e1 = -math.expm1(-lam * dt_min) / lam
        e2 = -math.expm1(-2.0 * lam * dt_min) / (2.0 * lam)
    else:
        decay, e1, e2 = 1.0, dt_min, dt_min
    _exposure_kernel(
        ex,
        np.ascontiguousarray(c_prev_ppm, dtype=np.float64),
        np.ascontiguousarray(c_now_ppm, dtype=np.float64),
        np.ascontiguousarray(indoors, dtype=np.bool_),
        decay,
        e1,
        e2,
        dt_min,
        float(dt_s),
        float(exponent),
    )


@njit(cache=True)
def _count_below_kernel(values, start, rows, threshold, out):  # pragma: no cover - numba
    for k in range(rows.shape[0]):
        h = rows[k]
        t = threshold[k]
        c = 0
        if t > 0.0:
            for i in range(start[h], start[h + 1]):
                if values[i] < t:
                    c += 1
        out[k] = c


def count_below(
    values: np.ndarray, start: np.ndarray, threshold: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """Per group, how many of its ``values`` are below its threshold.

    Group ``h`` owns ``values[start[h]:start[h+1]]``. With ``rows`` (group indices) only
    those groups are counted and ``threshold`` has one value per row; else every group.
    Used for per-person outcomes: ``values`` are persons' tolerances grouped by household.

    Examples
    --------
    >>> tolerances, start = np.array([0.1, 0.5, 0.9, 0.3]), np.array([0, 3, 4])
    >>> count_below(tolerances, start, np.array([0.6, 0.2])).tolist()
    [2, 0]
    """
    start = np.ascontiguousarray(start, dtype=np.int64)
    rows = np.arange(start.size - 1) if rows is None else rows
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    threshold = np.ascontiguousarray(threshold, dtype=np.float64)
    if threshold.shape != rows.shape:
        raise EvacsimError(f"threshold: expected {rows.size} values, got {threshold.size}")
    out = np.zeros(rows.size, dtype=np.int64)
    _count_below_kernel(np.ascontiguousarray(values, dtype=np.float64), start, rows, threshold, out)
    return out
