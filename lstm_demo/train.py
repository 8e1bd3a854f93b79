"""Pure training pieces: batches, one optimiser step, evaluation. No threads and no UI here (jobs.py schedules)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .data.windows import fixed_windows, random_windows

VAL_WINDOWS = 16  # fixed validation windows: enough for a stable curve, cheap enough to run every second
MASK_RATE = 0.15  # fill-in-the-blank task: share of characters hidden in each window (as in BERT)
IGNORE = -100     # target at positions that are not scored (cross_entropy's ignore_index)


class NonFiniteLoss(RuntimeError):
    """Loss or gradient became NaN/inf; the step was not applied."""


def loss_of(model, x, y, kind: str) -> torch.Tensor:
    out, _ = model(x)                                          # (B, T, V) or (B, T, 1); frames: (B, T, 1, F, F)
    if kind == "digits":  # "which digit came first?" is asked after every frame (the same answer throughout):
        return F.cross_entropy(out.flatten(0, 1), y.repeat_interleave(out.shape[1]))  # dense signal to learn from
    if kind == "frames":  # next-frame prediction: x is frames 0 … T-2, y frames 1 … T-1
        return F.mse_loss(out, y)
    if kind in ("text", "translation"):  # translation: the answer's characters under teacher forcing
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=IGNORE)
    scored = torch.isfinite(y)  # NaN targets are not scored (tasks that are judged only at the end)
    return F.mse_loss(out[scored], y[scored])


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


@torch.no_grad()
def accuracy(model, x, y) -> float:
    """Share of scored text positions (next character, or hidden character) where the top guess is right; for the
    digits question, share of sequences answered right after the last frame."""
    model.eval()
    out, _ = model(x)
    if out.dim() == 3 and y.dim() == 1:
        return (out[:, -1].argmax(-1) == y).float().mean().item()
    scored = y != IGNORE
    return (out.argmax(-1)[scored] == y[scored]).float().mean().item()


def mask_windows(x: torch.Tensor, mask_id: int, gen: torch.Generator, rate: float = MASK_RATE, letters=None):
    """Fill-in-the-blank batch from windows x (B, T): hide `rate` of the characters (at least one per window), or
    with `letters` ((V,) bool: which ids are letters) `rate` of the words, every letter of each.
    -> (input with mask_id at hidden positions, target = original there and IGNORE elsewhere)."""
    B, T = x.shape
    if letters is None:
        hide = torch.rand(x.shape, generator=gen) < rate
    else:
        is_letter = letters[x]
        starts = is_letter & ~torch.cat([torch.zeros(B, 1, dtype=torch.bool), is_letter[:, :-1]], 1)
        word = torch.cumsum(starts, 1)                      # the word each position belongs to (0: before any)
        hide = is_letter & torch.gather(torch.rand(B, T + 1, generator=gen) < rate, 1, word)
    hide[torch.arange(B), torch.randint(0, T, (B,), generator=gen)] = True
    return torch.where(hide, mask_id, x), torch.where(hide, x, IGNORE)


class Batches:
    """Random training windows and fixed validation windows for one dataset at one sequence length."""

    def __init__(self, data, seq_len: int, batch_size: int, seed: int, mask_id: int | None = None,
                 words: bool = False):
        self.train, self.val = data.parts(seq_len)  # raises DataError when too short
        self.seq_len, self.batch_size, self.mask_id = seq_len, batch_size, mask_id
        self.letters = torch.tensor([c.isalpha() for c in data.vocab]) if words else None
        self.gen = torch.Generator().manual_seed(seed)
        self.val_x, self.val_y = fixed_windows(self.val, VAL_WINDOWS, seq_len)
        if mask_id is not None:  # the same hidden positions at every evaluation: comparable validation loss
            self.val_x, self.val_y = mask_windows(self.val_x, mask_id, torch.Generator().manual_seed(12345),
                                                  letters=self.letters)

    def next(self):
        x, y = random_windows(self.train, self.batch_size, self.seq_len, self.gen)
        if self.mask_id is not None:
            return mask_windows(x, self.mask_id, self.gen, letters=self.letters)
        return x, y

    @property
    def items_per_batch(self) -> int:
        return self.batch_size * self.seq_len


class FrameBatches:
    """Batches of fresh image sequences (FramesData.train_batch) and the fixed validation sequences, with the same
    interface as Batches. Next-frame task: x = frames 0 … T-2, y = frames 1 … T-1; digits task: x = all frames,
    y = the label."""

    def __init__(self, data, batch_size: int, seed: int):
        self.data, self.batch_size = data, batch_size
        self.gen = torch.Generator().manual_seed(seed)
        labels = data.val_labels
        self.val_x, self.val_y = self._pair(torch.from_numpy(data.val_frames),
                                            torch.from_numpy(labels) if labels is not None else None)

    @staticmethod
    def _pair(frames, labels):
        return (frames, labels) if labels is not None else (frames[:, :-1], frames[:, 1:])

    def next(self):
        frames, labels = self.data.train_batch(self.batch_size, int(torch.randint(2**31 - 1, (1,), generator=self.gen)))
        return self._pair(torch.from_numpy(frames), torch.from_numpy(labels) if labels is not None else None)

    @property
    def items_per_batch(self) -> int:
        return self.batch_size * self.data.steps


class TranslationBatches:
    """Batches of fresh source–target pairs (TranslationData.train_pairs) and the fixed validation pairs:
    x = (source ids, source lengths, decoder inputs BOS + answer), y = answer + EOS (padding not scored)."""

    def __init__(self, data, batch_size: int, seed: int, reverse: bool = False):
        self.data, self.batch_size, self.reverse = data, batch_size, reverse
        self.gen = torch.Generator().manual_seed(seed)
        src, lengths, dec, y = data.tensors(data.val_pairs, reverse=reverse)
        self.val_x, self.val_y = (src, lengths, dec), y

    def next(self):
        pairs = self.data.train_pairs(self.batch_size, int(torch.randint(2**31 - 1, (1,), generator=self.gen)))
        src, lengths, dec, y = self.data.tensors(pairs, reverse=self.reverse)
        return (src, lengths, dec), y

    @property
    def items_per_batch(self) -> int:
        return self.batch_size


def make_batches(data, train_cfg, seed: int, mask_id: int | None = None, reverse: bool = False):
    """The batches for any kind of data: windows of text or series, whole image sequences, or translation pairs
    (reverse: the source read backwards)."""
    if data.kind in ("frames", "digits"):
        return FrameBatches(data, train_cfg.batch_size, seed)
    if data.kind == "translation":
        return TranslationBatches(data, train_cfg.batch_size, seed, reverse)
    return Batches(data, train_cfg.seq_len, train_cfg.batch_size, seed, mask_id=mask_id,
                   words=train_cfg.hide == "words")


def make_optimizer(model, lr: float):
    return torch.optim.Adam(model.parameters(), lr=lr)


@dataclass
class FitResult:
    model: object
    val_loss: float
    history: dict       # {"train": [(step, loss)], "val": [(step, loss)]}
    checkpoints: list   # [(step, state_dict)] evenly spread over the run, the last at the final step


def checkpoint_steps(total: int, n: int) -> set:
    """n steps spread evenly over a run of `total` steps, always including the last (and step 0 when n > 1)."""
    if n <= 0:
        return set()
    return {int(s) for s in np.linspace(0 if n > 1 else total, total, n).round()}


def fit(model_cfg, data, train_cfg, log=None, n_checkpoints: int = 0, n_evals: int = 20) -> FitResult:
    """Train a fresh model synchronously (no thread, no UI). Used by the command line and by the bundled-model
    regeneration; with one torch thread it is reproducible bit for bit (evaluations and copies do not touch the
    random streams). log(step, loss) is called ten times along the way if given."""
    from .models import build_model
    model = build_model(model_cfg, train_cfg.seed)
    optimizer = make_optimizer(model, train_cfg.lr)
    batches = make_batches(data, train_cfg, train_cfg.seed,
                           mask_id=model.mask_id if getattr(model_cfg, "task", "") == "masked" else None,
                           reverse=getattr(model_cfg, "reverse_source", False))
    evals = checkpoint_steps(train_cfg.steps, n_evals) - {0}
    keep = checkpoint_steps(train_cfg.steps, n_checkpoints)
    history, checkpoints = {"train": [], "val": []}, []
    snapshot = lambda step: checkpoints.append((step, {k: v.detach().clone() for k, v in model.state_dict().items()}))
    if 0 in keep:
        snapshot(0)
    for step in range(1, train_cfg.steps + 1):
        loss = train_step(model, optimizer, *batches.next(), data.kind, train_cfg.grad_clip)
        history["train"].append((step, loss))
        if step in evals:
            history["val"].append((step, evaluate(model, batches.val_x, batches.val_y, data.kind)))
        if step in keep:
            snapshot(step)
        if log is not None and step % max(1, train_cfg.steps // 10) == 0:
            log(step, loss)
    val = history["val"][-1][1] if history["val"] else evaluate(model, batches.val_x, batches.val_y, data.kind)
    return FitResult(model, val, history, checkpoints)
