"""`evacsim export`: a run folder as GIS layers and GeoTIFFs, read back and checked.

Every expected value comes from the run folder's own CSVs and arrays (conservation: the
export must neither lose nor invent a feature, a person or a vehicle) or from the grid
geometry (cell areas, the cell of the peak).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.tables import FORMAT_VERSION
from sim._errors import RunFolderError
from tests.test_flood_hazard import flood_run, small_net  # noqa: F401 - fixtures reused

REPO = Path(__file__).resolve().parents[1]

gpd = pytest.importorskip("geopandas")
rasterio = pytest.importorskip("rasterio")


@pytest.fixture(scope="module")
def run_dir(flood_run):  # noqa: F811 - the imported fixture
    return flood_run[2]


@pytest.fixture(scope="module")
def gpkg(run_dir, tmp_path_factory):
    from analysis.gis import export_run

    out = tmp_path_factory.mktemp("gis") / "district.gpkg"
    res = export_run(run_dir, out)
    return out, res


def _csv(run_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run_dir / name)


def test_layers_read_back_with_the_runs_counts_and_sums(run_dir, gpkg):
    import pyogrio

    out, res = gpkg
    names = {n for n, _ in pyogrio.list_layers(out)}
    assert {"links", "shelters", "zones", "households_grid", "incidents", "flood_extent"} <= names
    crs = json.loads((run_dir / "manifest.json").read_text())["map"]["crs"]

    links = gpd.read_file(out, layer="links")
    csv = _csv(run_dir, "links.csv.gz")
    assert links.crs == crs and links.crs.to_epsg() == int(crs.split(":")[1])
    assert len(links) == len(csv) == res.layers["links"]
    for col in ("peak_count", "exits", "storage", "length_m"):
        assert links[col].sum() == pytest.approx(csv[col].sum(), rel=1e-12)
    # Geometry is the CSV's end points, in map metres.
    first = links.geometry.iloc[0].coords
    assert first[0] == pytest.approx((csv["x0_m"][0], csv["y0_m"][0]))
    assert first[-1] == pytest.approx((csv["x1_m"][0], csv["y1_m"][0]))
    # Closures joined from hazard/flood_links.csv onto the drive links only.
    fl = _csv(run_dir, "hazard/flood_links.csv")
    drive = links[links["network"] == "drive"]
    assert drive["flood_closed_from_s"].notna().sum() == fl["first_closed_s"].notna().sum() > 0
    assert drive["flood_closed_s"].sum() == pytest.approx(fl["closed_s"].sum())
    assert links.loc[links["network"] == "walk", "flood_peak_depth_m"].isna().all()

    shelters = gpd.read_file(out, layer="shelters")
    sh = _csv(run_dir, "shelters.csv")
    assert len(shelters) == len(sh)
    for col in ("capacity", "occupancy", "turned_away", "overflow"):
        assert shelters[col].sum() == sh[col].sum()
    assert np.allclose(shelters.geometry.x, sh["x_m"])
    assert np.allclose(shelters.geometry.y, sh["y_m"])

    hh = _csv(run_dir, "households.csv.gz")
    grid = gpd.read_file(out, layer="households_grid")
    assert grid["persons"].sum() == hh["persons"].sum()
    assert grid["households"].sum() == len(hh)
    statuses = [c for c in ("sheltered", "en_route", "waiting", "not_warned", "warned",
                            "staying", "stranded", "dead")]
    assert (grid[statuses].sum(axis=1) == grid["persons"]).all()
    living = hh["persons"] - hh["dead"]
    assert grid["stranded"].sum() == living[hh["status"] == "stranded"].sum() > 0
    assert grid.geometry.area.round(6).eq(250.0 ** 2).all()

    zones = gpd.read_file(out, layer="zones")
    assert sorted(zones["zone"]) == sorted(hh["zone"].unique())
    assert zones["persons"].sum() == hh["persons"].sum()
    by_zone = hh.groupby("zone")["persons"].sum()
    assert dict(zip(zones["zone"], zones["persons"], strict=True)) == by_zone.to_dict()
    # Every home lies inside its zone's polygon.
    for z in zones.itertuples():
        homes = hh[hh["zone"] == z.zone]
        assert gpd.points_from_xy(homes["x_m"], homes["y_m"]).within(z.geometry).all()

    incidents = gpd.read_file(out, layer="incidents")
    inc = _csv(run_dir, "hazard/incidents.csv")
    assert len(incidents) == len(inc) > 0 and incidents["persons"].sum() == inc["persons"].sum()


def test_zone_ete_is_the_ete_of_the_zones_households_alone(run_dir, gpkg):
    """Reference: persons-weighted arrival time reaching pct % of the zone's evacuees."""
    out, _ = gpkg
    zones = gpd.read_file(out, layer="zones").set_index("zone")
    hh = _csv(run_dir, "households.csv.gz")
    for zone, sub in hh.groupby("zone"):
        dep = sub[sub["t_depart_s"].notna()]
        total = dep["persons"].sum()
        arr = dep.assign(t=dep["t_arrive_s"].fillna(np.inf)).sort_values("t", kind="stable")
        cum = arr["persons"].cumsum().to_numpy()
        for pct in (50, 90, 100):
            k = int(np.argmax(cum * 100 >= pct * total)) if (cum * 100 >= pct * total).any() else -1
            want = arr["t"].iloc[k] if k >= 0 and np.isfinite(arr["t"].iloc[k]) else np.nan
            got = zones.loc[zone, f"ete{pct}_s"]
            assert (np.isnan(want) and np.isnan(got)) or got == pytest.approx(want)


