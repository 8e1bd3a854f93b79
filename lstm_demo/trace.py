"""Replay a trained LSTM one step at a time and record what happens inside.

`lstm_cell` is the one place the LSTM equations live. PyTorch packs the four gates in `weight_ih_l{k}` and
`weight_hh_l{k}` as rows [i | f | g | o] (torch.nn.LSTM docs), so the pre-activation splits in that order:

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)     input gate: how much of the candidate to write
    f = sigmoid(W_if x + b_if + W_hf h + b_hf)     forget gate: how much of the old cell state to keep
    g = tanh   (W_ig x + b_ig + W_hg h + b_hg)     candidate values
    o = sigmoid(W_io x + b_io + W_ho h + b_ho)     output gate: how much of the cell to show as h
    c = f * c_prev + i * g                          cell state (the conveyor belt)
    h = o * tanh(c)                                 hidden state (what the next layer and the head see)

tests/test_trace.py proves the replay equals torch.nn.LSTM's h and c at every step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import nn

QUANTITIES = ("input_gate", "forget_gate", "candidate", "output_gate", "cell_state", "hidden_state")


class CellStep(NamedTuple):
    input_gate: torch.Tensor      # i, after the sigmoid, in (0, 1)
    forget_gate: torch.Tensor     # f, after the sigmoid, in (0, 1)
    candidate: torch.Tensor       # g, after the tanh, in (-1, 1)
    output_gate: torch.Tensor     # o, after the sigmoid, in (0, 1)
    cell_state: torch.Tensor      # c
    hidden_state: torch.Tensor    # h
    pre_activation: torch.Tensor  # (..., 4H) before the non-linearities, order i, f, g, o


def lstm_cell(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh) -> CellStep:
    """One LSTM time step. x (..., E), h_prev/c_prev (..., H), w_ih (4H, E), w_hh (4H, H), biases (4H,)."""
    pre = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh  # (..., 4H)
    pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(pre_i), torch.sigmoid(pre_f), torch.tanh(pre_g), torch.sigmoid(pre_o)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return CellStep(i, f, g, o, c, h, pre)


def _layer_weights(lstm: nn.LSTM, layer: int, direction: int):
    sfx = f"_l{layer}" + ("_reverse" if direction else "")
    w = lambda name: getattr(lstm, name + sfx)
    zero = torch.zeros(4 * lstm.hidden_size)
    b_ih = w("bias_ih") if lstm.bias else zero
    b_hh = w("bias_hh") if lstm.bias else zero
    return w("weight_ih"), w("weight_hh"), b_ih, b_hh


@torch.no_grad()
def replay_lstm(lstm: nn.LSTM, x: torch.Tensor, state=None) -> dict:
    """Run `lstm` step by step on one sequence x (T, E).

    state: optional (h0, c0), each (L*D, H) in nn.LSTM's layout (D = 2 if bidirectional).
    Returns {quantity: tensor (L, D, T, H)} for QUANTITIES plus "pre_activation" (L, D, T, 4H) and
    "output" (T, D*H), the top layer's h as nn.LSTM returns it.
    """
    if x.dim() != 2:
        raise ValueError(f"x must be (T, E), got shape {tuple(x.shape)}")
    if getattr(lstm, "proj_size", 0):
        raise ValueError("LSTMs with proj_size are not supported")
    L, D, H, T = lstm.num_layers, 2 if lstm.bidirectional else 1, lstm.hidden_size, x.shape[0]
    h0, c0 = state if state is not None else (torch.zeros(L * D, H), torch.zeros(L * D, H))
    out = {q: torch.empty(L, D, T, H) for q in QUANTITIES}
    out["pre_activation"] = torch.empty(L, D, T, 4 * H)
    layer_in = x
    for layer in range(L):
        for d in range(D):
            weights = _layer_weights(lstm, layer, d)
            h, c = h0[layer * D + d], c0[layer * D + d]
            steps = range(T - 1, -1, -1) if d else range(T)  # the reverse direction reads the sequence backwards
            for t in steps:
                step = lstm_cell(layer_in[t], h, c, *weights)
                h, c = step.hidden_state, step.cell_state
                for name, value in step._asdict().items():
                    out[name][layer, d, t] = value
        layer_in = out["hidden_state"][layer].permute(1, 0, 2).reshape(T, D * H)  # (T, D*H) feeds the next layer
    out["output"] = layer_in
    return out


@dataclass
class Trace:
    """What one sequence did inside a trained model: arrays (L, T, H) per quantity plus inputs and predictions."""
    kind: str                      # "text" or "series"
    quantities: dict               # name -> np.ndarray (L, T, H) float32 (direction 0; bidirectional comes later)
    inputs: list                   # T input characters, or T input values in original units
    targets: list                  # T next items (the truth the prediction at each step is scored against)
    predictions: pd.DataFrame      # text: step, rank, char, prob; series: step, predicted, actual
    pre_activation: np.ndarray = field(repr=False, default=None)  # (L, T, 4H)

    @property
    def n_steps(self) -> int:
        return self.quantities["cell_state"].shape[1]

    @property
    def n_layers(self) -> int:
        return self.quantities["cell_state"].shape[0]

    @property
    def n_units(self) -> int:
        return self.quantities["cell_state"].shape[2]

    def to_frame(self) -> pd.DataFrame:
        """Tidy (long) frame: step, layer, direction, unit, quantity, value, input."""
        L, T, H = self.quantities["cell_state"].shape
        layer, step, unit = (a.ravel() for a in np.meshgrid(np.arange(L), np.arange(T), np.arange(H), indexing="ij"))
        inputs = np.asarray(self.inputs, dtype=object)
        frames = [pd.DataFrame({"step": step, "layer": layer, "direction": "forward", "unit": unit, "quantity": q,
                                "value": self.quantities[q].ravel(), "input": inputs[step]}) for q in QUANTITIES]
        return pd.concat(frames, ignore_index=True)


@torch.no_grad()
def trace_sequence(model, data, seq: torch.Tensor, top_k: int = 5, state=None) -> Trace:
    """Trace one sequence through a SequenceModel.

    seq: text ids (T+1,) or normalised series values (T+1, 1); steps 0..T-1 are fed, item t+1 is step t's target.
    """
    model.eval()
    x_in, target = seq[:-1], seq[1:]
    emb = model.encoder(x_in)                       # (T, E)
    replay = replay_lstm(model.rnn, emb, state)
    logits = model.head(replay["output"])           # (T, V) or (T, 1)
    quantities = {q: replay[q][:, 0].numpy() for q in QUANTITIES}
    pre = replay["pre_activation"][:, 0].numpy()
    T = len(x_in)
    if data.kind == "text":
        probs = torch.softmax(logits, dim=-1)
        top_p, top_i = probs.topk(min(top_k, probs.shape[-1]), dim=-1)  # (T, k)
        k = top_p.shape[1]
        preds = pd.DataFrame({"step": np.repeat(np.arange(T), k), "rank": np.tile(np.arange(1, k + 1), T),
                              "char": [data.vocab[int(i)] for i in top_i.ravel()],
                              "prob": top_p.ravel().numpy()})
        actual = probs[torch.arange(T), target].numpy()
        preds["actual_prob"] = np.repeat(actual, k)
        return Trace("text", quantities, [data.vocab[int(i)] for i in x_in], [data.vocab[int(i)] for i in target],
                     preds, pre)
    predicted = data.denorm(logits[:, 0].numpy())
    actual = data.denorm(target[:, 0].numpy())
    preds = pd.DataFrame({"step": np.arange(T), "predicted": predicted, "actual": actual})
    return Trace("series", quantities, list(data.denorm(x_in[:, 0].numpy())), list(actual), preds, pre)
