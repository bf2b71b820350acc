"""The ground-motion field of one earthquake: where it is evaluated and how it varies.

The PGA map grid, Vs30 at each site (one value or a raster), the median ln PGA / PGV /
Sa(1.0 s) of BSSA14 or Yu et al. (2013) (:mod:`sim.hazards.earthquake.gmpe`) at sites in map
metres, and one realisation's variability: a between-event term η per run and
within-event terms ε that are spatially correlated (exponential, ``correlation_range_km``)
or independent per site, both truncated at ``truncation_sigma``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim._errors import ScenarioError
from sim.hazards import terrain
from sim.hazards.earthquake import gmpe
from sim.hazards.terrain import Grid

if TYPE_CHECKING:
    from sim.hazards.earthquake.rupture import Rupture
    from sim.hazards.earthquake.spec import EarthquakeSpec

__all__ = ["Variability", "draw_variability", "eps_at", "event_magnitudes", "map_grid",
           "median_ln", "read_vs30", "vs30_at"]

# Nodes of the within-event variability grid at most (the circulant embedding is 4x that).
_VAR_MAX_NODES = 1_000_000


def map_grid(nodes, s: EarthquakeSpec, crs: str) -> Grid:
    """The PGA map grid over the nodes plus a margin.

    Parameters
    ----------
    nodes : sim.network.roadnet.Nodes
        Node coordinates ``x_m``, ``y_m`` (map metres).
    s : EarthquakeSpec
        ``grid_cell_m`` (cell side, m) and ``grid_margin_m`` (margin around the nodes, m).
    crs : str
        Projected CRS of the map.
    """
    m = s.grid_margin_m
    x0, y0 = float(nodes.x_m.min() - m), float(nodes.y_m.min() - m)
    cell = float(s.grid_cell_m)
    nx = max(1, math.ceil((nodes.x_m.max() + m - x0) / cell))
    ny = max(1, math.ceil((nodes.y_m.max() + m - y0) / cell))
    return Grid(x0, y0, cell, nx, ny, crs)


def read_vs30(s: EarthquakeSpec, g: Grid) -> tuple[Grid, np.ndarray]:
    """The Vs30 raster ``s.vs30_grid`` resampled onto a grid over ``g`` (map CRS).

    Returns
    -------
    grid : Grid
        The resampled grid (cell ``g.cell_m``, covering ``g``).
    values : float64[ny, nx]
        Vs30, m/s, row 0 south.

    Raises
    ------
    ScenarioError
        A value outside the BSSA14 Vs30 range anywhere over the map.
    """
    raster = terrain.read_raster(s.vs30_grid, field="vs30_grid", crs=s.vs30_crs)
    bbox = (g.x0_m, g.y0_m, g.x0_m + g.nx * g.cell_m, g.y0_m + g.ny * g.cell_m)
    grid = terrain.grid_over(raster, g.crs, bbox, g.cell_m, field="vs30_grid")
    values = terrain.resample(raster, grid, voids="fill", field="vs30_grid")
    lo, hi = gmpe.BSSA14_VS30
    bad = ~((values >= lo) & (values <= hi))
    if bad.any():
        raise ScenarioError(f"{s.vs30_grid}: vs30_grid: expected Vs30 of {lo:g} to {hi:g} m/s "
                            f"over the map, got {float(values[bad][0])!r}")
    return grid, values


def vs30_at(x: np.ndarray, y: np.ndarray, *, vs30_grid: tuple[Grid, np.ndarray] | None,
            vs30_mps: float) -> np.ndarray:
    """Vs30 (m/s) at points (map metres): the nearest raster cell, else ``vs30_mps``.

    ``vs30_grid`` is what :func:`read_vs30` returns, or None for one value everywhere.
    Points off the raster take its nearest edge cell.
    """
    if vs30_grid is None:
        return np.full(x.shape, float(vs30_mps))
    grid, values = vs30_grid
    col = np.clip(np.floor((x - grid.x0_m) / grid.cell_m), 0, grid.nx - 1).astype(np.int64)
    row = np.clip(np.floor((y - grid.y0_m) / grid.cell_m), 0, grid.ny - 1).astype(np.int64)
    return values[row, col]


def event_magnitudes(s: EarthquakeSpec) -> tuple[float, float]:
    """(Mw, Ms) of the event (one given, the other by Cheng et al. 2017)."""
    if s.magnitude_type == "Mw":
        return s.magnitude, gmpe.mw_to_ms(s.magnitude)
    return gmpe.ms_to_mw(s.magnitude), s.magnitude


def median_ln(s: EarthquakeSpec, rupture: Rupture, x: np.ndarray, y: np.ndarray,
              vs30: np.ndarray) -> tuple[np.ndarray, ...]:
    """Median (ln PGA g, ln PGV cm/s, ln Sa(1.0 s) g, τ, φ) at points (map metres).

    ``vs30`` is in m/s per point; distances are clipped to the model's range.
    """
    mw, ms = event_magnitudes(s)
    rjb = np.minimum(rupture.rjb_km(x, y), gmpe.BSSA14_RJB_KM[1])
    if s.gmpe == "bssa14":
        gm = gmpe.bssa14(mw, rjb, vs30, mechanism=s.mechanism, region=s.region)
        ln_sa = gmpe.bssa14_ln(mw, rjb, vs30, period=1.0, mechanism=s.mechanism,
                               region=s.region)
        return np.log(gm.pga_g), np.log(gm.pgv_cm_s), ln_sa, gm.tau_pga, gm.phi_pga
    repi = np.minimum(rupture.repi_km(x, y), gmpe.YU_REPI_KM[1])
    gm = gmpe.yu2013(ms, repi, rupture.azimuth_deg(x, y), region=s.yu_region)
    # Yu 2013 has no spectral ordinates: Sa(1.0 s) for bridges = Yu's PGA times the
    # BSSA14 ratio Sa(1.0 s)/PGA for the same event and site (assumption).
    kw = {"mechanism": s.mechanism, "region": s.region}
    ratio = gmpe.bssa14_ln(mw, rjb, vs30, period=1.0, **kw) - gmpe.bssa14_ln(
        mw, rjb, vs30, period=0.0, **kw)
    ln_pga = np.log(gm.pga_g)
    return ln_pga, np.log(gm.pgv_cm_s), ln_pga + ratio, gm.tau_pga, gm.phi_pga


class Variability(NamedTuple):
    """One realisation's normalised residuals (multiply by τ and φ).

    Attributes
    ----------
    eta : float
        Between-event term η, one per run (0 for ``variability = "none"``).
    eps : float64[n_site]
        Within-event term ε per site.
    field : tuple or None
        ``(eps float64[ny, nx], x0_m, y0_m, cell_m)``: the correlated ε on its own grid
        (map metres, row 0 south) for points that are not sites; None unless correlated.
    """

    eta: float
    eps: np.ndarray
    field: tuple[np.ndarray, float, float, float] | None


def draw_variability(s: EarthquakeSpec, site_x: np.ndarray, site_y: np.ndarray, n_grid: int,
                     rng: np.random.Generator) -> Variability:
    """Between-event η (one per run) and the within-event field or independent ε.

    Parameters
    ----------
    s : EarthquakeSpec
        ``variability``, ``truncation_sigma``, ``correlation_range_km``, ``grid_cell_m``.
    site_x, site_y : float64[n_site]
        Sites, map metres; the last ``n_grid`` are the PGA map cells.
    n_grid : int
        Cells of the PGA map (they get ε = 0 when independent: the map shows the median
        times the between-event term).
    rng : numpy.random.Generator
    """
    k = float(s.truncation_sigma)
    eta = 0.0 if s.variability == "none" else float(np.clip(rng.standard_normal(), -k, k))
    n_site = site_x.size
    if s.variability == "correlated":
        x0, y0 = site_x.min() - 1.0, site_y.min() - 1.0
        cell = min(float(s.grid_cell_m), s.correlation_range_km * 1000.0 / 10.0)
        span = max(site_x.max() - x0, site_y.max() - y0) + 2.0
        while (span / cell + 2) ** 2 > _VAR_MAX_NODES:
            cell *= 2.0
        nx = math.ceil((site_x.max() + 1.0 - x0) / cell) + 1
        ny = math.ceil((site_y.max() + 1.0 - y0) / cell) + 1
        field = gmpe.correlated_normal_field(nx, ny, cell, s.correlation_range_km * 1000.0,
                                             rng)
        eps_field = (np.clip(field, -k, k), x0, y0, cell)
        return Variability(eta, eps_at(eps_field, site_x, site_y), eps_field)
    if s.variability == "uncorrelated":
        eps = np.clip(rng.standard_normal(n_site), -k, k)
        eps[n_site - n_grid:] = 0.0  # map cells show median x between-event term
        return Variability(eta, eps, None)
    return Variability(eta, np.zeros(n_site), None)


def eps_at(eps_field: tuple[np.ndarray, float, float, float], x: np.ndarray,
           y: np.ndarray) -> np.ndarray:
    """Correlated ε at points (map metres), bilinear on the field of :class:`Variability`."""
    from scipy import ndimage

    field, x0, y0, cell = eps_field
    coords = np.stack([(y - y0) / cell, (x - x0) / cell])
    return ndimage.map_coordinates(field, coords, order=1, mode="nearest")
