"""Trigger-point warning (Cova, Dennison, Kim & Moritz 2005): the model-side hook.

A hazard that offers ``warning_start_s(x_m, y_m, zone)`` (the wildfire) gives each
household the time its warning starts: when the fire front crosses the trigger line set
a travel time away from its home. Where that comes before the scenario's ``[warning]
start_min``, the household's whole response moves earlier by the difference: the same
reception delay, the same compliance draw and the same mobilisation delay as the
scenario's warning would have given it, so trigger warning changes *when*, not *how*,
people respond. Households the warning does not reach (``[warning] coverage``) stay
unwarned. Several hazards: the earliest start wins.
"""

from __future__ import annotations

import numpy as np

__all__ = ["apply_trigger_warnings"]


def shift_response(t_warned_s: np.ndarray, t_depart_s: np.ndarray, general_start_s: float,
                   start_s: np.ndarray) -> np.ndarray:
    """Move warnings (and departures) earlier to ``start_s`` where it is before the general start.

    Parameters
    ----------
    t_warned_s, t_depart_s : float64[H]
        Sampled warning and departure times, s (inf: never); changed in place.
    general_start_s : float
        The scenario's warning start, s.
    start_s : float64[H]
        Trigger warning start per household, s (inf: none).

    Returns
    -------
    bool[H]
        Households whose times moved.
    """
    shift = general_start_s - np.asarray(start_s, np.float64)
    moved = np.isfinite(t_warned_s) & (shift > 0)
    t_warned_s[moved] -= shift[moved]
    dep = moved & np.isfinite(t_depart_s)
    t_depart_s[dep] -= shift[dep]
    return moved


def apply_trigger_warnings(model) -> None:
    """Apply every bound hazard's trigger warning to ``model.resp`` and log it."""
    starts = [hz.warning_start_s(model.pop.x_m, model.pop.y_m, model.pop.zone)
              for hz in model.hazards if hasattr(hz, "warning_start_s")]
    if not starts:
        return
    start = np.minimum.reduce(starts)
    general = float(model.scenario.warning.start_min) * 60.0
    moved = shift_response(model.resp.t_warned_s, model.resp.t_depart_s, general, start)
    if moved.any():
        n = int(model.pop.persons[moved].sum())
        t0 = float(start[moved].min())
        model._log(t0, "trigger_warning", "", "", float(n),
                   f"{n} residents warned by fire trigger points (first at {t0 / 60:.0f} min)")
