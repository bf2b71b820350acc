"""Response and relief metrics and figures, read from a run folder's files only.

Tables (written by the run from :meth:`sim.response.ResponseSystem.tables`) are looked
up, in this order, as ``response/<name>.csv[.gz]``, ``<name>.csv[.gz]`` and
``hazard/response_<name>.csv``: ``incidents``, ``relief``, ``deliveries``, ``stock``,
``targets``.

Person weighting: relief shares and percentiles count persons (a relief row is a group of
``persons`` people who are relieved together). Time to relief is
``relieved_s - affected_s`` per person, from the moment the person became affected
(set out to evacuate, was trapped, stranded, ...). A percentile never reached within the
run's horizon is ``None``: nothing is extrapolated. Response time is
``arrived_s - created_s`` per incident; an incident no team reached counts against the
target share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.memory_run import MemoryRun, RunSource, has_file, read_csv, where
from sim._errors import RunFolderError

__all__ = ["read_response_table", "response_targets", "response_metrics", "relief_measurable",
           "incident_timeline",
           "relief_curve", "plot_incident_timeline", "plot_relief_curve",
           "write_response_figures"]

PERCENTILES = (50, 90, 95)
CAUSES = ("wait_rescue_s", "travel_s", "wait_supplies_s")


def _rel(run_dir: RunSource, name: str) -> str | None:
    for rel in (f"response/{name}.csv", f"response/{name}.csv.gz", f"{name}.csv",
                f"{name}.csv.gz", f"hazard/response_{name}.csv"):
        if has_file(run_dir, rel):
            return rel
    return None


def _path(run_dir: str | Path, name: str) -> Path | None:
    """The file of a response table in a run folder, or ``None`` (:mod:`analysis.gis`)."""
    rel = _rel(Path(run_dir), name)
    return None if rel is None else Path(run_dir) / rel


def read_response_table(run_dir: RunSource, name: str) -> pd.DataFrame:
    """One response table of a run folder (see the module docstring for where).

    Raises
    ------
    RunFolderError
        The run has no such table (it ran without a plan) or it cannot be read.
    """
    run_dir = run_dir if isinstance(run_dir, MemoryRun) else Path(run_dir)
    rel = _rel(run_dir, name)
    if rel is None:
        msg = (f"{where(run_dir, '')}: expected a response table {name!r} (response/{name}.csv or "
               f"hazard/response_{name}.csv), got none: was the run made with --plan?")
        raise RunFolderError(msg)
    try:
        return read_csv(run_dir, rel, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{where(run_dir, rel)}: expected a CSV table, got {exc}") from None


def has_response(run_dir: RunSource) -> bool:
    """Whether the run folder (or run in memory) holds response tables."""
    return _rel(run_dir, "incidents") is not None


def response_targets(run_dir: RunSource) -> dict:
    """The plan's targets recorded with the run: response_min, relief_h, ..., end_s."""
    df = read_response_table(run_dir, "targets")
    out: dict = {}
    for key, value in zip(df["key"].astype(str), df["value"].astype(str), strict=True):
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def _weighted_percentile(t: np.ndarray, w: np.ndarray, pct: float) -> float | None:
    """Smallest ``t`` with a weight share ``>= pct`` at or below it; inf values never count."""
    total = w.sum()
    if total <= 0:
        return None
    ok = np.isfinite(t)
    order = np.argsort(t[ok], kind="stable")
    cum = np.cumsum(w[ok][order])
    k = int(np.searchsorted(cum, pct / 100.0 * total - 1e-9 * total, side="left"))
    return float(t[ok][order][k]) if k < cum.size else None


