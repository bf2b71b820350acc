"""2-D inundation kernel: the local-inertial scheme of Bates, Horritt & Fewtrell (2010).

Water depth ``h`` lives in cell centres of a square grid (row 0 = south, columns go
east); unit-width discharges ``qx``/``qy`` (m²/s) live on the cell faces. One time step:

1. inflow hydrographs add their volume over the step (exact integral) to their cells;
2. every face between a wet cell and its neighbour gets a new discharge (Bates et al.
   2010, eq. 11, semi-implicit Manning friction, with the θ-weighting of de Almeida et
   al. 2012 that damps checkerboard oscillations)::

       q' = (θ·q + (1−θ)·(q₋ + q₊)/2 − g·h_f·dt·Δη/Δx) / (1 + g·dt·n²·|q| / h_f^(7/3)),
       h_f = max(η_a, η_b) − max(z_a, z_b)

   capped at Froude number ``froude_max`` (LISFLOOD-FP's ``max_Froude`` idea), zero where
   ``h_f`` is below ``h_min_m``;
3. each cell's outgoing discharge is scaled down so it never sends more water than it
   holds (so depths stay ≥ 0 without clipping): the factor ``lim`` of the donor cell
   multiplies the face's discharge wherever it is used (this step's depth update, next
   step's momentum, velocities), so ``qx``/``qy`` hold the unscaled values;
4. depths change by the flux difference: ``h += dt/Δx · Σ(q_in − q_out)``.

Because every face flux leaves one cell and enters the other (or leaves through an open
boundary, where it is counted), volume is conserved to rounding. The step length follows
the CFL-type condition of Bates et al. (2010), ``dt = α·Δx / sqrt(g·h_max)`` (α = 0.5 by
default, the flood spec's ``cfl_alpha``), capped at ``dt_max_s``.

Speed: a flood in a few gullies should cost what its footprint costs, not the whole grid.
Tiles of ``TILE`` × ``TILE`` cells that hold water, or share an edge with one that does,
are active (found from the list of wet tiles through a bit set, not by scanning every
tile); inside them a step visits only the *live* cells (water above a settled film, a
discharge on an own face, or an outflow factor not yet reset; one bit per cell in a
16-bit mask per tile) and their 4 edge neighbours, about a third of the active tiles'
cells on the flash-flood grid. Every other cell of an active tile would only be given the
values it already holds, so the results are those of visiting every cell, bit for bit
(``tests/test_flood_kernel.py`` checks them against the plain tile scan,
``tests/flood_tiled_reference.py``). Last step's discharges as they moved water (scaled
by their donors' outflow factors) are kept in ``px`` / ``py`` for the next momentum
update, which reads them instead of copying and rescaling ``qx`` / ``qy``; the Froude
cap's square root is taken only where the cap may bind; arrays are read through flat
indices. On the flash-flood grid (537 × 399 cells, 6 h, 7,048 steps) that took the
kernel from 3.6 s to ~2.0 s CPU (``benchmarks/RESULTS.md``, issue 17 part 4, third
pass); what is left is the arithmetic of the ~3,000–4,000 wet cells and ~6,000 faces
that carry water (``h_f^(7/3)`` about a fifth of it) and the time step, which the
deepest gully cell sets for all of them.

References
----------
de Almeida, G.A.M., Bates, P., Freer, J.E., Souvignet, M. (2012) Improving the stability
of a simple formulation of the shallow water equations for 2-D flood modeling. Water
Resources Research 48, W05528, doi:10.1029/2011WR011570.
Bates, P.D., Horritt, M.S., Fewtrell, T.J. (2010) A simple inertial formulation of the
shallow water equations for efficient two-dimensional flood inundation modelling. Journal
of Hydrology 387:33–45, doi:10.1016/j.jhydrol.2010.03.027.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

G = 9.80665  # m/s², standard gravity (docs/references.md units)
# Side of the square tiles whose activity is tracked, cells (a tuning constant: small
# enough to follow a gully, large enough that the bookkeeping is cheap).
TILE = 4


class FloodParams(NamedTuple):
    """Scalars of the scheme.

    Attributes
    ----------
    cell_m : float
        Cell side, metres.
    manning_n : float
        Manning roughness, s/m^(1/3).
    alpha : float
        CFL coefficient (Bates et al. 2010 use 0.7).
    dt_max_s : float
        Longest step, seconds.
    h_min_m : float
        Flow depth below which a face carries no flow, metres.
    froude_max : float
        Cap on |q| / (h_f · sqrt(g·h_f)).
    open_boundary : bool
        True: water leaves across the grid edge where the bed falls outward (normal
        depth, Manning); False: the edge is a wall.
    theta : float
        Weight of a face's own discharge against the mean of its two neighbours in the
        momentum update (de Almeida et al. 2012); 1 gives Bates et al. (2010) exactly,
        which leaves deep, low-friction water sloshing for hours; 0.9 damps it (0.7 was
        unstable with alpha = 0.7 in a deep bowl, tests/test_flood_scheme.py). At 0.9 with
        alpha = 0.7 a lake at rest with a pit beside a shallow shelf lets round-off grow
        into sloshing; with alpha = 0.5 (the flood spec's default) it stays at rest.
    """

    cell_m: float
    manning_n: float
    alpha: float
    dt_max_s: float
    h_min_m: float
    froude_max: float
    open_boundary: bool
    theta: float = 0.9


class FloodState(NamedTuple):
    """Mutable state; :func:`new_state` allocates it.

    Attributes
    ----------
    h : float64[ny, nx]
        Water depth, metres.
    qx : float64[ny, nx + 1]
        Unit discharge on the west face of each cell (face ``nx`` = east edge), m²/s,
        positive eastward, before scaling by the donor's ``lim``.
    qy : float64[ny + 1, nx]
        Unit discharge on the south face of each cell (face ``ny`` = north edge), m²/s,
        positive northward, before scaling by the donor's ``lim``.
    peak : float64[ny, nx]
        Largest depth seen in each cell, metres.
    lim : float64[ny, nx]
        Outflow scale factor of each cell's last step, in [0, 1]; 0 for a dry cell.
    tile_wet : bool[ceil(ny / TILE), ceil(nx / TILE)]
        Tiles with a cell deeper than ``h_min_m`` after the last step.
    tile_prev : bool, shape of ``tile_wet``
        The same after the step before (a tile stays active one step after it dries,
        so the outflow factors of its cells are all zero by the time it is left alone).
    px, py : float64, shapes of ``qx``, ``qy``
        The discharges of the last step as they moved water: ``qx``, ``qy`` scaled by
        their donors' ``lim`` (the momentum update of the next step reads them).
    acc : float64[5]
        ``[t_s, inflow_m3, outflow_m3, steps, h_max_m]``.
    live : int64, shape of ``tile_wet``
        Per tile, a bit per cell (``4·r + c``, ``TILE`` = 4) that is live: ``h`` above
        ``h_min_m − 1e-8`` (or > 0 at the start), or a discharge on one of its own
        faces, or an outflow factor not 0.
    act : int64[2 · tiles]
        Scratch: the active tiles (row, column pairs).
    voff : int64[tiles + 1]
        Scratch: where each active tile's cells start in ``vcell``.
    vcell : int64[2 · ny · nx]
        Scratch: the cells visited this step (row, column pairs).
    hot : int64[1 + 2 · tiles]
        The number of tiles with ``tile_wet`` or ``tile_prev`` set, then their (row,
        column) pairs (the next step's active tiles are these and their neighbours).
    amark : int64[rows of tiles · ceil(columns of tiles / 32)]
        Scratch, all 0 between steps: a bit per tile marking the active ones.
    """

    h: np.ndarray
    qx: np.ndarray
    qy: np.ndarray
    peak: np.ndarray
    lim: np.ndarray
    tile_wet: np.ndarray
    tile_prev: np.ndarray
    acc: np.ndarray
    px: np.ndarray
    py: np.ndarray
    live: np.ndarray
    act: np.ndarray
    vcell: np.ndarray
    voff: np.ndarray
    hot: np.ndarray
    amark: np.ndarray


class Inflows(NamedTuple):
    """Point inflow hydrographs, one row per source (padded to the longest).

    Attributes
    ----------
    row, col : int64[k]
        Grid cell of each source.
    t_s : float64[k, m]
        Hydrograph times, seconds, increasing.
    q_m3s : float64[k, m]
        Discharge at those times, m³/s (≥ 0). Zero before the first and after the last.
    npts : int64[k]
        Points used in each row.
    """

    row: np.ndarray
    col: np.ndarray
    t_s: np.ndarray
    q_m3s: np.ndarray
    npts: np.ndarray


def new_state(h0: np.ndarray) -> FloodState:
    """Allocate a state holding the initial depths ``h0`` (float64[ny, nx], metres ≥ 0)."""
    h = np.ascontiguousarray(h0, dtype=np.float64).copy()
    ny, nx = h.shape
    nty, ntx = -(-ny // TILE), -(-nx // TILE)
    # Per tile: a bit per cell (4·r + c) with water, by padding the grid to whole tiles.
    # (> 0 rather than > h_min here: any water at the start is looked at once.)
    cells = np.zeros((nty * TILE, ntx * TILE), dtype=np.bool_)
    cells[:ny, :nx] = h > 0
    cells = cells.reshape(nty, TILE, ntx, TILE).transpose(0, 2, 1, 3).reshape(nty, ntx, TILE * TILE)
    live = (cells.astype(np.int64) << np.arange(TILE * TILE, dtype=np.int64)).sum(axis=2)
    wet = live != 0
    hot = np.zeros(1 + 2 * nty * ntx, np.int64)
    wet_ij = np.argwhere(wet)
    hot[0] = len(wet_ij)
    hot[1:1 + 2 * len(wet_ij)] = wet_ij.ravel()
    st = FloodState(h, np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx)), h.copy(),
                    (h > 0).astype(np.float64), wet, wet.copy(), np.zeros(5),
                    np.zeros((ny, nx + 1)), np.zeros((ny + 1, nx)), live,
                    np.zeros(2 * nty * ntx, np.int64), np.zeros(2 * ny * nx, np.int64),
                    np.zeros(nty * ntx + 1, np.int64), hot,
                    np.zeros(nty * -(-ntx // 32), np.int64))
    st.acc[4] = h.max() if h.size else 0.0
    return st


def no_inflows() -> Inflows:
    """An empty :class:`Inflows`."""
    return Inflows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 1)),
                   np.zeros((0, 1)), np.zeros(0, np.int64))


@njit(cache=True)
def hydrograph_q(t_s, q_m3s, n, t):
    """Discharge of one hydrograph at time ``t`` (linear, zero outside its times)."""
    if n == 0 or t < t_s[0] or t > t_s[n - 1]:
        return 0.0
    for k in range(1, n):
        if t <= t_s[k]:
            span = t_s[k] - t_s[k - 1]
            if span <= 0.0:
                return q_m3s[k]
            w = (t - t_s[k - 1]) / span
            return q_m3s[k - 1] + w * (q_m3s[k] - q_m3s[k - 1])
    return q_m3s[n - 1]


@njit(cache=True)
def _depth_f(za, zb, ha, hb):
    """Flow depth of a face: highest water surface above the higher bed (as in _face_q)."""
    return max(za + ha, zb + hb) - max(za, zb)


@njit(cache=True)
def _face_q(q, q_side, theta, za, zb, ha, hb, dt, dx, p_n2, h_min, fr_max):
    """New unit discharge across a face from cell a (west/south) to cell b.

    ``q`` is last step's (scaled) discharge of the face, ``q_side`` the mean of its two
    neighbours' in the same direction. Bates et al. (2010) eq. 11 with the θ-weighting of
    de Almeida et al. (2012), multiplied through by ``h_f^(7/3)`` so that one division
    remains, then capped at Froude number ``fr_max``.
    """
    ea = za + ha
    eb = zb + hb
    hf = max(ea, eb) - max(za, zb)
    if hf <= h_min:
        return 0.0
    den = hf ** (7.0 / 3.0)
    qn = ((theta * q + (1.0 - theta) * q_side - G * hf * dt * (eb - ea) / dx) * den
          / (den + G * dt * p_n2 * abs(q)))
    # The cap needs a square root; most faces are far below it, which the squares show
    # without one (the margin covers their rounding, so the result is the same).
    if qn * qn <= fr_max * fr_max * G * hf * hf * hf * (1.0 - 1e-12):
        return qn
    cap = fr_max * hf * np.sqrt(G * hf)
    if qn > cap:
        return cap
    if qn < -cap:
        return -cap
    return qn


@njit(cache=True)
def _out_slope(z_in, h_in, z_edge, h_edge, dx):
    """Slope toward the edge, the bed's or (bed not falling outward) the water surface's.

    Water piled against a flat edge still leaves.
    """
    if z_in > z_edge:
        return (z_in - z_edge) / dx
    return (z_in + h_in - z_edge - h_edge) / dx


@njit(cache=True)
def _edge_q(h, slope, dx, n, h_min, fr_max):
    """Outward unit discharge at an open edge: Manning normal flow on the outward slope.

    ``slope`` is the larger of the bed and water-surface slopes toward the edge between
    the edge cell and its inner neighbour; none (≤ 0): no outflow.
    """
    if h <= h_min or slope <= 0.0:
        return 0.0
    q = h ** (5.0 / 3.0) * np.sqrt(slope) / n
    cap = fr_max * h * np.sqrt(G * h)
    return min(q, cap)


@njit(cache=True)
def hydrograph_volume(t_s, q_m3s, n, t0, t1):
    """Volume (m³) one hydrograph delivers between ``t0`` and ``t1`` seconds, exactly.

    The integral of the piecewise-linear discharge (zero outside its times), so the
    inflow a run reports is the hydrograph's own volume whatever the step lengths.
    """
    if n < 2 or t1 <= t_s[0] or t0 >= t_s[n - 1]:
        return 0.0
    v = 0.0
    for k in range(1, n):
        a = max(t0, t_s[k - 1])
        b = min(t1, t_s[k])
        if b > a:
            v += 0.5 * (hydrograph_q(t_s, q_m3s, n, a) + hydrograph_q(t_s, q_m3s, n, b)) * (b - a)
    return v


@njit(cache=True)
def _scaled(q, lim_neg, lim_pos):
    """A face discharge scaled by its donor's outflow factor.

    ``lim_pos`` is the factor of the cell the flow leaves when ``q > 0`` (west/south
    cell), ``lim_neg`` the one it leaves when ``q < 0``.
    """
    if q > 0.0:
        return q * lim_pos
    return q * lim_neg


# Bits of a tile's 16-bit cell mask (bit 4·r + c for the cell in row r, column c of the
# tile; TILE = 4): its first and last column and row.
_COL0 = 0x1111
_COL3 = 0x8888
_ROW0 = 0x000F
_ROW3 = 0xF000
# Index of the one set bit of a power of two 2^b < 2^32: _DEBRUIJN[(2^b · 0x077CB531 mod
# 2^32) >> 27] = b (Leiserson, Prokop & Randall 1998, "Using de Bruijn sequences to index a
# 1 in a computer word").
_DEBRUIJN = np.array([0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8, 31, 27, 13,
                      23, 21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9], np.int64)


@njit(cache=True)
def _valid_bits(ny, nx, i0, j0):
    """Mask of the cells a tile at (i0, j0) has (tiles on the north / east edge are cut)."""
    rows = min(TILE, ny - i0)
    cols = min(TILE, nx - j0)
    row = (1 << cols) - 1
    m = 0
    for r in range(rows):
        m |= row << (TILE * r)
    return m


@njit(cache=True)
def _visit_bits(m, m_w, m_e, m_s, m_n, valid):
    """Cells of a tile the step must visit: its live cells and their 4 edge neighbours.

    ``m`` is the tile's mask of live cells, ``m_w`` … ``m_n`` those of the tiles to the
    west, east, south and north (0 where none): their live cells next to this tile make
    their neighbours here visited too. Cut to the cells the tile has (``valid``).
    """
    v = (m | ((m << 1) & ~_COL0 & 0xFFFF) | ((m >> 1) & ~_COL3) | ((m << 4) & 0xFFFF)
         | (m >> 4))
    v |= ((m_w & _COL3) >> 3) | ((m_e & _COL0) << 3) | ((m_s & _ROW3) >> 12)
    v |= (m_n & _ROW0) << 12
    return v & valid


@njit(cache=True)
def step(z, st, p, src, dt):
    """Advance the state by one step of ``dt`` seconds (no CFL check here).

    Parameters
    ----------
    z : float64[ny, nx]
        Bed elevation, metres.
    st : FloodState
    p : FloodParams
    src : Inflows
    dt : float
        Step length, seconds.

    Notes
    -----
    Which cells are visited (the results are those of visiting every cell of the grid;
    ``tests/test_flood_kernel.py`` checks them bit for bit against the plain tile scan):

    * tiles of ``TILE`` × ``TILE`` cells: a tile is active when it or one of its four
      edge neighbours held water deeper than ``h_min_m`` after one of the last two steps
      (films can neither flow out nor be left with a live outflow factor); a tile owns
      the west and south faces of its cells (and the east / north grid edge where it
      touches it). Every face carrying flow has a wet donor, so both tiles next to it are
      active; a face of an inactive tile may keep a discharge, but its donor is dry and
      has ``lim = 0``, so nothing moves;
    * inside an active tile, only the cells that are *live* (``h > h_min_m − 1e-8``, or a
      discharge on an owned face or an outflow factor not yet set back to 0), and their
      4 edge neighbours: at any other cell the step would write the zeros that are
      already there and add zero fluxes. A settled film (``0 < h <= h_min_m − 1e-8``)
      keeps its depth; where no visited cell ends deeper than ``h_min_m`` the deepest
      cell of the active tiles (``acc[4]``) is looked up among all their cells.
    """
    h, qx, qy, lim, wet, prev = st.h, st.qx, st.qy, st.lim, st.tile_wet, st.tile_prev
    live, act, vcell, voff, hot, amark = st.live, st.act, st.vcell, st.voff, st.hot, st.amark
    ny, nx = h.shape
    nty, ntx = wet.shape
    nw = amark.shape[0] // nty  # words of 32 tiles per row of tiles
    dx = p.cell_m
    area = dx * dx
    n2 = p.manning_n * p.manning_n
    hmin, frmax, nman = p.h_min_m, p.froude_max, p.manning_n
    opn = p.open_boundary
    t = st.acc[0]
    # 1. sources (their tiles become wet, their cells live)
    for k in range(src.row.shape[0]):
        v = hydrograph_volume(src.t_s[k], src.q_m3s[k], src.npts[k], t, t + dt)
        if v > 0.0:
            i, j = src.row[k], src.col[k]
            h[i, j] += v / area
            st.acc[1] += v
            ti, tj = i // TILE, j // TILE
            if not (wet[ti, tj] or prev[ti, tj]):  # not listed yet
                hot[1 + 2 * hot[0]] = ti
                hot[2 + 2 * hot[0]] = tj
                hot[0] += 1
            wet[ti, tj] = True
            live[ti, tj] |= 1 << (TILE * (i % TILE) + j % TILE)
    # Active tiles: wet ones and their 4 edge neighbours (a diagonal tile shares no face
    # with a wet one, so no water can reach it in one step), marked in a bit set from the
    # tiles that were wet after one of the last two steps (``hot``) and read out in
    # row-major order; in each, the cells to visit, in row-major order too: the order of
    # the plain scan (the outflow across the open edges is summed in it).
    for k in range(hot[0]):
        ti, tj = hot[1 + 2 * k], hot[2 + 2 * k]
        r = ti * nw
        amark[r + (tj >> 5)] |= 1 << (tj & 31)
        if tj > 0:
            amark[r + ((tj - 1) >> 5)] |= 1 << ((tj - 1) & 31)
        if tj + 1 < ntx:
            amark[r + ((tj + 1) >> 5)] |= 1 << ((tj + 1) & 31)
        if ti > 0:
            amark[r - nw + (tj >> 5)] |= 1 << (tj & 31)
        if ti + 1 < nty:
            amark[r + nw + (tj >> 5)] |= 1 << (tj & 31)
    na = 0
    nv = 0
    for ti in range(nty):
        for wk in range(nw):
            word = amark[ti * nw + wk]
            if word == 0:
                continue
            amark[ti * nw + wk] = 0
            while word != 0:  # set bits, lowest first
                low = word & -word
                word ^= low
                tj = wk * 32 + _DEBRUIJN[((low * 0x077CB531) & 0xFFFFFFFF) >> 27]
                act[na] = ti
                act[na + 1] = tj
                voff[na // 2] = nv
                na += 2
                i0, j0 = ti * TILE, tj * TILE
                valid = 0xFFFF
                if ti + 1 == nty or tj + 1 == ntx:
                    valid = _valid_bits(ny, nx, i0, j0)
                m = _visit_bits(live[ti, tj], live[ti, tj - 1] if tj > 0 else 0,
                                live[ti, tj + 1] if tj + 1 < ntx else 0,
                                live[ti - 1, tj] if ti > 0 else 0,
                                live[ti + 1, tj] if ti + 1 < nty else 0, valid)
                while m != 0:
                    lowc = m & -m
                    m ^= lowc
                    c = _DEBRUIJN[((lowc * 0x077CB531) & 0xFFFFFFFF) >> 27]
                    vcell[nv] = i0 + (c >> 2)
                    vcell[nv + 1] = j0 + (c & 3)
                    nv += 2
    voff[na // 2] = nv
    th = p.theta
    # 2. face discharges (west and south faces of the cells visited, and the east / north
    # edge): each reads last step's discharges of itself and its two neighbours as they
    # moved water, scaled by their donors' factors (kept in px / py by step 4).
    px, py = st.px, st.py
    # (flat views: one index per cell instead of two)
    hf1, lf1, pk1, z1 = (h.reshape(ny * nx), lim.reshape(ny * nx), st.peak.reshape(ny * nx),
                         z.reshape(ny * nx))
    qx1, qy1 = qx.reshape(ny * (nx + 1)), qy.reshape((ny + 1) * nx)
    px1, py1 = px.reshape(ny * (nx + 1)), py.reshape((ny + 1) * nx)
    for k in range(0, nv, 2):
        i, j = vcell[k], vcell[k + 1]
        c = i * nx + j
        cx = c + i  # the west face of cell c in qx, px
        if j == 0:
            qx1[cx] = 0.0
            if opn and nx > 1:
                qx1[cx] = -_edge_q(hf1[c], _out_slope(z1[c + 1], hf1[c + 1], z1[c], hf1[c], dx),
                                   dx, nman, hmin, frmax)
        elif ((hf1[c] > 0.0 or hf1[c - 1] > 0.0)
              and _depth_f(z1[c - 1], z1[c], hf1[c - 1], hf1[c]) > hmin):
            qx1[cx] = _face_q(px1[cx], 0.5 * (px1[cx - 1] + px1[cx + 1]), th, z1[c - 1], z1[c],
                              hf1[c - 1], hf1[c], dt, dx, n2, hmin, frmax)
        else:
            qx1[cx] = 0.0
        if j == nx - 1:
            qx1[cx + 1] = 0.0
            if opn and nx > 1:
                qx1[cx + 1] = _edge_q(hf1[c], _out_slope(z1[c - 1], hf1[c - 1], z1[c], hf1[c],
                                      dx), dx, nman, hmin, frmax)
        if i == 0:
            qy1[c] = 0.0
            if opn and ny > 1:
                qy1[c] = -_edge_q(hf1[c], _out_slope(z1[c + nx], hf1[c + nx], z1[c], hf1[c],
                                  dx), dx, nman, hmin, frmax)
        elif ((hf1[c] > 0.0 or hf1[c - nx] > 0.0)
              and _depth_f(z1[c - nx], z1[c], hf1[c - nx], hf1[c]) > hmin):
            qy1[c] = _face_q(py1[c], 0.5 * (py1[c - nx] + py1[c + nx]), th, z1[c - nx], z1[c],
                             hf1[c - nx], hf1[c], dt, dx, n2, hmin, frmax)
        else:
            qy1[c] = 0.0
        if i == ny - 1:
            qy1[c + nx] = 0.0
            if opn and ny > 1:
                qy1[c + nx] = _edge_q(hf1[c], _out_slope(z1[c - nx], hf1[c - nx], z1[c], hf1[c],
                                      dx), dx, nman, hmin, frmax)
    # 3. outflow limiter: a cell sends at most the water it holds; a dry cell sends
    # nothing (whatever momentum its faces kept).
    for k in range(0, nv, 2):
        i, j = vcell[k], vcell[k + 1]
        c = i * nx + j
        cx = c + i
        if hf1[c] <= hmin:
            lf1[c] = 0.0  # too shallow to flow out (every face has h_f <= h)
            continue
        out = (max(-qx1[cx], 0.0) + max(qx1[cx + 1], 0.0)
               + max(-qy1[c], 0.0) + max(qy1[c + nx], 0.0)) * dt * dx
        have = hf1[c] * area
        lf1[c] = 1.0 if out <= have else have / out
    # 4. depths from the scaled discharges; outflow across open edges; wet tiles, live
    # cells, peak, deepest cell.
    hmax = 0.0
    out_v = 0.0
    r = dt / dx
    nh = 0
    # A film this much below h_min can neither flow nor, beside another, give a face a
    # flow depth above h_min by rounding (at most half an ulp of the bed, < 1e-8 m below
    # 4e7 m): left alone once its faces and outflow factor are 0, it needs no visit.
    h_live = max(hmin - 1e-8, 0.0)
    for a in range(0, na, 2):
        ti, tj = act[a], act[a + 1]
        i0, j0 = ti * TILE, tj * TILE
        any_wet = False
        alive = 0
        for k in range(voff[a // 2], voff[a // 2 + 1], 2):
            i, j = vcell[k], vcell[k + 1]
            c = i * nx + j
            cx = c + i
            lc = lf1[c]
            w = _scaled(qx1[cx], lc, lf1[c - 1] if j > 0 else 0.0)
            e = _scaled(qx1[cx + 1], lf1[c + 1] if j + 1 < nx else 0.0, lc)
            s_ = _scaled(qy1[c], lc, lf1[c - nx] if i > 0 else 0.0)
            n_ = _scaled(qy1[c + nx], lf1[c + nx] if i + 1 < ny else 0.0, lc)
            px1[cx] = w
            px1[cx + 1] = e
            py1[c] = s_
            py1[c + nx] = n_
            if j == 0:
                out_v -= w
            if j == nx - 1:
                out_v += e
            if i == 0:
                out_v -= s_
            if i == ny - 1:
                out_v += n_
            hn = hf1[c] + r * (w - e + s_ - n_)
            if hn <= 0.0:
                hn = 0.0  # rounding only: the limiter keeps outflow <= storage
            else:
                if hn > hmin:
                    any_wet = True
                if hn > hmax:
                    hmax = hn
                if hn > pk1[c]:
                    pk1[c] = hn
            hf1[c] = hn
            if (hn > h_live or lc != 0.0 or qx1[cx] != 0.0 or qy1[c] != 0.0
                    or (j == nx - 1 and qx1[cx + 1] != 0.0)
                    or (i == ny - 1 and qy1[c + nx] != 0.0)):
                alive |= 1 << (TILE * (i - i0) + j - j0)
        live[ti, tj] = alive
        prev[ti, tj] = wet[ti, tj]
        wet[ti, tj] = any_wet
        if prev[ti, tj] or any_wet:
            hot[1 + 2 * nh] = ti
            hot[2 + 2 * nh] = tj
            nh += 1
    hot[0] = nh
    if hmax <= hmin:
        # No cell deeper than h_min was visited: the deepest may be a film that was not
        # (the plain scan takes the deepest cell of the active tiles).
        for a in range(0, na, 2):
            i0, j0 = act[a] * TILE, act[a + 1] * TILE
            for i in range(i0, min(i0 + TILE, ny)):
                for j in range(j0, min(j0 + TILE, nx)):
                    hmax = max(hmax, h[i, j])
    out_v *= dt * dx
    st.acc[0] = t + dt
    st.acc[2] += out_v
    st.acc[3] += 1.0
    st.acc[4] = hmax


@njit(cache=True, nogil=True)  # nogil: the hazard runs it on a thread beside the traffic
def advance(z, st, p, src, t_end_s):
    """Step the state from ``st.acc[0]`` to ``t_end_s`` with adaptive steps.

    Step length: ``min(dt_max_s, alpha · cell_m / sqrt(g · h_max), time left)``, h_max the
    deepest cell after the previous step (Bates et al. 2010, eq. 12). Returns the number
    of steps taken.
    """
    n = 0
    while st.acc[0] < t_end_s - 1e-9:
        dt = min(p.dt_max_s, t_end_s - st.acc[0])
        hm = st.acc[4]
        # Sources add water before the fluxes see it: include the depth they would give.
        for k in range(src.row.shape[0]):
            q = hydrograph_q(src.t_s[k], src.q_m3s[k], src.npts[k], st.acc[0] + 0.5 * dt)
            hm = max(hm, st.h[src.row[k], src.col[k]] + q * dt / (p.cell_m * p.cell_m))
        if hm > 0.0:
            dt = min(dt, p.alpha * p.cell_m / np.sqrt(G * hm))
        step(z, st, p, src, dt)
        n += 1
    return n


@njit(cache=True)
def cell_speed(st, cells, h_min):
    """Flow speed at flat cell indices (``row * nx + col``), m/s; 0 where ``h <= h_min``.

    The velocity components are the means of the cell's two (scaled) face discharges in
    each direction, divided by its depth.
    """
    h, qx, qy, lim = st.h, st.qx, st.qy, st.lim
    ny, nx = h.shape
    out = np.zeros(cells.shape[0])
    for k in range(cells.shape[0]):
        i, j = cells[k] // nx, cells[k] % nx
        d = h[i, j]
        if d <= h_min:
            continue
        lc = lim[i, j]
        w = _scaled(qx[i, j], lc, lim[i, j - 1] if j > 0 else 0.0)
        e = _scaled(qx[i, j + 1], lim[i, j + 1] if j + 1 < nx else 0.0, lc)
        s_ = _scaled(qy[i, j], lc, lim[i - 1, j] if i > 0 else 0.0)
        n_ = _scaled(qy[i + 1, j], lim[i + 1, j] if i + 1 < ny else 0.0, lc)
        ux = 0.5 * (w + e) / d
        uy = 0.5 * (s_ + n_) / d
        out[k] = np.sqrt(ux * ux + uy * uy)
    return out


@njit(cache=True, nogil=True)
def water_cells(h, peak, h_min):
    """The cells of ``h`` and ``peak`` (float64[ny, nx]) that are not +0.0, in one pass.

    Returns ``(h_at, h_val, peak_at, peak_val, wet)``: flat indices (ascending) of the
    cells whose value is not +0.0 bit for bit (-0.0 counts), their values, and the cells
    with ``h > h_min``. What :mod:`sim.hazards.flood.ahead` hands over for an update:
    water covers a few per cent of the grid.
    """
    hf, pf = h.ravel(), peak.ravel()
    hb, pb = hf.view(np.uint64), pf.view(np.uint64)
    n_h = n_p = 0
    for k in range(hb.shape[0]):  # branch-free count
        n_h += hb[k] != 0
        n_p += pb[k] != 0
    h_at, h_val = np.empty(n_h, np.int64), np.empty(n_h)
    p_at, p_val = np.empty(n_p, np.int64), np.empty(n_p)
    i_h = i_p = 0
    for k in range(hb.shape[0]):
        if hb[k] != 0:
            h_at[i_h], h_val[i_h] = k, hf[k]
            i_h += 1
        if pb[k] != 0:
            p_at[i_p], p_val[i_p] = k, pf[k]
            i_p += 1
    return h_at, h_val, p_at, p_val, h_at[h_val > h_min]
