"""Residents as arrays: households placed on the map, warning and departure behaviour.

One row per HOUSEHOLD, the unit that moves together (one car, or one walking group).
Everything is vectorised numpy; the only Python loops run over zones or retry rounds,
never over households. All randomness comes from the ``rng`` passed in, so the same
inputs and seed give bit-identical arrays.

Coordinates: ``x_m``/``y_m`` are metres in the map's projected CRS (``RoadNetwork.crs``,
x = easting, y = northing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import ndtr, ndtri

from sim._errors import NetworkError, ScenarioError
from sim.network.roadnet import RoadNetwork
from sim.scenario import (
    ExponentialDelay,
    FixedDelay,
    LogisticDeparture,
    LognormalDelay,
    RayleighDeparture,
    Scenario,
    UniformDelay,
)
from sim.states import (  # noqa: F401 - re-exported: the codes live in sim.states
    DEAD,
    EN_ROUTE,
    N_STATES,
    NOT_WARNED,
    SHELTERED,
    STATE_NAMES,
    STAYING,
    STRANDED,
    WARNED,
)
from sim.zone_table import read_zone_table  # noqa: F401 - re-exported

# Truncation of the individual free walking speed draw, m/s. Gaussian tails would give
# negative or sprint speeds: 0.5 m/s is the planning speed for elderly/disabled people
# and 2.5 m/s is about a jog (docs/references.md 4.3, Miyagi guideline; Simulex range).
WALK_SPEED_MIN_MPS = 0.5
WALK_SPEED_MAX_MPS = 2.5


@dataclass(frozen=True)
class Population:
    """Households of the district, one row each.

    Attributes
    ----------
    zone_names : list[str]
        Zone (sub-district) names; ``zone`` indexes into it.
    zone : int16[H]
    persons : int32[H]
        Household size, >= 1.
    vulnerable : int32[H]
        Persons aged 65+ in the household (0 .. persons).
    has_car : bool[H]
        The household evacuates by car (else on foot).
    home_drive_node, home_walk_node : int32[H]
        Nearest node with drive / walk links (global node index; -1 when the map has no
        walk network).
    x_m, y_m : float64[H]
        Home location, projected metres.
    walk_speed_mps : float64[H]
        Speed of the household walking together, m/s (slowest member).
    building : int64[H] or None
        Row of ``RoadNetwork.buildings`` the household lives in, -1 where none.
    home_origin : int8[H] or None
        How the home was placed (``sim.homes.ORIGIN_*``: building, residential area,
        zone centre, raster cell).
    notes : tuple[tuple[str, str, int], ...]
        Fallbacks taken while placing homes (``sim.homes.HomeGroups.notes``).
    """

    zone_names: list[str]
    zone: np.ndarray
    persons: np.ndarray
    vulnerable: np.ndarray
    has_car: np.ndarray
    home_drive_node: np.ndarray
    home_walk_node: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    walk_speed_mps: np.ndarray
    building: np.ndarray | None = None
    home_origin: np.ndarray | None = None
    notes: tuple = ()

    def __len__(self) -> int:
        return int(self.persons.shape[0])

    @property
    def n_households(self) -> int:
        """Number of households (rows)."""
        return len(self)

    @property
    def n_persons(self) -> int:
        """Number of persons, the sum of ``persons``."""
        return int(self.persons.sum(dtype=np.int64))

    def zone_persons(self) -> np.ndarray:
        """Persons per zone, int64[len(zone_names)]."""
        return np.bincount(self.zone, weights=self.persons,
                           minlength=len(self.zone_names)).astype(np.int64)


@dataclass(frozen=True)
class Response:
    """Warning and departure of each household (rows as in :class:`Population`).

    Attributes
    ----------
    warned : bool[H]
        The warning reaches the household during the run.
    t_warned_s : float64[H]
        Time the warning arrives, seconds from t = 0; ``inf`` if never warned.
    complies : bool[H]
        The household would leave once warned (drawn for every household).
    t_depart_s : float64[H]
        Departure time, seconds; ``inf`` if it never departs (not warned or not complying).
    """

    warned: np.ndarray
    t_warned_s: np.ndarray
    complies: np.ndarray
    t_depart_s: np.ndarray


def snap_to_nodes(net: RoadNetwork, x_m: np.ndarray, y_m: np.ndarray, *,
                  network: Literal["drive", "walk"]) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node that has links of ``network`` for each point.

    Parameters
    ----------
    net
        The compiled map.
    x_m, y_m
        Points in the map's projected CRS, metres.
    network : {"drive", "walk"}
        Which links a node must touch to be eligible.

    Returns
    -------
    node : int32[K]
        Global node index, or -1 everywhere when that network has no links.
    dist_m : float64[K]
        Straight-line distance to it, metres (``inf`` where node is -1).
    """
    links = net.drive if network == "drive" else net.walk
    pts = np.column_stack([np.asarray(x_m, np.float64), np.asarray(y_m, np.float64)])
    eligible = np.unique(np.concatenate([links.from_node, links.to_node]))
    if eligible.size == 0:
        return (np.full(len(pts), -1, np.int32), np.full(len(pts), np.inf))
    tree = cKDTree(np.column_stack([net.nodes.x_m[eligible], net.nodes.y_m[eligible]]))
    dist, idx = tree.query(pts)
    return eligible[idx].astype(np.int32), np.asarray(dist, np.float64)


