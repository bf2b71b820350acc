"""Wildfire: Rothermel (1972) surface spread over the DEM, closures and trigger-point warning.

Modules: :mod:`.fuel` (standard fuel models), :mod:`.rothermel` (spread rate of one fuel
bed, BehavePlus conventions), :mod:`.spec` (the ``[[hazards]] kind = "wildfire"`` table),
:mod:`.hazard` (the hazard in a run), :mod:`.cli` (``evacsim hazard fire-spread``). The
grid kernel (minimum travel time) is :mod:`sim.core.fire`.
"""
