"""Verification of the pedestrian kernel (sim.core.walk) against hand derivations.

Weidmann (1993): v = v0 * (1 - exp(-1.913 * (1/rho - 1/5.4))), rho in persons/m²,
floored here at 0.05 * v0 (see sim.core.walk). The density a group feels is that of the
*other* walkers on its link at the start of the tick.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core import walk as W
from sim.core.links import build_links
from sim.core.queue import ARRIVED, FLAG_FULL_SHELTER, MOVING, WAITING
from sim.routing import next_hop, stack_tables

DTS = [1.0, 2.0, 5.0, 10.0]
V0 = 1.34  # m/s, Weidmann (1993) / Helbing & Molnar (1995), docs/references.md §4.3


def path(lengths, width):
    k = len(lengths)
    return build_links(
        np.arange(k),
        np.arange(1, k + 1),
        lengths,
        np.full(k, V0),
        np.full(k, width),
        np.full(k, 10.0),
        np.full(k, 1000),
        n_nodes=k + 1,
    )


def world(links, n_nodes, shelters, room):
    shelter_open = np.zeros(n_nodes, dtype=bool)
    shelter_open[shelters] = True
    shelter_room = np.zeros(n_nodes, dtype=np.int64)
    shelter_room[shelters] = room
    tables = stack_tables([next_hop(links, n_nodes, np.asarray(shelters))])
    return tables, np.array([-1], dtype=np.int32), shelter_open, shelter_room


def step(links, walkers, persons_on, tables, target, so, room, t0, dt, sf=None):
    sf = np.ones(links.n_links) if sf is None else sf
    return W.step_walkers(links, walkers, persons_on, tables, target, so, room, sf, t0, dt)


def weidmann(rho):
    return max(1.0 - math.exp(-1.913 * (1.0 / rho - 1.0 / 5.4)), 0.05)


@pytest.mark.parametrize("dt", DTS)
def test_single_walker_takes_L_over_v0(dt):
    # One group alone: nobody else on the path, so v = v0 on every link and the walk
    # takes sum(L) / v0 = (57.3 + 120 + 33.3) / 1.34 = 157.164... s after release.
    lengths = np.array([57.3, 120.0, 33.3])
    links = path(lengths, 2.0)
    tables, target, so, room = world(links, 4, [3], 100)
    walkers = W.new_walkers(1, origin=[0], persons=[3])
    persons_on = np.zeros(links.n_links)
    t_rel = 0.7
    W.release_walkers(walkers, np.array([0]), t_rel)
    for k in range(int(200 / dt)):
        step(links, walkers, persons_on, tables, target, so, room, k * dt, dt)
        assert persons_on.sum() == (3 if walkers.state[0] == MOVING else 0)
    assert walkers.state[0] == ARRIVED and walkers.dest_node[0] == 3
    assert walkers.t_arrive_s[0] == pytest.approx(t_rel + lengths.sum() / V0, abs=1e-9)
    assert room[3] == 97
    assert persons_on.sum() == 0


@pytest.mark.parametrize("dt", [1.0, 5.0])
@pytest.mark.parametrize("rho", [1.0, 2.0, 4.0, 6.0])
def test_weidmann_speed_at_density(rho, dt):
    # A 100 m x 1 m walkway (100 m²). N = 100 * rho + 1 single walkers released together
    # at node 0 enter at t0 = 0 (the link was empty at the tick start: v = v0). In the
    # second tick each sees the N - 1 others on 100 m²: density rho exactly, so each
    # advances v0 * f(rho) * dt. Expected f: 1 -> 0.7896, 2 -> 0.4524, 4 -> 0.1166,
    # 6 (> 5.4 jam density) -> the 0.05 floor.
    n = int(100 * rho) + 1
    links = path(np.array([100.0]), 1.0)
    tables, target, so, room = world(links, 2, [1], 10_000)
    walkers = W.new_walkers(n, origin=np.zeros(n))
    persons_on = np.zeros(1)
    W.release_walkers(walkers, np.arange(n), 0.0)
    step(links, walkers, persons_on, tables, target, so, room, 0.0, dt)
    np.testing.assert_allclose(walkers.pos_m, V0 * dt, rtol=0, atol=1e-12)
    assert persons_on[0] == n
    step(links, walkers, persons_on, tables, target, so, room, dt, dt)
    np.testing.assert_allclose(walkers.pos_m, V0 * dt + V0 * weidmann(rho) * dt, rtol=0, atol=1e-12)
    assert W.weidmann_factor(rho) == pytest.approx(weidmann(rho), abs=1e-15)


def test_weidmann_factor_limits():
    assert W.weidmann_factor(0.0) == 1.0  # empty walkway: free speed
    assert W.weidmann_factor(1e-3) == 1.0  # exp(-1.913 * 999.8) underflows to 0
    assert W.weidmann_factor(5.4) == W.MIN_SPEED_FRACTION  # jam density: floor
    f = [W.weidmann_factor(r) for r in np.linspace(0.1, 5.4, 50)]
    assert np.all(np.diff(f) <= 0)  # speed falls with density


@pytest.mark.parametrize("dt", [1.0, 5.0])
def test_a_stopped_group_stays_where_it_stands_and_still_crowds_its_link(dt):
    # The model stops a stranded group by setting its v0 to 0: it keeps its link, place
    # and persons on the link, and the others feel it in their density (Weidmann).
    length = 100.0
    links = path(np.array([length]), 1.0)
    tables, target, so, room = world(links, 2, [1], 100)
    walkers = W.new_walkers(2, origin=[0, 0], persons=[50, 1])
    persons_on = np.zeros(1)
    W.release_walkers(walkers, np.array([0]), 0.0)
    step(links, walkers, persons_on, tables, target, so, room, 0.0, dt)
    pos = walkers.pos_m[0]
    assert pos == pytest.approx(V0 * dt)  # alone on the link: v0
    walkers.v0_mps[0] = 0.0
    W.release_walkers(walkers, np.array([1]), dt)
    for k in range(1, int(300 / dt)):
        step(links, walkers, persons_on, tables, target, so, room, k * dt, dt)
        assert walkers.state[0] == MOVING and walkers.pos_m[0] == pos and walkers.link[0] == 0
    assert persons_on[0] == 50  # the other group left; the stopped one is still counted
    # The other group entered at dt and walked the 100 m at v0 * weidmann(50 P / 100 m²).
    assert walkers.state[1] == ARRIVED
    assert walkers.t_arrive_s[1] == pytest.approx(dt + length / (V0 * weidmann(0.5)), abs=1e-9)


@pytest.mark.parametrize("dt", [1.0, 10.0])
def test_density_slows_a_crowd_but_never_freezes_it(dt):
    # 600 persons on a 30 m x 1 m walkway (20 P/m² at first, far above jam density).
    # Everyone is slower than alone (> L / v0 = 22.39 s), but speed never drops below
    # 0.05 v0, so everyone arrives by L / (0.05 v0) = 447.8 s after entering the link.
    n = 600
    length = 30.0
    links = path(np.array([length]), 1.0)
    tables, target, so, room = world(links, 2, [1], 10_000)
    walkers = W.new_walkers(n, origin=np.zeros(n))
    persons_on = np.zeros(1)
    W.release_walkers(walkers, np.arange(n), 0.0)
    for k in range(int(460 / dt)):
        step(links, walkers, persons_on, tables, target, so, room, k * dt, dt)
        assert persons_on[0] == (walkers.state == MOVING).sum()  # persons conserved
    assert np.all(walkers.state == ARRIVED)
    assert walkers.t_arrive_s.min() >= length / V0 - 1e-9
    assert walkers.t_arrive_s.max() > 2 * length / V0  # the crowd is clearly slowed
    assert walkers.t_arrive_s.max() <= length / (0.05 * V0) + 1e-9


def test_full_shelter_and_no_route_for_walkers():
    # 0 -> 1 -> 2, shelters at 1 (room 2) and 2. Groups of 2 released at node 0 in order
    # 0, 1: group 0 takes shelter 1 (room 2 -> 0), group 1 finds it full, waits at node 1
    # with the flag set. Closing shelter 1 and recomputing the table sends it to node 2.
    links = path(np.array([13.4, 26.8]), 2.0)
    tables, target, so, room = world(links, 3, [1, 2], np.array([2, 50]))
    walkers = W.new_walkers(3, origin=[0, 0, 0], persons=[2, 2, 1])
    persons_on = np.zeros(2)
    W.release_walkers(walkers, np.array([0, 1]), 0.0)
    for k in range(20):
        step(links, walkers, persons_on, tables, target, so, room, float(k), 1.0)
    assert walkers.state.tolist()[:2] == [ARRIVED, MOVING]
    assert walkers.t_arrive_s[0] == pytest.approx(10.0, abs=1e-9)  # 13.4 m / 1.34 m/s
    assert walkers.flags.tolist()[:2] == [0, FLAG_FULL_SHELTER]
    assert walkers.pos_m[1] == 13.4 and persons_on.tolist() == [2.0, 0.0]
    # no route: every link closed in the table -> a released group waits at its origin
    W.release_walkers(walkers, np.array([2]), 20.0)
    none = np.full_like(tables, -1)
    step(links, walkers, persons_on, none, target, so, room, 20.0, 1.0)
    assert walkers.state[2] == WAITING
    so[1] = False
    tables = stack_tables([next_hop(links, 3, np.flatnonzero(so))])
    for k in range(21, 60):
        step(links, walkers, persons_on, tables, target, so, room, float(k), 1.0)
    assert walkers.state.tolist() == [ARRIVED] * 3
    assert walkers.dest_node.tolist() == [1, 2, 2]
    assert walkers.t_arrive_s[1] == pytest.approx(21.0 + 20.0, abs=1e-9)  # 26.8 / 1.34
    assert walkers.t_arrive_s[2] == pytest.approx(21.0 + 30.0, abs=1e-9)
    assert room.tolist() == [0, 0, 47]
    assert persons_on.sum() == 0


def test_shelter_sets_send_groups_past_barred_shelters():
    # 0 -> 1 -> 2, shelters at 1 and 2. Table 0 (target -1, set 0) admits both; table 1
    # (target -2, set 1) only node 2, as for households ordered to shelters outside a
    # threat zone. Released together at node 0, the first stops at 1 after 13.4/1.34 =
    # 10 s; the second walks through 1 to 2: (13.4 + 26.8) / 1.34 = 30 s. The walkway is
    # 20 m wide so the groups do not slow each other (Weidmann factor 1 - 1e-74).
    links = path(np.array([13.4, 26.8]), 20.0)
    so = np.zeros((2, 3), dtype=bool)
    so[0, [1, 2]] = True
    so[1, 2] = True
    room = np.array([0, 50, 50], dtype=np.int64)
    tables = stack_tables([next_hop(links, 3, np.array([1, 2])), next_hop(links, 3, np.array([2]))])
    target = np.array([-1, -2], dtype=np.int32)
    walkers = W.new_walkers(2, origin=[0, 0], persons=[2, 3], table=[0, 1])
    persons_on = np.zeros(2)
    exits = np.zeros(2, dtype=np.int64)
    W.release_walkers(walkers, np.array([0, 1]), 0.0)
    for k in range(40):
        W.step_walkers(links, walkers, persons_on, tables, target, so, room, np.ones(2),
                       float(k), 1.0, exits=exits)
    assert walkers.dest_node.tolist() == [1, 2]
    assert exits.tolist() == [2 + 3, 3]  # persons who left each link
    np.testing.assert_allclose(walkers.t_arrive_s, [10.0, 30.0], rtol=0, atol=1e-9)
    assert room.tolist() == [0, 48, 47]
    # a target naming a set that does not exist is refused before the kernel runs
    with pytest.raises(ValueError, match="shelter sets -1..-2"):
        step(links, walkers, persons_on, tables, np.array([-1, -3], dtype=np.int32), so, room,
             40.0, 1.0)


def test_bad_inputs_raise_clear_errors():
    links = path(np.array([10.0]), 1.0)
    tables, target, so, room = world(links, 2, [1], 10)
    walkers = W.new_walkers(1, origin=[0])
    with pytest.raises(ValueError, match="persons_on"):
        W.step_walkers(links, walkers, np.zeros(2), tables, target, so, room, np.ones(1), 0.0, 1.0)
    with pytest.raises(ValueError, match="v0_mps"):
        W.new_walkers(1, v0_mps=[0.0])
    with pytest.raises(ValueError, match="origin"):
        W.release_walkers(W.new_walkers(1), np.array([0]), 0.0)
