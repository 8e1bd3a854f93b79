"""Build a model of any kind from its config (the kind's module knows how: lstm_demo/kinds/), seeded, and size the
largest model the caps allow."""
from __future__ import annotations

import torch

from .kinds import KINDS


def build_model(cfg, seed: int = 0):
    """Same config + seed -> same initial weights (the global RNG is not touched). The config's type (and, for text
    and series, its `kind`) picks the kind that builds it."""
    kind = KINDS.for_config(cfg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return kind.build(cfg.validate())


class _NoInit(torch.overrides.TorchFunctionMode):
    """In-place ops (the initialisers: normal_, uniform_, zero_ …) do nothing: a count needs shapes, not values. On
    the meta device torch runs normal_ (nn.Embedding's init) through a Python reference that imports torch._dynamo:
    2 s and ~140 MB more for the server's first model file or link (measured here)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name.endswith("_") and not name.endswith("__"):  # nn.init's own functions pass the tensor by keyword
            return args[0] if args else kwargs["tensor"]
        return func(*args, **kwargs)


def count_parameters(cfg) -> int:
    """Parameters of the model a config describes, without allocating or initialising its weights."""
    with torch.device("meta"), _NoInit():
        return sum(p.numel() for p in KINDS.for_config(cfg).build(cfg.validate()).parameters())


def max_parameters() -> int:
    """The most parameters any config within the caps can have, over every kind: sizes file and memory limits."""
    return max(count_parameters(kind.max_config()) for kind in KINDS.values())
