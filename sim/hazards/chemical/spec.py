"""The ``[[hazards]]`` table of a chemical release: the pydantic schema of its fields.

:class:`ChemicalSpec` validates one ``kind = "chemical"`` table of a scenario file (the
source, the release, the weather, the plan, the outputs) into a frozen value;
:class:`sim.hazards.chemical.ChemicalHazard` is built from it. Field reference with
units, ranges and sources: ``scenarios/README.md``, section "Hazards: chemical release".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sim._spec import NonNegative, Positive, Spec, field_error
from sim.hazards.chains import TankTrigger
from sim.hazards.chemical.protective_actions import ProtectiveAction
from sim.hazards.chemical.stability import pasquill_class
from sim.hazards.chemical.substances import substance_names


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
    trigger: TankTrigger | None = None  # disaster chain (sim/hazards/chains.py): replaces start_min
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
            return pasquill_class(self.wind_speed_mps, self.sky)
        return "D"  # neutral: overcast skies, day or night (docs/references.md §1.3)
