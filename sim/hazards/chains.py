"""Disaster chains: a hazard started by another (an earthquake that ruptures a storage tank).

A chemical release may carry ``trigger = { hazard = "earthquake", tank = ... }`` instead of
relying on its own ``start_min``: the earthquake's shaking at the release's source (the
tank) is compared with the tank's fragility and, if the tank fails, the release starts at
the earthquake's time (plus ``delay_min``) with everything else as written; if it holds,
the release never happens. Both outcomes go to the event log with their cause.

Tank fragility: HAZUS-MH 2.1 technical manual, on-ground storage tanks (potable-water
tanks, also used for the tank farms of oil systems), lognormal in PGA: median (g) and
beta of the damage states slight, moderate, extensive, complete. The tank releases its
contents from ``release_state`` on (default ``extensive``: HAZUS "elephant-foot buckling
with partial loss of content"; ``complete``: collapse, all content). Failure is drawn
once per run from the run's seeded hazard stream: P = Phi(ln(PGA / median) / beta), with
PGA the earthquake's *median* PGA at the tank (its GMPE and Vs30; the HAZUS beta carries
the spread, the earthquake's own between/within-event draw for buildings is not reused:
it happens later, at the quake's first update).

Ordering: hazards bind in the order of their triggers (a source before what it starts);
a trigger naming a hazard that the scenario lacks, a hazard that cannot trigger this one,
or a chain that loops back on itself is refused naming ``hazards[k].trigger.hazard``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, StrictFloat, StrictStr, model_validator

from sim._errors import ScenarioError
from sim._spec import NonNegative, Spec, field_error

# HAZUS-MH 2.1 technical manual (water-system tanks; oil-system tank farms use the same
# curves): PGA medians (g) and betas for slight, moderate, extensive, complete. As coded
# in the Rts simulator's RFuelTankFarmModel.cpp ("Hazus 2.1 pg. 394").
TANK_FRAGILITY: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "anchored_steel": ((0.30, 0.70, 1.25, 1.60), (0.60, 0.60, 0.65, 0.60)),
    "unanchored_steel": ((0.15, 0.35, 0.68, 0.95), (0.70, 0.75, 0.75, 0.70)),
    "anchored_concrete": ((0.25, 0.52, 0.95, 1.64), (0.55, 0.70, 0.60, 0.70)),
    "unanchored_concrete": ((0.18, 0.42, 0.70, 1.04), (0.60, 0.70, 0.55, 0.60)),
    "above_ground_steel": ((0.18, 0.55, 1.15, 1.50), (0.10, 0.10, 0.10, 0.10)),
}
DAMAGE_STATES = ("slight", "moderate", "extensive", "complete")
# Which hazard kinds can start which (source -> targets).
CAN_TRIGGER: dict[str, tuple[str, ...]] = {"earthquake": ("chemical", "landslide"),
                                            "flood": ("landslide",)}


class TankTrigger(Spec):
    """``trigger`` of a chemical release: the earthquake ruptures the source tank."""

    hazard: StrictStr
    tank: Literal["anchored_steel", "unanchored_steel", "anchored_concrete",
                  "unanchored_concrete", "above_ground_steel", "custom"] = "unanchored_steel"
    release_state: Literal["slight", "moderate", "extensive", "complete"] = "extensive"
    median_g: Annotated[StrictFloat, Field(gt=0.0, le=100.0)] | None = None  # tank = "custom"
    beta: Annotated[StrictFloat, Field(gt=0.0, le=3.0)] | None = None  # tank = "custom"
    delay_min: NonNegative = 0.0

    @model_validator(mode="after")
    def _custom(self) -> TankTrigger:
        if (self.tank == "custom") != (self.median_g is not None and self.beta is not None):
            raise field_error("tank", 'median_g and beta together with tank = "custom" (and '
                              'only then)', {"tank": self.tank, "median_g": self.median_g,
                                             "beta": self.beta})
        return self

    def median_beta(self) -> tuple[float, float]:
        """Median PGA (g) and beta of the release state."""
        if self.tank == "custom":
            return float(self.median_g), float(self.beta)
        med, beta = TANK_FRAGILITY[self.tank]
        k = DAMAGE_STATES.index(self.release_state)
        return med[k], beta[k]


def p_exceed(pga_g, median_g: float, beta: float) -> np.ndarray:
    """Lognormal fragility: P(damage state reached | PGA) = Phi(ln(PGA/median)/beta)."""
    from scipy.special import ndtr

    pga = np.asarray(pga_g, np.float64)
    with np.errstate(divide="ignore"):
        return ndtr(np.log(np.maximum(pga, 0.0) / median_g) / beta)


def tank_states(tank: str, pga_g: float) -> dict[str, float]:
    """P(damage state >= ds) for a HAZUS tank class at a PGA (g), per state."""
    if tank not in TANK_FRAGILITY:
        raise ScenarioError(f"tank: expected one of {', '.join(TANK_FRAGILITY)}, got {tank!r}")
    med, beta = TANK_FRAGILITY[tank]
    return {ds: float(p_exceed(pga_g, m, b)) for ds, m, b in
            zip(DAMAGE_STATES, med, beta, strict=True)}


def check_chains(hazards) -> None:
    """Refuse triggers on absent or unfit hazards and chains that loop (field errors)."""
    kinds = [h.kind for h in hazards]
    edges: dict[int, int] = {}
    for k, h in enumerate(hazards):
        trig = getattr(h, "trigger", None)
        if trig is None:
            continue
        field = f"hazards[{k}].trigger.hazard"
        if trig.hazard not in kinds:
            raise field_error(field, f"the kind of another hazard of this scenario "
                              f"({', '.join(kinds)})", trig.hazard)
        src = kinds.index(trig.hazard)
        if src == k or _reaches(edges, src, k):
            raise field_error(field, "a chain without a loop (a hazard cannot start itself, "
                              "directly or through others)", trig.hazard)
        if h.kind not in CAN_TRIGGER.get(trig.hazard, ()):
            fits = [s for s, t in CAN_TRIGGER.items() if h.kind in t]
            raise field_error(field, f"a hazard that can start a {h.kind} hazard "
                              f"({', '.join(fits) or 'none'})", trig.hazard)
        edges[k] = src


def _reaches(edges: dict[int, int], start: int, target: int) -> bool:
    """Whether following triggers up from ``start`` arrives at ``target``."""
    seen = set()
    k = start
    while k in edges and k not in seen:
        seen.add(k)
        k = edges[k]
        if k == target:
            return True
    return start == target


def bind_order(hazards) -> list[int]:
    """Indices of ``hazards`` with every trigger source before what it starts."""
    kinds = [h.kind for h in hazards]
    src = {k: kinds.index(h.spec.trigger.hazard) for k, h in enumerate(hazards)
           if getattr(getattr(h, "spec", None), "trigger", None) is not None}
    order: list[int] = []

    def visit(k, path=()):
        if k in order:
            return
        if k in path:  # check_chains refuses this in a validated scenario
            raise ScenarioError(f"hazards[{k}].trigger.hazard: expected a chain without a loop")
        if k in src:
            visit(src[k], (*path, k))
        order.append(k)

    for k in range(len(hazards)):
        visit(k)
    return order


def bind_hazards(hazards, net, seed_seq: np.random.SeedSequence, log) -> list:
    """Bind every hazard (sources first), resolve triggers, return the hazards that happen.

    Each hazard gets the random stream of its position in the scenario
    (``seed_seq.spawn(n)[k]``) whatever the order of binding, so a triggered release
    draws exactly what the same release written with that start time draws.
    ``log(t_s, kind, where, who, value, message)`` records the chain's events.
    """
    seeds = seed_seq.spawn(len(hazards))
    keep = [True] * len(hazards)
    out = list(hazards)
    for k in bind_order(hazards):
        hz = hazards[k]
        trig = getattr(getattr(hz, "spec", None), "trigger", None)
        hz.bind(net, rng=np.random.default_rng(seeds[k]))
        if trig is None:
            continue
        src = next(h for h in hazards if h.kind == trig.hazard)
        if not isinstance(trig, TankTrigger):  # the hazard watches its source itself
            hz.attach_trigger(src, log)
            continue
        fired, info = _tank_fails(src, hz, trig, np.random.default_rng(seeds[k].spawn(1)[0]))
        t_s = float(src.t_quake_s) + trig.delay_min * 60.0
        where = getattr(hz.spec.source, "tank", None) or hz.spec.name
        if not fired:
            keep[k] = False
            log(t_s, "chain_hold", where, hz.kind, info["p_release"],
                f"{where} held in the {trig.hazard} (PGA {info['pga_g']:.3f} g at the tank, "
                f"P(release) {info['p_release']:.3f}): no {hz.kind} release")
            continue
        spec = hz.spec.model_copy(update={"start_min": t_s / 60.0, "trigger": None})
        fresh = type(hz).from_spec(spec)
        fresh.bind(net, rng=np.random.default_rng(seeds[k]))
        fresh.chain = {"cause": trig.hazard, **info, "t_start_s": t_s}
        out[k] = fresh
        log(t_s, "chain_trigger", where, hz.kind, info["p_release"],
            f"{where} ruptured by the {trig.hazard} (PGA {info['pga_g']:.3f} g at the tank, "
            f"P(release) {info['p_release']:.3f}): {hz.kind} release from "
            f"t = {t_s / 60:.1f} min")
    return [h for h, k in zip(out, keep, strict=True) if k]


def _tank_fails(quake, release, trig: TankTrigger, rng: np.random.Generator):
    """Whether the tank at the release's source fails in ``quake`` (one seeded draw)."""
    x, y = np.array([release.source_x_m]), np.array([release.source_y_m])
    ln_pga = quake.median_ln(x, y, quake._vs30_at(x, y))[0]
    pga = float(np.exp(ln_pga[0]))
    median, beta = trig.median_beta()
    p = float(p_exceed(pga, median, beta))
    u = float(rng.random())
    return u < p, {"pga_g": pga, "p_release": p, "draw": u, "median_g": median, "beta": beta}


def tank_answer(tank: str, pga_g: float) -> dict:
    """The ``tank-fragility`` calculator's answer (P(DS >= ds) and P(DS = ds))."""
    if not (math.isfinite(pga_g) and pga_g >= 0):
        raise ScenarioError(f"tank-fragility: --pga: expected a PGA >= 0 g, got {pga_g}")
    ex = tank_states(tank, pga_g)
    vals = [1.0, *ex.values(), 0.0]
    names = ("none", *DAMAGE_STATES)
    return {"tank": tank, "pga_g": pga_g, "p_exceed": ex,
            "p_state": {n: vals[i] - vals[i + 1] for i, n in enumerate(names)},
            "source": "HAZUS-MH 2.1 technical manual, on-ground storage tanks"}


__all__ = ["TankTrigger", "bind_hazards", "check_chains", "tank_answer"]
