"""evacsim against its peers (UXsim, SUMO) on the grid workloads of issues 3 and 17.

Two workloads, both built by ``benchmarks/workload.py``: ``--sizes GxN`` the
grid-to-corners workload of issue 3 (four corner shelters), ``--city GxN`` the city
workload of issue 17 (every non-corner boundary node an exit, straight to the nearest
side, two-lane links: ``workload.build_city_demand``), sized so that 1,000,000 trips fit
in the horizon at G = 50.

The workload is built by ``benchmarks/workload.py``. Every simulator/mode runs as its own
fresh process and is timed as a whole process (wall seconds, peak RSS of that process;
median of ``--repeats`` runs): evacsim and UXsim build the workload inside the process
(imports and model building count); SUMO gets its network (netconvert) and route files
prepared beforehand and only the ``sumo`` run is timed. Before the first evacsim timing
one warm-up run fills numba's on-disk cache, so timed runs load compiled kernels.

Peers are optional (``pip install -e .[peers]``: uxsim, eclipse-sumo, sumolib); with none
installed only evacsim runs.

- evacsim: ``sim.core.queue`` spatial queues, tick ``--dt`` (first value is the one
  speed-ups refer to; others show the tick sensitivity), fixed shortest routes per corner
  (``sim.routing.next_hop``, ties broken toward the corner's nearer axis, see
  ``workload.tie_break_cost_s``; ``--plain-ties`` adds a run with Dijkstra's own ties).
- UXsim: ``World(cpp=True)`` (C++ engine) and the Python engine, platoon size 5 and 1,
  its default dynamic user-optimal route choice, ``capacity_out`` and ``capacity_in``
  0.5 veh/s (its triangular diagram alone gives 0.735 veh/s, and a vehicle ends its trip
  at the end of its last link without passing a node, so with ``capacity_out`` alone each
  entry link of a corner would discharge ~0.74 veh/s instead of 0.5).
  Platoons of ``deltan`` consecutive vehicles of one origin depart at the time of their
  middle member; an origin's last partial platoon is kept when at least half full, so
  the represented demand differs slightly from ``n`` (column "demand").
- SUMO: ``--mesosim`` and microscopic, the same fixed routes as evacsim, vehicle
  length + minGap 5 m (jam density 0.2 veh/m), tau / meso-tauff 1.64 s (gross headway
  2 s at 13.89 m/s: 1800 veh/h), ``sigma`` 0 and ``speedDev`` 0 (free flow 13.89 m/s),
  SUMO's default teleporting of vehicles stuck for 300 s (counted in "teleports").
- City workload: the same settings per lane; links have ``workload.CITY_LANES`` lanes
  (UXsim ``number_of_lanes`` and capacities x2, SUMO ``numLanes``, evacsim capacity and
  storage x2); evacsim routes with one table per side (targets: that side's exits), SUMO
  gets the straight routes, UXsim its default route choice to the destination node.

Travel time is arrival minus the scheduled departure (waiting to enter the network
counts) for every simulator. Besides wall time and peak RSS each row has the process's
CPU time, the vehicle-seconds advanced and the last arrival (throughput and real-time
factor columns). Usage::

    python benchmarks/peers.py --sizes 20x10000 40x50000 --repeats 3
    python benchmarks/peers.py --sizes --city 50x10000 50x100000 50x1000000 \\
        --peers uxsim-cpp-5 sumo-meso --timeout 7200
    python benchmarks/peers.py --sizes 20x10000 20x50000 20x200000 40x10000 40x50000 \\
        40x200000 --peers none --dt 5 1 10
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

import numpy as np
import workload as wl  # the sibling module; run this file as a script

from sim.cli import BLAS_THREADS_ENV

HERE = Path(__file__).resolve()
UXSIM_MODES = ("cpp-5", "cpp-1", "python-5", "python-1")
# Run only when named: UXsim C++ with every platoon held to evacsim's and SUMO's routes
# (Vehicle.enforce_route), to tell its traffic model from its route choice.
UXSIM_EXTRA = ("cpp-5-straight",)
SUMO_MODES = ("meso", "micro")
# Gross headway 2 s at 1800 veh/h, minus the 5 m vehicle + gap at 13.89 m/s (0.36 s).
SUMO_TAU_S = 1.64


class EvacsimResult(NamedTuple):
    """Outcome of one evacsim run of the workload.

    Attributes
    ----------
    demand : Demand
        The vehicles.
    travel_s : float64[n]
        Arrival minus departure, seconds; NaN for vehicles not arrived by the horizon.
    dest_node : int32[n]
        Node where each vehicle arrived, -1 if it did not.
    end_s : float
        Simulated time when the run stopped (all arrived, or the horizon), seconds.
    ticks : int
        Ticks simulated.
    """

    demand: wl.Demand
    travel_s: np.ndarray
    dest_node: np.ndarray
    end_s: float
    ticks: int


def run_evacsim(g: int, n: int, *, dt_s: float = 5.0, tie_break: bool = True,
                timers: dict | None = None) -> EvacsimResult:
    """Run the corners workload with evacsim's vehicle kernel, in this process."""
    from sim.core.links import build_links
    from sim.routing import next_hop, stack_tables

    grid = wl.build_grid(g)
    dem = wl.build_demand(g, n)
    links = build_links(grid.from_node, grid.to_node, **wl.link_arrays(grid), n_nodes=grid.n_nodes)
    tables = [
        next_hop(links, grid.n_nodes, grid.corners[c : c + 1],
                 cost_s=wl.tie_break_cost_s(grid, c) if tie_break else None)
        for c in range(4)
    ]
    target = grid.corners.astype(np.int32)  # table c leads to corner c
    return _drive(grid, links, dem, dem.corner, stack_tables(tables), target, grid.corners,
                  dt_s, timers)


