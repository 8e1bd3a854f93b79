"""The budget (lstm_demo/budget.py) against measurements: for the presets and the largest settings the Train page
offers, each kind's estimate of a training step's memory and time next to what one step really takes here (one
torch thread; memory: the peak RSS a forked child adds while it builds the model and takes two steps), the largest
evaluation chunk, and which settings the budget refuses. Then the time from Stop to stopped for the largest settings
the budget allows (goal: <= 2 s).

    python bench/bench_budget.py            # prints a table; about a minute
"""
from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from lstm_demo import budget  # noqa: E402
from lstm_demo.config import ConfigError, TrainConfig  # noqa: E402
from lstm_demo.kinds import KINDS  # noqa: E402


def cases():
    """(name, data, model config, train config): each kind's preset and its largest offered settings."""
    from lstm_demo.kinds.frames_data import FramesData
    from lstm_demo.kinds.text_data import load_text_preset
    from lstm_demo.kinds.series_data import load_series_preset
    from lstm_demo.kinds.translation_data import TranslationData
    text, series = load_text_preset("agreement"), load_series_preset("sine")
    shapes, digits = FramesData("shapes"), FramesData("first_digit")
    numbers, copy = TranslationData("numbers"), TranslationData("copy", 40)
    out = []
    for name, data in (("text", text), ("series", series), ("frames", shapes), ("digits", digits),
                       ("translation", numbers)):
        m, t = KINDS[data.kind].defaults(data)
        out.append((f"{name} preset", data, m, t))
    m, t = KINDS["text"].defaults(text)
    for hidden, layers, seq, batch, bi in ((256, 3, 256, 128, True), (256, 1, 64, 32, False), (128, 2, 128, 64, False),
                                           (64, 1, 256, 128, False), (256, 3, 64, 16, True)):
        mm = replace(m, hidden_size=hidden, num_layers=layers, task="masked" if bi else "next", bidirectional=bi)
        out.append((f"text h{hidden} l{layers} T{seq} B{batch}{' bi' if bi else ''}", text, mm,
                    replace(t, seq_len=seq, batch_size=batch)))
    big = FramesData("shapes", steps=32, frame=32)
    m, t = KINDS["frames"].defaults(big)
    for ch, k, batch in ((32, 7, 64), (8, 3, 16), (16, 5, 8), (32, 3, 4)):
        out.append((f"convlstm ch{ch} k{k} 32x32x32 B{batch}", big, replace(m, hidden_channels=ch, kernel=k,
                                                                            peephole=True), replace(t, batch_size=batch)))
    bigd = FramesData("first_digit", steps=32, frame=32)
    m, t = KINDS["digits"].defaults(bigd)
    out.append(("cnn-lstm c32 e128 h128 32x32x32 B64", bigd, replace(m, conv_channels=32, embed_size=128,
                                                                     hidden_size=128), replace(t, batch_size=64)))
    m, t = KINDS["translation"].defaults(copy)
    out.append(("seq2seq h256 l2 att copy40 B128", copy, replace(m, hidden_size=256, num_layers=2, attention=True),
                replace(t, batch_size=128)))
    out.append(("seq2seq h128 copy40 B64", copy, m, t))
    from lstm_demo.kinds.captions_data import CaptionData
    pictures = CaptionData()
    m, t = KINDS["captions"].defaults(pictures)
    out.append(("captions preset", pictures, m, t))
    for conv, hidden, embed, batch, att in ((32, 256, 64, 128, True), (32, 256, 64, 64, True), (32, 128, 64, 128, True),
                                            (4, 16, 8, 128, False), (32, 256, 64, 16, True)):
        out.append((f"captioner c{conv} h{hidden} e{embed} B{batch}{' att' if att else ''}", pictures,
                    replace(m, conv_channels=conv, hidden_size=hidden, embed_size=embed, attention=att),
                    replace(t, batch_size=batch)))
    return out


