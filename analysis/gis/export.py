"""Export a run folder as GIS layers (GeoPackage, GeoJSON, FlatGeobuf) and GeoTIFF rasters.

Reads only the run folder. Output naming (``OUT`` = the ``-o`` path without its suffix):

- ``.gpkg``: one GeoPackage ``OUT.gpkg`` with every vector layer;
- ``.geojson`` / ``.fgb``: single-layer formats, so one file per layer,
  ``OUT-<layer>.geojson`` / ``OUT-<layer>.fgb``;
- rasters beside them in every case: ``OUT-<grid>.tif``.

Everything is written into a hidden temporary folder next to ``OUT`` and moved into place
at the end, so a failed export leaves nothing behind; existing files are replaced only
with ``force``. Layers and fields: docs/gis.md.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from analysis.metrics import _households, read_manifest
from sim._errors import RunFolderError
from sim.i18n import t

FORMATS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".fgb": "FlatGeobuf"}
"""Output suffix to OGR driver."""


@dataclass
class Export:
    """What :func:`export_run` wrote: the files and the features per layer."""

    files: list[Path] = field(default_factory=list)
    layers: dict[str, int] = field(default_factory=dict)
    rasters: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def check_run_folder(run_dir: str | Path, *, lang: str = "en") -> dict:
    """Check ``run_dir`` for export; return its manifest.

    As every reader does (:func:`analysis.runfolder.check_run_folder`: finished, complete,
    this format, checksums), and its map must name a CRS with an EPSG code.

    Raises
    ------
    RunFolderError
        A failed, unfinished, incomplete, modified or foreign run folder, or no map CRS.
    """
    from analysis.runfolder import check_run_folder as check_folder

    run_dir = Path(run_dir)
    manifest = check_folder(run_dir)
    crs = (manifest.get("map") or {}).get("crs")
    if not isinstance(crs, str) or epsg_of(crs) is None:
        raise RunFolderError(t("gis.no_crs", lang, path=run_dir / "manifest.json", crs=crs))
    return manifest


def epsg_of(crs: str) -> int | None:
    """EPSG code of a CRS string such as ``"EPSG:32648"`` (None if it has none).

    Examples
    --------
    >>> epsg_of("EPSG:32648")
    32648
    """
    m = re.fullmatch(r"\s*(?:EPSG|epsg):(\d+)\s*", crs)
    if m:
        return int(m.group(1))
    try:
        from pyproj import CRS

        return CRS.from_user_input(crs).to_epsg()
    except Exception:  # noqa: BLE001 - pyproj raises its own types; any failure = no code
        return None


def output_files(out: Path, layers: list[str], grids: list[str]) -> dict[str, Path]:
    """Target file of every layer (``layer:<name>``) and raster (``raster:<name>``)."""
    suffix = out.suffix.lower()
    stem = out.with_suffix("")
    files = {}
    if suffix == ".gpkg":
        files.update({f"layer:{n}": out for n in layers})
    else:
        files.update({f"layer:{n}": Path(f"{stem}-{n}{suffix}") for n in layers})
    files.update({f"raster:{g}": Path(f"{stem}-{g}.tif") for g in grids})
    return files


def build_layers(run_dir: Path, crs: str, *, cell_m: float) -> dict[str, object]:
    """Every vector layer the run holds, by layer name (see docs/gis.md), in file order."""
    from analysis.gis import layers as L
    from analysis.gis.rasters import (
        chemical_levels,
        class_polygons,
        hazard_grids,
    )

    hh = _households(run_dir)
    out: dict[str, object] = {
        "links": L.links_layer(run_dir, crs),
        "shelters": L.shelters_layer(run_dir, crs),
        "zones": L.zones_layer(run_dir, crs, hh=hh),
        "households_grid": L.households_grid_layer(run_dir, crs, cell_m=cell_m, hh=hh),
        "incidents": L.incidents_layer(run_dir, crs),
        **L.facility_layers(run_dir, crs),
        "earthquake_buildings": L.earthquake_buildings_layer(run_dir, crs),
    }
    import geopandas as gpd
    import pandas as pd

    flood = next((g for g in hazard_grids(run_dir) if g.name == "flood_peak_depth"), None)
    if flood is not None:
        wet, close = _flood_depths(run_dir)
        rows = [{"class": ("wet", "vehicles_stop")[k], "min_depth_m": (wet, close)[k],
                 "area_m2": geom.area, "geometry": geom}
                for k, geom in class_polygons(flood, [wet, close])]
        out["flood_extent"] = gpd.GeoDataFrame(pd.DataFrame(rows), crs=crs) if rows else None
    levels = chemical_levels(run_dir)
    if levels is not None:
        grid, aegl = levels
        rows = [{"zone": f"aegl{k + 1}", "aegl_ppm": float(aegl[k]), "area_m2": geom.area,
                 "geometry": geom} for k, geom in class_polygons(grid, [1, 2, 3])]
        out["chemical_zones"] = gpd.GeoDataFrame(pd.DataFrame(rows), crs=crs) if rows else None
    return out


def _flood_depths(run_dir: Path) -> tuple[float, float]:
    """Wet and vehicle-stop depths of the run's flood spec (manifest), else the defaults."""
    from analysis.gis.rasters import VEHICLE_CLOSE_DEPTH_M, WET_DEPTH_M

    manifest = read_manifest(run_dir)
    specs = ((manifest.get("scenario") or {}).get("spec") or {}).get("hazards") or []
    spec = next((h for h in specs if isinstance(h, dict) and h.get("kind") == "flood"), {})
    return (float(spec.get("wet_depth_m", WET_DEPTH_M)),
            float(spec.get("vehicle_close_depth_m", VEHICLE_CLOSE_DEPTH_M)))


