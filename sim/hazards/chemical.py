"""Chemical release: a toxic plume drifts over the district.

A leak at a storage tank (or any point) releases a gas for a while, or all at once. The
release is cut into puffs that the wind carries and spreads (:mod:`sim.hazards.dispersion`,
kernel :mod:`sim.core.plume`), so the cloud arrives, passes and clears, and the wind may
turn. Every ``cadence_s`` the hazard

* computes the outdoor concentration where every household is,
* accumulates what each one breathes (outdoors the outdoor air; at home a one-box
  air-exchange model, so sheltering in place works at first and degrades over time),
* turns toxic loads into injuries (AEGL-2 toxic-load equivalent) and deaths (probit,
  sampled per person with the ``rng`` given to :meth:`ChemicalHazard.bind`),
* closes the road and footpath links inside the current AEGL-3 zone to ordinary traffic.

Threat zones are drawn the ALOHA way (REFERENCES.md §1.7): where the peak ground-level
concentration of the whole event reaches AEGL-3 (red), AEGL-2 (orange) or AEGL-1 (yellow)
at the reference duration (default the 60-min values). They are computed once, at
:meth:`ChemicalHazard.bind`, on a grid over the map: a perfect forecast, which is what a
plan's protective actions are based on (:meth:`ChemicalHazard.protective_actions`).

Assumptions (also in ``scenarios/README.md``): neutral-density Gaussian dispersion over
flat ground, no mixing lid, no deposition or reaction (a dense gas such as chlorine slumps
near the source, which this does not represent); people breathe ground-level air; homes
are one well-mixed box; evacuation shelters are open spaces (parks, squares, stadiums), so
people there breathe outdoor air unless ``shelters_outdoor = false``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, StrictBool, StrictFloat, StrictStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sim._errors import ScenarioError
from sim._spec import NonNegative, Positive, Spec, field_error
from sim.core import plume
from sim.hazards import dispersion as disp
from sim.hazards.base import Hazard, HazardUpdate, Incident, PeopleView
from sim.hazards.substances import Substance, get_substance, substance_names
from sim.network.roadnet import RoadNetwork

ProtectiveAction = Literal["none", "evacuate", "shelter", "crosswind", "stay"]
ACTION_NONE, ACTION_EVACUATE, ACTION_SHELTER, ACTION_CROSSWIND, ACTION_STAY = 0, 1, 2, 3, 4
ACTION_CODES: dict[str, int] = {"none": 0, "evacuate": 1, "shelter": 2, "crosswind": 3, "stay": 4}
ACTION_NAMES: tuple[str, ...] = ("none", "evacuate", "shelter", "crosswind", "stay")
LEVEL_NAMES: tuple[str, ...] = ("outside", "aegl1", "aegl2", "aegl3")

# Contributions below this share of AEGL-1, split over the puffs, are not computed: the
# concentration missed at any point is at most 1 % of AEGL-1 (sim/core/plume.py floor).
_FLOOR_SHARE_OF_AEGL1 = 0.01
_MAX_GRID_CELLS = 4_000_000
_MAX_FORECAST_S = 48 * 3600.0


class _Located(Spec):
    """A point: projected ``x_m, y_m`` (map CRS) or WGS84 ``lon, lat``."""

    x_m: StrictFloat | None = None
    y_m: StrictFloat | None = None
    lon: Annotated[StrictFloat, Field(ge=-180.0, le=180.0)] | None = None
    lat: Annotated[StrictFloat, Field(ge=-90.0, le=90.0)] | None = None

    def _check_point(self, allow_none: bool) -> None:
        xy = (self.x_m is not None, self.y_m is not None)
        ll = (self.lon is not None, self.lat is not None)
        ok = (
            (all(xy) and not any(ll))
            or (all(ll) and not any(xy))
            or (allow_none and not any(xy + ll))
        )
        if not ok:
            raise field_error(
                "x_m",
                "either x_m and y_m (projected metres) or lon and lat (WGS84 degrees)",
                {"x_m": self.x_m, "y_m": self.y_m, "lon": self.lon, "lat": self.lat},
            )


class SourceSpec(_Located):
    """Where the gas escapes: a storage tank of the map (by name) or a point."""

    tank: Annotated[StrictStr, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_location(self) -> SourceSpec:
        if self.tank is not None:
            if any(v is not None for v in (self.x_m, self.y_m, self.lon, self.lat)):
                raise field_error("tank", "a tank name or a point, not both", self.tank)
            return self
        self._check_point(allow_none=False)
        return self


class ReceptorSpec(_Located):
    """A point whose concentration over time is recorded (a school, a hospital, ...)."""

    name: Annotated[StrictStr, Field(min_length=1)] = "receptor"

    @model_validator(mode="after")
    def _located(self) -> ReceptorSpec:
        self._check_point(allow_none=False)
        return self


class WindChange(Spec):
    """From ``at_min`` (minutes after scenario start) on, the wind is this."""

    at_min: Positive
    speed_mps: Positive
    from_deg: Annotated[StrictFloat, Field(ge=0.0, lt=360.0)]


class RateChange(Spec):
    """From ``at_min`` (minutes after the release starts) on, the leak rate is this."""

    at_min: Positive
    rate_kg_s: NonNegative


class ActionsSpec(Spec):
    """The plan's protective action per forecast threat zone (where a household lives)."""

    aegl3: ProtectiveAction = "shelter"
    aegl2: ProtectiveAction = "shelter"
    aegl1: ProtectiveAction = "evacuate"
    outside: ProtectiveAction = "none"


