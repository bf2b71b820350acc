"""The package's documents: situation manual (HTML) and evaluation guide (XLSX, HTML).

HTML files are self-contained (styles inline, maps as base64 PNG) so they can be mailed
or printed as they are.
"""

from __future__ import annotations

import base64
import html

from analysis.drill.inject import OBJECTIVES
from analysis.drill.msel import PHASES, Row, objective_label
from analysis.drill.objectives import Objective
from analysis.drill.settings import Timing, fmt_clock, fmt_scenario
from analysis.drill.tables import xlsx_bytes
from sim.i18n import t

_CSS = ("body{font-family:'Noto Sans CJK SC','Noto Sans',Arial,sans-serif;max-width:60em;"
        "margin:2em auto;line-height:1.45;color:#222}table{border-collapse:collapse;width:100%;"
        "font-size:90%}td,th{border:1px solid #bbb;padding:.3em .5em;vertical-align:top;"
        "text-align:left}th{background:#eee}figure{margin:1em 0}img{max-width:100%}"
        ".c{color:#a00}")


def _e(text: object) -> str:
    return html.escape(str(text))


def _page(title: str, body: list[str], lang: str) -> bytes:
    head = (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{_e(title)}</title><style>{_CSS}</style></head>'
            f"<body>\n<h1>{_e(title)}</h1>\n")
    return (head + "\n".join(body) + "\n</body></html>\n").encode("utf-8")


def _table(header: list[str], rows: list[list[object]], classes: list[str] | None = None
           ) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>")
    return "\n".join(out) + "</table>"


def situation_manual(*, lang: str, title: str, exercise_type: str, scenario_name: str,
                     timing: Timing, bounds: list[float], phase_counts: list[dict],
                     objectives: list[Objective], roles: tuple[str, ...], rows: list[Row],
                     maps: list[bytes], variant_labels: dict[str, str], run_ref: str) -> bytes:
    """The situation manual as self-contained HTML bytes."""
    ends = [*bounds[1:], timing.window_s]
    b = [f"<h2>{_e(t('drill.manual.overview', lang))}</h2>",
         "<p>" + _e(t("drill.manual.overview_text", lang,
                      type=t(f"drill.type.{exercise_type}", lang), hours=timing.duration_h,
                      scenario=scenario_name, window=fmt_scenario(timing.window_s),
                      compression=round(timing.compression, 3),
                      start=fmt_clock(timing.start_s))) + "</p>",
         "<p>" + _e(t("drill.manual.msel_note", lang, n=len(rows))) + "</p>",
         f"<h2>{_e(t('drill.manual.objectives', lang))}</h2>",
         _table([t("drill.guide.objective", lang), t("drill.guide.target", lang),
                 t("drill.guide.reference", lang)],
                [[objective_label(o.id, lang), o.target_text, o.reference_text]
                 for o in objectives]),
         f"<h2>{_e(t('drill.manual.narrative', lang))}</h2>"]
    for k, phase in enumerate(PHASES):
        b.append(f"<h3>{k + 1}. {_e(t(f'drill.phase.{phase}', lang))}</h3>")
        b.append("<p>" + _e(t("drill.manual.phase_span", lang, t0=fmt_scenario(bounds[k]),
                                t1=fmt_scenario(ends[k]),
                                c0=fmt_clock(timing.clock_s(bounds[k])),
                                c1=fmt_clock(timing.clock_s(ends[k])))) + " "
                 + _e(t("drill.manual.phase_counts", lang, **phase_counts[k])) + "</p>")
        items = [r for r in rows if bounds[k] <= r.inject.t_s < ends[k]
                 or (k == len(PHASES) - 1 and r.inject.t_s == ends[k])]
        if items:
            b.append("<ul>" + "".join(
                f"<li>{_e(r.values['exercise_clock'])} — {_e(r.values['message'])}</li>"
                for r in items if not r.inject.contingency) + "</ul>")
    b.append(f"<h2>{_e(t('drill.manual.maps', lang))}</h2>")
    b.append("<p>" + _e(t("drill.manual.congestion_note", lang)) + "</p>")
    for k, png in enumerate(maps):
        data = base64.b64encode(png).decode("ascii")
        cap = t("drill.manual.map_caption", lang, phase=k + 1, t=fmt_scenario(bounds[k]))
        b.append(f'<figure><img alt="{_e(cap)}" src="data:image/png;base64,{data}">'
                 f"<figcaption>{_e(cap)}</figcaption></figure>")
    b.append(f"<h2>{_e(t('drill.manual.roles', lang))}</h2>")
    b.append("<ul>" + "".join(f"<li>{_e(t(f'drill.role.{r}', lang))}</li>" for r in roles)
             + "</ul>")
    b.append(f"<h2>{_e(t('drill.manual.logistics', lang))}</h2>")
    b.append("<p>" + _e(t(f"drill.manual.logistics_{exercise_type}", lang)) + "</p>")
    if variant_labels:
        b.append(f"<h2>{_e(t('drill.manual.variants', lang))}</h2><ul>")
        b += [f"<li>{_e(t('drill.manual.variant_text', lang, label=lab))}</li>"
              for lab in variant_labels.values()]
        b.append("</ul>")
    b.append(f"<h2>{_e(t('drill.manual.run', lang))}</h2><p><code>{_e(run_ref)}</code></p>")
    return _page(f"{t('drill.manual.title', lang)}: {title}", b, lang)


