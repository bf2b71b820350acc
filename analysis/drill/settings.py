"""Exercise settings of a drill package: the drill TOML file and the CLI flags.

A drill file (``scenarios/drills/*.toml``, every field documented in
``scenarios/drills/README.md``) is validated with pydantic; an error names the file and
the field. CLI flags override the file's fields. Timing (duration, compression) is
checked against the run's horizon once the run is known (:func:`resolve_timing`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictFloat, StrictInt, StrictStr, ValidationError, field_validator

from sim._errors import ScenarioError
from sim._spec import Spec, read_toml

EXERCISE_TYPES = ("tabletop", "functional", "full-scale")
"""HSEEP exercise types (FEMA, HSEEP 2020, ch. 2: discussion-based tabletop; operations-based
functional and full-scale exercises)."""

ROLES = ("eoc_commander", "fire_rescue", "police_traffic", "health", "subdistrict_offices",
         "shelter_managers", "logistics", "neighbour_liaison", "public_information")
"""Player roles a drill may use; all of them take part by default."""

VARIANT_KINDS = ("close_shelter", "remove_teams", "wind_shift", "second_breach",
                 "delay_warning", "aftershock")


class VariantSpec(Spec):
    """``[[variants]]``: one change that becomes a second run (see :mod:`.variants`)."""

    kind: Literal["close_shelter", "remove_teams", "wind_shift", "second_breach",
                  "delay_warning", "aftershock"]
    shelter: StrictStr | None = None               # close_shelter: a shelter name of the run
    share: Annotated[StrictFloat, Field(gt=0.0, lt=1.0)] | None = None  # remove_teams
    at_min: Annotated[StrictFloat, Field(gt=0.0)] | None = None  # wind_shift, second_breach, ...
    from_deg: Annotated[StrictFloat, Field(ge=0.0, lt=360.0)] | None = None  # wind_shift
    speed_mps: Annotated[StrictFloat, Field(gt=0.0)] | None = None  # wind_shift (default: same)
    inflow: StrictStr | None = None                # second_breach: inflow copied (default first)
    delay_min: Annotated[StrictFloat, Field(gt=0.0)] | None = None  # delay_warning
    magnitude: StrictFloat | None = None           # aftershock (refused: not modelled)


class ExerciseSpec(Spec):
    """``[exercise]``: type, timing, density and language of the package."""

    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)] = "drill"
    title: StrictStr = ""
    type: Literal["tabletop", "functional", "full-scale"] = "tabletop"
    duration_h: Annotated[StrictFloat, Field(gt=0.0, le=72.0)] = 3.0
    compression: Annotated[StrictFloat, Field(gt=0.0, le=1000.0)] | None = None
    start_clock: StrictStr = "09:00"
    injects_per_hour: Annotated[StrictFloat, Field(gt=0.0, le=60.0)] = 6.0
    media_share: Annotated[StrictFloat, Field(ge=0.0, le=0.9)] = 0.2
    seed: Annotated[StrictInt, Field(ge=0)] = 0
    lang: Literal["en", "zh"] = "en"

    @field_validator("start_clock")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            msg = f"a clock time HH:MM (00:00 to 23:59), got {value!r}"
            raise ValueError(msg)
        return value


class ObjectivesSpec(Spec):
    """``[objectives]``: targets not in the plan file (the plan's targets come from the run)."""

    report_min: Annotated[StrictFloat, Field(gt=0.0)] = 30.0
    act_min: Annotated[StrictFloat, Field(gt=0.0)] = 15.0


class DrillSpec(Spec):
    """A validated drill file."""

    exercise: ExerciseSpec = ExerciseSpec()
    roles: tuple[StrictStr, ...] = ROLES
    objectives: ObjectivesSpec = ObjectivesSpec()
    scenario: StrictStr | None = None   # scenario TOML, relative to the drill file
    plan: StrictStr | None = None       # plan TOML, relative to the drill file
    variants: tuple[VariantSpec, ...] = ()

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [r for r in value if r not in ROLES]
        if bad:
            msg = f"roles out of {list(ROLES)}, got unknown {bad}"
            raise ValueError(msg)
        if not value:
            msg = "at least one role"
            raise ValueError(msg)
        if "eoc_commander" not in value:
            msg = "a list including 'eoc_commander' (injects for absent roles go to it)"
            raise ValueError(msg)
        return tuple(dict.fromkeys(value))


def _describe(err: dict, source: str) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = err.get("msg", "").removeprefix("Value error, ")
    got = err.get("input")
    return f"{source}: {loc or '(top)'}: expected {msg}" + (
        "" if isinstance(got, dict) else f" (got {got!r})")


def drill_from_dict(data: dict, *, source: str = "<flags>") -> DrillSpec:
    """Validate drill settings given as a dict (the parsed TOML, flags merged in).

    Raises
    ------
    ScenarioError
        One line per problem: ``f"{source}: {field}: expected ..."``.
    """
    try:
        return DrillSpec.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(e, source) for e in exc.errors()]
        raise ScenarioError(f"{source}: {len(lines)} problem(s) in the drill settings:\n"
                            + "\n".join(lines)) from None


