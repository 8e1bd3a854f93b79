"""Chromium: seconds until a trained model's gates are on screen — from `streamlit run` (cold) and for new visitors
of a warm server.

    python bench/bench_home.py [--loads 5] [--path "/?scene=10"]

Cold: the clock starts when the server process is launched; the page is requested as soon as the health check
answers, and stops when the cell diagram's words and the equations at the scene's step are drawn. Warm: the same
page opened N more times in fresh browser contexts (new sessions, as new visitors). Goals (issue 10): cold <= 4 s,
warm <= 1.5 s. --path opens another scene: "/?scene=10" is the ConvLSTM's gate maps (issue 12: visible within the home
page's time goal; the maps' images are waited for too).
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from conftest import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402


def load(browser, url) -> float:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_text(re.compile("The forget gate keeps")).wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"^Equations for (unit u\d+|ch \d+, pixel \(\d+, \d+\)) at step \d+$")).wait_for(
        timeout=60_000)
    if "scene=10" in url:  # the ConvLSTM scene: its gate maps drawn as images
        page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))
            .some(c => (c.querySelector('svg') || {}).innerHTML?.includes('Gates and states as maps')
                       && c.querySelectorAll('image').length > 0)""", timeout=60_000)
    seconds = time.perf_counter() - t0
    context.close()
    return seconds


def healthy_now(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok"
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--path", default="/")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        log = Path(tempfile.mkdtemp()) / "streamlit.log"
        t0 = time.perf_counter()
        server, port = start_server(log)  # the browser is already up: a visitor's browser is not part of the start
        try:
            while not healthy_now(port):
                time.sleep(0.05)
            started = time.perf_counter() - t0
            cold = started + load(browser, f"http://127.0.0.1:{port}{args.path}")
            time.sleep(20)  # after the first screen the server imports torch and draws the default model's Step-through
            # view in the background (ui.common.warm_up: ~7 s of CPU here); warm visitors come after it
            times = [load(browser, f"http://127.0.0.1:{port}{args.path}") for _ in range(args.loads)]
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=20)
        browser.close()
    print(f"home page {args.path} -> a trained model's gates on screen: cold (streamlit run -> gates) {cold:.2f} s, of which "
          f"{started:.2f} s server start; warm new visitor median {statistics.median(times):.2f} s, max "
          f"{max(times):.2f} s over {len(times)} sessions (goals: cold <= 4 s, warm <= 1.5 s)")


if __name__ == "__main__":
    main()
