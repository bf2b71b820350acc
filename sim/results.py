"""Turn a finished :class:`~sim.model.EvacuationModel` into the tables of a run folder.

This is the one place that knows both the model's arrays and the run-folder columns
(format documented in ``sim/runs.py``); ``analysis`` reads only the files.
"""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import sim
from analysis.areas import with_sources
from analysis.metrics import FORMAT_VERSION
from sim.core import queue
from sim.core.walk import WEIDMANN_RHO_MAX_PM2
from sim.states import STATE_NAMES as STATES

if TYPE_CHECKING:  # the model is only a type here: sim.model imports nothing of this
    from sim.model import EvacuationModel


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def manifest(model: EvacuationModel, *, command: str = "") -> dict:
    """Inputs, their hashes, the seed and the library versions of a run."""
    sc = model.scenario
    return {
        "format_version": FORMAT_VERSION,
        "evacsim_version": sim.__version__,
        "seed": model.seed,
        "scenario": {
            "path": str(sc.source),
            "sha256": sc.digest(),
            "spec": sc.to_dict(),
        },
        "map": {
            "path": str(model.net.source),
            "sha256": sha256_file(model.net.source) if Path(model.net.source).is_file() else "",
            "name": model.net.name,
            "crs": model.net.crs,
        },
        "versions": {
            "python": platform.python_version(),
            **{
                p: _pkg_version(p) for p in ("numpy", "scipy", "numba", "mesa", "osmnx", "networkx")
            },
        },
        "population_report": getattr(model, "population_report", None),
        "tick_s": model.tick_s,
        "horizon_s": model.horizon_s,
        "end_s": model.t_s,
        "command": command,
    }


def tables(model: EvacuationModel) -> dict[str, pd.DataFrame]:
    """All tables of the run folder, keyed by table name (``sim.runs`` picks the files)."""
    hh_shelter = model.household_shelter_rows()
    return {
        "households": (households := _households(model, hh_shelter)),
        "timeseries": _timeseries(model),
        "events": _events(model),
        # + "sources": which zones (sub-districts) filled each shelter (analysis.areas)
        "shelters": with_sources(_shelters(model, hh_shelter), households),
        "links": _links(model),
    }


def extra(model: EvacuationModel) -> dict[str, object]:
    """Hazard outputs for the run folder: ``hazard/<kind>_<table>.csv``, ``hazard/<kind>.npz``.

    Also ``traffic/link_loads.npz`` (vehicles and queue per drive link at every sample,
    :mod:`sim.linkloads`) and ``hazard/incidents.csv``: every incident the hazards raised
    (time, kind, hazard, location, nearest drive node, persons, severity), the input of
    the rescue work.
    """
    out: dict[str, object] = {"traffic/link_loads.npz": model.link_loads.arrays()}
    for hz in model.hazards:
        for name, frame in hz.tables().items():
            out[f"hazard/{hz.kind}_{name}.csv"] = frame
        arrays = hz.arrays()
        if arrays:
            out[f"hazard/{hz.kind}.npz"] = arrays
    if model.response is not None:
        model.finalize_response()
        out.update(model.response.extra())
    from sim.people_levers import bus_tables

    out.update(bus_tables(model))  # plan [buses]: riders and trips
    if model.hazards:
        cols = ["t_s", "kind", "hazard", "x_m", "y_m", "node", "persons", "severity", "note"]
        out["hazard/incidents.csv"] = pd.DataFrame(
            [[getattr(i, c) for c in cols] for i in model.incidents], columns=cols
        ).astype(
            {
                "t_s": "float64",
                "x_m": "float64",
                "y_m": "float64",
                "node": "int64",
                "persons": "int64",
                "severity": "int64",
            }
        )
    return out


