"""Experiment files: TOML in, a checked :class:`Experiment` out, before any run starts.

Field reference: ``scenarios/experiments/README.md``. Every problem is raised as a
:class:`~sim._errors.ScenarioError` naming the experiment file and the field
(``f"{path}: {field}: expected ..., got ..."``). Besides the file's own schema, loading
checks what would otherwise fail an hour later:

* every override and factor path exists in the Scenario / Plan schema
  (:mod:`sim.experiments.paths`), and the overridden scenarios and plans validate;
* every factor's range ends (uniform, triangular), centre (normal, lognormal) or value
  (choice, levels) is accepted by the scenario schema, one at a time;
* the design is not empty and fits the factors (Morris needs uniform factors; Sobol'
  and Morris need numbers; a factorial needs levels);
* every target and kept metric is a number some run of this experiment writes in
  ``metrics.json`` (:mod:`sim.experiments.metric_paths`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from sim._errors import ScenarioError
from sim._spec import Spec, read_toml
from sim.experiments import paths as P
from sim.experiments.metric_paths import is_known

Name = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Number = StrictFloat | StrictInt
Scalar = StrictFloat | StrictInt | StrictStr | StrictBool

DEFAULT_METRICS = (
    "warning.share",
    "evacuees.arrived_share",
    "ete.all.90.t_min",
    "clearance.t_min",
    "not_sheltered.persons",
    "dead",
)
"""Metrics kept when ``[experiment] metrics`` is not given (plus every target's metric)."""


# --------------------------------------------------------------------------- factors

class Uniform(Spec):
    """Uniform on [min, max]."""

    distribution: Literal["uniform"]
    min: Number
    max: Number

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.max > self.min:
            raise ValueError(f"max must be > min = {self.min}, got {self.max}")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at probabilities ``u``."""
        return self.min + u * (self.max - self.min)

    def probe(self) -> list[Any]:
        """Values checked against the scenario schema before any run."""
        return [self.min, self.max]

    def params(self) -> dict:
        """Parameters as written in ``experiment.json``."""
        return {"min": self.min, "max": self.max}

    def salib(self) -> tuple[str, list[float]]:
        """SALib distribution name and bounds of the same law."""
        return "unif", [float(self.min), float(self.max)]


class Normal(Spec):
    """Normal(mean, sd): unbounded; draws outside the field's range fail their task."""

    distribution: Literal["normal"]
    mean: Number
    sd: Annotated[Number, Field(gt=0)]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at probabilities ``u``."""
        from scipy.stats import norm

        return norm.ppf(u, loc=self.mean, scale=self.sd)

    def probe(self) -> list[Any]:
        """Values checked against the scenario schema before any run."""
        return [self.mean]

    def params(self) -> dict:
        """Parameters as written in ``experiment.json``."""
        return {"mean": self.mean, "sd": self.sd}

    def salib(self) -> tuple[str, list[float]]:
        """SALib distribution name and bounds of the same law (None: not for SALib)."""
        return "norm", [float(self.mean), float(self.sd)]


class Triangular(Spec):
    """Triangular on [min, max] with its peak at ``mode``."""

    distribution: Literal["triangular"]
    min: Number
    mode: Number
    max: Number

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.min <= self.mode <= self.max and self.max > self.min):
            raise ValueError(f"expected min <= mode <= max and min < max, got "
                             f"{self.min}, {self.mode}, {self.max}")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at probabilities ``u``."""
        from scipy.stats import triang

        c = (self.mode - self.min) / (self.max - self.min)
        return triang.ppf(u, c, loc=self.min, scale=self.max - self.min)

    def probe(self) -> list[Any]:
        """Values checked against the scenario schema before any run."""
        return [self.min, self.max]

    def params(self) -> dict:
        """Parameters as written in ``experiment.json``."""
        return {"min": self.min, "mode": self.mode, "max": self.max}

    def salib(self) -> tuple[str, list[float]]:
        """SALib distribution name and bounds of the same law (None: not for SALib)."""
        # SALib "triang": [lower, upper, peak as a fraction of the width].
        c = (self.mode - self.min) / (self.max - self.min)
        return "triang", [float(self.min), float(self.max), float(c)]


class Lognormal(Spec):
    """Lognormal: ``median * exp(sigma * Z)``, Z standard normal."""

    distribution: Literal["lognormal"]
    median: Annotated[Number, Field(gt=0)]
    sigma: Annotated[Number, Field(gt=0)]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at probabilities ``u``."""
        from scipy.stats import norm

        return self.median * np.exp(self.sigma * norm.ppf(u))

    def probe(self) -> list[Any]:
        """Values checked against the scenario schema before any run."""
        return [self.median]

    def params(self) -> dict:
        """Parameters as written in ``experiment.json``."""
        return {"median": self.median, "sigma": self.sigma}

    def salib(self) -> tuple[str, list[float]]:
        """SALib distribution name and bounds of the same law (None: not for SALib)."""
        # SALib "lognorm": [mean, sd] of ln X.
        return "lognorm", [math.log(self.median), float(self.sigma)]


class Choice(Spec):
    """One of ``values``, with optional ``weights`` (default equal)."""

    distribution: Literal["choice"]
    values: Annotated[list[Any], Field(min_length=1)]
    weights: list[Annotated[Number, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None and (len(self.weights) != len(self.values)
                                         or sum(self.weights) <= 0):
            raise ValueError(f"weights must be {len(self.values)} non-negative numbers "
                             f"with a positive sum, got {self.weights}")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at probabilities ``u``."""
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights, float)
        cum = np.cumsum(w / w.sum())
        idx = np.minimum(np.searchsorted(cum, u, side="right"), len(self.values) - 1)
        return np.asarray(self.values, dtype=object)[idx]

    def probe(self) -> list[Any]:
        """Values checked against the scenario schema before any run."""
        return list(self.values)

    def params(self) -> dict:
        """Parameters as written in ``experiment.json``."""
        return {"values": self.values, "weights": self.weights}

    def salib(self) -> None:
        """SALib distribution name and bounds of the same law (None: not for SALib)."""
        return None


