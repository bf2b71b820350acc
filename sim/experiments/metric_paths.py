"""The metrics an experiment can keep or judge: scalar paths of a run's ``metrics.json``.

One documented list (``docs/experiments.md`` points here), so a misspelt metric fails when
the experiment file is read, not after an hour of runs. ``CORE`` is what
:func:`analysis.metrics.compute_metrics` writes for every run; ``HAZARD[kind]`` what the
hazard's section adds under ``hazards.<kind>.`` (present only when the scenario has that
hazard; ``response`` only when the alternative has a plan). Lists, text and
``format_version`` are left out: an experiment keeps numbers only (booleans become 0/1).
``tests/test_experiments.py`` checks this list against a real run's ``metrics.json``.
"""

from __future__ import annotations

from typing import Final

CORE: Final = (
    "seed",
    "horizon_s",
    "population.persons",
    "population.households",
    "population.by_mode.car",
    "population.by_mode.walk",
    "warning.warned",
    "warning.share",
    "warning.target_share",
    "warning.target_met",
    "compliance.complying",
    "compliance.share_of_warned",
    "evacuees.persons",
    "evacuees.households",
    "evacuees.by_mode.car",
    "evacuees.by_mode.walk",
    "evacuees.arrived",
    "evacuees.arrived_share",
    "evacuees.arrived_by_mode.car",
    "evacuees.arrived_by_mode.walk",
    "ete.decision_pct",
    "ete.all.50.t_s",
    "ete.all.50.t_min",
    "ete.all.50.reached",
    "ete.all.50.persons_needed",
    "ete.all.90.t_s",
    "ete.all.90.t_min",
    "ete.all.90.reached",
    "ete.all.90.persons_needed",
    "ete.all.95.t_s",
    "ete.all.95.t_min",
    "ete.all.95.reached",
    "ete.all.95.persons_needed",
    "ete.all.100.t_s",
    "ete.all.100.t_min",
    "ete.all.100.reached",
    "ete.all.100.persons_needed",
    "ete.car.50.t_s",
    "ete.car.50.t_min",
    "ete.car.50.reached",
    "ete.car.50.persons_needed",
    "ete.car.90.t_s",
    "ete.car.90.t_min",
    "ete.car.90.reached",
    "ete.car.90.persons_needed",
    "ete.car.95.t_s",
    "ete.car.95.t_min",
    "ete.car.95.reached",
    "ete.car.95.persons_needed",
    "ete.car.100.t_s",
    "ete.car.100.t_min",
    "ete.car.100.reached",
    "ete.car.100.persons_needed",
    "ete.walk.50.t_s",
    "ete.walk.50.t_min",
    "ete.walk.50.reached",
    "ete.walk.50.persons_needed",
    "ete.walk.90.t_s",
    "ete.walk.90.t_min",
    "ete.walk.90.reached",
    "ete.walk.90.persons_needed",
    "ete.walk.95.t_s",
    "ete.walk.95.t_min",
    "ete.walk.95.reached",
    "ete.walk.95.persons_needed",
    "ete.walk.100.t_s",
    "ete.walk.100.t_min",
    "ete.walk.100.reached",
    "ete.walk.100.persons_needed",
    "clearance.t_s",
    "clearance.t_min",
    "travel_time.all.persons",
    "travel_time.all.p50_s",
    "travel_time.all.p50_min",
    "travel_time.all.p90_s",
    "travel_time.all.p90_min",
    "travel_time.all.p95_s",
    "travel_time.all.p95_min",
    "travel_time.all.max_s",
    "travel_time.all.max_min",
    "travel_time.car.persons",
    "travel_time.car.p50_s",
    "travel_time.car.p50_min",
    "travel_time.car.p90_s",
    "travel_time.car.p90_min",
    "travel_time.car.p95_s",
    "travel_time.car.p95_min",
    "travel_time.car.max_s",
    "travel_time.car.max_min",
    "travel_time.walk.persons",
    "travel_time.walk.p50_s",
    "travel_time.walk.p50_min",
    "travel_time.walk.p90_s",
    "travel_time.walk.p90_min",
    "travel_time.walk.p95_s",
    "travel_time.walk.p95_min",
    "travel_time.walk.max_s",
    "travel_time.walk.max_min",
    "shelters.count",
    "shelters.capacity",
    "shelters.occupancy",
    "shelters.peak_occupancy_sum",
    "shelters.utilisation",
    "shelters.overflow_total",
    "shelters.turned_away",
    "not_sheltered.persons",
    "not_sheltered.by_status.en_route",
    "not_sheltered.by_status.waiting",
    "not_sheltered.by_status.not_warned",
    "not_sheltered.by_status.warned",
    "not_sheltered.by_status.staying",
    "not_sheltered.by_status.stranded",
    "not_sheltered.by_status.dead",
    "not_sheltered.by_mode.car",
    "not_sheltered.by_mode.walk",
    "dead",
    "checks.timeseries_conserves_population",
)

