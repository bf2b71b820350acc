"""State codes of households and persons: what every part of evacsim counts by.

Kept on their own so that the hazards (which stop people or count them sheltered), the
population and the model can share them without importing one another.
"""

from __future__ import annotations

import numpy as np

# Person-level states (int8 codes). DESIGN.md "People": nobody is lost, counts add up.
NOT_WARNED = np.int8(0)  # at home, no warning received (yet)
WARNED = np.int8(1)  # warned, will leave, has not departed yet (mobilising)
STAYING = np.int8(2)  # warned but does not comply; stays at home
EN_ROUTE = np.int8(3)  # departed, travelling to a shelter
SHELTERED = np.int8(4)  # arrived at a shelter
STRANDED = np.int8(5)  # cannot reach any shelter (cut off, no capacity, horizon)
DEAD = np.int8(6)  # killed by a hazard (persons; a household is DEAD when all its members are)
STATE_NAMES = ("not_warned", "warned", "staying", "en_route", "sheltered", "stranded", "dead")
N_STATES = len(STATE_NAMES)
