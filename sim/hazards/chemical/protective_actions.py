"""Protective actions: the orders a chemical-release plan gives households, as codes.

A plan assigns each household one action from where it lives: the forecast threat zone
of its home, or its sub-district (``zone_actions``). The codes are small integers so the
model can hold one per household in an array (:mod:`sim.orders`); the mixin here gives
:class:`sim.hazards.chemical.ChemicalHazard` the two plan queries: which action each
household gets (:meth:`~_ProtectiveActionsMixin.protective_actions`) and which shelters a
household under an order may head for (:meth:`~_ProtectiveActionsMixin.shelter_allowed`).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from sim._errors import ScenarioError
from sim.hazards.chemical.puff_train import downwind_unit

ProtectiveAction = Literal["none", "evacuate", "shelter", "crosswind", "stay"]
ACTION_NONE, ACTION_EVACUATE, ACTION_SHELTER, ACTION_CROSSWIND, ACTION_STAY = 0, 1, 2, 3, 4
ACTION_CODES: dict[str, int] = {"none": 0, "evacuate": 1, "shelter": 2, "crosswind": 3, "stay": 4}
ACTION_NAMES: tuple[str, ...] = ("none", "evacuate", "shelter", "crosswind", "stay")
# Assumption (no source gives a number): evacuees' routes count a road or path inside the
# zone they must avoid as this many times its travel time, so the cheapest way out leaves
# the zone by the shortest stretch (for a plume: sideways, crosswind) without forbidding
# it (the household may live inside and must get out).
ZONE_COST_FACTOR = 10.0


class _ProtectiveActionsMixin:
    """The plan queries of :class:`sim.hazards.chemical.ChemicalHazard`.

    Relies on what :meth:`ChemicalHazard.bind <sim.hazards.chemical.ChemicalHazard.bind>`
    sets (``spec``, ``source_x_m``, ``source_y_m``, ``_wind_seen``) and on its
    ``zone_level_at`` and ``_where``.
    """

    def protective_actions(self, x_m, y_m, *, zone=None, zone_names=None) -> np.ndarray:
        """The plan's action for each household, from where it lives (int8 codes).

        Parameters
        ----------
        x_m, y_m : array
            Home positions, projected metres.
        zone : int array, optional
            Sub-district index per household; with ``zone_names``, ``zone_actions`` of the
            spec override the threat-zone actions by sub-district name.
        zone_names : sequence of str, optional

        Returns
        -------
        int8 array
            :data:`ACTION_NONE` (0: the scenario's ordinary behaviour), ``ACTION_EVACUATE``
            (1), ``ACTION_SHELTER`` (2: ordered to shelter in place: stay indoors at home),
            ``ACTION_CROSSWIND`` (3: evacuate to a shelter that :meth:`shelter_allowed` admits
            for crosswind), ``ACTION_STAY`` (4: no order, life goes on at home: the household
            does not depart; counted apart from those ordered to shelter).
        """
        a = self.spec.actions
        by_level = np.array(
            [
                ACTION_CODES[a.outside],
                ACTION_CODES[a.aegl1],
                ACTION_CODES[a.aegl2],
                ACTION_CODES[a.aegl3],
            ],
            dtype=np.int8,
        )
        codes = by_level[self.zone_level_at(x_m, y_m)]
        if self.spec.zone_actions:
            if zone is None or zone_names is None:
                raise ScenarioError(
                    self._where("zone_actions") + "expected the households' "
                    "sub-districts (zone, zone_names) to apply it, got none"
                )
            names = list(zone_names)
            unknown = sorted(set(self.spec.zone_actions) - set(names))
            if unknown:
                raise ScenarioError(
                    self._where("zone_actions") + f"expected sub-districts of the map "
                    f"({', '.join(names)}), got {unknown}"
                )
            table = np.full(len(names), -1, dtype=np.int8)
            for name, action in self.spec.zone_actions.items():
                table[names.index(name)] = ACTION_CODES[action]
            override = table[np.asarray(zone, dtype=np.int64)]
            codes = np.where(override >= 0, override, codes).astype(np.int8)
        self.actions = codes
        return codes

    def shelter_allowed(self, x_m, y_m, action: int) -> np.ndarray:
        """Which shelters (projected metres) households with ``action`` may be sent to.

        Evacuees (and ``none``) avoid shelters inside the forecast AEGL-2 zone; crosswind
        evacuees also avoid the yellow zone and every shelter whose bearing from the source
        lies within ``crosswind_sector_deg`` of a downwind direction of the event. Sheltering
        and staying households go nowhere (all False).
        """
        level = self.zone_level_at(x_m, y_m)
        if action in (ACTION_SHELTER, ACTION_STAY):
            return np.zeros(level.shape, dtype=bool)
        if action != ACTION_CROSSWIND:
            return level < 2
        dx = np.asarray(x_m, np.float64) - self.source_x_m
        dy = np.asarray(y_m, np.float64) - self.source_y_m
        dist = np.hypot(dx, dy)
        in_sector = np.zeros(level.shape, dtype=bool)
        cos_half = math.cos(math.radians(self.spec.crosswind_sector_deg))
        for from_deg in sorted(self._wind_seen):
            ex, ey = downwind_unit(from_deg)
            with np.errstate(invalid="ignore", divide="ignore"):
                cos_angle = np.where(dist > 0, (dx * ex + dy * ey) / np.maximum(dist, 1e-12), 1.0)
            in_sector |= cos_angle >= cos_half
        return (level < 1) & ~in_sector

    def route_avoid(self, action: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Travel-time factors for the routes of households with ``action``.

        Evacuees (and ``none``) avoid the forecast orange zone, crosswind evacuees the
        yellow zone: links whose midpoint lies there cost :data:`ZONE_COST_FACTOR` times
        their travel time. Returns (drive factors, walk factors), float64 per link of the
        bound map, or None for households that do not travel.
        """
        if action in (ACTION_SHELTER, ACTION_STAY):
            return None
        worst = 1 if action == ACTION_CROSSWIND else 2
        out = []
        for name in ("drive", "walk"):
            mx, my, _ = self._links[name]
            inside = self.zone_level_at(mx, my) >= worst
            out.append(np.where(inside, ZONE_COST_FACTOR, 1.0))
        return out[0], out[1]
