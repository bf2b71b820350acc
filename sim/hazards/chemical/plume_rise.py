"""Plume rise: how high a buoyant release climbs above its stack (Briggs).

A gas lighter than air rises until the wind bends it over; the effective release height
of the Gaussian formulas (:mod:`sim.hazards.chemical.dispersion`) is the stack height plus this
rise. A non-buoyant release does not rise.

Notes
-----
docs/references.md §1.2 (Briggs; De Visscher 2014 p.31).
"""

from __future__ import annotations

import numpy as np

from sim.hazards.chemical.stability import check_wind

G_MPS2 = 9.80665  # standard gravity, docs/references.md units note


def buoyancy_flux(
    gas_density_kg_m3: float,
    air_density_kg_m3: float,
    stack_radius_m: float,
    exit_velocity_mps: float,
) -> float:
    """Briggs buoyancy flux Fb = (1 − ρs/ρa)·g·rs²·ws, m⁴/s³.

    Examples
    --------
    >>> import math
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
    ``Δh = 1.6 Fb^(1/3) min(x, xf)^(2/3) / u``. docs/references.md §1.2 (De Visscher 2014 p.31).

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
    """Distance at which a buoyant plume stops rising, m (Briggs; docs/references.md §1.2).

    Examples
    --------
    >>> round(final_rise_distance(12.539), 1)
    238.0
    """
    fb = float(buoyancy_flux_m4_s3)
    return 49.0 * fb**0.625 if fb <= 55.0 else 119.0 * fb**0.4
