"""``evacsim export``: a run folder as GIS layers (argparse wiring only)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``evacsim export`` on the top-level sub-parsers."""
    p = sub.add_parser(
        "export",
        help="export a run folder as GIS layers (.gpkg, .geojson, .fgb) and GeoTIFF rasters",
        description="Vector layers (links, shelters, zones, households grid, incidents, "
        "hazard polygons) in the map's CRS, plus hazard rasters as GeoTIFF beside them. "
        ".geojson and .fgb hold one layer per file: OUT-<layer>.<ext>. See docs/gis.md.",
    )
    p.add_argument("run", type=Path, help="run folder written by `evacsim run`")
    p.add_argument("-o", "--out", type=Path, required=True,
                   help="output file: .gpkg, .geojson or .fgb")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--cell-m", type=float, default=None,
                   help="cell side of the households grid, m (default 250)")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from analysis.gis.export import export_run
    from sim.i18n import t

    if args.cell_m is not None and not (args.cell_m > 0 and args.cell_m < float("inf")):
        from sim._errors import RunFolderError

        raise RunFolderError(f"--cell-m: expected a positive number of metres, got {args.cell_m}")
    res = export_run(args.run, args.out, force=args.force, cell_m=args.cell_m, lang=args.lang)
    lang = args.lang
    print(t("gis.written", lang, n_layers=len(res.layers), n_rasters=len(res.rasters)))
    for name, count in res.layers.items():
        print(t("gis.layer", lang, name=name, count=count))
    if res.skipped:
        print(t("gis.skipped", lang, names=", ".join(res.skipped)))
    for path in res.files:
        print(t("gis.file", lang, path=path))
    return 0
