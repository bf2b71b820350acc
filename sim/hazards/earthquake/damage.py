"""What the shaking does to buildings and to the people inside them.

A damage state per building (HAZUS equivalent-PGA fragilities,
:mod:`sim.hazards.earthquake.fragility`;
Complete split into collapse / no collapse), a casualty severity 1–4 per person (HAZUS
rates of the building's state), the households that are trapped, stranded or displaced,
and one incident per building with people trapped or badly hurt.
"""

from __future__ import annotations

import numpy as np

from sim.core.damage import person_severity
from sim.hazards.base import Incident, PeopleView
from sim.hazards.earthquake.buildings import Inventory, locate_households
from sim.hazards.earthquake.fragility import DAMAGE_STATES, building_tables, sample_states
from sim.network.roadnet import Places

__all__ = ["building_incidents", "building_toll", "damage_buildings", "people_outcomes"]

# Household states that are "at home" (sim.population NOT_WARNED, WARNED, STAYING); literal
# here so importing this module stays light (as in sim.hazards.flood.hazard).
_AT_HOME_STATES = (0, 1, 2)


def damage_buildings(inv: Inventory, pga_b: np.ndarray,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Damage state 0–4 and collapse per building (HAZUS equivalent-PGA curves).

    Parameters
    ----------
    inv : Inventory
    pga_b : float64[B]
        Realised PGA at each building, g.
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``ds`` (0 none … 4 complete), ``collapse`` bool, ``state`` int8 (``ds``, 5 where
        collapsed), ``pga`` (``pga_b``), each [B].
    """
    t = building_tables()
    ds = sample_states(pga_b, inv.median_g(), t.beta, rng.random(len(inv)))
    collapse = (ds == 4) & (rng.random(len(inv)) < t.p_collapse[inv.cls])
    state = np.where(collapse, 5, ds).astype(np.int8)
    return {"ds": ds, "collapse": collapse, "state": state, "pga": pga_b}


def _in_footprints(inv: Inventory, people: PeopleView, at_home: np.ndarray,
                   hh_b: np.ndarray) -> np.ndarray:
    """Households at home in a real footprint: their own building, else the nearest home.

    A household placed on a building (``people.building``) is in that building; one
    placed otherwise (zone table, raster cell) and not in a synthesised building is in
    the nearest home footprint.
    """
    from scipy.spatial import cKDTree

    out = hh_b.copy()
    if people.building is not None:
        row = np.asarray(people.building, np.int64)
        idx = inv.row_index(int(max(inv.building_row.max(initial=-1), row.max(initial=-1))) + 1)
        own = at_home & (row >= 0)
        out[own] = idx[row[own]]
    homes = np.flatnonzero((inv.building_row >= 0) & inv.is_home)
    rest = np.flatnonzero(at_home & (out < 0))
    if rest.size and homes.size:
        _, j = cKDTree(np.column_stack([inv.x_m[homes], inv.y_m[homes]])).query(
            np.column_stack([np.asarray(people.x_m)[rest], np.asarray(people.y_m)[rest]]))
        out[rest] = homes[np.asarray(j, np.int64)]
    return out


def people_outcomes(inv: Inventory, residential: Places, dmg: dict[str, np.ndarray],
                    people: PeopleView, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Put households at home into buildings; casualties, trapped, displaced.

    Parameters
    ----------
    inv : Inventory
    residential : Places
        The map's residential places (``RoadNetwork.residential``).
    dmg : dict
        What :func:`damage_buildings` returns.
    people : PeopleView
        Households at the moment of the earthquake (map metres).
    rng : numpy.random.Generator

    Returns
    -------
    dict
        Per household [H]: ``hh_building`` (−1: not in a building), ``trapped``,
        ``all_dead``, ``critical``, ``stranded``, ``displaced`` (bool), ``persons``.
        Per person [P]: ``severity`` (0 unhurt … 4 killed), ``person_hh``,
        ``person_building`` (−1: not in a building), ``alive``.
    """
    t = building_tables()
    at_home = np.asarray(people.indoors, bool) & np.isin(people.state, _AT_HOME_STATES)
    hh_b = locate_households(inv, residential, np.asarray(people.x_m, np.float64),
                             np.asarray(people.y_m, np.float64), at_home, rng=rng)
    if inv.building_row is not None:
        hh_b = _in_footprints(inv, people, at_home, hh_b)
    persons = np.asarray(people.persons, np.int64)
    n_hh = persons.size
    sev = person_severity(hh_b, dmg["state"], inv.cls, t.rates, persons,
                          rng.random(int(persons.sum())))
    hh = np.repeat(np.arange(n_hh), persons)
    alive = sev < 4
    alive_n = np.bincount(hh[alive], minlength=n_hh)
    worst = np.zeros(n_hh, np.int8)  # worst injury among the living
    np.maximum.at(worst, hh[alive], sev[alive])
    in_b = hh_b >= 0
    b = np.maximum(hh_b, 0)
    if len(dmg["ds"]):
        ds, collapse = dmg["ds"][b], dmg["collapse"][b]
    else:  # a map with no buildings and no residential blocks: nobody is in a building
        ds, collapse = np.zeros(n_hh, np.int8), np.zeros(n_hh, bool)
    # Trapped (assumption, scenarios/README.md): everyone alive in a collapsed
    # building; in a Complete one, households with a hospitalised or worse member.
    trapped = in_b & (alive_n > 0) & (collapse | ((ds == 4) & (worst >= 2)))
    all_dead = in_b & (alive_n == 0) & (persons > 0)
    critical = in_b & ~trapped & (worst >= 3)  # life-threatening: cannot leave unaided
    stranded = trapped | all_dead | critical
    displaced = in_b & (ds >= 3) & ~stranded & (alive_n > 0)
    return {"hh_building": hh_b, "severity": sev, "person_hh": hh, "alive": alive,
            "trapped": trapped, "all_dead": all_dead, "critical": critical,
            "stranded": stranded, "displaced": displaced, "persons": persons,
            "person_building": hh_b[hh]}


def building_toll(out: dict[str, np.ndarray], n_buildings: int) -> dict[str, np.ndarray]:
    """Persons per building: ``trapped``, ``killed``, ``hurt`` and their ``worst`` injury.

    ``hurt`` counts hospitalised or life-threatening people (severity >= 2) who are alive
    and not trapped; ``worst`` is the highest such severity (0 where none), int8. ``out``
    is what :func:`people_outcomes` returns.
    """
    pb = out["person_building"]
    inb = pb >= 0
    alive, sev = out["alive"], out["severity"]
    trapped_p = inb & alive & out["trapped"][out["person_hh"]]
    n_trapped = np.bincount(pb[trapped_p], minlength=n_buildings)
    n_dead = np.bincount(pb[inb & ~alive], minlength=n_buildings)
    hurt = inb & alive & (sev >= 2) & ~trapped_p
    n_hurt = np.bincount(pb[hurt], minlength=n_buildings)
    worst = np.zeros(n_buildings, np.int8)
    np.maximum.at(worst, pb[hurt], sev[hurt])
    return {"trapped": n_trapped, "killed": n_dead, "hurt": n_hurt, "worst": worst}


def building_incidents(t_s: float, inv: Inventory, dmg: dict[str, np.ndarray],
                       toll: dict[str, np.ndarray], node: np.ndarray) -> list[Incident]:
    """Incidents of the earthquake, one per building.

    ``trapped``: a building with people trapped; ``injured``: a building with
    hospitalised / life-threatening people who are not trapped.

    Parameters
    ----------
    t_s : float
        Time of the earthquake, s.
    inv : Inventory
    dmg : dict
        What :func:`damage_buildings` returns.
    toll : dict
        What :func:`building_toll` returns.
    node : int64[B]
        The drive node nearest each building (where responders go).
    """
    n_trapped, n_dead, n_hurt, worst = (toll[k] for k in ("trapped", "killed", "hurt",
                                                          "worst"))
    names = inv.class_names()
    incidents = []
    for b in np.flatnonzero(n_trapped):
        how = "collapsed" if dmg["collapse"][b] else "completely damaged"
        incidents.append(Incident(
            t_s=float(t_s), kind="trapped", hazard="earthquake", x_m=float(inv.x_m[b]),
            y_m=float(inv.y_m[b]), node=int(node[b]), persons=int(n_trapped[b]),
            # Graded by the building (assumption): under a collapse 4, else 3.
            severity=4 if dmg["collapse"][b] else 3,
            note=f"{int(n_trapped[b])} persons trapped in {how} building {int(b)} "
                 f"({names[b]}, {int(inv.levels[b])} storeys; {int(n_dead[b])} dead)"))
    for b in np.flatnonzero(n_hurt):
        incidents.append(Incident(
            t_s=float(t_s), kind="injured", hazard="earthquake", x_m=float(inv.x_m[b]),
            y_m=float(inv.y_m[b]), node=int(node[b]), persons=int(n_hurt[b]),
            severity=int(worst[b]),
            note=f"{int(n_hurt[b])} persons injured (hospital care) in building {int(b)} "
                 f"({names[b]}, {DAMAGE_STATES[int(dmg['ds'][b])]} damage)"))
    return incidents
