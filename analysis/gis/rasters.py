"""Hazard grids of a run folder as GeoTIFF rasters and as polygons.

Every grid a hazard writes (``hazard/flood.npz``, ``hazard/chemical.npz``,
``hazard/earthquake.npz``) is a regular grid of square cells in the map's projected CRS
with row 0 to the **south** and its south-west corner at ``(x0, y0)``. A GeoTIFF is stored
north-up, so rows are flipped and the transform is anchored at the north-west corner
``(x0, y0 + rows * cell)``. Only run-folder files are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from sim._errors import RunFolderError

# Flood depth classes drawn as polygons, m. 0.01 m: the flood hazard's default wet depth
# (scenarios/README.md, [[hazards]] wet_depth_m); 0.3 m: vehicles stop, Pregnolato et al.
# (2017), docs/references.md §2.1 (the default vehicle_close_depth_m). The run's own
# scenario values replace them when its manifest holds the flood spec.
WET_DEPTH_M = 0.01
VEHICLE_CLOSE_DEPTH_M = 0.3


class Grid(NamedTuple):
    """One hazard grid: values[row, col] with row 0 south, cells of ``cell_m`` metres."""

    name: str
    values: np.ndarray
    x0_m: float
    y0_m: float
    cell_m: float
    unit: str


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise RunFolderError(f"{path}: expected a numpy .npz archive, got {err}") from None


def _need(arrays: dict, keys: tuple[str, ...], path: Path) -> None:
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise RunFolderError(f"{path}: missing arrays {missing}; expected {list(keys)}")


def hazard_grids(run_dir: str | Path) -> list[Grid]:
    """The peak hazard grids a run holds, in a fixed order (flood, chemical, earthquake).

    Parameters
    ----------
    run_dir : str or Path
        The run folder.

    Returns
    -------
    list of Grid
        ``flood_peak_depth`` (m, the deepest water each cell saw), ``chemical_peak_ppm``
        (ppm, the highest outdoor concentration), ``earthquake_pga`` (g, this run's
        realisation); only those whose file exists.
    """
    hz = Path(run_dir) / "hazard"
    out: list[Grid] = []
    path = hz / "flood.npz"
    if path.is_file():
        a = _load(path)
        _need(a, ("peak_depth_m", "grid_x0_m", "grid_y0_m", "cell_m"), path)
        out.append(Grid("flood_peak_depth", np.asarray(a["peak_depth_m"], np.float32),
                        float(a["grid_x0_m"]), float(a["grid_y0_m"]), float(a["cell_m"]), "m"))
    path = hz / "chemical.npz"
    if path.is_file():
        a = _load(path)
        _need(a, ("max_ppm", "grid_x0_m", "grid_y0_m", "grid_cell_m"), path)
        out.append(Grid("chemical_peak_ppm", np.asarray(a["max_ppm"], np.float32),
                        float(a["grid_x0_m"]), float(a["grid_y0_m"]),
                        float(a["grid_cell_m"]), "ppm"))
    path = hz / "earthquake.npz"
    if path.is_file():
        a = _load(path)
        if "pga_g" in a:  # empty before the earthquake struck
            _need(a, ("pga_g", "x0_m", "y0_m", "cell_m"), path)
            out.append(Grid("earthquake_pga", np.asarray(a["pga_g"], np.float32),
                            float(a["x0_m"]), float(a["y0_m"]), float(a["cell_m"]), "g"))
    return out


def chemical_levels(run_dir: str | Path) -> tuple[Grid, np.ndarray] | None:
    """The chemical threat-zone grid (0 none, 1..3 above AEGL-1..3) and the AEGL ppm."""
    path = Path(run_dir) / "hazard" / "chemical.npz"
    if not path.is_file():
        return None
    a = _load(path)
    _need(a, ("level", "aegl_ppm", "grid_x0_m", "grid_y0_m", "grid_cell_m"), path)
    grid = Grid("chemical_level", np.asarray(a["level"], np.int16), float(a["grid_x0_m"]),
                float(a["grid_y0_m"]), float(a["grid_cell_m"]), "")
    return grid, np.asarray(a["aegl_ppm"], np.float64)


def transform_of(grid: Grid):
    """Affine transform (north-up) of a grid: pixel (col, row) -> map metres."""
    from affine import Affine

    # Built directly: rasterio's from_origin composes with ``*``, which affine >= 3.1
    # deprecates (a warning, an error in the suite).
    rows = grid.values.shape[0]
    return Affine(grid.cell_m, 0.0, grid.x0_m, 0.0, -grid.cell_m, grid.y0_m + rows * grid.cell_m)


def write_geotiff(grid: Grid, path: str | Path, *, epsg: int) -> Path:
    """Write one grid as a single-band float32 GeoTIFF (north-up, deflate-compressed).

    Parameters
    ----------
    grid : Grid
        Values with row 0 to the south (as the run stores them).
    path : str or Path
        File to write.
    epsg : int
        EPSG code of the map's projected CRS (e.g. 32648, UTM 48N); set in the file.

    Returns
    -------
    Path
    """
    import rasterio

    values = np.flipud(np.asarray(grid.values, np.float32))
    profile = {"driver": "GTiff", "height": values.shape[0], "width": values.shape[1],
               "count": 1, "dtype": "float32", "crs": rasterio.crs.CRS.from_epsg(epsg),
               "transform": transform_of(grid), "compress": "deflate"}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
        dst.update_tags(1, unit=grid.unit, name=grid.name)
    return Path(path)


def class_polygons(grid: Grid, thresholds: list[float]) -> list[tuple[int, object]]:
    """Polygons of the cells at or above each threshold (nested: class k holds class k+1).

    Parameters
    ----------
    grid : Grid
        Values with row 0 to the south.
    thresholds : list of float
        Ascending thresholds in the grid's unit.

    Returns
    -------
    list of (int, shapely geometry)
        ``(k, multipolygon)`` for each threshold ``k`` that some cell reaches, in map
        metres; cell edges are kept exactly (no smoothing).
    """
    import shapely
    from rasterio.features import shapes

    values = np.flipud(np.asarray(grid.values, np.float64))
    transform = transform_of(grid)
    out = []
    for k, level in enumerate(thresholds):
        mask = np.isfinite(values) & (values >= level)
        if not mask.any():
            continue
        polys = [shapely.geometry.shape(geom) for geom, v in
                 shapes(mask.astype(np.uint8), mask=mask, transform=transform) if v == 1]
        out.append((k, shapely.union_all(polys)))
    return out
