"""Scenario files: TOML in, validated frozen spec objects out.

A scenario file is the first documentation of a run (STYLE.md item 13): short,
declarative, never executable. It is parsed with :mod:`tomllib` and validated with
pydantic v2 into the frozen :class:`Scenario`. Every problem of a file is gathered and
raised once as a :class:`~sim._errors.ScenarioError` whose lines read
``f"{path}: {dotted.field}: expected ..., got {value!r}"`` (STYLE.md item 7); a raw
pydantic traceback never reaches the user.

Relative paths in a file resolve against the file's own folder and must exist.
Checks that need the map (zone names, shelters off the network, ...) live in
:mod:`sim.population` and :mod:`sim.shelters`.

Field reference with units, ranges and sources: ``scenarios/README.md``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim._errors import ScenarioError
from sim._spec import NonNegative as _NonNegative
from sim._spec import Positive as _Positive
from sim._spec import Share as _Share
from sim._spec import Spec as _Spec
from sim._spec import field_error as _field_error
from sim._spec import read_toml
from sim._spec import resolve_existing as _resolve_existing
from sim.hazards.chains import check_chains
from sim.hazards.chemical.hazard import ChemicalSpec
from sim.hazards.earthquake.hazard import EarthquakeSpec
from sim.hazards.flood.hazard import FloodSpec
from sim.hazards.landslide.spec import LandslideSpec
from sim.hazards.wildfire.spec import WildfireSpec

HazardSpec = Annotated[FloodSpec | ChemicalSpec | EarthquakeSpec | WildfireSpec | LandslideSpec,
                      Field(discriminator="kind")]

ShelterKind = Literal["park", "square", "school", "stadium", "sports_centre", "other"]
MAP_SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf", ".graphml", ".evacmap.npz")

# sqrt(2 ln 10) = 2.1460: Rayleigh t90 = 2.1460 sigma (docs/references.md 4.2 identity).
RAYLEIGH_T90_PER_SIGMA = math.sqrt(2.0 * math.log(10.0))

class ScenarioMeta(_Spec):
    """``[scenario]``: identity, map and seed."""

    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    title: StrictStr = ""
    map: Path
    seed: Annotated[StrictInt, Field(ge=0, lt=2**63)] = 42

    @field_validator("map", mode="before")
    @classmethod
    def _map_exists(cls, value: Any, info: ValidationInfo) -> Path:
        path = _resolve_existing(value, info, "the map")
        if not path.name.lower().endswith(MAP_SUFFIXES):
            raise PydanticCustomError(
                "scenario_path", "expected a map file ending in {sfx}, got {got}",
                {"sfx": " / ".join(MAP_SUFFIXES), "got": repr(path.name)},
            )
        return path


class TimeSpec(_Spec):
    """``[time]``: tick, horizon and sampling interval."""

    tick_s: Annotated[StrictFloat, Field(gt=0.0, le=60.0)] = 5.0
    horizon_h: Annotated[StrictFloat, Field(gt=0.0, le=72.0)] = 6.0
    sample_s: _Positive = 60.0

    @model_validator(mode="after")
    def _sample_is_whole_ticks(self) -> TimeSpec:
        if self.horizon_h * 3600.0 < self.tick_s:
            raise _field_error("horizon_h", f"at least one tick (tick_s = {self.tick_s} s)",
                               self.horizon_h)
        ratio = self.sample_s / self.tick_s
        if ratio < 1.0 - 1e-9 or abs(ratio - round(ratio)) > 1e-9:
            raise _field_error("sample_s", f"a whole multiple of tick_s = {self.tick_s}",
                               self.sample_s)
        return self

    @property
    def n_ticks(self) -> int:
        """Number of ticks in the horizon (rounded up)."""
        return math.ceil(self.horizon_h * 3600.0 / self.tick_s - 1e-9)


class PopulationSpec(_Spec):
    """``[population]``: where residents come from and household make-up."""

    source: Literal["zones", "residential_density", "buildings", "raster"] = "zones"
    # validate_default: the "required for this source" checks run even when other fields
    # of the section are wrong, so all problems are reported in one go.
    zones_csv: Path | None = Field(default=None, validate_default=True)
    density_per_ha: _Positive | None = Field(default=None, validate_default=True)
    # Persons on the whole map ("buildings": unless zones_csv gives them; "raster":
    # optional, scales the raster's sum).
    total: Annotated[StrictInt, Field(ge=1)] | None = None
    raster: Path | None = Field(default=None, validate_default=True)
    household_size_mean: Annotated[StrictFloat, Field(ge=1.0, le=10.0)] = 2.62
    car_ownership: _Share = 0.45
    vulnerable_share: _Share = 0.135

    @field_validator("zones_csv", mode="before")
    @classmethod
    def _csv_exists(cls, value: Any, info: ValidationInfo) -> Path | None:
        if value is None:
            if info.data.get("source", "zones") == "zones":
                raise PydanticCustomError(
                    "scenario_required",
                    "expected a CSV path (zone,population) when source = 'zones'", {})
            return None
        return _resolve_existing(value, info, "the zone population table")

    @field_validator("raster", mode="before")
    @classmethod
    def _raster_exists(cls, value: Any, info: ValidationInfo) -> Path | None:
        if value is None:
            if info.data.get("source") == "raster":
                raise PydanticCustomError(
                    "scenario_required",
                    "expected a population GeoTIFF path when source = 'raster'", {})
            return None
        return _resolve_existing(value, info, "the population raster")

    @model_validator(mode="after")
    def _buildings_total(self) -> PopulationSpec:
        if self.source == "buildings" and (self.total is None) == (self.zones_csv is None):
            raise _field_error("total", "exactly one of total or zones_csv when source = "
                               "'buildings'", self.total)
        if self.total is not None and self.source not in ("buildings", "raster"):
            raise _field_error("total", "no total unless source = 'buildings' or 'raster' "
                               f"(source = {self.source!r} takes its persons elsewhere)",
                               self.total)
        if self.raster is not None and self.source != "raster":
            raise _field_error("raster", "no raster unless source = 'raster'",
                               str(self.raster))
        if self.source == "raster" and self.zones_csv is not None:
            raise _field_error("zones_csv", "no zone table when source = 'raster' (the "
                               "raster gives the persons; use total to scale it)",
                               str(self.zones_csv))
        return self

    @field_validator("density_per_ha", mode="before")
    @classmethod
    def _density_given(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.data.get("source") == "residential_density":
            raise PydanticCustomError(
                "scenario_required",
                "expected persons per ha when source = 'residential_density'", {})
        return value


class WalkingSpec(_Spec):
    """``[walking]``: free walking speeds."""

    speed_mean_mps: Annotated[StrictFloat, Field(ge=0.5, le=2.5)] = 1.34
    speed_sd_mps: Annotated[StrictFloat, Field(ge=0.0, le=1.0)] = 0.26
    vulnerable_speed_mps: Annotated[StrictFloat, Field(gt=0.0, le=2.5)] = 0.8


class ExponentialDelay(_Spec):
    """Warning delay ~ Exponential(mean)."""

    distribution: Literal["exponential"]
    mean_min: _Positive


class UniformDelay(_Spec):
    """Warning delay ~ Uniform(min, max)."""

    distribution: Literal["uniform"]
    min_min: _NonNegative
    max_min: _NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> UniformDelay:
        if self.max_min < self.min_min:
            raise _field_error("max_min", f">= min_min = {self.min_min}", self.max_min)
        return self


class FixedDelay(_Spec):
    """Warning delay = a fixed number of minutes."""

    distribution: Literal["fixed"]
    min: _NonNegative


class LognormalDelay(_Spec):
    """Warning delay ~ median * exp(sigma * Z)."""

    distribution: Literal["lognormal"]
    median_min: _Positive
    sigma: Annotated[StrictFloat, Field(gt=0.0, le=5.0)]


DelaySpec = Annotated[
    ExponentialDelay | UniformDelay | FixedDelay | LognormalDelay,
    Field(discriminator="distribution"),
]


class WarningSpec(_Spec):
    """``[warning]``: when the warning starts, whom it reaches and how late."""

    start_min: _NonNegative = 0.0
    coverage: _Share = 0.9
    delay: DelaySpec = ExponentialDelay(distribution="exponential", mean_min=10.0)


class RayleighDeparture(_Spec):
    """Mobilisation curve P(t) = 1 - exp(-t^2 / (2 sigma^2)), sigma = t90 / 2.1460."""

    curve: Literal["rayleigh"]
    t90_min: _Positive = 60.0
    noncompliance: _Share = 0.05

    @property
    def sigma_min(self) -> float:
        """Rayleigh scale, minutes (docs/references.md 4.2: t90 = 2.1460 sigma)."""
        return self.t90_min / RAYLEIGH_T90_PER_SIGMA


class LogisticDeparture(_Spec):
    """Mobilisation curve P(t) = 1 / (1 + exp(-alpha (t - beta)))."""

    curve: Literal["logistic"]
    alpha_per_min: Annotated[StrictFloat, Field(gt=0.0, le=10.0)]
    beta_min: _NonNegative
    noncompliance: _Share = 0.05

    @property
    def t90_min(self) -> float:
        """90 % point, minutes: beta + ln 9 / alpha (docs/references.md 4.2)."""
        return self.beta_min + math.log(9.0) / self.alpha_per_min


DepartureSpec = Annotated[RayleighDeparture | LogisticDeparture, Field(discriminator="curve")]


class ExtraShelter(_Spec):
    """A shelter the plan adds: projected ``x_m, y_m`` or WGS84 ``lon, lat``."""

    name: Annotated[StrictStr, Field(min_length=1)]
    capacity: Annotated[StrictInt, Field(gt=0)]
    kind: ShelterKind = "other"
    x_m: StrictFloat | None = None
    y_m: StrictFloat | None = None
    lon: Annotated[StrictFloat, Field(ge=-180.0, le=180.0)] | None = None
    lat: Annotated[StrictFloat, Field(ge=-90.0, le=90.0)] | None = None

    @model_validator(mode="after")
    def _one_location(self) -> ExtraShelter:
        xy = (self.x_m is not None, self.y_m is not None)
        ll = (self.lon is not None, self.lat is not None)
        if not ((all(xy) and not any(ll)) or (all(ll) and not any(xy))):
            raise _field_error("x_m", "either x_m and y_m (projected metres) or lon and lat "
                               "(WGS84 degrees)", {"x_m": self.x_m, "y_m": self.y_m,
                                                   "lon": self.lon, "lat": self.lat})
        return self


_DEFAULT_USABLE = {"park": 0.6, "square": 0.8, "school": 0.5, "stadium": 0.7,
                   "sports_centre": 0.6}


class SheltersSpec(_Spec):
    """``[shelters]``: which map places are shelters, their capacity, plan changes."""

    kinds: tuple[ShelterKind, ...] = ("park", "square", "school", "stadium", "sports_centre")
    area_per_person_m2: Annotated[StrictFloat, Field(gt=0.0, le=100.0)] = 2.0
    usable_fraction: dict[ShelterKind, Annotated[StrictFloat, Field(gt=0.0, le=1.0)]] = Field(
        default_factory=lambda: dict(_DEFAULT_USABLE)
    )
    min_area_m2: _NonNegative = 1000.0
    max_snap_m: _Positive = 500.0
    closed: tuple[StrictStr, ...] = ()
    extra: tuple[ExtraShelter, ...] = ()

    @model_validator(mode="after")
    def _fraction_for_every_kind(self) -> SheltersSpec:
        if not self.kinds and not self.extra:
            raise _field_error("kinds", "at least one shelter kind, or shelters in `extra`",
                               list(self.kinds))
        missing = [k for k in self.kinds if k not in self.usable_fraction]
        if missing:
            raise _field_error("usable_fraction", f"an entry for every listed kind {missing}",
                               dict(self.usable_fraction))
        return self


class TrafficSpec(_Spec):
    """``[traffic]``: vehicle parameters the network compiler and core need."""

    jam_spacing_m: Annotated[StrictFloat, Field(ge=3.0, le=30.0)] = 7.5
    # Stuck rule (sim.core.queue): SUMO's default time-to-teleport, 300 s.
    stuck_time_s: Annotated[StrictFloat, Field(gt=0.0)] = 300.0


class Scenario(_Spec):
    """A validated scenario: every section of the TOML file as a frozen spec object.

    Build it with :func:`load_scenario` or :meth:`Scenario.from_dict`. Paths
    (``scenario.map``, ``population.zones_csv``) are absolute, resolved and existing.
    """

    scenario: ScenarioMeta
    time: TimeSpec = TimeSpec()
    population: PopulationSpec
    walking: WalkingSpec = WalkingSpec()
    warning: WarningSpec = WarningSpec()
    departure: DepartureSpec = RayleighDeparture(curve="rayleigh")
    shelters: SheltersSpec = SheltersSpec()
    traffic: TrafficSpec = TrafficSpec()
    hazards: list[HazardSpec] = []

    _source: str = PrivateAttr(default="<dict>")

    @model_validator(mode="before")
    @classmethod
    def _rayleigh_unless_told(cls, data: Any) -> Any:
        # A [departure] table without `curve` means the default curve, as elsewhere.
        dep = data.get("departure") if isinstance(data, dict) else None
        if isinstance(dep, dict) and "curve" not in dep:
            data = {**data, "departure": {"curve": "rayleigh", **dep}}
        return data

    @model_validator(mode="after")
    def _one_hazard_per_kind(self) -> Scenario:
        # Run-folder outputs and their analysis are keyed by hazard kind
        # (hazard/<kind>_*.csv): a second hazard of a kind would overwrite the first's.
        kinds = [h.kind for h in self.hazards]
        twice = sorted({k for k in kinds if kinds.count(k) > 1})
        if twice:
            raise _field_error("hazards", "at most one hazard of each kind (a flood can have "
                               "several inflows in one entry)", f"more than one {twice}")
        check_chains(self.hazards)  # triggers: sources exist, fit, no loop (sim/hazards/chains.py)
        return self

    @property
    def source(self) -> str:
        """Where the spec was read from (file path, or a label for dicts)."""
        return self._source

    @classmethod
    def from_dict(cls, data: dict, *, source: str, base_dir: str | Path | None = None,
                  overrides: dict | None = None) -> Scenario:
        """Validate a scenario given as a dict (the parsed TOML).

        Parameters
        ----------
        data
            Sections and fields as in the TOML file.
        source
            Label used in error messages (the file path when there is one).
        base_dir
            Folder that relative paths start from; default: the folder of ``source``
            when it names an existing file, else the current directory.
        overrides
            Values replacing those of ``data``: nested dicts or dotted keys
            (``{"time.tick_s": 2.0}``).

        Raises
        ------
        ScenarioError
            Listing every problem, one ``f"{source}: {field}: expected ..., got ..."`` line each.
        """
        if base_dir is None:
            src = Path(source)
            base_dir = src.parent if src.is_file() else Path.cwd()
        merged = copy.deepcopy(data)
        touched = _apply_overrides(merged, overrides or {})
        try:
            spec = cls.model_validate(merged, context={"base_dir": Path(base_dir)})
        except ValidationError as exc:
            lines = [_describe(err, source, touched) for err in exc.errors()]
            raise ScenarioError(f"{source}: {len(lines)} problem(s) in the scenario:\n"
                                + "\n".join(lines)) from None
        spec._source = str(source)
        return spec

    def to_dict(self) -> dict:
        """JSON-safe dict of the full spec (defaults filled in; paths absolute strings)."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """sha256 of the canonical JSON of the spec, location-independent.

        Input files enter as ``{"file": name, "sha256": content hash}`` instead of their
        absolute path, so moving a checkout keeps the digest while editing the map or the
        zone table changes it (a content-addressed key, STYLE.md item 8).
        """
        data = self.to_dict()
        data["scenario"]["map"] = _file_key(self.scenario.map)
        if self.population.zones_csv is not None:
            data["population"]["zones_csv"] = _file_key(self.population.zones_csv)
        data["hazards"] = _file_keys(data.get("hazards", []))
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def horizon_s(self) -> float:
        """Simulated horizon, seconds."""
        return self.time.horizon_h * 3600.0


def _file_keys(value: Any) -> Any:
    """Replace every absolute path of an existing file inside ``value`` by its content key."""
    if isinstance(value, dict):
        return {k: _file_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_file_keys(v) for v in value]
    if isinstance(value, str) and Path(value).is_absolute() and Path(value).is_file():
        return _file_key(Path(value))
    return value


def default_scenario_path() -> Path:
    """Path of the embedded default scenario, ``<repo>/scenarios/default.toml``."""
    return Path(__file__).resolve().parents[1] / "scenarios" / "default.toml"


def load_scenario(path: str | Path, *, overrides: dict | None = None) -> Scenario:
    """Read and validate a scenario TOML file.

    Parameters
    ----------
    path
        The ``.toml`` file. Relative paths inside it resolve against its folder.
    overrides
        Values replacing those of the file, as nested dicts or dotted keys
        (``{"warning.coverage": 0.8}``); relative paths in them also start at the file's
        folder.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        The file is missing or unreadable, is not valid TOML, or has unknown fields,
        wrong types or out-of-range values (all listed together).
    """
    path = Path(path)
    data = read_toml(path, "scenario file")
    return Scenario.from_dict(data, source=str(path), base_dir=path.resolve().parent,
                              overrides=overrides)


# --- private machinery -------------------------------------------------------------------

def _file_key(path: Path) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"file": path.name, "sha256": digest.hexdigest()}


def _apply_overrides(data: dict, overrides: dict, prefix: str = "") -> set[str]:
    """Merge ``overrides`` into ``data`` in place; return the dotted keys touched."""
    touched: set[str] = set()
    for key, value in overrides.items():
        parts = str(key).split(".")
        target = data
        for part in parts[:-1]:
            nxt = target.get(part)
            if not isinstance(nxt, dict):
                nxt = target[part] = {}
            target = nxt
        leaf = parts[-1]
        dotted = prefix + ".".join(parts)
        if isinstance(value, dict) and isinstance(target.get(leaf), dict):
            touched |= _apply_overrides(target[leaf], value, dotted + ".")
        else:
            target[leaf] = copy.deepcopy(value)
            touched.add(dotted)
    return touched


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``None`` from a type."""
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    args = typing.get_args(tp)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        tp = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _walk(loc: tuple, root: type) -> tuple[str, Any]:
    """Dotted field name for a pydantic ``loc`` and the type found at its parent."""
    text, cur, parent = "", root, None
    for item in loc:
        parent = cur
        cur = _unwrap(cur) if cur is not None else None
        members = [m for m in typing.get_args(cur) if _is_model(m)] if cur is not None else []
        if members and all(_is_model(m) for m in typing.get_args(cur)):
            # A tagged union: pydantic puts the tag value in loc; keep it out of the name.
            tag_member = next((m for m in members if item in _tags(m)), None)
            if tag_member is not None:
                cur = tag_member
                continue
        if item == "[key]":  # pydantic's marker for a bad dict key
            text += " (key)"
            continue
        if isinstance(item, int):
            text += f"[{item}]"
            args = typing.get_args(cur) if cur is not None else ()
            cur = args[0] if args else None
            continue
        text += ("." if text else "") + str(item)
        if _is_model(cur) and item in cur.model_fields:
            cur = cur.model_fields[item].annotation
        elif typing.get_origin(cur) is dict:
            cur = typing.get_args(cur)[1]
        else:
            cur = None
    return text, parent


