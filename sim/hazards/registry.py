"""Build the hazards a scenario names (``[[hazards]]`` tables) from their specs."""

from __future__ import annotations

from sim.hazards.base import Hazard


def build_hazards(scenario) -> list[Hazard]:
    """One hazard object per ``[[hazards]]`` table of ``scenario``, in file order.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
        A validated scenario (its ``hazards`` field may be absent or empty).
    """
    specs = getattr(scenario, "hazards", None) or []
    out: list[Hazard] = []
    for spec in specs:
        if spec.kind == "flood":
            from sim.hazards.flood.hazard import FloodHazard

            out.append(FloodHazard.from_spec(spec))
        elif spec.kind == "chemical":
            from sim.hazards.chemical.hazard import ChemicalHazard

            out.append(ChemicalHazard.from_spec(spec))
        elif spec.kind == "earthquake":
            from sim.hazards.earthquake.hazard import EarthquakeHazard

            out.append(EarthquakeHazard.from_spec(spec))
        elif spec.kind == "wildfire":
            from sim.hazards.wildfire.hazard import WildfireHazard

            out.append(WildfireHazard.from_spec(spec))
        elif spec.kind == "landslide":
            from sim.hazards.landslide.hazard import LandslideHazard

            out.append(LandslideHazard.from_spec(spec))
        else:  # pragma: no cover - the scenario's discriminated union admits no other kind
            raise ValueError(f"hazards: unknown kind {spec.kind!r}")
    return out