class Levels(Spec):
    """Fixed levels: every value in a factorial design; equal-probability choice otherwise."""

    distribution: Literal["levels"]
    values: Annotated[list[Any], Field(min_length=1)]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at probabilities ``u``."""
        idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
        return np.asarray(self.values, dtype=object)[idx]

    def probe(self) -> list[Any]:
        """Values checked against the scenario schema before any run."""
        return list(self.values)

    def params(self) -> dict:
        """Parameters as written in ``experiment.json``."""
        return {"values": self.values}

    def salib(self) -> None:
        """SALib distribution name and bounds of the same law (None: not for SALib)."""
        return None


Distribution = Annotated[Uniform | Normal | Triangular | Lognormal | Choice | Levels,
                         Field(discriminator="distribution")]


class FactorSpec(Spec):
    """``[[factors]]``: a scenario field path and its distribution (fields flat)."""

    path: StrictStr
    law: Distribution

    @model_validator(mode="before")
    @classmethod
    def _nest(cls, data: Any) -> Any:
        if isinstance(data, dict) and "law" not in data:
            data = dict(data)
            path = data.pop("path", None)
            return {"path": path, "law": data}
        return data


# --------------------------------------------------------------------------- design

class Single(Spec):
    """No factors: one point (replications only)."""

    kind: Literal["single"]


class LHS(Spec):
    """Latin hypercube Monte Carlo (``scipy.stats.qmc.LatinHypercube``)."""

    kind: Literal["lhs"]
    points: Annotated[StrictInt, Field(ge=1, le=1_000_000)]


class Factorial(Spec):
    """Full factorial: every combination of the factors' levels."""

    kind: Literal["factorial"]
    levels: Annotated[StrictInt, Field(ge=2, le=100)] | None = None


class Sobol(Spec):
    """Saltelli/Sobol' design (``SALib.sample.sobol``).

    ``n * (2k + 2)`` points, or ``n * (k + 2)`` without second order.
    """

    kind: Literal["sobol"]
    n: Annotated[StrictInt, Field(ge=2, le=1 << 20)]
    second_order: StrictBool = False

    @model_validator(mode="after")
    def _power_of_two(self) -> Sobol:
        if self.n & (self.n - 1):
            raise ValueError(f"n must be a power of 2 (Sobol' sequence balance), got {self.n}")
        return self


