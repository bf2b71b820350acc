"""Metrics, figures and summaries on tiny run folders whose answers are worked out by hand.

The hand-built run (``hand_tables``) has 12 households, 27 persons and 3 shelters. Every
expected number below is derived in the comment next to it from the table, using the
ETE definition of NUREG/CR-7002 (docs/references.md §4.1): the time at which the arrived
persons first reach the given share of evacuees (persons of households that departed).
"""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest

from analysis import plotting as figures_mod
from analysis.figures import plot_arrivals, plot_congestion_map
from analysis.metrics import (
    arrival_curve,
    compute_metrics,
    ete_table,
    read_table,
    shelter_loads,
    travel_time_table,
)
from analysis.report import summary_text
from sim._errors import RunFolderError
from sim.runs import write_run

NAN = math.nan

# household, zone, persons, vulnerable, mode, warned, t_warned, complies, t_depart,
# t_arrive, shelter, status
HOUSEHOLDS = [
    (0, "Z1", 4, 0, "car", 1, 0.0, 1, 100.0, 400.0, "A", "sheltered"),
    (1, "Z1", 1, 1, "walk", 1, 0.0, 1, 200.0, 500.0, "B", "sheltered"),
    (2, "Z1", 2, 0, "car", 1, 60.0, 1, 150.0, 900.0, "A", "sheltered"),
    (3, "Z2", 3, 0, "car", 1, 60.0, 1, 300.0, 1200.0, "A", "sheltered"),
    (4, "Z2", 5, 2, "walk", 1, 30.0, 1, 50.0, 1500.0, "B", "sheltered"),
    (5, "Z2", 2, 0, "walk", 1, 30.0, 1, 600.0, 1800.0, "B", "sheltered"),
    (6, "Z3", 1, 0, "car", 1, 90.0, 1, 700.0, 2000.0, "A", "sheltered"),
    (7, "Z3", 1, 0, "car", 1, 90.0, 1, 800.0, 2600.0, "B", "sheltered"),
    (8, "Z3", 1, 0, "car", 1, 90.0, 1, 650.0, NAN, None, "en_route"),
    (9, "Z3", 2, 0, "walk", 0, NAN, 0, NAN, NAN, None, "not_warned"),
    (10, "Z3", 3, 0, "car", 1, 90.0, 0, NAN, NAN, None, "staying"),
    (11, "Z3", 2, 0, "car", 1, 90.0, 1, NAN, math.inf, None, "stranded"),
]
HH_COLUMNS = ["household", "zone", "persons", "vulnerable", "mode", "warned", "t_warned_s",
              "complies", "t_depart_s", "t_arrive_s", "shelter", "status"]


def manifest(seed: int = 1, horizon_s: float = 3600.0) -> dict:
    return {
        "evacsim_version": "0.1.0", "created_utc": "2025-01-01T00:00:00Z", "wall_s": 1.5,
        "seed": seed,
        "scenario": {"path": "scenarios/x.toml", "sha256": "0" * 64, "spec": {"name": "x"}},
        "map": {"path": "maps/x.graphml", "sha256": "1" * 64, "name": "x",
                "crs": "EPSG:32631"},
        "versions": {"python": "3.11", "numpy": np.__version__},
        "tick_s": 1.0, "horizon_s": horizon_s, "command": "evacsim run scenarios/x.toml",
    }


