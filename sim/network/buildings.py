"""Building footprints of a map: one row per OSM ``building=*`` polygon, as arrays.

The compiled map keeps every building footprint (homes, shops, churches, ...) so that
people can be placed where they live (:mod:`sim.homes`, ``[population] source =
"buildings"``) and an earthquake can damage the real buildings
(:mod:`sim.hazards.earthquake.buildings`). This module owns the table, the rules that decide which
buildings are homes, and how many storeys an untagged building has.

Which buildings are homes (``residential_use``):

- ``building`` in :data:`RESIDENTIAL_TYPES` (``house``, ``apartments``, ...): a home;
- ``building`` in :data:`NON_RESIDENTIAL_TYPES` (``church``, ``garage``, ``industrial``,
  ...): never a home;
- any other value, most often the untyped ``building=yes``: a home only if its centroid
  lies inside or within :data:`NEAR_RESIDENTIAL_M` of a ``landuse=residential``
  polygon, and it carries no tag that marks another use (:data:`OTHER_USE_KEYS`, e.g. a
  ``shop=*`` or ``amenity=*`` on the building). ``building:use=*`` replaces ``yes``
  where tagged.

Coordinates: ``x_m``/``y_m`` are the footprint centroid in the map's projected CRS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# OSM wiki "Key:building", section "Accommodation": building values that are dwellings.
RESIDENTIAL_TYPES = frozenset({
    "house", "apartments", "residential", "detached", "semidetached_house", "terrace",
    "dormitory", "bungalow", "cabin", "farm", "static_caravan", "houseboat", "ger",
    "stilt_house", "trullo", "annexe",
})

# OSM wiki "Key:building": commercial, civic, religious, agricultural, technical and
# storage buildings, and values that mean "no building" (no, ruins, construction).
NON_RESIDENTIAL_TYPES = frozenset({
    "no", "commercial", "industrial", "kiosk", "office", "retail", "supermarket",
    "warehouse", "bakehouse", "civic", "college", "fire_station", "government", "hospital",
    "kindergarten", "museum", "public", "school", "toilets", "train_station",
    "transportation", "university", "cathedral", "chapel", "church", "monastery", "mosque",
    "presbytery", "religious", "shrine", "synagogue", "temple", "barn", "conservatory",
    "cowshed", "farm_auxiliary", "greenhouse", "slurry_tank", "stable", "sty", "livestock",
    "grandstand", "pavilion", "riding_hall", "sports_hall", "sports_centre", "stadium",
    "allotment_house", "boathouse", "hangar", "hut", "shed", "carport", "garage", "garages",
    "parking", "digester", "service", "tech_cab", "transformer_tower", "water_tower",
    "storage_tank", "silo", "bridge", "bunker", "castle", "construction", "container",
    "gatehouse", "roof", "ruins", "tent", "tower", "triumphal_arch", "guardhouse", "refuge",
    "cabin_shelter", "hotel", "outbuilding", "tree_house",
})

# A building=yes with one of these keys serves that use (a shop, a school, ...), not a home.
OTHER_USE_KEYS = ("amenity", "shop", "office", "tourism", "craft", "industrial",
                  "leisure", "man_made", "public_transport", "railway", "aeroway", "military",
                  "healthcare", "power")

NEAR_RESIDENTIAL_M = 50.0
"""An untyped building counts as housing within this distance of residential landuse,
metres. Assumption: about one street width plus front yards, so the houses lining the
edge of a mapped residential polygon are not lost."""

STOREY_HEIGHT_M = 3.0
"""Storey height used to turn a ``height=*`` tag into storeys, metres. Assumption, the
usual residential floor-to-floor height (2.7 to 3.2 m)."""

# Storeys of an untagged building by type. Assumption (no survey behind it), from the
# OSM wiki descriptions of each value: a house / detached / bungalow is one dwelling of
# one or two storeys, terraces two, apartments a block of several floors. DEFAULT_LEVELS
# applies to every other type.
TYPE_LEVELS: dict[str, int] = {
    "house": 2, "detached": 2, "semidetached_house": 2, "terrace": 2, "bungalow": 1,
    "cabin": 1, "farm": 2, "static_caravan": 1, "houseboat": 1, "ger": 1, "stilt_house": 1,
    "trullo": 1, "annexe": 1, "apartments": 4, "residential": 3, "dormitory": 4,
}
DEFAULT_LEVELS = 2

_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")


@dataclass(frozen=True)
class Buildings:
    """Building footprints of a map, one row each (sorted by OSM element and id).

    Attributes
    ----------
    osmid : int64[B]
    x_m, y_m : float64[B]
        Footprint centroid, projected metres (map CRS).
    footprint_m2 : float64[B]
        Footprint area, m².
    levels : int16[B]
        Storeys above ground from ``building:levels`` (or ``height`` / 3 m); 0 where
        untagged.
    kind : str array[B]
        The ``building=*`` value (``building:use`` where ``building=yes`` has one).
    in_residential : bool[B]
        Centroid inside or within :data:`NEAR_RESIDENTIAL_M` of residential landuse.
    other_use : bool[B]
        The building carries a tag of another use (:data:`OTHER_USE_KEYS`).
    zone : str array[B]
        Sub-district containing the centroid (same rule as residential places), or "".
    drive_node, walk_node : int32[B]
        Nearest node of the drive / walk network (global node index).
    material : str array[B]
        ``building:material`` where tagged, else "".
    year : int16[B]
        Construction year (``start_date`` and kin) where tagged, else -1.
    """

    osmid: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    footprint_m2: np.ndarray
    levels: np.ndarray
    kind: np.ndarray
    in_residential: np.ndarray
    other_use: np.ndarray
    zone: np.ndarray
    drive_node: np.ndarray
    walk_node: np.ndarray
    material: np.ndarray
    year: np.ndarray

    def __len__(self) -> int:
        return int(self.osmid.shape[0])

    @classmethod
    def empty(cls) -> Buildings:
        """A table with no buildings."""
        f, i = np.zeros(0, np.float64), np.zeros(0, np.int32)
        s = np.zeros(0, dtype="<U1")
        return cls(np.zeros(0, np.int64), f, f, f, np.zeros(0, np.int16), s,
                   np.zeros(0, bool), np.zeros(0, bool), s, i, i, s, np.zeros(0, np.int16))

    def residential_use(self) -> np.ndarray:
        """Which buildings are homes, bool[B] (rules in the module docstring)."""
        kind = np.asarray(self.kind, dtype=str)
        typed = np.isin(kind, list(RESIDENTIAL_TYPES))
        excluded = np.isin(kind, list(NON_RESIDENTIAL_TYPES))
        return typed | (~excluded & self.in_residential & ~self.other_use)

    def storeys(self) -> np.ndarray:
        """Storeys per building: tagged, else :data:`TYPE_LEVELS`, else DEFAULT_LEVELS."""
        kind = np.asarray(self.kind, dtype=str)
        default = np.full(kind.size, DEFAULT_LEVELS, np.int64)
        for k, lv in TYPE_LEVELS.items():
            default[kind == k] = lv
        return np.where(self.levels > 0, self.levels.astype(np.int64), default)

    def floor_area_m2(self) -> np.ndarray:
        """Floor area, m²: footprint × storeys, float64[B]."""
        return self.footprint_m2 * self.storeys()

    def residential_floor_area_m2(self) -> np.ndarray:
        """Floor area of homes, m² (0 for other buildings), float64[B]."""
        return np.where(self.residential_use(), self.floor_area_m2(), 0.0)


def levels_of(tags: dict[str, str]) -> int:
    """Storeys above ground of one building from its tags, 0 if untagged or nonsense.

    ``building:levels`` (first number, 1..200), else ``height`` in metres divided by
    :data:`STOREY_HEIGHT_M` (rounded, at least 1).
    """
    raw = str(tags.get("building:levels", "")).replace(",", ".").split(";")[0].strip()
    try:
        lv = round(float(raw))
    except ValueError:
        lv = 0
    if 1 <= lv <= 200:
        return int(lv)
    raw = str(tags.get("height", "")).lower().replace("m", "").split(";")[0].strip()
    try:
        h = float(raw)
    except ValueError:
        return 0
    return int(max(1, round(h / STOREY_HEIGHT_M))) if 0 < h < 1000 else 0


def kind_of(tags: dict[str, str]) -> str:
    """The building type: ``building=*``, or ``building:use`` where building is ``yes``."""
    kind = str(tags.get("building", "yes")).strip().lower() or "yes"
    if kind == "yes" and tags.get("building:use"):
        kind = str(tags["building:use"]).strip().lower()
    return kind


def year_of(tags: dict[str, str]) -> int:
    """Construction year from ``start_date``/``building:start_date``/``construction_date``."""
    for key in ("start_date", "building:start_date", "construction_date"):
        m = _YEAR.search(str(tags.get(key, "")))
        if m:
            return int(m.group(1))
    return -1


def make_buildings(rows: list, geoms: list, *, residential_geoms: list, zone_names: list[str],
                   drive_snap, walk_snap) -> Buildings:
    """Assemble the table from projected footprints.

    Parameters
    ----------
    rows : list[Feature]
        OSM building features (polygons), in table order.
    geoms : list
        Their footprints projected to the map CRS (metres).
    residential_geoms : list
        Projected ``landuse=residential`` polygons.
    zone_names : list[str]
        Zone of each building ("" when none).
    drive_snap, walk_snap : (cKDTree, int array)
        Snap targets: a tree over node positions and the global node index of each.

    Returns
    -------
    Buildings
    """
    import shapely

    n = len(rows)
    if n == 0:
        return Buildings.empty()
    arr = np.asarray(geoms, dtype=object)
    cent = shapely.centroid(arr)
    x, y = shapely.get_x(cent), shapely.get_y(cent)
    in_res = np.zeros(n, bool)
    if residential_geoms:
        tree = shapely.STRtree(np.asarray(residential_geoms, dtype=object))
        hit = tree.query(shapely.points(x, y), predicate="dwithin", distance=NEAR_RESIDENTIAL_M)
        in_res[hit[0]] = True
    pts = np.column_stack([x, y])
    return Buildings(
        osmid=np.array([f.osmid for f in rows], np.int64),
        x_m=x.astype(np.float64), y_m=y.astype(np.float64),
        footprint_m2=shapely.area(arr).astype(np.float64),
        levels=np.array([levels_of(f.tags) for f in rows], np.int16),
        kind=np.array([kind_of(f.tags) for f in rows], dtype=str),
        in_residential=in_res,
        other_use=np.array([any(k in f.tags for k in OTHER_USE_KEYS) for f in rows], bool),
        zone=np.array(zone_names, dtype=str),
        drive_node=drive_snap[1][drive_snap[0].query(pts)[1]].astype(np.int32),
        walk_node=walk_snap[1][walk_snap[0].query(pts)[1]].astype(np.int32),
        material=np.array([str(f.tags.get("building:material", "")).lower() for f in rows],
                          dtype=str),
        year=np.array([year_of(f.tags) for f in rows], np.int16),
    )
