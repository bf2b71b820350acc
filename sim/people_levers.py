"""The people-side plan levers in the model: the hooks :class:`sim.model.EvacuationModel` calls.

Each hook is one line in the model, at the point of its build or tick order:

* :func:`phase_orders` after the response is drawn: staged orders and shadow evacuation
  (:mod:`sim.phasing`);
* :func:`assign` after the hazards' protective orders: designated shelters per zone as
  extra shelter sets (:mod:`sim.assignment`); the model then calls
  ``model.assignment.update_set_nodes`` wherever it refreshes its routes;
* :func:`bus_vehicles` / :func:`attach_buses` while the service fleet is built, and
  :func:`step_buses` before the vehicle kernel of every tick (:mod:`sim.buses`).

Random draws come from this module's own streams (:func:`lever_rng`), children of the
run's seed with their own spawn keys, so a lever never shifts the population, response
or hazard streams (a run without levers is bit-identical to one before they existed).
"""

from __future__ import annotations

import numpy as np

from sim.core import walk

__all__ = ["lever_rng", "phase_orders", "assign", "bus_vehicles", "attach_buses",
           "step_buses"]

# Spawn keys of the levers' streams under the run's SeedSequence (the model uses 0..2).
_STREAM_PHASES, _STREAM_BUSES = 70, 71


def lever_rng(seed: int, stream: int) -> np.random.Generator:
    """Generator of one lever's stream: ``SeedSequence(seed, spawn_key=(stream,))``."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(stream),)))


def phase_orders(model) -> None:
    """Apply the plan's ``[evacuation]`` to ``model.resp`` (nothing without it)."""
    model.phased = None
    plan = model.plan
    if plan is None or plan.evacuation is None:
        return
    from sim.phasing import apply_phases

    model.resp, model.phased = apply_phases(
        plan.evacuation, model.pop, model.resp, model.scenario,
        rng=lever_rng(model.seed, _STREAM_PHASES), crs=model.net.crs, source=plan.source)
    order_s = model.phased.order_s
    per_zone = model.pop.zone_persons()
    for t in np.unique(order_s[np.isfinite(order_s)]):
        zones = [model.pop.zone_names[z] for z in np.flatnonzero(order_s == t)]
        n = int(per_zone[order_s == t].sum())
        model._log(float(t), "evacuation_order", ", ".join(zones), "", float(n),
                   f"evacuation ordered for {', '.join(zones)} ({n} residents)")
    shadow = model.phased.shadow
    if shadow.any():
        n = int(model.pop.persons[shadow].sum())
        t = float(np.nanmin(np.where(np.isfinite(order_s), order_s, np.nan)))
        model._log(t, "shadow_evacuation", "", "", float(n),
                   f"{n} residents outside the ordered zones leave anyway")


def assign(model) -> None:
    """Split the shelter sets by the plan's ``[shelter_assignment]`` (nothing without it)."""
    model.assignment = None
    plan = model.plan
    if plan is None or plan.shelter_assignment is None:
        return
    from sim.assignment import assign_shelters

    (model.shelter_sets, model.household_set, model._route_factors, model._set_nodes,
     model.assignment) = assign_shelters(
        plan.shelter_assignment, zone=model.pop.zone, zone_names=model.pop.zone_names,
        shelter_names=model.shelter_table.name, shelter_node=model.shelter_node,
        household_set=model.household_set, stay=model.ordered_to_stay,
        shelter_sets=model.shelter_sets, route_factors=model._route_factors,
        set_nodes=model._set_nodes, source=plan.source)
    model.assignment.update_set_nodes(model._set_nodes, model.shelter_open)
    n = int(model.pop.persons[model.assignment.area_of_household >= 0].sum())
    model._log(0.0, "shelter_assignment", "", "", float(n),
               f"{n} residents assigned to designated shelters "
               f"(overflow rule: {plan.shelter_assignment.overflow})")