class Morris(Spec):
    """Morris elementary effects (``SALib.sample.morris``): ``trajectories * (k + 1)``."""

    kind: Literal["morris"]
    trajectories: Annotated[StrictInt, Field(ge=2, le=10_000)]
    num_levels: Annotated[StrictInt, Field(ge=2, le=100)] = 4


DesignSpec = Annotated[Single | LHS | Factorial | Sobol | Morris, Field(discriminator="kind")]


# --------------------------------------------------------------------------- the file

class ExperimentMeta(Spec):
    """``[experiment]``: identity, seed, replications, metrics to keep."""

    name: Name
    title: StrictStr = ""
    seed: Annotated[StrictInt, Field(ge=0, lt=2**63)] = 1
    replications: Annotated[StrictInt, Field(ge=1, le=100_000)] = 1
    metrics: Annotated[list[StrictStr], Field(min_length=1)] = list(DEFAULT_METRICS)


class BaseSpec(Spec):
    """``[base]``: the scenario, the default plan, overrides for every alternative."""

    scenario: StrictStr
    plan: StrictStr | None = None
    overrides: dict[StrictStr, Any] = {}


class AlternativeSpec(Spec):
    """``[[alternatives]]``: a plan and/or scenario (and plan) overrides."""

    name: Name
    plan: StrictStr | None = None
    overrides: dict[StrictStr, Any] = {}
    plan_overrides: dict[StrictStr, Any] = {}


class TargetSpec(Spec):
    """``[[targets]]``: a named criterion ``metric op value``."""

    name: Name
    metric: StrictStr
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: Number


class StopWhen(Spec):
    """``[stop_when]``: stop adding replications once the mean is known well enough."""

    metric: StrictStr
    alternative: Name | None = None
    halfwidth: Annotated[Number, Field(gt=0)]
    min_runs: Annotated[StrictInt, Field(ge=2)] = 10


class ExperimentFile(Spec):
    """The whole experiment file as written."""

    experiment: ExperimentMeta
    base: BaseSpec
    alternatives: list[AlternativeSpec] = []
    factors: list[FactorSpec] = []
    design: DesignSpec = Single(kind="single")
    targets: list[TargetSpec] = []
    stop_when: StopWhen | None = None


# --------------------------------------------------------------------------- checked


@dataclass(frozen=True)
class Alternative:
    """One alternative, resolved: its full scenario dict and plan dict (or None)."""

    name: str
    plan_path: Path | None
    plan: dict | None
    overrides: dict
    plan_overrides: dict
    scenario: dict


@dataclass(frozen=True)
class Factor:
    """One uncertain factor with the concrete keys of its path in each alternative."""

    path: str
    law: Any
    keys: dict[str, tuple]


