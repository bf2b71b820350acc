"""Response and relief as one façade the model calls once per tick.

:class:`ResponseSystem` composes the dispatcher and its teams
(:mod:`sim.responders`), the depots and trucks (:mod:`sim.logistics`) and the relief
measure, over service vehicles that share the residents' traffic
(:class:`sim.service_fleet.ServiceFleet`).

Per tick the model calls ``step(t0, dt, new_incidents, occupancy_by_node)`` after the
hazards and the departures and *before* the vehicle kernel of the tick ``(t0, t0+dt]``:
then an incident raised at ``t0`` leaves its station at exactly ``created + delay_s``.
(Called after the kernel with ``t0 + dt`` it still works; a team then leaves no earlier
than the end of the tick in which its incident appeared.) Within the call: team legs
that ended (arrivals), re-assignment after closures, new incidents, dispatch; then
truck arrivals, unloads that are due, and a relief review every ``relief.review_min``.

At the end, :meth:`ResponseSystem.finalize` takes the households (who was affected, when
they were safe, at which shelter) and computes the time to relief of every affected
person-group; :meth:`tables` returns the run-folder tables:

``incidents``
    one row per incident: id, kind, hazard, node, x_m, y_m, persons, severity (as
    raised), severity_on_arrival, capability, created_s, dispatched_s, arrived_s,
    finished_s (work done), delivered_s (handed over / safe), destination, dest_node,
    team, team_name, wait_s (= dispatched − created), response_s (= arrived − created),
    outcome (``waiting|assigned|on_scene|served``).
``relief``
    one row per affected group (a household that set out, or the people of one
    incident): group, source (``household|incident``), ref (household or incident id),
    persons, affected_s, rescued_s, safe_s, relieved_s, place
    (``shelter|hospital|in_place|""``), shelter (row, -1 none), wait_rescue_s, travel_s,
    wait_supplies_s (the delay attribution; they add up to ``min(relieved, end) −
    affected``).
``deliveries``
    truck, depot, site, shelter, item, amount (units), t_s (unload done).
``stock``
    per review and item: in_depots, in_trucks, delivered, initial (conservation).
``targets``
    key, value: the plan's targets and the run's end time.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim.hazards.base import Incident
from sim.logistics import Logistics, attribute_delay, fifo_relief
from sim.plan import ResolvedPlan
from sim.responders import DEST_KINDS, Dispatcher
from sim.service_fleet import ServiceFleet

__all__ = ["ResponseSystem", "HouseholdOutcome", "service_vehicles", "RESCUE", "TRUCK"]

RESCUE, TRUCK = 1, 2  # Fleet.kind codes (sim.core.queue.Fleet)


def service_vehicles(plan: ResolvedPlan) -> tuple[np.ndarray, np.ndarray]:
    """Home node and fleet kind of every service vehicle, in fleet-row order.

    Teams first (kind 1, at their station), then trucks (kind 2, at their depot), depot
    by depot in plan order. Allocate ``len(home)`` extra fleet rows for them.
    """
    team_home = plan.station_node[plan.team_station] if plan.team_station.size else \
        np.zeros(0, np.int32)
    truck_home = np.repeat(plan.depot_node, plan.depot_trucks)
    home = np.concatenate([team_home, truck_home]).astype(np.int32)
    kinds = np.concatenate([np.full(team_home.size, RESCUE), np.full(truck_home.size, TRUCK)]
                           ).astype(np.int8)
    return home, kinds


@dataclass(frozen=True)
class HouseholdOutcome:
    """Households as the relief measure needs them, one row each.

    Attributes
    ----------
    persons : int[H]
    affected_s : float64[H]
        When the household became affected (set out to evacuate, was displaced), s;
        NaN for households not counted (stayed home unaffected, or represented by a
        rescue incident, such as stranded ones).
    safe_s : float64[H]
        Arrival at a shelter, s; NaN if never.
    shelter_row : int[H]
        Shelter row (``ShelterTable`` order) it arrived at, -1 if none.
    """

    persons: np.ndarray
    affected_s: np.ndarray
    safe_s: np.ndarray
    shelter_row: np.ndarray


class ResponseSystem:
    """Rescue, relief logistics and the relief measure for one run.

    Parameters
    ----------
    model
        The Mesa model (agents are registered on it).
    plan
        The plan placed on the map (:func:`sim.plan.resolve_plan`).
    service
        The service vehicles; its rows must be ordered as :func:`service_vehicles` says.
    shelter_names, shelter_nodes, shelter_capacity
        Per shelter row: name, drive node where people arrive, capacity (persons).
    """

    def __init__(self, model: mesa.Model, plan: ResolvedPlan, service: ServiceFleet, *,
                 shelter_names: np.ndarray, shelter_nodes: np.ndarray,
                 shelter_capacity: np.ndarray) -> None:
        self.plan = plan
        self.service = service
        n_teams = int(plan.team_station.size)
        n_trucks = int(plan.depot_trucks.sum())
        # Rows after the teams and trucks belong to others (the plan's buses, sim.buses).
        if service.rows.size < n_teams + n_trucks:
            msg = (f"ResponseSystem: service: expected {n_teams} team + {n_trucks} truck rows, "
                   f"got {service.rows.size} (allocate them with service_vehicles(plan))")
            raise ValueError(msg)
        self.shelter_names = np.asarray(shelter_names).astype(str)
        nodes = np.asarray(shelter_nodes, np.int64)
        self.site_node, self.site_of_shelter = np.unique(nodes, return_inverse=True)
        self.site_of_shelter = self.site_of_shelter.astype(np.int64)
        n_sites = self.site_node.size
        # First shelter row at each site: names the site in the outputs.
        first = np.full(n_sites, -1, np.int64)
        first[self.site_of_shelter[::-1]] = np.arange(nodes.size)[::-1]
        self.site_shelter = first
        stock0 = plan.shelter_stock(self.shelter_names, np.asarray(shelter_capacity))
        site_stock0 = np.zeros((n_sites, len(plan.items)))
        np.add.at(site_stock0, self.site_of_shelter, stock0)
        self.dispatcher = Dispatcher(model, plan, service, service.rows[:n_teams],
                                     shelter_nodes=self.site_node)
        self.logistics = Logistics(model, plan, service, service.rows[n_teams:n_teams + n_trucks],
                                   self.site_node, site_stock0)
        self._node_site = np.full(service.n_nodes, -1, np.int64)
        self._node_site[self.site_node] = np.arange(n_sites)
        self._rescued_at_site = np.zeros(n_sites, np.int64)
        self._n_handed = 0
        self._relief: pd.DataFrame | None = None
        self.t_end_s = 0.0

    @property
    def teams(self):
        """The rescue teams (Mesa agents)."""
        return self.dispatcher.teams

    # ------------------------------------------------------------------ per tick
    def step(self, t_s: float, dt_s: float, new_incidents: list[Incident] | None = None,
             occupancy_by_node: np.ndarray | None = None) -> None:
        """Advance response and relief to ``t_s`` (see the module docstring for when).

        Parameters
        ----------
        t_s
            Start of the traffic tick about to run (seconds since scenario start).
        dt_s
            Tick length, s (kept for the record; events are timed exactly).
        new_incidents
            Incidents raised since the last call.
        occupancy_by_node
            int64[N]: persons that have arrived at each node's shelters so far
            (``node_capacity - shelter_room`` in the model).
        """
        self.dispatcher.step(t_s, new_incidents, dt_s=dt_s)
        handed = self.dispatcher.handed_over
        for persons, node, _t in handed[self._n_handed:]:
            site = self._node_site[node]
            if site >= 0:
                self._rescued_at_site[site] += persons
        self._n_handed = len(handed)
        persons = None
        if self.logistics.review_due(t_s):  # shelters report needs only at reviews
            persons = self._rescued_at_site.copy()
            if occupancy_by_node is not None:
                persons += np.asarray(occupancy_by_node, np.int64)[self.site_node]
        self.logistics.step(t_s, persons)
        self.t_end_s = max(self.t_end_s, float(t_s) + float(dt_s))

    def balance(self):
        """Stock totals per item: (in depots, in trucks, delivered, initial)."""
        return self.logistics.balance()

    # ------------------------------------------------------------------ at the end
    def finalize(self, households: HouseholdOutcome | None, *, t_end_s: float) -> pd.DataFrame:
        """Compute the relief table (one row per affected group) and keep it for :meth:`tables`."""
        self.t_end_s = float(t_end_s)
        b = self.dispatcher.book
        if households is not None:
            aff = np.asarray(households.affected_s, np.float64)
            hh = np.flatnonzero(np.isfinite(aff))
            h_persons = np.asarray(households.persons, np.int64)[hh]
            h_safe = np.asarray(households.safe_s, np.float64)[hh]
            h_row = np.asarray(households.shelter_row, np.int64)[hh]
            h_aff = aff[hh]
        else:
            hh = np.zeros(0, np.int64)
            h_persons = np.zeros(0, np.int64)
            h_safe = h_aff = np.zeros(0)
            h_row = np.zeros(0, np.int64)
        h_site = np.where(h_row >= 0, self.site_of_shelter[np.maximum(h_row, 0)]
                          if self.site_of_shelter.size else -1, -1)
        h_safe = np.where(h_site >= 0, h_safe, np.nan)

        inc = np.arange(b.n)
        dest = np.array([DEST_KINDS[k] for k in b.dest_kind], dtype=object)
        i_site = np.where(dest == "shelter", self._node_site[np.maximum(b.dest_node, 0)], -1)
        i_row = np.where(i_site >= 0, self.site_shelter[np.maximum(i_site, 0)], -1)
        place_i = np.where(dest == "none", "in_place", dest).astype(object)
        place_i[~np.isfinite(b.delivered_s)] = ""

        site = np.concatenate([h_site, i_site]).astype(np.int64)
        safe = np.concatenate([h_safe, b.delivered_s])
        persons = np.concatenate([h_persons, b.persons]).astype(np.int64)
        relieved = fifo_relief(site, safe, persons, self.plan.need_per_person,
                               *self.logistics.supply())
        direct = np.concatenate([np.zeros(hh.size, bool), dest != "shelter"])
        relieved = np.where(direct, safe, relieved)  # hospital / in place: relieved on hand-over
        affected = np.concatenate([h_aff, b.created_s])
        rescued = np.concatenate([h_aff, np.where(dest == "none", b.delivered_s, b.finished_s)])
        w_res, w_trav, w_sup = attribute_delay(affected, rescued, safe, relieved, self.t_end_s)
        place_h = np.where(h_site >= 0, "shelter", "").astype(object)
        self._relief = pd.DataFrame({
            "group": np.arange(site.size, dtype=np.int64),
            "source": np.array(["household"] * hh.size + ["incident"] * b.n, dtype=object),
            "ref": np.concatenate([hh, inc]).astype(np.int64),
            "persons": persons,
            "affected_s": affected,
            "rescued_s": rescued,
            "safe_s": safe,
            "relieved_s": relieved,
            "place": np.concatenate([place_h, place_i]),
            "shelter": np.concatenate([np.where(h_site >= 0, h_row, -1), i_row]).astype(np.int64),
            "wait_rescue_s": w_res,
            "travel_s": w_trav,
            "wait_supplies_s": w_sup,
        })
        return self._relief

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run-folder tables (see the module docstring).

        Call :meth:`finalize` first for a non-empty ``relief`` table.
        """
        p = self.plan.plan
        relief = self._relief if self._relief is not None else self.finalize(
            None, t_end_s=self.t_end_s)
        targets = pd.DataFrame({
            "key": ["plan", "response_min", "relief_h", "warning_coverage", "end_s",
                    "teams", "depots", "trucks"],
            "value": [p.plan.name, p.targets.response_min, p.targets.relief_h,
                      p.targets.warning_coverage, self.t_end_s, len(self.dispatcher.teams),
                      len(self.logistics.depots), len(self.logistics.trucks)],
        }).astype({"value": "str"})
        site_names = self.shelter_names[self.site_shelter] if self.site_shelter.size else \
            np.zeros(0, str)
        return {
            "incidents": self.dispatcher.incidents_frame(),
            "relief": relief,
            "deliveries": self.logistics.deliveries_frame(site_names),
            "stock": self.logistics.stock_frame(),
            "targets": targets,
        }

    def extra(self) -> dict[str, pd.DataFrame]:
        """The tables keyed for ``extra`` of :func:`sim.runs.write_run`.

        Paths are ``hazard/response_<table>.csv`` (what ``write_run`` accepts today).
        """
        return {f"hazard/response_{k}.csv": v for k, v in self.tables().items()}
