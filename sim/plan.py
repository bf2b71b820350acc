"""Plan files: what the authorities control for response and relief (TOML in, spec out).

A plan is kept apart from the hazard (DESIGN.md "Plan"), so one plan meets many hazards
and two plans can be compared on one hazard. It names rescue stations and their teams,
the dispatch rules, how each incident kind is worked, the relief items and the
per-person needs, the three-level depot network with stock and trucks, shelter changes
and pre-positioned shelter stock, and the targets a run is judged against.

Loading (:func:`load_plan`) validates the file alone: types, ranges, unknown fields,
unknown items, teams able to serve every incident kind. Every problem is gathered and
raised once as :class:`~sim._errors.ScenarioError` with lines
``f"{path}: {dotted.field}: expected ..., got ..."``. Checks that need the map (a station
off the road network, a facility or shelter name the map lacks) run in
:func:`resolve_plan`, which also snaps everything to drive nodes.

Field reference with units, ranges and sources: ``scenarios/plans/README.md``.
Coordinates: ``x_m``/``y_m`` are metres in the map's projected CRS; ``lon``/``lat`` are
WGS84 degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from sim._errors import ScenarioError
from sim._spec import NonNegative, Positive, Share, Spec, field_error, read_toml
from sim.plan_levers import AssignmentSpec, BusesSpec, EvacuationSpec
from sim.route_choice import RouteChoiceSpec  # issue 14: informed drivers
from sim.scenario import ExtraShelter
from sim.traffic_control import RoadsSpec  # issue 14: contraflow, control, green channel

__all__ = [
    "TEAM_KINDS",
    "INCIDENT_KINDS",
    "CAPABILITIES",
    "DEPOT_LEVELS",
    "Plan",
    "ResolvedPlan",
    "load_plan",
    "resolve_plan",
    "plan_at_nodes",
    "default_plan_path",
    "apply_to_scenario",
]

TEAM_KINDS = ("fire-rescue", "medical", "hazmat", "water-rescue")
INCIDENT_KINDS = ("trapped", "stranded", "injured", "exposed")
CAPABILITIES = ("extrication", "water", "medical", "hazmat")
# Order of escalation: a lower level is asked first, the next one when it is empty.
DEPOT_LEVELS = ("community", "town", "district", "neighbour")

TeamKind = Literal["fire-rescue", "medical", "hazmat", "water-rescue"]
Capability = Literal["extrication", "water", "medical", "hazmat"]
DepotLevel = Literal["community", "town", "district", "neighbour"]
Name = Annotated[StrictStr, Field(min_length=1)]
Count = Annotated[StrictInt, Field(ge=0, le=100_000)]


class Located(Spec):
    """A place given by a map facility name, projected metres or WGS84 degrees."""

    name: StrictStr = ""
    facility: StrictStr | None = None
    x_m: StrictFloat | None = None
    y_m: StrictFloat | None = None
    lon: Annotated[StrictFloat, Field(ge=-180.0, le=180.0)] | None = None
    lat: Annotated[StrictFloat, Field(ge=-90.0, le=90.0)] | None = None

    @model_validator(mode="after")
    def _one_location(self) -> Located:
        given = [self.facility is not None,
                 self.x_m is not None or self.y_m is not None,
                 self.lon is not None or self.lat is not None]
        pairs_ok = ((self.x_m is None) == (self.y_m is None)
                    and (self.lon is None) == (self.lat is None))
        if sum(given) != 1 or not pairs_ok:
            raise field_error("facility", "exactly one of facility (a map facility name), "
                              "x_m and y_m (projected metres) or lon and lat (WGS84 degrees)",
                              {"facility": self.facility, "x_m": self.x_m, "y_m": self.y_m,
                               "lon": self.lon, "lat": self.lat})
        if self.facility is None and not self.name:
            raise field_error("name", "a name when the place is given by coordinates",
                              self.name)
        return self

    @property
    def label(self) -> str:
        """The name used in outputs: ``name`` or else the facility name."""
        return self.name or (self.facility or "")


class TeamSpec(Spec):
    """One kind of team at a station: ``count`` identical teams, one vehicle each."""

    kind: TeamKind
    count: Annotated[StrictInt, Field(ge=1, le=1000)] = 1
    crew: Annotated[StrictInt, Field(ge=1, le=100)] = 5
    capabilities: tuple[Capability, ...] = Field(min_length=1)


class StationSpec(Located):
    """``[[stations]]``: a rescue station and its teams."""

    teams: tuple[TeamSpec, ...] = Field(min_length=1)


class IncidentRule(Spec):
    """``[incidents.<kind>]``: what working one incident of this kind takes."""

    capability: Capability
    work_min: NonNegative = 20.0
    work_min_per_person: NonNegative = 5.0
    destination: Literal["hospital", "shelter", "none"] = "none"


def _default_incidents() -> dict[str, IncidentRule]:
    return {
        "trapped": IncidentRule(capability="extrication", work_min=30.0,
                                work_min_per_person=10.0, destination="hospital"),
        "stranded": IncidentRule(capability="water", work_min=10.0,
                                 work_min_per_person=2.0, destination="shelter"),
        "injured": IncidentRule(capability="medical", work_min=10.0,
                                work_min_per_person=5.0, destination="hospital"),
        "exposed": IncidentRule(capability="hazmat", work_min=15.0,
                                work_min_per_person=3.0, destination="hospital"),
    }


class DispatchSpec(Spec):
    """``[dispatch]``: how incidents are assigned and how waiting makes them worse."""

    delay_s: NonNegative = 90.0
    escalate_min: Positive = 60.0
    max_severity: Annotated[StrictInt, Field(ge=1, le=10)] = 4
    handover_min: NonNegative = 10.0
    hospitals: tuple[Name, ...] = ()


class ItemSpec(Spec):
    """``[items.<name>]``: one relief item, its unit mass and the need per person-day."""

    unit: Name
    kg_per_unit: Positive
    per_person_day: NonNegative


class TruckSpec(Spec):
    """Trucks of a depot."""

    count: Count = 0
    payload_kg: Positive = 5000.0


class DepotSpec(Located):
    """``[[depots]]``: a material reserve depot with stock and trucks."""

    level: DepotLevel
    stock: dict[StrictStr, NonNegative] = Field(default_factory=dict)
    trucks: TruckSpec = TruckSpec()
    available_min: NonNegative = 0.0


class ReliefSpec(Spec):
    """``[relief]``: the relief rule and the truck cycle."""

    cover_days: Positive = 1.0
    review_min: Positive = 5.0
    load_min: NonNegative = 15.0
    unload_min: NonNegative = 15.0
    min_load_kg: NonNegative = 1000.0
    next_level_when: Literal["busy", "empty"] = "busy"


class PlanShelters(Spec):
    """``[shelters]``: plan changes to the scenario's shelters, pre-positioned stock."""

    closed: tuple[Name, ...] = ()
    extra: tuple[ExtraShelter, ...] = ()
    stock_per_place: dict[StrictStr, NonNegative] = Field(default_factory=dict)
    stock: dict[StrictStr, dict[StrictStr, NonNegative]] = Field(default_factory=dict)


