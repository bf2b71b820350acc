"""Build a drill package from a run folder (and the runs of its variants).

:func:`package_files` is pure: run data and settings in, file bytes out. :func:`write_package`
writes them into a hidden sibling folder and renames it into place, so a package folder
is complete or absent; an existing folder is replaced only with ``force`` and only if it
is a drill package.

Package layout::

    <out>/
        drill.json               settings, timing, objectives, injects (for `drill evaluate`)
        msel.csv, msel.xlsx      the MSEL (columns: analysis.drill.msel.MSEL_COLUMNS)
        situation-manual.html    self-contained (maps inline as base64 PNG)
        evaluation-guide.xlsx, evaluation-guide.html
        run/                     the simulated run (or a symlink to --from-run's folder)
        run-v1-<kind>/ ...       variant runs
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.drill import rules
from analysis.drill.documents import evaluation_guide, situation_manual
from analysis.drill.inject import Inject
from analysis.drill.msel import MSEL_COLUMNS, Row, header, phase_bounds, render
from analysis.drill.objectives import objectives
from analysis.drill.rundata import RunData
from analysis.drill.select import dedupe, mark_variant, select
from analysis.drill.settings import DrillSpec, Timing, VariantSpec, resolve_timing
from analysis.drill.tables import csv_bytes, xlsx_bytes
from sim._errors import RunFolderError
from sim.i18n import t

PACKAGE_FORMAT = 1


@dataclass(frozen=True)
class VariantRun:
    """A variant's id, label, spec and run data."""

    id: str
    label: str
    run: RunData
    spec: VariantSpec


def _signature(c: Inject) -> tuple:
    return (c.key, c.subject, round(c.t_s, 3), tuple(sorted(c.fmt.items())))


@dataclass(frozen=True)
class Package:
    """What :func:`package_files` built: the files and the rendered rows (for checks)."""

    files: dict[str, bytes]
    rows: list[Row]
    timing: Timing


def _phase_counts(run: RunData, starts: list[float]) -> list[dict]:
    ts = run.timeseries
    out = []
    for s in starts:
        k = max(int(np.searchsorted(ts["t_s"].to_numpy(), s, side="right")) - 1, 0)
        r = ts.iloc[k]
        out.append({"sheltered": int(r.sheltered), "en_route": int(r.en_route),
                    "not_warned": int(r.not_warned)})
    return out


