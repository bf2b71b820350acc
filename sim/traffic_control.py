"""Road-side plan levers (plan section ``[roads]``).

Contraflow, traffic control points, roads closed to evacuees, and the green channel for
responders.

A plan names roads by their OSM ``name`` (any of the ';'-joined names of a link) or by OSM
way id (an integer); :func:`resolve_roads` turns the plan into per-link arrays on the
compiled drive network and :class:`RoadLevers` applies them to a running model:

- **contraflow** (``[[roads.contraflow]]``): from ``from_min``, every two-way pair of the
  named roads runs all lanes *outbound*: the direction whose head is nearer (free-flow
  time) to an open shelter of the scenario, or to the shelter named by ``toward``. The
  outbound link gains the reversed link's lanes, outflow capacity and storage; the
  reversed link closes to entering vehicles
  (residents and responders alike). Vehicles already on it drive out (its storage stays
  until then: an approximation on the side of room).
- **traffic control points** (``[[roads.control_points]]``): officers at a junction raise
  the outflow capacity of every link into it, by ``capacity_factor`` or to
  ``capacity_vph`` per link (DYNEV II models manned traffic control points as capacity
  on the approaches; NUREG/CR-7002 §4); with ``priority = road`` only that road's
  approaches are raised and the others are scaled by ``others_factor`` (<= 1).
- **closed to evacuees** (``roads.closed_to_evacuees``): residents' routes never use these
  links (infinite cost in their tables); responders still do.
- **green channel** (``[roads.green_channel]``): on the named links (or all with
  ``all = true``) responders (rescue vehicles, relief trucks) use a reserved lane and pass
  the queue (kernel rule in :mod:`sim.core.queue`).

Field reference: ``scenarios/plans/README.md`` ("Road levers").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, model_validator

from sim._errors import ScenarioError
from sim._spec import NonNegative, Positive, Spec, field_error
from sim.core import queue
from sim.core.links import Links

__all__ = [
    "ContraflowSpec",
    "ControlPointSpec",
    "GreenChannelSpec",
    "RoadsSpec",
    "ResolvedRoads",
    "RoadLevers",
    "resolve_roads",
    "road_links",
    "contraflow_links",
]

RoadRef = StrictStr | Annotated[StrictInt, Field(ge=0)]


class ContraflowSpec(Spec):
    """``[[roads.contraflow]]``: named roads that run all lanes outbound from a time."""

    roads: tuple[RoadRef, ...] = Field(min_length=1)
    from_min: NonNegative = 0.0
    toward: StrictStr | None = None


class ControlPointSpec(Spec):
    """``[[roads.control_points]]``: a manned junction with more outflow on its approaches."""

    name: StrictStr = ""
    at: tuple[RoadRef, RoadRef] | None = None
    x_m: StrictFloat | None = None
    y_m: StrictFloat | None = None
    lon: Annotated[StrictFloat, Field(ge=-180.0, le=180.0)] | None = None
    lat: Annotated[StrictFloat, Field(ge=-90.0, le=90.0)] | None = None
    capacity_factor: Annotated[StrictFloat, Field(gt=0.0, le=10.0)] | None = None
    capacity_vph: Annotated[StrictFloat, Field(gt=0.0, le=20000.0)] | None = None
    priority: RoadRef | None = None
    others_factor: Annotated[StrictFloat, Field(gt=0.0, le=1.0)] = 1.0
    from_min: NonNegative = 0.0

    @model_validator(mode="after")
    def _one_each(self) -> ControlPointSpec:
        given = [self.at is not None, self.x_m is not None or self.y_m is not None,
                 self.lon is not None or self.lat is not None]
        if sum(given) != 1 or (self.x_m is None) != (self.y_m is None) or \
                (self.lon is None) != (self.lat is None):
            raise field_error("at", "exactly one of at = [road, road] (where two roads meet), "
                              "x_m and y_m, or lon and lat",
                              {"at": self.at, "x_m": self.x_m, "lon": self.lon})
        if (self.capacity_factor is None) == (self.capacity_vph is None):
            raise field_error("capacity_factor", "exactly one of capacity_factor (times the "
                              "approaches' capacity) or capacity_vph (veh/h per approach)",
                              {"capacity_factor": self.capacity_factor,
                               "capacity_vph": self.capacity_vph})
        if self.priority is None and self.others_factor != 1.0:
            raise field_error("others_factor", "1.0 unless an approach has priority "
                              "(priority = road)", self.others_factor)
        return self


class GreenChannelSpec(Spec):
    """``[roads.green_channel]``: where responders pass queues on a reserved lane."""

    all: StrictBool = False
    roads: tuple[RoadRef, ...] = ()

    @model_validator(mode="after")
    def _not_both(self) -> GreenChannelSpec:
        if self.all and self.roads:
            raise field_error("roads", "no roads when all = true", self.roads)
        return self


class RoadsSpec(Spec):
    """``[roads]``: the plan's road levers (all optional)."""

    contraflow: tuple[ContraflowSpec, ...] = ()
    control_points: tuple[ControlPointSpec, ...] = ()
    closed_to_evacuees: tuple[RoadRef, ...] = ()
    green_channel: GreenChannelSpec = GreenChannelSpec()
    max_snap_m: Positive = 200.0

    @property
    def active(self) -> bool:
        """Whether any lever is used."""
        return bool(self.contraflow or self.control_points or self.closed_to_evacuees
                    or self.green_channel.all or self.green_channel.roads)


