"""Relief logistics: stock conservation, depot-level policy, and the relief rule.

Invariants (hold exactly, up to float round-off of sums of loads, 1e-6 units):
- depot stock + stock in trucks + delivered = initial, at every step;
- nobody is relieved before being safe, nobody twice, and stock is never used twice
  (first come, first served).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.logistics import attribute_delay, fifo_relief
from sim.response import HouseholdOutcome
from tests.verification.test_response_analytic import FFT, LENGTHS, SPEEDS, World, plan_dict

ITEMS = {"water": {"unit": "L", "kg_per_unit": 1.0, "per_person_day": 3.0},
         "beds": {"unit": "bed", "kg_per_unit": 6.0, "per_person_day": 1.0}}
RELIEF = {"load_min": 5.0, "unload_min": 5.0, "min_load_kg": 0.0, "review_min": 2.0}


def depot(name, level, water, beds, trucks, payload=500.0, available_min=0.0):
    return {"name": name, "x_m": 0.0, "y_m": 0.0, "level": level,
            "stock": {"water": water, "beds": beds},
            "trucks": {"count": trucks, "payload_kg": payload}, "available_min": available_min}


def test_stock_is_conserved_every_tick_with_random_arrivals():
    depots = [depot("c", "community", 300.0, 40.0, 1), depot("t", "town", 2000.0, 300.0, 2),
              depot("d", "district", 5000.0, 800.0, 3, payload=2000.0)]
    w = World(LENGTHS, SPEEDS, plan_dict(teams=0, depots=depots, items=ITEMS, relief=RELIEF),
              depot_nodes=[1, 0, 2], shelters=[4, 3])
    rng = np.random.default_rng(3)
    arrivals = np.cumsum(rng.poisson(3, size=(800, 2)), axis=0)
    occ = np.zeros(w.n, np.int64)
    checks = []

    def occupancy(t):
        k = min(int(t // 5.0), len(arrivals) - 1)
        occ[[4, 3]] = arrivals[k]
        return occ

    def on_tick(t):
        dep, trucks, deliv, init = w.resp.balance()
        assert np.all(dep >= -1e-9) and np.all(trucks >= -1e-9)
        assert np.allclose(dep + trucks + deliv, init, rtol=0, atol=1e-6)
        checks.append(t)

    w.run(5.0, 4000.0, occupancy=occupancy, on_tick=on_tick)
    dep, trucks, deliv, init = w.resp.balance()
    assert len(checks) == 800 and deliv.sum() > 0
    # every load respected its truck's payload
    lg = w.resp.logistics
    dl = w.resp.tables()["deliveries"]
    per_trip = dl.assign(kg=dl["amount"] * dl["item"].map({"water": 1.0, "beds": 6.0}))
    assert per_trip.groupby(["truck", "t_s"])["kg"].sum().max() <= 2000.0 + 1e-6
    stock = w.resp.tables()["stock"]
    assert np.allclose(stock["in_depots"] + stock["in_trucks"] + stock["delivered"],
                       stock["initial"], atol=1e-6)
    assert lg.stock.min() >= 0


def test_lower_level_first_then_higher_when_empty():
    # Community depot (node 3, next to the site) has beds only; the site needs water and
    # beds: the community truck takes beds, water comes from the town depot (node 0).
    depots = [depot("c", "community", 0.0, 100.0, 1), depot("t", "town", 1000.0, 100.0, 1)]
    w = World(LENGTHS, SPEEDS, plan_dict(teams=0, depots=depots, items=ITEMS, relief=RELIEF),
              depot_nodes=[3, 0], shelters=[4])
    occ = np.zeros(w.n, np.int64)
    occ[4] = 10
    w.run(5.0, 3600.0, occupancy=lambda t: occ)
    dl = w.resp.tables()["deliveries"]
    got = {(r.depot, r.item): r.amount for r in dl.itertuples()}
    assert got == {("c", "beds"): pytest.approx(10.0), ("t", "water"): pytest.approx(30.0)}
    t_c = 5 * 60.0 + FFT[3] + 5 * 60.0
    t_t = 5 * 60.0 + FFT.sum() + 5 * 60.0
    assert dl.set_index("depot").loc["c", "t_s"] == pytest.approx(t_c, abs=1e-9)
    assert dl.set_index("depot").loc["t", "t_s"] == pytest.approx(t_t, abs=1e-9)


@pytest.mark.parametrize("when", ["empty", "busy"])
def test_busy_level_waits_or_asks_the_next_one_and_neighbour_waits_for_its_delay(when):
    # The community depot has stock but one small truck (payload 10 kg) that is out.
    # "empty": the district depot is never asked while the community still holds stock;
    # "busy": the district truck goes in the same review, right after the community one.
    # The neighbour (huge truck) joins only after its 30 min delay.
    depots = [depot("c", "community", 1000.0, 1000.0, 1, payload=10.0),
              depot("d", "district", 1000.0, 1000.0, 1, payload=5000.0)]
    relief = {**RELIEF, "next_level_when": when}
    w = World(LENGTHS, SPEEDS, plan_dict(teams=0, depots=depots, items=ITEMS, relief=relief),
              depot_nodes=[3, 0], shelters=[4])
    occ = np.zeros(w.n, np.int64)
    occ[4] = 50
    w.run(5.0, 2 * 3600.0, occupancy=lambda t: occ)
    dl = w.resp.tables()["deliveries"]
    if when == "empty":
        assert set(dl["depot"]) == {"c"}
    else:
        first_d = dl[dl["depot"] == "d"]["t_s"].min()
        assert first_d == pytest.approx(5 * 60.0 + FFT.sum() + 5 * 60.0, abs=1e-9)
        # the district load covers what the 10 kg community load left: 150 L, 50 beds
        assert dl[dl["depot"] == "d"]["amount"].sum() + dl[dl["depot"] == "c"]["amount"].sum() \
            == pytest.approx(150.0 + 50.0)
    depots = [depot("c", "community", 0.0, 0.0, 1),
              depot("n", "neighbour", 1000.0, 1000.0, 1, payload=5000.0, available_min=30.0)]
    w = World(LENGTHS, SPEEDS, plan_dict(teams=0, depots=depots, items=ITEMS, relief=relief),
              depot_nodes=[3, 0], shelters=[4])
    w.run(5.0, 2 * 3600.0, occupancy=lambda t: occ)
    dl = w.resp.tables()["deliveries"]
    assert set(dl["depot"]) == {"n"}
    # first review at or after 30 min: t = 30 min (reviews every 2 min from 0)
    assert dl["t_s"].min() == pytest.approx(30 * 60.0 + 5 * 60.0 + FFT.sum() + 5 * 60.0,
                                            abs=1e-9)


# ----------------------------------------------------------------------------- relief rule


@st.composite
def schedules(draw):
    n_sites = draw(st.integers(1, 3))
    n_groups = draw(st.integers(0, 25))
    n_sup = draw(st.integers(0, 15))
    site = draw(st.lists(st.integers(-1, n_sites - 1), min_size=n_groups, max_size=n_groups))
    safe = draw(st.lists(st.one_of(st.just(np.nan), st.floats(0, 1e4)), min_size=n_groups,
                         max_size=n_groups))
    persons = draw(st.lists(st.integers(1, 8), min_size=n_groups, max_size=n_groups))
    s_site = draw(st.lists(st.integers(0, n_sites - 1), min_size=n_sup, max_size=n_sup))
    s_t = draw(st.lists(st.one_of(st.just(-np.inf), st.floats(0, 1e4)), min_size=n_sup,
                        max_size=n_sup))
    s_amt = draw(st.lists(st.tuples(st.floats(0, 40), st.floats(0, 15)), min_size=n_sup,
                          max_size=n_sup))
    return (np.array(site, np.int64), np.array(safe, float), np.array(persons, np.int64),
            np.array(s_site, np.int64), np.array(s_t, float),
            np.array(s_amt, float).reshape(n_sup, 2))


@settings(max_examples=200, deadline=None)
@given(schedules())
def test_nobody_relieved_before_safe_or_twice_and_stock_never_double_used(sched):
    site, safe, persons, s_site, s_t, s_amt = sched
    need = np.array([3.0, 1.0])
    rel = fifo_relief(site, safe, persons, need, s_site, s_t, s_amt)
    assert rel.shape == site.shape  # one relief time per group: nobody twice
    ok = np.isfinite(rel)
    assert np.all(rel[ok] >= safe[ok])  # never before safe
    assert not np.any(ok & ((site < 0) | ~np.isfinite(safe)))  # unsafe groups never relieved
    for p in np.unique(site[site >= 0]):
        g = np.flatnonzero((site == p) & np.isfinite(safe))
        g = g[np.lexsort((g, safe[g]))]  # arrival order
        # first come, first served: relief times never decrease along the arrival order,
        # and once one group is never relieved no later one is
        r = rel[g]
        fin = np.isfinite(r)
        assert np.all(np.diff(r[fin]) >= 0)
        if (~fin).any():
            assert not fin[np.argmax(~fin):].any()
        # feasibility: at each relief time, the need of everybody relieved by then is
        # covered by the stock delivered by then (stock never used twice)
        rows = s_site == p
        for t in r[fin]:
            used = persons[g][r <= t].sum() * need
            have = s_amt[rows & (s_t <= t)].sum(axis=0)
            assert np.all(used <= have * (1 + 1e-9) + 1e-9)
        # maximality: a group never relieved lacks stock even with all deliveries
        if (~fin).any():
            k = np.argmax(~fin)
            used = persons[g][: k + 1].sum() * need
            assert np.any(used > s_amt[rows].sum(axis=0) * (1 + 1e-9) + 1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100),
                          st.floats(0, 100)), min_size=1, max_size=20),
       st.floats(50, 400))
def test_delay_parts_add_up_to_time_affected(rows, end):
    a = np.array([r[0] for r in rows])
    r_ = a + np.array([r[1] for r in rows])
    s = r_ + np.array([r[2] for r in rows])
    v = s + np.array([r[3] for r in rows])
    v[::3] = np.nan  # some never relieved
    w_r, w_t, w_s = attribute_delay(a, r_, s, v, end)
    total = np.minimum(np.where(np.isfinite(v), v, end), end) - np.minimum(a, end)
    assert np.allclose(w_r + w_t + w_s, np.maximum(total, 0), atol=1e-9)
    assert np.all(w_r >= 0) and np.all(w_t >= 0) and np.all(w_s >= 0)


def test_relief_table_has_each_household_and_incident_once():
    depots = [depot("d", "district", 1e6, 1e6, 2, payload=1e5)]
    w = World(LENGTHS, SPEEDS, plan_dict(depots=depots, items=ITEMS, relief=RELIEF,
                                         destination="shelter", delay_s=0.0, work_min=5.0),
              depot_nodes=[0], shelters=[4, 2])
    from tests.verification.test_response_analytic import incident

    occ = np.zeros(w.n, np.int64)
    occ[[4, 2]] = [6, 3]
    w.run(5.0, 3 * 3600.0, [incident(0.0, 3, persons=2)], occupancy=lambda t: occ)
    hh = HouseholdOutcome(persons=np.array([2, 4, 3, 5]),
                          affected_s=np.array([0.0, 10.0, 20.0, np.nan]),
                          safe_s=np.array([300.0, 400.0, 500.0, np.nan]),
                          shelter_row=np.array([0, 0, 1, -1]))
    rel = w.resp.finalize(hh, t_end_s=3 * 3600.0)
    assert rel["group"].is_unique
    assert sorted(rel.loc[rel["source"] == "household", "ref"]) == [0, 1, 2]
    assert rel.loc[rel["source"] == "incident", "ref"].tolist() == [0]
    inc = rel[rel["source"] == "incident"].iloc[0]
    assert inc["place"] == "shelter" and np.isfinite(inc["relieved_s"])
    assert (rel["relieved_s"] >= rel["safe_s"]).all()
    parts = rel[["wait_rescue_s", "travel_s", "wait_supplies_s"]].sum(axis=1)
    assert np.allclose(parts, rel["relieved_s"] - rel["affected_s"])


# ----------------------------------------------------------------------------- analysis


def test_metrics_and_figures_from_a_run_folder(tmp_path, drawn):
    # Hand-made tables: 3 groups (2 + 3 + 5 persons) relieved 2 h, 12 h after being
    # affected and never; target 10 h -> 2 of 10 persons within (20 %); person-weighted
    # p50 of time to relief: the 5th person in time order is in the 12 h group.
    import pandas as pd

    from analysis.response import (
        incident_timeline,
        relief_curve,
        response_metrics,
        write_response_figures,
    )

    hz = tmp_path / "hazard"
    hz.mkdir()
    pd.DataFrame({"key": ["plan", "response_min", "relief_h", "end_s"],
                  "value": ["p", "30", "10", str(20 * 3600.0)]}).to_csv(
        hz / "response_targets.csv", index=False)
    pd.DataFrame({"persons": [2, 3, 5], "affected_s": [0.0, 600.0, 0.0],
                  "relieved_s": [7200.0, 600.0 + 12 * 3600.0, np.nan],
                  "wait_rescue_s": [0.0, 0.0, 3600.0], "travel_s": [3600.0, 0.0, 0.0],
                  "wait_supplies_s": [3600.0, 12 * 3600.0, 0.0]}).to_csv(
        hz / "response_relief.csv", index=False)
    pd.DataFrame({"persons": [1, 4], "created_s": [0.0, 60.0], "dispatched_s": [90.0, np.nan],
                  "arrived_s": [1200.0, np.nan], "delivered_s": [3000.0, np.nan],
                  "outcome": ["served", "waiting"]}).to_csv(
        hz / "response_incidents.csv", index=False)
    met = response_metrics(tmp_path)
    rel = met["relief"]
    assert rel["affected_persons"] == 10 and rel["within_target_persons"] == 2
    assert rel["within_target_share"] == pytest.approx(0.2)
    assert rel["time_to_relief_p50_h"] == pytest.approx(12.0)
    assert rel["time_to_relief_p90_h"] is None  # half the persons are never relieved
    assert rel["never_relieved_persons"] == 5
    assert rel["delay_person_h"] == {"wait_rescue": 5.0, "travel": 2.0,
                                     "wait_supplies": 2.0 + 36.0}
    inc = met["incidents"]
    assert inc["count"] == 2 and inc["reached"] == 1 and inc["served"] == 1
    assert inc["response_p50_s"] == 1200.0 and inc["within_target_share"] == 0.5
    tl = incident_timeline(tmp_path, step_s=600.0)
    row = tl.set_index("t_s").loc[1200.0]
    assert (row["raised"], row["waiting"], row["in_progress"], row["served"]) == (2, 1, 1, 0)
    curve = relief_curve(tmp_path)
    assert curve["share"].iloc[-1] == pytest.approx(0.5)
    pngs = write_response_figures(tmp_path, lang="en")
    assert [p.name for p in pngs] == ["incidents.png", "relief.png"]
    ax = drawn["incidents.png"].axes[0]
    raised, waiting, in_progress, served = (ln.get_ydata() for ln in ax.lines[:4])
    np.testing.assert_array_equal(raised, waiting + in_progress + served)
    assert raised[-1] == 2 and served[-1] == 1  # both incidents raised, one served
    ax = drawn["relief.png"].axes[0]
    curve, target = ax.lines[0], ax.lines[1]
    assert curve.get_ydata()[-1] == pytest.approx(50.0)  # half the persons, in per cent
    assert target.get_xdata()[0] == 10.0  # the 10-hour line
