"""The wildfire in a run: fire arrival on the DEM, roads closed near the front, homes reached.

At :meth:`WildfireHazard.bind` the whole fire is computed once, because nothing the
evacuation does changes it (no suppression is modelled): the DEM is gridded over the map,
each cell gets its Rothermel head fire (:mod:`.rothermel`) from the fuel model, the fuel
moisture, the wind (20-ft speed × wind adjustment factor = midflame) and the cell's slope
and aspect, and the minimum-travel-time kernel (:mod:`sim.core.fire`) gives the arrival
time of the fire in every cell. Cells holding a building take ``urban_fuel_model`` (NB1,
non-burnable, by default): the fire stops at the built-up edge and reaches the homes
there.

Every ``cadence_s`` :meth:`update` reads the arrival field:

- a road or footpath link is closed (factor 0) from the time the fire comes within
  ``road_buffer_m`` of any point of it until ``smoke_clear_min`` after the last such
  cell ignited (flame and smoke; both assumptions, scenarios/README.md);
- people on a closed link are stranded (they stop and wait for rescue);
- households still at home when the fire comes within ``home_reach_m`` of their home
  are trapped (incident ``trapped``, severity 3);
- trigger-point warning (Cova et al. 2005): :meth:`warning_start_s` gives each
  household the time the front crosses the line ``trigger_min`` of fire travel time
  away from its home (or from the nearest home of its sub-district). With the arrival
  field of one fixed weather, that crossing time is exactly the arrival at the home
  minus ``trigger_min``; the model moves the household's warning (and its departure)
  earlier by that much if it comes before the scenario's ``[warning] start_min``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim._errors import ScenarioError
from sim.hazards import terrain
from sim.hazards.base import Hazard, HazardUpdate, Incident, PeopleView, incidents_by_node
from sim.hazards.wildfire import fuel as fu
from sim.hazards.wildfire import rothermel as ro
from sim.hazards.wildfire.spec import WildfireSpec

_AT_HOME_MAX_STATE = 2  # sim.population: NOT_WARNED 0, WARNED 1, STAYING 2


def slope_aspect(z: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope (tangent) and the upslope unit vector (east, north) of a south-up grid.

    Central differences (``np.gradient``; one-sided at the edges). Flat cells get the
    vector (0, 1); it does not matter there, since their slope factor is 0.
    """
    gy, gx = np.gradient(np.asarray(z, np.float64), cell_m)
    tan = np.hypot(gx, gy)
    safe = np.where(tan > 0, tan, 1.0)
    return tan, np.where(tan > 0, gx / safe, 0.0), np.where(tan > 0, gy / safe, 1.0)


def head_fire_grid(bed: ro.FuelBed, midflame_mps: float, wind_to_az_deg: float,
                   tan: np.ndarray, up_x: np.ndarray, up_y: np.ndarray):
    """Head rate (m/s), unit direction of maximum spread (east, north) and eccentricity.

    ``wind_to_az_deg`` is the azimuth the wind blows toward (clockwise from north).
    """
    az_up = np.degrees(np.arctan2(up_x, up_y))
    hf = ro.head_fire(bed, midflame_mps * ro.MPS_TO_FTMIN, tan, wind_to_az_deg - az_up)
    az = np.radians(az_up + hf.dir_from_upslope_deg)
    return hf.ros_ftmin * ro.FTMIN_TO_MPS, np.sin(az), np.cos(az), hf.ecc


def _disk_min(a: np.ndarray, radius_cells: float) -> np.ndarray:
    """Least value of ``a`` within ``radius_cells`` (cell centres) of each cell."""
    from scipy.ndimage import minimum_filter

    r = int(math.floor(radius_cells))
    if r < 1:
        return a
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return minimum_filter(a, footprint=(xx * xx + yy * yy) <= radius_cells ** 2,
                          mode="constant", cval=np.inf)


