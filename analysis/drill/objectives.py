"""Exercise objectives tied to the plan's targets, with the model's reference values.

Targets come from the run (the plan's ``[targets]`` recorded in
``hazard/response_targets.csv``, else the district plan defaults the metrics carry);
the reporting and act-within deadlines from the drill file's ``[objectives]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.drill.inject import Inject
from analysis.drill.rundata import RunData
from analysis.drill.settings import ObjectivesSpec, Timing, fmt_clock
from sim.i18n import t


@dataclass(frozen=True)
class Objective:
    """One objective: its plan target and the model's reference.

    ``allowed_min`` is the scenario time players have after an inject of this objective
    (or after ``ref_s`` for the objective as a whole); ``ref_s`` is the model's reference
    time (scenario s), ``None`` where the run has none.
    """

    id: str
    number: int
    target_text: str
    reference_text: str
    allowed_min: float
    ref_s: float | None


def _targets(run: RunData) -> dict[str, float]:
    out = {"response_min": 30.0, "relief_h": 10.0,  # district plan defaults (plans/README.md)
           "warning_coverage": float((run.metrics.get("warning") or {}).get("target_share", 0.9))}
    tg = run.table("hazard/response_targets.csv")
    if tg is not None:
        for k, v in zip(tg["key"].astype(str), tg["value"].astype(str), strict=True):
            if k in out:
                out[k] = float(v)
    return out


def objectives(run: RunData, injects: list[Inject], spec: ObjectivesSpec, timing: Timing,
               lang: str) -> list[Objective]:
    """The five objectives of :data:`~analysis.drill.inject.OBJECTIVES` for this run."""
    tg = _targets(run)
    m = run.metrics
    resp = (m.get("hazards") or {}).get("response") or {}
    none = t("drill.objective.evacuation.none", lang)

    def first(obj: str) -> float | None:
        ts = [i.t_s for i in injects if i.objective == obj and not i.variant
              and i.key != "start"]  # STARTEX is no report from the field
        return min(ts) if ts else None

    warn_t = float(run.spec.get("warning", {}).get("start_min", 0.0)) * 60.0
    share = (m.get("warning") or {}).get("share")
    out = [Objective("warning", 1,
                     t("drill.objective.warning.target", lang,
                       target=100.0 * tg["warning_coverage"]),
                     none if share is None else
                     t("drill.objective.warning.reference", lang, pct=100.0 * share),
                     spec.act_min, warn_t)]
    rep = first("reporting")
    out.append(Objective("reporting", 2,
                         t("drill.objective.reporting.target", lang, minutes=spec.report_min),
                         none if rep is None else t("drill.objective.reporting.reference", lang,
                                                    clock=fmt_clock(timing.clock_s(rep))),
                         spec.report_min, rep))
    inc = resp.get("incidents") or {}
    within = inc.get("within_target_share")
    out.append(Objective("response", 3,
                         t("drill.objective.response.target", lang, minutes=tg["response_min"]),
                         none if within is None else
                         t("drill.objective.response.reference", lang, pct=100.0 * within),
                         tg["response_min"], first("response")))
    rel = (resp.get("relief") or {}).get("within_target_share")
    out.append(Objective("relief", 4,
                         t("drill.objective.relief.target", lang, hours=tg["relief_h"]),
                         none if rel is None else
                         t("drill.objective.relief.reference", lang, pct=100.0 * rel),
                         tg["relief_h"] * 60.0, first("relief")))
    e90 = (((m.get("ete") or {}).get("all") or {}).get("90") or {}).get("t_s")
    out.append(Objective("evacuation", 5,
                         t("drill.objective.evacuation.target", lang, minutes=spec.act_min),
                         none if e90 is None else
                         t("drill.objective.evacuation.reference", lang,
                           clock=fmt_clock(timing.clock_s(e90))),
                         spec.act_min, e90))
    return out
