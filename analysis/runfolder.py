"""One check that a folder is a finished run of the layout this evacsim reads.

Every reader of whole run folders (``evacsim report``, ``evacsim animate``, exports)
calls :func:`check_run_folder` first, so a folder left by a failed or interrupted run, a
folder of another format version, or a damaged copy fails with one clear line instead of
a traceback or, worse, a report of half a run.

What a failed run leaves: :func:`sim.runs.write_run` writes into a hidden sibling
``.<name>.tmp-<tag>`` and renames it only when complete, so a crash leaves either no
folder or that hidden one (without ``metrics.json``, possibly without ``manifest.json``).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from analysis.tables import FORMAT_VERSION, TABLE_FILES, read_manifest
from sim._errors import RunFolderError

__all__ = ["check_run_folder"]

_UNFINISHED = re.compile(r"^\..+\.(tmp|old)-[0-9]+-[0-9a-f]+$")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_run_folder(run_dir: str | Path, *, verify: bool = True) -> dict:
    """Check that ``run_dir`` is a complete run folder of :data:`FORMAT_VERSION`.

    Parameters
    ----------
    run_dir : str or Path
        The folder.
    verify : bool, default True
        Also compare every file's sha256 with the manifest's ``tables`` entry (tens of
        milliseconds for the default district).

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    RunFolderError
        Not a folder; the hidden folder of an unfinished write; no ``manifest.json`` or
        ``metrics.json`` (the run failed before it finished); another format version; a
        file the manifest lists is missing or (``verify``) differs from what was written.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunFolderError(f"{run_dir}: expected a run folder (evacsim run --out ...), "
                             "got no folder")
    if _UNFINISHED.match(run_dir.name):
        raise RunFolderError(f"{run_dir}: expected a finished run folder, got the unfinished "
                             "folder of a run that failed or was interrupted; re-run it")
    if not (run_dir / "manifest.json").is_file():
        raise RunFolderError(f"{run_dir}: manifest.json: missing; expected a finished run "
                             "folder (a run that failed writes none); re-run it")
    manifest = read_manifest(run_dir)  # the format-version check shared by every reader
    listed = manifest.get("tables")
    if not isinstance(listed, dict):
        raise RunFolderError(f"{run_dir / 'manifest.json'}: tables: expected file checksums, "
                             f"got {listed!r}")
    need = [*TABLE_FILES.values(), "metrics.json"]
    missing = [f for f in [*need, *listed] if not (run_dir / f).is_file()]
    if missing:
        raise RunFolderError(f"{run_dir}: missing {', '.join(sorted(set(missing)))}; expected "
                             f"a complete run folder of format version {FORMAT_VERSION} "
                             "(a run that failed or a partial copy); re-run it")
    if verify:
        bad = [f for f, digest in listed.items() if _sha256(run_dir / f) != digest]
        if bad:
            raise RunFolderError(f"{run_dir}: {', '.join(sorted(bad))}: expected the sha256 "
                                 "in manifest.json, got different bytes (file changed after "
                                 "the run); re-run it")
    return manifest
