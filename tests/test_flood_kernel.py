"""The flood kernel's bookkeeping (issue 17, part 4, third pass) changes no bit of its results.

:func:`sim.core.flood.step` visits only the live cells (water, a discharge on an own face,
an outflow factor not yet reset) and their 4 neighbours inside the active tiles, and keeps
last step's scaled discharges instead of copying and rescaling them. The invariant is
equality with the plain tile scan it replaced (``tests/flood_tiled_reference.py``, a
verbatim copy of it): after every step, on the flash-flood grid and on hand-made grids
(closed bowl, open slope that drains to films and dry cells, lake at rest with initial
water in every tile, grid sides that are not multiples of the tile, one-row channel),
depth, discharges, peak, outflow factors, wet tiles and the volume / time accumulators are
the same to the last bit (``np.array_equal``).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import flood as K
from tests import flood_tiled_reference as R

ARRAYS = ("h", "qx", "qy", "peak", "lim", "tile_wet", "tile_prev", "acc")


def _same(a, b, where):
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(x, y), f"{name} differs {where}"


def _params(cell=10.0, n=0.03, open_boundary=False, dt_max=10.0, theta=0.9, alpha=0.5):
    return K.FloodParams(cell, n, alpha, dt_max, 1e-3, 1.0, open_boundary, theta)


def _inflows(points):
    """``points``: list of (row, col, [[t_min, q_m3s], ...])."""
    m = max(len(p[2]) for p in points)
    t = np.zeros((len(points), m))
    q = np.zeros((len(points), m))
    for k, (_, _, pts) in enumerate(points):
        arr = np.asarray(pts, dtype=float)
        t[k, : len(arr)] = arr[:, 0] * 60.0
        q[k, : len(arr)] = arr[:, 1]
    return K.Inflows(np.array([p[0] for p in points]), np.array([p[1] for p in points]), t, q,
                     np.array([len(p[2]) for p in points]))


def _run_both(z, h0, p, src, t_end_s, *, every_step=True):
    """Step the new kernel and the reference side by side with the same step lengths."""
    new, ref = K.new_state(h0), K.new_state(h0)
    n = 0
    while new.acc[0] < t_end_s - 1e-9:
        dt = min(p.dt_max_s, t_end_s - new.acc[0])
        hm = new.acc[4]
        for k in range(src.row.shape[0]):
            q = K.hydrograph_q(src.t_s[k], src.q_m3s[k], src.npts[k], new.acc[0] + 0.5 * dt)
            hm = max(hm, new.h[src.row[k], src.col[k]] + q * dt / (p.cell_m * p.cell_m))
        if hm > 0.0:
            dt = min(dt, p.alpha * p.cell_m / np.sqrt(K.G * hm))
        K.step(z, new, p, src, dt)
        R.step(z, ref, p, src, dt)
        n += 1
        if every_step:
            _same(new, ref, f"after step {n}")
    _same(new, ref, f"after {n} steps")
    return new, n


def _bumpy(ny, nx, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 0.3, (ny, nx)).cumsum(axis=0) * 0.2 + rng.uniform(0, 0.5, (ny, nx))


def test_closed_bowl_with_two_sources_matches_the_tile_scan():
    n, cell = 26, 10.0  # not a multiple of the tile side: cut tiles on the north / east
    c = (np.arange(n) - 12) * cell
    z = 0.002 * (c[None, :] ** 2 + c[:, None] ** 2) + _bumpy(n, n, 3) * 0.1
    src = _inflows([(12, 4, [[0, 15.0], [20, 15.0], [21, 0.0]]),
                    (3, 20, [[5, 0.0], [10, 8.0], [25, 0.0]])])
    st, steps = _run_both(z, np.zeros(z.shape), _params(cell=cell), src, 2 * 3600.0)
    assert steps > 500 and st.acc[1] > 0 and (st.h > 0.01).sum() > 50


def test_open_slope_that_drains_dry_matches_the_tile_scan():
    # Water runs down an open slope and leaves it: cells go from wet to films and to
    # exactly dry, faces keep momentum after their cells empty, the outflow is summed
    # over the edges in the order of the scan.
    ny, nx = 23, 41
    z = _bumpy(ny, nx, 1) - (0.03 * np.arange(nx) * 10.0)[None, :]
    src = _inflows([(11, 3, [[0, 0.0], [5, 30.0], [15, 0.0]])])
    st, _ = _run_both(z, np.zeros(z.shape), _params(open_boundary=True), src, 3 * 3600.0)
    assert st.acc[2] > 0.5 * st.acc[1]  # most of it left across the edge
    films = (st.h > 0) & (st.h <= 1e-3)
    assert films.any() and (st.peak > 1e-3).sum() > (st.h > 1e-3).sum()


def test_water_at_the_start_everywhere_matches_the_tile_scan():
    # A lake over rough ground with films and dry islands from the start (new_state sets
    # an outflow factor of 1 wherever h > 0, films included), open edges on a cut grid.
    ny, nx = 18, 31
    z = np.random.default_rng(5).uniform(0.0, 1.0, (ny, nx))
    h0 = np.maximum(0.9 - z, 0.0)
    h0[h0 > 0.85] = 5e-4  # films
    h0[2:5, 20:26] += 1.5  # a mound of water that collapses
    _run_both(z, h0, _params(open_boundary=True), K.no_inflows(), 1800.0)


def test_one_row_channel_matches_the_tile_scan():
    nx = 63
    z = (-0.001 * 10.0 * np.arange(nx))[None, :]
    src = _inflows([(0, 0, [[0, 10.0], [1e4, 10.0]])])
    _run_both(z, np.zeros((1, nx)), _params(n=0.05, open_boundary=True), src, 3600.0)


@pytest.fixture(scope="module")
def flash_flood_grid(cache):
    """Bed, parameters and inflows of the flash-flood scenario's water (537 x 399 cells)."""
    import tomllib

    from sim.hazards.flood.hazard import FloodHazard, flood_specs
    from sim.network import load_map
    from tests.conftest import REPO

    path = REPO / "scenarios" / "flash-flood.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    (spec,) = flood_specs(data, source=str(path), base_dir=path.parent)
    hz = FloodHazard.from_spec(spec)
    hz.bind(load_map(REPO / "maps" / "default-district.osm.bz2", cache_dir=cache),
            rng=np.random.default_rng(0))
    return hz.z, hz.params, hz.inflows


