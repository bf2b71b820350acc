"""Figures of the HTML report, rendered to PNG bytes (inlined as base64 by the page).

The run folder's own figures (:mod:`analysis.figures`, the hazard modules) are re-drawn in
the report's language into a temporary folder; the figures only the report has (ETE by
area, shelter loads, bottlenecks) are drawn here. matplotlib through ``Figure`` and the
Agg canvas only, as in :mod:`analysis.figures`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.mapstyle import decorate_map
from analysis.plotting import _label_lang_and_font, _new_figure, _save
from sim.i18n import t

__all__ = ["png_of", "plot_area_ete", "plot_bottlenecks", "plot_shelter_loads"]

_MAX_POINTS = 30_000  # households drawn on the area map (every k-th; the colour is per area)


def png_of(draw: Callable[..., Path], run_dir: Path, *, lang: str, **kw) -> bytes:
    """Run ``draw(run_dir, out_png, lang=lang, **kw)`` into a temporary file; its bytes."""
    with tempfile.TemporaryDirectory(prefix="evacsim-report-") as tmp:
        out = Path(tmp) / "figure.png"
        draw(run_dir, out, lang=lang, **kw)
        return out.read_bytes()


def plot_area_ete(run_dir: Path, out_png: Path, *, lang: str, hh: pd.DataFrame,
                  areas: pd.DataFrame) -> Path:
    """Map of homes coloured by their area's 90 % ETE, and ETE 50/90/100 bars per area.

    Parameters
    ----------
    hh : pandas.DataFrame
        Households (``zone``, ``x_m``, ``y_m``: projected metres, the map's CRS).
    areas : pandas.DataFrame
        :func:`analysis.areas.area_table`.
    """
    from matplotlib import colormaps

    label_lang, kw = _label_lang_and_font(lang)
    fig = _new_figure(11.0, 5.0)
    ax_map, ax_bar = fig.subplots(1, 2, width_ratios=[1.1, 1.0])
    ete90 = areas.set_index("zone")["ete_90_s"] / 60.0
    finite = ete90[np.isfinite(ete90)]
    vmax = float(finite.max()) if len(finite) else 1.0
    step = max(1, len(hh) // _MAX_POINTS)
    sub = hh.iloc[::step]
    value = sub["zone"].astype(str).map(ete90).to_numpy(np.float64)
    cmap = colormaps["viridis_r"]
    ok = np.isfinite(value)
    ax_map.scatter(sub["x_m"][~ok], sub["y_m"][~ok], s=2, c="tab:red", linewidths=0,
                   label=t("seeit.fig.area.not_reached", label_lang))
    pts = ax_map.scatter(sub["x_m"][ok], sub["y_m"][ok], s=2, c=value[ok], cmap=cmap,
                         vmin=0.0, vmax=vmax, linewidths=0)
    for zone, grp in hh.groupby(hh["zone"].astype(str), sort=False):
        ax_map.annotate(zone, (float(grp["x_m"].median()), float(grp["y_m"].median())),
                        ha="center", fontsize=7, **kw)
    cbar = fig.colorbar(pts, ax=ax_map, shrink=0.8)
    cbar.set_label(t("seeit.fig.area.ete90_min", label_lang), **kw)
    decorate_map(ax_map, origin_xy=(float(hh["x_m"].min()), float(hh["y_m"].min())),
                 lang=label_lang, font=kw)
    ax_map.tick_params(labelsize=7)
    if (~ok).any():
        ax_map.legend(loc="lower right", prop=kw.get("fontproperties"), fontsize=7)
    y = np.arange(len(areas))
    for offset, pct, colour in ((-0.27, 50, "tab:olive"), (0.0, 90, "tab:red"),
                                (0.27, 100, "black")):
        v = areas[f"ete_{pct}_s"].to_numpy(np.float64) / 60.0
        ax_bar.barh(y + offset, np.where(np.isfinite(v), v, 0.0), height=0.25, color=colour,
                    label=t("seeit.fig.area.ete_pct", label_lang, pct=pct))
    ax_bar.set_yticks(y, areas["zone"].astype(str).tolist(), fontsize=7, **kw)
    ax_bar.invert_yaxis()
    ax_bar.set_xlabel(t("seeit.fig.area.x", label_lang), **kw)
    ax_bar.legend(loc="lower right", prop=kw.get("fontproperties"), fontsize=7)
    fig.suptitle(t("seeit.fig.area.title", label_lang), **kw)
    return _save(fig, out_png)


def plot_shelter_loads(run_dir: Path, out_png: Path, *, lang: str,
                       loads: pd.DataFrame) -> Path:
    """Capacity and peak occupancy per shelter (persons), fullest first."""
    label_lang, kw = _label_lang_and_font(lang)
    df = loads.sort_values("peak_occupancy", ascending=False, kind="stable").head(40)
    fig = _new_figure(9.0, max(3.0, 0.22 * len(df) + 1.2))
    ax = fig.add_subplot()
    y = np.arange(len(df))
    ax.barh(y, df["capacity"], color="0.85", label=t("seeit.fig.shelters.capacity", label_lang))
    full = np.isfinite(df["t_full_s"].to_numpy(np.float64))
    ax.barh(y, df["peak_occupancy"], height=0.5, color=np.where(full, "tab:red", "tab:blue"),
            label=t("seeit.fig.shelters.peak", label_lang))
    ax.set_yticks(y, df["name"].astype(str).tolist(), fontsize=6, **kw)
    ax.invert_yaxis()
    ax.set_xlabel(t("seeit.fig.shelters.x", label_lang), **kw)
    ax.set_title(t("seeit.fig.shelters.title", label_lang), **kw)
    ax.legend(loc="lower right", prop=kw.get("fontproperties"), fontsize=7)
    return _save(fig, out_png)


def plot_bottlenecks(run_dir: Path, out_png: Path, *, lang: str, links: pd.DataFrame,
                     delay_veh_h: np.ndarray, top: list[dict]) -> Path:
    """Drive links coloured by vehicle-hours of delay; the top bottlenecks numbered."""
    from matplotlib.collections import LineCollection

    label_lang, kw = _label_lang_and_font(lang)
    drive = links[links["network"] == "drive"].sort_values("link")
    seg = np.stack([drive[["x0_m", "y0_m"]].to_numpy(np.float64),
                    drive[["x1_m", "y1_m"]].to_numpy(np.float64)], axis=1)
    d = np.zeros(len(drive))
    ids = drive["link"].to_numpy(np.int64)
    inside = ids < delay_veh_h.size
    d[inside] = delay_veh_h[ids[inside]]
    fig = _new_figure(8.0, 7.0)
    ax = fig.add_subplot()
    ax.add_collection(LineCollection(seg, colors="0.8", linewidths=0.5, zorder=0))
    on = d > 0
    order = np.argsort(d[on], kind="stable")
    lines = LineCollection(seg[on][order], array=d[on][order], cmap="inferno_r",
                           linewidths=1.0 + 2.0 * (d[on][order] / max(d.max(), 1e-9)), zorder=1)
    ax.add_collection(lines)
    cbar = fig.colorbar(lines, ax=ax, shrink=0.7)
    cbar.set_label(t("seeit.fig.bottlenecks.delay", label_lang), **kw)
    for rank, b in enumerate(top, start=1):
        if b.get("x_m") is not None:
            ax.annotate(str(rank), (b["x_m"], b["y_m"]), fontsize=8, weight="bold",
                        color="tab:blue", zorder=3)
    pts = seg.reshape(-1, 2)
    if len(pts):
        ax.set_xlim(pts[:, 0].min() - 200, pts[:, 0].max() + 200)
        ax.set_ylim(pts[:, 1].min() - 200, pts[:, 1].max() + 200)
    decorate_map(ax, origin_xy=(float(pts[:, 0].min()), float(pts[:, 1].min())),
                 lang=label_lang, font=kw)
    ax.set_title(t("seeit.fig.bottlenecks.title", label_lang), **kw)
    return _save(fig, out_png)
