"""Flood metrics and figures of a run folder.

What :class:`sim.hazards.flood.FloodHazard` wrote under ``hazard/`` is read back, and only
run-folder files: ``hazard/flood_timeseries.csv``, ``hazard/flood_links.csv``,
``hazard/flood_stranded.csv``, ``hazard/flood_exposure.csv``, ``hazard/flood.npz`` and the
standard ``links.csv.gz`` and ``households.csv.gz``. Figures use
:class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot); labels go through
:func:`sim.i18n.t`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.mapstyle import colorbar_extend, decorate_map
from analysis.memory_run import RunSource, has_file, read_csv, where
from analysis.plotting import _label_lang_and_font, _new_figure, _save
from analysis.tables import read_table
from sim._errors import RunFolderError
from sim.i18n import t

_FILES = {
    "timeseries": "hazard/flood_timeseries.csv",
    "links": "hazard/flood_links.csv",
    "stranded": "hazard/flood_stranded.csv",
    "exposure": "hazard/flood_exposure.csv",
}
# Depth below which a cell is not drawn as water, m (the hazard's default wet_depth_m).
_DRAW_DEPTH_M = 0.01


def read_flood_table(run_dir: RunSource, name: str) -> pd.DataFrame:
    """One flood table of a run folder (``timeseries|links|stranded|exposure``).

    Raises
    ------
    RunFolderError
        If the run has no such table (no flood hazard in the scenario).
    """
    if not has_file(run_dir, _FILES[name]):
        raise RunFolderError(f"{where(run_dir, _FILES[name])}: missing; expected a run of a "
                             "scenario with a flood hazard ([[hazards]] kind = \"flood\")")
    return read_csv(run_dir, _FILES[name])


def read_flood_arrays(run_dir: str | Path) -> dict[str, np.ndarray]:
    """The grids of ``hazard/flood.npz`` (depths, elevation, snapshots)."""
    path = Path(run_dir) / "hazard" / "flood.npz"
    if not path.is_file():
        raise RunFolderError(f"{path}: missing; expected a run of a scenario with a flood "
                             "hazard ([[hazards]] kind = \"flood\")")
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def flood_metrics(run_dir: RunSource) -> dict:
    """Headline flood numbers of a run.

    Returns
    -------
    dict
        ``peak_flooded_area_km2`` (cells deeper than the hazard's ``wet_depth_m``) and
        ``t_peak_area_h``; ``max_depth_m``; ``drive_km_closed_max`` and its time
        ``t_drive_km_closed_max_h``; ``drive_km_h_closed`` (road-km × hours closed,
        directed links); ``drive_links_ever_closed``; ``walk_km_closed_max``;
        ``persons_stranded`` / ``households_stranded`` and ``persons_stranded_by_cause``
        (``home|road|footpath``); ``households_drove_through_water`` /
        ``households_walked_through_water`` (travelled on a link in water that did not yet
        close it, or a footpath above "low" hazard) and the persons in them.
    """
    ts = read_flood_table(run_dir, "timeseries")
    links = read_flood_table(run_dir, "links")
    stranded = read_flood_table(run_dir, "stranded")
    exposure = read_flood_table(run_dir, "exposure")
    households = read_table(run_dir, "households")
    hh = pd.Series(households["persons"].to_numpy(np.int64),
                   index=households["household"].astype(np.int64).to_numpy())
    t_h = ts["t_s"].to_numpy(float) / 3600.0
    area = ts["flooded_area_m2"].to_numpy(float)
    km = ts["drive_km_closed"].to_numpy(float)
    i_area, i_km = int(np.argmax(area)) if len(ts) else 0, int(np.argmax(km)) if len(ts) else 0
    # Each row holds until the next one (step function).
    dt_h = np.diff(np.append(t_h, t_h[-1])) if len(ts) else np.zeros(0)
    by_cause = stranded.groupby("cause")["persons"].sum()
    drove = exposure.loc[exposure["drove_through_water"].astype(bool), "household"]
    walked = exposure.loc[exposure["walked_through_water"].astype(bool), "household"]
    return {
        "peak_flooded_area_km2": float(area.max(initial=0.0)) / 1e6,
        "t_peak_area_h": float(t_h[i_area]) if len(ts) else float("nan"),
        "max_depth_m": float(ts["max_depth_m"].max()) if len(ts) else 0.0,
        "drive_km_closed_max": float(km.max(initial=0.0)),
        "t_drive_km_closed_max_h": float(t_h[i_km]) if len(ts) else float("nan"),
        "drive_km_h_closed": float((km * dt_h).sum()),
        "drive_links_ever_closed": int(links["first_closed_s"].notna().sum()),
        "walk_km_closed_max": float(ts["walk_km_closed"].max()) if len(ts) else 0.0,
        "persons_stranded": int(stranded["persons"].sum()),
        "households_stranded": int(stranded["household"].nunique()),
        "persons_stranded_by_cause": {c: int(by_cause.get(c, 0))
                                      for c in ("home", "road", "footpath")},
        "households_drove_through_water": int(drove.size),
        "persons_drove_through_water": int(hh.reindex(drove.to_numpy()).fillna(0).sum()),
        "households_walked_through_water": int(walked.size),
        "persons_walked_through_water": int(hh.reindex(walked.to_numpy()).fillna(0).sum()),
    }


def _extent(arrays: dict, cell_key: str, shape: tuple[int, int]) -> list[float]:
    x0, y0 = float(arrays["grid_x0_m"]), float(arrays["grid_y0_m"])
    cell = float(arrays[cell_key])
    return [x0, x0 + shape[1] * cell, y0, y0 + shape[0] * cell]


def _shade(ax, arrays: dict) -> None:
    """Grey hillshade of the elevation grid (light from the north-west)."""
    z = arrays["elevation_m"].astype(float)
    cell = float(arrays["cell_m"])
    gy, gx = np.gradient(z, cell)
    slope = np.arctan(np.hypot(gx, gy))
    aspect = np.arctan2(gy, -gx)
    az, alt = np.radians(315.0), np.radians(45.0)
    shade = np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect)
    ax.imshow(np.clip(shade, 0, 1), cmap="gray", origin="lower", vmin=0, vmax=1,
              extent=_extent(arrays, "cell_m", z.shape), alpha=0.6, interpolation="nearest")


def _roads(ax, segments: np.ndarray, closed: np.ndarray, lang: str):
    """Open roads grey, closed roads red on top; returns the closed roads' collection."""
    from matplotlib.collections import LineCollection

    ax.add_collection(LineCollection(segments[~closed], colors="0.35", linewidths=0.4))
    shut = LineCollection(segments[closed], colors="#d62728", linewidths=1.4,
                          label=t("flood.closed_roads", lang))
    ax.add_collection(shut)
    return shut


def _segments(run_dir) -> np.ndarray:
    links = read_table(run_dir, "links")
    links = links[links["network"] == "drive"].sort_values("link")
    return np.stack([links[["x0_m", "y0_m"]].to_numpy(float),
                     links[["x1_m", "y1_m"]].to_numpy(float)], axis=1)


def _depth_layer(ax, depth: np.ndarray, extent, vmax: float):
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    # Blues without its near-white start: shallow water must show on the grey terrain.
    cmap = ListedColormap(colormaps["Blues"](np.linspace(0.35, 1.0, 256)))
    masked = np.ma.masked_less(depth, _DRAW_DEPTH_M)
    return ax.imshow(masked, cmap=cmap, origin="lower", vmin=0.0, vmax=vmax, extent=extent,
                     interpolation="nearest")


def plot_flood_peak(run_dir: str | Path, out_png: str | Path, *, lang: str = "en") -> Path:
    """Map of the peak water depth (max over the run) with every road that closed.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    out_png : str or Path
        PNG to write (parent folders are created).
    lang : {"en", "zh"}
        Label language (English when no CJK font is installed).

    Returns
    -------
    Path
        ``out_png``.
    """
    label_lang, kw = _label_lang_and_font(lang)
    arrays = read_flood_arrays(run_dir)
    links = read_flood_table(run_dir, "links").sort_values("link")
    segments = _segments(run_dir)
    closed = links["first_closed_s"].notna().to_numpy()
    peak = arrays["peak_depth_m"].astype(float)
    fig = _new_figure(8.0, 7.0)
    ax = fig.add_subplot()
    _shade(ax, arrays)
    # The 99th percentile keeps the shallow sheet readable; an arrow on the colour bar says
    # that the deepest pools (the summary's maximum) run past it.
    wet = peak[peak > _DRAW_DEPTH_M]
    vmax = max(1.0, float(np.nanpercentile(wet, 99))) if wet.size else 1.0
    im = _depth_layer(ax, peak, _extent(arrays, "cell_m", peak.shape), vmax)
    _roads(ax, segments, closed, label_lang)
    if closed.any():
        ax.legend(loc="lower right", prop=kw.get("fontproperties"))
    cb = fig.colorbar(im, ax=ax, shrink=0.8,
                      extend=colorbar_extend(float(np.nanmax(peak)) if peak.size else 0.0, vmax))
    cb.set_label(t("flood.depth", label_lang), **kw)
    _frame(ax, segments, label_lang, kw)
    ax.set_title(t("flood.peak_title", label_lang), **kw)
    return _save(fig, out_png)


def _frame(ax, segments: np.ndarray, lang: str, kw: dict) -> None:
    pts = segments.reshape(-1, 2)
    pad = 500.0
    ax.set_xlim(pts[:, 0].min() - pad, pts[:, 0].max() + pad)
    ax.set_ylim(pts[:, 1].min() - pad, pts[:, 1].max() + pad)
    decorate_map(ax, origin_xy=(float(pts[:, 0].min()), float(pts[:, 1].min())), lang=lang,
                 font=kw)


def _pixel_cells(fig, ax, extent, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canvas pixels inside the axes that fall on the grid, and the grid cell under each.

    Returns ``(rows, cols, cell)``: buffer row (0 = top) and column of each such pixel and
    the flat index of the cell (``row * nx + col`` of a grid of ``shape``, row 0 = south,
    spanning ``extent`` = [x0, x1, y0, y1] in data units) under its centre.
    """
    width, height = fig.canvas.get_width_height()
    box = ax.get_window_extent()
    px = np.arange(max(0, int(np.floor(box.x0))), min(width, int(np.ceil(box.x1))))
    py = np.arange(max(0, int(np.floor(box.y0))), min(height, int(np.ceil(box.y1))))
    inv = ax.transData.inverted()
    # The map axes are linear: data x depends on display x only, y on y only.
    x = inv.transform(np.column_stack([px + 0.5, np.full(px.size, box.y0)]))[:, 0]
    y = inv.transform(np.column_stack([np.full(py.size, box.x0), py + 0.5]))[:, 1]
    ny, nx = shape
    cj = np.floor((x - extent[0]) / (extent[1] - extent[0]) * nx).astype(np.int64)
    ci = np.floor((y - extent[2]) / (extent[3] - extent[2]) * ny).astype(np.int64)
    okx, oky = (cj >= 0) & (cj < nx), (ci >= 0) & (ci < ny)
    gy, gx = np.meshgrid(np.flatnonzero(oky), np.flatnonzero(okx), indexing="ij")
    gy, gx = gy.ravel(), gx.ravel()
    rows = height - 1 - py[gy]  # display y counts from the bottom, buffer rows from the top
    return rows, px[gx], ci[gy] * nx + cj[gx]


def animate_flood(run_dir: str | Path, out_gif: str | Path, *, lang: str = "en",
                  fps: int = 4) -> Path:
    """GIF of water depth, closed roads and people (outside shelters, stranded) over time.

    One frame per saved snapshot (``snapshot_min`` of the hazard). People are the
    ``snapshots_people`` / ``snapshots_stranded`` counts on their coarse grid, drawn as
    dots with area proportional to persons.
    """
    from PIL import Image

    label_lang, kw = _label_lang_and_font(lang)
    arrays = read_flood_arrays(run_dir)
    if "snapshot_t_s" not in arrays:
        raise RunFolderError(f"{Path(run_dir) / 'hazard' / 'flood.npz'}: expected depth "
                             "snapshots, got none (the run ended before the first one)")
    segments = _segments(run_dir)
    depth = arrays["snapshots_depth_m"].astype(float)
    closed = arrays["snapshot_drive_closed"].astype(bool)
    people, strand = arrays["snapshots_people"], arrays["snapshots_stranded"]
    pc = float(arrays["people_cell_m"])
    x0, y0 = float(arrays["grid_x0_m"]), float(arrays["grid_y0_m"])
    py, px = np.mgrid[0:people.shape[1], 0:people.shape[2]]
    px, py = x0 + (px + 0.5) * pc, y0 + (py + 0.5) * pc
    scale = 40.0 / max(1.0, float(people.max()))
    extent = _extent(arrays, "snapshot_cell_m", depth.shape[1:])
    vmax = max(1.0, float(depth.max()))
    fig = _new_figure(9.0, 8.0)  # 720 x 640 px at 80 dpi: roads and dots stay legible
    fig.set_dpi(80)
    # The terrain, the road base, axes and legend are drawn once (the background); each
    # frame restores it and draws only the water, the closed roads, the people and the
    # title on top (Agg blitting): ~10x faster than drawing every frame afresh.
    ax = fig.add_subplot()
    _shade(ax, arrays)
    water = _depth_layer(ax, depth[0], extent, vmax)
    cb = fig.colorbar(water, ax=ax, shrink=0.7)
    cb.set_label(t("flood.depth", label_lang), **kw)
    # Every road in the grey base (a road closes and reopens between frames).
    shut = _roads(ax, segments, np.zeros(len(segments), dtype=bool), label_lang)
    out_dots = ax.scatter([], [], c="#ff7f0e", alpha=0.6, linewidths=0,
                          label=t("flood.people", label_lang))
    caught = ax.scatter([], [], c="#9467bd", marker="x", label=t("flood.stranded", label_lang))
    _frame(ax, segments, label_lang, kw)
    ax.legend(loc="lower right", prop=kw.get("fontproperties"), fontsize=7)
    title = ax.set_title(t("flood.anim_title", label_lang, hours=0.0), **kw)
    moving = (water, shut, out_dots, caught, title)
    for artist in moving:
        artist.set_animated(True)  # left out of the background
    fig.canvas.draw()
    fig.set_layout_engine("none")  # keep the first layout: frames must line up
    background = fig.canvas.copy_from_bbox(fig.bbox)
    # The water is painted straight into the canvas: the snapshot cell under each pixel
    # of the axes is found once, and each frame colours the wet pixels with the layer's
    # own colour map and norm (what ``water`` would draw, without resampling the raster
    # through Agg for every frame).
    rows, cols, cell = _pixel_cells(fig, ax, extent, depth.shape[1:])
    canvas = np.asarray(fig.canvas.buffer_rgba())
    frames = []
    for k, t_s in enumerate(arrays["snapshot_t_s"]):
        fig.canvas.restore_region(background)
        d = depth[k].ravel()[cell]
        on = d >= _DRAW_DEPTH_M
        canvas[rows[on], cols[on]] = water.cmap(water.norm(d[on]), bytes=True)
        shut.set_segments(segments[closed[k]])
        for dots, counts, extra in ((out_dots, people[k], 0.0), (caught, strand[k], 4.0)):
            on = counts > 0
            dots.set_offsets(np.column_stack([px[on], py[on]]))
            dots.set_sizes(counts[on] * scale + extra)
        title.set_text(t("flood.anim_title", label_lang, hours=float(t_s) / 3600.0))
        for artist in moving[1:]:
            fig.draw_artist(artist)
        width, height = fig.canvas.get_width_height()
        frames.append(Image.frombuffer("RGBA", (width, height),
                                       bytes(fig.canvas.buffer_rgba()), "raw", "RGBA", 0, 1))
    out_gif = Path(out_gif)
    out_gif.parent.mkdir(parents=True, exist_ok=True)
    # As matplotlib's PillowWriter saves: every frame, fps as the frame duration, looping.
    frames[0].save(out_gif, save_all=True, append_images=frames[1:],
                   duration=int(1000 / fps), loop=0)
    return out_gif
