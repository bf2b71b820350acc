"""Dispatcher rules: priority, capability, nearest team, ties, escalation, transport, closures."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.queue import ARRIVED
from sim.hazards.base import Incident
from sim.responders import ASSIGNED, DONE, OPEN, IncidentBook, Team
from tests.verification.test_response_analytic import (
    FFT,
    LENGTHS,
    SPEEDS,
    World,
    incident,
    plan_dict,
)

POS = np.r_[0.0, np.cumsum(FFT)]  # free-flow time from node 0 to node i along the line


def two_station_plan(**kw):
    d = plan_dict(**kw)
    team = d["stations"][0]["teams"][0]
    d["stations"] = [
        {"name": "west", "x_m": 0.0, "y_m": 0.0, "teams": [dict(team)]},
        {"name": "east", "x_m": 1.0, "y_m": 0.0, "teams": [dict(team)]},
    ]
    return d


def world_with_stations(plan, station_nodes, **kw):
    # World places one station; patch the resolved plan's nodes for two.
    from sim.plan import Plan, plan_at_nodes
    from sim.response import ResponseSystem, service_vehicles
    from sim.service_fleet import ServiceFleet

    w = World(LENGTHS, SPEEDS, plan_dict(), **kw)  # skeleton: links, base tables
    rp = plan_at_nodes(Plan.from_dict(plan, source="t.toml"), station_nodes=station_nodes,
                       depot_nodes=[], hospital_nodes=kw.get("hospitals", []))
    home, kinds = service_vehicles(rp)
    from sim.core import queue as Q

    w.fleet = Q.new_fleet(home.size)
    w.queues = Q.new_queues(w.links, home.size)
    w.sf = ServiceFleet(w.links, w.n, w.fleet, w.queues, np.arange(home.size), home, kinds,
                        table_offset=2)
    import mesa

    w.model = mesa.Model(seed=2)
    w.resp = ResponseSystem(w.model, rp, w.sf, shelter_names=["s"], shelter_nodes=[w.n - 1],
                            shelter_capacity=[100])
    return w


def test_higher_severity_first_then_earlier_then_lower_id():
    w = World(LENGTHS, SPEEDS, plan_dict(delay_s=0.0, work_min=10.0))
    incs = [incident(0.0, 2, severity=1), incident(0.0, 3, severity=3),
            incident(0.0, 1, severity=3)]
    w.run(5.0, 3 * 3600.0, incs)
    df = w.resp.tables()["incidents"]
    order = df.sort_values("arrived_s")["incident"].tolist()
    assert order == [1, 2, 0]  # severity 3 (ids 1, 2 by id), then severity 1


def test_nearest_capable_team_wins_and_ties_go_to_the_lower_number():
    plan = two_station_plan(delay_s=0.0)
    w = world_with_stations(plan, [0, 4])
    w.run(5.0, 600.0, [incident(0.0, 3)])
    df = w.resp.tables()["incidents"]
    assert df["team"].iloc[0] == 1  # east team at node 4 is FFT[3] away; west is 3 links
    assert df["response_s"].iloc[0] == pytest.approx(FFT[3], abs=1e-9)
    w2 = world_with_stations(two_station_plan(delay_s=0.0), [2, 2])
    w2.run(5.0, 600.0, [incident(0.0, 3)])
    assert w2.resp.tables()["incidents"]["team"].iloc[0] == 0


def test_team_without_the_capability_is_never_sent():
    plan = two_station_plan(delay_s=0.0)
    plan["stations"][1]["teams"][0] = {"kind": "medical", "count": 1,
                                       "capabilities": ["medical"]}
    plan["incidents"]["injured"] = {"capability": "medical", "work_min": 5.0,
                                    "work_min_per_person": 0.0, "destination": "none"}
    w = world_with_stations(plan, [4, 3])  # the medical team sits right at the incident
    inj = Incident(t_s=0.0, kind="injured", hazard="t", x_m=0, y_m=0, node=3, persons=1)
    w.run(5.0, 900.0, [incident(0.0, 3), inj])
    df = w.resp.tables()["incidents"].set_index("kind")
    assert df.loc["trapped", "team"] == 0  # the far fire-rescue team, not the medic
    assert df.loc["injured", "team"] == 1
    assert df.loc["trapped", "response_s"] == pytest.approx(FFT[3], abs=1e-9)


def test_severity_rises_with_waiting_and_is_capped():
    book = IncidentBook()
    w = World(LENGTHS, SPEEDS, plan_dict())
    book.add([incident(0.0, 1, severity=1), incident(600.0, 1, severity=2)], w.rp)
    sev = book.severity_at(np.array([0, 1]), 150 * 60.0, 60 * 60.0, 4)
    # 150 min waiting -> +2; 140 min -> +2 capped at 4
    assert sev.tolist() == [3, 4]
    book.severity_arrival[0] = 2
    assert book.severity_at(np.array([0]), 1e6, 3600.0, 4).tolist() == [2]  # frozen


def test_escalation_reorders_the_queue():
    # One team busy until t ~ 1 h 20 min; incident A (severity 1) raised at t = 0 waits
    # and becomes severity 3 after 2 h at 1 h per step... B (severity 2) raised at 70 min.
    # At the team's next decision A has waited > 60 min -> severity 2, equal to B; A is
    # older, so A goes first. Without escalation B would go first.
    incs = [incident(0.0, 4, severity=4), incident(0.0, 1, severity=1),
            incident(70 * 60.0, 2, severity=2)]
    w = World(LENGTHS, SPEEDS, plan_dict(delay_s=0.0, work_min=80.0, escalate_min=60.0))
    w.run(5.0, 6 * 3600.0, incs)
    esc = w.resp.tables()["incidents"].sort_values("arrived_s")["incident"].tolist()
    w2 = World(LENGTHS, SPEEDS, plan_dict(delay_s=0.0, work_min=80.0, escalate_min=1e6))
    w2.run(5.0, 6 * 3600.0, incs)
    flat = w2.resp.tables()["incidents"].sort_values("arrived_s")["incident"].tolist()
    assert esc == [0, 1, 2] and flat == [0, 2, 1]


def test_rescued_are_carried_to_the_nearest_hospital_then_team_goes_home():
    plan = plan_dict(delay_s=0.0, work_min=10.0, destination="hospital")
    w = World(LENGTHS, SPEEDS, plan, hospitals=[2])
    w.run(5.0, 3600.0, [incident(0.0, 4, persons=3)])
    row = w.resp.tables()["incidents"].iloc[0]
    fin = POS[4] + 600.0
    assert row["finished_s"] == pytest.approx(fin, abs=1e-9)
    assert row["delivered_s"] == pytest.approx(fin + POS[4] - POS[2], abs=1e-9)
    assert row["dest_node"] == 2 and row["destination"] == "hospital"
    team = w.resp.teams[0]
    assert team.state == 0 and w.sf.node_of(team.row) == 0  # back at the station
    # Parked at the station (ARRIVED, off every link) with nobody aboard: the rescued were
    # handed over at the hospital.
    assert w.fleet.state[team.row] == ARRIVED and w.fleet.link[team.row] == -1
    assert w.fleet.persons[team.row] == 0


def test_closure_sends_the_incident_back_to_the_queue():
    w = World(LENGTHS, SPEEDS, plan_dict(delay_s=0.0))
    w.resp.step(0.0, 5.0, [incident(0.0, 4)])
    b = w.resp.dispatcher.book
    assert b.status[0] == ASSIGNED
    cost = w.links.length_m / w.links.ffs_mps
    cost[2] = np.inf  # 2 -> 3 closed: node 4 unreachable from the west
    w.sf.set_cost(cost)
    w.resp.step(5.0, 5.0, [])
    assert b.status[0] == OPEN and b.team[0] == -1 and np.isnan(b.dispatched_s[0])
    assert w.resp.teams[0].state == 3  # heading home
    cost[2] = w.links.length_m[2] / w.links.ffs_mps[2]
    w.sf.set_cost(cost)
    w.resp.step(10.0, 5.0, [])
    assert b.status[0] == ASSIGNED


def test_agents_are_registered_on_the_model():
    w = World(LENGTHS, SPEEDS, plan_dict(teams=3))
    teams = [a for a in w.model.agents if isinstance(a, Team)]
    assert len(teams) == 3
    assert len(w.model.agents) == 3 + 1  # teams + dispatcher (no depots in this plan)
    assert DONE == 3
