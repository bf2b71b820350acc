"""Road-side plan levers (issue 14, parts 3, 4, 6, 7) against hand derivations.

Contraflow and traffic control points are checked on a two-road corridor through the
bottleneck law of the spatial queue: N vehicles queued behind an exit of capacity C leave
at exact headways 1/C, so the last leaves (N - 1)/C after the first (tests/verification/
test_queue.py proves that law for the kernel). The green channel and the stuck rule are
checked against event times computed by hand; route choice against its two defining
properties (equal experienced times on used routes, less total delay than static routes).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim._errors import EvacsimError, ScenarioError
from sim.core import queue as Q
from sim.core.links import build_links
from sim.plan import Plan
from sim.route_choice import congested_cost_s, informed_mask
from sim.routing import next_hop, stack_tables
from sim.traffic_control import RoadLevers, resize_queues, resolve_roads


def corridor(cap_vps, *, names=("A", "A", "B", "B"), storage=200):
    """Nodes 0 - 1 - 2, both directions: road A = 0-1, road B = 1-2 (links 0..3).

    Link 0: 0->1, 1: 1->0, 2: 1->2, 3: 2->1; 100 m at 10 m/s (10 s free flow).
    """
    links = build_links(np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1]), np.full(4, 100.0),
                        np.full(4, 10.0), np.ones(4), np.asarray(cap_vps, float),
                        np.full(4, storage), n_nodes=3)
    net = SimpleNamespace(drive=links, name="corridor", drive_name=np.array(names),
                          drive_way=np.array([11, 11, 22, 22], np.int64))
    return links, net


def plan_with(**sections) -> Plan:
    return Plan.from_dict({"plan": {"name": "t"}, **sections}, source="p.toml")


def discharge(links, sf, n, dt=2.0, ticks=400):
    """N cars from node 0 to node 2; return their arrival times, sorted."""
    tables = stack_tables([next_hop(links, 3, np.array([2]),
                                    cost_s=np.where(sf > 0, links.fft_s, np.inf))])
    fleet = Q.new_fleet(n, origin=np.zeros(n, np.int32))
    queues = Q.new_queues(links, n)
    Q.release(fleet, queues, np.arange(n), 0.0)
    room = np.zeros(3, np.int64)
    for k in range(ticks):
        Q.step_vehicles(links, queues, fleet, tables, np.array([2], np.int32),
                        np.zeros(3, bool), room, sf, k * dt, dt)
    assert (fleet.state == Q.ARRIVED).all()
    return np.sort(fleet.t_arrive_s)


def test_contraflow_doubles_the_corridor_discharge():
    c, n = 0.25, 60  # 900 veh/h per direction
    links, net = corridor([c] * 4)
    cost = next_hop(links, 3, np.array([2])).cost_s  # the shelter is at node 2
    spec = plan_with(roads={"contraflow": [{"roads": ["A", 22]}]}).roads
    res = resolve_roads(spec, net, cost, source="p.toml")
    levers = RoadLevers(res, links.n_links)
    q = Q.new_queues(links, n)
    new, q2, notes = levers.apply_due(0.0, links, q)
    assert res.contraflow[0][1].tolist() == [0, 2] and res.contraflow[0][2].tolist() == [1, 3]
    assert new.capacity_vps.tolist() == [2 * c, c, 2 * c, c]
    assert new.storage_veh.tolist() == [400, 200, 400, 200]
    assert levers.factor.tolist() == [1.0, 0.0, 1.0, 0.0]  # the reversed links close
    base = discharge(links, np.ones(4), n)
    cf = discharge(new, levers.factor, n)
    # N/C law: the last of N leaves (N - 1)/C after the first, C doubled by contraflow
    assert base[-1] - base[0] == pytest.approx((n - 1) / c, abs=1e-9)
    assert cf[-1] - cf[0] == pytest.approx((n - 1) / (2 * c), abs=1e-9)


def test_contraflow_toward_a_named_shelter_reverses_the_other_way():
    # Shelters at both ends: toward "West" (node 0) the outbound links are 1->0 and 2->1.
    links, net = corridor([0.25] * 4)
    spec = plan_with(roads={"contraflow": [{"roads": ["A", "B"], "toward": "West"}]}).roads
    res = resolve_roads(spec, net, next_hop(links, 3, np.array([2])).cost_s,
                        source="p.toml", shelters={"West": 0, "East": 2})
    assert res.contraflow[0][1].tolist() == [1, 3] and res.contraflow[0][2].tolist() == [0, 2]
    spec = plan_with(roads={"contraflow": [{"roads": ["A"], "toward": "North"}]}).roads
    with pytest.raises(ScenarioError, match=r"roads\.contraflow\[0\]\.toward: expected the "
                                            r"name of an open shelter \(East, West\), got 'North'"):
        resolve_roads(spec, net, np.zeros(3), source="p.toml", shelters={"West": 0, "East": 2})


def test_a_traffic_control_point_sets_the_discharge_of_its_approaches():
    n = 40
    links, net = corridor([0.2, 0.2, 5.0, 5.0])  # the bottleneck is road A into node 1
    cost = next_hop(links, 3, np.array([2])).cost_s
    for cp, c_new in (({"at": ["A", "B"], "capacity_factor": 1.5}, 0.3),
                      ({"at": ["A", "B"], "capacity_vph": 1800.0}, 0.5)):
        res = resolve_roads(plan_with(roads={"control_points": [cp]}).roads, net, cost,
                            source="p.toml")
        new, _, _ = RoadLevers(res, 4).apply_due(0.0, links, Q.new_queues(links, n))
        assert new.capacity_vps[[0, 3]].tolist() == pytest.approx([c_new, c_new if
                                                                    "capacity_vph" in cp
                                                                    else 7.5])
        t = discharge(new, np.ones(4), n)
        # downstream link (5 veh/s) does not bind: the approach's capacity shows at the exit
        assert t[-1] - t[0] == pytest.approx((n - 1) / c_new, abs=1e-9)


@pytest.mark.parametrize("dt", [1.0, 5.0])
def test_green_channel_team_passes_a_saturated_queue(dt):
    # Station at node 0; one 500 m link (50 s free flow) to the incident at node 1,
    # saturated by 100 cars released at t = 0 with capacity 0.5 veh/s (they leave at
    # 50 + k/0.5 s, k = 0..99, the last at 248 s). The team is called at t = 0 and leaves
    # after the dispatch delay of the default plan (90 s).
    delay = plan_with().dispatch.delay_s
    n_cars, c, fft = 100, 0.5, 50.0
    links = build_links(np.array([0]), np.array([1]), np.array([500.0]), np.array([10.0]),
                        np.ones(1), np.array([c]), np.array([500]), n_nodes=2)
    tables = stack_tables([next_hop(links, 2, np.array([1]))])
    target = np.array([1], np.int32)

    def team_arrival(green):
        fleet = Q.new_fleet(n_cars + 1, origin=np.zeros(n_cars + 1, np.int32),
                            kind=np.r_[np.zeros(n_cars), 1].astype(np.int8))
        queues = Q.new_queues(links, n_cars + 1)
        Q.release(fleet, queues, np.arange(n_cars), 0.0)
        for k in range(int(400 / dt)):
            if k * dt <= delay < (k + 1) * dt and fleet.state[n_cars] == Q.IDLE:
                Q.release(fleet, queues, np.array([n_cars]), delay)
            Q.step_vehicles(links, queues, fleet, tables, target, np.zeros(2, bool),
                            np.zeros(2, np.int64), np.ones(1), k * dt, dt,
                            green=np.array([green]))
        return fleet.t_arrive_s[n_cars], fleet.t_arrive_s[:n_cars]

    on, cars_on = team_arrival(True)
    off, cars_off = team_arrival(False)
    assert on == pytest.approx(delay + fft, abs=1e-9)  # 140 s: free flow + dispatch delay
    # off: FIFO behind the 100 cars, after the last car's exit + one headway 1/C
    assert off == pytest.approx(fft + n_cars / c, abs=1e-9)  # 250 s
    # the reserved lane takes nothing from the cars
    np.testing.assert_allclose(cars_on, cars_off, rtol=0, atol=0)


@pytest.mark.parametrize("dt", [1.0, 5.0])
def test_stuck_vehicle_pulls_off_after_stuck_time(dt):
    # 0 -> 1 -> 2; link 1 (storage 1) holds a vehicle that can never leave (stranded:
    # t_ready = inf). The car behind it on link 0 (10 s free flow) is blocked from t = 10 s
    # and is stuck at 10 + stuck_s; it waits at node 1, flagged and counted.
    stuck_s = 30.0
    links = build_links(np.array([0, 1]), np.array([1, 2]), np.array([100.0, 100.0]),
                        np.array([10.0, 10.0]), np.ones(2), np.array([1.0, 1.0]),
                        np.array([5, 1]), n_nodes=3)
    tables = stack_tables([next_hop(links, 3, np.array([2]))])
    fleet = Q.new_fleet(2, origin=np.array([1, 0], np.int32))
    queues = Q.new_queues(links, 2)
    Q.release(fleet, queues, np.array([0, 1]), 0.0)
    args = (tables, np.array([2], np.int32), np.zeros(3, bool), np.zeros(3, np.int64),
            np.ones(2))
    Q.step_vehicles(links, queues, fleet, *args, 0.0, dt, stuck_s=stuck_s)
    fleet.t_ready_s[0] = np.inf  # the blocker is stopped on link 1
    n_stuck = 0
    for k in range(1, int(100 / dt)):
        n_stuck += Q.step_vehicles(links, queues, fleet, *args, k * dt, dt,
                                   stuck_s=stuck_s).n_stuck
    assert n_stuck == 1 and queues.stuck.tolist() == [1, 0]
    assert fleet.state[1] == Q.WAITING and fleet.origin[1] == 1
    assert fleet.t_release_s[1] == pytest.approx(10.0 + stuck_s, abs=1e-9)
    assert fleet.flags[1] & Q.FLAG_STUCK
    # without the rule it stays blocked on its link
    fleet = Q.new_fleet(2, origin=np.array([1, 0], np.int32))
    queues = Q.new_queues(links, 2)
    Q.release(fleet, queues, np.array([0, 1]), 0.0)
    Q.step_vehicles(links, queues, fleet, *args, 0.0, dt)
    fleet.t_ready_s[0] = np.inf
    for k in range(1, int(100 / dt)):
        Q.step_vehicles(links, queues, fleet, *args, k * dt, dt)
    assert fleet.state[1] == Q.MOVING and fleet.link[1] == 0


def test_resize_queues_keeps_every_fifo():
    rng = np.random.default_rng(3)
    links = build_links(np.array([0, 1, 2]), np.array([1, 2, 0]), np.full(3, 50.0),
                        np.full(3, 10.0), np.ones(3), np.full(3, 0.1), np.array([3, 4, 2]),
                        n_nodes=3)
    q = Q.new_queues(links, 9)
    fifo = [[4, 1, 7], [0, 2], [5]]
    for lk, ids in enumerate(fifo):
        q.head[lk] = rng.integers(0, links.storage_veh[lk])
        for j, v in enumerate(ids):
            q.buf[q.buf_off[lk] + (q.head[lk] + j) % links.storage_veh[lk]] = v
        q.count[lk] = len(ids)
    new = resize_queues(q, links.storage_veh, np.array([5, 4, 3]))
    for lk, ids in enumerate(fifo):
        got = new.buf[new.buf_off[lk] + new.head[lk] + np.arange(len(ids))]
        assert got.tolist() == ids


def _two_routes(share, update_s=60.0, dt=5.0, n=900, seed=1):
    """0 -> 1 -> 3 (route A: 300 s free flow, 0.25 veh/s) or 0 -> 2 -> 3 (route B: 420 s,
    0.5 veh/s); 900 cars depart uniformly over 30 min (0.5 veh/s, twice A's capacity).

    Returns experienced travel time per car, whether it took B, its departure time.
    """
    # links: 0: 0->1 (A, 100 s), 1: 1->3 (A bottleneck, 200 s), 2: 0->2 (B, 100 s),
    # 3: 2->3 (B, 320 s)
    links = build_links(np.array([0, 1, 0, 2]), np.array([1, 3, 2, 3]),
                        np.array([1000.0, 2000.0, 1000.0, 3200.0]), np.full(4, 10.0),
                        np.ones(4), np.array([5.0, 0.25, 5.0, 0.5]), np.full(4, 10_000),
                        n_nodes=4)
    static = next_hop(links, 4, np.array([3])).next_link
    informed = informed_mask(n, share, seed)
    fleet = Q.new_fleet(n, origin=np.zeros(n, np.int32), table=informed.astype(np.int32))
    queues = Q.new_queues(links, n)
    t_dep = np.linspace(0.0, 1800.0, n, endpoint=False)
    target = np.array([3, 3], np.int32)
    took_b = np.zeros(n, bool)
    tables = stack_tables([static, static])
    sf = np.ones(4)
    nxt = 0
    for k in range(int(7200 / dt)):
        t0 = k * dt
        if t0 >= nxt * update_s:  # the informed table on current travel times
            nxt += 1
            cost = congested_cost_s(links.fft_s, sf, queues.count, links.capacity_vps)
            tables[1] = next_hop(links, 4, np.array([3]), cost_s=cost).next_link
        ids = np.flatnonzero((t_dep >= t0) & (t_dep < t0 + dt))
        Q.release(fleet, queues, ids, t_dep[ids])
        Q.step_vehicles(links, queues, fleet, tables, target, np.zeros(4, bool),
                        np.zeros(4, np.int64), sf, t0, dt)
        took_b |= fleet.link == 2
    assert (fleet.state == Q.ARRIVED).all()
    return fleet.t_arrive_s - t_dep, took_b, t_dep


def test_informed_drivers_equalise_route_times_and_cut_total_delay():
    tt_static, b_static, _ = _two_routes(0.0)
    assert not b_static.any()  # static: everyone on the free-flow shortest route A
    free = 300.0
    # All drivers informed: demand 0.5 veh/s exceeds A's 0.25, so at equilibrium A's queue
    # grows until A takes as long as B (420 s) and the rest go by B. Cars departing in the
    # second half of the demand (both routes in use) experience equal times on either,
    # within one update period (60 s): the information is at most that old.
    tt, took_b, t_dep = _two_routes(1.0)
    late = t_dep >= 900.0
    assert took_b[late].any() and not took_b[late].all()
    assert abs(tt[late & ~took_b].mean() - tt[late & took_b].mean()) < 60.0
    assert (tt - free).sum() < 0.5 * (tt_static - free).sum()
    # Half informed: the uninformed half alone fills A to capacity, the informed take B
    # while A is slower; total delay still falls and informed drivers fare no worse.
    tt_h, took_h, _ = _two_routes(0.5)
    informed = informed_mask(tt_h.size, 0.5, 1)
    assert not took_h[~informed].any()
    assert (tt_h - free).sum() < 0.5 * (tt_static - free).sum()
    assert tt_h[informed].mean() <= tt_h[~informed].mean()


def test_informed_share_is_seeded_and_binomial():
    m = informed_mask(10_000, 0.3, 7)
    assert np.array_equal(m, informed_mask(10_000, 0.3, 7))
    # binomial: 3 sd = 3 * sqrt(n p (1 - p)) = 137
    assert abs(int(m.sum()) - 3000) < 3 * np.sqrt(10_000 * 0.3 * 0.7)


def test_congested_cost_is_free_flow_or_point_queue_time():
    cost = congested_cost_s(np.array([10.0, 10.0, 10.0]), np.array([1.0, 0.5, 0.0]),
                            np.array([1, 30, 0]), np.array([1.0, 1.0, 1.0]))
    assert cost.tolist() == [10.0, 30.0, np.inf]


@pytest.mark.parametrize(
    ("roads", "field"),
    [
        ({"contraflow": [{"roads": ["Nowhere Road"]}]}, "roads.contraflow[0].roads[0]"),
        ({"contraflow": [{"roads": [99]}]}, "roads.contraflow[0].roads[0]"),
        ({"closed_to_evacuees": ["A", "Zed"]}, "roads.closed_to_evacuees[1]"),
        ({"green_channel": {"roads": ["Zed"]}}, "roads.green_channel.roads[0]"),
        ({"control_points": [{"at": ["A", "Zed"], "capacity_factor": 2.0}]},
         "roads.control_points[0].at[0]"),
    ],
)
def test_unknown_roads_name_the_field(roads, field):
    links, net = corridor([1.0] * 4)
    spec = plan_with(roads=roads).roads
    with pytest.raises(ScenarioError, match=rf"p\.toml: {__import__('re').escape(field)}: "
                                            r"expected the OSM name or way id"):
        resolve_roads(spec, net, np.zeros(3), source="p.toml")


def test_a_priority_approach_gets_the_raised_capacity_the_others_are_held():
    # Junction 1: approaches 0 (road A, 0->1) and 3 (road B, 2->1).
    links, net = corridor([0.2, 0.2, 0.4, 0.4])
    cp = {"at": ["A", "B"], "capacity_factor": 2.0, "priority": "A", "others_factor": 0.5}
    res = resolve_roads(plan_with(roads={"control_points": [cp]}).roads, net, np.zeros(3),
                        source="p.toml")
    new, _, _ = RoadLevers(res, 4).apply_due(0.0, links, Q.new_queues(links, 1))
    assert new.capacity_vps.tolist() == pytest.approx([0.4, 0.2, 0.4, 0.2])
    cp = {"at": ["A", "B"], "capacity_factor": 2.0, "priority": "Zed"}
    with pytest.raises(ScenarioError, match=r"roads\.control_points\[0\]\.priority\[0\]"):
        resolve_roads(plan_with(roads={"control_points": [cp]}).roads, net, np.zeros(3),
                      source="p.toml")


def test_control_point_roads_that_do_not_meet():
    links = build_links(np.array([0, 1, 2, 3]), np.array([1, 0, 3, 2]), np.full(4, 100.0),
                        np.full(4, 10.0), np.ones(4), np.ones(4), np.full(4, 10), n_nodes=4)
    net = SimpleNamespace(drive=links, name="two", drive_name=np.array(["A", "A", "B", "B"]),
                          drive_way=np.arange(4, dtype=np.int64))
    spec = plan_with(roads={"control_points": [{"at": ["A", "B"], "capacity_factor": 2.0}]})
    with pytest.raises(ScenarioError, match=r"roads\.control_points\[0\]\.at: expected two "
                                            r"roads that meet"):
        resolve_roads(spec.roads, net, np.zeros(4), source="p.toml")


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"roads": {"control_points": [{"at": ["A", "B"]}]}}, "capacity_factor"),
        ({"roads": {"control_points": [{"at": ["A", "B"], "capacity_factor": 2.0,
                                        "capacity_vph": 900.0}]}}, "capacity_factor"),
        ({"roads": {"control_points": [{"capacity_factor": 2.0}]}}, "at"),
        ({"roads": {"control_points": [{"at": ["A", "B"], "capacity_factor": 0.0}]}},
         "capacity_factor"),
        ({"roads": {"green_channel": {"all": True, "roads": ["A"]}}}, "roads"),
        ({"roads": {"control_points": [{"at": ["A", "B"], "capacity_factor": 2.0,
                                        "others_factor": 0.5}]}}, "others_factor"),
        ({"roads": {"contraflow": [{"roads": []}]}}, "roads.contraflow[0].roads"),
        ({"roads": {"contraflow": [{"roads": ["A"], "from_min": -1.0}]}}, "from_min"),
        ({"roads": {"lanes": 3}}, "roads.lanes"),
        ({"route_choice": {"informed_share": 1.5}}, "route_choice.informed_share"),
        ({"route_choice": {"update_min": 0.0}}, "route_choice.update_min"),
    ],
)
def test_bad_lever_fields_name_the_field(section, field):
    with pytest.raises(ScenarioError, match=rf"p\.toml: .*{__import__('re').escape(field)}"):
        plan_with(**section)


def test_kernel_rejects_bad_green_and_stuck_arguments():
    links, _ = corridor([1.0] * 4)
    fleet, q = Q.new_fleet(1, origin=np.zeros(1, np.int32)), Q.new_queues(links, 1)
    args = (links, q, fleet, stack_tables([np.full(3, -1, np.int32)]), np.array([2], np.int32),
            np.zeros(3, bool), np.zeros(3, np.int64), np.ones(4), 0.0, 1.0)
    with pytest.raises(EvacsimError, match="green: expected bool"):
        Q.step_vehicles(*args, green=np.ones(4))
    with pytest.raises(EvacsimError, match="stuck_s: expected > 0"):
        Q.step_vehicles(*args, stuck_s=0.0)
    with pytest.raises(EvacsimError, match="stuck_s: expected > 0"):
        Q.step_vehicles(*args, stuck_s=float("nan"))


def test_the_compiled_map_keeps_road_names_and_way_ids(tmp_path):
    from sim.network import load_map
    from sim.network.store import load_npz, save_npz

    net = load_map("maps/default-district.osm.bz2", cache_dir=tmp_path)
    assert net.drive_name.shape == net.drive_way.shape == (net.drive.n_links,)
    assert (net.drive_way > 0).all() and (net.drive_name != "").mean() > 0.9
    renmin = np.flatnonzero(net.drive_name == "Renmin Road")
    assert renmin.size > 0 and (net.drive_highway[renmin] == "primary").all()
    save_npz(net, tmp_path / "m.evacmap.npz")
    back = load_npz(tmp_path / "m.evacmap.npz")
    assert np.array_equal(back.drive_name, net.drive_name)
    assert np.array_equal(back.drive_way, net.drive_way)


def test_levers_in_a_model_run(request):
    # The 20k generated district with every road lever on: the hooks of the model do what
    # the plan says, and persons are conserved.
    from sim.model import EvacuationModel
    from sim.network import load_map
    from sim.scenario import load_scenario

    small = request.getfixturevalue("small_district")
    cache = request.getfixturevalue("cache")
    sc = load_scenario(small / "small.toml")
    net = load_map(sc.scenario.map, cache_dir=cache)
    prim = net.drive_name[net.drive_highway == "primary"]
    names, counts = np.unique(prim, return_counts=True)
    road = str(names[np.argmax(counts)])  # the longest primary road
    lane = str(net.drive_name[net.drive_highway == "residential"][0])
    plan = Plan.from_dict({
        "plan": {"name": "levers"},
        "roads": {"contraflow": [{"roads": [road], "from_min": 10.0}],
                  "closed_to_evacuees": [lane], "green_channel": {"all": True}},
        "route_choice": {"informed_share": 0.5, "update_min": 5.0},
    }, source="levers.toml")
    m = EvacuationModel(scenario=sc, seed=5, network=net, plan=plan)
    n_base, n_sets = m.roads.n_base, len(m.shelter_sets)
    assert m.drive_next.shape[0] == n_base + n_sets == len(m.target)
    informed = m.roads.informed
    assert 0.4 < informed.mean() < 0.6
    assert (m.fleet.table[informed] >= n_base).all() and (m.fleet.table[~informed] < n_base).all()
    closed = np.flatnonzero(m.roads.closed_to_evacuees)
    assert closed.size and not np.isin(m.drive_next, closed).any()
    cap0 = m.net.drive.capacity_vps.copy()
    _, out, rev = m.roads.levers.r.contraflow[0]
    while m.t_s < 600.0:
        m.step()
    assert m.drive_speed_factor[rev].max() == 1.0  # not before from_min
    m.step()
    assert m.drive_speed_factor[rev].max() == 0.0
    np.testing.assert_allclose(m.net.drive.capacity_vps[out], cap0[out] + cap0[rev])
    assert any(e.kind == "road_plan" and e.t_s == 600.0 for e in m.events)
    assert not np.isin(m.drive_next, rev).any()  # nobody routes onto a reversed link
    while m.t_s < 3600.0:
        m.step()
    assert m.person_counts().sum() == m.pop.n_persons
    assert (m.fleet.state == Q.ARRIVED).any()


def test_cli_unknown_road_in_plan_exits_2_naming_the_field(small_district, cache, tmp_path,
                                                           capsys):
    from sim.cli import main

    plan = tmp_path / "bad-roads.toml"
    plan.write_text('[plan]\nname = "bad-roads"\n\n[[roads.contraflow]]\n'
                    'roads = ["No Such Road"]\n', encoding="utf-8")
    out = tmp_path / "run"
    rc = main(["run", str(small_district / "small.toml"), "--plan", str(plan), "--out",
               str(out), "--no-progress", "--no-figures", "--cache-dir", str(cache)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    assert "bad-roads.toml: roads.contraflow[0].roads[0]: expected the OSM name" in err
    assert "'No Such Road'" in err
    assert not out.exists()


def test_contraflow_on_one_way_roads_and_far_control_points_are_errors():
    links = build_links(np.array([0, 1]), np.array([1, 2]), np.full(2, 100.0), np.full(2, 10.0),
                        np.ones(2), np.ones(2), np.full(2, 10), n_nodes=3)
    nodes = SimpleNamespace(x_m=np.array([0.0, 100.0, 200.0]), y_m=np.zeros(3))
    net = SimpleNamespace(drive=links, name="oneway", drive_name=np.array(["A", "A"]),
                          drive_way=np.array([1, 1], np.int64), nodes=nodes)
    spec = plan_with(roads={"contraflow": [{"roads": ["A"]}]}).roads
    with pytest.raises(ScenarioError, match=r"roads\.contraflow\[0\]\.roads: expected two-way "
                                            r"roads .* got only one-way links"):
        resolve_roads(spec, net, np.array([2.0, 1.0, 0.0]), source="p.toml")
    spec = plan_with(roads={"control_points": [{"x_m": 5000.0, "y_m": 0.0,
                                                "capacity_factor": 2.0}]}).roads
    with pytest.raises(ScenarioError, match=r"roads\.control_points\[0\]: expected a junction "
                                            r"within roads\.max_snap_m = 200\.0 m"):
        resolve_roads(spec, net, np.zeros(3), source="p.toml")


@pytest.mark.parametrize("seed", range(6))
def test_green_and_stuck_conserve_vehicles_on_random_networks(seed):
    # Invariants, independent of the reference: every vehicle is in exactly one place
    # (a link's queue, a green lane, the wait list, idle or arrived), queues never exceed
    # storage, green lanes hold only responders on green links, and stuck vehicles are
    # counted once per event.
    from tests.reference import random_links

    rng = np.random.default_rng(100 + seed)
    n_nodes = 10
    links = random_links(rng, n_nodes, 15, storage_max=3)
    green = rng.random(links.n_links) < 0.4
    n = 80
    shelters = rng.choice(n_nodes, 2, replace=False)
    tables = stack_tables([next_hop(links, n_nodes, shelters),
                           next_hop(links, n_nodes, shelters[:1])])
    kind = (rng.random(n) < 0.2).astype(np.int8)
    fleet = Q.new_fleet(n, origin=rng.integers(0, n_nodes, n).astype(np.int32),
                        table=kind.astype(np.int32), kind=kind)
    queues = Q.new_queues(links, n)
    shelter_open = np.zeros(n_nodes, bool)
    shelter_open[shelters] = True
    room = np.zeros(n_nodes, np.int64)
    room[shelters] = 10_000
    target = np.array([-1, shelters[0]], np.int32)
    dep = rng.uniform(0, 300, n)
    order = np.argsort(dep)
    dt, n_stuck = 5.0, 0
    for k in range(200):
        ids = order[(dep[order] >= k * dt) & (dep[order] < (k + 1) * dt)]
        Q.release(fleet, queues, ids, dep[ids])
        n_stuck += Q.step_vehicles(links, queues, fleet, tables, target, shelter_open, room,
                                   np.ones(links.n_links), k * dt, dt, green=green,
                                   stuck_s=20.0).n_stuck
        st = np.bincount(fleet.state, minlength=4)
        ch = queues.channel[: queues.n_channel[0]]
        assert st.sum() == n
        assert queues.count.sum() + ch.size == st[Q.MOVING]
        assert queues.n_wait[0] == st[Q.WAITING]
        assert (queues.count <= links.storage_veh).all()
        assert (kind[ch] != 0).all() and green[fleet.link[ch]].all()
        assert np.unique(ch).size == ch.size
    assert n_stuck == queues.stuck.sum()
    assert ((fleet.flags & Q.FLAG_STUCK) > 0).sum() <= n_stuck  # a vehicle may stick twice
    assert (fleet.state == Q.ARRIVED).sum() > n // 2
