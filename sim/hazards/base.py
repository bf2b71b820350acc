"""The one small interface every hazard implements (flood, earthquake, chemical release).

A hazard is bound once to the compiled map, then asked at its own cadence what it does
to the district at time ``t_s``: which links slow down or close, which households are
caught (stranded, trapped, injured, exposed), and what value it has at any point (water
depth, PGA, concentration). Several hazards can run in one scenario; the model combines
their link factors by taking the minimum.

Data flows one way: the model hands a :class:`PeopleView` (arrays, read-only by
convention) to the hazard and applies the :class:`HazardUpdate` it returns. A hazard
never reaches into the model.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from sim.network.roadnet import RoadNetwork


@dataclass(frozen=True)
class PeopleView:
    """Where the households are at time ``t_s``; one row per household.

    Attributes
    ----------
    x_m, y_m : float64[H]
        Current position, projected metres (map CRS): home, a point along the link being
        travelled (interpolated), or the shelter node.
    persons : int32[H]
    state : int8[H]
        :mod:`sim.population` state codes (NOT_WARNED … STRANDED).
    indoors : bool[H]
        At home or in a shelter (not travelling).
    has_car : bool[H]
    drive_link, walk_link : int32[H]
        The drive / walk link the household is on now, -1 if none.
    building : int64[H] or None
        Home building of each household (row of ``RoadNetwork.buildings``, -1 if none);
        None when the population was not placed on buildings.
    """

    x_m: np.ndarray
    y_m: np.ndarray
    persons: np.ndarray
    state: np.ndarray
    indoors: np.ndarray
    has_car: np.ndarray
    drive_link: np.ndarray
    walk_link: np.ndarray
    building: np.ndarray | None = None


@dataclass(frozen=True)
class Incident:
    """Something that needs a response: people stranded, trapped, injured or exposed.

    Attributes
    ----------
    t_s : float
        When it happened, seconds since scenario start.
    kind : str
        ``stranded|trapped|injured|exposed``.
    hazard : str
        The hazard that caused it (``flood``, ``earthquake``, ``chemical``).
    x_m, y_m : float
        Location, projected metres.
    node : int
        Nearest drive node (where a responder must drive to).
    persons : int
        People involved.
    severity : int
        1 (minor) … 4 (critical), as the hazard grades it.
    note : str
        Short free text (English; reports translate the kind).
    """

    t_s: float
    kind: str
    hazard: str
    x_m: float
    y_m: float
    node: int
    persons: int
    severity: int = 1
    note: str = ""


def incidents_by_node(t_s: float, hazard: str, node: np.ndarray, x_m: np.ndarray,
                      y_m: np.ndarray, persons: np.ndarray, *, kind: str, severity: int,
                      note: str) -> list[Incident]:
    """One incident per drive node for the households a hazard caught there.

    Parameters
    ----------
    t_s : float
        Time, s from scenario start.
    hazard, kind : str
        The hazard's kind and the incident kind ("trapped", "stranded", …).
    node, x_m, y_m, persons : ndarray
        Per caught household: nearest drive node, position (map metres), persons.
    severity : int
        1 minor … 4 critical.
    note : str
        Message template with ``{persons}`` and ``{households}``.

    Returns
    -------
    list of Incident
        At each node's households' mean position, nodes in ascending order.
    """
    out: list[Incident] = []
    if node.size == 0:
        return out
    uniq, inv = np.unique(node, return_inverse=True)
    for g, nd in enumerate(uniq):
        m = inv == g
        p = int(persons[m].sum())
        out.append(Incident(t_s=float(t_s), kind=kind, hazard=hazard,
                            x_m=float(x_m[m].mean()), y_m=float(y_m[m].mean()), node=int(nd),
                            persons=p, severity=severity,
                            note=note.format(persons=p, households=int(m.sum()))))
    return out


@dataclass
class HazardUpdate:
    """What a hazard does to the district now. ``None`` means "unchanged since last time".

    Attributes
    ----------
    drive_factor, walk_factor : float64[L] or None
        Speed factor per link in [0, 1] (1 = unaffected, 0 = closed) for the drive and
        walk networks.
    stranded : int64[k] or None
        Households caught by the hazard now: they stop where they are (a car on a closed
        link, a family at home in deep water) and wait for rescue.
    dead : int64[H] or None
        Persons of each household killed by this hazard so far (cumulative, never
        decreasing). The model counts them as ``dead``, not among the living states.
    incidents : list of Incident
    """

    drive_factor: np.ndarray | None = None
    walk_factor: np.ndarray | None = None
    stranded: np.ndarray | None = None
    dead: np.ndarray | None = None
    incidents: list[Incident] = field(default_factory=list)


class Hazard(abc.ABC):
    """Base class of the hazards.

    Subclasses set ``kind`` and ``cadence_s`` and implement :meth:`bind` and
    :meth:`update`. Output for the run folder goes through :meth:`tables` and
    :meth:`arrays`, which ``analysis`` reads back (never the hazard object).
    """

    kind: ClassVar[str] = "hazard"
    cadence_s: float = 60.0

    @abc.abstractmethod
    def bind(self, net: RoadNetwork, *, rng: np.random.Generator) -> None:
        """Precompute everything that depends on the map (link sample points, grids)."""

    @abc.abstractmethod
    def update(self, t_s: float, people: PeopleView) -> HazardUpdate:
        """State of the hazard at ``t_s`` seconds; called every ``cadence_s``."""

    def value_at(self, t_s: float, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Hazard intensity at points (projected metres); units per hazard (depth m, ...)."""
        raise NotImplementedError(f"{type(self).__name__} has no point value")

    def tables(self) -> dict[str, pd.DataFrame]:
        """Tables for the run folder, written as ``hazard/<kind>_<name>.csv``."""
        return {}

    def arrays(self) -> dict[str, np.ndarray]:
        """Arrays for the run folder, written into ``hazard/<kind>.npz``."""
        return {}
