"""The minimum-travel-time fire kernel (sim/core/fire.py) against a plain reference and shapes.

Expected values: a plain-Python Dijkstra over the same stencil (bit-for-bit the same
arrival times), the analytic fire ellipse (a point ignition in uniform fuel grows as the
ellipse with the ignition at its rear focus, Anderson 1983), and the scheme's stated
lattice error (16-neighbour paths over-estimate travel time by at most 2.75 %).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from sim.core.fire import STENCIL, arrival_times
from sim.hazards.wildfire import fuel as fu
from sim.hazards.wildfire import rothermel as ro

LATTICE_ERR = 0.0275  # max over-estimate of a 16-neighbour path (module docstring)


def reference_arrival(ros, ux, uy, ecc, ign, t_ign, cell):
    """Dijkstra with heapq, the same stencil, edge cost and knight-move rule as the kernel."""
    ny, nx = ros.shape
    out = np.full(ny * nx, np.inf)
    done = np.zeros(ny * nx, bool)
    heap = []
    for c, t in zip(ign, t_ign, strict=True):
        if ros.flat[c] > 0 and t < out[c]:
            out[c] = t
            heapq.heappush(heap, (t, int(c)))

    def rate(k, mx, my):
        cos = ux.flat[k] * mx + uy.flat[k] * my
        return ros.flat[k] * (1 - ecc.flat[k]) / (1 - ecc.flat[k] * cos)

    while heap:
        t, c = heapq.heappop(heap)
        if done[c] or t > out[c]:
            continue
        done[c] = True
        row, col = divmod(c, nx)
        for s, (dr, dc) in enumerate(STENCIL):
            rr, cc = row + dr, col + dc
            if not (0 <= rr < ny and 0 <= cc < nx):
                continue
            k = rr * nx + cc
            if done[k] or ros.flat[k] <= 0:
                continue
            if s >= 8:
                if abs(dr) == 2:
                    a, b = (row + dr // 2, col), (row + dr // 2, col + dc)
                else:
                    a, b = (row, col + dc // 2), (row + dr, col + dc // 2)
                if ros[a] <= 0 or ros[b] <= 0:
                    continue
            d = cell * math.hypot(dr, dc)
            mx, my = dc * cell / d, dr * cell / d
            tk = t + 0.5 * d * (1 / rate(c, mx, my) + 1 / rate(k, mx, my))
            if tk < out[k]:
                out[k] = tk
                heapq.heappush(heap, (tk, k))
    return out.reshape(ny, nx)


def test_kernel_equals_the_plain_reference():
    rng = np.random.default_rng(7)
    ny, nx = 23, 31
    ros = rng.uniform(0.01, 0.5, (ny, nx))
    ros[rng.random((ny, nx)) < 0.15] = 0.0  # non-burnable patches
    ang = rng.uniform(0, 2 * np.pi, (ny, nx))
    ux, uy = np.sin(ang), np.cos(ang)
    ecc = rng.uniform(0, 0.9, (ny, nx))
    ros[5, 5] = ros[17, 20] = 0.3
    ign = np.array([5 * nx + 5, 17 * nx + 20])
    t_ign = np.array([0.0, 600.0])
    got = arrival_times(ros, ux, uy, ecc, ign, t_ign, 25.0, np.inf)
    want = reference_arrival(ros, ux, uy, ecc, ign, t_ign, 25.0)
    assert np.array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_allclose(got[np.isfinite(got)], want[np.isfinite(want)], rtol=1e-12)
    assert np.all(np.isinf(got[ros <= 0]))  # nothing burns without fuel


def test_fire_does_not_cross_a_firebreak():
    ros = np.full((21, 21), 0.2)
    ros[:, 10] = 0.0  # a one-cell non-burnable strip from edge to edge
    z = np.zeros_like(ros)
    a = arrival_times(ros, z, z + 1, z, np.array([10 * 21 + 3]), np.zeros(1), 10.0, np.inf)
    assert np.all(np.isfinite(a[:, :10])) and np.all(np.isinf(a[:, 10:]))


def test_t_max_stops_the_search():
    ros = np.full((41, 41), 0.1)
    z = np.zeros_like(ros)
    a = arrival_times(ros, z, z + 1, z, np.array([20 * 41 + 20]), np.zeros(1), 10.0, 500.0)
    assert np.nanmax(a[np.isfinite(a)]) <= 500.0 and np.isinf(a).any()


def _point_fire(n, cell, ros, ecc, t_max=np.inf):
    r = np.full((n, n), ros)
    ux, uy = np.ones((n, n)), np.zeros((n, n))  # head toward east
    c = n // 2
    a = arrival_times(r, ux, uy, np.full((n, n), ecc), np.array([c * n + c]), np.zeros(1),
                      cell, t_max)
    return a, c


def test_flat_no_wind_fire_is_a_circle_of_radius_rate_times_time():
    # Flat ground, no wind: Rothermel's R0 of fuel model 1 in every direction (LB = 1).
    bed = ro.fuel_bed(fu.fuel_model(1), ro.Moisture())
    hf = ro.head_fire(bed, 0.0, 0.0, 0.0)
    rate = float(hf.ros_ftmin) * ro.FTMIN_TO_MPS
    assert float(hf.ecc) == 0.0
    n, cell = 161, 5.0
    t = 70.0 * cell / rate  # radius of 70 cells
    a, c = _point_fire(n, cell, rate, 0.0)
    burned = a <= t
    yy, xx = np.mgrid[0:n, 0:n]
    dist = np.hypot(xx - c, yy - c)[burned] * cell
    r_true = rate * t
    # Every burned cell lies inside the true circle (paths never beat a straight line) ...
    assert dist.max() <= r_true + 1e-6
    # ... and every cell within the lattice-error radius, less one cell, has burned.
    inner = np.hypot(xx - c, yy - c) * cell <= r_true * (1 - LATTICE_ERR) - cell
    assert burned[inner].all()
    # Burned area: within the lattice error of the circle's.
    r_eff = math.sqrt(burned.sum() * cell * cell / math.pi)
    assert r_eff == pytest.approx(r_true, rel=LATTICE_ERR)


@pytest.mark.parametrize("wind_mph", [4.0, 10.0])
def test_wind_driven_fire_has_the_published_length_to_breadth_ratio(wind_mph):
    # BehavePlus: LB = 1 + 0.25 U_eff (mi/h), Andrews 2018 eq. 79 (cross-checked in
    # test_wildfire_rothermel against BehavePlus V6's lwr). Flat ground: U_eff = midflame.
    bed = ro.fuel_bed(fu.fuel_model(1), ro.Moisture())
    hf = ro.head_fire(bed, wind_mph * ro.MPH_TO_FTMIN, 0.0, 0.0)
    lb = float(hf.lb)
    assert lb == pytest.approx(1 + 0.25 * wind_mph, rel=1e-9)
    rate = float(hf.ros_ftmin) * ro.FTMIN_TO_MPS
    n, cell = 241, 5.0
    head_cells = 100  # the head runs 100 cells east of the ignition
    t = head_cells * cell / rate
    a, c = _point_fire(n, cell, rate, float(hf.ecc), t_max=t * 1.01)
    burned = a <= t
    cols = np.flatnonzero(burned.any(axis=0))
    rows = np.flatnonzero(burned.any(axis=1))
    length = (cols.max() - cols.min() + 1) * cell
    width = (rows.max() - rows.min() + 1) * cell
    # Head along a stencil direction: exact to a cell.
    assert (cols.max() - c) == pytest.approx(head_cells, abs=1)
    back = rate * (1 - float(hf.ecc)) / (1 + float(hf.ecc)) * t
    assert (c - cols.min()) * cell == pytest.approx(back, abs=cell)
    # Width between stencil directions: within the lattice error and one cell each side.
    true_width = (rate + rate * (1 - float(hf.ecc)) / (1 + float(hf.ecc))) * t / lb
    assert width <= true_width + 2 * cell
    assert width >= true_width * (1 - LATTICE_ERR) - 2 * cell
    assert length / width == pytest.approx(lb, rel=LATTICE_ERR + 4 * cell / true_width)
