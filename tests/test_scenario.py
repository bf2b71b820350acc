"""Scenario files: parsing, validation messages, paths, overrides, digest."""

from __future__ import annotations

import json
import math
import shutil
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from sim._errors import ScenarioError
from sim.scenario import (
    LogisticDeparture,
    RayleighDeparture,
    Scenario,
    default_scenario_path,
    load_scenario,
)

MINIMAL = """\
[scenario]
name = "test-town"
map = "town.osm"
[population]
zones_csv = "town.zones.csv"
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "town.osm").write_text("<osm/>", encoding="utf-8")
    (tmp_path / "town.zones.csv").write_text("zone,population\nA,10\n", encoding="utf-8")
    return tmp_path


def write(folder: Path, text: str, name: str = "s.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(exc: pytest.ExceptionInfo) -> list[str]:
    return [ln for ln in str(exc.value).splitlines()[1:] if ln]


def test_minimal_file_gets_documented_defaults(folder):
    spec = load_scenario(write(folder, MINIMAL))
    assert spec.scenario.map == (folder / "town.osm").resolve()
    assert spec.population.zones_csv == (folder / "town.zones.csv").resolve()
    assert spec.time.tick_s == 5.0 and spec.time.sample_s == 60.0
    assert spec.population.household_size_mean == 2.62  # China 7th census
    assert spec.walking.speed_mean_mps == 1.34 and spec.walking.speed_sd_mps == 0.26
    assert spec.shelters.area_per_person_m2 == 2.0  # GB 50413-2007 fixed shelter
    assert spec.shelters.min_area_m2 == 1000.0  # GB 50413-2007: 0.1 hm2
    assert isinstance(spec.departure, RayleighDeparture)
    assert spec.source == str(folder / "s.toml")


def test_default_toml_validates_with_its_files_swapped(folder):
    # The embedded default must be valid whether or not the district map is built yet.
    path = default_scenario_path()
    assert path.is_file()
    spec = load_scenario(path, overrides={"scenario.map": str(folder / "town.osm"),
                                          "population.zones_csv": str(folder / "town.zones.csv")})
    assert spec.scenario.name == "default-district"
    assert spec.warning.coverage >= 0.9  # district plan target
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    # Every section and field of the schema is spelled out in the default file.
    for section in Scenario.model_fields:
        assert section in raw, section
    assert set(raw["shelters"]) == set(type(spec.shelters).model_fields)


def test_default_scenario_loads_when_map_present():
    path = default_scenario_path()
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for rel in (raw["scenario"]["map"], raw["population"]["zones_csv"]):
        assert (path.parent / rel).is_file(), f"the embedded default district lacks {rel}"
    spec = load_scenario(path)
    assert spec.scenario.map.is_file()


def test_every_default_toml_field_is_documented_in_readme():
    readme = (default_scenario_path().parent / "README.md").read_text(encoding="utf-8")
    raw = tomllib.loads(default_scenario_path().read_text(encoding="utf-8"))
    for section, fields in raw.items():
        assert f"## [{section}]" in readme
        for field in fields:
            assert f"`{field}`" in readme, f"{section}.{field} undocumented"


def test_unknown_field_names_file_field_and_known_fields(folder):
    path = write(folder, MINIMAL + "[time]\ntick_seconds = 5.0\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    (line,) = problems(exc)
    assert line.startswith(f"{path}: time.tick_seconds: expected one of the known fields")
    assert "tick_s" in line and "5.0" in line


def test_wrong_type_is_an_error_not_coerced(folder):
    path = write(folder, MINIMAL.replace('name = "test-town"',
                                         'name = "test-town"\nseed = "42"'))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    (line,) = problems(exc)
    assert f"{path}: scenario.seed: expected a valid integer, got '42'" == line


@pytest.mark.parametrize("section,field,value", [
    ("time", "tick_s", "0.0"), ("time", "tick_s", "61.0"), ("time", "horizon_h", "-1.0"),
    ("population", "car_ownership", "1.5"), ("population", "vulnerable_share", "-0.1"),
    ("warning", "coverage", "1.01"), ("departure", "noncompliance", "2.0"),
    ("shelters", "area_per_person_m2", "0.0"), ("walking", "speed_mean_mps", "3.0"),
])
def test_out_of_range(folder, section, field, value):
    text = MINIMAL.replace(f"[{section}]\n", f"[{section}]\n{field} = {value}\n")
    if f"[{section}]" not in text:
        text += f"[{section}]\n{field} = {value}\n"
    if section == "departure":
        text += 'curve = "rayleigh"\n'
    path = write(folder, text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    (line,) = problems(exc)
    assert line.startswith(f"{path}: {section}.{field}: expected ")
    assert line.endswith(f"got {float(value)!r}")


def test_missing_map_and_bad_suffix(folder):
    path = write(folder, MINIMAL.replace("town.osm", "nowhere.osm"))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    (line,) = problems(exc)
    assert line.startswith(f"{path}: scenario.map: expected an existing file")
    assert "'nowhere.osm'" in line and str(folder) in line
    (folder / "town.txt").write_text("x")
    path = write(folder, MINIMAL.replace("town.osm", "town.txt"))
    with pytest.raises(ScenarioError, match=r"scenario\.map: expected a map file ending in"):
        load_scenario(path)


def test_many_problems_are_reported_together(folder):
    path = write(folder, """\