def fuel_grid(path, crs: str | None, grid: terrain.Grid, default: int, *,
              field: str) -> np.ndarray:
    """Fuel model numbers of a raster at the grid's cell centres (nearest cell), int64[ny, nx].

    Cells outside the raster or on its no-data take ``default``; a number that is not a
    standard fuel model is refused naming the file, the field and the value.
    """
    ras = terrain.read_raster(path, field=field, crs=crs)
    r, c = terrain._fractional_index(ras, grid)
    rows, cols = ras.shape
    ri, ci = np.rint(r).astype(np.int64), np.rint(c).astype(np.int64)
    inside = (ri >= 0) & (ri < rows) & (ci >= 0) & (ci < cols)
    v = np.full(ri.shape, np.nan)
    v[inside] = ras.values[ri[inside], ci[inside]]
    out = np.where(np.isfinite(v), np.rint(np.nan_to_num(v)), default).astype(np.int64)
    for number in np.unique(out):
        if str(int(number)) not in fu.FUEL_MODELS:
            raise ScenarioError(f"{ras.source}: {field}: expected standard fuel model numbers "
                                f"(1-13, 91, 98, 99, 102, 121, 124, 142), got {int(number)}")
    return out


def urban_mask(net, grid: terrain.Grid) -> np.ndarray:
    """Built-up cells, bool[ny, nx]: cells holding a building, and residential areas.

    A residential area of the map (``net.residential``: a centroid and an area) covers
    the cells whose centres lie within the radius of a disc of that area around its
    centroid (the map keeps no outlines; a screening approximation).
    """
    urban = np.zeros((grid.ny, grid.nx), bool)
    b = net.buildings
    if b is not None and len(b.x_m):
        c = grid.cell_of(b.x_m, b.y_m)
        urban.ravel()[c[c >= 0]] = True
    res = net.residential
    if res is not None and len(res):
        xc = grid.x0_m + (np.arange(grid.nx) + 0.5) * grid.cell_m
        yc = grid.y0_m + (np.arange(grid.ny) + 0.5) * grid.cell_m
        for x, y, a in zip(res.x_m, res.y_m, res.area_m2, strict=True):
            r = math.sqrt(max(float(a), 0.0) / math.pi)
            c0, c1 = np.searchsorted(xc, [x - r, x + r])
            r0, r1 = np.searchsorted(yc, [y - r, y + r])
            if c1 <= c0 or r1 <= r0:
                continue
            dx, dy = xc[c0:c1] - x, yc[r0:r1] - y
            urban[r0:r1, c0:c1] |= (dy[:, None] ** 2 + dx[None, :] ** 2) <= r * r
    return urban


