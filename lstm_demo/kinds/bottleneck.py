"""The encoder–decoder's bottleneck, measured live: three models trained on the same task, seed and batches — one
reads the source as written, one reads it backwards (Sutskever et al. 2014), one attends to the encoder's steps (the
fix: Bahdanau et al. 2015, Luong et al. 2015) — then scored on the same held-out sources, grouped by length (Cho et
al. 2014: quality falls as sources get longer, because everything passes through the encoder's final (h, c)). It
trains through the one Trainer and runs in the one background lifecycle (jobs.BackgroundRun): a training slot, the
queue, pause, stop, the wall-time cap and the visitor's heartbeat, like any job.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import LIMITS, check_choice, check_float, check_int
from ..jobs import BackgroundRun, announce
from .translation_data import LENGTHS, TASKS

VARIANTS = {  # key -> (what the chart calls it, reverse the source, attention)
    "plain": ("reads the source as written", False, False),
    "reversed": ("reads the source backwards", True, False),
    "attention": ("with attention (as written)", False, True),
}
NAME = {key: v[0] for key, v in VARIANTS.items()}


@dataclass(frozen=True)
class BottleneckConfig:
    task: str = "copy"
    length: int = 24
    hidden: int = 64
    embed: int = 32
    steps: int = 800
    batch: int = 64
    lr: float = 5e-3
    seed: int = 0

    def validate(self) -> "BottleneckConfig":
        """The same caps as a job's (three models share one slot, so their steps are capped together)."""
        check_choice("task", self.task, tuple(TASKS))
        lo, hi, _ = LENGTHS[self.task]
        check_int("length", self.length, lo, hi)
        check_int("hidden size", self.hidden, 1, LIMITS.max_hidden)
        check_int("embedding size", self.embed, 1, LIMITS.max_embed)
        check_int("steps per model", self.steps, 1, LIMITS.max_steps // len(VARIANTS))
        check_int("batch size", self.batch, 1, LIMITS.max_batch)
        check_float("learning rate", self.lr, 1e-6, 1.0)
        check_int("seed", self.seed, 0, 2**31 - 1)
        return self


BOTTLENECK_DEFAULT = BottleneckConfig()


def measure(cfg: BottleneckConfig, log=None, should_stop=lambda: None):
    """Train the variants and score them -> (accuracy by length (variant, bin, accuracy, examples), models), or
    None if should_stop() gave a reason to stop. log(fraction done, message) is called along the way."""
    import torch

    from ..config import TrainConfig
    from ..models import build_model
    from ..train import Trainer, make_optimizer
    from . import KINDS
    from .seq2seq import Seq2SeqConfig, accuracy_by_length
    from .translation_data import TranslationData
    cfg = cfg.validate()
    kind = KINDS["translation"]
    data = TranslationData(cfg.task, cfg.length, seed=cfg.seed)
    train_cfg = TrainConfig(batch_size=cfg.batch, lr=cfg.lr, steps=cfg.steps, seed=cfg.seed)
    frames, models, n = [], {}, len(VARIANTS)
    for k, (key, (name, reverse, attention)) in enumerate(VARIANTS.items()):
        model_cfg = Seq2SeqConfig(vocab_size=len(data.vocab), embed_size=cfg.embed, hidden_size=cfg.hidden,
                                  reverse_source=reverse, attention=attention)
        model_cfg, train_cfg = kind.checked(model_cfg, train_cfg, data)
        model = build_model(model_cfg, cfg.seed)
        trainer = Trainer(model, make_optimizer(model, cfg.lr), kind, train_cfg.grad_clip,
                          kind.batches(data, model_cfg, train_cfg, cfg.seed))  # the same pairs for every variant
        for step in range(1, cfg.steps + 1):
            if should_stop():
                return None
            trainer.step()
            if log is not None and step % 20 == 0:
                log((k * cfg.steps + step) / (n * cfg.steps), f"training model {k + 1} of {n} ({name}): step "
                                                              f"{step} of {cfg.steps}")
        with torch.no_grad():
            table = accuracy_by_length(model, data)
        frames.append(table.assign(variant=name))
        models[key] = model
    return pd.concat(frames, ignore_index=True), models


def length_effect(result: pd.DataFrame) -> str:
    """What source length does to the model read as written: "fewer" (the longest sources get more than
    SAME_SHARE fewer right than the shortest), "more", or "same"."""
    plain = result[result.variant == NAME["plain"]].set_index("bin")["accuracy"].sort_index()
    drop = plain[plain.index.min()] - plain[plain.index.max()]
    return "fewer" if drop > SAME_SHARE else "more" if drop < -SAME_SHARE else "same"


def chart_title(result: pd.DataFrame) -> str:
    """The chart's title says what its plain line shows (the same verdict as summary's first sentence)."""
    return {"fewer": "The bottleneck: longer sources, fewer right answers",
            "more": "Exact match by source length: here the longer sources do better",
            "same": "Exact match by source length: length makes little difference here"}[length_effect(result)]


def summary(result: pd.DataFrame) -> str:
    """What the chart shows, in words, from its numbers: every comparison is computed (conclusions.tally), and an
    explanation is given only when the numbers show what it explains."""
    from ..conclusions import tally
    acc = {key: result[result.variant == NAME[key]].set_index("bin")["accuracy"].sort_index() for key in VARIANTS}
    plain, rev, att = acc["plain"], acc["reversed"], acc["attention"]
    short, long_ = plain.index.min(), plain.index.max()
    groups = lambda a: f"**{a[short]:.0%}** of the shortest sources ({short}–{short + 4} characters) and " \
                       f"**{a[long_]:.0%}** of the longest ({long_}–{long_ + 4})"
    words = [f"Read as written, the model gets {groups(plain)} right", {
        "fewer": ": the longer the source, the more must squeeze through the encoder's one final (h, c).",
        "more": ": here the longer sources do better, so the final (h, c) is not what limits it.",
        "same": ": length makes little difference here."}[length_effect(result)]]
    vs = np.sign((rev - plain.reindex(rev.index)).round(6).to_numpy())
    words.append(f" Reading the source backwards gives {groups(rev)}; against reading it as written it is "
                 f"{tally(vs)}")
    words.append(" — the answer's first characters then sit right next to the source characters they copy."
                 if (vs > 0).sum() > (vs < 0).sum() else ".")
    gain = att[long_] - plain[long_]
    words.append(f" With attention, which lets every decoder step look back at every encoder step, it gets "
                 f"{groups(att)}" + (f", {gain * 100:.0f} points more of the longest than without it." if gain > SAME_SHARE
                                     else f", {-gain * 100:.0f} points fewer of the longest than without it."
                                     if gain < -SAME_SHARE else ", about as many of the longest as without it."))
    return "".join(words)


SAME_SHARE = 0.05   # accuracies within 5 points are "about the same" (a length group holds a few dozen sources)


class BottleneckRun(BackgroundRun):
    failure = "The measurement failed"
    thread_name = "lstm-bottleneck"

    def __init__(self, cfg: BottleneckConfig = BOTTLENECK_DEFAULT, alive=None):
        super().__init__(alive)
        self.cfg = cfg.validate()
        self.message, self.progress = "waiting for a training slot", 0.0
        self.result = self.text = None

    def view(self) -> dict:
        with self.lock:
            return {"status": self.status, "message": self.message, "progress": self.progress,
                    "result": self.result, "summary": self.text,
                    "title": chart_title(self.result) if self.result is not None else None}

    def _log(self, fraction, message):
        with self.lock:
            self.progress, self.message = float(np.clip(fraction, 0, 1)), message
        announce()

    def work(self):
        why = []

        def should_stop():
            reason = self.between_steps()
            if reason:
                why.append(reason)
            return reason

        with self.lock:
            self.message = "training"
        out = measure(self.cfg, self._log, should_stop)
        if out is None:
            return self.finish("stopped", self.stop_message(why[0]))
        with self.lock:
            self.result, self.text = out[0], summary(out[0])
            self.status, self.message, self.progress = "done", "Done.", 1.0
        announce()
