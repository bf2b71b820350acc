"""Run folders: checked early, written atomically, byte-identical for identical inputs."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis.figures
from analysis.metrics import FORMAT_VERSION, TABLE_FILES, read_table
from sim._errors import RunFolderError
from sim.i18n import LANGUAGES, catalogue, placeholders, t
from sim.runs import (
    MANIFEST_NONDETERMINISTIC,
    check_out_dir,
    default_out_dir,
    list_runs,
    write_run,
)


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Two households (3 persons), one shelter, one link: the smallest valid run."""
    hh = pd.DataFrame({
        "household": [0, 1], "zone": ["Z", "Z"], "persons": [2, 1], "vulnerable": [0, 1],
        "mode": ["car", "walk"], "home_node": [0, 1], "x_m": [0.0, 10.0], "y_m": [0.0, 0.0],
        "warned": [True, True], "t_warned_s": [0.0, 0.0], "complies": [1, 1],
        "t_depart_s": [60.0, 120.0], "t_arrive_s": [0.1 + 0.2, math.inf],
        "shelter": ["S1", None], "status": ["sheltered", "en_route"], "dead": [0, 0],
    })
    ts = pd.DataFrame({"t_s": [0.0, 60.0], "not_warned": [0, 0], "warned": [3, 1],
                       "staying": [0, 0], "en_route": [0, 0], "sheltered": [0, 2],
                       "stranded": [0, 0], "dead": [0, 0], "vehicles_moving": [0, 1],
                       "vehicles_waiting": [0, 0], "walkers_moving": [0, 0]})
    events = pd.DataFrame({"t_s": [0.0], "kind": ["warning"], "where": ["Z"], "who": [""],
                           "value": [np.nan], "message": ["预警发布, \"quoted\""]})
    shelters = pd.DataFrame({"shelter": ["S1"], "name": ["Park"], "kind": ["park"],
                             "x_m": [50.0], "y_m": [5.0], "lon": [1.52], "lat": [42.5],
                             "area_m2": [200.0], "capacity": [100], "occupancy": [2],
                             "peak_occupancy": [2], "overflow": [0], "t_full_s": [np.nan],
                             "turned_away": [0]})
    links = np.array([(0, "drive", 0, 1, 0.0, 0.0, 50.0, 5.0, 50.25, "primary", 6, 2, 2)],
                     dtype=[("link", "i4"), ("network", "U8"), ("from_node", "i4"),
                            ("to_node", "i4"), ("x0_m", "f8"), ("y0_m", "f8"),
                            ("x1_m", "f8"), ("y1_m", "f8"), ("length_m", "f8"),
                            ("highway", "U16"), ("storage", "i4"), ("peak_count", "i4"),
                            ("exits", "i4")])
    return {"households": hh, "timeseries": ts, "events": events, "shelters": shelters,
            "links": links}


def tiny_manifest(**changes) -> dict:
    manifest = {
        "evacsim_version": "0.1.0", "created_utc": "2025-01-01T00:00:00Z", "wall_s": 0.5,
        "seed": 3,
        "scenario": {"path": "s.toml", "sha256": "a" * 64, "spec": {"name": "s"}},
        "map": {"path": "m.graphml", "sha256": "b" * 64, "name": "m", "crs": "EPSG:32631"},
        "versions": {"python": "3.11"}, "tick_s": 1.0, "horizon_s": 600.0,
        "command": "evacsim run s.toml",
    }
    manifest.update(changes)
    return manifest


def folder_bytes(run_dir) -> dict[str, bytes]:
    return {p.relative_to(run_dir).as_posix(): p.read_bytes()
            for p in sorted(run_dir.rglob("*")) if p.is_file()}


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path / "runs" / "r", manifest=tiny_manifest(), tables=tiny_tables(),
                     figures=False)


def test_writes_every_file_with_checksums(run_dir):
    names = set(folder_bytes(run_dir))
    assert names == {*TABLE_FILES.values(), "manifest.json", "metrics.json"}
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION and manifest["seed"] == 3
    for file_name, digest in manifest["tables"].items():
        assert hashlib.sha256((run_dir / file_name).read_bytes()).hexdigest() == digest
    # Only the run folder itself is left in its parent: no temp folder.
    assert [p.name for p in run_dir.parent.iterdir()] == ["r"]