def measure(data, model_cfg, train_cfg) -> tuple[float, float]:
    """(seconds per step, peak bytes added) of two training steps, in a forked child (its own peak RSS)."""
    from lstm_demo.models import build_model           # imported before the fork: not counted as the step's
    from lstm_demo.train import Trainer, make_optimizer

    def two_steps() -> float:
        kind = KINDS[data.kind]
        model = build_model(model_cfg)
        trainer = Trainer(model, make_optimizer(model, train_cfg.lr), kind, 1.0,
                          kind.batches(data, model_cfg, train_cfg, 0))
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            trainer.step()
            times.append(time.perf_counter() - t0)
        return min(times)
    return in_child(two_steps)


def in_child(fn) -> tuple[float, float]:
    """(seconds, peak bytes added) of fn() run once in a forked child (its own peak RSS); the seconds are fn's own
    figure when it returns one (e.g. its fastest step), else the time it took."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        torch.set_num_threads(1)
        rss0 = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        t0 = time.perf_counter()
        took = fn()
        seconds = took if isinstance(took, float) else time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - max(rss0, before)
        os.write(w, f"{seconds} {max(0, peak)}".encode())
        os._exit(0)
    os.close(w)
    raw = os.read(r, 100).decode()
    os.waitpid(pid, 0)
    seconds, peak = raw.split()
    return float(seconds), float(peak)


def preview(ex) -> None:
    """What the Train page's preview computes for this kind (lstm_demo/ui/kinds/*.preview), on the same data."""
    from lstm_demo import predict
    kind = ex.kind
    if kind == "text":
        if ex.model_cfg.task == "masked":
            x, y = ex.validation_batch()
            ex.spec.outputs_in_chunks(ex.model, x, ex.eval_chunk())
        else:
            predict.generate_text(ex.model, ex.data, "the ", 400, 0.8)
    elif kind == "series":
        predict.judged_forecast(ex.model, ex.data, ex.train_cfg.seq_len)
    elif kind in ("frames", "digits"):
        x, _ = ex.validation_batch()
        ex.spec.outputs_in_chunks(ex.model, x, ex.eval_chunk())
    elif kind == "translation":
        from lstm_demo.kinds.seq2seq import translate
        translate(ex.model, ex.data, [s for s, _ in ex.data.val_pairs])


def open_file(raw: bytes) -> None:
    """What opening a model file does before the page draws: load and check it, then its preview."""
    from lstm_demo.jobs import Experiment
    from lstm_demo.store import load_bytes
    loaded = load_bytes(raw)
    preview(Experiment(loaded.data, loaded.model.cfg, loaded.train_cfg, model=loaded.model,
                       trained_steps=loaded.steps))


