"""Flood: water that rises on the terrain and closes roads.

``hazard`` (water from inflow hydrographs on a DEM, or depth rasters; what it does to
roads and people), ``curves`` (Pregnolato depth–speed, FD2321 hazard rating, H1–H6) and
``cli`` (``evacsim hazard flood-speed|flood-rating``).
"""
