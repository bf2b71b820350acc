"""OSM elements as the generator creates them, and their OSM XML 0.6 serialisation.

Elements are kept in creation order and their ids are their 1-based positions, so the
file is a pure function of the build order: no timestamps, every element ``version="1"``.
"""

from __future__ import annotations

import numpy as np

from .projection import lonlat


class Osm:
    """OSM elements in creation order; ids are 1-based positions (nodes, ways apart)."""

    def __init__(self) -> None:
        self.nodes: list[tuple[float, float, dict]] = []
        self.ways: list[tuple[list[int], dict]] = []

    def node(self, x: float, y: float, tags: dict | None = None) -> int:
        """Add a node at local (x, y) metres; return its id."""
        self.nodes.append((float(x), float(y), tags or {}))
        return len(self.nodes)

    def way(self, refs: list[int], tags: dict) -> int:
        """Add a way through the node ids ``refs``; return its id."""
        self.ways.append((list(refs), dict(tags)))
        return len(self.ways)

    def poly(self, pts, tags: dict) -> int:
        """Add a closed way through new nodes at ``pts`` (local metres); return its id."""
        refs = [self.node(x, y) for x, y in pts]
        return self.way(refs + refs[:1], tags)


def osm_xml(osm: Osm) -> bytes:
    """Serialise to OSM XML 0.6; no timestamps, fixed version="1".

    Parameters
    ----------
    osm : Osm
        The elements; node positions in local metres, written as WGS84 degrees.

    Returns
    -------
    bytes
        The UTF-8 encoded document, with a ``<bounds>`` element over all nodes.
    """
    xs = np.array([n[0] for n in osm.nodes])
    ys = np.array([n[1] for n in osm.nodes])
    lon, lat = lonlat(xs, ys)
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<osm version="0.6" generator="evacsim maps/generate_district.py (fictional district)">',
        f'  <bounds minlat="{lat.min():.7f}" minlon="{lon.min():.7f}" '
        f'maxlat="{lat.max():.7f}" maxlon="{lon.max():.7f}"/>',
    ]
    for k, (_, _, tags) in enumerate(osm.nodes):
        head = f'  <node id="{k + 1}" version="1" lat="{lat[k]:.7f}" lon="{lon[k]:.7f}"'
        if not tags:
            out.append(head + "/>")
            continue
        out.append(head + ">")
        out.extend(_tag_lines(tags))
        out.append("  </node>")
    for k, (refs, tags) in enumerate(osm.ways):
        out.append(f'  <way id="{k + 1}" version="1">')
        out.extend(f'    <nd ref="{r}"/>' for r in refs)
        out.extend(_tag_lines(tags))
        out.append("  </way>")
    out.append("</osm>\n")
    return "\n".join(out).encode("utf-8")


def _tag_lines(tags: dict[str, str]) -> list[str]:
    return [f'    <tag k="{_esc(k)}" v="{_esc(str(v))}"/>' for k, v in tags.items()]


def _esc(s: str) -> str:
    return (s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))