class ChemicalSpec(Spec):
    """A ``[[hazards]]`` table with ``kind = "chemical"``: one toxic-gas release.

    Field reference with units, ranges and sources: ``scenarios/README.md``, section
    "Hazards: chemical release".
    """

    kind: Literal["chemical"]
    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)] = "release"
    substance: StrictStr | None = None
    source: SourceSpec
    height_m: NonNegative = 0.0
    start_min: NonNegative = 0.0
    rate_kg_s: Positive | None = None
    duration_min: Annotated[StrictFloat, Field(gt=0.0, le=24 * 60.0)] | None = None
    rate_changes: tuple[RateChange, ...] = ()
    mass_kg: Positive | None = None
    puff_interval_s: Annotated[StrictFloat, Field(ge=1.0, le=600.0)] = 30.0
    wind_speed_mps: Positive
    wind_from_deg: Annotated[StrictFloat, Field(ge=0.0, lt=360.0)]
    wind_changes: tuple[WindChange, ...] = ()
    stability: Literal["A", "B", "C", "D", "E", "F"] | None = None
    sky: (
        Literal["strong", "moderate", "slight", "overcast", "night_cloudy", "night_clear"] | None
    ) = None
    terrain: Literal["rural", "urban"] = "rural"
    initial_sigma_m: Annotated[StrictFloat, Field(ge=0.0, le=100.0)] = 1.0
    aegl_duration_min: Literal[10, 30, 60, 240, 480] = 60
    air_changes_per_h: Annotated[StrictFloat, Field(ge=0.0, le=50.0)] = 0.5
    shelters_outdoor: StrictBool = True
    cadence_s: Annotated[StrictFloat, Field(ge=1.0, le=600.0)] = 60.0
    grid_cell_m: Annotated[StrictFloat, Field(ge=5.0, le=1000.0)] = 50.0
    receptor: ReceptorSpec | None = None
    actions: ActionsSpec = ActionsSpec()
    zone_actions: dict[StrictStr, ProtectiveAction] = Field(default_factory=dict)
    crosswind_sector_deg: Annotated[StrictFloat, Field(gt=0.0, le=90.0)] = 45.0

    @field_validator("substance")
    @classmethod
    def _known_substance(cls, value: Any) -> Any:
        if value is not None and value not in substance_names():
            raise PydanticCustomError(
                "scenario_field_value",
                "one of the substance table's rows ({known}) (sim/hazards/data/substances.toml)",
                {"known": ", ".join(substance_names())},
            )
        return value

    @model_validator(mode="after")
    def _release_and_weather(self) -> ChemicalSpec:
        continuous = self.rate_kg_s is not None
        if continuous == (self.mass_kg is not None):
            raise field_error(
                "rate_kg_s",
                "either rate_kg_s with duration_min (a continuous leak) "
                "or mass_kg (an instantaneous release)",
                {"rate_kg_s": self.rate_kg_s, "mass_kg": self.mass_kg},
            )
        if continuous and self.duration_min is None:
            raise field_error("duration_min", "a release duration in minutes with rate_kg_s", None)
        if not continuous and (self.duration_min is not None or self.rate_changes):
            raise field_error(
                "mass_kg",
                "no duration_min or rate_changes with an instantaneous release",
                {"duration_min": self.duration_min, "rate_changes": len(self.rate_changes)},
            )
        for name, changes in (
            ("rate_changes", self.rate_changes),
            ("wind_changes", self.wind_changes),
        ):
            times = [c.at_min for c in changes]
            if times != sorted(set(times)):
                raise field_error(name, "strictly increasing at_min", times)
        if self.rate_changes and self.rate_changes[-1].at_min >= self.duration_min:
            raise field_error(
                "rate_changes",
                f"at_min before the end of the release ({self.duration_min} min)",
                self.rate_changes[-1].at_min,
            )
        if self.stability is not None and self.sky is not None:
            raise field_error(
                "stability",
                "either a stability class or a sky state, not both",
                {"stability": self.stability, "sky": self.sky},
            )
        return self

    @property
    def stability_class(self) -> str:
        """The Pasquill–Gifford class: given, from the sky and the first wind, or D."""
        if self.stability is not None:
            return self.stability
        if self.sky is not None:
            return disp.pasquill_class(self.wind_speed_mps, self.sky)
        return "D"  # neutral: overcast skies, day or night (REFERENCES.md §1.3)


