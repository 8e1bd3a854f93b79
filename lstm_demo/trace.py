"""Replay a trained recurrent network one step at a time and record what happens inside.

Each cell type's equations live in exactly one function here: `lstm_cell`, `gru_cell`, `rnn_cell`. PyTorch packs
the gates in `weight_ih_l{k}` / `weight_hh_l{k}` as rows [i | f | g | o] for nn.LSTM and [r | z | n] for nn.GRU
(torch.nn docs), so the pre-activations split in that order:

  LSTM                                                     GRU
  i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)  input gate   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)  reset gate
  f = sigmoid(W_if x + b_if + W_hf h + b_hf)  forget gate  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)  update gate
  g = tanh   (W_ig x + b_ig + W_hg h + b_hg)  candidate    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) candidate
  o = sigmoid(W_io x + b_io + W_ho h + b_ho)  output gate  h = (1 - z) * n + z * h_prev
  c = f * c_prev + i * g                      cell state   RNN
  h = o * tanh(c)                             hidden       h = tanh(W_ih x + b_ih + W_hh h_prev + b_hh)

tests/test_trace.py proves the replay equals torch.nn.LSTM / GRU / RNN at every step, layer and direction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from .trace_data import CELL_QUANTITIES, GATES, MASK, QUANTITIES, Trace, default_mask  # noqa: F401  (re-exported)


class CellStep(NamedTuple):
    input_gate: torch.Tensor      # i, after the sigmoid, in (0, 1)
    forget_gate: torch.Tensor     # f, after the sigmoid, in (0, 1)
    candidate: torch.Tensor       # g, after the tanh, in (-1, 1)
    output_gate: torch.Tensor     # o, after the sigmoid, in (0, 1)
    cell_state: torch.Tensor      # c
    hidden_state: torch.Tensor    # h
    pre_activation: torch.Tensor  # (..., 4H) before the non-linearities, order i, f, g, o


class GRUStep(NamedTuple):
    reset_gate: torch.Tensor      # r in (0, 1): how much of h_prev the candidate may look at
    update_gate: torch.Tensor     # z in (0, 1): how much of h_prev to keep (1 - z of the candidate is written)
    new_gate: torch.Tensor        # n in (-1, 1): the candidate
    hidden_state: torch.Tensor    # h
    pre_activation: torch.Tensor  # (..., 3H) order r, z, n (n's includes r * (W_hn h + b_hn))


class RNNStep(NamedTuple):
    hidden_state: torch.Tensor
    pre_activation: torch.Tensor  # (..., H)


def _fix(value: torch.Tensor, name: str, fix) -> torch.Tensor:
    """Interventions: fix = {quantity: (unit, forced value)} overrides one unit of one gate."""
    if not fix or name not in fix:
        return value
    unit, forced = fix[name]
    value = value.clone()
    value[..., unit] = forced
    return value


def lstm_cell(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh, fix=None) -> CellStep:
    """One LSTM time step. x (..., E), h_prev/c_prev (..., H), w_ih (4H, E), w_hh (4H, H), biases (4H,)."""
    pre = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh  # (..., 4H)
    pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(pre_i), torch.sigmoid(pre_f), torch.tanh(pre_g), torch.sigmoid(pre_o)
    i, f, o = _fix(i, "input_gate", fix), _fix(f, "forget_gate", fix), _fix(o, "output_gate", fix)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return CellStep(i, f, g, o, c, h, pre)


def gru_cell(x, h_prev, w_ih, w_hh, b_ih, b_hh, fix=None) -> GRUStep:
    """One GRU time step (PyTorch's variant: r multiplies W_hn h + b_hn). Shapes as lstm_cell with 3H rows."""
    gi_r, gi_z, gi_n = (x @ w_ih.T + b_ih).chunk(3, dim=-1)
    gh_r, gh_z, gh_n = (h_prev @ w_hh.T + b_hh).chunk(3, dim=-1)
    pre_r, pre_z = gi_r + gh_r, gi_z + gh_z
    r, z = _fix(torch.sigmoid(pre_r), "reset_gate", fix), _fix(torch.sigmoid(pre_z), "update_gate", fix)
    pre_n = gi_n + r * gh_n
    n = torch.tanh(pre_n)
    h = (1 - z) * n + z * h_prev
    return GRUStep(r, z, n, h, torch.cat([pre_r, pre_z, pre_n], dim=-1))


def rnn_cell(x, h_prev, w_ih, w_hh, b_ih, b_hh, fix=None) -> RNNStep:
    """One plain (Elman) RNN step with tanh: everything it remembers must pass through this one squashing."""
    pre = x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh
    return RNNStep(torch.tanh(pre), pre)


CHUNKS = {"lstm": 4, "gru": 3, "rnn": 1}


def cell_type(rnn: nn.Module) -> str:
    if isinstance(rnn, nn.LSTM):
        if getattr(rnn, "proj_size", 0):
            raise ValueError("LSTMs with proj_size are not supported")
        return "lstm"
    if isinstance(rnn, nn.GRU):
        return "gru"
    if isinstance(rnn, nn.RNN):
        if rnn.nonlinearity != "tanh":
            raise ValueError("only tanh RNNs are supported")
        return "rnn"
    raise ValueError(f"not a recurrent layer: {type(rnn).__name__}")


def layer_weights(rnn, layer: int, direction: int, chunks: int):
    sfx = f"_l{layer}" + ("_reverse" if direction else "")
    w = lambda name: getattr(rnn, name + sfx)
    zero = torch.zeros(chunks * rnn.hidden_size)
    b_ih = w("bias_ih") if rnn.bias else zero
    b_hh = w("bias_hh") if rnn.bias else zero
    return w("weight_ih"), w("weight_hh"), b_ih, b_hh


@dataclass(frozen=True)
class Intervention:
    """Change the run from step `start` on (in reading order of the direction): clamp one unit's gate to a value,
    or hold one unit's state at zero. Used to ask "what if this gate had closed here?"."""
    layer: int
    unit: int
    start: int
    action: str = "clamp"          # "clamp" (gate := value) or "zero" (unit's h and c := 0 after each step)
    gate: str = "forget_gate"
    value: float = 0.0
    direction: int = 0

    def active(self, layer: int, direction: int, t: int) -> bool:
        if (layer, direction) != (self.layer, self.direction):
            return False
        return t >= self.start if direction == 0 else t <= self.start


@torch.no_grad()
def replay(rnn: nn.Module, x: torch.Tensor, state=None, intervention: Intervention | None = None) -> dict:
    """Run an nn.LSTM / nn.GRU / nn.RNN step by step on x (T, E) or a batch x (T, B, E) (time first).

    state: optional initial state in the module's layout without the batch position: LSTM (h0, c0), GRU/RNN h0,
    each (L*D, [B,] H) with D = 2 if bidirectional.
    Returns {quantity: (L, D, T, [B,] H)} for the cell's quantities, "pre_activation" (L, D, T, [B,] k*H) and
    "output" (T, [B,] D*H): the top layer's h as the module returns it.
    """
    cell = cell_type(rnn)
    if x.dim() not in (2, 3):
        raise ValueError(f"x must be (T, E) or (T, B, E), got shape {tuple(x.shape)}")
    L, D, H, T = rnn.num_layers, 2 if rnn.bidirectional else 1, rnn.hidden_size, x.shape[0]
    batch = tuple(x.shape[1:-1])
    zeros = torch.zeros(L * D, *batch, H)
    if state is None:
        h0, c0 = zeros, zeros
    elif cell == "lstm":
        h0, c0 = state
    else:
        h0, c0 = state, zeros
    names = CELL_QUANTITIES[cell]
    out = {q: torch.empty(L, D, T, *batch, H) for q in names}
    out["pre_activation"] = torch.empty(L, D, T, *batch, CHUNKS[cell] * H)
    layer_in = x
    for layer in range(L):
        for d in range(D):
            weights = layer_weights(rnn, layer, d, CHUNKS[cell])
            h, c = h0[layer * D + d], c0[layer * D + d]
            steps = range(T - 1, -1, -1) if d else range(T)  # the reverse direction reads the sequence backwards
            record = []                                          # one cell step per t, in reading order
            for t in steps:
                act = intervention is not None and intervention.active(layer, d, t)
                fix = {intervention.gate: (intervention.unit, intervention.value)} \
                    if act and intervention.action == "clamp" else None
                if cell == "lstm":
                    step = lstm_cell(layer_in[t], h, c, *weights, fix=fix)
                elif cell == "gru":
                    step = gru_cell(layer_in[t], h, *weights, fix=fix)
                else:
                    step = rnn_cell(layer_in[t], h, *weights)
                if act and intervention.action == "zero":
                    step = step._replace(**{q: _fix(getattr(step, q), q, {q: (intervention.unit, 0.0)})
                                            for q in ("hidden_state", "cell_state") if q in names})
                h = step.hidden_state
                c = step.cell_state if cell == "lstm" else c
                record.append(step)
            if d:
                record.reverse()                                 # back to the sequence's own order
            for k, name in enumerate(record[0]._fields):        # one copy per quantity, not one per step
                out[name][layer, d] = torch.stack([r[k] for r in record])
        # (D, T, [B,] H) -> (T, [B,] D*H): both directions side by side feed the next layer, as in nn.LSTM
        layer_in = out["hidden_state"][layer].movedim(0, -2).reshape(T, *batch, D * H)
    out["output"] = layer_in
    return out


replay_lstm = replay  # the name the notebook examples in README use

MODULES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


@torch.no_grad()
def check_replay(rnn: nn.Module, x: torch.Tensor, rep: dict) -> dict:
    """How far a replay (rep, from replay(rnn, x)) is from torch's own fused forward on the same input x (T, E):
    each layer is run by a one-layer torch module holding that layer's weights, fed what the layer below produced,
    and compared step by step in both directions; the whole module's output is compared too.
    Returns {"max_abs_h": float, "by_layer": [[layer, direction, float]], "module": "nn.LSTM"}."""
    cell = cell_type(rnn)
    L, D, H = rnn.num_layers, 2 if rnn.bidirectional else 1, rnn.hidden_size
    T = x.shape[0]
    by_layer, layer_in = [], x
    for layer in range(L):
        one = MODULES[cell](layer_in.shape[-1], H, 1, bias=rnn.bias, bidirectional=rnn.bidirectional)
        for d in range(D):
            sfx, one_sfx = f"_l{layer}" + ("_reverse" if d else ""), "_l0" + ("_reverse" if d else "")
            for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if rnn.bias else ()):
                getattr(one, name + one_sfx).copy_(getattr(rnn, name + sfx))
        out, _ = one(layer_in[:, None])                                   # (T, 1, D*H): torch's own kernel
        theirs = out[:, 0].reshape(T, D, H)
        for d in range(D):
            by_layer.append([layer, d, float((theirs[:, d] - rep["hidden_state"][layer, d]).abs().max())])
        layer_in = rep["hidden_state"][layer].movedim(0, -2).reshape(T, D * H)  # what the layer above reads
    whole, _ = rnn(x[None]) if rnn.batch_first else rnn(x[:, None])
    top = float(((whole[0] if rnn.batch_first else whole[:, 0]) - rep["output"]).abs().max())
    return {"max_abs_h": max([top] + [e for *_, e in by_layer]), "by_layer": by_layer,
            "module": f"torch.nn.{type(rnn).__name__}"}
