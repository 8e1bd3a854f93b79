"""Numbers that explain one step of one unit, and statistics that explain a whole model. No Streamlit here.

- `equation_terms`: every term of the cell's equations for one unit at one step, read from a Trace.
- `diagram_frames`: the tutorials' cell diagram as line segments whose width is the current value.
- hypotheses + `rank_units`: which unit's state follows "inside quotes", "plural subject", "series rising", …
- `gate_saturation`: Karpathy's figure — how often each unit's gates sit below 0.1 or above 0.9.
- `compare_runs`: a traced run against the same run with an intervention.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a frame is built: the first screen reads stored views without it
    import pandas as pd

from .kinds import KINDS
from .trace_data import GATES


# --- one unit, every step ------------------------------------------------------------------------------------

def _previous(values: np.ndarray, direction: int, initial=None) -> np.ndarray:
    """Each step's state before it in the direction's reading order (before the first: `initial`, or 0 — traces start
    from zeros unless they say otherwise). A decoder that starts from the encoder's state reads that state here: it
    is the step before in the trace; a captioner's decoder starts from the picture (its trace's initial state)."""
    out = np.zeros_like(values)
    if direction == 0:
        out[1:] = values[:-1]
        out[0] = 0 if initial is None else initial
    else:
        out[:-1] = values[1:]
        out[-1] = 0 if initial is None else initial
    return out


def _initial(trace, quantity: str, layer: int, direction: int, unit: int):
    """A unit's state before a trace's first step, if the trace carries one (extras "initial_<quantity>":
    (layers, directions, units)), else None (zeros)."""
    start = trace.extras.get(f"initial_{quantity}")
    return None if start is None else float(np.asarray(start)[layer, direction, unit])


def step_terms(trace, layer: int, direction: int, unit: int) -> pd.DataFrame:
    """Every number in the cell's equations for one unit at every step (names as in trace.py's docstring): one row
    per step. The browser shows the row at its cursor; equation_terms() is one row of it."""
    import pandas as pd
    H = trace.n_units
    pre = trace.pre_activation[layer, direction]                       # (T, k*H), gates in PyTorch's order
    v = lambda q: trace.get(q, layer, direction)[:, unit].astype(np.float64)
    if trace.cell == "lstm":
        t = {"pre_i": pre[:, unit], "pre_f": pre[:, H + unit], "pre_g": pre[:, 2 * H + unit],
             "pre_o": pre[:, 3 * H + unit], "i": v("input_gate"), "f": v("forget_gate"), "g": v("candidate"),
             "o": v("output_gate"), "c": v("cell_state"), "h": v("hidden_state")}
        t["c_prev"] = _previous(t["c"], direction, _initial(trace, "cell_state", layer, direction, unit))
        t.update(kept=t["f"] * t["c_prev"], written=t["i"] * t["g"], tanh_c=np.tanh(t["c"]))
    elif trace.cell == "gru":
        t = {"pre_r": pre[:, unit], "pre_z": pre[:, H + unit], "pre_n": pre[:, 2 * H + unit],
             "r": v("reset_gate"), "z": v("update_gate"), "n": v("new_gate"), "h": v("hidden_state")}
        t["h_prev"] = _previous(t["h"], direction, _initial(trace, "hidden_state", layer, direction, unit))
        t.update(kept=t["z"] * t["h_prev"], written=(1 - t["z"]) * t["n"], one_minus_z=1 - t["z"])
    else:
        t = {"pre": pre[:, unit], "h": v("hidden_state")}
        t["h_prev"] = _previous(t["h"], direction, _initial(trace, "hidden_state", layer, direction, unit))
    frame = pd.DataFrame({k: np.asarray(x, dtype=np.float64) for k, x in t.items()})
    frame.insert(0, "step", np.arange(trace.n_steps))
    return frame


def equation_terms(trace, layer: int, direction: int, step: int, unit: int) -> dict:
    """Every number in the cell's equations for one unit at one step."""
    row = step_terms(trace, layer, direction, unit).iloc[step]
    return {k: float(x) for k, x in row.items() if k != "step"}


