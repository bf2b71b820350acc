"""Landslides in a run (sim/hazards/landslide/hazard.py), triggered by a quake or by rain.

Expected values: the screening formulas (tested in test_landslide_screening) applied to
the hazard's own slope grid, certainty at the ends of P(f) (flat ground, rain above the
threshold), and the interface contract (closed links are those crossing the debris;
those at home in it are trapped once).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim._errors import ScenarioError
from sim.hazards.base import PeopleView
from sim.hazards.chains import bind_hazards
from sim.hazards.earthquake.hazard import EarthquakeHazard, EarthquakeSpec
from sim.hazards.landslide import screening as sc
from sim.hazards.landslide.hazard import LandslideHazard
from sim.hazards.landslide.spec import LandslideSpec
from tests.data.scenarios.synthetic_net import CRS, ORIGIN, grid_net

K, SP = 7, 100.0
CENTRE = (ORIGIN[0] + 300.0, ORIGIN[1] + 300.0)


def _dem(tmp_path, steep: bool) -> str:
    """A 10 m grid over the 600 m net (+200 m): flat, or a 35° slope east of x = 300 m."""
    cell, n = 10.0, 100
    x0, y0 = ORIGIN[0] - 200.0, ORIGIN[1] - 200.0
    xs = x0 + (np.arange(n) + 0.5) * cell
    z = np.where(xs > CENTRE[0], (xs - CENTRE[0]) * np.tan(np.radians(35.0)), 0.0) if steep \
        else np.zeros(n)
    grid = np.tile(z, (n, 1))
    head = (f"ncols {n}\nnrows {n}\nxllcorner {x0}\nyllcorner {y0}\ncellsize {cell}\n"
            f"NODATA_value -9999\n")
    p = tmp_path / ("steep.asc" if steep else "flat.asc")
    p.write_text(head + "\n".join(" ".join(f"{v:.3f}" for v in row) for row in grid) + "\n")
    return str(p)


@pytest.fixture(scope="module")
def net():
    blocks = [{"kind": "residential", "x_m": ORIGIN[0] + (i + 0.5) * SP,
               "y_m": ORIGIN[1] + (j + 0.5) * SP, "area_m2": 6400.0}
              for i in range(K - 1) for j in range(K - 1)]
    return grid_net(K, SP, residential=blocks)


def _quake():
    return EarthquakeSpec.model_validate({
        "magnitude": 7.0, "epicentre_xy_m": CENTRE, "mechanism": "RS", "vs30_mps": 300.0,
        "time_min": 10.0, "buildings": {"footprint_m2": 400.0, "coverage": 0.3,
                                        "levels": [3], "levels_share": [1.0]}})


def _slide_spec(dem, **trigger):
    return LandslideSpec.model_validate({"kind": "landslide", "dem": dem, "dem_crs": CRS,
                                         "trigger": trigger or {"hazard": "earthquake"}})


def _view(net, at_home=True):
    x, y = net.nodes.x_m + 5.0, net.nodes.y_m + 5.0
    n = len(x)
    return PeopleView(x_m=x, y_m=y, persons=np.full(n, 2, np.int32), state=np.zeros(n, np.int8),
                      indoors=np.full(n, at_home), has_car=np.zeros(n, bool),
                      drive_link=np.full(n, -1, np.int32), walk_link=np.full(n, -1, np.int32))


def _run(net, hazards, t_end_s=30 * 60.0, seed=3, events=None):
    log = (lambda *a: events.append(a)) if events is not None else (lambda *a: None)
    bound = bind_hazards(hazards, net, np.random.SeedSequence(seed), log)
    view = _view(net)
    ups = []
    for t in np.arange(0.0, t_end_s + 1, 60.0):
        ups.append([hz.update(float(t), view) for hz in bound])
    return bound, ups


def test_flat_ground_has_no_slides_even_in_a_strong_quake(tmp_path, net):
    (quake, slide), ups = _run(net, [EarthquakeHazard.from_spec(_quake()),
                                     LandslideHazard.from_spec(_slide_spec(_dem(tmp_path, False)))])
    assert slide.t_slide_s == 600.0  # the quake's time: it shook, nothing failed
    assert slide.p_failure.max() == 0.0 and not slide.failed.any()
    assert slide.tables()["summary"]["drive_links_closed"].item() == 0


def test_quake_on_a_steep_slope_fails_cells_by_the_screening_probability(tmp_path, net):
    events = []
    (quake, slide), ups = _run(net, [EarthquakeHazard.from_spec(_quake()),
                                     LandslideHazard.from_spec(_slide_spec(_dem(tmp_path, True)))],
                               events=events)
    (ev,) = [e for e in events if e[1] == "chain_trigger"]  # the chain, with its cause
    assert ev[0] == 600.0 and ev[4] == slide.failed.sum() and "earthquake" in ev[5]
    cx, cy = slide.grid.centres()
    pga = quake.value_at(600.0, cx.ravel(), cy.ravel()).reshape(cx.shape)
    want = sc.shaking_failure_probability(slide.slope_deg, pga, slide.soil)
    np.testing.assert_allclose(slide.p_failure, want)
    assert slide.failed.any()
    assert not slide.failed[slide.slope_deg < 1.0].any()  # the flat half never fails
    assert np.all(slide.p_failure[slide.failed] > 0)


def test_rain_fails_every_screened_cell_and_blocks_roads_and_homes(tmp_path, net):
    dem = _dem(tmp_path, True)
    # The rain trigger needs only its own fields (the flood supplies no rain).
    slide = LandslideHazard.from_spec(_slide_spec(dem, hazard="flood", rain_mm_h=30.0,
                                                  rain_h=6.0, time_min=20.0))
    slide.bind(net, rng=np.random.default_rng(0))
    view = _view(net)
    first = None
    for t in np.arange(0.0, 40 * 60.0 + 1, 60.0):
        upd = slide.update(float(t), view)
        if upd.drive_factor is not None:
            first = (t, upd)
    t, upd = first
    assert t == 20 * 60.0
    np.testing.assert_array_equal(slide.failed, sc.rain_failure(slide.slope_deg, 30.0, 6.0,
                                                                slide.soil))
    assert slide.failed.any()
    closed = upd.drive_factor == 0
    # A closed link has a sample point in the debris; an open one has none.
    cells, ptr = slide.d_samples
    hit = np.where(cells >= 0, slide.debris.ravel()[np.maximum(cells, 0)], False)
    per_link = np.add.reduceat(hit.astype(int), ptr[:-1]) > 0
    np.testing.assert_array_equal(closed, per_link)
    caught = slide.tables()["caught"]
    assert caught["household"].is_unique and len(caught) > 0
    c = slide.grid.cell_of(view.x_m[caught["household"]], view.y_m[caught["household"]])
    assert slide.debris.ravel()[c].all()


def test_landslide_trigger_on_an_absent_hazard_is_refused():
    import tomllib
    from pathlib import Path

    from sim.scenario import Scenario

    path = Path(__file__).resolve().parents[1] / "scenarios" / "default.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["hazards"] = [{"kind": "landslide", "dem": "../maps/default-district.dem.asc",
                        "trigger": {"hazard": "earthquake"}}]
    with pytest.raises(ScenarioError, match=r"hazards\[0\]\.trigger\.hazard: expected the kind "
                                            r"of another hazard"):
        Scenario.from_dict(data, source=str(path), base_dir=path.parent)
    data["hazards"][0]["trigger"] = {"hazard": "flood", "rain_mm_h": 20.0}
    with pytest.raises(ScenarioError, match=r"trigger\.rain_mm_h: expected rain_mm_h, rain_h "
                                            r"and time_min"):
        Scenario.from_dict(data, source=str(path), base_dir=path.parent)
