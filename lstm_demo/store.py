"""Save and load models as one safetensors file: the weights as tensors, everything else (config, vocabulary,
normalisation, a sample of the data, training settings, the loss history) as JSON strings in the header's metadata.
Weight checkpoints taken during training ride along as extra tensors when they fit a small budget.

There is no pickle anywhere: a PyTorch checkpoint is a pickle, and unpickling a stranger's file runs their code, so
uploads are never passed to torch.load. Loading reads only the header first and checks it against the same caps as
training (file size, header size, config, tensor names, dtypes, shapes and offsets) before a single weight is read;
then the weights must be finite, and everything the pages rely on is checked (the data sample is long enough for
the stored sequence length, the vocabulary is encodable text, the normalisation and its inverse are finite).
Any bytes give a LoadedModel or a ModelFileError with a message for the visitor — never another exception.

The caps on the file follow from the training caps: every model the app can train, on any text it accepts, fits.
"""
from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass, field, fields

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .config import LIMITS, ConfigError, ModelFileError, TrainConfig, describe
from .filecheck import strict_json
from .kinds import KINDS
from .kinds.base import BYTES_PER_NUMBER
from .models import build_model, max_parameters
from .train import MAX_TOTAL_STEPS

FORMAT = "lstm-gate-lab/1"
HISTORY_POINTS = 500          # loss-curve points kept per split
CHECKPOINT_BYTES = 4_000_000  # weight checkpoints are saved only up to this many bytes (evenly thinned to fit)
BUNDLE_CHECKPOINT_BYTES = 1_500_000  # … and for the models that ship with the app
# Checkpoints are kept at half precision: they show how the model got where it is (training-time scrubber); the final
# weights, which every other view uses, stay exact. Rounding a weight to 3 significant digits moves gates by ~1e-3.
CHECKPOINT_DTYPE = torch.float16
MAX_CHECKPOINTS = 50
CHECKPOINT_PREFIX = "checkpoint."

_TENSOR_ENTRY_BYTES = 160     # {"name":{"dtype":"F32","shape":[...],"data_offsets":[a,b]}}


def max_header_bytes() -> int:
    data = max(kind.max_info_bytes() for kind in KINDS.values())   # what a kind keeps of its data
    history = 2 * HISTORY_POINTS * 2 * BYTES_PER_NUMBER
    tensors = (MAX_CHECKPOINTS + 1) * 64 * _TENSOR_ENTRY_BYTES  # a model has well under 64 tensors
    return data + history + tensors + 16_384                     # + configs and keys


MAX_HEADER_BYTES = max_header_bytes()
MAX_FILE_BYTES = 8 + MAX_HEADER_BYTES + 4 * max_parameters() + CHECKPOINT_BYTES


@dataclass
class LoadedModel:
    model: object
    data: object                 # the data rebuilt from the file (vocabulary, normalisation or recipe kept)
    train_cfg: TrainConfig
    steps: int
    history: dict = field(default_factory=lambda: {"train": [], "val": []})  # (step, loss) lists
    checkpoints: list = field(default_factory=list)  # (step, state_dict at half precision), oldest first


# --- saving ---------------------------------------------------------------------------------------------------------

def _thin(points, n: int) -> list:
    """At most n evenly spread items, always keeping the last."""
    points = list(points)
    if len(points) <= n:
        return points
    idx = np.unique(np.linspace(0 if n > 1 else len(points) - 1, len(points) - 1, n).round().astype(int))
    return [points[i] for i in idx]