def hand_tables(households: list[tuple] = HOUSEHOLDS) -> dict[str, pd.DataFrame]:
    hh = pd.DataFrame(households, columns=HH_COLUMNS)
    hh.insert(5, "home_node", hh["household"] % 3)
    hh.insert(6, "x_m", 10.0 * hh["household"])
    hh.insert(7, "y_m", 5.0 * hh["household"])
    # One of household 11's two persons died (stranded survivor, one dead).
    hh["dead"] = (hh["household"] == 11).astype(int)
    # State counts of the default households: each row sums to the 27 persons.
    ts = pd.DataFrame({
        "t_s": [0.0, 1200.0, 3600.0],
        "not_warned": [27, 2, 2], "warned": [0, 5, 0], "staying": [0, 3, 3],
        "en_route": [0, 10, 1], "sheltered": [0, 7, 19], "stranded": [0, 0, 1], "dead": [0, 0, 1],
        "vehicles_moving": [0, 4, 1], "vehicles_waiting": [0, 1, 0], "walkers_moving": [0, 2, 0],
    })
    shelters = pd.DataFrame({
        "shelter": ["A", "B", "C"], "name": ["Park", "School", "NA"],
        "kind": ["park", "school", "square"], "x_m": [0.0, 100.0, 50.0],
        "y_m": [0.0, 50.0, 100.0], "lon": [1.5, 1.501, 1.5005], "lat": [42.5, 42.5005, 42.501],
        "area_m2": [16.0, 40.0, 10.0], "capacity": [8, 20, 5], "occupancy": [10, 9, 0],
        "peak_occupancy": [10, 9, 0], "overflow": [2, 0, 0], "t_full_s": [1200.0, NAN, NAN],
        "turned_away": [1, 0, 0],
    })
    links = pd.DataFrame({
        "link": [0, 1, 2], "network": ["drive", "drive", "walk"], "from_node": [0, 1, 2],
        "to_node": [1, 2, 0], "x0_m": [0.0, 100.0, 50.0], "y0_m": [0.0, 50.0, 100.0],
        "x1_m": [100.0, 50.0, 0.0], "y1_m": [50.0, 100.0, 0.0],
        "length_m": [111.8, 70.7, 111.8], "highway": ["primary", "residential", "footway"],
        "storage": [30, 9, 0], "peak_count": [12, 9, 4], "exits": [10, 9, 4],
    })
    events = pd.DataFrame({"t_s": [0.0, 1200.0], "kind": ["warning", "shelter_full"],
                           "where": ["Z1", "A"], "who": ["", "A"], "value": [NAN, 8.0],
                           "message": ["warning issued", "shelter A full"]})
    return {"households": hh, "timeseries": ts, "events": events, "shelters": shelters,
            "links": links}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("hand") / "run"
    return write_run(out, manifest=manifest(), tables=hand_tables(), figures=False)


def test_population_warning_compliance(run_dir):
    m = compute_metrics(run_dir)
    # 4+1+2+3+5+2+1+1+1+2+3+2 = 27 persons in 12 households.
    assert m["population"] == {"persons": 27, "households": 12,
                               "by_mode": {"car": 17, "walk": 10}}
    # Everyone but household 9 (2 persons) was warned: 25/27 = 92.6 % >= 90 % target.
    assert m["warning"]["warned"] == 25
    assert m["warning"]["share"] == pytest.approx(25 / 27, rel=1e-15)
    assert m["warning"]["target_met"] is True
    # Warned and complying: 25 minus household 10 (3 persons) = 22 of 25.
    assert m["compliance"] == {"complying": 22, "share_of_warned": 22 / 25}
    assert m["seed"] == 1 and m["horizon_s"] == 3600.0
    assert m["checks"]["timeseries_conserves_population"] is True


def test_evacuees_and_ete_are_weighted_by_persons(run_dir):
    m = compute_metrics(run_dir)
    # Departed: households 0-8 = 4+1+2+3+5+2+1+1+1 = 20 persons; car 12, walk 8.
    assert m["evacuees"]["persons"] == 20 and m["evacuees"]["households"] == 9
    assert m["evacuees"]["by_mode"] == {"car": 12, "walk": 8}
    assert m["evacuees"]["arrived"] == 19 and m["evacuees"]["arrived_share"] == 19 / 20
    # Arrived: car 4+2+3+1+1 = 11 (household 8 still en route), walk 1+5+2 = 8.
    assert m["evacuees"]["arrived_by_mode"] == {"car": 11, "walk": 8}
    # Arrivals sorted (t: persons -> cumulative): 400:4->4, 500:1->5, 900:2->7,
    # 1200:3->10, 1500:5->15, 1800:2->17, 2000:1->18, 2600:1->19 of 20 evacuees.
    # 50 % = 10 persons -> 1200 s (a household count would give the 5th arrival, 1500 s);
    # 90 % = 18 -> 2000 s; 95 % = 19 -> 2600 s; 100 % = 20 never (household 8 en route).
    ete = m["ete"]["all"]
    assert ete["50"] == {"t_s": 1200.0, "t_min": 20.0, "reached": True, "persons_needed": 10}
    assert ete["90"]["t_s"] == 2000.0 and ete["90"]["persons_needed"] == 18
    assert ete["95"]["t_s"] == 2600.0
    assert ete["100"] == {"t_s": None, "t_min": None, "reached": False, "persons_needed": 20}
    assert m["ete"]["decision_pct"] == 90
    assert m["clearance"] == {"t_s": 2600.0, "t_min": 2600.0 / 60.0}