def test_flood_raster_puts_the_peak_on_the_runs_cell(run_dir, gpkg):
    out, res = gpkg
    assert "flood_peak_depth" in res.rasters
    z = np.load(run_dir / "hazard" / "flood.npz")
    peak = z["peak_depth_m"]
    r, c = np.unravel_index(np.argmax(peak), peak.shape)  # row 0 = south in the run
    cell, x0, y0 = float(z["cell_m"]), float(z["grid_x0_m"]), float(z["grid_y0_m"])
    x, y = x0 + (c + 0.5) * cell, y0 + (r + 0.5) * cell  # centre of the peak cell
    tif = out.with_name(f"{out.stem}-flood_peak_depth.tif")
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 32648
        assert src.res == pytest.approx((cell, cell))
        band = src.read(1)
        row, col = src.index(x, y)
        assert band[row, col] == pytest.approx(float(peak.max()))
        assert band.max() == pytest.approx(float(peak.max()))
        assert band.sum() == pytest.approx(float(peak.sum()), rel=1e-6)
        # The grid's south-west corner is the raster's lower-left corner.
        assert (src.bounds.left, src.bounds.bottom) == pytest.approx((x0, y0))
    # Flood extent: the polygons cover exactly the cells at or above the wet depth.
    ext = gpd.read_file(out, layer="flood_extent").set_index("class")
    wet = (peak >= ext.loc["wet", "min_depth_m"]).sum()
    assert ext.loc["wet", "geometry"].area == pytest.approx(wet * cell * cell)
    stop = (peak >= ext.loc["vehicles_stop", "min_depth_m"]).sum()
    assert ext.loc["vehicles_stop", "geometry"].area == pytest.approx(stop * cell * cell)


def test_chemical_threat_zones_become_nested_polygons(run_dir, tmp_path):
    """A hand-made level grid: zone k covers the cells at level >= k."""
    from analysis.gis import export_run

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    level = np.zeros((6, 8), np.int8)
    level[1:5, 1:7] = 1
    level[2:4, 2:5] = 2
    level[2, 3] = 3
    np.savez(run / "hazard" / "chemical.npz", level=level, aegl_ppm=np.array([0.5, 2.0, 20.0]),
             max_ppm=level.astype(np.float32), grid_x0_m=np.float64(615000.0),
             grid_y0_m=np.float64(4310000.0), grid_cell_m=np.float64(50.0))
    res = export_run(run, tmp_path / "x.gpkg")
    zones = gpd.read_file(tmp_path / "x.gpkg", layer="chemical_zones").set_index("zone")
    assert res.layers["chemical_zones"] == 3
    for k, cells in ((1, 24), (2, 6), (3, 1)):
        assert zones.loc[f"aegl{k}", "geometry"].area == pytest.approx(cells * 2500.0)
    # Row 2 (from the south) col 3: the AEGL-3 cell's centre.
    assert zones.loc["aegl3", "geometry"].centroid.coords[0] == pytest.approx(
        (615000.0 + 3.5 * 50, 4310000.0 + 2.5 * 50))


