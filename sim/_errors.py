"""The small exception hierarchy of evacsim.

Every message names the place (file and field), what was found, what was expected and,
where there is one, the fix: ``f"{path}: {field}: expected ..., got {value!r}"``.
All of them are ``ValueError`` subclasses, so callers that only know the standard library
can still catch them.
"""

from __future__ import annotations


class EvacsimError(ValueError):
    """Base class of every error evacsim raises on purpose."""


class ScenarioError(EvacsimError):
    """A scenario or plan file is missing, unreadable or invalid."""


class NetworkError(EvacsimError):
    """A map cannot be read, fetched or turned into a usable road network."""


class RunFolderError(EvacsimError):
    """A run folder cannot be written (exists already, unwritable, ...)."""
