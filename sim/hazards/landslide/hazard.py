"""Landslides in a run: slopes fail in the earthquake (or the rain), block roads, bury homes.

A **screening** model (docs/references.md §8): each DEM cell's slope gets a probability of
failure from :mod:`.screening` — for an earthquake, the infinite-slope factor of safety,
Newmark critical acceleration, Jibson (2007) displacement under the quake's PGA at the
cell and Jibson et al.'s (2000) P(f); for rain (with a flood), Caine's (1980) threshold
and a saturated slab. Cells fail once, at the quake's first update (one seeded uniform
draw per cell against P(f)) or at the rain trigger's ``time_min`` (every screened cell).

Effects: the debris covers the failed cells and ``runout_m`` around them (a disc, not a
flow path: screening); road and footpath links crossing it close for the rest of the
run; people on them are stranded; households still at home inside it are trapped
(incident ``trapped``, severity 4: buried).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.hazards import terrain
from sim.hazards.base import Hazard, HazardUpdate, Incident, PeopleView, incidents_by_node
from sim.hazards.landslide import screening as sc
from sim.hazards.landslide.spec import LandslideSpec

_AT_HOME_MAX_STATE = 2  # sim.population: NOT_WARNED 0, WARNED 1, STAYING 2


class LandslideHazard(Hazard):
    """Slope failures triggered by another hazard of the scenario (see the module docstring)."""

    kind = "landslide"

    def __init__(self, spec: LandslideSpec) -> None:
        self.spec = spec
        self.cadence_s = float(spec.cadence_s)
        self._where = f"[[hazards]] landslide {spec.name!r}"
        self.source = None
        self._log = None

    @classmethod
    def from_spec(cls, spec: LandslideSpec) -> LandslideHazard:
        """The hazard a validated ``[[hazards]]`` landslide table describes."""
        return cls(spec)

    def attach_trigger(self, source: Hazard, log=None) -> None:
        """The hazard that triggers the slides, and the event log (``chains.bind_hazards``).

        ``log(t_s, kind, where, who, value, message)`` records the slides with their cause
        (event ``chain_trigger``) when they happen.
        """
        self.source = source
        self._log = log

    def bind(self, net, *, rng: np.random.Generator) -> None:
        """Grid the DEM, slopes, link samples."""
        from scipy.spatial import cKDTree

        from sim.hazards.flood.hazard import _link_samples
        from sim.hazards.wildfire.hazard import slope_aspect

        s = self.spec
        xs, ys = net.nodes.x_m, net.nodes.y_m
        bbox = (xs.min() - s.margin_m, ys.min() - s.margin_m,
                xs.max() + s.margin_m, ys.max() + s.margin_m)
        dem = terrain.read_raster(s.dem, field=f"{self._where}: dem", crs=s.dem_crs)
        cell = float(s.cell_m) if s.cell_m is not None else terrain.native_cell_m(dem, net.crs)
        self.grid = terrain.grid_over(dem, net.crs, bbox, cell, field=f"{self._where}: dem")
        self.z = terrain.resample(dem, self.grid, field=f"{self._where}: dem")
        tan, _, _ = slope_aspect(self.z, self.grid.cell_m)
        self.slope_deg = np.degrees(np.arctan(tan))
        self.soil = sc.Soil(**s.soil.model_dump())
        self._rng = rng
        self.d_samples = _link_samples(net.drive, net.nodes, self.grid)
        self.w_samples = _link_samples(net.walk, net.nodes, self.grid)
        dn = np.unique(np.concatenate([net.drive.from_node, net.drive.to_node]))
        self._drive_nodes = dn
        self._node_tree = cKDTree(np.column_stack([net.nodes.x_m[dn], net.nodes.y_m[dn]]))
        self.p_failure = np.zeros_like(self.z)
        self.failed = np.zeros(self.z.shape, bool)
        self.debris = np.zeros(self.z.shape, bool)
        self.t_slide_s: float | None = None
        self._d_closed = np.zeros(net.drive.n_links, bool)
        self._w_closed = np.zeros(net.walk.n_links, bool)
        self._caught: np.ndarray | None = None
        self._rows: list[tuple] = []

    # ------------------------------------------------------------------ slides
    def _slide(self, t_s: float) -> bool:
        """Fail the slopes if the trigger has happened by ``t_s``; True the first time."""
        if self.t_slide_s is not None:
            return False
        trig = self.spec.trigger
        if trig.hazard == "earthquake":
            if self.source is None or t_s + 1e-9 < self.source.t_quake_s:
                return False
            cx, cy = self.grid.centres()
            pga = self.source.value_at(t_s, cx.ravel(), cy.ravel()).reshape(self.z.shape)
            if not np.any(pga > 0):
                return False  # the quake updates after this hazard in this tick: next time
            self.p_failure = sc.shaking_failure_probability(self.slope_deg, pga, self.soil)
            self.failed = self._rng.random(self.z.shape) < self.p_failure
        else:
            if t_s + 1e-9 < trig.time_min * 60.0:
                return False
            self.failed = sc.rain_failure(self.slope_deg, trig.rain_mm_h, trig.rain_h, self.soil)
            self.p_failure = self.failed.astype(np.float64)
        self.t_slide_s = float(t_s)
        self.debris = _dilate(self.failed, self.spec.runout_m / self.grid.cell_m)
        if self._log is not None:
            area_ha = float(self.failed.sum()) * self.grid.cell_m ** 2 / 1e4
            cause = ("the earthquake's shaking" if trig.hazard == "earthquake" else
                     f"{trig.rain_mm_h:g} mm/h of rain for {trig.rain_h:g} h ({trig.hazard})")
            self._log(float(t_s), "chain_trigger", self.spec.name, self.kind,
                      float(self.failed.sum()),
                      f"landslides: {int(self.failed.sum())} slope cells ({area_ha:.1f} ha) "
                      f"failed in {cause}")
        flat = self.debris.ravel()
        for samples, closed in ((self.d_samples, self._d_closed),
                                (self.w_samples, self._w_closed)):
            cells, ptr = samples
            hit = np.where(cells >= 0, flat[np.maximum(cells, 0)], False)
            closed |= np.maximum.reduceat(hit.astype(np.int8), ptr[:-1]).astype(bool)
        return True

    def value_at(self, t_s: float, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Probability of slope failure of the cell at each point (0 before the trigger)."""
        c = self.grid.cell_of(x_m, y_m)
        return np.where(c >= 0, self.p_failure.ravel()[np.maximum(c, 0)], 0.0)

    def update(self, t_s: float, people: PeopleView) -> HazardUpdate:
        """Slides at the trigger; then roads stay blocked and the buried wait for rescue."""
        first = self._slide(t_s)
        n = len(people.persons)
        if self._caught is None:
            self._caught = np.zeros(n, bool)
        if self.t_slide_s is None:
            return HazardUpdate()
        on_road = np.zeros(n, bool)
        for link, closed in ((people.drive_link, self._d_closed),
                             (people.walk_link, self._w_closed)):
            trav = np.flatnonzero(link >= 0)
            on_road[trav[closed[link[trav]]]] = True
        home = np.zeros(n, bool)
        if first:
            c = self.grid.cell_of(people.x_m, people.y_m)
            inside = np.where(c >= 0, self.debris.ravel()[np.maximum(c, 0)], False)
            home = inside & people.indoors & (people.state <= _AT_HOME_MAX_STATE)
        new = np.flatnonzero((on_road | home) & ~self._caught)
        upd = HazardUpdate()
        if first:
            upd.drive_factor = np.where(self._d_closed, 0.0, 1.0)
            upd.walk_factor = np.where(self._w_closed, 0.0, 1.0)
        if new.size:
            self._caught[new] = True
            upd.stranded = new.astype(np.int64)
            upd.incidents = self._incidents(t_s, people, new, home[new])
        return upd

    def _incidents(self, t_s, people, new, home) -> list[Incident]:
        x, y = people.x_m[new], people.y_m[new]
        _, j = self._node_tree.query(np.column_stack([x, y]))
        node = self._drive_nodes[np.asarray(j, np.int64)]
        persons = people.persons[new].astype(np.int64)
        for k in range(new.size):
            self._rows.append((int(new[k]), float(t_s), "home" if home[k] else "road",
                               int(persons[k]), float(x[k]), float(y[k]), int(node[k])))
        out = []
        for is_home, kind, sev, what in ((True, "trapped", 4, "buried at home"),
                                         (False, "stranded", 2, "cut off on a road")):
            m = home == is_home
            out += incidents_by_node(t_s, "landslide", node[m], x[m], y[m], persons[m],
                                     kind=kind, severity=sev,
                                     note="{persons} persons " + what + " by a landslide")
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """``summary`` (one row) and ``caught`` tables."""
        a = self.grid.cell_m ** 2
        summary = pd.DataFrame([{
            "t_slide_s": self.t_slide_s if self.t_slide_s is not None else np.nan,
            "cells_failed": int(self.failed.sum()), "failed_area_m2": float(self.failed.sum() * a),
            "debris_area_m2": float(self.debris.sum() * a),
            "expected_failed_area_m2": float(self.p_failure.sum() * a),
            "drive_links_closed": int(self._d_closed.sum()),
            "walk_links_closed": int(self._w_closed.sum())}])
        caught = pd.DataFrame(self._rows, columns=["household", "t_s", "where", "persons",
                                                   "x_m", "y_m", "node"])
        return {"summary": summary, "caught": caught}

    def arrays(self) -> dict[str, np.ndarray]:
        """Slope (deg), failure probability, failed cells, debris, grid origin."""
        g = self.grid
        return {"grid_x0_m": np.float64(g.x0_m), "grid_y0_m": np.float64(g.y0_m),
                "cell_m": np.float64(g.cell_m), "slope_deg": self.slope_deg.astype(np.float32),
                "p_failure": self.p_failure.astype(np.float32), "failed": self.failed,
                "debris": self.debris}


def _dilate(mask: np.ndarray, radius_cells: float) -> np.ndarray:
    """Cells within ``radius_cells`` (centre to centre) of a True cell."""
    from scipy.ndimage import binary_dilation

    r = int(math.floor(radius_cells))
    if r < 1 or not mask.any():
        return mask.copy()
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return binary_dilation(mask, structure=(xx * xx + yy * yy) <= radius_cells ** 2)
