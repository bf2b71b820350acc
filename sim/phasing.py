"""Phased (staged) evacuation orders per zone, and the shadow evacuation outside them.

A plan's ``[evacuation]`` section (:class:`sim.plan_levers.EvacuationSpec`) gives every
zone (sub-district) an order time, either listed (``[[evacuation.phases]]``) or by a rule
(``[evacuation.nearest_first]``: zones ranked by the distance of their population centre
from a hazard point, ``zones_per_step`` zones every ``step_min`` from ``first_min``).

What it does to the households' response (:class:`sim.population.Response`), all
vectorised:

* ordered zones: the warning goes out at the zone's order time instead of the
  scenario's ``warning.start_min``; the household's own reception delay and
  mobilisation time (drawn by :func:`sim.population.sample_response`, unchanged) follow
  it, so ``t_warned`` and ``t_depart`` shift by ``order_s - start_min * 60``;
* zones without an order: nobody is warned, except the **shadow** evacuees, a share
  ``shadow_share`` of those households drawn per household (NUREG/CR-7002: 20 %). They
  hear of the first order: their warning time is the earliest order time plus a fresh
  reception delay, and they depart after a fresh mobilisation time, both drawn from the
  scenario's distributions on this lever's own random stream; coverage and compliance
  do not apply to them (they chose to leave; assumption).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.plan_levers import EvacuationSpec, point_xy, raise_problems, zone_rows
from sim.population import Population, Response, sample_response

__all__ = ["PhasedOrders", "zone_order_times", "apply_phases"]


@dataclass(frozen=True)
class PhasedOrders:
    """Order time per zone and who left as a shadow evacuee.

    Attributes
    ----------
    order_s : float64[Z]
        Order time of each zone (``Population.zone_names`` order), s; ``inf`` = no order.
    shadow : bool[H]
        Households outside the ordered zones that leave anyway.
    """

    order_s: np.ndarray
    shadow: np.ndarray


def zone_order_times(spec: EvacuationSpec, pop: Population, *, crs=None,
                     source: str = "<plan>") -> np.ndarray:
    """Order time of every zone, seconds (``inf`` for zones without an order).

    Parameters
    ----------
    spec
        The plan's ``[evacuation]`` section.
    pop
        The households (zones, homes in projected metres, sizes).
    crs
        The map's CRS, needed only for a ``nearest_first`` point given in lon/lat.
    source
        The plan file, for messages.

    Raises
    ------
    ScenarioError
        A zone name the population does not have (``evacuation.phases[i].zones[j]``).
    """
    n_z = len(pop.zone_names)
    order = np.full(n_z, np.inf)
    if spec.phases:
        problems = []
        for i, ph in enumerate(spec.phases):
            rows, bad = zone_rows(ph.zones, pop.zone_names, f"evacuation.phases[{i}].zones",
                                  source)
            problems += bad
            order[rows] = ph.order_min * 60.0
        raise_problems(source, "the plan's [evacuation]", problems)
        return order
    nf = spec.nearest_first
    x0, y0 = point_xy([nf], crs)
    w = pop.persons.astype(np.float64)
    tot = np.bincount(pop.zone, weights=w, minlength=n_z)
    cx = np.bincount(pop.zone, weights=w * pop.x_m, minlength=n_z) / np.maximum(tot, 1e-300)
    cy = np.bincount(pop.zone, weights=w * pop.y_m, minlength=n_z) / np.maximum(tot, 1e-300)
    dist = np.hypot(cx - x0[0], cy - y0[0])
    dist[tot == 0] = np.inf  # empty zones last (nobody to order)
    rank = np.empty(n_z, np.int64)
    rank[np.lexsort((np.arange(n_z), dist))] = np.arange(n_z)  # ties: lower zone index
    return (nf.first_min + (rank // nf.zones_per_step) * nf.step_min) * 60.0


def apply_phases(spec: EvacuationSpec, pop: Population, resp: Response, scenario, *,
                 rng: np.random.Generator, crs=None, source: str = "<plan>"
                 ) -> tuple[Response, PhasedOrders]:
    """The households' response under the plan's phased orders (see the module docstring).

    Parameters
    ----------
    spec
        The plan's ``[evacuation]`` section.
    pop, resp
        Households and their response drawn for the scenario's single warning.
    scenario
        The scenario (its ``warning`` and ``departure`` distributions).
    rng
        This lever's own stream (shadow draws), so other streams are not shifted.
    crs, source
        See :func:`zone_order_times`.

    Returns
    -------
    (Response, PhasedOrders)
        A new response (times in seconds) and the orders.
    """
    order_s = zone_order_times(spec, pop, crs=crs, source=source)
    hh_order = order_s[pop.zone]
    ordered = np.isfinite(hh_order)
    shift = np.where(ordered, hh_order - scenario.warning.start_min * 60.0, 0.0)
    # Shadow draws for every household (streams independent of who is ordered).
    shadow_draw = rng.random(len(pop)) < spec.shadow_share
    first_s = float(order_s[np.isfinite(order_s)].min(initial=np.inf))
    sure = scenario.model_copy(update={
        "warning": scenario.warning.model_copy(update={"coverage": 1.0,
                                                       "start_min": 0.0}),
        "departure": scenario.departure.model_copy(update={"noncompliance": 0.0}),
    })
    fresh = sample_response(pop, sure, rng=rng)
    shadow = ~ordered & shadow_draw & np.isfinite(first_s)
    warned = np.where(ordered, resp.warned, shadow)
    complies = np.where(ordered, resp.complies, shadow | resp.complies)
    t_warned = np.where(ordered, resp.t_warned_s + shift,
                        np.where(shadow, first_s + fresh.t_warned_s, np.inf))
    t_depart = np.where(ordered, resp.t_depart_s + shift,
                        np.where(shadow, first_s + fresh.t_depart_s, np.inf))
    out = Response(warned=warned, t_warned_s=t_warned, complies=complies, t_depart_s=t_depart)
    return out, PhasedOrders(order_s=order_s, shadow=shadow)
