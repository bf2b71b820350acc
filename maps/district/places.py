"""Shelters and facilities: how many of each kind, how large, on which blocks, their tags.

Shelter area scales with the population (SHELTER_M2_PER_PERSON) and is split among kinds
by SHELTER_MIX; fire stations, hospitals and the three levels of material reserve depots
scale by population too. Places are put on free grid blocks, largest first, spread apart
from others of their kind; the town gets its share of parks, schools and facilities.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .grid import BLOCK_M, STREET_HALF_M, Grid, interior_segments
from .naming import TOWN_WORD, word

if TYPE_CHECKING:  # layout imports this module; the type is for annotations only
    from .layout import District

# Shelter area so that area * 0.6 (usable) / 2 m2 per person ~= 0.85 * population.
SHELTER_M2_PER_PERSON = 0.85 * 2.0 / 0.6
# (share of shelter area, typical item size ha, min ha, max ha) per shelter kind.
SHELTER_MIX = {
    "stadium": (0.06, 5.0, 0.5, 6.0),  # only from STADIUM_MIN_POP people up
    "park": (0.37, 4.0, 0.5, 8.0),
    "square": (0.06, 1.5, 0.3, 3.0),
    "school": (0.44, 2.0, 0.6, 3.0),
    "sports_centre": (0.07, 2.0, 0.3, 3.0),
}
STADIUM_MIN_POP = 20_000  # a 10,000-person town has no stadium


def plan_places(d: District) -> None:
    """Shelters and facilities as item dicts placed on free blocks of city or town.

    Sets ``d.items``, sorted by (kind, k): each has ``kind``, ``area`` (m2), ``town``, ``k``
    (number within its kind), ``poly`` (corner points, local metres), the blocks it took
    (``grid``, ``ij``, ``n``) and, where land was left beside it, ``residual``.
    """
    pop, rng = d.pop, d.rng
    tf = d.pop_town / pop
    town = d.town is not None
    total = SHELTER_M2_PER_PERSON * pop
    items = []
    for kind, (share, typ, lo, hi) in SHELTER_MIX.items():
        if kind == "stadium" and pop < STADIUM_MIN_POP:
            continue
        n = 1 if kind == "stadium" else max(1, round(total * share / (typ * 1e4)))
        sizes = np.clip(total * share / n * rng.uniform(0.75, 1.25, n), lo * 1e4, hi * 1e4)
        n_town = max(1, round(n * tf)) if town and kind in ("park", "school") and n >= 2 else 0
        items += [(kind, s, k < n_town) for k, s in enumerate(sizes)]
    n_fire = int(np.clip(round(pop / 50_000) + 1, 1, 12))
    n_hosp = int(np.clip(round(pop / 80_000), 1, 10))
    n_town_dep = int(np.clip(round(pop / 100_000), 1, 8))
    n_comm = int(np.clip(round(pop / 37_500), 1, 24))
    items += [("fire_station", rng.uniform(3e3, 6e3), town and n_fire >= 3 and k == 0)
              for k in range(n_fire)]
    items += [("hospital", rng.uniform(1.5e4, 3.5e4), town and n_hosp >= 3 and k == n_hosp - 1)
              for k in range(n_hosp)]
    items.append(("depot:district", 1.2e4, False))
    items += [("depot:town", rng.uniform(6e3, 8e3), town and k == 0) for k in range(n_town_dep)]
    n_tc = round(n_comm * tf) if town else 0
    items += [("depot:community", rng.uniform(2e3, 4e3), k < n_tc) for k in range(n_comm)]
    count: dict[str, int] = {}
    order = sorted(range(len(items)), key=lambda n: -items[n][1])
    placed = []
    for n in order:
        kind, area, in_town = items[n]
        k = count.get(kind, 0)
        count[kind] = k + 1
        it = {"kind": kind, "area": float(area), "town": bool(in_town), "k": k}
        _place(rng, d.town if in_town else d.city, it, placed)
        placed.append(it)
    d.items = sorted(placed, key=lambda it: (it["kind"], it["k"]))


def _place(rng: np.random.Generator, g: Grid, it: dict, placed: list[dict]) -> None:
    """Put item ``it`` on free blocks of ``g``: one block, or 2 x 2 when it is big.

    Picks the candidate farthest from places of the same kind (then from any place) among
    up to 40 drawn at random, puts the polygon in a random corner of the blocks and leaves
    the rest of the land, when large enough, as a residual residential polygon.
    """
    net = (BLOCK_M - 2 * STREET_HALF_M) ** 2
    big = it["area"] > 0.8 * net
    free = g.state == 0
    if big:
        ok = free[:-1, :-1] & free[1:, :-1] & free[:-1, 1:] & free[1:, 1:]
        for i in range(g.nx - 1):
            if i + 1 in g.ax:
                ok[i, :] = False
        for j in range(g.ny - 1):
            if j + 1 in g.ay:
                ok[:, j] = False
        cand = [(i, j) for i, j in zip(*np.nonzero(ok), strict=True)
                if not any(s in g.special for s in interior_segments(i, j, 2))]
    else:
        cand = list(zip(*np.nonzero(free), strict=True))
    if not cand:
        raise RuntimeError(f"no room left for a {it['kind']} of {it['area']:.0f} m2")
    pick = rng.choice(len(cand), size=min(40, len(cand)), replace=False)
    n = 2 if big else 1

    def score(c):
        x, y = g.X(c[0] + n / 2), g.Y(c[1] + n / 2)
        same = [math.hypot(x - p["cx"], y - p["cy"]) for p in placed if p["kind"] == it["kind"]]
        anyd = [math.hypot(x - p["cx"], y - p["cy"]) for p in placed]
        return min(same, default=1e5) + 0.25 * min(anyd, default=1e5)

    i, j = (int(v) for v in cand[max(pick, key=lambda p: score(cand[p]))])
    bx0, by0, bx1, by1 = g.inner(i, j, n)
    W, H = bx1 - bx0, by1 - by0  # noqa: N806
    w = min(W, math.sqrt(it["area"] * W / H))
    h = min(H, it["area"] / w)
    corner = int(rng.integers(4))
    sx, sy = (1, -1)[corner % 2], (1, -1)[corner // 2]
    cx0, cy0 = (bx0 if sx > 0 else bx1), (by0 if sy > 0 else by1)

    def tr(pts):
        return [(cx0 + sx * u, cy0 + sy * v) for u, v in pts]

    it["poly"] = tr([(0, 0), (w, 0), (w, h), (0, h)])
    it["cx"], it["cy"] = cx0 + sx * w / 2, cy0 + sy * h / 2
    it["grid"], it["ij"], it["n"] = g, (i, j), n
    gap = 6.0
    res = None
    if (W * H - w * h) / (W * H) > 0.35:
        if w + gap >= W - 30:
            res = [(0, h + gap), (W, h + gap), (W, H), (0, H)]
        elif h + gap >= H - 30:
            res = [(w + gap, 0), (W, 0), (W, H), (w + gap, H)]
        else:
            res = [(w + gap, 0), (W, 0), (W, H), (0, H), (0, h + gap), (w + gap, h + gap)]
    g.state[i:i + n, j:j + n] = 4
    if res is not None:
        g.state[i, j] = 5
        it["residual"] = tr(res)
    if big:
        g.removed.update(interior_segments(i, j, 2))


def place_tags(it: dict) -> tuple[dict[str, str], str]:
    """OSM tags (with English name) and Chinese name of a placed shelter or facility."""
    kind, k, town = it["kind"], it["k"], it["town"]
    tw, tz = TOWN_WORD
    w, z = word(5 + 2 * k + 7 * len(kind))
    if kind == "stadium":
        tags, zh = {"leisure": "stadium"}, "山前区体育场"
        name = "Shanqian District Stadium"
    elif kind == "park":
        tags, name, zh = {"leisure": "park"}, f"{w} Park", f"{z}公园"
    elif kind == "square":
        tags = {"place": "square", "highway": "pedestrian", "area": "yes"}
        name, zh = f"{w} Square", f"{z}广场"
    elif kind == "sports_centre":
        tags, name, zh = {"leisure": "sports_centre"}, f"{w} Sports Centre", f"{z}体育中心"
    elif kind == "school":
        mid = k % 3 == 2
        tags = {"amenity": "school"}
        pre, pz = (f"{tw} Town", f"{tz}镇") if town else ("Shanqian", "山前区")
        name = f"{pre} No. {k + 1} {'Middle' if mid else 'Primary'} School"
        zh = f"{pz}第{k + 1}{'中学' if mid else '小学'}"
    elif kind == "fire_station":
        tags, name, zh = {"amenity": "fire_station"}, f"{w} Fire Station", f"{z}消防站"
    elif kind == "hospital":
        tags = {"amenity": "hospital"}
        name, zh = (("Shanqian District People's Hospital", "山前区人民医院") if k == 0 else
                    (f"{w} Hospital", f"{z}医院"))
    else:
        level = kind.split(":")[1]
        tags = {"building": "warehouse", "depot:level": level}
        if level == "district":
            name, zh = "Shanqian District Material Reserve Depot", "山前区应急物资储备库"
        elif level == "town":
            name, zh = ((f"{tw} Town Material Reserve Depot", f"{tz}镇应急物资储备库") if town
                        else (f"{w} Street Material Reserve Depot", f"{z}街道应急物资储备库"))
        else:
            name, zh = f"{w} Community Material Reserve Depot", f"{z}社区应急物资储备点"
    tags.update({"name": name, "name:zh": zh})
    return tags, zh
