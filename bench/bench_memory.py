"""The long-memory lab's default race over several seeds, timed, with its outcome and spread (the README's figures).

    python bench/bench_memory.py [--task agreement|allergy|first_symbol|adding] [--seeds 5] [--sweep]

Trains a plain RNN, a GRU and an LSTM of matched size on the same batches (one training slot, one torch thread)
for seeds 0 … N-1, then prints each seed's accuracy at every distance, the spread over seeds, whether each seed
shows the lesson (RNN >= 90 % at the shortest distance and within 15 points of chance at the longest, LSTM and
GRU >= 90 % everywhere), the gradient ratio over 10 steps at initialisation and the LSTM unit that remembers.
"""
import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from lstm_demo.memory import Race, RaceConfig, summary  # noqa: E402


def lesson(acc, chance) -> bool:
    a = acc.pivot(index="distance", columns="cell", values="accuracy")
    return bool(a["rnn"].iloc[0] >= 0.9 and a["rnn"].iloc[-1] <= chance + 0.15 and (a["lstm"] >= 0.9).all()
                and (a["gru"] >= 0.9).all())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default=RaceConfig.task)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sweep", action="store_true", help="one run per distance, trained on that distance only")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = replace(RaceConfig(), task=args.task, seeds=args.seeds, sweep=args.sweep)
    t0 = time.perf_counter()
    race = Race(cfg).start()
    while race.thread.is_alive():
        race.touch()
        race.join(5)
    seconds = time.perf_counter() - t0
    print(f"task {cfg.task}, distances {cfg.min_distance}-{cfg.max_distance}, {cfg.steps} steps per model, "
          f"{len(race.runs)} run(s): {seconds:.1f} s, {seconds / len(race.runs):.1f} s per run ({race.status})")
    if race.status != "done":
        print(race.message)
        return
    print("parameters:", {c: n for c, (h, n) in race.param_counts().items()})
    acc = race.results["accuracy"]
    for seed, a in acc.groupby("seed"):
        print(f"\nseed {seed}:" + ("" if cfg.sweep else f" lesson {'holds' if lesson(a, race.task.chance) else 'FAILS'}"))
        print(a.pivot(index="cell", columns="distance", values="accuracy").round(2).to_string())
    spread = acc.groupby(["cell", "distance"])["accuracy"].agg(["mean", "min", "max"]).round(2)
    print("\nover seeds:\n" + spread.unstack("distance").to_string())
    print("\n" + summary(acc, race.task))
    g = race.results["gradients"]
    for cell in ("rnn", "gru", "lstm"):
        init = g[(g.cell == cell) & (g.when == "at initialisation")].set_index("k")["norm"]
        if len(init) > 10:
            print(f"{cell}: gradient after 10 steps back / at the scored step, at initialisation: "
                  f"{init[10] / init[0]:.1e}")
    if "unit" in race.results:
        u = race.results["unit"]
        print(f"LSTM unit u{u['unit']} (seed {cfg.seed}) holds the fact: correlation {u['correlation']:+.2f}")


if __name__ == "__main__":
    main()