def stop_latency(data, model_cfg, train_cfg, trials: int = 4) -> tuple[float, float]:
    """(worst, median) seconds from Stop to stopped: a job at these settings (evaluating after every step, so a
    Stop can land in a step or in an evaluation) is stopped at spread-out moments."""
    import random
    from lstm_demo.jobs import Experiment
    rng = random.Random(0)
    waits = []
    for _ in range(trials):
        ex = Experiment(data, model_cfg, replace(train_cfg, steps=5000, eval_every=0.05))
        job = ex.start(ex.train_cfg)
        t_end = time.monotonic() + 120
        while job.view().step < 1 and job.view().active and time.monotonic() < t_end:
            job.touch()
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 1.5))
        job.touch()
        t0 = time.perf_counter()
        job.stop()
        while job.view().active:
            time.sleep(0.01)
        waits.append(time.perf_counter() - t0)
        job.join(5)
    waits.sort()
    return waits[-1], waits[len(waits) // 2]


def main():
    from lstm_demo.jobs import Experiment
    torch.set_num_threads(1)
    print(f"budget: {budget.JOB_BYTES / 1e6:.0f} MB and {budget.STEP_SECONDS:g} s per step at "
          f"{budget.REFERENCE_FLOPS:.1e} flop/s; evaluation chunks within {budget.EVAL_BYTES / 1e6:.0f} MB\n")
    print(f"{'case':42s} {'est MB':>8s} {'real MB':>8s} {'est s':>8s} {'real s':>8s} {'flop/s':>9s} "
          f"{'real/est':>8s}  verdict")
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="run only the cases whose name contains this")
    only = ap.parse_args().only
    allowed = []
    for name, data, m, t in [c for c in cases() if only in c[0]]:
        kind = KINDS[data.kind]
        cost = kind.cost(m.validate(), t.validate(), data)
        try:
            kind.checked(m, t, data)
            verdict = "allowed"
            allowed.append((name, data, m, t))
        except ConfigError as e:
            verdict = "refused: " + str(e)[:60]
            batch = t.batch_size
            while batch > 1:  # the same model at the largest batch the budget allows: the worst allowed case
                batch //= 2
                try:
                    kind.checked(m, replace(t, batch_size=batch), data)
                except ConfigError:
                    continue
                allowed.append((f"{name.rsplit(' B', 1)[0]} B{batch} (largest allowed)", data, m,
                                replace(t, batch_size=batch)))
                break
        if cost.step_bytes > 4e9 or cost.step_seconds > 60:
            real_s = real_b = float("nan")  # too big to try here
        else:
            real_s, real_b = measure(data, m, t)
        print(f"{name:42s} {cost.step_bytes / 1e6:8.1f} {real_b / 1e6:8.1f} {cost.step_seconds:8.3f} {real_s:8.3f} "
              f"{cost.flops / real_s if real_s == real_s else float('nan'):9.2e} "
              f"{real_b / cost.step_bytes:8.2f}  {verdict}")

    print(f"\nAllowed settings: preview and file open (peak RSS added, in a child), Stop -> stopped (in process; "
          f"a step or an evaluation may be under way)")
    print(f"{'case':42s} {'preview MB':>10s} {'preview s':>9s} {'open MB':>8s} {'open s':>7s} {'file MB':>7s} "
          f"{'stop worst s':>12s} {'stop median':>11s}")
    worst = {"preview MB": 0.0, "open MB": 0.0, "stop s": 0.0}
    for name, data, m, t in allowed:
        ex = Experiment(data, m, t)
        raw = _file(ex, data, t)
        p_s, p_b = in_child(lambda: preview(ex))
        o_s, o_b = in_child(lambda: open_file(raw))
        s_worst, s_med = stop_latency(data, m, t)
        worst = {"preview MB": max(worst["preview MB"], p_b / 1e6), "open MB": max(worst["open MB"], o_b / 1e6),
                 "stop s": max(worst["stop s"], s_worst)}
        print(f"{name:42s} {p_b / 1e6:10.1f} {p_s:9.2f} {o_b / 1e6:8.1f} {o_s:7.2f} {len(raw) / 1e6:7.2f} "
              f"{s_worst:12.2f} {s_med:11.2f}")
    print(f"\nworst over the allowed settings: preview +{worst['preview MB']:.0f} MB, file open +"
          f"{worst['open MB']:.0f} MB (budget {budget.JOB_BYTES / 1e6:.0f} MB per job); Stop -> stopped "
          f"{worst['stop s']:.2f} s (goal <= 2 s)")


def _file(ex, data, train_cfg) -> bytes:
    """The largest file of this model the app would write: as many half-precision checkpoints as it keeps, and a
    long loss history."""
    from lstm_demo.store import save_bytes
    state = {k: v.detach().half() for k, v in ex.model.state_dict().items()}
    steps = 100_000
    return save_bytes(ex.model, data, train_cfg, steps, history={"train": [(s, 1.0) for s in range(1, steps, 10)],
                                                                 "val": [(s, 1.0) for s in range(1, steps, 100)]},
                      checkpoints=[(s, {k: v.clone() for k, v in state.items()})
                                   for s in range(0, steps + 1, steps // 50)])


if __name__ == "__main__":
    main()
