"""Ground motion models against published test values (docs/references.md §3.1, §3.2) and pygmm."""

from __future__ import annotations

import numpy as np
import pytest

from sim._errors import EvacsimError
from sim.hazards.earthquake import gmpe

# NGA-West2 test values for BSSA14 (pygmm tests/data/ngaw2_tests.json.gz, generated from the
# PEER NGA-West2 spreadsheet; docs/references.md §3.1 [V]):
# M, mech, R_JB km, Vs30, region, PGA g, PGV cm/s.
NGAW2 = [
    (6.0, "SS", 1.0, 300.0, "global", 0.48927, 38.229),
    (6.5, "U", 100.0, 300.0, "italy", 0.02466, 3.112),
]

# OpenQuake openquake/hazardlib/tests/gsim/data/YU2013/yu_2013_mean_active.csv (gem/oq-engine
# commit 1dc7ba9570def8d652d5d066315472db8f415d0b; docs/references.md §3.2), azimuths 0/30/60/90
# (the table repeats them by symmetry). Per (Ms, azimuth): (PGA g, PGV cm/s) at Repi
# 5, 10, 15, 30, 50, 100, 200 km.
YU_REPI = (5, 10, 15, 30, 50, 100, 200)
YU_OQ = {
    (4, 0): (
        "2.067402E-02,1.806343E+00 1.693803E-02,2.166834E+00 1.305815E-02,2.747704E+00 "
        "5.852049E-03,5.717352E+00 2.482031E-03,1.251018E+01 1.687465E-03,4.457867E+01 "
        "7.796510E-03,1.802698E+02"
    ),
    (4, 30): (
        "1.670093E-02,2.009691E+00 1.355013E-02,2.568893E+00 1.038206E-02,3.402431E+00 "
        "4.647843E-03,7.343434E+00 1.995548E-03,1.598053E+01 2.025274E-03,5.520611E+01 "
        "8.913115E-03,2.133916E+02"
    ),
    (4, 60): (
        "1.220338E-02,2.740493E+00 9.869755E-03,3.639591E+00 7.534012E-03,4.839829E+00 "
        "3.363255E-03,1.037445E+01 1.460412E-03,2.234431E+01 2.658484E-03,7.472632E+01 "
        "1.099214E-02,2.742647E+02"
    ),
    (4, 90): (
        "1.081832E-02,3.609419E+00 8.756483E-03,4.382953E+00 6.677131E-03,5.621986E+00 "
        "2.974135E-03,1.181490E+01 1.295609E-03,2.534191E+01 2.960058E-03,8.391041E+01 "
        "1.197376E-02,3.028111E+02"
    ),
    (5, 0): (
        "7.001796E-02,2.566496E+00 5.923775E-02,2.203188E+00 4.746870E-02,1.799845E+00 "
        "2.347958E-02,1.056487E+00 1.075924E-02,2.154099E+00 2.902630E-03,7.123871E+00 "
        "1.576110E-03,2.751554E+01"
    ),
    (5, 30): (
        "5.993520E-02,1.927037E+00 5.003708E-02,1.656692E+00 3.965396E-02,1.337688E+00 "
        "1.933380E-02,1.289785E+00 8.869937E-03,2.664486E+00 2.446775E-03,8.648922E+00 "
        "1.795443E-03,3.219645E+01"
    ),
    (5, 60): (
        "4.634342E-02,1.556594E+00 3.844212E-02,1.320960E+00 3.023978E-02,1.057249E+00 "
        "1.453948E-02,1.754196E+00 6.673018E-03,3.601819E+00 1.889868E-03,1.145388E+01 "
        "2.204866E-03,4.081764E+01"
    ),
    (5, 90): (
        "4.158236E-02,1.470876E+00 3.455072E-02,1.240781E+00 2.715896E-02,9.946961E-01 "
        "1.300491E-02,1.976938E+00 5.967687E-03,4.042610E+00 1.704985E-03,1.277338E+01 "
        "2.398524E-03,4.486367E+01"
    ),
    (6, 0): (
        "2.131875E-01,1.079628E+01 1.864222E-01,9.551749E+00 1.556337E-01,8.100547E+00 "
        "8.603022E-02,4.714950E+00 4.332293E-02,2.520482E+00 1.301468E-02,1.189400E+00 "
        "3.178733E-03,4.307322E+00"
    ),
    (6, 30): (
        "1.909375E-01,9.450527E+00 1.649466E-01,8.275416E+00 1.361147E-01,6.952270E+00 "
        "7.368640E-02,3.977125E+00 3.681772E-02,2.111109E+00 1.115981E-02,1.408937E+00 "
        "2.809923E-03,4.966946E+00"
    ),
    (6, 60): (
        "1.571931E-01,7.705887E+00 1.346148E-01,6.694500E+00 1.099454E-01,5.567977E+00 "
        "5.812763E-02,3.109342E+00 2.873406E-02,1.630387E+00 8.802048E-03,1.813687E+00 "
        "2.308517E-03,6.185212E+00"
    ),
    (6, 90): (
        "1.441537E-01,7.102624E+00 1.234885E-01,6.161810E+00 1.006717E-01,5.107827E+00 "
        "5.283180E-02,2.825503E+00 2.601341E-02,1.474112E+00 7.996708E-03,2.004064E+00 "
        "2.128525E-03,6.757579E+00"
    ),
    (7, 0): (
        "4.401171E-01,2.960695E+01 3.970221E-01,2.694862E+01 3.449025E-01,2.369952E+01 "
        "2.138956E-01,1.532183E+01 1.198531E-01,9.029414E+00 4.114875E-02,3.402444E+00 "
        "1.105656E-02,1.025053E+00"
    ),
    (7, 30): (
        "4.092980E-01,2.739230E+01 3.658277E-01,2.471129E+01 3.146738E-01,2.153130E+01 "
        "1.909090E-01,1.363592E+01 1.055257E-01,7.929948E+00 3.611489E-02,2.974887E+00 "
        "9.890163E-03,1.098305E+00"
    ),
    (7, 60): (
        "3.579732E-01,2.391106E+01 3.170655E-01,2.139267E+01 2.697244E-01,1.844681E+01 "
        "1.590180E-01,1.136501E+01 8.621380E-02,6.482568E+00 2.935297E-02,2.413252E+00 "
        "8.254472E-03,1.326209E+00"
    ),
    (7, 90): (
        "3.364473E-01,2.251400E+01 2.976302E-01,2.011691E+01 2.524543E-01,1.729445E+01 "
        "1.473592E-01,1.054869E+01 7.931268E-02,5.972264E+00 2.694726E-02,2.216182E+00 "
        "7.653423E-03,1.433515E+00"
    ),
    (8, 0): (
        "6.229902E-01,5.396647E+01 5.773452E-01,5.034491E+01 5.196512E-01,4.573123E+01 "
        "3.594304E-01,3.266290E+01 2.250766E-01,2.130441E+01 9.018392E-02,9.243804E+00 "
        "2.739655E-02,3.115072E+00"
    ),
    (8, 30): (
        "5.955684E-01,5.136739E+01 5.484651E-01,4.761074E+01 4.900035E-01,4.293581E+01 "
        "3.324570E-01,3.010736E+01 2.049759E-01,1.934527E+01 8.116020E-02,8.291178E+00 "
        "2.484781E-02,2.809428E+00"
    ),
    (8, 60): (
        "5.466175E-01,4.693241E+01 4.994900E-01,4.319177E+01 4.418761E-01,3.859472E+01 "
        "2.915227E-01,2.635306E+01 1.755626E-01,1.655076E+01 6.827166E-02,6.959765E+00 "
        "2.114006E-02,2.375169E+00"
    ),
    (8, 90): (
        "5.247437E-01,4.501892E+01 4.785608E-01,4.136692E+01 4.220075E-01,3.685508E+01 "
        "2.754698E-01,2.491048E+01 1.643632E-01,1.550355E+01 6.346527E-02,6.470219E+00 "
        "1.973838E-02,2.213732E+00"
    ),
}