GUIDE_KEYS = ("item", "objective", "capability", "tasks", "target", "reference",
              "reference_clock", "allowed_min", "observed", "notes")
"""Columns of ``evaluation-guide.xlsx``: ``item`` is an objective id (``O1``...) or an
inject number; evaluators fill ``observed`` (exercise clock HH:MM) and ``notes``."""


def guide_rows(objectives: list[Objective], rows: list[Row], timing: Timing, lang: str
               ) -> list[list[object]]:
    """Rows of the evaluation guide: one per objective, then one per inject."""
    out: list[list[object]] = []
    for o in objectives:
        tasks = "; ".join(t(f"drill.objective.{o.id}.task{k}", lang) for k in (1, 2, 3))
        out.append([f"O{o.number}", t(f"drill.objective.{o.id}.title", lang),
                    t(f"drill.objective.{o.id}.capability", lang), tasks, o.target_text,
                    o.reference_text,
                    "" if o.ref_s is None else fmt_clock(timing.clock_s(o.ref_s)),
                    round(o.allowed_min, 3), "", ""])
    by_id = {o.id: o for o in objectives}
    for r in rows:
        o = by_id[r.inject.objective]
        out.append([r.no, f"O{o.number} {t(f'drill.objective.{o.id}.title', lang)}",
                    t(f"drill.objective.{o.id}.capability", lang),
                    r.values["expected_action"], o.target_text, r.values["message"],
                    r.values["exercise_clock"], round(o.allowed_min, 3), "", ""])
    return out


def guide_header(lang: str) -> list[str]:
    """Localised titles of :data:`GUIDE_KEYS`."""
    names = {"item": "drill.guide.injects", "objective": "drill.guide.objective",
             "capability": "drill.guide.capability", "tasks": "drill.guide.tasks",
             "target": "drill.guide.target", "reference": "drill.guide.reference",
             "reference_clock": "drill.guide.reference_clock",
             "allowed_min": "drill.eval.allowed", "observed": "drill.guide.observed",
             "notes": "drill.guide.notes"}
    return [t(names[k], lang) for k in GUIDE_KEYS]


def evaluation_guide(objectives: list[Objective], rows: list[Row], timing: Timing, *,
                     lang: str, title: str) -> tuple[bytes, bytes]:
    """``evaluation-guide.xlsx`` and ``.html`` bytes."""
    body = guide_rows(objectives, rows, timing, lang)
    head = guide_header(lang)
    xlsx = xlsx_bytes([(t("drill.guide.title", lang), head, body)],
                      widths={0: 8, 1: 24, 2: 24, 3: 40, 4: 28, 5: 48, 6: 12, 7: 10, 8: 14,
                              9: 30})
    page = _page(f"{t('drill.guide.title', lang)}: {title}",
                 [f"<p>{_e(t('drill.guide.intro', lang))}</p>", _table(head, body)], lang)
    return xlsx, page


def objective_ids() -> list[str]:
    """``["O1", ..., "O5"]``."""
    return [f"O{k}" for k in range(1, len(OBJECTIVES) + 1)]
