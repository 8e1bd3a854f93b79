"""ConvLSTM (Shi et al. 2015): an LSTM whose gates are convolutions, so i, f, g, o, c and h are maps.

There is no fused kernel: `convlstm_cell` holds the equations once and serves both training (`ConvLSTM.forward`)
and the trace (`ConvLSTM.trace`), so what a learner steps through is what was trained. Gate order and bias layout
follow torch.nn.LSTM (i, f, g, o; one conv over [x, h] whose weight is [W_x | W_h]), which is what makes a 1×1
ConvLSTM on 1×1 frames exactly an nn.LSTM (tests/test_convlstm.py proves it).

    i = σ(W_xi * x + W_hi * h + w_ci ∘ c + b_i)        f = σ(W_xf * x + W_hf * h + w_cf ∘ c + b_f)
    g = tanh(W_xg * x + W_hg * h + b_g)                  c' = f ∘ c + i ∘ g
    o = σ(W_xo * x + W_ho * h + w_co ∘ c' + b_o)        h' = o ∘ tanh(c')

(* a 2-D convolution with "same" padding, ∘ elementwise; the peephole terms w_c∘ are optional, as in the paper.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..config import ConfigError, check_bool, check_int

MAX_CHANNELS = 64
MAX_KERNEL = 7
MAX_FRAME = 64


@dataclass(frozen=True)
class ConvLSTMConfig:
    in_channels: int = 1
    hidden_channels: int = 8
    kernel: int = 3           # odd, so "same" padding keeps the frame size
    height: int = 16
    width: int = 16
    peephole: bool = False

    @property
    def cell(self) -> str:
        return "lstm"  # the cell type, as ModelConfig.cell (views and checks that ask which cell it is)

    def validate(self) -> "ConvLSTMConfig":
        for name, value, top in (("input channels", self.in_channels, 8), ("hidden channels", self.hidden_channels,
                                 MAX_CHANNELS), ("kernel size", self.kernel, MAX_KERNEL),
                                 ("frame height", self.height, MAX_FRAME), ("frame width", self.width, MAX_FRAME)):
            check_int(name, value, 1, top)
        if self.kernel % 2 == 0:
            raise ConfigError(f"kernel size must be odd (so a frame keeps its size), got {self.kernel}")
        check_bool("peepholes", self.peephole)
        return self


@dataclass
class ConvStep:
    """One step's maps, each (B, C, H, W); pre holds the four gates' pre-activations (B, 4C, H, W)."""
    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor
    c: torch.Tensor
    h: torch.Tensor
    pre: torch.Tensor


def convlstm_cell(x, h_prev, c_prev, weight, bias, peep=None) -> ConvStep:
    """One ConvLSTM step. x (B, Cin, H, W); h_prev/c_prev (B, C, H, W); weight (4C, Cin + C, k, k) over [x, h];
    bias (4C,); peep None or (3, C, H, W): the peephole weights w_ci, w_cf, w_co."""
    k = weight.shape[-1]
    pre = F.conv2d(torch.cat([x, h_prev], dim=1), weight, bias, padding=k // 2)
    pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=1)
    if peep is not None:
        pre_i, pre_f = pre_i + peep[0] * c_prev, pre_f + peep[1] * c_prev
    i, f, g = torch.sigmoid(pre_i), torch.sigmoid(pre_f), torch.tanh(pre_g)
    c = f * c_prev + i * g
    if peep is not None:
        pre_o = pre_o + peep[2] * c
    o = torch.sigmoid(pre_o)
    h = o * torch.tanh(c)
    return ConvStep(i, f, g, o, c, h, torch.cat([pre_i, pre_f, pre_g, pre_o], dim=1))


class ConvLSTM(nn.Module):
    """A one-layer ConvLSTM that predicts the next frame: a 1×1 convolution of h, squashed to [0, 1]."""
    family = "convlstm"
    cell = "lstm"

    def __init__(self, cfg: ConvLSTMConfig):
        super().__init__()
        self.cfg = cfg = cfg.validate()
        c, k = cfg.hidden_channels, cfg.kernel
        self.weight = nn.Parameter(torch.empty(4 * c, cfg.in_channels + c, k, k))
        self.bias = nn.Parameter(torch.zeros(4 * c))
        self.peep = nn.Parameter(torch.zeros(3, c, cfg.height, cfg.width)) if cfg.peephole else None
        self.head = nn.Conv2d(c, cfg.in_channels, 1)
        nn.init.xavier_uniform_(self.weight)
        with torch.no_grad():
            self.bias[c : 2 * c] = 1.0  # forget-gate bias 1: remember by default (Gers et al. 2000)

    def initial_state(self, batch: int):
        shape = (batch, self.cfg.hidden_channels, self.cfg.height, self.cfg.width)
        return torch.zeros(shape), torch.zeros(shape)

    def _check(self, frames: torch.Tensor) -> None:
        cfg = self.cfg
        if frames.dim() != 5 or tuple(frames.shape[2:]) != (cfg.in_channels, cfg.height, cfg.width):
            raise ConfigError(f"frames must be (batch, time, {cfg.in_channels}, {cfg.height}, {cfg.width}), got "
                              f"{tuple(frames.shape)}")
        if not torch.isfinite(frames).all():
            raise ConfigError("the frames contain NaN or infinite values")

    def forward(self, frames: torch.Tensor, state=None):
        """frames (B, T, Cin, H, W) -> (predicted next frames (B, T, Cin, H, W), (h, c) after the last step)."""
        self._check(frames)
        h, c = state if state is not None else self.initial_state(frames.shape[0])
        outputs = []
        for t in range(frames.shape[1]):
            step = convlstm_cell(frames[:, t], h, c, self.weight, self.bias, self.peep)
            h, c = step.h, step.c
            outputs.append(h)
        hs = torch.stack(outputs, dim=1)
        b, t = hs.shape[:2]
        pred = torch.sigmoid(self.head(hs.flatten(0, 1))).unflatten(0, (b, t))
        return pred, (h, c)

    @torch.no_grad()
    def trace(self, frames: torch.Tensor) -> list[ConvStep]:
        """Every step's maps for one sequence (T, Cin, H, W), through the same cell function as training."""
        frames = frames[None]
        self._check(frames)
        h, c = self.initial_state(1)
        steps = []
        for t in range(frames.shape[1]):
            step = convlstm_cell(frames[:, t], h, c, self.weight, self.bias, self.peep)
            steps.append(ConvStep(*(getattr(step, n)[0] for n in ("i", "f", "g", "o", "c", "h", "pre"))))
            h, c = step.h, step.c
        return steps


