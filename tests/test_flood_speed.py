"""The flood's water runs ahead on a thread (issue 17 part 4) and changes nothing.

:meth:`sim.hazards.flood.FloodHazard.prefetch` advances the 2-D scheme to the next update
while the traffic ticks. The invariant is determinism: the same run with and without it
gives bit-identical flood tables, grids and household outcomes.
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
    sc = load_scenario(small_district / "small.toml", overrides={"time.horizon_h": 1.0})
    m = EvacuationModel(scenario=sc, seed=2, cache_dir=cache, network=net, hazards=[hz])
    calls = []
    if ahead:
        orig = hz.prefetch
        hz.prefetch = lambda t: (calls.append(t), orig(t))
    m.run()
    return m, hz, results.tables(m)["households"], calls


def test_water_ahead_on_a_thread_is_bit_identical(small_district, cache):
    from sim.network import load_map

    net = load_map(small_district / "small.osm.bz2", cache_dir=cache)
    m1, hz1, hh1, calls = _run(small_district, net, cache, ahead=True)
    m0, hz0, hh0, _ = _run(small_district, net, cache, ahead=False)
    # It did run ahead, to the model's update times: the first tick at or after each due.
    gaps = np.diff([0.0, *calls])
    assert len(calls) >= 30 and np.all((gaps >= 92.0) & (gaps < 97.0))
    assert np.allclose(np.asarray(calls) / 5.0, np.round(np.asarray(calls) / 5.0))
    for name, frame in hz0.tables().items():
        pd.testing.assert_frame_equal(hz1.tables()[name], frame, check_exact=True, obj=name)
    a0, a1 = hz0.arrays(), hz1.arrays()
    assert a0.keys() == a1.keys()
    for key in a0:
        assert np.array_equal(a0[key], a1[key]), key
    assert np.array_equal(hz0.state.h, hz1.state.h)  # as of the last update in both
    pd.testing.assert_frame_equal(hh1, hh0, check_exact=True)
    assert float(hz1.state.acc[1]) > 0  # water did flow
