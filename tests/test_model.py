"""End-to-end: the Mesa model on a small generated district, and the ``evacsim`` CLI."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.core import queue, walk
from sim.model import STATES, EvacuationModel
from sim.scenario import default_scenario_path, load_scenario

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def finished(small_district, cache) -> EvacuationModel:
    m = EvacuationModel(scenario_path=small_district / "small.toml", seed=11, cache_dir=cache)
    m.run()
    return m


def test_invariants_hold_every_tick(small_district, cache):
    m = EvacuationModel(scenario_path=small_district / "small.toml", seed=5, cache_dir=cache)
    n_persons = m.pop.n_persons
    storage = m.net.drive.storage_veh
    while m.running:
        m.step()
        counts = m.person_counts()
        assert counts.sum() == n_persons  # nobody is lost or counted twice
        assert np.all(counts >= 0)
        moving = np.count_nonzero(m.fleet.state == queue.MOVING)
        assert m.queues.count.sum() == moving  # every moving car is on exactly one link
        assert np.all(m.queues.count <= storage)  # no link above storage
        states = np.bincount(m.fleet.state, minlength=4)
        assert states.sum() == len(m.fleet.state)
        # Shelter rooms only shrink by arrivals: persons sheltered == capacity - room.
        sheltered = int(counts[STATES.index("sheltered")])
        assert sheltered == int((m.node_capacity - m.shelter_room).sum())
    # Capacity: no link ever discharged faster than one vehicle per 1/C seconds.
    horizon = m.t_s
    assert np.all(m.queues.exits <= 1 + m.net.drive.capacity_vps * horizon + 1e-9)


def test_run_moves_people_to_shelters(finished):
    m = finished
    arrived = np.isfinite(m.household_arrival_s())
    assert arrived.any()
    dep = m.resp.t_depart_s
    t_arr = m.household_arrival_s()
    # Nobody arrives before they leave home.
    assert np.all(t_arr[arrived] >= dep[arrived])
    # Nobody who never departs arrives anywhere.
    assert not np.any(arrived & ~np.isfinite(dep))
    # The last sample of the time series is the final state.
    df = m.datacollector.get_model_vars_dataframe()
    assert df[list(STATES)].sum(axis=1).eq(m.pop.n_persons).all()


def test_same_seed_same_state(small_district, cache, finished):
    again = EvacuationModel(scenario_path=small_district / "small.toml", seed=11, cache_dir=cache)
    again.run()
    np.testing.assert_array_equal(again.household_arrival_s(), finished.household_arrival_s())
    np.testing.assert_array_equal(again.fleet.dest_node, finished.fleet.dest_node)
    other = EvacuationModel(scenario_path=small_district / "small.toml", seed=12, cache_dir=cache)
    assert not np.array_equal(other.resp.t_depart_s, finished.resp.t_depart_s)


def _folder_bytes(run: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(run.rglob("*")):
        if p.is_file() and p.suffix != ".png":
            data = p.read_bytes()
            if p.name == "manifest.json":
                man = json.loads(data)
                for k in ("created_utc", "wall_s", "command"):
                    man.pop(k, None)
                data = json.dumps(man, sort_keys=True).encode()
            out[str(p.relative_to(run))] = data
    return out


def test_cli_run_writes_identical_folders(small_district, cache, tmp_path, capsys, drawn):
    scen = str(small_district / "small.toml")
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        rc = main(
            [
                "run",
                scen,
                "--seed",
                "3",
                "--out",
                str(out),
                "--no-progress",
                "--cache-dir",
                str(cache),
            ]
        )
        assert rc == 0
    fa, fb = _folder_bytes(a), _folder_bytes(b)
    assert fa.keys() == fb.keys()
    assert {
        "manifest.json",
        "metrics.json",
        "timeseries.csv",
        "events.csv",
        "shelters.csv",
        "households.csv.gz",
        "links.csv.gz",
    } <= set(fa)
    for k in fa:
        assert fa[k] == fb[k], k
    # The figures draw this run: every road link, every shelter, the arrivals it counted.
    import pandas as pd

    links = pd.read_csv(b / "links.csv.gz")
    shelters = pd.read_csv(b / "shelters.csv")
    metrics = json.loads((b / "metrics.json").read_text(encoding="utf-8"))
    ax = drawn["map.png"].axes[0]
    assert len(ax.collections[0].get_segments()) == int((links["network"] == "drive").sum())
    assert len(ax.collections[-1].get_offsets()) == len(shelters)
    arrived = drawn["arrivals.png"].axes[0].lines[1]
    assert arrived.get_ydata()[-1] == metrics["evacuees"]["arrived"] > 0
    with gzip.open(a / "households.csv.gz", "rt") as f:
        assert f.readline().startswith("household,")
    # An existing folder is never overwritten silently.
    rc = main(
        ["run", scen, "--seed", "3", "--out", str(a), "--no-progress", "--cache-dir", str(cache)]
    )
    assert rc == 2
    assert "--force" in capsys.readouterr().err
    import pandas as pd

    metrics = json.loads((a / "metrics.json").read_text())
    hh = pd.read_csv(a / "households.csv.gz")
    assert metrics["population"]["persons"] == int(hh["persons"].sum())


def _bad_scenario(small_district: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = (small_district / "small.toml").read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new)
    text = text.replace("small.osm.bz2", str(small_district / "small.osm.bz2"))
    text = text.replace("small.zones.csv", str(small_district / "small.zones.csv"))
    p = tmp_path / "bad.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("[time]", "[time]\nbogus_field = 1", "bogus_field"),
        ("small.osm.bz2", "missing-map.osm.bz2", "missing-map.osm.bz2"),
    ],
)
def test_cli_bad_input_clear_error_no_folder(small_district, tmp_path, capsys, old, new, expect):
    scen = _bad_scenario(small_district, tmp_path, old, new)
    out = tmp_path / "run"
    rc = main(["run", str(scen), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2
    assert expect in err and "Traceback" not in err
    assert not out.exists()
    assert not any(p.name.startswith(".run") for p in tmp_path.iterdir())


def test_cli_corrupt_map(tmp_path, capsys):
    bad = tmp_path / "corrupt.osm.bz2"
    bad.write_bytes(b"this is not bzip2")
    rc = main(["map", "info", str(bad)])
    assert rc == 2
    assert "corrupt.osm.bz2" in capsys.readouterr().err


def test_default_scenario_loads():
    sc = load_scenario(default_scenario_path())
    assert sc.scenario.name == "default-district"


def test_kernel_state_codes_agree():
    # The model mixes car and walker state codes in one household vector.
    assert (queue.IDLE, queue.WAITING, queue.MOVING, queue.ARRIVED) == (
        walk.IDLE,
        walk.WAITING,
        walk.MOVING,
        walk.ARRIVED,
    )


def _run_cli_expect_error(scen: Path, tmp_path: Path, capsys, *expect: str) -> None:
    out = tmp_path / "run"
    rc = main(
        ["run", str(scen), "--out", str(out), "--no-progress", "--cache-dir", str(tmp_path / "c")]
    )
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    for e in expect:
        assert e in err, (e, err)
    assert not out.exists()
    assert not any(p.name.startswith(".run") for p in tmp_path.iterdir())


def test_negative_population_is_refused(small_district, tmp_path, capsys):
    zones = (small_district / "small.zones.csv").read_text(encoding="utf-8").splitlines()
    name, _, kind = zones[1].split(",")
    zones[1] = f"{name},-5,{kind}"
    bad_csv = tmp_path / "bad.zones.csv"
    bad_csv.write_text("\n".join(zones) + "\n", encoding="utf-8")
    scen = _bad_scenario(small_district, tmp_path, "small.zones.csv", str(bad_csv))
    _run_cli_expect_error(scen, tmp_path, capsys, "bad.zones.csv", "-5")


def test_shelter_off_the_network_is_refused(small_district, tmp_path, capsys):
    # 50 km east of the district: farther than any snapping distance.
    scen = _bad_scenario(
        small_district,
        tmp_path,
        "extra = []",
        'extra = [{ name = "Far Away", capacity = 100, lon = 107.0, lat = 39.0 }]',
    )
    _run_cli_expect_error(scen, tmp_path, capsys, "Far Away")


def test_no_open_shelter_is_refused(small_district, cache, tmp_path, capsys):
    m = EvacuationModel(scenario_path=small_district / "small.toml", seed=1, cache_dir=cache)
    names = ", ".join(f'"{n}"' for n in sorted(set(m.shelter_table.name)))
    scen = _bad_scenario(small_district, tmp_path, "closed = []", f"closed = [{names}]")
    _run_cli_expect_error(scen, tmp_path, capsys, "shelter")


def test_fetch_offline_is_a_clear_error(tmp_path, capsys, monkeypatch):
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("network is unreachable")

    monkeypatch.setattr(requests, "get", offline)
    monkeypatch.setattr(requests, "post", offline)
    monkeypatch.setattr(requests.Session, "request", offline)
    rc = main(
        [
            "map",
            "fetch",
            "--place",
            "Dawukou District, Shizuishan, Ningxia, China",
            "--out-dir",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert "Dawukou" in err and "map import" in err
    assert list(tmp_path.iterdir()) == []