def run_evacsim_city(g: int, n: int, *, dt_s: float = 5.0,
                     timers: dict | None = None) -> EvacsimResult:
    """Run the city workload (``workload.build_city_demand``) in this process.

    One routing table per side, whose targets are that side's exits: from an interior
    node the only shortest path to a side is the straight one (any other exit on that
    side is farther), so every vehicle drives straight to ``demand.dest``.
    """
    from sim.core.links import build_links
    from sim.routing import next_hop, stack_tables

    grid = wl.build_grid(g)
    dem = wl.build_city_demand(g, n)
    links = build_links(grid.from_node, grid.to_node, **wl.link_arrays(grid, wl.CITY_LANES),
                        n_nodes=grid.n_nodes)
    tables = [next_hop(links, grid.n_nodes, wl.side_nodes(g, s)) for s in range(wl.SIDES)]
    target = np.full(wl.SIDES, -1, dtype=np.int32)  # any open node of shelter set 0
    return _drive(grid, links, dem, dem.side, stack_tables(tables), target, wl.exits(g),
                  dt_s, timers)


def _drive(grid, links, dem, table, next_link, target, shelters, dt_s, timers) -> EvacsimResult:
    """Release and advance the vehicles until all arrive or the horizon (both workloads).

    ``timers`` (optional dict) receives, for the throughput figure, the wall seconds spent
    in ``release`` and ``step_vehicles``, the CPU seconds of the latter, the tick count,
    and the kernel's events: link-to-link moves, entries from the wait list, arrivals, and
    link visits (passes x links; the main pass visits every link every tick) and the
    waiting vehicles examined (``StepStats.n_checked``: a wait-list group blocked by its
    first link costs one, :mod:`sim.core.waitlist`).
    """
    from sim.core.queue import new_fleet, new_queues, release, step_vehicles

    n = dem.origin.size
    shelter_open = np.zeros(grid.n_nodes, dtype=np.bool_)
    shelter_open[shelters] = True
    shelter_room = np.zeros(grid.n_nodes, dtype=np.int64)
    shelter_room[shelters] = 10**12  # unlimited
    speed_factor = np.ones(grid.n_links)
    fleet = new_fleet(n, origin=dem.origin, table=table)
    queues = new_queues(links, n)

    t, ticks, released, arrived = 0.0, 0, 0, 0
    t_rel = t_step = cpu_step = 0.0
    events = np.zeros(4, dtype=np.int64)  # link-to-link moves, entries, arrivals, passes
    wait_visits = 0  # waiting vehicles the kernel examined
    clock = time.perf_counter
    first = True
    while t < wl.HORIZON_S and arrived < n:
        t1 = min(t + dt_s, wl.HORIZON_S)
        k = int(np.searchsorted(dem.depart_s, t1, side="right"))
        c0 = clock()
        if k > released:
            release(fleet, queues, np.arange(released, k), dem.depart_s[released:k])
            released = k
        c1, p1 = clock(), time.process_time()
        # The inputs are built here and fixed: check their values once, on the first tick.
        stats = step_vehicles(links, queues, fleet, next_link, target, shelter_open,
                              shelter_room, speed_factor, t, t1 - t, check_values=first)
        t_step += clock() - c1
        cpu_step += time.process_time() - p1
        t_rel += c1 - c0
        events += (stats.n_moved_links, stats.n_entered, stats.n_arrived, stats.n_passes)
        wait_visits += stats.n_checked
        first = False
        arrived += stats.n_arrived
        t, ticks = t1, ticks + 1
    if timers is not None:
        timers.update(release_s=t_rel, step_s=t_step, step_cpu_s=cpu_step, ticks=ticks,
                      moves=int(events[0]), entries=int(events[1]), arrivals=int(events[2]),
                      link_passes=int(events[3]) * grid.n_links, wait_visits=wait_visits)
    return EvacsimResult(dem, fleet.t_arrive_s - dem.depart_s, fleet.dest_node.copy(), t, ticks)


