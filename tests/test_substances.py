"""The substance table: AEGLs, molar masses, the chlorine probit.

Sources: docs/references.md §1.6, 1.8, 1.9.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim._errors import ScenarioError
from sim.hazards.chemical.substances import (
    AEGL_DURATIONS_MIN,
    get_substance,
    load_substances,
    substance_names,
)


def test_chlorine_probit_gives_the_published_lc50s():
    # Withers & Lees (1985), regular population: LC50 433 ppm / 10 min, 250 ppm / 30 min.
    cl = get_substance("chlorine")
    assert cl.lc50_ppm(10.0) == pytest.approx(433.0, abs=1.0)
    assert cl.lc50_ppm(30.0) == pytest.approx(250.0, abs=1.0)
    # At the LC50, Y = 5 and P(death) = 1/2.
    for t_min in (10.0, 30.0):
        load = cl.lc50_ppm(t_min) ** 2 * t_min
        assert float(cl.probit(load)) == pytest.approx(5.0, abs=1e-12)
        assert float(cl.death_probability(load)) == pytest.approx(0.5, abs=1e-12)


def test_chlorine_probit_test_points():
    # docs/references.md §1.9 [C]: (100 ppm, 30 min) -> Y = 3.313, P = 0.0458;
    # (20 ppm, 60 min) -> Y = 0.989.
    cl = get_substance("chlorine")
    assert float(cl.probit(100.0**2 * 30.0)) == pytest.approx(3.313, abs=5e-4)
    assert float(cl.death_probability(100.0**2 * 30.0)) == pytest.approx(0.0458, abs=5e-5)
    assert float(cl.probit(20.0**2 * 60.0)) == pytest.approx(0.989, abs=5e-4)
    assert float(cl.death_probability(0.0)) == 0.0  # no load, no risk (not NaN)
    assert np.all(np.diff(cl.death_probability(np.geomspace(1.0, 1e9, 50))) >= 0)


def test_chlorine_aegls_and_molar_mass():
    # NRC (2004) Vol. 4 as in docs/references.md §1.8.
    cl = get_substance("chlorine")
    assert cl.aegl_verified
    expected = {1: [0.5] * 5, 2: [2.8, 2.8, 2.0, 1.0, 0.71], 3: [50, 28, 20, 10, 7.1]}
    for level, values in expected.items():
        assert [cl.aegl(level, t) for t in AEGL_DURATIONS_MIN] == pytest.approx(values)
    assert float(cl.ppm_to_g_m3(1.0)) * 1000.0 == pytest.approx(2.900, abs=5e-4)


def test_ammonia_is_present_and_marked_unverified():
    nh3 = get_substance("ammonia")
    assert nh3.molar_mass_g_mol == pytest.approx(17.03)
    assert not nh3.aegl_verified and "[U]" in nh3.sources["aegl_source"]
    assert not nh3.has_probit
    assert np.all(nh3.death_probability(np.array([0.0, 1e9])) == 0.0)  # deaths not estimated
    with pytest.raises(ValueError, match="no lethality probit"):
        nh3.lc50_ppm(10.0)


def test_every_row_is_ordered_and_sourced():
    for key in substance_names():
        s = get_substance(key)
        assert np.all(np.diff(s.aegl_ppm, axis=0) >= 0)  # AEGL-1 <= AEGL-2 <= AEGL-3
        assert s.sources["aegl_source"] and s.sources["molar_mass_source"]
        if s.has_probit:
            assert s.sources["probit_source"]


def test_unknown_substance_and_duration_are_clear_errors():
    with pytest.raises(ValueError, match="substance: expected one of ammonia, chlorine"):
        get_substance("phosgene")
    with pytest.raises(ValueError, match="duration_min: expected one of the AEGL durations"):
        get_substance("chlorine").aegl(2, 45)
    with pytest.raises(ValueError, match="level: expected 1, 2 or 3"):
        get_substance("chlorine").aegl(4, 60)


def test_a_table_is_easy_to_extend_and_checked(tmp_path):
    good = tmp_path / "more.toml"
    good.write_text(
        '[testgas]\nname = "Test gas"\nname_zh = "测试气体"\ncas = "0-0-0"\n'
        'molar_mass_g_mol = 50.0\nmolar_mass_source = "test"\n'
        "aegl_durations_min = [10.0, 30.0, 60.0, 240.0, 480.0]\n"
        "aegl1_ppm = [1, 1, 1, 1, 1]\naegl2_ppm = [5, 5, 4, 3, 2]\n"
        "aegl3_ppm = [50, 40, 30, 20, 10]\n"
        'aegl_status = "U"\naegl_source = "test"\ntoxic_load_exponent = 1.0\n',
        encoding="utf-8",
    )
    table = load_substances(good)
    assert table["testgas"].aegl(3, 240) == 20.0
    bad = tmp_path / "bad.toml"
    bad.write_text(
        good.read_text(encoding="utf-8").replace(
            "aegl3_ppm = [50, 40, 30, 20, 10]", "aegl3_ppm = [50, 40, 3, 20, 10]"
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        ScenarioError, match=r"bad.toml: \[testgas\]: expected AEGL-1 <= AEGL-2 <= AEGL-3"
    ):
        load_substances(bad)
    with pytest.raises(ScenarioError, match="expected a readable TOML"):
        load_substances(tmp_path / "missing.toml")
