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


def test_the_script_runs_evacsim_alone_on_both_workloads(peers, tmp_path, capsys):
    assert peers.main(["--sizes", f"{G}x{N}", "--city", f"{CITY_G}x{CITY_N}", "--peers", "none",
                       "--repeats", "1", "--work", str(tmp_path)]) == 0
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in capsys.readouterr().out.splitlines() if line.startswith("| evacsim")]
    assert [r[:5] for r in rows] == [["evacsim", "dt=5", "corners", str(G), str(N)],
                                     ["evacsim", "dt=5", "city", str(CITY_G), str(CITY_N)]]
    assert [r[9] for r in rows] == [str(N), str(CITY_N)]  # trips completed
    for r in rows:  # throughput (M vehicle-updates/s) and real-time factor
        assert float(r[13]) > 0 and float(r[14].replace(",", "")) > 0


# --------------------------------------------------------------------------- city workload
# Issue 17: every non-corner boundary node is an exit; each vehicle drives straight to the
# nearest side. Brute force below re-derives the exits and the nearest side.
CITY_G, CITY_N = 8, 300  # tiny; the benchmark uses workload.CITY_G


def _brute_nearest_exit(g: int, node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Over every boundary node: the nearest by Manhattan distance (ties: side order)."""
    i, j = np.divmod(node, g)
    bi, bj = np.divmod(np.arange(g * g), g)
    boundary = ((bi == 0) | (bi == g - 1) | (bj == 0) | (bj == g - 1))
    bnodes = np.flatnonzero(boundary)
    d = np.abs(i[:, None] - bi[bnodes][None, :]) + np.abs(j[:, None] - bj[bnodes][None, :])
    hops = d.min(axis=1)
    # unique nearest boundary node unless equidistant to two sides (diagonals)
    return bnodes, hops


@pytest.fixture(scope="module")
def city(peers):
    return peers.run_evacsim_city(CITY_G, CITY_N, dt_s=5.0)


def test_city_exits_and_destinations_follow_the_workload(peers):
    import workload as wl

    g = CITY_G
    ex = wl.exits(g)
    assert ex.size == 4 * (g - 2)  # every boundary node but the 4 corners
    i, j = np.divmod(ex, g)
    assert np.all((i == 0) | (i == g - 1) | (j == 0) | (j == g - 1))
    assert not np.isin(ex, [0, g - 1, (g - 1) * g, g * g - 1]).any()
    dem = wl.build_city_demand(g, CITY_N)
    oi, oj = np.divmod(dem.origin, g)
    assert np.all((oi > 0) & (oi < g - 1) & (oj > 0) & (oj < g - 1))  # interior origins
    assert np.isin(dem.dest, ex).all()
    _, hops = _brute_nearest_exit(g, dem.origin)
    np.testing.assert_array_equal(dem.hops, hops)  # the nearest exit, by brute force
    di, dj = np.divmod(dem.dest, g)
    assert np.all((di == oi) | (dj == oj))  # straight ahead: same row or column
    np.testing.assert_array_equal(np.abs(di - oi) + np.abs(dj - oj), dem.hops)
    np.testing.assert_array_equal(dem.origin, wl.build_city_demand(g, CITY_N).origin)


def test_city_every_trip_completes_at_its_exit_no_faster_than_free_flow(city):
    assert np.isfinite(city.travel_s).all()
    np.testing.assert_array_equal(city.dest_node, city.demand.dest)
    assert np.all(city.travel_s >= city.demand.hops * FREE_FLOW_LINK_S * (1 - 1e-12))
    # one vehicle is alone on its route: some trip takes exactly its free-flow time
    assert np.isclose(city.travel_s, city.demand.hops * FREE_FLOW_LINK_S, rtol=1e-12).any()


def test_city_run_is_deterministic(peers, city):
    again = peers.run_evacsim_city(CITY_G, CITY_N, dt_s=5.0)
    np.testing.assert_array_equal(again.travel_s, city.travel_s)


def test_city_straight_routes_match_the_routing_tables(peers):
    """The routes SUMO is given (straight lines) are the ones evacsim's side tables take."""
    import workload as wl

    from sim.core.links import build_links
    from sim.routing import next_hop

    g = CITY_G
    grid = wl.build_grid(g)
    links = build_links(grid.from_node, grid.to_node, **wl.link_arrays(grid), n_nodes=grid.n_nodes)
    dem = wl.build_city_demand(g, CITY_N)
    tables = [next_hop(links, grid.n_nodes, wl.side_nodes(g, s)).next_link for s in range(4)]
    for o, d, s in zip(dem.origin[:60].tolist(), dem.dest[:60].tolist(),
                       dem.side[:60].tolist(), strict=True):
        path, node = [], o
        while node != d:
            path.append(int(tables[s][node]))
            node = int(grid.to_node[path[-1]])
        assert path == wl.straight_route(grid, o, d)
