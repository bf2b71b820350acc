#!/usr/bin/env python3
"""Generate the FICTIONAL default district: an OSM XML map, a zone table and a DEM.

"Shanqian District" (山前区) is invented: a mid-size industrial district at the foot of a
mountain range, placed near 38.98 N, 106.38 E only so that UTM projection, latitude and
terrain are plausible. Nothing in it describes the real place at those coordinates.

Run from the repository root::

    python maps/generate_district.py --population 300000 --seed 1 --out maps/ \
        --name default-district

writes ``<name>.osm.bz2`` (OSM XML 0.6), ``<name>.zones.csv`` (``zone,population,kind``),
``<name>.dem.asc`` (ESRI ASCII grid, WGS84, 1 arc-second) and ``<name>.dem.prj``.
Same arguments give byte-identical files. See maps/README.md for the tag conventions.

Geometry is built in local metres (x east, y north, origin at the city centre) and
converted to WGS84 with an equirectangular approximation about (LAT0, LON0), which is
exact to well under a metre over the ~20 km extent.
"""

from __future__ import annotations

import argparse
import bz2
import math
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent

LAT0, LON0 = 38.98, 106.38  # map centre, WGS84 degrees (fictional placement)
R_EARTH_M = 6_371_008.8  # IUGG mean Earth radius (Moritz 2000, Geodetic Reference System 1980)
BLOCK_M = 200.0  # local street spacing in built-up areas; brief: 150-250 m
ART_EVERY = 5  # an arterial every 5 blocks = 1 km, a common Chinese planned-grid spacing
STREET_HALF_M = 12.0  # centre line to block edge (half carriageway + sidewalk)
DENSITY_PER_HA = 100.0  # ASSUMPTION: persons per ha of residential land, held constant
RES_FRACTION = 0.90  # residential share of block land left after shelters, facilities, streams
TOWN_SHARE = 0.10  # the separate town holds ~10 % of the population (brief: 8-12 %)
TOWN_MIN_POP = 20_000  # below this the district collapses to one zone
TOWN_GAP_M = 3_000.0  # town lies a few km south of the city
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
# Pinyin / Chinese words for fictional names; generic words, not real street names.
WORDS = [
    ("Wenhua", "文化"), ("Jianshe", "建设"), ("Renmin", "人民"), ("Heping", "和平"),
    ("Xinhua", "新华"), ("Gongye", "工业"), ("Chaoyang", "朝阳"), ("Changcheng", "长城"),
    ("Minzhu", "民主"), ("Youyi", "友谊"), ("Shengli", "胜利"), ("Guangming", "光明"),
    ("Jiefang", "解放"), ("Fuxing", "复兴"), ("Qingnian", "青年"), ("Xingfu", "幸福"),
    ("Anning", "安宁"), ("Huanghe", "黄河"), ("Hongqi", "红旗"), ("Taiyang", "太阳"),
    ("Dongfeng", "东风"), ("Xiyuan", "西苑"), ("Nanhu", "南湖"), ("Beiyuan", "北苑"),
    ("Tianxiang", "天祥"), ("Kuangye", "矿业"), ("Meitan", "煤炭"), ("Huimin", "惠民"),
    ("Kangle", "康乐"), ("Ronghua", "荣华"), ("Jinshan", "金山"), ("Yinhe", "银河"),
    ("Songshan", "松山"), ("Baita", "白塔"), ("Qingshan", "青山"), ("Lvyuan", "绿苑"),
    ("Changan", "长安"), ("Xinglong", "兴隆"), ("Yongning", "永宁"), ("Taihe", "泰和"),
    ("Fengqing", "丰庆"), ("Shuguang", "曙光"), ("Huaxia", "华夏"), ("Jinxiu", "锦绣"),
]
ZONE_WORDS = [("Wenchang", "文昌"), ("Yingbin", "迎宾"), ("Chaoyang", "朝阳"), ("Gongnong", "工农"),
              ("Heping", "和平"), ("Xinhua", "新华"), ("Shengli", "胜利")]
TOWN_WORD = ("Hongguo", "红果")
DRIVE_TAGS = {  # highway class -> (total lanes, maxspeed km/h)
    "trunk": (6, 80), "primary": (6, 60), "secondary": (4, 50), "tertiary": (2, 40),
    "residential": (2, 30), "unclassified": (2, 40),
}


def _word(k: int) -> tuple[str, str]:
    w, z = WORDS[k % len(WORDS)]
    n = k // len(WORDS)
    return (w, z) if n == 0 else (f"{w} {n + 1}", f"{z}{n + 1}")


def _road(hw: str, name: str, zh: str, **extra: str) -> dict[str, str]:
    lanes, vmax = DRIVE_TAGS[hw]
    return {"highway": hw, "lanes": str(lanes), "maxspeed": str(vmax), "name": name,
            "name:zh": zh, **extra}


