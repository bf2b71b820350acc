"""Gaussian dispersion of a toxic gas: plume, puff, Briggs σ, stability class, plume rise.

Pure formulas over numpy arrays, no state. Coordinates follow the textbooks: ``x``
downwind, ``y`` crosswind, ``z`` height above ground, metres; the source is at the origin
at effective height ``H``. Concentrations are mass per volume in the unit of the emission
(g/s → g/m³, kg → kg/m³).

The physics answers where a formula has no meaning: a receptor upwind of the source
(``x <= 0``), below ground (``z < 0``) or a puff not yet released (``t <= 0``) sees zero
concentration. A non-positive or non-finite wind speed, an unknown stability class or
terrain raise :class:`ValueError` naming the argument: the Gaussian model has no answer
for calm air. Nothing here returns NaN for valid input.

The formulas live in modules named after what they hold; this one holds the Gaussian
plume and puff, the ppm conversions and the threat zone, and re-exports the others so
that ``from sim.hazards.chemical import dispersion as disp`` reaches every one:
:mod:`sim.hazards.chemical.stability` (Pasquill–Gifford classes, wind and class checks),
:mod:`sim.hazards.chemical.sigmas` (Briggs and CCPS σ),
:mod:`sim.hazards.chemical.plume_rise` (Briggs plume rise) and
:mod:`sim.hazards.chemical.puff_train` (time-varying releases as a train of puffs carried
by a changing wind).

Notes
-----
Formulas and test values: docs/references.md §1.1–1.6 (Turner 1970; Briggs 1973; CCPS 1999;
De Visscher 2014; NOAA READY Pasquill table; CCOHS ppm conversion). The Gaussian model
treats the gas as neutrally buoyant and the ground as flat, as ALOHA's Gaussian option
does (docs/references.md §1.7); a dense gas such as chlorine slumps near the source, which this
model does not represent.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from sim.hazards.chemical.plume_rise import G_MPS2, buoyancy_flux, final_rise_distance, plume_rise
from sim.hazards.chemical.puff_train import (
    downwind_unit,
    puff_train_state,
    release_segments,
    wind_track,
)
from sim.hazards.chemical.sigmas import TERRAINS, Terrain, briggs_sigmas, ccps_puff_sigmas
from sim.hazards.chemical.stability import (
    SKY_CONDITIONS,
    STABILITY_CLASSES,
    check_stability,
    check_wind,
    pasquill_class,
    pasquill_classes,
)

__all__ = [
    "G_MPS2",
    "MOLAR_VOLUME_L",
    "SKY_CONDITIONS",
    "STABILITY_CLASSES",
    "TERRAINS",
    "Terrain",
    "briggs_sigmas",
    "buoyancy_flux",
    "ccps_puff_sigmas",
    "check_stability",
    "check_wind",
    "downwind_unit",
    "final_rise_distance",
    "gaussian_plume",
    "gaussian_puff",
    "mg_m3_to_ppm",
    "pasquill_class",
    "pasquill_classes",
    "plume_concentration",
    "plume_rise",
    "ppm_to_mg_m3",
    "puff_concentration",
    "puff_train_state",
    "release_segments",
    "slug_peak_factor",
    "threat_zone",
    "wind_track",
]

MOLAR_VOLUME_L = 24.45  # L/mol at 25 °C, 1 atm; CCOHS, docs/references.md §1.6


def _finite(name: str, value) -> np.ndarray:
    """``value`` as a float array; ValueError naming ``name`` if any entry is NaN or inf."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got {value!r}")
    return arr


def _vertical(z: np.ndarray, h: np.ndarray, sz: np.ndarray) -> np.ndarray:
    """exp(-(z-h)²/2σz²) + exp(-(z+h)²/2σz²): the ground reflects the plume."""
    return np.exp(-((z - h) ** 2) / (2.0 * sz**2)) + np.exp(-((z + h) ** 2) / (2.0 * sz**2))


def gaussian_plume(rate, wind_mps: float, y_m, z_m, height_m, sigma_y_m, sigma_z_m) -> np.ndarray:
    """Continuous point-source plume with ground reflection, given σy and σz.

    ``C = Q / (2π u σy σz) · exp(−y²/2σy²) · [exp(−(z−H)²/2σz²) + exp(−(z+H)²/2σz²)]``.
    Where σ = 0 (at or upwind of the source) or ``z < 0`` the result is 0.

    Examples
    --------
    >>> c = gaussian_plume(0.1, 2.0, 0.0, 0.0, 0.0, 18.102, 8.497)  # CCPS p.97, kg/m3
    >>> round(float(c) * 1e4, 4)
    1.0347
    """
    u = check_wind(wind_mps)
    y, z, h, sy, sz = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (y_m, z_m, height_m, sigma_y_m, sigma_z_m))
    )
    ok = (sy > 0.0) & (sz > 0.0) & (z >= 0.0)
    out = np.zeros(y.shape)
    sy_, sz_ = sy[ok], sz[ok]
    out[ok] = (
        (np.asarray(rate, dtype=np.float64) * np.ones(y.shape))[ok]
        / (2.0 * np.pi * u * sy_ * sz_)
        * np.exp(-(y[ok] ** 2) / (2.0 * sy_**2))
        * _vertical(z[ok], h[ok], sz_)
    )
    return out


