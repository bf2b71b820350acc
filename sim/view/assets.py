"""The browser assets of the live view, kept on disk so the page loads with no network.

Solara's page loads its JavaScript and CSS (its Vuetify app, require.js, Font Awesome)
through its own CDN proxy (``/_solara/cdn/...``), which fetches from a public CDN on
first use and caches the files in a folder. Offline (and in the tests, which block every
request that is not to localhost) that folder must already hold them: this module fills
it from the npm registry with ``npm pack`` (the npm package's files are the CDN's files)
and points solara at it.

Run ``python -m sim.view.assets`` once after installing (``.ci/run`` does).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ENV_VAR = "EVACSIM_VIEW_ASSETS"
"""Environment variable naming the assets folder (default: ~/.cache/evacsim/solara-cdn)."""


def assets_dir() -> Path:
    """Folder of the live view's browser assets (``$EVACSIM_VIEW_ASSETS`` or the default)."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path.home() / ".cache" / "evacsim" / "solara-cdn"


def asset_packages() -> list[str]:
    """Npm packages (``name@version``) the installed solara's page template loads.

    Read from solara's own page template and settings, so a solara upgrade asks for the
    versions it needs.
    """
    import importlib.util

    # Located, not imported: importing solara.server reads its settings from the
    # environment, which sim.view.serve sets afterwards.
    spec = importlib.util.find_spec("solara")
    root = Path(next(iter(spec.submodule_search_locations)))
    template = root / "server" / "templates" / "solara.html.j2"
    text = template.read_text(encoding="utf-8")
    found = set(re.findall(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d[\w.+-]*)/", text))
    found.add("font-awesome@4.5.0")  # solara.server.settings.assets.fontawesome_path
    # mermaid only backs solara.Markdown, which the view does not use.
    return sorted(p for p in found if not p.startswith("mermaid@"))


def missing_assets(dest: Path | None = None) -> list[str]:
    """Packages of :func:`asset_packages` not yet in ``dest`` (default :func:`assets_dir`)."""
    dest = assets_dir() if dest is None else dest
    return [p for p in asset_packages() if not (dest / p / "package.json").is_file()]


def install_assets(dest: Path | None = None, *, npm: str = "npm") -> list[str]:
    """Fetch the missing packages with ``npm pack`` and unpack them into ``dest``.

    Returns the packages installed. Each lands complete or not at all (unpacked into a
    temporary folder, then renamed).

    Raises
    ------
    RuntimeError
        If npm is missing or a package cannot be fetched.
    """
    dest = assets_dir() if dest is None else dest
    todo = missing_assets(dest)
    if not todo:
        return []
    if shutil.which(npm) is None:
        raise RuntimeError(f"{npm}: not found; install Node.js/npm (Debian: apt-get install npm)")
    dest.mkdir(parents=True, exist_ok=True)
    for pkg in todo:
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            proc = subprocess.run([npm, "pack", pkg, "--pack-destination", tmp, "--silent"],
                                  capture_output=True, text=True, timeout=600)
            tgz = [p for p in Path(tmp).glob("*.tgz")]
            if proc.returncode != 0 or len(tgz) != 1:
                raise RuntimeError(f"npm pack {pkg}: failed ({proc.stderr.strip()[-300:]})")
            out = Path(tmp) / "unpacked"
            with tarfile.open(tgz[0]) as tar:
                tar.extractall(out, filter="data")
            target = dest / pkg
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(out / "package", target)
    return todo


def main() -> int:
    """Install the assets (``python -m sim.view.assets``); print what was done."""
    try:
        done = install_assets()
    except RuntimeError as err:
        print(f"evacsim: error: {err}", file=sys.stderr)
        return 2
    print(f"{assets_dir()}: " + (", ".join(done) + " installed" if done else "complete"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