def test_ete_by_mode(run_dir):
    table = ete_table(run_dir).set_index(["group", "pct"])
    # Car: 12 evacuees; 400:4->4, 900:2->6, 1200:3->9, 2000:1->10, 2600:1->11.
    # 50 % = 6 -> 900; 90 % = 10.8 -> 11 -> 2600; 95 % = 11.4 -> 12 never.
    assert table.loc[("car", 50), "t_s"] == 900.0
    assert table.loc[("car", 90), "t_s"] == 2600.0
    assert not table.loc[("car", 95), "reached"] and np.isnan(table.loc[("car", 95), "t_s"])
    # Walk: 8 evacuees, all arrived; 500:1->1, 1500:5->6, 1800:2->8.
    # 50 % = 4 -> 1500; 90 % = 7.2 -> 1800; 100 % = 8 -> 1800.
    assert table.loc[("walk", 50), "t_s"] == 1500.0
    assert table.loc[("walk", 90), "t_s"] == 1800.0
    assert table.loc[("walk", 100), "t_s"] == 1800.0
    assert table.loc[("walk", 100), "t_min"] == 30.0
    assert list(table.loc["all", "persons_needed"]) == [10, 18, 19, 20]


def test_travel_times(run_dir):
    tt = travel_time_table(run_dir).set_index("group")
    # t_arrive - t_depart (persons): 300 (4 car + 1 walk), 750 (2 car), 900 (3 car),
    # 1200 (2 walk), 1300 (1 car), 1450 (5 walk), 1800 (1 car). 19 arrived persons,
    # cumulative 5, 7, 10, 12, 13, 18, 19: p50 (9.5) 900, p90 (17.1) 1450, p95 (18.05) 1800.
    assert tt.loc["all", ["persons", "p50_s", "p90_s", "p95_s", "max_s"]].tolist() == [
        19, 900.0, 1450.0, 1800.0, 1800.0]
    # Car (11): 300:4, 750:2 -> 6, 900:3 -> 9, 1300:1 -> 10, 1800:1 -> 11.
    # p50 (5.5) 750, p90 (9.9) 1300, p95 (10.45) 1800.
    assert tt.loc["car", ["persons", "p50_s", "p90_s", "p95_s", "max_s"]].tolist() == [
        11, 750.0, 1300.0, 1800.0, 1800.0]
    # Walk (8): 300:1, 1200:2 -> 3, 1450:5 -> 8: every percentile from 50 % up is 1450.
    assert tt.loc["walk", ["p50_s", "p90_s", "max_s"]].tolist() == [1450.0] * 3
    m = compute_metrics(run_dir)
    assert m["travel_time"]["all"]["p90_min"] == 1450.0 / 60.0


