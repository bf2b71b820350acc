"""Experiments: many runs of one scenario under uncertain inputs, several plans, on Dask.

An experiment file (TOML, ``scenarios/experiments/README.md``) names a base scenario,
*alternatives* (plans and/or scenario overrides), *uncertain factors* with distributions,
a *design* (Latin hypercube, full factorial, Sobol', Morris), replications, targets and the
metrics to keep. :mod:`sim.experiments.spec` validates it before anything runs;
:mod:`sim.experiments.design` draws the design points; :mod:`sim.experiments.tasks` builds
and runs one (point, alternative, replication) task and returns one row of scalars;
:mod:`sim.experiments.runner` sends the tasks to Dask and writes the experiment folder
(format in ``docs/experiments.md``); :mod:`sim.experiments.cli` is ``evacsim experiment``.

Common random numbers: every alternative sees the same design points and the same seed
per (point, replication), so alternatives are compared pairwise.
"""

from __future__ import annotations
