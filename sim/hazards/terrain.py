"""Elevation and depth rasters in, a regular grid in the map's projected CRS out.

Readers: SRTM ``.hgt`` (plain or zipped), ESRI ASCII grids (``.asc``, CRS from a sibling
``.prj``) and GeoTIFF (``.tif``/``.tiff``, read with :mod:`tifffile`; georeferencing from
the GeoTIFF tags, no rotation). Every reader returns a :class:`Raster`; :func:`grid_over`
and :func:`resample` put it on a :class:`Grid` of square cells in the map's CRS (pyproj
for the coordinates, scipy for bilinear interpolation).

Every problem (unreadable file, no overlap with the map, voids everywhere) is a
:class:`~sim._errors.ScenarioError` naming the file and the scenario field.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim._errors import ScenarioError

# SRTM void marker (NASA SRTM v2/v3 documentation: "voids are flagged with -32768").
SRTM_VOID = -32768
# Largest share of void cells a DEM may have over the map before it is refused (assumption:
# filling more than half of the terrain by nearest neighbour would invent the terrain).
MAX_VOID_FRACTION = 0.5
# Largest flood grid (cells): ~0.4 GB of float64 state, far beyond a district at 30 m.
MAX_CELLS = 20_000_000
_GEO_WKT = re.compile(r"^\s*GEOGCS\[", re.IGNORECASE)


@dataclass(frozen=True)
class Raster:
    """A north-up raster in its own CRS.

    Attributes
    ----------
    values : float64[rows, cols]
        Row 0 is the northernmost row; voids / no-data are NaN.
    x0, y0 : float
        Centre of the top-left cell (column 0, row 0), raster CRS units (x = easting or
        longitude, y = northing or latitude).
    dx, dy : float
        Cell size along x (columns go east) and y (rows go south), both > 0.
    crs : str
        Anything :class:`pyproj.CRS` accepts (``"EPSG:4326"``, WKT).
    source : str
        The file it came from.
    """

    values: np.ndarray
    x0: float
    y0: float
    dx: float
    dy: float
    crs: str
    source: str

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.values.shape

    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the cell edges, raster CRS units."""
        rows, cols = self.values.shape
        return (self.x0 - self.dx / 2, self.y0 - (rows - 0.5) * self.dy,
                self.x0 + (cols - 0.5) * self.dx, self.y0 + self.dy / 2)


@dataclass(frozen=True)
class Grid:
    """Square cells in a projected CRS; row 0 is the southernmost row.

    Attributes
    ----------
    x0_m, y0_m : float
        Lower-left (south-west) corner of cell (0, 0), metres.
    cell_m : float
        Cell side, metres.
    nx, ny : int
        Columns (east) and rows (north).
    crs : str
        Projected CRS of the map (``RoadNetwork.crs``).
    """

    x0_m: float
    y0_m: float
    cell_m: float
    nx: int
    ny: int
    crs: str

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates, each float64[ny, nx], metres."""
        xs = self.x0_m + (np.arange(self.nx) + 0.5) * self.cell_m
        ys = self.y0_m + (np.arange(self.ny) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)

    def cell_of(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Flat cell index (``row * nx + col``) of each point; -1 outside the grid."""
        col = np.floor((np.asarray(x_m, float) - self.x0_m) / self.cell_m)
        row = np.floor((np.asarray(y_m, float) - self.y0_m) / self.cell_m)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        flat = np.where(inside, row * self.nx + col, -1.0)
        return flat.astype(np.int64)


