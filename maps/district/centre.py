"""Special parts of the city plan: chemical park site, one-way pairs, old quarter.

The chemical park takes a square of blocks in the NE corner; one-way pairs and a short
pedestrian street sit on the central grid lines; the old quarter replaces the grid in one
square of blocks near the centre with irregular, curved lanes and dead ends, so the map
has the street patterns an evacuation model must cope with, not only a clean grid.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .grid import BLOCK_M, interior_segments
from .naming import road

if TYPE_CHECKING:  # layout imports this module; the type is for annotations only
    from .layout import District


def plan_centre(d: District) -> None:
    """Chemical park (NE corner), one-way pairs + a pedestrian street, old quarter.

    Marks the blocks and grid segments of ``d.city``; sets ``d.oq`` to the old quarter's
    (i0, j0, q) square, the free one nearest to 30 % east / 55 % north of the grid.
    """
    g, k = d.city, d.ind_k
    g.state[g.nx - k:, g.ny - k:] = 2
    a = max(n for n, line in enumerate(g.ax[:-1]) if line <= g.nx // 2)
    b = max(n for n, line in enumerate(g.ay[:-1]) if line <= g.ny // 2)
    ci = g.ax[a] + 1  # N-S pair on lines ci (northbound) and ci + 1 (southbound)
    for j in range(g.ay[max(b - 1, 0)], g.ay[min(b + 1, len(g.ay) - 1)]):
        g.special[("v", ci, j)], g.special[("v", ci + 1, j)] = "up", "down"
    if g.ay[b + 1] - g.ay[b] >= 5 and g.nx >= 15:  # E-W pair on two more lines
        cj = g.ay[b] + 3
        for i in range(g.ax[max(a - 1, 0)], g.ax[min(a + 1, len(g.ax) - 1)]):
            g.special[("h", cj, i)], g.special[("h", cj + 1, i)] = "up", "down"
    pj = g.ay[b] + 2
    if pj < g.ay[b + 1] and ci + 4 <= g.nx - k:
        for i in range(ci + 2, ci + 4):
            g.special[("h", pj, i)] = "pedestrian"
    q = int(np.clip(round(math.sqrt(g.nx * g.ny * 0.025)), 2, 5))
    target = (g.X(0.3 * g.nx), g.Y(0.55 * g.ny))
    best = None
    for ca in range(len(g.ax) - 1):
        for cb in range(len(g.ay) - 1):
            for i0 in range(g.ax[ca], g.ax[ca + 1] - q + 1):
                for j0 in range(g.ay[cb], g.ay[cb + 1] - q + 1):
                    segs = interior_segments(i0, j0, q)
                    if (g.state[i0:i0 + q, j0:j0 + q] == 2).any() or any(
                            s in g.special for s in segs):
                        continue
                    dist = math.hypot(g.X(i0 + q / 2) - target[0], g.Y(j0 + q / 2) - target[1])
                    if best is None or dist < best[0]:
                        best = (dist, i0, j0)
    if best is not None:
        _, i0, j0 = best
        d.oq = (i0, j0, q)
        g.removed.update(interior_segments(i0, j0, q))
        g.state[i0:i0 + q, j0:j0 + q] = 3


def emit_old_quarter(d: District) -> list[list[tuple[float, float]]]:
    """Irregular lanes (jittered, curved, dead ends) replacing the grid in one cell.

    Returns
    -------
    list of list of tuple of float
        Corner points (local metres) of the residential quads between the lanes, except
        those a stream crosses; `zones.emit_areas` writes them as residential land.
    """
    g, rng, osm = d.city, d.rng, d.osm
    i0, j0, q = d.oq
    m = max(3, round(q * BLOCK_M / 125.0))
    sp = q * BLOCK_M / m
    bx, by = g.X(i0), g.Y(j0)
    P = {}  # noqa: N806
    for a in range(m + 1):
        for b in range(m + 1):
            jit = rng.uniform(-0.2, 0.2, 2) * sp if 0 < a < m and 0 < b < m else (0.0, 0.0)
            P[a, b] = (bx + a * sp + jit[0], by + b * sp + jit[1])
    inner = [(a, b) for a in range(1, m) for b in range(1, m)]
    edges = ([((a, b), (a + 1, b)) for a in range(1, m - 1) for b in range(1, m)]
             + [((a, b), (a, b + 1)) for a in range(1, m) for b in range(1, m - 1)])
    links = []
    for i in range(i0 + 1, i0 + q):
        a = int(np.clip(round((g.X(i) - bx) / sp), 1, m - 1))
        links += [((i, j0), (a, 1)), ((i, j0 + q), (a, m - 1))]
    for j in range(j0 + 1, j0 + q):
        b = int(np.clip(round((g.Y(j) - by) / sp), 1, m - 1))
        links += [((i0, j), (1, b)), ((i0 + q, j), (m - 1, b))]
    parent: dict = {k: k for k in [*inner, "out"]}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for _, lk in links:
        parent[find(lk)] = find("out")
    keep = rng.random(len(edges)) > 0.15
    for e, kp in zip(edges, keep, strict=True):
        if kp:
            parent[find(e[0])] = find(e[1])
    for n, e in enumerate(edges):  # re-add dropped lanes that are needed for connectivity
        if not keep[n] and find(e[0]) != find(e[1]):
            keep[n] = True
            parent[find(e[0])] = find(e[1])
    ids: dict = {}

    def lid(k):
        if k not in ids:
            ids[k] = osm.node(*P[k])
        return ids[k]

    for n, (e0, e1) in enumerate(edges):
        if not keep[n]:
            continue
        (x0, y0), (x1, y1) = P[e0], P[e1]
        off = rng.uniform(-12.0, 12.0)
        ln = math.hypot(x1 - x0, y1 - y0)
        mids = [osm.node(x0 + (x1 - x0) * t - (y1 - y0) / ln * off * math.sin(math.pi * t),
                         y0 + (y1 - y0) * t + (x1 - x0) / ln * off * math.sin(math.pi * t))
                for t in (1 / 3, 2 / 3)]
        horiz = e0[1] == e1[1]
        name = f"Laocheng Hutong {e0[1]}" if horiz else f"Laocheng Xiang {e0[0]}"
        zh = f"老城胡同{e0[1]}" if horiz else f"老城巷{e0[0]}"
        tags = (road("residential", name, zh) if rng.random() < 0.65 else
                {"highway": "living_street", "maxspeed": "20", "name": name, "name:zh": zh})
        osm.way([lid(e0), *mids, lid(e1)], tags)
    for gk, lk in links:
        tag = f"{gk[0]}-{gk[1]}"
        osm.way([g.node(osm, *gk), lid(lk)],
                road("residential", f"Laocheng Entry {tag}", f"老城入口{tag}"))
    for n in range(m):  # dead ends: short service lanes into the courtyards
        a, b = inner[int(rng.integers(len(inner)))]
        ang = math.pi / 4 + math.pi / 2 * int(rng.integers(4)) + rng.uniform(-0.3, 0.3)
        ln = rng.uniform(35.0, 55.0)
        x, y = P[a, b]
        end = osm.node(x + ln * math.cos(ang), y + ln * math.sin(ang))
        osm.way([lid((a, b)), end], {"highway": "service",
                                     "name": f"Laocheng Cul-de-sac {n + 1}",
                                     "name:zh": f"老城死胡同{n + 1}"})
    quads = []
    for a in range(m):
        for b in range(m):
            pts = np.array([P[a, b], P[a + 1, b], P[a + 1, b + 1], P[a, b + 1]])
            c = pts.mean(0)
            pts = c + 0.68 * (pts - c)
            if not d.stream_hits(pts):
                quads.append([tuple(p) for p in pts])
    return quads
