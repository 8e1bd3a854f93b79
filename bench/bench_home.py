"""Chromium: seconds from requesting the home page to a trained model's gates on screen, on a warm server.

    python bench/bench_home.py [--loads 5]

Starts its own server, loads the page once to warm it (imports, bundled model file in the OS cache), then opens the
page N times in fresh browser contexts (new sessions, as new visitors) and times until the cell diagram's words and
its chart are visible. Goal: <= 3 s.
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from conftest import CHROMIUM, CHROMIUM_ARGS, _healthy, start_server  # noqa: E402


def load(browser, url) -> float:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_text(re.compile("The forget gate keeps")).wait_for(timeout=60_000)
    page.get_by_test_id("stVegaLiteChart").nth(1).wait_for(state="visible", timeout=60_000)
    seconds = time.perf_counter() - t0
    context.close()
    return seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loads", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    server, port = start_server(log)
    try:
        assert _healthy(port), log.read_text()
        url = f"http://127.0.0.1:{port}/"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            cold = load(browser, url)
            times = [load(browser, url) for _ in range(args.loads)]
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
    print(f"home page -> gates visible: first (cold server) {cold:.2f} s; warm median {statistics.median(times):.2f} s,"
          f" max {max(times):.2f} s over {len(times)} new sessions (goal <= 3 s warm)")


if __name__ == "__main__":
    main()
