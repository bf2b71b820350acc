#!/usr/bin/env python3
"""Generate the FICTIONAL default district: an OSM XML map, a zone table and a DEM.

"Shanqian District" (山前区) is invented: a mid-size industrial district at the foot of a
mountain range, placed near 38.98 N, 106.38 E only so that UTM projection, latitude and
terrain are plausible. Nothing in it describes the real place at those coordinates.

Run from the repository root::

    python maps/generate_district.py --population 300000 --seed 1 --out maps/ \
        --name default-district

writes ``<name>.osm.bz2`` (OSM XML 0.6), ``<name>.zones.csv`` (``zone,population,kind``),
``<name>.dem.asc`` (ESRI ASCII grid, WGS84, 1 arc-second) and ``<name>.dem.prj``.
Same arguments give byte-identical files. See maps/README.md for the tag conventions.

Geometry is built in local metres (x east, y north, origin at the city centre) and
converted to WGS84 with an equirectangular approximation about (LAT0, LON0), which is
exact to well under a metre over the ~20 km extent.

This file is the entry point: arguments, files, the scenario copy. The district itself is
laid out by the sibling package ``maps/district/``, one module per concept (projection,
names, OSM writer, street grid, terrain, places, roads, zones, DEM; see its docstring).
"""

from __future__ import annotations

import argparse
import bz2
import sys
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
# The generator's modules live in the sibling package maps/district/. maps/ is no installed
# package, and tests and benchmarks load this file by path (importlib), which, unlike
# running it as a script, does not put maps/ on sys.path; so put it there, first, before
# importing. Inside the package, modules import each other relatively.
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from district.dem import WGS84_PRJ, dem_ascii  # noqa: E402
from district.grid import BLOCK_M  # noqa: E402
from district.layout import build_district  # noqa: E402
from district.osm import osm_xml  # noqa: E402
from district.projection import lonlat  # noqa: E402

MIN_POPULATION = 10_000
MAX_POPULATION = 1_000_000


def _check_args(population: int, seed: int, name: str) -> None:
    if isinstance(population, bool) or not isinstance(population, int | np.integer):
        raise ValueError(f"--population: expected an integer, got {population!r}")
    if not MIN_POPULATION <= population <= MAX_POPULATION:
        raise ValueError(
            f"--population: expected {MIN_POPULATION:,} to {MAX_POPULATION:,} people, "
            f"got {population:,}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"--seed: expected a non-negative integer, got {seed!r}")
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(
            f"--name: expected a plain file stem like 'default-district', got {name!r}")


def generate(population: int, seed: int, out_dir: Path, name: str) -> dict:
    """Write the fictional district's map, zone table and DEM into ``out_dir``.

    Parameters
    ----------
    population : int
        Residents, 10,000 (a small town) to 1,000,000 (a city). The built-up area scales
        at ~100 persons per hectare of residential land.
    seed : int
        Seed for ``numpy.random.default_rng``; non-negative. Same arguments -> same bytes.
    out_dir : Path
        Folder to write into (created if missing).
    name : str
        File stem, e.g. ``"default-district"``.

    Returns
    -------
    dict
        Paths written and a summary (counts, areas, zone populations, bbox in WGS84
        degrees as (west, south, east, north)).

    Raises
    ------
    ValueError
        On a population outside [10,000, 1,000,000], a negative seed or a bad name.
    """
    _check_args(population, seed, name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    d = build_district(int(population), np.random.default_rng(int(seed)))

    osm_path = out_dir / f"{name}.osm.bz2"
    osm_path.write_bytes(bz2.compress(osm_xml(d.osm), 9))  # bz2 has no timestamp
    zones_path = out_dir / f"{name}.zones.csv"
    rows = ["zone,population,kind"] + [f"{z},{p},{k}" for z, p, k in d.zone_rows]
    zones_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dem_text, dem_info = dem_ascii(d, d.bbox_m)
    dem_path = out_dir / f"{name}.dem.asc"
    dem_path.write_text(dem_text, encoding="ascii")
    prj_path = out_dir / f"{name}.dem.prj"
    prj_path.write_text(WGS84_PRJ + "\n", encoding="ascii")

    xs = np.array([n[0] for n in d.osm.nodes])
    ys = np.array([n[1] for n in d.osm.nodes])
    lon, lat = lonlat(xs, ys)
    summary = dict(d.summary)
    summary.update(
        osm=osm_path, zones_csv=zones_path, dem=dem_path, dem_prj=prj_path,
        n_nodes=len(d.osm.nodes), n_ways=len(d.osm.ways), dem_grid=dem_info,
        bbox_lonlat=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())),
        zones={z: p for z, p, _ in d.zone_rows}, block_m=BLOCK_M,
    )
    return summary


def write_scenario(out_dir: Path, name: str) -> Path:
    """Write ``<name>.toml``: the default scenario pointed at the generated ``<name>`` map.

    The copy keeps every setting of ``scenarios/default.toml`` and changes only the map,
    the zone table and the scenario name, so a generated district runs with
    ``evacsim run <out_dir>/<name>.toml``.
    """
    template = _HERE.parent / "scenarios" / "default.toml"
    text = template.read_text(encoding="utf-8")
    swaps = {
        '"../maps/default-district.osm.bz2"': f'"{name}.osm.bz2"',
        '"../maps/default-district.zones.csv"': f'"{name}.zones.csv"',
        'name = "default-district"': f'name = "{name}"',
    }
    for old, new in swaps.items():
        if old not in text:  # the template changed: fail loudly, not with a stale map
            raise ValueError(f"{template}: expected {old} in the default scenario")
        text = text.replace(old, new)
    path = Path(out_dir) / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python maps/generate_district.py --population N --seed S --out DIR``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--population", type=int, default=300_000,
                   help="residents, 10000..1000000 (default 300000)")
    p.add_argument("--seed", type=int, default=1, help="RNG seed, >= 0 (default 1)")
    p.add_argument("--out", type=Path, default=_HERE, help="output folder (default: maps/)")
    p.add_argument("--name", default="default-district", help="file stem")
    p.add_argument("--scenario", action="store_true",
                   help="also write <name>.toml, the default scenario on this map")
    a = p.parse_args(argv)
    try:
        s = generate(a.population, a.seed, a.out, a.name)
        if a.scenario:
            s["scenario"] = write_scenario(a.out, a.name)
    except ValueError as exc:
        p.error(str(exc))  # exits with status 2 and the message
    for key in ("osm", "zones_csv", "dem", "scenario"):
        if key in s:
            print(f"wrote {s[key]} ({s[key].stat().st_size:,} bytes)")
    print(f"{s['n_nodes']:,} nodes, {s['n_ways']:,} ways; residential "
          f"{s['residential_ha']:.0f} ha -> {s['density_per_ha']:.0f} persons/ha; "
          f"shelter area {s['shelter_ha']:.1f} ha")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
