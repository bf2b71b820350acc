"""Tests of sim.network: every source ends in the same, valid RoadNetwork.

Hand-derived numbers use tests/data/tiny.osm: nodes on a 0.001 degree grid, lengths are
great-circle distances (sphere of radius 6,371,009 m, the IUGG mean radius osmnx uses),
capacities and storage follow the formulas of DESIGN.md "Network" with MATSim's
per-class defaults.
"""

from __future__ import annotations

import bz2
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from analysis.map_plot import plot_map
from sim._errors import NetworkError
from sim.network import (
    RoadNetwork,
    _osm,
    fetch_place,
    import_map,
    load_map,
    map_info,
    store,
)
from sim.network.compile import DRIVE_DEFAULTS, WALK_WIDTH_M

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny.osm"
R_EARTH_M = 6_371_009.0


def _gc_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine great-circle distance, metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_EARTH_M * math.asin(math.sqrt(h))


def _arrays(net: RoadNetwork) -> dict[str, np.ndarray]:
    return store._arrays(net)


def _assert_same(a: RoadNetwork, b: RoadNetwork) -> None:
    xa, xb = _arrays(a), _arrays(b)
    assert xa.keys() == xb.keys()
    for k in xa:
        assert xa[k].dtype == xb[k].dtype, k
        np.testing.assert_array_equal(xa[k], xb[k], err_msg=k)
    for ps in ("shelters", "facilities", "residential", "zones"):
        assert getattr(a, ps).tags == getattr(b, ps).tags
    assert a.crs == b.crs and a.bbox_lonlat == b.bbox_lonlat


@pytest.fixture(scope="module")
def tiny() -> RoadNetwork:
    return load_map(TINY, cache_dir=False)


@pytest.fixture(scope="module")
def map_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("evacsim-cache")


@pytest.fixture(scope="module")
def andorra(shared_data, map_cache) -> RoadNetwork:
    return load_map(shared_data / "andorra.osm.pbf", cache_dir=map_cache)


@pytest.fixture(scope="module")
def pyrosm_test() -> RoadNetwork:
    import pyrosm

    return load_map(Path(pyrosm.__file__).parent / "data" / "test.osm.pbf", cache_dir=False)


def _link(net: RoadNetwork, mode: str, a: int, b: int) -> list[int]:
    links = getattr(net, mode)
    ids = net.nodes.osmid
    return [i for i in range(links.n_links)
            if ids[links.from_node[i]] == a and ids[links.to_node[i]] == b]


# ---------------------------------------------------------------- hand-made OSM XML


def test_tiny_topology(tiny):
    # node 4 is interstitial on the one-way way 101 and is simplified away; node 8 is
    # reached only by a one-way motorway_link (not strongly connected, not walkable).
    assert tiny.nodes.osmid.tolist() == [1, 2, 3, 5, 6, 7]
    pairs = {(int(tiny.nodes.osmid[f]), int(tiny.nodes.osmid[t]))
             for f, t in zip(tiny.drive.from_node, tiny.drive.to_node, strict=True)}
    assert pairs == {(1, 2), (2, 1), (2, 3), (3, 2), (3, 5), (5, 6), (6, 1), (1, 6),
                     (2, 5), (5, 2)}
    # Walk: every walkable segment both ways; 2-5 has foot=no, 6-8 is a motorway_link.
    walk = {(int(tiny.nodes.osmid[f]), int(tiny.nodes.osmid[t]))
            for f, t in zip(tiny.walk.from_node, tiny.walk.to_node, strict=True)}
    segs = {(1, 2), (2, 3), (3, 5), (5, 6), (1, 6), (5, 7)}
    assert walk == segs | {(b, a) for a, b in segs}
    assert tiny.walk.n_links == 12
    assert tiny.crs == "EPSG:32631"


