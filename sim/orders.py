"""Protective-action orders: who stays home and which shelters evacuees may enter.

A hazard with a plan (the chemical release, :mod:`sim.hazards.chemical.hazard`) gives every
household an action code from where it lives (``protective_actions``) and, per code, the
shelters it admits (``shelter_allowed``): evacuees go only to shelters outside the threat
zone, crosswind evacuees only to shelters off the downwind sector, sheltering households
nowhere. This module turns those answers into what the model moves people with:

* ``stay``: households that never depart (codes 2 shelter in place and 4 stay);
* shelter sets: one row per distinct mask of admitted shelters, row 0 = every shelter;
  households with several hazards' orders get the intersection of what each admits;
* ``household_set``: the set each household heads for (its routing table follows);
* per set, travel-time factors per link (``route_avoid``): roads inside the zone a
  group must avoid cost more, so its routes leave the zone by the shortest stretch.

Codes: :data:`sim.hazards.chemical.ACTION_CODES` (0 none, 1 evacuate, 2 shelter in place,
3 crosswind, 4 stay).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.hazards.base import Hazard

__all__ = ["Orders", "STAY_CODES", "protective_orders"]

STAY_CODES = (2, 4)  # shelter in place, no order (life goes on at home): never depart


@dataclass(frozen=True)
class Orders:
    """The protective-action orders of all hazards, per household.

    Attributes
    ----------
    stay : bool[H]
        Ordered to shelter in place, or left at home without an order.
    shelter_sets : bool[S, n_shelters]
        Shelters each set admits; row 0 admits every shelter (households without orders).
    household_set : int32[H]
        Row of ``shelter_sets`` each household may go to (0 for those who stay).
    route_factors : list of (float64[L_drive], float64[L_walk]) or None
        Per set, factors (>= 1) on each link's travel time for that set's routes; None:
        no link is avoided (row 0 always).
    """

    stay: np.ndarray
    shelter_sets: np.ndarray
    household_set: np.ndarray
    route_factors: list


def protective_orders(
    hazards: Sequence[Hazard],
    home_x_m: np.ndarray,
    home_y_m: np.ndarray,
    shelter_x_m: np.ndarray,
    shelter_y_m: np.ndarray,
    *,
    zone: np.ndarray | None = None,
    zone_names: Sequence[str] | None = None,
) -> Orders:
    """Collect the hazards' orders (hazards without ``protective_actions`` give none).

    Parameters
    ----------
    hazards
        Bound hazards.
    home_x_m, home_y_m
        Household homes, projected metres.
    shelter_x_m, shelter_y_m
        Shelters, projected metres.
    zone, zone_names
        Sub-district per household and the names, for orders given by sub-district.
    """
    n_hh, n_sh = len(home_x_m), len(shelter_x_m)
    stay = np.zeros(n_hh, dtype=bool)
    allowed = np.ones((1, n_sh), dtype=bool)  # admitted shelters per combination of codes
    factors: list = [None]  # route factors per combination (None: none avoided)
    combo = np.zeros(n_hh, dtype=np.int64)  # household -> row of ``allowed``
    for hz in hazards:
        if not hasattr(hz, "protective_actions"):
            continue
        codes = np.asarray(
            hz.protective_actions(home_x_m, home_y_m, zone=zone, zone_names=zone_names)
        )
        stay |= np.isin(codes, STAY_CODES)
        pairs, combo = np.unique(np.column_stack([combo, codes]), axis=0, return_inverse=True)
        combo = combo.reshape(-1)
        allowed = np.stack(
            [allowed[c] & hz.shelter_allowed(shelter_x_m, shelter_y_m, int(code))
             for c, code in pairs]
        )
        avoid = getattr(hz, "route_avoid", lambda code: None)
        factors = [_stricter(factors[c], avoid(int(code))) for c, code in pairs]
    # One set per distinct (admitted shelters, route factors) among those who may travel.
    masks, route = [np.ones(n_sh, dtype=bool)], [None]
    set_of_combo = np.zeros(len(allowed), dtype=np.int32)
    for c in np.unique(combo[~stay]):
        same = [k for k in range(len(masks)) if np.array_equal(masks[k], allowed[c])
                and _same_factors(route[k], factors[c])]
        if same:
            set_of_combo[c] = same[0]
        else:
            set_of_combo[c] = len(masks)
            masks.append(allowed[c])
            route.append(factors[c])
    household_set = np.where(stay, 0, set_of_combo[combo]).astype(np.int32)
    return Orders(stay=stay, shelter_sets=np.stack(masks), household_set=household_set,
                  route_factors=route)


def _stricter(a, b):
    """Route factors of two orders together: the larger factor per link."""
    if a is None or b is None:
        return b if a is None else a
    return tuple(np.maximum(x, y) for x, y in zip(a, b, strict=True))


def _same_factors(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