@pytest.mark.parametrize(("mag", "mech", "rjb", "vs30", "region", "pga", "pgv"), NGAW2)
def test_bssa14_matches_nga_west2_test_values(mag, mech, rjb, vs30, region, pga, pgv):
    gm = gmpe.bssa14(mag, rjb, vs30, mechanism=mech, region=region)
    assert gm.pga_g[0] == pytest.approx(pga, rel=1e-3)
    assert gm.pgv_cm_s[0] == pytest.approx(pgv, rel=1e-3)


def test_bssa14_sigma_is_the_published_total():
    # docs/references.md §3.1: total ln sigma 0.6051 for M >= 5.5, R_JB < 110 km, Vs30 >= 300 m/s
    # (tau 0.348, phi 0.495 for PGA: sqrt(0.348^2 + 0.495^2) = 0.6051).
    gm = gmpe.bssa14(6.5, [1.0, 50.0, 100.0], [300.0, 760.0, 1200.0])
    np.testing.assert_allclose(gm.ln_sigma_pga, np.hypot(0.348, 0.495), rtol=1e-6)
    assert gm.ln_sigma_pga[0] == pytest.approx(0.6051, rel=1e-3)
    np.testing.assert_allclose(gm.tau_pga**2 + gm.phi_pga**2, gm.ln_sigma_pga**2)


