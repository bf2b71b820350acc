"""Protective-action orders (sim.orders) with hand-made hazards.

Invariants: households ordered to stay (codes 2, 4) never travel; a household's set admits
exactly the shelters every hazard admits for its code (intersection); households with the
same admitted shelters share one set; row 0 admits every shelter.
"""

from __future__ import annotations

import numpy as np

from sim.orders import protective_orders


class _Ordering:
    """Codes by home x (west / middle / east thirds); admits shelters by a per-code rule."""

    def __init__(self, codes_by_third, admits):
        self.codes_by_third = np.asarray(codes_by_third, dtype=np.int8)
        self.admits = admits  # code -> function of shelter x

    def protective_actions(self, x_m, y_m, *, zone=None, zone_names=None):
        third = np.clip((np.asarray(x_m) // 100).astype(int), 0, 2)
        return self.codes_by_third[third]

    def shelter_allowed(self, x_m, y_m, action):
        return self.admits[action](np.asarray(x_m))


class _NoOrders:
    """A hazard without a plan (a flood): contributes nothing."""


HOME_X = np.array([50.0, 150.0, 250.0, 60.0])
SHELTER_X = np.array([0.0, 100.0, 200.0, 300.0])
ZEROS = np.zeros(4)


def test_no_orders_one_set_of_every_shelter():
    o = protective_orders([_NoOrders()], HOME_X, ZEROS, SHELTER_X, ZEROS)
    assert not o.stay.any()
    assert o.shelter_sets.tolist() == [[True] * 4]
    assert o.household_set.tolist() == [0, 0, 0, 0]


def test_stay_codes_and_sets_per_admitted_mask():
    everywhere = {c: (lambda x: np.ones(x.shape, bool)) for c in range(5)}
    west_only = {**everywhere, 1: lambda x: x < 150, 3: lambda x: x < 150}
    hz = _Ordering([1, 2, 3], west_only)  # west: evacuate, middle: shelter, east: crosswind
    o = protective_orders([hz], HOME_X, ZEROS, SHELTER_X, ZEROS)
    assert o.stay.tolist() == [False, True, False, False]
    # codes 1 and 3 admit the same shelters here: one shared set, not two
    assert o.shelter_sets.tolist() == [[True] * 4, [True, True, False, False]]
    assert o.household_set.tolist() == [1, 0, 1, 1]


def test_two_hazards_admit_the_intersection():
    a = _Ordering([1, 1, 1], {1: lambda x: x >= 100})
    b = _Ordering([0, 3, 4], {0: lambda x: x <= 200, 3: lambda x: x == 100,
                              4: lambda x: np.zeros(x.shape, bool)})
    o = protective_orders([a, b], HOME_X, ZEROS, SHELTER_X, ZEROS)
    assert o.stay.tolist() == [False, False, True, False]
    sets = {tuple(map(bool, o.shelter_sets[k])) for k in o.household_set[~o.stay]}
    assert sets == {(False, True, True, False), (False, True, False, False)}
    k0, k1 = o.household_set[0], o.household_set[1]
    assert o.shelter_sets[k0].tolist() == [False, True, True, False]  # x >= 100 and <= 200
    assert o.shelter_sets[k1].tolist() == [False, True, False, False]  # x >= 100 and == 100
    assert o.household_set[3] == k0  # same codes as household 0


class _Avoiding(_Ordering):
    """Like _Ordering, and households with code 3 avoid link 0 (x10), code 1 link 1 (x10)."""

    def route_avoid(self, action):
        if action not in (1, 3):
            return None
        f = np.ones(2)
        f[0 if action == 3 else 1] = 10.0
        return f, f.copy()


def test_route_factors_split_sets_and_combine_by_the_larger():
    everywhere = {c: (lambda x: np.ones(x.shape, bool)) for c in range(5)}
    # Same admitted shelters for codes 1 and 3, but different links avoided: two sets.
    o = protective_orders([_Avoiding([1, 3, 0], everywhere)], HOME_X, ZEROS, SHELTER_X, ZEROS)
    assert o.household_set.tolist() == [1, 2, 0, 1]
    assert o.route_factors[0] is None
    assert o.route_factors[1][0].tolist() == [1.0, 10.0]
    assert o.route_factors[2][0].tolist() == [10.0, 1.0]
    # Two hazards: a household under both orders avoids both links.
    o2 = protective_orders([_Avoiding([1, 1, 1], everywhere), _Avoiding([3, 3, 3], everywhere)],
                           HOME_X, ZEROS, SHELTER_X, ZEROS)
    assert len(o2.route_factors) == 2
    assert o2.route_factors[1][1].tolist() == [10.0, 10.0]
