"""Analysis of run folders: metrics, figures and text reports.

Everything here reads what a run wrote (``manifest.json`` and the CSV tables, see
:mod:`analysis.metrics`) and nothing else: it never imports the simulation model, so it
works the same on one run, on a sweep of a thousand, and on a run from last year.
Importing this package does no work (names below load on first use, PEP 562), so a
command that only registers its arguments stays light; matplotlib is loaded only by the
figure modules.
"""

__all__ = [
    "FORMAT_VERSION",
    "TABLE_COLUMNS",
    "TABLE_FILES",
    "arrival_curve",
    "compute_metrics",
    "ete_table",
    "read_manifest",
    "read_table",
    "shelter_loads",
    "summary_text",
    "travel_time_table",
]


_FROM = {name: "analysis.report" if name == "summary_text" else "analysis.metrics"
         for name in __all__}


def __getattr__(name: str):
    if name in _FROM:
        import importlib

        return getattr(importlib.import_module(_FROM[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
