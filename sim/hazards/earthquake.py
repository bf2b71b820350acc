"""Earthquake: ground shaking damages buildings, bridges and roads, traps and injures people.

At ``time_min`` (the first update at or after it) the hazard, once:

1. **shakes** every building, bridge, tunnel and a map grid: median PGA/PGV from BSSA14
   or Yu et al. (2013) (:mod:`sim.hazards.gmpe`), plus — unless ``variability = "none"`` —
   one between-event term τη per run and within-event terms φε that are spatially
   correlated (exponential, range ``correlation_range_km``) or independent per site;
2. **damages** the building inventory (:mod:`sim.hazards.buildings`; OSM footprints or,
   where the map has only residential areas, synthesised buildings) by the HAZUS
   equivalent-PGA fragilities, Complete split into collapse / no collapse;
3. **hurts people**: every household at home is put in a building of its block; each
   person draws a casualty severity 1–4 from the HAZUS rates of the building's state;
4. **traps and displaces**: households in collapsed buildings, and in Complete-damage
   buildings with a hospitalised or worse member, are *trapped*; households with a
   life-threatening injury (or nobody left alive) stay too; all of them are returned as
   ``stranded`` (they wait for rescue). Households in Extensive/Complete buildings who are
   not stranded are *displaced*: they must leave for a shelter
   (:meth:`EarthquakeHazard.displaced_departures`);
5. **blocks roads**: debris of collapsed buildings (REFERENCES §3.6) buries part of the
   roads next to them — closed when less than ``debris_pass_width_m`` stays clear, slowed
   otherwise; bridges (HAZUS HWB, Sa(1.0 s)) and tunnels (HTU, PGA) close or slow by
   damage state — only where the compiled map flags them (``drive_bridge`` /
   ``drive_tunnel``; today's ``RoadNetwork`` has no such arrays, so none are assessed).

Incidents: one ``trapped`` incident per building with people trapped, one ``injured``
incident per building with hospitalised or life-threatening people who are not trapped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, StrictStr, ValidationInfo, field_validator, model_validator

from sim._errors import ScenarioError
from sim._spec import NonNegative, Positive, Share, Spec, field_error, resolve_existing
from sim.core.damage import (
    buried_width,
    debris_reach_m,
    has_reverse,
    link_index,
    person_severity,
)
from sim.hazards import gmpe, terrain
from sim.hazards.base import Hazard, HazardUpdate, Incident, PeopleView
from sim.hazards.buildings import BuildingsSpec, build_inventory, locate_households
from sim.hazards.fragility import (
    CODES,
    DAMAGE_STATES,
    building_tables,
    sample_states,
    sample_transport,
    transport_curve,
)
from sim.hazards.terrain import Grid
from sim.network.roadnet import RoadNetwork

Point = tuple[float, float]


class EarthquakeSpec(Spec):
    """``[[hazards]] kind = "earthquake"``; fields, units and sources in scenarios/README.md."""

    kind: Literal["earthquake"] = "earthquake"
    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)] = \
        "earthquake"
    time_min: NonNegative = 0.0
    gmpe: Literal["bssa14", "yu2013"] = "bssa14"
    magnitude: float
    magnitude_type: Literal["Mw", "Ms"] = "Mw"
    depth_km: float = 10.0
    mechanism: Literal["U", "SS", "NS", "RS"] = "U"
    region: Literal["global", "california", "china", "turkey", "japan", "italy", "taiwan"] = \
        "global"
    yu_region: Literal["active", "tibet", "eastern", "stable"] = "active"
    epicentre_lonlat: Point | None = None
    epicentre_xy_m: Point | None = None
    trace_lonlat: list[Point] = []
    trace_xy_m: list[Point] = []
    strike_deg: float | None = None
    dip_deg: Annotated[float, Field(gt=0.0, le=90.0)] = 90.0
    width_km: Positive | None = None
    vs30_mps: float = 760.0
    vs30_grid: Path | None = None
    vs30_crs: StrictStr | None = None
    variability: Literal["none", "uncorrelated", "correlated"] = "correlated"
    correlation_range_km: Positive = 10.0
    truncation_sigma: Positive = 3.0
    buildings: BuildingsSpec = BuildingsSpec()
    debris_from: Literal["collapse", "complete", "extensive"] = "collapse"
    lane_width_m: Positive = 3.5
    debris_pass_width_m: Positive = 3.0
    debris_slow_factor: Share = 0.5
    walk_debris_factor: Share = 0.3
    bridge_class: StrictStr = "HWB5"
    tunnel_class: Literal["HTU1", "HTU2"] = "HTU2"
    bridge_close_state: Literal["slight", "moderate", "extensive", "complete"] = "extensive"
    bridge_slow_factor: Share = 0.5
    displaced_delay_min: NonNegative = 10.0
    displaced_spread_min: NonNegative = 20.0
    grid_cell_m: Positive = 250.0
    grid_margin_m: NonNegative = 2000.0
    cadence_s: Positive = 60.0

    @field_validator("vs30_grid", mode="before")
    @classmethod
    def _grid(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_existing(value, info, "the Vs30 grid")

    @model_validator(mode="after")
    def _check(self) -> EarthquakeSpec:
        if not math.isfinite(self.magnitude):
            raise field_error("magnitude", "a finite number", self.magnitude)
        if self.gmpe == "bssa14":
            mw = self.magnitude if self.magnitude_type == "Mw" else gmpe.ms_to_mw(self.magnitude)
            lo, hi = gmpe.BSSA14_MAG
            if not lo <= mw <= hi:
                raise field_error("magnitude", f"Mw {lo:g} to {hi:g} for gmpe 'bssa14' (Ms is "
                                  "converted by Cheng et al. 2017)", self.magnitude)
        else:
            ms = self.magnitude if self.magnitude_type == "Ms" else gmpe.mw_to_ms(self.magnitude)
            lo, hi = gmpe.YU_MS
            if not lo <= ms <= hi:
                raise field_error("magnitude", f"Ms {lo:g} to {hi:g} for gmpe 'yu2013' (Mw is "
                                  "converted by Cheng et al. 2017)", self.magnitude)
        if not (math.isfinite(self.depth_km) and 0.0 <= self.depth_km <= 700.0):
            raise field_error("depth_km", "a hypocentre depth of 0 to 700 km", self.depth_km)
        lo, hi = gmpe.BSSA14_VS30
        if not (math.isfinite(self.vs30_mps) and lo <= self.vs30_mps <= hi):
            raise field_error("vs30_mps", f"{lo:g} to {hi:g} m/s", self.vs30_mps)
        if self.epicentre_lonlat is not None and self.epicentre_xy_m is not None:
            raise field_error("epicentre_lonlat", "either epicentre_lonlat or epicentre_xy_m",
                              "both")
        if self.trace_lonlat and self.trace_xy_m:
            raise field_error("trace_lonlat", "either trace_lonlat or trace_xy_m", "both")
        trace = self.trace_lonlat or self.trace_xy_m
        if trace and len(trace) < 2:
            raise field_error("trace", "at least two points", trace)
        if not trace and self.epicentre_lonlat is None and self.epicentre_xy_m is None:
            raise field_error("epicentre_lonlat", "an epicentre (epicentre_lonlat or "
                              "epicentre_xy_m) or a fault trace", None)
        if self.strike_deg is not None and not (0.0 <= self.strike_deg < 360.0):
            raise field_error("strike_deg", "0 to < 360 degrees clockwise from north",
                              self.strike_deg)
        if self.gmpe == "yu2013" and not trace and self.strike_deg is None:
            raise field_error("strike_deg", "the rupture's strike (or a trace) for gmpe "
                              "'yu2013' (elliptical attenuation along strike)", None)
        if self.dip_deg < 90.0 and trace and self.width_km is None:
            raise field_error("width_km", "the down-dip width of a dipping fault (dip_deg < 90)",
                              None)
        transport_curve_or_error(self.bridge_class)
        return self


def transport_curve_or_error(name: str):
    """The bridge curve named ``name``, as a validation error naming the classes if unknown."""
    try:
        curve = transport_curve(name)
    except ValueError as err:
        raise field_error("bridge_class", str(err).split(": ", 1)[1].split(", got")[0],
                          name) from None
    if curve.demand != "sa10":
        raise field_error("bridge_class", "a bridge class HWB1 to HWB28", name)
    return curve


# Household states that are "at home" (sim.population NOT_WARNED, WARNED, STAYING); literal
# here so importing this module stays light (as in sim.hazards.flood).
_AT_HOME_STATES = (0, 1, 2)
# Width a file of pedestrians needs to pick its way past rubble, m (assumption).
_WALK_PASS_M = 0.5
# Nodes of the within-event variability grid at most (the circulant embedding is 4x that).
_VAR_MAX_NODES = 1_000_000
_SEVERITY_COLS = [f"casualties_s{s}" for s in (1, 2, 3, 4)]


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


def _rupture(s: EarthquakeSpec, to_map) -> Rupture:
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


@dataclass(frozen=True)
class _Structures:
    """Bridges or tunnels: physical structures (both directions of a link = one)."""

    links: np.ndarray  # int64[k] link indices
    struct: np.ndarray  # int64[k] structure of each link
    x_m: np.ndarray  # float64[S] midpoints
    y_m: np.ndarray

    @property
    def n(self) -> int:
        return int(self.x_m.size)


def _structures(net: RoadNetwork, links, flag_name: str) -> _Structures:
    flags = getattr(net, flag_name, None)
    if flags is None:
        e = np.zeros(0, np.int64)
        return _Structures(e, e, np.zeros(0), np.zeros(0))
    idx = np.flatnonzero(np.asarray(flags, bool))
    a, b = links.from_node[idx].astype(np.int64), links.to_node[idx].astype(np.int64)
    key = np.minimum(a, b) * len(net.nodes) + np.maximum(a, b)
    uniq, first, struct = np.unique(key, return_index=True, return_inverse=True)
    i = idx[first]
    nx_, ny_ = net.nodes.x_m, net.nodes.y_m
    xm = (nx_[links.from_node[i]] + nx_[links.to_node[i]]) / 2.0
    ym = (ny_[links.from_node[i]] + ny_[links.to_node[i]]) / 2.0
    return _Structures(idx, struct.astype(np.int64), xm, ym)




class EarthquakeHazard(Hazard):
    """One earthquake.

    Build with :meth:`from_spec`; the model calls :meth:`bind` once and :meth:`update`
    every ``cadence_s``. All damage happens at the first update at or after ``time_min``;
    later updates change nothing.
    """

    kind = "earthquake"

    def __init__(self, spec: EarthquakeSpec) -> None:
        self.spec = spec
        self.cadence_s = float(spec.cadence_s)
        self.t_quake_s = float(spec.time_min) * 60.0
        self.struck = False
        self._where = f"[[hazards]] earthquake {spec.name!r}"
        self._tables: dict[str, pd.DataFrame] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._displaced = np.zeros(0, np.int64)
        self._displaced_t_s = np.zeros(0, np.float64)

    @classmethod
    def from_spec(cls, spec: EarthquakeSpec) -> EarthquakeHazard:
        """The hazard a validated ``[[hazards]]`` earthquake table describes."""
        return cls(spec)

    # ------------------------------------------------------------------ bind
    def bind(self, net: RoadNetwork, *, rng: np.random.Generator) -> None:
        """Rupture in map metres, building inventory, sites, link indexes; no shaking yet."""
        from pyproj import Transformer
        from scipy.spatial import cKDTree

        s = self.spec
        if net.drive.n_links == 0:
            raise ScenarioError(f"{self._where}: expected a map with drivable roads, got none")
        self.net = net
        inv_rng, self._rng = rng.spawn(2)
        to_map = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
        self.rupture = _rupture(s, to_map)
        self.inventory = build_inventory(net.residential, s.buildings, rng=inv_rng)
        d, w, nodes = net.drive, net.walk, net.nodes
        dn = np.unique(np.concatenate([d.from_node, d.to_node])).astype(np.int64)
        self._drive_nodes = dn
        self._node_tree = cKDTree(np.column_stack([nodes.x_m[dn], nodes.y_m[dn]]))
        self._drive_two_way = has_reverse(d, len(nodes))
        drive_w = d.lanes * s.lane_width_m * np.where(self._drive_two_way, 2.0, 1.0)
        self._drive_index = link_index(d, nodes, drive_w)
        self._walk_index = link_index(w, nodes, np.asarray(w.lanes, np.float64)) \
            if w.n_links else None
        self.bridges = _structures(net, d, "drive_bridge")
        self.tunnels = _structures(net, d, "drive_tunnel")
        # The PGA map grid over the nodes plus a margin.
        m = s.grid_margin_m
        x0, y0 = float(nodes.x_m.min() - m), float(nodes.y_m.min() - m)
        cell = float(s.grid_cell_m)
        nx = max(1, math.ceil((nodes.x_m.max() + m - x0) / cell))
        ny = max(1, math.ceil((nodes.y_m.max() + m - y0) / cell))
        self.grid = Grid(x0, y0, cell, nx, ny, net.crs)
        gx, gy = self.grid.centres()
        inv = self.inventory
        self._site_x = np.concatenate([inv.x_m, self.bridges.x_m, self.tunnels.x_m, gx.ravel()])
        self._site_y = np.concatenate([inv.y_m, self.bridges.y_m, self.tunnels.y_m, gy.ravel()])
        self._vs30_grid = self._read_vs30() if s.vs30_grid is not None else None
        self._site_vs30 = self._vs30_at(self._site_x, self._site_y)

    def _read_vs30(self):
        s = self.spec
        raster = terrain.read_raster(s.vs30_grid, field="vs30_grid", crs=s.vs30_crs)
        g = self.grid
        bbox = (g.x0_m, g.y0_m, g.x0_m + g.nx * g.cell_m, g.y0_m + g.ny * g.cell_m)
        grid = terrain.grid_over(raster, self.net.crs, bbox, g.cell_m, field="vs30_grid")
        values = terrain.resample(raster, grid, voids="fill", field="vs30_grid")
        lo, hi = gmpe.BSSA14_VS30
        bad = ~((values >= lo) & (values <= hi))
        if bad.any():
            raise ScenarioError(f"{s.vs30_grid}: vs30_grid: expected Vs30 of {lo:g} to {hi:g} m/s "
                                f"over the map, got {float(values[bad][0])!r}")
        return grid, values

    def _vs30_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self._vs30_grid is None:
            return np.full(x.shape, float(self.spec.vs30_mps))
        grid, values = self._vs30_grid
        col = np.clip(np.floor((x - grid.x0_m) / grid.cell_m), 0, grid.nx - 1).astype(np.int64)
        row = np.clip(np.floor((y - grid.y0_m) / grid.cell_m), 0, grid.ny - 1).astype(np.int64)
        return values[row, col]

    # ------------------------------------------------------------------ shaking
    def magnitudes(self) -> tuple[float, float]:
        """(Mw, Ms) of the event (one given, the other by Cheng et al. 2017)."""
        s = self.spec
        if s.magnitude_type == "Mw":
            return s.magnitude, gmpe.mw_to_ms(s.magnitude)
        return gmpe.ms_to_mw(s.magnitude), s.magnitude

    def median_ln(self, x: np.ndarray, y: np.ndarray, vs30: np.ndarray) -> tuple[np.ndarray, ...]:
        """Median (ln PGA g, ln PGV cm/s, ln Sa(1.0 s) g, τ, φ) at points (map metres)."""
        s = self.spec
        mw, ms = self.magnitudes()
        rjb = np.minimum(self.rupture.rjb_km(x, y), gmpe.BSSA14_RJB_KM[1])
        if s.gmpe == "bssa14":
            gm = gmpe.bssa14(mw, rjb, vs30, mechanism=s.mechanism, region=s.region)
            ln_sa = gmpe.bssa14_ln(mw, rjb, vs30, period=1.0, mechanism=s.mechanism,
                                   region=s.region)
            return np.log(gm.pga_g), np.log(gm.pgv_cm_s), ln_sa, gm.tau_pga, gm.phi_pga
        repi = np.minimum(self.rupture.repi_km(x, y), gmpe.YU_REPI_KM[1])
        gm = gmpe.yu2013(ms, repi, self.rupture.azimuth_deg(x, y), region=s.yu_region)
        # Yu 2013 has no spectral ordinates: Sa(1.0 s) for bridges = Yu's PGA times the
        # BSSA14 ratio Sa(1.0 s)/PGA for the same event and site (assumption).
        kw = {"mechanism": s.mechanism, "region": s.region}
        ratio = gmpe.bssa14_ln(mw, rjb, vs30, period=1.0, **kw) - gmpe.bssa14_ln(
            mw, rjb, vs30, period=0.0, **kw)
        ln_pga = np.log(gm.pga_g)
        return ln_pga, np.log(gm.pgv_cm_s), ln_pga + ratio, gm.tau_pga, gm.phi_pga

    def _draw_variability(self, rng: np.random.Generator) -> None:
        """Between-event η (one per run) and the within-event field or independent ε."""
        s = self.spec
        k = float(s.truncation_sigma)
        self._eta = 0.0 if s.variability == "none" else float(np.clip(rng.standard_normal(), -k, k))
        self._eps_field = None
        n_site = self._site_x.size
        n_grid = self.grid.nx * self.grid.ny
        if s.variability == "correlated":
            x0, y0 = self._site_x.min() - 1.0, self._site_y.min() - 1.0
            cell = min(float(s.grid_cell_m), s.correlation_range_km * 1000.0 / 10.0)
            span = max(self._site_x.max() - x0, self._site_y.max() - y0) + 2.0
            while (span / cell + 2) ** 2 > _VAR_MAX_NODES:
                cell *= 2.0
            nx = math.ceil((self._site_x.max() + 1.0 - x0) / cell) + 1
            ny = math.ceil((self._site_y.max() + 1.0 - y0) / cell) + 1
            field = gmpe.correlated_normal_field(nx, ny, cell, s.correlation_range_km * 1000.0,
                                                 rng)
            self._eps_field = (np.clip(field, -k, k), x0, y0, cell)
            self._eps = self._eps_at(self._site_x, self._site_y)
        elif s.variability == "uncorrelated":
            eps = np.clip(rng.standard_normal(n_site), -k, k)
            eps[n_site - n_grid:] = 0.0  # map cells show median x between-event term
            self._eps = eps
        else:
            self._eps = np.zeros(n_site)

    def _eps_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from scipy import ndimage

        field, x0, y0, cell = self._eps_field
        coords = np.stack([(y - y0) / cell, (x - x0) / cell])
        return ndimage.map_coordinates(field, coords, order=1, mode="nearest")

    def pga_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Realised PGA (g) at points after the earthquake (see :meth:`value_at`)."""
        ln_pga, _, _, tau, phi = self.median_ln(x, y, self._vs30_at(x, y))
        eps = self._eps_at(x, y) if self._eps_field is not None else 0.0
        return np.exp(ln_pga + tau * self._eta + phi * eps)

    def value_at(self, t_s: float, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """PGA (g) at points (map metres): 0 before the earthquake, the realisation after.

        With independent within-event terms (``variability = "uncorrelated"``) a new
        point has no realisation of its own; the median times the between-event term is
        returned there.
        """
        x, y = np.asarray(x_m, np.float64), np.asarray(y_m, np.float64)
        if not self.struck:
            return np.zeros(x.shape)
        return self.pga_at(x, y)

    # ------------------------------------------------------------------ update
    def update(self, t_s: float, people: PeopleView) -> HazardUpdate:
        """Nothing before ``time_min``; at the first call at or after it, everything."""
        if self.struck or t_s + 1e-9 < self.t_quake_s:
            return HazardUpdate()
        self.struck = True
        rng = self._rng
        self._draw_variability(rng)
        ln_pga, ln_pgv, ln_sa, tau, phi = self.median_ln(self._site_x, self._site_y,
                                                         self._site_vs30)
        shift = tau * self._eta + phi * self._eps
        self._pga = np.exp(ln_pga + shift)
        self._pgv = np.exp(ln_pgv + shift)
        self._sa10 = np.exp(ln_sa + shift)
        self._pga_median = np.exp(ln_pga)
        b_pga = self._pga[: len(self.inventory)]
        dmg = self._damage(b_pga, rng)
        out = self._people(dmg, people, rng)
        drive_f, walk_f, link_rows = self._roads(dmg, rng)
        incidents = self._incidents(t_s, dmg, out)
        self._displaced = np.flatnonzero(out["displaced"]).astype(np.int64)
        spread = rng.random(self._displaced.size) * self.spec.displaced_spread_min
        self._displaced_t_s = t_s + (self.spec.displaced_delay_min + spread) * 60.0
        self._record(t_s, dmg, out, drive_f, walk_f, link_rows, people)
        stranded = np.flatnonzero(out["stranded"]).astype(np.int64)
        dead = np.bincount(out["person_hh"][~out["alive"]], minlength=len(out["persons"]))
        return HazardUpdate(drive_factor=drive_f, walk_factor=walk_f, stranded=stranded,
                            incidents=incidents, dead=dead.astype(np.int64))

    # ------------------------------------------------------------------ damage
    def _damage(self, pga_b: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Damage state 0–4 and collapse per building (HAZUS equivalent-PGA curves)."""
        inv, t = self.inventory, building_tables()
        ds = sample_states(pga_b, inv.median_g(), t.beta, rng.random(len(inv)))
        collapse = (ds == 4) & (rng.random(len(inv)) < t.p_collapse[inv.cls])
        state = np.where(collapse, 5, ds).astype(np.int8)
        return {"ds": ds, "collapse": collapse, "state": state, "pga": pga_b}

    def _people(self, dmg, people: PeopleView, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Put households at home into buildings; casualties, trapped, displaced."""
        inv, t = self.inventory, building_tables()
        at_home = np.asarray(people.indoors, bool) & np.isin(people.state, _AT_HOME_STATES)
        hh_b = locate_households(inv, self.net.residential, np.asarray(people.x_m, np.float64),
                                 np.asarray(people.y_m, np.float64), at_home, rng=rng)
        persons = np.asarray(people.persons, np.int64)
        n_hh = persons.size
        sev = person_severity(hh_b, dmg["state"], inv.cls, t.rates, persons,
                              rng.random(int(persons.sum())))
        hh = np.repeat(np.arange(n_hh), persons)
        alive = sev < 4
        alive_n = np.bincount(hh[alive], minlength=n_hh)
        worst = np.zeros(n_hh, np.int8)  # worst injury among the living
        np.maximum.at(worst, hh[alive], sev[alive])
        in_b = hh_b >= 0
        b = np.maximum(hh_b, 0)
        ds, collapse = dmg["ds"][b], dmg["collapse"][b]
        # Trapped (assumption, scenarios/README.md): everyone alive in a collapsed
        # building; in a Complete one, households with a hospitalised or worse member.
        trapped = in_b & (alive_n > 0) & (collapse | ((ds == 4) & (worst >= 2)))
        all_dead = in_b & (alive_n == 0) & (persons > 0)
        critical = in_b & ~trapped & (worst >= 3)  # life-threatening: cannot leave unaided
        stranded = trapped | all_dead | critical
        displaced = in_b & (ds >= 3) & ~stranded & (alive_n > 0)
        return {"hh_building": hh_b, "severity": sev, "person_hh": hh, "alive": alive,
                "trapped": trapped, "all_dead": all_dead, "critical": critical,
                "stranded": stranded, "displaced": displaced, "persons": persons}

    # ------------------------------------------------------------------ roads
    def _roads(self, dmg, rng: np.random.Generator):
        """Link factors from debris, bridges and tunnels; rows of the links table."""
        s, inv, net = self.spec, self.inventory, self.net
        if s.debris_from == "collapse":
            shed = dmg["collapse"]
        elif s.debris_from == "complete":
            shed = dmg["ds"] >= 4
        else:
            shed = dmg["ds"] >= 3
        idx = np.flatnonzero(shed)
        reach = debris_reach_m(inv.height_m(s.buildings.storey_height_m)[idx])
        half = np.sqrt(inv.footprint_m2[idx]) / 2.0
        px, py = inv.x_m[idx], inv.y_m[idx]
        rows = []
        d_buried = buried_width(self._drive_index, net.drive, net.nodes, px, py, half, reach)
        width = self._drive_index.width_m
        drive = np.ones(net.drive.n_links)
        hit = d_buried > 0
        closed = hit & (width - d_buried < s.debris_pass_width_m)
        drive[hit] = s.debris_slow_factor
        drive[closed] = 0.0
        for i in np.flatnonzero(hit):
            rows.append(("drive", int(i), "debris", float(d_buried[i]), -1, float(drive[i])))
        walk = np.ones(net.walk.n_links)
        if self._walk_index is not None and idx.size:
            w_buried = buried_width(self._walk_index, net.walk, net.nodes, px, py, half, reach)
            over = (w_buried > 0) & (self._walk_index.width_m - w_buried < _WALK_PASS_M)
            walk[over] = s.walk_debris_factor
            for i in np.flatnonzero(over):
                rows.append(("walk", int(i), "debris", float(w_buried[i]), -1,
                             float(walk[i])))
        close_at = DAMAGE_STATES.index(s.bridge_close_state)
        nb, nt = self.bridges.n, self.tunnels.n
        off = len(inv)
        bridge_ds = sample_transport(self._sa10[off:off + nb], transport_curve(s.bridge_class),
                                     rng.random(nb))
        tunnel_ds = sample_transport(self._pga[off + nb:off + nb + nt],
                                     transport_curve(s.tunnel_class), rng.random(nt))
        self._bridge_ds, self._tunnel_ds = bridge_ds, tunnel_ds
        for what, st, ds, close in (("bridge", self.bridges, bridge_ds, close_at),
                                    ("tunnel", self.tunnels, tunnel_ds, 2)):
            ds_l = ds[st.struct]
            f = np.where(ds_l >= close, 0.0, np.where(ds_l >= 1, s.bridge_slow_factor, 1.0))
            for li, fi, di in zip(st.links, f, ds_l, strict=True):
                if fi < drive[li]:
                    drive[li] = fi
                    rows.append(("drive", int(li), what, 0.0, int(di), float(fi)))
        # The footway of a collapsed road bridge (same two nodes) goes with it.
        down = self.bridges.links[bridge_ds[self.bridges.struct] >= 4]
        if down.size and net.walk.n_links:
            n = len(net.nodes)
            d, w = net.drive, net.walk
            key_d = np.minimum(d.from_node[down], d.to_node[down]).astype(np.int64) * n + \
                np.maximum(d.from_node[down], d.to_node[down])
            key_w = np.minimum(w.from_node, w.to_node).astype(np.int64) * n + \
                np.maximum(w.from_node, w.to_node)
            for li in np.flatnonzero(np.isin(key_w, key_d)):
                walk[li] = 0.0
                rows.append(("walk", int(li), "bridge", 0.0, 4, 0.0))
        return drive, walk, rows

    # ------------------------------------------------------------------ incidents
    def _incidents(self, t_s: float, dmg, out) -> list[Incident]:
        """Incidents of the earthquake, one per building.

        ``trapped``: a building with people trapped; ``injured``: a building with
        hospitalised / life-threatening people who are not trapped.
        """
        inv = self.inventory
        nb = len(inv)
        pb = out["hh_building"][out["person_hh"]]
        inb = pb >= 0
        alive, sev = out["alive"], out["severity"]
        trapped_p = inb & alive & out["trapped"][out["person_hh"]]
        n_trapped = np.bincount(pb[trapped_p], minlength=nb)
        n_dead = np.bincount(pb[inb & ~alive], minlength=nb)
        hurt = inb & alive & (sev >= 2) & ~trapped_p
        n_hurt = np.bincount(pb[hurt], minlength=nb)
        worst = np.zeros(nb, np.int8)
        np.maximum.at(worst, pb[hurt], sev[hurt])
        self._per_building = {"trapped": n_trapped, "killed": n_dead}
        names = inv.class_names()
        _, j = self._node_tree.query(np.column_stack([inv.x_m, inv.y_m]))
        node = self._drive_nodes[np.asarray(j, np.int64)]
        self._building_node = node
        incidents = []
        for b in np.flatnonzero(n_trapped):
            how = "collapsed" if dmg["collapse"][b] else "completely damaged"
            incidents.append(Incident(
                t_s=float(t_s), kind="trapped", hazard="earthquake", x_m=float(inv.x_m[b]),
                y_m=float(inv.y_m[b]), node=int(node[b]), persons=int(n_trapped[b]),
                # Graded by the building (assumption): under a collapse 4, else 3.
                severity=4 if dmg["collapse"][b] else 3,
                note=f"{int(n_trapped[b])} persons trapped in {how} building {int(b)} "
                     f"({names[b]}, {int(inv.levels[b])} storeys; {int(n_dead[b])} dead)"))
        for b in np.flatnonzero(n_hurt):
            incidents.append(Incident(
                t_s=float(t_s), kind="injured", hazard="earthquake", x_m=float(inv.x_m[b]),
                y_m=float(inv.y_m[b]), node=int(node[b]), persons=int(n_hurt[b]),
                severity=int(worst[b]),
                note=f"{int(n_hurt[b])} persons injured (hospital care) in building {int(b)} "
                     f"({names[b]}, {DAMAGE_STATES[int(dmg['ds'][b])]} damage)"))
        return incidents

    # ------------------------------------------------------------------ output
    def _record(self, t_s, dmg, out, drive_f, walk_f, link_rows, people: PeopleView) -> None:
        s, inv, net = self.spec, self.inventory, self.net
        nb = len(inv)
        pb = out["hh_building"][out["person_hh"]]
        inb = pb >= 0
        sev, alive, hh = out["severity"], out["alive"], out["person_hh"]
        occupants = np.bincount(pb[inb], minlength=nb)
        cas = {c: np.bincount(pb[inb & (sev == k)], minlength=nb)
               for k, c in enumerate(_SEVERITY_COLS, start=1)}
        displaced_p = np.bincount(pb[inb & alive & out["displaced"][hh]], minlength=nb)
        self._tables["buildings"] = pd.DataFrame({
            "building": np.arange(nb), "place": inv.place, "x_m": inv.x_m, "y_m": inv.y_m,
            "class": inv.class_names(),
            "code": np.asarray(CODES, dtype=object)[inv.code],
            "levels": inv.levels.astype(np.int64), "occupants": occupants,
            "pga_g": dmg["pga"], "damage_state": np.asarray(DAMAGE_STATES, object)[dmg["ds"]],
            "collapsed": dmg["collapse"], "trapped": self._per_building["trapped"],
            **cas, "displaced": displaced_p, "node": self._building_node,
        })
        nodes = net.nodes
        lrows = []
        for network, li, reason, buried, ds, f in link_rows:
            links = net.drive if network == "drive" else net.walk
            a, b = links.from_node[li], links.to_node[li]
            lrows.append((network, li, int(a), int(b), float(nodes.x_m[a]), float(nodes.y_m[a]),
                          float(nodes.x_m[b]), float(nodes.y_m[b]), float(links.length_m[li]),
                          reason, buried, ds, f))
        self._tables["links"] = pd.DataFrame(lrows, columns=[
            "network", "link", "from_node", "to_node", "x0_m", "y0_m", "x1_m", "y1_m",
            "length_m", "reason", "buried_m", "damage_state", "factor"])
        # Road length counts each street once (a two-way street is two links).
        per_road = net.drive.length_m / np.where(self._drive_two_way, 2.0, 1.0)
        persons = out["persons"]
        mw, ms = self.magnitudes()
        ds_counts = np.bincount(dmg["ds"], minlength=5)
        trapped_alive = int(np.count_nonzero(alive & out["trapped"][hh]))
        injured = alive & (sev >= 1) & ~out["trapped"][hh]
        summary = {
            "name": s.name, "t_s": float(t_s), "gmpe": s.gmpe, "mw": mw, "ms": ms,
            "depth_km": s.depth_km, "mechanism": s.mechanism,
            "epicentre_x_m": self.rupture.epi_x, "epicentre_y_m": self.rupture.epi_y,
            "strike_deg": self.rupture.strike_deg, "variability": s.variability,
            "between_event_eta": self._eta,
            "inventory": inv.source, "buildings": nb,
            **{f"buildings_{n}": int(c) for n, c in zip(DAMAGE_STATES, ds_counts, strict=True)},
            "buildings_collapsed": int(np.count_nonzero(dmg["collapse"])),
            "pga_max_g": float(dmg["pga"].max()) if nb else 0.0,
            "pga_median_buildings_g": float(np.median(dmg["pga"])) if nb else 0.0,
            "population": int(persons.sum()), "persons_in_buildings": int(occupants.sum()),
            **{c: int(v.sum()) for c, v in cas.items()},
            "persons_killed": int(np.count_nonzero(inb & ~alive)),
            "persons_trapped": trapped_alive,
            "persons_injured_not_trapped": int(np.count_nonzero(injured)),
            "persons_displaced": int(displaced_p.sum()),
            "households_trapped": int(np.count_nonzero(out["trapped"])),
            "households_stranded": int(np.count_nonzero(out["stranded"])),
            "households_displaced": int(np.count_nonzero(out["displaced"])),
            "road_km_closed": float(per_road[drive_f == 0].sum() / 1000.0),
            "road_km_slowed": float(per_road[(drive_f > 0) & (drive_f < 1)].sum() / 1000.0),
            "drive_links_closed": int(np.count_nonzero(drive_f == 0)),
            "walk_links_affected": int(np.count_nonzero(walk_f < 1)),
            "bridges_assessed": self.bridges.n, "bridges_closed": int(np.count_nonzero(
                self._bridge_ds >= DAMAGE_STATES.index(s.bridge_close_state))),
            "tunnels_assessed": self.tunnels.n,
        }
        self._tables["summary"] = pd.DataFrame([summary])
        g = self.grid
        n_grid = g.nx * g.ny
        self._arrays = {
            "pga_g": self._pga[-n_grid:].reshape(g.ny, g.nx).astype(np.float32),
            "pga_median_g": self._pga_median[-n_grid:].reshape(g.ny, g.nx).astype(np.float32),
            "x0_m": np.array(g.x0_m), "y0_m": np.array(g.y0_m), "cell_m": np.array(g.cell_m),
            "epicentre_xy_m": np.array([self.rupture.epi_x, self.rupture.epi_y]),
            "trace_xy_m": np.asarray(self.rupture.trace_xy, np.float64).reshape(-1, 2),
        }

    # ------------------------------------------------------------------ displaced
    def displaced_households(self) -> np.ndarray:
        """Households that lost their home and must go to a shelter, int64[k].

        Rows of the population whose building has Extensive or Complete damage and who
        are not stranded (trapped, critically injured). Empty before the earthquake.
        """
        return self._displaced

    def displaced_departures(self) -> tuple[np.ndarray, np.ndarray]:
        """(households int64[k], departure time float64[k], seconds from t = 0).

        Departure = time of the earthquake + ``displaced_delay_min`` + uniform(0,
        ``displaced_spread_min``) minutes, drawn once per run.
        """
        return self._displaced, self._displaced_t_s

    def tables(self) -> dict[str, pd.DataFrame]:
        """``buildings``, ``links`` (closed or slowed) and ``summary`` (one row).

        Empty before the earthquake.
        """
        return dict(self._tables)

    def arrays(self) -> dict[str, np.ndarray]:
        """The PGA map, empty before the earthquake.

        ``pga_g`` (this run's realisation) and ``pga_median_g`` float32[ny, nx] (row 0
        south), ``x0_m``, ``y0_m`` (south-west corner), ``cell_m``, ``epicentre_xy_m`` [2],
        ``trace_xy_m`` [k, 2].
        """
        return dict(self._arrays)