# --------------------------------------------------------------------------- resolution


def road_links(net, ref: str | int) -> np.ndarray:
    """Drive links of a road given by OSM name or way id (empty if the map lacks it)."""
    if net.drive_name is None or net.drive_way is None:
        return np.zeros(0, np.int64)
    if isinstance(ref, int):
        return np.flatnonzero(net.drive_way == ref)
    names = np.char.split(net.drive_name.astype(str), ";")
    return np.flatnonzero(np.fromiter((ref in n for n in names), bool, len(names)))


def contraflow_links(links: Links, chosen: np.ndarray, node_cost_s: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Pair the chosen links into (outbound, reversed) by cost-to-shelter at their heads.

    Parameters
    ----------
    links
        Drive links.
    chosen
        Link indices of the contraflow roads.
    node_cost_s
        float64[N]: free-flow time from each node to the nearest shelter, seconds.

    Returns
    -------
    outbound, reversed : int64[P]
        For each two-way pair among ``chosen`` (links ``u -> v`` and ``v -> u``), the link
        whose head is nearer a shelter, and the other one. Pairs of equal cost, and
        one-way links, are left out. Parallel links: the lowest index of each direction.
    """
    chosen = np.unique(np.asarray(chosen, np.int64))
    first: dict[tuple[int, int], int] = {}
    for i in chosen.tolist():
        first.setdefault((int(links.from_node[i]), int(links.to_node[i])), i)
    out, rev = [], []
    for (u, v), i in first.items():
        j = first.get((v, u))
        if j is None or u > v:
            continue
        cu, cv = node_cost_s[u], node_cost_s[v]
        if cv < cu:  # i runs u -> v toward the shelter
            out.append(i), rev.append(j)
        elif cu < cv:
            out.append(j), rev.append(i)
    return np.array(out, np.int64), np.array(rev, np.int64)


@dataclass(frozen=True)
class ResolvedRoads:
    """The ``[roads]`` levers on a map's drive links.

    Attributes
    ----------
    contraflow : list of (from_s, outbound int64[P], reversed int64[P])
    control : list of (from_s, links int64[K], capacity_vps float64[K])
        New outflow capacity of the links into each control point.
    closed_to_evacuees : bool[L]
    green : bool[L]
    """

    contraflow: list
    control: list
    closed_to_evacuees: np.ndarray
    green: np.ndarray


def resolve_roads(spec: RoadsSpec, net, node_cost_s: np.ndarray, *, source: str,
                  shelters: dict[str, int] | None = None) -> ResolvedRoads:
    """Place the ``[roads]`` levers on the compiled map; every unknown name is an error.

    Parameters
    ----------
    spec
        The plan's ``[roads]`` section.
    net : sim.network.RoadNetwork
    node_cost_s
        float64[N]: free-flow time from each node to its nearest shelter (decides which
        direction of a contraflow road is outbound), seconds.
    source
        The plan file, for messages.
    shelters
        Open shelters by name -> drive node, for a contraflow ``toward`` one shelter.

    Raises
    ------
    ScenarioError
        Unknown road names or way ids (field named), a control point whose roads do not
        meet or that lies farther than ``max_snap_m`` from a drive node; all together.
    """
    d = net.drive
    problems: list[str] = []

    def links_of(field: str, refs) -> np.ndarray:
        got = []
        for i, ref in enumerate(refs):
            ls = road_links(net, ref)
            if ls.size == 0:
                what = "way id" if isinstance(ref, int) else "road name"
                problems.append(f"{source}: {field}[{i}]: expected the OSM name or way id of a "
                                f"drivable road on map {net.name!r}, got unknown {what} {ref!r}")
            got.append(ls)
        return np.unique(np.concatenate(got)) if got else np.zeros(0, np.int64)

    contra = []
    for k, c in enumerate(spec.contraflow):
        chosen = links_of(f"roads.contraflow[{k}].roads", c.roads)
        cost = node_cost_s
        if c.toward is not None:
            known = shelters or {}
            if c.toward not in known:
                shown = ", ".join(sorted(known)[:20]) + (" ..." if len(known) > 20 else "")
                problems.append(f"{source}: roads.contraflow[{k}].toward: expected the name "
                                f"of an open shelter ({shown or 'none'}), got {c.toward!r}")
                continue
            from sim.routing import next_hop

            cost = next_hop(d, len(node_cost_s), np.array([known[c.toward]])).cost_s
        out, rev = contraflow_links(d, chosen, cost)
        if chosen.size and out.size == 0:
            problems.append(f"{source}: roads.contraflow[{k}].roads: expected two-way roads "
                            f"(contraflow reverses one direction), got only one-way links")
        contra.append((c.from_min * 60.0, out, rev))

    control = []
    for k, cp in enumerate(spec.control_points):
        where = f"roads.control_points[{k}]"
        node = -1
        if cp.at is not None:
            a, b = (links_of(f"{where}.at", [r]) for r in cp.at)
            na = np.union1d(d.from_node[a], d.to_node[a])
            nb = np.union1d(d.from_node[b], d.to_node[b])
            common = np.intersect1d(na, nb)
            if a.size and b.size and common.size == 0:
                problems.append(f"{source}: {where}.at: expected two roads that meet, got "
                                f"{cp.at[0]!r} and {cp.at[1]!r} (no shared junction)")
            node = int(common[0]) if common.size else -1
        else:
            from sim.population import snap_to_nodes

            if cp.x_m is not None:
                x, y = cp.x_m, cp.y_m
            else:
                from pyproj import Transformer

                x, y = Transformer.from_crs("EPSG:4326", net.crs, always_xy=True).transform(
                    cp.lon, cp.lat)
            nd, dist = snap_to_nodes(net, np.array([x]), np.array([y]), network="drive")
            if not dist[0] <= spec.max_snap_m:
                problems.append(f"{source}: {where}: expected a junction within "
                                f"roads.max_snap_m = {spec.max_snap_m} m of a drive node, got "
                                f"one {dist[0]:.0f} m away")
            else:
                node = int(nd[0])
        if node >= 0:
            into = np.flatnonzero(d.to_node == node)
            raised = np.ones(into.size, bool)
            if cp.priority is not None:
                raised = np.isin(into, links_of(f"{where}.priority", [cp.priority]))
                if not raised.any() and not problems:
                    problems.append(f"{source}: {where}.priority: expected a road with an "
                                    f"approach into the junction, got {cp.priority!r}")
            cap = (d.capacity_vps[into] * cp.capacity_factor if cp.capacity_factor is not None
                   else np.full(into.size, cp.capacity_vph / 3600.0))
            cap = np.where(raised, cap, d.capacity_vps[into] * cp.others_factor)
            control.append((cp.from_min * 60.0, into, cap))

    closed = np.zeros(d.n_links, bool)
    closed[links_of("roads.closed_to_evacuees", spec.closed_to_evacuees)] = True
    green = np.full(d.n_links, spec.green_channel.all, bool)
    green[links_of("roads.green_channel.roads", spec.green_channel.roads)] = True
    if problems:
        raise ScenarioError(f"{source}: {len(problems)} problem(s) placing [roads] on map "
                            f"{net.name!r}:\n" + "\n".join(problems))
    return ResolvedRoads(contraflow=contra, control=control, closed_to_evacuees=closed,
                         green=green)


# --------------------------------------------------------------------------- application


class RoadLevers:
    """Applies resolved ``[roads]`` levers to a model's drive links and queues over time.

    Link changes (contraflow, control points) are *events* at their ``from_s``:
    :meth:`due` returns the new :class:`Links`, queues and closure mask when one fires.
    """

    def __init__(self, resolved: ResolvedRoads, n_links: int) -> None:
        self.r = resolved
        self.green = np.ascontiguousarray(resolved.green, dtype=np.bool_)
        self.closed_to_evacuees = resolved.closed_to_evacuees
        events = [(t, "contraflow", i) for i, (t, _, _) in enumerate(resolved.contraflow)]
        events += [(t, "control", i) for i, (t, _, _) in enumerate(resolved.control)]
        self._events = sorted(events)
        self._next = 0
        # Links closed by contraflow (to everyone), as a speed-factor mask.
        self.factor = np.ones(n_links)

    def pending(self, t_s: float) -> bool:
        """Whether an event fires at or before ``t_s``."""
        return self._next < len(self._events) and self._events[self._next][0] <= t_s + 1e-9

    def apply_due(self, t_s: float, links: Links, queues: queue.Queues
                  ) -> tuple[Links, queue.Queues, list[str]]:
        """Fire every event due by ``t_s``; return the new links, queues and log lines."""
        cap = links.capacity_vps.copy()
        storage = links.storage_veh.copy()
        lanes = links.lanes.copy()
        notes = []
        while self.pending(t_s):
            _, what, i = self._events[self._next]
            self._next += 1
            if what == "contraflow":
                _, out, rev = self.r.contraflow[i]
                cap[out] += cap[rev]
                storage[out] += storage[rev]
                lanes[out] += lanes[rev]
                self.factor[rev] = 0.0
                notes.append(f"contraflow: {out.size} road links run all lanes outbound, "
                             f"{rev.size} reversed links closed")
            else:
                _, into, c = self.r.control[i]
                cap[into] = c
                notes.append(f"traffic control point: {into.size} approach links at "
                             f"{np.round(c * 3600.0).astype(int).tolist()} veh/h")
        new_links = links._replace(capacity_vps=cap, storage_veh=storage.astype(np.int32),
                                   lanes=lanes)
        return new_links, resize_queues(queues, links.storage_veh, new_links.storage_veh), notes


def resize_queues(q: queue.Queues, old_storage: np.ndarray, new_storage: np.ndarray
                  ) -> queue.Queues:
    """The same queues laid out for new per-link storages (each >= the link's count).

    Every link's FIFO keeps its order and starts at position 0 of its new ring buffer.
    """
    old_storage = np.asarray(old_storage, np.int64)
    new_storage = np.asarray(new_storage, np.int64)
    if np.any(new_storage < q.count):
        raise ScenarioError("roads: a link's new storage is below the vehicles on it")
    if np.array_equal(old_storage, new_storage):
        return q
    off = np.zeros(new_storage.size, np.int64)
    np.cumsum(new_storage[:-1], out=off[1:])
    buf = np.full(int(new_storage.sum()), -1, np.int32)
    cnt = q.count.astype(np.int64)
    lk = np.repeat(np.arange(cnt.size), cnt)
    k = np.arange(lk.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)  # position in its FIFO
    src = q.buf_off[lk] + (q.head[lk] + k) % old_storage[lk]
    buf[off[lk] + k] = q.buf[src]
    return q._replace(head=np.zeros_like(q.head), buf_off=off, buf=buf)