def export_run(
    run_dir: str | Path,
    out: str | Path,
    *,
    force: bool = False,
    cell_m: float | None = None,
    lang: Literal["en", "zh"] = "en",
) -> Export:
    """Export a run folder's layers and hazard rasters for GIS.

    Parameters
    ----------
    run_dir : str or Path
        A complete run folder (see :func:`check_run_folder`).
    out : str or Path
        ``.gpkg`` (all layers in one file), ``.geojson`` or ``.fgb`` (one file per layer,
        ``<stem>-<layer><suffix>``). Rasters go to ``<stem>-<grid>.tif``.
    force : bool, default False
        Replace existing output files.
    cell_m : float, optional
        Cell side of the households grid, metres (default
        :data:`analysis.gis.layers.DEFAULT_CELL_M`).
    lang : {"en", "zh"}, default "en"
        Language of error messages.

    Returns
    -------
    Export
        Files written, features per layer, rasters, and layers skipped (nothing to show).

    Raises
    ------
    RunFolderError
        A failed or foreign run folder, an unknown suffix, or outputs that exist already
        (without ``force``), or a write failure (nothing is left behind).
    """
    from analysis.gis.layers import DEFAULT_CELL_M
    from analysis.gis.rasters import hazard_grids, write_geotiff

    run_dir, out = Path(run_dir), Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise RunFolderError(t("gis.bad_suffix", lang, path=out, got=out.suffix or "none"))
    manifest = check_run_folder(run_dir, lang=lang)
    crs = manifest["map"]["crs"]
    epsg = epsg_of(crs)
    crs = f"EPSG:{epsg}"
    layers = build_layers(run_dir, crs, cell_m=DEFAULT_CELL_M if cell_m is None else cell_m)
    result = Export(skipped=[n for n, g in layers.items() if g is not None and len(g) == 0])
    layers = {n: g for n, g in layers.items() if g is not None and len(g) > 0}
    grids = hazard_grids(run_dir)
    targets = output_files(out, list(layers), [g.name for g in grids])
    existing = sorted({str(p) for p in targets.values() if p.exists() or p.is_symlink()})
    if existing and not force:
        raise RunFolderError(t("gis.exists", lang, files=", ".join(existing)))
    parent = out.parent if str(out.parent) else Path(".")
    tmp = parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        for name, gdf in layers.items():
            target = targets[f"layer:{name}"]
            gdf.to_file(tmp / target.name, layer=name, driver=FORMATS[suffix],
                        engine="pyogrio")
            result.layers[name] = len(gdf)
        for grid in grids:
            write_geotiff(grid, tmp / targets[f"raster:{grid.name}"].name, epsg=epsg)
            result.rasters.append(grid.name)
        for target in dict.fromkeys(targets.values()):
            os.replace(tmp / target.name, target)
            result.files.append(target)
    except OSError as err:
        raise RunFolderError(t("gis.write_failed", lang, path=out, error=err)) from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result