def _fitting_checkpoints(checkpoints, n_params: int, budget: int) -> list:
    """As many checkpoints as fit the budget, evenly spread over the run."""
    room = min(MAX_CHECKPOINTS, budget // max(1, 2 * n_params))
    return _thin(checkpoints, room) if room else []


def save_bytes(model, data, train_cfg: TrainConfig, steps: int, history=None, checkpoints=(),
               checkpoint_bytes: int = CHECKPOINT_BYTES) -> bytes:
    """The model as a .safetensors file (bytes). history: {"train": [(step, loss)], "val": [...]};
    checkpoints: [(step, state_dict)] — kept at half precision as far as checkpoint_bytes allows."""
    kind = KINDS[data.kind]
    info = kind.file_info(data)
    history = history or {}
    hist = {split: [[int(s), float(l)] for s, l in _thin(history.get(split, []), HISTORY_POINTS) if math.isfinite(l)]
            for split in ("train", "val")}
    kept = _fitting_checkpoints(checkpoints, sum(p.numel() for p in model.parameters()), checkpoint_bytes)
    dump = lambda v: json.dumps(v, ensure_ascii=False)
    meta = {"format": FORMAT, "model_config": dump(describe(model.cfg)), "train_config": dump(describe(train_cfg)),
            "steps": str(int(steps)), "data": dump(info), "history": dump(hist),
            "checkpoints": dump([int(s) for s, _ in kept])}
    if kind.family != "sequence":  # (text and series files stay as they were, without the field)
        meta["family"] = kind.family
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    for i, (_, state) in enumerate(kept):
        tensors.update({f"{CHECKPOINT_PREFIX}{i}.{k}": v.detach().to(CHECKPOINT_DTYPE).contiguous()
                        for k, v in state.items()})
    return _canonical(st_save(tensors, metadata=meta))


def _canonical(raw: bytes) -> bytes:
    """Same content -> same bytes: the safetensors writer orders the metadata as a hash map does (differently in
    every process), so the header is rewritten with sorted keys, as compact UTF-8 (not \\u escapes: a Chinese or
    emoji text would triple in size), padded with spaces to 8 bytes as the format asks."""
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.dumps(json.loads(raw[8 : 8 + n]), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    header = header.encode("utf-8")
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + raw[8 + n :]


# --- loading ----------------------------------------------------------------------------------------------------------

def read_header(raw: bytes) -> dict:
    """Parse and check the safetensors header without reading any tensor."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ModelFileError("Expected the bytes of a .safetensors file.")
    if len(raw) > MAX_FILE_BYTES:
        raise ModelFileError(f"The file is {len(raw):,} bytes; the largest model this app trains takes "
                             f"{MAX_FILE_BYTES:,}.")
    if len(raw) < 8:
        raise ModelFileError("The file is too short to be a model file (.safetensors).")
    (n,) = struct.unpack("<Q", bytes(raw[:8]))
    if n > MAX_HEADER_BYTES or 8 + n > len(raw):
        raise ModelFileError("This is not a model file from this app: its header is missing, cut short or "
                             "absurdly large. (PyTorch .pt/.pth checkpoints are pickles and are never opened here.)")
    try:
        text = bytes(raw[8 : 8 + n]).decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError("The file's header is not valid JSON; it is not a .safetensors model file.") from None
    header = strict_json(text)
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
        raise ModelFileError("The file has no metadata; it was not saved by this app.")
    meta = header["__metadata__"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise ModelFileError("The file's metadata is malformed.")
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"The file was not saved by this app (format {str(meta.get('format'))[:40]!r}).")
    return header


def _json_field(meta: dict, key: str, kind: type, default=None):
    if key not in meta and default is not None:
        return default
    if key not in meta:
        raise ModelFileError(f"The file's metadata lacks a readable '{key}'.")
    value = strict_json(meta[key])
    if not isinstance(value, kind):
        raise ModelFileError(f"The file's '{key}' is malformed.")
    return value


def _config(meta: dict, cls, key: str):
    raw = _json_field(meta, key, dict)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ModelFileError(f"The file's {key} has unknown settings: {', '.join(map(str, unknown[:5]))[:200]}.")
    try:
        return cls(**raw).validate()
    except (ConfigError, TypeError, ValueError) as e:
        raise ModelFileError(f"The file's {key.replace('_', ' ')} is not allowed here: {str(e)[:300]}") from None


def _history(meta: dict, steps: int) -> dict:
    hist = _json_field(meta, "history", dict, default={})
    out = {}
    for split in ("train", "val"):
        rows = hist.get(split, [])
        if not (isinstance(rows, list) and len(rows) <= HISTORY_POINTS and all(
                isinstance(r, list) and len(r) == 2 and isinstance(r[0], int) and not isinstance(r[0], bool)
                and isinstance(r[1], (int, float)) and not isinstance(r[1], bool) for r in rows)):
            raise ModelFileError("The file's loss history is malformed.")
        if not _ascending([s for s, _ in rows], steps):
            raise ModelFileError("The file's loss history is not in the order of the model's training steps.")
        out[split] = [(int(s), float(l)) for s, l in rows]
    return out


def _ascending(steps: list, last: int) -> bool:
    """Strictly increasing training steps from 0 to the model's own step count."""
    return all(0 <= a < b for a, b in zip(steps, steps[1:])) and all(0 <= s <= last for s in steps)


def _check_tensor(name: str, entry, want: torch.Tensor, body: int) -> None:
    dtype, size = ("F16", 2) if name.startswith(CHECKPOINT_PREFIX) else ("F32", 4)
    if not isinstance(entry, dict) or entry.get("dtype") != dtype or entry.get("shape") != list(want.shape):
        raise ModelFileError(f"The weight {name[:80]} has the wrong type or shape for this model.")
    offsets = entry.get("data_offsets")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= body and offsets[1] - offsets[0] == size * want.numel()):
        raise ModelFileError(f"The weight {name[:80]} points outside the file.")


def _expected_tensors(meta: dict, expected: dict, trained: int) -> tuple[dict, list]:
    """Every tensor name the file must hold -> its reference tensor, and the checkpoint steps (strictly increasing,
    none beyond the model's own step count: the training-step slider shows them)."""
    steps = _json_field(meta, "checkpoints", list, default=[])
    if not (len(steps) <= MAX_CHECKPOINTS and all(type(s) is int for s in steps) and _ascending(steps, trained)):
        raise ModelFileError("The file's checkpoint list is malformed: its steps must rise, each once, up to the "
                             "model's own step count.")
    names = dict(expected)
    for i in range(len(steps)):
        names.update({f"{CHECKPOINT_PREFIX}{i}.{k}": v for k, v in expected.items()})
    return names, steps


def _load(raw: bytes) -> LoadedModel:
    header = read_header(raw)
    meta = header["__metadata__"]
    family = meta.get("family", "sequence")
    info = _json_field(meta, "data", dict)
    kind = KINDS.for_file(family, info.get("kind"))
    if kind is None:
        raise ModelFileError(f"The file holds a kind of model this app does not know ({family[:40]!r}, "
                             f"{str(info.get('kind'))[:40]!r}).")
    cfg = _config(meta, kind.config_type, "model_config")
    if not kind.accepts(cfg):
        raise ModelFileError("The file's data is of another kind than its model.")
    train_cfg = _config(meta, TrainConfig, "train_config")
    if not re.fullmatch(r"\d{1,10}", meta.get("steps", "0")) or int(meta.get("steps", "0")) > MAX_TOTAL_STEPS:
        raise ModelFileError(f"The file's step count is not a whole number up to {MAX_TOTAL_STEPS:,}.")
    steps = int(meta.get("steps", "0"))
    model = build_model(cfg)  # small: the config passed the caps
    expected, ckpt_steps = _expected_tensors(meta, model.state_dict(), steps)
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    if set(entries) != set(expected):
        missing, extra = sorted(set(expected) - set(entries)), sorted(set(entries) - set(expected))
        raise ModelFileError("The file's weights do not fit its model"
                             + (f" (missing {', '.join(missing[:3])})" if missing else "")
                             + (f" (unexpected {', '.join(map(str, extra[:3]))[:200]})" if extra else "") + ".")
    body = len(raw) - 8 - int.from_bytes(bytes(raw[:8]), "little")
    for name, entry in entries.items():
        _check_tensor(name, entry, expected[name], body)
    data = kind.open_checked(info, cfg, train_cfg)
    history = _history(meta, steps)
    try:
        tensors = st_load(bytes(raw))
    except Exception as e:  # the safetensors parser's own checks (overlaps, alignment) as a last line
        raise ModelFileError(f"The file's weights cannot be read: {type(e).__name__}.") from None
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise ModelFileError("The file's weights contain NaN or infinite values.")
    model.load_state_dict({k: tensors[k] for k in model.state_dict()}, strict=True)
    checkpoints = [(s, {k: tensors[f"{CHECKPOINT_PREFIX}{i}.{k}"] for k in model.state_dict()})
                   for i, s in enumerate(ckpt_steps)]  # kept at half precision: float() where they are used
    return LoadedModel(model, data, train_cfg, steps, history, checkpoints)


def load_bytes(raw: bytes) -> LoadedModel:
    """A model file's bytes -> LoadedModel, or ModelFileError. Nothing is built before the header passed."""
    try:
        return _load(raw)
    except ModelFileError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError,
            UnicodeError, RuntimeError) as e:  # a case the checks above missed must still be a clear refusal
        raise ModelFileError(f"The file could not be read as a model from this app ({type(e).__name__}).") from None