class TargetsSpec(Spec):
    """``[targets]``: what the plan promises."""

    response_min: Positive = 30.0
    relief_h: Positive = 10.0
    warning_coverage: Share = 0.9


class PlanMeta(Spec):
    """``[plan]``: identity and the snapping tolerance."""

    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    title: StrictStr = ""
    max_snap_m: Positive = 500.0


class Plan(Spec):
    """A validated plan file. Build it with :func:`load_plan` or :meth:`from_dict`."""

    plan: PlanMeta
    targets: TargetsSpec = TargetsSpec()
    dispatch: DispatchSpec = DispatchSpec()
    incidents: dict[Literal["trapped", "stranded", "injured", "exposed"], IncidentRule] = Field(
        default_factory=_default_incidents)
    stations: tuple[StationSpec, ...] = ()
    items: dict[Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$")], ItemSpec] = Field(
        default_factory=dict)
    relief: ReliefSpec = ReliefSpec()
    depots: tuple[DepotSpec, ...] = ()
    shelters: PlanShelters = PlanShelters()
    # issue 14 (road levers): [roads] and [route_choice], see sim.traffic_control
    roads: RoadsSpec = RoadsSpec()
    route_choice: RouteChoiceSpec = RouteChoiceSpec()
    # People-side levers (sim.plan_levers; None = lever off).
    evacuation: EvacuationSpec | None = None
    shelter_assignment: AssignmentSpec | None = None
    buses: BusesSpec | None = None

    _source: str = PrivateAttr(default="<dict>")

    @model_validator(mode="after")
    def _cross_checks(self) -> Plan:
        items = set(self.items)
        known = ", ".join(sorted(items)) or "none declared in [items]"
        for i, d in enumerate(self.depots):
            for key in d.stock:
                if key not in items:
                    raise field_error(f"depots[{i}].stock.{key}", f"an item of [items] ({known})",
                                      key)
        for key in self.shelters.stock_per_place:
            if key not in items:
                raise field_error(f"shelters.stock_per_place.{key}",
                                  f"an item of [items] ({known})", key)
        for name, stock in self.shelters.stock.items():
            for key in stock:
                if key not in items:
                    raise field_error(f"shelters.stock.{name}.{key}",
                                      f"an item of [items] ({known})", key)
        offered = {c for s in self.stations for t in s.teams for c in t.capabilities}
        if self.stations:
            for kind, rule in self.incidents.items():
                if rule.capability not in offered:
                    raise field_error(f"incidents.{kind}.capability",
                                      f"a capability some team has ({sorted(offered)})",
                                      rule.capability)
        names = [d.label for d in self.depots]
        for i, nm in enumerate(names):
            if nm in names[:i]:
                raise field_error(f"depots[{i}].name", "a name no other depot has", nm)
        names = [s.label for s in self.stations]
        for i, nm in enumerate(names):
            if nm in names[:i]:
                raise field_error(f"stations[{i}].name", "a name no other station has", nm)
        return self

    @property
    def source(self) -> str:
        """Where the plan was read from (file path, or a label for dicts)."""
        return self._source

    @property
    def item_names(self) -> tuple[str, ...]:
        """Relief items in file order."""
        return tuple(self.items)

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "<dict>") -> Plan:
        """Validate a plan given as a dict (the parsed TOML).

        Raises
        ------
        ScenarioError
            Listing every problem, one ``f"{source}: {field}: expected ..., got ..."`` line.
        """
        try:
            spec = cls.model_validate(data)
        except ValidationError as exc:
            lines = [_describe(err, source) for err in exc.errors()]
            raise ScenarioError(f"{source}: {len(lines)} problem(s) in the plan:\n"
                                + "\n".join(lines)) from None
        spec._source = str(source)
        return spec

    def to_dict(self) -> dict:
        """JSON-safe dict of the full plan (defaults filled in)."""
        return self.model_dump(mode="json")


