"""Assigned shelters: each zone (community) heads for its designated shelters.

A plan's ``[shelter_assignment]`` (:class:`sim.plan_levers.AssignmentSpec`) maps zones to
an ordered list of designated shelters, with an overflow rule for when they are full.
It builds on the shelter sets of :mod:`sim.orders`: every distinct (orders set, area)
pair of the households becomes one more set with its own routing table; the set's
admitted shelter nodes change as shelters fill (:meth:`ShelterAssignment.update_set_nodes`,
called by the model wherever it refreshes routes, i.e. whenever a shelter fills):

``next_designated``
    the first designated shelter in list order that is still open; when the last one is
    full, the area's travellers wait where they are (no route: they park at a node and
    count as stranded) — the plan's list is all they were told.
``nearest_open``
    the nearest open designated shelter; when all are full, the nearest open shelter of
    any kind the household's orders admit.
``wait``
    the nearest open designated shelter; when all are full, wait (as above).

Zones in no area keep every shelter (their orders set unchanged). Shelters are matched
on their node: two shelters sharing a node are one destination for the kernels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.plan_levers import AssignmentSpec, raise_problems, zone_rows

__all__ = ["ShelterAssignment", "assign_shelters"]


@dataclass
class ShelterAssignment:
    """The assignment sets and how their admitted nodes follow the open shelters.

    Attributes
    ----------
    rule : str
        The overflow rule.
    area_of_household : int32[H]
        Area index per household, -1 for zones in no area.
    set_rows : int64[A']
        Shelter-set rows made for the assignment.
    set_area : int64[A']
        Area of each of those rows.
    base_nodes : bool[A', N]
        Shelter nodes the household's orders admit (the set it came from).
    designated : list of int64 arrays
        Per area, its designated shelter nodes in list order (duplicates dropped).
    designated_rows : list of int64 arrays
        Per area, its designated shelter rows (``ShelterTable`` order, list order).
    """

    rule: str
    area_of_household: np.ndarray
    set_rows: np.ndarray
    set_area: np.ndarray
    base_nodes: np.ndarray
    designated: list
    designated_rows: list

    def update_set_nodes(self, set_nodes: np.ndarray, shelter_open: np.ndarray) -> None:
        """Write the admitted nodes of the assignment sets into ``set_nodes`` (in place).

        Parameters
        ----------
        set_nodes
            bool[S, N], the model's shelter nodes per set.
        shelter_open
            bool[N], shelter nodes with room left.
        """
        for row, area, base in zip(self.set_rows, self.set_area, self.base_nodes, strict=True):
            d = self.designated[area]
            d = d[base[d]]
            open_d = d[shelter_open[d]]
            out = np.zeros(set_nodes.shape[1], dtype=bool)
            if self.rule == "next_designated":
                out[open_d[:1]] = True
            elif open_d.size or self.rule == "wait":
                out[open_d] = True
            else:  # nearest_open, every designated shelter full
                out = base.copy()
            set_nodes[row] = out


def assign_shelters(spec: AssignmentSpec, *, zone: np.ndarray, zone_names: list[str],
                    shelter_names: np.ndarray, shelter_node: np.ndarray,
                    household_set: np.ndarray, stay: np.ndarray, shelter_sets: np.ndarray,
                    route_factors: list, set_nodes: np.ndarray, source: str = "<plan>"
                    ) -> tuple[np.ndarray, np.ndarray, list, np.ndarray, ShelterAssignment]:
    """Split the households' shelter sets by their zone's designated shelters.

    Parameters
    ----------
    spec
        The plan's ``[shelter_assignment]``.
    zone, zone_names
        Zone index per household and the names.
    shelter_names, shelter_node
        Per shelter row: name and node.
    household_set, stay, shelter_sets, route_factors, set_nodes
        The orders' sets (:class:`sim.orders.Orders`) and their shelter nodes bool[S, N].
    source
        The plan file, for messages.

    Returns
    -------
    (shelter_sets, household_set, route_factors, set_nodes, ShelterAssignment)
        The sets extended by one row per (orders set, area) pair in use; the new rows of
        ``shelter_sets`` hold the designated shelters the orders admit.

    Raises
    ------
    ScenarioError
        A zone or shelter name that does not exist (``shelter_assignment.areas[i].zones[j]``
        / ``.shelters[j]``), all listed together.
    """
    names = np.asarray(shelter_names).astype(str)
    index = {}
    for r, nm in enumerate(names):
        index.setdefault(nm, r)
    shown = ", ".join(sorted(index)[:20]) + (" ..." if len(index) > 20 else "")
    problems: list[str] = []
    area_of_zone = np.full(len(zone_names), -1, np.int64)
    designated, designated_rows = [], []
    for i, area in enumerate(spec.areas):
        rows, bad = zone_rows(area.zones, zone_names, f"shelter_assignment.areas[{i}].zones",
                              source)
        problems += bad
        area_of_zone[rows] = i
        srows = []
        for j, nm in enumerate(area.shelters):
            if nm in index:
                srows.append(index[nm])
            else:
                problems.append(f"{source}: shelter_assignment.areas[{i}].shelters[{j}]: "
                                f"expected the name of an open shelter ({shown}), got {nm!r}")
        srows = np.asarray(srows, np.int64)
        nodes = np.asarray(shelter_node, np.int64)[srows]
        _, first = np.unique(nodes, return_index=True)
        designated.append(nodes[np.sort(first)])
        designated_rows.append(srows)
    raise_problems(source, "the plan's [shelter_assignment]", problems)

    area_hh = area_of_zone[np.asarray(zone, np.int64)].astype(np.int32)
    travels = ~np.asarray(stay, bool) & (area_hh >= 0)
    pairs = np.unique(np.column_stack([household_set[travels], area_hh[travels]]), axis=0)
    sets, nodes, factors = list(shelter_sets), list(set_nodes), list(route_factors)
    hh_set = np.asarray(household_set, np.int32).copy()
    set_rows, set_area, base = [], [], []
    for k, a in pairs:
        row = len(sets)
        mask = shelter_sets[k] & np.isin(np.arange(len(names)), designated_rows[a])
        sets.append(mask)
        nodes.append(set_nodes[k].copy())
        factors.append(route_factors[k])
        hh_set[travels & (household_set == k) & (area_hh == a)] = row
        set_rows.append(row)
        set_area.append(int(a))
        base.append(set_nodes[k].copy())
    n_nodes = set_nodes.shape[1]
    sa = ShelterAssignment(
        rule=spec.overflow,
        area_of_household=area_hh,
        set_rows=np.asarray(set_rows, np.int64),
        set_area=np.asarray(set_area, np.int64),
        base_nodes=np.asarray(base, bool).reshape(len(base), n_nodes),
        designated=designated,
        designated_rows=designated_rows,
    )
    return np.stack(sets), hh_set, factors, np.stack(nodes), sa