# --------------------------------------------------------------------------- children


def _summary(travel_s: np.ndarray, demand: int, arrive_s: np.ndarray | None = None,
             **extra) -> dict:
    """Trips, mean travel time and, for the throughput figure, the vehicle-seconds.

    ``veh_s`` is the sum of the completed trips' travel times (waiting to enter included):
    the vehicle x seconds each simulator advanced, whatever its own tick. ``last_s`` is
    the last arrival, the simulated time the run needed.
    """
    ok = np.isfinite(travel_s)
    done = travel_s[ok]
    last = float(np.max(arrive_s[ok])) if arrive_s is not None and done.size else None
    return {"demand": int(demand), "arrived": int(done.size),
            "mean_tt_s": float(done.mean()) if done.size else None,
            "veh_s": float(done.sum()), "last_s": last, **extra}


def _child_evacsim(work: str, g: int, n: int, mode: str) -> dict:
    dt = float(mode.split("=")[1].split()[0])
    timers: dict = {}
    if work == "city":
        res = run_evacsim_city(g, n, dt_s=dt, timers=timers)
    else:
        res = run_evacsim(g, n, dt_s=dt, tie_break="plain" not in mode, timers=timers)
    return _summary(res.travel_s, n, res.demand.depart_s + res.travel_s, end_s=res.end_s,
                    **timers)


