"""Statistics, figures and text over an experiment folder (``evacsim experiment``).

Reads only the folder the experiment engine writes (``experiment.json``,
``design.parquet``, ``rows/part-*.parquet``; see :mod:`analysis.experiments._folder`),
never the model. Entry points for the CLI: :func:`summary`, :func:`show_text`,
:func:`compare_text`, :func:`write_figures`. Methods and sources:
``docs/experiments-analysis.md``.
"""

from analysis.experiments._folder import (
    FORMAT_VERSION,
    Experiment,
    ExperimentFolderError,
    Target,
    read_experiment,
)
from analysis.experiments.figures import write_figures
from analysis.experiments.text import compare_text, show_text, summary

__all__ = [
    "FORMAT_VERSION",
    "Experiment",
    "ExperimentFolderError",
    "Target",
    "compare_text",
    "read_experiment",
    "show_text",
    "summary",
    "write_figures",
]
