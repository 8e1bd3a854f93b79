"""Frozen configuration values and the hard caps that every entry point (widget, notebook, crafted request) obeys.

The caps are checked here, in the core, not only by widget ranges: a crafted websocket message can send any value.
"""
from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, fields, replace


class ConfigError(ValueError):
    """A value a user chose is out of range; the message says which and what is allowed."""


class DataError(ValueError):
    """The data cannot be used; the message says why in words a visitor understands. (Defined here, without torch,
    so pages can catch it before torch is loaded; lstm_demo.data re-exports it.)"""


@dataclass(frozen=True)
class Limits:
    """Hard caps sized for the smallest hosted tier (690 MB RAM, a fraction of a core)."""
    max_hidden: int = 256            # units per layer
    max_embed: int = 256             # width of the embedding / input projection
    max_layers: int = 3              # stacked LSTM layers
    max_seq_len: int = 256           # steps per training window / traced sequence
    max_batch: int = 128             # windows per optimiser step
    max_steps: int = 5000            # optimiser steps per training run
    max_wall_seconds: float = 300.0  # a training job stops itself after this long
    max_text_chars: int = 1_000_000  # longer text is refused, not truncated silently
    max_vocab: int = 256             # distinct characters
    max_series_len: int = 200_000    # points
    max_upload_bytes: int = 5_000_000
    max_concurrent_jobs: int = 2     # trainings running at once in this process; others wait in a queue
    heartbeat_timeout: float = 90.0  # a job nobody has looked at for this long stops (visitor left)


# Per-replica settings an operator may change without editing code (deploy/compose.yaml sets them per replica):
# variable -> (Limits field, lowest, highest). The range keeps the core's promises: at least one training slot, and no
# more than a big machine's cores (each job uses a core and up to tens of MB; more jobs than cores only slow all).
ENV_LIMITS = {"LSTM_LAB_MAX_JOBS": ("max_concurrent_jobs", 1, 16)}


def limits_from_env(environ=os.environ) -> Limits:
    """The caps, with each ENV_LIMITS variable that is set taken as a whole number and clamped to its range. A value
    that is refused or clamped is said in the log (what was asked, what is used), never silently."""
    log, changes = logging.getLogger(__name__), {}
    for var, (name, lo, hi) in ENV_LIMITS.items():
        raw = environ.get(var, "").strip()
        if not raw:
            continue
        default = getattr(Limits, name)
        try:
            asked = int(raw)
        except ValueError:
            log.warning("%s=%r is not a whole number: using the default %d", var, raw[:40], default)
            continue
        used = min(max(asked, lo), hi)
        if used != asked:
            log.warning("%s=%d is outside %d…%d: using %d", var, asked, lo, hi, used)
        changes[name] = used
    return replace(Limits(), **changes)


LIMITS = limits_from_env()
CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "plain RNN"}


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "text"       # "text": embedding -> LSTM -> next-character logits; "series": linear -> LSTM -> next value
    vocab_size: int = 0      # text only: number of distinct characters (input and output size)
    embed_size: int = 32     # width of the embedding (text) or of the linear input projection (series)
    hidden_size: int = 64    # LSTM units per layer
    num_layers: int = 1      # stacked layers
    cell: str = "lstm"       # "lstm", "gru" or "rnn" (plain tanh RNN)
    bidirectional: bool = False  # a second layer reads the sequence backwards (task "masked" only)
    task: str = "next"       # "next": predict the next item; "masked": fill in hidden characters (text only)
    input_size: int = 1      # series only: features per step (the adding problem feeds value and marker)

    def validate(self) -> "ModelConfig":
        if self.kind not in ("text", "series"):
            raise ConfigError(f"kind must be 'text' or 'series', not {self.kind!r}")
        if self.cell not in CELLS:
            raise ConfigError(f"cell type must be one of {', '.join(CELLS)}, not {self.cell!r}")
        if self.task not in ("next", "masked"):
            raise ConfigError(f"task must be 'next' or 'masked', not {self.task!r}")
        if self.task == "masked" and self.kind != "text":
            raise ConfigError("the fill-in-the-blank task is for text only")
        if not isinstance(self.bidirectional, bool):
            raise ConfigError(f"bidirectional must be true or false, not {self.bidirectional!r}")
        if self.bidirectional and self.task != "masked":
            raise ConfigError("a bidirectional model reads the characters after each position too, so predicting "
                              "the next character would be cheating; use the fill-in-the-blank task with it")
        if self.kind == "text":
            check_int("vocab size", self.vocab_size, 2, LIMITS.max_vocab)
        check_int("embedding size", self.embed_size, 1, LIMITS.max_embed)
        check_int("input features", self.input_size, 1, 8)
        check_int("hidden size", self.hidden_size, 1, LIMITS.max_hidden)
        check_int("layers", self.num_layers, 1, LIMITS.max_layers)
        return self


