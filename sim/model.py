"""The Mesa model that composes map, people, shelters, routing and the traffic core.

Residents are array rows (households), not Mesa agents: a no-op Mesa step over 300,000
agent objects costs ~0.4 s, the whole numpy/numba tick a few milliseconds. Mesa agents are
the few hundred things that really are few and stateful: shelters now, rescue teams,
depots and trucks later.

Order inside one tick ``(t, t + tick_s]`` — fixed, so runs are reproducible:

1. hazards update (none yet: speed factors stay 1);
2. households whose departure time falls in the tick are released (cars to the origin
   wait list, walking groups onto the footpaths);
2b. the plan's road levers that are due fire (contraflow, traffic control points; routes
   recomputed) and the informed drivers' tables are rebuilt every ``update_min``
   (:mod:`sim.plan_roads`);
3. the vehicle kernel moves cars (spatial queue with spillback; responders on green
   links use the reserved lane; vehicles stuck ``[traffic] stuck_time_s`` pull off);
4. the pedestrian kernel moves walking groups (Weidmann speed-density);
5. shelters that became full are closed (Mesa agents record it, an event is logged);
6. if any shelter closed, the next-hop tables are recomputed, so everyone still bound
   for a full shelter is redirected to the nearest open one;
7. the clock advances; the DataCollector samples every ``sample_s``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np

from sim import people_levers
from sim import population as popmod
from sim.core import queue, walk
from sim.core.households import (
    Movers,
    household_positions,
    household_states,
    mover_states,
    persons_by_state,
)
from sim.hazards.base import Hazard, HazardUpdate, Incident, PeopleView
from sim.hazards.chains import bind_hazards
from sim.hazards.registry import build_hazards
from sim.hazards.wildfire.trigger import apply_trigger_warnings
from sim.linkloads import LinkLoadRecorder
from sim.network import RoadNetwork, load_map
from sim.orders import protective_orders
from sim.plan import Plan, apply_to_scenario, resolve_plan
from sim.plan_roads import ModelRoads
from sim.population import Population, Response, build_population, sample_response
from sim.response import HouseholdOutcome, ResponseSystem, service_vehicles
from sim.routing import NextHopMemo
from sim.scenario import Scenario, default_scenario_path, load_scenario
from sim.service_fleet import ServiceFleet
from sim.shelters import ShelterTable, build_shelters

# Person-level states reported by the model (timeseries columns, households.csv status),
# indexed by the state codes of :mod:`sim.population`.
STATES: tuple[str, ...] = tuple(popmod.STATE_NAMES)


@dataclass(frozen=True)
class Event:
    """One entry of the event log: something a report or a drill inject may need."""

    t_s: float
    kind: str
    where: str
    who: str
    value: float
    message: str


class Shelter(mesa.Agent):
    """A shelter opened by the plan.

    Occupancy lives in the model's node arrays (both kernels write them); the agent keeps
    what is specific to it: capacity, when it filled, and how many groups it turned away.
    """

    def __init__(self, model: EvacuationModel, row: int, table: ShelterTable, node: int) -> None:
        super().__init__(model)
        self.row = row
        self.name = str(table.name[row])
        self.kind = str(table.kind[row])
        self.capacity = int(table.capacity[row])
        self.node = node
        self.t_full_s = math.nan
        self.turned_away = 0

    def mark_full(self, t_s: float, turned_away: int) -> None:
        """Record that the shelter's node has no room left at ``t_s`` (seconds).

        ``turned_away`` counts the groups that reached it full and are being redirected.
        """
        if math.isnan(self.t_full_s):
            self.t_full_s = t_s
        self.turned_away += turned_away


class EvacuationModel(mesa.Model):
    """A district evacuates to its shelters through road traffic and on foot.

    Parameters
    ----------
    scenario
        A validated scenario; ``None`` loads ``scenario_path`` or, if that is ``None`` too,
        the embedded default (``scenarios/default.toml``).
    scenario_path
        Path of a scenario TOML file (used when ``scenario`` is ``None``).
    seed
        Seed of the run's random streams; ``None`` takes the scenario's ``seed``.
    network
        An already loaded map (to share one between replications); ``None`` loads the
        scenario's map file.
    cache_dir
        Where compiled maps are cached; ``None`` uses the default cache, ``False`` none.
    hazards
        Hazard objects to run; ``None`` builds those of the scenario's ``[[hazards]]``.
    plan
        A response plan (rescue teams, depots, trucks, relief targets; ``sim.plan``);
        ``None`` runs the evacuation without responders.

    Notes
    -----
    All constructor arguments are keyword-only with defaults, as Mesa's SolaraViz and
    ``batch_run`` expect. Time ``t_s`` is seconds since the scenario start (the warning
    start is ``[warning] start_min`` after it).
    """

    def __init__(
        self,
        *,
        scenario: Scenario | None = None,
        scenario_path: str | Path | None = None,
        seed: int | None = None,
        network: RoadNetwork | None = None,
        cache_dir: Path | None | bool = None,
        hazards: Sequence[Hazard] | None = None,
        plan: Plan | None = None,
    ) -> None:
        if scenario is None:
            scenario = load_scenario(
                scenario_path if scenario_path is not None else default_scenario_path()
            )
        if plan is not None:
            scenario = apply_to_scenario(scenario, plan)
        self.plan = plan
        seed = scenario.scenario.seed if seed is None else int(seed)
        super().__init__(seed=seed)
        self.scenario = scenario
        self.seed = seed
        # Independent child streams per subsystem: adding draws to one never shifts another.
        pop_ss, resp_ss, hazard_ss = np.random.SeedSequence(seed).spawn(3)

        self.net = (
            network
            if network is not None
            else load_map(
                scenario.scenario.map,
                cache_dir=cache_dir,
                jam_spacing_m=scenario.traffic.jam_spacing_m,
            )
        )
        self.shelter_table = build_shelters(self.net, scenario)
        self.pop: Population = build_population(
            self.net, scenario, rng=np.random.default_rng(pop_ss)
        )
        self.resp: Response = sample_response(
            self.pop, scenario, rng=np.random.default_rng(resp_ss)
        )

        self.tick_s = float(scenario.time.tick_s)
        self.horizon_s = float(scenario.time.horizon_h) * 3600.0
        self.sample_every = max(1, round(scenario.time.sample_s / self.tick_s))
        self.t_s = 0.0
        self.events: list[Event] = []
        people_levers.phase_orders(self)  # plan [evacuation]: staged orders, shadow

        self._build_shelters()
        self.hazards = list(hazards) if hazards is not None else build_hazards(scenario)
        # Binds each hazard with its own stream; resolves disaster chains (triggered hazards).
        self.hazards = bind_hazards(self.hazards, self.net, hazard_ss, self._log)
        for hz in self.hazards:  # one that can work ahead starts now, beside the building
            self._prefetch(hz, self.t_s, 0.0)  # (every hazard is first due at 0)
        apply_trigger_warnings(self)  # wildfire trigger points (sim/hazards/wildfire/trigger.py)
        self._apply_protective_actions()
        people_levers.assign(self)  # plan [shelter_assignment]: designated shelter sets
        self._build_movers()
        self.roads = ModelRoads(self)  # issue 14: road levers, informed drivers, stuck count
        self._build_response()
        self._hazard_due = [0.0] * len(self.hazards)
        self._displaced_done = [False] * len(self.hazards)
        self._drive_factors = [np.ones(self.net.drive.n_links) for _ in self.hazards]
        self._walk_factors = [np.ones(self.net.walk.n_links) for _ in self.hazards]
        self.stranded = np.zeros(len(self.pop.persons), dtype=bool)
        # Persons killed per household, per hazard (cumulative) and in all (capped).
        self._dead_by_hazard = [np.zeros(len(self.pop.persons), np.int64) for _ in self.hazards]
        self.dead = np.zeros(len(self.pop.persons), dtype=np.int64)
        self.incidents: list[Incident] = []
        self._refresh_routes()
        self._check_reachable()

        self.link_loads = LinkLoadRecorder(self.net.drive)  # traffic/link_loads.npz
        self.datacollector = mesa.DataCollector(
            model_reporters={
                **{name: _state_reporter(i) for i, name in enumerate(STATES)},
                "vehicles_moving": lambda m: int(np.count_nonzero(m.fleet.state == queue.MOVING)),
                "vehicles_waiting": lambda m: int(np.count_nonzero(m.fleet.state == queue.WAITING)),
                "walkers_moving": lambda m: int(np.count_nonzero(m.walkers.state == walk.MOVING)),
            }
        )
        self.sample_t_s: list[float] = []
        self._log(
            0.0,
            "scenario_start",
            "",
            "",
            float(self.pop.n_persons),
            f"{self.pop.n_persons} residents in {len(self.pop.persons)} households",
        )
        from sim.population_report import population_report, warning_text

        self.population_report = population_report(self.pop, self.net,
                                                   source=scenario.population.source)
        for w in self.population_report["warnings"]:
            self._log(0.0, "population_warning", w["zone"], w["code"], float(w["persons"]),
                      warning_text(w))
        self._collect()

    # ------------------------------------------------------------------ build
    def _build_shelters(self) -> None:
        """Create shelter agents and the per-node room array both kernels share."""
        n = len(self.net.nodes)
        table = self.shelter_table
        # One node per shelter that is on both networks, so cars and walkers fill the same
        # room counter (the node index space is shared by the drive and walk links).
        both = _has_links(self.net.drive, n) & _has_links(self.net.walk, n)
        self.shelter_node = _snap_to(self.net, table.x_m, table.y_m, both)
        self.shelters = [
            Shelter(self, i, table, int(self.shelter_node[i])) for i in range(len(table.name))
        ]
        cap = np.zeros(n, dtype=np.int64)
        np.add.at(cap, self.shelter_node, table.capacity.astype(np.int64))
        self.node_capacity = cap
        self.shelter_room = cap.copy()
        self.shelter_open = cap > 0

    def _build_movers(self) -> None:
        """One vehicle per car household, one walking group per other household."""
        pop, resp = self.pop, self.resp
        self.is_car = pop.has_car.copy()
        self.car_hh = np.flatnonzero(self.is_car)
        self.walk_hh = np.flatnonzero(~self.is_car)
        self._car_set = self.household_set[self.car_hh]
        self._walk_set = self.household_set[self.walk_hh]
        self.fleet = queue.new_fleet(len(self.car_hh), origin=pop.home_drive_node[self.car_hh],
                                     persons=pop.persons[self.car_hh],
                                     table=_table_of_set(self._car_set))
        self.queues = queue.new_queues(self.net.drive, len(self.car_hh))
        self.walkers = walk.new_walkers(len(self.walk_hh))
        self.walkers.origin[:] = pop.home_walk_node[self.walk_hh]
        self.walkers.persons[:] = pop.persons[self.walk_hh]
        self.walkers.v0_mps[:] = pop.walk_speed_mps[self.walk_hh]
        self.walkers.table[:] = _table_of_set(self._walk_set)
        self._car_home_node = pop.home_drive_node[self.car_hh]
        self._pos_in_car = np.full(len(pop.persons), -1, dtype=np.int64)
        self._pos_in_car[self.car_hh] = np.arange(len(self.car_hh))
        self._pos_in_walk = np.full(len(pop.persons), -1, dtype=np.int64)
        self._pos_in_walk[self.walk_hh] = np.arange(len(self.walk_hh))
        self.walk_persons_on = np.zeros(self.net.walk.n_links, dtype=np.float64)
        self.walk_exits = np.zeros(self.net.walk.n_links, dtype=np.int64)
        self.walk_peak_persons = np.zeros(self.net.walk.n_links, dtype=np.float64)
        self.drive_speed_factor = np.ones(self.net.drive.n_links)
        self.walk_speed_factor = np.ones(self.net.walk.n_links)
        # Table 0 ends at any open shelter (set 0), table 1 simply has no next links, table
        # k + 1 ends at the open shelters of set k >= 1 (target -k-1, see sim.core.queue).
        n_sets = len(self.shelter_sets)
        self.target = np.array([-1, -1, *(-k - 1 for k in range(1, n_sets))], dtype=np.int32)
        # Release order: by departure time, ties by household index (stable sort).
        t_car = resp.t_depart_s[self.car_hh]
        self._car_order = np.argsort(t_car, kind="stable").astype(np.int32)
        self._car_times = t_car[self._car_order]
        self._car_next = 0
        t_walk = resp.t_depart_s[self.walk_hh]
        self._walk_order = np.argsort(t_walk, kind="stable").astype(np.int32)
        self._walk_times = t_walk[self._walk_order]
        self._walk_next = 0
        self._last_departure_s = float(
            np.max(resp.t_depart_s[np.isfinite(resp.t_depart_s)], initial=0.0)
        )

    def _build_response(self) -> None:
        """Rescue teams and relief trucks join the residents' fleet (same queues)."""
        self.all_fleet = self.fleet
        self.response: ResponseSystem | None = None
        self._n_incidents_seen = 0
        if self.plan is None:
            return
        rp = resolve_plan(self.plan, self.net, shelter_names=self.shelter_table.name)
        home, kinds = service_vehicles(rp)
        bus_home, bus_kinds = people_levers.bus_vehicles(self)  # plan [buses]; rows after
        n_service = home.size
        home, kinds = np.concatenate([home, bus_home]), np.concatenate([kinds, bus_kinds])
        n_car = len(self.car_hh)
        full = queue.new_fleet(n_car + home.size)
        for name in queue.Fleet._fields:
            if name != "table":  # read-only: set_table
                getattr(full, name)[:n_car] = getattr(self.fleet, name)
        queue.set_table(full, None, np.arange(n_car), self.fleet.table)
        self.all_fleet = full
        self.fleet = queue.Fleet(*(a[:n_car] for a in full))  # residents: views into it
        self.queues = queue.new_queues(self.net.drive, n_car + home.size)
        self.service = ServiceFleet(self.net.drive, len(self.net.nodes), full, self.queues,
                                    np.arange(n_car, n_car + home.size), home, kinds,
                                    table_offset=len(self.target))
        self.response = ResponseSystem(self, rp, self.service,
                                       shelter_names=self.shelter_table.name,
                                       shelter_nodes=self.shelter_node,
                                       shelter_capacity=self.shelter_table.capacity)
        people_levers.attach_buses(self, np.arange(n_car + n_service, n_car + home.size))
        self._refresh_routes()

    def finalize_response(self) -> None:
        """Hand the households' outcomes to the response bookkeeping (end of run)."""
        if self.response is None:
            return
        dep = self.resp.t_depart_s
        affected = np.where(np.isfinite(dep) & ~self.stranded, dep, np.nan)
        outcome = HouseholdOutcome(persons=self.pop.persons - self.dead, affected_s=affected,
                                   safe_s=self.household_arrival_s(),
                                   shelter_row=self.household_shelter_rows())
        self.response.finalize(outcome, t_end_s=self.t_s)

    def _refresh_routes(self) -> None:
        """Recompute the next-hop tables toward the shelters that are still open.

        One drive and one walk table per shelter set; :attr:`dest_open` (bool[S, N]) is
        what each set's travellers may enter now.
        """
        n = len(self.net.nodes)
        if getattr(self, "assignment", None) is not None:  # designated shelters that are open
            self.assignment.update_set_nodes(self._set_nodes, self.shelter_open)
        self.dest_open = self._set_nodes & self.shelter_open
        drive_cost = np.where(
            self.drive_speed_factor > 0,
            self.net.drive.fft_s / np.maximum(self.drive_speed_factor, 1e-12),
            np.inf,
        )
        walk_cost = np.where(
            self.walk_speed_factor > 0,
            self.net.walk.fft_s / np.maximum(self.walk_speed_factor, 1e-12),
            np.inf,
        )
        targets = [np.flatnonzero(row).astype(np.int32) for row in self.dest_open]
        # A set whose orders avoid a zone pays more for the links inside it.
        factors = [(1.0, 1.0) if f is None else f for f in self._route_factors]
        res_cost = self.roads.evacuee_cost(drive_cost)  # roads closed to evacuees
        # One remembering next_hop per table: unchanged costs and targets are not rerouted.
        memo = self.__dict__.setdefault("_route_memo", {})
        for key in [(net, k) for net in ("drive", "walk") for k in range(len(targets))]:
            memo.setdefault(key, NextHopMemo())
        self.drive_routes = [memo["drive", k](self.net.drive, n, t, cost_s=res_cost * f[0])
                             for k, (t, f) in enumerate(zip(targets, factors, strict=True))]
        self.walk_routes = [memo["walk", k](self.net.walk, n, t, cost_s=walk_cost * f[1])
                            for k, (t, f) in enumerate(zip(targets, factors, strict=True))]
        # Per set: is an open shelter of the set reachable from each node (for the states).
        self._drive_reach = np.stack([np.isfinite(r.cost_s) for r in self.drive_routes])
        self._walk_reach = np.stack([np.isfinite(r.cost_s) for r in self.walk_routes])
        # Row 0: toward the nearest open shelter. Row 1: nowhere (households stopped by a
        # hazard follow it, so they stay where they are until rescued). Rows 2..: toward
        # the nearest open shelter of sets 1.. .
        nowhere = np.full(n, -1, dtype=np.int32)
        self.drive_next = np.stack(_with_nowhere([r.next_link for r in self.drive_routes], nowhere))
        self.walk_next = np.stack(_with_nowhere([r.next_link for r in self.walk_routes], nowhere))
        self.drive_next, self.walk_next = self.roads.with_informed(
            self, targets, factors, self.drive_next, self.walk_next,
            [r.next_link for r in self.walk_routes])
        # The kernels skip their per-tick value checks (check_values=False): check here,
        # where tables and factors change.
        queue.check_step_values("routes", self.drive_next, self.drive_speed_factor,
                                self.fleet.table, self.net.drive.n_links)
        queue.check_step_values("routes", self.walk_next, self.walk_speed_factor,
                                self.walkers.table, self.net.walk.n_links)
        if getattr(self, "response", None) is not None:
            self.service.set_cost(drive_cost)

    def _check_reachable(self) -> None:
        """Refuse a scenario in which nobody can reach any shelter."""
        from sim._errors import ScenarioError

        reach_car = self._drive_reach[self._car_set, self.fleet.origin]
        reach_walk = self._walk_reach[self._walk_set, self.walkers.origin]
        if not (reach_car.any() or reach_walk.any()):
            msg = (
                f"{self.scenario.source}: shelters: no shelter is reachable from any home "
                f"({len(self.shelters)} shelters open); open shelters on the road network "
                "or check the map"
            )
            raise ScenarioError(msg)
        unreachable = int(
            self.fleet.persons[~reach_car].sum() + self.walkers.persons[~reach_walk].sum()
        )
        if unreachable:
            self._log(
                0.0,
                "unreachable_homes",
                "",
                "",
                float(unreachable),
                f"{unreachable} residents live where no open shelter can be reached",
            )

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance one tick of ``tick_s`` seconds (see the module docstring for the order)."""
        t0, dt = self.t_s, self.tick_s
        t1 = t0 + dt
        if self.hazards:
            self._apply_hazards(t0)
        self._release(t1)
        self.roads.before_step(self, t0)
        next_link, target = self.drive_next, self.target
        if self.response is not None:
            # Before the kernel, so a team leaves exactly at created + dispatch delay.
            new = self.incidents[self._n_incidents_seen :]
            self._n_incidents_seen = len(self.incidents)
            self.response.step(t0, dt, new, self.node_capacity - self.shelter_room)
            people_levers.step_buses(self, t0, dt)
            next_link, target = self.service.stacked(self.drive_next, self.target)
        stats = queue.step_vehicles(
            self.net.drive,
            self.queues,
            self.all_fleet,
            next_link,
            target,
            self.dest_open,
            self.shelter_room,
            self.drive_speed_factor,
            t0,
            dt,
            check_values=False,  # built here; tables from next_hop, factors clipped to [0, 1]
            green=self.roads.green,
            stuck_s=self.scenario.traffic.stuck_time_s,
        )
        self.roads.after_step(self, t1, stats)
        walk.step_walkers(
            self.net.walk,
            self.walkers,
            self.walk_persons_on,
            self.walk_next,
            self.target,
            self.dest_open,
            self.shelter_room,
            self.walk_speed_factor,
            t0,
            dt,
            exits=self.walk_exits,
            check_values=False,
        )
        np.maximum(self.walk_peak_persons, self.walk_persons_on, out=self.walk_peak_persons)
        full = self.shelter_open & (self.shelter_room <= 0)
        if full.any():
            self.shelter_open &= ~full
            for node in np.flatnonzero(full):
                blocked = self._blocked_at(int(node))
                for i, s in enumerate(self._shelters_at(int(node))):
                    s.mark_full(t1, blocked if i == 0 else 0)
                    self._log(
                        t1,
                        "shelter_full",
                        s.name,
                        "",
                        float(s.capacity),
                        f"shelter {s.name} is full ({s.capacity} places)",
                    )
            self._refresh_routes()
        self.t_s = t1
        if self.steps % self.sample_every == 0:
            self._collect()
        if self.t_s >= self.horizon_s - 1e-9 or self._settled():
            self.running = False
            if self.steps % self.sample_every != 0:
                self._collect()

    # ------------------------------------------------------------------ hazards
    def _apply_hazards(self, t_s: float) -> None:
        """Ask each due hazard for its update and apply it (closures, strandings)."""
        view = None
        changed = False
        for i, hz in enumerate(self.hazards):
            if t_s + 1e-9 < self._hazard_due[i]:
                continue
            # A hazard that can work ahead learns when this update and the next ones are.
            self._prefetch(hz, t_s, self._hazard_due[i])
            self._hazard_due[i] = t_s + hz.cadence_s
            view = view if view is not None else self.people_view()
            upd: HazardUpdate = hz.update(t_s, view)
            if upd.drive_factor is not None:
                self._drive_factors[i] = np.clip(
                    np.asarray(upd.drive_factor, dtype=np.float64), 0.0, 1.0
                )
                changed = True
            if upd.walk_factor is not None:
                self._walk_factors[i] = np.clip(
                    np.asarray(upd.walk_factor, dtype=np.float64), 0.0, 1.0
                )
                changed = True
            if upd.stranded is not None and len(upd.stranded):
                self._strand(np.asarray(upd.stranded, dtype=np.int64))
            if upd.dead is not None:
                self._dead_by_hazard[i] = np.asarray(upd.dead, dtype=np.int64)
                self.dead = np.minimum(np.add.reduce(self._dead_by_hazard), self.pop.persons)
            if hasattr(hz, "displaced_departures") and not self._displaced_done[i]:
                hh, t_dep = hz.displaced_departures()
                if len(hh):
                    self._displaced_done[i] = True
                    self._schedule_departures(np.asarray(hh, dtype=np.int64),
                                              np.asarray(t_dep, dtype=np.float64))
            for inc in upd.incidents:
                self.incidents.append(inc)
                self._log(
                    inc.t_s,
                    f"{inc.hazard}_{inc.kind}",
                    str(inc.node),
                    "",
                    float(inc.persons),
                    inc.note or f"{inc.persons} persons {inc.kind} ({inc.hazard})",
                )
        if not changed:
            return
        drive = np.minimum(np.minimum.reduce(self._drive_factors), self.roads.factor)
        walk_f = np.minimum.reduce(self._walk_factors)
        closures_changed = not (
            np.array_equal(drive == 0, self.drive_speed_factor == 0)
            and np.array_equal(walk_f == 0, self.walk_speed_factor == 0)
        )
        self.drive_speed_factor = drive
        self.walk_speed_factor = walk_f
        if closures_changed:
            n_drive = int(np.count_nonzero(drive == 0))
            n_walk = int(np.count_nonzero(walk_f == 0))
            self._log(
                t_s,
                "closures",
                "",
                "",
                float(n_drive),
                f"{n_drive} road links and {n_walk} footpath links closed",
            )
            self._refresh_routes()

    def _prefetch(self, hz: Hazard, t_s: float, due_s: float) -> None:
        """Tell a hazard that can work ahead (``prefetch``) when its coming updates are.

        From the tick at ``t_s`` on, the next one due at ``due_s``: each the first tick at
        or after its due time, summed tick by tick exactly as :meth:`step` sums them, up
        to the horizon; given lazily.
        """
        ahead = getattr(hz, "prefetch", None)
        if ahead is not None:
            ahead(self._update_times(t_s, due_s, hz.cadence_s))

    def _update_times(self, t_s: float, due_s: float, cadence_s: float) -> Iterator[float]:
        """A hazard's update times from the tick at ``t_s`` on, s (see :meth:`_prefetch`)."""
        t = t_s
        while True:
            while t + 1e-9 < due_s:
                t += self.tick_s
            if t >= self.horizon_s - 1e-9:
                return
            yield t
            due_s = t + cadence_s

    def _apply_protective_actions(self) -> None:
        """Apply the hazards' protective-action orders (:mod:`sim.orders`).

        Households ordered to shelter in place (or left at home) never depart; the others
        keep the scenario's warning and departure behaviour but head only for the shelters
        of their set (:attr:`shelter_sets`, row 0 = every shelter), each set with its own
        routing table, whose travel times may weigh links inside an avoided zone more.
        """
        table = self.shelter_table
        orders = protective_orders(self.hazards, self.pop.x_m, self.pop.y_m,
                                   table.x_m, table.y_m, zone=self.pop.zone,
                                   zone_names=self.pop.zone_names)
        self.ordered_to_stay = orders.stay
        self.shelter_sets = orders.shelter_sets
        self.household_set = orders.household_set
        self._route_factors = orders.route_factors
        # Shelter nodes of each set (fixed; which of them are open changes).
        self._set_nodes = np.zeros((len(orders.shelter_sets), len(self.net.nodes)), dtype=bool)
        for k, admitted in enumerate(orders.shelter_sets):
            self._set_nodes[k, self.shelter_node[admitted]] = True
        self.resp.t_depart_s[orders.stay] = np.inf
        if orders.stay.any():
            n = int(self.pop.persons[orders.stay].sum())
            self._log(0.0, "protective_action", "", "", float(n),
                      f"{n} residents ordered to shelter in place or to stay")
        for k, admitted in enumerate(orders.shelter_sets[1:], start=1):
            n = int(self.pop.persons[~orders.stay & (orders.household_set == k)].sum())
            names = ", ".join(table.name[admitted][:5]) or "none"
            more = ", ..." if admitted.sum() > 5 else ""
            self._log(0.0, "shelter_restriction", "", "", float(n),
                      f"{n} residents may only go to {int(admitted.sum())} of "
                      f"{len(table.name)} shelters ({names}{more})")

    def _schedule_departures(self, households: np.ndarray, t_depart_s: np.ndarray) -> None:
        """Make households leave at the given times (e.g. displaced by an earthquake)."""
        keep = ~self.stranded[households] & (self._mover_state()[households] == queue.IDLE)
        households, t_depart_s = households[keep], t_depart_s[keep]
        if households.size == 0:
            return
        resp = self.resp
        resp.t_depart_s[households] = np.minimum(resp.t_depart_s[households], t_depart_s)
        resp.warned[households] = True
        resp.complies[households] = True
        resp.t_warned_s[households] = np.minimum(resp.t_warned_s[households], t_depart_s)
        # Re-sort the not yet released tails of both release orders.
        for order_attr, times_attr, next_attr, hh in (
            ("_car_order", "_car_times", "_car_next", self.car_hh),
            ("_walk_order", "_walk_times", "_walk_next", self.walk_hh),
        ):
            order, nxt = getattr(self, order_attr), getattr(self, next_attr)
            tail = order[nxt:]
            t = resp.t_depart_s[hh[tail]]
            o = np.argsort(t, kind="stable")
            order[nxt:] = tail[o]
            getattr(self, times_attr)[nxt:] = t[o]
        finite = resp.t_depart_s[np.isfinite(resp.t_depart_s)]
        self._last_departure_s = float(np.max(finite, initial=0.0))
        n = int(self.pop.persons[households].sum())
        self._log(float(t_depart_s.min()), "displaced", "", "", float(n),
                  f"{n} residents displaced from damaged homes must evacuate")

    def _strand(self, households: np.ndarray) -> None:
        """Stop households where they are: they wait for rescue, they are not lost."""
        households = households[~self.stranded[households]]
        if households.size == 0:
            return
        self.stranded[households] = True
        pos_car = self._pos_in_car[households]
        cars = pos_car[pos_car >= 0]
        moving = cars[self.fleet.state[cars] != queue.ARRIVED]
        queue.set_table(self.fleet, self.queues, moving, 1)
        self.fleet.t_ready_s[moving[self.fleet.state[moving] == queue.MOVING]] = np.inf
        pos_walk = self._pos_in_walk[households]
        peds = pos_walk[pos_walk >= 0]
        peds = peds[self.walkers.state[peds] != walk.ARRIVED]
        self.walkers.table[peds] = 1
        self.walkers.v0_mps[peds] = 0.0

    def people_view(self) -> PeopleView:
        """Where every household is now, for the hazards (projected metres).

        One pass over the households (:func:`sim.core.households.household_positions`);
        computed once per tick in which any hazard is due and shared by all of them.
        """
        pop = self.pop
        x, y, drive_link, walk_link, arrived, waiting = household_positions(
            self.t_s, home_x_m=pop.x_m, home_y_m=pop.y_m, node_x_m=self.net.nodes.x_m,
            node_y_m=self.net.nodes.y_m, cars=self.fleet, car_hh=self.car_hh,
            car_home_node=self._car_home_node, drive=self.net.drive,
            drive_speed_factor=self.drive_speed_factor, walkers=self.walkers,
            walk_hh=self.walk_hh, walk=self.net.walk)
        mover = self._mover_state()
        # At home or at a shelter; not waiting at the origin in the car.
        indoors = ((mover == queue.IDLE) | arrived) & ~waiting
        return PeopleView(
            x_m=x,
            y_m=y,
            persons=pop.persons,
            state=self.household_state(mover),
            indoors=indoors,
            has_car=pop.has_car,
            drive_link=drive_link,
            walk_link=walk_link,
            building=pop.building,
        )

    def run(self, *, progress: bool = False) -> None:
        """Step until the horizon or until nobody is left to move.

        Parameters
        ----------
        progress
            Show a tqdm progress bar over simulated time (minutes).
        """
        n_ticks = math.ceil(self.horizon_s / self.tick_s - 1e-9)
        bar = None
        if progress:
            from tqdm import tqdm

            class Bar(tqdm):
                # No monitor thread (it lives on after the bar and a forked process must
                # not inherit threads, sim.background): the bar is updated every tick.
                monitor_interval = 0

            bar = Bar(total=n_ticks, unit="tick", desc="simulating", leave=False)
        while self.running:
            self.step()
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        for hz in self.hazards:  # one working ahead on a thread stops (sim.background forks)
            close = getattr(hz, "close", None)
            if close is not None:
                close()
        self._log(self.t_s, "scenario_end", "", "", float(self.t_s), "end of simulation")

    # ------------------------------------------------------------------ helpers
    def _release(self, t1: float) -> None:
        """Release every household whose departure time is before ``t1``."""
        end = int(np.searchsorted(self._car_times, t1, side="left"))
        if end > self._car_next:
            ids = self._car_order[self._car_next : end]
            keep = ~self.stranded[self.car_hh[ids]]  # caught at home by a hazard: no departure
            queue.release(
                self.fleet, self.queues, ids[keep], self._car_times[self._car_next : end][keep]
            )
            self._car_next = end
        end = int(np.searchsorted(self._walk_times, t1, side="left"))
        if end > self._walk_next:
            ids = self._walk_order[self._walk_next : end]
            keep = ~self.stranded[self.walk_hh[ids]]
            walk.release_walkers(
                self.walkers, ids[keep], self._walk_times[self._walk_next : end][keep]
            )
            self._walk_next = end

    def _settled(self) -> bool:
        """Nothing left to happen: all departures done and nobody moving or waiting."""
        if self.t_s <= self._last_departure_s or self.response is not None:
            return False  # with responders, relief goes on to the horizon
        busy_car = np.any((self.fleet.state == queue.WAITING) | (self.fleet.state == queue.MOVING))
        busy_walk = np.any(self.walkers.state == walk.MOVING)
        return not (busy_car or busy_walk)

    def _blocked_at(self, node: int) -> int:
        """Groups waiting at a full shelter node (flag bit 0 set by the kernels)."""
        f, w = self.fleet, self.walkers
        car = (f.state == queue.MOVING) & ((f.flags & 1) == 1)
        car &= self.net.drive.to_node[np.maximum(f.link, 0)] == node
        ped = (w.state == walk.MOVING) & ((w.flags & 1) == 1)
        ped &= self.net.walk.to_node[np.maximum(w.link, 0)] == node
        return int(np.count_nonzero(car) + np.count_nonzero(ped))

    def _shelters_at(self, node: int) -> list[Shelter]:
        return [s for s in self.shelters if s.node == node]

    def _log(self, t_s: float, kind: str, where: str, who: str, value: float, message: str) -> None:
        self.events.append(Event(float(t_s), kind, where, who, float(value), message))

    def _collect(self) -> None:
        # States are computed once per sample; the reporters only read this vector.
        self._counts = self.person_counts()
        self.sample_t_s.append(self.t_s)
        self.datacollector.collect(self)
        self.link_loads.sample(self.t_s, self.queues, self.all_fleet)

    # ------------------------------------------------------------------ state
    def household_shelter_rows(self) -> np.ndarray:
        """Shelter row per household (-1 if none).

        Where several shelters share a node, arrivals fill them in shelter order, earliest
        arrival first, each up to its capacity; the last one takes any overflow.
        """
        n_hh = len(self.pop.persons)
        dest = np.full(n_hh, -1, dtype=np.int64)
        dest[self.car_hh] = self.fleet.dest_node
        dest[self.walk_hh] = self.walkers.dest_node
        t_arr = self.household_arrival_s()
        out = np.full(n_hh, -1, dtype=np.int64)
        arrived = np.flatnonzero(dest >= 0)
        if arrived.size == 0:
            return out
        node_of_shelter = self.shelter_node.astype(np.int64)
        cap = self.shelter_table.capacity.astype(np.int64)
        # Sort arrivals by (node, time, household) so the fill order is deterministic.
        order = np.lexsort((arrived, t_arr[arrived], dest[arrived]))
        arrived = arrived[order]
        nodes = dest[arrived]
        starts = np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]])
        ends = np.r_[starts[1:], nodes.size]
        # a loop over shelter nodes (hundreds), not people
        for a, b in zip(starts, ends, strict=True):
            rows = np.flatnonzero(node_of_shelter == nodes[a])
            if rows.size == 1:
                out[arrived[a:b]] = rows[0]
                continue
            cum_persons = np.cumsum(self.pop.persons[arrived[a:b]]) - self.pop.persons[arrived[a:b]]
            bounds = np.cumsum(cap[rows])[:-1]
            out[arrived[a:b]] = rows[np.searchsorted(bounds, cum_persons, side="right")]
        return out

    def household_arrival_s(self) -> np.ndarray:
        """Arrival time at a shelter per household, seconds (NaN if not arrived)."""
        out = np.full(len(self.pop.persons), np.nan)
        out[self.car_hh] = self.fleet.t_arrive_s
        out[self.walk_hh] = self.walkers.t_arrive_s
        return out

    def household_state(self, mover: np.ndarray | None = None) -> np.ndarray:
        """Current state code (:mod:`sim.population` codes) per household.

        A household is DEAD only when all its members died; otherwise its survivors share
        its state and :meth:`person_counts` counts the dead apart. ``mover``: the kernel
        states of :meth:`_mover_state` when the caller has them already. One pass over the
        households (:func:`sim.core.households.household_states`).
        """
        mover = self._mover_state() if mover is None else mover
        resp = self.resp
        cars, walkers = self._movers()
        return household_states(
            self.t_s, t_warned_s=resp.t_warned_s, complies=resp.complies,
            t_depart_s=resp.t_depart_s, ordered_to_stay=self.ordered_to_stay,
            stranded=self.stranded, dead=self.dead, persons=self.pop.persons, mover=mover,
            cars=cars, walkers=walkers)

    def _movers(self) -> tuple[Movers, Movers]:
        """Cars and walking groups as :mod:`sim.core.households` reads them."""
        f, w = self.fleet, self.walkers
        return (Movers(self.car_hh, f.state, f.link, f.origin, self._car_set,
                       self.net.drive.to_node, self._drive_reach),
                Movers(self.walk_hh, w.state, w.link, w.origin, self._walk_set,
                       self.net.walk.to_node, self._walk_reach))

    def _mover_state(self) -> np.ndarray:
        """Kernel state (IDLE/WAITING/MOVING/ARRIVED) per household."""
        cars, walkers = self._movers()
        return mover_states(len(self.pop.persons), cars, walkers)

    def person_counts(self) -> np.ndarray:
        """Persons per state (order of :data:`STATES`); always sums to the population."""
        return persons_by_state(self.household_state(), self.pop.persons, self.dead,
                                len(STATES))