def default_plan_path() -> Path:
    """Path of the default district's plan, ``<repo>/scenarios/plans/default.toml``."""
    return Path(__file__).resolve().parents[1] / "scenarios" / "plans" / "default.toml"


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan TOML file.

    Parameters
    ----------
    path
        The ``.toml`` file.

    Returns
    -------
    Plan

    Raises
    ------
    ScenarioError
        The file is missing, not valid TOML, or has unknown fields, wrong types,
        out-of-range values or unknown items (all listed together).
    """
    path = Path(path)
    data = read_toml(path, "plan file")
    return Plan.from_dict(data, source=str(path))


# --------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ResolvedPlan:
    """A plan placed on a map: arrays the responders and logistics use.

    Attributes
    ----------
    plan : Plan
    items : tuple of str
        Relief items, the column order of every stock array.
    need_per_person : float64[I]
        Units of each item one person needs to count as relieved
        (``per_person_day * cover_days``).
    kg_per_unit : float64[I]
    station_name : str array[K]
    station_node : int32[K]
        Drive node of each station.
    team_station : int32[M]
        Station row of each team (teams in file order, ``count`` copies each).
    team_kind : str array[M]
    team_crew : int32[M]
    team_caps : bool[M, C]
        Capabilities per team, columns in :data:`CAPABILITIES` order.
    depot_name : str array[D]
    depot_level : int8[D]
        Index into :data:`DEPOT_LEVELS`.
    depot_node : int32[D]
    depot_stock : float64[D, I]
        Initial stock, units.
    depot_trucks : int32[D]
    depot_payload_kg : float64[D]
    depot_available_s : float64[D]
        When the depot starts sending trucks, seconds since scenario start.
    hospital_name : str array[H]
    hospital_node : int32[H]
    """

    plan: Plan
    items: tuple[str, ...]
    need_per_person: np.ndarray
    kg_per_unit: np.ndarray
    station_name: np.ndarray
    station_node: np.ndarray
    team_station: np.ndarray
    team_kind: np.ndarray
    team_crew: np.ndarray
    team_caps: np.ndarray
    depot_name: np.ndarray
    depot_level: np.ndarray
    depot_node: np.ndarray
    depot_stock: np.ndarray
    depot_trucks: np.ndarray
    depot_payload_kg: np.ndarray
    depot_available_s: np.ndarray
    hospital_name: np.ndarray
    hospital_node: np.ndarray

    def shelter_stock(self, shelter_names: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Pre-positioned stock per shelter row, float64[S, I] (units).

        ``stock_per_place * capacity`` plus the named entries of ``[shelters] stock``.
        Names are checked by :func:`resolve_plan` when it is given the shelter table.
        """
        sp = self.plan.shelters
        per_place = np.array([sp.stock_per_place.get(k, 0.0) for k in self.items], np.float64)
        out = np.asarray(capacity, np.float64)[:, None] * per_place[None, :]
        names = np.asarray(shelter_names).astype(str)
        for name, stock in sp.stock.items():
            rows = np.flatnonzero(names == name)
            for j, item in enumerate(self.items):
                if item in stock and rows.size:
                    out[rows[0], j] += stock[item]
        return out


