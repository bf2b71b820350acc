"""The flood's main-thread work done on less data gives the same bits (issue 17 part 4).

References here are the numpy expressions the flood update used before: the gather /
subtract / clip / ``maximum.reduceat`` chain over every road sample, the hazard rating on
a full array of samples, and the people density counted per grid cell then summed in
blocks by ``_block``. The invariant is exact equality (``array_equal`` on the bits'
values, and on the sign of zeros where the reference can give them).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.road_water import link_excess_max, wet_samples
from sim.hazards.flood import curves as fc
from sim.hazards.flood.hazard import FloodHazard, FloodSpec, _block
from sim.hazards.terrain import Grid


def _at(flat, cells):
    return np.where(cells >= 0, flat[np.maximum(cells, 0)], 0.0)


def _excess_reference(flat, cells, deck, ptr):
    return np.maximum.reduceat(np.maximum(_at(flat, cells) - deck, 0.0), ptr[:-1])


def _random_links(rng, n_cells, n_links):
    n = rng.integers(2, 9, n_links)  # every link has >= 2 samples (its two ends)
    ptr = np.zeros(n_links + 1, np.int64)
    np.cumsum(n, out=ptr[1:])
    cells = rng.integers(-1, n_cells, ptr[-1])  # some samples off the grid (-1)
    deck = np.where(rng.random(ptr[-1]) < 0.2, rng.random(ptr[-1]) * 5.0, 0.0)  # bridges
    return cells, deck, ptr


def test_link_maxima_match_the_numpy_chain():
    rng = np.random.default_rng(11)
    n_cells = 500
    flat = np.where(rng.random(n_cells) < 0.7, 0.0, rng.random(n_cells) * 3.0)  # mostly dry
    # Zeros above the road come out +0.0, as numpy gives them for depths >= +0.0 (the
    # scheme never writes -0.0); for a -0.0 depth the kernel still says +0.0.
    cells, deck, ptr = _random_links(rng, n_cells, 300)
    fast = link_excess_max(flat, cells, deck, ptr)
    ref = _excess_reference(flat, cells, deck, ptr)
    assert fast.dtype == ref.dtype and fast.shape == ref.shape
    assert np.array_equal(fast, ref)
    assert np.array_equal(np.signbit(fast), np.signbit(ref))
    assert (fast > 0).sum() > 50 and (fast == 0).sum() > 20  # both wet and dry links seen
    flat[cells[ptr[0]:ptr[1]]] = -0.0
    deck[ptr[0]:ptr[1]] = 0.0
    assert not np.signbit(link_excess_max(flat, cells, deck, ptr)[0])


def test_wet_samples_are_the_samples_the_mask_picks():
    rng = np.random.default_rng(12)
    n_cells = 400
    flat = np.where(rng.random(n_cells) < 0.6, 0.0, rng.random(n_cells) * 2.0)
    cells, deck, ptr = _random_links(rng, n_cells, 250)
    wd = np.maximum(_at(flat, cells) - deck, 0.0)
    for wet_depth in (0.01, 0.3):
        idx, depth = wet_samples(flat, cells, deck, wet_depth)
        ref = np.flatnonzero(wd > wet_depth)
        assert ref.size > 20
        assert np.array_equal(idx, ref)
        assert np.array_equal(depth, wd[ref])


def test_people_blocks_match_per_cell_counts_summed_by_block():
    from sim.hazards.flood.households import people_blocks

    rng = np.random.default_rng(13)
    grid = Grid(x0_m=100.0, y0_m=-50.0, cell_m=30.0, nx=29, ny=37, crs="EPSG:32631")
    n = 3000  # positions on and off the grid, some exactly on cell edges
    x = 100.0 + rng.integers(-3, 32, n) * 30.0 + rng.choice([0.0, 0.5, 29.999], n)
    y = -50.0 + rng.integers(-3, 40, n) * 30.0 + rng.choice([0.0, 0.5, 29.999], n)
    persons = rng.integers(1, 7, n).astype(np.int32)
    state = rng.integers(0, 6, n).astype(np.int8)
    stranded = rng.random(n) < 0.3
    for k in (1, 3, 8):  # neither side a multiple of 3 or 8
        # The snapshot as first written: count per cell, then sum by blocks.
        cells = grid.cell_of(x, y)
        out = cells >= 0
        ref = []
        for take in (out & (state != 4), out & stranded):
            dens = np.bincount(cells[take], weights=persons[take], minlength=grid.nx * grid.ny)
            ref.append(_block(dens.reshape(grid.ny, grid.nx), k, np.sum).astype(np.float32))
        got = people_blocks(x_m=x, y_m=y, persons=persons, state=state, stranded=stranded,
                            shelter_code=4, grid=grid, k=k)
        for a, b in zip(got, ref, strict=True):
            assert a.shape == b.shape and a.dtype == b.dtype
            assert np.array_equal(a, b)
        assert got[0].sum() == persons[out & (state != 4)].sum()  # nobody lost or doubled
        assert 0 < got[1].sum() < got[0].sum() + persons[out & (state == 4)].sum()


def test_exposure_flags_match_the_numpy_masks():
    from sim.hazards.flood.households import expose

    rng = np.random.default_rng(16)
    n, nd, nw = 3000, 200, 220
    ref = {"drove": np.zeros(n, bool), "walked": np.zeros(n, bool),
           "t_first_s": np.full(n, np.nan)}
    got = {key: v.copy() for key, v in ref.items()}
    for t_s in (60.0, 120.0, 180.0):
        drive_link = np.where(rng.random(n) < 0.4, rng.integers(0, nd, n), -1).astype(np.int32)
        walk_link = np.where(rng.random(n) < 0.4, rng.integers(0, nw, n), -1).astype(np.int32)
        d_depth = np.where(rng.random(nd) < 0.5, rng.random(nd) * 0.5, 0.0)
        d_closed = d_depth >= 0.3
        w_class = rng.integers(0, 4, nw).astype(np.int8)
        w_closed = w_class >= 2
        # FloodHazard._expose as first written.
        trav = np.flatnonzero(drive_link >= 0)
        link = drive_link[trav]
        hit_d = trav[(d_depth[link] > 0.01) & ~d_closed[link]]
        trav = np.flatnonzero(walk_link >= 0)
        link = walk_link[trav]
        hit_w = trav[(w_class[link] >= 1) & ~w_closed[link]]
        for hit, key in ((hit_d, "drove"), (hit_w, "walked")):
            ref[key][hit] = True
            first = hit[np.isnan(ref["t_first_s"][hit])]
            ref["t_first_s"][first] = t_s
        expose(t_s, drive_link=drive_link, walk_link=walk_link, d_depth=d_depth,
               wet_depth_m=0.01, d_closed=d_closed, w_class=w_class, w_closed=w_closed,
               drove=got["drove"], walked=got["walked"], t_first_s=got["t_first_s"])
        for key in ref:
            assert np.array_equal(got[key], ref[key], equal_nan=key == "t_first_s"), key
    t = ref["t_first_s"]
    assert ref["drove"].any() and ref["walked"].any() and {60.0, 120.0} <= set(t[~np.isnan(t)])


def _roads_reference(hz, flat, speed):
    """The update's road effects as first written (numpy over every sample)."""
    s = hz.spec
    d_depth = _excess_reference(flat, hz.d_cells, hz.d_deck, hz.d_ptr)
    d_closed = d_depth >= s.vehicle_close_depth_m
    v_kmh = fc.vehicle_speed_kmh(d_depth * 1000.0)
    drive = np.where(d_closed, 0.0, np.minimum(1.0, v_kmh / hz.d_ffs_kmh))
    wd = np.maximum(_at(flat, hz.w_cells) - hz.w_deck, 0.0)
    wet = np.flatnonzero(wd > s.wet_depth_m)
    hr = np.zeros_like(wd)
    if wet.size:
        d, v = wd[wet], speed(hz.w_cells[wet])
        hr[wet] = fc.hazard_rating(d, v, fc.debris_factor(d, v, s.land_use))
    w_hr = np.maximum.reduceat(hr, hz.w_ptr[:-1])
    w_class = fc.hr_class_index(w_hr)
    w_closed = w_class >= hz.walk_close_class
    return d_depth, d_closed, drive, w_class, w_closed, np.where(w_closed, 0.0, 1.0)


