"""What flood water does to cars and people: the curves of docs/references.md §2.1–2.3.

Pure functions over scalars or numpy arrays (depth in metres or millimetres as named,
velocity in m/s). Each one cites its source; the values at the tabulated points are
checked in ``tests/test_flood_curves.py``.
"""

from __future__ import annotations

import numpy as np

# Pregnolato et al. (2017) depth-disruption polynomial, km/h with w in mm, as implemented
# in nismod/DAFNI-NIRD scripts/experiments/road_disruption_maxSpeed.py (docs/references.md 2.1).
PREGNOLATO_A = 0.0009
PREGNOLATO_B = -0.5529
PREGNOLATO_C = 86.9448
# Depth at and above which a road is impassable, mm (same source: the code's cut-off).
VEHICLE_CLOSE_DEPTH_MM = 300.0

# Defra/EA FD2321 hazard-rating class limits (docs/references.md 2.2): HR < 0.75 low,
# 0.75-1.25 moderate, 1.25-2.0 significant, > 2.0 extreme.
HR_LIMITS = (0.75, 1.25, 2.0)
HR_CLASSES = ("low", "moderate", "significant", "extreme")
HR_LABELS = {
    "low": "Caution",
    "moderate": "Danger for some (children, elderly, infirm)",
    "significant": "Danger for most (general public)",
    "extreme": "Danger for all (incl. emergency services)",
}

# Australian combined hazard curves H1-H6 (NSW FB03 Fig. 1 / AIDR 2017 Guideline 7-3;
# docs/references.md 2.3): (max D*V m2/s, max D m, max V m/s) of H1..H5; H6 otherwise.
H_LIMITS = (
    (0.3, 0.3, 2.0),
    (0.6, 0.5, 2.0),
    (0.6, 1.2, 2.0),
    (1.0, 2.0, 2.0),
    (4.0, 4.0, 4.0),
)
H_CLASSES = ("H1", "H2", "H3", "H4", "H5", "H6")


def vehicle_speed_kmh(depth_mm):
    """Vehicle speed in flood water, km/h (Pregnolato et al. 2017 depth-disruption).

    Parameters
    ----------
    depth_mm : float or array
        Water depth on the road, millimetres (≥ 0).

    Returns
    -------
    float or ndarray
        ``0.0009 w² − 0.5529 w + 86.9448`` for ``w < 300 mm``, 0 from 300 mm on (road
        impassable).

    Notes
    -----
    Pregnolato, Ford, Wilkinson & Dawson (2017), Transportation Research Part D 55:67–81,
    doi:10.1016/j.trd.2017.06.020, as coded in nismod/DAFNI-NIRD (docs/references.md §2.1).
    The polynomial is discontinuous at 300 mm (≈ 2 km/h just below), which the cut-off
    keeps; the value is an upper bound to combine with the posted speed (``min``).

    Examples
    --------
    >>> round(float(vehicle_speed_kmh(150.0)), 2)
    24.26
    >>> float(vehicle_speed_kmh(300.0))
    0.0
    """
    w = np.asarray(depth_mm, dtype=np.float64)
    v = PREGNOLATO_A * w * w + PREGNOLATO_B * w + PREGNOLATO_C
    out = np.where(w >= VEHICLE_CLOSE_DEPTH_MM, 0.0, v)
    return out if out.ndim else float(out)


def hazard_rating(depth_m, velocity_mps, debris_factor):
    """Flood hazard rating to people, ``HR = d · (v + 0.5) + DF`` (Defra/EA FD2321).

    Parameters
    ----------
    depth_m : float or array
        Water depth, metres (≥ 0).
    velocity_mps : float or array
        Flow speed, m/s (≥ 0).
    debris_factor : float or array
        DF, dimensionless (FD2320/TR2 gives 0, 0.5 or 1 by depth and land use).

    Notes
    -----
    Defra/Environment Agency R&D FD2320 (2005) and FD2321 *Flood Risks to People* (HR
    Wallingford 2006); docs/references.md §2.2.

    Examples
    --------
    >>> hazard_rating(0.5, 1.0, 0.5)
    1.25
    """
    d = np.asarray(depth_m, dtype=np.float64)
    hr = d * (np.asarray(velocity_mps, dtype=np.float64) + 0.5) + debris_factor
    return hr if np.ndim(hr) else float(hr)