def resolve_plan(plan: Plan, net, *, shelter_names: np.ndarray | None = None) -> ResolvedPlan:
    """Place a plan on a compiled map.

    Parameters
    ----------
    plan
        A validated plan.
    net : sim.network.RoadNetwork
        The compiled map (its ``facilities`` give fire stations, depots and hospitals).
    shelter_names
        Names of the open shelters (``ShelterTable.name``); when given, the names in
        ``[shelters] stock`` must be among them. ``[shelters] closed`` is checked by
        :func:`sim.shelters.build_shelters` once applied to the scenario.

    Returns
    -------
    ResolvedPlan

    Raises
    ------
    ScenarioError
        A facility name the map lacks (the valid names of that kind listed), a place
        farther than ``plan.max_snap_m`` from any drive node, a hospital name the map
        lacks, no hospital for an incident kind that needs one, or an unknown shelter
        name; all problems together.
    """
    from sim.population import snap_to_nodes

    src = plan.source
    problems: list[str] = []
    fac = net.facilities
    fac_name = np.asarray(fac.name).astype(str) if len(fac) else np.zeros(0, str)
    fac_kind = np.asarray(fac.kind).astype(str) if len(fac) else np.zeros(0, str)

    def place(where: str, loc: Located, kind: str) -> tuple[float, float]:
        if loc.facility is not None:
            rows = np.flatnonzero(fac_name == loc.facility)
            if rows.size == 0:
                valid = sorted(set(fac_name[fac_kind == kind].tolist()))
                problems.append(f"{src}: {where}.facility: expected the name of a map "
                                f"{kind} ({', '.join(valid) or 'none on this map'}), "
                                f"got {loc.facility!r}")
                return np.nan, np.nan
            return float(fac.x_m[rows[0]]), float(fac.y_m[rows[0]])
        if loc.x_m is not None:
            return float(loc.x_m), float(loc.y_m)
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
        x, y = tr.transform(loc.lon, loc.lat)
        return float(x), float(y)

    def snap(where: str, labels: list[str], xy: list[tuple[float, float]]) -> np.ndarray:
        if not xy:
            return np.zeros(0, np.int32)
        x = np.array([p[0] for p in xy], np.float64)
        y = np.array([p[1] for p in xy], np.float64)
        node, dist = snap_to_nodes(net, np.nan_to_num(x), np.nan_to_num(y), network="drive")
        for i in range(len(xy)):
            if np.isfinite(x[i]) and not dist[i] <= plan.plan.max_snap_m:
                problems.append(
                    f"{src}: {where}[{i}]: expected a place within plan.max_snap_m = "
                    f"{plan.plan.max_snap_m} m of a drivable road, got {labels[i]!r} at "
                    f"x={x[i]:.1f}, y={y[i]:.1f} m ({dist[i]:.0f} m from the nearest drive node)")
        return node.astype(np.int32)

    st_xy = [place(f"stations[{i}]", s, "fire_station") for i, s in enumerate(plan.stations)]
    st_names = [s.label for s in plan.stations]
    st_node = snap("stations", st_names, st_xy)
    dp_xy = [place(f"depots[{i}]", d, "depot") for i, d in enumerate(plan.depots)]
    dp_names = [d.label for d in plan.depots]
    dp_node = snap("depots", dp_names, dp_xy)

    hosp_rows = np.flatnonzero(fac_kind == "hospital")
    if plan.dispatch.hospitals:
        picked = []
        for i, nm in enumerate(plan.dispatch.hospitals):
            rows = np.flatnonzero((fac_name == nm) & (fac_kind == "hospital"))
            if rows.size == 0:
                valid = sorted(set(fac_name[hosp_rows].tolist()))
                problems.append(f"{src}: dispatch.hospitals[{i}]: expected the name of a map "
                                f"hospital ({', '.join(valid) or 'none on this map'}), got {nm!r}")
            else:
                picked.append(int(rows[0]))
        hosp_rows = np.array(picked, np.int64)
    h_xy = [(float(fac.x_m[r]), float(fac.y_m[r])) for r in hosp_rows]
    h_names = [str(fac_name[r]) for r in hosp_rows]
    h_node = snap("dispatch.hospitals", h_names, h_xy)
    needs_hospital = [k for k, r in plan.incidents.items() if r.destination == "hospital"]
    if plan.stations and needs_hospital and len(h_names) == 0 and not problems:
        problems.append(f"{src}: dispatch.hospitals: expected at least one hospital "
                        f"(incident kinds {needs_hospital} go to hospital), got none on the "
                        "map or in the plan")

    if shelter_names is not None:
        known = set(np.asarray(shelter_names).astype(str).tolist())
        for nm in plan.shelters.stock:
            if nm not in known:
                shown = ", ".join(sorted(known)[:20]) + (" ..." if len(known) > 20 else "")
                problems.append(f"{src}: shelters.stock.{nm}: expected the name of an open "
                                f"shelter ({shown}), got {nm!r}")
    if problems:
        raise ScenarioError(f"{src}: {len(problems)} problem(s) placing the plan on map "
                            f"{net.name!r}:\n" + "\n".join(problems))

    return plan_at_nodes(plan, station_nodes=st_node, depot_nodes=dp_node,
                         hospital_nodes=h_node, hospital_names=h_names)


