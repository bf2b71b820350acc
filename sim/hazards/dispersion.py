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

Notes
-----
Formulas and test values: REFERENCES.md §1.1–1.6 (Turner 1970; Briggs 1973; CCPS 1999;
De Visscher 2014; NOAA READY Pasquill table; CCOHS ppm conversion). The Gaussian model
treats the gas as neutrally buoyant and the ground as flat, as ALOHA's Gaussian option
does (REFERENCES §1.7); a dense gas such as chlorine slumps near the source, which this
model does not represent.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy.special import erf

STABILITY_CLASSES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
"""Pasquill–Gifford classes, very unstable (A) to stable (F)."""

SKY_CONDITIONS: tuple[str, ...] = (
    "strong",
    "moderate",
    "slight",
    "overcast",
    "night_cloudy",
    "night_clear",
)
"""Sky states of the Pasquill table (REFERENCES §1.3): daytime insolation strong /
moderate / slight; ``overcast`` (day or night, always D); night with thin overcast or
> 4/8 low cloud (``night_cloudy``) or ≤ 4/8 cloud (``night_clear``)."""

TERRAINS: tuple[str, ...] = ("rural", "urban")

G_MPS2 = 9.80665  # standard gravity, REFERENCES.md units note
MOLAR_VOLUME_L = 24.45  # L/mol at 25 °C, 1 atm; CCOHS, REFERENCES.md §1.6

# Pasquill table rows by wind band (< 2, 2-3, 3-5, 5-6, > 6 m/s) and sky; split classes
# ("A-B") as strings of letters. NOAA ARL READY, REFERENCES.md §1.3; band edges as in
# tcarion/GaussianDispersion `pasquill_gifford` (2 <= u < 3, 3 <= u < 5, 5 <= u <= 6).
_PG_TABLE = {
    "strong": ("A", "AB", "B", "C", "C"),
    "moderate": ("AB", "B", "BC", "CD", "D"),
    "slight": ("B", "C", "C", "D", "D"),
    "overcast": ("D", "D", "D", "D", "D"),
    "night_cloudy": ("E", "E", "D", "D", "D"),
    "night_clear": ("F", "F", "E", "D", "D"),
}

# Briggs (1973) open-country and urban σ = a·x·(1 + b·x)^p, REFERENCES.md §1.4.
# Each entry: (a, b, p) for σy and for σz.
_BRIGGS_RURAL = {
    "A": ((0.22, 1e-4, -0.5), (0.20, 0.0, 0.0)),
    "B": ((0.16, 1e-4, -0.5), (0.12, 0.0, 0.0)),
    "C": ((0.11, 1e-4, -0.5), (0.08, 2e-4, -0.5)),
    "D": ((0.08, 1e-4, -0.5), (0.06, 1.5e-3, -0.5)),
    "E": ((0.06, 1e-4, -0.5), (0.03, 3e-4, -1.0)),
    "F": ((0.04, 1e-4, -0.5), (0.016, 3e-4, -1.0)),
}
_BRIGGS_URBAN_AB = ((0.32, 4e-4, -0.5), (0.24, 1e-3, +0.5))
_BRIGGS_URBAN_EF = ((0.11, 4e-4, -0.5), (0.08, 1.5e-3, -0.5))
_BRIGGS_URBAN = {
    "A": _BRIGGS_URBAN_AB,
    "B": _BRIGGS_URBAN_AB,
    "C": ((0.22, 4e-4, -0.5), (0.20, 0.0, 0.0)),
    "D": ((0.16, 4e-4, -0.5), (0.14, 3e-4, -0.5)),
    "E": _BRIGGS_URBAN_EF,
    "F": _BRIGGS_URBAN_EF,
}

# CCPS (1999) instantaneous-puff σ = δ·x^β (Slade 1968), REFERENCES.md §1.5 P4.
_CCPS_PUFF_Y = {
    "A": (0.18, 0.92),
    "B": (0.14, 0.92),
    "C": (0.10, 0.92),
    "D": (0.06, 0.92),
    "E": (0.04, 0.92),
    "F": (0.02, 0.89),
}
_CCPS_PUFF_Z = {
    "A": (0.60, 0.75),
    "B": (0.53, 0.73),
    "C": (0.34, 0.71),
    "D": (0.15, 0.70),
    "E": (0.10, 0.65),
    "F": (0.05, 0.61),
}

Terrain = Literal["rural", "urban"]