def build_population(net: RoadNetwork, spec: Scenario, *, rng: np.random.Generator
                     ) -> Population:
    """Draw the households of the district and place them on the map.

    Household sizes are ``1 + Poisson(mean - 1)`` with the last household of each group
    cut so the group total is exact. Source ``"zones"``: each zone's CSV population, homes
    in the zone's residential areas with probability proportional to area. Source
    ``"residential_density"``: ``round(density_per_ha * area_ha)`` persons per residential
    area. Homes lie within ``sqrt(area)/2`` of the area centroid (uniform in x and y) and
    snap to the nearest drive and walk node.

    Raises
    ------
    ScenarioError
        A bad zone table (file, line and column named), or a zone with population but no
        residential area and no zone point on the map.
    NetworkError
        The map has no drive links.
    """
    ps = spec.population
    if ps.source in ("buildings", "raster"):
        return _from_home_groups(net, spec, rng)
    res = net.residential
    res_zone = np.array([str((t or {}).get("zone", "")) for t in _tags(res)], dtype=object)
    origin = None
    if ps.source == "zones":
        known = set(map(str, net.zones.name)) | {z for z in res_zone if z}
        names, totals, lines = read_zone_table(ps.zones_csv, known_zones=known)
        group_x, group_y, group_half, group_zone, group_total, origin = _zone_groups(
            net, names, totals, lines, res_zone, ps.zones_csv, rng)
    else:
        if len(res) == 0:
            raise ScenarioError(f"{spec.source}: population.source: expected a map with "
                                "residential areas for 'residential_density', got none; use "
                                "source = 'zones' with a zone table")
        names = list(dict.fromkeys([*map(str, net.zones.name), *(z for z in res_zone if z)]))
        if np.any(res_zone == ""):
            names.append("(unzoned)")
        index = {n: i for i, n in enumerate(names)}
        group_zone = np.array([index[z or "(unzoned)"] for z in res_zone], dtype=np.int64)
        group_total = np.rint(ps.density_per_ha * res.area_m2 / 1e4).astype(np.int64)
        group_x, group_y = res.x_m.astype(np.float64), res.y_m.astype(np.float64)
        group_half = np.sqrt(np.maximum(res.area_m2, 0.0)) / 2.0
    if origin is None:
        origin = np.full(group_total.size, 1, np.int8)  # residential areas
    n_g = group_total.size
    snap = np.full(n_g, -2, np.int32)
    return _households(net, spec, rng, names, group_x, group_y, group_half, group_zone,
                       group_total, np.full(n_g, -1, np.int64), snap, snap, origin, ())


