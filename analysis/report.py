"""Short text summaries of a run's metrics, in English or Chinese."""

from __future__ import annotations

from typing import Literal

from analysis.tables import MODES, STATUSES
from sim.i18n import check_lang, t


def _percent(share: float | None, lang: str) -> str:
    return t("report.na", lang) if share is None else t("unit.percent", lang, value=100 * share)


def _minutes(entry: dict, lang: str) -> str:
    if entry.get("t_min") is None:
        return t("report.not_reached", lang)
    return t("unit.minutes", lang, value=entry["t_min"])


def _items(counts: dict[str, int], prefix: str, lang: str) -> str:
    parts = [t("report.item", lang, label=t(f"{prefix}.{key}", lang), value=value)
             for key, value in counts.items() if value]
    return t("report.separator", lang).join(parts) or t("report.none", lang)


HEADLINE_KEYS = ("scenario", "seed", "horizon_s", "population", "warning", "evacuees", "ete",
                 "clearance", "not_sheltered", "dead", "shelters", "hazards")
"""The parts of ``metrics.json`` that ``evacsim run --json`` prints (those a run has)."""


def headline(metrics: dict) -> dict:
    """The headline values of a run: the :data:`HEADLINE_KEYS` entries of ``metrics``.

    Examples
    --------
    >>> headline({"dead": 0, "travel_time": {}, "seed": 1})
    {'seed': 1, 'dead': 0}
    """
    return {k: metrics[k] for k in HEADLINE_KEYS if k in metrics}


def _population_warnings(pop: dict, lang: str) -> list[str]:
    """Warnings of the population report (sim.population_report), one line each."""
    from sim.population_report import warning_text

    return [warning_text(w, lang) for w in pop.get("warnings", [])]


def summary_text(metrics: dict, *, lang: Literal["en", "zh"] = "en") -> str:
    """Summarise a run in a few lines, for the end of ``evacsim run``.

    Parameters
    ----------
    metrics : dict
        What :func:`analysis.metrics.compute_metrics` returns (or ``metrics.json`` holds).
    lang : {"en", "zh"}, default "en"
        Language of the text.

    Returns
    -------
    str
        Title, population and warning coverage, evacuees and arrivals, ETE 50/90/95/100 %
        in minutes ("not reached within the horizon" where so), shelter loads, and the
        persons not sheltered at the end by status; one line each.
    """
    check_lang(lang)
    pop, warn = metrics["population"], metrics["warning"]
    evac, shelters = metrics["evacuees"], metrics["shelters"]
    ete = metrics["ete"]["all"]
    outside = metrics["not_sheltered"]
    lines = [
        t("report.title", lang),
        t("report.population", lang, persons=pop["persons"], households=pop["households"],
          warned=_percent(warn["share"], lang), target=_percent(warn["target_share"], lang),
          met=t("report.yes" if warn["target_met"] else "report.no", lang)),
        *_coverage_noise_lines(warn, lang),
        t("report.evacuees", lang, persons=evac["persons"],
          by_mode=_items({m: evac["by_mode"].get(m, 0) for m in MODES}, "mode", lang),
          arrived=evac["arrived"], arrived_share=_percent(evac["arrived_share"], lang)),
        t("report.ete", lang, **{f"ete{p}": _minutes(ete[str(p)], lang)
                                 for p in (50, 90, 95, 100)}),
        t("report.shelters", lang, full=len(shelters["full"]), count=shelters["count"],
          over=len(shelters["over_capacity"]), overflow=shelters["overflow_total"],
          turned_away=shelters["turned_away"], capacity=shelters["capacity"],
          utilisation=_percent(shelters["utilisation"], lang)),
        *_protected_lines(metrics.get("protected_in_place"), lang),
        t("report.not_sheltered", lang, persons=outside["persons"],
          details=_items({s: outside["by_status"].get(s, 0) for s in STATUSES}, "status",
                         lang)),
        *_population_warnings(pop, lang),
        *_hazard_lines(metrics.get("hazards", {}), lang),
    ]
    return "\n".join(lines)


def _protected_lines(protected: dict | None, lang: str) -> list[str]:
    if not protected or not protected.get("persons"):
        return []
    return [t("report.protected", lang, persons=protected["persons"],
              households=protected["households"])]


def _coverage_noise_lines(warn: dict, lang: str) -> list[str]:
    if not warn.get("shortfall_is_sampling_noise"):
        return []
    return [t("report.coverage_noise", lang, share=_percent(warn["share"], lang),
              gap=f"{100 * (warn['target_share'] - warn['share']):.2f}",
              ci=f"{196 * warn['sampling_se']:.2f}", p=f"{warn['drawn_coverage']:g}")]


def _hazard_lines(hazards: dict, lang: str) -> list[str]:
    """One line per hazard (and the response), in the order the run folder lists them."""
    lines = []
    for kind, m in hazards.items():
        if kind == "flood":
            lines.append(t("report.flood", lang, area=m["peak_flooded_area_km2"],
                           depth=m["max_depth_m"], km=m["drive_km_closed_max"],
                           stranded=m["persons_stranded"]))
        elif kind == "chemical":
            lines.append(t("report.chemical", lang, a1=m["persons_above_aegl1"],
                           a2=m["persons_above_aegl2"], a3=m["persons_above_aegl3"],
                           injured=m["injured"], dead=m["deaths"],
                           km=m["roads"]["max_drive_km_closed"]))
        elif kind == "earthquake":
            lines.append(t("report.earthquake", lang, collapsed=m["buildings"]["collapsed"],
                           total=m["buildings"]["total"], trapped=m["persons_trapped"],
                           dead=m["casualties"].get("s4", 0),
                           displaced=m["persons_displaced"], km=m["road_km_closed"]))
        elif kind == "response":
            inc, rel, tg = m["incidents"], m["relief"], m["targets"]
            p50 = inc.get("response_p50_s")
            lines.append(t("report.response", lang, count=inc["count"],
                           served=inc["served"],
                           p50=t("report.not_reached", lang) if p50 is None
                           else t("unit.minutes", lang, value=p50 / 60.0),
                           share=_percent(rel["within_target_share"], lang)
                           if rel.get("within_target_status") != "not measurable"
                           else t("check.relief.share_not_measurable", lang,
                                  end_h=round(float(tg.get("end_s", 0.0)) / 3600.0, 2),
                                  target_h=float(tg.get("relief_h", 10.0))),
                           hours=float(tg.get("relief_h", 10.0)),
                           affected=rel["affected_persons"]))
    return lines
