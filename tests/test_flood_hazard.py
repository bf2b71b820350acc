"""The flood hazard behind the hazard interface: spec, effects on roads and people, output.

Expected values follow from the interface contract (sim/hazards/base.py), the curves of
docs/references.md §2 and the depth the hazard itself reports (``value_at``), never from a
recorded run.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim._errors import ScenarioError
from sim.hazards.base import PeopleView
from sim.hazards.flood import curves as fc
from sim.hazards.flood.hazard import FloodHazard, FloodSpec, flood_specs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_net(small_district, cache):
    from sim.network import load_map

    return load_map(small_district / "small.osm.bz2", cache_dir=cache)


def _spec(base_dir, **kw):
    return FloodSpec.model_validate({"kind": "flood", **kw}, context={"base_dir": base_dir})


def _view(x, y, *, state=None, indoors=None, drive_link=None, walk_link=None, persons=None):
    n = len(x)
    return PeopleView(
        x_m=np.asarray(x, float), y_m=np.asarray(y, float),
        persons=np.full(n, 3, np.int32) if persons is None else persons,
        state=np.zeros(n, np.int8) if state is None else np.asarray(state, np.int8),
        indoors=np.ones(n, bool) if indoors is None else np.asarray(indoors, bool),
        has_car=np.ones(n, bool),
        drive_link=np.full(n, -1, np.int32) if drive_link is None else drive_link,
        walk_link=np.full(n, -1, np.int32) if walk_link is None else walk_link)


@pytest.fixture(scope="module")
def flooded(small_district, small_net):
    """Inflow at the node nearest the centre of the small district; 40 min of updates."""
    net = small_net
    nodes = np.unique(net.drive.from_node)
    cx, cy = np.median(net.nodes.x_m[nodes]), np.median(net.nodes.y_m[nodes])
    k = nodes[np.argmin(np.hypot(net.nodes.x_m[nodes] - cx, net.nodes.y_m[nodes] - cy))]
    spec = _spec(small_district, dem="small.dem.asc", inflows=[{
        "name": "burst main", "x_m": float(net.nodes.x_m[k]), "y_m": float(net.nodes.y_m[k]),
        "hydrograph": [[0.0, 150.0], [60.0, 150.0]]}], snapshot_min=5.0,
        home_stranding_depth_m=0.15)
    hz = FloodHazard.from_spec(spec)
    hz.bind(net, rng=np.random.default_rng(0))
    # Households: one at every drive node, at home and not warned.
    x, y = net.nodes.x_m[nodes], net.nodes.y_m[nodes]
    updates = [hz.update(t, _view(x, y)) for t in np.arange(0.0, 40 * 60.0 + 1, 60.0)]
    return hz, updates, nodes


def test_spec_errors_name_the_field(tmp_path):
    (tmp_path / "N42E001.hgt").write_bytes(np.zeros((11, 11), ">i2").tobytes())
    base = {"kind": "flood", "dem": "N42E001.hgt",
            "inflows": [{"lon": 1.5, "lat": 42.5, "hydrograph": [[0.0, 1.0], [10.0, -5.0]]}]}
    with pytest.raises(ScenarioError, match=r"s\.toml: hazards\[0\]\.inflows\[0\]\."
                                            r"hydrograph\[1\]: expected a flow >= 0 m3/s, "
                                            r"got -5\.0"):
        flood_specs({"hazards": [base]}, source="s.toml", base_dir=tmp_path)
    bad = {**base, "inflows": []}
    with pytest.raises(ScenarioError, match="inflows: expected at least one inflow"):
        flood_specs({"hazards": [bad]}, source="s.toml", base_dir=tmp_path)
    bad = {"kind": "flood", "source": "hydrographs", "inflows": base["inflows"][:0]}
    with pytest.raises(ScenarioError, match=r"hazards\[0\]\.dem: expected a DEM file"):
        flood_specs({"hazards": [bad]}, source="s.toml", base_dir=tmp_path)
    with pytest.raises(ScenarioError, match=r"hazards\[0\]\.dem: expected an existing file"):
        flood_specs({"hazards": [{**base, "dem": "missing.hgt"}]}, source="s.toml",
                    base_dir=tmp_path)


def test_the_flash_flood_scenario_file_validates():
    path = REPO / "scenarios" / "flash-flood.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    (spec,) = flood_specs(data, source=str(path), base_dir=path.parent)
    assert spec.dem.name == "default-district.dem.asc" and len(spec.inflows) == 5
    assert spec.vehicle_close_depth_m == 0.3 and spec.walk_close_hr_class == "significant"


def test_closed_roads_stand_in_deep_water(flooded, small_net):
    hz, updates, _ = flooded
    net = small_net
    drive = next(u.drive_factor for u in reversed(updates) if u.drive_factor is not None)
    assert drive.shape == (net.drive.n_links,) and drive.min() >= 0 and drive.max() <= 1
    closed = np.flatnonzero(drive == 0)
    assert closed.size > 0 and closed.size < net.drive.n_links / 2
    # Every closed link has a point (dense, 2 m apart) in water of >= 0.3 m
    # (docs/references.md 2.1).
    fx, fy = net.nodes.x_m[net.drive.from_node], net.nodes.y_m[net.drive.from_node]
    tx, ty = net.nodes.x_m[net.drive.to_node], net.nodes.y_m[net.drive.to_node]
    t = hz._prev_t if hasattr(hz, "_prev_t") else 0.0
    for link in closed:
        n = int(np.hypot(tx[link] - fx[link], ty[link] - fy[link]) // 2) + 2
        s = np.linspace(0, 1, n)
        px = fx[link] + s * (tx[link] - fx[link])
        d = hz.value_at(t, px, fy[link] + s * (ty[link] - fy[link]))
        assert d.max() >= 0.3
    # Links with both ends in >= 0.3 m of water are closed, but for tagged bridges, whose
    # deck stands at least bridge_clearance_m above the ground (test_bridge_decks_...).
    ends = np.minimum(hz.value_at(t, fx, fy), hz.value_at(t, tx, ty))
    road = ~net.drive_bridge
    assert np.all(drive[(ends >= 0.3) & road] == 0)
    # Open links: the factor is the Pregnolato speed at the deepest sample over the
    # free-flow speed, capped at 1 -> a link whose end is in 0.1-0.3 m water is slowed
    # at least as much as that end's depth says.
    end = np.maximum(hz.value_at(t, fx, fy), hz.value_at(t, tx, ty))
    shallow = (end > 0.05) & (end < 0.3) & (drive > 0) & road
    cap = np.minimum(1.0, fc.vehicle_speed_kmh(end * 1000.0) / (net.drive.ffs_mps * 3.6))
    assert np.all(drive[shallow] <= cap[shallow] + 1e-12)


def test_people_at_home_in_deep_water_are_stranded_once(flooded, small_net):
    hz, updates, nodes = flooded
    net = small_net
    stranded = np.concatenate([u.stranded for u in updates if u.stranded is not None])
    assert stranded.size == np.unique(stranded).size > 0  # each household once
    depth_now = hz.value_at(0, net.nodes.x_m[nodes], net.nodes.y_m[nodes])
    # Whoever stands in >= the threshold now was stranded.
    assert set(np.flatnonzero(depth_now >= hz.spec.home_stranding_depth_m)) <= set(stranded)
    # Incidents carry the persons of the stranded households (3 each), at drive nodes.
    incidents = [i for u in updates for i in u.incidents]
    assert sum(i.persons for i in incidents) == 3 * stranded.size
    assert all(i.kind == "stranded" and i.hazard == "flood" and 1 <= i.severity <= 4
               for i in incidents)
    assert {i.node for i in incidents} <= set(np.unique(net.drive.from_node)) | set(
        np.unique(net.drive.to_node))
    ts = hz.tables()["timeseries"]
    assert ts["persons_stranded_cum"].iloc[-1] == 3 * stranded.size
    assert np.all(np.diff(ts["persons_stranded_cum"]) >= 0)


def test_who_is_caught_and_who_is_not(flooded, small_net):
    hz = copy.deepcopy(flooded[0])  # the module's hazard stays as the fixture left it
    net = small_net
    drive = hz._prev_drive
    closed, open_wet = np.flatnonzero(drive == 0), np.flatnonzero((drive > 0) & (drive < 1))
    deep = np.flatnonzero(hz.value_at(0, net.nodes.x_m, net.nodes.y_m) >= 0.15)
    x, y = net.nodes.x_m[deep[:3]], net.nodes.y_m[deep[:3]]
    # 0, 1: sheltered / travelling in a deep place (not "at home"): not stranded by home
    # water; 2: on a closed road -> stranded; 3: on a slowed road -> drove through water.
    view = _view(np.r_[x[:2], 0.0, 0.0], np.r_[y[:2], 0.0, 0.0], state=[4, 3, 3, 3],
                 indoors=[True, False, False, False],
                 drive_link=np.array([-1, -1, closed[0], open_wet[0] if open_wet.size else -1],
                                     np.int32))
    hz._hh_stranded = None  # a fresh population of four households
    upd = hz.update(41 * 60.0, view)
    assert upd.stranded.tolist() == [2]
    if open_wet.size:
        assert hz.tables()["exposure"]["household"].tolist() == [3]


def test_outputs_for_the_run_folder(flooded, small_net):
    hz, _, _ = flooded
    tables, arrays = hz.tables(), hz.arrays()
    assert set(tables) == {"timeseries", "links", "stranded", "exposure"}
    ts = tables["timeseries"]
    assert len(ts) == 41 and ts["t_s"].iloc[-1] == 2400.0
    # Volume bookkeeping of the scheme: inflow - outflow = water on the grid (0.1 %).
    last = ts.iloc[-1]
    assert last["inflow_m3"] == pytest.approx(150.0 * 2400, rel=1e-12)
    assert abs(last["inflow_m3"] - last["outflow_m3"] - last["volume_m3"]) <= 1e-3 * last[
        "inflow_m3"]
    links = tables["links"]
    assert len(links) == small_net.drive.n_links
    assert np.all(np.isnan(links["first_closed_s"]) == (links["peak_depth_m"] < 0.3))
    ny, nx = arrays["peak_depth_m"].shape
    assert arrays["elevation_m"].shape == (ny, nx)
    assert arrays["snapshots_depth_m"].shape[0] == len(arrays["snapshot_t_s"]) == 9  # 0..40/5
    assert arrays["snapshot_drive_closed"].shape == (9, small_net.drive.n_links)
    assert sum(a.nbytes for a in arrays.values()) < 40e6
    # The peak is kept every scheme step, the series and snapshots only every 60 s / 5 min:
    # the peak bounds every sample, cell by cell, and the sampled maximum is one of them.
    peak = arrays["peak_depth_m"]
    assert np.all(peak >= arrays["snapshots_depth_m"].max(axis=0))
    assert float(peak.max()) >= float(ts["max_depth_m"].max()) > 0.0


def _write_depth_tif(path, values, x_left, y_top, cell, epsg):
    import tifffile

    keys = [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, epsg]
    tifffile.imwrite(path, np.asarray(values, np.float32), extratags=[
        (33550, "d", 3, (cell, cell, 0.0), False),
        (33922, "d", 6, (0.0, 0.0, 0.0, x_left, y_top, 0.0), False),
        (34735, "H", len(keys), keys, False)])


def test_depth_rasters_are_interpolated_in_time(tmp_path, small_net):
    net = small_net
    epsg = int(net.crs.split(":")[1])
    x0, x1 = net.nodes.x_m.min() - 500, net.nodes.x_m.max() + 500
    y0, y1 = net.nodes.y_m.min() - 500, net.nodes.y_m.max() + 500
    cell = 50.0
    nx, ny = int((x1 - x0) // cell), int((y1 - y0) // cell)
    dry = np.zeros((ny, nx))
    band = dry.copy()
    band[:, nx // 2 - 4: nx // 2 + 4] = 1.0  # a 400 m wide N-S band of 1 m water
    _write_depth_tif(tmp_path / "d0.tif", dry, x0, y1, cell, epsg)
    _write_depth_tif(tmp_path / "d1.tif", band, x0, y1, cell, epsg)
    spec = _spec(tmp_path, source="rasters", rasters=[{"t_min": 0.0, "path": "d0.tif"},
                                                      {"t_min": 10.0, "path": "d1.tif"}])
    hz = FloodHazard.from_spec(spec)
    hz.bind(net, rng=np.random.default_rng(0))
    xm = x0 + (nx // 2) * cell
    view = _view([xm], [0.5 * (y0 + y1)])
    hz.update(0.0, view)
    upd = hz.update(300.0, view)  # halfway: 0.5 m
    assert hz.value_at(300.0, [xm], [0.5 * (y0 + y1)])[0] == pytest.approx(0.5)
    fx = net.nodes.x_m[net.drive.from_node]
    tx = net.nodes.x_m[net.drive.to_node]
    inside = (np.minimum(fx, tx) > xm - 150) & (np.maximum(fx, tx) < xm + 150)
    assert inside.any() and np.all(upd.drive_factor[inside] == 0.0)
    far = (np.maximum(fx, tx) < xm - 600) | (np.minimum(fx, tx) > xm + 600)
    assert np.all(upd.drive_factor[far] == 1.0)
    # Walkers: d = 0.5 m, v = 0.5 m/s (assumed), DF = 1 (urban) -> HR 1.5, significant.
    wf = net.nodes.x_m[net.walk.from_node]
    wt = net.nodes.x_m[net.walk.to_node]
    w_in = (np.minimum(wf, wt) > xm - 150) & (np.maximum(wf, wt) < xm + 150)
    assert np.all(upd.walk_factor[w_in] == 0.0)
    assert upd.stranded.tolist() == [0]  # at home in 0.5 m >= home_stranding_depth_m


def test_raster_off_the_map_is_refused(tmp_path, small_net):
    epsg = int(small_net.crs.split(":")[1])
    _write_depth_tif(tmp_path / "far.tif", np.ones((10, 10)), 100_000.0, 1_000_000.0, 30.0, epsg)
    spec = _spec(tmp_path, source="rasters", rasters=[{"t_min": 0.0, "path": "far.tif"}])
    with pytest.raises(ScenarioError, match=r"far\.tif: .*rasters\[0\]: expected a raster "
                                            "overlapping the map"):
        FloodHazard.from_spec(spec).bind(small_net, rng=np.random.default_rng(0))


def test_dem_full_of_voids_is_refused(tmp_path, small_district, small_net):
    text = (small_district / "small.dem.asc").read_text().splitlines()
    header = text[:6]
    rows = [" ".join(["-9999"] * len(line.split())) for line in text[6:]]
    (tmp_path / "void.asc").write_text("\n".join(header + rows) + "\n")
    (tmp_path / "void.prj").write_text((small_district / "small.dem.prj").read_text())
    node = int(small_net.drive.from_node[0])
    spec = _spec(tmp_path, dem="void.asc", inflows=[{
        "x_m": float(small_net.nodes.x_m[node]), "y_m": float(small_net.nodes.y_m[node]),
        "hydrograph": [[0.0, 1.0], [5.0, 1.0]]}])
    with pytest.raises(ScenarioError, match=r"void\.asc: .*dem: expected elevations over the "
                                            r"map .*100% void"):
        FloodHazard.from_spec(spec).bind(small_net, rng=np.random.default_rng(0))


def test_inflow_off_the_grid_is_refused(small_district, small_net):
    spec = _spec(small_district, dem="small.dem.asc", inflows=[{
        "name": "far away", "lon": 10.0, "lat": 10.0, "hydrograph": [[0.0, 1.0], [5.0, 1.0]]}])
    with pytest.raises(ScenarioError, match=r"inflows\[0\] \(far away\): expected a point on "
                                            "the DEM grid"):
        FloodHazard.from_spec(spec).bind(small_net, rng=np.random.default_rng(0))


@pytest.mark.realdata
def test_valira_flood_fills_the_valley_floor_not_the_slopes(shared_data, cache):
    """A 300 m3/s inflow on the Valira at Escaldes (SRTM 3" DEM, Andorra OSM extract)."""
    from scipy import ndimage

    from sim.network import load_map

    net = load_map(shared_data / "andorra.osm.pbf", cache_dir=cache)
    spec = _spec(shared_data, dem="N42E001.hgt.zip", inflows=[{
        "name": "Valira at Escaldes", "lon": 1.5333, "lat": 42.5100,  # on the OSM river line
        "hydrograph": [[0.0, 300.0], [120.0, 300.0]]}])
    hz = FloodHazard.from_spec(spec)
    hz.bind(net, rng=np.random.default_rng(0))
    z, grid = hz.z, hz.grid
    src = hz.inflows.row[0] * grid.nx + hz.inflows.col[0]
    z_src = z.ravel()[src]
    nobody = _view([0.0], [0.0], state=[4])
    early = None  # mask of the first >= 20 flooded cells
    for t in np.arange(0.0, 120 * 60.0 + 1, 300.0):
        upd = hz.update(t, nobody)
        if early is None and (hz.state.h > 0.1).sum() >= 20:
            early = hz.state.h > 0.1
    wet = hz.state.h > 0.1
    # Water runs downhill from the river cell: nothing flooded stands higher than the
    # highest water level at the source.
    assert wet.sum() > 50 and z[wet].max() <= z_src + hz.state.peak.ravel()[src]
    # The valley floor floods, first and last: height above the lowest cell within
    # +-5 cells (~400 m) is a few metres where water stands, 100+ m on the slopes.
    above_floor = z - ndimage.minimum_filter(z, size=11)
    assert np.median(above_floor[early]) < 15.0 and np.median(above_floor[wet]) < 15.0
    assert np.median(above_floor) > 100.0
    # Roads: the lowest point of every closed link is on the valley floor near the river's
    # level; links whose lowest point is 50 m above it (the slopes) all stay open.
    d = net.drive
    fx, fy = net.nodes.x_m[d.from_node], net.nodes.y_m[d.from_node]
    tx, ty = net.nodes.x_m[d.to_node], net.nodes.y_m[d.to_node]
    s = np.linspace(0.0, 1.0, 21)[:, None]
    cells = grid.cell_of(fx + s * (tx - fx), fy + s * (ty - fy))
    low = np.where(cells >= 0, z.ravel()[np.maximum(cells, 0)], np.inf).min(axis=0)
    drive = hz._prev_drive
    closed = drive == 0
    assert closed.sum() >= 20
    assert np.all(low[closed] <= z_src + hz.state.peak.ravel()[src])
    assert not closed[low > z_src + 50.0].any()
    assert np.median(low[closed]) < np.percentile(low[np.isfinite(low)], 25)
    assert upd is not None


# --------------------------------------------------------------------------- in the model
@pytest.fixture(scope="module")
def flood_run(small_district, small_net, cache, tmp_path_factory):
    """The small district evacuating while a 150 m3/s inflow floods its centre for 1 h."""
    from sim import results, runs
    from sim.model import EvacuationModel

    net = small_net
    nodes = np.unique(net.drive.from_node)
    cx, cy = np.median(net.nodes.x_m[nodes]), np.median(net.nodes.y_m[nodes])
    k = nodes[np.argmin(np.hypot(net.nodes.x_m[nodes] - cx, net.nodes.y_m[nodes] - cy))]
    spec = _spec(small_district, dem="small.dem.asc", home_stranding_depth_m=0.15, inflows=[{
        "x_m": float(net.nodes.x_m[k]), "y_m": float(net.nodes.y_m[k]),
        "hydrograph": [[0.0, 150.0], [60.0, 150.0]]}])
    hz = FloodHazard.from_spec(spec)
    m = EvacuationModel(scenario_path=small_district / "small.toml", seed=2, cache_dir=cache,
                        network=net, hazards=[hz])
    m.run()
    out = runs.write_run(tmp_path_factory.mktemp("flood") / "run", manifest=results.manifest(m),
                         tables=results.tables(m), figures=False, extra=results.extra(m))
    return m, hz, out


def test_model_applies_closures_and_strandings(flood_run):
    m, hz, out = flood_run
    assert any(e.kind == "closures" for e in m.events)
    stranded = hz.tables()["stranded"]
    assert len(stranded) > 0 and stranded["household"].is_unique
    assert np.all(m.stranded[stranded["household"].to_numpy()])
    assert sum(i.persons for i in m.incidents if i.hazard == "flood") == stranded["persons"].sum()


def test_flood_metrics_and_figures_from_the_run_folder(flood_run, tmp_path, drawn):
    import pandas as pd
    from PIL import Image

    from analysis.flood import animate_flood, flood_metrics, plot_flood_peak

    m, hz, out = flood_run
    met = flood_metrics(out)
    ts = pd.read_csv(out / "hazard" / "flood_timeseries.csv")
    assert met["peak_flooded_area_km2"] == pytest.approx(ts["flooded_area_m2"].max() / 1e6)
    inc = pd.read_csv(out / "hazard" / "incidents.csv")
    assert met["persons_stranded"] == inc["persons"].sum() > 0
    assert sum(met["persons_stranded_by_cause"].values()) == met["persons_stranded"]
    links = pd.read_csv(out / "hazard" / "flood_links.csv")
    assert met["drive_links_ever_closed"] == links["first_closed_s"].notna().sum() > 0
    from sim.i18n import t

    plot_flood_peak(out, tmp_path / "peak.png")
    fig = drawn["peak.png"]
    ax = fig.axes[0]
    peak = np.load(out / "hazard" / "flood.npz")["peak_depth_m"]
    water = ax.get_images()[-1]
    np.testing.assert_array_equal(water.get_array().filled(0.0) > 0, peak >= 0.01)
    # The colour bar covers the deepest water, or says with an arrow that it runs past.
    bar = fig.axes[1]
    top = water.get_clim()[1]
    assert top >= float(peak.max()) or water.colorbar.extend in ("max", "both")
    assert bar.get_ylabel() == t("flood.depth", "en")
    assert ax.get_xlabel() == t("mapstyle.x_km", "en")
    gif = animate_flood(out, tmp_path / "flood.gif")
    with Image.open(gif) as im:
        assert im.n_frames == len(np.load(out / "hazard" / "flood.npz")["snapshot_t_s"])
        assert im.size[0] >= 700  # large enough to read roads and people
    assert len(drawn) >= 1


def test_missing_flood_output_is_a_run_folder_error(tmp_path):
    from analysis.flood import flood_metrics
    from sim._errors import RunFolderError

    with pytest.raises(RunFolderError, match="flood_timeseries.csv: missing"):
        flood_metrics(tmp_path)


@pytest.mark.slow
def test_flash_flood_scenario_through_load_scenario():
    from sim.model import EvacuationModel
    from sim.scenario import load_scenario

    sc = load_scenario(REPO / "scenarios" / "flash-flood.toml",
                       overrides={"time.horizon_h": 1.5})
    m = EvacuationModel(scenario=sc)
    assert [h.kind for h in m.hazards] == ["flood"]
    m.run()
    # By 1.5 h the gullies have run for an hour (rising to 80 m3/s each at 90 min).
    assert (m.drive_speed_factor == 0).any()
    assert any(i.hazard == "flood" for i in m.incidents)


def test_bridge_decks_from_terrain_and_from_tags():
    from sim.hazards.flood.hazard import _deck_height

    # Three links, 1 m samples on a flat 100 m plain: link 0 crosses a 30 m wide, 6 m deep
    # channel (narrower than a 200 m span, deeper than the 4 m clearance: a bridge found
    # in the terrain, deck at the plain's height: lift 6 m over the channel); link 1 a
    # 3 m deep gully (a ford: no deck); link 2 the same gully but tagged bridge=yes (a
    # deck on the line between its ends, at least 4 m above the ground: 4 m on the plain,
    # 100 - 97 = 3 < 4 -> 4 m over the gully too).
    n = 101
    plain = np.full(n, 100.0)
    channel, gully = plain.copy(), plain.copy()
    channel[35:65] = 94.0
    gully[45:55] = 97.0
    z = np.concatenate([channel, gully, gully])[None, :]
    cells = np.arange(3 * n)
    ptr = np.array([0, n, 2 * n, 3 * n])
    lift = _deck_height(z, cells, ptr, 1.0, 200.0, 4.0)
    np.testing.assert_allclose(lift[:n], np.where(channel < 100.0, 6.0, 0.0))
    assert not lift[n:].any()
    tagged = _deck_height(z, cells, ptr, 1.0, 200.0, 4.0, tagged=np.array([False, False, True]))
    np.testing.assert_array_equal(tagged[: 2 * n], lift[: 2 * n])
    np.testing.assert_allclose(tagged[2 * n:], 4.0)
    # No span (inference off): only the tagged link has a deck.
    off = _deck_height(z, cells, ptr, 1.0, 0.0, 4.0, tagged=np.array([False, False, True]))
    assert not off[: 2 * n].any() and np.all(off[2 * n:] == 4.0)
