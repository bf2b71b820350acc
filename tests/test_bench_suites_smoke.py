"""Every pytest-benchmark suite in ``benchmarks/`` runs once on the smallest district.

The benchmarks are not part of the test command, but they must not rot: this runs each
of them once (``--benchmark-disable``) on a 10,000-resident generated district.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_suites_run_once():
    env = dict(os.environ, EVACSIM_BENCH_SIZES="10000")
    suites = sorted(str(p.relative_to(REPO)) for p in (REPO / "benchmarks").glob("test_bench_*.py"))
    assert suites, "no benchmark suites found"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--benchmark-disable", "-p", "no:cacheprovider",
         *suites],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
