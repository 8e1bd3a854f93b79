"""Training, written once. `Trainer.step` is one optimiser step for any kind (kind.loss on a batch, one gradient
clip, one policy for non-finite numbers); `fit` trains a fresh model synchronously. The background job
(jobs.TrainingJob), the long-memory race (several trainers in lockstep), the bottleneck measurement, the command
line and the bundle builder all train through them. No threads and no UI here (jobs.py schedules).

The policy for NaN and infinity (the same for every caller): a step whose loss or gradient is not finite is not
applied — the weights and the optimiser's moments stay as they were — and is counted as skipped. MAX_BAD_STEPS
skipped steps in a row mean training has diverged: the trainer restores the last good weights it kept, clears the
optimiser's moments (they may hold the bad values too) and raises NonFiniteLoss, which says why.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch

from .config import TrainConfig

GRAD_CLIP = TrainConfig().grad_clip  # the clip every run uses unless its config says otherwise (0 turns it off)
MAX_TOTAL_STEPS = 100_000_000        # steps a model may train in all (runs of at most max_steps each): its file opens
MAX_BAD_STEPS = 5                    # non-finite steps in a row before a run gives up
KEEP_EVERY = 25                      # fit() keeps the last good weights every this many steps


class NonFiniteLoss(RuntimeError):
    """Training diverged (MAX_BAD_STEPS non-finite steps in a row); the last good weights were restored."""


def make_optimizer(model, lr: float):
    return torch.optim.Adam(model.parameters(), lr=lr)


class Trainer:
    """One model's training: steps on batches (its own, from kind.batches, or given ones), the clip, the policy for
    non-finite numbers, and the last good weights."""

    def __init__(self, model, optimizer, kind, grad_clip: float = GRAD_CLIP, batches=None, step: int = 0,
                 eval_chunk: int | None = None):
        self.model, self.optimizer, self.kind, self.grad_clip, self.batches = model, optimizer, kind, grad_clip, batches
        self.eval_chunk = eval_chunk  # validation items read at once (budget.chunk_items); None: all
        self.steps = step           # steps taken (applied or skipped)
        self.skipped = 0            # steps not applied because a number was not finite
        self.bad_in_a_row = 0
        self.problem = ""           # what the last skipped step ran into
        self.good = (step, self._state())  # (step, weights) of the last good weights kept

    def _state(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def step(self, x=None, y=None) -> float | None:
        """One optimiser step on (x, y), or on the next batch. Returns the loss, or None if the step was skipped
        (loss or gradient not finite); raises NonFiniteLoss after MAX_BAD_STEPS skipped steps in a row."""
        if x is None:
            x, y = self.batches.next()
        self.steps += 1
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.kind.loss(self.model, x, y)
        value = loss.item()
        if not math.isfinite(value):
            return self._skip(f"the training loss became {value}")
        loss.backward()
        # the gradient's norm, clipped to grad_clip (0: not clipped, but still checked)
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip or float("inf"))
        if not torch.isfinite(norm):
            return self._skip("the gradient became NaN or infinite")
        self.optimizer.step()
        self.bad_in_a_row = 0
        return value

    def _skip(self, why: str) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.skipped += 1
        self.bad_in_a_row += 1
        self.problem = why
        if self.bad_in_a_row >= MAX_BAD_STEPS:
            self.restore_good()
            raise NonFiniteLoss(why)
        return None

    def keep_good(self) -> bool:
        """Keep the current weights as the last good ones if every number is finite (an update can make weights
        infinite with a finite loss). Returns whether they were kept."""
        state = self._state()
        if all(torch.isfinite(v).all() for v in state.values()):
            self.good = (self.steps, state)
            return True
        return False

    def restore_good(self) -> None:
        self.model.load_state_dict(self.good[1])
        for group_state in self.optimizer.state.values():  # Adam's moments may hold the bad values too
            group_state.clear()

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def evaluate(self, val_x=None, val_y=None, stop=None) -> float | None:
        """The loss on the validation batch (the kind's own, or the one given), without training, in chunks that
        fit the budget; None if stop() became true between chunks (a Stop need not wait for a long evaluation)."""
        if val_x is None:
            val_x, val_y = self.batches.val_x, self.batches.val_y
        return self.kind.val_loss(self.model, val_x, val_y, self.eval_chunk, stop)


@dataclass
class FitResult:
    model: object
    val_loss: float
    history: dict       # {"train": [(step, loss)], "val": [(step, loss)]}
    checkpoints: list   # [(step, state_dict)] evenly spread over the run, the last at the final step
    skipped: int = 0    # steps not applied (a non-finite loss or gradient)


def eval_chunk(kind, model_cfg, train_cfg, data, val_x) -> int:
    """Validation items an evaluation reads at once, within the memory budget (budget.chunk_items)."""
    from .budget import chunk_items
    from .kinds.base import rows
    return chunk_items(kind.cost(model_cfg, train_cfg, data), rows(val_x), train_cfg.batch_size)


def checkpoint_steps(total: int, n: int) -> set:
    """n steps spread evenly over a run of `total` steps, always including the last (and step 0 when n > 1)."""
    if n <= 0:
        return set()
    return {int(s) for s in np.linspace(0 if n > 1 else total, total, n).round()}


def fit(model_cfg, data, train_cfg, log=None, n_checkpoints: int = 0, n_evals: int = 20) -> FitResult:
    """Train a fresh model synchronously (no thread, no UI): the command line and the bundled models. With one torch
    thread it is reproducible bit for bit (evaluations and copies do not touch the random streams). log(step, loss)
    is called ten times along the way if given."""
    from .kinds import KINDS
    from .models import build_model
    kind = KINDS[data.kind]
    model_cfg, train_cfg = kind.checked(model_cfg, train_cfg, data)
    model = build_model(model_cfg, train_cfg.seed)
    batches = kind.batches(data, model_cfg, train_cfg, train_cfg.seed)
    trainer = Trainer(model, make_optimizer(model, train_cfg.lr), kind, train_cfg.grad_clip, batches,
                      eval_chunk=eval_chunk(kind, model_cfg, train_cfg, data, batches.val_x))
    evals = checkpoint_steps(train_cfg.steps, n_evals) - {0}
    keep = checkpoint_steps(train_cfg.steps, n_checkpoints)
    history, checkpoints = {"train": [], "val": []}, []
    snapshot = lambda step: checkpoints.append((step, copy.deepcopy(model.state_dict())))
    if 0 in keep:
        snapshot(0)
    for step in range(1, train_cfg.steps + 1):
        loss = trainer.step()
        if loss is not None:
            history["train"].append((step, loss))
        if step % KEEP_EVERY == 0:
            trainer.keep_good()
        if step in evals:
            history["val"].append((step, trainer.evaluate()))
        if step in keep:
            snapshot(step)
        if log is not None and step % max(1, train_cfg.steps // 10) == 0:
            log(step, loss if loss is not None else float("nan"))
    val = history["val"][-1][1] if history["val"] else trainer.evaluate()
    return FitResult(model, val, history, checkpoints, trainer.skipped)