@dataclass(frozen=True)
class Experiment:
    """A checked experiment; build it with :func:`load_experiment`."""

    source: Path
    spec: ExperimentFile
    scenario_path: Path
    alternatives: tuple[Alternative, ...]
    factors: tuple[Factor, ...]
    metrics: tuple[str, ...]
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.spec.experiment.name

    def scenario_dict(self, alt: Alternative, values: dict[str, Any]) -> dict:
        """The alternative's scenario dict with the factors set to ``values`` (by path)."""
        changes = {}
        for f in self.factors:
            keys = f.keys[alt.name]
            changes[keys] = P.coerce_like(P.get(alt.scenario, keys), values[f.path])
        return P.with_values(alt.scenario, changes)

    def digest(self) -> str:
        """sha256 of what decides the tasks and their rows (spec + input file contents)."""
        text = json.dumps({"spec": self.spec.model_dump(mode="json"), "inputs": self.inputs,
                           "metrics": list(self.metrics)}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fail(source: Path, where: str, msg: str) -> ScenarioError:
    return ScenarioError(f"{source}: {where}: {msg}")


def _loc(loc: tuple) -> str:
    text = ""
    for item in loc:
        if isinstance(item, int):
            text += f"[{item}]"
        elif item in ("law",) or item in ("uniform", "normal", "triangular", "lognormal",
                                          "choice", "levels", "single", "lhs", "factorial",
                                          "sobol", "morris"):
            continue
        else:
            text += ("." if text else "") + str(item)
    return text


def _sha256(path: Path) -> str:
    from sim.results import sha256_file

    return sha256_file(path)


def _resolve_file(source: Path, where: str, value: str) -> Path:
    p = Path(value).expanduser()
    if not p.is_absolute():
        p = source.resolve().parent / p
    if not p.is_file():
        raise _fail(source, where, f"expected an existing file (relative paths start at "
                    f"{source.resolve().parent}), got {value!r}")
    return p.resolve()


def _apply(source: Path, where: str, data: dict, overrides: dict) -> dict:
    changes = {}
    for path, value in overrides.items():
        try:
            keys = P.resolve(data, path)
        except KeyError as err:
            raise _fail(source, f"{where}.{path!r}", err.args[0]) from None
        changes[keys] = P.coerce_like(P.get(data, keys), value)
    return P.with_values(data, changes)


def _scenario(source: Path, where: str, data: dict):
    from sim.scenario import Scenario

    try:
        return Scenario.from_dict(data, source=f"{source}: {where}")
    except ScenarioError as err:
        raise ScenarioError(str(err)) from None


def _plan(source: Path, where: str, data: dict):
    from sim.plan import Plan

    return Plan.from_dict(data, source=f"{source}: {where}")


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file (see the module notes for what is checked).

    Parameters
    ----------
    path : str or Path
        The ``.toml`` experiment file; relative paths inside it start at its folder.

    Returns
    -------
    Experiment

    Raises
    ------
    ScenarioError
        One message naming the file and the field, for the first problem found.
    """
    from sim.plan import load_plan
    from sim.scenario import load_scenario

    source = Path(path)
    raw = read_toml(source, "experiment file")
    try:
        spec = ExperimentFile.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                msg = "unknown field (see scenarios/experiments/README.md)"
            lines.append(f"{source}: {_loc(tuple(err.get('loc', ())))}: {msg}, "
                         f"got {err.get('input')!r}")
        raise ScenarioError(f"{source}: {len(lines)} problem(s) in the experiment file:\n"
                            + "\n".join(lines)) from None

    inputs: dict[str, str] = {str(source.resolve()): _sha256(source)}
    scenario_path = _resolve_file(source, "base.scenario", spec.base.scenario)
    base = load_scenario(scenario_path)
    inputs[str(scenario_path)] = _sha256(scenario_path)
    base_dict = _apply(source, "base.overrides", base.to_dict(), spec.base.overrides)
    _scenario(source, "base.overrides", base_dict)

    alts_spec = spec.alternatives or [AlternativeSpec(name="base")]
    names = [a.name for a in alts_spec]
    for i, nm in enumerate(names):
        if nm in names[:i]:
            raise _fail(source, f"alternatives[{i}].name", f"expected a name no other "
                        f"alternative has, got {nm!r}")
    alternatives = []
    for i, a in enumerate(alts_spec):
        where = f"alternatives[{i}] ({a.name})"
        plan_text = a.plan if a.plan is not None else spec.base.plan
        plan_path = plan_dict = None
        if plan_text is not None and plan_text != "none":
            plan_path = _resolve_file(source, f"{where}.plan", plan_text)
            inputs[str(plan_path)] = _sha256(plan_path)
            plan_dict = _apply(source, f"{where}.plan_overrides",
                               load_plan(plan_path).to_dict(), a.plan_overrides)
            _plan(source, f"{where}.plan_overrides", plan_dict)
        elif a.plan_overrides:
            raise _fail(source, f"{where}.plan_overrides", "expected a plan to override "
                        "(alternatives.plan or base.plan), got none")
        sc = _apply(source, f"{where}.overrides", base_dict, a.overrides)
        _scenario(source, f"{where}.overrides", sc)
        alternatives.append(Alternative(a.name, plan_path, plan_dict, dict(a.overrides),
                                        dict(a.plan_overrides), sc))

    factors = []
    seen: set[str] = set()
    for i, f in enumerate(spec.factors):
        where = f"factors[{i}] ({f.path})"
        if f.path in seen:
            raise _fail(source, where, "expected each path once, got it twice")
        seen.add(f.path)
        keys = {}
        for alt in alternatives:
            try:
                keys[alt.name] = P.resolve(alt.scenario, f.path)
            except KeyError as err:
                raise _fail(source, f"{where}.path", err.args[0]) from None
            current = P.get(alt.scenario, keys[alt.name])
            numeric = not isinstance(f.law, (Choice, Levels))
            if numeric and (isinstance(current, bool) or not isinstance(current, (int, float))):
                raise _fail(source, f"{where}.distribution", f"the field holds {current!r}, "
                            f"not a number; expected distribution = 'choice' or 'levels'")
            for value in f.law.probe():
                changed = P.with_values(alt.scenario, {keys[alt.name]: P.coerce_like(current,
                                                                                      value)})
                try:
                    _scenario(source, where, changed)
                except ScenarioError as err:
                    detail = str(err).split("\n", 1)[-1]
                    raise _fail(source, where, f"value {value!r} is outside what the scenario "
                                f"allows ({detail})") from None
        factors.append(Factor(f.path, f.law, keys))

    _check_design(source, spec, factors)
    metrics = list(dict.fromkeys([*spec.experiment.metrics, *(t.metric for t in spec.targets),
                                  *([spec.stop_when.metric] if spec.stop_when else [])]))
    for alt in alternatives:
        kinds = [h["kind"] for h in alt.scenario.get("hazards", [])]
        for m in metrics:
            if not is_known(m, kinds, alt.plan is not None):
                where = next((f"targets[{i}].metric" for i, t in enumerate(spec.targets)
                              if t.metric == m), "experiment.metrics")
                if spec.stop_when and spec.stop_when.metric == m:
                    where = "stop_when.metric"
                hint = ("; hazard sections exist only for the scenario's hazards, "
                        "hazards.response only with a plan" if m.startswith("hazards.") else "")
                raise _fail(source, where, f"expected a number in metrics.json of every "
                            f"alternative (list: sim/experiments/metric_paths.py){hint}; "
                            f"got {m!r}, which alternative {alt.name!r} does not write")
    if spec.stop_when and spec.stop_when.alternative not in (None, *names):
        raise _fail(source, "stop_when.alternative", f"expected one of {names}, "
                    f"got {spec.stop_when.alternative!r}")

    for alt in alternatives:
        for key in ("map",):
            p = Path(alt.scenario["scenario"][key])
            inputs.setdefault(str(p), _sha256(p))
        zones = alt.scenario["population"].get("zones_csv")
        if zones:
            inputs.setdefault(str(zones), _sha256(Path(zones)))
    return Experiment(source=source, spec=spec, scenario_path=scenario_path,
                      alternatives=tuple(alternatives), factors=tuple(factors),
                      metrics=tuple(metrics), inputs=inputs)


def _check_design(source: Path, spec: ExperimentFile, factors: list[Factor]) -> None:
    kind = spec.design.kind
    if not factors and kind != "single":
        raise _fail(source, "design.kind", f"expected 'single' (or no [design]) when there "
                    f"are no [[factors]], got {kind!r}: the design would be empty")
    if factors and kind == "single":
        raise _fail(source, "design.kind", "expected 'lhs', 'factorial', 'sobol' or 'morris' "
                    "when there are [[factors]], got 'single'")
    for f in factors:
        law = f.law
        if kind in ("sobol", "morris") and isinstance(law, (Choice, Levels)):
            raise _fail(source, f"factors ({f.path}).distribution", f"expected a continuous "
                        f"distribution for a {kind} design, got {law.distribution!r}")
        if kind == "morris" and not isinstance(law, Uniform):
            raise _fail(source, f"factors ({f.path}).distribution", "expected 'uniform' for "
                        f"a Morris design (levels on a bounded grid), got {law.distribution!r}")
        if (kind == "factorial" and not isinstance(law, (Choice, Levels))
                and spec.design.levels is None):
            raise _fail(source, "design.levels", f"expected a number of levels for the "
                        f"continuous factor {f.path!r} of a factorial design, got nothing")
