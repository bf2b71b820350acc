"""The puff kernel's per-cell puff lists (issue 17 part 5) change no concentration.

:func:`sim.core.plume.concentration` sums, at each receptor, only the puffs listed for
its coarse cell; the reference here sums every puff with the same reach tests, in puff
order, as the kernel did before the lists. Equal to round-off of one ``exp`` (bit for
bit under one math library: the 1M-resident run folders are identical before/after).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.core import plume


def _reference(p: plume.Puffs, x, y, floor: float, max_sigmas: float) -> np.ndarray:
    """Every puff with its reach radius (the kernel's formulas), no cells, no mask."""
    two_pi = (2.0 * math.pi) ** 1.5
    out = np.zeros(x.size)
    for i in range(x.size):
        acc = 0.0
        for j in range(p.x_m.size):
            sx, sy, sz, m = p.sigma_x_m[j], p.sigma_y_m[j], p.sigma_z_m[j], p.mass[j]
            if not (sx > 0 and sy > 0 and sz > 0 and m > 0):
                continue
            norm = m / (two_pi * sx * sy * sz)
            r = max_sigmas * max(sx, sy)
            if floor > 0.0:
                if 2.0 * norm <= floor:
                    continue
                r = min(r, max(sx, sy) * math.sqrt(2.0 * math.log(2.0 * norm / floor)))
            dx, dy = x[i] - p.x_m[j], y[i] - p.y_m[j]
            if abs(dx) > r or abs(dy) > r or dx * dx + dy * dy > r * r:
                continue
            along = dx * p.dir_x[j] + dy * p.dir_y[j]
            cross = -dx * p.dir_y[j] + dy * p.dir_x[j]
            h = p.height_m[j]
            vertical = 2.0 * math.exp(-h * h * (0.5 / (sz * sz)))
            acc += norm * math.exp(-along * along * (0.5 / (sx * sx))
                                   - cross * cross * (0.5 / (sy * sy))) * vertical
        out[i] = acc
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("floor", [0.0, 1e-6])
def test_cell_lists_give_the_all_puff_sum(seed, floor):
    rng = np.random.default_rng(seed)
    n_p = 25
    ang = rng.uniform(0, 2 * np.pi, n_p)
    p = plume.Puffs(
        x_m=rng.uniform(0, 4000, n_p), y_m=rng.uniform(0, 4000, n_p),
        height_m=rng.uniform(0, 30, n_p), mass=rng.uniform(10, 1e4, n_p),
        sigma_x_m=rng.uniform(5, 300, n_p), sigma_y_m=rng.uniform(5, 200, n_p),
        sigma_z_m=rng.uniform(3, 100, n_p), dir_x=np.cos(ang), dir_y=np.sin(ang))
    x, y = rng.uniform(-500, 4500, 1500), rng.uniform(-500, 4500, 1500)
    got = plume.concentration(p, x, y, floor=floor, max_sigmas=6.0)
    want = _reference(p, x, y, floor, 6.0)
    np.testing.assert_array_equal(got > 0, want > 0)  # same receptors reached
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0.0)
    assert np.count_nonzero(got) > 100  # the puffs do reach receptors


def test_exposure_step_leaves_clean_air_rows_alone_and_integrates_the_others():
    # Three homes indoors: clean air throughout (skipped), a constant 10 ppm outdoors for
    # one minute from a clean house, and clean air outdoors after the house filled.
    ex = plume.new_exposure(3)
    ex.c_in_ppm[2] = 4.0
    before = [a.copy() for a in ex]
    lam = 0.5 / 60.0  # air changes per minute
    plume.exposure_step(ex, np.array([0.0, 10.0, 0.0]), np.array([0.0, 10.0, 0.0]),
                        np.ones(3, bool), dt_s=60.0, air_changes_per_h=0.5, exponent=1.0)
    for a, b in zip(ex, before, strict=True):
        assert a[0] == b[0]  # row 0 untouched
    # Row 1: C_in(t) = 10 (1 - e^{-λt}); dose = ∫0^1 min C_in = 10 (1 - (1 - e^{-λ})/λ).
    assert ex.dose_ppm_min[1] == pytest.approx(10.0 * (1.0 - (1.0 - math.exp(-lam)) / lam))
    # Row 2: C_in decays from 4: dose = 4 (1 - e^{-λ})/λ, exposed while it is > 0.
    assert ex.dose_ppm_min[2] == pytest.approx(4.0 * (1.0 - math.exp(-lam)) / lam)
    assert ex.c_in_ppm[2] == pytest.approx(4.0 * math.exp(-lam))
    assert ex.t_exposed_s[2] == 60.0 and ex.t_exposed_s[0] == 0.0
