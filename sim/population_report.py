"""Before the run: where the people are, per zone, and a warning wherever it looks wrong.

A population that sits on one node of the map, or at a zone's centre point because the
map has nothing residential there, makes every evacuation time an artefact of the
placement (issue 11). :func:`population_report` measures, per zone: persons,
households, distinct home nodes, the largest share of the zone's persons on one node,
the residential buildings and residential land the map has there, and how the homes
were placed. :func:`report_warnings` lists what must not pass silently; the model logs
each as a ``population_warning`` event, the run's ``metrics.json`` carries them under
``population.warnings`` and the run summary prints them.

"Home node" is the household's drive node (every household has one; walkers' walk
nodes are reported alongside as ``home_walk_nodes``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from sim.homes import ORIGIN_AREA, ORIGIN_BUILDING, ORIGIN_CELL, ORIGIN_CENTRE
from sim.network.roadnet import RoadNetwork
from sim.population import Population

WARN_MIN_NODES = 5
"""A zone whose persons use fewer home nodes than this is warned about. Assumption: a
handful of loading points for a whole zone concentrates its departures on one or two
links, which the ETE then measures (issue 11: 9,213 households on one node)."""

WARN_NODE_SHARE = 0.25
"""A zone with more than this share of its persons on one node is warned about.
Assumption: a quarter of a zone loading at one point is an artefact of the map, not a
neighbourhood (the placement itself keeps a node below 5 % where buildings allow,
:data:`sim.homes.MAX_NODE_SHARE`)."""

WARN_MIN_PERSONS = 50
"""Zones with fewer persons are not judged on nodes: a hamlet legitimately uses few."""

_ORIGINS = {ORIGIN_BUILDING: "buildings", ORIGIN_AREA: "residential_areas",
            ORIGIN_CENTRE: "zone_centre", ORIGIN_CELL: "raster_cells"}


def population_report(pop: Population, net: RoadNetwork, *, source: str) -> dict:
    """Per-zone placement numbers and the warnings they raise (JSON-ready).

    Parameters
    ----------
    pop
        The placed households.
    net
        The map (for its residential buildings and areas per zone).
    source
        ``[population] source`` of the scenario.

    Returns
    -------
    dict
        ``source``, ``persons``, ``zones`` (list of per-zone dicts: ``zone``, ``persons``,
        ``households``, ``home_nodes``, ``home_walk_nodes``, ``max_node_share`` (None
        without persons), ``residential_buildings``, ``residential_floor_m2``,
        ``residential_land_m2``, ``placed_on`` ({how: persons})), ``zones_without_homes``
        (zone names with no residential building and no residential land), ``warnings``
        (see :func:`report_warnings`).
    """
    b = net.building_table()
    homes = b.residential_use()
    floor = b.floor_area_m2()
    res = net.residential
    tags = list(res.tags) if len(res.tags) == len(res) else [{}] * len(res)
    res_zone = np.array([str((t or {}).get("zone", "")) for t in tags], dtype=str)
    res_land = np.asarray(res.kind, dtype=str) == "residential"
    names = list(pop.zone_names)
    for z in map(str, net.zones.name):
        if z not in names:
            names.append(z)
    origin = pop.home_origin if pop.home_origin is not None else np.full(len(pop), ORIGIN_AREA)
    rows = []
    for zi, name in enumerate(names):
        m = pop.zone == zi if zi < len(pop.zone_names) else np.zeros(len(pop), bool)
        persons = pop.persons[m].astype(np.int64)
        total = int(persons.sum())
        nodes, inv = np.unique(pop.home_drive_node[m], return_inverse=True)
        per_node = np.bincount(inv, weights=persons) if nodes.size else np.zeros(0)
        key = "" if name == "(unzoned)" else name
        in_zone = np.asarray(b.zone, dtype=str) == key
        rows.append({
            "zone": name, "persons": total, "households": int(np.count_nonzero(m)),
            "home_nodes": int(nodes.size),
            "home_walk_nodes": int(np.unique(pop.home_walk_node[m]).size),
            "max_node_share": float(per_node.max() / total) if total else None,
            "residential_buildings": int(np.count_nonzero(homes & in_zone)),
            "residential_floor_m2": float(floor[homes & in_zone].sum()),
            "residential_land_m2": float(res.area_m2[res_land & (res_zone == key)].sum()),
            "placed_on": {_ORIGINS[int(o)]: int(persons[origin[m] == o].sum())
                          for o in np.unique(origin[m])},
        })
    out = {
        "source": source, "persons": pop.n_persons, "zones": rows,
        "zones_without_homes": [r["zone"] for r in rows if r["residential_buildings"] == 0
                                and r["residential_land_m2"] == 0.0],
    }
    out["warnings"] = report_warnings(out, pop.notes)
    return out


def report_warnings(report: dict, notes: tuple = ()) -> list[dict]:
    """What must not pass silently, one dict per warning.

    Codes: ``zone_centre`` (the zone's persons were put at its centre point: nothing
    residential there), ``no_residential`` (a zone with persons has no residential
    building and no residential land), ``few_nodes`` (fewer than
    :data:`WARN_MIN_NODES` home nodes, or more than :data:`WARN_NODE_SHARE` of the
    persons on one node, for a zone of at least :data:`WARN_MIN_PERSONS` persons),
    ``untyped_buildings`` / ``landuse`` (a placement fallback, :mod:`sim.homes`),
    ``land_without_buildings`` (source ``buildings``: a zone with residential land but
    no home footprint got nobody).

    Returns
    -------
    list[dict]
        ``zone``, ``code``, ``persons``, ``home_nodes``, ``max_node_share``, ``count``.
    """
    out = []
    for r in report["zones"]:
        base = {"zone": r["zone"], "persons": r["persons"], "home_nodes": r["home_nodes"],
                "max_node_share": r["max_node_share"], "count": 0}
        if r["persons"] == 0:
            if report["source"] == "buildings" and r["residential_land_m2"] > 0:
                out.append({**base, "code": "land_without_buildings"})
            continue
        if r["placed_on"].get("zone_centre", 0) > 0:
            out.append({**base, "code": "zone_centre", "count": r["placed_on"]["zone_centre"]})
        if r["zone"] in report["zones_without_homes"]:
            out.append({**base, "code": "no_residential"})
        if r["persons"] >= WARN_MIN_PERSONS and (
                r["home_nodes"] < WARN_MIN_NODES or r["max_node_share"] > WARN_NODE_SHARE):
            out.append({**base, "code": "few_nodes"})
    zones = {r["zone"]: r for r in report["zones"]}
    for zone, code, count in notes:
        r = zones.get(zone, {"persons": report["persons"], "home_nodes": None,
                             "max_node_share": None})
        out.append({"zone": zone, "code": code, "persons": r["persons"],
                    "home_nodes": r["home_nodes"], "max_node_share": r["max_node_share"],
                    "count": int(count)})
    return out


def warning_text(w: dict, lang: Literal["en", "zh"] = "en") -> str:
    """One line for a warning of :func:`report_warnings`, in ``lang``."""
    from sim.i18n import t

    share = w.get("max_node_share")
    return t(f"population_report.warn.{w['code']}", lang, zone=w["zone"],
             persons=int(w["persons"]), nodes=w.get("home_nodes") or 0,
             share=100.0 * (share or 0.0), count=int(w.get("count") or 0))


def report_lines(report: dict, lang: Literal["en", "zh"] = "en") -> list[str]:
    """The population report as text: a title, one line per zone, then the warnings."""
    from sim.i18n import t

    lines = [t("population_report.title", lang, source=report["source"],
               persons=report["persons"])]
    for r in report["zones"]:
        share = r["max_node_share"]
        lines.append(t("population_report.zone", lang, zone=r["zone"], persons=r["persons"],
                       households=r["households"], nodes=r["home_nodes"],
                       share=100.0 * (share or 0.0), buildings=r["residential_buildings"],
                       land_ha=r["residential_land_m2"] / 1e4))
    if report["zones_without_homes"]:
        lines.append(t("population_report.without_homes", lang,
                       zones=", ".join(report["zones_without_homes"])))
    lines += [warning_text(w, lang) for w in report["warnings"]]
    return lines
