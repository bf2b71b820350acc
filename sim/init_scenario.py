"""A runnable, commented scenario for any map: ``evacsim init MAP --out my.toml``.

What the map holds decides the population source (:func:`choose_population_source`, the
one place to add sources): with named zones covering most residential land, ``zones``
with a zone table beside the scenario whose populations are estimates to replace with
census numbers; otherwise ``residential_density``. Shelters are the map's parks,
squares, schools, stadiums and sports centres (the scenario's ``[shelters] kinds``).

Both files are written to temporary siblings and renamed into place; existing files are
never overwritten without ``force``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim._errors import NetworkError, RunFolderError
from sim.network.roadnet import RoadNetwork

__all__ = ["PopulationChoice", "InitResult", "choose_population_source", "zone_estimates",
           "scenario_text", "write_scenario", "DEFAULT_DENSITY_PER_HA", "MIN_ZONED_SHARE",
           "MIN_HOME_BUILDINGS", "FLOOR_M2_PER_PERSON"]

# Persons per hectare of residential land: the assumption the generated default district
# is built with (maps/README.md "Density"), so an init'ed map is comparable to it. A
# planner replaces it (or the zone table) with census numbers.
DEFAULT_DENSITY_PER_HA = 100.0

# Source "zones" places only people of named zones: use it when at least this share of
# the residential area lies in a named zone, else people outside zones would be lost.
MIN_ZONED_SHARE = 0.9

# Source "buildings" needs enough home footprints to spread people over: below this many
# a zone's persons would crowd onto a few nodes (the population report warns then too).
MIN_HOME_BUILDINGS = 50

# Home floor area per person, m², to estimate persons from footprints × storeys. [U] An
# assumption near China's 2020 census figure for housing floor area per person (about
# 40 m²); a planner replaces the estimates with census totals.
FLOOR_M2_PER_PERSON = 40.0

_SHELTER_KINDS = ("park", "square", "school", "stadium", "sports_centre")
_MIN_AREA_M2 = 1000.0  # GB 50413-2007 emergency shelter site >= 0.1 hm² (scenario default)


@dataclass(frozen=True)
class PopulationChoice:
    """The population source picked for a map and why.

    Attributes
    ----------
    source : str
        A ``[population] source`` value.
    reason : str
        Message key suffix (``check.init.reason.<reason>``) explaining the choice.
    values : dict
        Numbers of the reason message.
    """

    source: str
    reason: str
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class InitResult:
    """Files written by :func:`write_scenario`."""

    scenario: Path
    zones_csv: Path | None
    n_zones: int
    choice: PopulationChoice


def _residential_zone(net: RoadNetwork) -> np.ndarray:
    return np.array([str((t or {}).get("zone", "")) for t in net.residential.tags],
                    dtype=object)


def choose_population_source(net: RoadNetwork) -> PopulationChoice:
    """Pick the ``[population] source`` a map supports best.

    ``buildings`` when the map has at least :data:`MIN_HOME_BUILDINGS` home footprints
    (people where the buildings are: most real OSM towns tag buildings, not residential
    land use); else ``zones`` when the map has named zones holding >= :data:`MIN_ZONED_SHARE`
    of its residential area (landuse=residential, or building footprints where a map has
    none); ``residential_density`` when it has residential area but not zoned enough.

    Raises
    ------
    NetworkError
        The map has no residential area at all: nowhere to put homes.
    """
    homes = _home_floor(net)
    if homes is not None and homes[0].size >= MIN_HOME_BUILDINGS:
        floor, zone = homes
        zoned = float(floor[zone != ""].sum()) / max(float(floor.sum()), 1e-9)
        return PopulationChoice("buildings", "buildings", {
            "buildings": int(floor.size), "floor_ha": round(float(floor.sum()) / 1e4, 1),
            "m2": FLOOR_M2_PER_PERSON, "zoned": bool(len(net.zones)) and
            zoned >= MIN_ZONED_SHARE})
    res = net.residential
    area = np.asarray(res.area_m2, np.float64)
    total = float(area.sum())
    if len(res) == 0 or total <= 0.0:
        raise NetworkError(
            f"{net.source}: expected residential land (landuse=residential) or building "
            "footprints to place homes on, got none; use a larger extract or write the "
            "scenario by hand with a zone table")
    zoned = float(area[_residential_zone(net) != ""].sum())
    share = zoned / total
    values = {"share": round(100.0 * share, 1), "ha": round(total / 1e4, 1),
              "density": DEFAULT_DENSITY_PER_HA}
    if len(net.zones) and share >= MIN_ZONED_SHARE:
        return PopulationChoice("zones", "zones", values)
    return PopulationChoice("residential_density", "density", values)


def _home_floor(net: RoadNetwork) -> tuple[np.ndarray, np.ndarray] | None:
    """Floor area (m²) and zone name of each home footprint, or None without buildings."""
    table = getattr(net, "building_table", None)
    if table is None:
        return None
    b = table()
    home = b.residential_use()
    return b.floor_area_m2()[home], np.asarray(b.zone, dtype=str)[home]


def zone_estimates(net: RoadNetwork, *, density_per_ha: float = DEFAULT_DENSITY_PER_HA,
                   choice: PopulationChoice | None = None) -> tuple[list[str], np.ndarray]:
    """Zone names of the map and an estimated population per zone.

    ``round(density × residential ha in the zone)``; 0 for a zone without residential
    land (a zone with people but no residential land would put them all at its centre).
    With the ``buildings`` source: ``round(home floor area in the zone /``
    :data:`FLOOR_M2_PER_PERSON` ``)``.
    """
    if choice is not None and choice.source == "buildings":
        floor, zone = _home_floor(net)
        names = list(dict.fromkeys([*map(str, net.zones.name), *(z for z in zone if z)]))
        est = np.array([floor[zone == n].sum() / FLOOR_M2_PER_PERSON for n in names])
        return names, np.rint(est).astype(np.int64)
    names = list(dict.fromkeys([*map(str, net.zones.name),
                                *(z for z in _residential_zone(net) if z)]))
    rz = _residential_zone(net)
    ha = np.array([net.residential.area_m2[rz == n].sum() / 1e4 for n in names])
    return names, np.rint(density_per_ha * ha).astype(np.int64)


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:64].strip("-")
    return s or "scenario"


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scenario_text(*, name: str, title: str, map_rel: str, choice: PopulationChoice,
                  zones_rel: str | None, kinds: list[str], horizon_h: float,
                  n_persons: int, capacity_note: str) -> str:
    """Return the commented scenario TOML.

    Every field of ``scenarios/README.md`` with its default and its source.
    """
    if choice.source == "buildings" and choice.values.get("zoned") and zones_rel:
        pop = (f'source = "buildings"          # people in home footprints x storeys '
               f'({choice.values["buildings"]:,} buildings)\nzones_csv = '
               f'{_toml_str(zones_rel)}   # zone,population: ESTIMATES '
               f'({FLOOR_M2_PER_PERSON:g} m² of home floor per person); replace with census '
               'numbers')
    elif choice.source == "buildings":
        pop = (f'source = "buildings"          # people in home footprints x storeys '
               f'({choice.values["buildings"]:,} buildings)\ntotal = {n_persons}'
               f'                 # ESTIMATE ({FLOOR_M2_PER_PERSON:g} m² of home floor per '
               'person); replace with the census total')
    elif choice.source == "zones":
        pop = (f'source = "zones"              # people per zone from the table beside this '
               f'file\nzones_csv = {_toml_str(zones_rel or "")}   # zone,population: '
               f'ESTIMATES ({DEFAULT_DENSITY_PER_HA:g} persons/ha of residential land); '
               'replace with census numbers')
    else:
        zline = (f"\n# zones_csv = {_toml_str(zones_rel)}  # template with the map's zone names "
                 "(set source = \"zones\" to use it)") if zones_rel else ""
        pop = (f'source = "residential_density"  # persons = density x residential area '
               f'(the map\'s named zones cover only {choice.values["share"]} % of it)\n'
               f'density_per_ha = {DEFAULT_DENSITY_PER_HA}  # persons per ha of residential '
               'land (assumption, maps/README.md); replace with a local figure' + zline)
    kinds_toml = ", ".join(_toml_str(k) for k in kinds)
    return f"""# Scenario written by `evacsim init` for the map {map_rel}.
