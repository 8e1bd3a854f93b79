"""CNN-LSTM: a small CNN turns each frame into a vector, an nn.LSTM reads the vectors, a head answers.

    frame (1, F, F) -> conv 3×3 (C maps) -> ReLU -> max-pool 2 -> conv 3×3 (2C maps) -> ReLU -> max-pool 2
                    -> flatten -> Linear -> ReLU -> (E,)  per step
    (E,) per step -> nn.LSTM (H) -> Linear -> 10 logits per step ("which digit came first?", scored at the last step)

The LSTM is a plain nn.LSTM, so its trace is the one replay in trace.py run on the CNN's outputs: the gates, the
diagram and the equations are exactly those of the text and series models.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..config import LIMITS, ConfigError, check_int


@dataclass(frozen=True)
class CNNLSTMConfig:
    frame: int = 16
    conv_channels: int = 8     # maps of the first convolution (the second has twice as many)
    embed_size: int = 32       # the vector each frame becomes
    hidden_size: int = 32      # LSTM units
    classes: int = 10

    @property
    def cell(self) -> str:
        return "lstm"  # the cell type, as ModelConfig.cell (views and checks that ask which cell it is)

    def validate(self) -> "CNNLSTMConfig":
        for name, value, lo, hi in (("frame size", self.frame, 8, 32), ("convolution maps", self.conv_channels, 1, 32),
                                    ("embedding size", self.embed_size, 1, LIMITS.max_embed),
                                    ("hidden size", self.hidden_size, 1, LIMITS.max_hidden),
                                    ("classes", self.classes, 2, 100)):
            check_int(name, value, lo, hi)
        if self.frame % 4:
            raise ConfigError(f"frame size must be a multiple of 4 (two 2× poolings), got {self.frame}")
        return self


class CNNLSTM(nn.Module):
    family = "cnnlstm"
    cell = "lstm"

    def __init__(self, cfg: CNNLSTMConfig):
        super().__init__()
        self.cfg = cfg = cfg.validate()
        c = cfg.conv_channels
        self.conv1 = nn.Conv2d(1, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, 2 * c, 3, padding=1)
        self.proj = nn.Linear(2 * c * (cfg.frame // 4) ** 2, cfg.embed_size)
        self.rnn = nn.LSTM(cfg.embed_size, cfg.hidden_size, batch_first=True)
        self.head = nn.Linear(cfg.hidden_size, cfg.classes)

    def check(self, frames: torch.Tensor) -> None:
        f = self.cfg.frame
        if frames.dim() != 5 or tuple(frames.shape[2:]) != (1, f, f):
            raise ConfigError(f"frames must be (batch, time, 1, {f}, {f}), got {tuple(frames.shape)}")
        if not torch.isfinite(frames).all():
            raise ConfigError("the frames contain NaN or infinite values")

    def features(self, frames: torch.Tensor):
        """frames (N, 1, F, F) -> (vectors (N, E), the first convolution's maps after ReLU (N, C, F, F))."""
        maps = F.relu(self.conv1(frames))
        z = F.max_pool2d(F.relu(self.conv2(F.max_pool2d(maps, 2))), 2)
        return self.proj(z.flatten(1)), maps

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, 1, F, F) -> the LSTM's inputs (B, T, E)."""
        b, t = frames.shape[:2]
        return self.features(frames.flatten(0, 1))[0].unflatten(0, (b, t))

    def forward(self, frames: torch.Tensor, state=None):
        """frames (B, T, 1, F, F) -> (logits at every step (B, T, classes), final (h, c))."""
        self.check(frames)
        hidden, state = self.rnn(self.encode(frames), state)
        return self.head(hidden), state

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


DIGIT_NAMES = [str(d) for d in range(10)]


@torch.no_grad()
def trace_cnnlstm(model: CNNLSTM, frames, label: int | None, top_k: int = 5):
    """The trace of one sequence (T, 1, F, F): the LSTM replayed (trace.py) on the CNN's vectors, the frames and the
    first convolution's maps per step (extras), and the answer the head would give after each step."""
    from ..trace import check_replay, replay
    from ..trace_data import CELL_QUANTITIES, Trace
    model.eval()
    x = torch.as_tensor(np.asarray(frames, dtype=np.float32))
    model.check(x[None])
    vectors, maps = model.features(x)
    rep = replay(model.rnn, vectors)                              # (T, E): time first, one sequence
    check = check_replay(model.rnn, vectors, rep)
    probs = torch.softmax(model.head(rep["output"]), -1).numpy()  # (T, classes): the answer after each step
    T = x.shape[0]
    rows = []
    for t in range(T):
        order = np.argsort(-probs[t])[:top_k]
        actual = float(probs[t, label]) if label is not None else float("nan")
        rows += [{"step": t, "rank": r + 1, "char": DIGIT_NAMES[k], "prob": float(probs[t, k]),
                  "actual_prob": actual} for r, k in enumerate(order)]
    truth = DIGIT_NAMES[label] if label is not None else "?"
    quantities = {q: rep[q].numpy() for q in CELL_QUANTITIES["lstm"]}
    trace = Trace("digits", quantities, [f"frame {t}" for t in range(T)], [truth] * T, pd.DataFrame(rows),
                  rep["pre_activation"].numpy(), "lstm", "next")
    trace.extras.update(replay_check=check, frames=x[:, 0].numpy(), maps=maps.numpy(),
                        probs=probs.astype(np.float32), label=label)
    return trace