class WildfireHazard(Hazard):
    """A surface fire from ignition points, spread once over the DEM at bind time."""

    kind = "wildfire"

    def __init__(self, spec: WildfireSpec) -> None:
        self.spec = spec
        self.cadence_s = float(spec.cadence_s)
        self._where = f"[[hazards]] wildfire {spec.name!r}"

    @classmethod
    def from_spec(cls, spec: WildfireSpec) -> WildfireHazard:
        """The hazard a validated ``[[hazards]]`` wildfire table describes."""
        return cls(spec)

    # ------------------------------------------------------------------ bind
    def bind(self, net, *, rng: np.random.Generator) -> None:
        """Grid the DEM, compute the fire's arrival everywhere, and precompute the links."""
        from pyproj import Transformer
        from scipy.spatial import cKDTree

        from sim.core.fire import arrival_times
        from sim.hazards.flood.hazard import _link_samples

        s = self.spec
        self.net = net
        xs, ys = net.nodes.x_m, net.nodes.y_m
        bbox = (xs.min() - s.margin_m, ys.min() - s.margin_m,
                xs.max() + s.margin_m, ys.max() + s.margin_m)
        dem = terrain.read_raster(s.dem, field=f"{self._where}: dem", crs=s.dem_crs)
        cell = float(s.cell_m) if s.cell_m is not None else terrain.native_cell_m(dem, net.crs)
        grid = terrain.grid_over(dem, net.crs, bbox, cell, field=f"{self._where}: dem")
        self.grid = grid
        self.z = terrain.resample(dem, grid, field=f"{self._where}: dem")
        tan, up_x, up_y = slope_aspect(self.z, grid.cell_m)
        veg = fu.fuel_model(s.fuel_model, field="fuel_model")
        urb = fu.fuel_model(s.urban_fuel_model, field="urban_fuel_model")
        moist = ro.Moisture(**s.moisture.model_dump())
        waf = (s.wind_adjustment if s.wind_adjustment is not None
               else ro.wind_adjustment_factor(veg.depth_ft))
        self.midflame_mps = s.wind_speed_mps * waf
        wind_to = (s.wind_from_deg + 180.0) % 360.0
        self.urban = urban_mask(net, grid)
        self.fuel = np.full((grid.ny, grid.nx), veg.number, np.int64)
        if s.fuel_raster is not None:
            self.fuel = fuel_grid(s.fuel_raster, s.fuel_raster_crs, grid, veg.number,
                                  field=f"{self._where}: fuel_raster")
        self.fuel[self.urban] = urb.number
        ros, ux, uy, ecc = (np.zeros((grid.ny, grid.nx)), np.zeros((grid.ny, grid.nx)),
                            np.ones((grid.ny, grid.nx)), np.zeros((grid.ny, grid.nx)))
        for number in np.unique(self.fuel):  # a handful of models: one pass each
            m = self.fuel == number
            r_, x_, y_, e_ = head_fire_grid(ro.fuel_bed(fu.fuel_model(int(number)), moist),
                                            self.midflame_mps, wind_to, tan, up_x, up_y)
            ros[m], ux[m], uy[m], ecc[m] = r_[m], x_[m], y_[m], e_[m]
        self.ros = ros
        # Ignitions.
        to_map = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
        cells, t_ign = [], []
        for k, ig in enumerate(s.ignitions):
            x, y = ((ig.x_m, ig.y_m) if ig.x_m is not None
                    else tuple(float(v) for v in to_map.transform(ig.lon, ig.lat)))
            c = int(grid.cell_of(np.array([x]), np.array([y]))[0])
            if c < 0:
                raise ScenarioError(f"{s.dem}: {self._where}: ignitions[{k}]: expected a point "
                                    f"on the DEM grid over the map (its extent plus margin_m = "
                                    f"{s.margin_m:g} m), got x_m {x:.0f}, y_m {y:.0f}")
            if ros.ravel()[c] <= 0:
                raise ScenarioError(f"{self._where}: ignitions[{k}]: expected a point in "
                                    f"burnable fuel, got a cell of non-burnable fuel "
                                    f"({fu.fuel_model(int(self.fuel.ravel()[c])).code})")
            cells.append(c)
            t_ign.append(ig.t_min * 60.0)
        self.ign_cells = np.array(cells, np.int64)
        self.t_ignition_s = float(min(t_ign))
        self.arrival_s = arrival_times(np.ascontiguousarray(ros), np.ascontiguousarray(ux),
                                       np.ascontiguousarray(uy), np.ascontiguousarray(ecc),
                                       self.ign_cells, np.array(t_ign, np.float64),
                                       grid.cell_m, np.inf)
        self._road_t = _disk_min(self.arrival_s, s.road_buffer_m / grid.cell_m).ravel()
        self._home_field = _disk_min(self.arrival_s, s.home_reach_m / grid.cell_m).ravel()
        smoke = s.smoke_clear_min * 60.0
        self.d_open, self.d_close = self._link_window(_link_samples(net.drive, net.nodes, grid),
                                                      smoke)
        self.w_open, self.w_close = self._link_window(_link_samples(net.walk, net.nodes, grid),
                                                      smoke)
        self.d_km = net.drive.length_m / 1000.0
        dn = np.unique(np.concatenate([net.drive.from_node, net.drive.to_node]))
        self._drive_nodes = dn
        self._node_tree = cKDTree(np.column_stack([net.nodes.x_m[dn], net.nodes.y_m[dn]]))
        self._home_t: np.ndarray | None = None
        self._caught: np.ndarray | None = None
        self._prev_d = self._prev_w = None
        self._rows: list[dict] = []
        self._caught_rows: list[tuple] = []
        self._trigger_rows: list[tuple] = []
        self._persons_trapped = 0
        self._persons_stranded = 0

    def _link_window(self, samples, smoke_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Per link: when the fire first comes within the road buffer, and when it clears."""
        cells, ptr = samples
        t = np.where(cells >= 0, self._road_t[np.maximum(cells, 0)], np.inf)
        first = np.minimum.reduceat(t, ptr[:-1])
        last = np.maximum.reduceat(np.where(np.isfinite(t), t, -np.inf), ptr[:-1])
        return first, np.where(np.isfinite(first), last + smoke_s, -np.inf)

    # ------------------------------------------------------------------ queries
    def home_arrival_s(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """When the fire first comes within ``home_reach_m`` of each point, s (inf: never)."""
        c = self.grid.cell_of(x_m, y_m)
        return np.where(c >= 0, self._home_field[np.maximum(c, 0)], np.inf)

    def warning_start_s(self, x_m: np.ndarray, y_m: np.ndarray,
                        zone: np.ndarray | None = None) -> np.ndarray:
        """Trigger-point warning time per household (homes at ``x_m, y_m``), s; inf: none.

        ``arrival at the home − trigger_min``, not before the ignition; with
        ``trigger_scope = "zone"`` the earliest of the households' times in each
        sub-district (``zone``) warns the whole sub-district.
        """
        s = self.spec
        n = len(x_m)
        if s.trigger_min is None:
            return np.full(n, np.inf)
        self._home_t = self.home_arrival_s(x_m, y_m)
        t = np.maximum(self._home_t - s.trigger_min * 60.0, self.t_ignition_s)
        if s.trigger_scope == "zone" and zone is not None and n:
            z = np.asarray(zone, np.int64)
            zt = np.full(int(z.max()) + 1, np.inf)
            np.minimum.at(zt, z, t)
            t = zt[z]
            for k in np.flatnonzero(np.isfinite(zt)):
                self._trigger_rows.append((int(k), float(zt[k]), int(np.count_nonzero(z == k))))
        return t

    def value_at(self, t_s: float, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """1.0 where the fire has reached the point by ``t_s`` (burning or burnt), else 0.0."""
        c = self.grid.cell_of(x_m, y_m)
        a = np.where(c >= 0, self.arrival_s.ravel()[np.maximum(c, 0)], np.inf)
        return (a <= t_s).astype(np.float64)

    # ------------------------------------------------------------------ update
    def update(self, t_s: float, people: PeopleView) -> HazardUpdate:
        """Roads closed near the front now; people caught on them or at home."""
        d_closed = (self.d_open <= t_s) & (t_s <= self.d_close)
        w_closed = (self.w_open <= t_s) & (t_s <= self.w_close)
        drive = np.where(d_closed, 0.0, 1.0)
        walk = np.where(w_closed, 0.0, 1.0)
        n = len(people.persons)
        if self._home_t is None or len(self._home_t) != n:
            self._home_t = self.home_arrival_s(people.x_m, people.y_m)  # t = 0: all at home
        if self._caught is None:
            self._caught = np.zeros(n, bool)
        on_road = np.zeros(n, bool)
        trav = np.flatnonzero(people.drive_link >= 0)
        on_road[trav[d_closed[people.drive_link[trav]]]] = True
        trav = np.flatnonzero(people.walk_link >= 0)
        on_road[trav[w_closed[people.walk_link[trav]]]] = True
        at_home = (people.indoors & (people.state <= _AT_HOME_MAX_STATE)
                   & (self._home_t <= t_s))
        new = np.flatnonzero((on_road | at_home) & ~self._caught)
        incidents: list[Incident] = []
        if new.size:
            self._caught[new] = True
            incidents = self._incidents(t_s, people, new, at_home[new])
        self._rows.append({
            "t_s": float(t_s),
            "burned_area_ha": float(np.count_nonzero(self.arrival_s <= t_s))
            * self.grid.cell_m ** 2 / 1e4,
            "drive_links_closed": int(np.count_nonzero(d_closed)),
            "drive_km_closed": float(self.d_km[d_closed].sum()),
            "walk_links_closed": int(np.count_nonzero(w_closed)),
            "persons_trapped_at_home_cum": self._persons_trapped,
            "persons_stranded_on_roads_cum": self._persons_stranded,
        })
        upd = HazardUpdate(stranded=new.astype(np.int64) if new.size else None,
                           incidents=incidents)
        if self._prev_d is None or not np.array_equal(drive, self._prev_d):
            upd.drive_factor = self._prev_d = drive
        if self._prev_w is None or not np.array_equal(walk, self._prev_w):
            upd.walk_factor = self._prev_w = walk
        return upd

    def _incidents(self, t_s, people, new, home) -> list[Incident]:
        x, y = people.x_m[new], people.y_m[new]
        _, j = self._node_tree.query(np.column_stack([x, y]))
        node = self._drive_nodes[np.asarray(j, np.int64)]
        persons = people.persons[new].astype(np.int64)
        self._persons_trapped += int(persons[home].sum())
        self._persons_stranded += int(persons[~home].sum())
        for k in range(new.size):
            self._caught_rows.append((int(new[k]), float(t_s), "home" if home[k] else "road",
                                      int(persons[k]), float(x[k]), float(y[k]), int(node[k])))
        out = []
        for is_home, kind, sev, what in ((True, "trapped", 3, "at home"),
                                         (False, "stranded", 3, "on a road")):
            m = home == is_home
            out += incidents_by_node(t_s, "wildfire", node[m], x[m], y[m], persons[m],
                                     kind=kind, severity=sev,
                                     note="{persons} persons reached by the wildfire " + what
                                     + " ({households} households)")
        return out

    # ------------------------------------------------------------------ output
    def tables(self) -> dict[str, pd.DataFrame]:
        """``timeseries``, ``links`` (drive), ``caught`` and ``triggers`` tables."""
        links = pd.DataFrame({"link": np.arange(len(self.d_open)),
                              "closed_from_s": self.d_open,
                              "reopened_s": np.where(np.isfinite(self.d_open), self.d_close,
                                                     np.inf)})
        caught = pd.DataFrame(self._caught_rows, columns=[
            "household", "t_s", "where", "persons", "x_m", "y_m", "node"])
        trig = pd.DataFrame(self._trigger_rows, columns=["zone", "t_trigger_s", "households"])
        return {"timeseries": pd.DataFrame(self._rows), "links": links, "caught": caught,
                "triggers": trig}

    def arrays(self) -> dict[str, np.ndarray]:
        """Grids for figures: elevation, arrival time (s, NaN never), head rate (m/s)."""
        g = self.grid
        return {"grid_x0_m": np.float64(g.x0_m), "grid_y0_m": np.float64(g.y0_m),
                "cell_m": np.float64(g.cell_m), "elevation_m": self.z.astype(np.float32),
                "arrival_s": np.where(np.isfinite(self.arrival_s), self.arrival_s,
                                      np.nan).astype(np.float32),
                "ros_mps": self.ros.astype(np.float32), "urban": self.urban,
                "fuel_model": self.fuel.astype(np.int16),
                "ignition_cells": self.ign_cells}