def test_shelters_and_not_sheltered(run_dir):
    loads = shelter_loads(run_dir).set_index("shelter")
    # A took households 0, 2, 3, 6: 4+2+3+1 = 10 persons; B took 1, 4, 5, 7: 1+5+2+1 = 9.
    assert loads["arrived_persons"].tolist() == [10, 9, 0]
    assert loads["utilisation"].tolist() == [10 / 8, 9 / 20, 0.0]
    assert loads["over_capacity"].tolist() == [True, False, False]
    assert loads.loc["C", "name"] == "NA"  # a name that pandas would read as missing
    m = compute_metrics(run_dir)
    s = m["shelters"]
    assert (s["count"], s["capacity"], s["peak_occupancy_sum"]) == (3, 33, 19)
    assert s["utilisation"] == 19 / 33
    assert s["full"] == ["A"] and s["overflow_total"] == 2 and s["turned_away"] == 1
    assert [o["shelter"] for o in s["over_capacity"]] == ["A"]
    assert s["over_capacity"][0]["overflow"] == 2
    # Outside a shelter: 8 en route 1, 9 not warned 2, 10 staying 3, 11 stranded 1 and
    # dead 1 = 8.
    assert m["not_sheltered"] == {
        "persons": 8,
        "by_status": {"en_route": 1, "waiting": 0, "not_warned": 2, "warned": 0,
                      "staying": 3, "stranded": 1, "dead": 1},
        "by_mode": {"car": 6, "walk": 2},
    }
    assert m["dead"] == 1


def test_arrival_curve(run_dir):
    curve = arrival_curve(run_dir).set_index("t_s")
    assert curve.index[0] == 0.0 and curve.index.is_monotonic_increasing
    # By 300 s households 4 (50 s, 5), 0 (100 s, 4), 2 (150 s, 2), 1 (200 s, 1) and
    # 3 (300 s, 3) departed = 15 persons; nobody has arrived before 400 s.
    assert curve.loc[300.0].tolist() == [15, 0]
    assert curve.loc[1200.0, "arrived"] == 10
    assert curve.iloc[-1].tolist() == [20, 19]
    assert (np.diff(curve["arrived"]) >= 0).all() and (curve["arrived"] <= curve["departed"]).all()


def test_metrics_json_matches_and_has_no_nan(run_dir):
    text = (run_dir / "metrics.json").read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == json.loads(json.dumps(compute_metrics(run_dir)))


def test_nobody_departed_gives_nulls_not_numbers(tmp_path):
    rows = [(i, "Z", 2, 0, "car", 0, NAN, 0, NAN, NAN, None, "not_warned") for i in range(4)]
    tables = hand_tables(rows)
    tables["timeseries"] = tables["timeseries"].iloc[:1].assign(not_warned=8)
    m = compute_metrics(write_run(tmp_path / "r", manifest=manifest(), tables=tables,
                                  figures=False))
    assert m["evacuees"]["persons"] == 0 and m["evacuees"]["arrived_share"] is None
    assert all(not m["ete"]["all"][p]["reached"] for p in ("50", "90", "95", "100"))
    assert m["clearance"]["t_s"] is None and m["travel_time"]["all"]["p50_s"] is None
    assert m["warning"]["share"] == 0.0 and m["warning"]["target_met"] is False
    assert m["compliance"]["share_of_warned"] is None
    assert m["checks"]["timeseries_conserves_population"] is True


def test_conservation_check_fails_when_counts_do_not_add_up(tmp_path):
    tables = hand_tables()
    tables["timeseries"].loc[1, "stranded"] += 1
    m = compute_metrics(write_run(tmp_path / "r", manifest=manifest(), tables=tables,
                                  figures=False))
    assert m["checks"]["timeseries_conserves_population"] is False


