"""The earthquake's record of a run: the tables and the PGA map arrays.

``buildings`` (one row per building), ``links`` (closed or slowed links), ``summary``
(one row, in four parts: the event, the buildings, the people, the roads) and the PGA
map arrays; :mod:`sim.results` writes them to the run folder as
``hazard/earthquake_*.csv`` and ``hazard/earthquake.npz``, :mod:`analysis.earthquake`
reads them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.hazards.earthquake.buildings import Inventory
from sim.hazards.earthquake.fragility import CODES, DAMAGE_STATES
from sim.hazards.earthquake.roads import RoadDamage, RoadExposure
from sim.hazards.terrain import Grid
from sim.network.roadnet import RoadNetwork

if TYPE_CHECKING:
    from sim.hazards.earthquake.rupture import Rupture
    from sim.hazards.earthquake.spec import EarthquakeSpec

__all__ = ["buildings_table", "damage_summary", "event_summary", "links_table",
           "occupant_counts", "people_summary", "pga_arrays", "road_summary"]

_SEVERITY_COLS = [f"casualties_s{s}" for s in (1, 2, 3, 4)]


def occupant_counts(out: dict[str, np.ndarray], n_buildings: int) -> dict[str, np.ndarray]:
    """Persons per building, int64[B] each.

    Keys ``occupants``, ``casualties_s1`` … ``casualties_s4`` (by HAZUS severity) and
    ``displaced`` (alive, in a household that must leave). ``out`` is what
    :func:`sim.hazards.earthquake.damage.people_outcomes` returns.
    """
    pb = out["person_building"]
    inb = pb >= 0
    sev, alive, hh = out["severity"], out["alive"], out["person_hh"]
    return {
        "occupants": np.bincount(pb[inb], minlength=n_buildings),
        **{c: np.bincount(pb[inb & (sev == k)], minlength=n_buildings)
           for k, c in enumerate(_SEVERITY_COLS, start=1)},
        "displaced": np.bincount(pb[inb & alive & out["displaced"][hh]], minlength=n_buildings),
    }


def buildings_table(inv: Inventory, dmg: dict[str, np.ndarray], counts: dict[str, np.ndarray],
                    trapped: np.ndarray, node: np.ndarray) -> pd.DataFrame:
    """One row per building: place, position (map metres), class, PGA (g), damage, people.

    ``counts`` is what :func:`occupant_counts` returns, ``trapped`` persons trapped per
    building, ``node`` the drive node nearest each building.
    """
    nb = len(inv)
    return pd.DataFrame({
        "building": np.arange(nb), "place": inv.place, "x_m": inv.x_m, "y_m": inv.y_m,
        "class": inv.class_names(),
        "code": np.asarray(CODES, dtype=object)[inv.code],
        "levels": inv.levels.astype(np.int64), "occupants": counts["occupants"],
        "pga_g": dmg["pga"], "damage_state": np.asarray(DAMAGE_STATES, object)[dmg["ds"]],
        "collapsed": dmg["collapse"], "trapped": trapped,
        **{c: counts[c] for c in _SEVERITY_COLS}, "displaced": counts["displaced"],
        "node": node,
    })


def links_table(net: RoadNetwork, link_rows: list) -> pd.DataFrame:
    """Closed or slowed links with their end nodes and coordinates (map metres).

    ``link_rows`` are :attr:`sim.hazards.earthquake.roads.RoadDamage.rows`.
    """
    nodes = net.nodes
    lrows = []
    for network, li, reason, buried, ds, f in link_rows:
        links = net.drive if network == "drive" else net.walk
        a, b = links.from_node[li], links.to_node[li]
        lrows.append((network, li, int(a), int(b), float(nodes.x_m[a]), float(nodes.y_m[a]),
                      float(nodes.x_m[b]), float(nodes.y_m[b]), float(links.length_m[li]),
                      reason, buried, ds, f))
    return pd.DataFrame(lrows, columns=[
        "network", "link", "from_node", "to_node", "x0_m", "y0_m", "x1_m", "y1_m",
        "length_m", "reason", "buried_m", "damage_state", "factor"])


def event_summary(s: EarthquakeSpec, t_s: float, magnitudes: tuple[float, float],
                  rupture: Rupture, eta: float) -> dict:
    """The event part of the summary row: time (s), model, (Mw, Ms), source, η."""
    mw, ms = magnitudes
    return {
        "name": s.name, "t_s": float(t_s), "gmpe": s.gmpe, "mw": mw, "ms": ms,
        "depth_km": s.depth_km, "mechanism": s.mechanism,
        "epicentre_x_m": rupture.epi_x, "epicentre_y_m": rupture.epi_y,
        "strike_deg": rupture.strike_deg, "variability": s.variability,
        "between_event_eta": eta,
    }


def damage_summary(inv: Inventory, dmg: dict[str, np.ndarray]) -> dict:
    """The buildings part of the summary row: counts by damage state, PGA (g)."""
    nb = len(inv)
    ds_counts = np.bincount(dmg["ds"], minlength=5)
    return {
        "inventory": inv.source, "buildings": nb,
        **{f"buildings_{n}": int(c) for n, c in zip(DAMAGE_STATES, ds_counts, strict=True)},
        "buildings_collapsed": int(np.count_nonzero(dmg["collapse"])),
        "pga_max_g": float(dmg["pga"].max()) if nb else 0.0,
        "pga_median_buildings_g": float(np.median(dmg["pga"])) if nb else 0.0,
    }


def people_summary(out: dict[str, np.ndarray], counts: dict[str, np.ndarray]) -> dict:
    """The people part of the summary row: persons and households by outcome."""
    inb = out["person_building"] >= 0
    sev, alive, hh = out["severity"], out["alive"], out["person_hh"]
    trapped_alive = int(np.count_nonzero(alive & out["trapped"][hh]))
    injured = alive & (sev >= 1) & ~out["trapped"][hh]
    return {
        "population": int(out["persons"].sum()),
        "persons_in_buildings": int(counts["occupants"].sum()),
        **{c: int(counts[c].sum()) for c in _SEVERITY_COLS},
        "persons_killed": int(np.count_nonzero(inb & ~alive)),
        "persons_trapped": trapped_alive,
        "persons_injured_not_trapped": int(np.count_nonzero(injured)),
        "persons_displaced": int(counts["displaced"].sum()),
        "households_trapped": int(np.count_nonzero(out["trapped"])),
        "households_stranded": int(np.count_nonzero(out["stranded"])),
        "households_displaced": int(np.count_nonzero(out["displaced"])),
    }


def road_summary(s: EarthquakeSpec, net: RoadNetwork, roads: RoadExposure,
                 damage: RoadDamage) -> dict:
    """The roads part of the summary row: km closed / slowed, links, bridges, tunnels."""
    drive_f, walk_f = damage.drive_factor, damage.walk_factor
    # Road length counts each street once (a two-way street is two links).
    per_road = net.drive.length_m / np.where(roads.drive_two_way, 2.0, 1.0)
    return {
        "road_km_closed": float(per_road[drive_f == 0].sum() / 1000.0),
        "road_km_slowed": float(per_road[(drive_f > 0) & (drive_f < 1)].sum() / 1000.0),
        "drive_links_closed": int(np.count_nonzero(drive_f == 0)),
        "walk_links_affected": int(np.count_nonzero(walk_f < 1)),
        "bridges_assessed": roads.bridges.n, "bridges_closed": int(np.count_nonzero(
            damage.bridge_ds >= DAMAGE_STATES.index(s.bridge_close_state))),
        "tunnels_assessed": roads.tunnels.n,
    }


def pga_arrays(g: Grid, pga: np.ndarray, pga_median: np.ndarray,
               rupture: Rupture) -> dict[str, np.ndarray]:
    """The PGA map: realisation and median on ``g`` plus the source geometry.

    ``pga`` and ``pga_median`` are per site, g; their last ``g.nx · g.ny`` entries are the
    map cells. Keys are those of :meth:`sim.hazards.earthquake.EarthquakeHazard.arrays`.
    """
    n_grid = g.nx * g.ny
    return {
        "pga_g": pga[-n_grid:].reshape(g.ny, g.nx).astype(np.float32),
        "pga_median_g": pga_median[-n_grid:].reshape(g.ny, g.nx).astype(np.float32),
        "x0_m": np.array(g.x0_m), "y0_m": np.array(g.y0_m), "cell_m": np.array(g.cell_m),
        "epicentre_xy_m": np.array([rupture.epi_x, rupture.epi_y]),
        "trace_xy_m": np.asarray(rupture.trace_xy, np.float64).reshape(-1, 2),
    }