# --------------------------------------------------------------------------- readers
def read_raster(path: str | Path, *, field: str = "dem", crs: str | None = None) -> Raster:
    """Read a DEM or depth raster by file ending.

    Parameters
    ----------
    path
        ``.hgt``, ``.hgt.zip`` (or a ``.zip`` holding one ``.hgt``), ``.asc`` or
        ``.tif``/``.tiff``.
    field
        Scenario field named in error messages.
    crs
        CRS of the raster when the file does not say (``.asc`` without ``.prj``,
        GeoTIFF without an EPSG code); ``.hgt`` is always WGS84 degrees.

    Raises
    ------
    ScenarioError
        Unknown ending, unreadable or malformed file, unknown CRS.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".hgt") or name.endswith(".zip"):
        return read_hgt(path, field=field)
    if name.endswith(".asc"):
        return read_asc(path, field=field, crs=crs)
    if name.endswith(".tif") or name.endswith(".tiff"):
        return read_geotiff(path, field=field, crs=crs)
    raise ScenarioError(f"{path}: {field}: expected a raster file ending in .hgt, .hgt.zip, "
                        f".asc, .tif or .tiff, got {path.suffix!r}")


def read_hgt(path: str | Path, *, field: str = "dem") -> Raster:
    """Read an SRTM tile (``N42E001.hgt``, optionally inside a ``.zip``).

    The tile name gives the south-west corner; the file holds n × n big-endian int16
    heights in metres (n = 1201 for 3 arc-seconds, 3601 for 1 arc-second), rows from north
    to south, cell centres on whole degrees at the edges; -32768 marks a void.
    """
    path = Path(path)
    try:
        if path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".hgt")]
                if len(names) != 1:
                    raise ScenarioError(f"{path}: {field}: expected one .hgt file in the zip "
                                        f"archive, got {names!r}")
                data, tile = zf.read(names[0]), Path(names[0]).name
        else:
            data, tile = path.read_bytes(), path.name
    except (OSError, zipfile.BadZipFile) as exc:
        raise ScenarioError(f"{path}: {field}: expected a readable SRTM file, got {exc}") from None
    m = re.match(r"^([NS])(\d{2})([EW])(\d{3})", tile, re.IGNORECASE)
    if m is None:
        raise ScenarioError(f"{path}: {field}: expected an SRTM tile name like N42E001.hgt, "
                            f"got {tile!r}")
    lat = int(m.group(2)) * (1 if m.group(1).upper() == "N" else -1)
    lon = int(m.group(4)) * (1 if m.group(3).upper() == "E" else -1)
    n = math.isqrt(len(data) // 2)
    if n < 2 or n * n * 2 != len(data):
        raise ScenarioError(f"{path}: {field}: expected n x n 16-bit heights (1201^2 or "
                            f"3601^2), got {len(data)} bytes")
    z = np.frombuffer(data, dtype=">i2").reshape(n, n).astype(np.float64)
    z[z == SRTM_VOID] = np.nan
    step = 1.0 / (n - 1)
    return Raster(z, float(lon), float(lat + 1), step, step, "EPSG:4326", str(path))


def read_asc(path: str | Path, *, field: str = "dem", crs: str | None = None) -> Raster:
    """Read an ESRI ASCII grid; the CRS comes from ``<stem>.prj`` or ``crs``.

    Without either, a grid whose extent lies within ±180° × ±90° is taken as WGS84
    degrees (what SRTM-derived ``.asc`` files are); anything else is an error.
    """
    path = Path(path)
    header: dict[str, float] = {}
    try:
        with open(path, encoding="ascii") as fh:
            for _ in range(6):
                pos = fh.tell()
                line = fh.readline()
                parts = line.split()
                if len(parts) != 2 or not parts[0][0].isalpha():
                    fh.seek(pos)
                    break
                header[parts[0].lower()] = float(parts[1])
            values = np.loadtxt(fh, dtype=np.float64, ndmin=2)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: {field}: expected an ESRI ASCII grid, got {exc}") from None
    need = {"ncols", "nrows", "cellsize"}
    if not need <= header.keys() or not ({"xllcorner", "xllcenter"} & header.keys()):
        raise ScenarioError(f"{path}: {field}: expected header keys ncols, nrows, "
                            f"xllcorner|xllcenter, yllcorner|yllcenter, cellsize, got "
                            f"{sorted(header)}")
    rows, cols, cs = int(header["nrows"]), int(header["ncols"]), header["cellsize"]
    if values.shape != (rows, cols) or cs <= 0:
        raise ScenarioError(f"{path}: {field}: expected {rows} x {cols} values and cellsize > 0, "
                            f"got {values.shape[0]} x {values.shape[1]}, cellsize {cs}")
    if "nodata_value" in header:
        values[values == header["nodata_value"]] = np.nan
    half = 0.0 if "xllcenter" in header else cs / 2
    x0 = header.get("xllcenter", header.get("xllcorner", 0.0)) + half
    y_ll = header.get("yllcenter", header.get("yllcorner", 0.0)) + half
    y0 = y_ll + (rows - 1) * cs
    prj = path.with_suffix(".prj")
    if crs is None and prj.is_file():
        wkt = prj.read_text(encoding="utf-8", errors="replace")
        crs = "EPSG:4326" if _GEO_WKT.match(wkt) and "WGS" in wkt.upper() else wkt
    if crs is None:
        if -180 <= x0 and x0 + cols * cs <= 180 and -90 <= y_ll and y0 <= 90:
            crs = "EPSG:4326"
        else:
            raise ScenarioError(f"{path}: {field}: expected a .prj file next to the grid (or a "
                                "geographic extent), got neither; add the .prj")
    return Raster(values, float(x0), float(y0), cs, cs, _check_crs(crs, path, field),
                  str(path))


def read_geotiff(path: str | Path, *, field: str = "dem", crs: str | None = None) -> Raster:
    """Read band 1 of a north-up GeoTIFF (tie point + pixel scale, EPSG code in GeoKeys).

    Notes
    -----
    Tags used (GeoTIFF 1.0 spec): ModelPixelScale (33550), ModelTiepoint (33922),
    GeoKeyDirectory (34735: GTRasterTypeGeoKey 1025, GeographicTypeGeoKey 2048,
    ProjectedCSTypeGeoKey 3072) and GDAL_NODATA (42113). Rotated rasters
    (ModelTransformation with shear) are refused.
    """
    import tifffile

    path = Path(path)
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            tags = {t.code: t.value for t in page.tags}
            values = page.asarray()
    except Exception as exc:  # tifffile raises many types for a bad file
        raise ScenarioError(f"{path}: {field}: expected a readable GeoTIFF, got "
                            f"{type(exc).__name__}: {exc}") from None
    if values.ndim == 3:
        values = values[..., 0] if values.shape[-1] <= 4 else values[0]
    values = np.asarray(values, dtype=np.float64)
    if 33550 in tags and 33922 in tags:
        sx, sy = float(tags[33550][0]), float(tags[33550][1])
        ti, tj, _, tx, ty, _ = (float(v) for v in tags[33922][:6])
        if sx <= 0 or sy <= 0:
            raise ScenarioError(f"{path}: {field}: expected positive pixel scales, got "
                                f"{sx}, {sy}")
    elif 34264 in tags:
        mt = [float(v) for v in tags[34264]]
        if mt[1] != 0 or mt[4] != 0 or mt[0] <= 0 or mt[5] >= 0:
            raise ScenarioError(f"{path}: {field}: expected a north-up GeoTIFF, got a rotated "
                                "or flipped model transformation")
        sx, sy, ti, tj, tx, ty = mt[0], -mt[5], 0.0, 0.0, mt[3], mt[7]
    else:
        raise ScenarioError(f"{path}: {field}: expected GeoTIFF georeferencing tags "
                            "(ModelPixelScale + ModelTiepoint), got a plain TIFF")
    keys = _geokeys(tags.get(34735))
    # GTRasterTypeGeoKey: 1 = PixelIsArea (tie point at the cell corner), 2 = PixelIsPoint.
    corner = keys.get(1025, 1) != 2
    x0 = tx - ti * sx + (sx / 2 if corner else 0.0)
    y0 = ty + tj * sy - (sy / 2 if corner else 0.0)
    if 42113 in tags:
        try:
            nodata = float(str(tags[42113]).strip("\x00 "))
            values[values == nodata] = np.nan
        except ValueError:
            pass
    if crs is None:
        code = keys.get(3072) or keys.get(2048)
        if code is None or code == 32767:
            raise ScenarioError(f"{path}: {field}: expected an EPSG code in the GeoTIFF keys, "
                                "got none (user-defined CRS); give the CRS in the scenario")
        crs = f"EPSG:{int(code)}"
    return Raster(values, x0, y0, sx, sy, _check_crs(crs, path, field), str(path))


def _geokeys(directory) -> dict[int, int]:
    """Short-valued keys of a GeoKeyDirectory (header of 4, then 4 numbers per key)."""
    out: dict[int, int] = {}
    if directory is None:
        return out
    d = [int(v) for v in directory]
    for k in range(d[3] if len(d) >= 4 else 0):
        key, loc, _, val = d[4 + 4 * k: 8 + 4 * k]
        if loc == 0:
            out[key] = val
    return out


def _check_crs(crs: str, path: Path, field: str) -> str:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError as exc:
        raise ScenarioError(f"{path}: {field}: expected a known CRS, got {crs!r} ({exc})") from None
    return crs


# --------------------------------------------------------------------------- gridding
def _transformer(src: str, dst: str):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def native_cell_m(raster: Raster, crs: str) -> float:
    """The raster's resolution in metres of ``crs`` at its centre: max(dx_m, dy_m).

    A square cell no finer than the data in either direction (1 arc-second at 39° N is
    24 m east-west × 31 m north-south → 31 m), so the grid invents no detail.
    """
    rows, cols = raster.shape
    xc = raster.x0 + (cols // 2) * raster.dx
    yc = raster.y0 - (rows // 2) * raster.dy
    fx, fy = _transformer(raster.crs, crs).transform(
        np.array([xc, xc + raster.dx, xc]), np.array([yc, yc, yc - raster.dy])
    )
    dx_m = math.hypot(fx[1] - fx[0], fy[1] - fy[0])
    dy_m = math.hypot(fx[2] - fx[0], fy[2] - fy[0])
    return max(dx_m, dy_m)


def grid_over(raster: Raster, crs: str, bbox_m: tuple[float, float, float, float],
              cell_m: float, *, field: str = "dem") -> Grid:
    """The grid of ``cell_m`` cells over ``bbox_m`` cropped to where the raster has cells.

    Parameters
    ----------
    raster
        The DEM (or first depth raster).
    crs
        Projected CRS of the map.
    bbox_m
        (xmin, ymin, xmax, ymax), metres in ``crs``: the map's extent plus a margin.
    cell_m
        Cell side, metres (> 0).
    field
        Scenario field named in error messages.

    Raises
    ------
    ScenarioError
        If the raster does not overlap ``bbox_m``.
    """
    xmin, ymin, xmax, ymax = bbox_m
    nx = max(1, math.ceil((xmax - xmin) / cell_m))
    ny = max(1, math.ceil((ymax - ymin) / cell_m))
    if nx * ny > MAX_CELLS:
        raise ScenarioError(f"{raster.source}: {field}: expected a grid of at most "
                            f"{MAX_CELLS:,} cells, got {nx:,} x {ny:,} at {cell_m:g} m; "
                            "use a larger cell_m or a smaller map")
    full = Grid(float(xmin), float(ymin), float(cell_m), nx, ny, crs)
    inside = _inside(raster, full)
    if not inside.any():
        w, s, e, n = raster.bounds()
        raise ScenarioError(
            f"{raster.source}: {field}: expected a raster overlapping the map "
            f"(x {xmin:.0f}..{xmax:.0f}, y {ymin:.0f}..{ymax:.0f} m in {crs}), got one covering "
            f"x {w:.4f}..{e:.4f}, y {s:.4f}..{n:.4f} in {raster.crs[:40]}")
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    return Grid(full.x0_m + cols[0] * cell_m, full.y0_m + rows[0] * cell_m, float(cell_m),
                int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1), crs)


def _fractional_index(raster: Raster, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of each grid-cell centre in the raster's index space (floats)."""
    xs, ys = grid.centres()
    rx, ry = _transformer(grid.crs, raster.crs).transform(xs, ys)
    return (raster.y0 - np.asarray(ry)) / raster.dy, (np.asarray(rx) - raster.x0) / raster.dx