def _platoons(dem: wl.Demand, deltan: int) -> tuple[np.ndarray, np.ndarray]:
    """Platoon (vehicle index of its representative, departure s) for UXsim, by time."""
    order = np.lexsort((np.arange(dem.origin.size), dem.origin))  # by origin, then time
    orig_sorted = dem.origin[order]
    start = np.flatnonzero(np.r_[True, orig_sorted[1:] != orig_sorted[:-1]])
    size = np.diff(np.r_[start, orig_sorted.size])
    reps = []
    for s, m in zip(start.tolist(), size.tolist(), strict=True):
        full, rest = divmod(m, deltan)
        mids = s + deltan * np.arange(full) + deltan // 2
        if 2 * rest >= deltan:
            mids = np.r_[mids, s + deltan * full + rest // 2]
        reps.append(mids)
    rep = np.sort(order[np.concatenate(reps)])
    return rep, dem.depart_s[rep]


def _child_uxsim(work: str, g: int, n: int, mode: str) -> dict:
    import uxsim

    engine, deltan, *fixed = mode.split("-")
    deltan = int(deltan)
    grid = wl.build_grid(g)
    dem = wl.build_city_demand(g, n) if work == "city" else wl.build_demand(g, n)
    world = uxsim.World(name="grid", deltan=deltan, tmax=wl.HORIZON_S, print_mode=0,
                        save_mode=0, show_mode=0, show_progress=0, random_seed=0,
                        vehicle_logging_timestep_interval=-1, cpp=engine == "cpp")
    for k in range(grid.n_nodes):
        world.addNode(f"n{k}", float(grid.x_m[k]), float(grid.y_m[k]))
    lanes = wl.CITY_LANES if work == "city" else 1
    for k, (a, b) in enumerate(zip(grid.from_node.tolist(), grid.to_node.tolist(), strict=True)):
        world.addLink(f"l{k}", f"n{a}", f"n{b}", length=wl.SPACING_M, free_flow_speed=wl.FFS_MPS,
                      jam_density=wl.JAM_DENSITY_VPM, number_of_lanes=lanes,
                      capacity_out=lanes * wl.CAPACITY_VPH_LANE / 3600.0,
                      capacity_in=lanes * wl.CAPACITY_VPH_LANE / 3600.0)
    rep, dep = _platoons(dem, deltan)
    lookup = {(a, b): k for k, (a, b) in
              enumerate(zip(grid.from_node.tolist(), grid.to_node.tolist(), strict=True))}
    for v, t in zip(rep.tolist(), dep.tolist(), strict=True):
        veh = world.addVehicle(f"n{dem.origin[v]}", f"n{dem.dest[v]}", t)
        if fixed:  # the straight route (city workload only)
            veh.enforce_route([f"l{k}" for k in
                               wl._straight(lookup, g, int(dem.origin[v]), int(dem.dest[v]))])
    world.exec_simulation()
    vehs = list(world.VEHICLES.values())
    tt = np.array([veh.travel_time if veh.state == "end" else np.nan for veh in vehs],
                  dtype=np.float64)
    arr = dep + tt  # VEHICLES keeps the order of addVehicle
    return _summary(np.repeat(tt, deltan), rep.size * deltan, np.repeat(arr, deltan))


def _child_main(argv: list[str]) -> int:
    sim, work, g, n, mode, out = argv
    child = {"evacsim": _child_evacsim, "uxsim": _child_uxsim}[sim]
    Path(out).write_text(json.dumps(child(work, int(g), int(n), mode)), encoding="utf-8")
    # Every Python peer's process ends as the ``evacsim`` command ends (``sim.cli.entry``):
    # without the interpreter's last garbage collection over everything still alive.
    gc.freeze()
    return 0


# --------------------------------------------------------------------------- SUMO


def _sumo_bin(name: str) -> str:
    import sumo

    return str(Path(sumo.SUMO_HOME) / "bin" / name)


def _sumo_inputs(g: int, n: int, work: Path, kind: str = "corners") -> tuple[Path, Path]:
    """Write the SUMO network (once per g) and the routes (once per workload, g, n)."""
    grid = wl.build_grid(g)
    lanes = wl.CITY_LANES if kind == "city" else 1
    net = work / (f"grid{g}.net.xml" if lanes == 1 else f"grid{g}-{lanes}lanes.net.xml")
    if not net.exists():
        nod, edg = work / f"grid{g}.nod.xml", work / f"grid{g}-{lanes}.edg.xml"
        nod.write_text("<nodes>\n" + "".join(
            f'  <node id="n{k}" x="{x:.1f}" y="{y:.1f}"/>\n'
            for k, (x, y) in enumerate(zip(grid.x_m, grid.y_m, strict=True))) + "</nodes>\n")
        edg.write_text("<edges>\n" + "".join(
            f'  <edge id="l{k}" from="n{a}" to="n{b}" numLanes="{lanes}" '
            f'speed="{wl.FFS_MPS}"/>\n'
            for k, (a, b) in enumerate(zip(grid.from_node, grid.to_node, strict=True)))
            + "</edges>\n")
        subprocess.run([_sumo_bin("netconvert"), "-n", str(nod), "-e", str(edg), "-o", str(net),
                        "--no-turnarounds", "true", "--no-warnings", "true"], check=True,
                       capture_output=True)
    rou = work / f"grid{g}-{n}.rou.xml" if kind == "corners" else work / f"city{g}-{n}.rou.xml"
    if kind == "city" and not rou.exists():
        dem = wl.build_city_demand(g, n)
        origins, first = np.unique(dem.origin, return_index=True)
        lookup = {(a, b): k for k, (a, b) in
                  enumerate(zip(grid.from_node.tolist(), grid.to_node.tolist(), strict=True))}
        lines = ['<routes>\n', _SUMO_VTYPE]
        for o, d in zip(origins.tolist(), dem.dest[first].tolist(), strict=True):
            path = wl._straight(lookup, g, o, d)
            lines.append(f'  <route id="o{o}" edges="{" ".join(f"l{k}" for k in path)}"/>\n')
        lines += [f'  <vehicle id="{k}" type="car" route="o{o}" depart="{t:.3f}"/>\n'
                  for k, (o, t) in enumerate(zip(dem.origin.tolist(), dem.depart_s.tolist(),
                                                 strict=True))]
        rou.write_text("".join(lines) + "</routes>\n")
    if not rou.exists():
        from sim.core.links import build_links
        from sim.routing import next_hop, stack_tables

        links = build_links(grid.from_node, grid.to_node, **wl.link_arrays(grid),
                            n_nodes=grid.n_nodes)
        next_link = stack_tables([
            next_hop(links, grid.n_nodes, grid.corners[c : c + 1],
                     cost_s=wl.tie_break_cost_s(grid, c)) for c in range(4)])
        dem = wl.build_demand(g, n)
        origins = np.unique(dem.origin)
        corner, _ = wl.nearest_corner(g, origins)
        lines = ['<routes>\n', _SUMO_VTYPE]
        for o, c in zip(origins.tolist(), corner.tolist(), strict=True):
            path = wl.routes(grid, next_link, c, [o])[0]
            lines.append(f'  <route id="o{o}" edges="{" ".join(f"l{k}" for k in path)}"/>\n')
        lines += [f'  <vehicle id="{k}" type="car" route="o{o}" depart="{t:.3f}"/>\n'
                  for k, (o, t) in enumerate(zip(dem.origin.tolist(), dem.depart_s.tolist(),
                                                 strict=True))]
        rou.write_text("".join(lines) + "</routes>\n")
    return net, rou


_SUMO_VTYPE = (f'  <vType id="car" length="2.5" minGap="2.5" tau="{SUMO_TAU_S}" '
               f'sigma="0" speedDev="0" maxSpeed="{wl.FFS_MPS}"/>\n')


def _sumo_cmd(g: int, n: int, mode: str, work: Path, tag: str,
              kind: str = "corners") -> tuple[list[str], Path, Path]:
    net, rou = _sumo_inputs(g, n, work, kind)
    trip, stat = work / f"trip-{tag}.xml", work / f"stat-{tag}.xml"
    cmd = [_sumo_bin("sumo"), "-n", str(net), "-r", str(rou), "--end", str(int(wl.HORIZON_S)),
           "--tripinfo-output", str(trip), "--statistic-output", str(stat), "--no-step-log",
           "--no-warnings", "--seed", "1"]
    if mode == "meso":
        cmd += ["--mesosim", "--meso-tauff", str(SUMO_TAU_S), "--meso-taufj", str(SUMO_TAU_S)]
    return cmd, trip, stat


def _sumo_result(n: int, trip: Path, stat: Path) -> dict:
    tt, arr = [], []
    for _, e in ET.iterparse(trip):
        if e.tag == "tripinfo":
            tt.append(float(e.get("duration")) + float(e.get("departDelay")))
            arr.append(float(e.get("arrival")))
            e.clear()
    tele = ET.parse(stat).getroot().find("teleports")
    return _summary(np.array(tt), n, np.array(arr),
                    teleports=int(tele.get("total")) if tele is not None else None)


# --------------------------------------------------------------------------- timing

_WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.Popen(sys.argv[2:])\n"
    "try:\n    rc = p.wait(timeout=float(sys.argv[1]))\n"
    "except subprocess.TimeoutExpired:\n    p.kill(); p.wait(); rc = 'timeout'\n"
    "w = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'rc': rc, 'wall': w, 'mib': u.ru_maxrss / 1024,\n"
    "                  'cpu': u.ru_utime + u.ru_stime}))\n"
)


