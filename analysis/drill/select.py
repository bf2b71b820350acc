"""Choose the MSEL from the candidates: density, de-duplication, seeded media injects.

Event-driven injects never depend on the seed: when there are more than the density
allows, the lower ``priority`` (then the earlier) ones are kept. The seed chooses only
the templated public-information and media injects: which template, at which sampled
time, about which shelter.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analysis.drill.inject import Inject
from analysis.drill.rundata import RunData

MEDIA_TEMPLATES = ("media_sheltered", "media_enroute", "public_not_warned", "media_rumour")


def media_injects(run: RunData, n: int, window_s: float, seed: int) -> list[Inject]:
    """``n`` templated media/public injects at seeded sample times inside the window.

    Figures come from the ``timeseries.csv`` row at the inject's time.
    """
    ts = run.timeseries
    rows = np.flatnonzero((ts["t_s"].to_numpy() > 0) & (ts["t_s"].to_numpy() <= window_s))
    if n <= 0 or rows.size == 0:
        return []
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 13]))
    picks = np.sort(rng.choice(rows, size=min(n, rows.size), replace=False))
    kinds = rng.choice(len(MEDIA_TEMPLATES), size=picks.size)
    names = run.shelters["name"].astype(str).to_numpy()
    out = []
    for r, k in zip(picks, kinds, strict=True):
        row = ts.iloc[int(r)]
        t = float(row.t_s)
        src = f"timeseries.csv#t_s={t!r}"
        key = MEDIA_TEMPLATES[int(k)]
        if (key == "media_enroute" and int(row.en_route) == 0) or (
                key == "public_not_warned" and int(row.not_warned) == 0):
            key = "media_sheltered"  # no jams or unwarned callers to report at this time
        fmt: dict = {}
        quoted: tuple[str, ...] = ()
        if key == "media_sheltered":
            fmt = {"persons": int(row.sheltered)}
        elif key == "media_enroute":
            fmt = {"persons": int(row.en_route)}
        elif key == "public_not_warned":
            fmt = {"persons": int(row.not_warned)}
        else:
            name = str(names[int(rng.integers(len(names)))]) if len(names) else ""
            fmt, quoted = {"name": name, "persons": int(row.sheltered)}, (name,)
            src += f";shelters.csv#name={name}"
        out.append(Inject(t, key, fmt, src, quoted,
                          sender="media" if key.startswith("media") else "public",
                          to="public_information",
                          method="media" if key.startswith("media") else "phone",
                          objective="warning", subject=f"{key}-{t!r}", priority=9,
                          origin="templated"))
    return out


def dedupe(cands: list[Inject]) -> list[Inject]:
    """One inject per (variant, key, subject): the earliest."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for inj in sorted(cands, key=lambda i: i.t_s):
        sig = (inj.variant, inj.key, inj.subject)
        if sig not in seen:
            seen.add(sig)
            out.append(inj)
    return out


def select(cands: list[Inject], run: RunData, *, n_total: int, media_share: float,
           window_s: float, seed: int, bounds: list[float] | None = None) -> list[Inject]:
    """The MSEL's injects for one run, in time order.

    Parameters
    ----------
    cands : list of Inject
        Event-driven candidates (:func:`analysis.drill.rules.candidates`).
    run : RunData
        The run (for the templated injects' figures).
    n_total : int
        Injects wanted (``injects_per_hour * duration_h``, rounded).
    media_share : float
        Share of ``n_total`` given to templated media/public injects (at least one when
        the share is positive).
    window_s : float
        Scenario seconds the exercise plays; later candidates are dropped.
    seed : int
        Seed of the templated choice.
    bounds : list of float, optional
        Phase start times (scenario s). Event-driven slots are shared among the phases in
        proportion to their length, so every phase has injects when the run has events
        there; slots a phase cannot fill go to the other phases, by priority.
    """
    inside = dedupe([c for c in cands if 0.0 <= c.t_s <= window_s])
    n_media = 0 if media_share <= 0 else max(1, round(n_total * media_share))
    n_event = max(1, n_total - n_media)
    rank = sorted(inside, key=lambda i: (i.priority, i.t_s))
    keep: list[Inject] = []
    if bounds:
        edges = [*bounds, window_s]
        for k in range(len(bounds)):
            quota = round(n_event * (edges[k + 1] - edges[k]) / window_s)
            last = k == len(bounds) - 1
            mine = [c for c in rank if edges[k] <= c.t_s < edges[k + 1]
                    or (last and c.t_s == window_s)]
            keep += mine[:quota]
    taken = {id(c) for c in keep}
    keep += [c for c in rank if id(c) not in taken][:max(0, n_event - len(keep))]
    keep = sorted(keep, key=lambda i: (i.priority, i.t_s))[:n_event]
    chosen = keep + media_injects(run, n_media, window_s, seed)
    return sorted(chosen, key=lambda i: (i.t_s, i.priority))


def mark_variant(injects: list[Inject], variant: str) -> list[Inject]:
    """The same injects, marked as ``variant``'s, sources prefixed with its run folder."""
    return [replace(i, variant=variant,
                    source=";".join(f"run-{variant}/{s}" for s in i.source.split(";")))
            for i in injects]