def bus_vehicles(model) -> tuple[np.ndarray, np.ndarray]:
    """Home node and fleet kind of the plan's buses (empty arrays without ``[buses]``).

    Also picks the riders and their pickup points (``model._bus_setup``), checking the
    places against the map first.
    """
    from sim.buses import BUS

    plan = model.plan
    model.buses = None
    model._bus_setup = None
    if plan is None or plan.buses is None:
        return np.zeros(0, np.int32), np.zeros(0, np.int8)
    from sim.buses import select_riders, stop_access
    from sim.plan_levers import point_xy, raise_problems
    from sim.population import snap_to_nodes

    spec, src, net = plan.buses, plan.source, model.net
    problems = []
    dx, dy = point_xy([spec.depot], net.crs)
    px, py = point_xy(spec.pickups, net.crs)
    depot, dd = snap_to_nodes(net, dx, dy, network="drive")
    stops, sd = snap_to_nodes(net, px, py, network="drive")
    limit = plan.plan.max_snap_m
    if not dd[0] <= limit:
        problems.append(f"{src}: buses.depot: expected a place within plan.max_snap_m = "
                        f"{limit} m of a drivable road, got x={dx[0]:.1f}, y={dy[0]:.1f} m "
                        f"({dd[0]:.0f} m from the nearest drive node)")
    for i in np.flatnonzero(~(sd <= limit)):
        problems.append(f"{src}: buses.pickups[{i}]: expected a place within plan.max_snap_m "
                        f"= {limit} m of a drivable road, got x={px[i]:.1f}, y={py[i]:.1f} m "
                        f"({sd[i]:.0f} m from the nearest drive node)")
    raise_problems(src, "the plan's [buses]", problems)
    pop = model.pop
    want = select_riders(pop.has_car, pop.vulnerable, riders=spec.riders,
                         share=spec.rider_share, rng=lever_rng(model.seed, _STREAM_BUSES))
    hh = np.flatnonzero(want & ~model.ordered_to_stay)
    stop, walk_m = stop_access(net, pop.home_walk_node[hh], pop.x_m[hh], pop.y_m[hh], px, py)
    near = walk_m <= spec.max_walk_m
    model._bus_setup = (hh[near], stop[near], walk_m[near], depot[0], stops)
    return np.full(spec.count, depot[0], np.int32), np.full(spec.count, BUS, np.int8)


def attach_buses(model, rows: np.ndarray) -> None:
    """Create the bus dispatcher on fleet ``rows``; take its riders off the footpaths."""
    if model._bus_setup is None:
        return
    from sim.buses import BusService

    spec = model.plan.buses
    hh, stop, walk_m, depot, stops = model._bus_setup
    pop, resp = model.pop, model.resp
    ready = resp.t_depart_s[hh] + walk_m / np.maximum(pop.walk_speed_mps[hh], 1e-9)

    def deliver(households: np.ndarray, t_s: float, node: int) -> None:
        pos = model._pos_in_walk[households]
        w = model.walkers
        w.state[pos] = walk.ARRIVED
        w.t_arrive_s[pos] = t_s
        w.dest_node[pos] = node

    model.buses = BusService(
        model.service, rows, int(depot), stops, hh, pop.persons[hh], stop, ready,
        seats=spec.seats, board_s_per_person=spec.board_s_per_person,
        alight_s_per_person=spec.alight_s_per_person, start_s=spec.start_min * 60.0,
        shelter_table=0, deliver=deliver, skip=lambda: model.stranded,
        stop_names=[p.name or f"pickup-{i}" for i, p in enumerate(spec.pickups)])
    # Riders wait for the bus: they never set off on foot.
    rider = np.zeros(len(pop.persons), bool)
    rider[hh] = True
    keep = ~rider[model.walk_hh[model._walk_order]]
    model._walk_order = model._walk_order[keep]
    model._walk_times = model._walk_times[keep]
    n = int(pop.persons[hh].sum())
    model._log(0.0, "bus_riders", "", "", float(n),
               f"{n} residents without a car wait for {spec.count} buses at "
               f"{len(spec.pickups)} pickup points")


def step_buses(model, t0: float, dt: float) -> None:
    """The bus dispatcher's turn in the tick (before the vehicle kernel); logs its events."""
    bs = model.buses
    if bs is None:
        return
    n0 = len(bs.events)
    bs.step(t0, dt)
    for t_s, kind, where, value, msg in bs.events[n0:]:
        model._log(t_s, kind, where, "", value, msg)


def bus_tables(model) -> dict:
    """Run-folder extras: ``hazard/buses_riders.csv``, ``hazard/buses_trips.csv``."""
    bs = getattr(model, "buses", None)
    if bs is None:
        return {}
    return {"hazard/buses_riders.csv": bs.riders_table(),
            "hazard/buses_trips.csv": bs.trips_table()}
