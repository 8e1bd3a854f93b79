"""Server time of one step-through rerun (Next pressed), 256-step sequence at hidden 64.

    python bench/bench_rerun.py

Runs the Step through page in Streamlit's AppTest and times a Next click. AppTest reruns the whole page, while
the browser reruns only the step fragment, so this is an upper bound of the server time per step.
"""
import sys
import statistics
import time
from dataclasses import replace
from pathlib import Path

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from lstm_demo.config import DEFAULTS
from lstm_demo.kinds.text_data import load_text_preset
from lstm_demo.jobs import Experiment


def main():
    data = load_text_preset("agreement")
    model_cfg, train_cfg = DEFAULTS["text"]
    ex = Experiment(data, replace(model_cfg, vocab_size=len(data.vocab), hidden_size=64), replace(train_cfg, steps=50))
    ex.start(ex.train_cfg).join()
    ex.finish_job()
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.session_state["experiment"] = ex
    at.session_state["data"] = data
    at.switch_page("pages/2_Step_through.py").run()
    at.slider(key="seq_len_text").set_value(256).run()
    times = []
    for _ in range(12):
        t0 = time.perf_counter()
        at.button(key="next").click().run()
        times.append(1000 * (time.perf_counter() - t0))
    assert not at.exception
    print(f"rerun: Step through page after Next, 256 steps x 64 units: median {statistics.median(times[2:]):.0f} ms "
          f"(whole page in AppTest; goal <= 50 ms)")


if __name__ == "__main__":
    main()
