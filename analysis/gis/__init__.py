"""GIS export of a run folder: vector layers (GeoPackage, GeoJSON, FlatGeobuf) and GeoTIFFs.

Reads the run folder only. Layers and fields: docs/gis.md. Importing this package loads
nothing heavy (names load on first use); geopandas and rasterio load when an export runs.
"""

__all__ = ["Export", "check_run_folder", "export_run"]


def __getattr__(name: str):  # PEP 562: `evacsim --help` registers the command cheaply
    if name in __all__:
        from analysis.gis import export

        return getattr(export, name)
    raise AttributeError(f"module 'analysis.gis' has no attribute {name!r}")
