"""Chemical release: a toxic plume drifts over the district.

Dispersion (``dispersion``, ``sigmas``, ``stability``, ``plume_rise``, ``puff_train``),
substances and AEGLs (``substances``), exposure and outcomes (``exposure``), protective
actions (``protective_actions``), the hazard (``hazard``, ``spec``, ``outputs``) and the
calculators (``cli``: ``evacsim hazard plume|puff|zones``).
"""
