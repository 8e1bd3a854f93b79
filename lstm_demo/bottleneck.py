"""The encoder–decoder's bottleneck, measured live: three models trained on the same task, seed and batches — one reads
the source as written, one reads it backwards (Sutskever et al. 2014), one attends to the encoder's steps (the fix:
Bahdanau et al. 2015, Luong et al. 2015) — then scored on the same held-out sources,
grouped by length (Cho et al. 2014: quality falls as sources get longer, because everything passes through the
encoder's final (h, c)). A background thread like a training job: it waits for a training slot, stops when asked or
when the visitor leaves, and never touches the UI.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .jobs import BackgroundRun, announce

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


BOTTLENECK_DEFAULT = BottleneckConfig()


def measure(cfg: BottleneckConfig, log=None, should_stop=lambda: False):
    """Train both variants and score them -> (accuracy by length (variant, bin, accuracy, examples), models).
    log(fraction done, message) is called along the way; should_stop() ends the run early (returns None)."""
    import torch

    from .config import TrainConfig
    from .data.translation import TranslationData
    from .models import build_model
    from .seq2seq import Seq2SeqConfig, accuracy_by_length
    from .train import make_batches, make_optimizer, train_step
    data = TranslationData(cfg.task, cfg.length, seed=cfg.seed)
    train_cfg = TrainConfig(batch_size=cfg.batch, lr=cfg.lr, steps=cfg.steps, seed=cfg.seed)
    frames, models, n = [], {}, len(VARIANTS)
    for k, (key, (name, reverse, attention)) in enumerate(VARIANTS.items()):
        model_cfg = Seq2SeqConfig(vocab_size=len(data.vocab), embed_size=cfg.embed, hidden_size=cfg.hidden,
                                  reverse_source=reverse, attention=attention)
        model = build_model(model_cfg, cfg.seed)
        opt = make_optimizer(model, cfg.lr)
        batches = make_batches(data, train_cfg, cfg.seed, reverse=reverse)  # the same pairs for both
        for step in range(1, cfg.steps + 1):
            if should_stop():
                return None
            train_step(model, opt, *batches.next(), "translation", 1.0)
            if log is not None and step % 20 == 0:
                log((k * cfg.steps + step) / (n * cfg.steps), f"training model {k + 1} of {n} ({name}): step "
                                                              f"{step} of {cfg.steps}")
        with torch.no_grad():
            table = accuracy_by_length(model, data)
        frames.append(table.assign(variant=name))
        models[key] = model
    return pd.concat(frames, ignore_index=True), models


def summary(result: pd.DataFrame) -> str:
    """What the chart shows, in words, from its numbers."""
    acc = {key: result[result.variant == NAME[key]].set_index("bin")["accuracy"] for key in VARIANTS}
    plain, rev, att = acc["plain"], acc["reversed"], acc["attention"]
    short, long_ = plain.index.min(), plain.index.max()
    better = int((rev > plain).sum())
    return (f"Read as written, the model gets **{plain[short]:.0%}** of the shortest sources ({short}–{short + 4} "
            f"characters) right and **{plain[long_]:.0%}** of the longest ({long_}–{long_ + 4}): the longer the "
            f"source, the more must squeeze through the encoder's one final (h, c). Reading the source backwards "
            f"gives **{rev[short]:.0%}** and **{rev[long_]:.0%}**, and does better in {better} of {len(plain)} "
            f"length groups — the answer's first characters then sit right next to the source characters they "
            f"copy. With attention, which lets every decoder step look back at every encoder step, it is "
            f"**{att[short]:.0%}** and **{att[long_]:.0%}**.")


class BottleneckRun(BackgroundRun):
    def __init__(self, cfg: BottleneckConfig = BOTTLENECK_DEFAULT, alive=None):
        self.cfg, self.alive = cfg, alive
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.status, self.message, self.progress = "queued", "waiting for a training slot", 0.0
        self.result = self.text = None
        self.heartbeat = time.monotonic()
        self._gone_since = None
        self.thread = threading.Thread(target=self._run, name="lstm-bottleneck", daemon=True)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    def view(self) -> dict:
        with self.lock:
            return {"status": self.status, "message": self.message, "progress": self.progress,
                    "result": self.result, "summary": self.text}

    def _abandoned(self) -> bool:
        return self._stop.is_set() or super()._abandoned()

    def _log(self, fraction, message):
        with self.lock:
            self.progress, self.message = float(np.clip(fraction, 0, 1)), message
        announce()

    def _run(self):
        from .jobs import lower_priority, release_slot, wait_for_slot
        lower_priority()
        try:
            if not wait_for_slot(self, self._abandoned):
                return self._set("stopped", "Stopped while waiting in the queue.")
            try:
                self._set("running", "training")
                out = measure(self.cfg, self._log, self._abandoned)
            finally:
                release_slot()
            with self.lock:
                if out is None:
                    self.status, self.message = "stopped", "Stopped."
                else:
                    self.result, self.text = out[0], summary(out[0])
                    self.status, self.message, self.progress = "done", "Done.", 1.0
            announce()
        except Exception as e:  # the page shows it; the thread must not die silently
            self._set("failed", f"The measurement failed: {type(e).__name__}: {e}")

    def _set(self, status: str, message: str) -> None:
        with self.lock:
            self.status, self.message = status, message
        announce()