def check_stability(stability: str) -> str:
    """Return ``stability`` if it is a Pasquill–Gifford class A–F, else raise ValueError.

    Examples
    --------
    >>> check_stability("D")
    'D'
    """
    if not isinstance(stability, str) or stability not in STABILITY_CLASSES:
        msg = f"stability: expected one of {', '.join(STABILITY_CLASSES)}, got {stability!r}"
        raise ValueError(msg)
    return stability


def check_wind(wind_mps: float) -> float:
    """Return ``wind_mps`` as float if it is finite and > 0 m/s, else raise ValueError.

    The Gaussian plume divides by the wind speed: calm air has no Gaussian answer.

    Examples
    --------
    >>> check_wind(3)
    3.0
    """
    u = float(wind_mps)
    if not (math.isfinite(u) and u > 0.0):
        msg = (
            f"wind_mps: expected a wind speed > 0 m/s (the Gaussian model has no answer "
            f"for calm air), got {wind_mps!r}"
        )
        raise ValueError(msg)
    return u


def _finite(name: str, value) -> np.ndarray:
    """``value`` as a float array; ValueError naming ``name`` if any entry is NaN or inf."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got {value!r}")
    return arr


def _check_terrain(terrain: str) -> str:
    if terrain not in TERRAINS:
        msg = f"terrain: expected one of {', '.join(TERRAINS)}, got {terrain!r}"
        raise ValueError(msg)
    return terrain


def pasquill_classes(wind_mps: float, sky: str) -> tuple[str, ...]:
    """Pasquill–Gifford class(es) for a surface wind speed and sky state.

    Parameters
    ----------
    wind_mps : float
        Surface wind speed, m/s (> 0).
    sky : {"strong", "moderate", "slight", "overcast", "night_cloudy", "night_clear"}
        See :data:`SKY_CONDITIONS`.

    Returns
    -------
    tuple of str
        One class, or two for a split cell of the table (e.g. ``("C", "D")``).

    Notes
    -----
    NOAA ARL READY table after Pasquill (1961), REFERENCES.md §1.3.

    Examples
    --------
    >>> pasquill_classes(5.5, "moderate")
    ('C', 'D')
    >>> pasquill_classes(7.0, "moderate")
    ('D',)
    """
    u = check_wind(wind_mps)
    if sky not in _PG_TABLE:
        msg = f"sky: expected one of {', '.join(SKY_CONDITIONS)}, got {sky!r}"
        raise ValueError(msg)
    band = 0 if u < 2.0 else 1 if u < 3.0 else 2 if u < 5.0 else 3 if u <= 6.0 else 4
    return tuple(_PG_TABLE[sky][band])


def pasquill_class(wind_mps: float, sky: str) -> str:
    """One Pasquill–Gifford class: the more stable one of a split table cell.

    A more stable class disperses less, so for a ground-level release it gives the higher
    (more conservative) downwind concentration.

    Examples
    --------
    >>> pasquill_class(5.5, "moderate")
    'D'
    >>> pasquill_class(1.5, "night_clear")
    'F'
    """
    return pasquill_classes(wind_mps, sky)[-1]


def _power_law(x: np.ndarray, coeff: tuple[float, float, float]) -> np.ndarray:
    a, b, p = coeff
    return a * x * (1.0 + b * x) ** p


def briggs_sigmas(x_m, stability: str, terrain: Terrain = "rural") -> tuple[np.ndarray, np.ndarray]:
    """Briggs (1973) plume dispersion coefficients σy, σz at downwind distance ``x_m``.

    Parameters
    ----------
    x_m : float or array
        Downwind distance, m. Values ``<= 0`` give σ = 0 (no plume upwind).
    stability : {"A", ..., "F"}
    terrain : {"rural", "urban"}
        Open country or urban set. Urban merges A/B and E/F.

    Returns
    -------
    sigma_y_m, sigma_z_m : ndarray
        Metres, same shape as ``x_m``.

    Notes
    -----
    Valid roughly 100 m – 10 km; outside that range the formulas are extrapolated.
    Coefficients: REFERENCES.md §1.4 (GasDispersion.jl ``briggs.jl``; Griffiths 1994).
    Only urban A–B σz grows with ``(1 + 0.001x)^(+1/2)``.

    Examples
    --------
    >>> sy, sz = briggs_sigmas(1000.0, "D", "rural")
    >>> round(float(sy), 2), round(float(sz), 2)
    (76.28, 37.95)
    """
    check_stability(stability)
    table = _BRIGGS_RURAL if _check_terrain(terrain) == "rural" else _BRIGGS_URBAN
    x = np.maximum(np.asarray(x_m, dtype=np.float64), 0.0)
    cy, cz = table[stability]
    return _power_law(x, cy), _power_law(x, cz)


def ccps_puff_sigmas(x_m, stability: str) -> tuple[np.ndarray, np.ndarray]:
    """Instantaneous-puff dispersion coefficients σx = σy and σz (CCPS 1999).

    Parameters
    ----------
    x_m : float or array
        Distance travelled by the puff centre, m (``<= 0`` gives σ = 0).
    stability : {"A", ..., "F"}

    Returns
    -------
    sigma_xy_m, sigma_z_m : ndarray
        Metres.

    Notes
    -----
    σ = δ·x^β with Slade (1968) coefficients as tabulated by CCPS (1999); REFERENCES.md
    §1.5 P4 (GasDispersion.jl ``pasquill_gifford.jl``).

    Examples
    --------
    >>> sxy, sz = ccps_puff_sigmas(500.0, "F")
    >>> round(float(sxy), 4), round(float(sz), 4)
    (5.0479, 2.2148)
    """
    check_stability(stability)
    x = np.maximum(np.asarray(x_m, dtype=np.float64), 0.0)
    dy, by = _CCPS_PUFF_Y[stability]
    dz, bz = _CCPS_PUFF_Z[stability]
    return dy * x**by, dz * x**bz


def buoyancy_flux(
    gas_density_kg_m3: float,
    air_density_kg_m3: float,
    stack_radius_m: float,
    exit_velocity_mps: float,
) -> float:
    """Briggs buoyancy flux Fb = (1 − ρs/ρa)·g·rs²·ws, m⁴/s³.

    Examples
    --------
    >>> round(buoyancy_flux(0.935, 1.17, 1.0, 20.0 / math.pi), 4)  # De Visscher p.31: 12.539
    12.5396
    """
    return (
        (1.0 - gas_density_kg_m3 / air_density_kg_m3)
        * G_MPS2
        * stack_radius_m**2
        * exit_velocity_mps
    )


def plume_rise(buoyancy_flux_m4_s3: float, wind_mps: float, x_m) -> np.ndarray:
    """Briggs buoyant plume rise Δh(x), m, levelling off at the final-rise distance.

    Parameters
    ----------
    buoyancy_flux_m4_s3 : float
        Fb from :func:`buoyancy_flux` (≤ 0: a non-buoyant release, no rise).
    wind_mps : float
        Wind speed at stack height, m/s (> 0).
    x_m : float or array
        Downwind distance, m.

    Notes
    -----
    ``xf = 49 Fb^(5/8)`` (Fb ≤ 55) or ``119 Fb^(2/5)`` (Fb > 55);
    ``Δh = 1.6 Fb^(1/3) min(x, xf)^(2/3) / u``. REFERENCES.md §1.2 (De Visscher 2014 p.31).

    Examples
    --------
    >>> round(float(plume_rise(12.539, 3.0, 1000.0)), 2)
    47.59
    """
    u = check_wind(wind_mps)
    x = np.maximum(np.asarray(x_m, dtype=np.float64), 0.0)
    fb = float(buoyancy_flux_m4_s3)
    if fb <= 0.0:
        return np.zeros_like(x)
    return 1.6 * fb ** (1.0 / 3.0) * np.minimum(x, final_rise_distance(fb)) ** (2.0 / 3.0) / u


def final_rise_distance(buoyancy_flux_m4_s3: float) -> float:
    """Distance at which a buoyant plume stops rising, m (Briggs; REFERENCES §1.2).

    Examples
    --------
    >>> round(final_rise_distance(12.539), 1)
    238.0
    """
    fb = float(buoyancy_flux_m4_s3)
    return 49.0 * fb**0.625 if fb <= 55.0 else 119.0 * fb**0.4


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
    REFERENCES.md §1.1; test case P1 (De Visscher 2014 Ex. 2.1) in §1.5.

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
    REFERENCES.md §1.5 P4 (CCPS 1999 p.101; GasDispersion.jl puff test).

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

    ``mg/m³ = ppm × MW / 24.45`` (CCOHS; REFERENCES.md §1.6).

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
    ``level_g_m3`` at some time, as ALOHA draws threat zones (REFERENCES.md §1.7).

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


# --- time-varying releases: a train of puffs carried by a changing wind -----------------


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
