"""Read map sources (OSM XML, .osm.pbf, GraphML) into one raw form: a graph plus features.

Every reader returns a :class:`RawMap`: an unprojected (WGS84, x = lon, y = lat) networkx
``MultiDiGraph`` of every ``highway=*`` way, one-way streets as one direction only,
topologically simplified, and the OSM features that become places (shelters,
facilities, residential areas, zones) as plain :class:`Feature` records. Compilation
to arrays happens in :mod:`sim.network.compile`; nothing here projects or filters by mode.

Every failure of a third-party reader is turned into :class:`~sim._errors.NetworkError`
naming the file and what was expected.
"""

from __future__ import annotations

import bz2
import contextlib
import json
import math
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import ParseError
from xml.sax import SAXException

from sim._errors import NetworkError

if TYPE_CHECKING:  # networkx loads only where a map is read (a --help stays light)
    import networkx as nx

# Way tags kept as edge attributes. osmnx's default list lacks ``foot`` and
# ``motor_vehicle``, which decide walkability and drivability.
WAY_TAGS = (
    "access", "area", "bridge", "foot", "highway", "junction", "lanes", "layer", "maxspeed",
    "motor_vehicle", "name", "oneway", "service", "tunnel", "width",
)

# OSM features that become places; values are the tag values that matter (True = any).
FEATURE_TAGS: dict[str, list[str] | bool] = {
    "leisure": ["park", "stadium", "sports_centre"],
    "place": ["square", "suburb", "town", "village", "quarter", "neighbourhood"],
    "highway": ["pedestrian"],
    "amenity": ["school", "fire_station", "hospital", "police"],
    "landuse": ["residential", "industrial"],
    "man_made": ["storage_tank"],
    "boundary": ["administrative"],
    "building": True,
}

SUFFIXES = (".osm", ".osm.bz2", ".xml", ".osm.pbf", ".graphml", ".evacmap.npz")
"""File name endings :func:`sim.network.load_map` accepts."""


@dataclass(frozen=True)
class Feature:
    """One OSM feature (node, way or relation) with its tags and WGS84 geometry.

    Attributes
    ----------
    osmid : int
    element : str
        ``"node"``, ``"way"`` or ``"relation"``.
    tags : dict[str, str]
        OSM tags, verbatim strings.
    geometry : shapely geometry
        WGS84, coordinates (lon, lat).
    """

    osmid: int
    element: str
    tags: dict[str, str]
    geometry: Any


@dataclass(frozen=True)
class RawMap:
    """A map source read but not compiled.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        WGS84 (node ``x`` = lon, ``y`` = lat), edges carry ``length`` (metres), ``highway``,
        ``oneway`` (bool) and the :data:`WAY_TAGS` present.
    features : list[Feature]
    """

    graph: nx.MultiDiGraph
    features: list[Feature]


def suffix_of(path: Path) -> str:
    """Return the recognised file ending of ``path`` (lower case) or ``""``."""
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return ""


@contextlib.contextmanager
def osmnx_settings(**overrides: Any) -> Iterator[None]:
    """Temporarily extend osmnx's kept way tags and set other osmnx settings.

    Adds :data:`WAY_TAGS` to ``osmnx.settings.useful_tags_way``, sets ``overrides``, and
    restores every previous value afterwards.

    osmnx takes the way tags to keep and its HTTP cache folder only from its global
    settings module (no argument exists in osmnx 2.1), so this is the one place we
    touch it, and only for the duration of one read or fetch.
    """
    import osmnx as ox

    names = ["useful_tags_way", *overrides]
    saved = {n: getattr(ox.settings, n) for n in names}
    ox.settings.useful_tags_way = sorted(set(saved["useful_tags_way"]) | set(WAY_TAGS))
    for n, v in overrides.items():
        setattr(ox.settings, n, v)
    try:
        yield
    finally:
        for n, v in saved.items():
            setattr(ox.settings, n, v)


