"""Rescue: incidents, teams and the dispatcher (Mesa agents over the shared traffic).

Incidents come from the hazards (:class:`sim.hazards.base.Incident`: stranded, trapped,
injured, exposed). The plan says, per kind, which capability a team needs, how long the
work on site takes (``work_min + work_min_per_person * persons``) and where the people
go afterwards (a hospital, a shelter, or nowhere: helped in place).

Life of a team: at its station → driving to an incident → working on site → driving the
rescued to the nearest hospital or shelter (if the kind needs it) → handing over →
next incident, or back to the station. Every leg is a trip of the team's vehicle in the
shared fleet (:class:`sim.service_fleet.ServiceFleet`), so teams queue in the same
traffic as the residents. Times are exact: a leg that starts after work or hand-over is
released at that exact time and parks until then (the kernel keeps future release
times), so nothing is rounded to the tick.

Dispatch rule (one pass per step, in priority order):

- priority: current severity, highest first; then creation time, earliest first; then
  incident id. Severity rises by one for every ``dispatch.escalate_min`` minutes an
  incident waits without a team on site, up to ``dispatch.max_severity``;
- a team is *available* when it is at its station, driving back to it, or finishing
  its job on site (or its hand-over) within the tick being decided; such a team is sent
  on directly from where it is, leaving the moment it is free;
- among available teams with the needed capability, the one with the earliest arrival
  estimate wins: ``max(free_at, created + delay_s) - now + route cost`` on the current
  link costs (the same trees the vehicles follow). Ties go to the lower team number;
  unreachable teams never win; an incident no capable team can reach waits;
- a team leaves no earlier than ``created + dispatch.delay_s`` (call handling and
  turn-out). A team already driving back can be redirected only once that moment has
  passed (its route changes from the end of its current link);
- re-assignment: none by priority (a team on its way is never pulled to a worse
  incident); when closures make a team's incident unreachable, the incident goes back to
  the queue and the team heads home (and is available again).

Response time = arrival on site − creation; with an idle team and an empty road it is
``delay_s`` + the free-flow route time, exactly (tests/verification).
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim._errors import ScenarioError
from sim.core import queue
from sim.hazards.base import Incident
from sim.plan import CAPABILITIES, INCIDENT_KINDS, ResolvedPlan
from sim.service_fleet import ServiceFleet

__all__ = ["IncidentBook", "Team", "Dispatcher", "AT_BASE", "TO_INCIDENT", "TO_DEST",
           "RETURNING", "OPEN", "ASSIGNED", "ON_SCENE", "DONE"]

# Team states.
AT_BASE, TO_INCIDENT, TO_DEST, RETURNING = 0, 1, 2, 3
# Incident states.
OPEN, ASSIGNED, ON_SCENE, DONE = 0, 1, 2, 3
OUTCOMES = ("waiting", "assigned", "on_scene", "served")
DEST_KINDS = ("none", "hospital", "shelter")


class IncidentBook:
    """All incidents of a run as growing columns (a few hundred to a few thousand rows).

    Times are seconds since scenario start, NaN until they happen.
    """

    _FLOAT = ("created_s", "dispatched_s", "arrived_s", "finished_s", "delivered_s",
              "work_s", "x_m", "y_m")
    _INT = ("node", "persons", "severity0", "severity_arrival", "cap", "dest_kind", "team",
            "dest_node", "status")

    def __init__(self) -> None:
        self.n = 0
        self.kind: list[str] = []
        self.hazard: list[str] = []
        self.note: list[str] = []
        self._cap = 0
        self._store = {c: np.zeros(0, np.float64) for c in self._FLOAT}
        self._store.update({c: np.zeros(0, np.int64) for c in self._INT})
        for c in self._FLOAT + self._INT:
            setattr(self, c, self._store[c])

    def add(self, incidents: list[Incident], plan: ResolvedPlan) -> np.ndarray:
        """Append incidents; returns their ids."""
        k = len(incidents)
        if k == 0:
            return np.zeros(0, np.int64)
        rules = plan.plan.incidents
        new_f = {c: np.full(k, np.nan) for c in self._FLOAT}
        new_i = {c: np.full(k, -1, np.int64) for c in self._INT}
        for j, inc in enumerate(incidents):
            if inc.kind not in rules:
                msg = (f"{plan.plan.source}: incidents.{inc.kind}: expected a rule for every "
                       f"incident kind the hazards raise (plan lists {sorted(rules)}, known "
                       f"kinds {list(INCIDENT_KINDS)}), got none for {inc.kind!r} from hazard "
                       f"{inc.hazard!r}")
                raise ScenarioError(msg)
            rule = rules[inc.kind]
            persons = max(int(inc.persons), 0)
            new_f["created_s"][j] = float(inc.t_s)
            new_f["x_m"][j] = float(inc.x_m)
            new_f["y_m"][j] = float(inc.y_m)
            new_f["work_s"][j] = 60.0 * (rule.work_min + rule.work_min_per_person * persons)
            new_i["node"][j] = int(inc.node)
            new_i["persons"][j] = persons
            new_i["severity0"][j] = int(inc.severity)
            new_i["cap"][j] = CAPABILITIES.index(rule.capability)
            new_i["dest_kind"][j] = DEST_KINDS.index(rule.destination)
            new_i["status"][j] = OPEN
            self.kind.append(inc.kind)
            self.hazard.append(inc.hazard)
            self.note.append(inc.note)
        if self.n + k > self._cap:  # grow by doubling: appends cost O(1) amortised
            self._cap = max(2 * self._cap, self.n + k, 64)
            for c in self._FLOAT + self._INT:
                old = self._store[c]
                self._store[c] = np.empty(self._cap, old.dtype)
                self._store[c][: self.n] = old[: self.n]
        for c in self._FLOAT:
            self._store[c][self.n: self.n + k] = new_f[c]
        for c in self._INT:
            self._store[c][self.n: self.n + k] = new_i[c]
        ids = np.arange(self.n, self.n + k)
        self.n += k
        for c in self._FLOAT + self._INT:  # the public columns are views of length n
            setattr(self, c, self._store[c][: self.n])
        return ids

    def severity_at(self, ids: np.ndarray, t_s: float, escalate_s: float, max_sev: int
                    ) -> np.ndarray:
        """Severity now: ``severity0 + floor(wait / escalate_s)``, capped; frozen on arrival."""
        wait = np.maximum(t_s - self.created_s[ids], 0.0)
        sev = np.minimum(self.severity0[ids] + np.floor(wait / escalate_s).astype(np.int64),
                         max(max_sev, 1))
        sev = np.maximum(sev, self.severity0[ids])
        done = self.severity_arrival[ids] >= 0
        return np.where(done, self.severity_arrival[ids], sev)


class Team(mesa.Agent):
    """A rescue team with one vehicle (a row of the shared fleet)."""

    def __init__(self, model: mesa.Model, *, number: int, row: int, station: int,
                 station_node: int, kind: str, crew: int, caps: np.ndarray) -> None:
        super().__init__(model)
        self.number = number
        self.row = int(row)
        self.station = int(station)
        self.station_node = int(station_node)
        self.kind = kind
        self.crew = int(crew)
        self.caps = np.asarray(caps, bool)
        self.state = AT_BASE
        self.incident = -1
        self.served = 0


class Dispatcher(mesa.Agent):
    """Assigns incidents to teams and moves teams from leg to leg (see module docstring)."""

    def __init__(self, model: mesa.Model, plan: ResolvedPlan, fleet: ServiceFleet,
                 team_rows: np.ndarray, *, shelter_nodes: np.ndarray) -> None:
        super().__init__(model)
        self.plan = plan
        self.sf = fleet
        d = plan.plan.dispatch
        self.delay_s = float(d.delay_s)
        self.escalate_s = float(d.escalate_min) * 60.0
        self.max_sev = int(d.max_severity)
        self.handover_s = float(d.handover_min) * 60.0
        self.book = IncidentBook()
        self.teams = [
            Team(model, number=i, row=int(team_rows[i]), station=int(plan.team_station[i]),
                 station_node=int(plan.station_node[plan.team_station[i]]),
                 kind=str(plan.team_kind[i]), crew=int(plan.team_crew[i]),
                 caps=plan.team_caps[i])
            for i in range(len(team_rows))
        ]
        self.rows = np.asarray(team_rows, np.int64)
        self.caps = plan.team_caps.astype(bool)
        self.state = np.full(len(self.teams), AT_BASE, np.int8)
        self.hospital_nodes = np.unique(plan.hospital_node.astype(np.int64))
        self.shelter_nodes = np.unique(np.asarray(shelter_nodes, np.int64))
        self._cost_version = fleet.cost_version
        # (persons, node, t_s) of rescued people handed over at shelters, for demand.
        self.handed_over: list[tuple[int, int, float]] = []

    # ------------------------------------------------------------------ one step
    def step(self, t_s: float, new_incidents: list[Incident] | None = None, *,
             dt_s: float = 0.0) -> None:
        """Handle arrivals, closures and new incidents, then dispatch, at time ``t_s``.

        ``t_s`` is the earliest time the next traffic tick ``(t_s, t_s + dt_s]`` will move
        vehicles; everything that happened before it is known. A team still working on
        site is offered for dispatch only in the tick in which it finishes, so the queue
        order reflects priorities at that moment.
        """
        self._arrivals()
        if self.sf.cost_version != self._cost_version:
            self._cost_version = self.sf.cost_version
            self._reassign_unreachable(t_s)
        if new_incidents:
            self.book.add(list(new_incidents), self.plan)
        self._dispatch(t_s, t_s + max(float(dt_s), 0.0))

    # ------------------------------------------------------------------ legs
    def _arrivals(self) -> None:
        f = self.sf.fleet
        moving = self.state != AT_BASE
        if not moving.any():
            return
        hit = np.flatnonzero(moving & (f.state[self.rows] == queue.ARRIVED))
        for i in hit:
            team = self.teams[i]
            ta = float(f.t_arrive_s[team.row])
            if self.state[i] == TO_INCIDENT:
                self._on_site(i, ta)
            elif self.state[i] == TO_DEST:
                inc = team.incident
                self.book.delivered_s[inc] = ta
                self.book.dest_node[inc] = int(f.dest_node[team.row])
                self.book.status[inc] = DONE
                if self.book.dest_kind[inc] == DEST_KINDS.index("shelter"):
                    self.handed_over.append((int(self.book.persons[inc]),
                                             int(f.dest_node[team.row]), ta))
                self._go_home(i, ta + self.handover_s)
            else:  # RETURNING
                self.state[i] = team.state = AT_BASE

    def _on_site(self, i: int, ta: float) -> None:
        b, team = self.book, self.teams[i]
        inc = team.incident
        b.arrived_s[inc] = ta
        b.severity_arrival[inc] = b.severity_at(np.array([inc]), ta, self.escalate_s,
                                                self.max_sev)[0]
        fin = ta + float(b.work_s[inc])
        b.finished_s[inc] = fin
        b.status[inc] = ON_SCENE
        kind = DEST_KINDS[int(b.dest_kind[inc])]
        target = -1
        if kind != "none":
            nodes = self.hospital_nodes if kind == "hospital" else self.shelter_nodes
            if nodes.size:
                target = int(self.sf.nearest(kind, nodes).target[int(b.node[inc])])
        if target < 0:  # helped in place (or no reachable hospital / shelter)
            b.delivered_s[inc] = fin
            b.dest_node[inc] = int(b.node[inc])
            b.dest_kind[inc] = 0
            b.status[inc] = DONE
            self._go_home(i, fin)
            return
        self.sf.send(team.row, target, fin, persons=int(b.persons[inc]))
        self.state[i] = team.state = TO_DEST

    def _go_home(self, i: int, t_s: float) -> None:
        team = self.teams[i]
        if team.incident >= 0 and self.book.status[team.incident] == DONE:
            team.served += 1
        team.incident = -1
        self.sf.send(team.row, team.station_node, t_s)
        self.state[i] = team.state = RETURNING

    def _reassign_unreachable(self, t_s: float) -> None:
        for i in np.flatnonzero(self.state == TO_INCIDENT):
            team = self.teams[i]
            inc = team.incident
            node = self.sf.node_of(team.row)
            if np.isfinite(self.sf.travel_s(np.array([node]), int(self.book.node[inc]))[0]):
                continue
            self.book.status[inc] = OPEN
            self.book.team[inc] = -1
            self.book.dispatched_s[inc] = np.nan
            team.incident = -1
            self.sf.redirect(team.row, team.station_node)
            self.state[i] = team.state = RETURNING

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, t_s: float, t_tick_end: float) -> None:
        b = self.book
        if b.n == 0:
            return
        avail = (self.state == AT_BASE) | (self.state == RETURNING)
        if not avail.any():
            return
        open_ids = np.flatnonzero(b.status == OPEN)
        if open_ids.size == 0:
            return
        # Where and when each team can start its next trip; a team parked until a later
        # tick (still working, handing over) is not offered yet.
        node, free_at, moving = self.sf.where_free(self.rows, t_s)
        avail &= moving | (free_at <= t_tick_end)
        if not avail.any():
            return
        # Only incidents some available team could serve (cheap filter before the loop).
        servable = self.caps[avail].any(axis=0)  # capabilities some free team has
        keep = servable[b.cap[open_ids]]
        if not keep.any():
            return
        open_ids = open_ids[keep]
        sev = b.severity_at(open_ids, t_s, self.escalate_s, self.max_sev)
        order = open_ids[np.lexsort((open_ids, b.created_s[open_ids], -sev))]
        cap_of = b.cap[order]
        k = 0
        while k < order.size:
            # Jump to the next incident a free team can serve: numpy per assignment,
            # not per incident, so thousands of open incidents cost little.
            hits = np.flatnonzero(servable[cap_of[k:]])
            if hits.size == 0:
                return
            k += int(hits[0])
            inc = int(order[k])
            k += 1
            cand = avail & self.caps[:, cap_of[k - 1]]
            ready = float(b.created_s[inc]) + self.delay_s
            if ready > t_s:
                cand &= ~moving  # a moving vehicle cannot be held back until `ready`
            idx = np.flatnonzero(cand)
            if idx.size == 0:
                continue
            cost = self.sf.travel_s(node[idx], int(b.node[inc]))
            eta = np.maximum(free_at[idx], ready) - t_s + cost
            j = int(np.argmin(eta))
            if not math.isfinite(eta[j]):
                continue
            i = int(idx[j])
            self._assign(i, inc, t_s, max(free_at[i], ready), bool(moving[i]))
            avail[i] = False
            servable = self.caps[avail].any(axis=0)

    def _assign(self, i: int, inc: int, t_s: float, t_leave: float, moving: bool) -> None:
        team, b = self.teams[i], self.book
        f = self.sf.fleet
        st = f.state[team.row]
        if st in (queue.IDLE, queue.ARRIVED):
            self.sf.send(team.row, int(b.node[inc]), t_leave)
        elif st == queue.WAITING:
            self.sf.redirect(team.row, int(b.node[inc]), t_s=t_leave)
        else:
            self.sf.redirect(team.row, int(b.node[inc]))
            t_leave = t_s
        b.dispatched_s[inc] = t_leave
        b.team[inc] = i
        b.status[inc] = ASSIGNED
        team.incident = inc
        self.state[i] = team.state = TO_INCIDENT

    # ------------------------------------------------------------------ output
    def incidents_frame(self):
        """``incidents`` table: one row per incident (see :mod:`sim.response`)."""
        import pandas as pd

        b = self.book
        n = b.n
        team = b.team.copy()
        team_name = np.array([f"{self.teams[k].kind}-{k}" if k >= 0 else "" for k in team],
                             dtype=object) if n else np.zeros(0, object)
        sev_now = b.severity_arrival.copy()
        return pd.DataFrame({
            "incident": np.arange(n, dtype=np.int64),
            "kind": np.array(b.kind, dtype=object),
            "hazard": np.array(b.hazard, dtype=object),
            "node": b.node,
            "x_m": b.x_m,
            "y_m": b.y_m,
            "persons": b.persons,
            "severity": b.severity0,
            "severity_on_arrival": sev_now,
            "capability": np.array([CAPABILITIES[c] for c in b.cap], dtype=object),
            "created_s": b.created_s,
            "dispatched_s": b.dispatched_s,
            "arrived_s": b.arrived_s,
            "finished_s": b.finished_s,
            "delivered_s": b.delivered_s,
            "destination": np.array([DEST_KINDS[k] for k in b.dest_kind], dtype=object),
            "dest_node": b.dest_node,
            "team": team,
            "team_name": team_name,
            "wait_s": b.dispatched_s - b.created_s,
            "response_s": b.arrived_s - b.created_s,
            "outcome": np.array([OUTCOMES[s] for s in b.status], dtype=object),
        })