def test_tiny_capacity_storage_speed(tiny):
    d = tiny.drive
    # primary, lanes=4 two-way -> 2 lanes each way, maxspeed 50 km/h, 1500 veh/h/lane.
    (i,) = _link(tiny, "drive", 1, 2)
    length = _gc_m(42.500, 1.500, 42.501, 1.500)
    assert d.length_m[i] == pytest.approx(length, rel=1e-9)
    assert d.lanes[i] == 2.0
    assert d.ffs_mps[i] == pytest.approx(50 / 3.6)
    assert d.capacity_vps[i] == pytest.approx(2 * 1500 / 3600)
    assert d.storage_veh[i] == math.floor(length * 2 / 7.5)
    # residential one-way, lanes=2 (all in one direction), 3 -> 4 -> 5 merged, 30 km/h.
    (i,) = _link(tiny, "drive", 3, 5)
    length = _gc_m(42.502, 1.500, 42.502, 1.501) + _gc_m(42.502, 1.501, 42.501, 1.501)
    assert d.length_m[i] == pytest.approx(length, rel=1e-9)
    assert d.lanes[i] == 2.0
    assert d.ffs_mps[i] == pytest.approx(30 / 3.6)
    assert d.capacity_vps[i] == pytest.approx(2 * 600 / 3600)
    assert d.storage_veh[i] == math.floor(length * 2 / 7.5)
    assert _link(tiny, "drive", 5, 3) == []
    # residential two-way, lanes=3 -> 1.5 lanes per direction (MATSim splits evenly).
    (i,) = _link(tiny, "drive", 2, 5)
    assert d.lanes[i] == 1.5
    assert d.capacity_vps[i] == pytest.approx(1.5 * 600 / 3600)
    # tertiary without tags: MATSim default 1 lane, 600 veh/h/lane, 45 km/h.
    (i,) = _link(tiny, "drive", 6, 1)
    length = _gc_m(42.500, 1.501, 42.500, 1.500)
    assert (d.lanes[i], d.ffs_mps[i]) == (1.0, pytest.approx(45 / 3.6))
    assert d.capacity_vps[i] == pytest.approx(600 / 3600)
    assert d.storage_veh[i] == math.floor(length / 7.5)
    # footway: 2 m wide, 1.34 m/s, 1.3 P/(m s), jam 5.4 P/m2.
    w = tiny.walk
    (i,) = _link(tiny, "walk", 7, 5)
    length = _gc_m(42.501, 1.502, 42.501, 1.501)
    assert w.length_m[i] == pytest.approx(length, rel=1e-9)
    assert (w.lanes[i], w.ffs_mps[i]) == (2.0, 1.34)
    assert w.capacity_vps[i] == pytest.approx(2.0 * 1.3)
    assert w.storage_veh[i] == math.floor(length * 2.0 * 5.4)


def test_tiny_jam_spacing_is_a_parameter():
    net = load_map(TINY, cache_dir=False, jam_spacing_m=5.0)
    (i,) = _link(net, "drive", 1, 2)
    assert net.drive.storage_veh[i] == math.floor(_gc_m(42.5, 1.5, 42.501, 1.5) * 2 / 5.0)


def test_tiny_places(tiny):
    (park,) = range(len(tiny.shelters))
    assert tiny.shelters.kind[park] == "park" and tiny.shelters.name[park] == "Green Park"
    # 0.001 deg x 0.001 deg at 42.5035 N on the sphere; UTM (scale < 1.0004 here) and the
    # ellipsoid (< 0.5 % from the sphere at this latitude) explain the tolerance.
    expected = _gc_m(42.503, 1.503, 42.504, 1.503) * _gc_m(42.5035, 1.503, 42.5035, 1.504)
    assert tiny.shelters.area_m2[park] == pytest.approx(expected, rel=0.01)
    fac = {str(k): i for i, k in enumerate(tiny.facilities.kind)}
    assert set(fac) == {"fire_station", "depot"}
    fs = fac["fire_station"]
    assert tiny.facilities.area_m2[fs] == 0.0
    assert tiny.nodes.osmid[tiny.facilities.drive_node[fs]] == 6  # 5 m from node 6
    dep = fac["depot"]
    assert tiny.facilities.tags[dep]["depot:level"] == "district"
    assert tiny.nodes.osmid[tiny.facilities.walk_node[dep]] == 3  # 5 m from node 3