def plume_concentration(
    rate,
    wind_mps: float,
    x_m,
    y_m=0.0,
    z_m=0.0,
    *,
    height_m: float = 0.0,
    stability: str = "D",
    terrain: Terrain = "rural",
) -> np.ndarray:
    """Steady ground-reflected Gaussian plume with Briggs σ, at receptors (x, y, z).

    Parameters
    ----------
    rate : float
        Emission rate (g/s gives g/m³).
    wind_mps : float
        Wind speed at release height, m/s (> 0).
    x_m, y_m, z_m : float or array
        Downwind, crosswind, height, m. ``x <= 0`` (upwind) gives 0.
    height_m : float
        Effective release height H = stack height + plume rise, m.
    stability, terrain
        Pasquill–Gifford class and Briggs set.

    Notes
    -----
    docs/references.md §1.1; test case P1 (De Visscher 2014 Ex. 2.1) in §1.5.

    Examples
    --------
    >>> c = plume_concentration(100.0, 7.0, 1500.0, 0.0, 0.0, height_m=90.0, stability="D")
    >>> round(float(c) * 1e6, 1)  # µg/m3
    160.3
    """
    x = _finite("x_m", x_m)
    _finite("y_m", y_m), _finite("z_m", z_m), _finite("height_m", height_m), _finite("rate", rate)
    sy, sz = briggs_sigmas(x, stability, terrain)
    return gaussian_plume(rate, wind_mps, y_m, z_m, height_m, sy, sz)


def gaussian_puff(mass, dx_m, y_m, z_m, height_m, sigma_x_m, sigma_y_m, sigma_z_m) -> np.ndarray:
    """Instantaneous puff with ground reflection, given its σx, σy, σz.

    ``C = m / ((2π)^{3/2} σx σy σz) · exp(−dx²/2σx²) · exp(−y²/2σy²) · [reflected z]``,
    ``dx`` the along-wind distance from the puff centre. Zero where any σ = 0 or z < 0.

    Examples
    --------
    >>> c = gaussian_puff(1.0, 0.0, 0.0, 0.0, 0.0, 5.0479, 5.0479, 2.2148)
    >>> round(float(c) * 1e3, 4)  # 1 kg: 1/(√(2π)·π·σy²·σz) kg/m3, CCPS p.101, in g/m3
    2.2501
    """
    dx, y, z, h, sx, sy, sz = np.broadcast_arrays(
        *(
            np.asarray(v, dtype=np.float64)
            for v in (dx_m, y_m, z_m, height_m, sigma_x_m, sigma_y_m, sigma_z_m)
        )
    )
    ok = (sx > 0.0) & (sy > 0.0) & (sz > 0.0) & (z >= 0.0)
    out = np.zeros(dx.shape)
    m = (np.asarray(mass, dtype=np.float64) * np.ones(dx.shape))[ok]
    sx_, sy_, sz_ = sx[ok], sy[ok], sz[ok]
    out[ok] = (
        m
        / ((2.0 * np.pi) ** 1.5 * sx_ * sy_ * sz_)
        * np.exp(-(dx[ok] ** 2) / (2.0 * sx_**2) - (y[ok] ** 2) / (2.0 * sy_**2))
        * _vertical(z[ok], h[ok], sz_)
    )
    return out


def puff_concentration(
    mass,
    wind_mps: float,
    t_s,
    x_m,
    y_m=0.0,
    z_m=0.0,
    *,
    height_m: float = 0.0,
    stability: str = "D",
) -> np.ndarray:
    """Concentration of one instantaneous puff released at the origin at t = 0 (CCPS 1999).

    The centre travels downwind at ``wind_mps``; σx = σy and σz follow the CCPS puff
    correlations at the distance travelled, ``u·t``. Before the release (``t <= 0``) the
    concentration is 0.

    Parameters
    ----------
    mass : float
        Released mass (kg gives kg/m³).
    wind_mps : float
        Wind speed, m/s (> 0).
    t_s : float or array
        Time since release, s.
    x_m, y_m, z_m : float or array
        Receptor: downwind, crosswind, height, m.
    height_m : float
        Release height, m.
    stability : {"A", ..., "F"}

    Notes
    -----
    docs/references.md §1.5 P4 (CCPS 1999 p.101; GasDispersion.jl puff test).

    Examples
    --------
    >>> c = puff_concentration(1.0, 2.0, 250.0, 500.0, stability="F")
    >>> round(float(c), 6)  # kg/m3 at the cloud centre
    0.00225
    """
    u = check_wind(wind_mps)
    t = _finite("t_s", t_s)
    for name, v in (
        ("x_m", x_m),
        ("y_m", y_m),
        ("z_m", z_m),
        ("height_m", height_m),
        ("mass", mass),
    ):
        _finite(name, v)
    s = u * np.maximum(t, 0.0)
    sxy, sz = ccps_puff_sigmas(s, stability)
    return gaussian_puff(
        mass, np.asarray(x_m, dtype=np.float64) - s, y_m, z_m, height_m, sxy, sxy, sz
    )


