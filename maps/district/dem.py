"""The digital elevation model: the terrain sampled on an SRTM-like 1 arc-second grid.

The grid covers the map's bounding box plus a margin, in WGS84 degrees snapped to whole
arc-seconds, row 0 at the north edge, and is written as ESRI ASCII text with a WGS84
``.prj``, the same layout as the real SRTM tiles evacsim reads.
"""

from __future__ import annotations

import math

import numpy as np

from .projection import LAT0, LON0, local, lonlat
from .terrain import Land

ARCSEC_DEG = 1.0 / 3600.0  # SRTM 1" cell size
DEM_MARGIN_M = 600.0
WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)


def dem_ascii(land: Land, bbox_m: tuple[float, float, float, float]) -> tuple[str, dict]:
    """Elevation grid over the map bbox + margin, as ESRI ASCII text (float metres).

    Plain ~1100 m sloping gently east to the river, an alluvial fan at the mountain front,
    mountains rising steeply to ~2,500-3,000 m in the west with N-S ridges, gullies cut
    along every stream and a river channel a few metres below the plain.

    Parameters
    ----------
    land : Land
        Source of `terrain.Land.elevation`, metres at local (x, y) metres.
    bbox_m : tuple of float
        (x_min, y_min, x_max, y_max) local metres to cover; DEM_MARGIN_M is added around.

    Returns
    -------
    text : str
        The ESRI ASCII grid, heights in metres with one decimal.
    info : dict
        ``ncols``, ``nrows`` and the lowest / highest height, ``z_min_m`` / ``z_max_m``.
    """
    x0, y0, x1, y1 = bbox_m
    lon0, lat0 = lonlat(np.array(x0 - DEM_MARGIN_M), np.array(y0 - DEM_MARGIN_M))
    lon1, lat1 = lonlat(np.array(x1 + DEM_MARGIN_M), np.array(y1 + DEM_MARGIN_M))
    xll = math.floor(float(lon0) * 3600.0) / 3600.0  # snap to whole arc-seconds, like SRTM
    yll = math.floor(float(lat0) * 3600.0) / 3600.0
    ncols = math.ceil((float(lon1) - xll) * 3600.0)
    nrows = math.ceil((float(lat1) - yll) * 3600.0)
    lon_c = xll + (np.arange(ncols) + 0.5) * ARCSEC_DEG
    lat_c = yll + (nrows - np.arange(nrows) - 0.5) * ARCSEC_DEG  # row 0 is the north edge
    xg, _ = local(lon_c, np.full(ncols, LAT0))
    _, yg = local(np.full(nrows, LON0), lat_c)
    x, y = np.meshgrid(xg, yg)
    z = land.elevation(x, y)
    body = "\n".join(" ".join(f"{v:.1f}" for v in row) for row in z)
    head = (f"ncols {ncols}\nnrows {nrows}\nxllcorner {xll:.10f}\nyllcorner {yll:.10f}\n"
            f"cellsize {ARCSEC_DEG:.15f}\nNODATA_value -9999\n")
    info = {"ncols": ncols, "nrows": nrows, "z_min_m": float(z.min()), "z_max_m": float(z.max())}
    return head + body + "\n", info
