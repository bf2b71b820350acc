"""The model's side of the hazard interface, driven by a scripted test hazard.

The hazard here is a test double with known behaviour (close given links at a given time,
strand given households), so every assertion follows from the interface contract in
``sim/hazards/base.py``, not from any physics.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import queue
from sim.hazards.base import Hazard, HazardUpdate, Incident
from sim.model import STATES, EvacuationModel
from sim.population import NOT_WARNED, WARNED


class ScriptedHazard(Hazard):
    kind = "scripted"

    def __init__(self, close_at_s: float, n_close: int) -> None:
        self.cadence_s = 60.0
        self.close_at_s = close_at_s
        self.n_close = n_close
        self.calls: list[float] = []
        self.closed: np.ndarray | None = None
        self.stranded_home: np.ndarray | None = None

    def bind(self, net, *, rng):
        self.n_drive = net.drive.n_links
        self.n_walk = net.walk.n_links
        self.closed = rng.choice(self.n_drive, size=self.n_close, replace=False)

    def update(self, t_s, people):
        self.calls.append(t_s)
        if t_s < self.close_at_s or self.stranded_home is not None:
            return HazardUpdate()
        factor = np.ones(self.n_drive)
        factor[self.closed] = 0.0
        at_home = np.flatnonzero(people.indoors & np.isin(people.state, [NOT_WARNED, WARNED]))
        self.stranded_home = at_home[:50]
        inc = Incident(
            t_s=t_s,
            kind="stranded",
            hazard="scripted",
            x_m=0.0,
            y_m=0.0,
            node=0,
            persons=int(people.persons[self.stranded_home].sum()),
        )
        return HazardUpdate(drive_factor=factor, stranded=self.stranded_home, incidents=[inc])


@pytest.fixture(scope="module")
def run(request):
    small = request.getfixturevalue("small_district")
    cache = request.getfixturevalue("cache")
    hz = ScriptedHazard(close_at_s=600.0, n_close=40)
    m = EvacuationModel(scenario_path=small / "small.toml", seed=2, cache_dir=cache, hazards=[hz])
    entered_after_close = []
    while m.running:
        before = m.fleet.link.copy()
        m.step()
        if m.t_s > 600.0 + m.tick_s:
            moved = (m.fleet.link != before) & (m.fleet.link >= 0)
            entered_after_close.append(np.isin(m.fleet.link[moved], hz.closed).any())
        assert m.person_counts().sum() == m.pop.n_persons
    return m, hz, entered_after_close


def test_hazard_called_at_its_cadence(run):
    m, hz, _ = run
    assert hz.calls[0] == 0.0
    assert np.allclose(np.diff(hz.calls), hz.cadence_s)


def test_closed_links_are_not_entered(run):
    m, hz, entered = run
    assert m.drive_speed_factor[hz.closed].max() == 0.0
    assert not any(entered)


def test_stranded_households_stay_and_are_counted(run):
    m, hz, _ = run
    hh = hz.stranded_home
    assert hh.size > 0
    assert np.all(np.isnan(m.household_arrival_s()[hh]))
    state = m.household_state()
    assert np.all(state[hh] == STATES.index("stranded"))
    assert m.person_counts()[STATES.index("stranded")] >= m.pop.persons[hh].sum()
    # Their vehicles never left home.
    cars = np.searchsorted(m.car_hh, hh[m.pop.has_car[hh]])
    assert np.all(m.fleet.state[cars] == queue.IDLE)


def test_incident_is_logged(run):
    m, hz, _ = run
    assert len(m.incidents) == 1
    assert any(e.kind == "scripted_stranded" for e in m.events)
    assert any(e.kind == "closures" for e in m.events)


def test_hazard_outputs_reach_the_run_folder(run, tmp_path):
    import pandas as pd

    from sim import results, runs

    m, hz, _ = run
    out = runs.write_run(
        tmp_path / "r",
        manifest=results.manifest(m),
        tables=results.tables(m),
        figures=False,
        extra=results.extra(m),
    )
    inc = pd.read_csv(out / "hazard" / "incidents.csv")
    assert len(inc) == len(m.incidents) == 1
    assert inc.loc[0, "persons"] == m.pop.persons[hz.stranded_home].sum()
