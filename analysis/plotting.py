"""The set-up every figure shares: a figure on the Agg canvas, fonts, saving.

matplotlib is used through :class:`matplotlib.figure.Figure` and the Agg canvas only: no
pyplot, no global backend switch, no rcParams changes. PNGs are written without the
"Software" metadata so the same run gives the same bytes. Chinese labels need a CJK font
(:mod:`sim.fonts`); without one the labels fall back to English, said once.
"""

from __future__ import annotations

from pathlib import Path

from sim.fonts import cjk_font_path, font_for
from sim.i18n import check_lang

__all__ = ["cjk_font_path"]

_DPI = 120


def _label_lang_and_font(lang: str) -> tuple[str, dict]:
    """Language the labels can be drawn in, and text keyword arguments for its font."""
    check_lang(lang)
    return font_for(lang, cjk_font_path() if lang != "en" else None)


def _new_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, out_png: str | Path) -> Path:
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, format="png", dpi=_DPI, metadata={"Software": None})
    return out_png
