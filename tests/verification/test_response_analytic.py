"""Verification of rescue response and relief trucks against hand derivations.

A straight road 0 - 1 - ... - k with links both ways, no other traffic: a lone vehicle's
trip takes exactly the sum of the free-flow times L/u of its links (the queue kernel's
exact event times, tests/verification/test_queue.py). Everything below follows from that
and from the plan's rules:

- response time = dispatch delay + route time (team idle at its station);
- one team serving a queue of incidents: it leaves for incident j when it is free and
  the incident's dispatch delay has passed; with the queue never empty the last finish
  is delay + sum of (route + work), and at zero route time the finishes follow the
  Lindley recursion F_j = max(F_{j-1}, c_j + delay) + W of a D/D/1 queue;
- a relief truck delivers at review time + load time + route time + unload time.

Tolerance 1e-9 s: sums of a few free-flow times (~1e2 s) rounded in float64.
"""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from sim.core import queue as Q
from sim.core.links import build_links
from sim.hazards.base import Incident
from sim.plan import Plan, plan_at_nodes
from sim.response import ResponseSystem, service_vehicles
from sim.service_fleet import ServiceFleet

DTS = [1.0, 5.0, 10.0]


def line_links(lengths, speeds):
    """Links i -> i+1 (index i) and i+1 -> i (index k + i)."""
    k = len(lengths)
    f = np.r_[np.arange(k), np.arange(1, k + 1)]
    t = np.r_[np.arange(1, k + 1), np.arange(k)]
    length = np.r_[lengths, lengths].astype(float)
    speed = np.r_[speeds, speeds].astype(float)
    return build_links(f, t, length, speed, np.ones(2 * k), np.full(2 * k, 1.0),
                       np.full(2 * k, 50), n_nodes=k + 1)


def plan_dict(*, delay_s=60.0, work_min=20.0, per_person=0.0, destination="none",
              teams=1, depots=(), items=None, relief=None, escalate_min=1e6):
    d = {
        "plan": {"name": "test"},
        "dispatch": {"delay_s": delay_s, "escalate_min": escalate_min, "handover_min": 0.0},
        "incidents": {"trapped": {"capability": "extrication", "work_min": work_min,
                                  "work_min_per_person": per_person,
                                  "destination": destination}},
        "stations": [{"name": "s0", "x_m": 0.0, "y_m": 0.0,
                      "teams": [{"kind": "fire-rescue", "count": teams,
                                 "capabilities": ["extrication"]}]}] if teams else [],
        "items": items or {"water": {"unit": "L", "kg_per_unit": 1.0, "per_person_day": 3.0}},
        "depots": list(depots),
    }
    if relief:
        d["relief"] = relief
    return d


class World:
    """A line road, a shared fleet with ``n_res`` resident rows, and a ResponseSystem."""

    def __init__(self, lengths, speeds, plan: dict, *, station=0, depot_nodes=(), shelters=(),
                 hospitals=(), capacity=None, n_res=0):
        self.links = line_links(np.asarray(lengths, float), np.asarray(speeds, float))
        self.n = len(lengths) + 1
        rp = plan_at_nodes(Plan.from_dict(plan, source="test.toml"),
                           station_nodes=[station] if plan["stations"] else [],
                           depot_nodes=list(depot_nodes), hospital_nodes=list(hospitals))
        self.rp = rp
        home, kinds = service_vehicles(rp)
        self.fleet = Q.new_fleet(n_res + home.size)
        self.queues = Q.new_queues(self.links, n_res + home.size)
        rows = np.arange(n_res, n_res + home.size)
        self.sf = ServiceFleet(self.links, self.n, self.fleet, self.queues, rows, home, kinds,
                               table_offset=2)
        self.model = mesa.Model(seed=1)
        shelters = list(shelters) or [self.n - 1]
        cap = np.full(len(shelters), 1000) if capacity is None else np.asarray(capacity)
        self.resp = ResponseSystem(self.model, rp, self.sf,
                                   shelter_names=[f"sh{i}" for i in range(len(shelters))],
                                   shelter_nodes=shelters, shelter_capacity=cap)
        nowhere = np.full(self.n, -1, np.int32)
        self.base_next = np.stack([nowhere, nowhere])
        self.base_target = np.array([-1, -1], np.int32)
        self.shelter_open = np.zeros(self.n, bool)
        self.room = np.zeros(self.n, np.int64)
        self.sfac = np.ones(self.links.n_links)

    def run(self, dt, horizon_s, incidents=(), occupancy=None, on_tick=None):
        pending = sorted(incidents, key=lambda i: i.t_s)
        n_ticks = int(np.ceil(horizon_s / dt))
        for k in range(n_ticks):
            t0 = k * dt
            new = [i for i in pending if i.t_s < t0 + dt]
            pending = [i for i in pending if i.t_s >= t0 + dt]
            occ = None if occupancy is None else occupancy(t0)
            self.resp.step(t0, dt, new, occ)
            nl, tg = self.sf.stacked(self.base_next, self.base_target)
            Q.step_vehicles(self.links, self.queues, self.fleet, nl, tg, self.shelter_open,
                            self.room, self.sfac, t0, dt)
            if on_tick is not None:
                on_tick(t0 + dt)
        self.resp.step(n_ticks * dt, dt, [], None if occupancy is None else occupancy(n_ticks * dt))


def incident(t_s, node, persons=1, severity=1):
    return Incident(t_s=t_s, kind="trapped", hazard="test", x_m=0.0, y_m=0.0, node=node,
                    persons=persons, severity=severity)


