"""Serve the live view on localhost: solara's Starlette app under uvicorn, in this process."""

from __future__ import annotations

import os
import socket
import threading
import time
import webbrowser

from sim.view.app import ENV_VAR, ViewConfig


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a TCP port can be bound on ``host`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def serve(config: ViewConfig, *, port: int, open_browser: bool = True,
          host: str = "127.0.0.1") -> None:
    """Run the page of ``config`` at ``http://host:port/`` until interrupted.

    Parameters
    ----------
    config : ViewConfig
        What the page runs.
    port : int
        TCP port on ``host``.
    open_browser : bool, default True
        Open the page in the default browser once the server is up.
    host : str, default "127.0.0.1"
        Interface to listen on (localhost only by default: the page controls a model).

    Notes
    -----
    The environment is set before solara is imported, because solara reads its settings
    at import: the app module, no telemetry and no version check (no network at run
    time), production mode (no file watcher, no auto-reload).
    """
    from sim.view.assets import assets_dir, missing_assets

    os.environ[ENV_VAR] = config.to_json()
    if not missing_assets():
        # The page's JavaScript from the local copy (python -m sim.view.assets): no network.
        os.environ["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(assets_dir())
    os.environ["SOLARA_APP"] = "sim.view.app"
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_MODE"] = "production"
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    import warnings

    import uvicorn

    # solara warns on every page load that is not served as "localhost" (here 127.0.0.1)
    # that its session cookie falls back to SameSite=Lax: expected for a local page.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none",
                            category=UserWarning)

    server = uvicorn.Server(uvicorn.Config("solara.server.starlette:app", host=host,
                                           port=port, log_level="warning", lifespan="on"))
    if open_browser:
        def _open() -> None:
            while not server.started:
                time.sleep(0.1)
            webbrowser.open(f"http://{host}:{port}/")

        threading.Thread(target=_open, daemon=True).start()
    server.run()
