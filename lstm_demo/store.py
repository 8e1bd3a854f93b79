"""Save and load models as one safetensors file: the weights as tensors, everything else (config, vocabulary,
normalisation, a sample of the data, training settings) as JSON strings in the header's metadata.

There is no pickle anywhere: a PyTorch checkpoint is a pickle, and unpickling a stranger's file runs their code, so
uploads are never passed to torch.load. Loading reads only the header first and checks it against the same caps as
training (file size, header size, config, tensor names, dtypes, shapes and offsets) before a single weight is read;
then the weights must be finite. Anything wrong raises ModelFileError with a message for the visitor.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, fields

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .config import LIMITS, ConfigError, ModelConfig, TrainConfig, describe
from .data import DataError, TextData
from .data.series import SeriesData
from .models import build_model

FORMAT = "lstm-gate-lab/1"
MAX_HEADER_BYTES = 100_000   # a real header is a few kB; a huge one is refused before it is parsed
SAMPLE_CHARS = 20_000        # text kept in the file so the model can be inspected without the original data
SAMPLE_POINTS = 5_000


class ModelFileError(ValueError):
    """The uploaded file is not a usable model; the message says why."""


@dataclass
class LoadedModel:
    model: object
    data: object                 # TextData or SeriesData rebuilt from the file (vocabulary / normalisation kept)
    train_cfg: TrainConfig
    steps: int


def save_bytes(model, data, train_cfg: TrainConfig, steps: int) -> bytes:
    """The model as a .safetensors file (bytes)."""
    if data.kind == "text":
        sample = data.text[-SAMPLE_CHARS:]
        info = {"kind": "text", "name": data.name, "vocab": data.vocab, "sample": sample}
    else:
        info = {"kind": "series", "name": data.name, "unit": data.unit, "mean": data.mean, "std": data.std,
                "sample": [float(v) for v in data.values[-SAMPLE_POINTS:]]}
    meta = {"format": FORMAT, "model_config": json.dumps(describe(model.cfg)),
            "train_config": json.dumps(describe(train_cfg)), "steps": str(int(steps)), "data": json.dumps(info)}
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    return _canonical(st_save(tensors, metadata=meta))


def _canonical(raw: bytes) -> bytes:
    """Same content -> same bytes: the safetensors writer orders the metadata as a hash map does (differently in
    every process), so the header is rewritten with sorted keys, padded with spaces to 8 bytes as the format asks."""
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.dumps(json.loads(raw[8 : 8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + raw[8 + n :]


def read_header(raw: bytes) -> dict:
    """Parse and check the safetensors header without reading any tensor."""
    if not isinstance(raw, (bytes, bytearray)):
        raise ModelFileError("Expected the bytes of a .safetensors file.")
    if len(raw) > LIMITS.max_upload_bytes:
        raise ModelFileError(f"The file is {len(raw):,} bytes; the limit is {LIMITS.max_upload_bytes:,}.")
    if len(raw) < 8:
        raise ModelFileError("The file is too short to be a model file (.safetensors).")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(raw):
        raise ModelFileError("This is not a model file from this app: its header is missing, cut short or "
                             "absurdly large. (PyTorch .pt/.pth checkpoints are pickles and are never opened here.)")
    try:
        header = json.loads(bytes(raw[8 : 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError("The file's header is not valid JSON; it is not a .safetensors model file.") from None
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
        raise ModelFileError("The file has no metadata; it was not saved by this app.")
    meta = header["__metadata__"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise ModelFileError("The file's metadata is malformed.")
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"The file was not saved by this app (format {str(meta.get('format'))[:40]!r}).")
    return header


def _json_field(meta: dict, key: str, kind: type):
    try:
        value = json.loads(meta[key])
    except (KeyError, json.JSONDecodeError):
        raise ModelFileError(f"The file's metadata lacks a readable '{key}'.") from None
    if not isinstance(value, kind):
        raise ModelFileError(f"The file's '{key}' is malformed.")
    return value


def _config(meta: dict, cls, key: str):
    raw = _json_field(meta, key, dict)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ModelFileError(f"The file's {key} has unknown settings: {', '.join(map(str, unknown[:5]))}.")
    try:
        return cls(**raw).validate()
    except (ConfigError, TypeError) as e:
        raise ModelFileError(f"The file's {key.replace('_', ' ')} is not allowed here: {e}") from None


def _data(meta: dict, cfg: ModelConfig):
    info = _json_field(meta, "data", dict)
    name = str(info.get("name", "loaded model"))[:200]
    try:
        if cfg.kind == "text":
            vocab, sample = info.get("vocab"), info.get("sample")
            if not (isinstance(vocab, list) and all(isinstance(c, str) and len(c) == 1 for c in vocab)
                    and len(set(vocab)) == len(vocab) == cfg.vocab_size and vocab == sorted(vocab)):
                raise ModelFileError("The file's vocabulary does not match its model.")
            if not isinstance(sample, str) or len(sample) > SAMPLE_CHARS or set(sample) - set(vocab):
                raise ModelFileError("The file's text sample is malformed.")
            data = TextData(sample + "".join(vocab), name=f"{name} (from the model file)")
            if data.vocab != vocab:
                raise ModelFileError("The file's vocabulary does not match its text sample.")
            return data
        sample = info.get("sample")
        if not (isinstance(sample, list) and 2 <= len(sample) <= SAMPLE_POINTS
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sample)):
            raise ModelFileError("The file's series sample is malformed.")
        return SeriesData(np.array(sample, dtype=float), name=f"{name} (from the model file)",
                          unit=str(info.get("unit", ""))[:40], norm=(info.get("mean"), info.get("std")))
    except (DataError, TypeError) as e:
        raise ModelFileError(f"The file's data is not usable: {e}") from None


def load_bytes(raw: bytes) -> LoadedModel:
    """A model file's bytes -> LoadedModel, or ModelFileError. Nothing is built before the header passed."""
    header = read_header(raw)
    meta = header["__metadata__"]
    cfg = _config(meta, ModelConfig, "model_config")
    train_cfg = _config(meta, TrainConfig, "train_config")
    try:
        steps = int(meta.get("steps", "0"))
    except ValueError:
        raise ModelFileError("The file's step count is not a number.") from None
    if not 0 <= steps <= 10**9:
        raise ModelFileError("The file's step count is out of range.")
    model = build_model(cfg)  # small: the config passed the caps
    expected = {k: v for k, v in model.state_dict().items()}
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    if set(entries) != set(expected):
        missing, extra = sorted(set(expected) - set(entries)), sorted(set(entries) - set(expected))
        raise ModelFileError("The file's weights do not fit its model"
                             + (f" (missing {', '.join(missing[:3])})" if missing else "")
                             + (f" (unexpected {', '.join(map(str, extra[:3]))})" if extra else "") + ".")
    body = len(raw) - 8 - int.from_bytes(raw[:8], "little")
    for name, entry in entries.items():
        want = expected[name]
        if not isinstance(entry, dict) or entry.get("dtype") != "F32" or entry.get("shape") != list(want.shape):
            raise ModelFileError(f"The weight {name} has the wrong type or shape for this model.")
        offsets = entry.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= body and offsets[1] - offsets[0] == 4 * want.numel()):
            raise ModelFileError(f"The weight {name} points outside the file.")
    try:
        tensors = st_load(bytes(raw))
    except Exception as e:  # the safetensors parser's own checks (overlaps, alignment) as a last line
        raise ModelFileError(f"The file's weights cannot be read: {type(e).__name__}.") from None
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise ModelFileError("The file's weights contain NaN or infinite values.")
    model.load_state_dict(tensors, strict=True)
    return LoadedModel(model, _data(meta, cfg), train_cfg, steps)
