"""Rothermel (1972) surface fire spread rate, as BehavePlus computes it.

The fuel-bed part (no-wind, no-slope rate ``R0``, reaction intensity, wind and slope
coefficients) follows Rothermel 1972 with Albini's (1976) multi-class weighting and the
size-class weighting of BehavePlus (Andrews 2018, *The Rothermel surface fire spread model
and associated developments*, RMRS-GTR-371, §3-§5). Dynamic models (Scott & Burgan 2005)
transfer herbaceous load to dead by curing ``1.333 - 1.11 M_herb`` (clipped to [0, 1]).
Wind and slope combine as vectors (Rothermel 1983 / BehavePlus "direction of maximum
spread"), the effective wind speed comes from the combined factor, and the fire ellipse
has the BehavePlus length-to-breadth ratio ``LB = 1 + 0.25 U_eff`` (U_eff in mi/h; Andrews
2018 eq. 79, after Rothermel 1991). The wind limit (``U_eff <= 0.9 I_R``) is not applied,
as Andrews, Cruz & Rothermel (2013) recommend.

Internally in the source's customary US units (ft, min, lb, Btu); the public functions
take and return SI where their names say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.hazards.wildfire import fuel as fu

FT_PER_M = 1.0 / 0.3048
MPS_TO_FTMIN = 60.0 / 0.3048  # m/s -> ft/min
FTMIN_TO_MPS = 0.3048 / 60.0
MPH_TO_FTMIN = 88.0  # 5280 ft / 60 min


@dataclass(frozen=True)
class Moisture:
    """Fuel moisture, fraction of oven-dry weight (0.06 = 6 %)."""

    one_hour: float = 0.06
    ten_hour: float = 0.07
    hundred_hour: float = 0.08
    live_herb: float = 0.60
    live_woody: float = 0.90


@dataclass(frozen=True)
class FuelBed:
    """The wind- and slope-free part of the model for one fuel model and moisture.

    Attributes
    ----------
    r0_ftmin : float
        No-wind, no-slope spread rate, ft/min.
    reaction_btu_ft2min : float
        Reaction intensity I_R, Btu/ft²/min.
    wind_c, wind_b, wind_e : float
        Wind-factor coefficients (Rothermel 1972 eqs. 48-50): phi_w = C U^B (beta/beta_op)^-E.
    ratio : float
        Relative packing ratio beta / beta_op.
    slope_k : float
        Slope-factor coefficient 5.275 beta^-0.3 (phi_s = slope_k tan² slope).
    residence_min : float
        Flame residence time 384/sigma, min (Anderson 1969).
    """

    r0_ftmin: float
    reaction_btu_ft2min: float
    wind_c: float
    wind_b: float
    wind_e: float
    ratio: float
    slope_k: float
    residence_min: float


def _size_class(sav: float) -> int:
    # BehavePlus size classes for the weighting factors (Andrews 2018 table 8).
    for k, lim in enumerate((1200.0, 192.0, 96.0, 48.0, 16.0)):
        if sav >= lim:
            return k
    return 5


def fuel_bed(fm: fu.FuelModel, m: Moisture) -> FuelBed:
    """The fuel-bed quantities of ``fm`` at moisture ``m`` (see :class:`FuelBed`)."""
    herb_dead, herb_live = 0.0, fm.load_herb
    if fm.dynamic and fm.load_herb > 0:
        cured = min(1.0, max(0.0, 1.333 - 1.11 * m.live_herb))  # Scott & Burgan 2005 eq. 1
        herb_dead, herb_live = fm.load_herb * cured, fm.load_herb * (1.0 - cured)
    # (load lb/ft2, sav 1/ft, moisture fraction, heat Btu/lb) per particle, dead then live.
    dead = [(fm.load_1h, fm.sav_1h, m.one_hour, fm.heat_dead),
            (fm.load_10h, fu.TEN_HOUR_SAV, m.ten_hour, fm.heat_dead),
            (fm.load_100h, fu.HUNDRED_HOUR_SAV, m.hundred_hour, fm.heat_dead),
            (herb_dead, fm.sav_herb, m.one_hour, fm.heat_dead)]
    live = [(herb_live, fm.sav_herb, m.live_herb, fm.heat_live),
            (fm.load_woody, fm.sav_woody, m.live_woody, fm.heat_live)]
    cats = [[p for p in dead if p[0] > 0], [p for p in live if p[0] > 0]]
    total_load = sum(p[0] for c in cats for p in c)
    if total_load <= 0 or fm.depth_ft <= 0:
        return FuelBed(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    area = [[p[0] * p[1] / fu.PARTICLE_DENSITY for p in c] for c in cats]
    a_cat = [sum(a) for a in area]
    a_tot = sum(a_cat)
    f_ij = [[a / a_cat[i] for a in area[i]] if a_cat[i] > 0 else [] for i in range(2)]
    f_i = [a / a_tot for a in a_cat]
    # Size-class weights g_ij: the summed f_ij of the particles of the same size class.
    g_ij = []
    for i in range(2):
        by_class: dict[int, float] = {}
        for p, f in zip(cats[i], f_ij[i], strict=True):
            by_class[_size_class(p[1])] = by_class.get(_size_class(p[1]), 0.0) + f
        g_ij.append([by_class[_size_class(p[1])] for p in cats[i]])
    sav_i = [sum(f * p[1] for f, p in zip(f_ij[i], cats[i], strict=True)) for i in range(2)]
    sigma = sum(f_i[i] * sav_i[i] for i in range(2))
    rho_b = total_load / fm.depth_ft
    beta = rho_b / fu.PARTICLE_DENSITY
    beta_op = 3.348 * sigma ** -0.8189  # Rothermel 1972 eq. 37
    ratio = beta / beta_op
    a_exp = 133.0 * sigma ** -0.7913  # Albini 1976 (eq. 39 revised)
    gamma_max = sigma ** 1.5 / (495.0 + 0.0594 * sigma ** 1.5)  # eq. 36
    gamma = gamma_max * ratio ** a_exp * math.exp(a_exp * (1.0 - ratio))  # eq. 38
    # Moisture of extinction: dead from the model, live from Albini 1976 (eq. 88).
    mx = [fm.mx_dead, fm.mx_dead]
    mf = [sum(f * p[2] for f, p in zip(f_ij[i], cats[i], strict=True)) for i in range(2)]
    if cats[1]:
        fine_dead = sum(p[0] * math.exp(-138.0 / p[1]) for p in cats[0])
        fine_dead_m = sum(p[0] * math.exp(-138.0 / p[1]) * p[2] for p in cats[0])
        fine_live = sum(p[0] * math.exp(-500.0 / p[1]) for p in cats[1])
        mf_dead_fine = fine_dead_m / fine_dead if fine_dead > 0 else 0.0
        w_ratio = fine_dead / fine_live if fine_live > 0 else 0.0
        mx[1] = max(fm.mx_dead, 2.9 * w_ratio * (1.0 - mf_dead_fine / fm.mx_dead) - 0.226)
    eta_s = min(1.0, 0.174 * fu.EFFECTIVE_MINERAL ** -0.19)  # eq. 30
    reaction = 0.0
    for i in range(2):
        if not cats[i]:
            continue
        r = mf[i] / mx[i]
        # eq. 29; exactly 0 at and past extinction (the cubic is 0 at r = 1 only to rounding)
        eta_m = 0.0 if r >= 1.0 else max(0.0, 1.0 - 2.59 * r + 5.11 * r * r - 3.52 * r ** 3)
        w_net = sum(g * p[0] * (1.0 - fu.TOTAL_MINERAL)
                    for g, p in zip(g_ij[i], cats[i], strict=True))
        heat = sum(f * p[3] for f, p in zip(f_ij[i], cats[i], strict=True))
        reaction += w_net * heat * eta_m * eta_s
    reaction *= gamma
    xi = math.exp((0.792 + 0.681 * sigma ** 0.5) * (beta + 0.1)) / (192.0 + 0.2595 * sigma)
    sink = rho_b * sum(
        f_i[i] * sum(f * math.exp(-138.0 / p[1]) * (250.0 + 1116.0 * p[2])
                     for f, p in zip(f_ij[i], cats[i], strict=True))
        for i in range(2))
    r0 = reaction * xi / sink if sink > 0 else 0.0
    return FuelBed(
        r0_ftmin=r0, reaction_btu_ft2min=reaction,
        wind_c=7.47 * math.exp(-0.133 * sigma ** 0.55),  # eq. 48
        wind_b=0.02526 * sigma ** 0.54,  # eq. 49
        wind_e=0.715 * math.exp(-3.59e-4 * sigma),  # eq. 50
        ratio=ratio, slope_k=5.275 * beta ** -0.3, residence_min=384.0 / sigma)


@dataclass(frozen=True)
class HeadFire:
    """Spread of the head fire (arrays broadcast over the inputs).

    Attributes
    ----------
    ros_ftmin : ndarray
        Head (maximum) spread rate, ft/min.
    dir_from_upslope_deg : ndarray
        Direction of maximum spread, degrees clockwise from upslope.
    eff_wind_ftmin : ndarray
        Effective wind speed, ft/min.
    lb : ndarray
        Length-to-breadth ratio of the fire ellipse.
    ecc : ndarray
        Eccentricity ``sqrt(LB² - 1) / LB``.
    backing_ftmin, flanking_ftmin : ndarray
        Backing rate ``R (1 - e)/(1 + e)`` and flanking rate (half the minor-axis
        growth) ``(R + R_back) / (2 LB)``, ft/min.
    """

    ros_ftmin: np.ndarray
    dir_from_upslope_deg: np.ndarray
    eff_wind_ftmin: np.ndarray
    lb: np.ndarray
    ecc: np.ndarray
    backing_ftmin: np.ndarray
    flanking_ftmin: np.ndarray


def head_fire(bed: FuelBed, midflame_ftmin, slope_tan, wind_from_upslope_deg) -> HeadFire:
    """Combine wind and slope (vector sum, BehavePlus) into the head fire and its ellipse.

    Parameters
    ----------
    bed : FuelBed
    midflame_ftmin : array_like
        Midflame wind speed, ft/min.
    slope_tan : array_like
        Slope steepness, rise over run (tangent).
    wind_from_upslope_deg : array_like
        Direction the wind blows TOWARD, degrees clockwise from upslope.
    """
    u = np.asarray(midflame_ftmin, np.float64)
    tan = np.asarray(slope_tan, np.float64)
    th = np.radians(np.asarray(wind_from_upslope_deg, np.float64))
    r0 = bed.r0_ftmin
    if r0 <= 0:
        z = np.zeros(np.broadcast(u, tan, th).shape)
        return HeadFire(z, z, z, np.ones_like(z), z, z, z)
    phi_w = np.where(u > 0, bed.wind_c * np.maximum(u, 0.0) ** bed.wind_b
                     * bed.ratio ** -bed.wind_e, 0.0)
    phi_s = bed.slope_k * tan * tan
    x = r0 * phi_s + r0 * phi_w * np.cos(th)
    y = r0 * phi_w * np.sin(th)
    vec = np.hypot(x, y)
    ros = r0 + vec
    direction = np.degrees(np.arctan2(y, x)) % 360.0
    phi_e = ros / r0 - 1.0
    ews = np.where(phi_e > 0, (np.maximum(phi_e, 0.0) * bed.ratio ** bed.wind_e
                               / bed.wind_c) ** (1.0 / bed.wind_b), 0.0)
    lb = 1.0 + 0.25 * ews / MPH_TO_FTMIN  # Andrews 2018 eq. 79
    ecc = np.sqrt(lb * lb - 1.0) / lb
    back = ros * (1.0 - ecc) / (1.0 + ecc)
    flank = (ros + back) / (2.0 * lb)
    return HeadFire(ros, direction, ews, lb, ecc, back, flank)


def wind_adjustment_factor(depth_ft: float, canopy_cover: float = 0.0,
                           canopy_height_ft: float = 0.0, crown_ratio: float = 0.0) -> float:
    """Midflame / 20-ft wind ratio (Albini & Baughman 1979, as BehavePlus applies it).

    Unsheltered fuel (crown fill ``cover × crown_ratio / 3`` < 5 %, or no canopy):
    ``1.83 / ln((20 + 0.36 d) / (0.13 d))`` with ``d`` the fuel-bed depth (ft); sheltered:
    ``0.555 / (sqrt(f H) ln((20 + 0.36 H) / (0.13 H)))`` with the canopy height ``H`` (ft).
    ``canopy_cover`` and ``crown_ratio`` are fractions.
    """
    fill = canopy_cover * crown_ratio / 3.0
    if canopy_cover <= 0 or fill < 0.05 or canopy_height_ft <= 0:
        return 1.83 / math.log((20.0 + 0.36 * depth_ft) / (0.13 * depth_ft))
    h = canopy_height_ft
    return 0.555 / (math.sqrt(fill * h) * math.log((20.0 + 0.36 * h) / (0.13 * h)))


def spread_rate_mps(fm: fu.FuelModel, m: Moisture, *, midflame_mps: float, slope_deg: float = 0.0,
                    wind_from_upslope_deg: float = 0.0) -> dict[str, float]:
    """Head fire of one fuel model in SI units (the calculator's answer).

    Returns a dict: ``ros_mps``, ``ros_m_per_h``, ``r0_mps``, ``direction_from_upslope_deg``,
    ``effective_wind_mps``, ``length_to_breadth``, ``eccentricity``, ``backing_mps``,
    ``flanking_mps``, ``reaction_intensity_kw_m2``, ``fireline_intensity_kw_m``.
    """
    bed = fuel_bed(fm, m)
    hf = head_fire(bed, midflame_mps * MPS_TO_FTMIN, math.tan(math.radians(slope_deg)),
                   wind_from_upslope_deg)
    ros = float(hf.ros_ftmin)
    # Byram intensity I = H_A R, H_A = I_R t_r (Btu/ft2); Btu/ft/s -> kW/m: 3.46414.
    hpua = bed.reaction_btu_ft2min * bed.residence_min
    return {
        "ros_mps": ros * FTMIN_TO_MPS, "ros_m_per_h": ros * FTMIN_TO_MPS * 3600.0,
        "r0_mps": bed.r0_ftmin * FTMIN_TO_MPS,
        "direction_from_upslope_deg": float(hf.dir_from_upslope_deg),
        "effective_wind_mps": float(hf.eff_wind_ftmin) * FTMIN_TO_MPS,
        "length_to_breadth": float(hf.lb), "eccentricity": float(hf.ecc),
        "backing_mps": float(hf.backing_ftmin) * FTMIN_TO_MPS,
        "flanking_mps": float(hf.flanking_ftmin) * FTMIN_TO_MPS,
        "reaction_intensity_kw_m2": bed.reaction_btu_ft2min * 0.18914,  # Btu/ft2/min -> kW/m2
        "fireline_intensity_kw_m": hpua * ros / 60.0 * 3.46414,
    }