# The diagram lives in a 0…100 × 0…62 box; each segment is (name, x, y, x2, y2, term, quantity it carries).
# term None: a thin grey wire (the inputs x(t), h(t−1) that reach every gate).
_IN = [("x(t), h(t−1)", 2, 4, 74, 4, None, "input")]
_LSTM_EDGES = _IN + [(f"in {n}", x, 4, x, 14, None, "input") for n, x in (("f", 24), ("i", 40), ("g", 56), ("o", 72))] + [
    ("c(t−1)", 2, 52, 24, 52, "c_prev", "cell_state"),
    ("f", 24, 22, 24, 52, "f", "forget_gate"),
    ("kept f·c(t−1)", 24, 52, 56, 52, "kept", "cell_state"),
    ("i", 40, 22, 56, 36, "i", "input_gate"),
    ("g", 56, 22, 56, 36, "g", "candidate"),
    ("written i·g", 56, 36, 56, 52, "written", "candidate"),
    ("c(t)", 56, 52, 98, 52, "c", "cell_state"),
    ("tanh(c)", 86, 52, 86, 28, "tanh_c", "cell_state"),
    ("o", 72, 22, 86, 28, "o", "output_gate"),
    ("h(t)", 86, 28, 98, 12, "h", "hidden_state"),
]
_LSTM_NODES = [  # (label template, x, y, shape): gate boxes, op circles, end labels
    ("c(t−1) {c_prev:+.2f}", 2, 58, "left"), ("c(t) {c:+.2f}", 98, 58, "right"),
    ("h(t) {h:+.2f}", 98, 6, "right"), ("kept {kept:+.2f}", 40, 57, "mid"),
    ("written {written:+.2f}", 59, 44, "left"),
    ("forget σ\nf {f:.2f}", 24, 18, "gate"), ("input σ\ni {i:.2f}", 40, 18, "gate"),
    ("cand. tanh\ng {g:+.2f}", 56, 18, "gate"), ("output σ\no {o:.2f}", 72, 18, "gate"),
    ("×", 24, 52, "op"), ("+", 56, 52, "op"), ("×", 56, 36, "op"), ("tanh", 86, 40, "op"),
    ("×", 86, 28, "op"),
]
_GRU_EDGES = _IN + [(f"in {n}", x, 4, x, 14, None, "input") for n, x in (("z", 24), ("r", 44), ("n", 62))] + [
    ("h(t−1)", 2, 52, 24, 52, "h_prev", "hidden_state"),
    ("z", 24, 22, 24, 52, "z", "update_gate"),
    ("kept z·h(t−1)", 24, 52, 74, 52, "kept", "hidden_state"),
    ("1 − z", 24, 22, 74, 36, "one_minus_z", "update_gate"),
    ("r", 44, 18, 62, 18, "r", "reset_gate"),
    ("n", 62, 22, 74, 36, "n", "new_gate"),
    ("written (1−z)·n", 74, 36, 74, 52, "written", "new_gate"),
    ("h(t)", 74, 52, 98, 52, "h", "hidden_state"),
]
_GRU_NODES = [
    ("h(t−1) {h_prev:+.2f}", 2, 58, "left"), ("h(t) {h:+.2f}", 98, 58, "right"),
    ("kept {kept:+.2f}", 50, 57, "mid"), ("written {written:+.2f}", 77, 44, "left"),
    ("update σ\nz {z:.2f}", 24, 18, "gate"), ("reset σ\nr {r:.2f}", 44, 18, "gate"),
    ("cand. tanh\nn {n:+.2f}", 62, 18, "gate"), ("×", 24, 52, "op"), ("+", 74, 52, "op"),
    ("×", 74, 36, "op"),
]
_RNN_EDGES = [("x(t)", 2, 4, 50, 26, None, "input"), ("h(t−1)", 2, 52, 50, 26, "h_prev", "hidden_state"),
              ("h(t)", 50, 26, 98, 52, "h", "hidden_state")]
_RNN_NODES = [("h(t−1) {h_prev:+.2f}", 2, 58, "left"), ("tanh\nh {h:+.2f}", 50, 22, "gate"),
              ("h(t) {h:+.2f}", 98, 58, "right")]
