"""Maps in, one :class:`RoadNetwork` out, whatever the source.

Sources: OSM XML (``.osm``, ``.osm.bz2``, ``.xml``), ``.osm.pbf`` extracts, osmnx
GraphML (with a sibling ``<stem>.features.geojson``), our compiled ``.evacmap.npz``, and
:func:`fetch_place` for an OpenStreetMap download (the only function that uses the
internet). Compiled maps are cached by content (sha256 of the file bytes and the format
version), so a second load of the same file is a file read.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from sim._cache import resolve_cache_dir
from sim._errors import NetworkError
from sim.network import _osm, store
from sim.network.roadnet import Nodes, Places, RoadNetwork

__all__ = [
    "Nodes", "Places", "RoadNetwork", "fetch_place", "import_map", "load_map", "map_info",
]

_LOG = logging.getLogger(__name__)
_READERS = {".osm": _osm.read_xml, ".xml": _osm.read_xml, ".osm.bz2": _osm.read_xml,
            ".osm.pbf": _osm.read_pbf, ".graphml": _osm.read_graphml}
_EXPECTED = "one of " + ", ".join(_osm.SUFFIXES)


def load_map(path: str | Path, *, cache_dir: Path | None | Literal[False] = None,
             jam_spacing_m: float = 7.5) -> RoadNetwork:
    """Load a map file and compile it to a :class:`RoadNetwork` (cached by content).

    Parameters
    ----------
    path : str or Path
        ``.osm``/``.osm.bz2``/``.xml`` (OSM XML), ``.osm.pbf``, ``.graphml`` (osmnx, with
        an optional ``<stem>.features.geojson`` next to it) or ``.evacmap.npz``.
    cache_dir : Path, None or False
        Cache folder for compiled maps; None = ``$EVACSIM_CACHE_DIR`` or
        ``~/.cache/evacsim``; False = do not cache.
    jam_spacing_m : float
        Road length per stopped vehicle, metres, for link storage (DESIGN.md "Network").

    Returns
    -------
    RoadNetwork
        Projected to the map's UTM zone (metres).

    Raises
    ------
    NetworkError
        Missing file, unknown ending, unreadable or empty file, or no drivable road.
    """
    path = Path(path).expanduser()
    suffix = _osm.suffix_of(path)
    if not path.is_file():
        raise NetworkError(f"{path}: map file not found; expected an existing file, {_EXPECTED}")
    if not suffix:
        raise NetworkError(f"{path}: unknown map file type {path.suffix!r}; expected {_EXPECTED}")
    if path.stat().st_size == 0:
        raise NetworkError(f"{path}: the file is empty; expected map data ({suffix})")
    if suffix == ".evacmap.npz":
        return store.load_npz(path)
    name = path.name[: -len(suffix)]
    cache = resolve_cache_dir(cache_dir)
    files = [path]
    if suffix == ".graphml" and _osm.features_path(path).is_file():
        files.append(_osm.features_path(path))
    key = store.cache_key(files, {"jam_spacing_m": float(jam_spacing_m)}) if cache else ""
    if cache is not None and (hit := store.cache_get(cache, key)) is not None:
        return dataclasses.replace(hit, name=name, source=str(path))
    if suffix == ".osm.bz2":
        _osm.check_bz2(path)
    raw = _READERS[suffix](path)
    try:
        from sim.network.compile import compile_network  # scipy, shapely: only when compiling

        net = compile_network(raw, name=name, source=str(path), jam_spacing_m=jam_spacing_m)
    except NetworkError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as err:
        msg = f"{path}: expected a road graph with node x/y and edge length, got: {err!r}"
        raise NetworkError(msg) from None
    if cache is not None:
        try:
            store.save_npz(net, store.cache_file(cache, key))
        except OSError as err:  # a read-only cache must not stop a run
            _LOG.warning("could not write map cache in %s: %s", cache, err)
    return net


def fetch_place(place: str, *, out_dir: Path, name: str | None = None,
                cache_dir: Path | None | Literal[False] = None) -> Path:
    """Download a place's ways and features from OpenStreetMap (needs the internet).

    Parameters
    ----------
    place : str
        A place query Nominatim understands, e.g. ``"Andorra la Vella, Andorra"``.
    out_dir : Path
        Folder for ``<name>.graphml`` and ``<name>.features.geojson``.
    name : str, optional
        File stem; default: the place query made file-safe.
    cache_dir : Path, None or False
        osmnx's HTTP cache goes to ``<cache_dir>/osmnx`` (None: the default cache
        folder; False: no HTTP cache).

    Returns
    -------
    Path
        The GraphML file; load it with :func:`load_map`.

    Raises
    ------
    NetworkError
        When OpenStreetMap cannot be reached or returns nothing for ``place``.
    """
    import osmnx as ox

    if name is not None:
        check_map_name(name)
    stem = name or re.sub(r"[^\w.-]+", "_", place).strip("_").lower() or "place"
    out_dir = Path(out_dir)
    cache = resolve_cache_dir(cache_dir)
    settings = {"use_cache": cache is not None}
    if cache is not None:
        settings["cache_folder"] = str(cache / "osmnx")
    try:
        # osmnx reads its cache folder and kept way tags only from its global settings
        # module; osmnx_settings sets them for this call and restores them afterwards.
        with _osm.osmnx_settings(**settings), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.graph_from_place(place, network_type="all", simplify=True, retain_all=True)
            try:
                gdf = ox.features_from_place(place, tags=_osm.FEATURE_TAGS)
                features = _osm._features_from_gdf(gdf, id_col=None, type_col=None)
            except ox._errors.InsufficientResponseError:
                features = []
    except Exception as err:  # requests/osmnx raise many types when offline  # noqa: BLE001
        msg = (f"could not fetch {place!r} from OpenStreetMap: {err}. evacsim needs the "
               "network only for `map fetch`; use `evacsim map import FILE` with a "
               "downloaded .osm/.osm.pbf instead")
        raise NetworkError(msg) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    graphml = out_dir / f"{stem}.graphml"
    tmp = out_dir / f".{stem}.graphml.tmp"
    ox.save_graphml(G, tmp)
    _osm.write_features_geojson(features, _osm.features_path(graphml))
    tmp.replace(graphml)
    return graphml


_MAP_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_map_name(name: str) -> str:
    """Return ``name`` if it is a safe map file stem, else raise :class:`NetworkError`.

    Lowercase letters, digits, ``_`` and ``-``, at most 64 characters, starting with a letter
    or digit: the stem becomes a file name on every platform and a scenario's map path.

    Examples
    --------
    >>> check_map_name("my-town")
    'my-town'
    """
    if not isinstance(name, str) or not _MAP_NAME.match(name):
        msg = (f"--name: expected a map name of lowercase letters, digits, '_' and '-' "
               f"(at most 64, e.g. 'my-town'), got {name!r}")
        raise NetworkError(msg)
    return name


def import_map(src: Path, *, name: str, out_dir: Path, force: bool = False,
               cache_dir: Path | None | Literal[False] = None) -> Path:
    """Load, compile and save a map as ``<out_dir>/<name>.evacmap.npz``.

    Parameters
    ----------
    src : Path
        Any file :func:`load_map` accepts.
    name : str
        Stem of the output file.
    out_dir : Path
        Output folder (created if needed).
    force : bool
        Overwrite an existing output file.
    cache_dir : Path, None or False
        As in :func:`load_map`.

    Returns
    -------
    Path
        The written ``.evacmap.npz``.
    """
    target = Path(out_dir) / f"{check_map_name(name)}.evacmap.npz"
    if target.exists() and not force:
        raise NetworkError(f"{target}: exists already; choose another --name, or use --force")
    net = load_map(src, cache_dir=cache_dir)
    store.save_npz(dataclasses.replace(net, name=name), target)
    return target


def _road_km(links: object) -> float:
    """Length of road (each physical segment once, whatever its directions), km."""
    a = np.minimum(links.from_node, links.to_node)
    b = np.maximum(links.from_node, links.to_node)
    key = np.rec.fromarrays([a, b, np.round(links.length_m, 1)])
    _, first = np.unique(key, return_index=True)
    return float(links.length_m[first].sum() / 1000.0)


def map_info(net: RoadNetwork) -> dict:
    """Summary numbers of a compiled map (what ``evacsim map info`` prints).

    Returns
    -------
    dict
        ``nodes``, ``drive_links``, ``walk_links``, ``drive_km``, ``walk_km``,
        ``shelters`` ({kind: {"count", "area_m2"}}), ``facilities`` ({kind: count}),
        ``residential_ha``, ``zones`` (names), ``bbox_lonlat`` (west, south, east, north);
        from the building footprints (:mod:`sim.network.buildings`): ``residential_land_ha``
        (``landuse=residential`` only), ``buildings`` (count), ``residential_buildings``,
        ``residential_floor_area_m2`` (footprint × storeys of the homes),
        ``residential_building_tags`` ({building value: count} of the homes counted) and
        ``building_tags`` ({value: count}, all buildings).
    """
    shelters: dict[str, dict[str, float]] = {}
    for kind, area in zip(net.shelters.kind, net.shelters.area_m2, strict=True):
        s = shelters.setdefault(str(kind), {"count": 0, "area_m2": 0.0})
        s["count"] += 1
        s["area_m2"] += float(area)
    kinds, counts = np.unique(net.facilities.kind, return_counts=True)
    return {
        "name": net.name, "crs": net.crs, "nodes": len(net.nodes),
        "drive_links": net.drive.n_links, "walk_links": net.walk.n_links,
        "drive_km": _road_km(net.drive), "walk_km": _road_km(net.walk),
        "shelters": shelters,
        "facilities": {str(k): int(c) for k, c in zip(kinds, counts, strict=True)},
        "residential_ha": float(net.residential.area_m2.sum() / 1e4),
        "zones": [str(z) for z in net.zones.name],
        "bbox_lonlat": tuple(net.bbox_lonlat),
        **_building_info(net),
    }


def _building_info(net: RoadNetwork) -> dict:
    """Residential land and building numbers for :func:`map_info`."""
    b = net.building_table()
    homes = b.residential_use()
    land = np.asarray(net.residential.kind, dtype=str) == "residential"

    def tally(values: np.ndarray) -> dict[str, int]:
        k, c = np.unique(np.asarray(values, dtype=str), return_counts=True)
        order = np.argsort(-c, kind="stable")
        return {str(k[i]): int(c[i]) for i in order}

    return {
        "residential_land_ha": float(net.residential.area_m2[land].sum() / 1e4),
        "buildings": len(b),
        "residential_buildings": int(np.count_nonzero(homes)),
        "residential_floor_area_m2": float(b.floor_area_m2()[homes].sum()),
        "residential_building_tags": tally(b.kind[homes]),
        "building_tags": tally(b.kind),
    }