def load_drill(path: str | Path | None, *, overrides: dict | None = None) -> tuple[DrillSpec, Path]:
    """Read a drill file (or none) and apply CLI overrides.

    Parameters
    ----------
    path : str or Path, optional
        The drill ``.toml``; ``None`` starts from the defaults.
    overrides : dict, optional
        ``{"exercise": {...}, "roles": [...], "variants": [...]}``: values given on the
        command line; they replace the file's (variants are appended).

    Returns
    -------
    (DrillSpec, Path)
        The settings and the folder that the file's relative paths start from.
    """
    data: dict[str, Any] = {}
    base = Path.cwd()
    source = "<flags>"
    if path is not None:
        path = Path(path)
        data = read_toml(path, "drill file")
        base = path.resolve().parent
        source = str(path)
    for key, value in (overrides or {}).items():
        if key == "exercise":
            data["exercise"] = {**data.get("exercise", {}), **value}
        elif key == "variants":
            data["variants"] = [*data.get("variants", []), *value]
        else:
            data[key] = value
    return drill_from_dict(data, source=source), base


@dataclass(frozen=True)
class Timing:
    """How scenario time maps onto the exercise clock.

    ``exercise_s = scenario_s / compression``; the clock reads ``start_s + exercise_s``
    (seconds after midnight of the exercise day), truncated to whole seconds for display.
    """

    duration_h: float
    compression: float
    start_s: int
    window_s: float

    def clock_s(self, t_s: float) -> float:
        """Exercise clock (seconds after midnight) at scenario time ``t_s`` (s)."""
        return self.start_s + t_s / self.compression


def resolve_timing(ex: ExerciseSpec, horizon_s: float, *, where: str) -> Timing:
    """Check duration and compression against the run's horizon and fill the default.

    The default compression plays the whole run in ``duration_h``.

    Raises
    ------
    ScenarioError
        If ``duration_h * compression`` hours exceed the run's horizon.
    """
    if ex.compression is None:
        compression = horizon_s / (ex.duration_h * 3600.0)
    else:
        compression = ex.compression
    window_s = ex.duration_h * 3600.0 * compression
    if window_s > horizon_s * (1 + 1e-9):
        msg = (f"{where}: exercise.duration_h: expected at most "
               f"{horizon_s / 3600.0 / compression:g} h (the run's {horizon_s / 3600.0:g} h "
               f"scenario at compression {compression:g}), got {ex.duration_h:g} h; "
               "shorten the exercise, lower the compression or simulate a longer horizon")
        raise ScenarioError(msg)
    hh, mm = (int(x) for x in ex.start_clock.split(":"))
    return Timing(ex.duration_h, compression, hh * 3600 + mm * 60, min(window_s, horizon_s))


def fmt_clock(seconds: float) -> str:
    """``HH:MM:SS`` of seconds after midnight (truncated), ``+1d`` after midnight.

    Examples
    --------
    >>> fmt_clock(9 * 3600 + 75.9)
    '09:01:15'
    >>> fmt_clock(24 * 3600 + 60)
    '00:01:00+1d'
    """
    s = int(seconds // 1)
    day, rest = divmod(s, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return text + (f"+{day}d" if day else "")


def fmt_scenario(t_s: float) -> str:
    """``T+H:MM:SS`` scenario time (truncated to whole seconds).

    Examples
    --------
    >>> fmt_scenario(3755.0)
    'T+1:02:35'
    """
    s = int(t_s // 1)
    return f"T+{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
