"""Earthquake: ground shaking damages buildings, bridges and roads, traps and injures people.

At ``time_min`` (the first update at or after it) the hazard, once:

1. **shakes** every building, bridge, tunnel and a map grid: median PGA/PGV from BSSA14
   or Yu et al. (2013) (:mod:`sim.hazards.earthquake.gmpe`), plus — unless
   ``variability = "none"`` —
   one between-event term τη per run and within-event terms φε that are spatially
   correlated (exponential, range ``correlation_range_km``) or independent per site;
2. **damages** the building inventory (:mod:`sim.hazards.earthquake.buildings`; OSM footprints or,
   where the map has only residential areas, synthesised buildings) by the HAZUS
   equivalent-PGA fragilities, Complete split into collapse / no collapse;
3. **hurts people**: every household at home is put in a building of its block; each
   person draws a casualty severity 1–4 from the HAZUS rates of the building's state;
4. **traps and displaces**: households in collapsed buildings, and in Complete-damage
   buildings with a hospitalised or worse member, are *trapped*; households with a
   life-threatening injury (or nobody left alive) stay too; all of them are returned as
   ``stranded`` (they wait for rescue); the killed are returned as ``dead``. Households
   in Extensive/Complete buildings who are not stranded are *displaced*: they must leave
   for a shelter
   (:meth:`EarthquakeHazard.displaced_departures`);
5. **blocks roads**: debris of collapsed buildings (docs/references.md §3.6) buries part of the
   roads next to them — closed when less than ``debris_pass_width_m`` stays clear, slowed
   otherwise; bridges (HAZUS HWB, Sa(1.0 s)) and tunnels (HTU, PGA) close or slow by
   damage state — where the compiled map flags them (``drive_bridge`` /
   ``drive_tunnel``, from OSM ``bridge=*`` / ``tunnel=*``).

Incidents: one ``trapped`` incident per building with people trapped, one ``injured``
incident per building with hospitalised or life-threatening people who are not trapped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim._errors import ScenarioError
from sim.hazards.base import Hazard, HazardUpdate, PeopleView
from sim.hazards.earthquake.buildings import build_inventory
from sim.hazards.earthquake.damage import (
    building_incidents,
    building_toll,
    damage_buildings,
    people_outcomes,
)
from sim.hazards.earthquake.ground_motion import (
    draw_variability,
    eps_at,
    event_magnitudes,
    map_grid,
    read_vs30,
    vs30_at,
)
from sim.hazards.earthquake.ground_motion import median_ln as _median_ln
from sim.hazards.earthquake.outputs import (
    buildings_table,
    damage_summary,
    event_summary,
    links_table,
    occupant_counts,
    people_summary,
    pga_arrays,
    road_summary,
)
from sim.hazards.earthquake.roads import RoadDamage, road_damage, road_exposure
from sim.hazards.earthquake.rupture import Rupture, rupture_from_spec
from sim.hazards.earthquake.spec import EarthquakeSpec, transport_curve_or_error
from sim.network.roadnet import RoadNetwork

# Re-exported so that `from sim.hazards.earthquake.hazard import ...` keeps working since the
# concepts moved to earthquake_spec, earthquake_rupture, ground_motion, earthquake_damage,
# earthquake_roads and earthquake_outputs.
__all__ = ["EarthquakeHazard", "EarthquakeSpec", "Rupture", "transport_curve_or_error"]


class EarthquakeHazard(Hazard):
    """One earthquake.

    Build with :meth:`from_spec`; the model calls :meth:`bind` once and :meth:`update`
    every ``cadence_s``. All damage happens at the first update at or after ``time_min``;
    later updates change nothing.
    """

    kind = "earthquake"

    def __init__(self, spec: EarthquakeSpec) -> None:
        self.spec = spec
        self.cadence_s = float(spec.cadence_s)
        self.t_quake_s = float(spec.time_min) * 60.0
        self.struck = False
        self._where = f"[[hazards]] earthquake {spec.name!r}"
        self._tables: dict[str, pd.DataFrame] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._displaced = np.zeros(0, np.int64)
        self._displaced_t_s = np.zeros(0, np.float64)

    @classmethod
    def from_spec(cls, spec: EarthquakeSpec) -> EarthquakeHazard:
        """The hazard a validated ``[[hazards]]`` earthquake table describes."""
        return cls(spec)

    # ------------------------------------------------------------------ bind
    def bind(self, net: RoadNetwork, *, rng: np.random.Generator) -> None:
        """Rupture in map metres, building inventory, sites, link indexes; no shaking yet."""
        from pyproj import Transformer
        from scipy.spatial import cKDTree

        s = self.spec
        if net.drive.n_links == 0:
            raise ScenarioError(f"{self._where}: expected a map with drivable roads, got none")
        self.net = net
        inv_rng, self._rng = rng.spawn(2)
        to_map = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
        self.rupture = rupture_from_spec(s, to_map)
        self.inventory = build_inventory(net.residential, s.buildings, rng=inv_rng,
                                         buildings=net.buildings)
        d, nodes = net.drive, net.nodes
        dn = np.unique(np.concatenate([d.from_node, d.to_node])).astype(np.int64)
        self._drive_nodes = dn
        self._node_tree = cKDTree(np.column_stack([nodes.x_m[dn], nodes.y_m[dn]]))
        self.roads = road_exposure(net, s.lane_width_m)
        self.bridges, self.tunnels = self.roads.bridges, self.roads.tunnels
        self.grid = map_grid(nodes, s, net.crs)
        gx, gy = self.grid.centres()
        inv = self.inventory
        self._site_x = np.concatenate([inv.x_m, self.bridges.x_m, self.tunnels.x_m, gx.ravel()])
        self._site_y = np.concatenate([inv.y_m, self.bridges.y_m, self.tunnels.y_m, gy.ravel()])
        self._vs30_grid = read_vs30(s, self.grid) if s.vs30_grid is not None else None
        self._site_vs30 = self._vs30_at(self._site_x, self._site_y)

    def _vs30_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return vs30_at(x, y, vs30_grid=self._vs30_grid, vs30_mps=self.spec.vs30_mps)

    # ------------------------------------------------------------------ shaking
    def magnitudes(self) -> tuple[float, float]:
        """(Mw, Ms) of the event (one given, the other by Cheng et al. 2017)."""
        return event_magnitudes(self.spec)

    def median_ln(self, x: np.ndarray, y: np.ndarray, vs30: np.ndarray) -> tuple[np.ndarray, ...]:
        """Median (ln PGA g, ln PGV cm/s, ln Sa(1.0 s) g, τ, φ) at points (map metres)."""
        return _median_ln(self.spec, self.rupture, x, y, vs30)

    def pga_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Realised PGA (g) at points after the earthquake (see :meth:`value_at`)."""
        ln_pga, _, _, tau, phi = self.median_ln(x, y, self._vs30_at(x, y))
        var = self._variability
        eps = eps_at(var.field, x, y) if var.field is not None else 0.0
        return np.exp(ln_pga + tau * var.eta + phi * eps)

    def value_at(self, t_s: float, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """PGA (g) at points (map metres): 0 before the earthquake, the realisation after.

        With independent within-event terms (``variability = "uncorrelated"``) a new
        point has no realisation of its own; the median times the between-event term is
        returned there.
        """
        x, y = np.asarray(x_m, np.float64), np.asarray(y_m, np.float64)
        if not self.struck:
            return np.zeros(x.shape)
        return self.pga_at(x, y)

    # ------------------------------------------------------------------ update
    def update(self, t_s: float, people: PeopleView) -> HazardUpdate:
        """Nothing before ``time_min``; at the first call at or after it, everything."""
        if self.struck or t_s + 1e-9 < self.t_quake_s:
            return HazardUpdate()
        self.struck = True
        rng = self._rng
        var = self._variability = draw_variability(self.spec, self._site_x, self._site_y,
                                                   self.grid.nx * self.grid.ny, rng)
        ln_pga, ln_pgv, ln_sa, tau, phi = self.median_ln(self._site_x, self._site_y,
                                                         self._site_vs30)
        shift = tau * var.eta + phi * var.eps
        self._pga = np.exp(ln_pga + shift)
        self._pgv = np.exp(ln_pgv + shift)
        self._sa10 = np.exp(ln_sa + shift)
        self._pga_median = np.exp(ln_pga)
        inv = self.inventory
        nb, nbr, ntu = len(inv), self.bridges.n, self.tunnels.n
        dmg = damage_buildings(inv, self._pga[:nb], rng)
        out = people_outcomes(inv, self.net.residential, dmg, people, rng)
        roads = road_damage(self.spec, inv, self.net, self.roads, dmg,
                            self._sa10[nb:nb + nbr], self._pga[nb + nbr:nb + nbr + ntu], rng)
        toll = building_toll(out, nb)
        _, j = self._node_tree.query(np.column_stack([inv.x_m, inv.y_m]))
        node = self._drive_nodes[np.asarray(j, np.int64)]
        incidents = building_incidents(t_s, inv, dmg, toll, node)
        self._displaced = np.flatnonzero(out["displaced"]).astype(np.int64)
        spread = rng.random(self._displaced.size) * self.spec.displaced_spread_min
        self._displaced_t_s = t_s + (self.spec.displaced_delay_min + spread) * 60.0
        self._record(t_s, dmg, out, toll, node, roads)
        stranded = np.flatnonzero(out["stranded"]).astype(np.int64)
        dead = np.bincount(out["person_hh"][~out["alive"]], minlength=len(out["persons"]))
        return HazardUpdate(drive_factor=roads.drive_factor, walk_factor=roads.walk_factor,
                            stranded=stranded, incidents=incidents, dead=dead.astype(np.int64))

    # ------------------------------------------------------------------ output
    def _record(self, t_s: float, dmg, out, toll, node: np.ndarray, roads: RoadDamage) -> None:
        """Keep this run's tables and PGA map (:mod:`sim.hazards.earthquake.outputs`)."""
        s, inv = self.spec, self.inventory
        counts = occupant_counts(out, len(inv))
        summary = {**event_summary(s, t_s, self.magnitudes(), self.rupture,
                                   self._variability.eta),
                   **damage_summary(inv, dmg), **people_summary(out, counts),
                   **road_summary(s, self.net, self.roads, roads)}
        self._tables = {"buildings": buildings_table(inv, dmg, counts, toll["trapped"], node),
                        "links": links_table(self.net, roads.rows),
                        "summary": pd.DataFrame([summary])}
        self._arrays = pga_arrays(self.grid, self._pga, self._pga_median, self.rupture)

    # ------------------------------------------------------------------ displaced
    def displaced_households(self) -> np.ndarray:
        """Households that lost their home and must go to a shelter, int64[k].

        Rows of the population whose building has Extensive or Complete damage and who
        are not stranded (trapped, critically injured). Empty before the earthquake.
        """
        return self._displaced

    def displaced_departures(self) -> tuple[np.ndarray, np.ndarray]:
        """(households int64[k], departure time float64[k], seconds from t = 0).

        Departure = time of the earthquake + ``displaced_delay_min`` + uniform(0,
        ``displaced_spread_min``) minutes, drawn once per run.
        """
        return self._displaced, self._displaced_t_s

    def tables(self) -> dict[str, pd.DataFrame]:
        """``buildings``, ``links`` (closed or slowed) and ``summary`` (one row).

        Empty before the earthquake.
        """
        return dict(self._tables)

    def arrays(self) -> dict[str, np.ndarray]:
        """The PGA map, empty before the earthquake.

        ``pga_g`` (this run's realisation) and ``pga_median_g`` float32[ny, nx] (row 0
        south), ``x0_m``, ``y0_m`` (south-west corner), ``cell_m``, ``epicentre_xy_m`` [2],
        ``trace_xy_m`` [k, 2].
        """
        return dict(self._arrays)