def test_map_info_and_plot(tiny, tmp_path, drawn):
    info = map_info(tiny)
    seg = [(42.500, 1.500, 42.501, 1.500), (42.501, 1.500, 42.502, 1.500),
           (42.500, 1.500, 42.500, 1.501), (42.501, 1.500, 42.501, 1.501),
           (42.502, 1.500, 42.502, 1.501), (42.502, 1.501, 42.501, 1.501),
           (42.501, 1.501, 42.500, 1.501)]
    assert info["drive_km"] == pytest.approx(sum(_gc_m(*s) for s in seg) / 1000, rel=1e-9)
    assert (info["nodes"], info["drive_links"], info["walk_links"]) == (6, 10, 12)
    assert info["facilities"] == {"depot": 1, "fire_station": 1}
    assert info["shelters"]["park"]["count"] == 1
    plot_map(tiny, tmp_path / "map.png")
    ax = drawn["map.png"].axes[0]
    # Footpaths first (12 walk links), then one layer per road class: 10 drive links.
    layers = [len(c.get_segments()) for c in ax.collections if hasattr(c, "get_segments")]
    assert layers[0] == 12 and sum(layers[1:]) == 10
    points = {c.get_label(): c.get_offsets().tolist() for c in ax.collections
              if not hasattr(c, "get_segments")}
    assert len(points) == 3  # the park, the depot, the fire station: one marker set each
    shelter = [xy for label, xy in points.items() if "park" in label]
    assert shelter == [[[tiny.shelters.x_m[0], tiny.shelters.y_m[0]]]]
    # Framed on the nodes (0.5-99.5 percentiles, 4 % padding), every place inside.
    x0, x1 = ax.get_xlim()
    assert x0 < tiny.nodes.x_m.min() and x1 > tiny.nodes.x_m.max()
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside


def test_map_plot_in_chinese_draws_every_glyph(tiny, tmp_path, drawn):
    # A glyph missing from the font is a matplotlib UserWarning: an error in this suite.
    from sim.fonts import cjk_font_path
    from sim.i18n import t

    if cjk_font_path() is None:
        from tests.required import skip_unless_ci

        skip_unless_ci("no CJK font installed (Debian: fonts-noto-cjk)")
    plot_map(tiny, tmp_path / "zh.png", lang="zh")
    ax = drawn["zh.png"].axes[0]
    assert ax.get_title() == t("map.plot.title", "zh", name=tiny.name)
    assert ax.get_xlabel() == t("mapstyle.x_km", "zh")


def test_bz2_and_graphml_give_the_same_arrays(tiny, tmp_path):
    packed = tmp_path / "tiny.osm.bz2"
    packed.write_bytes(bz2.compress(TINY.read_bytes()))
    _assert_same(load_map(packed, cache_dir=False), tiny)
    # GraphML + features GeoJSON written from the raw XML read: the same compiled map.
    import osmnx as ox

    raw = _osm.read_xml(TINY)
    graphml = tmp_path / "tiny.graphml"
    ox.save_graphml(raw.graph, graphml)
    _osm.write_features_geojson(raw.features, _osm.features_path(graphml))
    _assert_same(load_map(graphml, cache_dir=False), tiny)


def test_osmnx_settings_restored():
    import osmnx as ox

    before = list(ox.settings.useful_tags_way)
    load_map(TINY, cache_dir=False)
    assert ox.settings.useful_tags_way == before


# ---------------------------------------------------------------- real extracts


