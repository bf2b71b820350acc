"""The HTML skeleton of the report: one self-contained page, no network, print-ready.

Everything variable goes through :func:`esc` (``html.escape``) or :func:`img` (base64 PNG);
the page itself is a :class:`string.Template` with only ``$lang``, ``$title`` and
``$body``. No script, no external stylesheet or font: the file opens the same offline,
from an e-mail attachment or a USB stick.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from string import Template

__all__ = ["PAGE", "esc", "img", "table"]

CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
       "PingFang SC", system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 2px solid #345; padding-bottom: 0.15em;
     margin-top: 1.8em; }
h3 { font-size: 1.05em; margin-top: 1.2em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.88em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left;
         vertical-align: top; }
th { background: #eef1f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.met { color: #116611; font-weight: bold; }
.missed { color: #b00000; font-weight: bold; }
.muted { color: #666; font-size: 0.9em; }
.assumption { background: #fff6dd; }
figure { margin: 0.8em 0; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
.pair { display: flex; gap: 1em; }
.pair > figure { flex: 1; }
code { font-size: 0.85em; word-break: break-all; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { page-break-after: avoid; break-after: avoid; }
  table, figure { page-break-inside: avoid; break-inside: avoid; }
  .noprint { display: none; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4; margin: 15mm; }
"""

PAGE = Template("""<!DOCTYPE html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>""" + CSS + """</style>
</head>
<body>
$body
</body>
</html>
""")


def esc(value: object) -> str:
    """Text of ``value``, HTML-escaped (quotes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def img(png: bytes, alt: str, caption: str = "") -> str:
    """A figure with the PNG inlined as a ``data:`` URI."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
            f"{cap}</figure>")


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *,
          numeric: Sequence[int] = (), row_class: Sequence[str] | None = None,
          cls: str = "") -> str:
    """An HTML table; every cell escaped. Cells given as ``("<raw html>",)`` stay raw.

    ``numeric``: column positions aligned right. ``row_class``: a CSS class per row.
    """
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            text = cell[0] if isinstance(cell, tuple) else esc(cell)
            cells.append(f'<td class="num">{text}</td>' if j in numeric else f"<td>{text}</td>")
        rc = f' class="{esc(row_class[i])}"' if row_class and row_class[i] else ""
        body.append(f"<tr{rc}>{''.join(cells)}</tr>")
    c = f' class="{esc(cls)}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
