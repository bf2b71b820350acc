"""Building blocks of the FICTIONAL default-district generator, ``maps/generate_district.py``.

The generator script is the entry point; this package holds the district's concepts, one
per module, so that each stays readable:

- ``projection`` -- local metres <-> WGS84 degrees about the map centre.
- ``naming`` -- the fictional pinyin / Chinese names and the road tag sets.
- ``osm`` -- the OSM element store and its OSM XML 0.6 serialisation.
- ``grid`` -- a planned street grid (city or town): blocks, arterials, segments.
- ``terrain`` -- mountain front, river, gully streams, elevation; their OSM features.
- ``layout`` -- the district as a whole: its size from the population, the build order.
- ``centre`` -- chemical park site, central one-way pairs, pedestrian street, old quarter.
- ``places`` -- shelters and facilities: how many, how large, where, their tags.
- ``roads`` -- grid streets, river bridges, trunk road, town link road, mine road.
- ``zones`` -- sub-districts and the town, and the land-use polygons inside them.
- ``dem`` -- the elevation grid as ESRI ASCII text.

Importing does no work. Every random draw comes from the one ``numpy`` generator that
``layout.build_district`` receives, in a fixed order, so output is byte-identical per seed.
"""
