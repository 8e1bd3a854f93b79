"""A training job's torch threads: all the cores, one, or the job's own choice (jobs.ThreadChoice), on a quiet box
and with one other busy process on it (what a visitor's own browser drawing, or a neighbour on a shared host, does).

    python bench/bench_threads.py [--steps 300] [--rounds 3]

Each run is the app's real background job (Experiment.start) on the agreement text, at the default text preset and
at hidden 256, batch 64; its thread count pinned with LSTM_LAB_THREADS_PER_JOB (1 or all cores) or left to the job.
Runs alternate, the median of `rounds` per setting. Prints steps/s and how the job's choice compares with the better
pinned setting in the same conditions. Goal: the choice >= 0.9x the better pinned count, quiet and busy.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from lstm_demo.config import DEFAULTS  # noqa: E402
from lstm_demo.kinds.text_data import load_text_preset  # noqa: E402
from lstm_demo.jobs import Experiment, available_cores  # noqa: E402


def job_rate(data, model_cfg, train_cfg, pinned: int) -> float:
    if pinned:
        os.environ["LSTM_LAB_THREADS_PER_JOB"] = str(pinned)
    else:
        os.environ.pop("LSTM_LAB_THREADS_PER_JOB", None)
    ex = Experiment(data, model_cfg, train_cfg)
    t0 = time.perf_counter()
    job = ex.start(train_cfg)
    job.join()
    return train_cfg.steps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    cores = available_cores()
    data = load_text_preset("agreement")
    model_cfg, train_cfg = DEFAULTS["text"]
    model_cfg = replace(model_cfg, vocab_size=len(data.vocab))
    sizes = {"default preset (hidden 64, batch 32)": (model_cfg, replace(train_cfg, steps=a.steps)),
             "hidden 256, batch 64": (replace(model_cfg, hidden_size=256),
                                      replace(train_cfg, batch_size=64, steps=max(20, a.steps // 4)))}
    choice = "the job's choice"
    settings = {"1 thread": 1, f"{cores} threads": cores, choice: 0}
    for busy in (0, 1):
        others = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            for size, (mc, tc) in sizes.items():
                rates = {name: [] for name in settings}
                for _ in range(a.rounds):
                    for name, pinned in settings.items():
                        rates[name].append(job_rate(data, mc, tc, pinned))
                med = {name: statistics.median(r) for name, r in rates.items()}
                best = max(med[n] for n in settings if settings[n])
                line = ", ".join(f"{name} {med[name]:.1f}" for name in settings)
                print(f"{'one busy process' if busy else 'quiet'}, {size}: steps/s {line}; "
                      f"choice / better pinned {med[choice] / best:.2f} (goal >= 0.9)",
                      flush=True)
        finally:
            for p in others:
                p.kill()


if __name__ == "__main__":
    main()
