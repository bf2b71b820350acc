"""Relief logistics: depots send trucks with stock to shelters; the relief measure per person.

Shelters report needs as people arrive: a shelter *site* (a drive node; shelters that
share a node share their stock) needs ``persons * need_per_person`` of every item, where
``need_per_person = per_person_day * cover_days`` (plan ``[items]``, ``[relief]``). Its
shortfall is that need minus what it holds (pre-positioned + delivered) minus what is on
its way.

Truck policy (documented; checked every ``relief.review_min``):

1. sites with a shortfall are served largest shortfall (kg) first, ties by site order;
2. for a site, depot levels are tried in order community → town → district →
   neighbour. A level is *empty* for the site when none of its depots that are
   available (``available_min`` passed, so a neighbour district helps only after its
   delay), own trucks and can reach the site holds an item the site lacks; then the next
   level is asked. At the first level that is not empty the nearest such depot with an
   idle truck sends it (route cost on the current link costs). If all trucks of that
   level are out, ``relief.next_level_when`` decides: ``"busy"`` (default) asks the
   next level, ``"empty"`` makes the site wait for that level's trucks;
3. a truck takes ``min(stock, shortfall)`` of each missing item, scaled down together
   so the mass fits its payload; it leaves after ``load_min``, unloads for
   ``unload_min`` on arrival (the delivery time), and drives back to its depot;
4. a load lighter than ``min_load_kg`` waits for more arrivals, unless the site had no
   new arrivals since the last review (then whatever is missing is sent).

Stock is conserved at every step: depot stock + stock in trucks (loaded, not yet
unloaded) + delivered = initial depot stock (:meth:`Logistics.balance`).

The relief rule (:func:`fifo_relief`): a person is relieved at the first time they are
safe (arrived at a shelter, or handed over there after rescue) *and* their site's stock
covers their needs, stock being allocated to people in order of arrival (first come,
first served; a later arrival never takes stock an earlier one is waiting for). Nobody
is relieved before being safe, and each group once. People handed to a hospital are
relieved on hand-over; people helped in place, when the team finishes.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from sim.core import queue
from sim.plan import ResolvedPlan
from sim.service_fleet import ServiceFleet

__all__ = ["Depot", "Truck", "Logistics", "fifo_relief", "attribute_delay",
           "AT_DEPOT", "TO_SITE", "RETURNING"]

AT_DEPOT, TO_SITE, RETURNING = 0, 1, 2
_EPS_UNITS = 1e-9  # units below which a shortfall counts as met (float round-off)


class Depot(mesa.Agent):
    """A material reserve depot: stock per item and its trucks."""

    def __init__(self, model: mesa.Model, *, number: int, name: str, level: int, node: int,
                 available_s: float) -> None:
        super().__init__(model)
        self.number = number
        self.name = name
        self.level = level
        self.node = int(node)
        self.available_s = float(available_s)
        self.trucks: list[Truck] = []


class Truck(mesa.Agent):
    """A relief truck (a row of the shared fleet) belonging to one depot."""

    def __init__(self, model: mesa.Model, *, number: int, row: int, depot: Depot,
                 payload_kg: float, n_items: int) -> None:
        super().__init__(model)
        self.number = number
        self.row = int(row)
        self.depot = depot
        self.payload_kg = float(payload_kg)
        self.state = AT_DEPOT
        self.load = np.zeros(n_items)
        self.site = -1
        self.trips = 0


class Logistics:
    """Depots, trucks and shelter stock for one run (see module docstring).

    Parameters
    ----------
    model
        The Mesa model the agents belong to.
    plan
        The resolved plan.
    fleet
        Service vehicles; truck rows are ``truck_rows``.
    truck_rows
        int64[K]: fleet rows of the trucks, depot by depot in plan order.
    site_node
        int64[P]: drive node of each shelter site.
    site_stock0
        float64[P, I]: pre-positioned stock per site, units.
    """

    def __init__(self, model: mesa.Model, plan: ResolvedPlan, fleet: ServiceFleet,
                 truck_rows: np.ndarray, site_node: np.ndarray, site_stock0: np.ndarray) -> None:
        self.plan = plan
        self.sf = fleet
        r = plan.plan.relief
        self.review_s = float(r.review_min) * 60.0
        self.load_s = float(r.load_min) * 60.0
        self.unload_s = float(r.unload_min) * 60.0
        self.min_load_kg = float(r.min_load_kg)
        self.escalate_when_busy = r.next_level_when == "busy"
        self.need = plan.need_per_person.astype(np.float64)
        self.kg = plan.kg_per_unit.astype(np.float64)
        n_items = len(plan.items)
        self.depots = [Depot(model, number=d, name=str(plan.depot_name[d]),
                             level=int(plan.depot_level[d]), node=int(plan.depot_node[d]),
                             available_s=float(plan.depot_available_s[d]))
                       for d in range(len(plan.depot_name))]
        self.trucks: list[Truck] = []
        k = 0
        for d, dep in enumerate(self.depots):
            for _ in range(int(plan.depot_trucks[d])):
                tr = Truck(model, number=k, row=int(truck_rows[k]), depot=dep,
                           payload_kg=float(plan.depot_payload_kg[d]), n_items=n_items)
                dep.trucks.append(tr)
                self.trucks.append(tr)
                k += 1
        self.rows = np.array([t.row for t in self.trucks], np.int64)
        self.state = np.full(len(self.trucks), AT_DEPOT, np.int8)
        self.initial = plan.depot_stock.astype(np.float64).copy()
        self.stock = self.initial.copy()
        self.site_node = np.asarray(site_node, np.int64)
        self.site_stock0 = np.asarray(site_stock0, np.float64).reshape(len(self.site_node),
                                                                       n_items)
        self.delivered = np.zeros_like(self.site_stock0)
        self.on_way = np.zeros_like(self.site_stock0)  # loaded for the site, not unloaded
        self._pending: list[tuple[float, int, np.ndarray]] = []  # (t_unloaded, site, load)
        self._pending_min = np.inf
        self.deliveries: list[tuple[int, int, int, float, int, float]] = []
        self.samples: list[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = []
        self._next_review = 0.0
        self._last_persons = np.full(len(self.site_node), -1, np.int64)
        self.depot_node = np.array([d.node for d in self.depots], np.int64)
        self.depot_level = np.array([d.level for d in self.depots], np.int64)
        self.depot_has_trucks = np.array([len(d.trucks) > 0 for d in self.depots], bool)
        self.idle_count = np.array([len(d.trucks) for d in self.depots], np.int64)
        self.available_s = np.array([d.available_s for d in self.depots], np.float64)

    # ------------------------------------------------------------------ accounting
    def balance(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Totals per item: (in depots, in trucks, delivered, initial), units."""
        in_trucks = self.on_way.sum(axis=0)
        return self.stock.sum(axis=0), in_trucks, self.delivered.sum(axis=0), \
            self.initial.sum(axis=0)

    # ------------------------------------------------------------------ step
    def review_due(self, t_s: float) -> bool:
        """Whether :meth:`step` at ``t_s`` runs a review (and needs the persons per site)."""
        return t_s + 1e-9 >= self._next_review

    def step(self, t_s: float, persons_at_site: np.ndarray | None) -> None:
        """Advance to ``t_s``: truck arrivals, unloads due, and (when due) a review.

        ``persons_at_site`` (int64[P], persons that arrived at each site so far) is read
        only when a review is due; ``None`` counts as nobody.
        """
        self._arrivals()
        self._unload(t_s)
        if self.review_due(t_s):
            if persons_at_site is None:
                persons_at_site = np.zeros(len(self.site_node), np.int64)
            self._next_review = t_s + self.review_s
            self._review(t_s, np.asarray(persons_at_site, np.int64))
            self.samples.append((t_s, *self.balance()[:3]))

    def _arrivals(self) -> None:
        if not self.trucks:
            return
        busy = self.state != AT_DEPOT
        if not busy.any():
            return
        f = self.sf.fleet
        for k in np.flatnonzero(busy & (f.state[self.rows] == queue.ARRIVED)):
            tr = self.trucks[k]
            ta = float(f.t_arrive_s[tr.row])
            if self.state[k] == TO_SITE:
                t_done = ta + self.unload_s
                self._pending.append((t_done, tr.site, tr.load.copy()))
                self._pending_min = min(self._pending_min, t_done)
                for i in np.flatnonzero(tr.load > 0):
                    self.deliveries.append((tr.number, tr.depot.number, tr.site, t_done,
                                            int(i), float(tr.load[i])))
                tr.load[:] = 0.0
                tr.site = -1
                self.sf.send(tr.row, tr.depot.node, t_done)
                self.state[k] = tr.state = RETURNING
            else:
                self.state[k] = tr.state = AT_DEPOT
                self.idle_count[tr.depot.number] += 1

    def _unload(self, t_s: float) -> None:
        if not self._pending or self._pending_min > t_s + 1e-9:
            return
        keep = []
        for t_done, site, load in self._pending:
            if t_done <= t_s + 1e-9:
                self.on_way[site] -= load
                self.delivered[site] += load
            else:
                keep.append((t_done, site, load))
        self._pending = keep
        self._pending_min = min((p[0] for p in keep), default=np.inf)
        np.maximum(self.on_way, 0.0, out=self.on_way)  # clears -0.0 round-off only

    def _review(self, t_s: float, persons: np.ndarray) -> None:
        need = persons[:, None].astype(np.float64) * self.need[None, :]
        short = need - self.site_stock0 - self.delivered - self.on_way
        short = np.where(short > _EPS_UNITS, short, 0.0)
        short_kg = short @ self.kg
        settled = persons == self._last_persons
        self._last_persons = persons.copy()
        sites = np.flatnonzero(short_kg > 0)
        if sites.size == 0 or not self.trucks:
            return
        sites = sites[np.lexsort((sites, -short_kg[sites]))]
        available = self.depot_has_trucks & (self.available_s <= t_s + 1e-9)
        for p in sites:
            self._serve(int(p), short[p], bool(settled[p]), available, t_s)

    def _serve(self, p: int, short: np.ndarray, settled: bool, available: np.ndarray,
               t_s: float) -> None:
        cost = None  # the tree toward the site is built only if some depot could serve it
        while short @ self.kg > 0:
            lacks = short > _EPS_UNITS
            holds = available & (self.stock[:, lacks] > _EPS_UNITS).any(axis=1)
            if not holds.any():
                return
            if cost is None:
                cost = self.sf.travel_s(self.depot_node, int(self.site_node[p]))
            holds &= np.isfinite(cost)
            if not holds.any():
                return
            level = self.depot_level[holds].min()
            cand = np.flatnonzero(holds & (self.depot_level == level))
            idle = cand[self.idle_count[cand] > 0]
            if idle.size == 0:
                if not self.escalate_when_busy:
                    return  # this level's trucks are all out: wait for them
                available = available & (self.depot_level != level)  # ask the next level
                continue
            d = int(idle[np.lexsort((idle, cost[idle]))[0]])  # nearest, ties: lower index
            tr = next(tr for tr in self.depots[d].trucks if tr.state == AT_DEPOT)
            want = np.minimum(short, self.stock[d])
            mass = float(want @ self.kg)
            if mass <= 0:
                return
            load = want * min(1.0, tr.payload_kg / mass)
            if float(load @ self.kg) < min(self.min_load_kg, tr.payload_kg) and not settled:
                return
            self.stock[d] -= load
            np.maximum(self.stock[d], 0.0, out=self.stock[d])
            self.on_way[p] += load
            short = np.where(short - load > _EPS_UNITS, short - load, 0.0)
            tr.load = load.copy()
            tr.site = p
            tr.trips += 1
            self.sf.send(tr.row, int(self.site_node[p]), t_s + self.load_s)
            self.state[tr.number] = tr.state = TO_SITE
            self.idle_count[d] -= 1

    # ------------------------------------------------------------------ output
    def supply(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stock arriving at sites: (site int64[K], t_s float64[K], amount float64[K, I]).

        Pre-positioned stock enters at ``t = -inf`` (it is there before anybody arrives);
        deliveries at their unload time, including unloads due after the last step.
        """
        n_items = len(self.need)
        sites = [np.arange(len(self.site_node))]
        times = [np.full(len(self.site_node), -np.inf)]
        amounts = [self.site_stock0]
        if self.deliveries:
            d = self.deliveries
            amount = np.zeros((len(d), n_items))
            amount[np.arange(len(d)), [r[4] for r in d]] = [r[5] for r in d]
            sites.append(np.array([r[2] for r in d], np.int64))
            times.append(np.array([r[3] for r in d], np.float64))
            amounts.append(amount)
        return np.concatenate(sites), np.concatenate(times), np.concatenate(amounts)

    def deliveries_frame(self, site_names: np.ndarray) -> pd.DataFrame:
        """``deliveries`` table: truck, depot, shelter site, item, amount, unload time."""
        items = self.plan.items
        rows = [(truck, self.depots[depot].name, int(site), str(site_names[site]), items[i],
                 amount, t_done) for truck, depot, site, t_done, i, amount in self.deliveries]
        cols = ["truck", "depot", "site", "shelter", "item", "amount", "t_s"]
        df = pd.DataFrame(rows, columns=cols)
        return df.astype({"truck": "int64", "site": "int64", "amount": "float64",
                          "t_s": "float64"})

    def stock_frame(self) -> pd.DataFrame:
        """``stock`` table: per review and item, depots / trucks / delivered / initial."""
        init = self.initial.sum(axis=0)
        rows = []
        for t_s, dep, trucks, deliv in self.samples:
            for i, item in enumerate(self.plan.items):
                rows.append((t_s, item, dep[i], trucks[i], deliv[i], init[i]))
        cols = ["t_s", "item", "in_depots", "in_trucks", "delivered", "initial"]
        return pd.DataFrame(rows, columns=cols).astype({c: "float64" for c in cols
                                                       if c != "item"})


# --------------------------------------------------------------------------- relief measure


def fifo_relief(site: np.ndarray, safe_s: np.ndarray, persons: np.ndarray, need: np.ndarray,
                supply_site: np.ndarray, supply_t: np.ndarray, supply_amount: np.ndarray
                ) -> np.ndarray:
    """When each group is relieved under first-come-first-served stock allocation.

    Parameters
    ----------
    site
        int64[G]: site of each group (-1: not at a site; gets NaN).
    safe_s
        float64[G]: when the group reached the site, s (NaN: never; gets NaN).
    persons
        int64[G]: persons per group (> 0).
    need
        float64[I]: units of each item one person needs.
    supply_site, supply_t, supply_amount
        Stock arriving at sites: site int64[K], time float64[K] (``-inf`` for stock held
        from the start), units float64[K, I].

    Returns
    -------
    float64[G]
        Relief time, s: ``max(safe_s, first time the site's cumulative supply of every
        item covers the cumulative need of the groups that arrived up to and including
        this one)``; NaN if never. Groups at one site are ordered by ``safe_s``, ties by
        their index.
    """
    site = np.asarray(site, np.int64)
    safe = np.asarray(safe_s, np.float64)
    persons = np.asarray(persons, np.float64)
    need = np.asarray(need, np.float64)
    out = np.full(site.shape[0], np.nan)
    ok = np.flatnonzero((site >= 0) & np.isfinite(safe))
    if ok.size == 0:
        return out
    order = ok[np.lexsort((ok, safe[ok], site[ok]))]
    s_sorted = site[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    ends = np.r_[starts[1:], order.size]
    items = np.flatnonzero(need > 0)
    supply_site = np.asarray(supply_site, np.int64)
    supply_t = np.asarray(supply_t, np.float64)
    supply_amount = np.asarray(supply_amount, np.float64).reshape(supply_t.size, need.size)
    for a, b in zip(starts, ends, strict=True):  # loop over sites (hundreds), not people
        g = order[a:b]
        cover = np.full(g.size, -np.inf)
        rows = np.flatnonzero(supply_site == s_sorted[a])
        rows = rows[np.argsort(supply_t[rows], kind="stable")]
        t_sup = supply_t[rows]
        cum_persons = np.cumsum(persons[g])
        for i in items:
            req = cum_persons * need[i]
            cum = np.cumsum(supply_amount[rows, i])
            # Tolerance: sums of a few thousand float loads; 1e-9 relative is far below a unit.
            pos = np.searchsorted(cum, req * (1.0 - 1e-9) - 1e-9, side="left")
            t_i = np.where(pos < t_sup.size, t_sup[np.minimum(pos, max(t_sup.size - 1, 0))],
                           np.inf) if t_sup.size else np.full(g.size, np.inf)
            cover = np.maximum(cover, t_i)
        rel = np.maximum(safe[g], cover)
        out[g] = np.where(np.isfinite(rel), rel, np.nan)
    return out


def attribute_delay(affected_s: np.ndarray, rescued_s: np.ndarray, safe_s: np.ndarray,
                    relieved_s: np.ndarray, t_end_s: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each group's time to relief into waiting for rescue, travelling, waiting for supplies.

    Milestones ``affected <= rescued <= safe <= relieved`` (NaN: not reached) are clipped
    to ``t_end_s`` (the horizon), so for a group never relieved the parts add up to the time
    it spent affected within the horizon. Evacuees have ``rescued = affected``.

    Returns
    -------
    wait_rescue_s, travel_s, wait_supplies_s : float64[G]
    """
    end = float(t_end_s)

    def clip(a):
        a = np.asarray(a, np.float64)
        return np.minimum(np.where(np.isfinite(a), a, end), end)

    a, r, s, v = clip(affected_s), clip(rescued_s), clip(safe_s), clip(relieved_s)
    r = np.maximum(r, a)
    s = np.maximum(s, r)
    v = np.maximum(v, s)
    return r - a, s - r, v - s

