"""What every map figure carries so a planner can read it.

Axes in kilometres from the map's south-west corner (the projected UTM metres the run
works in are unreadable six-digit numbers), a scale bar, a north arrow, the names of the
sub-districts where their people live, colour bars that say when the data run past them,
and a frame around the bulk of the network rather than one stray road.

Every function draws on a matplotlib ``Axes`` it is given and returns nothing it does not
need to: the figure functions in :mod:`analysis.figures`, :mod:`analysis.flood`,
:mod:`analysis.chemical`, :mod:`analysis.earthquake` and the map plot of ``evacsim map
plot`` share them.
"""

from __future__ import annotations

import math

import numpy as np

from sim.i18n import t

__all__ = ["colorbar_extend", "decorate_map", "km_axes", "nice_length_m", "north_arrow",
           "robust_extent", "scale_bar", "zone_labels"]


def nice_length_m(span_m: float) -> float:
    """The longest round scale-bar length (1, 2 or 5 × 10ⁿ m) up to a fifth of ``span_m``.

    Examples
    --------
    >>> nice_length_m(12_000.0), nice_length_m(900.0), nice_length_m(48_000.0)
    (2000.0, 100.0, 5000.0)
    """
    target = max(float(span_m), 1.0) / 5.0
    power = 10.0 ** math.floor(math.log10(target))
    for step in (5.0, 2.0, 1.0):
        if step * power <= target:
            return step * power
    return power


def km_axes(ax, origin_xy: tuple[float, float], lang: str, font: dict) -> None:
    """Label the axes in km east / north of ``origin_xy`` (map metres), equal aspect."""
    from matplotlib.ticker import FuncFormatter

    x0, y0 = (float(v) for v in origin_xy)
    # Ticks on round kilometres from the origin (the UTM grid's round numbers are not).
    for axis, lim, origin in ((ax.xaxis, ax.get_xlim(), x0), (ax.yaxis, ax.get_ylim(), y0)):
        lo, hi = sorted(lim)
        step = nice_length_m(2.0 * (hi - lo))  # 1, 2 or 5 x 10^n m: about 5-10 ticks
        k = np.arange(math.ceil((lo - origin) / step), math.floor((hi - origin) / step) + 1)
        axis.set_ticks(origin + k * step)
        axis.set_major_formatter(FuncFormatter(lambda v, _, o=origin: f"{(v - o) / 1000.0:g}"))
    ax.set_aspect("equal")
    ax.set_xlabel(t("mapstyle.x_km", lang), **font)
    ax.set_ylabel(t("mapstyle.y_km", lang), **font)


def scale_bar(ax, lang: str, font: dict) -> float:
    """Draw a scale bar in the lower left; returns its length in metres."""
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    x_lo, x_hi = ax.get_xlim()
    length = nice_length_m(x_hi - x_lo)
    label = (t("mapstyle.scale_km", lang, km=length / 1000.0) if length >= 1000.0
             else t("mapstyle.scale_m", lang, m=length))
    prop = font["fontproperties"].copy() if font else FontProperties()
    prop.set_size(8)
    bar = AnchoredSizeBar(ax.transData, length, label, "lower left", pad=0.4, borderpad=0.6,
                          sep=3, frameon=True, size_vertical=0, fontproperties=prop)
    bar.patch.set_alpha(0.8)
    ax.add_artist(bar)
    return length


def north_arrow(ax, lang: str, font: dict) -> None:
    """An arrow pointing up with "N" (every map here is drawn north up, in UTM metres)."""
    ax.annotate(t("mapstyle.north", lang), xy=(0.95, 0.97), xytext=(0.95, 0.87),
                xycoords="axes fraction", ha="center", va="center", fontsize=9,
                arrowprops={"arrowstyle": "-|>", "color": "black"}, zorder=10, **font)


def robust_extent(x_m: np.ndarray, y_m: np.ndarray, *, pad_share: float = 0.04,
                  q: float = 0.5) -> tuple[float, float, float, float]:
    """The frame of the bulk of the points: ``q`` to ``100 - q`` percentiles, padded.

    One stray road far out of town should not shrink the town to a corner.

    Examples
    --------
    >>> x = np.r_[np.linspace(0, 1000, 999), 50_000.0]
    >>> [round(v) for v in robust_extent(x, x, q=0.5)]  # the 50 km road is left out
    [-35, 1036, -35, 1036]
    """
    x, y = np.asarray(x_m, np.float64), np.asarray(y_m, np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x0, x1 = np.percentile(x[ok], [q, 100.0 - q])
    y0, y1 = np.percentile(y[ok], [q, 100.0 - q])
    pad = pad_share * max(x1 - x0, y1 - y0, 1.0)
    return float(x0 - pad), float(x1 + pad), float(y0 - pad), float(y1 + pad)


def colorbar_extend(data_max: float, vmax: float) -> str:
    """Say how a colour bar must extend: ``"max"`` (an arrow) when data run past its top.

    ``"neither"`` otherwise.

    Examples
    --------
    >>> colorbar_extend(4.99, 3.2), colorbar_extend(3.0, 3.2)
    ('max', 'neither')
    """
    return "max" if float(data_max) > float(vmax) else "neither"


def zone_labels(ax, households, *, min_persons: int = 1, font: dict | None = None) -> int:
    """Write each zone's (sub-district's) name where its people live (median home).

    ``households`` is the run's households table (``zone``, ``x_m``, ``y_m``,
    ``persons``). Returns the number of names written.
    """
    if households is None or not len(households) or "zone" not in households:
        return 0
    n = 0
    for zone, group in households.groupby("zone", sort=True):
        if not str(zone) or int(group["persons"].sum()) < min_persons:
            continue
        x, y = float(group["x_m"].median()), float(group["y_m"].median())
        ax.text(x, y, str(zone), ha="center", va="center", fontsize=8, color="0.15",
                alpha=0.85, zorder=8,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.6},
                **(font or {}))
        n += 1
    return n


def decorate_map(ax, *, origin_xy: tuple[float, float], lang: str, font: dict) -> None:
    """Km axes, scale bar and north arrow: call after the frame (limits) is set."""
    km_axes(ax, origin_xy, lang, font)
    scale_bar(ax, lang, font)
    north_arrow(ax, lang, font)