def test_bssa14_cross_check_with_pygmm():
    try:  # importorskip also silences pygmm's import-time ResourceWarnings
        pygmm = pytest.importorskip("pygmm", reason="pygmm (dev extra) not installed")
    except pytest.skip.Exception:
        from tests.required import skip_unless_ci

        skip_unless_ci("pygmm (dev extra) not installed")
    mechs = gmpe.MECHANISMS
    regions = gmpe.REGIONS  # not New Zealand: pygmm applies the global term there (§3.1)
    rng = np.random.default_rng(7)
    for k in range(60):
        mag = float(rng.uniform(3.5, 8.0))
        rjb = float(rng.choice([0.0, 1.0, 5.0, 20.0, 80.0, 150.0, 290.0]))
        vs30 = float(rng.choice([180.0, 300.0, 450.0, 760.0, 1100.0, 1500.0]))
        mech, region = mechs[k % 4], regions[k % len(regions)]
        ours = gmpe.bssa14(mag, rjb, vs30, mechanism=mech, region=region)
        ref = pygmm.BooreStewartSeyhanAtkinson2014(
            pygmm.Scenario(mag=mag, dist_jb=rjb, v_s30=vs30, mechanism=mech, region=region))
        assert ours.pga_g[0] == pytest.approx(ref.pga, rel=1e-9)
        assert ours.pgv_cm_s[0] == pytest.approx(ref.pgv, rel=1e-9)
        assert ours.ln_sigma_pga[0] == pytest.approx(ref.ln_std_pga, rel=1e-9)
        sa = np.exp(gmpe.bssa14_ln(mag, rjb, vs30, period=1.0, mechanism=mech, region=region))
        assert sa[0] == pytest.approx(float(ref.interp_spec_accels([1.0])[0]), rel=1e-6)


def test_bssa14_is_vectorised_and_monotone_in_distance():
    r = np.array([0.0, 5.0, 20.0, 60.0, 200.0])
    gm = gmpe.bssa14(7.0, r, 400.0, mechanism="RS", region="china")
    scalar = [gmpe.bssa14(7.0, x, 400.0, mechanism="RS", region="china").pga_g[0] for x in r]
    np.testing.assert_allclose(gm.pga_g, scalar)
    assert np.all(np.diff(gm.pga_g) < 0) and np.all(np.diff(gm.pgv_cm_s) < 0)


@pytest.mark.parametrize(("ms", "az"), sorted(YU_OQ))
def test_yu2013_matches_openquake_test_values(ms, az):
    expected = np.array([[float(v) for v in cell.split(",")] for cell in YU_OQ[(ms, az)].split()])
    gm = gmpe.yu2013(ms, np.array(YU_REPI, float), az)
    np.testing.assert_allclose(gm.pga_g, expected[:, 0], rtol=5e-3)
    np.testing.assert_allclose(gm.pgv_cm_s, expected[:, 1], rtol=5e-3)
    assert np.all(gm.ln_sigma_pga == 0.5428)  # OpenQuake YuEtAl2013Ms sigma (PGA)


def test_yu2013_elliptical_symmetry_and_closed_forms():
    az = np.array([20.0, 160.0, 200.0, 340.0])
    gm = gmpe.yu2013(7.0, 40.0, az)
    np.testing.assert_allclose(gm.pga_g, gm.pga_g[0], rtol=1e-12)
    # Along strike the site lies on the long axis: ln Y = ln Y_a(Repi) (docs/references.md §3.2).
    c = {"A1": 7.8269, "B1": 1.0856, "C1": -2.389, "D1": 1.772, "E1": 0.424}  # Ms > 6.5
    ln_a = c["A1"] + c["B1"] * 7.0 + c["C1"] * np.log(np.hypot(40.0, 15.0)
                                                      + c["D1"] * np.exp(c["E1"] * 7.0))
    # rel 1e-4: OpenQuake's bisection for Ra stops at a 1e-3 km step (Ra ~ Repi +- 1 m).
    assert gmpe.yu2013(7.0, 40.0, 0.0).pga_g[0] == pytest.approx(
        np.exp(ln_a) / (100 * gmpe.G_MPS2), rel=1e-4)
    assert gmpe.yu2013(7.0, 40.0, 90.0).pga_g[0] < gmpe.yu2013(7.0, 40.0, 0.0).pga_g[0]


