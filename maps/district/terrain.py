"""The district's natural features: mountain front, river, gully streams, ridges, peaks.

`Land` holds the randomly drawn shapes and answers "where is the mountain front / the
river at this y" and "how high is the ground here"; the DEM, the stream corridors in the
grids and the OSM waterways, ridges and peaks are all derived from it, so they agree.
"""

from __future__ import annotations

import math

import numpy as np

from .grid import BLOCK_M, Grid
from .naming import word
from .osm import Osm


class Land:
    """Natural features in local metres (x east, y north); see `layout.District`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the shape phases here and the streams in `make_streams`.
    x_front0 : float
        Mean x (metres) of the mountain front, which runs N-S west of the city.
    x_river0 : float
        Mean x (metres) of the river, which runs N-S east of the city.
    y_range : tuple of float
        (south, north) y metres that the map covers.
    """

    def __init__(self, rng: np.random.Generator, x_front0: float, x_river0: float,
                 y_range: tuple[float, float]) -> None:
        self.rng = rng
        ph = rng.uniform(0, 2 * math.pi, 6)
        self._front = (x_front0, ph[0], ph[1])
        self._river = (x_river0, ph[2])
        self._ridge_ph = ph[3:5]
        self.y_range = y_range
        self.streams: list[tuple[np.ndarray, np.ndarray, str, str]] = []

    def x_front(self, y):
        """Local x metres of the mountain front at local y metres; vectorised."""
        x0, p1, p2 = self._front
        return x0 + 150.0 * np.sin(y / 2300.0 + p1) + 80.0 * np.sin(y / 900.0 + p2)

    def x_river(self, y):
        """Local x metres of the river's centre line at local y metres; vectorised."""
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
        """Draw the gully streams: 6 km inside the mountains, east across the plain to the river."""
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
            w, z = word(12 + 3 * k)
            self.streams.append((sx, f(sx), f"{w} Gully Stream", f"{z}沟"))

    def mark_stream_blocks(self, g: Grid) -> None:
        """Mark every block of ``g`` that a stream crosses as a stream corridor (state 1)."""
        for sx, sy, _, _ in self.streams:
            xd = np.arange(sx[0], sx[-1], 20.0)
            yd = np.interp(xd, sx, sy)
            i = np.floor((xd - g.x0) / BLOCK_M).astype(int)
            j = np.floor((yd - g.y0) / BLOCK_M).astype(int)
            ok = (i >= 0) & (i < g.nx) & (j >= 0) & (j < g.ny)
            g.state[i[ok], j[ok]] = 1

    def stream_hits(self, pts) -> bool:
        """Whether any stream passes through the bounding box of ``pts`` (local metres)."""
        p = np.asarray(pts)
        (xa, ya), (xb, yb) = p.min(0), p.max(0)
        for sx, sy, _, _ in self.streams:
            xd = np.arange(max(xa, sx[0]), min(xb, sx[-1]) + 1.0, 10.0)
            yd = np.interp(xd, sx, sy)
            if np.any((yd >= ya) & (yd <= yb)):
                return True
        return False

    def emit_nature(self, osm: Osm) -> None:
        """River, streams, ridges split at gullies, peaks."""
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
            w, zh = word(35 + r)
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
                pw, pz = word(38 + 3 * r + n)
                osm.node(gx.flat[k], gy.flat[k], {"natural": "peak", "ele": f"{zz.flat[k]:.0f}",
                                                  "name": f"{pw} Peak", "name:zh": f"{pz}峰"})
