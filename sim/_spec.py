"""Building blocks of the scenario spec, shared by :mod:`sim.scenario` and the hazards.

Kept apart from :mod:`sim.scenario` so a hazard module can define its own section of the
scenario file (``[[hazards]]``) without importing the scenario module that lists it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, ValidationInfo
from pydantic_core import PydanticCustomError

from sim._errors import ScenarioError

Share = Annotated[StrictFloat, Field(ge=0.0, le=1.0)]
Positive = Annotated[StrictFloat, Field(gt=0.0)]
NonNegative = Annotated[StrictFloat, Field(ge=0.0)]


def field_error(field: str, expected: str, got: Any) -> PydanticCustomError:
    """Build a validation error that names a sub-field of the model being validated."""
    return PydanticCustomError(
        "scenario_field",
        "{field}: expected {expected}, got {got}",
        {"field": field, "expected": expected, "got": repr(got)},
    )


def resolve_existing(value: Any, info: ValidationInfo, what: str) -> Path:
    """Resolve ``value`` against the scenario folder (validation context) and check it exists."""
    if not isinstance(value, (str, Path)) or str(value) == "":
        raise PydanticCustomError(
            "scenario_path", "expected a path string to {what}, got {got}",
            {"what": what, "got": repr(value)},
        )
    base = Path((info.context or {}).get("base_dir", "."))
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    try:
        path = path.resolve()
        exists = path.is_file()
    except (OSError, RuntimeError) as err:  # a name too long, a symlink loop, ...
        raise PydanticCustomError(
            "scenario_path", "expected a usable path to {what}, got {got} ({err})",
            {"what": what, "got": repr(str(value)), "err": err.__class__.__name__},
        ) from None
    if not exists:
        raise PydanticCustomError(
            "scenario_path",
            "expected an existing file ({what}; relative paths start at {base}), got {got}",
            {"what": what, "base": str(base), "got": repr(str(value))},
        )
    return path


class Spec(BaseModel):
    """Base of every spec section: frozen, unknown fields rejected, numbers finite.

    ``allow_inf_nan=False``: TOML can spell ``inf`` and ``nan``, and a range check such as
    ``gt=0`` lets ``inf`` through; no field of evacsim means "infinite", so they are refused
    where they are read, not after a run when the manifest is written.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def read_toml(path: Path, what: str) -> dict:
    """Parse a TOML file, or raise one :class:`ScenarioError` naming the file.

    ``what`` names the kind of file in the message ("scenario file", "plan file").
    """
    try:
        found = path.is_file()
    except OSError as err:  # e.g. a file name too long for the file system
        raise ScenarioError(f"{path}: expected a usable path to a {what} (.toml), got "
                            f"{err.strerror or err.__class__.__name__}") from None
    if not found:
        msg = f"{path}: expected an existing {what} (.toml), got nothing at that path"
        raise ScenarioError(msg)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: expected valid TOML, got a syntax error: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: expected a readable UTF-8 text file, got {exc}") from None
