"""Ground motion models: BSSA14 (NGA-West2) and Yu, Li & Xiao (2013) for China.

Both return median peak ground acceleration (g) and velocity (cm/s) and the log standard
deviation of PGA, vectorised over sites. Coefficients are data files in
``sim/hazards/data`` (``bssa14.csv``, ``yu2013.csv``) that name their sources.

- :func:`bssa14` — Boore, Stewart, Seyhan & Atkinson (2014), Earthquake Spectra 30(3):
  1057–1085: moment magnitude Mw 3–8.5, Joyner–Boore distance R_JB ≤ 300 km, Vs30
  150–1500 m/s, mechanism U/SS/NS/RS, regional anelastic attenuation (docs/references.md §3.1).
- :func:`yu2013` — Yu, Li & Xiao (2013), the model of China's 2015 zoning map
  (GB 18306-2015) as implemented by GEM OpenQuake ``YuEtAl2013Ms``: surface-wave
  magnitude Ms, epicentral distance and the site's azimuth from the rupture's long axis
  (elliptical attenuation, docs/references.md §3.2). No site term (Vs30 is not an input).

Bad input (magnitude outside the model's range, negative distance, unknown mechanism or
region) raises :class:`~sim._errors.EvacsimError` naming the valid range or names.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np

from sim._errors import EvacsimError

G_MPS2 = 9.80665  # standard gravity (CODATA / scipy.constants.g), m/s^2
MECHANISMS = ("U", "SS", "NS", "RS")  # unspecified, strike-slip, normal, reverse (BSSA14)
REGIONS = ("global", "california", "china", "turkey", "japan", "italy", "taiwan")
YU_REGIONS = ("active", "tibet", "eastern", "stable")
# Validity ranges (BSSA14 paper, abstract and section "Limits"; pygmm LIMITS).
BSSA14_MAG = (3.0, 8.5)
BSSA14_RJB_KM = (0.0, 300.0)
BSSA14_VS30 = (150.0, 1500.0)
# Yu 2013: docs/references.md §3.2 keeps it to Ms >= 5.5 in use (the ellipse solution misbehaves
# for small events far away); the OpenQuake tests cover Ms 4-8. We accept 4-8.5.
YU_MS = (4.0, 8.5)
YU_REPI_KM = (0.0, 1000.0)
_YU_DEPTH2_KM2 = 225.0  # the model's fixed 15 km depth, squared (OpenQuake yu_2013.py)
_YU_SPLIT_MS = 6.5  # coefficient sets switch above Ms 6.5


@dataclass(frozen=True)
class GroundMotion:
    """Median ground motion at a set of sites.

    Attributes
    ----------
    pga_g : float64[n]
        Peak ground acceleration, g (geometric-mean horizontal component).
    pgv_cm_s : float64[n]
        Peak ground velocity, cm/s.
    ln_sigma_pga : float64[n]
        Total standard deviation of ln PGA.
    tau_pga, phi_pga : float64[n]
        Between-event and within-event parts of ``ln_sigma_pga`` (``tau² + phi² =
        sigma²``); for Yu 2013 (total only) split in BSSA14's proportion, see
        :func:`yu2013`.
    """

    pga_g: np.ndarray
    pgv_cm_s: np.ndarray
    ln_sigma_pga: np.ndarray
    tau_pga: np.ndarray
    phi_pga: np.ndarray


def _check(name: str, value: float, lo: float, hi: float, model: str, unit: str) -> None:
    if not (math.isfinite(value) and lo <= value <= hi):
        raise EvacsimError(f"{model}: {name}: expected {lo:g} to {hi:g} {unit}, got {value!r}")


def _check_array(name: str, arr: np.ndarray, lo: float, hi: float, model: str,
                 unit: str) -> None:
    bad = ~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))
    if bad.any():
        _check(name, float(arr[np.flatnonzero(bad)[0]]), lo, hi, model, unit)


def check_choice(name: str, value: str, choices: tuple[str, ...], model: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming them."""
    if value not in choices:
        raise EvacsimError(f"{model}: {name}: expected one of {', '.join(choices)}, "
                           f"got {value!r}")
    return value


