"""A planned street grid of square blocks, as the city and the town are laid out.

Grid lines are numbered 0..nx (x = X(i), running N-S, "v") and 0..ny (y = Y(j), running
E-W, "h"); a segment ("v", i, j) is line i between Y(j) and Y(j + 1). Each block carries a
state (residential, stream corridor, industry, old quarter, place) that the planners fill
in before the roads and areas are written.
"""

from __future__ import annotations

import numpy as np

from .naming import road, word
from .osm import Osm

BLOCK_M = 200.0  # local street spacing in built-up areas; brief: 150-250 m
ART_EVERY = 5  # an arterial every 5 blocks = 1 km, a common Chinese planned-grid spacing
STREET_HALF_M = 12.0  # centre line to block edge (half carriageway + sidewalk)


def arterial_lines(n: int) -> list[int]:
    """Grid line indices that carry arterials: every ART_EVERY, plus both edges."""
    lines = list(range(0, n + 1, ART_EVERY))
    if lines[-1] != n:
        if n - lines[-1] < 3 and len(lines) > 1:
            lines[-1] = n  # widen the last cell rather than leave a 1-2 block sliver
        else:
            lines.append(n)
    return lines


def interior_segments(i0: int, j0: int, q: int) -> list[tuple]:
    """Grid segments strictly inside a q x q block square with SW corner (i0, j0)."""
    return ([("v", i, j) for i in range(i0 + 1, i0 + q) for j in range(j0, j0 + q)]
            + [("h", j, i) for j in range(j0 + 1, j0 + q) for i in range(i0, i0 + q)])


class Grid:
    """A planned street grid of nx x ny blocks (city or town), lines 0..nx / 0..ny.

    Parameters
    ----------
    x0, y0 : float
        Local metres (x east, y north) of the grid's SW corner, line (0, 0).
    nx, ny : int
        Blocks east-west and north-south.
    word0 : int
        First `naming.word` index used for this grid's street names.
    """

    def __init__(self, x0: float, y0: float, nx: int, ny: int, word0: int) -> None:
        self.x0, self.y0, self.nx, self.ny, self.word0 = x0, y0, nx, ny, word0
        self.ax, self.ay = arterial_lines(nx), arterial_lines(ny)
        self.state = np.zeros((nx, ny), np.int8)  # 0 res 1 stream 2 industry 3 old 4 used 5 part
        self.removed: set[tuple] = set()  # ("v", i, j) / ("h", j, i) segments not built
        self.special: dict[tuple, str] = {}  # segment -> "up" | "down" | "pedestrian"
        self.ids: dict[tuple[int, int], int] = {}

    def X(self, i: float) -> float:  # noqa: N802 - grid line i -> x metres
        """Local x metres of grid line ``i`` (fractions give points inside blocks)."""
        return self.x0 + i * BLOCK_M

    def Y(self, j: float) -> float:  # noqa: N802
        """Local y metres of grid line ``j`` (fractions give points inside blocks)."""
        return self.y0 + j * BLOCK_M

    def inner(self, i: int, j: int, n: int = 1) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) local metres of the n x n blocks at (i, j), inside the streets."""
        m = STREET_HALF_M
        return (self.X(i) + m, self.Y(j) + m, self.X(i + n) - m, self.Y(j + n) - m)

    def node(self, osm: Osm, i: int, j: int) -> int:
        """OSM node id of the intersection (i, j), created on first use so ways share it."""
        if (i, j) not in self.ids:
            self.ids[i, j] = osm.node(self.X(i), self.Y(j))
        return self.ids[i, j]

    def line_tags(self, d: str, k: int) -> dict[str, str]:
        """Tags of grid line k (d = "v": x = X(k), runs N-S; "h": runs E-W)."""
        arts = self.ax if d == "v" else self.ay
        off = self.word0 + (0 if d == "v" else 20)
        a = max(n for n, line in enumerate(arts) if line <= k)
        w, z = word(off + a)
        if k in arts:
            hw = "primary" if a % 2 == 0 else "secondary"
            return road(hw, f"{w} {'Road' if d == 'v' else 'Street'}",
                        f"{z}{'路' if d == 'v' else '街'}")
        n = k - arts[a]
        hw = "tertiary" if n == 2 else "residential"
        return road(hw, f"{w} {'Lane' if d == 'v' else 'Alley'} {n}",
                    f"{z}{'巷' if d == 'v' else '里'}{n}")
