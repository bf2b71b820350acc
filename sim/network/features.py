"""Places from OSM features: shelters, facilities, residential areas and zones.

Tag conventions (OSM wiki; the default district map in ``maps/`` uses the same):

- shelters: ``leisure=park|stadium|sports_centre``, ``place=square`` or
  ``highway=pedestrian`` + ``area=yes`` (kind ``square``), ``amenity=school``;
- facilities: ``amenity=fire_station|hospital|police``; ``building=warehouse`` with
  ``depot:level`` (kind ``depot``); ``landuse=industrial`` (kind ``industrial``, see its
  ``industrial=*`` tag); ``man_made=storage_tank`` (see its ``substance`` tag);
- residential: ``landuse=residential`` polygons, or where a map has none, building
  footprints (``building=*``, with ``building:levels`` where tagged);
- buildings: every ``building=*`` polygon, in its own table
  (:mod:`sim.network.buildings`: centroid, footprint, storeys, type, zone, whether it
  lies in or near residential land, nearest nodes);
- zones: named ``boundary=administrative`` polygons with ``admin_level`` >= 7, else named
  ``place=suburb|town|village|quarter`` features.

Every place is snapped to its nearest drive node and nearest walk node.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from sim.network._osm import Feature
from sim.network.buildings import Buildings, make_buildings
from sim.network.roadnet import Nodes, Places

SHELTER_LEISURE = ("park", "stadium", "sports_centre")
FACILITY_AMENITY = ("fire_station", "hospital", "police")
ZONE_PLACES = ("suburb", "town", "village", "quarter")
MIN_ZONE_ADMIN_LEVEL = 7

# Buildings that are certainly not homes; all other building=* values count as housing
# when a map has no landuse=residential.
NOT_HOUSING = frozenset({
    "no", "warehouse", "industrial", "school", "hospital", "fire_station", "police",
    "church", "garage", "garages", "shed", "roof", "commercial", "retail", "office",
    "public", "civic", "government", "stadium", "sports_centre", "kindergarten",
    "university", "hangar", "barn", "construction", "parking", "service",
    "transportation", "train_station", "greenhouse", "farm_auxiliary", "storage_tank",
    "silo", "chapel", "cathedral", "mosque", "temple", "sports_hall", "supermarket",
})


def shelter_kind(tags: dict[str, str]) -> str | None:
    """Normalised shelter kind of a feature, or None if it is no shelter candidate."""
    if tags.get("leisure") in SHELTER_LEISURE:
        return tags["leisure"]
    if tags.get("place") == "square":
        return "square"
    if tags.get("highway") == "pedestrian" and tags.get("area") == "yes":
        return "square"
    if tags.get("amenity") == "school":
        return "school"
    return None


def facility_kind(tags: dict[str, str]) -> str | None:
    """Facility kind of a feature (fire_station, hospital, police, depot, ...) or None."""
    if tags.get("amenity") in FACILITY_AMENITY:
        return tags["amenity"]
    if tags.get("building") == "warehouse" and "depot:level" in tags:
        return "depot"
    if tags.get("landuse") == "industrial":
        return "industrial"
    if tags.get("man_made") == "storage_tank":
        return "storage_tank"
    return None


def _is_area(geom: object) -> bool:
    return geom.geom_type in ("Polygon", "MultiPolygon")


def _admin_level(tags: dict[str, str]) -> float:
    try:
        return float(tags.get("admin_level", "nan"))
    except ValueError:
        return float("nan")


def build_places(
    features: list[Feature], *, crs: str, nodes: Nodes, drive_nodes: np.ndarray,
    walk_nodes: np.ndarray,
) -> tuple[Places, Places, Places, Places, Buildings]:
    """Classify, project and snap features.

    Parameters
    ----------
    features : list[Feature]
        WGS84 features (lon, lat) from :mod:`sim.network._osm`.
    crs : str
        Projected CRS of ``nodes`` (metres).
    nodes : Nodes
        The map's nodes.
    drive_nodes, walk_nodes : int array
        Global indices of nodes on the drive / walk network (snap targets).

    Returns
    -------
    shelters, facilities, residential, zones : Places
    buildings : Buildings
        Every ``building=*`` footprint (:mod:`sim.network.buildings`).
    """
    import pyproj

    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def project(geom: object) -> object:
        return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))

    shelters, facilities, homes, buildings, admin, place_zones = [], [], [], [], [], []
    footprints = []
    for f in features:
        tags = f.tags
        if kind := shelter_kind(tags):
            shelters.append((kind, f))
        if kind := facility_kind(tags):
            facilities.append((kind, f))
        area = _is_area(f.geometry)
        if "building" in tags and tags["building"] != "no" and area:
            footprints.append(f)
        if tags.get("landuse") == "residential" and area:
            homes.append(("residential", f))
        elif "building" in tags and tags["building"] not in NOT_HOUSING and area:
            buildings.append(("building", f))
        if tags.get("name"):
            if (tags.get("boundary") == "administrative" and area
                    and _admin_level(tags) >= MIN_ZONE_ADMIN_LEVEL):
                admin.append(("admin", f))
            elif tags.get("place") in ZONE_PLACES:
                place_zones.append((tags["place"], f))
    if not homes:
        homes = buildings
    zone_rows = admin or place_zones

    snap_d = (cKDTree(np.column_stack([nodes.x_m[drive_nodes], nodes.y_m[drive_nodes]])),
              drive_nodes)
    snap_w = (cKDTree(np.column_stack([nodes.x_m[walk_nodes], nodes.y_m[walk_nodes]])),
              walk_nodes)

    def make(rows: list, extra_tags: list | None = None) -> tuple[Places, list]:
        rows = sorted(rows, key=lambda r: (r[0], r[1].osmid, r[1].element))
        geoms = [project(r[1].geometry) for r in rows]
        cent = np.array([[g.centroid.x, g.centroid.y] for g in geoms]).reshape(-1, 2)
        area = np.array([g.area if _is_area(g) else 0.0 for g in geoms], dtype=np.float64)
        dn = snap_d[1][snap_d[0].query(cent)[1]] if rows else np.empty(0, np.int64)
        wn = snap_w[1][snap_w[0].query(cent)[1]] if rows else np.empty(0, np.int64)
        tags = [dict(r[1].tags, **{"osm_element": r[1].element}) for r in rows]
        places = Places(
            kind=np.array([r[0] for r in rows], dtype=str),
            name=np.array([r[1].tags.get("name", "") for r in rows], dtype=str),
            x_m=cent[:, 0].astype(np.float64), y_m=cent[:, 1].astype(np.float64),
            area_m2=area, drive_node=np.asarray(dn, dtype=np.int32),
            walk_node=np.asarray(wn, dtype=np.int32),
            osmid=np.array([r[1].osmid for r in rows], dtype=np.int64), tags=tags,
        )
        return places, geoms

    zones, zone_geoms = make(zone_rows)
    residential, res_geoms = make(homes)
    _assign_zones(residential, zones, zone_geoms, by_polygon=bool(admin))
    # One row per OSM element: a reader may return a building twice (e.g. a school
    # building matched both as amenity and as building).
    footprints = sorted({(f.element, f.osmid): f for f in reversed(footprints)}.values(),
                        key=lambda f: (f.element, f.osmid))
    # One vectorised transform for all footprints (a city has 10^5 of them).
    fp_geoms = (list(project(np.asarray([f.geometry for f in footprints], dtype=object)))
                if footprints else [])
    res_landuse = [g for r, g in zip(sorted(homes, key=lambda r: (r[0], r[1].osmid, r[1].element)),
                                     res_geoms, strict=True) if r[0] == "residential"]
    fp_cent = shapely.get_coordinates(shapely.centroid(np.asarray(fp_geoms, dtype=object)))
    fp_cent = fp_cent.reshape(-1, 2)
    table = make_buildings(
        footprints, fp_geoms, residential_geoms=res_landuse,
        zone_names=zone_names(fp_cent[:, 0], fp_cent[:, 1], zones, zone_geoms,
                              by_polygon=bool(admin)),
        drive_snap=snap_d, walk_snap=snap_w)
    return make(shelters)[0], make(facilities)[0], residential, zones, table


def _assign_zones(res: Places, zones: Places, zone_geoms: list, *, by_polygon: bool) -> None:
    """Write ``tags["zone"]`` of each residential place (in place; ``tags`` dicts only).

    Polygon zones: the smallest zone polygon containing the centroid, else "". Point
    zones (place=* nodes): the nearest one, i.e. the Voronoi cell of the place node.
    """
    if len(res) == 0:
        return
    names = zone_names(res.x_m, res.y_m, zones, zone_geoms, by_polygon=by_polygon)
    for t, name in zip(res.tags, names, strict=True):
        t["zone"] = name


def zone_names(x_m: np.ndarray, y_m: np.ndarray, zones: Places, zone_geoms: list, *,
               by_polygon: bool) -> list[str]:
    """Zone name of each point (projected metres), "" where none.

    Polygon zones: the smallest zone polygon containing the point, else "". Point zones
    (place=* nodes): the nearest one, i.e. the Voronoi cell of the place node.
    """
    x_m, y_m = np.asarray(x_m, np.float64), np.asarray(y_m, np.float64)
    if len(zones) == 0 or x_m.size == 0:
        return [""] * x_m.size
    if by_polygon:
        order = np.argsort([g.area for g in zone_geoms], kind="stable")
        out = np.full(x_m.size, -1, np.int64)
        for zi in order[::-1]:  # smallest last, so it wins
            out[shapely.contains_xy(zone_geoms[zi], x_m, y_m)] = zi
        return [str(zones.name[i]) if i >= 0 else "" for i in out]
    idx = cKDTree(np.column_stack([zones.x_m, zones.y_m])).query(np.column_stack([x_m, y_m]))[1]
    return [str(zones.name[i]) for i in idx]