def _from_home_groups(net: RoadNetwork, spec: Scenario, rng: np.random.Generator
                      ) -> Population:
    """Households of the ``buildings`` and ``raster`` sources (:mod:`sim.homes`)."""
    from sim import homes

    ps = spec.population
    if ps.source == "buildings":
        g = homes.building_groups(net, where=str(spec.source), total=ps.total,
                                  zones_csv=ps.zones_csv, rng=rng)
    else:
        g = homes.raster_groups(net, where=str(spec.source), raster=ps.raster, total=ps.total,
                                rng=rng)
    return _households(net, spec, rng, g.zone_names, g.x_m, g.y_m, g.half_m, g.zone, g.total,
                       g.building, g.drive_node, g.walk_node, g.origin, tuple(g.notes))


def _households(net, spec, rng, names, group_x, group_y, group_half, group_zone, group_total,
                group_building, group_drive, group_walk, group_origin, notes) -> Population:
    """Split home groups into households, place and snap them, draw their make-up.

    Groups with a node (buildings) give it to all their households; the others
    (``-2``) snap each household's own home point.
    """
    ps = spec.population
    owner, persons = _household_sizes(group_total, ps.household_size_mean, rng)
    n = persons.size
    x = group_x[owner] + rng.uniform(-1.0, 1.0, n) * group_half[owner]
    y = group_y[owner] + rng.uniform(-1.0, 1.0, n) * group_half[owner]
    drive_node = group_drive[owner].astype(np.int32)
    walk_node = group_walk[owner].astype(np.int32)
    todo = np.flatnonzero(drive_node == -2)
    if todo.size:
        drive_node[todo] = snap_to_nodes(net, x[todo], y[todo], network="drive")[0]
        walk_node[todo] = snap_to_nodes(net, x[todo], y[todo], network="walk")[0]
    if n and np.all(drive_node < 0):
        raise NetworkError(f"{net.source}: expected a map with drivable roads, got no drive "
                           "links")
    has_car = rng.random(n) < ps.car_ownership
    vulnerable = rng.binomial(persons, ps.vulnerable_share).astype(np.int32)
    speed = _group_walk_speed(persons, vulnerable, spec, rng)
    return Population(
        zone_names=list(names),
        zone=group_zone[owner].astype(np.int16),
        persons=persons.astype(np.int32),
        vulnerable=vulnerable,
        has_car=has_car,
        home_drive_node=drive_node,
        home_walk_node=walk_node,
        x_m=x,
        y_m=y,
        walk_speed_mps=speed,
        building=group_building[owner].astype(np.int64),
        home_origin=group_origin[owner].astype(np.int8),
        notes=tuple(notes),
    )


def sample_response(pop: Population, spec: Scenario, *, rng: np.random.Generator) -> Response:
    """Draw who is warned when, who complies, and when each household departs.

    Warning: reaches a household with probability ``warning.coverage`` at
    ``start_min + delay``. Departure: ``t_warned + m`` with the mobilisation delay ``m``
    drawn by inverse CDF from the departure curve (docs/references.md 4.2):
    Rayleigh ``m = sigma sqrt(-2 ln(1 - u))``; logistic ``m = max(0, beta + ln(u/(1-u))/alpha)``.
    A household that does not comply (probability ``noncompliance``) never departs.
    Every draw is made for all households, so the streams do not depend on each other.
    """
    n = len(pop)
    warn, dep = spec.warning, spec.departure
    warned = rng.random(n) < warn.coverage
    delay_s = _draw_delay(warn.delay, n, rng) * 60.0
    t_warned = np.where(warned, warn.start_min * 60.0 + delay_s, np.inf)
    complies = rng.random(n) >= dep.noncompliance
    u = np.clip(rng.random(n), 1e-12, 1.0 - 1e-12)  # keeps logs finite at the ends
    if isinstance(dep, RayleighDeparture):
        mob_min = dep.sigma_min * np.sqrt(-2.0 * np.log1p(-u))
    else:
        assert isinstance(dep, LogisticDeparture)
        mob_min = np.maximum(0.0, dep.beta_min + np.log(u / (1.0 - u)) / dep.alpha_per_min)
    t_depart = np.where(warned & complies, t_warned + mob_min * 60.0, np.inf)
    return Response(warned=warned, t_warned_s=t_warned, complies=complies, t_depart_s=t_depart)


