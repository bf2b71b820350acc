"""Shelter table: capacity formula by hand, closures, plan additions, per-node sums."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from sim._errors import ScenarioError
from sim.scenario import Scenario
from sim.shelters import area_capacity, build_shelters, node_capacity
from tests.data.scenarios.synthetic_net import CRS, grid_net, node_xy

X0, Y0 = 400_000.0, 4_700_000.0
MAP_SHELTERS = [
    # GB 50413-2007: 2 m2/person; usable fractions are the schema defaults.
    {"kind": "park", "name": "Riverside Park", "x_m": X0 + 10, "y_m": Y0 + 10,
     "area_m2": 5000.0, "drive_node": 0, "walk_node": 0},            # 5000*0.6/2 = 1500
    {"kind": "school", "name": "No. 1 School", "x_m": X0 + 200, "y_m": Y0 + 5,
     "area_m2": 2001.0, "drive_node": 10, "walk_node": 10},          # floor(500.25) = 500
    {"kind": "square", "name": "Small Square", "x_m": X0 + 400, "y_m": Y0 + 400,
     "area_m2": 999.0, "drive_node": 24, "walk_node": 24},           # < 1000 m2: not a shelter
    {"kind": "stadium", "name": "Stadium", "x_m": X0 + 100, "y_m": Y0 + 400,
     "area_m2": 20000.0, "drive_node": 9, "walk_node": 9,
     "tags": {"capacity": "12000"}},                                  # OSM tag wins
    {"kind": "other", "name": "Car Park", "x_m": X0, "y_m": Y0, "area_m2": 9000.0,
     "drive_node": 0, "walk_node": 0},                                # kind not listed
    {"kind": "park", "name": "", "x_m": X0 + 5, "y_m": Y0 + 5, "area_m2": 1000.0,
     "drive_node": 0, "walk_node": -1, "osmid": 77,
     "tags": {"capacity": "lots"}},                                   # 1000*0.6/2 = 300
]


@pytest.fixture(scope="module")
def net():
    return grid_net(k=5, spacing_m=100.0, shelters=MAP_SHELTERS)


def spec(tmp_path: Path, **shelters) -> Scenario:
    (tmp_path / "m.osm").write_text("<osm/>")
    (tmp_path / "z.csv").write_text("zone,population\n")
    data = {"scenario": {"name": "t", "map": "m.osm"}, "population": {"zones_csv": "z.csv"},
            "shelters": shelters}
    return Scenario.from_dict(data, source=str(tmp_path / "plan.toml"), base_dir=tmp_path)


def test_area_capacity_by_hand():
    got = area_capacity(np.array([5000.0, 2001.0, 1000.0, 0.0]),
                        np.array([0.6, 0.5, 0.6, 0.8]), 2.0)
    assert got.tolist() == [1500, 500, 300, 0]
    assert got.dtype == np.int64


def test_map_shelters_capacity_and_filter(tmp_path, net):
    t = build_shelters(net, spec(tmp_path))
    rows = dict(zip(t.name.tolist(), zip(t.capacity.tolist(), t.capacity_basis.tolist(),
                                         strict=True), strict=True))
    assert rows == {"Riverside Park": (1500, "area"), "No. 1 School": (500, "area"),
                    "Stadium": (12000, "osm_tag"), "park-77": (300, "area")}
    assert set(t.source.tolist()) == {"map"}
    assert t.total_capacity == 1500 + 500 + 12000 + 300
    # The unnamed park had no walk node: it is snapped to the nearest (node 0).
    assert t.walk_node[t.name.tolist().index("park-77")] == 0


def test_area_per_person_and_fraction_from_spec(tmp_path, net):
    t = build_shelters(net, spec(tmp_path, area_per_person_m2=1.0, min_area_m2=0.0,
                                 usable_fraction={"park": 1.0, "square": 1.0, "school": 1.0,
                                                  "stadium": 1.0, "sports_centre": 1.0}))
    caps = dict(zip(t.name.tolist(), t.capacity.tolist(), strict=True))
    assert caps["Riverside Park"] == 5000 and caps["Small Square"] == 999
    assert caps["No. 1 School"] == 2001


def test_closed_and_extra(tmp_path, net):
    x, y = node_xy(net, 12)
    t = build_shelters(net, spec(tmp_path, closed=["Stadium"], extra=[
        {"name": "Gym", "capacity": 800, "x_m": x + 30.0, "y_m": y - 20.0}]))
    assert "Stadium" not in t.name.tolist()
    i = t.name.tolist().index("Gym")
    assert (t.capacity[i], t.source[i], t.capacity_basis[i], t.kind[i]) == (
        800, "plan", "plan", "other")
    assert t.drive_node[i] == 12 and t.walk_node[i] == 12 and np.isnan(t.area_m2[i])


def test_extra_by_lon_lat(tmp_path, net):
    x, y = node_xy(net, 18)
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x + 10, y)
    t = build_shelters(net, spec(tmp_path, extra=[
        {"name": "Hall", "capacity": 50, "lon": float(lon), "lat": float(lat)}]))
    i = t.name.tolist().index("Hall")
    assert t.drive_node[i] == 18
    assert t.x_m[i] == pytest.approx(x + 10, abs=1e-3)


def test_unknown_closed_name_lists_valid_names(tmp_path, net):
    with pytest.raises(ScenarioError) as exc:
        build_shelters(net, spec(tmp_path, closed=["Stadium", "Stadum"]))
    text = str(exc.value)
    assert "plan.toml: shelters.closed[1]: expected the name of a map shelter" in text
    assert "Riverside Park" in text and "got 'Stadum'" in text
    assert "closed[0]" not in text


def test_off_network_extra_and_duplicates_reported_together(tmp_path, net):
    with pytest.raises(ScenarioError) as exc:
        build_shelters(net, spec(tmp_path, closed=["Nope"], extra=[
            {"name": "Far", "capacity": 10, "x_m": X0 + 2000.0, "y_m": Y0},
            {"name": "Stadium", "capacity": 10, "x_m": X0, "y_m": Y0}]))
    text = str(exc.value)
    assert "3 problem(s)" in text
    assert "shelters.extra[0]: expected a point within shelters.max_snap_m = 500.0 m" in text
    assert "1600 m from the nearest drive node" in text  # (2000 - 400) m east of the grid
    assert "shelters.extra[1].name: expected a name not used by another open shelter" in text
    # Within max_snap_m it is fine.
    t = build_shelters(net, spec(tmp_path, extra=[
        {"name": "Near", "capacity": 10, "x_m": X0 + 899.0, "y_m": Y0}]))
    assert "Near" in t.name.tolist()


def test_no_open_shelter_is_an_error(tmp_path, net):
    names = ["Riverside Park", "No. 1 School", "Stadium", "park-77"]
    with pytest.raises(ScenarioError, match="plan.toml: shelters: .*no shelter is open"):
        build_shelters(net, spec(tmp_path, closed=names))
    empty = grid_net(shelters=[])
    with pytest.raises(ScenarioError, match="no shelter is open"):
        build_shelters(empty, spec(tmp_path))


def test_node_capacity_sums_shelters_on_one_node(tmp_path, net):
    x, y = node_xy(net, 0)
    t = build_shelters(net, spec(tmp_path, extra=[
        {"name": "Annex", "capacity": 7, "x_m": x, "y_m": y}]))
    drive = node_capacity(t, len(net.nodes))
    walk = node_capacity(t, len(net.nodes), network="walk")
    assert drive.dtype == np.int64 and drive.shape == (len(net.nodes),)
    assert drive[0] == 1500 + 300 + 7  # park, unnamed park, annex share node 0
    assert drive[10] == 500 and drive[9] == 12000
    assert drive.sum() == walk.sum() == t.total_capacity  # conservation
