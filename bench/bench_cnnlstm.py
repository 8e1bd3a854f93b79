"""CNN-LSTM on "which digit came first?" (a handwritten digit, then distractors): held-out accuracy as training goes,
at the Train page's preset, on one torch thread. Chance is 10 %.

    python bench/bench_cnnlstm.py [--seconds 60] [--seed 0]

Goal (issue 12): the default preset reaches >= 90 % on its question within 60 s on one core.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lstm_demo.kinds.frames_data import FramesData  # noqa: E402
from lstm_demo.kinds import KINDS  # noqa: E402
from lstm_demo.models import build_model  # noqa: E402
from lstm_demo.train import accuracy, make_batches, make_optimizer, train_step  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-every", type=int, default=100)
    a = ap.parse_args()
    torch.set_num_threads(1)
    data = FramesData("first_digit")
    cfg, train_cfg = KINDS[data.kind].defaults(data)
    model = build_model(cfg, a.seed)
    opt = make_optimizer(model, train_cfg.lr)
    batches = make_batches(data, train_cfg, a.seed)
    t0, step, reached, best = time.perf_counter(), 0, None, 0.0
    while time.perf_counter() - t0 < a.seconds:
        step += 1
        train_step(model, opt, *batches.next(), data.kind, train_cfg.grad_clip)
        if step % a.check_every == 0:
            elapsed = time.perf_counter() - t0
            acc = accuracy(model, batches.val_x, batches.val_y)
            best = max(best, acc)
            if acc >= 0.9 and reached is None:
                reached = (step, elapsed)
            print(f"step {step}, {elapsed:.1f} s: held-out accuracy {acc:.1%}", flush=True)
    when = f"reached 90 % at step {reached[0]} after {reached[1]:.1f} s" if reached else "did not reach 90 %"
    print(f"CNN-LSTM preset ({cfg.conv_channels} maps, {cfg.hidden_size} units, {data.steps} frames of "
          f"{data.frame}x{data.frame}), seed {a.seed}: best {best:.1%} within {a.seconds:.0f} s (chance 10 %); {when} "
          f"(goal: >= 90 % within 60 s, one thread; the preset trains {train_cfg.steps} steps)")


if __name__ == "__main__":
    main()
