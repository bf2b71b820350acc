"""Buses for people without a car: pick riders up at stops, carry them to shelters.

A plan's ``[buses]`` (:class:`sim.plan_levers.BusesSpec`) puts ``count`` buses of
``seats`` seats at a depot. Riders are walking households that need help (those with a
member aged 65+, or a share of walking households drawn by the plan); each walks from
home to its nearest pickup point (walk-network distance, at its walking speed) and waits
there from ``ready = t_depart + walk_m / speed``. A rider farther than ``max_walk_m`` from
every pickup walks to a shelter as usual.

Buses are rows of the model's one vehicle fleet (``kind`` 3), driving the same queues as
everyone (like the relief trucks of :mod:`sim.service_fleet`, whose routing tables they
use to reach a stop). Dispatcher (:meth:`BusService.step`, once per tick before the
vehicle kernel; per-bus Python only at trip ends):

1. a bus that reached its stop at ``t_a`` boards its claimed riders and tops up with
   riders of that stop ready by ``t_a`` (first ready first, whole households, until the
   next household does not fit); boarding ends at
   ``max(t_a, last ready) + board_s_per_person * persons``, when it leaves for the
   nearest open shelter (the residents' table 0: it takes room there like a car);
2. a bus that reached a shelter at ``t_s`` hands its riders over (they count as
   arrived at ``t_s``) and is free at ``t_s + alight_s_per_person * persons``;
3. every free bus (at the depot from ``start_min``, or free after unloading), in row
   order: if some stop has riders waiting (ready by the end of the tick) that no bus has
   claimed, it goes to the stop whose first waiting rider has waited longest (ties: the
   nearest by route time, then the lower stop index) and claims them there (up to its
   seats); if no rider is waiting but some will be, it waits where it is; when every
   rider has been claimed it returns to the depot.

Riders caught by a hazard before their pickup (stranded) are skipped.

Timing: the dispatcher runs once per tick, before the kernel, and works with the exact
event times the kernel reports. A bus therefore resumes at the exact time (arrival +
boarding or alighting) whenever that lasts at least one tick; a shorter stop ends at
the start of the next tick (the vehicle kernel enters a link no earlier than ``t0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim._errors import ScenarioError
from sim.core import queue

__all__ = ["BUS", "BusService", "select_riders", "stop_access"]

BUS = 3  # Fleet.kind code of a bus (0 car, 1 rescue vehicle, 2 relief truck)

# Bus phases.
_AT_DEPOT, _TO_STOP, _TO_SHELTER, _FREE, _TO_DEPOT = 0, 1, 2, 3, 4


def select_riders(has_car: np.ndarray, vulnerable: np.ndarray, *, riders: str,
                  share: float | None, rng: np.random.Generator) -> np.ndarray:
    """Households that wait for a bus, bool[H].

    ``riders = "vulnerable"``: walking households with a member aged 65+ (the scenario's
    ``vulnerable_share`` decides how many). ``"share"``: each walking household with
    probability ``share`` (one draw per household, for every household).
    """
    walking = ~np.asarray(has_car, bool)
    draw = rng.random(walking.size)
    if riders == "vulnerable":
        return walking & (np.asarray(vulnerable) > 0)
    return walking & (draw < float(share))


def stop_access(net, home_walk_node: np.ndarray, x_m: np.ndarray, y_m: np.ndarray,
                stop_x_m: np.ndarray, stop_y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest pickup point of each home and the walking distance to it.

    Distance along the walk network from the home's walk node to the walk node nearest
    the stop (one multi-source Dijkstra); where a home has no walk node or no path,
    the straight-line distance to the nearest stop.

    Returns
    -------
    stop : int64[K]
        Pickup index per home.
    walk_m : float64[K]
        Metres to walk.
    """
    from scipy.spatial import cKDTree

    from sim.population import snap_to_nodes
    from sim.routing import next_hop

    hx, hy = np.asarray(x_m, np.float64), np.asarray(y_m, np.float64)
    _, j = cKDTree(np.column_stack([stop_x_m, stop_y_m])).query(np.column_stack([hx, hy]))
    stop = np.asarray(j, np.int64)
    walk_m = np.hypot(hx - np.asarray(stop_x_m)[stop], hy - np.asarray(stop_y_m)[stop])
    wn, _ = snap_to_nodes(net, stop_x_m, stop_y_m, network="walk")
    home = np.asarray(home_walk_node, np.int64)
    if net.walk.n_links and np.all(wn >= 0):
        nh = next_hop(net.walk, len(net.nodes), np.unique(wn).astype(np.int64),
                      cost_s=net.walk.length_m.astype(np.float64))
        ok = home >= 0
        dist = np.full(home.size, np.inf)
        dist[ok] = nh.cost_s[home[ok]]
        tgt = np.full(home.size, -1, np.int64)
        tgt[ok] = nh.target[home[ok]]
        stop_of_node = {int(n): k for k, n in reversed(list(enumerate(wn)))}
        found = np.isfinite(dist) & (tgt >= 0)
        stop[found] = [stop_of_node[int(n)] for n in tgt[found]]  # few hundred stops at most
        walk_m[found] = dist[found]
    return stop, walk_m