def test_floats_round_trip_and_missing_times_are_empty(run_dir):
    hh = read_table(run_dir, "households")
    assert hh.loc[0, "t_arrive_s"] == 0.1 + 0.2  # repr is exact: 0.30000000000000004
    assert np.isnan(hh.loc[1, "t_arrive_s"])  # inf (never) is written as an empty cell
    assert hh["warned"].tolist() == [1, 1]  # bools become 0/1
    assert hh["shelter"].tolist() == ["S1", ""]
    text = gzip.decompress((run_dir / "households.csv.gz").read_bytes()).decode("utf-8")
    assert text.splitlines()[2].endswith("120.0,,,en_route,0")
    assert read_table(run_dir, "events").loc[0, "message"] == "预警发布, \"quoted\""
    # gzip header: bytes 4-7 are the mtime, zero for reproducible files (RFC 1952 §2.3).
    assert (run_dir / "links.csv.gz").read_bytes()[4:8] == b"\0\0\0\0"


def test_identical_inputs_give_identical_bytes(tmp_path):
    a = write_run(tmp_path / "a", manifest=tiny_manifest(), tables=tiny_tables())
    b = write_run(tmp_path / "b", tables=tiny_tables(), manifest=tiny_manifest(
        created_utc="2031-06-06T06:06:06Z", wall_s=99.0, command="python -m sim.cli run"))
    files_a, files_b = folder_bytes(a), folder_bytes(b)
    assert set(files_a) == set(files_b)
    assert {"figures/map.png", "figures/arrivals.png"} <= set(files_a)
    for name in files_a:
        if name != "manifest.json":
            assert files_a[name] == files_b[name], name
    man_a, man_b = (json.loads(f["manifest.json"]) for f in (files_a, files_b))
    assert man_a != man_b
    for key in MANIFEST_NONDETERMINISTIC:
        del man_a[key], man_b[key]
    assert man_a == man_b


def test_existing_run_is_refused_without_force(run_dir):
    before = folder_bytes(run_dir)
    with pytest.raises(RunFolderError, match=r"exists; use --force"):
        check_out_dir(run_dir)
    with pytest.raises(RunFolderError, match=r"exists; use --force"):
        write_run(run_dir, manifest=tiny_manifest(seed=4), tables=tiny_tables(), figures=False)
    assert folder_bytes(run_dir) == before


def test_force_replaces_the_old_run(run_dir):
    (run_dir / "stale.txt").write_text("from the old run")
    out = write_run(run_dir, manifest=tiny_manifest(seed=4), tables=tiny_tables(),
                    force=True, figures=False)
    assert out == run_dir and not (run_dir / "stale.txt").exists()
    assert json.loads((run_dir / "manifest.json").read_text())["seed"] == 4
    assert [p.name for p in run_dir.parent.iterdir()] == ["r"]


def test_refuses_files_and_foreign_folders(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunFolderError, match="not a folder"):
        check_out_dir(tmp_path / "f", force=True)
    with pytest.raises(RunFolderError, match="not a folder"):
        check_out_dir(tmp_path / "f" / "sub")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(RunFolderError, match="not a run folder"):
        check_out_dir(tmp_path / "mine", force=True)
    (tmp_path / "empty").mkdir()
    assert check_out_dir(tmp_path / "empty", force=True) == tmp_path / "empty"
    assert check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"


def test_error_message_follows_language(run_dir):
    with pytest.raises(RunFolderError, match="已存在"):
        check_out_dir(run_dir, lang="zh")


def _boom(*args, **kwargs):
    raise RuntimeError("injected failure while drawing")


def test_failure_during_figures_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(analysis.figures, "plot_arrivals", _boom)
    with pytest.raises(RuntimeError, match="injected"):
        write_run(tmp_path / "r", manifest=tiny_manifest(), tables=tiny_tables())
    assert list(tmp_path.iterdir()) == []