def ppm_to_mg_m3(ppm, molar_mass_g_mol: float) -> np.ndarray:
    """Volume fraction (ppm) to mass concentration (mg/m³) at 25 °C, 1 atm.

    ``mg/m³ = ppm × MW / 24.45`` (CCOHS; docs/references.md §1.6).

    Examples
    --------
    >>> round(float(ppm_to_mg_m3(1.0, 70.90)), 3)  # chlorine
    2.9
    """
    return np.asarray(ppm, dtype=np.float64) * float(molar_mass_g_mol) / MOLAR_VOLUME_L


def mg_m3_to_ppm(mg_m3, molar_mass_g_mol: float) -> np.ndarray:
    """Mass concentration (mg/m³) to volume fraction (ppm) at 25 °C, 1 atm.

    Examples
    --------
    >>> round(float(mg_m3_to_ppm(18.0, 17.03)), 1)  # ammonia, NIOSH REL 25 ppm = 18 mg/m3
    25.8
    """
    return np.asarray(mg_m3, dtype=np.float64) * MOLAR_VOLUME_L / float(molar_mass_g_mol)


def slug_peak_factor(wind_mps: float, duration_s: float, sigma_x_m) -> np.ndarray:
    """Peak of a finite release (duration D) over its steady-plume value: erf(uD / (2√2 σx)).

    A release of duration D travels as a slug of length uD; along-wind diffusion with σx
    erodes its ends, and the centre of the slug reaches ``erf(uD / (2√2 σx))`` times the
    steady plume. 1 for a long release, → 0 for a short one.

    Examples
    --------
    >>> round(float(slug_peak_factor(3.0, 1800.0, 100.0)), 6)
    1.0
    """
    u = check_wind(wind_mps)
    sx = np.asarray(sigma_x_m, dtype=np.float64)
    with np.errstate(divide="ignore"):
        arg = np.where(
            sx > 0.0,
            u * float(duration_s) / (2.0 * math.sqrt(2.0) * np.maximum(sx, 1e-300)),
            np.inf,
        )
    return erf(arg)


def threat_zone(
    rate_g_s: float,
    duration_s: float,
    wind_mps: float,
    level_g_m3: float,
    *,
    height_m: float = 0.0,
    stability: str = "D",
    terrain: Terrain = "rural",
    max_x_m: float = 100_000.0,
) -> dict[str, float]:
    """Length and largest width of the ground footprint where the peak exceeds a level.

    The peak ground concentration of a release of ``duration_s`` at ``(x, y)`` is the
    steady plume times :func:`slug_peak_factor` with σx = σy; the zone is where it reaches
    ``level_g_m3`` at some time, as ALOHA draws threat zones (docs/references.md §1.7).

    Returns
    -------
    dict
        ``length_m`` (farthest downwind distance on the centreline), ``max_width_m``
        (largest full crosswind width) and ``x_at_max_width_m``; all 0 when the level is
        never reached.

    Examples
    --------
    >>> z = threat_zone(100.0, 3600.0, 7.0, 100e-6, height_m=90.0, stability="D")
    >>> z["length_m"] > 1500.0  # 160 µg/m3 at 1.5 km (De Visscher Ex. 2.1)
    True
    """
    u = check_wind(wind_mps)
    level = float(level_g_m3)
    if not (math.isfinite(level) and level > 0.0):
        raise ValueError(f"level_g_m3: expected a concentration > 0, got {level_g_m3!r}")
    if not (math.isfinite(duration_s) and duration_s > 0.0):
        raise ValueError(f"duration_s: expected a release duration > 0 s, got {duration_s!r}")
    x = np.geomspace(0.1, max_x_m, 20_001)
    sy, sz = briggs_sigmas(x, stability, terrain)
    centre = gaussian_plume(rate_g_s, u, 0.0, 0.0, height_m, sy, sz) * slug_peak_factor(
        u, duration_s, sy
    )
    above = centre >= level
    if not above.any():
        return {"length_m": 0.0, "max_width_m": 0.0, "x_at_max_width_m": 0.0}
    last = int(np.flatnonzero(above)[-1])
    length = float(x[last])
    if last + 1 < x.size:  # refine the edge between the last grid point above and the next
        lo, hi = x[last], x[last + 1]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            s_y, s_z = briggs_sigmas(mid, stability, terrain)
            c = gaussian_plume(rate_g_s, u, 0.0, 0.0, height_m, s_y, s_z) * slug_peak_factor(
                u, duration_s, s_y
            )
            lo, hi = (mid, hi) if float(c) >= level else (lo, mid)
        length = float(lo)
    with np.errstate(divide="ignore"):
        half = np.where(above, sy * np.sqrt(2.0 * np.log(np.maximum(centre, level) / level)), 0.0)
    i = int(np.argmax(half))
    return {
        "length_m": length,
        "max_width_m": float(2.0 * half[i]),
        "x_at_max_width_m": float(x[i]),
    }
