"""The encoder–decoder: (1) the default task (numbers up to 3 digits in words → digits) — exact match on held-out
numbers as training goes, at the Train page's preset, one torch thread; (2) the bottleneck — the app's own
measurement (lstm_demo.bottleneck: copy up to 24 letters, plain vs reversed source, same seed and batches), exact
match by source length.

    python bench/bench_seq2seq.py [--seconds 60] [--skip-bottleneck]

Goal (issue 13): the default task reaches >= 95 % exact match on held-out examples within 60 s on one core.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lstm_demo.kinds.bottleneck import BOTTLENECK_DEFAULT, measure, summary  # noqa: E402
from lstm_demo.kinds.translation_data import TranslationData  # noqa: E402
from lstm_demo.kinds import KINDS  # noqa: E402
from lstm_demo.models import build_model  # noqa: E402
from lstm_demo.kinds.seq2seq import exact_match_accuracy  # noqa: E402
from lstm_demo.train import make_batches, make_optimizer, train_step  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-bottleneck", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    data = TranslationData("numbers")
    cfg, train_cfg = KINDS[data.kind].defaults(data)
    model = build_model(cfg, a.seed)
    opt = make_optimizer(model, train_cfg.lr)
    batches = make_batches(data, train_cfg, a.seed)
    t0, step, reached, best, clock = time.perf_counter(), 0, None, 0.0, 0.0
    while clock < a.seconds:
        t = time.perf_counter()
        step += 1
        train_step(model, opt, *batches.next(), data.kind, train_cfg.grad_clip)
        clock += time.perf_counter() - t  # training time only: the checks below are not part of the run
        if step % 50 == 0:
            acc = exact_match_accuracy(model, data)
            best = max(best, acc)
            if acc >= 0.95 and reached is None:
                reached = (step, clock)
            print(f"step {step}, {clock:.1f} s of training: exact match on {len(data.val_pairs)} held-out numbers "
                  f"{acc:.1%}", flush=True)
    when = f"reached 95 % at step {reached[0]} after {reached[1]:.1f} s" if reached else "did not reach 95 %"
    print(f"default task (numbers, {cfg.hidden_size} units, batch {train_cfg.batch_size}, lr {train_cfg.lr:g}), seed "
          f"{a.seed}: best {best:.1%} within {a.seconds:.0f} s; {when} (goal: >= 95 % within 60 s, one thread; "
          f"the preset trains {train_cfg.steps} steps)")
    if a.skip_bottleneck:
        return
    t0 = time.perf_counter()
    result, _ = measure(BOTTLENECK_DEFAULT)
    print(f"\nbottleneck ({time.perf_counter() - t0:.0f} s for the three models):")
    print(result.pivot(index="bin", columns="variant", values="accuracy").to_string(float_format=lambda v: f"{v:.0%}"))
    print(summary(result).replace("**", ""))


if __name__ == "__main__":
    main()
