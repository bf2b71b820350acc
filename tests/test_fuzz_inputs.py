"""Malformed scenario and plan files, generated: every one ends in a clear error.

A property-based suite (hypothesis) mutates the shipped scenario and plan files — wrong
types, out-of-range and non-finite numbers, missing and unknown fields, huge values,
unicode, paths that do not exist or escape the folder — and asserts each mutant is either
accepted or refused with the project's error type: one ``file: field: expected …`` line per
problem, naming the file and the mutated field. Refused mutants given to ``evacsim run``
end with exit code 2, one ``evacsim: error:`` message and no run folder. Examples are
derandomised, so CI sees the same inputs every time.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sim._errors import EvacsimError, ScenarioError
from sim.cli import main
from sim.plan import load_plan
from sim.scenario import default_scenario_path, load_scenario

REPO = Path(__file__).resolve().parents[1]
SCENARIO = default_scenario_path()
PLAN = REPO / "scenarios" / "plans" / "default.toml"
# No "explain" phase: it needs libcst, which warns on import (warnings are errors here).
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                phases=PHASES, suppress_health_check=[HealthCheck.too_slow])


# --- a small TOML writer (tomllib only reads) ----------------------------------------------


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):  # JSON's escapes are TOML's basic-string escapes; TOML also bars DEL
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else _value(k)


def dumps(data: dict) -> str:
    """TOML for a document of tables, arrays of tables and inline values."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not (isinstance(v, list) and v and
                                                 all(isinstance(x, dict) for x in v))]
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"[{_key(k)}]")
            lines += [f"{_key(a)} = {_value(b)}" for a, b in v.items()]
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                lines.append(f"[[{_key(k)}]]")
                lines += [f"{_key(a)} = {_value(b)}" for a, b in item.items()]
    return "\n".join(lines) + "\n"


def test_the_writer_round_trips_the_shipped_files():
    for path in (SCENARIO, PLAN):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert tomllib.loads(dumps(data)) == data


# --- mutations ------------------------------------------------------------------------------


def _leaves(data, prefix=()):
    """Paths to every scalar or list of scalars (table keys and array indices)."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for k, v in items:
        if isinstance(v, dict) or (isinstance(v, list) and v and isinstance(v[0], dict)):
            yield from _leaves(v, (*prefix, k))
        else:
            yield (*prefix, k)


BAD_VALUES = st.one_of(
    st.text(max_size=12),  # unicode included
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1.0, 0.0, 2**63, -(2**63)]),
    st.booleans(),
    st.lists(st.integers(-3, 3), max_size=3),
    st.just({}),
    st.sampled_from(["/no/such/file.osm", "../../../../../../etc/passwd", ".", "地图.osm",
                     "", " ", "x" * 300]),
)


@st.composite
def mutants(draw, original: dict):
    """A copy of ``original`` with one field replaced, removed, or one unknown field added,
    and the dotted name of the field a good error must mention."""
    data = tomllib.loads(dumps(original))  # a deep copy
    paths = sorted(_leaves(data), key=str)
    path = draw(st.sampled_from(paths))
    parent = data
    for k in path[:-1]:
        parent = parent[k]
    kind = draw(st.sampled_from(["replace", "replace", "replace", "delete", "unknown"]))
    if kind == "replace":
        parent[path[-1]] = draw(BAD_VALUES)
    elif kind == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        path = (*path[:-1], "colour")
        parent["colour"] = draw(BAD_VALUES)
    field = ".".join(str(k) for k in path if not isinstance(k, int))
    return data, field


def _check_refusal(err: EvacsimError, path: Path, field: str) -> None:
    text = str(err)
    lines = text.splitlines()
    assert lines and all(line.startswith(str(path)) for line in lines), text
    leaf = field.rsplit(".", 1)[-1]
    assert leaf in text or field.split(".")[0] in text, (field, text)


def _write(tmp: Path, data: dict, name: str) -> Path:
    out = tmp / name
    out.write_text(dumps(data), encoding="utf-8")
    return out


# Paths in a file are relative to its folder: mutants are written beside the original.
@pytest.mark.parametrize(("original", "loader"), [(SCENARIO, load_scenario), (PLAN, load_plan)],
                         ids=["scenario", "plan"])
@FUZZ
@given(data=st.data())
def test_mutants_load_or_fail_clearly(original, loader, data):
    mutant, field = data.draw(mutants(tomllib.loads(original.read_text(encoding="utf-8"))))
    path = _write(original.parent, mutant, ".fuzz-mutant.toml")
    try:
        loader(path)
    except ScenarioError as err:
        _check_refusal(err, path, field)
    finally:
        path.unlink()


def _cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse refusals
            rc = exc.code
    return rc, err.getvalue()


@settings(max_examples=40, deadline=None, derandomize=True, database=None, phases=PHASES)
@given(data=st.data())
def test_refused_scenarios_leave_no_run_folder(data, tmp_path_factory):
    original = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    mutant, _ = data.draw(mutants(original))
    path = _write(SCENARIO.parent, mutant, ".fuzz-run.toml")
    out = tmp_path_factory.mktemp("fuzz") / "run"
    try:
        try:
            load_scenario(path)
        except ScenarioError:
            rc, err = _cli(["run", str(path), "--out", str(out), "--no-progress"])
            assert rc == 2 and err.startswith(f"evacsim: error: {path}"), err
            assert "Traceback" not in err
            assert not out.exists() and list(out.parent.iterdir()) == []
    finally:
        path.unlink()


# --- the failures the issue found, one by one ---------------------------------------------


@pytest.mark.parametrize(("argv", "words"), [
    (["run", "--seed", "-1"], "0 <= seed < 2**63"),
    (["run", "--seed", str(2**63)], "0 <= seed < 2**63"),
    (["run", "--seed", "1e3"], "expected an integer"),
])
def test_bad_seeds_are_refused_before_anything_runs(argv, words, tmp_path):
    rc, err = _cli([*argv, "--out", str(tmp_path / "r")])
    assert rc == 2 and words in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("old", "new", "field"), [
    ("t90_min = 60.0", "t90_min = inf", "departure.t90_min: expected a finite number"),
    ("coverage = 0.9 ", "coverage = nan ", "warning.coverage: expected a finite number"),
    ("horizon_h = 6.0", "horizon_h = 0.001", "time.horizon_h: expected at least one tick"),
    ('kinds = ["park", "square", "school", "stadium", "sports_centre"]', "kinds = []",
     "shelters.kinds: expected at least one shelter kind"),
])
def test_non_finite_and_sub_tick_fields_are_refused_at_load(old, new, field):
    text = SCENARIO.read_text(encoding="utf-8")
    assert old in text
    path = SCENARIO.parent / ".fuzz-field.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    try:
        with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
            load_scenario(path)
    finally:
        path.unlink()


@pytest.mark.parametrize("name", ["My Town!", "../escape", "a b", "", "x" * 65, "Ünïcode"])
def test_map_import_refuses_unsafe_names(name, tmp_path):
    rc, err = _cli(["map", "import", str(REPO / "tests" / "data" / "tiny.osm"), "--name", name,
                    "--out-dir", str(tmp_path)])
    assert rc == 2 and "--name: expected a map name" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["x" * 300 + ".toml", "no-such.toml", "."])
def test_unusable_scenario_paths_are_user_errors(name, tmp_path):
    rc, err = _cli(["run", str(tmp_path / name), "--out", str(tmp_path / "r")])
    assert rc == 2 and err.startswith("evacsim: error:") and "Traceback" not in err
    assert not (tmp_path / "r").exists()