# A starting point, not a plan: every number below is a documented default or an
# estimate; check the population and the shelters before drawing conclusions.
# Fields: scenarios/README.md. Check it first: evacsim check <this file>
# Relative paths start at this file's folder.
# About {n_persons:,} residents ({choice.source}); {capacity_note}

hazards = []                  # a plain evacuation; add [[hazards]] (flood, chemical, earthquake)

[scenario]
name = {_toml_str(name)}
title = {_toml_str(title)}
map = {_toml_str(map_rel)}
seed = 42                     # one seed -> bit-identical runs

[time]
tick_s = 5.0                  # s per step (scenarios/README.md)
horizon_h = {float(horizon_h)!r}              # h simulated; >= 10 to judge a 10 h relief target
sample_s = 60.0               # s between time-series samples (a whole number of ticks)

[population]
{pop}
household_size_mean = 2.62    # persons per household, China 7th census (2020); use the local census
car_ownership = 0.45          # share of households that drive (assumption)
vulnerable_share = 0.135      # share aged 65+, China 7th census (2020)

[walking]
speed_mean_mps = 1.34         # Helbing & Molnar 1995 (docs/references.md 4.3)
speed_sd_mps = 0.26
vulnerable_speed_mps = 0.8    # FDMA 2002 (docs/references.md 4.3)

[warning]
start_min = 0.0
coverage = 0.9                # share of households the warning reaches
delay = {{ distribution = "exponential", mean_min = 10.0 }}

[departure]
curve = "rayleigh"            # NUREG/CR-7002 style mobilisation (docs/references.md 4.2)
t90_min = 60.0
noncompliance = 0.05

