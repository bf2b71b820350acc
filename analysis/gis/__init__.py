"""GIS export of a run folder: vector layers (GeoPackage, GeoJSON, FlatGeobuf) and GeoTIFFs.

Reads the run folder only. Layers and fields: docs/gis.md. Importing this package loads
neither geopandas nor rasterio; they load when an export runs.
"""

from analysis.gis.export import Export, check_run_folder, export_run

__all__ = ["Export", "check_run_folder", "export_run"]
