"""Dispersion coefficients σ: Briggs (1973) plume σy, σz and CCPS (1999) puff σ.

How wide and tall a plume or a puff has grown after travelling a distance downwind, per
stability class (:mod:`sim.hazards.chemical.stability`) and, for the plume, terrain (open country
or urban). Metres in, metres out; a distance ``<= 0`` (upwind) gives σ = 0.

Notes
-----
Briggs σ: docs/references.md §1.4 (Briggs 1973; GasDispersion.jl ``briggs.jl``; Griffiths
1994). CCPS puff σ: docs/references.md §1.5 P4 (CCPS 1999 after Slade 1968).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from sim.hazards.chemical.stability import check_stability

TERRAINS: tuple[str, ...] = ("rural", "urban")
Terrain = Literal["rural", "urban"]

# Briggs (1973) open-country and urban σ = a·x·(1 + b·x)^p, docs/references.md §1.4.
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

# CCPS (1999) instantaneous-puff σ = δ·x^β (Slade 1968), docs/references.md §1.5 P4.
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


def _check_terrain(terrain: str) -> str:
    if terrain not in TERRAINS:
        msg = f"terrain: expected one of {', '.join(TERRAINS)}, got {terrain!r}"
        raise ValueError(msg)
    return terrain


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
    Coefficients: docs/references.md §1.4 (GasDispersion.jl ``briggs.jl``; Griffiths 1994).
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
    σ = δ·x^β with Slade (1968) coefficients as tabulated by CCPS (1999); docs/references.md
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
