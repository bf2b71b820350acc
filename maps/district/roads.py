"""The road network written to OSM: grid streets and the roads that link the map.

Grid streets become one way per run of equally tagged segments, sharing intersection
nodes through `grid.Grid.node`; the links are the river bridges and the riverside trunk
road, the town's link road and the mine road. Old-quarter lanes are in `centre`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .grid import Grid
from .naming import TOWN_WORD, road
from .osm import Osm

if TYPE_CHECKING:  # layout imports this module; the type is for annotations only
    from .layout import District


def emit_grid(osm: Osm, g: Grid) -> None:
    """One way per run of equally tagged segments along each grid line.

    Segments in ``g.removed`` are not built; one-way ("up" / "down") and pedestrian
    segments get their own tags, and southbound / westbound ways run backwards.
    """
    for d, n_lines, n_seg in (("v", g.nx + 1, g.ny), ("h", g.ny + 1, g.nx)):
        for k in range(n_lines):
            base = g.line_tags(d, k)
            runs: list[tuple[tuple | None, list[int]]] = []
            for s in range(n_seg):
                seg = (d, k, s)
                if seg in g.removed:
                    key = None
                else:
                    sp = g.special.get(seg)
                    if sp == "pedestrian":
                        tags = {"highway": "pedestrian", "name": base["name"],
                                "name:zh": base["name:zh"]}
                    elif sp in ("up", "down"):
                        tags = road("tertiary", base["name"], base["name:zh"], oneway="yes")
                    else:
                        tags = base
                    key = (tuple(tags.items()), sp == "down")
                if not runs or runs[-1][0] != key:
                    runs.append((key, [s]))
                else:
                    runs[-1][1].append(s)
            for key, segs in runs:
                if key is None:
                    continue
                pts = range(segs[0], segs[-1] + 2)
                refs = [g.node(osm, k, p) if d == "v" else g.node(osm, p, k) for p in pts]
                osm.way(refs[::-1] if key[1] else refs, dict(key[0]))


def emit_links(d: District) -> None:
    """Bridges to the riverside trunk road, the town link road, the mine road.

    Every E-W arterial of the city and the town crosses the river on a 100 m bridge to the
    trunk road, which runs the map's full N-S extent; the mine road ends at the quarry.
    """
    osm = d.osm
    trunk = []
    for g in (d.city, d.town):
        if g is None:
            continue
        for j in g.ay:
            tags, y = g.line_tags("h", j), g.Y(j)
            xr = float(d.x_river(y))
            b0, b1 = osm.node(xr - 50.0, y), osm.node(xr + 50.0, y)
            t = osm.node(d.x_trunk, y)
            osm.way([g.node(osm, g.nx, j), b0], tags)
            osm.way([b0, b1], {**tags, "bridge": "yes", "layer": "1"})
            osm.way([b1, t], tags)
            trunk.append((y, t))
    y0, y1 = d.y_range
    for y in np.arange(y0, y1 + 1.0, 500.0):
        if min(abs(y - ty) for ty, _ in trunk) > 100.0:
            trunk.append((float(y), osm.node(d.x_trunk, y)))
    trunk.sort()
    osm.way([t for _, t in trunk], road("trunk", "Binhe Expressway", "滨河快速路"))
    if d.town is not None:
        c, t = d.city, d.town
        ya, yb = t.Y(t.ny), c.Y(0)
        mids = [osm.node(c.X(d.a_c), y) for y in np.arange(ya + 500.0, yb - 250.0, 500.0)]
        osm.way([t.node(osm, d.a_t, t.ny), *mids, c.node(osm, d.a_c, 0)],
                road("primary", f"{TOWN_WORD[0]} Road", f"{TOWN_WORD[1]}路", lanes="4"))
    c = d.city
    jq = c.ay[(2 * len(c.ay)) // 3]
    yq = c.Y(jq)
    x_end = float(d.x_front(yq)) - 2000.0
    xs = np.arange(c.X(0) - 250.0, x_end - 1.0, -250.0)
    wob = 30.0 * np.sin(np.arange(len(xs)) * 0.9 + d.rng.uniform(0, 6.0))
    refs = [c.node(osm, 0, jq)] + [osm.node(x, yq + w) for x, w in zip(xs, wob, strict=True)]
    osm.way(refs, road("unclassified", "Kuangshan Road", "矿山路"))
    ang = np.linspace(0, 2 * math.pi, 9)[:-1]
    rad = d.rng.uniform(0.8, 1.1, 8)
    q = [(xs[-1] - 380.0 + 380.0 * r * math.cos(a), yq + wob[-1] + 260.0 * r * math.sin(a))
         for a, r in zip(ang, rad, strict=True)]
    osm.poly(q, {"landuse": "quarry", "resource": "coal", "name": "Shanqian Coal Mine",
                 "name:zh": "山前煤矿"})