def _tags(model: type) -> tuple:
    for name in ("distribution", "curve", "kind"):
        if name in model.model_fields:
            return typing.get_args(_unwrap(model.model_fields[name].annotation))
    return ()


def _describe(err: dict, source: str, touched: set[str]) -> str:
    """One ``path: field: expected ..., got ...`` line for a pydantic error dict."""
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    got = repr(err.get("input"))
    if kind == "scenario_field":
        loc = loc + (ctx["field"],)
        expected, got = f"expected {ctx['expected']}", ctx["got"]
    elif kind == "scenario_required":
        expected, got = err["msg"], "nothing"
    elif kind == "scenario_path":
        expected = "expected " + err["msg"].removeprefix("expected ").rsplit(", got ", 1)[0]
    elif kind == "extra_forbidden":
        _, parent = _walk(loc, Scenario)
        parent = _unwrap(parent) if parent is not None else None
        known = ", ".join(parent.model_fields) if _is_model(parent) else "the documented fields"
        expected = f"expected one of the known fields ({known})"
        got = f"an unknown field = {got}"
    elif kind == "string_pattern_mismatch":
        expected = f"expected text matching {ctx.get('pattern')} (lowercase letters, digits, '-')"
    elif kind == "missing":
        expected, got = "expected a value (required field)", "nothing"
    elif kind == "union_tag_invalid":
        loc = loc + (ctx.get("discriminator", "").strip("'"),)
        expected, got = f"expected one of {ctx.get('expected_tags')}", repr(ctx.get("tag"))
    elif kind == "union_tag_not_found":
        loc = loc + (ctx.get("discriminator", "").strip("'"),)
        expected, got = "expected this field to choose the variant", "nothing"
    else:
        msg = str(err.get("msg", kind))
        msg = msg.removeprefix("Value error, ").removeprefix("Input should be ")
        expected = f"expected {msg}"
    dotted, _ = _walk(loc, Scenario)
    if any(dotted == t or dotted.startswith(t + ".") for t in touched):
        dotted += " (override)"
    return f"{source}: {dotted}: {expected}, got {got}"