def _inside(raster: Raster, grid: Grid) -> np.ndarray:
    """Grid cells whose centre lies within the hull of the raster's cell centres.

    Cropping the grid to these (rather than to the outer cell edges) keeps every edge
    row and column interpolated, not a copy of its neighbour, so slopes at the grid edge
    are real ones.
    """
    r, c = _fractional_index(raster, grid)
    rows, cols = raster.shape
    return (r >= 0) & (r <= rows - 1) & (c >= 0) & (c <= cols - 1)


def resample(raster: Raster, grid: Grid, *, voids: str = "fill",
             field: str = "dem") -> np.ndarray:
    """Bilinear values of ``raster`` at the grid's cell centres, float64[ny, nx].

    Parameters
    ----------
    raster, grid
        Source raster and target grid (row 0 of the result is the grid's south row).
    voids : {"fill", "zero"}
        ``"fill"`` (a DEM): voids and cells outside the raster take the nearest valid
        value; more than :data:`MAX_VOID_FRACTION` of them is an error. ``"zero"`` (a
        depth raster): voids and outside cells are dry (0).
    field
        Scenario field named in error messages.

    Raises
    ------
    ScenarioError
        No valid value over the grid, or too many voids (``voids="fill"``).
    """
    from scipy import ndimage

    r, c = _fractional_index(raster, grid)
    rows, cols = raster.shape
    inside = (r >= -0.5) & (r <= rows - 0.5) & (c >= -0.5) & (c <= cols - 0.5)
    coords = np.stack([np.clip(r, 0, rows - 1), np.clip(c, 0, cols - 1)])
    out = ndimage.map_coordinates(raster.values, coords, order=1, mode="nearest")
    # A void corrupts its bilinear neighbours (NaN); use the nearest raster cell there.
    near = ndimage.map_coordinates(raster.values, coords, order=0, mode="nearest")
    out = np.where(np.isnan(out), near, out)
    out[~inside] = np.nan
    bad = np.isnan(out)
    if voids == "zero":
        out[bad] = 0.0
        return out
    frac = float(bad.mean())
    if frac == 1.0 or frac > MAX_VOID_FRACTION:
        raise ScenarioError(
            f"{raster.source}: {field}: expected elevations over the map (at most "
            f"{MAX_VOID_FRACTION:.0%} voids), got {frac:.0%} void or no-data cells")
    if frac > 0:
        idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
        out = out[tuple(idx)]
    return out
