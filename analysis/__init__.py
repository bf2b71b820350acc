"""Analysis of run folders: metrics, figures and text reports.

Everything here reads what a run wrote (``manifest.json`` and the CSV tables, see
:mod:`analysis.metrics`) and nothing else: it never imports the simulation model, so it
works the same on one run, on a sweep of a thousand, and on a run from last year.
Importing this package does no work; matplotlib is loaded only by :mod:`analysis.figures`.
"""

from analysis.metrics import (
    FORMAT_VERSION,
    TABLE_COLUMNS,
    TABLE_FILES,
    arrival_curve,
    compute_metrics,
    ete_table,
    read_manifest,
    read_table,
    shelter_loads,
    travel_time_table,
)
from analysis.report import summary_text

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