def choose_injects(run: RunData, spec: DrillSpec, timing: Timing, bounds: list[float],
                   variants: list[VariantRun] = ()) -> list[Inject]:
    """The base run's selection plus each variant's injects that the base run lacks."""
    ex = spec.exercise
    n_total = max(1, round(ex.injects_per_hour * ex.duration_h))
    base_cands = rules.candidates(run)
    chosen = select(base_cands, run, n_total=n_total, media_share=ex.media_share,
                    window_s=timing.window_s, seed=ex.seed, bounds=bounds)
    # A variant's inject is new when the base run has no identical one (same key, subject,
    # time and figures): a delayed warning or a shelter filling earlier is kept.
    base_sig = {_signature(c) for c in base_cands}
    for v in variants:
        extra = [c for c in [*rules.variant_triggers(v.run, v.spec), *rules.candidates(v.run)]
                 if _signature(c) not in base_sig and 0.0 <= c.t_s <= timing.window_s]
        extra = sorted(dedupe(extra), key=lambda i: (i.priority, i.t_s))[:max(3, n_total // 2)]
        chosen += mark_variant(extra, v.id)
    return sorted(chosen, key=lambda i: (i.t_s, i.priority, i.variant))


def package_files(run: RunData, spec: DrillSpec, *, variants: list[VariantRun] = (),
                  run_ref: str = "run", maps: bool = True) -> Package:
    """Every file of a drill package as bytes.

    Parameters
    ----------
    run : RunData
        The base run (:func:`analysis.drill.rundata.read_run`).
    spec : DrillSpec
        Exercise settings.
    variants : list of VariantRun
        Variant runs; their injects are marked with the variant id.
    run_ref : str
        How the manual refers to the run folder.
    maps : bool, default True
        Draw the phase maps (False only for quick checks).

    Raises
    ------
    ScenarioError
        If the exercise does not fit in the run's horizon.
    """
    ex = spec.exercise
    lang = ex.lang
    timing = resolve_timing(ex, run.horizon_s, where="exercise")
    full = run.events[run.events["kind"] == "shelter_full"]
    bounds = phase_bounds(run.metrics, float(full["t_s"].min()) if len(full) else None,
                          timing.window_s)
    injects = choose_injects(run, spec, timing, bounds, list(variants))
    labels = {v.id: v.label for v in variants}
    rows = render(injects, timing=timing, bounds=bounds, lang=lang, exercise_type=ex.type,
                  roles=spec.roles, variant_labels=labels)
    objs = objectives(run, injects, spec.objectives, timing, lang)
    title = ex.title or str(run.spec.get("scenario", {}).get("name", "drill"))
    files: dict[str, bytes] = {}
    table = [[r.values[c] for c in MSEL_COLUMNS] for r in rows]
    files["msel.csv"] = csv_bytes(MSEL_COLUMNS, table)
    files["msel.xlsx"] = xlsx_bytes([("MSEL", header(lang), table)],
                                    widths={0: 5, 1: 11, 2: 10, 3: 11, 4: 16, 5: 10, 6: 16,
                                            7: 16, 8: 60, 9: 40, 10: 30, 11: 36, 12: 30})
    from analysis.drill.maps import phase_maps  # matplotlib: imported only when drawing

    pngs = phase_maps(run, bounds, lang=lang) if maps else []
    files["situation-manual.html"] = situation_manual(
        lang=lang, title=title, exercise_type=ex.type,
        scenario_name=str(run.spec.get("scenario", {}).get("title") or title),
        timing=timing, bounds=bounds, phase_counts=_phase_counts(run, bounds),
        objectives=objs, roles=spec.roles, rows=rows, maps=pngs, variant_labels=labels,
        run_ref=run_ref)
    files["evaluation-guide.xlsx"], files["evaluation-guide.html"] = evaluation_guide(
        objs, rows, timing, lang=lang, title=title)
    meta = {
        "package_format": PACKAGE_FORMAT,
        "settings": spec.model_dump(mode="json"),
        "timing": {"duration_h": timing.duration_h, "compression": timing.compression,
                   "start_s": timing.start_s, "window_s": timing.window_s},
        "run": run_ref,
        "phases_s": bounds,
        "variants": labels,
        "objectives": [{"id": o.id, "item": f"O{o.number}", "allowed_min": o.allowed_min,
                        "ref_s": o.ref_s, "target": o.target_text,
                        "reference": o.reference_text} for o in objs],
        "injects": [{"no": r.no, "scenario_s": r.inject.t_s, "key": r.inject.key,
                     "objective": r.inject.objective, "source": r.inject.source,
                     "fmt": r.inject.fmt, "names": list(r.inject.names),
                     "contingency": r.inject.contingency, "origin": r.inject.origin,
                     "variant": r.inject.variant} for r in rows],
    }
    files["drill.json"] = (json.dumps(meta, indent=1, ensure_ascii=False, allow_nan=False)
                           + "\n").encode("utf-8")
    return Package(files, rows, timing)


def check_package_dir(out: str | Path, force: bool, lang: str = "en") -> Path:
    """Refuse an existing ``out`` unless ``force`` and it is a drill package (or empty)."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        if not force:
            raise RunFolderError(t("drill.cli.exists", lang, path=out))
        if not out.is_dir() or (not (out / "drill.json").is_file() and any(out.iterdir())):
            raise RunFolderError(t("drill.cli.not_a_drill", lang, path=out))
    return out


def staging_dir(out: Path) -> Path:
    """A fresh hidden sibling of ``out`` to build the package in."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    return tmp


def finish(tmp: Path, out: Path, files: dict[str, bytes], *, force: bool) -> Path:
    """Write ``files`` into ``tmp`` and move it to ``out`` (replacing a package if forced)."""
    for rel, data in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(data)
    old = None
    if out.exists() or out.is_symlink():
        check_package_dir(out, force)
        old = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out
