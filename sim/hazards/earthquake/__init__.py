"""Earthquake: shaking damages buildings, bridges and roads, traps and injures people.

Rupture and ground motion (``rupture``, ``gmpe``, ``ground_motion``), building inventory
and fragility (``buildings``, ``fragility``), damage, casualties and roads (``damage``,
``roads``), the hazard (``hazard``, ``spec``, ``outputs``) and the calculators (``cli``:
``evacsim hazard gmpe|fragility``).
"""