@pytest.fixture(scope="module")
def bound(small_district, cache):
    from sim.network import load_map

    net = load_map(small_district / "small.osm.bz2", cache_dir=cache)
    nodes = np.unique(net.drive.from_node)
    spec = FloodSpec.model_validate(
        {"kind": "flood", "dem": "small.dem.asc", "bridge_span_m": 200.0,
         "inflows": [{"x_m": float(net.nodes.x_m[nodes[0]]),
                      "y_m": float(net.nodes.y_m[nodes[0]]),
                      "hydrograph": [[0.0, 10.0], [60.0, 10.0]]}]},
        context={"base_dir": small_district})
    hz = FloodHazard.from_spec(spec)
    hz.bind(net, rng=np.random.default_rng(0))
    return hz


def test_road_effects_on_the_real_samples_match_the_first_numpy_version(bound):
    hz = bound
    rng = np.random.default_rng(14)
    n = hz.grid.nx * hz.grid.ny
    for wet_share in (0.0, 0.05, 0.5):
        flat = np.where(rng.random(n) < wet_share, rng.random(n) * 1.2, 0.0)
        vel = rng.random(n) * 3.0

        def speed(cells, vel=vel):
            return vel[cells]

        got = hz._roads(flat, speed)
        ref = _roads_reference(hz, flat, speed)
        for name, a, b in zip(("d_depth", "d_closed", "drive", "w_class", "w_closed", "walk"),
                              got, ref, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b), (wet_share, name)
        if wet_share >= 0.5:  # the comparison saw closures of both kinds
            assert ref[1].any() and ref[4].any()


