"""DEM and depth-raster readers and the regridding onto the map's projected grid."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from sim._errors import ScenarioError
from sim.hazards import terrain

REPO_DEM = terrain.Path(__file__).resolve().parents[1] / "maps" / "default-district.dem.asc"


def _write_hgt(path, n=11, void_at=None):
    """An SRTM-format tile: n x n big-endian int16, value = 100 * row + col (metres)."""
    z = (100 * np.arange(n)[:, None] + np.arange(n)[None, :]).astype(">i2")
    if void_at is not None:
        z[void_at] = terrain.SRTM_VOID
    path.write_bytes(z.tobytes())
    return z


def test_hgt_plain_and_zipped(tmp_path):
    z = _write_hgt(tmp_path / "N42E001.hgt", void_at=(3, 4))
    with zipfile.ZipFile(tmp_path / "N42E001.hgt.zip", "w") as zf:
        zf.write(tmp_path / "N42E001.hgt", "N42E001.hgt")
    for name in ("N42E001.hgt", "N42E001.hgt.zip"):
        r = terrain.read_raster(tmp_path / name)
        assert r.crs == "EPSG:4326" and r.shape == (11, 11)
        # SRTM: first row is the north edge (43 N), cell centres on whole degrees.
        assert (r.x0, r.y0, r.dx, r.dy) == (1.0, 43.0, 0.1, 0.1)
        assert r.values[0, 0] == 0 and r.values[10, 7] == 1007
        assert np.isnan(r.values[3, 4])
        assert np.nansum(r.values) == z.astype(float).sum() - z[3, 4]


def test_hgt_southern_western_tile_name(tmp_path):
    _write_hgt(tmp_path / "S10W075.hgt")
    r = terrain.read_raster(tmp_path / "S10W075.hgt")
    assert (r.x0, r.y0) == (-75.0, -9.0)


def test_real_srtm_tile(shared_data):
    r = terrain.read_raster(shared_data / "N42E001.hgt.zip")
    assert r.shape == (1201, 1201)  # 3 arc-second tile (data/README.md)
    assert r.dx == pytest.approx(1 / 1200)
    # Pyrenees around Andorra: valleys near 400-1000 m, peaks below 3,400 m (Aneto 3,404 m).
    assert 0 < np.nanmin(r.values) < 1000 and 2500 < np.nanmax(r.values) < 3405


def test_ascii_grid_of_the_default_district():
    r = terrain.read_raster(REPO_DEM)
    # maps/README.md: 693 x 532 cells, 1 arc-second, 1,082-3,003 m, WGS84 (.prj), no NODATA.
    assert r.shape == (532, 693) and r.crs == "EPSG:4326"
    assert r.dx == pytest.approx(1 / 3600, rel=1e-9)
    assert r.x0 == pytest.approx(106.2477777778 + r.dx / 2)
    assert 1080 < np.nanmin(r.values) < 1090 and 2990 < np.nanmax(r.values) < 3010
    assert not np.isnan(r.values).any()


def _write_geotiff(path, values, x_left, y_top, cell, epsg, nodata=None, projected=True):
    import tifffile

    keys = [1, 1, 0, 3,
            1024, 0, 1, 1 if projected else 2,  # GTModelTypeGeoKey
            1025, 0, 1, 1,  # GTRasterTypeGeoKey = PixelIsArea
            3072 if projected else 2048, 0, 1, epsg]
    tags = [(33550, "d", 3, (cell, cell, 0.0), False),
            (33922, "d", 6, (0.0, 0.0, 0.0, x_left, y_top, 0.0), False),
            (34735, "H", len(keys), keys, False)]
    if nodata is not None:
        tags.append((42113, "s", 0, str(nodata), False))
    tifffile.imwrite(path, np.asarray(values, np.float32), extratags=tags)


def test_geotiff_roundtrip(tmp_path):
    v = np.arange(12, dtype=np.float32).reshape(3, 4)
    v[1, 1] = -9999
    _write_geotiff(tmp_path / "d.tif", v, 500_000.0, 4_300_000.0, 30.0, 32648, nodata=-9999)
    r = terrain.read_raster(tmp_path / "d.tif")
    assert r.crs == "EPSG:32648" and r.shape == (3, 4)
    assert (r.x0, r.y0, r.dx, r.dy) == (500_015.0, 4_299_985.0, 30.0, 30.0)
    assert np.isnan(r.values[1, 1]) and r.values[2, 3] == 11


def test_plane_is_regridded_exactly():
    # A plane in lon/lat is linear in the raster's index space, so bilinear resampling
    # returns the plane's value at each grid centre's (transformed) position.
    from pyproj import Transformer

    lon = 106.30 + np.arange(60) * 0.001
    lat = 38.95 - np.arange(50) * 0.001
    vals = 1000.0 + 200.0 * (lon[None, :] - 106.3) - 300.0 * (lat[:, None] - 38.9)
    r = terrain.Raster(vals, lon[0], lat[0], 0.001, 0.001, "EPSG:4326", "plane")
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    x0, y0 = tr.transform(106.31, 38.91)
    grid = terrain.grid_over(r, "EPSG:32648", (x0, y0, x0 + 3000, y0 + 2000), 50.0)
    out = terrain.resample(r, grid)
    gx, gy = grid.centres()
    glon, glat = tr.transform(gx, gy, direction="INVERSE")
    expect = 1000.0 + 200.0 * (glon - 106.3) - 300.0 * (glat - 38.9)
    assert out.shape == (grid.ny, grid.nx) == (40, 60)
    assert np.abs(out - expect).max() < 1e-6


def test_native_cell_of_one_arc_second_at_39_north():
    r = terrain.read_raster(REPO_DEM)
    # 1" of latitude ~ 30.85 m (meridian arc at 39 N); of longitude 30.9 * cos(39 deg) ~ 24 m:
    # the cell is the coarser of the two.
    cell = terrain.native_cell_m(r, "EPSG:32648")
    assert cell == pytest.approx(30.85, rel=0.005)


def test_raster_that_does_not_overlap_the_map_is_refused(tmp_path):
    _write_hgt(tmp_path / "N42E001.hgt")
    r = terrain.read_raster(tmp_path / "N42E001.hgt")
    with pytest.raises(ScenarioError, match=r"N42E001\.hgt: dem: expected a raster overlapping"):
        terrain.grid_over(r, "EPSG:32648", (600_000, 4_300_000, 610_000, 4_310_000), 30.0)


def test_dem_of_voids_is_refused(tmp_path):
    z = np.full((11, 11), terrain.SRTM_VOID, ">i2")
    z[0, 0] = 5
    (tmp_path / "N42E001.hgt").write_bytes(z.tobytes())
    r = terrain.read_raster(tmp_path / "N42E001.hgt")
    grid = terrain.Grid(*_utm31(1.2, 42.2), 1000.0, 20, 20, "EPSG:32631")
    with pytest.raises(ScenarioError, match=r"N42E001\.hgt: dem: .*void"):
        terrain.resample(r, grid)


def test_few_voids_are_filled_from_neighbours(tmp_path):
    _write_hgt(tmp_path / "N42E001.hgt", n=11, void_at=(5, 5))
    r = terrain.read_raster(tmp_path / "N42E001.hgt")
    grid = terrain.Grid(*_utm31(1.1, 42.1), 2000.0, 30, 30, "EPSG:32631")
    out = terrain.resample(r, grid)
    assert np.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1010


def _utm31(lon, lat):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True).transform(lon, lat)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("dem.xyz", b"1 2 3", "expected a raster file ending in"),
    ("N42E001.hgt", b"\x00" * 7, "expected n x n 16-bit heights"),
    ("dem.asc", b"ncols 2\nnrows 2\n1 2\n3 4\n", "expected header keys"),
    ("dem.tif", b"not a tiff", "expected a readable GeoTIFF"),
])
def test_unreadable_files_name_the_file_and_field(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ScenarioError, match=message) as exc:
        terrain.read_raster(tmp_path / name, field="hazards[0].dem")
    assert name in str(exc.value) and "hazards[0].dem" in str(exc.value)
