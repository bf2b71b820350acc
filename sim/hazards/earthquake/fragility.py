"""HAZUS fragility curves and casualty rates for buildings, bridges and tunnels.

- Buildings: HAZUS "equivalent-PGA" curves, P(DS ≥ ds | PGA) = Φ(ln(PGA / median) / β),
  β = 0.64, four damage states (slight, moderate, extensive, complete) for the HAZUS model
  building types (W1, C1L, URML, ...) at four seismic design levels (``high``,
  ``moderate``, ``low``, ``pre``-code) — ``data/hazus_eqpga_fragility.csv``
  (docs/references.md §3.3).
- Casualties: HAZUS-MH 5.1 indoor casualty rates by damage state and severity 1–4, with
  Complete split into collapse (probability ``p_collapse`` by type) and no collapse —
  ``data/hazus_casualty_rates.csv`` (docs/references.md §3.5).
- Bridges (HWB1–28, demand Sa(1.0 s)) and tunnels (HTU1–2, demand PGA) —
  ``data/hazus_transport_fragility.csv`` (docs/references.md §3.4).

All functions are vectorised over PGA; unknown classes, codes a class does not have (HAZUS
gives unreinforced types only Low and Pre-code curves) and bad PGA raise
:class:`~sim._errors.EvacsimError` naming the valid choices.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
from scipy.special import ndtr

from sim._errors import EvacsimError

DAMAGE_STATES = ("none", "slight", "moderate", "extensive", "complete")
CODES = ("high", "moderate", "low", "pre")
SEVERITIES = (1, 2, 3, 4)  # HAZUS: minor, hospitalised, life-threatening, dead


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("sim.hazards").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


@dataclass(frozen=True)
class BuildingTables:
    """The building tables as arrays, indexed by class and code.

    Attributes
    ----------
    classes : tuple of str
        HAZUS model building types, in file order (W1, W2, S1L, ...).
    description : tuple of str
    median_g : float64[n_class, 4 codes, 4 states]
        Median PGA (g) of slight … complete; NaN where HAZUS has no curve.
    beta : float
        Lognormal standard deviation (0.64 for every curve).
    p_collapse : float64[n_class]
        P(collapse | Complete).
    rates : float64[n_class, 6, 4]
        Casualty fraction (not percent) by state none, slight, moderate, extensive,
        complete-without-collapse, collapse (rows) and severity 1–4 (columns).
    """

    classes: tuple[str, ...]
    description: tuple[str, ...]
    median_g: np.ndarray
    beta: float
    p_collapse: np.ndarray
    rates: np.ndarray

    def class_index(self, name: str) -> int:
        """Index of a HAZUS building class; error listing the classes if unknown."""
        try:
            return self.classes.index(name)
        except ValueError:
            raise EvacsimError(f"building class: expected one of {', '.join(self.classes)}, "
                               f"got {name!r}") from None

    def code_index(self, cls: str, code: str) -> int:
        """Index of a design code for ``cls``; error naming the codes it has."""
        if code not in CODES:
            raise EvacsimError(f"code: expected one of {', '.join(CODES)}, got {code!r}")
        k = CODES.index(code)
        i = self.class_index(cls)
        if np.isnan(self.median_g[i, k, 0]):
            have = [c for j, c in enumerate(CODES) if not np.isnan(self.median_g[i, j, 0])]
            raise EvacsimError(f"code: HAZUS has no {code!r}-code curve for {cls}; expected one "
                               f"of {', '.join(have)}")
        return k


@functools.cache
def building_tables() -> BuildingTables:
    """The HAZUS building fragility and casualty tables (read once, cached)."""
    frag = _read("hazus_eqpga_fragility.csv")
    cas = {r["class"]: r for r in _read("hazus_casualty_rates.csv")}
    classes = tuple(dict.fromkeys(r["class"] for r in frag))
    desc = {r["class"]: r["description"] for r in frag}
    med = np.full((len(classes), len(CODES), 4), np.nan)
    betas = set()
    for r in frag:
        med[classes.index(r["class"]), CODES.index(r["code"])] = [
            float(r[f"{s}_g"]) for s in DAMAGE_STATES[1:]]
        betas.add(float(r["beta"]))
    rates = np.zeros((len(classes), 6, 4))
    pc = np.zeros(len(classes))
    for i, c in enumerate(classes):
        row = cas[c]
        pc[i] = float(row["p_collapse"])
        for j, ds in enumerate(("ds1", "ds2", "ds3", "ds4", "collapse")):
            rates[i, j + 1] = [float(row[f"{ds}_s{s}"]) / 100.0 for s in SEVERITIES]
    (beta,) = betas
    return BuildingTables(classes, tuple(desc[c] for c in classes), med, beta, pc, rates)


def _pga(pga_g) -> np.ndarray:
    pga = np.asarray(pga_g, dtype=np.float64)
    if np.any(~np.isfinite(pga) | (pga < 0)):
        bad = pga[~np.isfinite(pga) | (pga < 0)].ravel()[0]
        raise EvacsimError(f"pga: expected a finite acceleration >= 0 g, got {float(bad)!r}")
    return pga


def p_exceed(pga_g, cls: str, code: str) -> np.ndarray:
    """P(DS ≥ slight, moderate, extensive, complete | PGA) for one class and code.

    Parameters
    ----------
    pga_g
        Peak ground acceleration, g (≥ 0); scalar or array.
    cls
        HAZUS model building type (``W1``, ``C1L``, ``URML``, ...).
    code : {"high", "moderate", "low", "pre"}
        Seismic design level.

    Returns
    -------
    float64[..., 4]
        Non-increasing along the last axis; 0 at PGA 0.

    Examples
    --------
    >>> p = p_exceed(0.16, "C1L", "moderate")   # PGA at the slight median
    >>> round(float(p[0]), 3)
    0.5
    """
    t = building_tables()
    i = t.class_index(cls)
    k = t.code_index(cls, code)
    return exceed_from_medians(_pga(pga_g), t.median_g[i, k], t.beta)


def exceed_from_medians(pga_g: np.ndarray, median_g: np.ndarray, beta: float) -> np.ndarray:
    """Φ(ln(PGA / median) / β) for each median (last axis); PGA 0 gives 0."""
    pga = np.asarray(pga_g, dtype=np.float64)[..., None]
    with np.errstate(divide="ignore"):
        z = np.log(pga / median_g) / beta
    return ndtr(z)


def state_probabilities(p_ex: np.ndarray) -> np.ndarray:
    """P(DS = none, slight, ..., complete) from the exceedance probabilities (last axis 4)."""
    p = np.concatenate([np.ones(p_ex.shape[:-1] + (1,)), p_ex,
                        np.zeros(p_ex.shape[:-1] + (1,))], axis=-1)
    return p[..., :-1] - p[..., 1:]


def p_state(pga_g, cls: str, code: str) -> np.ndarray:
    """P(DS = none, slight, moderate, extensive, complete | PGA); sums to one.

    Examples
    --------
    >>> round(float(p_state(0.3, "W1", "high").sum()), 12)
    1.0
    """
    return state_probabilities(p_exceed(pga_g, cls, code))


def expected_casualty_fraction(pga_g, cls: str, code: str) -> np.ndarray:
    """Expected share of occupants in each casualty severity 1–4 at ``pga_g``.

    Σ_ds P(ds) · rate(ds), with Complete split as (1 − Pc) · rate(Complete) +
    Pc · rate(collapse) (docs/references.md §3.5). Returns float64[..., 4].
    """
    t = building_tables()
    i = t.class_index(cls)
    ps = p_state(pga_g, cls, code)
    r = t.rates[i]
    pc = t.p_collapse[i]
    rate_by_state = np.vstack([r[:4], (1.0 - pc) * r[4] + pc * r[5]])  # [5 states, 4 sev]
    return ps @ rate_by_state


def sample_states(pga_g: np.ndarray, median_g: np.ndarray, beta: float,
                  u: np.ndarray) -> np.ndarray:
    """Damage state 0–4 per site from uniform draws ``u`` (one per site).

    ``ds = #{k : u < P(DS ≥ k)}``: since the exceedance probabilities fall with k, this
    draws each state with exactly its probability. ``median_g`` is float64[n, 4].
    """
    p = exceed_from_medians(pga_g, median_g, beta)
    return np.count_nonzero(u[:, None] < p, axis=1).astype(np.int8)


# --------------------------------------------------------------------------- transport
@dataclass(frozen=True)
class TransportCurve:
    """One HAZUS bridge or tunnel fragility.

    Attributes
    ----------
    component : str
        ``HWB1`` … ``HWB28`` (bridges), ``HTU1``/``HTU2`` (bored / cut-and-cover tunnels).
    demand : str
        ``"sa10"`` (5 %-damped spectral acceleration at 1.0 s, g) or ``"pga"`` (g).
    median : float64[4]
        Slight … complete medians; NaN where the component has no such state.
    beta : float
    """

    component: str
    demand: str
    median: np.ndarray
    beta: float


@functools.cache
def _transport() -> dict[str, TransportCurve]:
    out = {}
    for r in _read("hazus_transport_fragility.csv"):
        med = np.array([float(r[s]) if r[s] else math.nan for s in DAMAGE_STATES[1:]])
        out[r["component"]] = TransportCurve(r["component"], r["demand"], med, float(r["beta"]))
    return out


def transport_curve(component: str) -> TransportCurve:
    """The fragility of a HAZUS bridge (``HWB1``–``HWB28``) or tunnel (``HTU1``, ``HTU2``)."""
    table = _transport()
    if component not in table:
        raise EvacsimError(f"component: expected one of {', '.join(table)}, got {component!r}")
    return table[component]


def sample_transport(demand_g: np.ndarray, curve: TransportCurve, u: np.ndarray) -> np.ndarray:
    """Damage state 0–4 per bridge/tunnel from its demand and uniform draws ``u``."""
    med = np.where(np.isnan(curve.median), np.inf, curve.median)
    p = exceed_from_medians(_pga(demand_g), med, curve.beta)
    return np.count_nonzero(u[:, None] < p, axis=1).astype(np.int8)