[scenario]
name = "Bad Name"
map = "nowhere.osm"
colour = "red"
[time]
tick_s = -5.0
[population]
car_ownership = 2.0
[warning]
delay = { distribution = "exponential" }
[departure]
curve = "logistic"
alpha_per_min = 0.1
""")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    lines = problems(exc)
    fields = [ln.split(": ")[1] for ln in lines]
    assert sorted(fields) == sorted([
        "scenario.name", "scenario.map", "scenario.colour", "time.tick_s",
        "population.car_ownership", "population.zones_csv", "warning.delay.mean_min",
        "departure.beta_min"])
    assert all(ln.startswith(f"{path}: ") for ln in lines)
    assert exc.value.__cause__ is None and "pydantic" not in str(exc.value)


def test_missing_file_and_toml_syntax(folder):
    with pytest.raises(ScenarioError, match="absent.toml: expected an existing scenario file"):
        load_scenario(folder / "absent.toml")
    path = write(folder, "[scenario\nname = 1\n")
    with pytest.raises(ScenarioError, match=r"s\.toml: expected valid TOML, got a syntax error"):
        load_scenario(path)


def test_variant_fields_are_checked_per_choice(folder):
    bad = MINIMAL + ('[warning]\n'
                     'delay = { distribution = "uniform", min_min = 9.0, max_min = 3.0 }\n')
    with pytest.raises(ScenarioError, match=r"warning\.delay\.max_min: expected >= min_min"):
        load_scenario(write(folder, bad))
    bad = MINIMAL + '[warning]\ndelay = { distribution = "fixed", mean_min = 3.0 }\n'
    with pytest.raises(ScenarioError) as exc:
        load_scenario(write(folder, bad))
    assert sorted(ln.split(": ")[1] for ln in problems(exc)) == [
        "warning.delay.mean_min", "warning.delay.min"]
    bad = MINIMAL + '[departure]\ncurve = "weibull"\n'
    with pytest.raises(ScenarioError, match=r"departure\.curve: expected one of .*'weibull'"):
        load_scenario(write(folder, bad))


def test_sample_interval_must_be_whole_ticks(folder):
    path = write(folder, MINIMAL + "[time]\ntick_s = 5.0\nsample_s = 12.0\n")
    with pytest.raises(ScenarioError, match=r"time\.sample_s: expected a whole multiple of tick_s"):
        load_scenario(path)


def test_residential_density_needs_density(folder):
    text = MINIMAL.replace('zones_csv = "town.zones.csv"', 'source = "residential_density"')
    with pytest.raises(ScenarioError, match=r"population\.density_per_ha: expected persons per ha"):
        load_scenario(write(folder, text))
    spec = load_scenario(write(folder, text + "density_per_ha = 120.0\n"))
    assert spec.population.zones_csv is None


def test_extra_shelter_needs_exactly_one_location(folder):
    text = MINIMAL + ('[shelters]\nextra = [{ name = "a", capacity = 10, x_m = 1.0, y_m = 2.0 },'
                      ' { name = "b", capacity = 10, x_m = 1.0, lon = 2.0, lat = 3.0 },'
                      ' { name = "c", capacity = 0, lon = 2.0, lat = 3.0 }]\n')
    with pytest.raises(ScenarioError) as exc:
        load_scenario(write(folder, text))
    assert sorted(ln.split(": ")[1] for ln in problems(exc)) == [
        "shelters.extra[1].x_m", "shelters.extra[2].capacity"]


def test_usable_fraction_needed_for_every_kind(folder):
    text = MINIMAL + '[shelters]\nkinds = ["park", "other"]\nusable_fraction = { park = 0.5 }\n'
    with pytest.raises(ScenarioError, match=r"shelters\.usable_fraction: expected an entry for"):
        load_scenario(write(folder, text))


def test_two_hazards_of_one_kind_are_refused(folder):
    # Outputs are keyed by kind (hazard/<kind>_*.csv): a second one would overwrite.
    quake = '[[hazards]]\nkind = "earthquake"\nmagnitude = 6.0\nepicentre_xy_m = [0.0, 0.0]\n'
    text = MINIMAL + quake + quake
    with pytest.raises(ScenarioError, match=r"hazards: expected at most one hazard of each kind"):
        load_scenario(write(folder, text))


def test_overrides_dotted_and_nested(folder):
    path = write(folder, MINIMAL)
    spec = load_scenario(path, overrides={"warning.coverage": 0.7,
                                          "departure": {"t90_min": 120.0}})
    assert spec.warning.coverage == 0.7 and spec.departure.t90_min == 120.0
    with pytest.raises(ScenarioError, match=r"time\.tick_s \(override\): expected greater"):
        load_scenario(path, overrides={"time.tick_s": -1.0})


def test_spec_is_frozen(folder):
    spec = load_scenario(write(folder, MINIMAL))
    with pytest.raises(ValidationError):
        spec.time.tick_s = 1.0  # type: ignore[misc]


def test_rayleigh_sigma_and_logistic_t90_identities():
    # docs/references.md 4.2: t90 = 2.1460 sigma; t90 = 2 h => sigma = 0.932 h.
    dep = RayleighDeparture(curve="rayleigh", t90_min=120.0)
    assert dep.sigma_min / 60.0 == pytest.approx(0.932, abs=5e-4)
    assert dep.t90_min / dep.sigma_min == pytest.approx(2.1460, abs=5e-5)
    log = LogisticDeparture(curve="logistic", alpha_per_min=0.2, beta_min=30.0)
    assert log.t90_min == pytest.approx(30.0 + 2.1972 / 0.2, abs=1e-3)  # beta + ln9/alpha


def test_to_dict_round_trip_and_digest(folder, tmp_path_factory):
    path = write(folder, MINIMAL + "[warning]\ncoverage = 0.8\n")
    spec = load_scenario(path)
    data = json.loads(json.dumps(spec.to_dict()))  # JSON-safe
    again = Scenario.from_dict(data, source="manifest")
    assert again.to_dict() == spec.to_dict() and again.digest() == spec.digest()
    assert len(spec.digest()) == 64
    # Location-independent: the same files elsewhere give the same digest.
    other = tmp_path_factory.mktemp("moved")
    for name in ("town.osm", "town.zones.csv", "s.toml"):
        shutil.copy(folder / name, other / name)
    assert load_scenario(other / "s.toml").digest() == spec.digest()
    # ... but a changed value or a changed input file changes it.
    assert load_scenario(path, overrides={"scenario.seed": 43}).digest() != spec.digest()
    (other / "town.osm").write_text("<osm version='0.6'/>")
    assert load_scenario(other / "s.toml").digest() != spec.digest()


def test_rayleigh_constant_is_sqrt_2_ln_10():
    from sim.scenario import RAYLEIGH_T90_PER_SIGMA

    assert RAYLEIGH_T90_PER_SIGMA == pytest.approx(2.1460, abs=5e-5)
    assert 1.0 - math.exp(-RAYLEIGH_T90_PER_SIGMA**2 / 2.0) == pytest.approx(0.9, abs=1e-12)