@dataclass(frozen=True)
class TrainConfig:
    seq_len: int = 64          # steps per training window (truncated backpropagation length)
    batch_size: int = 32       # windows per optimiser step
    lr: float = 3e-3           # Adam learning rate; may change while training
    steps: int = 600           # optimiser steps in one run
    seed: int = 0              # seeds weights, batch order and generated data
    grad_clip: float = 1.0     # max global gradient norm; 0 turns clipping off
    eval_every: float = 1.0    # seconds between validation-loss checks (keeps evaluation under ~3% of the time)
    hide: str = "chars"        # fill-in task: hide single characters, or whole words ("go to ▮▮▮▮▮▮ in …")

    def validate(self) -> "TrainConfig":
        check_int("sequence length", self.seq_len, 2, LIMITS.max_seq_len)
        check_int("batch size", self.batch_size, 1, LIMITS.max_batch)
        check_int("steps", self.steps, 1, LIMITS.max_steps)
        check_int("seed", self.seed, 0, 2**31 - 1)
        _check_float("learning rate", self.lr, 1e-6, 1.0)
        _check_float("gradient clip", self.grad_clip, 0.0, 100.0)
        _check_float("evaluation interval", self.eval_every, 0.05, 60.0)
        if self.hide not in ("chars", "words"):
            raise ConfigError(f"hide must be 'chars' or 'words', got {self.hide!r}")
        return self


def check_int(name: str, value, lo: int, hi: int) -> None:
    """A whole number within lo … hi, or a ConfigError that says which setting and what it got."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")


def _check_float(name: str, value, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo:g} and {hi:g}, got {value:g}")


def describe(cfg) -> dict:
    """Plain dict of a config, for display and JSON."""
    return {f.name: getattr(cfg, f.name) for f in fields(cfg)}


# Defaults per kind of data, measured to give a visibly useful model within 30 s on 2 CPU cores with the Train page
# open (README, bench/bench_watched.py). Text: 64 units and 1,000 steps reach the validation loss of 128 units and
# 1,500 steps (0.24 nats/char on the agreement text) in a third of the time.
DEFAULTS = {
    "text": (ModelConfig(kind="text", embed_size=32, hidden_size=64, num_layers=1),
             TrainConfig(seq_len=64, batch_size=32, lr=5e-3, steps=1000)),
    "series": (ModelConfig(kind="series", embed_size=16, hidden_size=32, num_layers=1),
               TrainConfig(seq_len=64, batch_size=32, lr=5e-3, steps=1000)),
}


SEQ_LEN_CHOICES = (8, 16, 32, 64, 100, 128, 200, 256)  # what the Train page offers


def fitting_seq_len(n_items: int, preferred: int) -> int:
    """The longest offered sequence length up to `preferred` that a series or text of n_items can train and
    validate on (one window each: 2 * (length + 2) items); the shortest if none fits."""
    fits = [n for n in SEQ_LEN_CHOICES if n <= preferred and 2 * (n + 2) <= n_items]
    return max(fits) if fits else SEQ_LEN_CHOICES[0]
