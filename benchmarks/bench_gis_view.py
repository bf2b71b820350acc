"""Speed of `evacsim export` and of the live view's frames on the default district.

    python benchmarks/bench_gis_view.py export RUN_DIR [--repeats 3]
    python benchmarks/bench_gis_view.py view [SCENARIO] [--frames 20] [--frame-s 60]

``export``: wall time of :func:`analysis.gis.export_run` (GeoPackage + GeoTIFFs) of a run
folder, median of the repeats (target for the default district: < 15 s).
``view``: per frame, separately, the model step (``frame_s`` of model time) and the
redraw (map and charts updated and rendered to PNG, what the browser receives), medians
after two warm-up frames (target at 300,000 residents: >= 5 frames/s, i.e. step + redraw
<= 0.2 s). No browser: the numbers are the server's work per frame.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def bench_export(run_dir: Path, repeats: int) -> dict:
    from analysis.gis import export_run

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeats):
            t0 = time.perf_counter()
            res = export_run(run_dir, Path(tmp) / f"x{k}.gpkg")
            times.append(time.perf_counter() - t0)
    return {"bench": "export", "run": str(run_dir), "median_s": statistics.median(times),
            "times_s": times, "layers": res.layers, "rasters": res.rasters}


def bench_view(scenario: Path | None, frames: int, frame_s: float) -> dict:
    from sim.view.draw import ChartsFigure, MapFigure
    from sim.view.live import LiveModel

    t0 = time.perf_counter()
    model = LiveModel(scenario_path=scenario, frame_s=frame_s)
    build_s = time.perf_counter() - t0
    maps, charts = MapFigure(model), ChartsFigure(model)
    step_s, draw_map_s, draw_charts_s = [], [], []
    for k in range(frames + 2):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        maps.update()
        maps.png()
        t2 = time.perf_counter()
        charts.update()
        charts.png()
        t3 = time.perf_counter()
        if k >= 2:
            step_s.append(t1 - t0)
            draw_map_s.append(t2 - t1)
            draw_charts_s.append(t3 - t2)
    med = {name: statistics.median(v) for name, v in
           (("step_s", step_s), ("draw_map_s", draw_map_s), ("draw_charts_s", draw_charts_s))}
    frame = sum(med.values())
    return {"bench": "view", "persons": int(model.sim.pop.n_persons),
            "drive_links": int(model.sim.net.drive.n_links), "frame_s": model.frame_s,
            "build_s": build_s, "frames": frames, "t_end_s": model.t_s, **med,
            "frame_total_s": frame, "frames_per_s": 1.0 / frame}


def main() -> int:
    """Run one benchmark and print its JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    ex = sub.add_parser("export")
    ex.add_argument("run", type=Path)
    ex.add_argument("--repeats", type=int, default=3)
    vw = sub.add_parser("view")
    vw.add_argument("scenario", type=Path, nargs="?", default=None)
    vw.add_argument("--frames", type=int, default=20)
    vw.add_argument("--frame-s", type=float, default=60.0)
    args = ap.parse_args()
    out = (bench_export(args.run, args.repeats) if args.what == "export"
           else bench_view(args.scenario, args.frames, args.frame_s))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
