"""Drivers who avoid jams: informed drivers re-route on current travel times (``[route_choice]``).

A share ``informed_share`` of the residents' cars (drawn once per run from its own seeded
stream) follows an *informed* routing table per shelter set; the others keep the
free-flow tables. Every ``update_min`` minutes (and whenever the free-flow tables are
recomputed: a shelter fills, a road closes) the informed tables are rebuilt with one
multi-source Dijkstra per set on the current link travel times

    cost[l] = max(fft[l] / speed_factor[l], count[l] / C[l])

— the time a vehicle entering link ``l`` now would need in the spatial queue if the
``count[l]`` vehicles on it discharged at its capacity ``C[l]`` (a point-queue estimate;
it never falls below the free-flow time). Tables are node-based, so an informed driver
already on the road takes the new best next link at its next junction (en-route
re-routing, as navigation apps do). The share and the period are plan inputs and
assumptions (no evacuation-specific value is established here; planners set them).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field, StrictFloat

from sim._spec import Share, Spec

__all__ = ["RouteChoiceSpec", "congested_cost_s", "informed_mask"]


class RouteChoiceSpec(Spec):
    """``[route_choice]``: share of drivers with live traffic information and its period."""

    informed_share: Share = 0.0
    update_min: Annotated[StrictFloat, Field(gt=0.0, le=600.0)] = 5.0

    @property
    def active(self) -> bool:
        """Whether any driver is informed."""
        return self.informed_share > 0.0


def congested_cost_s(fft_s: np.ndarray, speed_factor: np.ndarray, count: np.ndarray,
                     capacity_vps: np.ndarray) -> np.ndarray:
    """Current travel time per link, seconds (``inf`` where closed); see the module docstring.

    Parameters
    ----------
    fft_s
        float64[L]: free-flow time, seconds.
    speed_factor
        float64[L] >= 0: 0 closes the link.
    count
        int[L]: vehicles on each link now.
    capacity_vps
        float64[L] > 0: outflow capacity, vehicles per second.
    """
    free = np.where(speed_factor > 0, fft_s / np.maximum(speed_factor, 1e-12), np.inf)
    return np.maximum(free, count / capacity_vps)


def informed_mask(n_cars: int, share: float, seed: int) -> np.ndarray:
    """Which cars are informed: each with probability ``share``, from its own stream.

    The stream is ``SeedSequence(seed, spawn_key=(1406,))`` (issue 14, part 6), so drawing
    it shifts no other draw of the run.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1406,)))
    return rng.random(int(n_cars)) < float(share)
