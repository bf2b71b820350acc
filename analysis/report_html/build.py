"""Build the HTML report of one run, or of two runs side by side.

Reads the run folder only (``metrics.json``, the tables, ``traffic/link_loads.npz``, the
hazard and response files, ``manifest.json``), after :func:`analysis.runfolder.check_run_folder`.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from pathlib import Path
from typing import Literal

import numpy as np

from analysis.report_html.page import PAGE, esc, img, table
from sim._errors import RunFolderError
from sim.i18n import check_lang, t

__all__ = ["render_report", "write_report"]


class _Run:
    """What the report needs of one run folder, read once."""

    def __init__(self, run_dir: Path) -> None:
        from analysis.evacuation import _loads
        from analysis.runfolder import check_run_folder
        from analysis.tables import _households, read_table

        self.dir = Path(run_dir)
        self.manifest = check_run_folder(self.dir)
        try:
            self.metrics = json.loads((self.dir / "metrics.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise RunFolderError(f"{self.dir / 'metrics.json'}: not valid JSON ({err})") from None
        self.hh = _households(self.dir)
        self.links = read_table(self.dir, "links")
        self.loads = _loads(read_table(self.dir, "shelters"), self.hh)

    @property
    def name(self) -> str:
        spec = self.manifest.get("scenario", {}).get("spec", {})
        return str(spec.get("scenario", {}).get("title") or spec.get("scenario", {}).get("name")
                   or self.dir.name)


# ----------------------------------------------------------------------------- formatting
def _num(v: object, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int) or digits == 0:
        return f"{round(float(v)):,}"
    return f"{float(v):,.{digits}f}"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100.0 * share:.1f} %"


def _min(entry: dict | None, lang: str) -> str:
    if not entry or entry.get("t_min") is None:
        return t("seeit.not_reached", lang)
    return f"{entry['t_min']:.1f}"


def _met(ok: bool | None, lang: str) -> tuple[str]:
    if ok is None:
        return (f'<span class="muted">{esc(t("seeit.na", lang))}</span>',)
    cls, key = ("met", "seeit.met") if ok else ("missed", "seeit.missed")
    return (f'<span class="{cls}">{esc(t(key, lang))}</span>',)


# ----------------------------------------------------------------------------- targets
def _targets(run: _Run, lang: str) -> list[dict]:
    """Rows: target, value, required, met (None = cannot be judged)."""
    m = run.metrics
    resp = m.get("hazards", {}).get("response")
    tg = resp["targets"] if resp else {}
    coverage = float(tg.get("warning_coverage", m["warning"]["target_share"]))
    share = m["warning"]["share"]
    rows = [{"key": "warning", "value": _pct(share), "target": "≥ " + _pct(coverage),
             "met": None if share is None else share >= coverage - 1e-12}]
    ete90 = m["ete"]["all"][str(m["ete"]["decision_pct"])]
    horizon_h = (m.get("horizon_s") or 0) / 3600.0
    rows.append({"key": "ete90", "value": _min(ete90, lang) + " min",
                 "target": t("seeit.target.within_horizon", lang, hours=horizon_h),
                 "met": bool(ete90["reached"])})
    sh = m["shelters"]
    rows.append({"key": "shelter_capacity", "value": _num(sh["overflow_total"]),
                 "target": "0", "met": sh["overflow_total"] == 0})
    if resp:
        inc, rel = resp["incidents"], resp["relief"]
        rows.append({"key": "response",
                     "value": _pct(inc["within_target_share"]),
                     "target": t("seeit.target.all_within_min", lang,
                                 minutes=float(tg.get("response_min", 30.0))),
                     "met": None if inc["within_target_share"] is None
                     else inc["within_target_share"] >= 1.0 - 1e-12})
        rows.append({"key": "relief", "value": _pct(rel["within_target_share"]),
                     "target": t("seeit.target.all_within_h", lang,
                                 hours=float(tg.get("relief_h", 10.0))),
                     "met": None if rel["within_target_share"] is None
                     else rel["within_target_share"] >= 1.0 - 1e-12})
    return rows


def _targets_html(run: _Run, lang: str) -> str:
    rows = [(t(f"seeit.target.{r['key']}", lang), r["value"], r["target"], _met(r["met"], lang))
            for r in _targets(run, lang)]
    return table([t("seeit.col.target", lang), t("seeit.col.value", lang),
                  t("seeit.col.required", lang), t("seeit.col.status", lang)], rows,
                 cls="targets")


# ----------------------------------------------------------------------------- sections
def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def _ete_html(run: _Run, lang: str) -> str:
    from analysis.figures import plot_arrivals
    from analysis.report_html.figures import png_of

    m = run.metrics
    pcts = ("50", "90", "95", "100")
    rows = [(t(f"seeit.group.{g}", lang), _num(m["evacuees"]["persons"] if g == "all" else
                                              m["evacuees"]["by_mode"].get(g, 0)),
             *(_min(m["ete"][g][p], lang) for p in pcts)) for g in ("all", "car", "walk")]
    head = [t("seeit.col.group", lang), t("seeit.col.evacuees", lang),
            *(t("seeit.col.ete_pct", lang, pct=p) for p in pcts)]
    facts = t("seeit.evac.facts", lang, persons=_num(m["population"]["persons"]),
              households=_num(m["population"]["households"]),
              evacuees=_num(m["evacuees"]["persons"]), arrived=_num(m["evacuees"]["arrived"]),
              share=_pct(m["evacuees"]["arrived_share"]))
    return (f"<p>{esc(facts)}</p>" + table(head, rows, numeric=range(1, 6))
            + img(png_of(plot_arrivals, run.dir, lang=lang), t("seeit.cap.arrivals", lang)))


def _areas_html(run: _Run, lang: str) -> str:
    from analysis.areas import area_table
    from analysis.report_html.figures import plot_area_ete, png_of

    areas = area_table(run.hh)
    by = run.metrics.get("areas", {}).get("by_zone", {})
    causes = ("not_warned", "staying", "stranded", "en_route", "waiting", "warned", "dead")
    rows = []
    for r in areas.to_dict("records"):
        ns = ", ".join(f"{t(f'status.{c}', lang)} {_num(r[f'ns_{c}'])}" for c in causes
                       if r[f"ns_{c}"]) or t("seeit.none", lang)
        rel = by.get(r["zone"], {}).get("relief")
        rows.append((r["zone"], _num(r["persons"]), _num(r["evacuees"]), _num(r["arrived"]),
                     *(t("seeit.not_reached", lang) if np.isnan(r[f"ete_{p}_s"])
                       else f"{r[f'ete_{p}_s'] / 60.0:.1f}" for p in (50, 90, 100)),
                     _num(r["not_sheltered"]), ns,
                     *([_pct(rel["within_target_share"])] if rel else [])))
    head = [t("seeit.col.area", lang), t("seeit.col.persons", lang),
            t("seeit.col.evacuees", lang), t("seeit.col.arrived", lang),
            *(t("seeit.col.ete_pct", lang, pct=p) for p in (50, 90, 100)),
            t("seeit.col.not_sheltered", lang), t("seeit.col.causes", lang)]
    if rows and len(rows[0]) > len(head):
        head.append(t("seeit.col.relief_share", lang))
    total = int(areas["persons"].sum())
    note = t("seeit.areas.note", lang, total=_num(total))
    fig = png_of(plot_area_ete, run.dir, lang=lang, hh=run.hh, areas=areas)
    return (f'<p class="muted">{esc(note)}</p>' + table(head, rows, numeric=range(1, 8))
            + img(fig, t("seeit.cap.area", lang)))


def _shelters_html(run: _Run, lang: str) -> str:
    from analysis.figures import plot_congestion_map
    from analysis.report_html.figures import plot_shelter_loads, png_of

    lo = run.loads.sort_values("peak_occupancy", ascending=False, kind="stable")
    has_src = "sources" in lo.columns
    rows = [(r["name"], t(f"seeit.kind.{r['kind']}", lang) if r["kind"] in _KINDS else r["kind"],
             _num(r["capacity"]), _num(r["peak_occupancy"]), _pct(r["utilisation"]
                                                                  if np.isfinite(r["utilisation"])
                                                                  else None),
             "–" if not np.isfinite(r["t_full_s"]) else f"{r['t_full_s'] / 60.0:.0f}",
             _num(r["turned_away"]), *([r["sources"]] if has_src else []))
            for r in lo.to_dict("records")]
    head = [t("seeit.col.shelter", lang), t("seeit.col.kind", lang),
            t("seeit.col.capacity", lang), t("seeit.col.peak", lang), t("seeit.col.util", lang),
            t("seeit.col.full_min", lang), t("seeit.col.turned_away", lang),
            *([t("seeit.col.sources", lang)] if has_src else [])]
    sh = run.metrics["shelters"]
    facts = t("seeit.shelters.facts", lang, count=sh["count"], full=len(sh["full"]),
              capacity=_num(sh["capacity"]), util=_pct(sh["utilisation"]),
              overflow=_num(sh["overflow_total"]), turned=_num(sh["turned_away"]))
    return (f"<p>{esc(facts)}</p>"
            + img(png_of(plot_shelter_loads, run.dir, lang=lang, loads=run.loads),
                  t("seeit.cap.shelters", lang))
            + table(head, rows, numeric=(2, 3, 4, 5, 6))
            + img(png_of(plot_congestion_map, run.dir, lang=lang), t("seeit.cap.map", lang)))


_KINDS = ("park", "square", "school", "stadium", "sports_centre", "other")


def _traffic_html(run: _Run, lang: str) -> str:
    from analysis.linkloads import link_delay_veh_h, read_link_loads
    from analysis.report_html.figures import plot_bottlenecks, png_of

    tr = run.metrics.get("traffic")
    if not tr:
        return f"<p>{esc(t('seeit.traffic.none', lang))}</p>"
    rows = [(i, b["link"], b["highway"], _num(b["length_m"]), _num(b["storage"]),
             _num(b["delay_veh_h"], 1), _num(b["peak_queue"]),
             f"{b['t_peak_queue_s'] / 60.0:.0f}")
            for i, b in enumerate(tr["bottlenecks"], start=1)]
    head = [t("seeit.col.rank", lang), t("seeit.col.link", lang), t("seeit.col.highway", lang),
            t("seeit.col.length_m", lang), t("seeit.col.storage", lang),
            t("seeit.col.delay_veh_h", lang), t("seeit.col.peak_queue", lang),
            t("seeit.col.t_peak_min", lang)]
    delay = link_delay_veh_h(read_link_loads(run.dir))
    fig = png_of(plot_bottlenecks, run.dir, lang=lang, links=run.links, delay_veh_h=delay,
                 top=tr["bottlenecks"])
    note = t("seeit.traffic.note", lang, total=_num(tr["delay_veh_h"], 1),
             sample_s=_num(tr["sample_s"]))
    return (f'<p>{esc(note)}</p>' + table(head, rows, numeric=range(0, 8))
            + img(fig, t("seeit.cap.bottlenecks", lang)))


def _hazards_html(run: _Run, lang: str) -> str:
    from analysis.report import _hazard_lines
    from analysis.report_html.figures import png_of

    hz = {k: v for k, v in run.metrics.get("hazards", {}).items() if k != "response"}
    parts = []
    for kind, m in hz.items():
        lines = _hazard_lines({kind: m}, lang)
        figs = []
        if kind == "flood":
            from analysis.flood import plot_flood_peak

            figs = [plot_flood_peak]
        elif kind == "chemical":
            from analysis.chemical import plot_receptor, plot_threat_zones

            figs = [plot_threat_zones, plot_receptor]
        elif kind == "earthquake":
            from analysis.earthquake import plot_pga_map

            figs = [plot_pga_map]
        parts.append(f"<h3>{esc(t(f'seeit.hazard.{kind}', lang))}</h3>"
                     + "".join(f"<p>{esc(line)}</p>" for line in lines)
                     + "".join(img(png_of(f, run.dir, lang=lang),
                                   t(f"seeit.hazard.{kind}", lang)) for f in figs))
    return "".join(parts)


def _response_html(run: _Run, lang: str) -> str:
    from analysis.report_html.figures import png_of
    from analysis.response import plot_incident_timeline, plot_relief_curve

    resp = run.metrics.get("hazards", {}).get("response")
    if not resp:
        return f"<p>{esc(t('seeit.response.none', lang))}</p>"
    inc, rel, tg = resp["incidents"], resp["relief"], resp["targets"]

    def minutes(v):
        return t("seeit.not_reached", lang) if v is None else f"{v / 60.0:.1f}"

    inc_rows = [(t("seeit.response.count", lang), _num(inc["count"])),
                (t("seeit.response.persons", lang), _num(inc["persons"])),
                (t("seeit.response.reached", lang), _num(inc["reached"])),
                (t("seeit.response.served", lang), _num(inc["served"])),
                *((t("seeit.response.p", lang, pct=p), minutes(inc[f"response_p{p}_s"]))
                  for p in (50, 90, 95)),
                (t("seeit.response.within", lang, minutes=float(tg.get("response_min", 30.0))),
                 _pct(inc["within_target_share"]))]
    rel_rows = [(t("seeit.relief.affected", lang), _num(rel["affected_persons"])),
                (t("seeit.relief.relieved", lang), _num(rel["relieved_persons"])),
                (t("seeit.relief.within", lang, hours=float(tg.get("relief_h", 10.0))),
                 f"{_num(rel['within_target_persons'])} ({_pct(rel['within_target_share'])})"),
                (t("seeit.relief.never", lang), _num(rel["never_relieved_persons"]))]
    causes = [(t(f"seeit.cause.{c}", lang), _num(v, 0))
              for c, v in rel["delay_person_h"].items()]
    two = [t("seeit.col.item", lang), t("seeit.col.value", lang)]
    return (f"<h3>{esc(t('seeit.response.incidents', lang))}</h3>"
            + table(two, inc_rows, numeric=(1,))
            + img(png_of(plot_incident_timeline, run.dir, lang=lang),
                  t("seeit.cap.incidents", lang))
            + f"<h3>{esc(t('seeit.response.relief', lang))}</h3>" + table(two, rel_rows,
                                                                          numeric=(1,))
            + img(png_of(plot_relief_curve, run.dir, lang=lang), t("seeit.cap.relief", lang))
            + f"<h3>{esc(t('seeit.response.causes', lang))}</h3>"
            + table([t("seeit.col.cause", lang), t("seeit.col.person_h", lang)], causes,
                    numeric=(1,)))


def _assumptions_html(run: _Run, lang: str) -> str:
    from analysis.report_html.assumptions import README, assumption_rows, plan_rows

    spec = run.manifest.get("scenario", {}).get("spec", {})
    rows = assumption_rows(spec)
    if not any(r["source"] for r in rows):
        return f"<p>{esc(t('seeit.assumptions.no_readme', lang, path=README))}</p>"
    body = [(r["field"], json.dumps(r["value"], ensure_ascii=False, default=str),
             r["source"] or t("seeit.assumptions.undocumented", lang),
             t("seeit.yes", lang) if r["assumption"] else "") for r in rows]
    n = sum(r["assumption"] for r in rows)
    note = t("seeit.assumptions.note", lang, n=n, total=len(rows))
    head = [t("seeit.col.field", lang), t("seeit.col.value", lang),
            t("seeit.col.source", lang), t("seeit.col.assumption", lang)]
    out = (f'<p class="muted">{esc(note)}</p>'
           + table(head, body, row_class=["assumption" if r["assumption"] else ""
                                          for r in rows]))
    status, prow = plan_rows(run.manifest)
    if status == "none":
        return out
    out += f"<h3>{esc(t('seeit.assumptions.plan_title', lang))}</h3>"
    if status != "ok":
        text = t(f"seeit.assumptions.plan_{status}", lang,
                 path=run.manifest["plan"].get("path", ""))
        return out + f"<p>{esc(text)}</p>"
    pbody = [(r["field"], json.dumps(r["value"], ensure_ascii=False, default=str),
              r["source"] or t("seeit.assumptions.undocumented", lang),
              t("seeit.yes", lang) if r["assumption"] else "") for r in prow]
    return out + table(head, pbody, row_class=["assumption" if r["assumption"] else ""
                                               for r in prow])


def _inputs_html(run: _Run, lang: str) -> str:
    m = run.manifest
    rows = [(t("seeit.inputs.scenario", lang), m["scenario"].get("path", ""),
             (f"<code>{esc(m['scenario'].get('sha256', ''))}</code>",)),
            (t("seeit.inputs.map", lang), m["map"].get("path", ""),
             (f"<code>{esc(m['map'].get('sha256', ''))}</code>",))]
    if "plan" in m:
        rows.append((t("seeit.inputs.plan", lang), m["plan"].get("path", ""),
                     (f"<code>{esc(m['plan'].get('sha256', ''))}</code>",)))
    rows += [(t("seeit.inputs.file", lang), f, (f"<code>{esc(h)}</code>",))
             for f, h in sorted(m.get("tables", {}).items())]
    facts = t("seeit.inputs.facts", lang, seed=m.get("seed"), version=m.get("evacsim_version"),
              format=m.get("format_version"), crs=m["map"].get("crs", ""),
              command=m.get("command", ""))
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())
    return (f"<p>{esc(facts)}</p><p class=\"muted\">{esc(versions)}</p>"
            + table([t("seeit.col.input", lang), t("seeit.col.path", lang), "sha256"], rows))


# ----------------------------------------------------------------------------- compare
def _diff(a: float | None, b: float | None, digits: int = 1, scale: float = 1.0) -> str:
    if a is None or b is None:
        return "–"
    d = (b - a) * scale
    return f"{d:+,.{digits}f}"


def _compare_html(a: _Run, b: _Run, lang: str) -> str:
    from analysis.figures import plot_arrivals
    from analysis.report_html.figures import png_of

    ma, mb = a.metrics, b.metrics
    head = [t("seeit.col.item", lang), "A", "B", t("seeit.col.diff", lang)]
    rows = []

    def add(label, va, vb, fmt=_num, digits=0, scale=1.0):
        rows.append((label, fmt(va) if va is not None else "–",
                     fmt(vb) if vb is not None else "–", _diff(va, vb, digits, scale)))

    add(t("seeit.cmp.persons", lang), ma["population"]["persons"], mb["population"]["persons"])
    add(t("seeit.cmp.warned", lang), ma["warning"]["share"], mb["warning"]["share"], _pct, 1,
        100.0)
    add(t("seeit.cmp.evacuees", lang), ma["evacuees"]["persons"], mb["evacuees"]["persons"])
    add(t("seeit.cmp.arrived", lang), ma["evacuees"]["arrived"], mb["evacuees"]["arrived"])
    for p in ("50", "90", "100"):
        rows.append((t("seeit.col.ete_pct", lang, pct=p), _min(ma["ete"]["all"][p], lang),
                     _min(mb["ete"]["all"][p], lang),
                     _diff(ma["ete"]["all"][p]["t_min"], mb["ete"]["all"][p]["t_min"])))
    add(t("seeit.cmp.not_sheltered", lang), ma["not_sheltered"]["persons"],
        mb["not_sheltered"]["persons"])
    add(t("seeit.cmp.overflow", lang), ma["shelters"]["overflow_total"],
        mb["shelters"]["overflow_total"])
    add(t("seeit.cmp.delay", lang), (ma.get("traffic") or {}).get("delay_veh_h"),
        (mb.get("traffic") or {}).get("delay_veh_h"), lambda v: _num(v, 1), 1)
    ra = ma.get("hazards", {}).get("response")
    rb = mb.get("hazards", {}).get("response")
    if ra or rb:
        add(t("seeit.target.response", lang),
            ra and ra["incidents"]["within_target_share"],
            rb and rb["incidents"]["within_target_share"], _pct, 1, 100.0)
        add(t("seeit.target.relief", lang), ra and ra["relief"]["within_target_share"],
            rb and rb["relief"]["within_target_share"], _pct, 1, 100.0)
    ta = {r["key"]: r for r in _targets(a, lang)}
    tb = {r["key"]: r for r in _targets(b, lang)}
    trow = [(t(f"seeit.target.{k}", lang), ta[k]["value"] if k in ta else "–",
             _met(ta[k]["met"], lang) if k in ta else "–",
             tb[k]["value"] if k in tb else "–", _met(tb[k]["met"], lang) if k in tb else "–")
            for k in dict.fromkeys([*ta, *tb])]
    za = ma.get("areas", {}).get("by_zone", {})
    zb = mb.get("areas", {}).get("by_zone", {})
    zrows = [(z, _min(za.get(z, {}).get("ete", {}).get("90"), lang),
              _min(zb.get(z, {}).get("ete", {}).get("90"), lang),
              _diff(za.get(z, {}).get("ete", {}).get("90", {}).get("t_min"),
                    zb.get(z, {}).get("ete", {}).get("90", {}).get("t_min")))
             for z in dict.fromkeys([*za, *zb])]
    runs = table([t("seeit.col.run", lang), t("seeit.col.path", lang)],
                 [("A", f"{a.name} — {a.dir}"), ("B", f"{b.name} — {b.dir}")])
    pair = ('<div class="pair">'
            + img(png_of(plot_arrivals, a.dir, lang=lang), "A", "A: " + a.name)
            + img(png_of(plot_arrivals, b.dir, lang=lang), "B", "B: " + b.name) + "</div>")
    return (runs + f"<h3>{esc(t('seeit.cmp.targets', lang))}</h3>"
            + table([t("seeit.col.target", lang), "A", "", "B", ""], trow, cls="targets")
            + f"<h3>{esc(t('seeit.cmp.headline', lang))}</h3>"
            + table(head, rows, numeric=(1, 2, 3))
            + f"<h3>{esc(t('seeit.cmp.areas', lang))}</h3>"
            + table([t("seeit.col.area", lang), "A", "B", t("seeit.col.diff", lang)], zrows,
                    numeric=(1, 2, 3))
            + pair)


# ----------------------------------------------------------------------------- page
def render_report(run_dir: str | Path, *, compare: str | Path | None = None,
                  lang: Literal["en", "zh"] = "en") -> str:
    """The report of ``run_dir`` (and, with ``compare``, of two runs) as one HTML string.

    Parameters
    ----------
    run_dir : str or Path
        A finished run folder (checked by :func:`analysis.runfolder.check_run_folder`).
    compare : str or Path, optional
        A second run folder: a comparison section (A = ``run_dir``, B = ``compare``, B − A)
        comes first, the full report of A follows.
    lang : {"en", "zh"}, default "en"
        Language of the text and the figure labels.

    Returns
    -------
    str
        A self-contained HTML page (figures inline as base64 PNG, no script, no network).
    """
    check_lang(lang)
    run = _Run(Path(run_dir))
    other = _Run(Path(compare)) if compare is not None else None
    sections = []
    if other is not None:
        sections.append(_section(t("seeit.sec.compare", lang), _compare_html(run, other, lang),
                                 "compare"))
    sections += [
        _section(t("seeit.sec.targets", lang), _targets_html(run, lang), "targets"),
        _section(t("seeit.sec.ete", lang), _ete_html(run, lang), "ete"),
        _section(t("seeit.sec.areas", lang), _areas_html(run, lang), "areas"),
        _section(t("seeit.sec.shelters", lang), _shelters_html(run, lang), "shelters"),
        _section(t("seeit.sec.traffic", lang), _traffic_html(run, lang), "traffic"),
    ]
    hz = _hazards_html(run, lang)
    if hz:
        sections.append(_section(t("seeit.sec.hazards", lang), hz, "hazards"))
    sections += [
        _section(t("seeit.sec.response", lang), _response_html(run, lang), "response"),
        _section(t("seeit.sec.assumptions", lang), _assumptions_html(run, lang), "assumptions"),
        _section(t("seeit.sec.inputs", lang), _inputs_html(run, lang), "inputs"),
    ]
    title = t("seeit.title", lang, name=run.name)
    subtitle = t("seeit.subtitle", lang, path=run.dir, seed=run.manifest.get("seed"),
                 created=run.manifest.get("created_utc", "–"))
    body = (f"<header><h1>{esc(title)}</h1><p class=\"muted\">{esc(subtitle)}</p></header>"
            + "".join(sections))
    return PAGE.substitute(lang="zh-CN" if lang == "zh" else "en", title=esc(title), body=body)


def write_report(run_dir: str | Path, out: str | Path | None = None, *,
                 compare: str | Path | None = None, lang: Literal["en", "zh"] = "en",
                 force: bool = False) -> Path:
    """Write the report of :func:`render_report` to ``out`` (default ``<run_dir>/report.html``).

    The file is written to a hidden sibling first and renamed into place; an existing
    ``out`` is replaced only with ``force``.

    Raises
    ------
    RunFolderError
        A run folder fails its check, or ``out`` exists without ``force``.
    """
    out = Path(out) if out is not None else Path(run_dir) / "report.html"
    if out.exists() and not force:
        raise RunFolderError(f"{out}: exists; expected a new file (use --force to replace it)")
    text = render_report(run_dir, compare=compare, lang=lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