def _arterial_lines(n: int) -> list[int]:
    """Grid line indices that carry arterials: every ART_EVERY, plus both edges."""
    lines = list(range(0, n + 1, ART_EVERY))
    if lines[-1] != n:
        if n - lines[-1] < 3 and len(lines) > 1:
            lines[-1] = n  # widen the last cell rather than leave a 1-2 block sliver
        else:
            lines.append(n)
    return lines


def _area(pts) -> float:
    p = np.asarray(pts, float)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


class _Osm:
    """OSM elements in creation order; ids are 1-based positions (nodes, ways apart)."""

    def __init__(self) -> None:
        self.nodes: list[tuple[float, float, dict]] = []
        self.ways: list[tuple[list[int], dict]] = []

    def node(self, x: float, y: float, tags: dict | None = None) -> int:
        self.nodes.append((float(x), float(y), tags or {}))
        return len(self.nodes)

    def way(self, refs: list[int], tags: dict) -> int:
        self.ways.append((list(refs), dict(tags)))
        return len(self.ways)

    def poly(self, pts, tags: dict) -> int:
        refs = [self.node(x, y) for x, y in pts]
        return self.way(refs + refs[:1], tags)


class _Grid:
    """A planned street grid of nx x ny blocks (city or town), lines 0..nx / 0..ny."""

    def __init__(self, x0: float, y0: float, nx: int, ny: int, word0: int) -> None:
        self.x0, self.y0, self.nx, self.ny, self.word0 = x0, y0, nx, ny, word0
        self.ax, self.ay = _arterial_lines(nx), _arterial_lines(ny)
        self.state = np.zeros((nx, ny), np.int8)  # 0 res 1 stream 2 industry 3 old 4 used 5 part
        self.removed: set[tuple] = set()  # ("v", i, j) / ("h", j, i) segments not built
        self.special: dict[tuple, str] = {}  # segment -> "up" | "down" | "pedestrian"
        self.ids: dict[tuple[int, int], int] = {}

    def X(self, i: float) -> float:  # noqa: N802 - grid line i -> x metres
        return self.x0 + i * BLOCK_M

    def Y(self, j: float) -> float:  # noqa: N802
        return self.y0 + j * BLOCK_M

    def inner(self, i: int, j: int, n: int = 1) -> tuple[float, float, float, float]:
        m = STREET_HALF_M
        return (self.X(i) + m, self.Y(j) + m, self.X(i + n) - m, self.Y(j + n) - m)

    def line_tags(self, d: str, k: int) -> dict[str, str]:
        """Tags of grid line k (d = "v": x = X(k), runs N-S; "h": runs E-W)."""
        arts = self.ax if d == "v" else self.ay
        off = self.word0 + (0 if d == "v" else 20)
        a = max(n for n, line in enumerate(arts) if line <= k)
        w, z = _word(off + a)
        if k in arts:
            hw = "primary" if a % 2 == 0 else "secondary"
            return _road(hw, f"{w} {'Road' if d == 'v' else 'Street'}",
                         f"{z}{'路' if d == 'v' else '街'}")
        n = k - arts[a]
        hw = "tertiary" if n == 2 else "residential"
        return _road(hw, f"{w} {'Lane' if d == 'v' else 'Alley'} {n}",
                     f"{z}{'巷' if d == 'v' else '里'}{n}")


