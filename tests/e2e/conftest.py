"""A real Streamlit server and Debian's Chromium, as streamlit's own e2e_playwright/conftest.py does it."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(server: subprocess.Popen, port: int, limit: float = 120) -> bool:
    """Ask the health endpoint until it answers; between tries wait on the server process itself, so a server that
    died is reported at once instead of after the limit."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return True
        except OSError:
            try:
                server.wait(timeout=0.3)
                return False  # it exited
            except subprocess.TimeoutExpired:
                pass
    return False


def start_server(log, script: Path = ROOT / "app.py", port: int | None = None, env: dict | None = None):
    """`streamlit run script` on `port` (a free one if None), from the script's folder, with `env` added to the
    environment: returns (process, port)."""
    port = port or _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script.name, "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=script.parent, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **(env or {})})
    return server, port


SERVERS: list = []  # running servers' pids, for a stack dump when a test fails


@contextmanager
def app_server(log):
    """The app on a free port, healthy: yields (process, port); stopped on leaving (the tests and the benches)."""
    server, port = start_server(log)
    SERVERS.append(server.pid)
    try:
        assert _healthy(server, port), log.read_text()
        yield server, port
    finally:
        SERVERS.remove(server.pid)
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


def serve(log):
    with app_server(log) as (_, port):
        yield f"http://127.0.0.1:{port}"
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    yield from serve(tmp_path_factory.mktemp("server") / "streamlit.log")


@pytest.fixture
def fresh_app_url(tmp_path_factory):
    """A server that has served nothing yet: the test's request is its first."""
    yield from serve(tmp_path_factory.mktemp("fresh_server") / "streamlit.log")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture
def page(browser, request, tmp_path_factory):
    p = browser.new_page(viewport={"width": 1440, "height": 1000})
    yield p
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        shot = tmp_path_factory.mktemp("failed") / f"{request.node.name}.png"
        p.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failed page: {shot}")
        if shutil.which("py-spy"):  # where the server's threads are, if it is stuck (py-spy is optional)
            for pid in SERVERS:
                dump = subprocess.run(["py-spy", "dump", "--pid", str(pid)], capture_output=True, text=True)
                print(dump.stdout[-6000:])
    p.close()


def settle(page, timeout=60_000):
    """Wait until the script has stopped running (after a short pause: a click's rerun may not have begun yet)."""
    page.wait_for_timeout(150)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def sidebar_link(page, label: str):
    """The sidebar's link to a page (ui/common.nav draws the list, "Home" first)."""
    return page.locator(".st-key-nav").get_by_text(label, exact=True)


def assert_no_exception(page):
    assert page.get_by_test_id("stException").count() == 0


# --- the browser-side cursor (lstm_demo/ui/cursor.js) ----------------------------------------------------------------

def bus_step(page) -> int:
    """The step every view is drawn at (the cursor's shared element)."""
    return int(page.evaluate("() => document.body.value ?? '-1'"))


def slider_step(page) -> int:
    return int(page.get_by_label("Time step", exact=True).input_value())


def count_script_runs(page) -> None:
    """From now on, window.__runs counts every script run the page starts (the app's script-state attribute)."""
    page.evaluate("""() => { window.__runs = 0; const app = document.querySelector('[data-testid=stApp]');
        window.__runsObserver?.disconnect();
        window.__runsObserver = new MutationObserver(() => {
            if (app.dataset.testScriptState === 'running') window.__runs++; });
        window.__runsObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }""")


def script_runs(page) -> int:
    return page.evaluate("() => window.__runs")


def equations_at(page, step: int, timeout=10_000) -> None:
    """Wait until the equations view shows `step` (SVG text drawn in the browser)."""
    page.wait_for_function("""(n) => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))
        .some(t => t.textContent.startsWith('Equations for ') && t.textContent.endsWith('at step ' + n))""",
                           arg=step, timeout=timeout)


def chart_drawings(page) -> list[str]:
    """The drawn SVG of every chart on the page that follows the time cursor, in order (the training-step panel's
    loss curve does not: it marks a training step, not a time step)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))
        .map(c => (c.querySelector('svg') || {}).innerHTML || '').filter(svg => !svg.includes('Loss (log scale)'))""")


def drawn_with(page, *words, timeout=30_000) -> None:
    """Wait until the page's charts, together, draw every one of words (a chart draws its axes before Streamlit has
    handed it its data: a facet's headers or a legend's entries come a moment later)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    missing = """(words) => { const svg = Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] svg'))
        .map(s => s.innerHTML).join(' '); return words.filter(w => !svg.includes(w)); }"""
    try:
        page.wait_for_function(f"(words) => ({missing})(words).length === 0", arg=list(words), timeout=timeout)
    except PlaywrightTimeout:
        pytest.fail(f"the charts never drew {page.evaluate(missing, list(words))}")


def two_frames(page) -> None:
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def url_step(page):
    from urllib.parse import parse_qs, urlparse
    return parse_qs(urlparse(page.url).query).get("step", [None])[0]


def charts_drawn(page, timeout=30_000) -> None:
    """Wait until the script run has finished and every chart it sent has drawn its SVG (charts embed asynchronously
    after a script run; while it runs, the charts further down have not arrived yet)."""
    page.wait_for_function("""() => { const charts = document.querySelectorAll('[data-testid=stVegaLiteChart]');
        return document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]') && charts.length > 0
            && Array.from(charts).every(c => c.querySelector('svg g.mark-group, canvas')); }""", timeout=timeout)
