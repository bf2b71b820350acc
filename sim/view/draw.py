"""Matplotlib figures of the live view, built once per model and updated in place per frame.

Drawing cost must not grow with the residents: the map draws one LineCollection of the
drive links coloured by vehicles / storage, one image of the hazard, one image of the
people not yet safe (a 2-D histogram, persons per cell), and the shelters as a few
hundred markers coloured by fill — never one marker per person. Figures use the Agg
canvas (no pyplot, no global state), so they render the same in a server thread.
"""

from __future__ import annotations

import io

import numpy as np

from sim.i18n import t

DENSITY_CELL_M = 200.0
"""Cell side of the people-not-yet-safe histogram, m (a block; assumption)."""
HAZARD_CELLS = 160
"""Hazard image resolution along the map's longer side (cells)."""
_DPI = 80
LOAD_CLASSES = 10
"""Bands of vehicles / storage the roads are coloured in (0–0.1, …, 0.9 and over)."""


def _font(lang: str) -> tuple[str, dict]:
    from sim.fonts import cjk_font_path, font_for

    return font_for(lang, cjk_font_path() if lang != "en" else None)


def _figure(w_in: float, h_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # No layout engine: constrained layout re-solves on every draw (~0.5 s a frame here).
    fig = Figure(figsize=(w_in, h_in), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig) -> bytes:
    """The whole figure as PNG bytes (a full draw; see :class:`_Blitter` for frames)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


class _Blitter:
    """Draw the static part of a figure once, then only its moving artists per frame.

    Axes, ticks, titles and colour bars are most of a figure's drawing time and do not
    change between frames (axis limits are fixed in advance); the frame restores that
    background and draws the data artists over it, then encodes the pixels as PNG (zlib
    level 1: fast, and the image is sent once). Call :meth:`invalidate` after changing
    anything static (a limit).
    """

    def __init__(self, fig) -> None:
        self.fig = fig
        self.background = None
        self.artists: list = []

    def invalidate(self) -> None:
        self.background = None

    def set_artists(self, artists: list) -> None:
        for a in artists:
            a.set_animated(True)
        self.artists = list(artists)

    def png(self) -> bytes:
        from PIL import Image

        canvas = self.fig.canvas
        if self.background is None:
            canvas.draw()  # animated artists are skipped: this is the background
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        for a in self.artists:
            self.fig.draw_artist(a)
        w, h = canvas.get_width_height()
        img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buf = io.BytesIO()
        img.convert("RGB").save(buf, format="png", compress_level=1)
        return buf.getvalue()


class MapFigure:
    """Roads by load, hazard, people not yet safe and shelters of one :class:`LiveModel`."""

    def __init__(self, model, *, lang: str = "en") -> None:
        from matplotlib.colors import LogNorm

        lang, kw = _font(lang)
        self.model = model
        sim = model.sim
        net = sim.net
        d = net.drive
        x, y = net.nodes.x_m, net.nodes.y_m
        seg = np.stack([np.column_stack([x[d.from_node], y[d.from_node]]),
                        np.column_stack([x[d.to_node], y[d.to_node]])], axis=1)
        self.storage = np.maximum(d.storage_veh.astype(np.float64), 1.0)
        # Roads and homes both inside: the density layer must hold every person.
        hx, hy = sim.pop.x_m, sim.pop.y_m
        x0, x1 = min(float(seg[..., 0].min()), hx.min()), max(float(seg[..., 0].max()), hx.max())
        y0, y1 = min(float(seg[..., 1].min()), hy.min()), max(float(seg[..., 1].max()), hy.max())
        pad = 0.02 * max(x1 - x0, y1 - y0)
        self.extent = (x0 - pad, x1 + pad, y0 - pad, y1 + pad)
        self.fig = fig = _figure(7.5, 6.5)
        self.ax = ax = fig.add_axes((0.1, 0.16, 0.76, 0.78))
        ax.set_title(t("view.map_title", lang), fontsize=10, **kw)
        ax.set_aspect("equal")
        ax.set_xlim(self.extent[:2])
        ax.set_ylim(self.extent[2:])
        ax.set_xticks([])
        ax.set_yticks([])
        # Hazard: a coarse grid sampled through the hazard interface (value_at).
        ex = self.extent
        n = HAZARD_CELLS
        cell = max(ex[1] - ex[0], ex[3] - ex[2]) / n
        gx = np.arange(ex[0] + cell / 2, ex[1], cell)
        gy = np.arange(ex[2] + cell / 2, ex[3], cell)
        self._hx, self._hy = (a.ravel() for a in np.meshgrid(gx, gy))
        self._hshape = (gy.size, gx.size)
        self._hazard_extent = (gx[0] - cell / 2, gx[-1] + cell / 2, gy[0] - cell / 2,
                               gy[-1] + cell / 2)
        self.hazard_image = None
        self._pga = None
        self._collapsed_drawn = False
        hz = [h for h in sim.hazards if h.kind in ("flood", "chemical", "earthquake")]
        self.hazard = hz[0] if hz else None
        if self.hazard is not None:
            cmap, norm, label = self._hazard_style(self.hazard, lang)
            self.hazard_image = ax.imshow(np.zeros(self._hshape), origin="lower",
                                          extent=self._hazard_extent, cmap=cmap, norm=norm,
                                          alpha=0.55, interpolation="nearest", zorder=1)
            cb = fig.colorbar(self.hazard_image, cax=fig.add_axes((0.02, 0.3, 0.02, 0.5)))
            cb.set_label(label, **kw)
        # People not yet safe: persons per DENSITY_CELL_M cell.
        self._bx = np.arange(ex[0], ex[1] + DENSITY_CELL_M, DENSITY_CELL_M)
        self._by = np.arange(ex[2], ex[3] + DENSITY_CELL_M, DENSITY_CELL_M)
        dens = np.full((self._by.size - 1, self._bx.size - 1), np.nan)
        self.density = ax.imshow(dens, origin="lower", cmap="Purples",
                                 norm=LogNorm(vmin=1, vmax=max(10.0, sim.pop.n_persons / 50)),
                                 extent=(self._bx[0], self._bx[-1], self._by[0], self._by[-1]),
                                 alpha=0.6, interpolation="nearest", zorder=2)
        cb = fig.colorbar(self.density, cax=fig.add_axes((0.9, 0.3, 0.02, 0.5)))
        cb.set_label(t("view.density", lang), **kw)
        # Roads coloured by vehicles / storage (0: free, 1: jammed), in LOAD_CLASSES bands:
        # one polyline per band (segments separated by NaN) draws in one Agg call, where a
        # LineCollection draws each of thousands of segments on its own.
        import matplotlib as mpl
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        cmap = mpl.colormaps["RdYlGn_r"]
        self._seg = seg
        self.road_lines = [ax.plot([], [], color=cmap((k + 0.5) / LOAD_CLASSES), lw=0.9,
                                   zorder=3, solid_capstyle="butt")[0]
                           for k in range(LOAD_CLASSES)]
        self.road_class = np.zeros(len(seg), np.int64)
        cb = fig.colorbar(ScalarMappable(Normalize(0.0, 1.0), cmap=cmap.resampled(LOAD_CLASSES)),
                          cax=fig.add_axes((0.3, 0.07, 0.4, 0.02)), orientation="horizontal")
        cb.set_label(t("view.load", lang), **kw)
        # Shelters: one marker per shelter node, size by places, colour by fill.
        nodes = np.unique(sim.shelter_node)
        cap = sim.node_capacity[nodes].astype(np.float64)
        self.shelters = ax.scatter(x[nodes], y[nodes], s=20 + 180 * np.sqrt(cap / cap.max()),
                                   c=np.zeros(nodes.size), cmap="Blues", vmin=0.0, vmax=1.0,
                                   edgecolors="black", linewidths=0.8, marker="s", zorder=4,
                                   label=t("view.shelter", lang))
        self.damage = None
        self._blit = _Blitter(fig)
        self._blit.set_artists([a for a in (self.hazard_image, self.density, *self.road_lines,
                                            self.shelters) if a is not None])
        self.update()

    def png(self) -> bytes:
        """The current frame as PNG bytes (static background drawn once)."""
        return self._blit.png()

    def _hazard_style(self, hz, lang: str):
        from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize

        if hz.kind == "flood":
            return "Blues", Normalize(0.0, 2.0), t("view.depth", lang)
        if hz.kind == "chemical":
            cmap = ListedColormap(["#ffffff00", "#fde725", "#f89540", "#cc0000"])
            return cmap, BoundaryNorm([0, 1, 2, 3, 4], 4), t("view.plume", lang)
        return "YlOrRd", Normalize(0.0, 1.0), "PGA (g)"

    def _hazard_values(self) -> np.ndarray:
        hz, t_s = self.hazard, self.model.sim.t_s
        if hz.kind == "chemical":
            ppm = hz.value_at(t_s, self._hx, self._hy)
            # Threat-zone level: 0 below AEGL-1, k above AEGL-k (the hazard's thresholds).
            return np.searchsorted(np.asarray(hz.aegl_ppm), ppm, side="right").astype(float)
        if hz.kind == "earthquake":
            if self._pga is None and getattr(hz, "struck", False):
                self._pga = hz.value_at(t_s, self._hx, self._hy)  # fixed once it struck
            return self._pga if self._pga is not None else np.zeros(self._hx.size)
        return hz.value_at(t_s, self._hx, self._hy)

    def update(self):
        """Redraw the artists' data from the model's current state; returns the figure."""
        sim = self.model.sim
        load = sim.queues.count[: len(self.storage)] / self.storage
        self.road_class = np.minimum((load * LOAD_CLASSES).astype(np.int64), LOAD_CLASSES - 1)
        order = np.argsort(self.road_class, kind="stable")
        bounds = np.searchsorted(self.road_class[order], np.arange(LOAD_CLASSES + 1))
        for k, line in enumerate(self.road_lines):
            rows = order[bounds[k]:bounds[k + 1]]
            xy = np.full((rows.size, 3, 2), np.nan)
            xy[:, :2] = self._seg[rows]
            line.set_data(xy[..., 0].ravel(), xy[..., 1].ravel())
        x, y, persons = self.model.not_safe_positions()
        h, _, _ = np.histogram2d(y, x, bins=(self._by, self._bx), weights=persons)
        self.density.set_data(np.where(h > 0, h, np.nan))
        used, cap = self.model.shelter_occupancy()
        self.shelters.set_array(np.where(cap > 0, used / np.maximum(cap, 1), 0.0))
        if self.hazard_image is not None:
            values = self._hazard_values().reshape(self._hshape)
            if self.hazard.kind == "flood":
                values = np.where(values > 0.01, values, np.nan)  # dry cells transparent
            self.hazard_image.set_data(values)
            if self.hazard.kind == "earthquake" and not self._collapsed_drawn:
                self._draw_collapsed()
        return self.fig

    def _draw_collapsed(self) -> None:
        b = self.hazard.tables().get("buildings")
        if b is None or len(b) == 0:
            return
        c = b[b["collapsed"].astype(bool)]
        self.ax.scatter(c["x_m"], c["y_m"], s=4, c="black", marker="x", linewidths=0.5,
                        zorder=5)  # static from now on: part of the background
        self._collapsed_drawn = True
        self._blit.invalidate()


class ChartsFigure:
    """Persons by state, shelter fill, open incidents and the relief curve over time.

    Axes, titles and lines are made once; a frame sets the lines' data and redraws the
    stacked areas (clearing axes would rebuild every tick label, most of the cost).
    """

    def __init__(self, model, *, lang: str = "en") -> None:
        from matplotlib.ticker import MaxNLocator

        from sim.model import STATES

        self.model = model
        lang, kw = _font(lang)
        self.fig = _figure(7.5, 6.0)
        self.axes = a = self.fig.subplots(2, 2).ravel()
        self.fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.95, wspace=0.25,
                                 hspace=0.4)
        for ax in a:
            ax.set_xlabel(t("view.time_h", lang), fontsize=8, **kw)
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_locator(MaxNLocator(5))
        self._stack = []
        colours = ["#bdbdbd", "#fdae61", "#abd9e9", "#f46d43", "#2c7bb6", "#7b3294", "#000000"]
        self._colours = colours[: len(STATES)]
        from matplotlib.patches import Patch

        # Below the charts, static: a legend inside the stacked areas would have to be
        # redrawn over them every frame (seven text labels, a third of the frame).
        prop = kw["fontproperties"].copy() if kw else None
        if prop is not None:
            prop.set_size(6)  # an explicit prop overrides fontsize
        self.fig.legend([Patch(color=c) for c in self._colours],
                        [t(f"status.{s}", lang) for s in STATES], loc="lower center", ncol=4,
                        fontsize=6, prop=prop, frameon=False)
        a[0].set_title(t("view.states", lang), fontsize=9, **kw)
        n = model.sim.pop.n_persons
        a[0].set_ylim(0, n * 1.02)
        # Fixed limits (the horizon, the population): the axes never redraw per frame.
        for ax in a:
            ax.set_xlim(0, model.sim.horizon_s / 3600.0)
        (self.fill,) = a[1].plot([], [], color="tab:blue")
        a[1].set_ylim(0, 1.05)
        a[1].set_title(t("view.fill", lang), fontsize=9, **kw)
        (self.incidents,) = a[2].plot([], [], color="tab:red", drawstyle="steps-post")
        a[2].set_title(t("view.incidents", lang), fontsize=9, **kw)
        (self.relief,) = a[3].plot([], [], color="tab:green")
        a[3].axvline(10.0, color="grey", linestyle="--", linewidth=0.8)  # 10 h relief target
        a[3].set_ylim(0, n * 1.02)
        a[2].set_ylim(0, 10)
        self._blit = _Blitter(self.fig)
        key = "view.relief" if model.sim.response is not None else "view.relief_no_plan"
        a[3].set_title(t(key, lang), fontsize=9, **kw)
        self.update()

    def update(self):
        """Set the charts' data from the model's DataCollector; returns the figure."""
        from sim.model import STATES

        df = self.model.datacollector.get_model_vars_dataframe()
        th = df["t_h"].to_numpy(float)
        for poly in self._stack:
            poly.remove()
        self._stack = self.axes[0].stackplot(th, *(df[s].to_numpy(float) for s in STATES),
                                             colors=self._colours)
        self.fill.set_data(th, df["shelter_fill"].to_numpy(float))
        inc = df["open_incidents"].to_numpy(float)
        self.incidents.set_data(th, inc)
        top = self.axes[2].get_ylim()[1]
        if inc.max() > top:  # doubles: a handful of redraws over a run
            self.axes[2].set_ylim(0, 2 ** np.ceil(np.log2(inc.max() + 1)))
            self._blit.invalidate()
        self.relief.set_data(th, np.nan_to_num(df["relieved"].to_numpy(float)))
        self._blit.set_artists([*self._stack, self.fill, self.incidents, self.relief])
        return self.fig

    def png(self) -> bytes:
        """The current frame as PNG bytes (static background drawn once)."""
        return self._blit.png()
