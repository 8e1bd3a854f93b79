"""Training while watched: the default text preset trained from the Train page in Chromium vs the same job with no
page at all.

    python bench/bench_watched.py [--steps N]   (default: the page's own default steps)

Watched: starts the app's own server, opens Train in Chromium (1440 x 1000, everything the page shows by default),
presses Start and waits for "Finished N steps"; reports click -> Finished and the steps/s over that time.
Unwatched: the same job (same data, settings, thread policy) run in this process with no server and no page.
Goals (issue 14): watched >= 0.8x the unwatched rate; the default text preset from click to Finished <= 30 s.
"""
import argparse
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from conftest import CHROMIUM, CHROMIUM_ARGS, app_server  # noqa: E402


def watched(steps: int) -> float:
    from playwright.sync_api import sync_playwright
    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    with app_server(log) as (_, port):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/Train")
            page.get_by_role("button", name=re.compile("Start training")).wait_for(timeout=120_000)
            page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]")
            from lstm_demo.config import DEFAULTS
            if steps != DEFAULTS["text"][1].steps:  # the page's own default needs no typing
                box = page.get_by_label("Steps per run")
                box.fill(str(steps))
                box.press("Enter")
                page.wait_for_timeout(1000)
                page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]")
            t0 = time.perf_counter()
            page.get_by_role("button", name=re.compile("Start training")).click()
            page.get_by_text(f"Finished {steps} steps").wait_for(timeout=600_000)
            seconds = time.perf_counter() - t0
            page.screenshot(path="/tmp/bench_watched.png", full_page=True)
            browser.close()
    return seconds


def unwatched(steps: int) -> float:
    from lstm_demo.config import DEFAULTS
    from lstm_demo.kinds.text_data import load_text_preset
    from lstm_demo.jobs import Experiment
    data = load_text_preset("agreement")
    model_cfg, train_cfg = DEFAULTS["text"]
    ex = Experiment(data, replace(model_cfg, vocab_size=len(data.vocab)), replace(train_cfg, steps=steps))
    t0 = time.perf_counter()
    job = ex.start(ex.train_cfg)
    while job.view().active:
        job.touch()
        job.join(0.5)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    from lstm_demo.config import DEFAULTS
    ap.add_argument("--steps", type=int, default=DEFAULTS["text"][1].steps)
    a = ap.parse_args()
    alone = unwatched(a.steps)
    seen = watched(a.steps)
    print(f"default text preset, {a.steps} steps: watched (Train page open in Chromium) click -> Finished "
          f"{seen:.1f} s = {a.steps / seen:.1f} steps/s; unwatched {alone:.1f} s = {a.steps / alone:.1f} steps/s; "
          f"watched / unwatched {alone / seen:.2f} (goals: >= 0.8, <= 30 s)")


if __name__ == "__main__":
    main()