def household_state(resp: Response, t_s: float) -> np.ndarray:
    """Household state at time ``t_s`` from the response times alone, int8[H].

    NOT_WARNED before the warning, STAYING if warned and not complying, WARNED until
    departure, EN_ROUTE after it. The model overwrites EN_ROUTE rows with SHELTERED or
    STRANDED as they arrive or fail.
    """
    warned = np.where(resp.complies, WARNED, STAYING)
    state = np.where(resp.t_warned_s <= t_s, warned, NOT_WARNED)
    return np.where(resp.t_depart_s <= t_s, EN_ROUTE, state).astype(np.int8)


def state_counts(
    state: np.ndarray, persons: np.ndarray, dead: np.ndarray | None = None
) -> np.ndarray:
    """Persons in each state, int64[N_STATES], indexed by the state codes.

    Parameters
    ----------
    state : int8[H]
        State code of each household (all its living persons share it).
    persons : int32[H]
        Household sizes.
    dead : int[H], optional
        Persons of each household who died (0 <= dead <= persons): counted as
        :data:`DEAD`, the rest in the household's state.
    """
    state = np.asarray(state)
    if state.size and (state.min() < 0 or state.max() >= N_STATES):
        raise ValueError(f"state codes must be 0..{N_STATES - 1}, got {state.min()}..{state.max()}")
    living = np.asarray(persons, dtype=np.int64)
    if dead is not None:
        dead = np.asarray(dead, dtype=np.int64)
        if dead.shape != living.shape or dead.min(initial=0) < 0 or np.any(dead > living):
            raise ValueError("dead: expected 0 <= dead <= persons per household")
        living = living - dead
    # Float weights: exact for counts below 2**53, and ~5x faster in bincount than ints.
    out = np.bincount(state.astype(np.intp), weights=living.astype(np.float64),
                      minlength=N_STATES).astype(np.int64)
    if dead is not None:
        out[DEAD] += int(dead.sum())
    return out


# --- private machinery -------------------------------------------------------------------

def _tags(places) -> list:
    tags = list(places.tags)
    return tags if len(tags) == len(places) else [{}] * len(places)


def _zone_groups(net, names, totals, lines, res_zone, csv_path, rng):
    """Placement groups for the 'zones' source: one residential area per household group.

    Each zone's population is split over its residential areas by a multinomial draw with
    probabilities proportional to area (the same as choosing an area per person would be
    for households; it keeps household sizing vectorised per area).
    """
    res = net.residential
    zone_pts = {str(nm): i for i, nm in reversed(list(enumerate(net.zones.name)))}
    gx, gy, gh, gz, gt, go = [], [], [], [], [], []
    problems = []
    for zi, (name, total, line) in enumerate(zip(names, totals, lines, strict=True)):
        if total == 0:
            continue
        areas = np.flatnonzero(res_zone == name)
        if areas.size:
            w = np.maximum(res.area_m2[areas], 0.0)
            p = w / w.sum() if w.sum() > 0 else np.full(areas.size, 1.0 / areas.size)
            split = rng.multinomial(int(total), p)
            gx.append(res.x_m[areas]), gy.append(res.y_m[areas])
            gh.append(np.sqrt(w) / 2.0), gz.append(np.full(areas.size, zi)), gt.append(split)
            go.append(np.full(areas.size, 1, np.int8))
        elif name in zone_pts:
            go.append(np.full(1, 2, np.int8))  # the zone centre: sim.homes.ORIGIN_CENTRE
            k = zone_pts[name]
            gx.append(net.zones.x_m[[k]]), gy.append(net.zones.y_m[[k]])
            gh.append(np.sqrt(np.maximum(net.zones.area_m2[[k]], 0.0)) / 2.0)
            gz.append(np.array([zi])), gt.append(np.array([total]))
        else:
            problems.append(f"{csv_path}: line {line}: zone: expected a zone with residential "
                            f"areas or a zone point on the map, got {name!r} with neither")
    if problems:
        raise ScenarioError("\n".join(problems))
    if not gt:
        empty = np.zeros(0)
        return (empty, empty, empty, np.zeros(0, np.int64), np.zeros(0, np.int64),
                np.zeros(0, np.int8))
    cat = np.concatenate
    return (cat(gx).astype(np.float64), cat(gy).astype(np.float64), cat(gh).astype(np.float64),
            cat(gz).astype(np.int64), cat(gt).astype(np.int64), cat(go).astype(np.int8))


