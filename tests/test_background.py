"""Work in a forked child (:mod:`sim.background`): results, errors, and the same files.

Invariants: the caller gets the work's value or its exception whichever process did it; a
child that dies without answering is an error, never a success; where forking is unsafe
(another thread alive) the work runs in the caller; a run folder written with the figures
drawn by a second process is byte for byte the one written by a single process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sim._errors import EvacsimError, RunFolderError
from sim.background import Background, Gate, can_fork

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")


def _pid_and(x):
    return os.getpid(), x


def test_the_value_comes_back_from_the_child_or_the_caller():
    forked = can_fork()  # a test run may hold threads (then the caller does the work)
    with Background(lambda: _pid_and(41 + 1)) as bg:
        assert bg.forked == forked
        pid, value = bg.result()
    assert value == 42
    assert (pid != os.getpid()) == forked
    with Background(lambda: _pid_and(7), fork=False) as bg:
        assert not bg.forked and bg.result() == (os.getpid(), 7)


def test_no_fork_while_another_thread_is_alive():
    stop = threading.Event()
    th = threading.Thread(target=stop.wait)
    th.start()
    try:
        assert not can_fork()
        with Background(lambda: _pid_and(1)) as bg:
            assert not bg.forked
            assert bg.result() == (os.getpid(), 1)
    finally:
        stop.set()
        th.join()


def _raise():
    raise RunFolderError("runs/x/figures/map.png: cannot be written")


class _Odd(Exception):
    def __init__(self, a, b):  # unpickling calls _Odd(message): it does not make the trip
        super().__init__(f"{a}/{b}")


def _raise_odd():
    raise _Odd("left", "right")


@pytest.mark.skipif(not can_fork(), reason="threads alive in this test process")
def test_errors_come_back_with_their_type_and_message():
    with Background(_raise) as bg, pytest.raises(RunFolderError, match="map.png: cannot be"):
        bg.result()
    with Background(_raise_odd) as bg, pytest.raises(EvacsimError, match="_Odd: left/right"):
        bg.result()


@pytest.mark.skipif(not can_fork(), reason="threads alive in this test process")
def test_a_child_that_dies_is_an_error_with_its_exit_code():
    with Background(lambda: os._exit(3), what="drawing") as bg, \
            pytest.raises(EvacsimError, match=r"drawing: .*exit code 3"):
        bg.result()


@pytest.mark.skipif(not can_fork(), reason="threads alive in this test process")
def test_leaving_the_block_stops_a_child_nobody_waits_for(tmp_path):
    flag = tmp_path / "late"

    def slow():
        time.sleep(30)
        flag.write_text("written after the caller gave up")

    t0 = time.perf_counter()
    with pytest.raises(KeyError), Background(slow) as bg:
        assert bg.forked
        raise KeyError("the caller fails")
    assert time.perf_counter() - t0 < 10  # terminated, not waited for
    assert not flag.exists()


def _passed_at(gate):
    gate.wait()
    return time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on Linux


@pytest.mark.skipif(not can_fork(), reason="threads alive in this test process")
def test_a_gate_holds_the_child_until_the_caller_opens_it():
    with Gate() as gate, Background(lambda: _passed_at(gate)) as bg:
        assert bg.forked
        time.sleep(0.3)  # the child is blocked meanwhile
        opened = time.monotonic()
        gate.open()
        assert bg.result() >= opened


def test_the_caller_waiting_on_a_gate_it_never_opened_is_an_error_not_a_hang():
    with Gate() as gate, Background(lambda: _passed_at(gate), fork=False) as bg:
        with pytest.raises(EvacsimError, match="would wait forever"):
            bg.result()
        gate.open()  # work run by the caller after the open goes straight through
        assert bg.result() <= time.monotonic()


_SCRIPT = r"""
import filecmp, sys
from pathlib import Path
import sim.runs as runs
from sim import results
from sim.model import EvacuationModel
from sim.scenario import load_scenario

seen = []
class Spy(runs.Background):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        seen.append(self.forked)
runs.Background = Spy

import numpy as np
from sim.hazards.flood.hazard import FloodHazard, FloodSpec
from sim.network import load_map