HAZARD: Final = {
    "flood": (
        "peak_flooded_area_km2",
        "t_peak_area_h",
        "max_depth_m",
        "drive_km_closed_max",
        "t_drive_km_closed_max_h",
        "drive_km_h_closed",
        "drive_links_ever_closed",
        "walk_km_closed_max",
        "persons_stranded",
        "households_stranded",
        "persons_stranded_by_cause.home",
        "persons_stranded_by_cause.road",
        "persons_stranded_by_cause.footpath",
        "households_drove_through_water",
        "persons_drove_through_water",
        "households_walked_through_water",
        "persons_walked_through_water",
    ),
    "chemical": (
        "persons_above_aegl1",
        "persons_above_aegl2",
        "persons_above_aegl3",
        "injured",
        "deaths",
        "expected_deaths",
        "zones.aegl1.aegl_ppm",
        "zones.aegl1.duration_min",
        "zones.aegl1.area_km2",
        "zones.aegl1.length_m",
        "zones.aegl2.aegl_ppm",
        "zones.aegl2.duration_min",
        "zones.aegl2.area_km2",
        "zones.aegl2.length_m",
        "zones.aegl3.aegl_ppm",
        "zones.aegl3.duration_min",
        "zones.aegl3.area_km2",
        "zones.aegl3.length_m",
        "roads.max_drive_km_closed",
        "roads.first_closed_s",
        "roads.last_closed_s",
        "exposure.evacuees.persons",
        "exposure.evacuees.mean_dose_ppm_min",
        "exposure.evacuees.mean_toxic_load",
        "exposure.evacuees.mean_max_ppm",
        "exposure.evacuees.persons_above_aegl2",
        "exposure.evacuees.injured",
        "exposure.evacuees.deaths",
        "exposure.in_place.persons",
        "exposure.in_place.mean_dose_ppm_min",
        "exposure.in_place.mean_toxic_load",
        "exposure.in_place.mean_max_ppm",
        "exposure.in_place.persons_above_aegl2",
        "exposure.in_place.injured",
        "exposure.in_place.deaths",
        "exposure_by_action.evacuate.persons",
        "exposure_by_action.evacuate.mean_toxic_load",
        "exposure_by_action.evacuate.deaths",
        "exposure_by_action.evacuate.injured",
        "exposure_by_action.shelter.persons",
        "exposure_by_action.shelter.mean_toxic_load",
        "exposure_by_action.shelter.deaths",
        "exposure_by_action.shelter.injured",
        "exposure_by_action.stay.persons",
        "exposure_by_action.stay.mean_toxic_load",
        "exposure_by_action.stay.deaths",
        "exposure_by_action.stay.injured",
        "receptor.peak_outdoor_ppm",
        "receptor.t_peak_outdoor_s",
        "receptor.peak_indoor_ppm",
        "receptor.t_peak_indoor_s",
    ),
    "earthquake": (
        "mw",
        "ms",
        "buildings.total",
        "buildings.none",
        "buildings.slight",
        "buildings.moderate",
        "buildings.extensive",
        "buildings.complete",
        "buildings.collapsed",
        "casualties.s1",
        "casualties.s2",
        "casualties.s3",
        "casualties.s4",
        "persons_trapped",
        "persons_displaced",
        "households_displaced",
        "road_km_closed",
        "road_km_slowed",
        "incidents.injured",
        "incidents.trapped",
        "pga_g.max",
        "pga_g.median",
    ),
    "response": (
        "incidents.count",
        "incidents.persons",
        "incidents.reached",
        "incidents.served",
        "incidents.response_p50_s",
        "incidents.response_p90_s",
        "incidents.response_p95_s",
        "incidents.response_max_s",
        "incidents.within_target_share",
        "relief.affected_persons",
        "relief.relieved_persons",
        "relief.within_target_persons",
        "relief.within_target_share",
        "relief.time_to_relief_p50_h",
        "relief.time_to_relief_p90_h",
        "relief.time_to_relief_p95_h",
        "relief.never_relieved_persons",
        "relief.delay_person_h.wait_rescue",
        "relief.delay_person_h.travel",
        "relief.delay_person_h.wait_supplies",
    ),
}


