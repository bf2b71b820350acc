"""`evacsim view` in a real headless browser (Debian's chromium driven by Playwright).

The server runs in a subprocess on a free port on a 20,000-person generated town; the
browser may reach only that server (every other request is aborted), so the page must
load offline. Checks: the page loads, Step advances the model clock, the map and charts
render (images with many colours), a changed parameter plus Reset rebuilds the model.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from tests.required import skip_unless_ci

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
CLOCK = re.compile(r"Time (\d\d):(\d\d):(\d\d) \(step (\d+),")


def _needs_browser():
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        skip_unless_ci(f"browser test: {CHROMIUM} is absent (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_unless_ci("browser test: the playwright Python package is absent")
    from sim.view.assets import assets_dir, missing_assets

    missing = missing_assets()
    if missing:
        skip_unless_ci(f"browser test: the view's assets are absent from {assets_dir()} "
                       f"({', '.join(missing)}); run python -m sim.view.assets")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def view_url(small_district, cache, tmp_path_factory):
    """`evacsim view` serving the small town; always stopped at the end."""
    _needs_browser()
    port = _free_port()
    log = tmp_path_factory.mktemp("view") / "server.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.cli", "view", str(small_district / "small.toml"),
             "--no-browser", "--port", str(port), "--cache-dir", str(cache)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"evacsim view exited ({proc.returncode}): {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"evacsim view did not answer within 90 s: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture
def page(view_url, tmp_path):
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def only_localhost(route):
        parts = urlsplit(route.request.url)
        if parts.scheme in ("blob", "data") or parts.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1000})
        try:
            ctx.set_default_timeout(60_000)
            pg = ctx.new_page()
            errors: list[str] = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.route("**/*", only_localhost)
            pg.goto(view_url)
            pg.locator(".evacsim-clock").wait_for()
            yield pg
            assert not errors, errors
            assert not blocked, f"the page asked for the network: {blocked[:5]}"
        finally:
            ctx.close()


def _clock(pg) -> tuple[int, int]:
    """(model seconds, step) read from the displayed clock."""
    m = CLOCK.search(pg.locator(".evacsim-clock").inner_text())
    assert m, pg.locator(".evacsim-clock").inner_text()
    h, mi, s, step = (int(g) for g in m.groups())
    return 3600 * h + 60 * mi + s, step


def _wait_clock(pg, predicate, what: str) -> tuple[int, int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = _clock(pg)
        if predicate(now):
            return now
        pg.wait_for_timeout(250)  # lets Playwright serve the route handler meanwhile
    pytest.fail(f"{what}: clock stayed at {_clock(pg)}")


def _colours(png: bytes) -> tuple[int, float]:
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    distinct = len(np.unique(rgb.view([("", rgb.dtype)] * 3)))
    not_white = float(np.mean(rgb.min(axis=1) < 245))
    return distinct, not_white


def test_page_steps_draws_and_resets(page):
    pg = page
    assert _clock(pg) == (0, 0)
    assert pg.get_by_text("20000 persons").count() == 1

    pg.get_by_role("button", name="Step").click()
    t1, step1 = _wait_clock(pg, lambda c: c[1] >= 1, "Step")
    assert step1 == 1 and t1 == 60  # one frame = 60 s of model time (12 ticks of 5 s)
    pg.get_by_role("button", name="Step").click()
    assert _wait_clock(pg, lambda c: c[1] >= 2, "second Step") == (120, 2)

    # The map and the charts: two matplotlib images, each drawn (many colours, not blank).
    images = pg.locator("img")
    assert images.count() >= 2
    for i in range(2):
        distinct, inked = _colours(images.nth(i).screenshot())
        assert distinct > 50 and inked > 0.02, (i, distinct, inked)

    # A planner's parameter: warning coverage one step (0.05) down, then Reset.
    text = pg.get_by_text(re.compile(r"^Parameters:")).inner_text()
    assert "warning coverage 0.90" in text
    sliders = pg.get_by_role("slider")
    label = [sliders.nth(i).evaluate("e => e.closest('.v-input').innerText")
             for i in range(sliders.count())]
    idx = next(i for i, s in enumerate(label) if "Warning coverage" in s)
    sliders.nth(idx).focus()
    sliders.nth(idx).press("ArrowLeft")
    assert sliders.nth(idx).get_attribute("aria-valuenow") == "0.85"
    pg.get_by_role("button", name="Reset").click()
    _wait_clock(pg, lambda c: c == (0, 0), "Reset")
    pg.get_by_text(re.compile(r"^Parameters: warning coverage 0\.85")).wait_for()
    # The rebuilt model runs: a Step advances its clock again.
    pg.get_by_role("button", name="Step").click()
    assert _wait_clock(pg, lambda c: c[1] >= 1, "Step after Reset") == (60, 1)


# --- the live model and its figures, in process ------------------------------------------


@pytest.fixture(scope="module")
def live(small_district, cache):
    from sim.view.live import LiveModel

    return LiveModel(scenario_path=small_district / "small.toml", cache_dir=cache,
                     warning_coverage=0.5, compliance=0.8, car_ownership=0.3,
                     warning_start_min=5.0, frame_s=60.0)


def test_parameters_reach_the_scenario_and_a_frame_is_whole_ticks(live):
    sc = live.sim.scenario
    assert sc.warning.coverage == 0.5 and sc.warning.start_min == 5.0
    assert sc.departure.noncompliance == pytest.approx(0.2)
    assert sc.population.car_ownership == 0.3
    assert live.ticks_per_frame == 60.0 / live.sim.tick_s
    before = live.sim.steps
    live.step()
    assert live.sim.steps - before == live.ticks_per_frame and live.t_s == 60.0
    df = live.datacollector.get_model_vars_dataframe()
    assert len(df) == 2 and df["t_h"].iloc[-1] == pytest.approx(60.0 / 3600.0)
    from sim.model import STATES

    assert (df[list(STATES)].sum(axis=1) == live.sim.pop.n_persons).all()


def test_map_draws_aggregates_that_hold_everyone_not_yet_safe(live):
    from sim.population import DEAD, SHELTERED
    from sim.view.draw import ChartsFigure, MapFigure, png_bytes

    live.step()
    fig = MapFigure(live)
    # One segment per drive link and one marker per shelter node, whatever the population.
    drawn = sum(np.isfinite(line.get_xdata()).sum() // 2 for line in fig.road_lines)
    assert drawn == live.sim.net.drive.n_links
    assert len(fig.shelters.get_offsets()) == len(np.unique(live.sim.shelter_node))
    counts = live.person_counts()
    density = np.nansum(np.asarray(fig.density.get_array()))
    assert density == live.sim.pop.n_persons - counts[SHELTERED] - counts[DEAD] > 0
    load = live.sim.queues.count[: len(fig.storage)] / fig.storage
    assert (fig.road_class == np.minimum((load * 10).astype(int), 9)).all()
    for f in (fig, ChartsFigure(live)):
        frame = f.png()  # background + moving artists
        distinct, inked = _colours(frame)
        assert distinct > 50 and inked > 0.02
        # A frame shows the same picture as a full draw of the figure.
        from PIL import Image

        full = np.asarray(Image.open(io.BytesIO(png_bytes(f.fig))).convert("RGB"), float)
        blit = np.asarray(Image.open(io.BytesIO(frame)).convert("RGB"), float)
        assert full.shape == blit.shape and np.mean(np.abs(full - blit)) < 1.0
    # Chinese labels draw with the CJK font (a missing glyph would warn: an error here).
    for cls in (MapFigure, ChartsFigure):
        assert _colours(cls(live, lang="zh").png())[0] > 50


def test_hazard_size_scales_each_hazard():
    import math

    from sim._errors import ScenarioError
    from sim.scenario import load_scenario
    from sim.view.live import scaled_hazards

    flood = load_scenario(REPO / "scenarios" / "flash-flood.toml").hazards
    (f2,) = scaled_hazards(flood, 2.0)
    for a, b in zip(flood[0].inflows, f2.inflows, strict=True):
        assert [q * 2 for _, q in a.hydrograph] == [q for _, q in b.hydrograph]
    chem = load_scenario(REPO / "scenarios" / "chlorine-release.toml").hazards
    (c2,) = scaled_hazards(chem, 0.5)
    for name in ("rate_kg_s", "mass_kg"):
        if getattr(chem[0], name, None) is not None:
            assert getattr(c2, name) == getattr(chem[0], name) * 0.5
    quake = load_scenario(REPO / "scenarios" / "earthquake.toml").hazards
    (q2,) = scaled_hazards(quake, 10.0 ** 1.5)  # 31.6 x the moment = one magnitude unit
    assert q2.magnitude == pytest.approx(quake[0].magnitude + 1.0)
    assert scaled_hazards(quake, 1.0)[0] is quake[0]
    with pytest.raises(ScenarioError, match="hazard_scale: expected 0.25 to 40.0"):
        scaled_hazards(quake, 80.0)
    assert math.isfinite(q2.magnitude)


def test_view_refuses_bad_input_in_one_line(tmp_path, capsys):
    """A missing scenario and a busy port end before any server starts (exit 2)."""
    from sim.cli import main

    assert main(["view", str(tmp_path / "no.toml"), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "no.toml" in err and err.strip().count("\n") == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["view", "--no-browser", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"--port {port}" in err and err.strip().count("\n") == 0
