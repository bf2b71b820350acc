"""Which documented assumptions a run relied on, with their sources.

The one place that says where each scenario field's number comes from is the field tables
of ``scenarios/README.md`` (column "meaning, source"; "assumption" marks a number no
source backs) and, for plan fields, ``scenarios/plans/README.md``. This module reads those
tables (rows ``| `field` | ... |`` under ``## [section]`` or ``## Hazards: <kind>``
headings) and pairs every field of the run's scenario spec (the manifest's
``scenario.spec``) with its row. ``tests/test_seeit_report.py`` checks that every field of
the default scenario finds its row, so the README and the report cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["PLAN_README", "README", "assumption_rows", "field_sources", "plan_rows"]

README = Path(__file__).resolve().parents[2] / "scenarios" / "README.md"
"""The scenario field reference (in a source checkout)."""
PLAN_README = README.parent / "plans" / "README.md"
"""The plan field reference."""

_SECTION = re.compile(
    r"^##\s+(?:\[\[?(?P<section>[a-z_.<>]+)\]\]?|Hazards:\s*(?P<hazard>\w+))")
_ROW = re.compile(r"^\|\s*`(?P<fields>[^|]+?)`[^|]*\|(?P<rest>.*)\|\s*$")
_HAZARD_KIND = {"chemical": "chemical", "earthquake": "earthquake", "flood": "flood"}


@functools.cache
def field_sources(readme: Path = README) -> dict[str, str]:
    """``{"section.field": "meaning, source"}`` from the README's field tables.

    Hazard fields are keyed ``hazards.<kind>.<field>``. A row naming several fields
    (```a`, `b```, ```a` / `b```) gives each of them the same text. A missing README gives
    an empty dict (the report then says the sources are not available).
    """
    if not readme.is_file():
        return {}
    out: dict[str, str] = {}
    prefix = None
    for line in readme.read_text(encoding="utf-8").splitlines():
        m = _SECTION.match(line)
        if m:
            prefix = (m["section"] if m["section"] else
                      f"hazards.{_HAZARD_KIND.get(m['hazard'].lower(), m['hazard'].lower())}")
            continue
        if line.startswith("## "):
            prefix = None
            continue
        if prefix is None or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`([a-z0-9_]+)`", cells[0])
        text = cells[-1]
        for name in names:
            out.setdefault(f"{prefix}.{name}", text)
    return out


def _lookup(sources: dict[str, str], key: str) -> str:
    """The source text of ``key``; README sections like ``incidents.<kind>`` match any name."""
    if key in sources:
        return sources[key]
    for pattern, text in sources.items():
        if "<" in pattern and re.fullmatch(re.sub(r"<[^>]+>", "[^.]+", re.escape(pattern)
                                                  .replace(r"\<", "<").replace(r"\>", ">")),
                                           key):
            return text
    return ""


def _flatten(spec: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in spec.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and key not in ("usable_fraction", "delay", "source",
                                                   "actions", "zone_actions", "receptor",
                                                   "mix_low", "mix_mid", "mix_high",
                                                   "code_mix", "code_years",
                                                   "stock_per_place", "stock", "trucks"):
            rows += _flatten(value, f"{name}.")
        else:
            rows.append((name, value))
    return rows


def assumption_rows(spec: dict, readme: Path = README) -> list[dict[str, object]]:
    """One row per scenario field the run used: value, source text and assumption flag.

    Parameters
    ----------
    spec : dict
        The manifest's ``scenario.spec`` (what :meth:`sim.scenario.Scenario.to_dict` gave).
    readme : Path
        The field reference to read the sources from.

    Returns
    -------
    list of dict
        ``field`` (dotted, hazards as ``hazards[i].<field>``), ``value`` (as recorded),
        ``source`` (the README's "meaning, source" text, ``""`` when the README has no row)
        and ``assumption`` (the text says no source backs the number).
    """
    sources = field_sources(readme)
    rows = []
    for name, value in _flatten({k: v for k, v in spec.items() if k != "hazards"}):
        rows.append((name, name, value))
    for i, hz in enumerate(spec.get("hazards") or []):
        kind = str(hz.get("kind", ""))
        for name, value in _flatten({k: v for k, v in hz.items()
                                     if k not in ("inflows", "rasters", "buildings")}):
            rows.append((f"hazards[{i}].{name}", f"hazards.{kind}.{name}", value))
    out = []
    for shown, key, value in rows:
        text = _lookup(sources, key)
        out.append({"field": shown, "value": value, "source": text,
                    "assumption": "assumption" in text.lower()})
    return out


def plan_rows(manifest: dict, readme: Path = PLAN_README) -> tuple[str, list[dict[str, object]]]:
    """The plan's fields with their sources, read from the plan file the run used.

    The manifest keeps the plan's path and sha256, not its contents, so the file is read
    again and used only if its sha256 is still the recorded one.

    Returns
    -------
    (str, list of dict)
        A status (``"none"``: the run had no plan; ``"missing"``: the file is gone;
        ``"changed"``: its bytes differ from the run's; ``"ok"``) and, when ``"ok"``, one
        row per field as :func:`assumption_rows` gives (lists of stations and depots are
        left out: they are places and stock, not numbers with a source).
    """
    import hashlib
    import tomllib

    plan = manifest.get("plan")
    if not isinstance(plan, dict):
        return "none", []
    path = Path(str(plan.get("path", "")))
    if not path.is_file():
        return "missing", []
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != plan.get("sha256"):
        return "changed", []
    spec = tomllib.loads(data.decode("utf-8"))
    sources = field_sources(readme)
    rows = []
    for name, value in _flatten({k: v for k, v in spec.items() if not isinstance(v, list)}):
        text = _lookup(sources, name)
        rows.append({"field": name, "value": value, "source": text,
                     "assumption": "assumption" in text.lower()})
    return "ok", rows