DIAGRAMS = {"lstm": (_LSTM_EDGES, _LSTM_NODES), "gru": (_GRU_EDGES, _GRU_NODES), "rnn": (_RNN_EDGES, _RNN_NODES)}

MAX_WIDTH = 1.5   # a path's width is |value| clipped here, so a closing forget gate visibly thins the belt


def width_words() -> str:
    """How to read the diagram's path widths (a cell state of 20 is drawn as wide as one of 1.5: said so)."""
    return f"path width = |value| flowing now, capped at {MAX_WIDTH:g}"
_TEMPLATE = re.compile(r"^(.*)\{(\w+):([^}]*)\}(.*)$", re.S)


def in_direction(label: str, direction: int) -> str:
    """A label of the forward cell in the given direction: the backward half of a bidirectional layer reads the
    state of the step after, t+1 (as its equations say)."""
    return label.replace("t−1", "t+1") if direction == 1 else label


def diagram_tables(cell: str, direction: int = 0):
    """The cell diagram as static tables the browser fills in at its cursor: edges (i, name, x, y, x2, y2,
    quantity, term) and nodes (i, prefix, term, fmt, suffix, x, y, shape). `term` names a column of step_terms()
    ("" for a wire or symbol that carries no number); `fmt` is a d3/Python format spec such as "+.2f". direction 1:
    the backward half of a bidirectional layer, whose previous state is c(t+1), h(t+1)."""
    import pandas as pd
    edges, nodes = DIAGRAMS[cell]
    e = pd.DataFrame([{"i": i, "name": in_direction(n, direction), "x": x, "y": y, "x2": x2, "y2": y2, "quantity": q,
                       "term": key or ""} for i, (n, x, y, x2, y2, key, q) in enumerate(edges)])
    rows = []
    for i, (label, x, y, shape) in enumerate(nodes):
        m = _TEMPLATE.match(in_direction(label, direction))
        prefix, term, fmt, suffix = m.groups() if m else (label, "", "", "")
        rows.append({"i": i, "prefix": prefix, "term": term, "fmt": fmt, "suffix": suffix, "x": x, "y": y,
                     "shape": shape})
    return e, pd.DataFrame(rows)


def diagram_frames(cell: str, terms: dict, direction: int = 0):
    """The diagram at one step, filled in on the server (exports and tests): edges with value and width, nodes with
    their label text — the same tables and rule the browser applies at its cursor."""
    edges, nodes = diagram_tables(cell, direction)
    value = lambda term: terms[term] if term else float("nan")
    e = edges.assign(value=[value(t) for t in edges["term"]],
                     width=[min(abs(terms[t]), MAX_WIDTH) if t else 0.05 for t in edges["term"]])
    labels = [r.prefix + (number(terms[r.term], r.fmt) if r.term else "") + r.suffix for r in nodes.itertuples()]
    return e, nodes.assign(label=labels)


# --- hypotheses for the interpretable-unit finder -------------------------------------------------------------

def number(value: float, fmt: str) -> str:
    """value formatted by a Python/d3 spec such as "+.2f", with a value that rounds to zero shown as 0 ("+0.00",
    never "-0.00")."""
    z = fmt.replace("+", "+z", 1) if fmt.startswith("+") else "z" + fmt
    return format(value, z)


def hypotheses(kind: str) -> dict:
    """The unit finder's hypotheses for a kind of trace: key -> (label, signal(inputs) -> (T,)); each kind's module
    defines its own (text: inside quotes, plural subject …; series: rising …)."""
    return KINDS[kind].hypotheses


def hypothesis_signal(key: str, trace) -> np.ndarray:
    found = hypotheses(trace.kind)
    if key not in found:
        raise ValueError(f"the hypothesis {key!r} is not one for {trace.kind} data")
    return found[key][1](trace.inputs)