# --- next-frame training -------------------------------------------------------------------------------------------

def next_frame_mse(model: ConvLSTM, frames: torch.Tensor) -> float:
    """Mean squared error of the model's next-frame predictions over frames (N, T, C, H, W), steps 1 … T-1."""
    with torch.no_grad():
        pred, _ = model(frames[:, :-1])
    return float(F.mse_loss(pred, frames[:, 1:]))


def copy_last_mse(frames: torch.Tensor) -> float:
    """The baseline a model must beat: predict that the next frame equals this one."""
    return float(F.mse_loss(frames[:, :-1], frames[:, 1:]))


@torch.no_grad()
def trace_convlstm(model: ConvLSTM, frames):
    """The trace of one sequence (T, Cin, H, W) for the step-through views: quantities (1, 1, T, C, H, W), so a "unit"
    is one channel at one pixel (flat index c·H·W + y·W + x) and the cell diagram and equations of the vector LSTM
    apply to it unchanged; the input frames, the predicted next frames and the true next frames ride in extras.
    The last frame has no true next frame (NaN)."""
    from ..trace_data import CELL_QUANTITIES, Trace
    model.eval()
    x = torch.as_tensor(np.asarray(frames, dtype=np.float32))
    steps = model.trace(x)
    names = dict(zip(CELL_QUANTITIES["lstm"], ("i", "f", "g", "o", "c", "h")))
    quantities = {q: torch.stack([getattr(s, n) for s in steps])[None, None].numpy() for q, n in names.items()}
    pre = torch.stack([s.pre.flatten() for s in steps])[None, None].numpy()     # (1, 1, T, 4·C·H·W), i f g o
    hs = torch.stack([s.h for s in steps])                                       # (T, C, H, W)
    predicted = torch.sigmoid(model.head(hs)).numpy()                           # (T, Cin, H, W)
    forward, _ = model(x[None])                                                  # the training forward pass
    truth = np.full_like(predicted, np.nan)
    truth[:-1] = x[1:].numpy()
    T = x.shape[0]
    mse = [float(np.mean((predicted[t] - truth[t]) ** 2)) if t < T - 1 else float("nan") for t in range(T)]
    copy = [float(np.mean((x[t].numpy() - truth[t]) ** 2)) if t < T - 1 else float("nan") for t in range(T)]
    preds = pd.DataFrame({"step": np.arange(T), "mse": mse, "copy_mse": copy})
    trace = Trace("frames", quantities, [f"frame {t}" for t in range(T)], [f"frame {t + 1}" for t in range(T)],
                  preds, pre, "lstm", "next")
    trace.extras.update(frames=x[:, 0].numpy(), predicted=predicted[:, 0], truth=truth[:, 0],
                        replay_check={"max_abs_h": float((forward[0] - torch.as_tensor(predicted)).abs().max()),
                                      "module": "ConvLSTM.forward", "compared": "the predicted frames"})
    return trace