def _household_sizes(totals: np.ndarray, mean: float, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Split each group total into households of size 1 + Poisson(mean - 1), exactly.

    Returns ``(owner, sizes)``: the group of each household (sorted by group) and its
    size; ``sizes`` sums to ``totals[g]`` over each group ``g``. Loops over retry rounds
    (a few), never over households.
    """
    remaining = np.asarray(totals, dtype=np.int64).copy()
    owners, sizes = [], []
    while np.any(remaining > 0):
        groups = np.flatnonzero(remaining > 0)
        # Enough draws to cover the remainder most of the time; leftovers get another round.
        n_draw = (np.ceil(remaining[groups] / mean).astype(np.int64) + 3)
        owner = np.repeat(groups, n_draw)
        size = 1 + rng.poisson(mean - 1.0, owner.size)
        first = np.cumsum(n_draw) - n_draw  # index of each group's first draw
        before = np.cumsum(size) - size  # persons drawn before this draw, all groups
        before -= np.repeat(before[first], n_draw)  # ... within its own group
        need = remaining[owner]
        keep = before < need
        size = np.minimum(size, need - before)[keep]
        owner = owner[keep]
        owners.append(owner)
        sizes.append(size)
        remaining -= np.bincount(owner, weights=size, minlength=remaining.size).astype(np.int64)
    if not owners:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    owner, size = np.concatenate(owners), np.concatenate(sizes)
    order = np.argsort(owner, kind="stable")
    return owner[order], size[order]


def _group_walk_speed(persons, vulnerable, spec, rng) -> np.ndarray:
    """Return the walking speed of each household, m/s: the slowest member sets the pace.

    With a member aged 65+ the group walks at ``vulnerable_speed_mps`` (FDMA 2002, people
    needing help, docs/references.md 4.3). Otherwise it is the minimum of ``persons`` draws of
    N(mean, sd) truncated to [0.5, 2.5] m/s, drawn in one go by inverse CDF: the minimum
    of n iid draws has CDF ``1 - (1 - F)^n``.
    """
    w = spec.walking
    n = persons.size
    u = rng.random(n)
    if w.speed_sd_mps == 0.0:
        free = np.full(n, w.speed_mean_mps)
    else:
        lo = ndtr((WALK_SPEED_MIN_MPS - w.speed_mean_mps) / w.speed_sd_mps)
        hi = ndtr((WALK_SPEED_MAX_MPS - w.speed_mean_mps) / w.speed_sd_mps)
        u_min = 1.0 - (1.0 - u) ** (1.0 / np.maximum(persons, 1))
        free = w.speed_mean_mps + w.speed_sd_mps * ndtri(lo + u_min * (hi - lo))
        free = np.clip(free, WALK_SPEED_MIN_MPS, WALK_SPEED_MAX_MPS)  # float round-off only
    return np.where(vulnerable > 0, np.minimum(w.vulnerable_speed_mps, free), free)


def _draw_delay(delay, n: int, rng: np.random.Generator) -> np.ndarray:
    """Warning delays, minutes."""
    if isinstance(delay, ExponentialDelay):
        return rng.exponential(delay.mean_min, n)
    if isinstance(delay, UniformDelay):
        return rng.uniform(delay.min_min, delay.max_min, n)
    if isinstance(delay, LognormalDelay):
        return delay.median_min * np.exp(delay.sigma * rng.standard_normal(n))
    assert isinstance(delay, FixedDelay)
    return np.full(n, delay.min)