# Metric sections added by later waves of metrics.json (fixed keys).
CORE_EXTRA: Final = (
    "warning.drawn_coverage",
    "warning.sampling_se",
    "warning.shortfall_is_sampling_noise",
    "protected_in_place.persons",
    "protected_in_place.households",
    "not_sheltered.by_status.protected_in_place",
    "traffic.vehicles_stuck",
    "traffic.ticks_with_stuck",
    "traffic.samples",
    "traffic.sample_s",
    "traffic.delay_veh_h",
)
# Per area (zone / sub-district of the map): ``areas.by_zone.<zone name>.<field>``; the
# zone names are the map's, so these are matched as a pattern (:func:`is_known`).
AREA_FIELDS: Final = (
    "households", "persons", "evacuees", "arrived",
    *(f"ete.{p}.{u}" for p in ("50", "90", "95", "100") for u in ("t_s", "t_min")),
    "not_sheltered.persons",
    *(f"not_sheltered.by_cause.{c}" for c in ("en_route", "waiting", "not_warned", "warned",
                                              "staying", "stranded", "dead")),
    "relief.affected_persons", "relief.within_target_persons", "relief.within_target_share",
    "relief.target_h",
)


def is_known(path: str, hazard_kinds: tuple[str, ...] | list[str], has_plan: bool) -> bool:
    """Whether ``path`` is a metric a run with these hazards (and plan) writes.

    The fixed paths of :func:`known_metrics`, and ``areas.by_zone.<zone>.<field>`` for
    any zone name and a field of :data:`AREA_FIELDS`.
    """
    if path in known_metrics(hazard_kinds, has_plan):
        return True
    if path.startswith("areas.by_zone."):
        rest = path[len("areas.by_zone."):]
        return any(rest.endswith("." + f) and len(rest) > len(f) + 1 for f in AREA_FIELDS)
    return False


def known_metrics(hazard_kinds: tuple[str, ...] | list[str], has_plan: bool) -> set[str]:
    """Every metric path a run with these hazards (and a plan, or not) writes.

    Parameters
    ----------
    hazard_kinds : sequence of str
        Kinds of the scenario's ``[[hazards]]`` ("flood", "chemical", "earthquake").
    has_plan : bool
        Whether the run has a response plan (adds ``hazards.response.*``).

    Returns
    -------
    set of str
        Dotted paths into ``metrics.json``.
    """
    out = set(CORE) | set(CORE_EXTRA)
    kinds = list(hazard_kinds) + (["response"] if has_plan else [])
    for kind in kinds:
        out |= {f"hazards.{kind}.{p}" for p in HAZARD.get(kind, ())}
    return out
