"""Landslides: a screening model for slopes shaken by an earthquake or soaked by rain.

:mod:`.screening` holds the formulas (infinite-slope factor of safety, Newmark critical
acceleration, Jibson 2007 displacement, Jibson et al. 2000 failure probability, Caine
1980 rainfall threshold); :mod:`.cli` the ``evacsim hazard newmark`` calculator. This is
a screening model (where slides are likely), not a slope-stability analysis.
"""
