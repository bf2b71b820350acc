"""evacsim: agent-based disaster and evacuation simulation on OpenStreetMap road networks.

Importing :mod:`sim` only defines things; nothing is loaded, compiled or fetched.
"""

from sim._errors import EvacsimError, NetworkError, RunFolderError, ScenarioError

__all__ = ["EvacsimError", "NetworkError", "RunFolderError", "ScenarioError", "__version__"]


def __getattr__(name: str) -> str:
    # __version__ is looked up when first asked for: importlib.metadata and the search of
    # the installed distributions cost ~20 ms, paid by every process that imports a
    # kernel (a sweep of thousands of runs, issue 17 part 3), most of which never ask.
    if name != "__version__":
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("evacsim")
    except PackageNotFoundError:  # running from a source tree that was never installed
        v = "0.0.0+unknown"
    globals()["__version__"] = v
    return v