def _caught_reference(people, d_closed, w_closed, stranded, home_cell, grid, flat, h_max,
                      home_depth):
    """``FloodHazard._strand``'s choice of households as first written (numpy masks)."""
    n = len(stranded)
    on_d = np.zeros(n, bool)
    trav = np.flatnonzero(people["drive_link"] >= 0)
    on_d[trav[d_closed[people["drive_link"][trav]]]] = True
    on_w = np.zeros(n, bool)
    trav = np.flatnonzero(people["walk_link"] >= 0)
    on_w[trav[w_closed[people["walk_link"][trav]]]] = True
    at_home = np.zeros(n, bool)
    if h_max >= home_depth:
        home = people["indoors"] & (people["state"] <= 2)
        cand = np.flatnonzero(home & ~stranded)
        todo = cand[home_cell[cand] == -2]
        home_cell[todo] = grid.cell_of(people["x"][todo], people["y"][todo])
        cells = home_cell[cand]
        depth_c = np.where(cells >= 0, flat[np.maximum(cells, 0)], 0.0)
        at_home[cand[depth_c >= home_depth]] = True
    new = np.flatnonzero((on_d | on_w | at_home) & ~stranded)
    cause = np.where(at_home[new], "home", np.where(on_d[new], "road", "footpath"))
    return new, cause


def test_households_caught_in_one_pass_are_those_the_masks_pick():
    from sim.hazards.flood.households import caught

    rng = np.random.default_rng(15)
    grid = Grid(x0_m=100.0, y0_m=-50.0, cell_m=30.0, nx=23, ny=17, crs="EPSG:32631")
    n, nd, nw = 4000, 300, 280
    flat = np.where(rng.random(grid.nx * grid.ny) < 0.5, rng.random(grid.nx * grid.ny), 0.0)
    stranded = rng.random(n) < 0.1
    cell_ref = np.full(n, -2, np.int64)
    cell_new = cell_ref.copy()
    # Homes on and off the grid (some exactly on cell edges), three updates.
    x = 100.0 + rng.integers(-3, 26, n) * 30.0 + rng.choice([0.0, 0.5, 29.999], n)
    y = -50.0 + rng.integers(-3, 20, n) * 30.0 + rng.choice([0.0, 0.5, 29.999], n)
    seen = set()
    for h_max in (0.2, 0.9, 0.9):
        people = {"drive_link": np.where(rng.random(n) < 0.3, rng.integers(0, nd, n), -1)
                  .astype(np.int32),
                  "walk_link": np.where(rng.random(n) < 0.2, rng.integers(0, nw, n), -1)
                  .astype(np.int32),
                  "indoors": rng.random(n) < 0.6, "state": rng.integers(0, 6, n).astype(np.int8),
                  "x": x, "y": y}
        d_closed, w_closed = rng.random(nd) < 0.3, rng.random(nw) < 0.3
        ref, ref_cause = _caught_reference(people, d_closed, w_closed, stranded, cell_ref, grid,
                                           flat, h_max, 0.5)
        got, code = caught(drive_link=people["drive_link"], walk_link=people["walk_link"],
                           d_closed=d_closed, w_closed=w_closed, stranded=stranded,
                           check_home=h_max >= 0.5, indoors=people["indoors"],
                           state=people["state"], at_home_max=2, x_m=x, y_m=y, grid=grid,
                           home_cell=cell_new, flat_h=flat, home_depth_m=0.5)
        assert np.array_equal(got, ref)
        assert np.array_equal(np.array(["home", "road", "footpath"])[code], ref_cause)
        assert np.array_equal(cell_new, cell_ref)  # the same homes looked up, same cells
        seen.update(ref_cause.tolist())
        stranded[ref[: ref.size // 2]] = True  # some stay stranded before the next update
    assert seen == {"home", "road", "footpath"} and (cell_ref == -1).any()