def _state_reporter(i: int):
    return lambda m: int(m._counts[i])


def _table_of_set(shelter_set: np.ndarray) -> np.ndarray:
    """Routing-table row of travellers heading for shelter set ``k`` (row 1 is "nowhere")."""
    return np.where(shelter_set == 0, 0, shelter_set + 1).astype(np.int32)


def _with_nowhere(rows: list[np.ndarray], nowhere: np.ndarray) -> list[np.ndarray]:
    """Per-set rows with the "nowhere" row inserted at index 1 (see :func:`_table_of_set`)."""
    return [rows[0], nowhere, *rows[1:]]


def _has_links(links, n_nodes: int) -> np.ndarray:
    """Nodes that have at least one out-link and one in-link in ``links``."""
    out = np.bincount(links.from_node, minlength=n_nodes) > 0
    inn = np.bincount(links.to_node, minlength=n_nodes) > 0
    return out & inn


def _snap_to(net: RoadNetwork, x_m: np.ndarray, y_m: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Nearest allowed node to each point (projected metres)."""
    from scipy.spatial import cKDTree

    idx = np.flatnonzero(allowed)
    tree = cKDTree(np.column_stack([net.nodes.x_m[idx], net.nodes.y_m[idx]]))
    _, j = tree.query(np.column_stack([x_m, y_m]))
    return idx[np.asarray(j, dtype=np.int64)].astype(np.int32)
