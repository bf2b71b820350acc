"""The flood's water runs ahead on a thread (issue 17 part 4) and changes nothing.

:meth:`sim.hazards.flood.FloodHazard.prefetch` advances the 2-D scheme through the coming
updates on a thread while the traffic ticks. The invariant is determinism: the same run
with and without it gives bit-identical flood tables, grids and household outcomes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.hazards.flood.hazard import FloodHazard, FloodSpec
from sim.scenario import load_scenario


def _run(small_district, net, cache, *, ahead: bool):
    from sim import results
    from sim.model import EvacuationModel

    nodes = np.unique(net.drive.from_node)
    cx, cy = np.median(net.nodes.x_m[nodes]), np.median(net.nodes.y_m[nodes])
    k = nodes[np.argmin(np.hypot(net.nodes.x_m[nodes] - cx, net.nodes.y_m[nodes] - cy))]
    spec = FloodSpec.model_validate(
        {"kind": "flood", "dem": "small.dem.asc", "home_stranding_depth_m": 0.15,
         "cadence_s": 92.0,  # not a multiple of the 5 s tick: updates 95 or 100 s apart
         "inflows": [{"x_m": float(net.nodes.x_m[k]), "y_m": float(net.nodes.y_m[k]),
                      "hydrograph": [[0.0, 150.0], [60.0, 150.0]]}]},
        context={"base_dir": small_district})
    hz = FloodHazard.from_spec(spec)
    if not ahead:
        hz.prefetch = None  # the model looks the method up with getattr: off
    calls, updates = [], []  # the times the thread advanced to; the model's update times
    if ahead:
        orig = hz.prefetch

        def consumed(times):
            for t in times:
                calls.append(t)
                yield t

        hz.prefetch = lambda times: orig(consumed(times))
        update = hz.update
        hz.update = lambda t, people: (updates.append(t), update(t, people))[1]
    sc = load_scenario(small_district / "small.toml", overrides={"time.horizon_h": 1.0})
    m = EvacuationModel(scenario=sc, seed=2, cache_dir=cache, network=net, hazards=[hz])
    m.run()
    return m, hz, results.tables(m)["households"], (calls, updates)


def test_water_ahead_on_a_thread_is_bit_identical(small_district, cache):
    from sim.network import load_map

    net = load_map(small_district / "small.osm.bz2", cache_dir=cache)
    m1, hz1, hh1, (calls, updates) = _run(small_district, net, cache, ahead=True)
    m0, hz0, hh0, _ = _run(small_district, net, cache, ahead=False)
    # It did run ahead, exactly through the model's update times: the first tick at or
    # after each due time.
    assert calls == updates
    gaps = np.diff(updates)
    assert len(updates) >= 30 and np.all((gaps >= 92.0) & (gaps < 97.0))
    assert np.allclose(np.asarray(updates) / 5.0, np.round(np.asarray(updates) / 5.0))
    assert hz1._ahead is None or not hz1._ahead.running  # stopped with the run
    for name, frame in hz0.tables().items():
        pd.testing.assert_frame_equal(hz1.tables()[name], frame, check_exact=True, obj=name)
    a0, a1 = hz0.arrays(), hz1.arrays()
    assert a0.keys() == a1.keys()
    for key in a0:
        assert np.array_equal(a0[key], a1[key]), key
    assert np.array_equal(hz0.state.h, hz1.state.h)  # as of the last update in both
    pd.testing.assert_frame_equal(hh1, hh0, check_exact=True)
    assert float(hz1.state.acc[1]) > 0  # water did flow


def _block_reference(a, k, how):
    """The down-sampling as first written: pad, reshape to blocks, reduce (the reference)."""
    *lead, ny, nx = a.shape
    py, px = (-ny) % k, (-nx) % k
    a = np.pad(a, [(0, 0)] * len(lead) + [(0, py), (0, px)])
    a = a.reshape(*lead, (ny + py) // k, k, (nx + px) // k, k)
    return how(how(a, axis=-1), axis=-2)


def test_snapshot_down_sampling_matches_the_block_reduction():
    from sim.hazards.flood.hazard import _block

    rng = np.random.default_rng(7)
    depth = rng.random((3, 37, 29)).astype(np.float32)  # neither side a multiple of k
    persons = rng.integers(0, 60, (37, 29)).astype(np.float64)  # whole persons per cell
    for k in (2, 3, 8):
        fast = _block(depth, k, np.max)
        ref = _block_reference(depth, k, np.max)
        assert fast.shape == ref.shape and fast.dtype == ref.dtype
        assert np.array_equal(fast, ref)  # maxima: the same bits
        assert np.array_equal(_block(persons, k, np.sum), _block_reference(persons, k, np.sum))
        assert _block(persons, k, np.sum).sum() == persons.sum()  # nobody lost or doubled


def test_gif_water_painted_as_the_image_layer_draws_it():
    """The GIF paints the water pixel by pixel; it must be what ``imshow`` would draw."""
    from analysis.flood import _depth_layer, _pixel_cells
    from analysis.plotting import _new_figure

    rng = np.random.default_rng(3)
    depth = rng.random((9, 13)) * 2.0
    depth[depth < 0.3] = 0.0  # dry cells: not drawn
    extent = [100.0, 100.0 + 13 * 50.0, -40.0, -40.0 + 9 * 50.0]

    def canvas(how: str) -> np.ndarray:
        fig = _new_figure(4.0, 3.0)
        ax = fig.add_subplot()
        ax.set_xlim(80.0, 700.0)  # the grid starts inside the axes on the left, ends past
        ax.set_ylim(-40.0, 420.0)  # them on the right
        layer = _depth_layer(ax, depth, extent, 1.5)
        layer.set_visible(how == "imshow")
        fig.canvas.draw()
        buf = np.asarray(fig.canvas.buffer_rgba()).copy()
        if how == "painted":
            rows, cols, cell = _pixel_cells(fig, ax, extent, depth.shape)
            d = depth.ravel()[cell]
            on = d >= 0.01
            buf[rows[on], cols[on]] = layer.cmap(layer.norm(d[on]), bytes=True)
        return buf[..., :3].astype(int)

    drawn, painted, dry = canvas("imshow"), canvas("painted"), canvas("none")
    water = np.abs(drawn - dry).max(axis=2) > 0
    differ = np.abs(drawn - painted).max(axis=2) > 0
    assert water.mean() > 0.2  # the layer covers much of the figure
    # Cells are ~20 px wide: only pixels on a cell's edge may fall to the neighbouring
    # cell, a few per cent of the water at most.
    assert differ.sum() < 0.05 * water.sum()
