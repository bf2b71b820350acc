"""Dotted field paths into a scenario or plan (as its JSON dict), checked against the spec.

A path is the TOML field names joined by dots: ``warning.coverage``,
``departure.noncompliance``, ``shelters.closed``. Inside a list an element is addressed by
its index (``depots.0.trucks.count``); inside ``hazards`` also by its kind
(``hazards.earthquake.magnitude``; a scenario has at most one hazard of each kind).

Paths are resolved against the *full* spec dict (:meth:`Scenario.to_dict`, defaults
filled in), so every field the schema has is addressable and a misspelt one is refused
with the list of fields at that level. Values are then checked by validating the changed
dict with the scenario's own pydantic schema, so range checks apply.
"""

from __future__ import annotations

import copy
from typing import Any

Key = str | int


def resolve(data: Any, path: str) -> tuple[Key, ...]:
    """Concrete keys of ``path`` in ``data``.

    Parameters
    ----------
    data : dict
        A spec as a JSON dict (every field present).
    path : str
        Dotted path, see the module notes.

    Returns
    -------
    tuple of str or int
        Dict keys and list indices, in order.

    Raises
    ------
    KeyError
        With a message saying which segment is unknown and what was expected there.
    """
    if not isinstance(path, str) or not path or any(not s for s in path.split(".")):
        raise KeyError(f"expected a dotted field path like 'warning.coverage', got {path!r}")
    keys: list[Key] = []
    cur = data
    done: list[str] = []
    for seg in path.split("."):
        where = ".".join(done) or "the top level"
        if isinstance(cur, dict):
            if seg not in cur:
                known = ", ".join(map(str, cur)) or "none"
                raise KeyError(f"unknown field {seg!r} in {where}; expected one of: {known}")
            keys.append(seg)
            cur = cur[seg]
        elif isinstance(cur, list):
            if seg.isdigit():
                i = int(seg)
                if i >= len(cur):
                    raise KeyError(f"{where} has {len(cur)} element(s); index {i} is out of range")
            else:
                kinds = [e.get("kind") if isinstance(e, dict) else None for e in cur]
                if seg not in kinds:
                    have = [k for k in kinds if k is not None]
                    raise KeyError(f"{where}: expected an index 0..{len(cur) - 1}"
                                   + (f" or a kind ({', '.join(have)})" if have else "")
                                   + f", got {seg!r}")
                i = kinds.index(seg)
            keys.append(i)
            cur = cur[i]
        else:
            raise KeyError(f"{where} is a value ({cur!r}), not a section; "
                           f"nothing below it can be set")
        done.append(seg)
    return tuple(keys)


def get(data: Any, keys: tuple[Key, ...]) -> Any:
    """Value at ``keys`` (from :func:`resolve`)."""
    for k in keys:
        data = data[k]
    return data


def with_values(data: dict, values: dict[tuple[Key, ...], Any]) -> dict:
    """A deep copy of ``data`` with each ``keys -> value`` set."""
    out = copy.deepcopy(data)
    for keys, value in values.items():
        target = get(out, keys[:-1])
        target[keys[-1]] = copy.deepcopy(value)
    return out


def coerce_like(current: Any, value: Any) -> Any:
    """``value`` as the JSON type of the field it replaces (numpy scalars to Python).

    A sampled number for an integer field is rounded to the nearest integer; for a
    float field it becomes a Python float. Other values pass unchanged.
    """
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(current, bool) or isinstance(value, bool):
        return value
    if isinstance(current, int) and isinstance(value, float):
        return int(round(value))
    if isinstance(current, float) and isinstance(value, int):
        return float(value)
    return value
