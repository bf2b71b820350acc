"""The compiled map: road and footpath networks as arrays, plus the places on them.

This is the one shape every map source (OSM XML, .osm.pbf, GraphML, an osmnx fetch)
ends in. The model and the kernels touch only these arrays; the networkx graph is kept
for I/O and plotting.

Coordinates: ``x_m``/``y_m`` are metres in the map's projected CRS (``crs``, a UTM zone,
x = easting, y = northing); ``lon``/``lat`` are WGS84 degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.core.links import Links
from sim.network.buildings import Buildings


@dataclass(frozen=True)
class Nodes:
    """Nodes of the map (union of drive and walk networks), one row each.

    Attributes
    ----------
    osmid : int64[N]
    x_m, y_m : float64[N]
        Projected coordinates, metres (CRS of the owning :class:`RoadNetwork`).
    lon, lat : float64[N]
        WGS84 degrees.
    """

    osmid: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    def __len__(self) -> int:
        return int(self.osmid.shape[0])


@dataclass(frozen=True)
class Places:
    """Point-like places of one kind table (shelters, fire stations, ...), one row each.

    Attributes
    ----------
    kind : str array[P]
        Shelters: ``park|square|school|stadium|sports_centre|other``; facilities:
        ``fire_station|hospital|depot|industrial|police``.
    name : str array[P]
    x_m, y_m : float64[P]
        Projected coordinates (centroid for areas), metres.
    area_m2 : float64[P]
        Footprint area in m² (0 for point features).
    drive_node, walk_node : int32[P]
        Nearest node of the drive / walk network (global node index).
    osmid : int64[P]
    tags : list[dict[str, str]]
        The remaining OSM tags that matter (capacity, level, ...), verbatim.
    """

    kind: np.ndarray
    name: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    area_m2: np.ndarray
    drive_node: np.ndarray
    walk_node: np.ndarray
    osmid: np.ndarray
    tags: list = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.kind.shape[0])


@dataclass(frozen=True)
class RoadNetwork:
    """A map compiled to arrays.

    Attributes
    ----------
    name : str
        Short name (file stem or user-given).
    source : str
        Where it came from (file path or place query).
    crs : str
        Projected CRS of ``x_m``/``y_m`` (e.g. ``"EPSG:32648"``).
    nodes : Nodes
    drive : Links
        Drivable links, largest strongly connected component only.
    walk : Links
        Walkable links, both directions of every walkable way (largest weakly connected
        component), with ``lanes`` = walkway width in metres.
    drive_highway, walk_highway : str array[L]
        OSM ``highway`` class of each link (first value where a list).
    shelters : Places
        Candidate shelters from the map (parks, squares, schools, stadiums, sports centres).
    facilities : Places
        Fire stations, hospitals, depots, industrial sites.
    residential : Places
        Residential areas (landuse=residential, or buildings) with ``area_m2`` and, in
        ``tags``, ``zone`` (the sub-district that contains it) and ``building:levels``
        where tagged.
    zones : Places
        Sub-districts (boundary=administrative polygons, or place=* nodes), ``name`` set.
    bbox_lonlat : tuple[float, float, float, float]
        (west, south, east, north), WGS84 degrees.
    drive_bridge, drive_tunnel : bool[L]
        Drive links on a bridge / in a tunnel (OSM ``bridge=*`` / ``tunnel=*`` not "no").
    buildings : Buildings or None
        Every building footprint of the map (:mod:`sim.network.buildings`); None for a
        network built by hand without one.
    drive_name : str array[L]
        OSM ``name`` of each drive link ("" if untagged; merged edges: names joined by ';').
    drive_way : int64[L]
        OSM way id of each drive link (the first where merged; -1 if unknown).
    """

    name: str
    source: str
    crs: str
    nodes: Nodes
    drive: Links
    walk: Links
    drive_highway: np.ndarray
    walk_highway: np.ndarray
    shelters: Places
    facilities: Places
    residential: Places
    zones: Places
    bbox_lonlat: tuple[float, float, float, float]
    drive_bridge: np.ndarray | None = None
    drive_tunnel: np.ndarray | None = None
    buildings: Buildings | None = None
    drive_name: np.ndarray | None = None
    drive_way: np.ndarray | None = None

    def building_table(self) -> Buildings:
        """The building footprints, an empty table when the map has none."""
        return self.buildings if self.buildings is not None else Buildings.empty()
