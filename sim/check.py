"""Plan check: what a run will be able to show, told before it starts.

``evacsim check`` and the start of ``evacsim run`` report, as structured
:class:`Finding` objects rendered through :mod:`sim.i18n` (keys ``check.*``):

* **resources** (:func:`preflight`, before anything large is allocated): the persons the
  scenario asks for (zone table sum, or density × residential area), the memory and time
  a run of that size and map is estimated to take (:func:`estimate_resources`), against
  the memory this machine has available (:func:`available_memory_bytes`) and
  :data:`MAX_RUN_HOURS`. Over a limit is an ``error``: ``run`` refuses (unless
  ``--ignore-limits``) and ``check`` exits with :data:`EXIT_BLOCKING`;
* **shelter places** (:func:`capacity_findings`): evacuees expected vs the capacity of
  the shelters they may enter, overall and per shelter set when hazard orders restrict
  shelters (:mod:`sim.orders`);
* **reachability** (:func:`reach_findings`): persons whose home cannot reach any shelter of
  their set on their own network (cars on the drive graph, walkers on the walk graph;
  one multi-source Dijkstra per set and network, :func:`sim.routing.next_hop`);
* **service radius** (:func:`radius_findings`): persons farther than
  :data:`SERVICE_RADIUS_M` in a straight line from every shelter of their set;
* **relief target** (:func:`relief_findings`): a horizon shorter than the plan's relief
  target (``[targets] relief_h``) makes the share relieved within it not measurable.

Severity: ``info`` (a number worth knowing), ``warning`` (the run is valid but will show
a problem of the plan), ``error`` (blocking: the run should not start).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from sim._errors import EvacsimError

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import EvacuationModel
    from sim.network.roadnet import RoadNetwork
    from sim.plan import Plan
    from sim.scenario import Scenario

__all__ = ["Finding", "ResourceEstimate", "ResourceLimitError", "available_memory_bytes",
           "estimate_resources", "expected_persons", "preflight", "refuse_if_blocking",
           "plan_findings", "expected_evacuees", "capacity_findings", "unreachable_persons",
           "reach_findings", "radius_findings", "relief_findings", "render",
           "EXIT_BLOCKING", "SERVICE_RADIUS_M", "MAX_RUN_HOURS"]

Severity = Literal["info", "warning", "error"]

# ``evacsim check`` exit status when a finding is an error (0: none; 2: bad input, as for
# every command).
EXIT_BLOCKING = 1

# Service radius of a fixed shelter (固定避震疏散场所): 2-3 km (about 1 h on foot),
# GB 50413-2007 §8.2.8-8.2.10 (docs/references.md 4.4); the lower end, so the check is on the
# safe side. The shelters a scenario opens are fixed shelters (their capacity uses the
# fixed-shelter 2 m²/person). Straight-line distance, as a radius is.
SERVICE_RADIUS_M = 2000.0

# A run estimated to take longer than this is refused like one that does not fit in
# memory (assumption: a day of wall time is past any planning use of one run).
MAX_RUN_HOURS = 24.0

# --- the resource model (measured; docs/check.md "How the estimates were made") ---
# Peak resident memory of `evacsim run` = imports and tables + households + links +
# routing tables. Measured peak RSS (/usr/bin/time -v, 6 h horizon, cached map): 366 MB
# for 38,288 households and 858 MB for 381,540 households on the same generated map,
# i.e. 1,430 B per household and an intercept of ~311 MB (imports alone: 230 MB).
BASE_BYTES = 320e6
BYTES_PER_HOUSEHOLD = 1_500.0
# Compiled link arrays measured at 49 B per link, queues and link tables a few hundred
# more; rounded up, since maps were too small to measure the slope directly.
BYTES_PER_LINK = 1_000.0
BYTES_PER_NODE_TABLE = 16.0   # one routing-table row per node: int32 link + f64 cost + int32
# Parsing a map that is not cached yet (pyrosm / osmnx): peak bytes per file byte.
# Measured: Andorra .osm.pbf 0.57 MB -> +105 MB over the imports (186 B/B); a generated
# .osm.bz2 of 25 KB -> +34 MB (mostly fixed cost). OSM XML compresses ~15x under bzip2
# and parses at ~30 B per XML byte (assumption from the same runs).
LOAD_BYTES_PER_FILE_BYTE = {".osm": 30.0, ".osm.bz2": 450.0, ".osm.pbf": 200.0,
                            ".graphml": 30.0}
LOAD_FIXED_BYTES = 60e6
# Wall time, one core: 2.7 s for 38,288 households and 57 s for 381,540 households over
# 4,320 ticks (5 s ticks, 6 h): ~4e-8 s per household-tick once traffic is dense.
SECONDS_BASE = 3.0
SECONDS_PER_HOUSEHOLD = 2.0e-5
SECONDS_PER_HOUSEHOLD_TICK = 4.0e-8
SECONDS_PER_LINK_TICK = 1.0e-8   # one pass over every link per tick (assumption)


class ResourceLimitError(EvacsimError):
    """The scenario needs more memory or time than this machine has (``--ignore-limits``)."""


@dataclass(frozen=True)
class Finding:
    """One result of the check.

    Attributes
    ----------
    severity : {"info", "warning", "error"}
    key : str
        Message key in the ``check`` catalogue (``sim/locale/check.*.toml``).
    values : dict
        The numbers of the message (persons, places, bytes, ...), JSON-safe.
    """

    severity: Severity
    key: str
    values: dict = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        """The finding as one line in ``lang``, prefixed with its severity."""
        from sim.i18n import t

        return t(f"check.severity.{self.severity}", lang) + " " + t(self.key, lang,
                                                                     **self.values)

    def to_dict(self) -> dict:
        """JSON-safe form: severity, key, values."""
        return {"severity": self.severity, "key": self.key, "values": dict(self.values)}


@dataclass(frozen=True)
class ResourceEstimate:
    """Estimated peak memory and wall time of a run.

    Attributes
    ----------
    persons, households : int
        Asked for by the scenario (households = persons / mean household size).
    nodes, links : int
        Of the map (0 when not known yet).
    ticks, tables : int
        Time steps in the horizon; routing tables (drive + walk, per shelter set).
    memory_bytes : float
        Peak resident memory, bytes.
    time_s : float
        Wall time, seconds (one core).
    """

    persons: int
    households: int
    nodes: int
    links: int
    ticks: int
    tables: int
    memory_bytes: float
    time_s: float


def available_memory_bytes() -> int:
    """Memory this process may still use, bytes.

    ``MemAvailable`` of ``/proc/meminfo`` (Linux), capped by the cgroup limit
    (``/sys/fs/cgroup/memory.max`` minus ``memory.current``) where a container sets one;
    elsewhere the free physical pages (``os.sysconf``).
    """
    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 2**62  # unknown: no limit can be told
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            avail = min(avail, int(limit) - used)
    except (OSError, ValueError):
        pass
    return int(avail)


def expected_persons(scenario: Scenario, net: RoadNetwork | None = None) -> int | None:
    """Persons the scenario asks for, without drawing any household.

    Source ``zones``: the sum of the zone table (read, not placed). Source
    ``residential_density``: ``sum(round(density × area_ha))`` over the map's residential
    areas; ``None`` while the map is not loaded.
    """
    ps = scenario.population
    if ps.source == "residential_density":
        if net is None:
            return None
        return int(np.rint(ps.density_per_ha * net.residential.area_m2 / 1e4).sum())
    # A source with a stated total (e.g. `total` of a buildings source) or a zone table.
    if getattr(ps, "total", None) is not None:
        return int(ps.total)
    if getattr(ps, "zones_csv", None) is not None:
        from sim.zone_table import read_zone_table

        return int(read_zone_table(ps.zones_csv)[1].sum())
    return None


def estimate_resources(persons: int, *, household_size_mean: float, nodes: int = 0,
                       links: int = 0, ticks: int = 0, shelter_sets: int = 1
                       ) -> ResourceEstimate:
    """Peak memory and wall time of a run of this size.

    Parameters
    ----------
    persons
        Residents.
    household_size_mean
        Mean household size (households are the moving rows).
    nodes, links
        Map nodes and links (drive + walk).
    ticks
        Time steps in the horizon.
    shelter_sets
        Distinct shelter sets (one drive and one walk table each, plus "nowhere").

    Notes
    -----
    Linear in every size, with coefficients measured on generated districts (20,000 to
    1,000,000 persons) and the real extracts; see ``docs/check.md``. Conservative
    round-ups: it is an estimate to refuse the impossible, not a prediction.
    """
    households = int(math.ceil(persons / max(household_size_mean, 1.0)))
    tables = 2 * (shelter_sets + 1)
    memory = (BASE_BYTES + BYTES_PER_HOUSEHOLD * households + BYTES_PER_LINK * links
              + BYTES_PER_NODE_TABLE * tables * nodes)
    time_s = (SECONDS_BASE + SECONDS_PER_HOUSEHOLD * households
              + ticks * (SECONDS_PER_LINK_TICK * links + SECONDS_PER_HOUSEHOLD_TICK * households))
    return ResourceEstimate(persons=int(persons), households=households, nodes=int(nodes),
                            links=int(links), ticks=int(ticks), tables=tables,
                            memory_bytes=float(memory), time_s=float(time_s))


def _limit_findings(est: ResourceEstimate, limit_bytes: int, stage: str) -> list[Finding]:
    """Info line with the estimate; an error where it exceeds memory or the time limit."""
    values = {"persons": est.persons, "households": est.households, "links": est.links,
              "memory_gb": round(est.memory_bytes / 1e9, 2),
              "limit_gb": round(limit_bytes / 1e9, 2),
              "time_min": round(est.time_s / 60.0, 1), "max_h": MAX_RUN_HOURS,
              "stage": stage}
    out = [Finding("info", "check.resources.estimate", values)]
    if est.memory_bytes > limit_bytes:
        out.append(Finding("error", "check.resources.memory", values))
    if est.time_s > MAX_RUN_HOURS * 3600.0:
        out.append(Finding("error", "check.resources.time", values))
    return out


def _map_load_findings(map_path: Path, limit_bytes: int) -> list[Finding]:
    """Refuse a map file whose parsing would not fit in memory (before it is read)."""
    from sim.network import _osm

    suffix = _osm.suffix_of(map_path) or ".osm"
    size = map_path.stat().st_size
    need = BASE_BYTES + LOAD_FIXED_BYTES + LOAD_BYTES_PER_FILE_BYTE.get(suffix, 450.0) * size
    values = {"file_mb": round(size / 1e6, 1), "memory_gb": round(need / 1e9, 2),
              "limit_gb": round(limit_bytes / 1e9, 2), "suffix": suffix}
    if need > limit_bytes:
        return [Finding("error", "check.resources.map", values)]
    return []


def preflight(scenario: Scenario, *, plan: Plan | None = None,
              cache_dir: Path | None | bool = None, memory_limit_bytes: int | None = None,
              ignore_limits: bool = False) -> tuple[RoadNetwork | None, list[Finding]]:
    """Resource findings and, if they allow it, the loaded map.

    The persons of a zone table are counted before the map is read; the map file's size
    is checked before it is parsed; a density source is counted on the loaded map. Where
    an estimate exceeds ``memory_limit_bytes`` (default :func:`available_memory_bytes`)
    or :data:`MAX_RUN_HOURS`, the map is not loaded (``None`` is returned) unless
    ``ignore_limits``, so nothing large has been allocated.

    Returns
    -------
    net : RoadNetwork or None
        The map (``None`` when a limit stopped the check before loading it).
    findings : list of Finding
    """
    from sim.network import load_map

    limit = available_memory_bytes() if memory_limit_bytes is None else int(memory_limit_bytes)
    ps = scenario.population
    ticks = scenario.time.n_ticks
    findings: list[Finding] = []
    persons = expected_persons(scenario)
    if persons is not None:
        findings += _limit_findings(
            estimate_resources(persons, household_size_mean=ps.household_size_mean,
                               ticks=ticks), limit, "population")
    map_path = Path(scenario.scenario.map)
    if not map_path.name.endswith(".evacmap.npz"):
        findings += _map_load_findings(map_path, limit)
    if _blocking(findings) and not ignore_limits:
        return None, findings
    net = load_map(map_path, cache_dir=cache_dir, jam_spacing_m=scenario.traffic.jam_spacing_m)
    persons = expected_persons(scenario, net)
    # The estimate with the map's links replaces the one made from the zone table alone.
    findings = [f for f in findings if f.key == "check.resources.map"]
    findings += _limit_findings(
        estimate_resources(persons or 0, household_size_mean=ps.household_size_mean,
                           nodes=len(net.nodes), links=net.drive.n_links + net.walk.n_links,
                           ticks=ticks), limit, "map")
    return net, findings


def _blocking(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def refuse_if_blocking(findings: list[Finding], *, lang: str = "en") -> None:
    """Raise :class:`ResourceLimitError` with the error lines, if there are any."""
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        from sim.i18n import t

        raise ResourceLimitError("\n".join([*(f.text(lang) for f in errors),
                                            t("check.resources.override", lang)]))


# ------------------------------------------------------------------ plan findings
def expected_evacuees(persons: np.ndarray, stay: np.ndarray, coverage: float,
                      noncompliance: float) -> float:
    """Evacuees expected from households that are not ordered to stay, persons.

    ``sum(persons[~stay]) × coverage × (1 − noncompliance)``: the expected number warned
    (coverage) who comply. A cheap estimate: it ignores warnings that arrive after the
    horizon and hazards that trap or strand people before they leave.
    """
    return float(np.asarray(persons, np.float64)[~np.asarray(stay, bool)].sum()
                 * coverage * (1.0 - noncompliance))


def capacity_findings(persons: np.ndarray, stay: np.ndarray, household_set: np.ndarray,
                      shelter_sets: np.ndarray, capacity: np.ndarray, *, coverage: float,
                      noncompliance: float) -> list[Finding]:
    """Evacuees expected vs shelter places, overall and per restricted shelter set.

    Parameters
    ----------
    persons, stay, household_set
        Per household: size, ordered to stay, shelter set (:class:`sim.orders.Orders`).
    shelter_sets : bool[S, n_shelters]
        Shelters each set admits (row 0: all).
    capacity : int[n_shelters]
        Places per shelter, persons.
    coverage, noncompliance
        ``[warning] coverage`` and ``[departure] noncompliance``.
    """
    capacity = np.asarray(capacity, np.int64)
    total = expected_evacuees(persons, stay, coverage, noncompliance)
    places = int(capacity.sum())
    values = {"evacuees": int(round(total)), "places": places,
              "shortfall": max(0, int(round(total)) - places),
              "share": round(100.0 * places / total, 1) if total > 0 else 100.0}
    out = [Finding("warning" if total > places else "info",
                   "check.capacity.short" if total > places else "check.capacity.ok", values)]
    for k in range(1, len(shelter_sets)):
        mine = np.asarray(household_set) == k
        need = expected_evacuees(np.asarray(persons)[mine], np.asarray(stay)[mine], coverage,
                                 noncompliance)
        cap_k = int(capacity[np.asarray(shelter_sets[k], bool)].sum())
        if need > cap_k:
            out.append(Finding("warning", "check.capacity.set_short",
                               {"set": k, "evacuees": int(round(need)), "places": cap_k,
                                "shelters": int(np.asarray(shelter_sets[k]).sum()),
                                "shortfall": int(round(need)) - cap_k}))
    return out


def unreachable_persons(model: EvacuationModel) -> tuple[int, int]:
    """Persons (cars, walkers) whose home reaches no shelter of their set, at t = 0.

    Free-flow travel time on the drive graph for car households, the walk graph for the
    others, toward the nodes of their set's shelters (one multi-source Dijkstra on the
    reversed graph per set and network, :func:`sim.routing.next_hop`). Households that
    are ordered to stay are not counted.
    """
    from sim.routing import next_hop

    net, pop = model.net, model.pop
    n = len(net.nodes)
    go = ~model.ordered_to_stay
    car = pop.has_car
    sets = model.household_set
    counts = [0, 0]
    for k, admitted in enumerate(model.shelter_sets):
        targets = np.unique(model.shelter_node[admitted]).astype(np.int64)
        for j, (links, home, mode) in enumerate(((net.drive, pop.home_drive_node, car),
                                                 (net.walk, pop.home_walk_node, ~car))):
            rows = np.flatnonzero(go & mode & (sets == k))
            if rows.size == 0:
                continue
            reach = np.isfinite(next_hop(links, n, targets).cost_s)
            nodes = home[rows]
            ok = (nodes >= 0) & reach[np.maximum(nodes, 0)]
            counts[j] += int(pop.persons[rows[~ok]].sum())
    return counts[0], counts[1]


def reach_findings(car_persons: int, walk_persons: int, total_persons: int) -> list[Finding]:
    """A warning when any home cannot reach a shelter of its set."""
    lost = car_persons + walk_persons
    if lost == 0:
        return [Finding("info", "check.reach.ok", {})]
    return [Finding("warning", "check.reach.none",
                    {"persons": lost, "car": car_persons, "walk": walk_persons,
                     "share": round(100.0 * lost / max(total_persons, 1), 1)})]


def radius_findings(home_x_m: np.ndarray, home_y_m: np.ndarray, persons: np.ndarray,
                    stay: np.ndarray, household_set: np.ndarray, shelter_sets: np.ndarray,
                    shelter_x_m: np.ndarray, shelter_y_m: np.ndarray, *,
                    radius_m: float = SERVICE_RADIUS_M) -> list[Finding]:
    """Persons farther than ``radius_m`` from every shelter their set admits.

    Straight-line distance in projected metres (a radius); households ordered to stay
    are not counted.
    """
    from scipy.spatial import cKDTree

    persons = np.asarray(persons, np.int64)
    far = np.zeros(persons.size, dtype=bool)
    dist = np.zeros(persons.size)
    for k, admitted in enumerate(shelter_sets):
        rows = np.flatnonzero(~np.asarray(stay) & (np.asarray(household_set) == k))
        if rows.size == 0:
            continue
        adm = np.flatnonzero(admitted)
        if adm.size == 0:
            far[rows], dist[rows] = True, np.inf
            continue
        tree = cKDTree(np.column_stack([shelter_x_m[adm], shelter_y_m[adm]]))
        d, _ = tree.query(np.column_stack([home_x_m[rows], home_y_m[rows]]))
        dist[rows] = d
        far[rows] = d > radius_m
    n_far = int(persons[far].sum())
    values = {"persons": n_far, "radius_m": radius_m,
              "share": round(100.0 * n_far / max(int(persons.sum()), 1), 1),
              "max_km": round(float(dist.max(initial=0.0)) / 1000.0, 2)}
    return [Finding("warning" if n_far else "info",
                    "check.radius.far" if n_far else "check.radius.ok", values)]


def relief_findings(horizon_h: float, plan: Plan | None) -> list[Finding]:
    """A warning when the horizon ends before the plan's relief target can be judged."""
    if plan is None:
        return []
    target = float(plan.targets.relief_h)
    if horizon_h < target:
        return [Finding("warning", "check.relief.not_measurable",
                        {"horizon_h": horizon_h, "target_h": target})]
    return [Finding("info", "check.relief.ok", {"horizon_h": horizon_h, "target_h": target})]


def plan_findings(model: EvacuationModel, plan: Plan | None = None) -> list[Finding]:
    """Capacity, reachability, service radius and relief findings of a built model.

    The model holds what the run will use: households, the plan's shelters and the
    hazards' orders (nothing has moved yet).
    """
    sc, pop, table = model.scenario, model.pop, model.shelter_table
    stay = model.ordered_to_stay
    out = capacity_findings(pop.persons, stay, model.household_set, model.shelter_sets,
                            table.capacity, coverage=sc.warning.coverage,
                            noncompliance=sc.departure.noncompliance)
    car, walk = unreachable_persons(model)
    out += reach_findings(car, walk, int(pop.persons[~stay].sum()))
    out += radius_findings(pop.x_m, pop.y_m, pop.persons, stay, model.household_set,
                           model.shelter_sets, table.x_m, table.y_m)
    out += relief_findings(sc.time.horizon_h, plan if plan is not None else model.plan)
    return out


def render(findings: list[Finding], lang: str = "en") -> str:
    """The findings as text lines, errors first, then warnings, then info."""
    order = {"error": 0, "warning": 1, "info": 2}
    return "\n".join(f.text(lang) for f in sorted(findings, key=lambda f: order[f.severity]))