# Cheng et al. (2017, BSSA 107(5):2490, doi:10.1785/0120170102) orthogonal regressions of
# Mw on Ms for mainland China, as OpenQuake's YuEtAl2013Mw applies them (gem/oq-engine,
# openquake/hazardlib/gsim/yu_2013.py): Mw = 0.86 Ms + 0.59 for Mw < 6.58, else
# Mw = 1.28 Ms - 2.42. [U] the paper's own table was not retrieved, only this use of it.
CHENG_SMALL, CHENG_LARGE, CHENG_SPLIT_MW = (0.86, 0.59), (1.28, -2.42), 6.58


@pytest.mark.parametrize("mw", [4.0, 5.0, 6.0, 6.5, 6.579, 6.58, 7.0, 7.5, 8.0])
def test_mw_to_ms_follows_cheng_2017(mw):
    a, b = CHENG_SMALL if mw < CHENG_SPLIT_MW else CHENG_LARGE
    ms = gmpe.mw_to_ms(mw)
    assert a * ms + b == pytest.approx(mw, abs=1e-12)  # the published regression, read forward


def test_mw_to_ms_spot_values():
    # By hand from the coefficients above: (6.0 - 0.59) / 0.86, (7.0 + 2.42) / 1.28.
    assert gmpe.mw_to_ms(6.0) == pytest.approx(5.41 / 0.86, abs=1e-12)
    assert gmpe.mw_to_ms(7.0) == pytest.approx(7.359375, abs=1e-12)
    # The two branches do not meet: Ms jumps from 6.965 to 7.03125 at Mw 6.58.
    assert gmpe.mw_to_ms(6.58 - 1e-9) == pytest.approx(5.99 / 0.86, abs=1e-8)
    assert gmpe.mw_to_ms(6.58) == pytest.approx(9.0 / 1.28, abs=1e-12)


def test_magnitude_conversions_invert_each_other():
    for mw in (4.0, 5.5, 6.57, 6.6, 7.5, 8.4):
        assert gmpe.ms_to_mw(gmpe.mw_to_ms(mw)) == pytest.approx(mw, abs=1e-12)
    ms = np.linspace(4.0, 8.5, 91)
    assert np.all(np.diff([gmpe.ms_to_mw(m) for m in ms]) >= 0)


@pytest.mark.parametrize(("call", "words"), [
    (lambda: gmpe.bssa14(9.0, 10.0, 760.0), ["magnitude", "3 to 8.5"]),
    (lambda: gmpe.bssa14(2.5, 10.0, 760.0), ["magnitude", "3 to 8.5"]),
    (lambda: gmpe.bssa14(6.0, -1.0, 760.0), ["R_JB", "0 to 300"]),
    (lambda: gmpe.bssa14(6.0, 10.0, 100.0), ["Vs30", "150 to 1500"]),
    (lambda: gmpe.bssa14(6.0, 10.0, 760.0, mechanism="thrust"), ["mechanism", "U, SS, NS, RS"]),
    (lambda: gmpe.bssa14(6.0, 10.0, 760.0, region="mars"), ["region", "global", "taiwan"]),
    (lambda: gmpe.yu2013(9.0, 10.0, 0.0), ["magnitude (Ms)", "4 to 8.5"]),
    (lambda: gmpe.yu2013(6.0, -5.0, 0.0), ["R_epi", "0 to 1000"]),
    (lambda: gmpe.yu2013(6.0, 5.0, float("nan")), ["azimuth"]),
    (lambda: gmpe.yu2013(6.0, 5.0, 0.0, region="moon"), ["region", "active, tibet"]),
])
def test_bad_input_names_the_valid_range(call, words):
    with pytest.raises(EvacsimError) as err:
        call()
    for w in words:
        assert w in str(err.value)
