"""Chemical release: a toxic plume drifts over the district.

A leak at a storage tank (or any point) releases a gas for a while, or all at once. The
release is cut into puffs that the wind carries and spreads (:mod:`sim.hazards.chemical.puff_train`,
kernel :mod:`sim.core.plume`), so the cloud arrives, passes and clears, and the wind may
turn. Every ``cadence_s`` the hazard

* computes the outdoor concentration where every household is,
* accumulates what each one breathes (outdoors the outdoor air; at home a one-box
  air-exchange model, so sheltering in place works at first and degrades over time),
* turns toxic loads into injuries (AEGL-2 toxic-load equivalent) and deaths (probit,
  sampled per person with the ``rng`` given to :meth:`ChemicalHazard.bind`),
* closes the road and footpath links inside the current AEGL-3 zone to ordinary traffic.

Threat zones are drawn the ALOHA way (docs/references.md §1.7): where the peak ground-level
concentration of the whole event reaches AEGL-3 (red), AEGL-2 (orange) or AEGL-1 (yellow)
at the reference duration (default the 60-min values). They are computed once, at
:meth:`ChemicalHazard.bind`, on a grid over the map: a perfect forecast, which is what a
plan's protective actions are based on (:meth:`ChemicalHazard.protective_actions`).

Assumptions (also in ``scenarios/README.md``): neutral-density Gaussian dispersion over
flat ground, no mixing lid, no deposition or reaction (a dense gas such as chlorine slumps
near the source, which this does not represent); people breathe ground-level air; homes
are one well-mixed box; evacuation shelters are open spaces (parks, squares, stadiums), so
people there breathe outdoor air unless ``shelters_outdoor = false``.

This module holds the hazard itself: binding to the map (source, puffs, grid, links),
the puffs in the air, and the forecast threat zones. The rest lives in modules named after
what they hold, mixed into :class:`ChemicalHazard` or re-exported here so that
``from sim.hazards.chemical.hazard import ...`` keeps reaching them:
:mod:`sim.hazards.chemical.spec`
(the scenario schema), :mod:`sim.hazards.chemical.protective_actions` (action codes and the plan
queries), :mod:`sim.hazards.chemical.exposure` (exposure, outcomes, closures) and
:mod:`sim.hazards.chemical.outputs` (recorded rows, tables, arrays).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from sim._errors import ScenarioError
from sim.core import plume
from sim.hazards.base import Hazard
from sim.hazards.chemical.exposure import _ExposureMixin
from sim.hazards.chemical.outputs import _OutputsMixin
from sim.hazards.chemical.protective_actions import (
    ACTION_CODES,
    ACTION_CROSSWIND,
    ACTION_EVACUATE,
    ACTION_NAMES,
    ACTION_NONE,
    ACTION_SHELTER,
    ACTION_STAY,
    ProtectiveAction,
    _ProtectiveActionsMixin,
)
from sim.hazards.chemical.puff_train import downwind_unit, puff_train_state, release_segments
from sim.hazards.chemical.spec import (
    ActionsSpec,
    ChemicalSpec,
    RateChange,
    ReceptorSpec,
    SourceSpec,
    WindChange,
    _Located,
)
from sim.hazards.chemical.substances import Substance, get_substance, substance_names
from sim.network.roadnet import RoadNetwork

__all__ = [
    "ACTION_CODES",
    "ACTION_CROSSWIND",
    "ACTION_EVACUATE",
    "ACTION_NAMES",
    "ACTION_NONE",
    "ACTION_SHELTER",
    "ACTION_STAY",
    "LEVEL_NAMES",
    "ActionsSpec",
    "ChemicalHazard",
    "ChemicalSpec",
    "ProtectiveAction",
    "RateChange",
    "ReceptorSpec",
    "SourceSpec",
    "WindChange",
]

LEVEL_NAMES: tuple[str, ...] = ("outside", "aegl1", "aegl2", "aegl3")

# Contributions below this share of AEGL-1, split over the puffs, are not computed: the
# concentration missed at any point is at most 1 % of AEGL-1 (sim/core/plume.py floor).
_FLOOR_SHARE_OF_AEGL1 = 0.01
_MAX_GRID_CELLS = 4_000_000
_MAX_FORECAST_S = 48 * 3600.0


class ChemicalHazard(_ProtectiveActionsMixin, _ExposureMixin, _OutputsMixin, Hazard):
    """A toxic-gas release over the district (see the module docstring).

    Parameters
    ----------
    spec : ChemicalSpec
    substance : Substance, optional
        A substance row; default: ``spec.substance`` (or the tank's ``substance`` tag) from
        the packaged table.
    """

    kind: ClassVar[str] = "chemical"

    def __init__(self, spec: ChemicalSpec, *, substance: Substance | None = None) -> None:
        self.spec = spec
        self.cadence_s = float(spec.cadence_s)
        self.substance = substance
        self.bound = False

    @classmethod
    def from_spec(cls, spec: ChemicalSpec) -> ChemicalHazard:
        """Build the hazard of one ``[[hazards]]`` table."""
        return cls(spec)

    # ------------------------------------------------------------------ bind
    def bind(self, net: RoadNetwork, *, rng: np.random.Generator) -> None:
        """Locate the source, cut the release into puffs, forecast the threat zones."""
        spec = self.spec
        self.rng = rng
        self.crs = net.crs
        self.source_x_m, self.source_y_m, tank_substance = self._locate_source(net)
        if self.substance is None:
            key = spec.substance or tank_substance
            if key is None:
                raise ScenarioError(
                    self._where("substance") + "expected a substance (the tank has no "
                    f"'substance' tag); known: {', '.join(substance_names())}, got nothing"
                )
            if (
                tank_substance is not None
                and spec.substance is not None
                and tank_substance != spec.substance
            ):
                raise ScenarioError(
                    self._where("substance") + f"expected the tank's substance "
                    f"{tank_substance!r} (map tag), got {spec.substance!r}"
                )
            try:
                self.substance = get_substance(key)
            except ValueError as exc:
                raise ScenarioError(
                    self._where("substance") + str(exc).removeprefix("substance: ")
                ) from None
        sub = self.substance
        self.stability = spec.stability_class
        self.aegl_ppm = np.array([sub.aegl(k, spec.aegl_duration_min) for k in (1, 2, 3)])
        # Injury: the AEGL-2 toxic load at the reference duration (ten Berge C^n t = const).
        self.injury_load = self.aegl_ppm[1] ** sub.toxic_load_exponent * spec.aegl_duration_min
        self._wind_t = np.array([0.0] + [w.at_min * 60.0 for w in spec.wind_changes])
        self._wind_u = np.array([spec.wind_speed_mps] + [w.speed_mps for w in spec.wind_changes])
        self._wind_dir = np.array([spec.wind_from_deg] + [w.from_deg for w in spec.wind_changes])
        start_s = spec.start_min * 60.0
        if spec.mass_kg is not None:
            self._t_rel = np.array([start_s])
            self._mass_g = np.array([spec.mass_kg * 1000.0])
            self._seg_s = np.zeros(1)
        else:
            self._t_rel, self._mass_g, self._seg_s = release_segments(
                start_s,
                spec.duration_min * 60.0,
                [0.0] + [c.at_min * 60.0 for c in spec.rate_changes],
                [spec.rate_kg_s * 1000.0] + [c.rate_kg_s * 1000.0 for c in spec.rate_changes],
                spec.puff_interval_s,
            )
        aegl1_g_m3 = float(sub.ppm_to_g_m3(self.aegl_ppm[0]))
        self.floor_g_m3 = _FLOOR_SHARE_OF_AEGL1 * aegl1_g_m3 / len(self._t_rel)
        self._to_ppm = float(sub.g_m3_to_ppm(1.0))
        self._bind_map(net)
        self._forecast()
        self._people_ready = False
        self.rows: list[dict] = []
        self.receptor_rows: list[dict] = []
        self.bound = True

    def _where(self, field: str) -> str:
        return f"hazards: chemical {self.spec.name!r}: {field}: "

    def _locate_source(self, net: RoadNetwork) -> tuple[float, float, str | None]:
        src = self.spec.source
        if src.tank is None:
            x, y = self._project(src, net, "source")
            return x, y, None
        fac = net.facilities
        tanks = [i for i in range(len(fac)) if fac.kind[i] == "storage_tank"]
        hits = [i for i in tanks if fac.name[i] == src.tank]
        if not hits:
            names = ", ".join(sorted(str(fac.name[i]) for i in tanks)) or "none on this map"
            raise ScenarioError(
                self._where("source.tank") + f"expected a storage tank of the map "
                f"({names}), got {src.tank!r}"
            )
        i = hits[0]
        tags = fac.tags[i] if i < len(fac.tags) else {}
        return float(fac.x_m[i]), float(fac.y_m[i]), tags.get("substance")

    def _project(self, point: _Located, net: RoadNetwork, field: str) -> tuple[float, float]:
        if point.x_m is not None:
            return float(point.x_m), float(point.y_m)
        from pyproj import Transformer
        from pyproj.exceptions import CRSError, ProjError

        try:
            tr = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
            x, y = tr.transform(point.lon, point.lat)
        except (CRSError, ProjError) as exc:
            raise ScenarioError(
                self._where(field) + f"expected lon/lat that can be projected to "
                f"{net.crs}, got ({point.lon}, {point.lat}): {exc}"
            ) from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ScenarioError(
                self._where(field) + f"expected lon/lat inside {net.crs}'s area, got "
                f"({point.lon}, {point.lat})"
            )
        return float(x), float(y)

    def _bind_map(self, net: RoadNetwork) -> None:
        """Grid for the threat zones, link midpoints for closures, nodes for incidents."""
        nodes = net.nodes
        cell = float(self.spec.grid_cell_m)
        margin = 1000.0
        x0 = min(float(nodes.x_m.min()), self.source_x_m) - margin
        y0 = min(float(nodes.y_m.min()), self.source_y_m) - margin
        x1 = max(float(nodes.x_m.max()), self.source_x_m) + margin
        y1 = max(float(nodes.y_m.max()), self.source_y_m) + margin
        nx, ny = int(math.ceil((x1 - x0) / cell)), int(math.ceil((y1 - y0) / cell))
        if nx * ny > _MAX_GRID_CELLS:
            raise ScenarioError(
                self._where("grid_cell_m") + f"expected at most {_MAX_GRID_CELLS:,} "
                f"grid cells over the map, got {nx * ny:,} at {cell} m; use larger cells"
            )
        self.grid_x0_m, self.grid_y0_m, self.grid_cell_m, self.grid_shape = x0, y0, cell, (ny, nx)
        gx = x0 + (np.arange(nx) + 0.5) * cell
        gy = y0 + (np.arange(ny) + 0.5) * cell
        self._grid_x, self._grid_y = (a.ravel() for a in np.meshgrid(gx, gy))
        self._links = {}
        for name, links in (("drive", net.drive), ("walk", net.walk)):
            fx, fy = nodes.x_m[links.from_node], nodes.y_m[links.from_node]
            tx, ty = nodes.x_m[links.to_node], nodes.y_m[links.to_node]
            self._links[name] = (
                0.5 * (fx + tx),
                0.5 * (fy + ty),
                np.asarray(links.length_m, np.float64),
            )
        self._closed = {name: np.zeros(len(v[0]), dtype=bool) for name, v in self._links.items()}
        drive_nodes = np.unique(np.concatenate([net.drive.from_node, net.drive.to_node]))
        from scipy.spatial import cKDTree

        self._node_ids = drive_nodes.astype(np.int64)
        self._node_xy = np.column_stack([nodes.x_m[drive_nodes], nodes.y_m[drive_nodes]])
        self._node_tree = cKDTree(self._node_xy)
        rec = self.spec.receptor
        if rec is None:  # 1 km downwind of the source at the start
            ex, ey = downwind_unit(self.spec.wind_from_deg)
            self.receptor_name = "1 km downwind"
            self.receptor_xy = (
                self.source_x_m + 1000.0 * float(ex),
                self.source_y_m + 1000.0 * float(ey),
            )
        else:
            self.receptor_name = rec.name
            self.receptor_xy = self._project(rec, net, "receptor")
        self._receptor_ex = plume.new_exposure(1)
        self._receptor_prev = np.zeros(1)

    # ------------------------------------------------------------------ physics
    def puffs_at(self, t_s: float) -> plume.Puffs:
        """The puffs in the air at ``t_s`` (seconds since scenario start), projected metres."""
        st = puff_train_state(
            float(t_s),
            source_x_m=self.source_x_m,
            source_y_m=self.source_y_m,
            height_m=self.spec.height_m,
            t_release_s=self._t_rel,
            mass=self._mass_g,
            segment_s=self._seg_s,
            change_t_s=self._wind_t,
            speed_mps=self._wind_u,
            from_deg=self._wind_dir,
            stability=self.stability,
            terrain=self.spec.terrain,
            instantaneous=self.spec.mass_kg is not None,
            initial_sigma_m=self.spec.initial_sigma_m,
        )
        st.pop("path_m")
        return plume.Puffs(**st)

    def value_at(self, t_s: float, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Outdoor ground-level concentration at points (projected metres), ppm."""
        return self._ppm(
            self.puffs_at(t_s), np.asarray(x_m, np.float64), np.asarray(y_m, np.float64)
        )

    def _ppm(self, puffs: plume.Puffs, x: np.ndarray, y: np.ndarray, out=None) -> np.ndarray:
        if puffs.x_m.size == 0 or x.size == 0:
            return np.zeros(np.shape(x))
        c = plume.concentration(puffs, x, y, 0.0, floor=self.floor_g_m3, out=out)
        c *= self._to_ppm
        return c

    def _active(self, puffs: plume.Puffs) -> bool:
        """Some puff is still above the floor somewhere over the grid."""
        if puffs.x_m.size == 0:
            return False
        norm = puffs.mass / (
            (2.0 * np.pi) ** 1.5 * puffs.sigma_x_m * puffs.sigma_y_m * puffs.sigma_z_m
        )
        strong = 2.0 * norm > self.floor_g_m3
        ny, nx = self.grid_shape
        reach = 10.0 * np.maximum(puffs.sigma_x_m, puffs.sigma_y_m)
        inside = (
            (puffs.x_m + reach > self.grid_x0_m)
            & (puffs.x_m - reach < self.grid_x0_m + nx * self.grid_cell_m)
            & (puffs.y_m + reach > self.grid_y0_m)
            & (puffs.y_m - reach < self.grid_y0_m + ny * self.grid_cell_m)
        )
        return bool(np.any(strong & inside))

    def _forecast(self) -> None:
        """Peak concentration of the whole event on the grid, and zone areas per step."""
        peak = np.zeros(self._grid_x.size)
        buf = np.empty(self._grid_x.size)
        cell_area = self.grid_cell_m**2
        self._areas: dict[int, tuple[float, float, float]] = {}
        self._wind_seen = set()
        t = 0.0
        while t <= _MAX_FORECAST_S:
            puffs = self.puffs_at(t)
            if t > self._t_rel[-1] and not self._active(puffs):
                break
            if puffs.x_m.size:
                c = self._ppm(puffs, self._grid_x, self._grid_y, out=buf)
                np.maximum(peak, c, out=peak)
                self._areas[round(t / self.cadence_s)] = tuple(
                    float(np.count_nonzero(c >= a)) * cell_area for a in self.aegl_ppm
                )
                k = int(np.searchsorted(self._wind_t, t, side="right") - 1)
                self._wind_seen.add(float(self._wind_dir[max(k, 0)]))
            t += self.cadence_s
        self.t_clear_s = t
        self.max_ppm = peak.reshape(self.grid_shape)
        level = np.zeros(peak.size, dtype=np.int8)
        for k, a in enumerate(self.aegl_ppm, start=1):
            level[peak >= a] = k
        self.level = level.reshape(self.grid_shape)
        if not self._wind_seen:
            self._wind_seen.add(float(self._wind_dir[0]))

    # ------------------------------------------------------------------ threat zones
    def zone_level_at(self, x_m, y_m) -> np.ndarray:
        """Forecast threat zone at points: 0 outside, 1 AEGL-1, 2 AEGL-2, 3 AEGL-3 (int8)."""
        self._require_bound()
        ny, nx = self.grid_shape
        ix = np.floor((np.asarray(x_m, np.float64) - self.grid_x0_m) / self.grid_cell_m)
        iy = np.floor((np.asarray(y_m, np.float64) - self.grid_y0_m) / self.grid_cell_m)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out = np.zeros(np.shape(ix), dtype=np.int8)
        out[inside] = self.level[iy[inside].astype(np.int64), ix[inside].astype(np.int64)]
        return out

    def _require_bound(self) -> None:
        if not self.bound:
            raise RuntimeError("ChemicalHazard: call bind(net, rng=...) first")
