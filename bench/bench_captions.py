"""The captioner at the app's preset (the captions kind's defaults), trained the app's own way — the kind's batches,
loss and train.Trainer (one clip, one NaN policy), as a Train-page job runs them — one torch thread, several seeds:
held-out word accuracy and exact match of greedy captions as training goes, the baselines beside them, the median
share of attention on the named shape when the model says its colour or shape, and the variant without attention.

    flock /tmp/heavy.lock python bench/bench_captions.py [--seconds 60] [--seeds 0 1 2] [--skip-plain]

The clock counts training only (drawing and rendering the batch, forward, backward, the optimiser step); the held-out
checks between are not part of it. Goal (issue): word accuracy >= 90 % and exact match >= 60 % within 60 s, median
attention share >= 0.5.
"""
import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lstm_demo.kinds import KINDS  # noqa: E402
from lstm_demo.kinds.captioner import baselines, evaluate_captions  # noqa: E402
from lstm_demo.kinds.captions_data import CaptionData  # noqa: E402
from lstm_demo.models import build_model  # noqa: E402
from lstm_demo.train import Trainer, make_optimizer  # noqa: E402

KIND = KINDS["captions"]


def train(data, cfg, train_cfg, seed: int, seconds: float, every: float, label: str) -> dict:
    """Train for `seconds` of training time; evaluate every `every` seconds; -> the last evaluation (and when the
    bar was first met)."""
    model = build_model(cfg, seed)
    trainer = Trainer(model, make_optimizer(model, train_cfg.lr), KIND, train_cfg.grad_clip,
                      KIND.batches(data, cfg, train_cfg, seed))
    clock, checkpoint, result, reached = 0.0, every, {}, None
    while clock < seconds:
        t = time.perf_counter()
        loss = trainer.step()
        clock += time.perf_counter() - t
        step = trainer.steps
        if clock >= checkpoint or clock >= seconds:
            checkpoint += every
            result = evaluate_captions(model, data)
            result.update(step=step, seconds=clock, loss=loss)
            if reached is None and result["word_accuracy"] >= 0.9 and result["exact_match"] >= 0.6:
                reached = (step, clock)
            share = f", attention on the named shape (median) {result['attention_on_named']:.2f}" \
                if "attention_on_named" in result else ""
            print(f"  {label} seed {seed}: {clock:5.1f} s, step {step:5d}, loss {loss:.3f}: word accuracy "
                  f"{result['word_accuracy']:.1%}, exact match {result['exact_match']:.1%}{share}", flush=True)
    result["reached"] = reached
    return result


def spread(values) -> str:
    return f"median {statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--every", type=float, default=10)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--skip-plain", action="store_true", help="skip the variant without attention")
    a = ap.parse_args()
    torch.set_num_threads(1)
    runs, plain = [], []
    for seed in a.seeds:
        data = CaptionData(seed=seed)  # the preset's pictures (up to 3 shapes) with this seed
        cfg, train_cfg = KIND.defaults(data)
        if seed == a.seeds[0]:
            print(f"preset: {cfg}\n        batch {train_cfg.batch_size}, lr {train_cfg.lr:g}, clip "
                  f"{train_cfg.grad_clip:g}; {data.name}, {len(data.val_layouts)} held-out pictures; one thread")
        base = baselines(data)
        print(f"seed {seed}: baselines on the held-out pictures — " + "; ".join(
            f"{name}: word accuracy {s['word_accuracy']:.1%}, exact match {s['exact_match']:.1%}"
            for name, s in base.items()))
        runs.append(train(data, cfg, train_cfg, seed, a.seconds, a.every, "attention") | {"base": base})
        if not a.skip_plain:
            cfg_plain = dataclasses.replace(cfg, attention=False)
            plain.append(train(data, cfg_plain, train_cfg, seed, a.seconds, a.every, "no attention"))
    print(f"\nafter {a.seconds:.0f} s of training, {len(runs)} seeds, with attention:")
    for key, name in (("word_accuracy", "word accuracy"), ("exact_match", "exact match"),
                      ("attention_on_named", "attention on the named shape")):
        print(f"  {name}: {spread([r[key] for r in runs])}")
    print(f"  steps: {spread([r['step'] for r in runs])}")
    for r, seed in zip(runs, a.seeds):
        when = f"bar met at step {r['reached'][0]} after {r['reached'][1]:.1f} s" if r["reached"] else "bar not met"
        print(f"  seed {seed}: {when}")
    for name in runs[0]["base"]:
        print(f"  baseline '{name}': word accuracy {spread([r['base'][name]['word_accuracy'] for r in runs])}, "
              f"exact match {spread([r['base'][name]['exact_match'] for r in runs])}")
    if plain:
        print("without attention (the grid's mean starts the decoder):")
        print(f"  word accuracy: {spread([r['word_accuracy'] for r in plain])}")
        print(f"  exact match: {spread([r['exact_match'] for r in plain])}")
    ok = all(r["word_accuracy"] >= 0.9 and r["exact_match"] >= 0.6 and r["attention_on_named"] >= 0.5 for r in runs)
    print(f"bar (word accuracy >= 90 %, exact match >= 60 %, attention share >= 0.5 at {a.seconds:.0f} s, every "
          f"seed): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
