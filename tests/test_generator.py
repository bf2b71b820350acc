"""The fictional default-district generator (maps/generate_district.py).

Numbers checked here come from the generator's brief and stated assumptions (population
limits, the town's 8-12 % share, ~100 persons/ha of residential land, shelter capacity
area x 0.6 usable / 2 m2 per person for 60-110 % of the people, SRTM 1" cells) or are
invariants (determinism, conservation of population, connectivity, containment).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

REPO = Path(__file__).resolve().parents[1]
POP = 20_000
WALK_ONLY = {"footway", "pedestrian", "path", "steps", "cycleway"}


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_district", REPO / "maps" / "generate_district.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _load_generator()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict:
    return gen.generate(population=POP, seed=3, out_dir=tmp_path_factory.mktemp("a"), name="s")


@pytest.fixture(scope="module")
def features(small):
    return ox.features_from_xml(small["osm"])


def _files(s: dict) -> list[Path]:
    return [s["osm"], s["zones_csv"], s["dem"], s["dem_prj"]]


def test_same_seed_same_bytes_other_seed_other_map(small, tmp_path):
    again = gen.generate(population=POP, seed=3, out_dir=tmp_path / "b", name="s")
    for a, b in zip(_files(small), _files(again), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = gen.generate(population=POP, seed=4, out_dir=tmp_path / "c", name="s")
    assert other["osm"].read_bytes() != small["osm"].read_bytes()
    assert other["dem"].read_bytes() != small["dem"].read_bytes()


def test_osm_has_no_timestamps(small):
    import bz2

    text = bz2.decompress(small["osm"].read_bytes()).decode("utf-8")
    assert "timestamp" not in text and 'version="0.6"' in text


def test_zone_table_sums_to_population(small):
    lines = small["zones_csv"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "zone,population,kind"
    rows = [line.split(",") for line in lines[1:]]
    pops = [int(p) for _, p, _ in rows]
    assert sum(pops) == POP
    assert {k for *_, k in rows} == {"subdistrict", "town"}
    town = sum(int(p) for _, p, k in rows if k == "town")
    assert 0.08 <= town / POP <= 0.12


@pytest.mark.parametrize("pop", [300_000, 1_000_000])
def test_zone_count_scales(pop):
    # Layout only (no files): 5-7 sub-districts plus the town for a mid-size district.
    d = gen.build_district(pop, np.random.default_rng(1))
    kinds = [k for *_, k in d.zone_rows]
    assert 5 <= kinds.count("subdistrict") <= 7 and kinds.count("town") == 1
    assert sum(p for _, p, _ in d.zone_rows) == pop


def test_smallest_district_is_one_zone(tmp_path):
    s = gen.generate(population=10_000, seed=0, out_dir=tmp_path, name="t")
    assert s["zones"] == {"Wenchang Subdistrict": 10_000}


def test_drive_network_is_strongly_connected(small):
    g = ox.graph_from_xml(small["osm"], simplify=True, retain_all=False)
    # The component osmnx keeps must be the road network, not a river or a polygon.
    assert all("highway" in d for *_, d in g.edges(data=True))

    def drivable(d):
        hw = d["highway"] if isinstance(d["highway"], list) else [d["highway"]]
        return not set(hw) <= WALK_ONLY

    drive = g.edge_subgraph([(u, v, k) for u, v, k, d in g.edges(keys=True, data=True)
                             if drivable(d)])
    scc = max(nx.strongly_connected_components(drive), key=len)
    assert len(scc) == drive.number_of_nodes()  # every drivable node reaches every other
    assert any(d["oneway"] for *_, d in drive.edges(data=True))  # the central one-way pairs
    hws = {h for *_, d in g.edges(data=True)
           for h in (d["highway"] if isinstance(d["highway"], list) else [d["highway"]])}
    assert {"trunk", "primary", "secondary", "tertiary", "residential", "footway"} <= hws


def test_places_and_tags(features):
    f = features

    def has(col, val):
        return col in f and bool((f[col] == val).any())

    for col, val in [("leisure", "park"), ("leisure", "stadium"), ("leisure", "sports_centre"),
                     ("amenity", "school"), ("place", "square"), ("amenity", "hospital"),
                     ("amenity", "fire_station"), ("industrial", "chemical"),
                     ("landuse", "quarry"), ("landuse", "residential"), ("natural", "peak"),
                     ("natural", "ridge"), ("waterway", "river"), ("waterway", "stream"),
                     ("bridge", "yes"), ("place", "town")]:
        assert has(col, val), (col, val)
    depots = f[f["building"] == "warehouse"]
    assert set(depots["depot:level"]) == {"district", "town", "community"}
    assert (depots["depot:level"] == "district").sum() == 1
    assert depots["name"].str.endswith("Material Reserve Depot").all()
    tanks = f[f["man_made"] == "storage_tank"]
    assert set(tanks["substance"]) == {"chlorine", "ammonia"}
    park = f[f["industrial"] == "chemical"].geometry.iloc[0]
    assert all(park.contains(p) for p in tanks.geometry)
    ways = f.loc[f.index.get_level_values(0) == "way"]
    assert ways["name"].notna().all()  # every way is named
    square = f[f["place"] == "square"]
    assert (square["highway"] == "pedestrian").all() and (square["area"] == "yes").all()


def test_residential_areas_sit_in_one_zone_each(features):
    f = features
    zones = f[f["boundary"] == "administrative"]
    assert (zones["admin_level"] == "8").all() and zones["name:zh"].notna().all()
    res = f[f["landuse"] == "residential"]
    n_in = [sum(z.contains(r) for z in zones.geometry) for r in res.geometry]
    assert n_in == [1] * len(res)


def test_density_and_shelter_capacity(small, features):
    # Stated assumption: ~100 persons per ha of residential land (grid granularity: +-25 %).
    assert 75 <= small["density_per_ha"] <= 125
    # Brief: shelter area x 0.6 usable / 2 m2 per person covers 60-110 % of the people.
    crs = ox.projection.project_gdf(features).crs
    f = features.to_crs(crs)
    shelter = (f["leisure"].isin(["park", "stadium", "sports_centre"])
               | (f["amenity"] == "school") | (f["place"] == "square"))
    capacity = f[shelter].area.sum() * 0.6 / 2.0
    assert 0.6 * POP <= capacity <= 1.1 * POP
    # Every shelter / facility polygon lies within 100 m of a drivable road.
    roads = f[f["highway"].notna() & ~f["highway"].isin(list(WALK_ONLY))
              & (f.geometry.geom_type == "LineString")]
    places = f[shelter | f["amenity"].isin(["hospital", "fire_station"])
               | (f["building"] == "warehouse")]
    union = roads.geometry.union_all()
    assert max(g.distance(union) for g in places.geometry) <= 100.0


def _read_asc(path: Path):
    with path.open(encoding="ascii") as fh:
        head = {k: float(v) for k, v in (next(fh).split() for _ in range(6))}
    z = np.loadtxt(path, skiprows=6)
    return head, z


def test_dem_covers_map_and_falls_west_to_east(small):
    head, z = _read_asc(small["dem"])
    assert z.shape == (int(head["nrows"]), int(head["ncols"]))
    assert head["cellsize"] == pytest.approx(1 / 3600, rel=1e-12)  # SRTM 1 arc-second
    assert (z != head["NODATA_value"]).all()
    west, south, east, north = small["bbox_lonlat"]
    assert head["xllcorner"] <= west and head["yllcorner"] <= south
    assert head["xllcorner"] + head["ncols"] * head["cellsize"] >= east
    assert head["yllcorner"] + head["nrows"] * head["cellsize"] >= north
    cols = z.mean(axis=0)
    assert cols[: len(cols) // 5].mean() > cols[-len(cols) // 5:].mean() + 500.0
    assert 2000.0 <= z.max() <= 3200.0  # the range rises to 2,000-3,000 m
    # Plain ~1,100 m: the cell under the map centre (38.98 N, 106.38 E).
    r = int((head["yllcorner"] + head["nrows"] * head["cellsize"] - 38.98) / head["cellsize"])
    c = int((106.38 - head["xllcorner"]) / head["cellsize"])
    assert 1050.0 <= z[r, c] <= 1250.0
    assert "WGS_1984" in small["dem_prj"].read_text(encoding="ascii")


def test_dem_gully_is_lower_than_its_flanks():
    d = gen.build_district(POP, np.random.default_rng(3))
    sx, sy, _, _ = d.streams[0]
    x = sx[len(sx) // 4]  # inside the mountains: streams start 6 km west of the front
    assert x < float(d.x_front(np.interp(x, sx, sy)))
    y = float(np.interp(x, sx, sy))
    z_bed, z_n, z_s = d.elevation(np.array([x, x, x]), np.array([y, y + 600.0, y - 600.0]))
    assert z_bed < min(z_n, z_s) - 50.0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"population": 9_999, "seed": 1}, "--population"),
    ({"population": 1_000_001, "seed": 1}, "--population"),
    ({"population": 50_000.5, "seed": 1}, "--population"),
    ({"population": 50_000, "seed": -1}, "--seed"),
])
def test_bad_arguments_are_named(kwargs, field, tmp_path):
    with pytest.raises(ValueError, match=field):
        gen.generate(out_dir=tmp_path, name="x", **kwargs)
    assert not list(tmp_path.iterdir())  # nothing written


def test_cli_rejects_bad_population_with_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        gen.main(["--population", "5000", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "--population: expected 10,000 to 1,000,000" in capsys.readouterr().err


def test_cli_writes_files(tmp_path, capsys):
    assert gen.main(["--population", "10000", "--seed", "2", "--out", str(tmp_path),
                     "--name", "n"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["n.dem.asc", "n.dem.prj", "n.osm.bz2", "n.zones.csv"]
    assert "persons/ha" in capsys.readouterr().out
    ref = gen.generate(population=10_000, seed=2, out_dir=tmp_path / "ref", name="n")
    for p in _files(ref):
        assert (tmp_path / p.name).read_bytes() == p.read_bytes()  # CLI == generate()
