"""Flood: water that rises on the terrain, closes roads, slows cars and strands people.

Two sources of depth over time, one hazard:

- ``source = "hydrographs"``: a 2-D inundation computed on the DEM (resampled to a grid
  of square cells in the map's CRS) from inflow hydrographs at points, with the
  local-inertial scheme of :mod:`sim.core.flood` (depth and a velocity per cell);
- ``source = "rasters"``: a series of depth rasters (GeoTIFF / ASCII grid) written by an
  external hydraulic model (HEC-RAS, LISFLOOD-FP, ...), linearly interpolated in time.

Effects, re-sampled every ``cadence_s``: each link is sampled at points every ~cell along
the straight segment between its nodes. Cars: Pregnolato et al. (2017) speed at the
link's deepest sample, capped at the link's free-flow speed, closed at ≥ 0.3 m
(docs/references.md §2.1). Walkers: Defra FD2321 hazard rating at the worst sample, link closed
from ``walk_close_hr_class`` on (default "significant" = danger for most, §2.2). People
on a closed link, or at home in water ≥ ``home_stranding_depth_m``, are stranded: once
per household, reported as incidents aggregated per nearest drive node.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, StrictFloat, StrictStr, ValidationInfo, field_validator, model_validator

from sim._errors import ScenarioError
from sim._spec import NonNegative, Positive, Spec, field_error, resolve_existing
from sim.core.profiles import closing_per_segment
from sim.core.road_water import link_excess_max, wet_samples
from sim.hazards import terrain
from sim.hazards.base import Hazard, HazardUpdate, Incident, PeopleView
from sim.hazards.flood import curves as fc
from sim.hazards.flood.households import caught, expose, people_blocks
from sim.network.roadnet import RoadNetwork

_RASTER_ENDINGS = (".hgt", ".hgt.zip", ".zip", ".asc", ".tif", ".tiff")
# Household states up to this code are "still at home" (sim.population codes NOT_WARNED 0,
# WARNED 1, STAYING 2); literal here so importing this module stays light.
_AT_HOME_MAX_STATE = 2
# Snapshots kept for the run folder, bytes (float32), before spatial down-sampling.
_SNAPSHOT_BUDGET_B = 30_000_000
# Coarse cell of the people-density snapshots, metres (a few blocks; figure resolution).
_PEOPLE_CELL_M = 250.0


def _raster_path(value: Any, info: ValidationInfo, what: str) -> Path:
    path = resolve_existing(value, info, what)
    if not path.name.lower().endswith(_RASTER_ENDINGS):
        raise field_error("path", "a raster file ending in " + ", ".join(_RASTER_ENDINGS),
                          path.name)
    return path


class InflowSpec(Spec):
    """``[[hazards.inflows]]``: an inflow hydrograph at a point (gully mouth, breach)."""

    name: StrictStr = ""
    lon: StrictFloat | None = None
    lat: StrictFloat | None = None
    x_m: StrictFloat | None = None
    y_m: StrictFloat | None = None
    hydrograph: list[tuple[StrictFloat, StrictFloat]]  # [[t_min, q_m3s], ...]

    @model_validator(mode="after")
    def _check(self) -> InflowSpec:
        xy = (self.x_m is not None, self.y_m is not None)
        ll = (self.lon is not None, self.lat is not None)
        if not ((all(xy) and not any(ll)) or (all(ll) and not any(xy))):
            raise field_error("lon", "either lon and lat (WGS84 degrees) or x_m and y_m "
                              "(map metres)", {"lon": self.lon, "lat": self.lat,
                                               "x_m": self.x_m, "y_m": self.y_m})
        pts = self.hydrograph
        if len(pts) < 2:
            raise field_error("hydrograph", "at least two [t_min, q_m3s] points", pts)
        for k, (t, q) in enumerate(pts):
            if not (math.isfinite(t) and math.isfinite(q)):
                raise field_error(f"hydrograph[{k}]", "finite numbers", [t, q])
            if q < 0:
                raise field_error(f"hydrograph[{k}]", "a flow >= 0 m3/s", q)
            if t < 0 or (k and t <= pts[k - 1][0]):
                raise field_error(f"hydrograph[{k}]", "times >= 0 min, strictly increasing", t)
        return self


class RasterFrameSpec(Spec):
    """``[[hazards.rasters]]``: one depth raster (metres) at a time since start (min)."""

    t_min: NonNegative
    path: Path
    velocity: Path | None = None  # optional speed raster, m/s

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, value: Any, info: ValidationInfo) -> Path:
        return _raster_path(value, info, "a depth raster")

    @field_validator("velocity", mode="before")
    @classmethod
    def _vel(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else _raster_path(value, info, "a velocity raster")


class FloodSpec(Spec):
    """``[[hazards]] kind = "flood"``; fields, units and sources in scenarios/README.md."""

    kind: Literal["flood"] = "flood"
    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)] = "flood"
    source: Literal["hydrographs", "rasters"] = "hydrographs"
    dem: Path | None = None
    dem_crs: StrictStr | None = None
    inflows: list[InflowSpec] = []
    rasters: list[RasterFrameSpec] = []
    raster_crs: StrictStr | None = None
    raster_velocity_mps: NonNegative = 0.5  # assumption when no velocity raster is given
    cell_m: Positive | None = None  # default: the DEM's (or first raster's) resolution
    margin_m: NonNegative = 1000.0
    boundary: Literal["open", "closed"] = "open"
    manning_n: Annotated[StrictFloat, Field(gt=0.0, le=0.3)] = 0.035
    dt_max_s: Positive = 10.0
    # Bates et al. (2010) advise 0.2-0.7; 0.7 lets round-off grow into sloshing in a lake
    # at rest with a pit beside a shallow shelf (tests/test_flood_scheme.py), 0.5 does not.
    cfl_alpha: Annotated[StrictFloat, Field(gt=0.0, le=1.0)] = 0.5
    theta: Annotated[StrictFloat, Field(gt=0.0, le=1.0)] = 0.9  # de Almeida et al. 2012
    froude_max: Positive = 1.0
    cadence_s: Positive = 60.0
    snapshot_min: Positive = 10.0
    wet_depth_m: Positive = 0.01
    # docs/references.md 2.1
    vehicle_close_depth_m: Annotated[StrictFloat, Field(gt=0.0, le=0.3)] = 0.3
    walk_close_hr_class: Literal["moderate", "significant", "extreme"] = "significant"
    land_use: Literal["urban", "woodland", "pasture"] = "urban"
    home_stranding_depth_m: Positive = 0.5  # assumption, see scenarios/README.md
    bridge_span_m: NonNegative = 200.0  # assumption: longest span taken as a bridge
    bridge_clearance_m: Positive = 4.0  # assumption: deck at least this high over the ground

    @field_validator("dem", mode="before")
    @classmethod
    def _dem(cls, value: Any, info: ValidationInfo) -> Path | None:
        return None if value is None else _raster_path(value, info, "the DEM")

    @model_validator(mode="after")
    def _source_complete(self) -> FloodSpec:
        if self.source == "hydrographs":
            if self.dem is None:
                raise field_error("dem", "a DEM file when source = 'hydrographs'", None)
            if not self.inflows:
                raise field_error("inflows", "at least one inflow when source = 'hydrographs'",
                                  [])
        else:
            if not self.rasters:
                raise field_error("rasters", "at least one depth raster when "
                                  "source = 'rasters'", [])
            times = [r.t_min for r in self.rasters]
            if any(b <= a for a, b in zip(times, times[1:], strict=False)):
                raise field_error("rasters", "t_min strictly increasing", times)
        return self


def _link_samples(links, nodes, grid: terrain.Grid) -> tuple[np.ndarray, np.ndarray]:
    """Grid cells under points every ~cell along each link's straight segment.

    Returns ``(cells int64[S], ptr int64[L + 1])``: the samples of link ``l`` are
    ``cells[ptr[l]:ptr[l + 1]]`` (at least the two end points; -1 outside the grid).
    """
    x0, y0 = nodes.x_m[links.from_node], nodes.y_m[links.from_node]
    x1, y1 = nodes.x_m[links.to_node], nodes.y_m[links.to_node]
    n = np.maximum(2, np.ceil(np.hypot(x1 - x0, y1 - y0) / grid.cell_m).astype(np.int64) + 1)
    ptr = np.zeros(len(n) + 1, np.int64)
    np.cumsum(n, out=ptr[1:])
    link = np.repeat(np.arange(len(n)), n)
    frac = (np.arange(ptr[-1]) - ptr[link]) / (n[link] - 1)
    xs = x0[link] + frac * (x1 - x0)[link]
    ys = y0[link] + frac * (y1 - y0)[link]
    return grid.cell_of(xs, ys), ptr


def _deck_height(z: np.ndarray, cells: np.ndarray, ptr: np.ndarray, cell_m: float,
                 span_m: float, clearance_m: float,
                 tagged: np.ndarray | None = None) -> np.ndarray:
    """Height of the road above the ground at each sample (m): > 0 only on bridges.

    Bridges are found in the terrain, because many are not tagged: along each link's
    profile, a grey-scale closing over ``span_m`` fills every dip narrower than a bridge
    span (a river channel under the road); where it lifts the profile by at least
    ``clearance_m`` the road is taken to be a deck at the closed height, and water must
    rise above the deck to reach it. Shallower dips (a ford, a gully crossed at grade) are
    kept: water there is on the road. Links the map tags as bridges (``tagged``, OSM
    ``bridge=*``) are decks along their whole length: on the straight line between their
    ends' ground, and at least ``clearance_m`` above the ground under them.
    """
    zs = np.where(cells >= 0, z.ravel()[np.maximum(cells, 0)], 0.0)
    lift = np.zeros_like(zs)
    if span_m > 0:
        k = int(span_m // cell_m) + 1  # window in samples (samples are <= one cell apart)
        up = closing_per_segment(zs, ptr, k) - zs
        lift = np.where(up >= clearance_m, up, 0.0)
    for i in np.flatnonzero(tagged) if tagged is not None else ():
        a, b = ptr[i], ptr[i + 1]
        if b > a:
            line = np.linspace(zs[a], zs[b - 1], b - a)
            lift[a:b] = np.maximum(lift[a:b], np.maximum(line - zs[a:b], clearance_m))
    return lift


def _block(a: np.ndarray, k: int, how) -> np.ndarray:
    """Down-sample the last two axes by ``k`` (``how`` = np.max / np.sum over blocks).

    Blocks are reduced with ``k`` strided slices per axis (columns, then rows) instead of
    a reduction over a reshaped 6-D view: 5-10x faster on the snapshot stack. The maxima
    are the same bits; the sums too, because every sum here counts whole persons (exact
    in float64 in any order).
    """
    if k == 1:
        return a
    *lead, ny, nx = a.shape
    py, px = (-ny) % k, (-nx) % k
    if py or px:
        a = np.pad(a, [(0, 0)] * len(lead) + [(0, py), (0, px)])
    red = np.maximum if how is np.max else np.add
    cols = a[..., 0::k]
    for dj in range(1, k):
        cols = red(cols, a[..., dj::k])
    out = cols[..., 0::k, :]
    for di in range(1, k):
        out = red(out, cols[..., di::k, :])
    return out


class FloodHazard(Hazard):
    """A flood from inflow hydrographs (2-D scheme) or from a series of depth rasters.

    Build with :meth:`from_spec`; the model then calls :meth:`bind` once and
    :meth:`update` every ``cadence_s`` seconds.
    """

    kind = "flood"

    def __init__(self, spec: FloodSpec) -> None:
        self.spec = spec
        self.cadence_s = float(spec.cadence_s)
        self._where = f"[[hazards]] flood {spec.name!r}"

    @classmethod
    def from_spec(cls, spec: FloodSpec) -> FloodHazard:
        """The hazard a validated ``[[hazards]]`` flood table describes."""
        return cls(spec)

    # ------------------------------------------------------------------ bind
    def bind(self, net: RoadNetwork, *, rng: np.random.Generator) -> None:
        """Grid the terrain (or rasters) over the map and precompute link samples."""
        from pyproj import Transformer
        from scipy.spatial import cKDTree

        s = self.spec
        self.net = net
        to_map = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
        src_xy = []
        for f in s.inflows:
            if f.x_m is not None:
                src_xy.append((f.x_m, f.y_m))
            else:
                src_xy.append(tuple(float(v) for v in to_map.transform(f.lon, f.lat)))
        # The grid covers the map plus a margin; inflows must lie on it.
        xs, ys = net.nodes.x_m, net.nodes.y_m
        bbox = (xs.min() - s.margin_m, ys.min() - s.margin_m,
                xs.max() + s.margin_m, ys.max() + s.margin_m)
        if s.source == "hydrographs":
            dem = terrain.read_raster(s.dem, field=f"{self._where}: dem", crs=s.dem_crs)
            base = dem
        else:
            first = s.rasters[0]
            base = terrain.read_raster(first.path, field=f"{self._where}: rasters[0]",
                                       crs=s.raster_crs)
            dem = (terrain.read_raster(s.dem, field=f"{self._where}: dem", crs=s.dem_crs)
                   if s.dem is not None else None)
        cell = float(s.cell_m) if s.cell_m is not None else terrain.native_cell_m(base, net.crs)
        grid = terrain.grid_over(base, net.crs, bbox, cell, field=f"{self._where}: "
                                 + ("dem" if s.source == "hydrographs" else "rasters[0]"))
        self.grid = grid
        self.z = (terrain.resample(dem, grid, field=f"{self._where}: dem")
                  if dem is not None else np.zeros((grid.ny, grid.nx)))
        if s.source == "hydrographs":
            self._bind_scheme(src_xy)
        else:
            self._bind_rasters()
        # Link samples and per-link constants.
        self.d_cells, self.d_ptr = _link_samples(net.drive, net.nodes, grid)
        self.w_cells, self.w_ptr = _link_samples(net.walk, net.nodes, grid)
        self._w_link_of = np.repeat(np.arange(len(self.w_ptr) - 1), np.diff(self.w_ptr))
        deck = (grid.cell_m, float(s.bridge_span_m), float(s.bridge_clearance_m))
        self.d_deck = _deck_height(self.z, self.d_cells, self.d_ptr, *deck,
                                   tagged=net.drive_bridge)
        self.w_deck = _deck_height(self.z, self.w_cells, self.w_ptr, *deck)
        self.d_ffs_kmh = net.drive.ffs_mps * 3.6
        self.d_km = net.drive.length_m / 1000.0
        self.w_km = net.walk.length_m / 1000.0
        self.walk_close_class = fc.HR_CLASSES.index(s.walk_close_hr_class)
        drive_nodes = np.unique(np.concatenate([net.drive.from_node, net.drive.to_node]))
        self._drive_nodes = drive_nodes
        self._node_tree = cKDTree(np.column_stack([net.nodes.x_m[drive_nodes],
                                                   net.nodes.y_m[drive_nodes]]))
        # Bookkeeping.
        n_d = net.drive.n_links
        self.d_peak = np.zeros(n_d)
        self.d_first_closed = np.full(n_d, np.nan)
        self.d_closed_s = np.zeros(n_d)
        self._prev_drive: np.ndarray | None = None
        self._prev_walk: np.ndarray | None = None
        self._hh_stranded: np.ndarray | None = None
        self._stranded_rows: list[tuple] = []
        self._exposure: dict[str, np.ndarray] = {}
        self._rows: list[dict] = []
        self._snap_t: list[float] = []
        self._snap_depth: list[np.ndarray] = []
        self._snap_closed: list[np.ndarray] = []
        self._snap_people: list[np.ndarray] = []
        self._snap_stranded: list[np.ndarray] = []
        self._next_snap = 0.0
        self._persons_stranded = 0
        self._ahead = None  # the water running ahead on a thread (``prefetch``)

    def _bind_scheme(self, src_xy) -> None:
        from sim.core import flood as kernel

        s, grid = self.spec, self.grid
        cells = grid.cell_of(np.array([p[0] for p in src_xy]), np.array([p[1] for p in src_xy]))
        for k, c in enumerate(cells):
            if c < 0:
                f = s.inflows[k]
                where = (f"lon {f.lon}, lat {f.lat}" if f.lon is not None
                         else f"x_m {f.x_m}, y_m {f.y_m}")
                raise ScenarioError(f"{s.dem}: {self._where}: inflows[{k}] ({f.name}): expected "
                                    f"a point on the DEM grid over the map (its extent plus "
                                    f"margin_m = {s.margin_m:g} m), got {where}")
        m = max(len(f.hydrograph) for f in s.inflows)
        t = np.zeros((len(cells), m))
        q = np.zeros((len(cells), m))
        for k, f in enumerate(s.inflows):
            arr = np.asarray(f.hydrograph, dtype=np.float64)
            t[k, : len(arr)] = arr[:, 0] * 60.0
            q[k, : len(arr)] = arr[:, 1]
        self.inflows = kernel.Inflows(cells // grid.nx, cells % grid.nx, t, q,
                                      np.array([len(f.hydrograph) for f in s.inflows]))
        self.params = kernel.FloodParams(grid.cell_m, float(s.manning_n), float(s.cfl_alpha),
                                         float(s.dt_max_s), 1e-3, float(s.froude_max),
                                         s.boundary == "open", float(s.theta))
        self._live = kernel.new_state(np.zeros((grid.ny, grid.nx)))
        self._seen = self._live  # what ``state`` shows (a snapshot while water runs ahead)

    def _bind_rasters(self) -> None:
        s, grid = self.spec, self.grid
        self.frame_t = np.array([r.t_min * 60.0 for r in s.rasters])
        depth, speed = [], []
        for k, r in enumerate(s.rasters):
            field = f"{self._where}: rasters[{k}]"
            ras = terrain.read_raster(r.path, field=field, crs=s.raster_crs)
            terrain.grid_over(ras, grid.crs, (grid.x0_m, grid.y0_m,
                                              grid.x0_m + grid.nx * grid.cell_m,
                                              grid.y0_m + grid.ny * grid.cell_m),
                              grid.cell_m, field=field)  # overlap check
            depth.append(np.maximum(terrain.resample(ras, grid, voids="zero", field=field), 0))
            if r.velocity is not None:
                vr = terrain.read_raster(r.velocity, field=f"{field}.velocity", crs=s.raster_crs)
                speed.append(np.abs(terrain.resample(vr, grid, voids="zero", field=field)))
            else:
                speed.append(np.full((grid.ny, grid.nx), float(s.raster_velocity_mps)))
        self.frame_depth = np.stack(depth)
        self.frame_speed = np.stack(speed)
        self.raster_peak = np.zeros((grid.ny, grid.nx))

    # ------------------------------------------------------------------ water
    @property
    def state(self):
        """The 2-D scheme's :class:`~sim.core.flood.FloodState` as of the last update.

        While the water runs ahead on a thread (:meth:`prefetch`), ``h``, ``peak`` and
        ``acc`` are copies taken at the last update's time (the other arrays belong to the
        running steps).
        """
        return self._seen

    def prefetch(self, times: Iterator[float]) -> None:
        """Let the water run ahead on a thread through the model's coming update times.

        The model calls this once bound and before each update, with the exact times (s,
        ascending) of its coming updates, the next one first, summed tick by tick as it
        will sum them. When no water runs yet, :class:`~sim.hazards.flood.ahead.WaterAhead`
        starts from the live state: the 2-D scheme then runs through those times on
        another core while the model builds itself, ticks the traffic and writes its
        tables, up to ``ahead.DEPTH`` updates ahead, and each update takes the water of
        its own time. The steps are the very steps the scheme would take inside the
        updates, so results are bit-identical (``tests/test_flood_speed.py``).
        """
        if self.spec.source == "hydrographs" and self._ahead is None:
            from sim.hazards.flood.ahead import WaterAhead

            self._ahead = WaterAhead(self.z, self._live, self.params, self.inflows, times)

    def close(self) -> None:
        """Stop the water running ahead (the model calls this at the end of its run).

        What the thread already computed is still used if the model steps on; beyond it
        the updates step the scheme themselves.
        """
        if self._ahead is not None:
            self._ahead.close()

    def _water(self, t_s: float) -> tuple[np.ndarray, Any]:
        """Depth grid at ``t_s`` and a function giving speed at flat cell indices."""
        if self.spec.source == "hydrographs":
            from sim.core import flood as kernel

            water = self._ahead.take(float(t_s)) if self._ahead is not None else None
            if water is not None:
                self._seen = self._live._replace(h=water.h, peak=water.peak, acc=water.acc)
                return water.h, water.speed
            # Nothing runs ahead to t_s (any more): the scheme steps here.
            self._ahead = None
            st, h_min = self._live, self.params.h_min_m
            if st.acc[0] > t_s + 1e-9:
                raise RuntimeError(f"the flood's water is at t = {st.acc[0]!r} s, past the "
                                   f"update at t = {t_s!r} s")
            kernel.advance(self.z, st, self.params, self.inflows, float(t_s))
            self._seen = st

            def speed(cells: np.ndarray) -> np.ndarray:
                return kernel.cell_speed(st, np.ascontiguousarray(cells, np.int64), h_min)

            return st.h, speed
        ft = self.frame_t
        k = int(np.searchsorted(ft, t_s, side="right"))
        if k == 0 or k == len(ft):
            kk = 0 if k == 0 else len(ft) - 1
            h, v = self.frame_depth[kk], self.frame_speed[kk]
        else:
            w = (t_s - ft[k - 1]) / (ft[k] - ft[k - 1])
            h = (1 - w) * self.frame_depth[k - 1] + w * self.frame_depth[k]
            v = (1 - w) * self.frame_speed[k - 1] + w * self.frame_speed[k]
        np.maximum(self.raster_peak, h, out=self.raster_peak)
        flat_v = v.ravel()
        return h, (lambda cells: flat_v[cells])

    def value_at(self, t_s: float, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Water depth (m) at points (map metres) as of the last update (0 off the grid)."""
        h = self._last_h if hasattr(self, "_last_h") else np.zeros((self.grid.ny, self.grid.nx))
        cells = self.grid.cell_of(x_m, y_m)
        return np.where(cells >= 0, h.ravel()[np.maximum(cells, 0)], 0.0)

    # ------------------------------------------------------------------ update
    def update(self, t_s: float, people: PeopleView) -> HazardUpdate:
        """Advance the water to ``t_s`` and tell the model what it does to roads and people."""
        h, speed = self._water(t_s)
        self._last_h = h
        self._h_max = float(h.max()) if h.size else 0.0
        flat = h.ravel()

        d_depth, d_closed, drive, w_class, w_closed, walk = self._roads(flat, speed)

        np.maximum(self.d_peak, d_depth, out=self.d_peak)
        newly = d_closed & np.isnan(self.d_first_closed)
        self.d_first_closed[newly] = t_s
        self.d_closed_s[d_closed] += self.cadence_s  # closed until the next update

        stranded, incidents = self._strand(t_s, people, flat, speed, d_closed, w_closed)
        self._expose(t_s, people, d_depth, d_closed, w_class, w_closed)
        self._record(t_s, h, d_closed, w_closed, people)

        upd = HazardUpdate(stranded=stranded, incidents=incidents)
        if self._prev_drive is None or not np.array_equal(drive, self._prev_drive):
            upd.drive_factor = drive
            self._prev_drive = drive
        if self._prev_walk is None or not np.array_equal(walk, self._prev_walk):
            upd.walk_factor = walk
            self._prev_walk = walk
        return upd

    def _roads(self, flat: np.ndarray, speed) -> tuple[np.ndarray, ...]:
        """What the water does to each link: cars on drive links, people on walk links.

        ``flat``: depth per grid cell (m, raveled); ``speed(cells)``: flow speed (m/s) at
        flat cell indices. Returns ``(d_depth, d_closed, drive, w_class, w_closed, walk)``:
        the deepest water above each drive link (m), closed for cars, the car speed
        factor, each walk link's FD2321 class at its worst sample, closed on foot, the
        walk factor. One pass over the samples (:mod:`sim.core.road_water`); hazard
        ratings only where a sample is wet (dry samples rate 0).
        """
        s = self.spec
        # Cars: deepest water on the road (over a bridge deck: above the deck).
        d_depth = link_excess_max(flat, self.d_cells, self.d_deck, self.d_ptr)
        d_closed = d_depth >= s.vehicle_close_depth_m
        v_kmh = fc.vehicle_speed_kmh(d_depth * 1000.0)
        drive = np.where(d_closed, 0.0, np.minimum(1.0, v_kmh / self.d_ffs_kmh))
        # People on foot: worst hazard rating along each link.
        wet, d = wet_samples(flat, self.w_cells, self.w_deck, s.wet_depth_m)
        w_hr = np.zeros(len(self.w_ptr) - 1)
        if wet.size:
            v = speed(self.w_cells[wet])
            hr = fc.hazard_rating(d, v, fc.debris_factor(d, v, s.land_use))
            np.maximum.at(w_hr, self._w_link_of[wet], hr)  # ratings > 0: order is moot
        w_class = fc.hr_class_index(w_hr)
        w_closed = w_class >= self.walk_close_class
        walk = np.where(w_closed, 0.0, 1.0)
        return d_depth, d_closed, drive, w_class, w_closed, walk

    def _strand(self, t_s, people, flat, speed, d_closed, w_closed):
        """Households caught now (each once) and incidents aggregated per drive node."""
        n = len(people.persons)
        if self._hh_stranded is None:
            self._hh_stranded = np.zeros(n, bool)
            self._exposure = {"drove": np.zeros(n, bool), "walked": np.zeros(n, bool),
                              "t_first_s": np.full(n, np.nan)}
            self._home_cell = np.full(n, -2, np.int64)  # -2: not looked up yet
        # One pass over the households (sim.hazards.flood.households). A household at home is
        # at its home: its cell never changes, it is looked up once.
        new, code = caught(
            drive_link=people.drive_link, walk_link=people.walk_link, d_closed=d_closed,
            w_closed=w_closed, stranded=self._hh_stranded,
            check_home=self._h_max >= self.spec.home_stranding_depth_m,
            indoors=people.indoors, state=people.state, at_home_max=_AT_HOME_MAX_STATE,
            x_m=people.x_m, y_m=people.y_m, grid=self.grid, home_cell=self._home_cell,
            flat_h=flat, home_depth_m=self.spec.home_stranding_depth_m)
        if new.size == 0:
            return None, []
        self._hh_stranded[new] = True
        x, y = people.x_m[new], people.y_m[new]
        cells = self.grid.cell_of(x, y)
        depth = np.where(cells >= 0, flat[np.maximum(cells, 0)], 0.0)
        vel = np.where(cells >= 0, speed(np.maximum(cells, 0)), 0.0)
        hclass = fc.h_class_index(depth, vel)
        # Severity 1..4 from the H1-H6 class where they are: H1-2 minor ... H5-6 critical.
        severity = np.array([1, 1, 1, 2, 3, 4, 4], np.int64)[hclass]
        cause = np.array(["home", "road", "footpath"])[code]
        _, j = self._node_tree.query(np.column_stack([x, y]))
        node = self._drive_nodes[np.asarray(j, np.int64)]
        persons = people.persons[new].astype(np.int64)
        self._persons_stranded += int(persons.sum())
        for k in range(new.size):
            self._stranded_rows.append((int(new[k]), float(t_s), str(cause[k]), int(persons[k]),
                                        float(x[k]), float(y[k]), int(node[k]),
                                        float(depth[k])))
        incidents = []
        uniq, inv = np.unique(node, return_inverse=True)
        for g, nd in enumerate(uniq):
            m = inv == g
            kinds = {c: int(np.count_nonzero(cause[m] == c)) for c in ("home", "road", "footpath")}
            note = ", ".join(f"{v} households {'at ' + c if c == 'home' else 'on a ' + c}"
                             for c, v in kinds.items() if v)
            incidents.append(Incident(
                t_s=float(t_s), kind="stranded", hazard="flood", x_m=float(x[m].mean()),
                y_m=float(y[m].mean()), node=int(nd), persons=int(persons[m].sum()),
                severity=int(severity[m].max()),
                note=f"{int(persons[m].sum())} persons stranded by flood water ({note})"))
        return new.astype(np.int64), incidents

    def _expose(self, t_s, people, d_depth, d_closed, w_class, w_closed) -> None:
        """Flag households travelling through hazardous (not yet closing) water."""
        ex = self._exposure
        expose(t_s, drive_link=people.drive_link, walk_link=people.walk_link, d_depth=d_depth,
               wet_depth_m=self.spec.wet_depth_m, d_closed=d_closed, w_class=w_class,
               w_closed=w_closed, drove=ex["drove"], walked=ex["walked"],
               t_first_s=ex["t_first_s"])

    def _record(self, t_s, h, d_closed, w_closed, people) -> None:
        s, g = self.spec, self.grid
        wet = h > s.wet_depth_m
        self._rows.append({
            "t_s": float(t_s),
            "flooded_area_m2": float(np.count_nonzero(wet)) * g.cell_m ** 2,
            "volume_m3": float(h.sum()) * g.cell_m ** 2,
            "max_depth_m": self._h_max,
            "inflow_m3": float(self.state.acc[1]) if s.source == "hydrographs" else np.nan,
            "outflow_m3": float(self.state.acc[2]) if s.source == "hydrographs" else np.nan,
            "drive_links_closed": int(np.count_nonzero(d_closed)),
            "drive_km_closed": float(self.d_km[d_closed].sum()),
            "walk_km_closed": float(self.w_km[w_closed].sum()),
            "households_stranded_cum": int(np.count_nonzero(self._hh_stranded)),
            "persons_stranded_cum": int(self._persons_stranded),
        })
        if t_s + 1e-9 < self._next_snap:
            return
        self._next_snap = t_s + s.snapshot_min * 60.0
        self._snap_t.append(float(t_s))
        self._snap_depth.append(h.astype(np.float32))
        self._snap_closed.append(d_closed.copy())
        # Everyone not (yet) in a shelter (state 4), and the stranded, per block of cells:
        # counted straight into the blocks (sim.hazards.flood.households), the numbers
        # _block would sum from a count per cell.
        people_, stranded = people_blocks(
            x_m=people.x_m, y_m=people.y_m, persons=people.persons, state=people.state,
            stranded=self._hh_stranded, shelter_code=4, grid=g,
            k=max(1, round(_PEOPLE_CELL_M / g.cell_m)))
        self._snap_people.append(people_)
        self._snap_stranded.append(stranded)

    # ------------------------------------------------------------------ output
    def tables(self) -> dict[str, pd.DataFrame]:
        """``timeseries``, ``links`` (drive links), ``stranded`` and ``exposure`` tables."""
        links = pd.DataFrame({
            "link": np.arange(len(self.d_peak)),
            "peak_depth_m": self.d_peak,
            "first_closed_s": self.d_first_closed,
            "closed_s": self.d_closed_s,
        })
        stranded = pd.DataFrame(self._stranded_rows, columns=[
            "household", "t_s", "cause", "persons", "x_m", "y_m", "node", "depth_m"])
        ex = self._exposure
        if ex:
            hit = np.flatnonzero(ex["drove"] | ex["walked"])
            exposure = pd.DataFrame({"household": hit, "drove_through_water": ex["drove"][hit],
                                     "walked_through_water": ex["walked"][hit],
                                     "t_first_s": ex["t_first_s"][hit]})
        else:
            exposure = pd.DataFrame({"household": np.zeros(0, np.int64),
                                     "drove_through_water": np.zeros(0, bool),
                                     "walked_through_water": np.zeros(0, bool),
                                     "t_first_s": np.zeros(0)})
        return {"timeseries": pd.DataFrame(self._rows), "links": links, "stranded": stranded,
                "exposure": exposure}

    def arrays(self) -> dict[str, np.ndarray]:
        """Grids for the figures: elevation, peak depth, depth and people snapshots."""
        g = self.grid
        peak = self.state.peak if self.spec.source == "hydrographs" else self.raster_peak
        out = {
            "grid_x0_m": np.float64(g.x0_m), "grid_y0_m": np.float64(g.y0_m),
            "cell_m": np.float64(g.cell_m),
            "elevation_m": self.z.astype(np.float32),
            "peak_depth_m": peak.astype(np.float32),
        }
        if self._snap_t:
            frames = len(self._snap_t)
            k = 1
            while frames * math.ceil(g.ny / k) * math.ceil(g.nx / k) * 4 > _SNAPSHOT_BUDGET_B:
                k += 1
            out["snapshot_t_s"] = np.array(self._snap_t)
            out["snapshot_cell_m"] = np.float64(g.cell_m * k)
            out["snapshots_depth_m"] = _block(np.stack(self._snap_depth), k, np.max)
            out["snapshot_drive_closed"] = np.stack(self._snap_closed)
            kp = max(1, round(_PEOPLE_CELL_M / g.cell_m))
            out["people_cell_m"] = np.float64(g.cell_m * kp)
            out["snapshots_people"] = np.stack(self._snap_people)
            out["snapshots_stranded"] = np.stack(self._snap_stranded)
        return out


def flood_specs(data: dict, *, source: str, base_dir: str | Path) -> list[FloodSpec]:
    """Validate the ``[[hazards]]`` tables of kind "flood" of a parsed scenario file.

    For tools that need the flood before (or without) the whole scenario; errors are
    :class:`~sim._errors.ScenarioError` lines ``source: hazards[k].field: ...``.
    """
    from pydantic import ValidationError

    out = []
    for k, table in enumerate(data.get("hazards", [])):
        if not isinstance(table, dict) or table.get("kind") != "flood":
            continue
        try:
            out.append(FloodSpec.model_validate(table, context={"base_dir": Path(base_dir)}))
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
                sep = "." if err["type"] == "scenario_field" else ": "  # msg starts "field: "
                lines.append(f"{source}: hazards[{k}]{loc}{sep}{err['msg']}")
            raise ScenarioError("\n".join(lines)) from None
    return out
