"""After-action evaluation: players' observed times against the plan's targets.

``evacsim drill evaluate DRILL_DIR --log observed.csv`` reads an observed log, either a
CSV with columns ``inject`` (an MSEL number, or an objective ``O1``...``O5``),
``observed`` (exercise clock ``HH:MM`` or ``HH:MM:SS``) and ``notes``, or the filled
``evaluation-guide.xlsx`` (columns ``item``, ``observed``, ``notes`` of
:data:`analysis.drill.documents.GUIDE_KEYS`; rows without an observed time are skipped).

For an inject the players' delay is ``(observed clock - inject clock) * compression``
scenario minutes; it is met when at most the objective's allowed minutes. For an
objective the deadline is the model's reference time plus the allowed minutes (the
evacuation objective: the model's 90 % ETE). Output: ``after-action.csv`` and
``after-action.html`` in the drill folder, written atomically (temp file + rename).
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

from analysis.drill.documents import GUIDE_KEYS, _page, _table
from analysis.drill.settings import fmt_clock
from analysis.drill.tables import csv_bytes
from sim._errors import RunFolderError, ScenarioError
from sim.i18n import t

_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


def _read_log(path: Path) -> list[tuple[int, str, str, str]]:
    """``(row number, item, observed, notes)`` from a CSV log or a filled guide."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            ws = load_workbook(path, read_only=True).worksheets[0]
        except Exception as err:  # openpyxl raises many kinds on a broken file
            raise ScenarioError(f"{path}: expected a readable .xlsx workbook, got {err}") from None
        rows = list(ws.iter_rows(values_only=True))
        ii, io_, inn = (GUIDE_KEYS.index(k) for k in ("item", "observed", "notes"))
        out = []
        for n, r in enumerate(rows[1:], start=2):
            obs = r[io_] if len(r) > io_ else None
            if obs in (None, ""):
                continue
            if hasattr(obs, "strftime"):
                obs = obs.strftime("%H:%M:%S")
            out.append((n, str(r[ii]), str(obs), "" if r[inn] is None else str(r[inn])))
        return out
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            cols = reader.fieldnames or []
            if "inject" not in cols or "observed" not in cols:
                raise ScenarioError(f"{path}: expected columns inject, observed[, notes], "
                                    f"got {cols}")
            return [(n, (r.get("inject") or "").strip(), (r.get("observed") or "").strip(),
                     (r.get("notes") or "").strip()) for n, r in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise ScenarioError(f"{path}: expected an observed log (.csv or .xlsx), got no file"
                            ) from None


def _clock_s(text: str, start_s: int) -> int | None:
    m = _CLOCK.match(text)
    if not m or int(m.group(1)) > 23:
        return None
    s = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)
    return s + 86400 if s < start_s else s  # the exercise ran past midnight


def evaluate(drill_dir: str | Path, log: str | Path, *, lang: str | None = None,
             force: bool = False) -> Path:
    """Write ``after-action.csv`` and ``.html`` into ``drill_dir``; return the CSV path.

    Raises
    ------
    ScenarioError
        Unknown inject numbers or objectives, unreadable times, an empty log.
    RunFolderError
        ``drill_dir`` is not a drill package, or the table exists and ``force`` is off.
    """
    drill_dir, log = Path(drill_dir), Path(log)
    meta_path = drill_dir / "drill.json"
    if not meta_path.is_file():
        raise RunFolderError(t("drill.eval.not_drill", "en", path=drill_dir,
                               what="no drill.json"))
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    lang = lang or meta["settings"]["exercise"]["lang"]
    out_csv = drill_dir / "after-action.csv"
    if out_csv.exists() and not force:
        raise RunFolderError(t("drill.cli.exists", lang, path=out_csv))
    tm = meta["timing"]
    comp, start = float(tm["compression"]), int(tm["start_s"])
    objs = {o["item"]: o for o in meta["objectives"]}
    injects = {str(i["no"]): i for i in meta["injects"]}
    obj_by_id = {o["id"]: o for o in meta["objectives"]}
    entries = _read_log(log)
    if not entries:
        raise ScenarioError(t("drill.eval.no_rows", lang, path=log))
    table = []
    for n, item, observed, notes in entries:
        key = item.upper() if item.upper() in objs else item
        if key not in objs and key not in injects:
            raise ScenarioError(t("drill.eval.unknown_inject", lang, path=log, row=n,
                                  n=len(injects), objectives=", ".join(objs), got=item))
        obs_s = _clock_s(observed, start)
        if obs_s is None:
            raise ScenarioError(t("drill.eval.bad_log", lang, path=log, row=n, field="observed",
                                  expected="an exercise clock time HH:MM or HH:MM:SS",
                                  got=observed))
        if key in injects:
            inj = injects[key]
            o = obj_by_id[inj["objective"]]
            ref_s = float(inj["scenario_s"])
        else:
            o = objs[key]
            ref_s = o["ref_s"]
        allowed = float(o["allowed_min"])
        if ref_s is None:
            table.append([item, o["target"], fmt_clock(obs_s), "", "", round(allowed, 3),
                          "", notes])
            continue
        ref_clock = start + ref_s / comp
        delay_min = (obs_s - ref_clock) * comp / 60.0
        if key in objs and o["id"] == "evacuation":
            allowed = 0.0  # the objective as a whole: shelter 90 % no later than the model
        met = delay_min <= allowed + 1e-9
        table.append([item, o["target"], fmt_clock(obs_s), fmt_clock(ref_clock),
                      round(delay_min, 1), round(allowed, 3),
                      t("drill.eval.met" if met else "drill.eval.missed", lang), notes])
    head = [t(f"drill.eval.{k}", lang) for k in ("item", "target", "player", "model", "delay",
                                                 "allowed", "result", "notes")]
    page = _page(t("drill.eval.title", lang), [_table(head, table)], lang)
    for name, data in (("after-action.csv", csv_bytes(head, table)), ("after-action.html", page)):
        tmp = drill_dir / f".{name}.tmp-{os.getpid()}"
        tmp.write_bytes(data)
        os.replace(tmp, drill_dir / name)
    return out_csv