def _check_invariants(net: RoadNetwork) -> None:
    n = len(net.nodes)
    assert np.all(np.diff(net.nodes.osmid) > 0)  # sorted, unique
    assert re_utm(net.crs)
    for mode in ("drive", "walk"):
        links = getattr(net, mode)
        assert links.n_links > 0
        assert np.all(links.length_m > 0) and np.all(links.ffs_mps > 0)
        assert np.all(links.lanes >= 1) and np.all(links.storage_veh >= 1)
        # CSR: out_links of node v all start at v.
        for v in range(0, n, max(1, n // 50)):
            out = links.out_links[links.out_ptr[v]:links.out_ptr[v + 1]]
            assert np.all(links.from_node[out] == v)
    d = net.drive
    on = np.unique(np.concatenate([d.from_node, d.to_node]))
    m = coo_matrix((np.ones(d.n_links), (d.from_node, d.to_node)), shape=(n, n))
    _, labels = connected_components(m, directed=True, connection="strong")
    assert len(np.unique(labels[on])) == 1  # every drive node reaches every other
    rng = np.random.default_rng(20240601)
    for i in rng.choice(d.n_links, size=min(200, d.n_links), replace=False):
        cap_lane = DRIVE_DEFAULTS[str(net.drive_highway[i])][0]
        assert d.capacity_vps[i] == pytest.approx(d.lanes[i] * cap_lane / 3600)
        assert d.storage_veh[i] == max(1, math.floor(d.length_m[i] * d.lanes[i] / 7.5))
    w = net.walk
    fwd = set(zip(w.from_node.tolist(), w.to_node.tolist(), w.length_m.tolist(), strict=True))
    assert fwd == set(zip(w.to_node.tolist(), w.from_node.tolist(), w.length_m.tolist(),
                          strict=True))
    for i in rng.choice(w.n_links, size=min(200, w.n_links), replace=False):
        width = WALK_WIDTH_M.get(str(net.walk_highway[i]), 2.0)
        assert w.lanes[i] == width and w.capacity_vps[i] == pytest.approx(width * 1.3)
        assert w.storage_veh[i] == max(1, math.floor(w.length_m[i] * width * 5.4))
    walk_on = np.unique(np.concatenate([w.from_node, w.to_node]))
    for ps in ("shelters", "facilities", "residential", "zones"):
        p = getattr(net, ps)
        assert np.all(np.isin(p.drive_node, on)) and np.all(np.isin(p.walk_node, walk_on))
        assert len(p.tags) == len(p)
    west, south, east, north = net.bbox_lonlat
    assert west < east and south < north


def re_utm(crs: str) -> bool:
    return crs.startswith(("EPSG:326", "EPSG:327")) and 1 <= int(crs[-2:]) <= 60


@pytest.mark.realdata
def test_andorra_invariants(andorra):
    _check_invariants(andorra)
    assert andorra.crs == "EPSG:32631"  # Andorra lies in UTM zone 31 (0-6 E)
    assert len(andorra.shelters) > 0 and len(andorra.residential) > 0
    assert len(andorra.zones) > 0
    assert all(t["zone"] in set(andorra.zones.name) | {""} for t in andorra.residential.tags)


def test_pyrosm_test_extract_invariants(pyrosm_test):
    _check_invariants(pyrosm_test)


def test_reading_a_pbf_leaves_no_thread_behind(tmp_path):
    # A second thread alive keeps sim.background from forking the figure drawing; pyrosm's
    # progress bars used to leave tqdm's monitor thread running for good.
    import threading

    import pyrosm

    before = set(threading.enumerate())
    load_map(Path(pyrosm.__file__).parent / "data" / "test.osm.pbf", cache_dir=tmp_path)
    assert set(threading.enumerate()) <= before


@pytest.mark.realdata
def test_cache_hit_is_identical(andorra, shared_data, map_cache):
    entries = list((map_cache / "maps").glob("*.evacmap.npz"))
    assert len(entries) == 1
    cached = load_map(shared_data / "andorra.osm.pbf", cache_dir=map_cache)
    _assert_same(cached, andorra)
    fresh = load_map(shared_data / "andorra.osm.pbf", cache_dir=False)  # determinism
    _assert_same(fresh, andorra)


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EVACSIM_CACHE_DIR", str(tmp_path / "c"))
    net = load_map(TINY)
    assert len(list((tmp_path / "c" / "maps").glob("*.evacmap.npz"))) == 1
    _assert_same(load_map(TINY), net)


def test_import_map_round_trip(tiny, tmp_path):
    out = import_map(TINY, name="tiny-district", out_dir=tmp_path, cache_dir=False)
    assert out.name == "tiny-district.evacmap.npz"
    back = load_map(out)
    assert back.name == "tiny-district"
    _assert_same(back, tiny)
    with pytest.raises(NetworkError, match="exists already"):
        import_map(TINY, name="tiny-district", out_dir=tmp_path, cache_dir=False)
    import_map(TINY, name="tiny-district", out_dir=tmp_path, force=True, cache_dir=False)


# ---------------------------------------------------------------- bad input


NO_ROADS = """<?xml version="1.0"?><osm version="0.6">
<node id="1" lat="42.5" lon="1.5"/><node id="2" lat="42.501" lon="1.5"/>
<node id="3" lat="42.501" lon="1.501"/>
<way id="9"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="leisure" v="park"/></way>
</osm>"""

BAD = {
    "unknown.txt": b"hello",
    "empty.osm": b"",
    "broken.osm": b"<osm version='0.6'><node id='1' lat='1' lon='",
    "broken.osm.bz2": b"BZh9 this is not bzip2 data",
    "noroads.osm": NO_ROADS.encode(),
    "garbage.osm.pbf": b"\x00\x00\x00\x0dnot a pbf at all" * 4,
    "broken.graphml": b"<graphml><graph><node id='1'></graph>",
    "broken.evacmap.npz": b"PK\x03\x04 not a zip",
}


@pytest.mark.parametrize("fname", sorted(BAD))
def test_bad_input_names_the_file(fname, tmp_path):
    path = tmp_path / fname
    path.write_bytes(BAD[fname])
    cache = tmp_path / "cache"
    with pytest.raises(NetworkError) as err:
        load_map(path, cache_dir=cache)
    assert str(path) in str(err.value)
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


def test_missing_file(tmp_path):
    with pytest.raises(NetworkError, match="not found") as err:
        load_map(tmp_path / "nowhere.osm.pbf", cache_dir=False)
    assert "nowhere.osm.pbf" in str(err.value)


def test_fetch_offline_gives_network_error(tmp_path, monkeypatch):
    import osmnx as ox
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("network is unreachable (test)")

    monkeypatch.setattr(requests, "get", offline)
    monkeypatch.setattr(requests, "post", offline)
    before = (list(ox.settings.useful_tags_way), ox.settings.cache_folder, ox.settings.use_cache)
    with pytest.raises(NetworkError, match="could not fetch 'Nowhere, Atlantis'") as err:
        fetch_place("Nowhere, Atlantis", out_dir=tmp_path / "maps", cache_dir=tmp_path / "c")
    assert "evacsim map import" in str(err.value)
    assert not (tmp_path / "maps").exists()
    assert (list(ox.settings.useful_tags_way), ox.settings.cache_folder,
            ox.settings.use_cache) == before


# ---------------------------------------------------------------- routing on a real map


@pytest.mark.realdata
def test_next_hop_matches_networkx_dijkstra(andorra):
    from sim.routing import next_hop

    d, n = andorra.drive, len(andorra.nodes)
    targets = np.unique(andorra.shelters.drive_node).astype(np.int64)
    table = next_hop(d, n, targets)
    # Independent check: networkx multi-source Dijkstra on the reversed graph.
    G = nx.DiGraph()
    fft = d.length_m / d.ffs_mps
    for i in range(d.n_links):
        u, v = int(d.to_node[i]), int(d.from_node[i])
        if not G.has_edge(u, v) or G[u][v]["w"] > fft[i]:
            G.add_edge(u, v, w=float(fft[i]))
    dist = nx.multi_source_dijkstra_path_length(G, {int(t) for t in targets}, weight="w")
    on = np.unique(np.concatenate([d.from_node, d.to_node]))
    assert set(dist) == set(on.tolist())  # strongly connected: every drive node reaches one
    for v in on:
        assert table.cost_s[v] == pytest.approx(dist[int(v)], rel=1e-9, abs=1e-9)
    # Following next_link from any node adds up to its cost and ends at a target.
    rng = np.random.default_rng(7)
    for v in rng.choice(on, size=50, replace=False):
        total, node = 0.0, int(v)
        while table.next_link[node] >= 0:
            link = table.next_link[node]
            total += fft[link]
            node = int(d.to_node[link])
        assert node in set(targets.tolist())
        assert total == pytest.approx(table.cost_s[v], rel=1e-9, abs=1e-9)