# --------------------------------------------------------------------------- BSSA14
@functools.cache
def _bssa14_table() -> dict[float, dict[str, float]]:
    text = resources.files("sim.hazards").joinpath("data/bssa14.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {float(r["period"]): {k: float(v) for k, v in r.items()} for r in rows}


def _bssa14_coeffs(period: float) -> dict[str, float]:
    table = _bssa14_table()
    if period not in table:
        raise EvacsimError(f"BSSA14: period: expected one of the tabulated periods "
                           f"(-1 = PGV, 0 = PGA, 0.01 ... 10 s), got {period!r}")
    return table[period]


def _bssa14_ln_ref(c: dict[str, float], mag: float, rjb: np.ndarray, mech: str,
                   region: str) -> np.ndarray:
    """Ln Y at the reference site (Vs30 = 760 m/s): event + path terms."""
    e_mech = c[{"U": "e_0", "SS": "e_1", "NS": "e_2", "RS": "e_3"}[mech]]
    dm = mag - c["M_h"]
    f_e = e_mech + (c["e_4"] * dm + c["e_5"] * dm**2 if mag <= c["M_h"] else c["e_6"] * dm)
    if region in ("china", "turkey"):
        dc3 = c["dc_3ct"]
    elif region in ("italy", "japan"):
        dc3 = c["dc_3ij"]
    else:  # global, california, taiwan
        dc3 = c["dc_3global"]
    r = np.sqrt(rjb**2 + c["h"] ** 2)
    f_p = (c["c_1"] + c["c_2"] * (mag - c["M_ref"])) * np.log(r / c["R_ref"]) + (
        c["c_3"] + dc3) * (r - c["R_ref"])
    return f_e + f_p


def _bssa14_site(c: dict[str, float], vs30: np.ndarray, pga_r: np.ndarray) -> np.ndarray:
    """Linear + nonlinear site term F_S (no basin term: zero for T < 0.65 s)."""
    f_lin = c["c"] * np.log(np.minimum(vs30, c["V_c"]) / c["V_ref"])
    f2 = c["f_4"] * (np.exp(c["f_5"] * (np.minimum(vs30, 760.0) - 360.0))
                     - math.exp(c["f_5"] * (760.0 - 360.0)))
    return f_lin + c["f_1"] + f2 * np.log((pga_r + c["f_3"]) / c["f_3"])


def _bssa14_sigma(c: dict[str, float], mag: float, rjb: np.ndarray,
                  vs30: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tau, phi) of BSSA14 (paper eqs. 5-7): magnitude, distance and Vs30 dependent."""
    w = min(max(mag, 4.5), 5.5) - 4.5
    tau = c["tau_1"] + (c["tau_2"] - c["tau_1"]) * w
    phi = c["phi_1"] + (c["phi_2"] - c["phi_1"]) * w
    phi = phi + c["dphi_R"] * np.clip(
        np.log(np.maximum(rjb, 0.1) / c["R_1"]) / math.log(c["R_2"] / c["R_1"]), 0.0, 1.0)
    phi = phi - c["dphi_V"] * np.clip(
        np.log(c["V_2"] / vs30) / math.log(c["V_2"] / c["V_1"]), 0.0, 1.0)
    return np.broadcast_to(tau, np.shape(phi)).astype(np.float64), phi


def bssa14_ln(mag: float, rjb_km, vs30_mps, *, period: float, mechanism: str = "U",
              region: str = "global") -> np.ndarray:
    """Ln of the BSSA14 median at one tabulated period (-1 = PGV cm/s, 0 = PGA g, else PSA g).

    Parameters and checks as :func:`bssa14`.
    """
    mag, rjb, vs30 = _bssa14_inputs(mag, rjb_km, vs30_mps, mechanism, region)
    c0 = _bssa14_coeffs(0.0)
    pga_r = np.exp(_bssa14_ln_ref(c0, mag, rjb, mechanism, region))
    c = _bssa14_coeffs(float(period))
    return _bssa14_ln_ref(c, mag, rjb, mechanism, region) + _bssa14_site(c, vs30, pga_r)


def _bssa14_inputs(mag, rjb_km, vs30_mps, mechanism, region):
    check_choice("mechanism", mechanism, MECHANISMS, "BSSA14")
    check_choice("region", region, REGIONS, "BSSA14")
    mag = float(mag)
    _check("magnitude (Mw)", mag, *BSSA14_MAG, "BSSA14", "")
    rjb = np.atleast_1d(np.asarray(rjb_km, dtype=np.float64))
    vs30 = np.atleast_1d(np.asarray(vs30_mps, dtype=np.float64))
    _check_array("R_JB", rjb, *BSSA14_RJB_KM, "BSSA14", "km")
    _check_array("Vs30", vs30, *BSSA14_VS30, "BSSA14", "m/s")
    rjb, vs30 = np.broadcast_arrays(rjb, vs30)
    return mag, rjb, vs30


def bssa14(mag: float, rjb_km, vs30_mps, *, mechanism: str = "U",
           region: str = "global") -> GroundMotion:
    """BSSA14 median PGA, PGV and the PGA log standard deviation.

    Parameters
    ----------
    mag
        Moment magnitude Mw, 3 to 8.5.
    rjb_km
        Joyner–Boore distance (to the surface projection of the rupture), km, 0 to 300;
        scalar or array (broadcast against ``vs30_mps``).
    vs30_mps
        Time-averaged shear-wave velocity of the top 30 m, m/s, 150 to 1500.
    mechanism : {"U", "SS", "NS", "RS"}
        Unspecified, strike-slip, normal, reverse.
    region : {"global", "california", "china", "turkey", "japan", "italy", "taiwan"}
        Selects the anelastic attenuation term Δc3 (global/California/Taiwan: 0;
        China/Turkey; Italy/Japan). The Japan basin term is zero for PGA and PGV.

    Returns
    -------
    GroundMotion

    Notes
    -----
    ln Y = F_E(M, mech) + F_P(R_JB, M, region) + F_S(Vs30, R_JB, M), with the nonlinear
    site term driven by the reference-rock PGA (docs/references.md §3.1; Boore et al. 2014,
    eqs. 2-9). No basin depth term (zero for periods below 0.65 s). Sigma: eqs. 5-7
    (τ, φ by magnitude, φ adjusted for R_JB and Vs30).

    Examples
    --------
    >>> gm = bssa14(6.0, 1.0, 300.0, mechanism="SS")   # NGA-West2 test case
    >>> round(float(gm.pga_g[0]), 5), round(float(gm.pgv_cm_s[0]), 3)
    (0.48927, 38.229)
    """
    mag, rjb, vs30 = _bssa14_inputs(mag, rjb_km, vs30_mps, mechanism, region)
    c_pga, c_pgv = _bssa14_coeffs(0.0), _bssa14_coeffs(-1.0)
    pga_r = np.exp(_bssa14_ln_ref(c_pga, mag, rjb, mechanism, region))
    ln_pga = _bssa14_ln_ref(c_pga, mag, rjb, mechanism, region) + _bssa14_site(
        c_pga, vs30, pga_r)
    ln_pgv = _bssa14_ln_ref(c_pgv, mag, rjb, mechanism, region) + _bssa14_site(
        c_pgv, vs30, pga_r)
    tau, phi = _bssa14_sigma(c_pga, mag, rjb, vs30)
    return GroundMotion(np.exp(ln_pga), np.exp(ln_pgv), np.sqrt(tau**2 + phi**2), tau, phi)


# --------------------------------------------------------------------------- Yu 2013
@functools.cache
def _yu_table() -> dict[tuple[str, str], dict[str, float]]:
    text = resources.files("sim.hazards").joinpath("data/yu2013.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {(r.pop("region"), r.pop("imt")): {k: float(v) for k, v in r.items()} for r in rows}


def _yu_set(c: dict[str, float], ms: float) -> tuple[float, ...]:
    """(A1, B1, C1, D1, E1, A2, B2, C2, D2, E2) for this magnitude (switch above Ms 6.5)."""
    if ms > _YU_SPLIT_MS:
        keys = ("ua", "ub", "uc", "ud", "ue", "ia", "ib", "ic", "id", "ie")
    else:
        keys = ("a", "b", "c", "d", "e", "ma", "mb", "mc", "md", "me")
    return tuple(c[k] for k in keys)


def _yu_rb(ra: np.ndarray, k: tuple[float, ...], ms: float) -> np.ndarray:
    """Short semi-axis of the iso-intensity ellipse whose long semi-axis is ``ra`` (km)."""
    a1, b1, c1, d1, e1, a2, b2, c2, d2, e2 = k
    term1 = a1 + b1 * ms + c1 * np.log(ra + d1 * math.exp(e1 * ms))
    return np.exp((term1 - (a2 + b2 * ms)) / c2) - d2 * math.exp(e2 * ms)


def _yu_ra(repi: np.ndarray, theta_rad: np.ndarray, k: tuple[float, ...],
           ms: float) -> np.ndarray:
    """Long semi-axis of the ellipse through each site, by OpenQuake's bisection.

    The same search as ``get_ras`` in OpenQuake ``yu_2013.py`` (start 300 km, step 150 km
    halved each pass, stop at |residual| <= 1e-5 km or step < 1e-3 km), vectorised, so
    results agree with the OpenQuake test tables to rounding.
    """
    s2, c2 = np.sin(theta_rad) ** 2, np.cos(theta_rad) ** 2
    ras = np.full(repi.shape, 300.0)
    active = np.ones(repi.shape, dtype=bool)
    rx = 150.0
    while True:
        rb = _yu_rb(ras, k, ms)
        with np.errstate(invalid="ignore", divide="ignore"):
            dff = ras * rb / np.sqrt(ras**2 * s2 + rb**2 * c2) - repi
        step = np.where(dff > 0.0, -rx, rx)
        ras = np.where(active, ras + step, ras)
        active &= np.abs(dff) > 1e-5
        rx /= 2.0
        if rx < 1e-3 or not active.any():
            return ras


def _yu_ln(c: dict[str, float], ms: float, repi: np.ndarray, theta_rad: np.ndarray,
           ra: np.ndarray) -> np.ndarray:
    """Ln Y (cm/s² for PGA, cm/s for PGV) from the two axis laws (OpenQuake formula)."""
    k = _yu_set(c, ms)
    a1, b1, c1, d1, e1, a2, b2, c2, d2, e2 = k
    rb = _yu_rb(ra, k, ms)
    ln_a = a1 + b1 * ms + c1 * np.log(np.sqrt(ra**2 + _YU_DEPTH2_KM2) + d1 * math.exp(e1 * ms))
    ln_b = a2 + b2 * ms + c2 * np.log(np.sqrt(rb**2 + _YU_DEPTH2_KM2) + d2 * math.exp(e2 * ms))
    x = (ln_a * np.sin(theta_rad)) ** 2
    y = (ln_b * np.cos(theta_rad)) ** 2
    return ln_a * ln_b / np.sqrt(x + y)


def yu2013(ms: float, repi_km, azimuth_deg, *, region: str = "active") -> GroundMotion:
    """Yu, Li & Xiao (2013) median PGA and PGV (China, GB 18306-2015 basis).

    Parameters
    ----------
    ms
        Surface-wave magnitude Ms, 4 to 8.5 (see :func:`mw_to_ms` for a conversion).
    repi_km
        Epicentral distance, km, 0 to 1000; scalar or array.
    azimuth_deg
        Angle between the site's direction from the epicentre and the rupture's long axis
        (strike), degrees; 0 = along strike, 90 = perpendicular. Broadcast with ``repi_km``.
    region : {"active", "tibet", "eastern", "stable"}
        Coefficient set: active shallow crust (default; western China outside Tibet),
        Tibetan plateau, eastern China, stable regions.

    Returns
    -------
    GroundMotion
        ``ln_sigma_pga`` is the model's total σ (0.5428). The model gives no τ/φ split;
        ``tau_pga``/``phi_pga`` split it in the proportion of BSSA14 PGA at the same
        magnitude converted to Mw (large distance, Vs30 760 m/s) — an assumption, used
        only to sample between-event and within-event variability.

    Notes
    -----
    Elliptical attenuation: ln Y_a (long axis) and ln Y_b (short axis) at semi-axes
    Ra, Rb of the iso-intensity ellipse through the site, combined as
    ln Y = L_a L_b / sqrt((L_a sin θ)² + (L_b cos θ)²), with a fixed 15 km depth
    (docs/references.md §3.2; OpenQuake ``YuEtAl2013Ms``). PGA is converted from cm/s² to g.

    Examples
    --------
    >>> round(float(yu2013(6.0, 10.0, 0.0).pga_g[0]), 3)   # OpenQuake test table: 0.18642
    0.186
    """
    check_choice("region", region, YU_REGIONS, "Yu2013")
    ms = float(ms)
    _check("magnitude (Ms)", ms, *YU_MS, "Yu2013", "")
    repi = np.atleast_1d(np.asarray(repi_km, dtype=np.float64))
    az = np.atleast_1d(np.asarray(azimuth_deg, dtype=np.float64))
    _check_array("R_epi", repi, *YU_REPI_KM, "Yu2013", "km")
    if not np.all(np.isfinite(az)):
        bad = float(az[~np.isfinite(az)][0])
        raise EvacsimError(f"Yu2013: azimuth: expected finite degrees, got {bad!r}")
    repi, az = np.broadcast_arrays(repi, az)
    theta = np.radians(az)
    c_pga, c_pgv = _yu_table()[(region, "pga")], _yu_table()[(region, "pgv")]
    # Both IMTs use their own ellipse (OpenQuake solves Ra per IMT).
    ra_pga = _yu_ra(repi, theta, _yu_set(c_pga, ms), ms)
    ra_pgv = _yu_ra(repi, theta, _yu_set(c_pgv, ms), ms)
    pga_g = np.exp(_yu_ln(c_pga, ms, repi, theta, ra_pga)) / (100.0 * G_MPS2)
    pgv = np.exp(_yu_ln(c_pgv, ms, repi, theta, ra_pgv))
    sigma = np.full(repi.shape, c_pga["sigma"])
    c0 = _bssa14_coeffs(0.0)
    t_b, p_b = _bssa14_sigma(c0, ms_to_mw(ms), np.array([200.0]), np.array([760.0]))
    share = float(t_b[0] / math.hypot(t_b[0], p_b[0]))
    return GroundMotion(pga_g, pgv, sigma, sigma * share,
                        sigma * math.sqrt(1.0 - share**2))


# --------------------------------------------------------------------------- magnitudes
def mw_to_ms(mw: float) -> float:
    """Surface-wave magnitude from moment magnitude (Cheng et al. 2017, as in OpenQuake).

    Ms = (Mw − 0.59) / 0.86 for Mw < 6.58, else (Mw + 2.42) / 1.28 (docs/references.md §3.2).

    Examples
    --------
    >>> round(mw_to_ms(6.0), 4), round(mw_to_ms(7.0), 4)
    (6.2907, 7.3594)
    """
    return (mw - 0.59) / 0.86 if mw < 6.58 else (mw + 2.42) / 1.28


def ms_to_mw(ms: float) -> float:
    """Moment magnitude from Ms: the inverse of :func:`mw_to_ms`.

    The forward relation jumps at Mw 6.58 (Ms 6.965 → 7.031); Ms inside that gap maps to
    Mw 6.58, so the inverse is continuous and non-decreasing:
    Mw = max(min(0.86 Ms + 0.59, 6.58), 1.28 Ms − 2.42).

    Examples
    --------
    >>> round(ms_to_mw(mw_to_ms(6.0)), 6), ms_to_mw(7.0), round(ms_to_mw(mw_to_ms(7.2)), 6)
    (6.0, 6.58, 7.2)
    """
    return max(min(0.86 * ms + 0.59, 6.58), 1.28 * ms - 2.42)


# --------------------------------------------------------------------------- variability
def correlated_normal_field(nx: int, ny: int, cell_m: float, range_m: float,
                            rng: np.random.Generator) -> np.ndarray:
    """A standard-normal random field on a grid with exponential spatial correlation.

    ρ(h) = exp(−3 h / range), the form Jayaram & Baker (2009) fit to within-event PGA
    residuals ("range" = distance where ρ falls to 0.05; they report ~10 km for PGA —
    [U] value not retrieved here, it is the scenario's ``correlation_range_km``). Drawn
    exactly by circulant embedding (Dietrich & Newsam 1997) on a torus twice the grid's
    size; the rare negative eigenvalues of the embedding are set to zero.

    Parameters
    ----------
    nx, ny
        Grid columns and rows (row 0 south; only the covariance matters, not the order).
    cell_m, range_m
        Cell side and correlation range, metres (both > 0).
    rng
        Source of the normal draws.

    Returns
    -------
    float64[ny, nx]
        Mean 0, variance 1 at every node.
    """
    mx, my = 2 * nx, 2 * ny
    ix = np.minimum(np.arange(mx), mx - np.arange(mx)) * cell_m
    iy = np.minimum(np.arange(my), my - np.arange(my)) * cell_m
    h = np.hypot(ix[None, :], iy[:, None])
    lam = np.fft.fft2(np.exp(-3.0 * h / range_m)).real
    lam = np.maximum(lam, 0.0)
    z = rng.standard_normal((my, mx)) + 1j * rng.standard_normal((my, mx))
    field = np.fft.fft2(np.sqrt(lam / (mx * my)) * z)
    return np.ascontiguousarray(field.real[:ny, :nx])
