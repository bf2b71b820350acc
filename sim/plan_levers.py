"""Plan sections for the people-side levers: phased orders, assigned shelters, buses.

Pure spec (pydantic), validated with the rest of the plan file by :class:`sim.plan.Plan`
(three optional fields: ``evacuation``, ``shelter_assignment``, ``buses``). What the
levers do in a run lives in :mod:`sim.phasing`, :mod:`sim.assignment` and
:mod:`sim.buses`; checks that need the map or the population (zone and shelter names,
places off the road) run there, with the same ``path: field: expected ..., got ...``
lines.

Field reference with units, defaults and sources: ``scenarios/plans/README.md``,
sections ``[evacuation]``, ``[shelter_assignment]`` and ``[buses]``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, StrictFloat, StrictInt, StrictStr, model_validator

from sim._errors import ScenarioError
from sim._spec import NonNegative, Positive, Share, Spec, field_error

__all__ = [
    "NUREG_SHADOW_SHARE",
    "Point",
    "PhaseSpec",
    "NearestFirstSpec",
    "EvacuationSpec",
    "AssignedArea",
    "AssignmentSpec",
    "PickupPoint",
    "BusesSpec",
    "point_xy",
]

# NUREG/CR-7002 (2011) §2.2 / NUREG/CR-7002 Rev. 1 (2021): the ETE study assumes 20 % of
# the population outside the ordered area (in the shadow region) evacuates anyway.
NUREG_SHADOW_SHARE = 0.2

Name = Annotated[StrictStr, Field(min_length=1)]


class Point(Spec):
    """A place: projected ``x_m, y_m`` (map CRS metres) or WGS84 ``lon, lat``."""

    name: StrictStr = ""
    x_m: StrictFloat | None = None
    y_m: StrictFloat | None = None
    lon: Annotated[StrictFloat, Field(ge=-180.0, le=180.0)] | None = None
    lat: Annotated[StrictFloat, Field(ge=-90.0, le=90.0)] | None = None

    @model_validator(mode="after")
    def _one_location(self) -> Point:
        xy = (self.x_m is not None, self.y_m is not None)
        ll = (self.lon is not None, self.lat is not None)
        if not ((all(xy) and not any(ll)) or (all(ll) and not any(xy))):
            raise field_error("x_m", "either x_m and y_m (projected metres) or lon and lat "
                              "(WGS84 degrees)", {"x_m": self.x_m, "y_m": self.y_m,
                                                  "lon": self.lon, "lat": self.lat})
        return self


def point_xy(points: list[Point] | tuple[Point, ...], crs) -> tuple[np.ndarray, np.ndarray]:
    """Projected metres (float64[K] x, y) of points given in either form."""
    x = np.array([p.x_m if p.x_m is not None else np.nan for p in points], np.float64)
    y = np.array([p.y_m if p.y_m is not None else np.nan for p in points], np.float64)
    ll = np.flatnonzero(np.isnan(x))
    if ll.size:
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        lx, ly = tr.transform([points[i].lon for i in ll], [points[i].lat for i in ll])
        x[ll], y[ll] = lx, ly
    return x, y


# --------------------------------------------------------------------------- phases


class PhaseSpec(Spec):
    """``[[evacuation.phases]]``: zones ordered to leave at ``order_min``."""

    zones: tuple[Name, ...] = Field(min_length=1)
    order_min: NonNegative


class NearestFirstSpec(Point):
    """``[evacuation.nearest_first]``: zones ordered by distance from a hazard point."""

    first_min: NonNegative = 0.0
    step_min: Positive
    zones_per_step: Annotated[StrictInt, Field(ge=1, le=10_000)] = 1


class EvacuationSpec(Spec):
    """``[evacuation]``: staged orders per zone and the shadow evacuation outside them."""

    phases: tuple[PhaseSpec, ...] = ()
    nearest_first: NearestFirstSpec | None = None
    shadow_share: Share = NUREG_SHADOW_SHARE

    @model_validator(mode="after")
    def _one_rule(self) -> EvacuationSpec:
        if bool(self.phases) == (self.nearest_first is not None):
            raise field_error("phases", "either [[evacuation.phases]] or "
                              "[evacuation.nearest_first] (exactly one)",
                              {"phases": len(self.phases),
                               "nearest_first": self.nearest_first is not None})
        seen: dict[str, int] = {}
        for i, ph in enumerate(self.phases):
            for z in ph.zones:
                if z in seen:
                    raise field_error(f"phases[{i}].zones", f"each zone in one phase only "
                                      f"({z!r} is already in phases[{seen[z]}])", z)
                seen[z] = i
        return self


# --------------------------------------------------------------------------- assignment


class AssignedArea(Spec):
    """``[[shelter_assignment.areas]]``: zones (communities) and their designated shelters."""

    zones: tuple[Name, ...] = Field(min_length=1)
    shelters: tuple[Name, ...] = Field(min_length=1)


class AssignmentSpec(Spec):
    """``[shelter_assignment]``: designated shelters per zone and the overflow rule."""

    overflow: Literal["next_designated", "nearest_open", "wait"] = "nearest_open"
    areas: tuple[AssignedArea, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _zones_once(self) -> AssignmentSpec:
        seen: dict[str, int] = {}
        for i, a in enumerate(self.areas):
            for z in a.zones:
                if z in seen:
                    raise field_error(f"areas[{i}].zones", f"each zone in one area only "
                                      f"({z!r} is already in areas[{seen[z]}])", z)
                seen[z] = i
            for j, s in enumerate(a.shelters):
                if s in a.shelters[:j]:
                    raise field_error(f"areas[{i}].shelters", "each shelter once per area", s)
        return self


# --------------------------------------------------------------------------- buses


class PickupPoint(Point):
    """``[[buses.pickups]]``: a place where riders wait for the bus."""


class BusesSpec(Spec):
    """``[buses]``: buses for households without a car that need help."""

    depot: Point
    count: Annotated[StrictInt, Field(ge=1, le=10_000)]
    seats: Annotated[StrictInt, Field(ge=1, le=500)]
    start_min: NonNegative = 0.0
    board_s_per_person: NonNegative = 3.0
    alight_s_per_person: NonNegative = 2.0
    riders: Literal["vulnerable", "share"] = "vulnerable"
    rider_share: Share | None = None
    max_walk_m: Positive = 400.0
    pickups: tuple[PickupPoint, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _share_given(self) -> BusesSpec:
        if (self.riders == "share") != (self.rider_share is not None):
            raise field_error("rider_share", "a share 0..1 when riders = 'share', nothing "
                              "otherwise", self.rider_share)
        return self


def zone_rows(names: tuple[str, ...], zone_names: list[str], where: str, source: str
              ) -> tuple[list[int], list[str]]:
    """Indices of zone ``names`` in ``zone_names``; problems as ``source: where: ...`` lines."""
    index = {z: i for i, z in enumerate(zone_names)}
    rows, problems = [], []
    shown = ", ".join(zone_names[:20]) + (" ..." if len(zone_names) > 20 else "")
    for j, z in enumerate(names):
        if z in index:
            rows.append(index[z])
        else:
            problems.append(f"{source}: {where}[{j}]: expected a zone of the population "
                            f"({shown}), got {z!r}")
    return rows, problems


def raise_problems(source: str, what: str, problems: list[str]) -> None:
    """One :class:`ScenarioError` listing every problem (nothing when there is none)."""
    if problems:
        raise ScenarioError(f"{source}: {len(problems)} problem(s) in {what}:\n"
                            + "\n".join(problems))
