"""The road-side plan levers inside a running model (issue 14, parts 3, 4, 6, 7).

:class:`ModelRoads` is the model's one handle on them; :class:`~sim.model.EvacuationModel`
calls it at fixed points of its tick (see its module docstring):

- at build: resolves ``[roads]`` (:mod:`sim.traffic_control`) and ``[route_choice]``
  (:mod:`sim.route_choice`), marks the informed cars and gives them their own table rows;
- :meth:`evacuee_cost`: the residents' drive cost with the roads closed to evacuees;
- :meth:`with_informed`: appends the informed rows to the drive and walk tables;
- :meth:`before_step`: fires due link events (contraflow, control points) and the periodic
  informed-table update;
- :meth:`after_step`: counts vehicles pulled off by the stuck rule and logs them, one
  event ``vehicles_stuck`` per tick in which any was.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.core import queue
from sim.route_choice import RouteChoiceSpec, congested_cost_s, informed_mask
from sim.routing import next_hop
from sim.traffic_control import RoadLevers, RoadsSpec, resolve_roads

__all__ = ["ModelRoads"]


class ModelRoads:
    """Road levers and informed drivers of one model run (inactive without a plan).

    Parameters
    ----------
    model : sim.model.EvacuationModel
        Built up to its movers (fleet, target rows, shelter sets).
    """

    def __init__(self, model) -> None:
        plan = model.plan
        roads: RoadsSpec = getattr(plan, "roads", None) or RoadsSpec()
        rc: RouteChoiceSpec = getattr(plan, "route_choice", None) or RouteChoiceSpec()
        d = model.net.drive
        n_nodes = len(model.net.nodes)
        self.green = np.zeros(d.n_links, dtype=np.bool_)
        self.closed_to_evacuees = np.zeros(d.n_links, dtype=bool)
        self.factor = np.ones(d.n_links)
        self.levers: RoadLevers | None = None
        self.stuck_total = 0
        if roads.active:
            shelters = np.flatnonzero(model.node_capacity > 0)
            cost = next_hop(d, n_nodes, shelters).cost_s
            names = dict(zip(model.shelter_table.name.astype(str).tolist(),
                             model.shelter_node.tolist(), strict=True))
            resolved = resolve_roads(roads, model.net, cost, source=plan.source,
                                     shelters=names)
            self.levers = RoadLevers(resolved, d.n_links)
            self.green = self.levers.green
            self.closed_to_evacuees = resolved.closed_to_evacuees
            self.factor = self.levers.factor
        # Informed drivers: rows n_base + k of the tables follow set k on current times.
        self.rc = rc
        self.n_base = len(model.target)
        self.informed = np.zeros(len(model.car_hh), dtype=bool)
        self._due_s = np.inf
        if rc.active:
            n_sets = len(model.shelter_sets)
            self.informed = informed_mask(len(model.car_hh), rc.informed_share, model.seed)
            model.target = np.concatenate([model.target, [-k - 1 for k in range(n_sets)]]
                                          ).astype(np.int32)
            rows = self.n_base + model._car_set[self.informed]
            queue.set_table(model.fleet, model.queues, np.flatnonzero(self.informed), rows)
            self._due_s = rc.update_min * 60.0
            model._log(0.0, "route_choice", "", "", float(self.informed.sum()),
                       f"{int(self.informed.sum())} of {self.informed.size} cars re-route "
                       f"every {rc.update_min:g} min on current travel times")

    # ------------------------------------------------------------------ routing
    def evacuee_cost(self, drive_cost: np.ndarray) -> np.ndarray:
        """The residents' drive cost: ``inf`` on the roads closed to evacuees."""
        if not self.closed_to_evacuees.any():
            return drive_cost
        return np.where(self.closed_to_evacuees, np.inf, drive_cost)

    def _informed_rows(self, model, targets, factors) -> list[np.ndarray]:
        d = model.net.drive
        cost = self.evacuee_cost(congested_cost_s(d.fft_s, model.drive_speed_factor,
                                                  model.queues.count, d.capacity_vps))
        n = len(model.net.nodes)
        return [next_hop(d, n, t, cost_s=cost * f[0]).next_link
                for t, f in zip(targets, factors, strict=True)]

    def with_informed(self, model, targets, factors, drive_next, walk_next, walk_rows):
        """The drive and walk tables with the informed rows appended (if any driver is)."""
        if not self.rc.active:
            return drive_next, walk_next
        self._targets, self._factors = targets, factors
        drive_next = np.concatenate([drive_next, np.stack(self._informed_rows(
            model, targets, factors))]).astype(np.int32)
        # walkers never use them; the rows only keep both kernels' table counts equal
        walk_next = np.concatenate([walk_next, np.stack(walk_rows)]).astype(np.int32)
        return np.ascontiguousarray(drive_next), np.ascontiguousarray(walk_next)

    # ------------------------------------------------------------------ tick hooks
    def before_step(self, model, t0: float) -> None:
        """Fire due link events and the periodic informed-table update (start of a tick)."""
        if self.levers is not None and self.levers.pending(t0):
            links, q, notes = self.levers.apply_due(t0, model.net.drive, model.queues)
            model.net = dataclasses.replace(model.net, drive=links)
            model.queues = q
            if getattr(model, "response", None) is not None:
                model.service.queues = q
            model.drive_speed_factor = np.minimum(model.drive_speed_factor, self.factor)
            for note in notes:
                model._log(t0, "road_plan", "", "", 0.0, note)
            model._refresh_routes()
        if t0 + 1e-9 >= self._due_s:
            self._due_s += self.rc.update_min * 60.0
            rows = self._informed_rows(model, self._targets, self._factors)
            model.drive_next[self.n_base:] = np.stack(rows)

    def after_step(self, model, t1: float, stats: queue.StepStats) -> None:
        """Count vehicles the stuck rule pulled off in this tick; log them (``vehicles_stuck``)."""
        if stats.n_stuck:
            self.stuck_total += stats.n_stuck
            model._log(t1, "vehicles_stuck", "", "", float(stats.n_stuck),
                       f"{stats.n_stuck} vehicles blocked for "
                       f"{model.scenario.traffic.stuck_time_s:g} s pulled off the road at a "
                       "junction (stuck rule)")