def plan_at_nodes(plan: Plan, *, station_nodes: np.ndarray, depot_nodes: np.ndarray,
                  hospital_nodes: np.ndarray, hospital_names: list[str] | None = None
                  ) -> ResolvedPlan:
    """Assemble a :class:`ResolvedPlan` from already known drive nodes (no map checks).

    :func:`resolve_plan` uses it after snapping; tests use it on hand-built networks.
    ``station_nodes`` / ``depot_nodes`` follow the plan's ``stations`` / ``depots`` order.
    """
    st_node = np.asarray(station_nodes, np.int32)
    dp_node = np.asarray(depot_nodes, np.int32)
    h_node = np.asarray(hospital_nodes, np.int32)
    h_names = list(hospital_names) if hospital_names is not None else \
        [f"hospital-{i}" for i in range(h_node.size)]
    st_names = [s.label for s in plan.stations]
    dp_names = [d.label for d in plan.depots]
    if st_node.shape != (len(st_names),) or dp_node.shape != (len(dp_names),):
        raise ScenarioError(f"{plan.source}: expected one node per station and per depot, got "
                            f"{st_node.shape} and {dp_node.shape}")
    items = plan.item_names
    team_station, team_kind, team_crew, caps = [], [], [], []
    for si, s in enumerate(plan.stations):
        for t in s.teams:
            for _ in range(t.count):
                team_station.append(si)
                team_kind.append(t.kind)
                team_crew.append(t.crew)
                caps.append([c in t.capabilities for c in CAPABILITIES])
    return ResolvedPlan(
        plan=plan,
        items=items,
        need_per_person=np.array([plan.items[k].per_person_day * plan.relief.cover_days
                                  for k in items], np.float64),
        kg_per_unit=np.array([plan.items[k].kg_per_unit for k in items], np.float64),
        station_name=np.array(st_names, dtype=object).astype(str),
        station_node=st_node,
        team_station=np.array(team_station, np.int32),
        team_kind=np.array(team_kind, dtype=object).astype(str),
        team_crew=np.array(team_crew, np.int32),
        team_caps=np.array(caps, bool).reshape(len(team_station), len(CAPABILITIES)),
        depot_name=np.array(dp_names, dtype=object).astype(str),
        depot_level=np.array([DEPOT_LEVELS.index(d.level) for d in plan.depots], np.int8),
        depot_node=dp_node,
        depot_stock=np.array([[d.stock.get(k, 0.0) for k in items] for d in plan.depots],
                             np.float64).reshape(len(plan.depots), len(items)),
        depot_trucks=np.array([d.trucks.count for d in plan.depots], np.int32),
        depot_payload_kg=np.array([d.trucks.payload_kg for d in plan.depots], np.float64),
        depot_available_s=np.array([d.available_min * 60.0 for d in plan.depots], np.float64),
        hospital_name=np.array(h_names, dtype=object).astype(str),
        hospital_node=h_node,
    )


