"""Finding a font that can draw Chinese, for every figure evacsim makes.

Kept in ``sim`` so that both the map plot (``sim.network``) and the run figures
(``analysis``) use one look-up. ``.ci/run`` installs Debian's ``fonts-noto-cjk``; on another
machine install it (or any font listed below), or Chinese labels fall back to English with
one warning per process.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

# Family names and file-name stems of common CJK fonts, most preferred first.
_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK", "Source Han Sans SC", "Source Han Sans",
                 "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans SC", "SimHei",
                 "Microsoft YaHei", "PingFang SC", "Droid Sans Fallback", "AR PL UMing CN")
_CJK_FILE_STEMS = ("notosanscjk", "sourcehansans", "wqy-zenhei", "wqy-microhei",
                   "notosanssc", "simhei", "msyh", "pingfang", "droidsansfallback",
                   "notoserifcjk", "uming")


@functools.cache
def cjk_font_path() -> str | None:
    """Path of an installed font that can draw Chinese, or ``None`` (looked up once).

    Searches matplotlib's font list by family name, then the system font folders by file
    name (fonts installed after matplotlib built its cache are found this way).
    """
    from matplotlib import font_manager

    def regular_first(path: str) -> tuple[bool, bool, str]:
        name = Path(path).name.lower()
        return ("regular" not in name, "bold" in name or "light" in name, path)

    entries = sorted(font_manager.fontManager.ttflist, key=lambda f: regular_first(f.fname))
    for family in _CJK_FAMILIES:
        for entry in entries:
            if entry.name.startswith(family):
                return entry.fname
    files = sorted(font_manager.findSystemFonts(), key=regular_first)
    for stem in _CJK_FILE_STEMS:
        for path in files:
            if Path(path).name.lower().replace("_", "").startswith(stem):
                return path
    return None


@functools.cache
def warn_no_cjk_font() -> None:
    """Say once per process that Chinese labels fall back to English."""
    logger.warning("no CJK font found (install e.g. fonts-noto-cjk); "
                   "figure labels fall back to English")


def font_for(lang: str, font_path: str | None) -> tuple[str, dict]:
    """Language the labels can be drawn in, and text keyword arguments for its font.

    Parameters
    ----------
    lang : {"en", "zh"}
        Language asked for.
    font_path : str or None
        A CJK font file (:func:`cjk_font_path`), or None when there is none.

    Returns
    -------
    tuple of (str, dict)
        ``("en", {})`` for English or when Chinese cannot be drawn (warned once), else
        ``(lang, {"fontproperties": FontProperties})``.
    """
    if lang == "en":
        return "en", {}
    if font_path is None:
        warn_no_cjk_font()
        return "en", {}
    from matplotlib.font_manager import FontProperties

    return lang, {"fontproperties": FontProperties(fname=font_path)}
