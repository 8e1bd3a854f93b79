"""Training throughput of the app's loop vs a bare fused nn.LSTM loop at 1 and 2 torch threads, and the trace time.

    python bench/bench_core.py [--steps 400]

Both loops: the default text preset and settings (config.DEFAULTS), random windows, Adam, clipping at 1.0,
loss.item() every step. The app's loop is the real background job (validation checks, snapshots, checkpoints,
bookkeeping), timed from start to finish, with its thread count fixed by LSTM_LAB_THREADS_PER_JOB; the bare loop
runs at the same count. Runs alternate, best of 3. Goal (issue 14): app / bare >= 0.95 at each count.
"""
import sys
from pathlib import Path
import argparse
import time
from dataclasses import replace

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
from lstm_demo.config import DEFAULTS
from lstm_demo.kinds.text_data import load_text_preset
from lstm_demo.kinds.windows import random_windows
from lstm_demo.jobs import Experiment, configure_torch
from lstm_demo.models import build_model
from lstm_demo.trace import replay_lstm


def app_loop(data, model_cfg, train_cfg, threads):
    import os
    os.environ["LSTM_LAB_THREADS_PER_JOB"] = str(threads)  # the job's own thread policy, pinned for the comparison
    ex = Experiment(data, model_cfg, train_cfg)
    t0 = time.perf_counter()
    job = ex.start(train_cfg)
    job.join()
    return train_cfg.steps / (time.perf_counter() - t0)


def bare_loop(data, model_cfg, train_cfg, threads):
    configure_torch(threads)
    torch.manual_seed(0)
    emb = nn.Embedding(model_cfg.vocab_size, model_cfg.embed_size)
    lstm = nn.LSTM(model_cfg.embed_size, model_cfg.hidden_size, model_cfg.num_layers, batch_first=True)
    head = nn.Linear(model_cfg.hidden_size, model_cfg.vocab_size)
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=train_cfg.lr)
    train, _ = data.parts(train_cfg.seq_len)
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(train_cfg.steps):
        x, y = random_windows(train, train_cfg.batch_size, train_cfg.seq_len, gen)
        opt.zero_grad(set_to_none=True)
        out, _ = lstm(emb(x))
        loss = nn.functional.cross_entropy(head(out).reshape(-1, model_cfg.vocab_size), y.reshape(-1))
        loss.item()
        loss.backward()
        nn.utils.clip_grad_norm_(params, train_cfg.grad_clip)
        opt.step()
    return train_cfg.steps / (time.perf_counter() - t0)


def in_thread(fn, *args):
    """Run fn in a fresh thread, as the app runs every job: torch work on the process's main thread leaves an OpenMP
    team behind that slows parallel work on other threads by ~10 % (measured here), which would skew the ratio."""
    import threading
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", fn(*args)))
    t.start()
    t.join()
    return out["v"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400)
    a = ap.parse_args()
    data = load_text_preset("agreement")
    model_cfg, train_cfg = DEFAULTS["text"]
    model_cfg = replace(model_cfg, vocab_size=len(data.vocab))
    train_cfg = replace(train_cfg, steps=a.steps)
    for threads in (1, 2):
        app, bare = [], []
        for _ in range(3):
            bare.append(in_thread(bare_loop, data, model_cfg, train_cfg, threads))
            app.append(app_loop(data, model_cfg, train_cfg, threads))
        print(f"training, {threads} thread(s): app {max(app):.1f} steps/s ({a.steps / max(app):.1f} s for {a.steps} "
              f"steps), bare nn.LSTM loop {max(bare):.1f} steps/s, ratio {max(app) / max(bare):.3f} (goal >= 0.95)")
    configure_torch(1)

    lstm = build_model(replace(model_cfg, hidden_size=128)).rnn
    x = torch.randn(256, model_cfg.embed_size)

    def replays():
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            replay_lstm(lstm, x)
            times.append(1000 * (time.perf_counter() - t0))
        return sorted(times)[3]
    print(f"trace: 256 steps at hidden 128, median {in_thread(replays):.1f} ms (goal <= 50 ms)")


if __name__ == "__main__":
    main()