def apply_to_scenario(scenario, plan: Plan):
    """The scenario with the plan's shelter changes merged in (closed and extra shelters).

    Returns a new :class:`~sim.scenario.Scenario` (the input is frozen and unchanged);
    ``build_shelters`` then checks the names and snaps the extra shelters.
    """
    sp = plan.shelters
    if not sp.closed and not sp.extra:
        return scenario
    shelters = scenario.shelters.model_copy(update={
        "closed": tuple(scenario.shelters.closed) + tuple(sp.closed),
        "extra": tuple(scenario.shelters.extra) + tuple(sp.extra),
    })
    out = scenario.model_copy(update={"shelters": shelters})
    out._source = scenario.source
    return out


# --------------------------------------------------------------------------- errors


def _dotted(loc: tuple) -> str:
    text = ""
    for item in loc:
        if item == "[key]":
            text += " (key)"
        elif isinstance(item, int):
            text += f"[{item}]"
        else:
            text += ("." if text else "") + str(item)
    return text


def _describe(err: dict, source: str) -> str:
    """One ``path: field: expected ..., got ...`` line for a pydantic error dict."""
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    got = repr(err.get("input"))
    if kind == "scenario_field":
        loc = loc + (ctx["field"],)
        expected, got = f"expected {ctx['expected']}", ctx["got"]
    elif kind == "extra_forbidden":
        expected, got = "expected one of the documented fields (scenarios/plans/README.md)", \
            f"an unknown field = {got}"
    elif kind == "missing":
        expected, got = "expected a value (required field)", "nothing"
    elif kind == "string_pattern_mismatch":
        expected = f"expected text matching {ctx.get('pattern')}"
    else:
        msg = str(err.get("msg", kind))
        msg = msg.removeprefix("Value error, ").removeprefix("Input should be ")
        expected = f"expected {msg}"
    return f"{source}: {_dotted(loc)}: {expected}, got {got}"

