"""Smoke tests of the benchmark scripts in ``benchmarks/``.

Peers (``benchmarks/peers.py``): the evacsim side of the grid-to-corners workload runs on a
tiny grid and satisfies the workload's invariants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
G, N = 6, 200
FREE_FLOW_LINK_S = 500.0 / 13.89  # issue 3: 500 m links at 50 km/h


@pytest.fixture(scope="module")
def peers():
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(REPO / "benchmarks"))
        import peers as mod  # noqa: PLC0415 - the script's folder is not a package path

        yield mod


@pytest.fixture(scope="module")
def run(peers):
    return peers.run_evacsim(G, N, dt_s=5.0)


def _manhattan_nearest_corner(g: int, node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brute force over the four corners: (corner node, hops)."""
    i, j = np.divmod(node, g)
    corners = [(0, 0), (0, g - 1), (g - 1, 0), (g - 1, g - 1)]
    d = np.stack([np.abs(i - ci) + np.abs(j - cj) for ci, cj in corners])
    best = d.argmin(axis=0)
    assert np.all(np.sort(d, axis=0)[1] > d.min(axis=0)), "g even: no ties"
    return np.array([ci * g + cj for ci, cj in corners])[best], d.min(axis=0)


def test_grid_and_demand_follow_the_workload(peers):
    import workload as wl

    grid = wl.build_grid(G)
    assert grid.n_links == 4 * G * (G - 1)  # two directed links per 4-neighbour pair
    di = np.abs(grid.x_m[grid.from_node] - grid.x_m[grid.to_node])
    dj = np.abs(grid.y_m[grid.from_node] - grid.y_m[grid.to_node])
    assert np.all(di + dj == 500.0) and np.all(di * dj == 0.0)
    pairs = set(zip(grid.from_node.tolist(), grid.to_node.tolist(), strict=True))
    assert len(pairs) == grid.n_links

    dem = wl.build_demand(G, N)
    assert not np.isin(dem.origin, grid.corners).any()
    np.testing.assert_array_equal(dem.depart_s, 1800.0 * np.arange(N) / N)
    again = wl.build_demand(G, N)
    np.testing.assert_array_equal(dem.origin, again.origin)  # seeded
    corner_node, hops = _manhattan_nearest_corner(G, dem.origin)
    np.testing.assert_array_equal(dem.dest, corner_node)
    np.testing.assert_array_equal(dem.hops, hops)


def test_every_vehicle_arrives_no_faster_than_free_flow(run):
    assert np.isfinite(run.travel_s).all()
    free = run.demand.hops * FREE_FLOW_LINK_S
    assert np.all(run.travel_s >= free * (1 - 1e-12))
    assert run.end_s <= 6 * 3600.0


def test_vehicles_go_to_the_manhattan_nearest_corner(run):
    corner_node, _ = _manhattan_nearest_corner(G, run.demand.origin)
    np.testing.assert_array_equal(run.dest_node, corner_node)


def test_a_lone_vehicle_takes_exactly_its_free_flow_time(peers):
    lone = peers.run_evacsim(G, 1, dt_s=5.0)
    np.testing.assert_allclose(lone.travel_s, lone.demand.hops * FREE_FLOW_LINK_S, rtol=1e-12)


def test_the_run_is_deterministic(peers, run):
    again = peers.run_evacsim(G, N, dt_s=5.0)
    np.testing.assert_array_equal(again.travel_s, run.travel_s)


def test_the_corner_tie_break_uses_both_entry_links_of_each_corner(peers):
    """A plain tree sends most of a quadrant through one entry link; ours splits it."""
    import workload as wl

    from sim.core.links import build_links
    from sim.routing import next_hop

    g = 12
    grid = wl.build_grid(g)
    links = build_links(grid.from_node, grid.to_node, **wl.link_arrays(grid), n_nodes=grid.n_nodes)
    for c in range(4):
        nl = next_hop(links, grid.n_nodes, grid.corners[c : c + 1],
                      cost_s=wl.tie_break_cost_s(grid, c)).next_link
        quadrant = np.flatnonzero(wl.nearest_corner(g, np.arange(grid.n_nodes))[0] == c)
        quadrant = quadrant[quadrant != grid.corners[c]]
        paths = wl.routes(grid, nl[None, :].repeat(4, axis=0), c, quadrant)
        _, hops = wl.nearest_corner(g, quadrant)
        assert [len(p) for p in paths] == hops.tolist()  # still shortest paths
        last = np.array([p[-1] for p in paths])
        counts = np.unique(last, return_counts=True)[1]
        # (g/2)^2 - 1 nodes: the off-diagonal halves plus the diagonal on one side
        assert counts.size == 2 and abs(counts[0] - counts[1]) <= g // 2


def test_the_script_runs_evacsim_alone(peers, tmp_path, capsys):
    assert peers.main(["--sizes", f"{G}x{N}", "--peers", "none", "--repeats", "1",
                       "--work", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith("| evacsim"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:4] == ["evacsim", "dt=5", str(G), str(N)]
    assert cells[8] == str(N)  # trips completed
