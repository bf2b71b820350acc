"""Variants: a change to the scenario or plan that becomes a second run.

Each variant edits the scenario/plan *dicts* and the edited dicts go through the normal
loaders (:meth:`sim.scenario.Scenario.from_dict`, :meth:`sim.plan.Plan.from_dict`), so a
variant is validated exactly as a hand-edited file would be. A variant the model cannot
run (an aftershock: one earthquake per scenario) is refused, not faked.
"""

from __future__ import annotations

import copy

from analysis.drill.settings import VariantSpec
from sim._errors import ScenarioError
from sim.i18n import t

_CLI_FIELDS = {
    "close-shelter": ("close_shelter", ("shelter",)),
    "remove-teams": ("remove_teams", ("share",)),
    "wind-shift": ("wind_shift", ("at_min", "from_deg", "speed_mps")),
    "second-breach": ("second_breach", ("at_min", "inflow")),
    "delay-warning": ("delay_warning", ("delay_min",)),
    "aftershock": ("aftershock", ("at_min", "magnitude")),
}


def parse_cli_variant(text: str) -> dict:
    """``"wind-shift:40:90"`` → ``{"kind": "wind_shift", "at_min": 40.0, "from_deg": 90.0}``.

    Raises
    ------
    ScenarioError
        The text does not name a known variant or has too many parts.
    """
    head, _, rest = text.partition(":")
    if head not in _CLI_FIELDS or not rest:
        raise ScenarioError(t("drill.variant.bad_cli", "en", got=text))
    kind, fields = _CLI_FIELDS[head]
    parts = [rest] if kind == "close_shelter" else rest.split(":")
    if len(parts) > len(fields):
        raise ScenarioError(t("drill.variant.bad_cli", "en", got=text))
    out: dict = {"kind": kind}
    for name, value in zip(fields, parts, strict=False):
        if name in ("shelter", "inflow"):
            out[name] = value
        else:
            try:
                out[name] = float(value)
            except ValueError:
                raise ScenarioError(t("drill.variant.bad_cli", "en", got=text)) from None
    return out


def variant_id(k: int, v: VariantSpec) -> str:
    """Folder-safe id of the k-th variant: ``v1-close_shelter``."""
    return f"v{k + 1}-{v.kind}"


def variant_label(v: VariantSpec, lang: str) -> str:
    """Readable label of a variant in ``lang``."""
    if v.kind == "close_shelter":
        return t("drill.variant.close_shelter", lang, shelter=v.shelter)
    if v.kind == "remove_teams":
        return t("drill.variant.remove_teams", lang, pct=100.0 * (v.share or 0.0))
    if v.kind in ("wind_shift", "second_breach"):
        return t(f"drill.variant.{v.kind}", lang, at_min=v.at_min)
    return t("drill.variant.delay_warning", lang, delay_min=v.delay_min)


def _need(v: VariantSpec, name: str, where: str) -> object:
    value = getattr(v, name)
    if value is None:
        raise ScenarioError(t("drill.variant.missing_field", "en", where=where, kind=v.kind,
                              field=name))
    return value


def apply_variant(v: VariantSpec, scenario: dict, plan: dict | None, *,
                  shelter_names: list[str] | None, where: str) -> tuple[dict, dict | None]:
    """Return edited copies of the scenario and plan dicts for variant ``v``.

    Parameters
    ----------
    v : VariantSpec
        The variant.
    scenario, plan : dict
        Scenario and plan as parsed TOML or ``to_dict()`` (not modified).
    shelter_names : list of str
        Shelters of the base run (``close_shelter`` must name one); ``None`` skips that
        check (a pre-check before the base run exists).
    where : str
        Drill file or ``--variant`` for error messages.

    Raises
    ------
    ScenarioError
        A required field is missing, the scenario lacks the hazard, the shelter or inflow is
        unknown, or the variant cannot be simulated (aftershock).
    """
    sc = copy.deepcopy(scenario)
    pl = copy.deepcopy(plan) if plan is not None else None
    hazards = sc.setdefault("hazards", [])
    kinds = [h.get("kind") for h in hazards]
    if v.kind == "aftershock":
        raise ScenarioError(t("drill.variant.refused_aftershock", "en", where=where))
    if v.kind == "close_shelter":
        name = str(_need(v, "shelter", where))
        if shelter_names is not None and name not in shelter_names:
            raise ScenarioError(t("drill.variant.unknown_shelter", "en", where=where,
                                  names=", ".join(shelter_names[:8]) + ", ...", got=name))
        shelters = sc.setdefault("shelters", {})
        shelters["closed"] = [*shelters.get("closed", []), name]
    elif v.kind == "delay_warning":
        w = sc.setdefault("warning", {})
        w["start_min"] = float(w.get("start_min", 0.0)) + float(_need(v, "delay_min", where))
    elif v.kind == "wind_shift":
        if "chemical" not in kinds:
            raise ScenarioError(t("drill.variant.needs_hazard", "en", where=where, kind=v.kind,
                                  hazard="chemical", got=kinds))
        hz = hazards[kinds.index("chemical")]
        at = float(_need(v, "at_min", where))
        change = {"at_min": at, "from_deg": float(_need(v, "from_deg", where)),
                  "speed_mps": float(v.speed_mps or hz.get("wind_speed_mps", 3.0))}
        hz["wind_changes"] = sorted([*(c for c in hz.get("wind_changes", [])
                                       if c["at_min"] != at), change],
                                    key=lambda c: c["at_min"])
    elif v.kind == "second_breach":
        if "flood" not in kinds:
            raise ScenarioError(t("drill.variant.needs_hazard", "en", where=where, kind=v.kind,
                                  hazard="flood", got=kinds))
        hz = hazards[kinds.index("flood")]
        inflows = hz.get("inflows", [])
        names = [i.get("name", "") for i in inflows]
        if not inflows or (v.inflow is not None and v.inflow not in names):
            raise ScenarioError(t("drill.variant.unknown_inflow", "en", where=where,
                                  names=names, got=v.inflow))
        base = inflows[names.index(v.inflow) if v.inflow is not None else 0]
        at = float(_need(v, "at_min", where))
        second = {**copy.deepcopy(base), "name": f"{base.get('name', '')} (second breach)",
                  "hydrograph": [[0.0, 0.0]] + [[float(tm) + at, float(q)]
                                                for tm, q in base["hydrograph"]]}
        hz["inflows"] = [*inflows, second]
    elif v.kind == "remove_teams":
        if pl is None:
            raise ScenarioError(t("drill.variant.no_plan", "en", where=where))
        share = float(_need(v, "share", where))
        entries = [(i, j) for i, s in enumerate(pl.get("stations", []))
                   for j, _ in enumerate(s.get("teams", []))]
        total = sum(pl["stations"][i]["teams"][j].get("count", 1) for i, j in entries)
        remove = round(share * total)
        # Remove from the largest entries first (then file order): the station keeps
        # variety of capabilities as long as possible.
        order = sorted(entries, key=lambda e: -pl["stations"][e[0]]["teams"][e[1]].get("count", 1))
        while remove > 0 and order:
            for i, j in order:
                team = pl["stations"][i]["teams"][j]
                if remove > 0 and team.get("count", 1) > 0:
                    team["count"] = team.get("count", 1) - 1
                    remove -= 1
            order = [e for e in order
                     if pl["stations"][e[0]]["teams"][e[1]].get("count", 1) > 0]
        for s in pl.get("stations", []):
            s["teams"] = [tm for tm in s.get("teams", []) if tm.get("count", 1) > 0]
        pl["stations"] = [s for s in pl.get("stations", []) if s["teams"]]
    return sc, pl