district, out = Path(sys.argv[1]), Path(sys.argv[2])
net = load_map(district / "small.osm.bz2", cache_dir=out / "cache")
nodes = np.unique(net.drive.from_node)
k = nodes[np.argmin(np.hypot(net.nodes.x_m[nodes] - np.median(net.nodes.x_m[nodes]),
                             net.nodes.y_m[nodes] - np.median(net.nodes.y_m[nodes])))]
spec = FloodSpec.model_validate(
    {"kind": "flood", "dem": "small.dem.asc", "home_stranding_depth_m": 0.15,
     "inflows": [{"x_m": float(net.nodes.x_m[k]), "y_m": float(net.nodes.y_m[k]),
                  "hydrograph": [[0.0, 150.0], [60.0, 150.0]]}]},
    context={"base_dir": district})
sc = load_scenario(district / "small.toml", overrides={"time.horizon_h": 1.0})
m = EvacuationModel(scenario=sc, seed=3, cache_dir=out / "cache", network=net,
                    hazards=[FloodHazard.from_spec(spec)])
m.run()
for name, bg in (("two", True), ("one", False)):
    runs.write_run(out / name, manifest=results.manifest(m), tables=results.tables(m),
                   figures=True, extra=results.extra(m), background=bg)
files = sorted(p.relative_to(out / "one") for p in (out / "one").rglob("*") if p.is_file())
assert files == sorted(p.relative_to(out / "two") for p in (out / "two").rglob("*")
                       if p.is_file()), "the same files"
differ = [str(f) for f in files if not filecmp.cmp(out / "one" / f, out / "two" / f,
                                                   shallow=False)]
print("forked", seen, "files", len(files), "differ", differ)
"""


@pytest.fixture(scope="module")
def flood_folders(small_district, tmp_path_factory):
    """A flood run of the 20k district written twice: figures forked ("two") and not ("one")."""
    out = tmp_path_factory.mktemp("bg")
    # A fresh interpreter: the test process may hold threads that forbid the fork.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(small_district), str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout.strip().splitlines()[-1]


def test_figures_drawn_by_a_second_process_give_the_same_run_folder(flood_folders):
    out, line = flood_folders
    n_cpu = len(os.sched_getaffinity(0))
    assert line.startswith(f"forked [{n_cpu > 1}, False]"), line
    drawn = {p.name for p in (out / "one" / "figures").iterdir()}
    assert {"map.png", "arrivals.png", "flood_peak.png", "flood.gif"} <= drawn
    assert line.endswith("differ []"), line


def _copy(src: Path, dst: Path, reads: tuple[str, ...]) -> None:
    for rel in reads:
        files = sorted((src / rel).rglob("*")) if rel.endswith("/") else [src / rel]
        for f in (f for f in files if f.is_file()):
            (dst / f.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dst / f.relative_to(src))


@pytest.mark.parametrize("hazard", [True, False], ids=["flood", "no-hazard"])
def test_each_figure_step_draws_the_same_from_only_the_files_it_declares(
        flood_folders, tmp_path, hazard):
    """What lets write_run start a step before the rest of the folder exists: drawn in a
    folder that holds nothing but its declared files (no households table for the hazard
    figures), each step gives the very bytes of the complete folder's figures."""
    from analysis.figures import figure_parts

    full = flood_folders[0] / "one"
    if not hazard:  # the same run without its hazard files: the other arrangement
        full = tmp_path / "full"
        shutil.copytree(flood_folders[0] / "one", full, ignore=shutil.ignore_patterns("hazard"))
        shutil.rmtree(full / "figures")
        for step in sum(figure_parts(full), ()):
            step.draw()
    here, there = figure_parts(full)
    assert len(there) == (2 if hazard else 1)
    for i, step in enumerate(here + there):
        alone = tmp_path / f"step{i}"
        alone.mkdir()
        _copy(full, alone, step.reads)
        # The same step, bound to the lone folder (a step is known by what it reads).
        (same,) = [s for s in sum(figure_parts(alone), ()) if s.reads == step.reads]
        paths = same.draw()
        assert paths, step.reads
        for path in paths:
            rel = Path(path).relative_to(alone)
            assert Path(path).read_bytes() == (full / rel).read_bytes(), rel
