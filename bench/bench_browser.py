"""In Chromium: time from pressing Next to every chart redrawn, on a 256-step sequence at hidden 64.

    python bench/bench_browser.py [--presses 15] [--screens /tmp/bench_screens]

Starts its own server, trains the default text model at hidden 64 for a few hundred steps, opens Step through with
a 256-step validation sample, then presses → repeatedly. "Redrawn" = the script has finished its rerun, the slider
shows the new step and every Vega view has rendered (two animation frames after the last update).
"""
import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, _healthy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def slider_keys(page, label, key, times):
    thumb = page.get_by_label(label, exact=True).get_by_role("slider")
    thumb.focus()
    for _ in range(times):
        thumb.press(key)
    settle(page)


def settle(page):
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=120_000)


def main():
    import subprocess
    from playwright.sync_api import sync_playwright
    ap = argparse.ArgumentParser()
    ap.add_argument("--presses", type=int, default=15)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--screens", default="/tmp/bench_screens")
    a = ap.parse_args()
    os.makedirs(a.screens, exist_ok=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"], cwd=ROOT, stdout=open(os.path.join(a.screens, "server.log"), "w"),
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert _healthy(port)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 3200})  # every chart on screen
            page.goto(f"http://127.0.0.1:{port}/Train")
            settle(page)
            slider_keys(page, "Hidden units", "ArrowLeft", 2)          # 128 -> 96 -> 64
            box = page.get_by_label("Steps per run")
            box.fill(str(a.steps)); box.press("Enter"); settle(page)
            page.get_by_role("button", name=re.compile("Start training")).click()
            page.get_by_text(f"Finished {a.steps} steps").wait_for(timeout=300_000)
            settle(page)
            page.screenshot(path=f"{a.screens}/train.png", full_page=True)
            page.get_by_test_id("stSidebarNav").get_by_text("Step through").click()
            page.get_by_role("button", name=re.compile("Next")).wait_for(timeout=60_000)
            settle(page)
            slider_keys(page, "Length (steps)", "End", 1)                # the longest sample: 256 steps
            page.evaluate("() => document.activeElement.blur()")  # arrows must reach the page, not the slider
            page.wait_for_timeout(1000)
            times = []
            for n in range(a.presses):
                t0 = time.perf_counter()
                page.locator("body").press("ArrowRight")
                page.wait_for_function(
                    f"() => document.querySelector('[aria-label=\"Time step\"] input')?.value === '{n + 1}'",
                    timeout=30_000)
                settle(page)
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                times.append(1000 * (time.perf_counter() - t0))
            page.screenshot(path=f"{a.screens}/step_through.png", full_page=True)
            charts = page.get_by_test_id("stVegaLiteChart").count()
            browser.close()
        print(f"browser: Next -> all {charts} charts redrawn, 256 steps x 64 units: median "
              f"{statistics.median(times):.0f} ms, max {max(times):.0f} ms over {len(times)} presses (goal <= 300 ms)")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
