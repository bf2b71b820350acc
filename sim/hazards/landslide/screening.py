"""Landslide screening formulas (regional, Newmark-style; Jibson, Harp & Michael 2000).

For a cell of slope ``alpha`` with a uniform soil (cohesion ``c'``, friction angle
``phi'``, unit weight ``gamma``, slab thickness ``t``, saturated fraction ``m``):

1. static factor of safety of an infinite slope (Jibson et al. 2000, eq. 2)::

       FS = c' / (gamma t sin a) + tan phi' / tan a - m gamma_w tan phi' / (gamma tan a)

2. Newmark critical acceleration (Newmark 1965; Jibson et al. 2000, eq. 3), in g::

       a_c = (FS - 1) sin a

3. Newmark displacement from the peak ground acceleration (Jibson 2007, eq. 6;
   sigma 0.510 log units), cm::

       log10 D_n = 0.215 + log10[(1 - a_c/a_max)^2.341 (a_c/a_max)^-1.438]

   (0 where ``a_c >= a_max``; a slope with FS <= 1 is unstable without shaking);
4. probability of failure (Jibson et al. 2000, eq. 5, Northridge calibration)::

       P(f) = 0.335 [1 - exp(-0.048 D_n^1.565)]

Rain: the global intensity-duration threshold of Caine (1980), ``I = 14.82 D^-0.39``
(I mm/h, D h, for 10 min < D < 10 days): a rain above it on a slope whose saturated
factor of safety (m = 1) is below 1 is screened as failing.

Defaults (``Soil``): c' = 5 kPa, phi' = 32°, gamma = 19 kN/m³, t = 2.4 m — the
"typical" shallow-slide values Jibson et al. (2000) use for their Oat Mountain example
are geologic-unit specific; these are mid-range soil values and an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GAMMA_W = 9.81  # kN/m3, unit weight of water


@dataclass(frozen=True)
class Soil:
    """Soil of the sliding slab (see the module docstring; defaults are assumptions)."""

    cohesion_kpa: float = 5.0
    friction_deg: float = 32.0
    unit_weight_kn_m3: float = 19.0
    thickness_m: float = 2.4


def factor_of_safety(slope_deg, soil: Soil, saturation=0.0) -> np.ndarray:
    """Static factor of safety of an infinite slope (inf on flat ground)."""
    a = np.radians(np.asarray(slope_deg, np.float64))
    m = np.asarray(saturation, np.float64)
    tan_phi = np.tan(np.radians(soil.friction_deg))
    with np.errstate(divide="ignore", invalid="ignore"):
        fs = (soil.cohesion_kpa / (soil.unit_weight_kn_m3 * soil.thickness_m * np.sin(a))
              + tan_phi / np.tan(a)
              - m * GAMMA_W * tan_phi / (soil.unit_weight_kn_m3 * np.tan(a)))
    return np.where(a > 0, fs, np.inf)


def critical_acceleration_g(fs, slope_deg) -> np.ndarray:
    """Newmark critical acceleration ``(FS - 1) sin(alpha)``, g (inf on flat ground)."""
    a = np.radians(np.asarray(slope_deg, np.float64))
    fs = np.asarray(fs, np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(fs), (fs - 1.0) * np.sin(a), np.inf)


def newmark_displacement_cm(ac_g, amax_g) -> np.ndarray:
    """Jibson (2007) eq. 6 median displacement, cm: 0 where a_c >= a_max; inf if a_c <= 0."""
    ac = np.asarray(ac_g, np.float64)
    amax = np.asarray(amax_g, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ac / amax
        dn = 10.0 ** (0.215 + np.log10((1.0 - r) ** 2.341 * r ** -1.438))
    return np.where(ac <= 0, np.inf, np.where((amax <= 0) | (r >= 1.0), 0.0, dn))


def failure_probability(dn_cm) -> np.ndarray:
    """Jibson et al. (2000) eq. 5: P(f) = 0.335 (1 - exp(-0.048 D_n^1.565)); 0.335 at D_n = inf."""
    d = np.asarray(dn_cm, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        p = 0.335 * (1.0 - np.exp(-0.048 * np.power(d, 1.565)))
    return np.where(np.isinf(d), 0.335, p)


def shaking_failure_probability(slope_deg, pga_g, soil: Soil = Soil()) -> np.ndarray:
    """P(f) of slopes under a PGA (the chain of the four steps above, dry slab)."""
    fs = factor_of_safety(slope_deg, soil)
    return failure_probability(newmark_displacement_cm(critical_acceleration_g(fs, slope_deg),
                                                       pga_g))


def caine_threshold_mm_h(duration_h) -> np.ndarray:
    """Caine (1980) rainfall intensity threshold, mm/h, for a duration in hours."""
    return 14.82 * np.asarray(duration_h, np.float64) ** -0.39


def rain_failure(slope_deg, intensity_mm_h: float, duration_h: float,
                 soil: Soil = Soil()) -> np.ndarray:
    """Screened as failing in rain: above Caine's threshold and saturated FS < 1 (bool)."""
    wet = intensity_mm_h >= float(caine_threshold_mm_h(duration_h))
    return wet & (factor_of_safety(slope_deg, soil, saturation=1.0) < 1.0)
