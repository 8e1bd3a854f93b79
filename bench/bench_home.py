"""Chromium: seconds until a trained model's gates are on screen — from `streamlit run` (cold) and for new visitors
of a warm server — next to the floor measured in the same run; and a prepared Step-through link opened as the first
request to a freshly started server.

    python bench/bench_home.py [--loads 5] [--path "/?scene=10"] [--link "/Step_through?model=…&step=…"]

Cold: the clock starts when the server process is launched; the page is requested as soon as the health check
answers, and stops at the first frame that shows the cell diagram's words and the equations at the scene's step.
Warm: the same page opened N more times in fresh browser contexts (new sessions, as new visitors). Goals (issue 21):
cold <= 4 s; warm adds <= 0.5 s to the floor; the link's views at its step <= 6 s after its request. --path opens
another scene: "/?scene=10" is the ConvLSTM's gate maps (the maps' images are waited for too).

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


# Each wait is a check the page itself runs at every animation frame from the navigation on (an init script), and
# the time is the page's own clock (performance.now(): 0 at navigation start) at the first frame where it holds —
# not Playwright's polling, whose rounds cost more on a page with many elements than on the floor's.
FRAME_CHECK = """(check) => {
  const holds = new Function('texts', 'doc', check);
  const tick = () => {
    const texts = Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] svg text, p, h1, h2, h3, label'))
      .map(t => t.textContent);
    if (holds(texts, document)) { window.__shown = performance.now() / 1000; return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""
EQUATIONS = r"/^Equations for (unit u\d+|ch \d+, pixel \(\d+, \d+\)) at step \d+$/"
# a wrapped chart text is one <text> of <tspan> lines whose textContent has no space at the breaks: compare without
APP_SHOWN = ("texts = texts.map(t => t.replace(/\\s+/g, ''));"
             "return texts.some(t => t.startsWith('Theforgetgatekeeps')) && texts.some(t => %s.test(t))"
             % EQUATIONS.replace(" ", ""))
CONVLSTM_SHOWN = APP_SHOWN + """ && Array.from(doc.querySelectorAll('[data-testid=stVegaLiteChart]'))
    .some(c => (c.querySelector('svg') || {}).innerHTML?.includes('Gates and states as maps')
               && c.querySelectorAll('image').length > 0)"""
FLOOR_SHOWN = "return texts.includes('Floor chart drawn')"


def shown_check(path: str) -> str:
    """What must be on screen: the cell diagram's words and the equations (and on the ConvLSTM scene its gate maps'
    images; on a Step-through link with a step, the equations at that step)."""
    from urllib.parse import parse_qs, urlsplit
    query = parse_qs(urlsplit(path).query)
    check = CONVLSTM_SHOWN if query.get("scene") == ["10"] else APP_SHOWN
    if "step" in query:
        check += " && texts.some(t => /^Equationsfor.*atstep%d$/.test(t))" % int(query["step"][0])
    return check


def load(browser, url, check: str) -> float:
    """Seconds from navigation start to the first frame where `check` holds, in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.add_init_script(f"({FRAME_CHECK})({check!r})")
    page.goto(url)
    page.wait_for_function("() => window.__shown !== undefined", timeout=90_000, polling=250)
    seconds = page.evaluate("window.__shown")
    context.close()
    return seconds


def healthy_now(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok"
    except OSError:
        return False


def measure(browser, script: Path, path: str, check: str, loads: int, settle: float) -> tuple[float, float, list[float]]:
    """(cold seconds, of which server start, warm seconds per load) for one app."""
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    t0 = time.perf_counter()
    server, port = start_server(log, script)  # the browser is already up: a visitor's browser is not part of the start
    try:
        while not healthy_now(port):
            time.sleep(0.05)
        started = time.perf_counter() - t0
        cold = started + load(browser, f"http://127.0.0.1:{port}{path}", check)
        time.sleep(settle)
        warm = [load(browser, f"http://127.0.0.1:{port}{path}", check) for _ in range(loads)]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
    return cold, started, warm


LINK = "/Step_through?model=agreement&text=the%20cats,%20which%20ate%20the%20fish,%20were%20full.&step=33&unit=7"


def first_request(browser, path: str) -> tuple[float, float]:
    """A link opened as the first request a freshly started server gets: (seconds from launch to health, seconds from
    the request to the views at the link's step)."""
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    t0 = time.perf_counter()
    server, port = start_server(log, ROOT / "app.py")
    try:
        while not healthy_now(port):
            time.sleep(0.05)
        started = time.perf_counter() - t0
        return started, load(browser, f"http://127.0.0.1:{port}{path}", shown_check(path))
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--path", default="/")
    ap.add_argument("--link", default=LINK, help="a prepared Step-through link, opened first on a fresh server")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    floor_app = Path(tempfile.mkdtemp()) / "floor.py"
    floor_app.write_text(FLOOR_APP)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        f_cold, f_started, f_warm = measure(browser, floor_app, "/", FLOOR_SHOWN, args.loads, 2)
        # after the first screen the app imports torch and draws the default model's Step-through view in the
        # background (ui.common.warm_up: ~7 s of CPU here); warm visitors come after it
        cold, started, warm = measure(browser, ROOT / "app.py", args.path, shown_check(args.path), args.loads, 20)
        link_start, link = first_request(browser, args.link)
        browser.close()
    med, f_med = statistics.median(warm), statistics.median(f_warm)
    print(f"home page {args.path} -> a trained model's gates on screen:\n"
          f"  cold (streamlit run -> gates) {cold:.2f} s, of which {started:.2f} s server start; "
          f"floor {f_cold:.2f} s ({f_started:.2f} s start); the app adds {cold - f_cold:+.2f} s\n"
          f"  warm new visitor median {med:.2f} s (max {max(warm):.2f} s over {len(warm)}); floor median "
          f"{f_med:.2f} s; the app adds {med - f_med:+.2f} s\n"
          f"  goals (issue 21): cold <= 4 s; warm adds <= 0.5 s to the floor. Floor: the smallest Streamlit page with one "
          f"Vega-Lite chart, same Streamlit, same run\n"
          f"prepared link {args.link}\n  as the first request to a fresh server (up in {link_start:.2f} s): the views at "
          f"its step in {link:.2f} s (goal <= 6 s)")


if __name__ == "__main__":
    main()