def _households(model: EvacuationModel, hh_shelter: np.ndarray) -> pd.DataFrame:
    pop, resp = model.pop, model.resp
    status = np.asarray(STATES, dtype=object)[model.household_state()]
    status[(model._mover_state() == queue.WAITING) & (status == "en_route")] = "waiting"
    # Staying home on a hazard's order (shelter in place) is protection, not a failure to
    # leave: its own status, apart from the warned who chose to stay.
    status[model.ordered_to_stay & (status == "staying")] = "protected_in_place"
    return pd.DataFrame(
        {
            "household": np.arange(len(pop.persons)),
            "zone": np.asarray(pop.zone_names, dtype=object)[pop.zone],
            "persons": pop.persons,
            "vulnerable": pop.vulnerable,
            "mode": np.where(pop.has_car, "car", "walk"),
            "home_node": np.where(pop.has_car, pop.home_drive_node, pop.home_walk_node),
            "x_m": pop.x_m,
            "y_m": pop.y_m,
            "warned": resp.warned.astype(np.int8),
            "t_warned_s": _finite_or_nan(resp.t_warned_s),
            "complies": resp.complies.astype(np.int8),
            "t_depart_s": _finite_or_nan(resp.t_depart_s),
            "t_arrive_s": model.household_arrival_s(),
            "shelter": pd.array(np.where(hh_shelter >= 0, hh_shelter, -1), dtype="Int64").astype(
                "Int64"
            ),
            "status": status,
            "dead": model.dead,
        }
    ).assign(shelter=lambda d: d["shelter"].mask(d["shelter"] < 0))


def _timeseries(model: EvacuationModel) -> pd.DataFrame:
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df.insert(0, "t_s", np.asarray(model.sample_t_s, dtype=np.float64))
    return df


def _events(model: EvacuationModel) -> pd.DataFrame:
    cols = ["t_s", "kind", "where", "who", "value", "message"]
    return pd.DataFrame([[getattr(e, c) for c in cols] for e in model.events], columns=cols)


def _shelters(model: EvacuationModel, hh_shelter: np.ndarray) -> pd.DataFrame:
    t = model.shelter_table
    n = len(t.name)
    occ = np.bincount(
        hh_shelter[hh_shelter >= 0], weights=model.pop.persons[hh_shelter >= 0], minlength=n
    )
    occ = occ.astype(np.int64)
    nodes = model.net.nodes
    return pd.DataFrame(
        {
            "shelter": np.arange(n),
            "name": t.name,
            "kind": t.kind,
            "x_m": t.x_m,
            "y_m": t.y_m,
            "lon": nodes.lon[model.shelter_node],
            "lat": nodes.lat[model.shelter_node],
            "area_m2": t.area_m2,
            "capacity": t.capacity,
            "occupancy": occ,
            # Nobody leaves a shelter within the horizon, so the peak is the final count.
            "peak_occupancy": occ,
            "overflow": np.maximum(0, occ - t.capacity),
            "t_full_s": [s.t_full_s for s in model.shelters],
            "turned_away": [s.turned_away for s in model.shelters],
        }
    )


def _links(model: EvacuationModel) -> pd.DataFrame:
    net = model.net
    frames = []
    walk = net.walk
    # A footpath's "storage" is the persons it holds at Weidmann's jam density; counts on
    # footpaths are persons, on roads vehicles.
    walk_storage = np.floor(WEIDMANN_RHO_MAX_PM2 * walk.length_m * walk.lanes).astype(np.int64)
    for name, links, hw, storage, peak, exits in (
        ("drive", net.drive, net.drive_highway, net.drive.storage_veh, model.queues.peak_count,
         model.queues.exits),
        ("walk", walk, net.walk_highway, walk_storage, model.walk_peak_persons.astype(np.int64),
         model.walk_exits),
    ):
        frames.append(
            pd.DataFrame(
                {
                    "link": np.arange(links.n_links),
                    "network": name,
                    "from_node": links.from_node,
                    "to_node": links.to_node,
                    "x0_m": net.nodes.x_m[links.from_node],
                    "y0_m": net.nodes.y_m[links.from_node],
                    "x1_m": net.nodes.x_m[links.to_node],
                    "y1_m": net.nodes.y_m[links.to_node],
                    "length_m": links.length_m,
                    "highway": hw,
                    "storage": storage,
                    "peak_count": peak,
                    "exits": exits,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _finite_or_nan(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, np.nan)
