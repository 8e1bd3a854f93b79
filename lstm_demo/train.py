"""Pure training pieces: batches, one optimiser step, evaluation. No threads and no UI here (jobs.py schedules)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .data.windows import fixed_windows, random_windows

VAL_WINDOWS = 16  # fixed validation windows: enough for a stable curve, cheap enough to run every second


class NonFiniteLoss(RuntimeError):
    """Loss or gradient became NaN/inf; the step was not applied."""


def loss_of(model, x, y, kind: str) -> torch.Tensor:
    out, _ = model(x)                                          # (B, T, V) or (B, T, 1)
    if kind == "text":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return F.mse_loss(out, y)


def train_step(model, optimizer, x, y, kind: str, grad_clip: float) -> float:
    """One optimiser step; raises NonFiniteLoss (weights untouched) if the loss or gradient is NaN/inf."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    loss = loss_of(model, x, y, kind)
    value = loss.item()
    if not math.isfinite(value):
        raise NonFiniteLoss(f"the training loss became {value}")
    loss.backward()
    if grad_clip > 0:
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        if not torch.isfinite(norm):
            raise NonFiniteLoss("the gradient became NaN or infinite")
    optimizer.step()
    return value


@torch.no_grad()
def evaluate(model, val_x, val_y, kind: str) -> float:
    model.eval()
    return loss_of(model, val_x, val_y, kind).item()


class Batches:
    """Random training windows and fixed validation windows for one dataset at one sequence length."""

    def __init__(self, data, seq_len: int, batch_size: int, seed: int):
        self.train, self.val = data.parts(seq_len)  # raises DataError when too short
        self.seq_len, self.batch_size = seq_len, batch_size
        self.gen = torch.Generator().manual_seed(seed)
        self.val_x, self.val_y = fixed_windows(self.val, VAL_WINDOWS, seq_len)

    def next(self):
        return random_windows(self.train, self.batch_size, self.seq_len, self.gen)

    @property
    def items_per_batch(self) -> int:
        return self.batch_size * self.seq_len


def make_optimizer(model, lr: float):
    return torch.optim.Adam(model.parameters(), lr=lr)
