"""Map projection: local metres about the fictional map centre <-> WGS84 degrees.

All geometry is built in local metres (x east, y north, origin at the city centre) and
converted with an equirectangular approximation about (LAT0, LON0), which is exact to well
under a metre over the district's ~20 km extent. Both the OSM writer and the DEM use it.
"""

from __future__ import annotations

import math

import numpy as np

LAT0, LON0 = 38.98, 106.38  # map centre, WGS84 degrees (fictional placement)
R_EARTH_M = 6_371_008.8  # IUGG mean Earth radius (Moritz 2000, Geodetic Reference System 1980)


def lonlat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres (x east, y north about LAT0/LON0) -> (lon, lat) WGS84 degrees.

    Parameters
    ----------
    x_m, y_m : numpy.ndarray
        Local coordinates in metres, x east and y north of (LAT0, LON0).

    Returns
    -------
    tuple of numpy.ndarray
        (lon, lat) in WGS84 degrees, in that order.
    """
    lat = LAT0 + np.degrees(np.asarray(y_m) / R_EARTH_M)
    lon = LON0 + np.degrees(np.asarray(x_m) / (R_EARTH_M * math.cos(math.radians(LAT0))))
    return lon, lat


def local(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (lon, lat) degrees -> local metres (x east, y north); inverse of `lonlat`.

    Parameters
    ----------
    lon, lat : numpy.ndarray
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        (x, y) in metres east and north of (LAT0, LON0).
    """
    y = np.radians(np.asarray(lat) - LAT0) * R_EARTH_M
    x = np.radians(np.asarray(lon) - LON0) * R_EARTH_M * math.cos(math.radians(LAT0))
    return x, y
