"""What a command loads: ``--help`` and the calculators stay light (issue 17, start-up).

A sweep of thousands of runs, or a planner asking a calculator one number, pays the
import time of every library the command touches; numba, scipy, Mesa and pandas load only
where a command computes with them. Each case runs in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("numba", "scipy", "mesa", "pandas", "networkx", "matplotlib", "osmnx", "shapely")
PROBE = """
import sys
from sim.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(",".join(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def _loaded(*argv: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return set(filter(None, last.split(",")))


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["run", "--help"],
    ["hazard", "flood-speed", "--depth-mm", "100", "--json"],
    ["hazard", "flood-rating", "--depth", "0.5", "--velocity", "1", "--json"],
    ["hazard", "gmpe", "--model", "bssa14", "--mag", "6.5", "--rjb", "20", "--vs30", "760",
     "--mechanism", "U", "--region", "global", "--json"],
])
def test_light_commands_load_no_heavy_library(argv):
    assert _loaded(*argv) == set()


def test_a_dispersion_calculator_loads_scipy_but_not_the_engine():
    assert _loaded("hazard", "plume", "--rate-g-s", "10", "--wind", "3", "--x", "200") == {
        "scipy"}


ENTRY = """
import atexit, gc, sys
# atexit handlers run before the interpreter's last collection: what it would walk.
atexit.register(lambda: print("frozen", gc.get_freeze_count(), file=sys.stderr))
from sim.cli import entry
entry()
"""


@pytest.mark.parametrize(("argv", "status"), [(["--version"], 0), (["run", "--seed", "-1"], 2),
                                              (["hazard", "flood-speed", "--depth-mm", "100"], 0)])
def test_the_console_script_exits_with_mains_status_and_skips_the_last_collection(argv, status):
    # pyproject's [project.scripts] names sim.cli:entry; it must end as main() says and
    # leave the objects frozen (none are before it runs: gc.freeze is its doing).
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert scripts["project"]["scripts"]["evacsim"] == "sim.cli:entry"
    proc = subprocess.run([sys.executable, "-c", ENTRY, *argv], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == status, proc.stderr
    frozen = [ln for ln in proc.stderr.splitlines() if ln.startswith("frozen ")]
    assert frozen and int(frozen[-1].split()[1]) > 1000, proc.stderr
