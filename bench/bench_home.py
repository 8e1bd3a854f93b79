"""Chromium: seconds until a trained model's gates are on screen — from `streamlit run` (cold) and for new visitors
of a warm server — next to the floor measured in the same run.

    python bench/bench_home.py [--loads 5] [--path "/?scene=10"]

Cold: the clock starts when the server process is launched; the page is requested as soon as the health check
answers, and stops when the cell diagram's words and the equations at the scene's step are drawn. Warm: the same
page opened N more times in fresh browser contexts (new sessions, as new visitors). Goals (issue 10): cold <= 4 s,
warm <= 1.5 s. --path opens another scene: "/?scene=10" is the ConvLSTM's gate maps (issue 12: visible within the home
page's time goal; the maps' images are waited for too).

The floor: the same two measurements of the smallest Streamlit page that shows a chart — a title, a line of text
and one two-bar Vega-Lite chart, no import of this app — served by the same Streamlit in the same run. What the app
adds is the difference; the floor itself is Streamlit's and the browser's (this machine, this hour).
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
from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, start_server  # noqa: E402

FLOOR_APP = '''import streamlit as st
st.title("Floor")
st.markdown("The smallest page with a chart.")
st.vega_lite_chart({"data": {"values": [{"a": "x", "b": 1}, {"a": "y", "b": 2}]}, "mark": "bar",
                    "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}},
                    "title": "Floor chart drawn"})
'''


def wait_app(page, url) -> None:
    page.get_by_text(re.compile("The forget gate keeps")).wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"^Equations for (unit u\d+|ch \d+, pixel \(\d+, \d+\)) at step \d+$")).wait_for(
        timeout=60_000)
    if "scene=10" in url:  # the ConvLSTM scene: its gate maps drawn as images
        page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))
            .some(c => (c.querySelector('svg') || {}).innerHTML?.includes('Gates and states as maps')
                       && c.querySelectorAll('image').length > 0)""", timeout=60_000)


def wait_floor(page, url) -> None:
    page.get_by_text("Floor chart drawn").wait_for(timeout=60_000)


def load(browser, url, wait) -> float:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    wait(page, url)
    seconds = time.perf_counter() - t0
    context.close()
    return seconds


def healthy_now(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok"
    except OSError:
        return False


def measure(browser, script: Path, path: str, wait, loads: int, settle: float) -> tuple[float, float, list[float]]:
    """(cold seconds, of which server start, warm seconds per load) for one app."""
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    t0 = time.perf_counter()
    server, port = start_server(log, script)  # the browser is already up: a visitor's browser is not part of the start
    try:
        while not healthy_now(port):
            time.sleep(0.05)
        started = time.perf_counter() - t0
        cold = started + load(browser, f"http://127.0.0.1:{port}{path}", wait)
        time.sleep(settle)
        warm = [load(browser, f"http://127.0.0.1:{port}{path}", wait) for _ in range(loads)]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
    return cold, started, warm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--path", default="/")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    floor_app = Path(tempfile.mkdtemp()) / "floor.py"
    floor_app.write_text(FLOOR_APP)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        f_cold, f_started, f_warm = measure(browser, floor_app, "/", wait_floor, args.loads, 2)
        # after the first screen the app imports torch and draws the default model's Step-through view in the
        # background (ui.common.warm_up: ~7 s of CPU here); warm visitors come after it
        cold, started, warm = measure(browser, ROOT / "app.py", args.path, wait_app, args.loads, 20)
        browser.close()
    med, f_med = statistics.median(warm), statistics.median(f_warm)
    print(f"home page {args.path} -> a trained model's gates on screen:\n"
          f"  cold (streamlit run -> gates) {cold:.2f} s, of which {started:.2f} s server start; "
          f"floor {f_cold:.2f} s ({f_started:.2f} s start); the app adds {cold - f_cold:+.2f} s\n"
          f"  warm new visitor median {med:.2f} s (max {max(warm):.2f} s over {len(warm)}); floor median "
          f"{f_med:.2f} s; the app adds {med - f_med:+.2f} s\n"
          f"  goals: cold <= 4 s, warm <= 1.5 s. Floor: the smallest Streamlit page with one Vega-Lite chart, same "
          f"Streamlit, same run")


if __name__ == "__main__":
    main()