class ChemicalHazard(Hazard):
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
            self._t_rel, self._mass_g, self._seg_s = disp.release_segments(
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
            ex, ey = disp.downwind_unit(self.spec.wind_from_deg)
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
        st = disp.puff_train_state(
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

    # ------------------------------------------------------------------ plan
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

    def protective_actions(self, x_m, y_m, *, zone=None, zone_names=None) -> np.ndarray:
        """The plan's action for each household, from where it lives (int8 codes).

        Parameters
        ----------
        x_m, y_m : array
            Home positions, projected metres.
        zone : int array, optional
            Sub-district index per household; with ``zone_names``, ``zone_actions`` of the
            spec override the threat-zone actions by sub-district name.
        zone_names : sequence of str, optional

        Returns
        -------
        int8 array
            :data:`ACTION_NONE` (0: the scenario's ordinary behaviour), ``ACTION_EVACUATE``
            (1), ``ACTION_SHELTER`` (2: ordered to shelter in place: stay indoors at home),
            ``ACTION_CROSSWIND`` (3: evacuate to a shelter that :meth:`shelter_allowed` admits
            for crosswind), ``ACTION_STAY`` (4: no order, life goes on at home: the household
            does not depart; counted apart from those ordered to shelter).
        """
        a = self.spec.actions
        by_level = np.array(
            [
                ACTION_CODES[a.outside],
                ACTION_CODES[a.aegl1],
                ACTION_CODES[a.aegl2],
                ACTION_CODES[a.aegl3],
            ],
            dtype=np.int8,
        )
        codes = by_level[self.zone_level_at(x_m, y_m)]
        if self.spec.zone_actions:
            if zone is None or zone_names is None:
                raise ScenarioError(
                    self._where("zone_actions") + "expected the households' "
                    "sub-districts (zone, zone_names) to apply it, got none"
                )
            names = list(zone_names)
            unknown = sorted(set(self.spec.zone_actions) - set(names))
            if unknown:
                raise ScenarioError(
                    self._where("zone_actions") + f"expected sub-districts of the map "
                    f"({', '.join(names)}), got {unknown}"
                )
            table = np.full(len(names), -1, dtype=np.int8)
            for name, action in self.spec.zone_actions.items():
                table[names.index(name)] = ACTION_CODES[action]
            override = table[np.asarray(zone, dtype=np.int64)]
            codes = np.where(override >= 0, override, codes).astype(np.int8)
        self.actions = codes
        return codes

    def shelter_allowed(self, x_m, y_m, action: int) -> np.ndarray:
        """Which shelters (projected metres) households with ``action`` may be sent to.

        Evacuees (and ``none``) avoid shelters inside the forecast AEGL-2 zone; crosswind
        evacuees also avoid the yellow zone and every shelter whose bearing from the source
        lies within ``crosswind_sector_deg`` of a downwind direction of the event. Sheltering
        and staying households go nowhere (all False).
        """
        level = self.zone_level_at(x_m, y_m)
        if action in (ACTION_SHELTER, ACTION_STAY):
            return np.zeros(level.shape, dtype=bool)
        if action != ACTION_CROSSWIND:
            return level < 2
        dx = np.asarray(x_m, np.float64) - self.source_x_m
        dy = np.asarray(y_m, np.float64) - self.source_y_m
        dist = np.hypot(dx, dy)
        in_sector = np.zeros(level.shape, dtype=bool)
        cos_half = math.cos(math.radians(self.spec.crosswind_sector_deg))
        for from_deg in sorted(self._wind_seen):
            ex, ey = disp.downwind_unit(from_deg)
            with np.errstate(invalid="ignore", divide="ignore"):
                cos_angle = np.where(dist > 0, (dx * ex + dy * ey) / np.maximum(dist, 1e-12), 1.0)
            in_sector |= cos_angle >= cos_half
        return (level < 1) & ~in_sector

    # ------------------------------------------------------------------ update
    def update(self, t_s: float, people: PeopleView) -> HazardUpdate:
        """Exposure, outcomes and closures at ``t_s`` (see the module docstring)."""
        self._require_bound()
        t_s = float(t_s)
        if not self._people_ready:
            self._init_people(t_s, people)
        puffs = self.puffs_at(t_s)
        active = bool(puffs.x_m.size) and (t_s <= self.t_clear_s or self._active(puffs))
        self._cur = 1 - self._cur  # two buffers: this update's and the previous one's
        c_now = self._bufs[self._cur]
        if active:
            self._ppm(puffs, people.x_m, people.y_m, out=c_now)
        else:
            c_now[:] = 0.0
        indoors = np.asarray(people.indoors, dtype=bool)
        if self.spec.shelters_outdoor:
            indoors = indoors & (np.asarray(people.state) != self._sheltered_code)
        rx, ry = np.array([self.receptor_xy[0]]), np.array([self.receptor_xy[1]])
        rec_now = self._ppm(puffs, rx, ry) if active else np.zeros(1)
        dt = t_s - self._t_prev
        if dt > 0.0:
            kw = {
                "dt_s": dt,
                "air_changes_per_h": self.spec.air_changes_per_h,
                "exponent": self.substance.toxic_load_exponent,
            }
            plume.exposure_step(self.ex, self._bufs[1 - self._cur], c_now, indoors, **kw)
            plume.exposure_step(
                self._receptor_ex, self._receptor_prev, rec_now, np.ones(1, bool), **kw
            )
        self._receptor_prev = rec_now
        self._t_prev = t_s
        incidents, stranded = self._outcomes(t_s, people)
        drive, walk = self._closures(puffs, active)
        self._record(t_s)
        return HazardUpdate(
            drive_factor=drive, walk_factor=walk, stranded=stranded, incidents=incidents,
            dead=None if stranded is None else self.deaths.copy(),
        )

    def _init_people(self, t_s: float, people: PeopleView) -> None:
        from sim.population import (
            SHELTERED,  # here, not at import: sim.population imports sim.scenario
        )

        n = people.x_m.shape[0]
        persons = np.asarray(people.persons, dtype=np.int64)
        self._sheltered_code = int(SHELTERED)
        self.persons = persons
        self.ex = plume.new_exposure(n)
        self._bufs = [np.zeros(n), np.zeros(n)]
        self._cur = 0
        self._t_prev = t_s
        # Each person's tolerance: dies when the probit probability of the load exceeds it.
        self._start = np.concatenate([[0], np.cumsum(persons)]).astype(np.int64)
        self._tolerance = self.rng.random(int(self._start[-1]))
        self.deaths = np.zeros(n, dtype=np.int64)
        self._load_seen = np.zeros(n)
        self._hurt_reported = np.zeros(n, dtype=np.int64)
        self.injured = np.zeros(n, dtype=np.int64)
        if not hasattr(self, "actions") or self.actions.shape[0] != n:
            # The model may have asked already (with sub-districts); else from the homes now.
            self.actions = (
                self.protective_actions(people.x_m, people.y_m)
                if not self.spec.zone_actions
                else np.full(n, -1, dtype=np.int8)
            )
        self._people_ready = True

    def _outcomes(self, t_s: float, people: PeopleView) -> tuple[list[Incident], np.ndarray | None]:
        load = self.ex.load
        rows = np.flatnonzero(load != self._load_seen)  # only households that breathed more
        self._load_seen[rows] = load[rows]
        deaths = plume.count_below(
            self._tolerance, self._start, self.substance.death_probability(load[rows]), rows
        )
        # Injured = alive persons past the injury load; someone injured who dies later
        # moves to the deaths (reported again, as fatal), never counted twice.
        injured = np.where(load[rows] >= self.injury_load, self.persons[rows] - deaths, 0)
        new_dead = np.zeros(self.persons.size, dtype=np.int64)
        new_hurt = np.zeros(self.persons.size, dtype=np.int64)
        new_dead[rows] = deaths - self.deaths[rows]
        new_hurt[rows] = np.maximum(injured - self._hurt_reported[rows], 0)
        self._hurt_reported[rows] = np.maximum(self._hurt_reported[rows], injured)
        self.deaths[rows] = deaths
        self.injured[rows] = injured
        incidents: list[Incident] = []
        for kind, counts, severity, note in (
            ("injured", new_dead, 4, "fatal chlorine-type exposure (probit)"),
            ("exposed", new_hurt, 2, "above the AEGL-2 toxic load"),
        ):
            hh = np.flatnonzero(counts > 0)
            if hh.size == 0:
                continue
            _, j = self._node_tree.query(np.column_stack([people.x_m[hh], people.y_m[hh]]))
            j = np.asarray(j, dtype=np.int64)
            per_node = np.bincount(j, weights=counts[hh], minlength=len(self._node_ids))
            for k in np.flatnonzero(per_node):
                incidents.append(
                    Incident(
                        t_s=t_s,
                        kind=kind,
                        hazard="chemical",
                        x_m=float(self._node_xy[k, 0]),
                        y_m=float(self._node_xy[k, 1]),
                        node=int(self._node_ids[k]),
                        persons=int(per_node[k]),
                        severity=severity,
                        note=note.replace("chlorine-type", self.substance.key),
                    )
                )
        # Survivors of a household with a death wait for help (the dead are counted apart).
        stranded = np.flatnonzero(new_dead > 0).astype(np.int64)
        return incidents, (stranded if stranded.size else None)

    def _closures(
        self, puffs: plume.Puffs, active: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        out = []
        for name in ("drive", "walk"):
            mx, my, _ = self._links[name]
            closed = (
                (self._ppm(puffs, mx, my) >= self.aegl_ppm[2])
                if active
                else np.zeros(mx.size, bool)
            )
            if np.array_equal(closed, self._closed[name]):
                out.append(None)
                continue
            self._closed[name] = closed
            out.append(np.where(closed, 0.0, 1.0))
        return out[0], out[1]

    def _record(self, t_s: float) -> None:
        key = round(t_s / self.cadence_s)
        on_lattice = abs(key * self.cadence_s - t_s) < 1e-6
        if on_lattice:
            areas = self._areas.get(key, (0.0, 0.0, 0.0))
        else:
            c = self.value_at(t_s, self._grid_x, self._grid_y)
            areas = tuple(
                float(np.count_nonzero(c >= a)) * self.grid_cell_m**2 for a in self.aegl_ppm
            )
        peak = self.ex.peak_ppm
        row = {"t_s": t_s}
        for k in (1, 2, 3):
            row[f"aegl{k}_area_m2"] = areas[k - 1]
        for k in (1, 2, 3):
            row[f"persons_above_aegl{k}"] = int(self.persons[peak >= self.aegl_ppm[k - 1]].sum())
        row["persons_injured"] = int(self.injured.sum())
        row["persons_dead"] = int(self.deaths.sum())
        for name in ("drive", "walk"):
            row[f"{name}_km_closed"] = (
                float(self._links[name][2][self._closed[name]].sum()) / 1000.0
            )
        self.rows.append(row)
        self.receptor_rows.append(
            {
                "t_s": t_s,
                "receptor": self.receptor_name,
                "x_m": self.receptor_xy[0],
                "y_m": self.receptor_xy[1],
                "outdoor_ppm": float(self._receptor_prev[0]),
                "indoor_ppm": float(self._receptor_ex.c_in_ppm[0]),
            }
        )

    def _require_bound(self) -> None:
        if not self.bound:
            raise RuntimeError("ChemicalHazard: call bind(net, rng=...) first")

    # ------------------------------------------------------------------ outputs
    def tables(self) -> dict[str, pd.DataFrame]:
        """Run-folder tables: ``timeseries``, ``exposure``, ``receptor``, ``zones``."""
        self._require_bound()
        out = {
            "timeseries": pd.DataFrame(self.rows, columns=list(_TIMESERIES_COLUMNS)),
            "receptor": pd.DataFrame(self.receptor_rows, columns=list(_RECEPTOR_COLUMNS)),
            "zones": self._zones_table(),
        }
        out["exposure"] = (
            self._exposure_table()
            if self._people_ready
            else pd.DataFrame(columns=list(_EXPOSURE_COLUMNS))
        )
        return out

    def _exposure_table(self) -> pd.DataFrame:
        ex = self.ex
        hh = np.flatnonzero((ex.dose_ppm_min > 0.0) | (ex.peak_ppm > 0.0))
        peak = ex.peak_ppm[hh]
        level = np.zeros(hh.size, dtype=np.int64)
        for k, a in enumerate(self.aegl_ppm, start=1):
            level[peak >= a] = k
        deaths, injured = self.deaths[hh], self.injured[hh]
        outcome = np.where(deaths > 0, "death", np.where(injured > 0, "injury", "none"))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(
                ex.t_exposed_s[hh] > 0,
                ex.t_indoors_s[hh] / np.maximum(ex.t_exposed_s[hh], 1e-12),
                0.0,
            )
        actions = np.asarray(ACTION_NAMES + ("unset",), dtype=object)[self.actions[hh]]
        return pd.DataFrame(
            {
                "household": hh.astype(np.int64),
                "persons": self.persons[hh],
                "action": actions,
                "max_ppm": peak,
                "dose_ppm_min": ex.dose_ppm_min[hh],
                "toxic_load": ex.load[hh],
                "aegl_level": level,
                "p_death": self.substance.death_probability(ex.load[hh]),
                "deaths": deaths,
                "injured": injured,
                "outcome": outcome,
                "indoors_share": share,
            },
            columns=list(_EXPOSURE_COLUMNS),
        )

    def _zones_table(self) -> pd.DataFrame:
        rows = []
        dx = self._grid_x.reshape(self.grid_shape) - self.source_x_m
        dy = self._grid_y.reshape(self.grid_shape) - self.source_y_m
        dist = np.hypot(dx, dy)
        actions = self.spec.actions
        for k in (1, 2, 3):
            inside = self.level >= k
            rows.append(
                {
                    "zone": f"aegl{k}",
                    "aegl_ppm": float(self.aegl_ppm[k - 1]),
                    "duration_min": int(self.spec.aegl_duration_min),
                    "area_m2": float(np.count_nonzero(inside)) * self.grid_cell_m**2,
                    "length_m": float(dist[inside].max()) if inside.any() else 0.0,
                    "action": getattr(actions, f"aegl{k}"),
                }
            )
        return pd.DataFrame(rows)

    def arrays(self) -> dict[str, np.ndarray]:
        """Peak-concentration grid (ppm) and threat-zone levels, with the grid geometry."""
        self._require_bound()
        return {
            "max_ppm": self.max_ppm.astype(np.float32),
            "level": self.level,
            "grid_x0_m": np.float64(self.grid_x0_m),
            "grid_y0_m": np.float64(self.grid_y0_m),
            "grid_cell_m": np.float64(self.grid_cell_m),
            "aegl_ppm": self.aegl_ppm.astype(np.float64),
            "source_xy_m": np.array([self.source_x_m, self.source_y_m]),
            "receptor_xy_m": np.array(self.receptor_xy, dtype=np.float64),
            "wind_t_s": self._wind_t,
            "wind_from_deg": self._wind_dir,
            "wind_speed_mps": self._wind_u,
        }


_TIMESERIES_COLUMNS = (
    "t_s",
    "aegl1_area_m2",
    "aegl2_area_m2",
    "aegl3_area_m2",
    "persons_above_aegl1",
    "persons_above_aegl2",
    "persons_above_aegl3",
    "persons_injured",
    "persons_dead",
    "drive_km_closed",
    "walk_km_closed",
)
_RECEPTOR_COLUMNS = ("t_s", "receptor", "x_m", "y_m", "outdoor_ppm", "indoor_ppm")
_EXPOSURE_COLUMNS = (
    "household",
    "persons",
    "action",
    "max_ppm",
    "dose_ppm_min",
    "toxic_load",
    "aegl_level",
    "p_death",
    "deaths",
    "injured",
    "outcome",
    "indoors_share",
)
