"""The district as a whole: its size from the population, and the order it is built in.

`District` sizes the city grid (and the separate town) so that residential land holds the
population at a constant density, places them between the mountain front and the river,
and carries the state that the planners in the sibling modules fill in. `build_district`
runs those planners in one fixed order, because every random draw comes from one
generator: reordering the calls would change the map a seed gives.
"""

from __future__ import annotations

import math

import numpy as np

from .centre import emit_old_quarter, plan_centre
from .grid import BLOCK_M, STREET_HALF_M, Grid, arterial_lines
from .osm import Osm
from .places import SHELTER_MIX, plan_places
from .roads import emit_grid, emit_links
from .terrain import Land
from .zones import emit_areas, plan_zones, zone_rows

DENSITY_PER_HA = 100.0  # ASSUMPTION: persons per ha of residential land, held constant
RES_FRACTION = 0.90  # residential share of block land left after shelters, facilities, streams
TOWN_SHARE = 0.10  # the separate town holds ~10 % of the population (brief: 8-12 %)
TOWN_MIN_POP = 20_000  # below this the district collapses to one zone
TOWN_GAP_M = 3_000.0  # town lies a few km south of the city


class District(Land):
    """The whole fictional district, built from (population, rng); see `build_district`.

    The land's natural features (`terrain.Land`) plus the planned city, the optional town
    and the OSM elements written so far.

    Parameters
    ----------
    population : int
        Residents of the whole district (city and town).
    rng : numpy.random.Generator
        The one source of every random draw.
    """

    def __init__(self, population: int, rng: np.random.Generator) -> None:
        self.pop, self.osm = population, Osm()
        self.pop_town = round(population * TOWN_SHARE) if population >= TOWN_MIN_POP else 0
        self.pop_city = population - self.pop_town
        net_ha = (BLOCK_M - 2 * STREET_HALF_M) ** 2 / 1e4
        self.ind_k = int(np.clip(round(math.sqrt(population / 12_000)), 2, 7))
        overhead = 6 + population / 25_000  # blocks taken whole by shelters and facilities
        n = self.pop_city / (DENSITY_PER_HA * net_ha * RES_FRACTION) + self.ind_k**2 + overhead
        nx = max(6, round(math.sqrt(n / 1.2)))
        ny = max(6, math.ceil(n / nx))
        self.city = Grid(-nx * BLOCK_M / 2, -ny * BLOCK_M / 2, nx, ny, 0)
        c = self.city
        self.x_trunk = c.X(nx) + 1400.0
        self.town = None
        if self.pop_town:
            nt = self.pop_town / (DENSITY_PER_HA * net_ha * RES_FRACTION)
            tnx = max(3, round(math.sqrt(nt)))
            tny = max(3, math.ceil(nt / tnx))
            a_c = min(c.ax, key=lambda i: abs(i - nx / 2))  # city arterial the link road uses
            self.a_t = min(arterial_lines(tnx), key=lambda i: abs(i - tnx / 2))
            self.a_c = a_c
            self.town = Grid(c.X(a_c) - self.a_t * BLOCK_M, c.Y(0) - TOWN_GAP_M - tny * BLOCK_M,
                             tnx, tny, 30)
        south = (self.town or c).Y(0)
        # Land draws the constructor's only random numbers and needs the grids' extent; the
        # sizing above draws none, so calling it last leaves every seed's map unchanged.
        super().__init__(rng, c.X(0) - 1200.0, c.X(nx) + 700.0,
                         (south - 1500.0, c.Y(ny) + 1500.0))
        self.oq: tuple[int, int, int] | None = None  # old quarter (i0, j0, q), set by plan_centre
        self.items: list[dict] = []
        self.zone_rows: list[tuple[str, int, str]] = []
        self.summary: dict = {}

    @property
    def bbox_m(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) local metres of everything drawn."""
        y0, y1 = self.y_range
        ys = np.linspace(y0, y1, 200)
        return (float(self.x_front(ys).min()) - 6500.0, y0, self.x_trunk + 300.0, y1)


def build_district(population: int, rng: np.random.Generator) -> District:
    """Lay out the whole district; every random draw comes from ``rng`` in a fixed order.

    Parameters
    ----------
    population : int
        Residents, already checked to lie in the generator's range.
    rng : numpy.random.Generator
        Seeded generator; the same seed gives the same district.

    Returns
    -------
    District
        With its OSM elements in ``osm``, the zone table in ``zone_rows`` as
        (zone, population, kind) and a ``summary`` dict (areas in ha, counts).
    """
    d = District(population, rng)
    d.make_streams()
    for g in (d.city, d.town):
        if g is not None:
            d.mark_stream_blocks(g)
    plan_centre(d)
    plan_places(d)
    zones = plan_zones(d)
    emit_grid(d.osm, d.city)
    oq_quads = emit_old_quarter(d) if d.oq is not None else []
    if d.town is not None:
        emit_grid(d.osm, d.town)
    emit_links(d)
    emit_areas(d, zones, oq_quads)
    d.emit_nature(d.osm)
    d.zone_rows = zone_rows(zones, d.pop_city, d.pop_town)
    res_m2 = sum(z["area"] for z in zones)
    shelter_m2 = sum(it["area"] for it in d.items if it["kind"] in SHELTER_MIX)
    counts: dict[str, int] = {}
    for it in d.items:
        counts[it["kind"]] = counts.get(it["kind"], 0) + 1
    d.summary = {
        "population": population, "residential_ha": res_m2 / 1e4,
        "density_per_ha": population / (res_m2 / 1e4), "shelter_ha": shelter_m2 / 1e4,
        "shelter_capacity": shelter_m2 * 0.6 / 2.0, "places": counts,
        "city_blocks": (d.city.nx, d.city.ny),
        "town_blocks": None if d.town is None else (d.town.nx, d.town.ny),
    }
    return d
