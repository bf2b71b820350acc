"""``evacsim map plot``: a map file's roads, shelters and facilities, for people to read.

Framed on the bulk of the network (one stray road does not shrink the town), axes in km
from the map's south-west corner, a scale bar and a north arrow, the legend outside the
map, one symbol and colour per kind of place, labels in English or Chinese.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from analysis.mapstyle import decorate_map, robust_extent
from sim.network.roadnet import RoadNetwork

__all__ = ["plot_map"]

_ROAD_WIDTH = {"motorway": 2.5, "trunk": 2.2, "primary": 1.8, "secondary": 1.4,
               "tertiary": 1.1}
_MARKERS = {"park": "^", "square": "s", "school": "P", "stadium": "D", "sports_centre": "d",
            "fire_station": "*", "hospital": "H", "police": "p", "depot": "X",
            "industrial": "h", "storage_tank": "o"}


# Facility colours, one per kind (markers above): a hospital must not read as industry.
_COLOURS = {"fire_station": "tab:red", "hospital": "tab:pink", "police": "tab:blue",
            "depot": "tab:brown", "industrial": "0.3", "storage_tank": "tab:purple"}


def plot_map(net: RoadNetwork, out_png: Path, *, lang: Literal["en", "zh"] = "en") -> Path:
    """Draw roads by class, footpaths, shelters and facilities to a PNG (north up, metres).

    Parameters
    ----------
    net : RoadNetwork
    out_png : Path
        Output file.
    lang : {"en", "zh"}
        Language of title, axis labels and legend.

    Returns
    -------
    Path
        ``out_png``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    from sim.fonts import cjk_font_path, font_for
    from sim.i18n import check_lang, t

    check_lang(lang)
    shown, font = font_for(lang, cjk_font_path() if lang != "en" else None)

    def lab(key: str, **fmt: object) -> str:
        return t(f"map.plot.{key}", shown, **fmt)

    fig = Figure(figsize=(11, 9), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x, y = net.nodes.x_m, net.nodes.y_m

    def segs(links: object, mask: np.ndarray) -> np.ndarray:
        f, t = links.from_node[mask], links.to_node[mask]
        return np.stack([np.column_stack([x[f], y[f]]), np.column_stack([x[t], y[t]])], axis=1)

    ax.add_collection(LineCollection(segs(net.walk, slice(None)), colors="0.8",
                                     linewidths=0.4, label=lab("walk")))
    base = np.array([str(h).removesuffix("_link") for h in net.drive_highway])
    for cls in sorted(set(base), key=lambda c: _ROAD_WIDTH.get(c, 0.6)):
        ax.add_collection(LineCollection(segs(net.drive, base == cls), colors="0.25",
                                         linewidths=_ROAD_WIDTH.get(cls, 0.6), label=cls))
    for places, fmt in ((net.shelters, "shelter"), (net.facilities, "facility")):
        for kind in np.unique(places.kind):
            m = places.kind == kind
            colour = "tab:green" if fmt == "shelter" else _COLOURS.get(str(kind), "0.5")
            ax.scatter(places.x_m[m], places.y_m[m], marker=_MARKERS.get(str(kind), "o"),
                       s=44, c=colour, edgecolors="k", linewidths=0.4, zorder=3,
                       label=lab(fmt, kind=kind))
    x0, x1, y0, y1 = robust_extent(x, y)  # the bulk of the network, not one stray road
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    decorate_map(ax, origin_xy=(x0, y0), lang=shown, font=font)
    ax.set_title(lab("title", name=net.name), **font)
    prop = font["fontproperties"].copy() if font else None
    if prop is not None:
        prop.set_size(7)
    # Outside the map, so it hides no part of the town.
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=7,
              framealpha=0.8, prop=prop)
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png)
    return out_png
