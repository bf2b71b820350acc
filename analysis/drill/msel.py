"""The Master Scenario Events List: numbered, timed, rendered injects (HSEEP columns).

Columns (:data:`MSEL_COLUMNS`; ``msel.csv`` uses these ids as its header, ``msel.xlsx``
their titles in the package's language, ``drill.col.<id>``):

``no`` inject number; ``scenario_time`` ``T+H:MM:SS``; ``scenario_s`` the exact scenario
time in seconds (the run's event time); ``exercise_clock`` ``HH:MM:SS`` = start +
scenario_s / compression, truncated to the second; ``phase``; ``method``; ``sender``
(simulated); ``to`` (player role); ``message``; ``expected_action``; ``objective``
(id and capability); ``controller_notes``; ``source_id`` (file and row or metric path of
the run); ``contingency`` (marked if only used when players have not acted);
``variant`` (the variant run it comes from, empty for the base run).
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.drill.inject import OBJECTIVES, Inject
from analysis.drill.settings import Timing, fmt_clock, fmt_scenario
from sim.i18n import t

MSEL_COLUMNS = ("no", "scenario_time", "scenario_s", "exercise_clock", "phase", "method",
                "sender", "to", "message", "expected_action", "objective", "controller_notes",
                "source_id", "contingency", "variant")
PHASES = ("alert", "evacuation", "relief")


@dataclass(frozen=True)
class Row:
    """One rendered MSEL row (``inject`` keeps the figures for checks)."""

    no: int
    inject: Inject
    values: dict


def phase_bounds(metrics: dict, events_first_full_s: float | None, window_s: float
                 ) -> list[float]:
    """Start times (scenario s) of the three phases inside ``[0, window_s]``.

    Alert ends when the first shelter fills or half of the evacuees are sheltered
    (whichever is first); evacuation ends at the 90 % ETE. Where the run has no such
    milestone inside the window, the window is split in thirds.
    """
    ete = (metrics.get("ete") or {}).get("all") or {}
    half = (ete.get("50") or {}).get("t_s")
    ninety = (ete.get("90") or {}).get("t_s")
    a = min(x for x in (half, events_first_full_s, window_s / 3.0) if x is not None)
    b = ninety if ninety is not None else 2.0 * window_s / 3.0
    if not (0.0 < a < b < window_s):
        a, b = window_s / 3.0, 2.0 * window_s / 3.0
    return [0.0, float(a), float(b)]


def phase_of(t_s: float, bounds: list[float]) -> int:
    """0-based phase of scenario time ``t_s``."""
    return max(i for i, b in enumerate(bounds) if t_s >= b) if t_s >= bounds[0] else 0


def objective_label(obj: str, lang: str) -> str:
    """``O1 Warn the public — Public Information and Warning``."""
    k = OBJECTIVES.index(obj) + 1
    return (f"O{k} {t(f'drill.objective.{obj}.title', lang)} — "
            f"{t(f'drill.objective.{obj}.capability', lang)}")


def render(injects: list[Inject], *, timing: Timing, bounds: list[float], lang: str,
           exercise_type: str, roles: tuple[str, ...], variant_labels: dict[str, str]
           ) -> list[Row]:
    """Number and render injects (already in time order) as MSEL rows."""
    rows = []
    for no, inj in enumerate(injects, start=1):
        method = inj.method
        if exercise_type == "tabletop" and method != "media":
            method = "facilitator"  # HSEEP tabletop: injects are read out by the facilitator
        to = inj.to if inj.to in roles else "eoc_commander"
        note = t(f"drill.inject.{inj.key}.note", lang)
        if to != inj.to:
            note += f" ({t(f'drill.role.{inj.to}', lang)} → {t('drill.role.eoc_commander', lang)})"
        values = {
            "no": no,
            "scenario_time": fmt_scenario(inj.t_s),
            "scenario_s": repr(float(inj.t_s)),
            "exercise_clock": fmt_clock(timing.clock_s(inj.t_s)),
            "phase": t(f"drill.phase.{PHASES[phase_of(inj.t_s, bounds)]}", lang),
            "method": t(f"drill.method.{method}", lang),
            "sender": t(f"drill.sender.{inj.sender}", lang),
            "to": t(f"drill.role.{to}", lang),
            "message": t(f"drill.inject.{inj.key}.msg", lang, **inj.fmt),
            "expected_action": t(f"drill.inject.{inj.key}.action", lang),
            "objective": objective_label(inj.objective, lang),
            "controller_notes": note,
            "source_id": inj.source,
            "contingency": t("drill.col.yes", lang) if inj.contingency else "",
            "variant": variant_labels.get(inj.variant, inj.variant),
        }
        rows.append(Row(no, inj, values))
    return rows


def header(lang: str) -> list[str]:
    """Column titles of ``msel.xlsx`` in ``lang``."""
    return [t(f"drill.col.{c}", lang) if c != "scenario_s" else "scenario_s"
            for c in MSEL_COLUMNS]
