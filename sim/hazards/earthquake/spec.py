"""The ``[[hazards]] kind = "earthquake"`` scenario table: its fields, defaults and checks.

Only validation lives here (pydantic, :class:`sim._spec.Spec`); what the fields do is in
:mod:`sim.hazards.earthquake.hazard`. Fields, units and sources: scenarios/README.md.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictStr, ValidationInfo, field_validator, model_validator

from sim._spec import NonNegative, Positive, Share, Spec, field_error, resolve_existing
from sim.hazards.earthquake import gmpe
from sim.hazards.earthquake.buildings import BuildingsSpec
from sim.hazards.earthquake.fragility import transport_curve

__all__ = ["EarthquakeSpec", "Point", "transport_curve_or_error"]

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
