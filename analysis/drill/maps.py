"""Maps of the situation at the start of each phase, drawn from the run folder's tables.

Each map shows the hazard at that time (flood depth snapshot; the chemical threat zones,
which the run keeps as their maximum; the earthquake's PGA), roads closed at that time
(flood snapshots, earthquake link table), the run's peak road load (the run folder keeps
per-link peaks, not loads over time) and shelter loads at that time (persons arrived by
then, from the households table). PNG bytes, no file written.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from analysis.drill.rundata import RunData
from analysis.plotting import _label_lang_and_font
from analysis.tables import read_table
from sim.i18n import t

_DPI = 90


def _drive_links(run: RunData) -> pd.DataFrame:
    links = read_table(run.path, "links")
    return links[links["network"] == "drive"].reset_index(drop=True)


def _closed_at(run: RunData, n_links: int, t_s: float) -> np.ndarray:
    closed = np.zeros(n_links, dtype=bool)
    fl = run.npz.get("flood")
    if fl is not None and "snapshot_drive_closed" in fl and len(fl["snapshot_t_s"]):
        k = int(np.searchsorted(fl["snapshot_t_s"], t_s, side="right")) - 1
        if k >= 0 and fl["snapshot_drive_closed"].shape[1] == n_links:
            closed |= fl["snapshot_drive_closed"][k]
    eq = run.table("hazard/earthquake_links.csv")
    summ = run.table("hazard/earthquake_summary.csv")
    if eq is not None and summ is not None and len(summ) and t_s >= float(summ["t_s"].iloc[0]):
        ids = eq.loc[(eq["network"] == "drive") & (eq["factor"] <= 0), "link"].to_numpy(np.int64)
        closed[ids[(ids >= 0) & (ids < n_links)]] = True
    return closed


def _hazard_layer(ax, run: RunData, t_s: float, kw: dict, lang: str):
    fl, ch, eq = run.npz.get("flood"), run.npz.get("chemical"), run.npz.get("earthquake")
    if fl is not None and len(fl.get("snapshot_t_s", [])):
        k = max(int(np.searchsorted(fl["snapshot_t_s"], t_s, side="right")) - 1, 0)
        d = fl["snapshots_depth_m"][k]
        c = float(fl["snapshot_cell_m"])
        ext = [float(fl["grid_x0_m"]), float(fl["grid_x0_m"]) + c * d.shape[1],
               float(fl["grid_y0_m"]), float(fl["grid_y0_m"]) + c * d.shape[0]]
        vmax = 1.0  # m; deeper water all dark: a car floats from ~0.3 m (docs/references.md 2.1)
        im = ax.imshow(np.ma.masked_less(d, 0.05), origin="lower", extent=ext, cmap="Blues",
                       vmin=0.0, vmax=vmax, interpolation="nearest", zorder=0)
        return im, t("drill.map.depth", lang)
    if ch is not None:
        lv = ch["level"]
        c = float(ch["grid_cell_m"])
        ext = [float(ch["grid_x0_m"]), float(ch["grid_x0_m"]) + c * lv.shape[1],
               float(ch["grid_y0_m"]), float(ch["grid_y0_m"]) + c * lv.shape[0]]
        from matplotlib.colors import ListedColormap

        cmap = ListedColormap(["#ffe066", "#ff922b", "#e03131"])
        im = ax.imshow(np.ma.masked_less(lv.astype(float), 1), origin="lower", extent=ext,
                       cmap=cmap, vmin=0.5, vmax=3.5, alpha=0.6, interpolation="nearest",
                       zorder=0)
        return im, t("drill.map.zones", lang)
    if eq is not None:
        p = eq["pga_g"]
        c = float(eq["cell_m"])
        ext = [float(eq["x0_m"]), float(eq["x0_m"]) + c * p.shape[1],
               float(eq["y0_m"]), float(eq["y0_m"]) + c * p.shape[0]]
        im = ax.imshow(p, origin="lower", extent=ext, cmap="OrRd", alpha=0.5,
                       interpolation="nearest", zorder=0)
        return im, t("drill.map.pga", lang)
    return None, ""


def phase_maps(run: RunData, starts: list[float], *, lang: str) -> list[bytes]:
    """One PNG (bytes) per phase start time (scenario s)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    label_lang, kw = _label_lang_and_font(lang)
    links = _drive_links(run)
    seg = np.stack([links[["x0_m", "y0_m"]].to_numpy(np.float64),
                    links[["x1_m", "y1_m"]].to_numpy(np.float64)], axis=1)
    storage = links["storage"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(np.where(storage > 0, links["peak_count"].to_numpy(np.float64) / storage,
                                 0.0), 0.0, 1.0)
    sh = run.shelters
    hh = run.households
    arrived = hh[np.isfinite(hh["t_arrive_s"].to_numpy()) & (hh["shelter"] != "")]
    cap = np.maximum(sh["capacity"].to_numpy(np.float64), 1.0)
    out = []
    for t0 in starts:
        fig = Figure(figsize=(6.4, 5.6), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        im, im_label = _hazard_layer(ax, run, t0, kw, label_lang)
        ax.add_collection(LineCollection(seg, colors="0.8", linewidths=0.4, zorder=1))
        loaded = ratio > 0.02
        lc = LineCollection(seg[loaded], array=ratio[loaded], cmap="YlOrRd",
                            linewidths=0.5 + 1.5 * ratio[loaded], zorder=2)
        lc.set_clim(0.0, 1.0)
        ax.add_collection(lc)
        closed = _closed_at(run, len(links), t0)
        if closed.any():
            ax.add_collection(LineCollection(seg[closed], colors="black", linewidths=1.6,
                                             zorder=3, label=t("drill.map.closed", label_lang)))
        present = arrived[arrived["t_arrive_s"] <= t0].groupby("shelter")["persons"].sum()
        persons = sh["shelter"].astype(str).map(present).fillna(0).to_numpy(np.float64)
        pts = ax.scatter(sh["x_m"], sh["y_m"], s=12 + 200 * persons / cap.max(),
                         c=np.minimum(persons / cap, 1.0), cmap="viridis", vmin=0, vmax=1,
                         edgecolors="black", linewidths=0.5, zorder=4)
        cb = fig.colorbar(pts, ax=ax, shrink=0.6)
        cb.set_label(t("drill.map.shelter", label_lang), **kw)
        cb2 = fig.colorbar(lc, ax=ax, shrink=0.6)
        cb2.set_label(t("drill.map.load", label_lang), **kw)
        if im is not None:
            cb3 = fig.colorbar(im, ax=ax, shrink=0.6)
            cb3.set_label(im_label, **kw)
        if closed.any():
            prop = kw["fontproperties"] if kw else None
            ax.legend(loc="lower left", prop=prop, fontsize="small")
        xs, ys = seg[..., 0].ravel(), seg[..., 1].ravel()
        if xs.size:
            ax.set_xlim(xs.min(), xs.max())
            ax.set_ylim(ys.min(), ys.max())
        ax.set_aspect("equal")
        ax.ticklabel_format(useOffset=False, style="plain")
        ax.tick_params(labelsize=7)
        ax.set_xlabel(t("drill.map.x", label_lang), **kw)
        ax.set_ylabel(t("drill.map.y", label_lang), **kw)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
        out.append(buf.getvalue())
    return out