[shelters]
kinds = [{kinds_toml}]  # shelter kinds this map has (parks, squares, schools, stadiums, ...)
area_per_person_m2 = 2.0      # GB 50413-2007 fixed shelter >= 2 m2/person (docs/references.md 4.4)
min_area_m2 = {_MIN_AREA_M2}          # GB 50413-2007 emergency shelter site >= 0.1 hm2
max_snap_m = 500.0
closed = []                   # map shelters the plan does not open (by name)
extra = []                    # shelters to add: {{ name, capacity, lon, lat }}

[traffic]
jam_spacing_m = 7.5
"""


def write_scenario(map_path: str | Path, out: str | Path, *, force: bool = False,
                   name: str | None = None, horizon_h: float = 6.0,
                   cache_dir: Path | None | bool = None) -> InitResult:
    """Write a runnable scenario for ``map_path`` to ``out`` (and a zone table beside it).

    Parameters
    ----------
    map_path
        A map file :func:`sim.network.load_map` reads (.osm, .osm.bz2, .osm.pbf, .graphml).
    out
        The scenario TOML to write; the zone table is ``<out stem>.zones.csv`` beside it
        (written when the map has named zones).
    force
        Overwrite existing files.
    name
        Scenario name (lowercase letters, digits, '-'); default from the map file name.
    horizon_h
        Simulated hours, 0 < h <= 72.

    Raises
    ------
    RunFolderError
        A file to write exists and ``force`` is False.
    NetworkError
        The map cannot be read, or has no residential land or no shelter candidate.
    """
    from sim.network import load_map
    from sim.network._osm import suffix_of
    from sim.scenario import SheltersSpec
    from sim.shelters import area_capacity

    map_path, out = Path(map_path), Path(out)
    if not out.name.endswith(".toml"):
        raise RunFolderError(f"{out}: --out: expected a file name ending in .toml, "
                             f"got {out.name!r}")
    if not 0.0 < horizon_h <= 72.0:
        raise RunFolderError(f"--horizon-h: expected 0 < hours <= 72, got {horizon_h!r}")
    zones_path = out.with_name(out.name[: -len(".toml")] + ".zones.csv")
    for p in (out, zones_path):
        if p.exists() and not force:
            raise RunFolderError(f"{p}: exists already; pass --force to overwrite it")
    net = load_map(map_path, cache_dir=cache_dir)
    choice = choose_population_source(net)
    names, est = zone_estimates(net, choice=choice)
    write_zones = bool(names)
    sh = net.shelters
    cand = np.isin(np.asarray(sh.kind, str), _SHELTER_KINDS) & (sh.area_m2 >= _MIN_AREA_M2)
    if not cand.any():
        raise NetworkError(
            f"{map_path}: expected parks, squares, schools, stadiums or sports centres of at "
            f"least {_MIN_AREA_M2:g} m² to use as shelters, got {len(sh)} candidate(s), none "
            "that large; add shelters by hand ([shelters] extra = [{ name, capacity, lon, "
            "lat }])")
    kinds = [k for k in _SHELTER_KINDS if k in set(np.asarray(sh.kind, str)[cand])]
    defaults = SheltersSpec()  # the capacity the run will compute, with the same defaults
    cap = int(area_capacity(
        sh.area_m2[cand],
        np.array([defaults.usable_fraction[k] for k in np.asarray(sh.kind, str)[cand]]),
        defaults.area_per_person_m2).sum())
    if choice.source == "buildings" and not choice.values.get("zoned"):
        n_persons = max(1, int(np.rint(_home_floor(net)[0].sum() / FLOOR_M2_PER_PERSON)))
    elif choice.source in ("zones", "buildings"):
        n_persons = int(est.sum())
    else:
        n_persons = int(np.rint(DEFAULT_DENSITY_PER_HA * net.residential.area_m2 / 1e4).sum())
    note = (f"{int(cand.sum())} shelter site(s) with about {cap:,} places by area; "
            "`evacsim check` compares them with the evacuees")
    stem = map_path.name[: -len(suffix_of(map_path) or map_path.suffix)] or "map"
    out_dir = out.resolve().parent
    map_rel = os.path.relpath(map_path.resolve(), out_dir)
    text = scenario_text(
        name=_slug(name or stem), title=f"{stem}: evacuation (evacsim init)",
        map_rel=Path(map_rel).as_posix(), choice=choice,
        zones_rel=zones_path.name if write_zones else None, kinds=kinds,
        horizon_h=horizon_h, n_persons=n_persons, capacity_note=note)
    files = [(out, text)]
    if write_zones:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["zone", "population"])
        w.writerows(zip(names, est.tolist(), strict=True))
        files.append((zones_path, buf.getvalue()))
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(files)
    return InitResult(scenario=out, zones_csv=zones_path if write_zones else None,
                      n_zones=len(names), choice=choice)


def _write_atomically(files: list[tuple[Path, str]]) -> None:
    """Write every file to a temporary sibling, then rename all into place."""
    temps = []
    try:
        for path, text in files:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                       dir=path.resolve().parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            temps.append((tmp, path))
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
