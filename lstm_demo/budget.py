"""A budget for one training run, not only caps.

Each size has its cap (config.Limits), but the caps do not bound their product: a ConvLSTM with the most channels,
the widest kernel, the most and the largest frames and a big batch passes every cap and needs minutes and gigabytes
per step. So every kind estimates what a training step costs from its settings (Kind.cost: weights, gradients and
Adam's moments, the activations autograd keeps, the floating-point operations of the forward and backward pass)
before anything runs, and what would not fit the budget is refused with the numbers and what to change.
Evaluations and previews, which may read many validation items at once, run in chunks that fit (chunk_items).

The budget is sized for the smallest hosted tier (690 MB, a fraction of a core): the server with its bundled
models takes about 450 MB under load (bench/bench_load.py), two training runs may run at once, and a Stop must
act within about a second whatever the settings (a run checks for it between steps).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .config import ConfigError

JOB_BYTES = 150_000_000     # what one training run may add to the server's memory (two runs at once: 300 MB)
FIXED_BYTES = 50_000_000    # what any training step adds first (thread pools, allocator arenas, kernel workspaces:
                            # measured 45-57 MB for the smallest models, bench/bench_budget.py)
STEP_SECONDS = 1.0          # one step's estimated time at REFERENCE_FLOPS: Stop, leave and the wall cap act between
REFERENCE_FLOPS = 1e10      # floating-point operations per second of one core: the slowest this VM's core ran these
                            # models at (1.0e10-6.5e10, bench/bench_budget.py)
EVAL_BYTES = 60_000_000     # what one chunk of an evaluation or a preview may add


@dataclass(frozen=True)
class Cost:
    """What one training step of a model costs, estimated from its settings."""
    parameters: int            # weights (each also has a gradient and two Adam moments during training)
    activations: int           # floats autograd keeps for the backward pass, per training batch
    flops: float               # floating-point operations of one step (forward and backward: ~3 × the forward)
    eval_floats_per_item: int  # floats one validation item needs in a forward pass without gradients

    @property
    def step_bytes(self) -> int:
        return FIXED_BYTES + 4 * (4 * self.parameters + self.activations)

    @property
    def step_seconds(self) -> float:
        return self.flops / REFERENCE_FLOPS

    def problems(self) -> list:
        """What exceeds the budget, in words ("about 2.1 GB per training step (the limit here is 120 MB)")."""
        out = []
        if self.step_bytes > JOB_BYTES:
            out.append(f"about {_size(self.step_bytes)} of memory per training step (the limit here is "
                       f"{_size(JOB_BYTES)})")
        if self.step_seconds > STEP_SECONDS:
            out.append(f"about {self.step_seconds:,.1f} s per training step on a small server's core (the limit "
                       f"here is {STEP_SECONDS:g} s)")
        return out


def check(cost: Cost, what: str, smaller: str) -> None:
    """Refuse a model whose training step would not fit the budget, saying what it needs and what to change.
    what: the model in words; smaller: which settings make it cheaper."""
    problems = cost.problems()
    if problems:
        raise ConfigError(f"{what} would need {' and '.join(problems)}. {smaller}")


EVAL_CHUNK_SECONDS = 0.5    # one chunk's estimated time at REFERENCE_FLOPS: a Stop waits for at most one chunk


def chunk_items(cost: Cost, items: int, batch: int | None = None) -> int:
    """How many validation items an evaluation or a preview reads at once (all of them when they fit): within
    EVAL_BYTES of memory and, given the training batch the cost was estimated for, about EVAL_CHUNK_SECONDS of
    work (a forward pass is about a third of a training step's operations), so a run can stop between chunks."""
    per_item = max(1, 4 * cost.eval_floats_per_item)
    fit = EVAL_BYTES // per_item
    if batch:
        forward_per_item = cost.flops / 3 / batch
        fit = min(fit, int(EVAL_CHUNK_SECONDS * REFERENCE_FLOPS / max(forward_per_item, 1.0)))
    return max(1, min(items, fit))


def _size(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def lstm_floats(cell_chunks: int, hidden: int) -> int:
    """Floats autograd keeps per item, step, layer and direction of a recurrent cell (pre-activations, gates,
    states, their non-linearities and the fused kernels' workspace: about 4 × the pre-activation for an LSTM on
    torch 2.13's CPU kernels — bench/bench_budget.py compares each estimate with a measurement)."""
    return math.ceil(4 * cell_chunks * hidden) + 3 * hidden