def debris_factor(depth_m, velocity_mps, land_use="urban"):
    """Debris factor DF of FD2320/TR2 by depth, speed and land use.

    Parameters
    ----------
    depth_m, velocity_mps : float or array
    land_use : {"urban", "woodland", "pasture"}

    Returns
    -------
    float or ndarray
        ``d ≤ 0.25 m``: 0; ``0.25 < d ≤ 0.75 m`` (and ``v ≤ 2``): pasture 0, woodland 0.5,
        urban 1; ``d > 0.75 m`` or ``v > 2 m/s``: pasture 0.5, woodland 1, urban 1.

    Notes
    -----
    docs/references.md §2.2 marks this table [U] (recalled, not yet read in the report).

    Examples
    --------
    >>> debris_factor(0.5, 0.5)
    1.0
    >>> debris_factor(0.2, 0.5)
    0.0
    """
    mid, high = {"urban": (1.0, 1.0), "woodland": (0.5, 1.0), "pasture": (0.0, 0.5)}[land_use]
    d = np.asarray(depth_m, dtype=np.float64)
    v = np.asarray(velocity_mps, dtype=np.float64)
    out = np.where(d <= 0.25, 0.0, np.where((d > 0.75) | (v > 2.0), high, mid))
    return out if out.ndim else float(out)


def hr_class_index(hr):
    """FD2321 class of a hazard rating as 0 low, 1 moderate, 2 significant, 3 extreme.

    Class limits: ``HR < 0.75`` low; ``0.75 ≤ HR < 1.25`` moderate; ``1.25 ≤ HR ≤ 2.0``
    significant; ``HR > 2.0`` extreme. At 0.75 and 1.25 the value takes the more severe
    class (the table's ranges share their ends; erring on the side of safety), at 2.0 the
    table's "> 2.0" for extreme is kept.

    Examples
    --------
    >>> int(hr_class_index(1.25))
    2
    """
    hr = np.asarray(hr, dtype=np.float64)
    out = ((hr >= HR_LIMITS[0]).astype(np.int8) + (hr >= HR_LIMITS[1])
           + (hr > HR_LIMITS[2])).astype(np.int8)
    return out if out.ndim else int(out)


def hr_class(hr: float) -> str:
    """FD2321 class name of one hazard rating (``low|moderate|significant|extreme``).

    Examples
    --------
    >>> hr_class(0.2), hr_class(1.75), hr_class(3.0)
    ('low', 'significant', 'extreme')
    """
    return HR_CLASSES[int(hr_class_index(float(hr)))]


def h_class_index(depth_m, velocity_mps):
    """Australian combined hazard class as 1 … 6 (H1 … H6).

    The lowest class whose three limits (D·V, D, V) all hold; still water has D·V = 0.

    Notes
    -----
    NSW Government (2023) *Flood risk management guideline FB03*, Fig. 1 (= AIDR 2017
    Handbook 7, Guideline 7-3; ARR 2019 Book 6 Ch. 7); docs/references.md §2.3.

    Examples
    --------
    >>> int(h_class_index(0.8, 0.5))
    3
    """
    d = np.asarray(depth_m, dtype=np.float64)
    v = np.asarray(velocity_mps, dtype=np.float64)
    dv = d * v
    out = np.full(np.broadcast(d, v).shape, 6, dtype=np.int8)
    for k in range(len(H_LIMITS) - 1, -1, -1):
        dv_max, d_max, v_max = H_LIMITS[k]
        out = np.where((dv <= dv_max) & (d <= d_max) & (v <= v_max), k + 1, out).astype(np.int8)
    return out if out.ndim else int(out)


def h_class(depth_m: float, velocity_mps: float) -> str:
    """Australian combined hazard class name (``H1`` … ``H6``).

    Examples
    --------
    >>> h_class(0.2, 1.0), h_class(4.5, 0.1)
    ('H1', 'H6')
    """
    return H_CLASSES[int(h_class_index(depth_m, velocity_mps)) - 1]