def response_metrics(run_dir: RunSource) -> dict:
    """Response-time percentiles, relief within target, and delay attribution.

    Returns
    -------
    dict
        ``incidents``: count, persons, served, reached (a team on site), response time
        percentiles (s; ``None`` if not reached), share within the response target;
        ``relief``: affected persons, relieved persons, persons within the relief target
        and their share, person-weighted percentiles of time to relief (h), persons never
        relieved by the horizon, and delay by cause in person-hours; ``targets``.
    """
    tg = response_targets(run_dir)
    inc = read_response_table(run_dir, "incidents")
    rel = read_response_table(run_dir, "relief")
    resp_target_s = float(tg.get("response_min", 30.0)) * 60.0
    relief_target_s = float(tg.get("relief_h", 10.0)) * 3600.0
    r = (inc["arrived_s"] - inc["created_s"]).to_numpy(np.float64) if len(inc) else np.zeros(0)
    r = np.where(np.isfinite(r), r, np.inf)
    ones = np.ones(r.size)
    incidents = {
        "count": int(len(inc)),
        "persons": int(inc["persons"].sum()) if len(inc) else 0,
        "reached": int(np.isfinite(r).sum()),
        "served": int((inc["outcome"] == "served").sum()) if len(inc) else 0,
        **{f"response_p{p}_s": _weighted_percentile(r, ones, p) for p in PERCENTILES},
        "response_max_s": float(r[np.isfinite(r)].max()) if np.isfinite(r).any() else None,
        "within_target_share": float(np.mean(r <= resp_target_s)) if r.size else None,
    }
    persons = rel["persons"].to_numpy(np.float64) if len(rel) else np.zeros(0)
    ttr = (rel["relieved_s"] - rel["affected_s"]).to_numpy(np.float64) if len(rel) else \
        np.zeros(0)
    ttr = np.where(np.isfinite(ttr), ttr, np.inf)
    affected = float(persons.sum())
    within = float(persons[ttr <= relief_target_s].sum())
    # A run that ends before the relief target cannot tell who is relieved within it:
    # the share is "not measurable" (null), not the share relieved by the end.
    measurable = relief_measurable(tg)
    relief = {
        "affected_persons": int(affected),
        "relieved_persons": int(persons[np.isfinite(ttr)].sum()),
        "within_target_persons": int(within) if measurable else None,
        "within_target_share": (within / affected if affected else None) if measurable
        else None,
        "within_target_status": "measured" if measurable else "not measurable",
        **{f"time_to_relief_p{p}_h": (None if (v := _weighted_percentile(ttr, persons, p))
                                      is None else v / 3600.0) for p in PERCENTILES},
        "never_relieved_persons": int(persons[~np.isfinite(ttr)].sum()),
        "delay_person_h": {c.removesuffix("_s"): float((rel[c] * rel["persons"]).sum() / 3600.0)
                           if len(rel) else 0.0 for c in CAUSES},
    }
    return {"incidents": incidents, "relief": relief, "targets": tg}


def relief_measurable(targets: dict) -> bool:
    """Whether the run lasted as long as the relief target (``end_s >= relief_h``).

    A person affected at t = 0 and not relieved by a 6 h horizon may or may not be
    relieved within 10 h: the run cannot tell, so the within-target share is not
    measurable. ``sim.check`` warns about it before the run.
    """
    end_s = float(targets.get("end_s", np.inf))
    return not end_s < float(targets.get("relief_h", 10.0)) * 3600.0


def incident_timeline(run_dir: str | Path, *, step_s: float = 60.0) -> pd.DataFrame:
    """Incidents over time: raised, waiting for a team, team on the way or on site, served.

    Columns ``t_s, raised, waiting, in_progress, served`` (counts at each time, cumulative
    for ``raised`` and ``served``), every ``step_s`` seconds to the run's end.
    """
    inc = read_response_table(run_dir, "incidents")
    end = float(response_targets(run_dir).get("end_s", 0.0))
    t = np.arange(0.0, max(end, step_s) + step_s / 2, step_s)

    def count(col):
        v = inc[col].to_numpy(np.float64) if len(inc) else np.zeros(0)
        v = np.sort(np.where(np.isfinite(v), v, np.inf))
        return np.searchsorted(v, t, side="right")

    raised, dispatched, done = count("created_s"), count("dispatched_s"), count("delivered_s")
    return pd.DataFrame({"t_s": t, "raised": raised, "waiting": raised - dispatched,
                         "in_progress": dispatched - done, "served": done})


def relief_curve(run_dir: str | Path) -> pd.DataFrame:
    """Share of affected persons relieved within ``h`` hours of becoming affected.

    Columns ``hours, persons_relieved, share`` at each distinct time to relief.
    """
    rel = read_response_table(run_dir, "relief")
    persons = rel["persons"].to_numpy(np.float64) if len(rel) else np.zeros(0)
    ttr = (rel["relieved_s"] - rel["affected_s"]).to_numpy(np.float64) / 3600.0 if len(rel) \
        else np.zeros(0)
    ok = np.isfinite(ttr)
    order = np.argsort(ttr[ok], kind="stable")
    cum = np.cumsum(persons[ok][order])
    total = persons.sum()
    return pd.DataFrame({"hours": np.r_[0.0, ttr[ok][order]], "persons_relieved": np.r_[0.0, cum],
                         "share": np.r_[0.0, cum / total] if total else np.r_[0.0, cum * 0]})