def test_failure_with_force_keeps_the_old_run(run_dir, monkeypatch):
    before = folder_bytes(run_dir)
    monkeypatch.setattr(analysis.figures, "plot_arrivals", _boom)
    with pytest.raises(RuntimeError, match="injected"):
        write_run(run_dir, manifest=tiny_manifest(seed=9), tables=tiny_tables(), force=True)
    assert folder_bytes(run_dir) == before
    assert [p.name for p in run_dir.parent.iterdir()] == ["r"]


def test_os_error_while_writing_becomes_run_folder_error(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(analysis.figures, "plot_congestion_map", disk_full)
    with pytest.raises(RunFolderError, match="No space left.*nothing was left behind"):
        write_run(tmp_path / "r", manifest=tiny_manifest(), tables=tiny_tables())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("table", "column", "value", "match"), [
    ("households", "persons", None, r"households.csv.gz: persons: expected whole numbers"),
    ("households", "warned", 2, r"households.csv.gz: warned: expected 0/1, got \[2\]"),
    ("shelters", "x_m", "east", r"shelters.csv: x_m: expected numbers, got 'east'"),
])
def test_bad_cells_are_refused_before_any_folder_exists(tmp_path, table, column, value, match):
    tables = tiny_tables()
    tables[table] = tables[table].astype({column: object})
    tables[table].loc[0, column] = value
    with pytest.raises(RunFolderError, match=match):
        write_run(tmp_path / "r", manifest=tiny_manifest(), tables=tables)
    assert list(tmp_path.iterdir()) == []


def test_missing_tables_and_columns_are_named(tmp_path):
    tables = tiny_tables()
    del tables["events"]
    with pytest.raises(RunFolderError, match=r"missing \['events'\]"):
        write_run(tmp_path / "r", manifest=tiny_manifest(), tables=tables)
    tables = tiny_tables()
    tables["shelters"] = tables["shelters"].drop(columns=["capacity"])
    with pytest.raises(RunFolderError, match=r"shelters.csv: missing columns \['capacity'\]"):
        write_run(tmp_path / "r", manifest=tiny_manifest(), tables=tables)
    old = FORMAT_VERSION - 1  # a folder written before the current layout
    with pytest.raises(RunFolderError, match=f"format_version: expected {FORMAT_VERSION}, "
                                             f"got {old}"):
        write_run(tmp_path / "r", manifest=tiny_manifest(format_version=old),
                  tables=tiny_tables())
    with pytest.raises(RunFolderError, match="manifest: cannot be written as JSON"):
        write_run(tmp_path / "r", manifest=tiny_manifest(wall_s=math.nan), tables=tiny_tables())
    assert list(tmp_path.iterdir()) == []


def test_default_out_dir_and_list_runs(tmp_path, run_dir):
    assert default_out_dir("flood drill/北区", 7, root=tmp_path).name == "flood-drill-北区-seed7"
    assert default_out_dir("..", 0, root=tmp_path) == tmp_path / "run-seed0"
    with pytest.raises(ValueError, match="non-negative integer"):
        default_out_dir("x", -1)
    root = run_dir.parent
    (root / "not-a-run").mkdir()
    (root / ".r.tmp-1-abcd").mkdir()
    (root / ".r.tmp-1-abcd" / "manifest.json").write_text("{}")
    assert list_runs(root) == [run_dir]
    assert list_runs(tmp_path / "absent") == []


def test_catalogues_have_the_same_keys_and_placeholders():
    en, zh = catalogue("en"), catalogue("zh")
    assert set(en) == set(zh)
    for key in en:
        assert placeholders(en[key]) == placeholders(zh[key]), key
    assert LANGUAGES == ("en", "zh")


def test_t_formats_and_rejects_unknowns():
    assert t("unit.minutes", "en", value=90 / 60) == "1.5 min"
    assert t("run.exists", "zh", path="runs/x").startswith("runs/x 已存在")
    with pytest.raises(ValueError, match="expected one of en, zh, got 'fr'"):
        t("unit.minutes", "fr", value=1.0)
    with pytest.raises(ValueError, match="no message 'nope'"):
        t("nope", "en")
    with pytest.raises(ValueError, match="missing placeholder value 'value'"):
        t("unit.minutes", "en")


