"""ConvLSTM next-frame prediction on moving shapes: the model's MSE vs "copy the last frame" on held-out sequences,
as training goes, on one torch thread.

    python bench/bench_convlstm.py [--seconds 60] [--hidden 8] [--frame 16]

Goal (issue 12): the default preset beats "copy the last frame" by >= 2x in MSE within 60 s on one core.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lstm_demo.convlstm import ConvLSTMConfig, copy_last_mse, next_frame_mse, train_next_frame  # noqa: E402
from lstm_demo.data.frames import moving_shapes  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--frame", type=int, default=16)
    ap.add_argument("--check-every", type=int, default=50)
    a = ap.parse_args()
    torch.set_num_threads(1)
    train = torch.from_numpy(moving_shapes(256, 12, frame=a.frame, seed=0))
    test = torch.from_numpy(moving_shapes(64, 12, frame=a.frame, seed=1))
    cfg = ConvLSTMConfig(hidden_channels=a.hidden, height=a.frame, width=a.frame)
    baseline = copy_last_mse(test)
    t0 = time.perf_counter()
    best = [0.0, None]

    def log(step, loss, model):
        elapsed = time.perf_counter() - t0
        if step % a.check_every == 0:
            mse = next_frame_mse(model, test)
            ratio = baseline / mse
            if ratio >= 2 and best[1] is None:
                best[1] = elapsed
            best[0] = max(best[0], ratio)
            print(f"step {step}, {elapsed:.1f} s: held-out MSE {mse:.4f} vs copy-last {baseline:.4f} = "
                  f"{ratio:.2f}x better", flush=True)
        return elapsed > a.seconds

    train_next_frame(cfg, train, 100_000, log=log)
    reached = f"reached 2x after {best[1]:.1f} s" if best[1] is not None else "did not reach 2x"
    print(f"ConvLSTM hidden {a.hidden}, frames {a.frame}x{a.frame}: best {best[0]:.2f}x within {a.seconds:.0f} s; "
          f"{reached} (goal: >= 2x within 60 s, one thread)")


if __name__ == "__main__":
    main()
