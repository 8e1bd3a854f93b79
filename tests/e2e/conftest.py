"""A real Streamlit server and Debian's Chromium, as streamlit's own e2e_playwright/conftest.py does it."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
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


def _healthy(port: int, limit: float = 120) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return True
        except OSError:
            time.sleep(0.3)
    return False


def start_server(log):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    return server, port


def serve(log):
    server, port = start_server(log)
    try:
        assert _healthy(port), log.read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
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
    p.close()


def settle(page, timeout=60_000):
    """Wait until the script has stopped running (after a short pause: a click's rerun may not have begun yet)."""
    page.wait_for_timeout(150)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def assert_no_exception(page):
    assert page.get_by_test_id("stException").count() == 0
