"""The rupture of an earthquake in map metres: epicentre, strike, surface projection.

The geometry the ground-motion models measure distances from (R_JB for BSSA14, the
epicentral distance and the azimuth to the strike for Yu et al. 2013).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.hazards.earthquake.spec import EarthquakeSpec

__all__ = ["Rupture", "rupture_from_spec"]


@dataclass(frozen=True)
class Rupture:
    """The rupture in map metres: epicentre, strike and the surface projection.

    ``surface`` is a shapely LineString (vertical fault) or Polygon (dipping fault: the
    trace swept ``width · cos(dip)`` toward the dip direction, strike + 90°), or None for
    a point source, where R_JB is taken as the epicentral distance.
    """

    epi_x: float
    epi_y: float
    strike_deg: float
    trace_xy: np.ndarray
    surface: object | None

    def rjb_km(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Joyner–Boore distance, km."""
        if self.surface is None:
            return np.hypot(x - self.epi_x, y - self.epi_y) / 1000.0
        import shapely

        return shapely.distance(self.surface, shapely.points(x, y)) / 1000.0

    def repi_km(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Epicentral distance, km."""
        return np.hypot(x - self.epi_x, y - self.epi_y) / 1000.0

    def azimuth_deg(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Angle between the site's bearing from the epicentre and the strike, degrees."""
        bearing = np.degrees(np.arctan2(x - self.epi_x, y - self.epi_y))
        return np.mod(bearing - self.strike_deg, 360.0)


def rupture_from_spec(s: EarthquakeSpec, to_map) -> Rupture:
    """The rupture a validated spec describes, in map metres.

    Parameters
    ----------
    s : EarthquakeSpec
        Epicentre and/or fault trace (lon/lat degrees or map metres), strike, dip and
        down-dip width.
    to_map : pyproj.Transformer
        WGS84 (lon, lat, ``always_xy``) to the map's projected CRS.

    Returns
    -------
    Rupture
        Without an epicentre, the trace's midpoint; without a strike, the bearing of the
        trace from its first to its last point (0° for a point source).
    """
    import shapely

    if s.trace_lonlat:
        lon, lat = np.array(s.trace_lonlat, np.float64).T
        tx, ty = (np.asarray(v) for v in to_map.transform(lon, lat))
        trace = np.column_stack([tx, ty])
    elif s.trace_xy_m:
        trace = np.array(s.trace_xy_m, np.float64)
    else:
        trace = np.zeros((0, 2))
    if s.epicentre_lonlat is not None:
        ex, ey = (float(v) for v in to_map.transform(*s.epicentre_lonlat))
    elif s.epicentre_xy_m is not None:
        ex, ey = (float(v) for v in s.epicentre_xy_m)
    else:  # midpoint of the trace (assumption: rupture centred on the epicentre)
        mid = shapely.LineString(trace).interpolate(0.5, normalized=True)
        ex, ey = float(mid.x), float(mid.y)
    strike = s.strike_deg
    if strike is None:
        strike = 0.0
        if len(trace):
            d = trace[-1] - trace[0]
            strike = float(np.degrees(np.arctan2(d[0], d[1])) % 360.0)
    surface = None
    if len(trace):
        line = shapely.LineString(trace)
        surface = line
        if s.dip_deg < 90.0:
            off_m = s.width_km * 1000.0 * math.cos(math.radians(s.dip_deg))
            az = math.radians(strike + 90.0)
            shifted = trace + off_m * np.array([math.sin(az), math.cos(az)])
            surface = shapely.Polygon(np.vstack([trace, shifted[::-1]])).buffer(0)
    return Rupture(ex, ey, float(strike), trace, surface)
