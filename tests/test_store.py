"""Model files: a round trip, and a corpus of wrong, corrupt, oversized and hostile files — each refused with a
clear message, cheaply, without running any code (no pickle is ever loaded)."""
import io
import json
import os
import pickle
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from lstm_demo.config import ModelConfig, TrainConfig
from lstm_demo.data import TextData, load_series_preset
from lstm_demo.models import build_model
from lstm_demo.store import ModelFileError, _canonical, load_bytes, save_bytes
from lstm_demo.trace import trace_sequence

TEXT = TextData("the cats were full. the cat was full. " * 20)


def good(hidden=6, cell="lstm"):
    model = build_model(ModelConfig("text", vocab_size=len(TEXT.vocab), hidden_size=hidden, cell=cell), seed=2)
    return model, save_bytes(model, TEXT, TrainConfig(steps=50), 50)


def with_header(raw: bytes, edit) -> bytes:
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    edit(header)
    return _canonical(struct.pack("<Q", len(json.dumps(header))) + json.dumps(header).encode() + raw[8 + n :])


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_round_trip_keeps_weights_vocabulary_and_traces(cell):
    model, raw = good(cell=cell)
    loaded = load_bytes(raw)
    assert loaded.steps == 50 and loaded.data.vocab == TEXT.vocab and loaded.train_cfg.steps == 50
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.model.state_dict()[k])
    a = trace_sequence(model, TEXT, TEXT.ids[:30])
    b = trace_sequence(loaded.model, loaded.data, loaded.data.encode(TEXT.text[:30]))
    assert np.array_equal(a.quantities["hidden_state"], b.quantities["hidden_state"])


def test_series_round_trip_keeps_the_normalisation():
    data = load_series_preset("seattle_daily")
    model = build_model(ModelConfig("series", hidden_size=5))
    loaded = load_bytes(save_bytes(model, data, TrainConfig(), 3))
    assert (loaded.data.mean, loaded.data.std) == (data.mean, data.std) and loaded.data.unit == data.unit


class Boom:
    def __reduce__(self):  # unpickling this would create the marker file
        return (os.system, (f"touch {MARKER}",))


MARKER = "/tmp/lstm_gate_lab_pwned_marker"


def _pickle_payloads():
    evil = pickle.dumps({"state": Boom()})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # the layout of a torch.save checkpoint: a zip holding data.pkl
        z.writestr("archive/data.pkl", evil)
    return {"raw pickle": evil, "torch.save-style zip with a pickle": buf.getvalue()}


def _bad_files():
    _, raw = good()
    n = struct.unpack("<Q", raw[:8])[0]
    cases = {
        "empty": b"",
        "seven bytes": b"\x01" * 7,
        "header length beyond the file": struct.pack("<Q", 10**6) + b"{}",
        "header length 2**63": struct.pack("<Q", 2**63) + b"{}" * 10,
        "header not JSON": struct.pack("<Q", 8) + b"not json",
        "header a JSON list": struct.pack("<Q", 8) + b"[1,2,3] ",
        "binary garbage": os.urandom(4096),
        "truncated file": raw[: len(raw) // 2],
        "no metadata": with_header(raw, lambda h: h.pop("__metadata__")),
        "other format": with_header(raw, lambda h: h["__metadata__"].update(format="something/else")),
        "metadata not strings": with_header(raw, lambda h: h["__metadata__"].update(steps=5)),
        "config not JSON": with_header(raw, lambda h: h["__metadata__"].update(model_config="{oops")),
        "hidden size 10**9": with_header(raw, lambda h: h["__metadata__"].update(
            model_config=json.dumps({**json.loads(h["__metadata__"]["model_config"]), "hidden_size": 10**9}))),
        "layers = -1": with_header(raw, lambda h: h["__metadata__"].update(
            model_config=json.dumps({**json.loads(h["__metadata__"]["model_config"]), "num_layers": -1}))),
        "unknown config key": with_header(raw, lambda h: h["__metadata__"].update(
            model_config=json.dumps({**json.loads(h["__metadata__"]["model_config"]), "__class__": "os"}))),
        "cell type 'evil'": with_header(raw, lambda h: h["__metadata__"].update(
            model_config=json.dumps({**json.loads(h["__metadata__"]["model_config"]), "cell": "evil"}))),
        "learning rate NaN": with_header(raw, lambda h: h["__metadata__"].update(
            train_config=json.dumps({**json.loads(h["__metadata__"]["train_config"]), "lr": float("nan")}))),
        "steps not a number": with_header(raw, lambda h: h["__metadata__"].update(steps="many")),
        "vocabulary of wrong size": with_header(raw, lambda h: h["__metadata__"].update(
            data=json.dumps({**json.loads(h["__metadata__"]["data"]), "vocab": ["a", "b"]}))),
        "HTML in the data name and sample": with_header(raw, lambda h: h["__metadata__"].update(
            data=json.dumps({**json.loads(h["__metadata__"]["data"]), "sample": "<script>alert(1)</script>"}))),
        "wrong dtype": with_header(raw, lambda h: h["head.bias"].update(dtype="F64")),
        "wrong shape": with_header(raw, lambda h: h["head.bias"].update(shape=[999])),
        "giant claimed shape (bomb)": with_header(raw, lambda h: h["head.bias"].update(shape=[10**12])),
        "offsets outside the file": with_header(raw, lambda h: h["head.bias"].update(data_offsets=[0, 10**9])),
        "missing tensor": with_header(raw, lambda h: h.pop("head.bias")),
        "extra tensor": with_header(raw, lambda h: h.update(extra={"dtype": "F32", "shape": [1],
                                                                     "data_offsets": [0, 4]})),
        "oversized file": raw + b"\x00" * 5_000_001,
    }
    nan_model, _ = good()
    with torch.no_grad():
        nan_model.head.bias[0] = float("nan")
    cases["NaN weights"] = save_bytes(nan_model, TEXT, TrainConfig(), 1)
    other = build_model(ModelConfig("text", vocab_size=len(TEXT.vocab), hidden_size=7))
    tensors = {k: v.contiguous() for k, v in other.state_dict().items()}
    meta = json.loads(raw[8 : 8 + n])["__metadata__"]
    cases["weights of another size under this config"] = st_save(tensors, metadata=meta)
    cases.update(_pickle_payloads())
    return cases


BAD = _bad_files()


@pytest.mark.parametrize("name", list(BAD))
def test_bad_model_files_are_refused_cheaply_with_a_message(name):
    if os.path.exists(MARKER):
        os.remove(MARKER)
    tracemalloc.start()
    with pytest.raises(ModelFileError) as err:
        load_bytes(BAD[name])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(str(err.value)) > 15 and "Traceback" not in str(err.value)
    assert not os.path.exists(MARKER)  # no code from the file ran
    assert peak < 4 * len(BAD[name]) + 20_000_000  # bombs are refused before anything big is allocated


def test_a_torch_checkpoint_is_never_unpickled(monkeypatch):
    """Belt and braces: loading must not call pickle or torch.load at all."""
    def forbidden(*a, **k):
        raise AssertionError("unpickling was attempted")
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    for payload in _pickle_payloads().values():
        with pytest.raises(ModelFileError):
            load_bytes(payload)
    _, raw = good()
    assert load_bytes(raw).steps == 50
