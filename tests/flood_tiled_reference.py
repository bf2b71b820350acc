"""The 2-D flood kernel as it stood before issue 17's third pass: every cell of every active tile.

A verbatim copy of ``step`` and ``advance`` of ``sim/core/flood.py`` at commit dca9ecb (and
the helpers they call), kept as the reference that the faster kernel must match bit for
bit (``tests/test_flood_kernel.py``): it visits every cell of every active tile, copies
last step's discharges of those tiles (with a halo) before overwriting them, and rescales
them by their donors' factors where it reads them. It works on a state made by
:func:`sim.core.flood.new_state` and uses only the fields that kernel had (``px``, ``py``
as its own scratch), so one state must not be stepped by both.
"""

from __future__ import annotations

import numpy as np
from numba import njit

G = 9.80665  # m/s², standard gravity, as in sim/core/flood.py
TILE = 4  # tile side, cells, as in sim/core/flood.py


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
    Work is done tile by tile (``TILE`` × ``TILE`` cells). A tile is active when it or
    one of its four edge neighbours held water deeper than ``h_min_m`` after one of the
    last two steps (films can neither flow out nor be left with a live outflow factor).
    A tile owns the west and south faces of its cells (and the east / north grid edge
    where it touches it). Every face carrying flow
    has a wet donor, so both tiles next to it are active; a face of an inactive tile may
    keep a discharge, but its donor is dry and has ``lim = 0``, so nothing moves.
    """
    h, qx, qy, lim, wet, prev = st.h, st.qx, st.qy, st.lim, st.tile_wet, st.tile_prev
    ny, nx = h.shape
    nty, ntx = wet.shape
    dx = p.cell_m
    area = dx * dx
    n2 = p.manning_n * p.manning_n
    hmin, frmax, nman = p.h_min_m, p.froude_max, p.manning_n
    opn = p.open_boundary
    t = st.acc[0]
    # 1. sources (their tiles become wet)
    for k in range(src.row.shape[0]):
        v = hydrograph_volume(src.t_s[k], src.q_m3s[k], src.npts[k], t, t + dt)
        if v > 0.0:
            i, j = src.row[k], src.col[k]
            h[i, j] += v / area
            st.acc[1] += v
            wet[i // TILE, j // TILE] = True
    # Active tiles: wet ones and their 4 edge neighbours (a diagonal tile shares no face
    # with a wet one, so no water can reach it in one step).
    act_i = np.empty(nty * ntx, np.int64)
    act_j = np.empty(nty * ntx, np.int64)
    na = 0
    for ti in range(nty):
        for tj in range(ntx):
            on = wet[ti, tj] or prev[ti, tj]
            if not on and tj > 0:
                on = wet[ti, tj - 1] or prev[ti, tj - 1]
            if not on and tj + 1 < ntx:
                on = wet[ti, tj + 1] or prev[ti, tj + 1]
            if not on and ti > 0:
                on = wet[ti - 1, tj] or prev[ti - 1, tj]
            if not on and ti + 1 < nty:
                on = wet[ti + 1, tj] or prev[ti + 1, tj]
            if on:
                act_i[na] = ti
                act_j[na] = tj
                na += 1
    # Last step's discharges of the active tiles' faces and their neighbours (one face of
    # halo), before any is overwritten.
    px, py = st.px, st.py
    for k in range(na):
        i0, j0 = act_i[k] * TILE, act_j[k] * TILE
        i1, j1 = min(i0 + TILE, ny), min(j0 + TILE, nx)
        for i in range(i0, i1):
            for j in range(max(j0 - 1, 0), min(j1 + 1, nx) + 1):
                px[i, j] = qx[i, j]
        for i in range(max(i0 - 1, 0), min(i1 + 1, ny) + 1):
            for j in range(j0, j1):
                py[i, j] = qy[i, j]
    th = p.theta
    # 2. face discharges (faces owned by active tiles); last step's discharges enter the
    # momentum equation scaled by their donors' factors.
    for k in range(na):
        i0, j0 = act_i[k] * TILE, act_j[k] * TILE
        i1, j1 = min(i0 + TILE, ny), min(j0 + TILE, nx)
        je = j1 + 1 if j1 == nx else j1
        ie = i1 + 1 if i1 == ny else i1
        for i in range(i0, i1):
            for j in range(j0, je):
                if j == 0:
                    qx[i, 0] = 0.0
                    if opn and nx > 1:
                        qx[i, 0] = -_edge_q(h[i, 0], _out_slope(z[i, 1], h[i, 1], z[i, 0],
                                            h[i, 0], dx), dx, nman, hmin, frmax)
                elif j == nx:
                    qx[i, nx] = 0.0
                    if opn and nx > 1:
                        qx[i, nx] = _edge_q(h[i, nx - 1], _out_slope(z[i, nx - 2], h[i, nx - 2],
                                            z[i, nx - 1], h[i, nx - 1], dx), dx, nman, hmin,
                                            frmax)
                elif ((h[i, j] > 0.0 or h[i, j - 1] > 0.0)
                      and _depth_f(z[i, j - 1], z[i, j], h[i, j - 1], h[i, j]) > hmin):
                    q0 = _scaled(px[i, j], lim[i, j], lim[i, j - 1])
                    qw = _scaled(px[i, j - 1], lim[i, j - 1], lim[i, j - 2] if j > 1 else 0.0)
                    qe = _scaled(px[i, j + 1], lim[i, j + 1] if j + 1 < nx else 0.0, lim[i, j])
                    qx[i, j] = _face_q(q0, 0.5 * (qw + qe), th, z[i, j - 1], z[i, j],
                                       h[i, j - 1], h[i, j], dt, dx, n2, hmin, frmax)
                else:
                    qx[i, j] = 0.0
        for i in range(i0, ie):
            for j in range(j0, j1):
                if i == 0:
                    qy[0, j] = 0.0
                    if opn and ny > 1:
                        qy[0, j] = -_edge_q(h[0, j], _out_slope(z[1, j], h[1, j], z[0, j],
                                            h[0, j], dx), dx, nman, hmin, frmax)
                elif i == ny:
                    qy[ny, j] = 0.0
                    if opn and ny > 1:
                        qy[ny, j] = _edge_q(h[ny - 1, j], _out_slope(z[ny - 2, j], h[ny - 2, j],
                                            z[ny - 1, j], h[ny - 1, j], dx), dx, nman, hmin,
                                            frmax)
                elif ((h[i, j] > 0.0 or h[i - 1, j] > 0.0)
                      and _depth_f(z[i - 1, j], z[i, j], h[i - 1, j], h[i, j]) > hmin):
                    q0 = _scaled(py[i, j], lim[i, j], lim[i - 1, j])
                    qs = _scaled(py[i - 1, j], lim[i - 1, j], lim[i - 2, j] if i > 1 else 0.0)
                    qn = _scaled(py[i + 1, j], lim[i + 1, j] if i + 1 < ny else 0.0, lim[i, j])
                    qy[i, j] = _face_q(q0, 0.5 * (qs + qn), th, z[i - 1, j], z[i, j],
                                       h[i - 1, j], h[i, j], dt, dx, n2, hmin, frmax)
                else:
                    qy[i, j] = 0.0
    # 3. outflow limiter: a cell sends at most the water it holds; a dry cell sends
    # nothing (whatever momentum its faces kept).
    for k in range(na):
        i0, j0 = act_i[k] * TILE, act_j[k] * TILE
        for i in range(i0, min(i0 + TILE, ny)):
            for j in range(j0, min(j0 + TILE, nx)):
                if h[i, j] <= hmin:
                    lim[i, j] = 0.0  # too shallow to flow out (every face has h_f <= h)
                    continue
                out = (max(-qx[i, j], 0.0) + max(qx[i, j + 1], 0.0)
                       + max(-qy[i, j], 0.0) + max(qy[i + 1, j], 0.0)) * dt * dx
                have = h[i, j] * area
                lim[i, j] = 1.0 if out <= have else have / out
    # 4. depths from the scaled discharges; outflow across open edges; wet tiles, peak,
    # deepest cell.
    hmax = 0.0
    out_v = 0.0
    r = dt / dx
    for k in range(na):
        ti, tj = act_i[k], act_j[k]
        i0, j0 = ti * TILE, tj * TILE
        any_wet = False
        for i in range(i0, min(i0 + TILE, ny)):
            for j in range(j0, min(j0 + TILE, nx)):
                lc = lim[i, j]
                w = _scaled(qx[i, j], lc, lim[i, j - 1] if j > 0 else 0.0)
                e = _scaled(qx[i, j + 1], lim[i, j + 1] if j + 1 < nx else 0.0, lc)
                s_ = _scaled(qy[i, j], lc, lim[i - 1, j] if i > 0 else 0.0)
                n_ = _scaled(qy[i + 1, j], lim[i + 1, j] if i + 1 < ny else 0.0, lc)
                if j == 0:
                    out_v -= w
                if j == nx - 1:
                    out_v += e
                if i == 0:
                    out_v -= s_
                if i == ny - 1:
                    out_v += n_
                hn = h[i, j] + r * (w - e + s_ - n_)
                if hn <= 0.0:
                    hn = 0.0  # rounding only: the limiter keeps outflow <= storage
                else:
                    if hn > hmin:
                        any_wet = True
                    if hn > hmax:
                        hmax = hn
                    if hn > st.peak[i, j]:
                        st.peak[i, j] = hn
                h[i, j] = hn
        prev[ti, tj] = wet[ti, tj]
        wet[ti, tj] = any_wet
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