class _District:
    """The whole fictional district, built from (population, rng); see _build_district."""

    def __init__(self, population: int, rng: np.random.Generator) -> None:
        self.pop, self.rng, self.osm = population, rng, _Osm()
        self.pop_town = round(population * TOWN_SHARE) if population >= TOWN_MIN_POP else 0
        self.pop_city = population - self.pop_town
        net_ha = (BLOCK_M - 2 * STREET_HALF_M) ** 2 / 1e4
        self.ind_k = int(np.clip(round(math.sqrt(population / 12_000)), 2, 7))
        overhead = 6 + population / 25_000  # blocks taken whole by shelters and facilities
        n = self.pop_city / (DENSITY_PER_HA * net_ha * RES_FRACTION) + self.ind_k**2 + overhead
        nx = max(6, round(math.sqrt(n / 1.2)))
        ny = max(6, math.ceil(n / nx))
        self.city = _Grid(-nx * BLOCK_M / 2, -ny * BLOCK_M / 2, nx, ny, 0)
        c = self.city
        ph = rng.uniform(0, 2 * math.pi, 6)
        self._front = (c.X(0) - 1200.0, ph[0], ph[1])
        self._river = (c.X(nx) + 700.0, ph[2])
        self._ridge_ph = ph[3:5]
        self.x_trunk = c.X(nx) + 1400.0
        self.town = None
        if self.pop_town:
            nt = self.pop_town / (DENSITY_PER_HA * net_ha * RES_FRACTION)
            tnx = max(3, round(math.sqrt(nt)))
            tny = max(3, math.ceil(nt / tnx))
            a_c = min(c.ax, key=lambda i: abs(i - nx / 2))  # city arterial the link road uses
            self.a_t = min(_arterial_lines(tnx), key=lambda i: abs(i - tnx / 2))
            self.a_c = a_c
            self.town = _Grid(c.X(a_c) - self.a_t * BLOCK_M, c.Y(0) - TOWN_GAP_M - tny * BLOCK_M,
                              tnx, tny, 30)
        south = (self.town or c).Y(0)
        self.y_range = (south - 1500.0, c.Y(ny) + 1500.0)
        self.streams: list[tuple[np.ndarray, np.ndarray, str, str]] = []
        self.items: list[dict] = []
        self.zone_rows: list[tuple[str, int, str]] = []
        self.summary: dict = {}

    # --- natural features -------------------------------------------------------------
    def x_front(self, y):
        x0, p1, p2 = self._front
        return x0 + 150.0 * np.sin(y / 2300.0 + p1) + 80.0 * np.sin(y / 900.0 + p2)

    def x_river(self, y):
        x0, p = self._river
        return x0 + 90.0 * np.sin(y / 1700.0 + p)

    def elevation(self, x, y):
        """Terrain height in metres at local (x, y) metres; vectorised.

        Plain ~1,100 m falling gently east to the river (6.5 m/km) and north (1.5 m/km),
        a 30 m alluvial fan at the mountain front, mountains rising ~1,300 m over a few km
        plus two N-S ridges (to ~2,500-3,000 m), gullies along every stream (deep in the
        mountains, ~3 m on the plain) and a 6 m river channel.
        """
        x, y = np.asarray(x, float), np.asarray(y, float)
        xf, xr = self.x_front(y), self.x_river(y)
        m = np.clip(xf - x, 0.0, None)  # depth into the mountains
        z = (1096.0 - 0.0015 * y + 0.0065 * np.clip(xr - x, 0.0, None)
             + 0.004 * np.clip(x - xr, 0.0, None)
             + 30.0 * np.exp(-np.clip(x - xf, 0.0, None) / 1200.0))
        zm = 1300.0 * (1.0 - np.exp(-m / 1800.0))
        for off, amp, p in ((2600.0, 300.0, self._ridge_ph[0]), (5000.0, 450.0, self._ridge_ph[1])):
            zm = zm + amp * np.exp(-((x - (xf - off)) / 700.0) ** 2) * (
                1.0 + 0.25 * np.sin(y / 1300.0 + p)) * np.clip(m / 800.0, 0.0, 1.0)
        zm = zm + 40.0 * np.sin(x / 370.0) * np.sin(y / 410.0) * np.clip(m / 500.0, 0.0, 1.0)
        z = z + zm
        for sx, sy, _, _ in self.streams:
            inside = (x >= sx[0]) & (x <= sx[-1])
            dy = y - np.interp(x, sx, sy)
            w = np.where(m > 0, 120.0 + 0.05 * m, 30.0)
            head = np.clip((x - sx[0]) / 1500.0, 0.0, 1.0)  # gully deepens from its head
            z = z - inside * head * (0.45 * zm + 3.0) * np.exp(-((dy / w) ** 2))
        return z - 6.0 * np.exp(-(((x - xr) / 45.0) ** 2))

    def make_streams(self) -> None:
        y0, y1 = self.y_range
        n = int(np.clip(round((y1 - y0) / 3000.0), 2, 8))
        ys = np.linspace(y0, y1, n + 2)[1:-1]
        ys = ys + self.rng.uniform(-300, 300, n)
        for k, yk in enumerate(ys):
            a1, l1, a2, l2 = (self.rng.uniform(40, 100), self.rng.uniform(600, 1200),
                              self.rng.uniform(15, 40), self.rng.uniform(450, 800))
            p1, p2 = self.rng.uniform(0, 2 * math.pi, 2)

            def f(x, yk=yk, a1=a1, l1=l1, a2=a2, l2=l2, p1=p1, p2=p2):
                return yk + a1 * np.sin(x / l1 + p1) + a2 * np.sin(x / l2 + p2)

            xs0 = float(self.x_front(yk)) - 6000.0
            x_end = float(self.x_river(f(float(self.x_river(yk)))))
            sx = np.append(np.arange(xs0, x_end - 100.0, 200.0), x_end)
            w, z = _word(12 + 3 * k)
            self.streams.append((sx, f(sx), f"{w} Gully Stream", f"{z}沟"))

    def mark_stream_blocks(self, g: _Grid) -> None:
        for sx, sy, _, _ in self.streams:
            xd = np.arange(sx[0], sx[-1], 20.0)
            yd = np.interp(xd, sx, sy)
            i = np.floor((xd - g.x0) / BLOCK_M).astype(int)
            j = np.floor((yd - g.y0) / BLOCK_M).astype(int)
            ok = (i >= 0) & (i < g.nx) & (j >= 0) & (j < g.ny)
            g.state[i[ok], j[ok]] = 1

    def stream_hits(self, pts) -> bool:
        p = np.asarray(pts)
        (xa, ya), (xb, yb) = p.min(0), p.max(0)
        for sx, sy, _, _ in self.streams:
            xd = np.arange(max(xa, sx[0]), min(xb, sx[-1]) + 1.0, 10.0)
            yd = np.interp(xd, sx, sy)
            if np.any((yd >= ya) & (yd <= yb)):
                return True
        return False

    # --- planned features -------------------------------------------------------------
    def plan_centre(self) -> None:
        """Chemical park (NE corner), one-way pairs + a pedestrian street, old quarter."""
        g, k = self.city, self.ind_k
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
                        segs = _interior_segments(i0, j0, q)
                        if (g.state[i0:i0 + q, j0:j0 + q] == 2).any() or any(
                                s in g.special for s in segs):
                            continue
                        d = math.hypot(g.X(i0 + q / 2) - target[0], g.Y(j0 + q / 2) - target[1])
                        if best is None or d < best[0]:
                            best = (d, i0, j0)
        self.oq = None
        if best is not None:
            _, i0, j0 = best
            self.oq = (i0, j0, q)
            g.removed.update(_interior_segments(i0, j0, q))
            g.state[i0:i0 + q, j0:j0 + q] = 3

    def plan_places(self) -> None:
        """Shelters and facilities as item dicts placed on free blocks of city or town."""
        pop, rng = self.pop, self.rng
        tf = self.pop_town / pop
        town = self.town is not None
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
            self._place(self.town if in_town else self.city, it, placed)
            placed.append(it)
        self.items = sorted(placed, key=lambda it: (it["kind"], it["k"]))

    def _place(self, g: _Grid, it: dict, placed: list[dict]) -> None:
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
                    if not any(s in g.special for s in _interior_segments(i, j, 2))]
        else:
            cand = list(zip(*np.nonzero(free), strict=True))
        if not cand:
            raise RuntimeError(f"no room left for a {it['kind']} of {it['area']:.0f} m2")
        pick = self.rng.choice(len(cand), size=min(40, len(cand)), replace=False)
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
        corner = int(self.rng.integers(4))
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
            g.removed.update(_interior_segments(i, j, 2))

    # --- output -----------------------------------------------------------------------
    def gnode(self, g: _Grid, i: int, j: int) -> int:
        if (i, j) not in g.ids:
            g.ids[i, j] = self.osm.node(g.X(i), g.Y(j))
        return g.ids[i, j]

    def emit_grid(self, g: _Grid) -> None:
        """One way per run of equally tagged segments along each grid line."""
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
                            tags = _road("tertiary", base["name"], base["name:zh"], oneway="yes")
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
                    refs = [self.gnode(g, k, p) if d == "v" else self.gnode(g, p, k) for p in pts]
                    self.osm.way(refs[::-1] if key[1] else refs, dict(key[0]))

    def emit_old_quarter(self) -> list[list[tuple[float, float]]]:
        """Irregular lanes (jittered, curved, dead ends) replacing the grid in one cell."""
        g, rng, osm = self.city, self.rng, self.osm
        i0, j0, q = self.oq
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
            tags = (_road("residential", name, zh) if rng.random() < 0.65 else
                    {"highway": "living_street", "maxspeed": "20", "name": name, "name:zh": zh})
            osm.way([lid(e0), *mids, lid(e1)], tags)
        for gk, lk in links:
            tag = f"{gk[0]}-{gk[1]}"
            osm.way([self.gnode(g, *gk), lid(lk)],
                    _road("residential", f"Laocheng Entry {tag}", f"老城入口{tag}"))
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
                if not self.stream_hits(pts):
                    quads.append([tuple(p) for p in pts])
        return quads

    def emit_links(self) -> None:
        """Bridges to the riverside trunk road, the town link road, the mine road."""
        osm = self.osm
        trunk = []
        for g in (self.city, self.town):
            if g is None:
                continue
            for j in g.ay:
                tags, y = g.line_tags("h", j), g.Y(j)
                xr = float(self.x_river(y))
                b0, b1 = osm.node(xr - 50.0, y), osm.node(xr + 50.0, y)
                t = osm.node(self.x_trunk, y)
                osm.way([self.gnode(g, g.nx, j), b0], tags)
                osm.way([b0, b1], {**tags, "bridge": "yes", "layer": "1"})
                osm.way([b1, t], tags)
                trunk.append((y, t))
        y0, y1 = self.y_range
        for y in np.arange(y0, y1 + 1.0, 500.0):
            if min(abs(y - ty) for ty, _ in trunk) > 100.0:
                trunk.append((float(y), osm.node(self.x_trunk, y)))
        trunk.sort()
        osm.way([t for _, t in trunk], _road("trunk", "Binhe Expressway", "滨河快速路"))
        if self.town is not None:
            c, t = self.city, self.town
            ya, yb = t.Y(t.ny), c.Y(0)
            mids = [osm.node(c.X(self.a_c), y) for y in np.arange(ya + 500.0, yb - 250.0, 500.0)]
            osm.way([self.gnode(t, self.a_t, t.ny), *mids, self.gnode(c, self.a_c, 0)],
                    _road("primary", f"{TOWN_WORD[0]} Road", f"{TOWN_WORD[1]}路", lanes="4"))
        c = self.city
        jq = c.ay[(2 * len(c.ay)) // 3]
        yq = c.Y(jq)
        x_end = float(self.x_front(yq)) - 2000.0
        xs = np.arange(c.X(0) - 250.0, x_end - 1.0, -250.0)
        wob = 30.0 * np.sin(np.arange(len(xs)) * 0.9 + self.rng.uniform(0, 6.0))
        refs = [self.gnode(c, 0, jq)] + [osm.node(x, yq + w) for x, w in zip(xs, wob, strict=True)]
        osm.way(refs, _road("unclassified", "Kuangshan Road", "矿山路"))
        ang = np.linspace(0, 2 * math.pi, 9)[:-1]
        rad = self.rng.uniform(0.8, 1.1, 8)
        q = [(xs[-1] - 380.0 + 380.0 * r * math.cos(a), yq + wob[-1] + 260.0 * r * math.sin(a))
             for a, r in zip(ang, rad, strict=True)]
        osm.poly(q, {"landuse": "quarry", "resource": "coal", "name": "Shanqian Coal Mine",
                     "name:zh": "山前煤矿"})

    def plan_zones(self) -> list[dict]:
        """Sub-districts as rectangles of whole arterial cells, plus the town."""
        g = self.city
        cx, cy = len(g.ax) - 1, len(g.ay) - 1
        n_sub = min(int(np.clip(round(self.pop_city / 45_000), 1, 7)), cx * cy)
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
        if self.town is not None:
            t = self.town
            zones.append({"name": f"{TOWN_WORD[0]} Town", "zh": f"{TOWN_WORD[1]}镇",
                          "rect": (t.X(0) - mg, t.Y(0) - mg, t.X(t.nx) + mg, t.Y(t.ny) + mg),
                          "kind": "town", "area": 0.0, "word": TOWN_WORD, "n": 0})
        return zones

    def emit_areas(self, zones: list[dict], oq_quads: list) -> None:
        osm = self.osm

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
        for g in (self.city, self.town):
            if g is None:
                continue
            for i in range(g.nx):
                for j in range(g.ny):
                    if g.state[i, j] == 0:
                        x0, y0, x1, y1 = g.inner(i, j)
                        residential([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        for pts in oq_quads:
            residential(pts)
        for it in self.items:
            if "residual" in it:
                residential(it["residual"])
            tags, zh = _place_tags(it)
            osm.poly(it["poly"], tags)
            if it["kind"] == "park":
                g, (i, j), n = it["grid"], it["ij"], it["n"]
                mid = osm.node(g.X(i + n / 2), g.Y(j + n / 2))
                osm.way([self.gnode(g, i, j), mid, self.gnode(g, i + n, j + n)],
                        {"highway": "footway", "name": f"{tags['name']} Path",
                         "name:zh": f"{zh}步道"})
        g, k = self.city, self.ind_k
        x0, y0, x1, y1 = g.X(g.nx - k), g.Y(g.ny - k), g.X(g.nx), g.Y(g.ny)
        m = STREET_HALF_M
        osm.poly([(x0 + m, y0 + m), (x1 - m, y0 + m), (x1 - m, y1 - m), (x0 + m, y1 - m)],
                 {"landuse": "industrial", "industrial": "chemical",
                  "name": "Shanqian Chemical Industrial Park", "name:zh": "山前化工园区"})
        for n in range(int(np.clip(2 * k, 4, 12))):
            i, j = (int(v) for v in self.rng.integers(0, k, 2))
            x, y = g.X(g.nx - k + i + 0.5), g.Y(g.ny - k + j + 0.5)
            sub, en, zh = (("chlorine", "Chlorine", "液氯") if n % 2 == 0 else
                           ("ammonia", "Ammonia", "液氨"))
            osm.node(x + self.rng.uniform(-50, 50), y + self.rng.uniform(-50, 50),
                     {"man_made": "storage_tank", "substance": sub,
                      "name": f"{en} Tank T{n + 1}", "name:zh": f"{zh}储罐T{n + 1}"})
        if self.town is not None:
            t = self.town
            osm.node(t.X(t.nx / 2), t.Y(t.ny / 2),
                     {"place": "town", "name": f"{TOWN_WORD[0]} Town",
                      "name:zh": f"{TOWN_WORD[1]}镇", "population": str(self.pop_town)})

    def emit_nature(self) -> None:
        """River, streams, ridges split at gullies, peaks."""
        osm = self.osm
        y0, y1 = self.y_range
        # Streams end on the river line without sharing its node: osmnx graph_from_xml turns
        # every way into edges, and a joined river + streams network would outgrow a small
        # town's road network as the "largest component" that retain_all=False keeps.
        for sx, sy, name, zh in self.streams:
            refs = [osm.node(x, y) for x, y in zip(sx, sy, strict=True)]
            osm.way(refs, {"waterway": "stream", "name": name, "name:zh": zh})
        river = [(float(y), osm.node(float(self.x_river(y)), y))
                 for y in np.arange(y0, y1 + 1.0, 300.0)]
        river.sort(reverse=True)  # flows north to south along the east side
        osm.way([r for _, r in river], {"waterway": "river", "name": "Qingshui River",
                                         "name:zh": "清水河"})
        for r, off in enumerate((2600.0, 5000.0)):
            w, zh = _word(35 + r)
            piece: list[int] = []
            for y in np.arange(y0, y1 + 1.0, 250.0):
                x = float(self.x_front(y)) - off
                near = any(sx[0] <= x <= sx[-1] and abs(np.interp(x, sx, sy) - y) < 350.0
                           for sx, sy, _, _ in self.streams)
                if not near:
                    piece.append(osm.node(x, y))
                if (near or y + 250.0 > y1 + 1.0) and piece:
                    if len(piece) >= 3:
                        osm.way(piece, {"natural": "ridge", "name": f"{w} Ridge",
                                        "name:zh": f"{zh}梁"})
                    piece = []
            for n, yc in enumerate(np.linspace(y0 + 1000.0, y1 - 1000.0, 2 + r)):
                xc = float(self.x_front(yc)) - off
                gx, gy = np.meshgrid(np.arange(xc - 600, xc + 601, 50.0),
                                     np.arange(yc - 600, yc + 601, 50.0))
                zz = self.elevation(gx, gy)
                k = int(np.argmax(zz))
                pw, pz = _word(38 + 3 * r + n)
                osm.node(gx.flat[k], gy.flat[k], {"natural": "peak", "ele": f"{zz.flat[k]:.0f}",
                                                  "name": f"{pw} Peak", "name:zh": f"{pz}峰"})

    @property
    def bbox_m(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) local metres of everything drawn."""
        y0, y1 = self.y_range
        ys = np.linspace(y0, y1, 200)
        return (float(self.x_front(ys).min()) - 6500.0, y0, self.x_trunk + 300.0, y1)


def _interior_segments(i0: int, j0: int, q: int) -> list[tuple]:
    """Grid segments strictly inside a q x q block square with SW corner (i0, j0)."""
    return ([("v", i, j) for i in range(i0 + 1, i0 + q) for j in range(j0, j0 + q)]
            + [("h", j, i) for j in range(j0 + 1, j0 + q) for i in range(i0, i0 + q)])


def _place_tags(it: dict) -> tuple[dict[str, str], str]:
    """OSM tags (with English name) and Chinese name of a placed shelter or facility."""
    kind, k, town = it["kind"], it["k"], it["town"]
    tw, tz = TOWN_WORD
    w, z = _word(5 + 2 * k + 7 * len(kind))
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


def _build_district(population: int, rng: np.random.Generator) -> _District:
    """Lay out the whole district; every random draw comes from ``rng`` in a fixed order."""
    d = _District(population, rng)
    d.make_streams()
    for g in (d.city, d.town):
        if g is not None:
            d.mark_stream_blocks(g)
    d.plan_centre()
    d.plan_places()
    zones = d.plan_zones()
    d.emit_grid(d.city)
    oq_quads = d.emit_old_quarter() if d.oq is not None else []
    if d.town is not None:
        d.emit_grid(d.town)
    d.emit_links()
    d.emit_areas(zones, oq_quads)
    d.emit_nature()
    city = [z for z in zones if z["kind"] == "subdistrict"]
    shares = np.array([z["area"] for z in city]) / sum(z["area"] for z in city)
    pops = _largest_remainder(d.pop_city, shares)
    d.zone_rows = [(z["name"], int(p), "subdistrict") for z, p in zip(city, pops, strict=True)]
    if d.town is not None:
        d.zone_rows.append((zones[-1]["name"], d.pop_town, "town"))
    res_m2 = sum(z["area"] for z in zones)
    shelter_m2 = sum(it["area"] for it in d.items if it["kind"] in SHELTER_MIX)
    counts: dict[str, int] = {}
    for it in d.items:
        counts[it["kind"]] = counts.get(it["kind"], 0) + 1
    d.summary = {
        "population": population, "residential_ha": res_m2 / 1e4,
        "density_per_ha": population / (res_m2 / 1e4), "shelter_ha": shelter_m2 / 1e4,
        "shelter_capacity": shelter_m2 * 0.6 / 2.0, "places": counts,
        "city_blocks": (d.city.nx, d.city.ny),
        "town_blocks": None if d.town is None else (d.town.nx, d.town.ny),
    }
    return d


def _largest_remainder(total: int, shares: np.ndarray) -> list[int]:
    """Integers proportional to ``shares`` that sum exactly to ``total`` (Hamilton method)."""
    raw = total * shares
    out = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
        out[k] += 1
    return out.tolist()


MIN_POPULATION = 10_000
MAX_POPULATION = 1_000_000
ARCSEC_DEG = 1.0 / 3600.0  # SRTM 1" cell size
DEM_MARGIN_M = 600.0
WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)


def _check_args(population: int, seed: int, name: str) -> None:
    if isinstance(population, bool) or not isinstance(population, int | np.integer):
        raise ValueError(f"--population: expected an integer, got {population!r}")
    if not MIN_POPULATION <= population <= MAX_POPULATION:
        raise ValueError(
            f"--population: expected {MIN_POPULATION:,} to {MAX_POPULATION:,} people, "
            f"got {population:,}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"--seed: expected a non-negative integer, got {seed!r}")
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(
            f"--name: expected a plain file stem like 'default-district', got {name!r}")


def _lonlat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres (x east, y north about LAT0/LON0) -> (lon, lat) WGS84 degrees."""
    lat = LAT0 + np.degrees(np.asarray(y_m) / R_EARTH_M)
    lon = LON0 + np.degrees(np.asarray(x_m) / (R_EARTH_M * math.cos(math.radians(LAT0))))
    return lon, lat


def _local(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (lon, lat) degrees -> local metres (x east, y north); inverse of _lonlat."""
    y = np.radians(np.asarray(lat) - LAT0) * R_EARTH_M
    x = np.radians(np.asarray(lon) - LON0) * R_EARTH_M * math.cos(math.radians(LAT0))
    return x, y


def _osm_xml(osm: _Osm) -> bytes:
    """Serialise to OSM XML 0.6; no timestamps, fixed version="1"."""
    xs = np.array([n[0] for n in osm.nodes])
    ys = np.array([n[1] for n in osm.nodes])
    lon, lat = _lonlat(xs, ys)
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


def _dem(d, bbox_m: tuple[float, float, float, float]) -> tuple[str, dict]:
    """Elevation grid over the map bbox + margin, as ESRI ASCII text (float metres).

    Plain ~1100 m sloping gently east to the river, an alluvial fan at the mountain front,
    mountains rising steeply to ~2,500-3,000 m in the west with N-S ridges, gullies cut
    along every stream and a river channel a few metres below the plain.
    """
    x0, y0, x1, y1 = bbox_m
    lon0, lat0 = _lonlat(np.array(x0 - DEM_MARGIN_M), np.array(y0 - DEM_MARGIN_M))
    lon1, lat1 = _lonlat(np.array(x1 + DEM_MARGIN_M), np.array(y1 + DEM_MARGIN_M))
    xll = math.floor(float(lon0) * 3600.0) / 3600.0  # snap to whole arc-seconds, like SRTM
    yll = math.floor(float(lat0) * 3600.0) / 3600.0
    ncols = math.ceil((float(lon1) - xll) * 3600.0)
    nrows = math.ceil((float(lat1) - yll) * 3600.0)
    lon_c = xll + (np.arange(ncols) + 0.5) * ARCSEC_DEG
    lat_c = yll + (nrows - np.arange(nrows) - 0.5) * ARCSEC_DEG  # row 0 is the north edge
    xg, _ = _local(lon_c, np.full(ncols, LAT0))
    _, yg = _local(np.full(nrows, LON0), lat_c)
    x, y = np.meshgrid(xg, yg)
    z = d.elevation(x, y)
    body = "\n".join(" ".join(f"{v:.1f}" for v in row) for row in z)
    head = (f"ncols {ncols}\nnrows {nrows}\nxllcorner {xll:.10f}\nyllcorner {yll:.10f}\n"
            f"cellsize {ARCSEC_DEG:.15f}\nNODATA_value -9999\n")
    info = {"ncols": ncols, "nrows": nrows, "z_min_m": float(z.min()), "z_max_m": float(z.max())}
    return head + body + "\n", info


def generate(population: int, seed: int, out_dir: Path, name: str) -> dict:
    """Write the fictional district's map, zone table and DEM into ``out_dir``.

    Parameters
    ----------
    population : int
        Residents, 10,000 (a small town) to 1,000,000 (a city). The built-up area scales
        at ~100 persons per hectare of residential land.
    seed : int
        Seed for ``numpy.random.default_rng``; non-negative. Same arguments -> same bytes.
    out_dir : Path
        Folder to write into (created if missing).
    name : str
        File stem, e.g. ``"default-district"``.

    Returns
    -------
    dict
        Paths written and a summary (counts, areas, zone populations, bbox in WGS84
        degrees as (west, south, east, north)).

    Raises
    ------
    ValueError
        On a population outside [10,000, 1,000,000], a negative seed or a bad name.
    """
    _check_args(population, seed, name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    d = _build_district(int(population), np.random.default_rng(int(seed)))

    osm_path = out_dir / f"{name}.osm.bz2"
    osm_path.write_bytes(bz2.compress(_osm_xml(d.osm), 9))  # bz2 has no timestamp
    zones_path = out_dir / f"{name}.zones.csv"
    rows = ["zone,population,kind"] + [f"{z},{p},{k}" for z, p, k in d.zone_rows]
    zones_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dem_text, dem_info = _dem(d, d.bbox_m)
    dem_path = out_dir / f"{name}.dem.asc"
    dem_path.write_text(dem_text, encoding="ascii")
    prj_path = out_dir / f"{name}.dem.prj"
    prj_path.write_text(WGS84_PRJ + "\n", encoding="ascii")

    xs = np.array([n[0] for n in d.osm.nodes])
    ys = np.array([n[1] for n in d.osm.nodes])
    lon, lat = _lonlat(xs, ys)
    summary = dict(d.summary)
    summary.update(
        osm=osm_path, zones_csv=zones_path, dem=dem_path, dem_prj=prj_path,
        n_nodes=len(d.osm.nodes), n_ways=len(d.osm.ways), dem_grid=dem_info,
        bbox_lonlat=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())),
        zones={z: p for z, p, _ in d.zone_rows}, block_m=BLOCK_M,
    )
    return summary


def write_scenario(out_dir: Path, name: str) -> Path:
    """Write ``<name>.toml``: the default scenario pointed at the generated ``<name>`` map.

    The copy keeps every setting of ``scenarios/default.toml`` and changes only the map,
    the zone table and the scenario name, so a generated district runs with
    ``evacsim run <out_dir>/<name>.toml``.
    """
    template = _HERE.parent / "scenarios" / "default.toml"
    text = template.read_text(encoding="utf-8")
    swaps = {
        '"../maps/default-district.osm.bz2"': f'"{name}.osm.bz2"',
        '"../maps/default-district.zones.csv"': f'"{name}.zones.csv"',
        'name = "default-district"': f'name = "{name}"',
    }
    for old, new in swaps.items():
        if old not in text:  # the template changed: fail loudly, not with a stale map
            raise ValueError(f"{template}: expected {old} in the default scenario")
        text = text.replace(old, new)
    path = Path(out_dir) / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python maps/generate_district.py --population N --seed S --out DIR``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--population", type=int, default=300_000,
                   help="residents, 10000..1000000 (default 300000)")
    p.add_argument("--seed", type=int, default=1, help="RNG seed, >= 0 (default 1)")
    p.add_argument("--out", type=Path, default=_HERE, help="output folder (default: maps/)")
    p.add_argument("--name", default="default-district", help="file stem")
    p.add_argument("--scenario", action="store_true",
                   help="also write <name>.toml, the default scenario on this map")
    a = p.parse_args(argv)
    try:
        s = generate(a.population, a.seed, a.out, a.name)
        if a.scenario:
            s["scenario"] = write_scenario(a.out, a.name)
    except ValueError as exc:
        p.error(str(exc))  # exits with status 2 and the message
    for key in ("osm", "zones_csv", "dem", "scenario"):
        if key in s:
            print(f"wrote {s[key]} ({s[key].stat().st_size:,} bytes)")
    print(f"{s['n_nodes']:,} nodes, {s['n_ways']:,} ways; residential "
          f"{s['residential_ha']:.0f} ha -> {s['density_per_ha']:.0f} persons/ha; "
          f"shelter area {s['shelter_ha']:.1f} ha")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
