"""Earthquake results of a run folder: damage, casualty and road metrics, the PGA map.

Reads only run-folder files: ``hazard/earthquake_buildings.csv``,
``hazard/earthquake_links.csv``, ``hazard/earthquake_summary.csv``, ``hazard/earthquake.npz``
(written from :class:`sim.hazards.earthquake.EarthquakeHazard` ``tables()`` / ``arrays()``),
``hazard/incidents.csv`` and, for the street pattern of the map, ``links.csv.gz``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.memory_run import RunSource, has_file, read_csv, where
from sim._errors import RunFolderError

DAMAGE_STATES = ("none", "slight", "moderate", "extensive", "complete")
_SEVERITY_COLS = ("casualties_s1", "casualties_s2", "casualties_s3", "casualties_s4")


def _read_csv(run_dir: RunSource, rel: str, required: tuple[str, ...]) -> pd.DataFrame:
    path = where(run_dir, rel)
    try:
        frame = read_csv(run_dir, rel, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing; expected the earthquake output of a run with "
                             "an earthquake hazard") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RunFolderError(f"{path}: expected columns {', '.join(missing)}, got "
                             f"{', '.join(map(str, frame.columns))}")
    return frame


def read_buildings(run_dir: RunSource) -> pd.DataFrame:
    """The per-building table (``hazard/earthquake_buildings.csv``)."""
    return _read_csv(run_dir, "hazard/earthquake_buildings.csv",
                     ("building", "x_m", "y_m", "class", "occupants", "pga_g", "damage_state",
                      "collapsed", "trapped", *_SEVERITY_COLS, "displaced"))


def read_blocked_links(run_dir: RunSource) -> pd.DataFrame:
    """Closed or slowed links (``hazard/earthquake_links.csv``)."""
    return _read_csv(run_dir, "hazard/earthquake_links.csv",
                     ("network", "link", "from_node", "to_node", "x0_m", "y0_m", "x1_m", "y1_m",
                      "length_m", "reason", "factor"))


def road_km(links: pd.DataFrame, *, closed: bool) -> float:
    """Drive road length (km) closed (factor 0) or slowed (0 < factor < 1).

    A street is counted once even when both of its directed links are listed.
    """
    d = links[links["network"] == "drive"]
    d = d[d["factor"] == 0] if closed else d[(d["factor"] > 0) & (d["factor"] < 1)]
    if d.empty:
        return 0.0
    a = np.minimum(d["from_node"], d["to_node"])
    b = np.maximum(d["from_node"], d["to_node"])
    streets = d.assign(a=a, b=b).drop_duplicates(["a", "b"])
    return float(streets["length_m"].sum() / 1000.0)


def earthquake_metrics(run_dir: RunSource) -> dict:
    """Damage, casualties, trapped and displaced people, blocked roads of one run.

    Returns
    -------
    dict
        ``buildings`` (total and per damage state, ``collapsed``), ``casualties`` (persons
        by severity ``s1``…``s4``, HAZUS: minor, hospitalised, life-threatening, dead),
        ``persons_trapped``, ``persons_displaced``, ``households_displaced``,
        ``road_km_closed``, ``road_km_slowed``, ``incidents`` (earthquake incidents by
        kind), ``pga_g`` (max and median at buildings), ``inventory`` (``osm`` or
        ``synthesised``), ``gmpe``, ``mw``, ``ms``.
    """
    bld = read_buildings(run_dir)
    links = read_blocked_links(run_dir)
    summary = _read_csv(run_dir, "hazard/earthquake_summary.csv", ("inventory", "gmpe"))
    row = summary.iloc[0]
    counts = bld["damage_state"].value_counts()
    incidents: dict[str, int] = {}
    if has_file(run_dir, "hazard/incidents.csv"):
        inc = read_csv(run_dir, "hazard/incidents.csv", keep_default_na=False)
        inc = inc[inc["hazard"] == "earthquake"]
        incidents = {str(k): int(v) for k, v in inc["kind"].value_counts().sort_index().items()}
    pga = bld["pga_g"].to_numpy(np.float64)
    return {
        "inventory": str(row["inventory"]),
        "gmpe": str(row["gmpe"]),
        "mw": float(row["mw"]) if "mw" in row else None,
        "ms": float(row["ms"]) if "ms" in row else None,
        "buildings": {"total": int(len(bld)),
                      **{s: int(counts.get(s, 0)) for s in DAMAGE_STATES},
                      "collapsed": int(bld["collapsed"].astype(bool).sum())},
        "casualties": {c.split("_")[1]: int(bld[c].sum()) for c in _SEVERITY_COLS},
        "persons_trapped": int(bld["trapped"].sum()),
        "persons_displaced": int(bld["displaced"].sum()),
        "households_displaced": int(row.get("households_displaced", 0)),
        "road_km_closed": road_km(links, closed=True),
        "road_km_slowed": road_km(links, closed=False),
        "incidents": incidents,
        "pga_g": {"max": float(pga.max()) if pga.size else 0.0,
                  "median": float(np.median(pga)) if pga.size else 0.0},
    }


def read_pga_grid(run_dir: str | Path) -> dict[str, np.ndarray]:
    """The PGA map arrays of ``hazard/earthquake.npz`` (see ``EarthquakeHazard.arrays``)."""
    path = Path(run_dir) / "hazard" / "earthquake.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing; expected the PGA map of an earthquake run") \
            from None
    for key in ("pga_g", "x0_m", "y0_m", "cell_m"):
        if key not in out:
            raise RunFolderError(f"{path}: expected an array {key!r}, got {sorted(out)}")
    return out


def plot_pga_map(run_dir: str | Path, out_png: str | Path, *, lang: str = "en") -> Path:
    """Draw the PGA map with damaged buildings and closed / slowed roads.

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
    Projected metres (the map's UTM CRS). The PGA raster is this run's realisation
    (median × sampled variability); buildings with Extensive or Complete damage are
    drawn as dots (collapsed ones as black crosses), closed roads red, slowed roads orange.
    """
    from matplotlib.collections import LineCollection

    from analysis.mapstyle import decorate_map
    from analysis.plotting import _label_lang_and_font, _new_figure, _save
    from analysis.tables import read_table
    from sim.i18n import t

    label_lang, kw = _label_lang_and_font(lang)
    grid = read_pga_grid(run_dir)
    bld = read_buildings(run_dir)
    links = read_blocked_links(run_dir)
    pga = np.asarray(grid["pga_g"], np.float64)
    x0, y0, cell = float(grid["x0_m"]), float(grid["y0_m"]), float(grid["cell_m"])
    ny, nx = pga.shape
    extent = (x0, x0 + nx * cell, y0, y0 + ny * cell)
    fig = _new_figure(8.0, 7.0)
    ax = fig.add_subplot()
    img = ax.imshow(pga, origin="lower", extent=extent, cmap="YlOrRd", alpha=0.75,
                    vmin=0.0, vmax=max(float(pga.max()), 0.05), zorder=0)
    cbar = fig.colorbar(img, ax=ax, shrink=0.7)
    cbar.set_label(t("earthquake.fig.pga", label_lang), **kw)
    try:
        streets = read_table(run_dir, "links")
        seg = np.stack([streets[["x0_m", "y0_m"]].to_numpy(np.float64),
                        streets[["x1_m", "y1_m"]].to_numpy(np.float64)], axis=1)
        ax.add_collection(LineCollection(seg, colors="0.45", linewidths=0.3, zorder=1))
    except RunFolderError:
        pass  # no street layer: the map still reads from the damage and the raster
    state = bld["damage_state"].astype(str)
    for name, colour, size in (("extensive", "tab:orange", 1.5), ("complete", "darkred", 2.5)):
        m = (state == name) & ~bld["collapsed"].astype(bool)
        ax.scatter(bld.loc[m, "x_m"], bld.loc[m, "y_m"], s=size, c=colour, linewidths=0,
                   zorder=2, label=t(f"earthquake.ds.{name}", label_lang))
    m = bld["collapsed"].astype(bool)
    ax.scatter(bld.loc[m, "x_m"], bld.loc[m, "y_m"], s=8, c="black", marker="x",
               linewidths=0.6, zorder=3, label=t("earthquake.ds.collapsed", label_lang))
    d = links[links["network"] == "drive"]
    for closed, colour, width, key in ((False, "darkorange", 1.6, "slowed"),
                                       (True, "red", 2.4, "closed")):
        sel = d[(d["factor"] == 0) == closed]
        seg = np.stack([sel[["x0_m", "y0_m"]].to_numpy(np.float64),
                        sel[["x1_m", "y1_m"]].to_numpy(np.float64)], axis=1).reshape(-1, 2, 2)
        ax.add_collection(LineCollection(seg, colors=colour, linewidths=width, zorder=4,
                                         label=t(f"earthquake.fig.{key}", label_lang)))
    trace = np.asarray(grid.get("trace_xy_m", np.zeros((0, 2))), np.float64).reshape(-1, 2)
    if len(trace):
        ax.plot(trace[:, 0], trace[:, 1], color="black", linewidth=2.0, zorder=5,
                label=t("earthquake.fig.trace", label_lang))
    if "epicentre_xy_m" in grid:
        ex, ey = np.asarray(grid["epicentre_xy_m"], np.float64)
        ax.scatter([ex], [ey], s=160, marker="*", c="yellow", edgecolors="black", zorder=6,
                   label=t("earthquake.fig.epicentre", label_lang))
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    prop = {"size": 7}
    if "fontproperties" in kw:
        prop = kw["fontproperties"].copy()
        prop.set_size(7)
    # Legend markers drawn at a readable size each: a scale factor for the tiny building
    # dots would also blow the epicentre star up into what reads as a second epicentre.
    from matplotlib.collections import PathCollection
    from matplotlib.legend_handler import HandlerPathCollection

    ax.legend(loc="upper right", prop=prop,
              handler_map={PathCollection: HandlerPathCollection(sizes=[36.0])})
    decorate_map(ax, origin_xy=(extent[0], extent[2]), lang=label_lang, font=kw)
    ax.set_title(t("earthquake.fig.title", label_lang), **kw)
    return _save(fig, out_png)