def test_geojson_is_one_file_per_layer_in_the_maps_crs(run_dir, tmp_path):
    from analysis.gis import export_run

    res = export_run(run_dir, tmp_path / "d.geojson")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "d-links.geojson" in names and "d-shelters.geojson" in names
    assert "d-flood_peak_depth.tif" in names
    assert not any(n.startswith(".") for n in names)  # no temporary folder left
    links = gpd.read_file(tmp_path / "d-links.geojson")
    assert links.crs.to_epsg() == 32648 and len(links) == res.layers["links"]


def test_refuses_overwrite_failed_and_foreign_folders(run_dir, tmp_path):
    from analysis.gis import export_run

    out = tmp_path / "a.gpkg"
    export_run(run_dir, out)
    before = out.stat().st_mtime_ns
    with pytest.raises(RunFolderError, match="exists already.*--force"):
        export_run(run_dir, out)
    assert out.stat().st_mtime_ns == before
    export_run(run_dir, out, force=True)
    with pytest.raises(RunFolderError, match=r"\.gpkg, \.geojson or \.fgb"):
        export_run(run_dir, tmp_path / "a.shp")

    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    man = json.loads((old / "manifest.json").read_text())
    man["format_version"] = 1
    (old / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(RunFolderError, match=f"format_version: expected {FORMAT_VERSION}, got 1"):
        export_run(old, tmp_path / "b.gpkg")

    failed = tmp_path / "failed"
    shutil.copytree(run_dir, failed)
    (failed / "metrics.json").unlink()
    with pytest.raises(RunFolderError, match="missing metrics.json"):
        export_run(failed, tmp_path / "c.gpkg")
    edited = tmp_path / "edited"
    shutil.copytree(run_dir, edited)
    with open(edited / "shelters.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    with pytest.raises(RunFolderError, match="shelters.csv: expected the sha256"):
        export_run(edited, tmp_path / "d.gpkg")
    assert not list(tmp_path.glob("[bcd].gpkg")) and not list(tmp_path.glob(".*"))

    # Through the CLI: one line on stderr, exit status 2.
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "export", str(failed), "-o",
                           str(tmp_path / "e.gpkg")], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "missing metrics.json" in proc.stderr


def test_area_metrics_and_link_delay_join(run_dir, tmp_path):
    """Per-area metrics and link loads over time (issue 15 parts 1-2) join the layers.

    The zones layer carries metrics.json's ``areas.by_zone`` values; each drive link's
    delay is its queued vehicles × sample step (left rectangles, the run folder's
    definition in docs/report.md), in hours, computed here from the npz by hand.
    """
    from analysis.gis import export_run

    export_run(run_dir, tmp_path / "x.gpkg")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    by_zone = metrics["areas"]["by_zone"]
    z = gpd.read_file(tmp_path / "x.gpkg", layer="zones").set_index("zone")
    for name, area in by_zone.items():
        assert z.loc[name, "areas_by_zone_persons"] == area["persons"]
        t90 = area["ete"]["90"]["t_s"]
        got = z.loc[name, "areas_by_zone_ete_90_t_s"]
        assert (got is None or pd.isna(got)) if t90 is None else got == t90
    with np.load(run_dir / "traffic" / "link_loads.npz") as a:
        t, queue = a["t_s"], a["queue"].astype(float)
    by_hand = sum((t[k + 1] - t[k]) * queue[k] for k in range(len(t) - 1)) / 3600.0
    links = gpd.read_file(tmp_path / "x.gpkg", layer="links")
    drive = links[links["network"] == "drive"].set_index("link").sort_index()
    np.testing.assert_allclose(drive["delay_veh_h"].to_numpy(), by_hand[drive.index],
                               rtol=1e-12)
    assert drive["delay_veh_h"].sum() > 0
    assert links.loc[links["network"] == "walk", "delay_veh_h"].isna().all()
