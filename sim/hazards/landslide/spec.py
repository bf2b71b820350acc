"""``[[hazards]] kind = "landslide"``: slope screening on the DEM (scenarios/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictFloat, StrictStr, ValidationInfo, field_validator, model_validator

from sim._spec import NonNegative, Positive, Spec, field_error, resolve_existing

_RASTER_ENDINGS = (".hgt", ".hgt.zip", ".zip", ".asc", ".tif", ".tiff")


class LandslideTrigger(Spec):
    """``trigger``: the earthquake's shaking, or rain (with a flood) above Caine's threshold."""

    hazard: StrictStr
    rain_mm_h: Annotated[StrictFloat, Field(gt=0.0, le=500.0)] | None = None
    rain_h: Annotated[StrictFloat, Field(ge=1 / 6, le=240.0)] | None = None
    time_min: NonNegative | None = None  # rain: when the slopes fail

    @model_validator(mode="after")
    def _rain(self) -> LandslideTrigger:
        rain = (self.rain_mm_h, self.rain_h, self.time_min)
        if self.hazard == "earthquake":
            if any(v is not None for v in rain):
                raise field_error("rain_mm_h", "no rain fields with hazard = 'earthquake' (the "
                                  "quake's shaking triggers the slides)", rain)
        elif any(v is None for v in rain):
            raise field_error("rain_mm_h", "rain_mm_h, rain_h and time_min for a rain "
                              "trigger", dict(zip(("rain_mm_h", "rain_h", "time_min"), rain,
                                                  strict=True)))
        return self


class SoilSpec(Spec):
    """``soil``: the sliding slab (defaults: mid-range values, an assumption)."""

    cohesion_kpa: Annotated[StrictFloat, Field(ge=0.0, le=500.0)] = 5.0
    friction_deg: Annotated[StrictFloat, Field(gt=0.0, le=60.0)] = 32.0
    unit_weight_kn_m3: Annotated[StrictFloat, Field(ge=5.0, le=30.0)] = 19.0
    thickness_m: Annotated[StrictFloat, Field(gt=0.0, le=50.0)] = 2.4


class LandslideSpec(Spec):
    """The landslide table of a scenario (see scenarios/README.md, "Hazards: landslide")."""

    kind: Literal["landslide"]
    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)] = "landslide"
    dem: Path
    dem_crs: StrictStr | None = None
    cell_m: Positive | None = None
    margin_m: NonNegative = 500.0
    soil: SoilSpec = SoilSpec()
    trigger: LandslideTrigger
    runout_m: NonNegative = 60.0
    cadence_s: Positive = 60.0

    @field_validator("dem", mode="before")
    @classmethod
    def _dem(cls, value: Any, info: ValidationInfo) -> Path:
        path = resolve_existing(value, info, "the DEM")
        if not path.name.lower().endswith(_RASTER_ENDINGS):
            raise field_error("dem", "a raster file ending in " + ", ".join(_RASTER_ENDINGS),
                              path.name)
        return path
