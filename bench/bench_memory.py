"""The long-memory lab's default experiment, timed, with its outcome (the README's figures).

    python bench/bench_memory.py [--task agreement|first_symbol|adding]

Trains a plain RNN, a GRU and an LSTM of matched size on the same batches (one training slot, one torch thread),
then prints accuracy at each distance, the plain-words summary, the gradient ratio over 10 steps at
initialisation and the LSTM unit that holds the subject's number.
"""
import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from lstm_demo.memory import Race, RaceConfig, summary  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default=RaceConfig.task)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = RaceConfig() if args.task == RaceConfig.task else replace(RaceConfig(), task=args.task)
    t0 = time.perf_counter()
    race = Race(cfg).start()
    race.join()
    seconds = time.perf_counter() - t0
    print(f"task {cfg.task}, distances {cfg.min_distance}-{cfg.max_distance}, {cfg.steps} steps per model: "
          f"{seconds:.1f} s ({race.status})")
    print("parameters:", {c: n for c, (h, n) in race.param_counts().items()})
    acc = race.results["accuracy"].pivot(index="cell", columns="distance", values="accuracy")
    print(acc.round(2).to_string())
    print(summary(race))
    g = race.results["gradients"]
    for cell in ("rnn", "gru", "lstm"):
        init = g[(g.cell == cell) & (g.when == "at initialisation")].set_index("k")["norm"]
        print(f"{cell}: gradient after 10 steps back / at the scored step, at initialisation: "
              f"{init[10] / init[0]:.1e}")
    if "unit" in race.results:
        u = race.results["unit"]
        print(f"LSTM unit u{u['unit']} holds the subject's number: correlation {u['correlation']:+.2f}")


if __name__ == "__main__":
    main()
