"""Exposure of the population to a chemical release: what people breathe, and its harm.

At every update of :class:`sim.hazards.chemical.ChemicalHazard` the mixin here computes the
outdoor concentration at every household, accumulates what each one breathes (outdoor air,
or a one-box air-exchange model at home, kernel :mod:`sim.core.plume`), turns toxic loads
into injuries and deaths (probit, sampled per person) and closes the links inside the
current AEGL-3 zone. Assumptions: the module docstring of :mod:`sim.hazards.chemical.hazard`.
"""

from __future__ import annotations

import numpy as np

from sim.core import plume
from sim.hazards.base import HazardUpdate, Incident, PeopleView
from sim.states import SHELTERED


class _ExposureMixin:
    """Exposure, outcomes and closures of :class:`sim.hazards.chemical.ChemicalHazard`.

    Relies on what :meth:`ChemicalHazard.bind <sim.hazards.chemical.ChemicalHazard.bind>`
    sets (the puffs, the link midpoints, the drive nodes, the receptor, ``aegl_ppm``,
    ``injury_load``, ``rng``) and on its ``puffs_at``, ``_ppm``, ``_active``,
    ``protective_actions``, ``_record`` and ``_require_bound``.
    """

    def update(self, t_s: float, people: PeopleView) -> HazardUpdate:
        """Exposure, outcomes and closures at ``t_s`` (see the module docstring)."""
        self._require_bound()
        t_s = float(t_s)
        if not self._people_ready:
            self._init_people(t_s, people)
        puffs = self.puffs_at(t_s)
        active = bool(puffs.x_m.size) and (t_s <= self.t_clear_s or self._active(puffs))
        self._cur = 1 - self._cur  # two buffers: this update's and the previous one's
        c_now = self._bufs[self._cur]
        if active:
            self._ppm(puffs, people.x_m, people.y_m, out=c_now)
        else:
            c_now[:] = 0.0
        indoors = np.asarray(people.indoors, dtype=bool)
        if self.spec.shelters_outdoor:
            indoors = indoors & (np.asarray(people.state) != self._sheltered_code)
        rx, ry = np.array([self.receptor_xy[0]]), np.array([self.receptor_xy[1]])
        rec_now = self._ppm(puffs, rx, ry) if active else np.zeros(1)
        dt = t_s - self._t_prev
        if dt > 0.0:
            kw = {
                "dt_s": dt,
                "air_changes_per_h": self.spec.air_changes_per_h,
                "exponent": self.substance.toxic_load_exponent,
            }
            plume.exposure_step(self.ex, self._bufs[1 - self._cur], c_now, indoors, **kw)
            plume.exposure_step(
                self._receptor_ex, self._receptor_prev, rec_now, np.ones(1, bool), **kw
            )
        self._receptor_prev = rec_now
        self._t_prev = t_s
        incidents, stranded = self._outcomes(t_s, people)
        drive, walk = self._closures(puffs, active)
        self._record(t_s)
        return HazardUpdate(
            drive_factor=drive, walk_factor=walk, stranded=stranded, incidents=incidents,
            dead=None if stranded is None else self.deaths.copy(),
        )

    def _init_people(self, t_s: float, people: PeopleView) -> None:
        n = people.x_m.shape[0]
        persons = np.asarray(people.persons, dtype=np.int64)
        self._sheltered_code = int(SHELTERED)
        self.persons = persons
        self.ex = plume.new_exposure(n)
        self._bufs = [np.zeros(n), np.zeros(n)]
        self._cur = 0
        self._t_prev = t_s
        # Each person's tolerance: dies when the probit probability of the load exceeds it.
        self._start = np.concatenate([[0], np.cumsum(persons)]).astype(np.int64)
        self._tolerance = self.rng.random(int(self._start[-1]))
        self.deaths = np.zeros(n, dtype=np.int64)
        self._load_seen = np.zeros(n)
        self._hurt_reported = np.zeros(n, dtype=np.int64)
        self.injured = np.zeros(n, dtype=np.int64)
        if not hasattr(self, "actions") or self.actions.shape[0] != n:
            # The model may have asked already (with sub-districts); else from the homes now.
            self.actions = (
                self.protective_actions(people.x_m, people.y_m)
                if not self.spec.zone_actions
                else np.full(n, -1, dtype=np.int8)
            )
        self._people_ready = True

    def _outcomes(self, t_s: float, people: PeopleView) -> tuple[list[Incident], np.ndarray | None]:
        load = self.ex.load
        rows = np.flatnonzero(load != self._load_seen)  # only households that breathed more
        if rows.size == 0:
            return [], None  # nobody breathed more: no new outcome
        self._load_seen[rows] = load[rows]
        deaths = plume.count_below(
            self._tolerance, self._start, self.substance.death_probability(load[rows]), rows
        )
        # Injured = alive persons past the injury load; someone injured who dies later
        # moves to the deaths (reported again, as fatal), never counted twice.
        injured = np.where(load[rows] >= self.injury_load, self.persons[rows] - deaths, 0)
        # New outcomes of these rows only (the others have none): int64, as rows ascend
        # the households below come out in household order.
        new_dead = (deaths - self.deaths[rows]).astype(np.int64)
        new_hurt = np.maximum(injured - self._hurt_reported[rows], 0).astype(np.int64)
        self._hurt_reported[rows] = np.maximum(self._hurt_reported[rows], injured)
        self.deaths[rows] = deaths
        self.injured[rows] = injured
        incidents: list[Incident] = []
        for kind, counts, severity, note in (
            ("injured", new_dead, 4, "fatal chlorine-type exposure (probit)"),
            ("exposed", new_hurt, 2, "above the AEGL-2 toxic load"),
        ):
            some = counts > 0
            hh = rows[some]
            if hh.size == 0:
                continue
            _, j = self._node_tree.query(np.column_stack([people.x_m[hh], people.y_m[hh]]))
            j = np.asarray(j, dtype=np.int64)
            per_node = np.bincount(j, weights=counts[some], minlength=len(self._node_ids))
            for k in np.flatnonzero(per_node):
                incidents.append(
                    Incident(
                        t_s=t_s,
                        kind=kind,
                        hazard="chemical",
                        x_m=float(self._node_xy[k, 0]),
                        y_m=float(self._node_xy[k, 1]),
                        node=int(self._node_ids[k]),
                        persons=int(per_node[k]),
                        severity=severity,
                        note=note.replace("chlorine-type", self.substance.key),
                    )
                )
        # Survivors of a household with a death wait for help (the dead are counted apart).
        stranded = rows[new_dead > 0].astype(np.int64)
        return incidents, (stranded if stranded.size else None)

    def _closures(
        self, puffs: plume.Puffs, active: bool
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        out = []
        for name in ("drive", "walk"):
            mx, my, _ = self._links[name]
            closed = (
                (self._ppm(puffs, mx, my) >= self.aegl_ppm[2])
                if active
                else np.zeros(mx.size, bool)
            )
            if np.array_equal(closed, self._closed[name]):
                out.append(None)
                continue
            self._closed[name] = closed
            out.append(np.where(closed, 0.0, 1.0))
        return out[0], out[1]

