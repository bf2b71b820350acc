"""Pure array functions for earthquake damage: debris reach and road blockage geometry.

No numba: every step is a handful of numpy operations over the (few thousand) collapsed
buildings and their nearby links, once per earthquake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Debris influence width / building height, collapsible building with its long side
# parallel to the road (Advances in Civil Engineering 2020, article 7034517, Table 7;
# docs/references.md §3.6): H < 24 m 2/3; 24-54 m 2/3 -> 1/2; 54-100 m 1/2; 100-160 m 1/2 -> 0.4;
# 160-250 m 0.4 -> 0.3; >= 250 m "special study", held at 0.3 here. Linear inside bands.
_DEBRIS_H_M = np.array([0.0, 24.0, 54.0, 100.0, 160.0, 250.0])
_DEBRIS_COEF = np.array([2.0 / 3.0, 2.0 / 3.0, 0.5, 0.5, 0.4, 0.3])


def debris_reach_m(height_m: np.ndarray) -> np.ndarray:
    """How far debris spreads beyond the wall of a collapsed building, metres.

    Examples
    --------
    >>> debris_reach_m(np.array([18.0, 39.0, 80.0])).round(2).tolist()
    [12.0, 22.75, 40.0]
    """
    h = np.asarray(height_m, dtype=np.float64)
    return h * np.interp(h, _DEBRIS_H_M, _DEBRIS_COEF)


def point_segment(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                  bx: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from points to segments A→B and the side of the point (+1 left, -1 right).

    All inputs are same-shape float arrays in one projected CRS (metres).
    """
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = np.where(len2 > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(len2 > 0, len2, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    dist = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    side = np.where(dx * (py - ay) - dy * (px - ax) >= 0.0, 1, -1).astype(np.int8)
    return dist, side


def debris_cover_m(dist_m: np.ndarray, half_size_m: np.ndarray, reach_m: np.ndarray,
                   road_width_m: np.ndarray) -> np.ndarray:
    """Width of the carriageway buried by one building's debris, metres.

    The road (width ``road_width_m``) is centred on the link's centre line at
    ``dist_m`` from the building's centre; the wall is ``half_size_m`` from the centre
    and debris runs ``reach_m`` beyond it. A building standing on the road covers it all.
    """
    near_edge = dist_m - half_size_m - road_width_m / 2.0  # wall to the near kerb
    return np.clip(reach_m - near_edge, 0.0, road_width_m)


def combine_cover(link: np.ndarray, side: np.ndarray, cover_m: np.ndarray,
                  n_links: int) -> np.ndarray:
    """Buried width per link: the widest pile from each side of the road, summed.

    Debris from the two sides narrows the road from both kerbs ("combined blockage",
    J. Risk Financial Manag. 2017, 10(3):14; docs/references.md §3.6); piles on one side overlap.
    """
    left = np.zeros(n_links)
    right = np.zeros(n_links)
    m = side > 0
    np.maximum.at(left, link[m], cover_m[m])
    np.maximum.at(right, link[~m], cover_m[~m])
    return left + right


def person_severity(building: np.ndarray, state: np.ndarray, cls: np.ndarray,
                    rates: np.ndarray, persons: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Casualty severity (0 none, 1–4) of every person of the located households.

    Parameters
    ----------
    building : int64[H]
        Building of each household (-1: not in a building; those persons get 0).
    state : int8[B]
        Per building: 0 none … 4 complete (no collapse), 5 collapse.
    cls : int[B]
        Building class (row of ``rates``).
    rates : float64[C, 6, 4]
        Per class: casualty fraction by state and severity (HAZUS).
    persons : int[H]
        Household sizes; persons are laid out household by household.
    u : float64[sum(persons)]
        One uniform draw per person.

    Returns
    -------
    int8[sum(persons)]
        Severity s with probability rates[s] (the fractions of one state sum to < 1).
    """
    # Per building, cumulative thresholds from severity 4 down: u < c[0] -> 4,
    # c[0] <= u < c[1] -> 3, ...; u >= c[3] -> none. Outside buildings: never injured.
    cum = np.cumsum(rates[cls, state][:, ::-1], axis=1)
    cum = np.vstack([cum, np.zeros((1, 4))])
    b = np.repeat(np.where(building >= 0, building, cum.shape[0] - 1), persons)
    k = np.count_nonzero(u[:, None] >= cum[b], axis=1)  # 0 -> severity 4 ... 4 -> none
    return np.where(k < 4, 4 - k, 0).astype(np.int8)


@dataclass(frozen=True)
class LinkIndex:
    """Points every <= ``spacing_m`` along each link in a KD-tree: the links near a point."""

    tree: object
    link: np.ndarray
    spacing_m: float
    width_m: np.ndarray  # road width per link, m


def link_index(links, nodes, width_m: np.ndarray, spacing_m: float = 10.0) -> LinkIndex:
    """Index the straight segments of ``links`` (map metres); ``width_m`` per link."""
    from scipy.spatial import cKDTree

    x0, y0 = nodes.x_m[links.from_node], nodes.y_m[links.from_node]
    x1, y1 = nodes.x_m[links.to_node], nodes.y_m[links.to_node]
    n = np.maximum(2, np.ceil(np.hypot(x1 - x0, y1 - y0) / spacing_m).astype(np.int64) + 1)
    link = np.repeat(np.arange(links.n_links), n)
    ptr = np.concatenate([[0], np.cumsum(n)])
    frac = (np.arange(ptr[-1]) - ptr[link]) / (n[link] - 1)
    pts = np.column_stack([x0[link] + frac * (x1 - x0)[link], y0[link] + frac * (y1 - y0)[link]])
    return LinkIndex(cKDTree(pts), link, spacing_m, width_m)


def has_reverse(links, n_nodes: int) -> np.ndarray:
    """Per link: the opposite direction exists too (a two-way street)."""
    fwd = links.from_node.astype(np.int64) * n_nodes + links.to_node
    rev = links.to_node.astype(np.int64) * n_nodes + links.from_node
    return np.isin(rev, fwd)


def buried_width(index: LinkIndex, links, nodes, px, py, half, reach) -> np.ndarray:
    """Buried road width per link (m) from debris piles.

    Piles sit at (px, py) (map metres) with building half-size ``half`` and debris reach
    ``reach`` (m); per link the widest pile on each side counts (:func:`combine_cover`).
    """
    n_links = links.n_links
    if px.size == 0:
        return np.zeros(n_links)
    radius = half + reach + float(index.width_m.max()) / 2.0 + index.spacing_m
    hits = index.tree.query_ball_point(np.column_stack([px, py]), r=radius)
    counts = np.fromiter((len(h) for h in hits), np.int64, count=len(hits))
    if counts.sum() == 0:
        return np.zeros(n_links)
    bld = np.repeat(np.arange(px.size), counts)
    link = index.link[np.concatenate([np.asarray(h, np.int64) for h in hits])]
    pair = np.unique(bld * n_links + link)
    bld, link = pair // n_links, pair % n_links
    fx, fy = nodes.x_m[links.from_node[link]], nodes.y_m[links.from_node[link]]
    tx, ty = nodes.x_m[links.to_node[link]], nodes.y_m[links.to_node[link]]
    dist, side = point_segment(px[bld], py[bld], fx, fy, tx, ty)
    cover = debris_cover_m(dist, half[bld], reach[bld], index.width_m[link])
    return combine_cover(link, side, cover, n_links)
