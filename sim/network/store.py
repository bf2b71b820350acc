"""Save and load a compiled map (``.evacmap.npz``), and the content-addressed map cache.

One ``.npz`` file holds every array of a :class:`RoadNetwork`; the rest (name, source,
CRS, bbox, place tags, format version) is a JSON document stored in the same file as the
UTF-8 bytes of the ``meta_json`` array. No pickle: ``np.load(..., allow_pickle=False)``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from sim._errors import NetworkError
from sim.core.links import Links
from sim.network.buildings import Buildings
from sim.network.roadnet import Nodes, Places, RoadNetwork

# 2: drive_bridge / drive_tunnel; 3: building footprints; 4: drive_name / drive_way
FORMAT_VERSION = 4
"""Version of the compiled-map layout and of the compilation rules; bump it when either
changes so that old cache entries are ignored."""

_LOG = logging.getLogger(__name__)
_PLACE_SETS = ("shelters", "facilities", "residential", "zones")
_PLACE_ARRAYS = ("kind", "name", "x_m", "y_m", "area_m2", "drive_node", "walk_node", "osmid")
_BUILDING_ARRAYS = tuple(f.name for f in dataclasses.fields(Buildings))


def _arrays(net: RoadNetwork) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for f in ("osmid", "x_m", "y_m", "lon", "lat"):
        out[f"nodes.{f}"] = getattr(net.nodes, f)
    for mode in ("drive", "walk"):
        links: Links = getattr(net, mode)
        for f in Links._fields:
            out[f"{mode}.{f}"] = getattr(links, f)
    out["drive_highway"] = net.drive_highway
    out["walk_highway"] = net.walk_highway
    n_drive = net.drive.n_links
    for f in ("drive_bridge", "drive_tunnel"):
        value = getattr(net, f)
        out[f] = np.zeros(n_drive, dtype=bool) if value is None else value
    out["drive_name"] = (np.full(n_drive, "", dtype=str) if net.drive_name is None
                         else net.drive_name)
    out["drive_way"] = (np.full(n_drive, -1, dtype=np.int64) if net.drive_way is None
                        else net.drive_way)
    for ps in _PLACE_SETS:
        places: Places = getattr(net, ps)
        for f in _PLACE_ARRAYS:
            out[f"{ps}.{f}"] = getattr(places, f)
    b = net.building_table()
    for f in _BUILDING_ARRAYS:
        out[f"buildings.{f}"] = getattr(b, f)
    return out


def save_npz(net: RoadNetwork, path: Path) -> None:
    """Write ``net`` to ``path`` atomically (temporary file in the same folder + rename).

    Parameters
    ----------
    net : RoadNetwork
    path : Path
        Target file; its folder is created if needed.
    """
    meta = {
        "format_version": FORMAT_VERSION, "name": net.name, "source": net.source,
        "crs": net.crs, "bbox_lonlat": list(net.bbox_lonlat),
        "tags": {ps: getattr(net, ps).tags for ps in _PLACE_SETS},
    }
    arrays = _arrays(net)
    arrays["meta_json"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_npz(path: Path) -> RoadNetwork:
    """Read a map written by :func:`save_npz`.

    Raises
    ------
    NetworkError
        If the file is not a compiled evacsim map or has another format version.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(bytes(data.pop("meta_json")).decode())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
        msg = f"{path}: expected a compiled evacsim map (.evacmap.npz), could not read it: {err}"
        raise NetworkError(msg) from None
    if meta.get("format_version") != FORMAT_VERSION:
        msg = (f"{path}: format_version: expected {FORMAT_VERSION}, got "
               f"{meta.get('format_version')!r}; re-import the map with `evacsim map import`")
        raise NetworkError(msg)
    try:
        nodes = Nodes(**{f: data[f"nodes.{f}"] for f in ("osmid", "x_m", "y_m", "lon", "lat")})
        links = {m: Links(**{f: data[f"{m}.{f}"] for f in Links._fields})
                 for m in ("drive", "walk")}
        places = {ps: Places(**{f: data[f"{ps}.{f}"] for f in _PLACE_ARRAYS},
                             tags=meta["tags"][ps]) for ps in _PLACE_SETS}
        return RoadNetwork(
            name=meta["name"], source=meta["source"], crs=meta["crs"], nodes=nodes,
            drive=links["drive"], walk=links["walk"], drive_highway=data["drive_highway"],
            walk_highway=data["walk_highway"], bbox_lonlat=tuple(meta["bbox_lonlat"]), **places,
            drive_bridge=data["drive_bridge"], drive_tunnel=data["drive_tunnel"],
            buildings=Buildings(**{f: data[f"buildings.{f}"] for f in _BUILDING_ARRAYS}),
            drive_name=data["drive_name"], drive_way=data["drive_way"],
        )
    except KeyError as err:
        msg = f"{path}: expected a compiled evacsim map, field {err} is missing"
        raise NetworkError(msg) from None


def cache_key(files: list[Path], params: dict) -> str:
    """sha256 over the bytes of ``files``, the compile parameters and the format version."""
    h = hashlib.sha256()
    h.update(f"evacsim-map-v{FORMAT_VERSION}|{json.dumps(params, sort_keys=True)}".encode())
    for f in files:
        h.update(f.name.encode() + b"\0")
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def cache_file(cache_dir: Path, key: str) -> Path:
    """Where the compiled map with ``key`` lives in ``cache_dir``."""
    return cache_dir / "maps" / f"{key}.evacmap.npz"


def cache_get(cache_dir: Path, key: str) -> RoadNetwork | None:
    """Return the cached map for ``key``, or None (a corrupt entry counts as a miss)."""
    path = cache_file(cache_dir, key)
    if not path.is_file():
        return None
    try:
        net = load_npz(path)
    except NetworkError:
        _LOG.warning("ignoring unreadable map cache entry %s", path)
        return None
    _LOG.info("map cache hit: %s", path)
    return net