def _clean(value: Any) -> str | None:
    """Return a tag value as a string, or None for missing values (NaN, None, empty)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value)
    return text if text and text != "nan" else None


def _features_from_gdf(gdf: Any, *, id_col: str | None, type_col: str | None) -> list[Feature]:
    """Turn a (geo)pandas frame of OSM features into :class:`Feature` records."""
    skip = {"geometry", "tags", "id", "osm_type", "osmid", "element", "element_type", "nodes",
            "ways", "members", "visible", "version", "timestamp", "changeset", "lon", "lat"}
    columns = [c for c in gdf.columns if c not in skip]
    out: list[Feature] = []
    for idx, rec in zip(gdf.index, gdf.to_dict("records"), strict=True):
        tags: dict[str, str] = {}
        extra = rec.get("tags")
        if isinstance(extra, str):
            with contextlib.suppress(ValueError):
                extra = json.loads(extra)
        if isinstance(extra, dict):
            tags.update({str(k): str(v) for k, v in extra.items() if _clean(v) is not None})
        for col in columns:
            val = _clean(rec.get(col))
            if val is not None:
                tags[str(col)] = val
        if id_col is None:  # osmnx: index is (element, id)
            element, osmid = idx
        else:
            osmid = rec[id_col]
            element = str(rec[type_col]) if type_col else "way"
        geom = rec.get("geometry")
        if geom is None or geom.is_empty:
            continue
        out.append(Feature(int(osmid), str(element), tags, geom))
    return out


def _finish_graph(G: nx.MultiDiGraph, path: Path) -> nx.MultiDiGraph:
    """Keep highway edges only, drop isolated nodes; raise if no road is left."""
    drop = [(u, v, k) for u, v, k, hw in G.edges(keys=True, data="highway") if hw is None]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n, deg in dict(G.degree()).items() if deg == 0])
    if G.number_of_edges() == 0:
        msg = f"{path}: expected OSM ways tagged highway=*, found none (is this the right area?)"
        raise NetworkError(msg)
    return G


def read_xml(path: Path) -> RawMap:
    """Read an OSM XML file (``.osm``, ``.xml``, ``.osm.bz2``) with osmnx.

    Parameters
    ----------
    path : Path
        OSM XML file, optionally bz2-compressed (osmnx decides by the ``.bz2`` ending).

    Returns
    -------
    RawMap
    """
    import osmnx as ox

    try:
        with osmnx_settings(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
    except (OSError, EOFError, SAXException, ParseError, ValueError, KeyError, zlib.error) as err:
        msg = f"{path}: expected OSM XML (.osm/.osm.bz2/.xml), could not parse it: {err}"
        raise NetworkError(msg) from None
    except ox._errors.InsufficientResponseError:
        msg = f"{path}: expected OSM XML with nodes and ways, found no OSM elements"
        raise NetworkError(msg) from None
    G = _finish_graph(G, path)
    G = ox.simplify_graph(G, edge_attrs_differ=["highway"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = ox.features_from_xml(path, tags=FEATURE_TAGS)
        features = _features_from_gdf(gdf, id_col=None, type_col=None)
    except ox._errors.InsufficientResponseError:
        features = []
    return RawMap(G, features)


@contextlib.contextmanager
def _progress_without_monitor() -> Iterator[None]:
    """Within: tqdm bars (pyrosm's progress) start no monitor thread; then as before.

    pyrosm keeps a bar object after the read, so the monitor thread it starts outlives
    the read for good, and a process with a second thread may not fork the figure
    drawing (:mod:`sim.background`): the first run on a new map would draw serially. The
    bars redraw themselves (pyrosm's own timer); only the monitor's hang check is lost.
    """
    from tqdm import std

    before = std.tqdm.monitor_interval
    std.tqdm.monitor_interval = 0
    try:
        yield
    finally:
        std.tqdm.monitor_interval = before


def read_pbf(path: Path) -> RawMap:
    """Read an ``.osm.pbf`` extract with pyrosm (every highway way, plus features).

    Parameters
    ----------
    path : Path
        OSM PBF file.

    Returns
    -------
    RawMap
    """
    with warnings.catch_warnings(), _progress_without_monitor():
        warnings.simplefilter("ignore")
        import pyrosm

        try:
            osm = pyrosm.OSM(str(path))
            nodes, edges = osm.get_network(network_type="all", nodes=True)
        except Exception as err:  # pyrosm raises bare Exceptions / Cython errors on bad input
            msg = f"{path}: expected an OSM PBF extract (.osm.pbf), could not read it: {err}"
            raise NetworkError(msg) from None
        if edges is None or len(edges) == 0:
            msg = f"{path}: expected OSM ways tagged highway=*, found none"
            raise NetworkError(msg)
        # network_type="driving" makes pyrosm honour oneway=* for every way; walking links
        # are made two-way later (compile.py). Simplification stops where highway changes,
        # so every edge keeps one road class.
        G = osm.to_graph(
            nodes, edges, graph_type="networkx", network_type="driving", retain_all=True,
            simplify=True, simplify_kwargs={"edge_attrs_differ": ["highway"]}, progress=False,
        )
        for _, _, data in G.edges(data=True):
            if "oneway_tag" in data:  # pyrosm keeps the OSM text here and a bool in oneway
                data.setdefault("oneway_osm", data.pop("oneway_tag"))
        G = _finish_graph(G, path)
        filt = {k: v for k, v in FEATURE_TAGS.items() if k != "building"}
        gdf = osm.get_data_by_custom_criteria(
            custom_filter=filt, osm_keys_to_keep=list(filt), filter_type="keep"
        )
        features = [] if gdf is None else _features_from_gdf(gdf, id_col="id", type_col="osm_type")
        # Every footprint: homes for the population, the earthquake's building inventory.
        bld = osm.get_buildings()
        if bld is not None:
            features += _features_from_gdf(bld, id_col="id", type_col="osm_type")
        extra = osm.get_data_by_custom_criteria(
            custom_filter={"building": ["warehouse"]}, filter_type="keep"
        )
        if extra is not None:
            seen = {(f.element, f.osmid) for f in features}
            features += [f for f in _features_from_gdf(extra, id_col="id", type_col="osm_type")
                         if (f.element, f.osmid) not in seen]
    return RawMap(G, features)


def read_graphml(path: Path) -> RawMap:
    """Read an osmnx GraphML file and its sibling ``<stem>.features.geojson`` if present.

    Parameters
    ----------
    path : Path
        GraphML written by osmnx (``ox.save_graphml``) or by :func:`sim.network.fetch_place`.

    Returns
    -------
    RawMap
    """
    import osmnx as ox

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.load_graphml(path)
    except Exception as err:  # networkx/lxml raise many types for a broken file
        msg = f"{path}: expected an osmnx GraphML file, could not read it: {err}"
        raise NetworkError(msg) from None
    if G.graph.get("crs") and "4326" not in str(G.graph["crs"]):
        msg = f"{path}: expected an unprojected (EPSG:4326) graph, got crs {G.graph['crs']!r}"
        raise NetworkError(msg)
    import networkx as nx

    G = _finish_graph(nx.MultiDiGraph(G), path)
    geojson = features_path(path)
    features = read_features_geojson(geojson) if geojson.is_file() else []
    return RawMap(G, features)


def features_path(graphml: Path) -> Path:
    """Return the features file that travels with a GraphML file (``<stem>.features.geojson``)."""
    return graphml.with_name(graphml.name[: -len(".graphml")] + ".features.geojson")


def write_features_geojson(features: list[Feature], path: Path) -> None:
    """Write features as a GeoJSON FeatureCollection (WGS84, lon/lat), tags as properties."""
    from shapely.geometry import mapping

    coll = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(f.geometry),
             "properties": {"@id": f.osmid, "@element": f.element, **f.tags}}
            for f in features
        ],
    }
    path.write_text(json.dumps(coll), encoding="utf-8")


def read_features_geojson(path: Path) -> list[Feature]:
    """Read what :func:`write_features_geojson` wrote."""
    from shapely.geometry import shape

    try:
        coll = json.loads(path.read_text(encoding="utf-8"))
        out = []
        for item in coll["features"]:
            props = dict(item["properties"])
            osmid = int(props.pop("@id", 0))
            element = str(props.pop("@element", "way"))
            tags = {str(k): str(v) for k, v in props.items() if _clean(v) is not None}
            out.append(Feature(osmid, element, tags, shape(item["geometry"])))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        msg = f"{path}: expected a GeoJSON FeatureCollection of OSM features, got: {err}"
        raise NetworkError(msg) from None
    return out


def check_bz2(path: Path) -> None:
    """Raise NetworkError early when a ``.bz2`` file is not a bz2 stream."""
    try:
        with bz2.open(path, "rb") as fh:
            fh.read(64)
    except (OSError, EOFError) as err:
        msg = f"{path}: expected a bz2-compressed OSM XML file, could not decompress it: {err}"
        raise NetworkError(msg) from None
