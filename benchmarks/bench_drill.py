"""Time to build a drill package from an existing default-district run folder (issue 13: < 5 s).

Run::

    evacsim run scenarios/chlorine-release.toml --plan scenarios/plans/default.toml \
        --out /tmp/runs/chlorine --no-figures
    python -m benchmarks.bench_drill /tmp/runs/chlorine [more run folders] [--repeat 5]

Times, per run folder, reading the run (:func:`analysis.drill.rundata.read_run`) plus
building every file of the package in memory (:func:`analysis.drill.package.package_files`:
rules, selection, MSEL CSV/XLSX, three phase maps, situation manual, evaluation guide);
writing the ~0.5 MB of files is not included. Prints the median and the range.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Command line: run folders, ``--repeat``, ``--lang``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--lang", choices=("en", "zh"), default="zh")
    a = p.parse_args(argv)
    from analysis.drill.package import package_files
    from analysis.drill.rundata import read_run
    from analysis.drill.settings import drill_from_dict

    spec = drill_from_dict({"exercise": {"lang": a.lang, "duration_h": 3.0}})
    package_files(read_run(a.runs[0]), spec)  # warm-up: imports, font cache
    for run_dir in a.runs:
        times = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            pkg = package_files(read_run(run_dir), spec)
            times.append(time.perf_counter() - t0)
        print(f"{run_dir}: {len(pkg.rows)} injects; median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}, n={a.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