def test_unknown_status_is_a_clear_error(run_dir, tmp_path):
    hh = read_table(run_dir, "households")
    hh.loc[0, "status"] = "flying"
    tables = hand_tables()
    tables["households"] = hh
    with pytest.raises(RunFolderError, match=r"households.csv.gz: status: .*'flying'"):
        write_run(tmp_path / "r", manifest=manifest(), tables=tables, figures=False)
    assert not (tmp_path / "r").exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_figures_draw_the_run(run_dir, tmp_path, lang, caplog, drawn):
    from matplotlib.collections import LineCollection, PathCollection

    from sim.fonts import warn_no_cjk_font
    from sim.i18n import t

    warn_no_cjk_font.cache_clear()
    caplog.set_level(logging.WARNING, logger="sim.fonts")
    plot_congestion_map(run_dir, tmp_path / "map.png", lang=lang)
    plot_arrivals(run_dir, tmp_path / "arrivals.png", lang=lang)
    fell_back = any("no CJK font" in r.getMessage() for r in caplog.records)
    assert fell_back == (lang == "zh" and figures_mod.cjk_font_path() is None)
    shown = "en" if fell_back else lang

    ax = drawn["map.png"].axes[0]
    assert (ax.get_title(), ax.get_xlabel()) == (t("fig.map.title", shown),
                                                 t("mapstyle.x_km", shown))
    # Kilometres from the south-west road end (0, 0): the tick at x = 100 m reads 0.1.
    assert ax.xaxis.get_major_formatter()(100.0, 0) == "0.1"
    texts = [c.get_text() for c in ax.texts]
    assert "Park" in texts  # shelter A: the largest, and over its capacity, is named
    assert {"Z1", "Z2", "Z3"} <= set(texts)  # the zones' names where their people live
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    assert any(isinstance(a, AnchoredSizeBar) for a in ax.artists)  # a scale bar
    assert any(a.get_text() == t("mapstyle.north", shown) for a in ax.texts)
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    # Grey base layer: both drive links (the footpath is not a road); coloured layer: the
    # loaded ones, by peak / storage = 12/30 = 0.4 and 9/9 = 1.0 (> the 2 % cut-off).
    assert len(lines[0].get_segments()) == 2
    assert sorted(lines[1].get_array()) == [0.4, 1.0] and lines[1].get_clim() == (0.0, 1.0)
    # Shelters: A, B and C at their map metres, coloured by utilisation 10/8, 9/20, 0.
    dots = next(c for c in ax.collections if isinstance(c, PathCollection))
    assert dots.get_offsets().tolist() == [[0.0, 0.0], [100.0, 50.0], [50.0, 100.0]]
    assert dots.get_array().tolist() == [10 / 8, 9 / 20, 0.0]
    assert dots.get_clim()[1] >= 10 / 8  # the colour bar covers the overfull shelter
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert x0 < 0.0 and x1 > 100.0 and y0 < 0.0 and y1 > 100.0  # everything is in frame

    ax = drawn["arrivals.png"].axes[0]
    assert ax.get_ylabel() == t("fig.arrivals.y", shown)
    departed, arrived = ax.lines[0], ax.lines[1]
    # Held to the horizon (3600 s = 1 h): 20 departed and 19 arrived persons in the end.
    assert departed.get_xdata()[-1] == 1.0 and departed.get_ydata()[-1] == 20
    assert arrived.get_ydata()[-1] == 19
    # ETE marks at 50/90/95 % = 1200, 2000, 2600 s (test_evacuees_and_ete_...); 100 %
    # never reached, so no line for it.
    marks = [ln.get_xdata()[0] for ln in ax.lines[2:] if len(ln.get_xdata()) == 2
             and ln.get_xdata()[0] == ln.get_xdata()[1]]
    assert marks == pytest.approx([1200 / 3600, 2000 / 3600, 2600 / 3600], abs=1e-12)
    assert ax.get_ylim() == (0.0, 21.0)  # max(20 evacuees, 20 departed) × 1.05