LENGTHS = np.array([137.0, 45.5, 250.0, 12.3])
SPEEDS = np.array([13.9, 8.3, 22.2, 5.0])
FFT = LENGTHS / SPEEDS


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("delay_s", [0.0, 0.7, 60.0, 95.3])
@pytest.mark.parametrize("t_c", [0.0, 3.2])
def test_response_time_is_dispatch_delay_plus_free_flow_route_time(dt, delay_s, t_c):
    w = World(LENGTHS, SPEEDS, plan_dict(delay_s=delay_s))
    w.run(dt, 400.0, [incident(t_c, 4)])
    df = w.resp.tables()["incidents"]
    row = df.iloc[0]
    expected = delay_s + FFT.sum()  # 0 -> 4 along links 0..3, nobody else on the road
    assert row["dispatched_s"] == pytest.approx(t_c + delay_s, abs=1e-9)
    assert row["response_s"] == pytest.approx(expected, abs=1e-9)
    assert row["finished_s"] == pytest.approx(t_c + expected + 20 * 60.0, abs=1e-9)
    assert row["outcome"] == "served"
    assert row["team"] == 0


@pytest.mark.parametrize("dt", [2.0, 5.0, 10.0])
def test_one_team_serves_a_queue_in_sum_of_travel_and_work(dt):
    # All incidents at t = 0 at nodes 4, 2, 3, 1 (ids 0..3, equal severity: served in id
    # order). The team never goes home in between (the queue is never empty), so the
    # last finish = delay + T(0->4) + W + T(4->2) + W + T(2->3) + W + T(3->1) + W.
    nodes = [4, 2, 3, 1]
    work_s = 20 * 60.0
    w = World(LENGTHS, SPEEDS, plan_dict(delay_s=30.0))
    w.run(dt, 3 * 3600.0, [incident(0.0, n) for n in nodes])
    df = w.resp.tables()["incidents"]
    pos = np.r_[0.0, np.cumsum(FFT)]  # free-flow time from node 0 to node i

    def travel(a, b):
        return abs(pos[b] - pos[a])

    t, here = 30.0, 0
    for j, n in enumerate(nodes):
        t += travel(here, n)
        assert df["arrived_s"].iloc[j] == pytest.approx(t, abs=1e-9)
        t += work_s
        assert df["finished_s"].iloc[j] == pytest.approx(t, abs=1e-9)
        here = n
    assert (df["outcome"] == "served").all()
    assert w.resp.teams[0].served == len(nodes)


@pytest.mark.parametrize("dt", [2.0, 5.0, 10.0])
def test_d_d_1_queue_at_the_station_follows_the_lindley_recursion(dt):
    # Incidents at the station's own node (route time 0), deterministic work W: a D/D/1
    # queue with arrivals c_j; finish F_j = max(F_{j-1}, c_j + delay) + W (Lindley 1952),
    # whether or not the team was idle in between.
    rng = np.random.default_rng(7)
    created = np.sort(rng.uniform(0.0, 5000.0, 12)).round(1)
    delay, work_s = 45.0, 600.0
    w = World(LENGTHS, SPEEDS, plan_dict(delay_s=delay, work_min=work_s / 60.0))
    w.run(dt, 4 * 3600.0, [incident(float(c), 0) for c in created])
    df = w.resp.tables()["incidents"].sort_values("created_s")
    f_prev = -np.inf
    for j, c in enumerate(created):
        f_prev = max(f_prev, c + delay) + work_s
        assert df["finished_s"].iloc[j] == pytest.approx(f_prev, abs=1e-9)


@pytest.mark.parametrize("dt", DTS)
def test_truck_delivers_at_review_plus_load_route_unload(dt):
    # One depot at node 0 with one truck, one shelter site at node 4 holding 10 persons
    # from t = 0: the first review (t = 0) sends 30 L (3 L/person) which is unloaded at
    # load + T(0->4) + unload; then the 10 persons are relieved at that time.
    depot = {"name": "d0", "x_m": 0.0, "y_m": 0.0, "level": "district",
             "stock": {"water": 1000.0}, "trucks": {"count": 1, "payload_kg": 5000.0}}
    relief = {"load_min": 15.0, "unload_min": 10.0, "min_load_kg": 0.0, "review_min": 5.0}
    w = World(LENGTHS, SPEEDS, plan_dict(teams=0, depots=[depot], relief=relief),
              depot_nodes=[0], shelters=[4])
    occ = np.zeros(w.n, np.int64)
    occ[4] = 10
    w.run(dt, 3600.0, occupancy=lambda t: occ)
    t_del = 15 * 60.0 + FFT.sum() + 10 * 60.0
    tables = w.resp.tables()
    dl = tables["deliveries"]
    assert len(dl) == 1
    assert dl["amount"].iloc[0] == pytest.approx(30.0)
    assert dl["t_s"].iloc[0] == pytest.approx(t_del, abs=1e-9)
    from sim.response import HouseholdOutcome

    rel = w.resp.finalize(HouseholdOutcome(persons=np.array([4, 6]),
                                           affected_s=np.array([0.0, 0.0]),
                                           safe_s=np.array([100.0, 200.0]),
                                           shelter_row=np.array([0, 0])), t_end_s=3600.0)
    assert np.allclose(rel["relieved_s"], t_del, atol=1e-9)
    assert np.allclose(rel["wait_supplies_s"], t_del - np.array([100.0, 200.0]), atol=1e-9)
