"""The zone population table: ``zone,population[,kind]``, one row per zone or sub-district.

Read by the population sources that take per-zone totals (``zones``, ``buildings``) and by
the plan check, without importing one another.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sim._errors import ScenarioError


def read_zone_table(path: Path, *, known_zones: set[str] | None = None
                    ) -> tuple[list[str], np.ndarray, list[int]]:
    """Read ``zone,population[,kind]`` (UTF-8, header row) and check every row.

    Returns
    -------
    names : list[str]
    population : int64[Z]
    lines : list[int]
        File line of each zone (header = line 1), for messages.

    Raises
    ------
    ScenarioError
        Missing or unknown columns, empty/duplicate zone names, a population that is not
        a whole number >= 0, or a zone not in ``known_zones``; all rows reported together.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: expected a readable UTF-8 CSV file, got {exc}") from None
    if not rows:
        raise ScenarioError(f"{path}: expected a header row zone,population[,kind], got an "
                            "empty file")
    header = [h.strip() for h in rows[0]]
    problems = []
    for col in ("zone", "population"):
        if col not in header:
            problems.append(f"{path}: line 1: column {col!r}: expected a header with "
                            f"zone,population[,kind], got {header!r}")
    unknown = [h for h in header if h not in ("zone", "population", "kind")]
    if unknown:
        problems.append(f"{path}: line 1: expected only columns zone, population, kind, got "
                        f"{unknown!r}")
    if problems:
        raise ScenarioError("\n".join(problems))
    iz, ip = header.index("zone"), header.index("population")
    names: list[str] = []
    pops: list[int] = []
    lines: list[int] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue  # blank line
        if len(row) != len(header):
            problems.append(f"{path}: line {line}: expected {len(header)} columns, got {row!r}")
            continue
        name, raw = row[iz].strip(), row[ip].strip()
        if not name:
            problems.append(f"{path}: line {line}: zone: expected a zone name, got {row[iz]!r}")
        elif name in names:
            problems.append(f"{path}: line {line}: zone: expected each zone once, got "
                            f"{name!r} again")
        elif known_zones is not None and name not in known_zones:
            shown = ", ".join(sorted(known_zones)[:20]) or "none"
            problems.append(f"{path}: line {line}: zone: expected a zone of the map ({shown}), "
                            f"got {name!r}")
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < 0:
            problems.append(f"{path}: line {line}: population: expected a whole number >= 0, "
                            f"got {raw!r}")
            value = 0
        names.append(name)
        pops.append(value)
        lines.append(line)
    if problems:
        raise ScenarioError(f"{path}: {len(problems)} problem(s) in the zone table:\n"
                            + "\n".join(problems))
    return names, np.asarray(pops, dtype=np.int64), lines
