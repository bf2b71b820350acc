"""Results by area, link loads over time, the HTML report (in a real browser), animation.

One 20,000-person generated district run (3 h horizon) is shared by the module. Reference
numbers are recomputed here from the run's own files with plain pandas/numpy, never with
the functions under test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim._errors import RunFolderError

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def run(small_district, cache, tmp_path_factory) -> Path:
    from sim import results, runs
    from sim.model import EvacuationModel
    from sim.scenario import load_scenario

    sc = load_scenario(small_district / "small.toml", overrides={"time.horizon_h": 3.0})
    model = EvacuationModel(scenario=sc, cache_dir=cache)
    model.run()
    out = tmp_path_factory.mktemp("seeit") / "run"
    return runs.write_run(out, manifest=results.manifest(model), tables=results.tables(model),
                          extra=results.extra(model), figures=False)


@pytest.fixture(scope="module")
def metrics(run) -> dict:
    return json.loads((run / "metrics.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def households(run) -> pd.DataFrame:
    return pd.read_csv(run / "households.csv.gz", keep_default_na=False,
                       na_values={"t_depart_s": [""], "t_arrive_s": [""]},
                       dtype={"zone": str, "shelter": str})


# ------------------------------------------------------------------ part 1: areas
def test_area_persons_add_up_to_the_district(metrics, households):
    by = metrics["areas"]["by_zone"]
    assert set(by) == set(households["zone"])
    assert len(by) >= 2  # the generated district has sub-districts and a town
    assert sum(a["persons"] for a in by.values()) == metrics["population"]["persons"]
    assert sum(a["households"] for a in by.values()) == metrics["population"]["households"]
    assert sum(a["evacuees"] for a in by.values()) == metrics["evacuees"]["persons"]
    assert sum(a["arrived"] for a in by.values()) == metrics["evacuees"]["arrived"]
    ns = sum(a["not_sheltered"]["persons"] for a in by.values())
    assert ns == metrics["not_sheltered"]["persons"]
    for cause in ("not_warned", "staying", "stranded", "dead"):
        total = metrics["dead"] if cause == "dead" else \
            metrics["not_sheltered"]["by_status"][cause]
        assert sum(a["not_sheltered"]["by_cause"][cause] for a in by.values()) == total


def _reference_ete(rows: pd.DataFrame, pct: int) -> float | None:
    """NUREG/CR-7002 ETE: arrival time that brings arrived persons to pct % of evacuees."""
    dep = rows[np.isfinite(rows["t_depart_s"])]
    total = int(dep["persons"].sum())
    arrive = dep["t_arrive_s"].fillna(np.inf).to_numpy()
    order = np.argsort(arrive, kind="stable")
    cum = np.cumsum(dep["persons"].to_numpy()[order])
    hit = np.flatnonzero(cum * 100 >= pct * total)
    if total == 0 or hit.size == 0 or not np.isfinite(arrive[order][hit[0]]):
        return None
    return float(arrive[order][hit[0]])


def test_area_ete_equals_the_overall_ete_on_that_areas_households(metrics, households):
    reached = 0
    for zone, area in metrics["areas"]["by_zone"].items():
        rows = households[households["zone"] == zone]
        for pct in (50, 90, 95, 100):
            expected = _reference_ete(rows, pct)
            assert area["ete"][str(pct)]["t_s"] == expected, (zone, pct)
            reached += expected is not None
    assert reached >= 2  # some shares were reached, so the comparison was not all None
    # and the district's own ETE is the same function of all rows
    assert metrics["ete"]["all"]["90"]["t_s"] == _reference_ete(households, 90)


def test_shelters_csv_names_the_areas_that_filled_each_shelter(run, households):
    sh = pd.read_csv(run / "shelters.csv", keep_default_na=False, dtype={"shelter": str})
    arrived = households[np.isfinite(households["t_arrive_s"]) & (households["shelter"] != "")]
    expected = arrived.groupby(["shelter", "zone"])["persons"].sum()
    seen = 0
    for r in sh.itertuples():
        parts = [p.rsplit(": ", 1) for p in r.sources.split("; ")] if r.sources else []
        got = {z: int(n) for z, n in parts}
        want = expected[r.shelter].to_dict() if r.shelter in expected.index.get_level_values(0) \
            else {}
        assert got == want
        counts = [int(n) for _, n in parts]
        assert counts == sorted(counts, reverse=True)
        seen += len(got)
    assert seen > 0


# ------------------------------------------------------------------ part 2: link loads
def test_link_loads_are_sampled_with_the_timeseries_and_conserve_vehicles(run):
    with np.load(run / "traffic" / "link_loads.npz") as z:
        t_s, count, queue = z["t_s"], z["count"], z["queue"]
    ts = pd.read_csv(run / "timeseries.csv")
    links = pd.read_csv(run / "links.csv.gz")
    drive = links[links["network"] == "drive"].sort_values("link")
    assert count.dtype in (np.uint16, np.uint32) and queue.dtype == count.dtype
    assert count.shape == queue.shape == (len(ts), len(drive))
    np.testing.assert_array_equal(t_s, ts["t_s"].to_numpy())
    # every moving vehicle is on exactly one link (no plan: the fleet is the residents')
    np.testing.assert_array_equal(count.sum(axis=1), ts["vehicles_moving"].to_numpy())
    assert np.all(count <= drive["storage"].to_numpy()[None, :])  # storage bound
    assert np.all(queue <= count) and queue.sum() > 0
    assert np.all(count.max(axis=0) <= drive["peak_count"].to_numpy())  # samples <= peak


def test_bottlenecks_are_the_links_with_most_queue_time(run, metrics):
    with np.load(run / "traffic" / "link_loads.npz") as z:
        t_s, queue = z["t_s"], z["queue"].astype(np.int64)
    # delay = time in the queue: left Riemann sum of the sampled queue, vehicle-hours
    per_link = (np.diff(t_s)[:, None] * queue[:-1]).sum(axis=0) / 3600.0
    tr = metrics["traffic"]
    assert tr["samples"] == len(t_s) and tr["sample_s"] == 60.0
    assert tr["delay_veh_h"] == pytest.approx(per_link.sum(), rel=1e-12)
    top = tr["bottlenecks"]
    assert 0 < len(top) <= 10
    assert [b["link"] for b in top] == list(np.argsort(-per_link, kind="stable")[:len(top)])
    for b in top:
        assert b["delay_veh_h"] == pytest.approx(per_link[b["link"]], rel=1e-12)
        assert b["peak_queue"] == queue[:, b["link"]].max()


# ------------------------------------------------------------------ folder checks
def test_failed_runs_and_other_versions_are_refused_clearly(run, tmp_path):
    from analysis.report_html import render_report
    from analysis.runfolder import check_run_folder

    check_run_folder(run)  # the good one passes
    unfinished = tmp_path / ".run.tmp-123-abcd1234"
    shutil.copytree(run, unfinished)
    with pytest.raises(RunFolderError, match="unfinished folder of a run that failed"):
        render_report(unfinished)
    no_metrics = tmp_path / "no-metrics"
    shutil.copytree(run, no_metrics)
    (no_metrics / "metrics.json").unlink()
    with pytest.raises(RunFolderError, match="missing metrics.json"):
        render_report(no_metrics)
    no_manifest = tmp_path / "no-manifest"
    shutil.copytree(run, no_manifest)
    (no_manifest / "manifest.json").unlink()
    with pytest.raises(RunFolderError, match="manifest.json: missing"):
        render_report(no_manifest)
    old = tmp_path / "old"
    shutil.copytree(run, old)
    man = json.loads((old / "manifest.json").read_text())
    man["format_version"] = 2
    (old / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(RunFolderError, match="format_version: expected 3, got 2"):
        render_report(old)
    changed = tmp_path / "changed"
    shutil.copytree(run, changed)
    (changed / "shelters.csv").write_text("shelter\n", encoding="utf-8")
    with pytest.raises(RunFolderError, match="shelters.csv: expected the sha256"):
        render_report(changed)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "animate", str(old), "-o",
                           str(tmp_path / "a.gif")], capture_output=True, text=True, env=env,
                          cwd=tmp_path)
    assert proc.returncode == 2 and "format_version: expected 3" in proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ part 3: report
def test_assumption_sources_cover_every_default_scenario_field():
    from analysis.report_html.assumptions import assumption_rows
    from sim.scenario import default_scenario_path, load_scenario

    rows = assumption_rows(load_scenario(default_scenario_path()).to_dict())
    assert len(rows) > 20
    assert [r["field"] for r in rows if not r["source"]] == []
    flagged = {r["field"] for r in rows if r["assumption"]}
    assert "traffic.jam_spacing_m" in flagged and "walking.speed_mean_mps" not in flagged


@pytest.fixture(scope="module")
def report(run) -> Path:
    from analysis.report_html import write_report

    return write_report(run, lang="zh")


def test_report_is_self_contained_and_escaped(report, run):
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert 'src="data:image/png;base64,' in html and "@media print" in html
    assert "疏散报告" in html  # zh
    # every value is escaped: a zone name with markup cannot inject any
    from analysis.report_html.page import table

    assert "<b>" not in table(["a"], [["<b>x</b>"]])
    with pytest.raises(RunFolderError, match="exists"):
        from analysis.report_html import write_report

        write_report(run, lang="en")


def test_report_in_a_real_headless_browser(report):
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    requests, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()

            def route(r):
                if r.request.url.startswith(("file:", "data:")):
                    r.continue_()
                else:
                    requests.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report.as_uri(), wait_until="load")
            assert page.locator("table.targets").is_visible()
            assert page.locator("table.targets tbody tr").count() >= 3
            n_fig = page.locator("figure img").count()
            widths = page.evaluate("Array.from(document.images).map(i => i.complete && "
                                   "i.naturalWidth)")
        finally:
            browser.close()
    assert requests == []
    assert errors == []
    assert n_fig >= 5 and len(widths) == n_fig
    assert all(w and w > 0 for w in widths), widths


def test_report_and_animate_commands(run, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=300)

    out = tmp_path / "cmp.html"
    proc = cli("report", str(run), "--compare", str(run), "-o", str(out), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert "Comparison of two runs" in html and html.count("Evacuation time by area") == 0
    assert "+0.0" in html  # a run against itself differs by nothing
    gif = tmp_path / "evac.gif"
    proc = cli("animate", str(run), "-o", str(gif), "--max-frames", "6")
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames == 6 or im.n_frames == 5  # ceil-thinned samples
    if shutil.which("ffmpeg"):
        mp4 = tmp_path / "evac.mp4"
        proc = cli("animate", str(run), "-o", str(mp4), "--max-frames", "4", "--lang", "zh")
        assert proc.returncode == 0, proc.stderr
        assert mp4.read_bytes()[4:8] == b"ftyp"


def test_mp4_without_ffmpeg_is_a_clear_error(run, tmp_path, monkeypatch):
    import analysis.animate as anim

    monkeypatch.setattr(anim.shutil, "which", lambda name: None)
    with pytest.raises(RunFolderError, match="expected ffmpeg for an .mp4"):
        anim.animate_run(run, tmp_path / "x.mp4")
    with pytest.raises(RunFolderError, match="expected a file name ending in .mp4 or .gif"):
        anim.animate_run(run, tmp_path / "x.avi")


# ------------------------------------------------------------------ delay, analytically
@pytest.mark.parametrize(("dt", "every"), [(1.0, 1), (2.0, 1), (1.0, 5)])
def test_sampled_delay_matches_the_bottleneck_derivation(dt, every):
    # The bottleneck of tests/verification/test_queue.py: N vehicles released at t = 0 on
    # link 0 (C0 = 10 veh/s) -> link 1 (C = 0.5 veh/s) -> link 2 (C2 = 10 veh/s), storage N.
    # Vehicle i (0-based) is ready to leave link 0 at fft0 and leaves at fft0 + i/C0:
    # delay i/C0. It enters link 1 then, is ready at T1 + i/C0 (T1 = fft0 + fft1) and
    # leaves at T1 + i/C: delay i (1/C - 1/C0). Link 2 discharges faster than it fills:
    # no delay. Sums: 0.1 * N(N-1)/2 and 1.9 * N(N-1)/2 vehicle-seconds. Sampling every
    # s = every*dt seconds counts each vehicle's queue interval to within s.
    from analysis.linkloads import link_delay_veh_h
    from sim.core import queue as Q
    from sim.linkloads import LinkLoadRecorder
    from tests.verification.test_queue import line, world

    n, cap = 40, 0.5
    lengths, speeds = np.array([100.0, 200.0, 150.0]), np.array([10.0, 10.0, 15.0])
    links = line(lengths, speeds, np.array([10.0, cap, 10.0]), np.full(3, n))
    tables, target, so, room = world(links, 4, [3], 10 * n)
    fleet = Q.new_fleet(n, origin=np.zeros(n))
    queues = Q.new_queues(links, n)
    Q.release(fleet, queues, np.arange(n), 0.0)
    rec = LinkLoadRecorder(links)
    rec.sample(0.0, queues, fleet)
    n_ticks = int((lengths / speeds).sum() / dt + n / cap / dt) + 5 * every
    for k in range(n_ticks):
        Q.step_vehicles(links, queues, fleet, tables, target, so, room, np.ones(3), k * dt, dt)
        if (k + 1) % every == 0:
            rec.sample((k + 1) * dt, queues, fleet)
    assert np.all(fleet.state == Q.ARRIVED)
    got_s = link_delay_veh_h(rec.arrays()) * 3600.0
    pairs = n * (n - 1) / 2
    exact_s = np.array([pairs / 10.0, pairs * (1 / cap - 1 / 10.0), 0.0])
    assert np.all(np.abs(got_s - exact_s) <= n * dt * every + 1e-6), (got_s, exact_s)
    assert got_s[2] == 0.0 and got_s[1] > 0.9 * exact_s[1]


def test_plan_fields_find_their_sources_only_in_the_unchanged_plan_file(tmp_path):
    import hashlib

    from analysis.report_html.assumptions import plan_rows

    plan = tmp_path / "plan.toml"
    shutil.copy(REPO / "scenarios" / "plans" / "default.toml", plan)
    man = {"plan": {"path": str(plan), "sha256": hashlib.sha256(plan.read_bytes()).hexdigest()}}
    status, rows = plan_rows(man)
    assert status == "ok" and len(rows) > 20
    assert [r["field"] for r in rows if not r["source"]] == []
    flagged = {r["field"] for r in rows if r["assumption"]}
    assert "dispatch.delay_s" in flagged and "incidents.trapped.work_min" in flagged
    assert "targets.relief_h" not in flagged
    assert plan_rows({}) == ("none", [])
    plan.write_text(plan.read_text() + "\n", encoding="utf-8")
    assert plan_rows(man) == ("changed", [])
    plan.unlink()
    assert plan_rows(man) == ("missing", [])
