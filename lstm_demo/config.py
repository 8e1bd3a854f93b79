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


class ModelFileError(ValueError):
    """A model file (an upload, a stored copy, a bundle) is not usable; the message says why. (Here, without torch,
    so every kind's file check can raise it; lstm_demo.store re-exports it.)"""


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
        check_float("learning rate", self.lr, 1e-6, 1.0)
        check_float("gradient clip", self.grad_clip, 0.0, 100.0)
        check_float("evaluation interval", self.eval_every, 0.05, 60.0)
        check_choice("hide", self.hide, ("chars", "words"))
        return self


def check_bool(name: str, value) -> None:
    """True or False, or a ConfigError (a file or a crafted message may send "false", 0 or None)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, not {value!r}")


def check_choice(name: str, value, choices) -> None:
    """One of `choices`, or a ConfigError that lists them."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))}, not {str(value)[:40]!r}")


def check_int(name: str, value, lo: int, hi: int) -> None:
    """A whole number within lo … hi, or a ConfigError that says which setting and what it got."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")


def check_float(name: str, value, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo:g} and {hi:g}, got {value:g}")


def describe(cfg) -> dict:
    """Plain dict of a config, for display and JSON."""
    return {f.name: getattr(cfg, f.name) for f in fields(cfg)}
