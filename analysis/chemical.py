"""Chemical-release metrics and figures, from the files a run folder holds.

Reads only ``hazard/chemical_timeseries.csv``, ``hazard/chemical_exposure.csv``,
``hazard/chemical_receptor.csv``, ``hazard/chemical_zones.csv``, ``hazard/chemical.npz``
(written by :class:`sim.hazards.chemical.ChemicalHazard` through the run writer) and the
standard ``households.csv.gz`` and ``links.csv.gz``. Every count is of persons.

The exposure table lists only households that breathed any gas; every other household
of ``households.csv.gz`` counts as unexposed (zero dose, zero load).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.memory_run import RunSource, read_csv, where
from analysis.tables import read_table
from sim._errors import RunFolderError
from sim.i18n import t

_FILES = {
    name: f"hazard/chemical_{name}.csv" for name in ("timeseries", "exposure", "receptor", "zones")
}
_NPZ = "hazard/chemical.npz"
_ZONE_COLOURS = ("#ffd700", "#ff8c00", "#d7191c")  # yellow, orange, red (ALOHA's AEGL-1/2/3)
_REQUIRED = {
    "timeseries": (
        "t_s",
        "persons_above_aegl1",
        "persons_above_aegl2",
        "persons_above_aegl3",
        "persons_injured",
        "persons_dead",
        "drive_km_closed",
    ),
    "exposure": (
        "household",
        "persons",
        "max_ppm",
        "dose_ppm_min",
        "toxic_load",
        "aegl_level",
        "p_death",
        "deaths",
        "injured",
        "outcome",
    ),
    "receptor": ("t_s", "receptor", "outdoor_ppm", "indoor_ppm"),
    "zones": ("zone", "aegl_ppm", "duration_min", "area_m2", "length_m"),
}


def read_chemical(run_dir: RunSource, name: str) -> pd.DataFrame:
    """One chemical-release table of a run folder (``timeseries|exposure|receptor|zones``).

    Raises
    ------
    RunFolderError
        The file is missing (the run had no chemical hazard) or lacks a column.
    """
    if name not in _FILES:
        raise ValueError(f"table: expected one of {', '.join(_FILES)}, got {name!r}")
    path = where(run_dir, _FILES[name])
    try:
        frame = read_csv(run_dir, _FILES[name], keep_default_na=False, na_values={"": [""]})
    except FileNotFoundError:
        raise RunFolderError(
            f"{path}: missing; expected the chemical {name} table of a run with a chemical hazard"
        ) from None
    missing = [c for c in _REQUIRED[name] if c not in frame.columns]
    if missing:
        raise RunFolderError(f"{path}: missing columns {missing}; expected {list(_REQUIRED[name])}")
    return frame


def read_chemical_arrays(run_dir: str | Path) -> dict[str, np.ndarray]:
    """The threat-zone grids of ``hazard/chemical.npz`` (``max_ppm``, ``level``, geometry)."""
    path = Path(run_dir) / _NPZ
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise RunFolderError(
            f"{path}: missing; expected the threat-zone grids of a chemical hazard"
        ) from None
    for key in (
        "max_ppm",
        "level",
        "grid_x0_m",
        "grid_y0_m",
        "grid_cell_m",
        "aegl_ppm",
        "source_xy_m",
    ):
        if key not in arrays:
            raise RunFolderError(f"{path}: missing array {key!r}")
    return arrays


def _group_stats(persons: np.ndarray, ex: pd.DataFrame, rows: np.ndarray, aegl2_ppm: float) -> dict:
    """Person-weighted exposure of the households ``rows`` (unexposed ones count as zero)."""
    total = int(persons[rows].sum())
    sub = ex[ex["household"].isin(rows)]
    w = sub["persons"].to_numpy(np.float64)

    def mean(col: str) -> float | None:
        return float((sub[col].to_numpy(np.float64) * w).sum() / total) if total else None

    return {
        "persons": total,
        "mean_dose_ppm_min": mean("dose_ppm_min"),
        "mean_toxic_load": mean("toxic_load"),
        "mean_max_ppm": mean("max_ppm"),
        "persons_above_aegl2": int(w[sub["max_ppm"].to_numpy() >= aegl2_ppm].sum()),
        "injured": int(sub["injured"].sum()),
        "deaths": int(sub["deaths"].sum()),
    }


def chemical_metrics(run_dir: RunSource) -> dict:
    """Headline numbers of a chemical release in one run.

    Returns
    -------
    dict
        ``persons_above_aegl1/2/3`` (peak breathed concentration reached the 60-min or
        chosen-duration AEGL), ``injured``, ``deaths`` (sampled from the probit),
        ``expected_deaths`` (sum of persons × P(death)), ``zones`` (area, length, AEGL per
        level), ``roads`` (largest closed length and when), ``exposure`` (evacuees vs people
        who stayed at home), ``receptor`` (peak outdoor and indoor concentration and when).
    """
    ts = read_chemical(run_dir, "timeseries")
    ex = read_chemical(run_dir, "exposure")
    zones = read_chemical(run_dir, "zones").set_index("zone")
    rec = read_chemical(run_dir, "receptor")
    hh = read_table(run_dir, "households")
    persons = hh["persons"].to_numpy(np.int64)
    last = ts.iloc[-1] if len(ts) else None
    aegl = {k: float(zones.loc[f"aegl{k}", "aegl_ppm"]) for k in (1, 2, 3)}
    out: dict = {
        **{
            f"persons_above_aegl{k}": int(last[f"persons_above_aegl{k}"]) if last is not None else 0
            for k in (1, 2, 3)
        },
        "injured": int(ex["injured"].sum()),
        "deaths": int(ex["deaths"].sum()),
        "expected_deaths": float((ex["p_death"] * ex["persons"]).sum()),
        "zones": {
            f"aegl{k}": {
                "aegl_ppm": aegl[k],
                "duration_min": int(zones.loc[f"aegl{k}", "duration_min"]),
                "area_km2": float(zones.loc[f"aegl{k}", "area_m2"]) / 1e6,
                "length_m": float(zones.loc[f"aegl{k}", "length_m"]),
            }
            for k in (1, 2, 3)
        },
    }
    closed = ts["drive_km_closed"].to_numpy(np.float64)
    out["roads"] = {
        "max_drive_km_closed": float(closed.max()) if closed.size else 0.0,
        "first_closed_s": float(ts["t_s"][closed > 0].min()) if (closed > 0).any() else None,
        "last_closed_s": float(ts["t_s"][closed > 0].max()) if (closed > 0).any() else None,
    }
    departed = np.isfinite(hh["t_depart_s"].to_numpy(np.float64))
    rows = hh["household"].astype(np.int64).to_numpy()
    out["exposure"] = {
        "evacuees": _group_stats(persons, ex, rows[departed], aegl[2]),
        "in_place": _group_stats(persons, ex, rows[~departed], aegl[2]),
    }
    if "action" in ex.columns:
        out["exposure_by_action"] = {
            str(action): {
                "persons": int(g["persons"].sum()),
                "mean_toxic_load": float(
                    (g["toxic_load"] * g["persons"]).sum() / g["persons"].sum()
                ),
                "deaths": int(g["deaths"].sum()),
                "injured": int(g["injured"].sum()),
            }
            for action, g in ex.groupby("action", sort=True)
            if g["persons"].sum() > 0
        }
    if len(rec):
        i_out, i_in = int(rec["outdoor_ppm"].idxmax()), int(rec["indoor_ppm"].idxmax())
        out["receptor"] = {
            "name": str(rec["receptor"].iloc[0]),
            "peak_outdoor_ppm": float(rec["outdoor_ppm"].iloc[i_out]),
            "t_peak_outdoor_s": float(rec["t_s"].iloc[i_out]),
            "peak_indoor_ppm": float(rec["indoor_ppm"].iloc[i_in]),
            "t_peak_indoor_s": float(rec["t_s"].iloc[i_in]),
        }
    return out


def plot_threat_zones(run_dir: str | Path, out_png: str | Path, *, lang: str = "en") -> Path:
    """Threat zones on the map: AEGL-3 red, AEGL-2 orange, AEGL-1 yellow, over the roads.

    Notes
    -----
    The zones are where the peak ground-level concentration of the whole event reached
    each AEGL (ALOHA's threat zones, docs/references.md §1.7), from the grid in
    ``hazard/chemical.npz``; projected metres (the map's UTM CRS).
    """
    from matplotlib.collections import LineCollection
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from analysis.mapstyle import decorate_map
    from analysis.plotting import _label_lang_and_font, _new_figure, _save

    label_lang, kw = _label_lang_and_font(lang)
    arr = read_chemical_arrays(run_dir)
    links = read_table(run_dir, "links")
    level = np.asarray(arr["level"])
    ny, nx = level.shape
    x0, y0, cell = float(arr["grid_x0_m"]), float(arr["grid_y0_m"]), float(arr["grid_cell_m"])
    fig = _new_figure(8.0, 7.0)
    ax = fig.add_subplot()
    segments = np.stack(
        [
            links[["x0_m", "y0_m"]].to_numpy(np.float64),
            links[["x1_m", "y1_m"]].to_numpy(np.float64),
        ],
        axis=1,
    )
    ax.add_collection(LineCollection(segments, colors="0.6", linewidths=0.4, zorder=1))
    shown = np.ma.masked_where(level == 0, level)
    ax.imshow(
        shown,
        origin="lower",
        extent=(x0, x0 + nx * cell, y0, y0 + ny * cell),
        cmap=ListedColormap(list(_ZONE_COLOURS)),
        vmin=0.5,
        vmax=3.5,
        alpha=0.55,
        interpolation="nearest",
        zorder=2,
    )
    sx, sy = (float(v) for v in arr["source_xy_m"])
    ax.plot([sx], [sy], marker="*", color="black", markersize=14, linestyle="none", zorder=4)
    handles = [
        Patch(
            facecolor=c,
            alpha=0.55,
            label=t(f"chemical.fig.zone{k}", label_lang, ppm=float(arr["aegl_ppm"][k - 1])),
        )
        for k, c in zip((1, 2, 3), _ZONE_COLOURS, strict=True)
    ]
    handles.append(
        ax.plot(
            [],
            [],
            marker="*",
            color="black",
            linestyle="none",
            label=t("chemical.fig.source", label_lang),
        )[0]
    )
    if "receptor_xy_m" in arr and np.asarray(arr["receptor_xy_m"]).size == 2:
        rx, ry = (float(v) for v in arr["receptor_xy_m"])
        handles.append(
            ax.plot(
                [rx],
                [ry],
                marker="^",
                color="navy",
                linestyle="none",
                zorder=4,
                label=t("chemical.fig.receptor", label_lang),
            )[0]
        )
        ax.annotate(_receptor_name(run_dir), (rx, ry), xytext=(5, 5), textcoords="offset points",
                    fontsize=8, color="navy", zorder=6, **kw)
    if segments.size:
        xs, ys = segments[..., 0], segments[..., 1]
        pad = 0.03 * max(np.ptp(xs), np.ptp(ys), 1.0)
        ax.set_xlim(min(xs.min(), sx) - pad, max(xs.max(), sx) + pad)
        ax.set_ylim(min(ys.min(), sy) - pad, max(ys.max(), sy) + pad)
    _wind_arrow(ax, arr, label_lang, kw)
    if _zone_touches_edge(level):
        ax.text(0.5, 0.02, t("mapstyle.plume_leaves", label_lang), transform=ax.transAxes,
                ha="center", va="bottom", fontsize=8, color="darkred", zorder=9,
                bbox={"fc": "white", "ec": "darkred", "alpha": 0.85}, **kw)
    prop = kw["fontproperties"].copy() if kw else None
    if prop is not None:
        prop.set_size("small")
    ax.legend(handles=handles, loc="upper left", prop=prop, fontsize="small")
    decorate_map(ax, origin_xy=(float(segments[..., 0].min()), float(segments[..., 1].min()))
                 if segments.size else (x0, y0), lang=label_lang, font=kw)
    ax.set_title(t("chemical.fig.zones_title", label_lang), **kw)
    return _save(fig, out_png)


def _zone_touches_edge(level: np.ndarray) -> bool:
    """Whether any threat zone reaches the grid's border (the plume runs off the map)."""
    lv = np.asarray(level)
    return bool(lv.size and (lv[0].any() or lv[-1].any() or lv[:, 0].any() or lv[:, -1].any()))


def _receptor_name(run_dir: str | Path) -> str:
    try:
        rec = read_chemical(run_dir, "receptor")
    except RunFolderError:
        return ""
    return str(rec["receptor"].iloc[0]) if len(rec) else ""


def _wind_arrow(ax, arr: dict, lang: str, kw: dict) -> None:
    """An arrow in the upper right pointing where the (first) wind blows to."""
    if "wind_from_deg" not in arr or not np.asarray(arr["wind_from_deg"]).size:
        return
    deg = float(np.asarray(arr["wind_from_deg"]).ravel()[0])
    speed = float(np.asarray(arr["wind_speed_mps"]).ravel()[0])
    # Meteorological "from" bearing (0 = from the north): the air moves toward deg + 180.
    to = np.radians(deg + 180.0)
    dx, dy = 0.08 * np.sin(to), 0.08 * np.cos(to)
    cx, cy = 0.84, 0.80
    ax.annotate("", xy=(cx + dx, cy + dy), xytext=(cx - dx, cy - dy), xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>", "color": "tab:blue", "lw": 2.0}, zorder=9)
    ax.text(cx, cy - 0.13, t("mapstyle.wind", lang, speed=speed, deg=deg),
            transform=ax.transAxes, ha="center", fontsize=7, color="tab:blue", zorder=9, **kw)


def plot_receptor(run_dir: str | Path, out_png: str | Path, *, lang: str = "en") -> Path:
    """Concentration at the chosen point over time: outdoors, indoors, and the AEGLs (ppm)."""
    from analysis.plotting import _label_lang_and_font, _new_figure, _save

    label_lang, kw = _label_lang_and_font(lang)
    rec = read_chemical(run_dir, "receptor")
    zones = read_chemical(run_dir, "zones").set_index("zone")
    hours = rec["t_s"].to_numpy(np.float64) / 3600.0
    fig = _new_figure(8.0, 4.5)
    ax = fig.add_subplot()
    ax.plot(hours, rec["outdoor_ppm"], color="tab:red", label=t("chemical.fig.outdoor", label_lang))
    ax.plot(hours, rec["indoor_ppm"], color="tab:blue", label=t("chemical.fig.indoor", label_lang))
    for k, colour in zip((1, 2, 3), _ZONE_COLOURS, strict=True):
        ppm = float(zones.loc[f"aegl{k}", "aegl_ppm"])
        ax.axhline(
            ppm,
            color=colour,
            linestyle="--",
            linewidth=1.0,
            label=t(
                "chemical.fig.aegl",
                label_lang,
                level=k,
                ppm=ppm,
                minutes=int(zones.loc[f"aegl{k}", "duration_min"]),
            ),
        )
    top = max(
        float(rec[["outdoor_ppm", "indoor_ppm"]].to_numpy().max()) if len(rec) else 0.0,
        float(zones.loc["aegl2", "aegl_ppm"]),
    )
    ax.set_ylim(0.0, top * 1.1 if top > 0 else 1.0)
    ax.set_xlim(left=0.0)
    name = str(rec["receptor"].iloc[0]) if len(rec) else ""
    ax.set_xlabel(t("chemical.fig.hours", label_lang), **kw)
    ax.set_ylabel(t("chemical.fig.ppm", label_lang), **kw)
    ax.set_title(t("chemical.fig.receptor_title", label_lang, name=name), **kw)
    prop = kw["fontproperties"].copy() if kw else None
    if prop is not None:
        prop.set_size("small")
    ax.legend(loc="upper right", prop=prop, fontsize="small")
    return _save(fig, out_png)
