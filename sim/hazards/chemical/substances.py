"""Toxic substances: molar mass, AEGL-1/2/3, toxic-load exponent and lethality probit.

The table is data, ``sim/hazards/data/substances.toml``: one TOML table per substance,
each value with its source and status ([V] verified, [U] unverified). Add a substance by
adding a table; :func:`load_substances` checks every row and names the file, the row and
the field of any problem.

Toxic load and probit (docs/references.md §1.9): ``L = ∫ C(t)^n dt`` in ppm^n·min and
``Y = a + b ln L``; the probability of death is ``Φ(Y − 5)``.
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from sim._errors import ScenarioError

AEGL_DURATIONS_MIN: tuple[float, ...] = (10.0, 30.0, 60.0, 240.0, 480.0)
"""The five AEGL exposure durations, minutes (NRC AEGL programme)."""

_REQUIRED = (
    "name",
    "name_zh",
    "cas",
    "molar_mass_g_mol",
    "molar_mass_source",
    "aegl_durations_min",
    "aegl1_ppm",
    "aegl2_ppm",
    "aegl3_ppm",
    "aegl_status",
    "aegl_source",
    "toxic_load_exponent",
)
_OPTIONAL = ("probit_a", "probit_b", "probit_source")


@dataclass(frozen=True)
class Substance:
    """One row of the substance table.

    Attributes
    ----------
    key : str
        Table name, as scenarios spell it (``"chlorine"``).
    name, name_zh, cas : str
    molar_mass_g_mol : float
    aegl_ppm : float64[3, 5]
        Row k-1 = AEGL-k, columns = :data:`AEGL_DURATIONS_MIN`.
    aegl_verified : bool
        False where the AEGL values are marked [U] in the table.
    toxic_load_exponent : float
        n of the toxic load ∫ C^n dt (C in ppm, t in min).
    probit_a, probit_b : float or None
        Lethality probit constants; ``None`` when no probit is known.
    sources : dict[str, str]
    """

    key: str
    name: str
    name_zh: str
    cas: str
    molar_mass_g_mol: float
    aegl_ppm: np.ndarray
    aegl_verified: bool
    toxic_load_exponent: float
    probit_a: float | None
    probit_b: float | None
    sources: dict

    @property
    def has_probit(self) -> bool:
        """A lethality probit is known for this substance."""
        return self.probit_a is not None and self.probit_b is not None

    def aegl(self, level: int, duration_min: float) -> float:
        """AEGL-``level`` (1, 2 or 3) for one of the tabulated durations, ppm.

        Examples
        --------
        >>> get_substance("chlorine").aegl(3, 60)
        20.0
        """
        if level not in (1, 2, 3):
            raise ValueError(f"level: expected 1, 2 or 3, got {level!r}")
        try:
            col = AEGL_DURATIONS_MIN.index(float(duration_min))
        except ValueError:
            msg = (
                f"duration_min: expected one of the AEGL durations "
                f"{', '.join(f'{d:g}' for d in AEGL_DURATIONS_MIN)} min, got {duration_min!r}"
            )
            raise ValueError(msg) from None
        return float(self.aegl_ppm[level - 1, col])

    def ppm_to_g_m3(self, ppm):
        """Ppm → g/m³ at 25 °C, 1 atm (docs/references.md §1.6)."""
        from sim.hazards.chemical.dispersion import ppm_to_mg_m3

        return ppm_to_mg_m3(ppm, self.molar_mass_g_mol) / 1000.0

    def g_m3_to_ppm(self, g_m3):
        """g/m³ → ppm at 25 °C, 1 atm (docs/references.md §1.6)."""
        from sim.hazards.chemical.dispersion import mg_m3_to_ppm

        return mg_m3_to_ppm(np.asarray(g_m3, dtype=np.float64) * 1000.0, self.molar_mass_g_mol)

    def probit(self, toxic_load):
        """Probit Y for a toxic load (ppm^n·min); ``-inf`` for a zero load.

        Examples
        --------
        >>> round(float(get_substance("chlorine").probit(100.0**2 * 30.0)), 3)
        3.313
        """
        if not self.has_probit:
            raise ValueError(f"{self.key}: no lethality probit in the substance table")
        load = np.asarray(toxic_load, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return self.probit_a + self.probit_b * np.log(np.maximum(load, 0.0))

    def death_probability(self, toxic_load):
        """P(death) = Φ(Y − 5) for a toxic load; 0 where no probit is known.

        Examples
        --------
        >>> round(float(get_substance("chlorine").death_probability(100.0**2 * 30.0)), 4)
        0.0458
        """
        from scipy.special import ndtr  # scipy loads when a probability is needed

        load = np.asarray(toxic_load, dtype=np.float64)
        if not self.has_probit:
            return np.zeros(load.shape)
        return ndtr(self.probit(load) - 5.0)

    def lc50_ppm(self, duration_min: float) -> float:
        """Constant concentration that kills half the exposed in ``duration_min`` (Y = 5).

        Examples
        --------
        >>> round(get_substance("chlorine").lc50_ppm(10.0))  # Withers & Lees: 433 ppm
        433
        """
        if not self.has_probit:
            raise ValueError(f"{self.key}: no lethality probit in the substance table")
        load = math.exp((5.0 - self.probit_a) / self.probit_b)
        return (load / float(duration_min)) ** (1.0 / self.toxic_load_exponent)


def _row(key: str, row: object, where: str) -> Substance:
    if not isinstance(row, dict):
        raise ScenarioError(f"{where}: [{key}]: expected a table of fields, got {row!r}")
    missing = [f for f in _REQUIRED if f not in row]
    unknown = [f for f in row if f not in _REQUIRED + _OPTIONAL]
    if missing or unknown:
        raise ScenarioError(
            f"{where}: [{key}]: expected the fields {', '.join(_REQUIRED)} "
            f"(+ optional {', '.join(_OPTIONAL)}); missing {missing}, unknown {unknown}"
        )
    if tuple(float(d) for d in row["aegl_durations_min"]) != AEGL_DURATIONS_MIN:
        raise ScenarioError(
            f"{where}: [{key}]: aegl_durations_min: expected {list(AEGL_DURATIONS_MIN)}, "
            f"got {row['aegl_durations_min']!r}"
        )
    aegl = []
    for level in (1, 2, 3):
        values = row[f"aegl{level}_ppm"]
        if (
            not isinstance(values, list)
            or len(values) != 5
            or not all(isinstance(v, int | float) and v > 0 for v in values)
        ):
            raise ScenarioError(
                f"{where}: [{key}]: aegl{level}_ppm: expected 5 numbers > 0 ppm, got {values!r}"
            )
        aegl.append([float(v) for v in values])
    table = np.array(aegl)
    if np.any(np.diff(table, axis=0) < 0):
        raise ScenarioError(
            f"{where}: [{key}]: expected AEGL-1 <= AEGL-2 <= AEGL-3 at every "
            f"duration, got {table.tolist()}"
        )
    for name in ("molar_mass_g_mol", "toxic_load_exponent"):
        value = row[name]
        if not (isinstance(value, int | float) and value > 0):
            raise ScenarioError(f"{where}: [{key}]: {name}: expected a number > 0, got {value!r}")
    if row["aegl_status"] not in ("V", "U"):
        raise ScenarioError(
            f"{where}: [{key}]: aegl_status: expected 'V' or 'U', got {row['aegl_status']!r}"
        )
    has_a, has_b = "probit_a" in row, "probit_b" in row
    if has_a != has_b or (has_a and "probit_source" not in row):
        raise ScenarioError(
            f"{where}: [{key}]: expected probit_a, probit_b and probit_source "
            "together, or none of them"
        )
    return Substance(
        key=key,
        name=str(row["name"]),
        name_zh=str(row["name_zh"]),
        cas=str(row["cas"]),
        molar_mass_g_mol=float(row["molar_mass_g_mol"]),
        aegl_ppm=table,
        aegl_verified=row["aegl_status"] == "V",
        toxic_load_exponent=float(row["toxic_load_exponent"]),
        probit_a=float(row["probit_a"]) if has_a else None,
        probit_b=float(row["probit_b"]) if has_b else None,
        sources={
            k: str(row[k])
            for k in ("molar_mass_source", "aegl_source", "probit_source")
            if k in row
        },
    )


def load_substances(path: str | Path | None = None) -> dict[str, Substance]:
    """Read and check a substance table (default: the packaged one).

    Parameters
    ----------
    path : str or Path, optional
        A TOML file in the format of ``sim/hazards/data/substances.toml``.

    Raises
    ------
    ScenarioError
        The file is unreadable or a row lacks a field or has a bad value (named).
    """
    if path is None:
        return dict(_packaged())
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(
            f"{path}: expected a readable TOML substance table, got {exc}"
        ) from None
    return {key: _row(key, row, str(path)) for key, row in data.items()}


@functools.cache
def _packaged() -> dict[str, Substance]:
    text = (
        resources.files("sim")
        .joinpath("hazards")
        .joinpath("data")
        .joinpath("substances.toml")
        .read_text(encoding="utf-8")
    )
    where = "sim/hazards/data/substances.toml"
    return {key: _row(key, row, where) for key, row in tomllib.loads(text).items()}


def substance_names() -> tuple[str, ...]:
    """Keys of the packaged substance table, sorted."""
    return tuple(sorted(_packaged()))


def get_substance(key: str) -> Substance:
    """One substance of the packaged table.

    Raises
    ------
    ValueError
        ``key`` is not in the table (the message lists the known ones).

    Examples
    --------
    >>> get_substance("chlorine").molar_mass_g_mol
    70.9
    """
    table = _packaged()
    if key not in table:
        msg = f"substance: expected one of {', '.join(sorted(table))}, got {key!r}"
        raise ValueError(msg)
    return table[key]
