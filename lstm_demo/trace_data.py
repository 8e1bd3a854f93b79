"""What a traced sequence holds, as plain arrays: no torch here, so the first screen can show a precomputed trace
before torch is even imported (trace.py computes traces; this module only describes them).

A Trace holds, per quantity, an array shaped (layers, directions, steps, *unit_shape): unit_shape is (H,) for the
vector cells (LSTM, GRU, RNN) and (channels, height, width) for ConvLSTM maps. Views that pick "a unit" pick a flat
index into unit_shape (`get` returns (steps, units) with the unit axes flattened).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

CELL_QUANTITIES = {
    "lstm": ("input_gate", "forget_gate", "candidate", "output_gate", "cell_state", "hidden_state"),
    "gru": ("reset_gate", "update_gate", "new_gate", "hidden_state"),
    "rnn": ("hidden_state",),
}
QUANTITIES = CELL_QUANTITIES["lstm"]
GATES = {"lstm": ("forget_gate", "input_gate", "output_gate"), "gru": ("update_gate", "reset_gate"), "rnn": ()}
MASK = "▮"  # how a hidden (masked) character is shown


class _Frame:
    """Trace.predictions: a DataFrame. A trace read from bytes keeps plain columns until something asks for the
    frame, so a precomputed first screen does not import pandas (0.45 s of a cold start here)."""

    def __set_name__(self, owner, name):
        self.slot = "_" + name

    def __get__(self, obj, owner=None):
        if obj is None:
            raise AttributeError(self.slot)  # no class-level default: the dataclass field stays required
        value = obj.__dict__[self.slot]
        if isinstance(value, dict):
            import pandas as pd
            value = obj.__dict__[self.slot] = pd.DataFrame(value)
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.slot] = value


@dataclass
class Trace:
    """What one sequence did inside a trained model: arrays (L, D, T, *unit_shape) per quantity plus inputs and
    predictions."""
    kind: str                      # the model kind that made it (lstm_demo/kinds/)
    quantities: dict               # name -> np.ndarray (L, D, T, *unit_shape) float32; D = 2 for bidirectional
    inputs: list                   # T inputs as the model saw them (characters, MASK, or values in original units)
    targets: list                  # T truths the prediction at each step is scored against
    predictions: pd.DataFrame = _Frame()  # text: step, rank, char, prob, actual_prob; series: step, predicted, actual
    pre_activation: np.ndarray = field(repr=False, default=None)  # (L, D, T, k*units) order as in trace.py
    cell: str = "lstm"
    task: str = "next"             # "next": predict the next item; "masked": fill in the hidden characters
    masked: np.ndarray | None = None  # (T,) bool, the hidden positions (task "masked")
    segments: list = field(default_factory=list)  # [(name, first step, end)] e.g. encoder / decoder halves
    extras: dict = field(default_factory=dict, repr=False)  # per-family extras (frames, feature maps, attention)

    def get(self, quantity: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """(T, units) values of one quantity for one layer and direction (map cells: units = C*height*width)."""
        values = self.quantities[quantity][layer, direction]
        return values.reshape(values.shape[0], -1)

    @property
    def names(self) -> tuple:
        return CELL_QUANTITIES[self.cell]

    @property
    def unit_shape(self) -> tuple:
        return tuple(self.quantities["hidden_state"].shape[3:])

    @property
    def n_steps(self) -> int:
        return self.quantities["hidden_state"].shape[2]

    @property
    def n_layers(self) -> int:
        return self.quantities["hidden_state"].shape[0]

    @property
    def n_directions(self) -> int:
        return self.quantities["hidden_state"].shape[1]

    @property
    def n_units(self) -> int:
        return int(np.prod(self.unit_shape))

    def to_frame(self) -> pd.DataFrame:
        """Tidy (long) frame: step, layer, direction, unit, quantity, value, input."""
        import pandas as pd
        L, D, T = self.quantities["hidden_state"].shape[:3]
        H = self.n_units
        layer, direction, step, unit = (a.ravel() for a in np.meshgrid(
            np.arange(L), np.arange(D), np.arange(T), np.arange(H), indexing="ij"))
        inputs = np.asarray(self.inputs, dtype=object)
        dirs = np.array(["forward", "backward"])[direction]
        frames = [pd.DataFrame({"step": step, "layer": layer, "direction": dirs, "unit": unit, "quantity": q,
                                "value": self.quantities[q].reshape(L, D, T, H).ravel(), "input": inputs[step]})
                  for q in self.names]
        return pd.concat(frames, ignore_index=True)

    # --- a trace as bytes without pickle (precomputed first screens ship like this) --------------------------------

    def to_npz(self) -> bytes:
        arrays = {f"q.{k}": v for k, v in self.quantities.items()}
        arrays["pre_activation"] = self.pre_activation
        if self.masked is not None:
            arrays["masked"] = np.asarray(self.masked, dtype=bool)
        for col in self.predictions.columns:
            values = self.predictions[col].to_numpy()
            arrays[f"p.{col}"] = values.astype(str) if values.dtype == object else values  # no pickled objects
        meta = {"kind": self.kind, "cell": self.cell, "task": self.task, "segments": self.segments,
                "check": self.extras.get("replay_check"),
                "inputs": [x if isinstance(x, str) else float(x) for x in self.inputs],
                "targets": [x if isinstance(x, str) else float(x) for x in self.targets],
                "columns": list(self.predictions.columns)}
        meta["extras"] = {}
        for name, value in self.extras.items():  # the family's arrays (frames, maps) and plain values (emitted, source)
            if isinstance(value, np.ndarray):
                arrays[f"x.{name}"] = value
            elif name != "replay_check":
                meta["extras"][name] = _plain(value, name)
        arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_npz(cls, raw: bytes) -> "Trace":
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            quantities = {k[2:]: z[k] for k in z.files if k.startswith("q.")}
            preds = {c: (z[f"p.{c}"].astype(object) if z[f"p.{c}"].dtype.kind == "U" else z[f"p.{c}"])
                     for c in meta["columns"]}  # a DataFrame on first use (_Frame)
            masked = z["masked"] if "masked" in z.files else None
            pre = z["pre_activation"]
            arrays = {k[2:]: z[k] for k in z.files if k.startswith("x.")}
        extras = {"replay_check": meta["check"]} if meta.get("check") else {}
        extras.update(arrays)
        extras.update(meta.get("extras", {}))
        if meta.get("label") is not None:                      # stored before extras were kept whole
            extras["label"] = meta["label"]
        return cls(meta["kind"], quantities, meta["inputs"], meta["targets"], preds, pre, meta["cell"], meta["task"],
                   masked, [tuple(s) for s in meta["segments"]], extras)


def _plain(value, name: str):
    """An extra as JSON (a stored trace must read back what every view reads from it, e.g. the decoder's emitted
    characters); anything else is a programming error, said at once rather than lost."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v, name) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, name) for k, v in value.items()}
    raise TypeError(f"trace extra {name!r} of type {type(value).__name__} cannot be stored")


def default_mask(n: int, rate: float = 0.15, seed: int = 0) -> np.ndarray:
    """Hidden positions for a fill-in-the-blank trace: a fixed pseudo-random 15 %, at least one."""
    rng = np.random.default_rng(seed)
    mask = rng.random(n) < rate
    if not mask.any():
        mask[n // 2] = True
    return mask
