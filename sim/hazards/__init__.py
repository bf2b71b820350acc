"""Hazards behind one small interface (:mod:`sim.hazards.base`).

Each hazard lives in its own module and is imported where it is used, so importing
:mod:`sim.hazards` stays cheap: ``sim.hazards.flood`` (water from inflow hydrographs or
depth rasters), ``sim.hazards.chemical`` (toxic release), ... The registry
(:mod:`sim.hazards.registry`) builds them from a scenario's ``[[hazards]]`` tables.
"""

from sim.hazards.base import Hazard, HazardUpdate, Incident, PeopleView

__all__ = ["Hazard", "HazardUpdate", "Incident", "PeopleView"]
