"""Hazard and response sections of ``metrics.json`` and their figures.

Which sections exist is decided by the files in the run folder (``hazard/flood.npz``,
``hazard/chemical.npz``, ``hazard/earthquake.npz``, the response tables), never by the
model: the same code reads a run from today and one from last year.
"""

from __future__ import annotations

from pathlib import Path


def _present(run_dir: Path) -> list[str]:
    from analysis.response import has_response

    hazard_dir = run_dir / "hazard"
    kinds = [k for k in ("flood", "chemical", "earthquake") if (hazard_dir / f"{k}.npz").is_file()]
    if has_response(run_dir):
        kinds.append("response")
    return kinds


def hazard_metrics(run_dir: str | Path) -> dict:
    """Metrics of every hazard (and of the response) found in ``run_dir``, by kind."""
    run_dir = Path(run_dir)
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
