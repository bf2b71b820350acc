"""Figures of a run folder: the congestion map and the arrival curves.

matplotlib is used through :class:`matplotlib.figure.Figure` and the Agg canvas only: no
pyplot, no global backend switch, no rcParams changes. PNGs are written without the
"Software" metadata so the same run gives the same bytes. Chinese labels need a CJK font
(Noto Sans CJK, Source Han Sans, WenQuanYi, ...); without one the labels fall back to
English and the ``sim.fonts`` logger says so, once per process.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.evacuation import _arrival_curve, _ete, _loads
from analysis.mapstyle import decorate_map, robust_extent, zone_labels
from analysis.plotting import _label_lang_and_font, _new_figure, _save
from analysis.tables import TABLE_FILES, _households, read_manifest, read_table
from sim.i18n import t


def plot_congestion_map(run_dir: str | Path, out_png: str | Path, *, lang: str = "en") -> Path:
    """Draw peak link loads and shelter loads on a map in projected metres.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    out_png : str or Path
        PNG file to write (parent folders are created).
    lang : {"en", "zh"}, default "en"
        Label language (English when no CJK font is installed).

    Returns
    -------
    Path
        ``out_png``.

    Notes
    -----
    Links (projected x/y in metres, the map's UTM CRS) are coloured by
    ``peak_count / storage`` clipped to 0–1, the share of the link's jam-density storage
    that was ever occupied. Shelters are circles with area proportional to peak
    occupancy, coloured by utilisation (peak occupancy / capacity).
    """
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection

    label_lang, kw = _label_lang_and_font(lang)
    links = read_table(run_dir, "links")
    links = links[links["network"] == "drive"]  # vehicles per storage: roads only
    hh = _households(run_dir)
    loads = _loads(read_table(run_dir, "shelters"), hh)
    fig = _new_figure(8.0, 7.0)
    ax = fig.add_subplot()
    segments = np.stack([links[["x0_m", "y0_m"]].to_numpy(np.float64),
                         links[["x1_m", "y1_m"]].to_numpy(np.float64)], axis=1)
    storage = links["storage"].to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(storage > 0, links["peak_count"].to_numpy(np.float64) / storage, 0.0)
    ratio = np.clip(ratio, 0.0, 1.0)
    order = np.argsort(ratio, kind="stable")  # congested links drawn on top
    segments, storage, ratio = segments[order], storage[order], ratio[order]
    # Every link as a grey base layer, so the street pattern reads even where nothing
    # queued; loaded links on top in colour (the pale start of YlOrRd is cut off, it
    # would vanish against white).
    ax.add_collection(LineCollection(segments, colors="0.8", linewidths=0.5, zorder=0))
    loaded = (storage > 0) & (ratio > 0.02)
    cmap = colormaps["YlOrRd"].resampled(256)
    cmap = cmap.from_list("load", cmap(np.linspace(0.25, 1.0, 192)))
    lines = LineCollection(segments[loaded], array=ratio[loaded], cmap=cmap,
                           linewidths=0.6 + 2.0 * ratio[loaded], zorder=1)
    lines.set_clim(0.0, 1.0)
    ax.add_collection(lines)
    cbar = fig.colorbar(lines, ax=ax, shrink=0.7)
    cbar.set_label(t("fig.map.link_load", label_lang), **kw)
    if len(loads):
        _draw_shelters(fig, ax, loads, label_lang, kw)
    xs = np.concatenate([segments[..., 0].ravel(), loads["x_m"].to_numpy(np.float64)])
    ys = np.concatenate([segments[..., 1].ravel(), loads["y_m"].to_numpy(np.float64)])
    if xs.size and np.isfinite(xs).any():
        x0, x1, y0, y1 = robust_extent(xs, ys, q=0.0, pad_share=0.03)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    zone_labels(ax, hh, font=kw)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="0.8", linewidth=1.0,
                      label=t("mapstyle.unused_roads", label_lang))]
    if len(loads):
        handles += _size_handles(loads, label_lang)
    prop = kw["fontproperties"].copy() if kw else None
    if prop is not None:
        prop.set_size(7)
    ax.legend(handles=handles, loc="upper left", fontsize=7, prop=prop, framealpha=0.85)
    decorate_map(ax, origin_xy=_origin(links), lang=label_lang, font=kw)
    ax.set_title(t("fig.map.title", label_lang), **kw)
    return _save(fig, out_png)


def _origin(links: pd.DataFrame) -> tuple[float, float]:
    """The map's south-west corner (min x, min y of the road ends), map metres."""
    return (float(np.nanmin(links[["x0_m", "x1_m"]].to_numpy())),
            float(np.nanmin(links[["y0_m", "y1_m"]].to_numpy())))


_SIZE_MIN, _SIZE_SPAN = 15.0, 250.0  # marker area (pt²) = 15 + 250 × peak / largest peak


def _draw_shelters(fig, ax, loads: pd.DataFrame, lang: str, kw: dict) -> None:
    """Draw shelters sized by peak load and coloured by utilisation.

    When every shelter filled, colour says the hour each filled instead (utilisation would
    be one colour); the three largest and every overfull shelter are named.
    """
    peak = loads["peak_occupancy"].to_numpy(np.float64)
    size = _SIZE_MIN + _SIZE_SPAN * peak / max(float(peak.max()), 1.0)
    util = loads["utilisation"].fillna(0.0).to_numpy(np.float64)
    t_full = loads["t_full_s"].to_numpy(np.float64) if "t_full_s" in loads else None
    if t_full is not None and np.isfinite(t_full).all() and len(t_full) > 1:
        # Utilisation would be one colour (all ≥ 1): the hour each filled still differs.
        values, cmap, vmin, vmax = t_full / 3600.0, "viridis_r", None, None
        label = t("mapstyle.shelter_full_at", lang)
    else:
        values, cmap, vmin, vmax = util, "viridis", 0.0, max(1.0, float(util.max()))
        label = t("fig.map.shelter_util", lang)
    points = ax.scatter(loads["x_m"], loads["y_m"], s=size, c=values, cmap=cmap, vmin=vmin,
                        vmax=vmax, edgecolors="black", linewidths=0.6, zorder=3)
    cbar = fig.colorbar(points, ax=ax, shrink=0.7)
    cbar.set_label(label, **kw)
    # Name the three largest and every shelter over its capacity (at most eight names).
    named = set(np.argsort(-peak, kind="stable")[:3].tolist())
    over = np.flatnonzero(loads["peak_occupancy"].to_numpy() > loads["capacity"].to_numpy())
    named |= set(over[np.argsort(-peak[over], kind="stable")][:5].tolist())
    for i in sorted(named):
        ax.annotate(str(loads["name"].iloc[i]), (float(loads["x_m"].iloc[i]),
                                                 float(loads["y_m"].iloc[i])),
                    xytext=(4, 4), textcoords="offset points", fontsize=7, zorder=9,
                    **kw)


def _size_handles(loads: pd.DataFrame, lang: str) -> list:
    """Legend entries for three marker sizes (a quarter, half and all of the largest)."""
    from matplotlib.lines import Line2D

    top = max(float(loads["peak_occupancy"].max()), 1.0)
    out = []
    for share in (0.25, 0.5, 1.0):
        persons = int(round(top * share))
        area = _SIZE_MIN + _SIZE_SPAN * persons / top
        out.append(Line2D([], [], linestyle="none", marker="o", markersize=math.sqrt(area),
                          markerfacecolor="none", markeredgecolor="black",
                          label=t("mapstyle.size_legend", lang, persons=persons)))
    return out


def plot_arrivals(run_dir: str | Path, out_png: str | Path, *, lang: str = "en") -> Path:
    """Draw cumulative departures and arrivals (persons) against time with ETE marks.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    out_png : str or Path
        PNG file to write (parent folders are created).
    lang : {"en", "zh"}, default "en"
        Label language (English when no CJK font is installed).

    Returns
    -------
    Path
        ``out_png``.

    Notes
    -----
    Time in hours from scenario start. A horizontal line marks the evacuee total; dashed
    vertical lines mark the ETE at 50/90/95/100 % of evacuees (NUREG/CR-7002, docs/references.md
    §4.1). An ETE never reached within the horizon is listed in the legend as such.
    """
    label_lang, kw = _label_lang_and_font(lang)
    hh = _households(run_dir)  # read once for both the curve and the ETE marks
    curve = _arrival_curve(hh)
    ete = _ete(hh)
    ete = ete[ete["group"] == "all"]
    evacuees = int(ete["evacuees"].iloc[0]) if len(ete) else 0
    # Hold the last value until the horizon, so a plateau short of the total shows.
    horizon_s = read_manifest(run_dir).get("horizon_s")
    t_s = curve["t_s"].to_numpy(np.float64)
    if isinstance(horizon_s, int | float) and np.isfinite(horizon_s) and horizon_s > t_s[-1]:
        curve = pd.concat([curve, curve.iloc[[-1]].assign(t_s=float(horizon_s))],
                          ignore_index=True)
    hours = curve["t_s"].to_numpy(np.float64) / 3600.0
    fig = _new_figure(8.0, 4.5)
    ax = fig.add_subplot()
    ax.plot(hours, curve["departed"], drawstyle="steps-post", color="tab:blue",
            label=t("fig.arrivals.departed", label_lang))
    ax.plot(hours, curve["arrived"], drawstyle="steps-post", color="tab:green",
            label=t("fig.arrivals.arrived", label_lang))
    ax.axhline(evacuees, color="grey", linestyle=":",
               label=t("fig.arrivals.evacuees", label_lang, n=evacuees))
    colours = {50: "tab:olive", 90: "tab:red", 95: "tab:purple", 100: "black"}
    for row in ete.itertuples():
        if row.reached:
            ax.axvline(row.t_s / 3600.0, color=colours.get(int(row.pct), "black"),
                       linestyle="--", linewidth=1.0,
                       label=t("fig.arrivals.ete", label_lang, pct=int(row.pct),
                               hours=row.t_s / 3600.0))
        else:
            ax.plot([], [], linestyle="none",
                    label=t("fig.arrivals.ete_not_reached", label_lang, pct=int(row.pct)))
    ax.set_xlim(left=0.0)
    ax.set_ylim(bottom=0.0, top=max(evacuees, int(curve["departed"].max()), 1) * 1.05)
    ax.set_xlabel(t("fig.arrivals.x", label_lang), **kw)
    ax.set_ylabel(t("fig.arrivals.y", label_lang), **kw)
    ax.set_title(t("fig.arrivals.title", label_lang), **kw)
    prop = kw["fontproperties"].copy() if kw else None
    if prop is not None:
        prop.set_size("small")
    ax.legend(loc="lower right", prop=prop, fontsize="small")
    return _save(fig, out_png)


def write_figures(run_dir: str | Path, *, lang: str = "en") -> list[Path]:
    """Write ``figures/map.png``, ``figures/arrivals.png`` and any hazard figures.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    lang : {"en", "zh"}, default "en"
        Label language.

    Returns
    -------
    list of Path
        The two PNG files.
    """
    from analysis.hazards import hazard_figures

    folder = Path(run_dir) / "figures"
    return [plot_congestion_map(run_dir, folder / "map.png", lang=lang),
            plot_arrivals(run_dir, folder / "arrivals.png", lang=lang),
            *hazard_figures(run_dir, lang=lang)]


@dataclass(frozen=True)
class FigureStep:
    """Some figures of a run folder, and the run-folder files drawing them reads.

    Attributes
    ----------
    draw : callable
        Draws the figures; returns their paths.
    reads : tuple of str
        Paths relative to the run folder; one ending in ``/`` stands for every file in that
        folder. :func:`sim.runs.write_run` starts a step only once these are written, and
        ``tests/test_background.py`` draws each step in a folder holding only these.
    """

    draw: Callable[[], list[Path]]
    reads: tuple[str, ...]


def figure_parts(run_dir: str | Path, *, lang: str = "en"
                 ) -> tuple[tuple[FigureStep, ...], tuple[FigureStep, ...]]:
    """:func:`write_figures` in two parts that can be drawn at the same time.

    Returns ``(here, there)``, each a sequence of steps drawn in order; together they
    write exactly :func:`write_figures`' files. :func:`sim.runs.write_run` hands ``there``
    to a second process (:class:`sim.background.Background`), forked as soon as the files
    its first step reads are written; the caller meanwhile writes the households table and
    computes the metrics, then draws ``here``. Balanced by measured cost (issue 17, part 4,
    the flash-flood run: hazard figures ~0.96 s, the households table ~0.8 s, the metrics
    ~0.4 s, the congestion map ~0.4 s, the arrivals ~0.25 s): with hazards ``there`` is
    their figures (from ``hazard/`` and the links table, written first) and then the
    arrivals, ``here`` the congestion map; without, ``there`` is the congestion map and
    ``here`` the arrivals. Call it once the hazard files are in ``run_dir``: which hazard
    figures exist is decided by those files.
    """
    from analysis.hazards import _present, hazard_figures

    folder = Path(run_dir) / "figures"
    tables = {name: TABLE_FILES[name] for name in ("households", "shelters", "links")}

    def congestion() -> list[Path]:
        return [plot_congestion_map(run_dir, folder / "map.png", lang=lang)]

    def arrivals() -> list[Path]:
        return [plot_arrivals(run_dir, folder / "arrivals.png", lang=lang)]

    def hazards() -> list[Path]:
        return hazard_figures(run_dir, lang=lang)

    map_step = FigureStep(congestion, (tables["links"], tables["shelters"],
                                       tables["households"]))
    arrivals_step = FigureStep(arrivals, (tables["households"], "manifest.json"))
    if _present(Path(run_dir)):
        # The response's tables are read from hazard/ too (analysis.response); the
        # earthquake's map draws the streets of the links table when it is there.
        return (map_step,), (FigureStep(hazards, ("hazard/", tables["links"])), arrivals_step)
    return (arrivals_step,), (map_step,)
