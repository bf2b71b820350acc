"""The kernel checks once more with numba switched off (STYLE.md item 3).

Under ``NUMBA_DISABLE_JIT=1`` the kernel bodies run as plain Python, so coverage sees them
and a failure shows a readable traceback. Run in a child process: the switch is read when
numba is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_kernel_suites_pass_without_jit():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    targets = [
        "tests/verification", "tests/test_core_reference.py", "tests/test_routing.py",
        "tests/test_flood_scheme.py::test_kernel_matches_the_plain_python_reference_on_6x6",
        "tests/test_flood_scheme.py::test_lake_at_rest_stays_at_rest",
        "tests/test_flood_scheme.py::test_depression_behind_a_ridge_stays_dry",
        "tests/test_profiles.py", "tests/test_households.py", "tests/test_kernel_caches.py",
        "tests/test_waitlist.py",
        "tests/test_flood_kernel.py::test_one_row_channel_matches_the_tile_scan",
        "tests/test_flood_kernel.py::test_a_settled_film_still_sets_the_step_length_while_its_tile_is_active",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *targets],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
