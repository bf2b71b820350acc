"""Hazards behind one small interface (:mod:`sim.hazards.base`).

Each hazard lives in its own module and is imported where it is used, so importing
:mod:`sim.hazards` stays cheap: ``sim.hazards.flood.hazard`` (water from inflow hydrographs or
depth rasters), ``sim.hazards.chemical.hazard`` (toxic release), ... The registry
(:mod:`sim.hazards.registry`) builds them from a scenario's ``[[hazards]]`` tables.
"""

__all__ = ["Hazard", "HazardUpdate", "Incident", "PeopleView"]


def __getattr__(name: str):  # PEP 562: the interface loads on first use, not on import
    if name in __all__:
        from sim.hazards import base

        return getattr(base, name)
    raise AttributeError(f"module 'sim.hazards' has no attribute {name!r}")