def _parts(*steps_there, here=()):
    """A figure_parts stand-in: ``here`` drawn by the caller, ``steps_there`` by the child."""
    return lambda run_dir, *, lang="en": (tuple(here), tuple(steps_there))


def test_a_figure_step_reading_a_file_never_written_first_is_refused(tmp_path, monkeypatch):
    from analysis.figures import FigureStep

    # metrics.json is written after the figures have started: no step may read it.
    step = FigureStep(lambda: [], ("links.csv.gz", "metrics.json"))
    monkeypatch.setattr(analysis.figures, "figure_parts", _parts(step))
    with pytest.raises(RunFolderError, match=r"read \['metrics.json'\], which are not written "
                                             r"before the figures"):
        write_run(tmp_path / "r", manifest=tiny_manifest(), tables=tiny_tables())
    assert list(tmp_path.iterdir()) == []


def test_a_step_starts_only_once_the_files_it_reads_are_complete(tmp_path, monkeypatch):
    """The child's first step runs before the households table exists (the writer formats
    it meanwhile); the next, which reads it, waits for the whole file and the manifest."""
    from analysis.figures import FigureStep
    from sim import runs
    from sim.background import can_fork
    from tests.required import skip_unless_ci

    if not can_fork():
        # Threads alive here (e.g. Dask's offload thread after the experiment tests): the
        # test runs alone in a fresh interpreter, where the figure process can be forked.
        if os.environ.get("EVACSIM_TEST_FRESH"):
            skip_unless_ci("threads alive even in a fresh interpreter: nothing is forked")
        node = f"{Path(__file__).resolve()}::{sys._getframe().f_code.co_name}"
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               node], capture_output=True, text=True, timeout=300,
                              cwd=Path(__file__).resolve().parents[1],
                              env=dict(os.environ, EVACSIM_TEST_FRESH="1"))
        assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr
        return
    encode = runs._encode_table
    seen = {}

    def held_encode(file_name, header, cells):
        if file_name == "households.csv.gz":  # after the fork: wait for the first step
            flag = next(tmp_path.glob(".r.tmp-*/figures/first.txt"), None)
            for _ in range(200):
                if flag is not None:
                    break
                time.sleep(0.05)
                flag = next(tmp_path.glob(".r.tmp-*/figures/first.txt"), None)
            seen["first_step_ran_before_households"] = flag is not None
        return encode(file_name, header, cells)

    def first():  # reads what is written before the fork
        folder = next(tmp_path.glob(".r.tmp-*"))
        out = folder / "figures" / "first.txt"
        out.parent.mkdir(exist_ok=True)
        out.write_text(str((folder / "households.csv.gz").exists()))
        return [out]

    def second():
        folder = next(tmp_path.glob(".r.tmp-*"))
        out = folder / "figures" / "second.txt"
        hh = read_table(folder, "households")  # the whole file, or a parse error
        manifest = json.loads((folder / "manifest.json").read_text())
        out.write_text(f"{len(hh)} {manifest['tables']['households.csv.gz'][:8]}")
        return [out]

    monkeypatch.setattr(runs, "_encode_table", held_encode)
    monkeypatch.setattr(analysis.figures, "figure_parts", _parts(
        FigureStep(first, ("links.csv.gz", "hazard/")),
        FigureStep(second, ("households.csv.gz", "manifest.json"))))
    out = write_run(tmp_path / "r", manifest=tiny_manifest(), tables=tiny_tables())
    assert seen == {"first_step_ran_before_households": True}
    assert (out / "figures" / "first.txt").read_text() == "False"
    digest = hashlib.sha256((out / "households.csv.gz").read_bytes()).hexdigest()
    assert (out / "figures" / "second.txt").read_text() == f"2 {digest[:8]}"


def test_a_step_whose_file_is_missing_is_refused(tmp_path):
    from analysis.figures import FigureStep
    from sim.background import Gate
    from sim.runs import _in_order

    step = FigureStep(lambda: [], ("links.csv.gz",))
    with Gate() as gate:
        files = frozenset({"links.csv.gz"})
        draw = _in_order((step,), tmp_path, files, files, gate)
        with pytest.raises(RunFolderError, match=r"read \['links.csv.gz'\], which are not "
                                                 r"written yet"):
            draw()
