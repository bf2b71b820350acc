"""evacsim: agent-based disaster and evacuation simulation on OpenStreetMap road networks.

Importing :mod:`sim` only defines things; nothing is loaded, compiled or fetched.
"""

from importlib.metadata import PackageNotFoundError, version

from sim._errors import EvacsimError, NetworkError, RunFolderError, ScenarioError

try:
    __version__ = version("evacsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["EvacsimError", "NetworkError", "RunFolderError", "ScenarioError", "__version__"]