def plot_incident_timeline(run_dir: str | Path, out_png: str | Path, *, lang: str = "en"
                           ) -> Path:
    """Draw incidents waiting, in progress and served over time (hours since start)."""
    from analysis.plotting import _label_lang_and_font, _new_figure, _save
    from sim.i18n import t

    label_lang, kw = _label_lang_and_font(lang)
    tl = incident_timeline(run_dir)
    h = tl["t_s"].to_numpy(np.float64) / 3600.0
    fig = _new_figure(8.0, 4.5)
    ax = fig.add_subplot()
    ax.plot(h, tl["raised"], color="black", linestyle=":",
            label=t("response.fig.timeline.raised", label_lang))
    ax.plot(h, tl["waiting"], color="tab:red", label=t("response.fig.timeline.waiting", label_lang))
    ax.plot(h, tl["in_progress"], color="tab:orange",
            label=t("response.fig.timeline.in_progress", label_lang))
    ax.plot(h, tl["served"], color="tab:green", label=t("response.fig.timeline.served", label_lang))
    ax.set_xlim(left=0.0)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(t("response.fig.x_hours", label_lang), **kw)
    ax.set_ylabel(t("response.fig.timeline.y", label_lang), **kw)
    ax.set_title(t("response.fig.timeline.title", label_lang), **kw)
    prop = kw["fontproperties"].copy() if kw else None
    ax.legend(loc="upper left", prop=prop, fontsize="small")
    return _save(fig, out_png)


def plot_relief_curve(run_dir: str | Path, out_png: str | Path, *, lang: str = "en") -> Path:
    """Draw the share of affected persons relieved against hours, with the target line."""
    from analysis.plotting import _label_lang_and_font, _new_figure, _save
    from sim.i18n import t

    label_lang, kw = _label_lang_and_font(lang)
    curve = relief_curve(run_dir)
    tg = response_targets(run_dir)
    target_h = float(tg.get("relief_h", 10.0))
    end_h = float(tg.get("end_s", 0.0)) / 3600.0
    hours = curve["hours"].to_numpy(np.float64)
    share = curve["share"].to_numpy(np.float64)
    if end_h > hours[-1]:  # hold the last value to the horizon: a plateau shows
        hours, share = np.r_[hours, end_h], np.r_[share, share[-1]]
    within = float(share[hours <= target_h].max()) if (hours <= target_h).any() else 0.0
    fig = _new_figure(8.0, 4.5)
    ax = fig.add_subplot()
    ax.plot(hours, 100.0 * share, drawstyle="steps-post", color="tab:blue",
            label=t("response.fig.relief.curve", label_lang))
    label = (t("response.fig.relief.target", label_lang, hours=target_h, share=100.0 * within)
             if relief_measurable(tg) else
             t("check.relief.share_not_measurable", label_lang, end_h=round(end_h, 2),
               target_h=target_h))
    ax.axvline(target_h, color="tab:red", linestyle="--", label=label)
    if end_h and end_h < target_h:
        ax.axvline(end_h, color="grey", linestyle=":",
                   label=t("response.fig.relief.horizon", label_lang, hours=end_h))
    ax.set_xlim(0.0, max(target_h, end_h, float(hours.max()), 1.0) * 1.05)
    ax.set_ylim(0.0, 105.0)
    ax.set_xlabel(t("response.fig.relief.x", label_lang), **kw)
    ax.set_ylabel(t("response.fig.relief.y", label_lang), **kw)
    ax.set_title(t("response.fig.relief.title", label_lang), **kw)
    prop = kw["fontproperties"].copy() if kw else None
    ax.legend(loc="lower right", prop=prop, fontsize="small")
    return _save(fig, out_png)


def write_response_figures(run_dir: str | Path, *, lang: str = "en") -> list[Path]:
    """Write ``figures/incidents.png`` and ``figures/relief.png`` (only if the run has them)."""
    if not has_response(run_dir):
        return []
    folder = Path(run_dir) / "figures"
    return [plot_incident_timeline(run_dir, folder / "incidents.png", lang=lang),
            plot_relief_curve(run_dir, folder / "relief.png", lang=lang)]
