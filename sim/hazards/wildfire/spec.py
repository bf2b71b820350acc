"""``[[hazards]] kind = "wildfire"``: a surface fire on the DEM; fields in scenarios/README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictFloat, StrictStr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sim._spec import NonNegative, Positive, Spec, field_error, resolve_existing

_RASTER_ENDINGS = (".hgt", ".hgt.zip", ".zip", ".asc", ".tif", ".tiff")


class IgnitionSpec(Spec):
    """``[[hazards.ignitions]]``: where and when the fire starts."""

    name: StrictStr = ""
    lon: Annotated[StrictFloat, Field(ge=-180.0, le=180.0)] | None = None
    lat: Annotated[StrictFloat, Field(ge=-90.0, le=90.0)] | None = None
    x_m: StrictFloat | None = None
    y_m: StrictFloat | None = None
    t_min: NonNegative = 0.0

    @model_validator(mode="after")
    def _where(self) -> IgnitionSpec:
        xy = (self.x_m is not None, self.y_m is not None)
        ll = (self.lon is not None, self.lat is not None)
        if not ((all(xy) and not any(ll)) or (all(ll) and not any(xy))):
            raise field_error("lon", "either lon and lat (WGS84 degrees) or x_m and y_m "
                              "(map metres)", {"lon": self.lon, "lat": self.lat,
                                               "x_m": self.x_m, "y_m": self.y_m})
        return self


class MoistureSpec(Spec):
    """``moisture``: fuel moisture, fraction of dry weight (BehavePlus test set defaults)."""

    one_hour: Annotated[StrictFloat, Field(gt=0.0, le=0.6)] = 0.06
    ten_hour: Annotated[StrictFloat, Field(gt=0.0, le=0.6)] = 0.07
    hundred_hour: Annotated[StrictFloat, Field(gt=0.0, le=0.6)] = 0.08
    live_herb: Annotated[StrictFloat, Field(ge=0.3, le=3.0)] = 0.60
    live_woody: Annotated[StrictFloat, Field(ge=0.3, le=3.0)] = 0.90


class WildfireSpec(Spec):
    """The wildfire table of a scenario (see scenarios/README.md, "Hazards: wildfire")."""

    kind: Literal["wildfire"]
    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)] = "wildfire"
    dem: Path
    dem_crs: StrictStr | None = None
    cell_m: Positive | None = None  # default: the DEM's resolution
    margin_m: NonNegative = 500.0
    fuel_model: StrictStr | int = "GR2"
    fuel_raster: Path | None = None  # fuel model numbers per cell (GeoTIFF / ASCII grid)
    fuel_raster_crs: StrictStr | None = None
    urban_fuel_model: StrictStr | int = "NB1"
    moisture: MoistureSpec = MoistureSpec()
    wind_speed_mps: Annotated[StrictFloat, Field(ge=0.0, le=40.0)] = 5.0  # at 20 ft (6.1 m)
    wind_from_deg: Annotated[StrictFloat, Field(ge=0.0, lt=360.0)] = 270.0
    wind_adjustment: Annotated[StrictFloat, Field(gt=0.0, le=1.0)] | None = None
    ignitions: list[IgnitionSpec]
    cadence_s: Positive = 60.0
    road_buffer_m: NonNegative = 100.0
    smoke_clear_min: NonNegative = 60.0
    home_reach_m: NonNegative = 30.0
    trigger_min: NonNegative | None = None  # trigger-point warning lead, min; None: none
    trigger_scope: Literal["zone", "household"] = "zone"

    @field_validator("dem", mode="before")
    @classmethod
    def _dem(cls, value: Any, info: ValidationInfo) -> Path:
        path = resolve_existing(value, info, "the DEM")
        if not path.name.lower().endswith(_RASTER_ENDINGS):
            raise field_error("dem", "a raster file ending in " + ", ".join(_RASTER_ENDINGS),
                              path.name)
        return path

    @field_validator("fuel_raster", mode="before")
    @classmethod
    def _fuel_raster(cls, value: Any, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = resolve_existing(value, info, "a fuel-model raster")
        if not path.name.lower().endswith(_RASTER_ENDINGS):
            raise field_error("fuel_raster", "a raster file ending in "
                              + ", ".join(_RASTER_ENDINGS), path.name)
        return path

    @field_validator("fuel_model", "urban_fuel_model")
    @classmethod
    def _fuel(cls, value: Any, info: ValidationInfo) -> str:
        from sim._errors import EvacsimError
        from sim.hazards.wildfire.fuel import fuel_model

        try:
            return fuel_model(value, field=info.field_name).code
        except EvacsimError as exc:  # the loc names the field already: message without it
            what = str(exc).split(": expected ", 1)[1].rsplit(", got ", 1)[0]
            raise PydanticCustomError("fuel_model", "{what}", {"what": what}) from None

    @model_validator(mode="after")
    def _ignitions(self) -> WildfireSpec:
        if not self.ignitions:
            raise field_error("ignitions", "at least one [[hazards.ignitions]] point", [])
        return self