def test_flash_flood_matches_the_tile_scan_bit_for_bit(flash_flood_grid):
    # The scenario's 6 h, stopping every hour as the hazard does at its updates.
    z, p, src = flash_flood_grid
    new, ref = K.new_state(np.zeros(z.shape)), K.new_state(np.zeros(z.shape))
    steps = 0
    for hour in range(1, 7):
        steps += K.advance(z, new, p, src, hour * 3600.0)
        R.advance(z, ref, p, src, hour * 3600.0)
        _same(new, ref, f"at {hour} h")
    assert steps == int(new.acc[3]) and steps > 5000
    assert (new.h > 1e-3).sum() > 2000 and new.acc[2] > 0  # wet, and water left the grid


def test_water_spreading_into_films_matches_the_tile_scan():
    # Puddles on flat ground spread until every cell is a film (h <= h_min) and the
    # tiles fall idle: films are not visited once settled, yet the deepest cell of the
    # active tiles sets the next step's length (acc[4]) as in the plain scan.
    z = np.zeros((13, 14))
    h0 = np.zeros(z.shape)
    h0[6, 6] = 0.004
    h0[2, 11] = 0.0012
    h0[3, 2] = 0.0009  # a film from the start
    st, _ = _run_both(z, h0, _params(), K.no_inflows(), 1800.0)
    assert 0 < st.h.max() <= 1e-3 and (st.h > 0).sum() >= 10  # films only, spread
    assert not st.tile_wet.any() and st.acc[4] == 0.0  # idle: no active tile left


def test_a_settled_film_still_sets_the_step_length_while_its_tile_is_active():
    # A film (0.999 mm) sits beside a puddle that runs down a slope and spreads into
    # films. Once they are shallower, no visited cell is deeper than h_min; the
    # plain scan still takes the film as the deepest cell of the active tiles for two
    # more steps (acc[4], which sets the next step's length), and so must the kernel.
    z = 0.1 * np.arange(8)[None, :] * np.ones((8, 1))
    h0 = np.zeros(z.shape)
    h0[0, 7] = 0.000999
    h0[3, 3] = 0.003
    p = _params(open_boundary=True)
    new, ref = K.new_state(h0), K.new_state(h0)
    deepest = []
    for n in range(200):
        K.step(z, new, p, K.no_inflows(), 2.0)
        R.step(z, ref, p, K.no_inflows(), 2.0)
        _same(new, ref, f"after step {n + 1}")
        deepest.append(new.acc[4])
    assert 0.000999 in deepest and deepest[-1] == 0.0  # the film was the deepest, then idle
    assert new.h.max() == new.h[0, 7] == 0.000999 and new.h[3, 3] < 0.000999


def _tile_bits_loop(h):
    """The initial wet tiles and live bits tile by tile, as ``new_state`` first built them."""
    ny, nx = h.shape
    nty, ntx = -(-ny // K.TILE), -(-nx // K.TILE)
    wet = np.zeros((nty, ntx), dtype=np.bool_)
    live = np.zeros((nty, ntx), dtype=np.int64)
    for ti in range(nty):
        for tj in range(ntx):
            cells = h[ti * K.TILE:(ti + 1) * K.TILE, tj * K.TILE:(tj + 1) * K.TILE] > 0
            wet[ti, tj] = cells.any()
            for r, c in zip(*np.nonzero(cells), strict=True):
                live[ti, tj] |= 1 << (K.TILE * int(r) + int(c))
    return wet, live


@pytest.mark.parametrize("shape", [(38, 57), (13, 9), (4, 4), (1, 7), (0, 0)])
@pytest.mark.parametrize("wet_share", [0.0, 0.05, 1.0])
def test_new_state_marks_the_tiles_and_cells_with_water(shape, wet_share):
    rng = np.random.default_rng(5)
    h = np.where(rng.random(shape) < wet_share, rng.random(shape), 0.0)
    st = K.new_state(h)
    wet, live = _tile_bits_loop(h)
    assert np.array_equal(st.tile_wet, wet) and np.array_equal(st.live, live)
    assert st.live.dtype == np.int64 and st.hot[0] == wet.sum()
