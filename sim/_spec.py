"""Building blocks of the scenario spec, shared by :mod:`sim.scenario` and the hazards.

Kept apart from :mod:`sim.scenario` so a hazard module can define its own section of the
scenario file (``[[hazards]]``) without importing the scenario module that lists it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, ValidationInfo
from pydantic_core import PydanticCustomError

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
    path = path.resolve()
    if not path.is_file():
        raise PydanticCustomError(
            "scenario_path",
            "expected an existing file ({what}; relative paths start at {base}), got {got}",
            {"what": what, "base": str(base), "got": repr(str(value))},
        )
    return path


class Spec(BaseModel):
    """Base of every spec section: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")
