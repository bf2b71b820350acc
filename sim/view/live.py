"""The model the live view drives: the real :class:`~sim.model.EvacuationModel`, a frame at a time.

:class:`LiveModel` is a thin Mesa model around one ``EvacuationModel``. One
:meth:`LiveModel.step` (one SolaraViz frame) advances ``frame_s`` seconds of model time,
i.e. several of the evacuation model's ticks, and samples what the charts show into its
own ``DataCollector``. Its constructor takes only keyword arguments with defaults (what
SolaraViz's ``_check_model_params`` and its Reset require): the planner's parameters
(warning coverage and start, compliance, car ownership, the plan, the hazard size) are
applied to the scenario file as validated overrides, so a value out of range is refused
with the scenario's own error message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import mesa
import numpy as np

from sim.model import STATES, EvacuationModel
from sim.network import RoadNetwork
from sim.population import DEAD, SHELTERED

RELIEF_EVERY_S = 300.0
"""Model time between two evaluations of the relief measure for the relief chart, s: the
measure re-solves every affected group's relief (~50 ms at 300,000 residents), more than
a frame can spend; in between the chart holds the last value (assumption: 5 min of
model time is finer than the 10-hour target it is read against)."""

HAZARD_SCALE_RANGE = (0.25, 40.0)
"""Allowed hazard-size factors (× the scenario's flood discharge, chemical release rate,
earthquake seismic moment)."""


def scaled_hazards(hazards: list, scale: float) -> list:
    """The scenario's hazard specs with their size multiplied by ``scale``.

    Flood: every inflow hydrograph's discharge × ``scale``. Chemical: release rate (or
    mass) × ``scale``. Earthquake: seismic moment × ``scale``, i.e. magnitude
    + (2/3)·log10(scale) (Hanks & Kanamori 1979: M = (2/3)·log10(M0) − 10.7, M0 in dyn·cm).

    Parameters
    ----------
    hazards : list
        Validated hazard specs (``Scenario.hazards``).
    scale : float
        Factor in :data:`HAZARD_SCALE_RANGE`.

    Returns
    -------
    list
        New spec objects; the inputs are unchanged.

    Examples
    --------
    >>> round((2 / 3) * math.log10(2.0), 4)  # magnitude step of a doubled moment
    0.2007
    """
    lo, hi = HAZARD_SCALE_RANGE
    if not (lo <= scale <= hi):
        from sim._errors import ScenarioError

        raise ScenarioError(f"hazard_scale: expected {lo} to {hi}, got {scale!r}")
    if scale == 1.0:
        return list(hazards)
    out = []
    for spec in hazards:
        update: dict = {}
        if spec.kind == "flood" and getattr(spec, "inflows", None):
            update["inflows"] = [f.model_copy(update={"hydrograph": [
                (t, q * scale) for t, q in f.hydrograph]}) for f in spec.inflows]
        elif spec.kind == "chemical":
            for name in ("rate_kg_s", "mass_kg"):
                value = getattr(spec, name, None)
                if value is not None:
                    update[name] = value * scale
        elif spec.kind == "earthquake":
            update["magnitude"] = spec.magnitude + (2.0 / 3.0) * math.log10(scale)
        out.append(spec.model_copy(update=update))
    return out


class LiveModel(mesa.Model):
    """One evacuation, advanced ``frame_s`` seconds per step, with the view's data.

    Parameters
    ----------
    scenario_path
        Scenario TOML (``None``: the embedded default district).
    plan
        Name of the response plan in ``plans`` to run with, or ``"none"``.
    plans
        Plan name → plan TOML path (the choices the view offers).
    warning_coverage, warning_start_min, compliance, car_ownership
        Shares (0–1) and minutes replacing the scenario's ``[warning] coverage``,
        ``[warning] start_min``, ``1 − [departure] noncompliance`` and ``[population]
        car_ownership``; ``None`` keeps the scenario's value.
    hazard_scale
        Size of every hazard relative to the scenario (:func:`scaled_hazards`).
    frame_s
        Model time per step, seconds (rounded to whole ticks, at least one).
    seed
        Seed of the evacuation model (``None``: the scenario's).
    network
        A loaded map to reuse across resets (``None`` loads the scenario's).
    cache_dir
        Compiled-map cache (see :class:`~sim.model.EvacuationModel`).
    """

    def __init__(
        self,
        *,
        scenario_path: str | Path | None = None,
        plan: str = "none",
        plans: Mapping[str, str | Path] | None = None,
        warning_coverage: float | None = None,
        warning_start_min: float | None = None,
        compliance: float | None = None,
        car_ownership: float | None = None,
        hazard_scale: float = 1.0,
        frame_s: float = 60.0,
        seed: int | None = None,
        network: RoadNetwork | None = None,
        cache_dir: Path | None | bool = None,
    ) -> None:
        from sim.scenario import default_scenario_path, load_scenario

        path = Path(scenario_path) if scenario_path is not None else default_scenario_path()
        overrides = {}
        for key, value in (("warning.coverage", warning_coverage),
                           ("warning.start_min", warning_start_min),
                           ("population.car_ownership", car_ownership)):
            if value is not None:
                overrides[key] = float(value)
        if compliance is not None:
            overrides["departure.noncompliance"] = 1.0 - float(compliance)
        scenario = load_scenario(path, overrides=overrides or None)
        if hazard_scale != 1.0:
            scenario = scenario.model_copy(update={
                "hazards": scaled_hazards(list(scenario.hazards), float(hazard_scale))})
        plan_obj = None
        plans = dict(plans or {})
        if plan not in ("none", "", None):
            from sim._errors import ScenarioError
            from sim.plan import load_plan

            if plan not in plans:
                raise ScenarioError(f"plan: expected one of {['none', *plans]}, got {plan!r}")
            plan_obj = load_plan(plans[plan])
        sim = EvacuationModel(scenario=scenario, seed=seed, network=network,
                              cache_dir=cache_dir, plan=plan_obj)
        super().__init__(seed=sim.seed)
        self.sim = sim
        self.scenario_path = path
        self.plan_name = plan if plan_obj is not None else "none"
        self.hazard_scale = float(hazard_scale)
        self.ticks_per_frame = max(1, round(float(frame_s) / sim.tick_s))
        self.frame_s = self.ticks_per_frame * sim.tick_s
        self.params = {"warning_coverage": scenario.warning.coverage,
                       "warning_start_min": scenario.warning.start_min,
                       "compliance": 1.0 - scenario.departure.noncompliance,
                       "car_ownership": scenario.population.car_ownership,
                       "plan": self.plan_name, "hazard_scale": self.hazard_scale}
        self._relief_at_s = -math.inf
        self._relieved = math.nan
        self.datacollector = mesa.DataCollector(model_reporters={
            "t_h": lambda m: m.sim.t_s / 3600.0,
            **{name: _count(i) for i, name in enumerate(STATES)},  # from _counts
            "shelter_fill": lambda m: m.shelter_fill(),
            "open_incidents": lambda m: m.open_incidents(),
            "relieved": lambda m: m.relieved_persons(),
        })
        self._counts = sim.person_counts()
        self.datacollector.collect(self)

    @property
    def t_s(self) -> float:
        """Model clock of the evacuation, seconds since scenario start."""
        return self.sim.t_s

    def step(self) -> None:
        """Advance one frame: ``ticks_per_frame`` ticks of the evacuation model."""
        for _ in range(self.ticks_per_frame):
            if not self.sim.running:
                break
            self.sim.step()
        self.running = self.sim.running
        self._counts = self.sim.person_counts()  # once per frame, read by every reporter
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ what the view shows
    def person_counts(self) -> np.ndarray:
        """Persons per state now (order of :data:`sim.model.STATES`)."""
        return self.sim.person_counts()

    def shelter_fill(self) -> float:
        """Persons in shelters / shelter places, 0–1 (NaN with no places)."""
        cap = float(self.sim.node_capacity.sum())
        used = float((self.sim.node_capacity - self.sim.shelter_room).sum())
        return used / cap if cap > 0 else math.nan

    def shelter_occupancy(self) -> tuple[np.ndarray, np.ndarray]:
        """Per shelter node: persons inside and places (int arrays over shelter nodes)."""
        nodes = np.unique(self.sim.shelter_node)
        cap = self.sim.node_capacity[nodes]
        return cap - self.sim.shelter_room[nodes], cap

    def open_incidents(self) -> int:
        """Incidents raised and not yet served (all of them when there is no plan)."""
        resp = self.sim.response
        if resp is None:
            return len(self.sim.incidents)
        from sim.responders import OUTCOMES

        status = np.asarray(resp.dispatcher.book.status)[: resp.dispatcher.book.n]
        return int(np.count_nonzero(status != OUTCOMES.index("served")))

    def relieved_persons(self) -> float:
        """Persons whose basic needs are met by now (NaN without a plan: no relief measure).

        The plan's relief measure (:meth:`sim.response.ResponseSystem.finalize`) on the
        state so far: affected groups relieved at or before the clock. Evaluated every
        :data:`RELIEF_EVERY_S` of model time and at the end; the last value in between.
        """
        if self.sim.response is None:
            return math.nan
        due = self.sim.t_s - self._relief_at_s >= RELIEF_EVERY_S - 1e-9
        if due or not self.sim.running:
            self.sim.finalize_response()
            rel = self.sim.response._relief
            t = rel["relieved_s"].to_numpy(np.float64)
            ok = np.isfinite(t) & (t <= self.sim.t_s)
            self._relieved = float(rel["persons"].to_numpy(np.int64)[ok].sum())
            self._relief_at_s = self.sim.t_s
        return self._relieved

    def not_safe_positions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where the people not yet safe are: x, y (map metres) and persons per household.

        Not yet safe = alive and not in a shelter (at home, on the way, stranded).
        """
        view = self.sim.people_view()
        alive = self.sim.pop.persons - self.sim.dead
        keep = (view.state != SHELTERED) & (view.state != DEAD) & (alive > 0)
        return view.x_m[keep], view.y_m[keep], alive[keep]


def _count(i: int):
    return lambda m: int(m._counts[i])
