"""Atmospheric stability: Pasquill–Gifford classes, the sky states that set them, the wind.

The Gaussian formulas (:mod:`sim.hazards.chemical.dispersion`) spread a gas by stability class, A
(very unstable) to F (stable). This module holds the classes, the Pasquill table that
picks one from the surface wind speed and the sky, and the checks of a class and a wind
speed that every formula runs first: calm air and an unknown class raise
:class:`ValueError` naming the argument.

Notes
-----
NOAA ARL READY table after Pasquill (1961), docs/references.md §1.3.
"""

from __future__ import annotations

import math

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
"""Sky states of the Pasquill table (docs/references.md §1.3): daytime insolation strong /
moderate / slight; ``overcast`` (day or night, always D); night with thin overcast or
> 4/8 low cloud (``night_cloudy``) or ≤ 4/8 cloud (``night_clear``)."""

# Pasquill table rows by wind band (< 2, 2-3, 3-5, 5-6, > 6 m/s) and sky; split classes
# ("A-B") as strings of letters. NOAA ARL READY, docs/references.md §1.3; band edges as in
# tcarion/GaussianDispersion `pasquill_gifford` (2 <= u < 3, 3 <= u < 5, 5 <= u <= 6).
_PG_TABLE = {
    "strong": ("A", "AB", "B", "C", "C"),
    "moderate": ("AB", "B", "BC", "CD", "D"),
    "slight": ("B", "C", "C", "D", "D"),
    "overcast": ("D", "D", "D", "D", "D"),
    "night_cloudy": ("E", "E", "D", "D", "D"),
    "night_clear": ("F", "F", "E", "D", "D"),
}


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
    NOAA ARL READY table after Pasquill (1961), docs/references.md §1.3.

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
