"""Hazard and response sections of ``metrics.json`` and their figures.

Which sections exist is decided by the files in the run folder (``hazard/flood.npz``,
``hazard/chemical.npz``, ``hazard/earthquake.npz``, the response tables), never by the
model: the same code reads a run from today and one from last year.
"""

from __future__ import annotations

from pathlib import Path

from analysis.memory_run import MemoryRun, RunSource, has_file


def _present(run_dir: RunSource) -> list[str]:
    from analysis.response import has_response

    kinds = [k for k in ("flood", "chemical", "earthquake")
             if has_file(run_dir, f"hazard/{k}.npz")]
    if has_response(run_dir):
        kinds.append("response")
    return kinds


def hazard_metrics(run_dir: RunSource) -> dict:
    """Metrics of every hazard (and of the response) found in ``run_dir``, by kind.

    ``run_dir`` is a run folder or a run in memory (:mod:`analysis.memory_run`).
    """
    run_dir = run_dir if isinstance(run_dir, MemoryRun) else Path(run_dir)
    out = {}
    for kind in _present(run_dir):
        if kind == "flood":
            from analysis.flood import flood_metrics as fn
        elif kind == "chemical":
            from analysis.chemical import chemical_metrics as fn
        elif kind == "earthquake":
            from analysis.earthquake import earthquake_metrics as fn
        else:
            from analysis.response import response_metrics as fn
        out[kind] = fn(run_dir)
    return out


def hazard_figures(run_dir: str | Path, *, lang: str = "en") -> list[Path]:
    """Figures of every hazard (and of the response) found in ``run_dir``."""
    run_dir = Path(run_dir)
    fig = run_dir / "figures"
    paths: list[Path] = []
    for kind in _present(run_dir):
        if kind == "flood":
            from analysis.flood import animate_flood, plot_flood_peak

            paths += [plot_flood_peak(run_dir, fig / "flood_peak.png", lang=lang),
                      animate_flood(run_dir, fig / "flood.gif", lang=lang)]
        elif kind == "chemical":
            from analysis.chemical import plot_receptor, plot_threat_zones

            paths += [plot_threat_zones(run_dir, fig / "threat_zones.png", lang=lang),
                      plot_receptor(run_dir, fig / "receptor.png", lang=lang)]
        elif kind == "earthquake":
            from analysis.earthquake import plot_pga_map

            paths.append(plot_pga_map(run_dir, fig / "pga_map.png", lang=lang))
        else:
            from analysis.response import write_response_figures

            paths += write_response_figures(run_dir, lang=lang)
    return paths