def rank_units(values: np.ndarray, signal: np.ndarray) -> pd.DataFrame:
    """Units ranked by |Pearson correlation| between their values (T, H) and the signal (T,).

    Raises ValueError when the signal never changes in this sequence (a correlation would be meaningless)."""
    import pandas as pd
    signal = np.asarray(signal, dtype=float)
    if signal.std() == 0:
        raise ValueError("the hypothesis never changes in this sequence, so no unit can follow it; "
                         "choose a longer or different sequence")
    v = values - values.mean(axis=0)
    s = signal - signal.mean()
    denom = np.sqrt((v ** 2).sum(axis=0) * (s ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(denom > 0, (v * s[:, None]).sum(axis=0) / denom, 0.0)
    frame = pd.DataFrame({"unit": np.arange(values.shape[1]), "correlation": corr, "score": np.abs(corr)})
    return frame.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def rank_units_on_windows(model, data, x, hypothesis: str, quantity: str, layer: int = 0,
                          direction: int = 0) -> pd.DataFrame:
    """rank_units over many windows at once (e.g. the 16 validation windows): a sturdier ranking than one sequence.
    x: (B, T) ids (the mask id shows as MASK) or (B, T, 1) normalised values."""
    import torch

    from .trace import replay
    kind = KINDS[data.kind]
    if hypothesis not in kind.hypotheses:
        raise ValueError(f"the hypothesis {hypothesis!r} is not one for {data.kind} data")
    fn = kind.hypotheses[hypothesis][1]
    model.eval()
    with torch.no_grad():
        values = replay(model.rnn, model.encoder(x).transpose(0, 1))[quantity][layer, direction]  # (T, B, H)
    windows = kind.window_inputs(data, x)                            # what each step reads, window by window
    signal = np.concatenate([fn(w) for w in windows])                 # window by window, like the values below
    return rank_units(values.transpose(0, 1).reshape(-1, values.shape[-1]).numpy(), signal)


# --- whole-model statistics -----------------------------------------------------------------------------------

def gate_saturation(model, x, low: float = 0.1, high: float = 0.9) -> pd.DataFrame:
    """For each layer, unit and gate: the fraction of (window, step) pairs where the gate is below `low`
    ("left-saturated", closed) or above `high` ("right-saturated", open). x: a batch of inputs (B, T[, 1]).

    Karpathy et al. 2015 ("Visualizing and understanding recurrent networks", fig. 3) found forget gates of
    trained LSTMs often right-saturated: units that remember for a long time."""
    import pandas as pd
    import torch

    from .trace import replay
    model.eval()
    with torch.no_grad():
        rep = replay(model.rnn, model.encoder(x).transpose(0, 1))  # (T, B, E): replay reads time first
    rows = []
    for gate in GATES[model.cfg.cell]:
        values = rep[gate][:, 0]                     # (L, T, B, H), forward direction
        L, H = values.shape[0], values.shape[-1]
        flat = values.reshape(L, -1, H)
        left, right = (flat < low).float().mean(1), (flat > high).float().mean(1)  # (L, H)
        for layer in range(L):
            rows += [{"layer": layer, "unit": u, "gate": gate, "left": float(left[layer, u]),
                      "right": float(right[layer, u])} for u in range(H)]
    return pd.DataFrame(rows, columns=["layer", "unit", "gate", "left", "right"])


def compare_runs(original, changed, quantity: str, layer: int, direction: int, unit: int) -> dict:
    """One unit's quantity and the prediction quality in the original and the changed run.

    Returns {"unit": frame step/run/value, "prediction": frame step/run/value, "delta": (T, H) array of the
    change in `quantity` for every unit, "value_label": what the prediction value means}."""
    import pandas as pd
    T = original.n_steps
    a, b = original.get(quantity, layer, direction), changed.get(quantity, layer, direction)
    unit_frame = pd.concat([pd.DataFrame({"step": np.arange(T), "run": run, "value": v[:, unit]})
                            for run, v in (("original", a), ("changed", b))], ignore_index=True)
    kind = KINDS[original.kind]
    label = kind.prediction_values(original)[1]
    pred = pd.concat([pd.DataFrame({"step": np.arange(T), "run": run, "value": kind.prediction_values(tr)[0]})
                      for run, tr in (("original", original), ("changed", changed))], ignore_index=True)
    return {"unit": unit_frame, "prediction": pred, "delta": b - a, "value_label": label}