@dataclass
class _Bus:
    row: int
    phase: int = _AT_DEPOT
    stop: int = -1
    claimed: list = field(default_factory=list)  # rider indices
    onboard: list = field(default_factory=list)
    free_at: float = 0.0
    trip: int = 0
    t_dispatch: float = np.nan


class BusService:
    """Buses of one depot serving riders at pickup points (see the module docstring).

    Parameters
    ----------
    service
        The model's :class:`~sim.service_fleet.ServiceFleet`; ``bus_rows`` are its rows.
    bus_rows
        int64[B], fleet rows of the buses (IDLE, at the depot).
    depot_node
        Drive node of the depot.
    stop_node
        int64[P], drive node of each pickup point.
    rider_household, rider_persons, rider_stop
        Per rider (a household): household id, persons, pickup index.
    rider_ready_s
        float64[R], when the rider is at the stop, s (``inf``: never leaves home).
    seats
        Seats per bus (persons).
    board_s_per_person, alight_s_per_person
        Boarding and alighting time per person, s.
    start_s
        Buses leave the depot from this time, s.
    shelter_table
        Row of the stacked routing table that leads to the nearest open shelter (0).
    deliver
        ``deliver(households int64[k], t_s, node)``: called when riders reach a shelter.
    skip
        ``skip() -> bool[H]``: riders whose household is set there are not picked up
        (the model's stranded households, read when needed).
    """

    def __init__(self, service, bus_rows, depot_node: int, stop_node, rider_household,
                 rider_persons, rider_stop, rider_ready_s, *, seats: int,
                 board_s_per_person: float, alight_s_per_person: float, start_s: float = 0.0,
                 shelter_table: int = 0, deliver=None, skip=None, stop_names=None) -> None:
        self.service = service
        self.fleet = service.fleet
        self.queues = service.queues
        self.depot_node = int(depot_node)
        self.stop_node = np.asarray(stop_node, np.int64)
        self.stop_names = (list(stop_names) if stop_names is not None
                           else [f"stop-{k}" for k in range(self.stop_node.size)])
        self.hh = np.asarray(rider_household, np.int64)
        self.persons = np.asarray(rider_persons, np.int64)
        self.stop = np.asarray(rider_stop, np.int64)
        self.ready = np.asarray(rider_ready_s, np.float64)
        self.seats = int(seats)
        if self.seats < 1:
            raise ScenarioError(f"buses.seats: expected at least 1 seat, got {seats!r}")
        if self.persons.size and self.persons.max() > self.seats:
            raise ScenarioError(f"buses.seats: expected at least the size of the largest "
                                f"rider household ({int(self.persons.max())} persons), got "
                                f"{self.seats}")
        self.board_s = float(board_s_per_person)
        self.alight_s = float(alight_s_per_person)
        self.start_s = float(start_s)
        self.shelter_table = int(shelter_table)
        self.deliver = deliver
        self.skip = skip
        self.buses = [_Bus(int(r), free_at=self.start_s) for r in np.asarray(bus_rows)]
        n = self.hh.size
        self.claimed = np.zeros(n, bool)
        self.t_pickup = np.full(n, np.nan)
        self.t_deliver = np.full(n, np.nan)
        self.bus_of = np.full(n, -1, np.int64)
        self.shelter_node = np.full(n, -1, np.int64)
        # Riders per stop in ready order (ties: rider index), one flat array: stop s owns
        # positions start[s]:end[s]; ptr[s] is its first rider not yet claimed. Riders who
        # never leave home (ready = inf) need no bus and are left out.
        keep = np.flatnonzero(np.isfinite(self.ready))
        order = keep[np.lexsort((keep, self.ready[keep], self.stop[keep]))]
        self._order = order
        n_stops = self.stop_node.size
        self._start = np.searchsorted(self.stop[order], np.arange(n_stops), side="left")
        self._end = np.searchsorted(self.stop[order], np.arange(n_stops), side="right")
        self._ptr = self._start.copy()
        self._rows = np.asarray(bus_rows, np.int64)
        self._etas: dict[tuple[int, int], np.ndarray] = {}
        self._unloaded = True
        self.trips: list[dict] = []
        self.events: list[tuple[float, str, str, float, str]] = []

    # ------------------------------------------------------------------ riders
    def _skipped(self, r: int) -> bool:
        return bool(self.skip is not None and self.skip()[self.hh[r]])

    def _first_waiting(self, t: float) -> np.ndarray:
        """Per stop: ready time of the first unclaimed rider (``inf`` if none by ``t``).

        Vectorised over stops; riders stranded at home (``skip``) are passed over.
        """
        while True:
            has = self._ptr < self._end
            head = self._order[np.minimum(self._ptr, np.maximum(self._end - 1, 0))] \
                if self._order.size else np.zeros(self._ptr.size, np.int64)
            if self.skip is None or not has.any():
                break
            gone = has & self.skip()[self.hh[head]]
            if not gone.any():
                break
            self._ptr[gone] += 1
        return np.where(has & (self.ready[head] <= t), self.ready[head], np.inf)

    def _claim(self, s: int, t: float, already: int) -> list[int]:
        """Claim riders of stop ``s`` ready by ``t``, first ready first, up to the seats."""
        got, load = [], already
        p, end = int(self._ptr[s]), int(self._end[s])
        while p < end:
            r = int(self._order[p])
            if self._skipped(r):
                p += 1
                continue
            if self.ready[r] > t or load + self.persons[r] > self.seats:
                break
            self.claimed[r] = True
            got.append(r)
            load += int(self.persons[r])
            p += 1
        self._ptr[s] = p
        return got

    def _eta(self, node: int) -> np.ndarray:
        """Route time from ``node`` to every stop on the current costs, s (cached)."""
        key = (int(node), self.service.cost_version)
        eta = self._etas.get(key)
        if eta is None:
            eta = np.array([self.service.travel_s(np.array([node]), int(n))[0]
                            for n in self.stop_node])
            self._etas[key] = eta
        return eta

    def _all_claimed(self) -> bool:
        return bool(np.all(self._ptr >= self._end))

    # ------------------------------------------------------------------ step
    def step(self, t0: float, dt: float) -> None:
        """Handle trip ends and dispatch free buses for the tick ``(t0, t0 + dt]``.

        Call it before the vehicle kernel of that tick.
        """
        f = self.fleet
        arrived = f.state[self._rows] == queue.ARRIVED
        for i in np.flatnonzero(arrived):
            b = self.buses[i]
            if b.phase == _TO_STOP:
                self._board(b, t0)
            elif b.phase == _TO_SHELTER:
                self._unload(b)
            elif b.phase == _TO_DEPOT:
                b.phase = _AT_DEPOT
                b.free_at = max(b.free_at, float(f.t_arrive_s[b.row]))
        t1 = t0 + dt
        if t1 <= self.start_s:
            return
        if self._all_claimed():
            if self._unloaded:  # buses freed since the last look go home
                for b in self.buses:
                    if b.phase == _FREE:
                        b.phase = _TO_DEPOT
                        self.service.send(b.row, self.depot_node, max(t0, b.free_at))
                self._unloaded = False
            return
        free = [b for b in self.buses if b.phase in (_AT_DEPOT, _FREE) and b.free_at < t1]
        if not free:
            return
        waiting = self._first_waiting(t1)
        for b in free:
            if not np.isfinite(waiting).any():
                break
            go = np.flatnonzero(np.isfinite(waiting))
            eta = self._eta(self.service.node_of(b.row))[go]
            reach = np.isfinite(eta)
            if not reach.any():
                continue
            go, eta = go[reach], eta[reach]
            s = int(go[np.lexsort((go, eta, waiting[go]))[0]])
            b.claimed = self._claim(s, t1, 0)
            if not b.claimed:
                continue
            b.stop, b.phase, b.trip = s, _TO_STOP, b.trip + 1
            # Leaves when it is free and its first rider waits: exact event times, not
            # tick boundaries (the tick only bounds how late the dispatcher notices).
            b.t_dispatch = max(t0, b.free_at, self.start_s, float(self.ready[b.claimed].min()))
            self.service.send(b.row, int(self.stop_node[s]), b.t_dispatch)
            waiting = self._first_waiting(t1)

    def _board(self, b: _Bus, t0: float) -> None:
        f = self.fleet
        t_a = float(f.t_arrive_s[b.row])
        b.claimed = [r for r in b.claimed if not self._skipped(r)]  # stranded meanwhile
        load = int(self.persons[b.claimed].sum()) if b.claimed else 0
        b.claimed += self._claim(b.stop, t_a, load)
        riders = np.asarray(b.claimed, np.int64)
        b.onboard, b.claimed = list(b.claimed), []
        if riders.size == 0:  # nobody left to board: free at the stop
            b.phase, b.free_at, self._unloaded = _FREE, t_a, True
            return
        persons = int(self.persons[riders].sum()) if riders.size else 0
        start = max(t_a, float(self.ready[riders].max()) if riders.size else t_a)
        depart = start + self.board_s * persons
        self.t_pickup[riders] = depart
        self.bus_of[riders] = b.row
        node = int(self.stop_node[b.stop])
        self.trips.append({"bus": b.row, "trip": b.trip, "stop": b.stop,
                           "stop_name": self.stop_names[b.stop], "riders": int(riders.size),
                           "persons": persons, "t_dispatch_s": b.t_dispatch,
                           "t_at_stop_s": t_a, "t_depart_stop_s": depart,
                           "t_at_shelter_s": np.nan, "shelter_node": -1})
        self.events.append((depart, "bus_pickup", self.stop_names[b.stop], float(persons),
                            f"bus {b.row} picked up {persons} persons at "
                            f"{self.stop_names[b.stop]}"))
        # Off to the nearest open shelter on the residents' table (set 0).
        f.state[b.row] = queue.IDLE
        f.origin[b.row] = node
        f.link[b.row] = -1
        f.t_arrive_s[b.row] = np.nan
        f.dest_node[b.row] = -1
        f.t_ready_s[b.row] = np.nan
        queue.set_table(f, self.queues, [b.row], self.shelter_table)
        f.persons[b.row] = persons
        queue.release(f, self.queues, np.array([b.row], np.int64), depart)
        b.phase = _TO_SHELTER

    def _unload(self, b: _Bus) -> None:
        f = self.fleet
        t_s = float(f.t_arrive_s[b.row])
        node = int(f.dest_node[b.row])
        riders = np.asarray(b.onboard, np.int64)
        persons = int(self.persons[riders].sum()) if riders.size else 0
        self.t_deliver[riders] = t_s
        self.shelter_node[riders] = node
        if self.deliver is not None and riders.size:
            self.deliver(self.hh[riders], t_s, node)
        for trip in reversed(self.trips):
            if trip["bus"] == b.row and trip["trip"] == b.trip:
                trip["t_at_shelter_s"], trip["shelter_node"] = t_s, node
                break
        self.events.append((t_s, "bus_delivery", str(node), float(persons),
                            f"bus {b.row} delivered {persons} persons to the shelter at "
                            f"node {node}"))
        f.persons[b.row] = 0
        b.onboard = []
        b.free_at = t_s + self.alight_s * persons
        b.phase = _FREE
        self._unloaded = True

    # ------------------------------------------------------------------ outputs
    def riders_table(self) -> pd.DataFrame:
        """One row per rider household: stop, ready, pickup, delivery (s), bus, shelter node."""
        return pd.DataFrame({
            "household": self.hh, "persons": self.persons, "stop": self.stop,
            "t_ready_s": np.where(np.isfinite(self.ready), self.ready, np.nan),
            "t_pickup_s": self.t_pickup, "t_deliver_s": self.t_deliver, "bus": self.bus_of,
            "shelter_node": self.shelter_node,
        })

    def trips_table(self) -> pd.DataFrame:
        """One row per bus trip (stop -> shelter)."""
        cols = ["bus", "trip", "stop", "stop_name", "riders", "persons", "t_dispatch_s",
                "t_at_stop_s", "t_depart_stop_s", "t_at_shelter_s", "shelter_node"]
        return pd.DataFrame(self.trips, columns=cols)

    def summary(self) -> dict:
        """Riders, persons picked up / delivered, last pickup and last delivery (s)."""
        want = np.isfinite(self.ready)
        picked = np.isfinite(self.t_pickup)
        done = np.isfinite(self.t_deliver)
        return {
            "buses": len(self.buses), "seats": self.seats,
            "riders": int(want.sum()), "rider_persons": int(self.persons[want].sum()),
            "persons_picked_up": int(self.persons[picked].sum()),
            "persons_delivered": int(self.persons[done].sum()),
            "last_pickup_s": float(self.t_pickup[picked].max()) if picked.any() else None,
            "last_delivery_s": float(self.t_deliver[done].max()) if done.any() else None,
            "all_delivered": bool(done[want].all()),
            "trips": len(self.trips),
        }