def _timed(cmd: list[str], timeout_s: float) -> dict:
    """Run ``cmd`` as the only child of a fresh wrapper: wall s, peak MiB and CPU s."""
    # Every peer's child gets the BLAS setting the evacsim command sets for itself
    # (sim.cli.BLAS_THREADS_ENV): one thread, no spinning pool.
    env = {**os.environ, **{k: os.environ.get(k, v) for k, v in BLAS_THREADS_ENV.items()}}
    out = subprocess.run([sys.executable, "-c", _WRAPPER, str(timeout_s), *cmd],
                         capture_output=True, text=True, check=False, env=env)
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"timing wrapper failed: {out.stderr[-2000:]}")
    res = json.loads(lines[-1])
    if res["rc"] not in (0, "timeout"):
        raise RuntimeError(f"{cmd} failed with {res['rc']}: {out.stderr[-2000:]}")
    return res


def _measure(sim: str, mode: str, work: str, g: int, n: int, args) -> dict:
    walls, mibs, cpus, result = [], [], [], None
    for r in range(args.repeats):
        tag = f"{sim}-{mode.replace(' ', '_').replace('=', '')}-{work}-{g}-{n}-{r}"
        if sim == "sumo":
            cmd, trip, stat = _sumo_cmd(g, n, mode, args.work, tag, work)
        else:
            out = args.work / f"{tag}.json"
            cmd = [sys.executable, str(HERE), "--child", sim, work, str(g), str(n), mode, str(out)]
        res = _timed(cmd, args.timeout)
        if res["rc"] == "timeout":
            row = {"sim": sim, "mode": mode, "work": work, "g": g, "n": n,
                   "timeout": args.timeout}
            print(json.dumps(row), file=sys.stderr, flush=True)
            return row
        walls.append(res["wall"])
        mibs.append(res["mib"])
        cpus.append(res["cpu"])
        result = (_sumo_result(n, trip, stat) if sim == "sumo"
                  else json.loads(out.read_text(encoding="utf-8")))
        if sim == "sumo":
            trip.unlink(missing_ok=True)  # 1M trips: ~300 MB each
        if res["wall"] > args.single_above:
            break  # long runs are measured once
    row = {"sim": sim, "mode": mode, "work": work, "g": g, "n": n,
           "wall_s": statistics.median(walls), "walls": walls,
           "peak_mib": statistics.median(mibs), "cpu_s": statistics.median(cpus),
           "load": os.getloadavg()[0], **result}
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _table(rows: list[dict], dt0: float) -> str:
    base = {(r["work"], r["g"], r["n"]): r for r in rows
            if r["sim"] == "evacsim" and r["mode"] == f"dt={dt0:g}" and "wall_s" in r}
    out = ["| simulator | mode | workload | G | N | wall s (median) | runs | peak MiB | demand | "
           "trips completed | mean travel time min | evacsim speed-up | evacsim memory ratio | "
           "M veh-updates/s | real-time factor | CPU s | CPU speed-up |",
           "|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    # speed-up: peer median wall / evacsim median wall at the same size (reference tick);
    # memory ratio: evacsim peak / peer peak (< 1: evacsim needs less);
    # veh-updates/s: vehicle-seconds advanced (sum of completed travel times) per wall
    # second, i.e. vehicle-updates at a common 1 s tick; real-time factor: last arrival
    # (simulated s) / wall s; CPU s: user + system time of the process (on a shared
    # machine less sensitive to other jobs than wall time), CPU speed-up its ratio.
    for r in rows:
        if "wall_s" not in r:
            out.append(f"| {r['sim']} | {r['mode']} | {r['work']} | {r['g']} | {r['n']:,} | "
                       f"> {r['timeout']:.0f} (stopped) | | | | | | | | | | | |")
            continue
        b = base.get((r["work"], r["g"], r["n"]))
        speed = f"{r['wall_s'] / b['wall_s']:.1f}x" if b and r["sim"] != "evacsim" else ""
        mem = f"{b['peak_mib'] / r['peak_mib']:.2f}" if b and r["sim"] != "evacsim" else ""
        tt = f"{r['mean_tt_s'] / 60:.1f}" if r["mean_tt_s"] is not None else "-"
        extra = f" ({r['teleports']} teleports)" if r.get("teleports") else ""
        vu = f"{r['veh_s'] / r['wall_s'] / 1e6:.3g}" if r.get("veh_s") else ""
        rtf = f"{r['last_s'] / r['wall_s']:,.0f}" if r.get("last_s") else ""
        cpu = f"{r['cpu_s']:.2f}" if r.get("cpu_s") is not None else ""
        cpu_x = (f"{r['cpu_s'] / b['cpu_s']:.1f}x" if b and r["sim"] != "evacsim"
                 and r.get("cpu_s") and b.get("cpu_s") else "")
        out.append(f"| {r['sim']} | {r['mode']} | {r['work']} | {r['g']} | {r['n']:,} | "
                   f"{r['wall_s']:.2f} | {', '.join(f'{w:.2f}' for w in r['walls'])} | "
                   f"{r['peak_mib']:.0f} | {r['demand']:,} | {r['arrived']:,}{extra} | {tt} | "
                   f"{speed} | {mem} | {vu} | {rtf} | {cpu} | {cpu_x} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print a Markdown table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="*", default=["20x10000", "40x50000"],
                    help="GxN pairs of the corners workload, e.g. 40x50000")
    ap.add_argument("--city", nargs="*", default=[],
                    help="GxN pairs of the city workload (exits all round), e.g. 80x1000000")
    ap.add_argument("--peers", nargs="+", default=["all"],
                    help="all, none, or some of: " + " ".join(
                        [f"uxsim-{m}" for m in UXSIM_MODES + UXSIM_EXTRA]
                        + [f"sumo-{m}" for m in SUMO_MODES]))
    ap.add_argument("--dt", type=float, nargs="+", default=[5.0],
                    help="evacsim tick(s), s; the first is the reference for speed-ups")
    ap.add_argument("--plain-ties", action="store_true",
                    help="also run evacsim with Dijkstra's own tie-breaking")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600.0, help="stop a run after this, s")
    ap.add_argument("--single-above", type=float, default=120.0,
                    help="a run longer than this (s) is not repeated")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "evacsim-peers")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = [("corners", *(int(x) for x in s.lower().split("x"))) for s in args.sizes]
    sizes += [("city", *(int(x) for x in s.lower().split("x"))) for s in args.city]
    if not sizes:
        ap.error("give --sizes and/or --city")

    wanted = set(args.peers)
    peers = []
    for m in UXSIM_MODES + UXSIM_EXTRA:
        named = {f"uxsim-{m}"} | ({"all"} if m in UXSIM_MODES else set())
        if (named & wanted) and _installed("uxsim"):
            peers.append(("uxsim", m))
    for m in SUMO_MODES:
        if ({"all", f"sumo-{m}"} & wanted) and _installed("sumo"):
            peers.append(("sumo", m))
    ev_modes = [f"dt={d:g}" for d in args.dt] + ([f"dt={args.dt[0]:g} plain-ties"]
                                                 if args.plain_ties else [])

    w0, g0, n0 = min(sizes, key=lambda s: s[1] * s[2])
    load0 = os.getloadavg()
    warm = _timed([sys.executable, str(HERE), "--child", "evacsim", w0, str(g0), str(n0),
                   ev_modes[0], str(args.work / "warmup.json")], args.timeout)
    rows = []
    for work, g, n in sizes:
        ev = ev_modes if work == "corners" else [m for m in ev_modes if "plain" not in m]
        for mode in ev:
            rows.append(_measure("evacsim", mode, work, g, n, args))
        for sim, mode in peers:
            if mode.endswith("straight") and work != "city":
                continue  # straight routes exist on the city workload only
            rows.append(_measure(sim, mode, work, g, n, args))
    load1 = os.getloadavg()
    print(f"\n_{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, repeats "
          f"{args.repeats}; load average (1/5/15 min) at start "
          f"{' / '.join(f'{x:.1f}' for x in load0)}, at end "
          f"{' / '.join(f'{x:.1f}' for x in load1)}; evacsim warm-up run (fills the numba "
          f"cache) {w0} G={g0} N={n0}: {warm['wall']:.1f} s_\n")
    print(_table(rows, args.dt[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
