"""Zones (sub-districts and the town), the land-use polygons in them, the zone table.

Sub-districts are rectangles of whole arterial cells, 1 per 45,000 city residents; the
town is one zone. Every residential polygon lies in exactly one zone, and each zone's
population is proportional to its residential land, so density is even across the map.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .grid import STREET_HALF_M
from .naming import TOWN_WORD, ZONE_WORDS
from .places import place_tags

if TYPE_CHECKING:  # layout imports this module; the type is for annotations only
    from .layout import District


def plan_zones(d: District) -> list[dict]:
    """Sub-districts as rectangles of whole arterial cells, plus the town."""
    g = d.city
    cx, cy = len(g.ax) - 1, len(g.ay) - 1
    n_sub = min(int(np.clip(round(d.pop_city / 45_000), 1, 7)), cx * cy)
    ncol = min(n_sub, max(1, min(cx, round(math.sqrt(n_sub * cx / cy)))))
    per = [n_sub // ncol + (1 if c < n_sub % ncol else 0) for c in range(ncol)]
    zones, mg = [], 300.0
    for c, cols in enumerate(np.array_split(np.arange(cx), ncol)):
        for rows in np.array_split(np.arange(cy), min(per[c], cy)):
            i0, i1 = g.ax[cols[0]], g.ax[cols[-1] + 1]
            j0, j1 = g.ay[rows[0]], g.ay[rows[-1] + 1]
            rect = (g.X(i0) - (mg if i0 == 0 else 0), g.Y(j0) - (mg if j0 == 0 else 0),
                    g.X(i1) + (mg if i1 == g.nx else 0), g.Y(j1) + (mg if j1 == g.ny else 0))
            w, z = ZONE_WORDS[len(zones)]
            zones.append({"name": f"{w} Subdistrict", "zh": f"{z}街道", "rect": rect,
                          "kind": "subdistrict", "area": 0.0, "word": (w, z), "n": 0})
    if d.town is not None:
        t = d.town
        zones.append({"name": f"{TOWN_WORD[0]} Town", "zh": f"{TOWN_WORD[1]}镇",
                      "rect": (t.X(0) - mg, t.Y(0) - mg, t.X(t.nx) + mg, t.Y(t.ny) + mg),
                      "kind": "town", "area": 0.0, "word": TOWN_WORD, "n": 0})
    return zones


def emit_areas(d: District, zones: list[dict], oq_quads: list) -> None:
    """Zone boundaries, residential land, places, the chemical park and the town node.

    Residential land is every free block, the old quarter's quads (``oq_quads``) and the
    land left beside places; each polygon is counted into the zone that holds its centre,
    whose ``area`` (m2) then sets the zone's share of the population in `zone_rows`.
    """
    osm = d.osm

    def zone_of(pts):
        cx, cy = np.mean(np.asarray(pts), axis=0)
        for z in zones:
            x0, y0, x1, y1 = z["rect"]
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                return z
        raise RuntimeError("residential area outside every zone")

    def residential(pts):
        z = zone_of(pts)
        z["n"] += 1
        z["area"] += _area(pts)
        w, zh = z["word"]
        osm.poly(pts, {"landuse": "residential", "name": f"{w} Residential Area {z['n']}",
                       "name:zh": f"{zh}小区{z['n']}"})

    for z in zones:
        x0, y0, x1, y1 = z["rect"]
        osm.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
                 {"boundary": "administrative", "admin_level": "8", "name": z["name"],
                  "name:zh": z["zh"]})
    for g in (d.city, d.town):
        if g is None:
            continue
        for i in range(g.nx):
            for j in range(g.ny):
                if g.state[i, j] == 0:
                    x0, y0, x1, y1 = g.inner(i, j)
                    residential([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    for pts in oq_quads:
        residential(pts)
    for it in d.items:
        if "residual" in it:
            residential(it["residual"])
        tags, zh = place_tags(it)
        osm.poly(it["poly"], tags)
        if it["kind"] == "park":
            g, (i, j), n = it["grid"], it["ij"], it["n"]
            mid = osm.node(g.X(i + n / 2), g.Y(j + n / 2))
            osm.way([g.node(osm, i, j), mid, g.node(osm, i + n, j + n)],
                    {"highway": "footway", "name": f"{tags['name']} Path",
                     "name:zh": f"{zh}步道"})
    g, k = d.city, d.ind_k
    x0, y0, x1, y1 = g.X(g.nx - k), g.Y(g.ny - k), g.X(g.nx), g.Y(g.ny)
    m = STREET_HALF_M
    osm.poly([(x0 + m, y0 + m), (x1 - m, y0 + m), (x1 - m, y1 - m), (x0 + m, y1 - m)],
             {"landuse": "industrial", "industrial": "chemical",
              "name": "Shanqian Chemical Industrial Park", "name:zh": "山前化工园区"})
    for n in range(int(np.clip(2 * k, 4, 12))):
        i, j = (int(v) for v in d.rng.integers(0, k, 2))
        x, y = g.X(g.nx - k + i + 0.5), g.Y(g.ny - k + j + 0.5)
        sub, en, zh = (("chlorine", "Chlorine", "液氯") if n % 2 == 0 else
                       ("ammonia", "Ammonia", "液氨"))
        osm.node(x + d.rng.uniform(-50, 50), y + d.rng.uniform(-50, 50),
                 {"man_made": "storage_tank", "substance": sub,
                  "name": f"{en} Tank T{n + 1}", "name:zh": f"{zh}储罐T{n + 1}"})
    if d.town is not None:
        t = d.town
        osm.node(t.X(t.nx / 2), t.Y(t.ny / 2),
                 {"place": "town", "name": f"{TOWN_WORD[0]} Town",
                  "name:zh": f"{TOWN_WORD[1]}镇", "population": str(d.pop_town)})


def zone_rows(zones: list[dict], pop_city: int, pop_town: int) -> list[tuple[str, int, str]]:
    """The zone table: (zone, population, kind) rows that sum to the whole population.

    Sub-districts share ``pop_city`` in proportion to their residential land; the town, when
    there is one, holds ``pop_town``.
    """
    city = [z for z in zones if z["kind"] == "subdistrict"]
    shares = np.array([z["area"] for z in city]) / sum(z["area"] for z in city)
    pops = _largest_remainder(pop_city, shares)
    rows = [(z["name"], int(p), "subdistrict") for z, p in zip(city, pops, strict=True)]
    rows += [(z["name"], pop_town, "town") for z in zones if z["kind"] == "town"]
    return rows


def _largest_remainder(total: int, shares: np.ndarray) -> list[int]:
    """Integers proportional to ``shares`` that sum exactly to ``total`` (Hamilton method)."""
    raw = total * shares
    out = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
        out[k] += 1
    return out.tolist()


def _area(pts) -> float:
    """Area of the polygon ``pts`` in m2 (shoelace formula; local metres in)."""
    p = np.asarray(pts, float)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
