"""A run folder read once for a drill: manifest, metrics, tables, hazard and response files.

Only the run folder is read (DESIGN.md: a drill is made from a run folder, never from the
model). A folder that is not a complete run of the current format is refused with one
line naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.runfolder import check_run_folder
from analysis.tables import TABLE_FILES, read_table
from sim._errors import RunFolderError

HH_COLUMNS = ("persons", "t_warned_s", "t_arrive_s", "shelter")


@dataclass
class RunData:
    """The parts of a run folder a drill uses (see :func:`read_run`)."""

    path: Path
    manifest: dict
    metrics: dict
    events: pd.DataFrame          # events.csv plus ``row`` (0-based data row), time-sorted
    shelters: pd.DataFrame
    timeseries: pd.DataFrame
    households: pd.DataFrame      # only HH_COLUMNS
    hazard: dict[str, pd.DataFrame] = field(default_factory=dict)  # "hazard/x.csv" -> table
    npz: dict[str, dict] = field(default_factory=dict)             # kind -> arrays

    @property
    def horizon_s(self) -> float:
        """Simulated horizon (s): where the run ended, else its planned horizon."""
        return float(self.manifest.get("end_s") or self.manifest.get("horizon_s") or 0.0)

    @property
    def spec(self) -> dict:
        """The scenario spec recorded in the manifest."""
        return self.manifest.get("scenario", {}).get("spec", {})

    def hazard_kinds(self) -> list[str]:
        """Hazard kinds of the scenario, in file order."""
        return [h.get("kind", "") for h in self.spec.get("hazards", [])]

    def table(self, rel: str) -> pd.DataFrame | None:
        """A hazard/response table by relative path, ``None`` if the run has none."""
        return self.hazard.get(rel)


def read_run(run_dir: str | Path) -> RunData:
    """Read and check a run folder for a drill package.

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by ``evacsim run`` (format version of
        :data:`analysis.metrics.FORMAT_VERSION`).

    Returns
    -------
    RunData

    Raises
    ------
    RunFolderError
        If the folder is missing, of another format version, or lacks a table,
        ``metrics.json`` or a file its manifest lists.
    """
    path = Path(run_dir)
    # The one check every reader of run folders uses (format, completeness, checksums).
    manifest = check_run_folder(path)
    try:
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RunFolderError(f"{path / 'metrics.json'}: not valid JSON ({err})") from None
    events = read_table(path, "events")
    events.insert(0, "row", np.arange(len(events)))
    events = events.sort_values(["t_s", "row"], kind="stable").reset_index(drop=True)
    hh = pd.read_csv(path / TABLE_FILES["households"], usecols=list(HH_COLUMNS),
                     dtype={"shelter": str}, keep_default_na=False,
                     na_values={"t_warned_s": [""], "t_arrive_s": [""]})
    hazard = {}
    for f in sorted((path / "hazard").glob("*.csv")) if (path / "hazard").is_dir() else []:
        if f.name in ("chemical_exposure.csv", "earthquake_buildings.csv"):
            continue  # per-household/building tables: large, not used by the rules
        hazard[f"hazard/{f.name}"] = pd.read_csv(f, keep_default_na=False, na_values=[""])
    npz = {}
    for kind in ("flood", "chemical", "earthquake"):
        f = path / "hazard" / f"{kind}.npz"
        if f.is_file():
            with np.load(f, allow_pickle=False) as z:
                npz[kind] = {k: z[k] for k in z.files}
    return RunData(path=path, manifest=manifest, metrics=metrics, events=events,
                   shelters=read_table(path, "shelters"), timeseries=read_table(path, "timeseries"),
                   households=hh, hazard=hazard, npz=npz)