def test_zh_figures_fall_back_to_english_without_cjk_font(run_dir, tmp_path, caplog,
                                                          monkeypatch, drawn):
    from sim.fonts import warn_no_cjk_font
    from sim.i18n import t

    monkeypatch.setattr(figures_mod, "cjk_font_path", lambda: None)
    warn_no_cjk_font.cache_clear()
    caplog.set_level(logging.WARNING, logger="sim.fonts")
    plot_arrivals(run_dir, tmp_path / "a.png", lang="zh")
    plot_congestion_map(run_dir, tmp_path / "m.png", lang="zh")
    assert drawn["a.png"].axes[0].get_title() == t("fig.arrivals.title", "en")
    # Said once per process, not once per figure.
    assert sum("fall back to English" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_text(run_dir, lang):
    text = summary_text(compute_metrics(run_dir), lang=lang)
    lines = text.splitlines()
    assert len(lines) == 6
    assert "27" in lines[1] and "92.6" in lines[1]  # 25/27 warned
    assert "20" in lines[2] and "95.0" in lines[2]  # 19 of 20 evacuees arrived
    # ETE 50 % = 1200 s = 20.0 min, 90 % = 2000 s = 33.3 min, 100 % not reached.
    assert "20.0" in lines[3] and "33.3" in lines[3]
    assert lines[3].count("min" if lang == "en" else "分钟") == 3
    assert ("not reached" if lang == "en" else "未达到") in lines[3]
    assert "8" in lines[5]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_summary_has_one_line_per_hazard_with_its_numbers(run_dir, lang):
    m = compute_metrics(run_dir)
    m["hazards"] = {
        "flood": {"peak_flooded_area_km2": 3.21, "max_depth_m": 2.5, "drive_km_closed_max": 63.4,
                  "persons_stranded": 3637},
        "chemical": {"persons_above_aegl1": 24158, "persons_above_aegl2": 1186,
                     "persons_above_aegl3": 17, "injured": 755, "deaths": 3,
                     "roads": {"max_drive_km_closed": 2.0}},
        "earthquake": {"buildings": {"collapsed": 401, "total": 52000}, "persons_trapped": 8230,
                       "casualties": {"s4": 645}, "persons_displaced": 124000,
                       "road_km_closed": 12.5},
        "response": {"incidents": {"count": 1186, "served": 900, "response_p50_s": 272 * 60.0},
                     "relief": {"within_target_share": 0.44, "affected_persons": 130000},
                     "targets": {"relief_h": 10.0}},
    }
    lines = summary_text(m, lang=lang).splitlines()
    assert len(lines) == 6 + 4
    flood, chem, quake, resp = lines[6:]
    assert "3.21" in flood and "63.4" in flood and "3,637" in flood
    assert "24,158 / 1,186 / 17" in chem and "755" in chem
    assert "401" in quake and "52,000" in quake and "8,230" in quake and "645" in quake
    assert "1,186" in resp and "272.0" in resp and "44.0" in resp and "130,000" in resp


def test_summary_rejects_unknown_language(run_dir):
    with pytest.raises(ValueError, match="en, zh"):
        summary_text(compute_metrics(run_dir), lang="fr")


@pytest.mark.parametrize(("p", "warned", "noise"), [
    # 10,000 one-person households warned with p = 0.9: se = sqrt(0.9 × 0.1 / 10,000) =
    # 0.003, so a share within 1.96 × 0.003 = 0.59 points below 90 % is sampling noise.
    (0.9, 8990, True),   # 89.9 %: 0.1 points short
    (0.9, 8900, False),  # 89.0 %: 1 point short, beyond the noise
    (0.8, 8990, False),  # drawn at 80 %: the plan itself falls short, not the sample
    (0.9, 9100, False),  # target met: nothing to explain
])
def test_warning_shortfall_is_judged_against_its_sampling_noise(p, warned, noise):
    from analysis.metrics import _coverage_noise

    out = _coverage_noise({"scenario": {"spec": {"warning": {"coverage": p}}}},
                          pd.Series(np.ones(10_000)), warned)
    assert out["sampling_se"] == pytest.approx(math.sqrt(p * (1 - p) / 10_000), rel=1e-12)
    assert out["shortfall_is_sampling_noise"] is noise


def test_sampling_noise_weights_households_by_their_persons():
    from analysis.metrics import _coverage_noise

    # Two households of 1 and 3 persons: se = sqrt(p(1-p)(1 + 9)) / 4.
    out = _coverage_noise({"scenario": {"spec": {"warning": {"coverage": 0.5}}}},
                          pd.Series([1, 3]), 1)
    assert out["sampling_se"] == pytest.approx(math.sqrt(0.25 * 10) / 4, rel=1e-12)
    assert _coverage_noise({}, pd.Series([1, 3]), 1) == {}
