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

from lstm_demo.config import TrainConfig

from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData
from lstm_demo.kinds.series_data import load_series_preset
from lstm_demo.models import build_model
from lstm_demo.store import ModelFileError, _canonical, load_bytes, save_bytes
from lstm_demo.kinds.sequence import trace_sequence

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


# --- every model the app can train reopens from its own file ------------------------------------------------------

from dataclasses import replace  # noqa: E402

from hypothesis import HealthCheck, assume, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lstm_demo.config import LIMITS  # noqa: E402
from lstm_demo.kinds.series_data import SeriesData
from lstm_demo.config import DataError
from lstm_demo.kinds.text import SAMPLE_CHARS  # noqa: E402
from lstm_demo.store import MAX_FILE_BYTES, strict_json  # noqa: E402


# any Unicode scalar value but NUL (check_text refuses it) and lone surrogates (not text): control characters,
# right-to-left marks, combining marks and emoji are all fine
CHARS = st.characters(min_codepoint=1, max_codepoint=0x10FFFF, exclude_categories=("Cs",))


def _alphabet_text(alphabet: list, length: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    body = "".join(rng.choice(alphabet, size=length))
    return body + "".join(alphabet)  # every symbol at least once


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(alphabet=st.lists(CHARS, min_size=2, max_size=LIMITS.max_vocab, unique=True),
       cell=st.sampled_from(["lstm", "gru", "rnn"]), layers=st.integers(1, LIMITS.max_layers),
       hidden=st.sampled_from([1, 3, 64, LIMITS.max_hidden]), task=st.sampled_from(["next", "masked"]),
       embed=st.sampled_from([1, 32, LIMITS.max_embed]), seq_len=st.sampled_from([2, 64, LIMITS.max_seq_len]),
       long=st.booleans())
@example(alphabet=[chr(c) for c in range(0x1F600, 0x1F600 + LIMITS.max_vocab)], cell="lstm", layers=3, hidden=256,
         task="masked", embed=256, seq_len=256, long=True)   # the biggest model the caps allow, on emoji
@example(alphabet=[chr(c) for c in range(1, 32)] + ['"', "\\"], cell="lstm", layers=1, hidden=4, task="next",
         embed=8, seq_len=8, long=True)                       # control characters: the costliest header bytes
def test_every_model_the_app_can_train_reopens_from_its_own_file(alphabet, cell, layers, hidden, task, embed,
                                                                  seq_len, long):
    from lstm_demo.kinds.text_data import check_text
    text = _alphabet_text(alphabet, SAMPLE_CHARS + 500 if long else 2 * (seq_len + 2) + 3, seed=len(alphabet))
    assume("\x00" not in text)
    check_text(text)
    data = TextData(text, name="ünïcode ✓ " + "".join(alphabet[:5]))
    cfg = ModelConfig("text", vocab_size=len(data.vocab), embed_size=embed, hidden_size=hidden, num_layers=layers,
                      cell=cell, task=task, bidirectional=task == "masked")
    model = build_model(cfg, seed=1)
    train_cfg = TrainConfig(seq_len=seq_len, steps=7)
    history = {"train": [(s, 1.0 / s) for s in range(1, 2000)], "val": [(s, 0.5) for s in range(1, 9)]}
    ckpts = [(s, model.state_dict()) for s in range(0, 60)]
    raw = save_bytes(model, data, train_cfg, 2000, history=history, checkpoints=ckpts)  # steps 0 … 2,000
    assert len(raw) <= MAX_FILE_BYTES
    loaded = load_bytes(raw)
    assert loaded.data.vocab == data.vocab and loaded.model.cfg == cfg and loaded.train_cfg == train_cfg
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.model.state_dict()[k])
    assert loaded.history["val"] == history["val"] and len(loaded.history["train"]) <= 500
    room = min(50, 4_000_000 // (2 * model.n_params()))  # the checkpoint budget in the file, half precision
    assert len(loaded.checkpoints) == min(room, 60)
    if room:
        assert loaded.checkpoints[-1][0] == 59 and (room == 1 or loaded.checkpoints[0][0] == 0)  # ends kept
    loaded.data.parts(seq_len)  # the pages can cut windows of the stored length


@settings(max_examples=25, deadline=None)
@given(n=st.integers(520, 6000), scale=st.sampled_from([1e-13, 1e-3, 1.0, 1e6, 1e12]),
       offset=st.sampled_from([0.0, -5.0, 1e9]), seed=st.integers(0, 2**16), hidden=st.sampled_from([1, 16, 256]),
       layers=st.integers(1, 3))
def test_every_series_model_reopens(n, scale, offset, seed, hidden, layers):
    values = offset + scale * np.random.default_rng(seed).standard_normal(n).cumsum()
    try:
        data = SeriesData(values, name="x" * 300, unit="°C" * 30)
    except DataError:
        return  # a series the app refuses is never trained
    model = build_model(ModelConfig("series", hidden_size=hidden, num_layers=layers), seed=0)
    loaded = load_bytes(save_bytes(model, data, TrainConfig(seq_len=256), 3))
    assert (loaded.data.mean, loaded.data.std) == (data.mean, data.std)
    assert np.array_equal(loaded.data.values, data.values[-5000:])
    assert loaded.data.name.startswith("x" * 200) and len(loaded.data.unit) <= 40


def test_a_series_flat_at_its_end_still_reopens():
    """The file keeps the last 5,000 points; they may be constant although the whole series was not."""
    values = np.concatenate([np.sin(np.arange(3000) / 7), np.zeros(6000)])
    model = build_model(ModelConfig("series", hidden_size=4))
    loaded = load_bytes(save_bytes(model, SeriesData(values), TrainConfig(), 1))
    assert loaded.data.values.std() == 0 and loaded.data.std > 0


# --- any bytes: a model or a ModelFileError ------------------------------------------------------------------------

def _edit_meta(raw: bytes, key: str, value: str) -> bytes:
    return with_header(raw, lambda h: h["__metadata__"].update({key: value}))


def _outcome(raw: bytes) -> str:
    try:
        load_bytes(raw)
        return "model"
    except ModelFileError as e:
        assert str(e) and len(str(e)) < 600
        return "refused"


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**40, 10**40), st.floats(allow_nan=True, allow_infinity=True),
              st.text(CHARS, max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=30)
# a few hundred examples per field here; bench/fuzz_loader.py runs the same tests much deeper
FUZZ = settings(max_examples=int(os.environ.get("LSTM_LAB_FUZZ_EXAMPLES", 200)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
_, GOOD_SERIES = None, save_bytes(build_model(ModelConfig("series", hidden_size=3)), load_series_preset("sine"),
                                  TrainConfig(seq_len=16), 5)
GOOD_TEXT = good()[1]


@FUZZ
@given(key=st.sampled_from(["format", "model_config", "train_config", "steps", "data", "history", "checkpoints"]),
       value=JSON_VALUES, series=st.booleans())
def test_any_json_in_any_metadata_field_is_a_model_or_a_clear_refusal(key, value, series):
    _outcome(_edit_meta(GOOD_SERIES if series else GOOD_TEXT, key, json.dumps(value)))


@FUZZ
@given(key=st.sampled_from(["model_config", "train_config", "data"]), field=st.text(max_size=12) | st.sampled_from(
    ["hidden_size", "num_layers", "cell", "vocab_size", "kind", "task", "bidirectional", "input_size", "embed_size",
     "seq_len", "lr", "steps", "seed", "grad_clip", "vocab", "sample", "mean", "std", "unit", "name"]),
       value=JSON_VALUES, series=st.booleans())
def test_any_value_in_any_config_or_data_entry_is_a_model_or_a_clear_refusal(key, field, value, series):
    raw = GOOD_SERIES if series else GOOD_TEXT
    (n,) = struct.unpack("<Q", raw[:8])
    inner = json.loads(json.loads(raw[8 : 8 + n])["__metadata__"][key])
    inner[field] = value
    _outcome(_edit_meta(raw, key, json.dumps(inner)))


@FUZZ
@given(text=st.text(CHARS, max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_any_header_text_is_refused_clearly(text):
    header = text.encode("utf-8", "surrogatepass")
    _outcome(struct.pack("<Q", len(header)) + header + b"\0" * 64)


@pytest.mark.parametrize("header", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                                    b'{"__metadata__":{"format":"lstm-gate-lab/1","steps":"' + b"9" * 5000 + b'"}}',
                                    b'{"__metadata__":{"x":1e99999}}', b'{"__metadata__":{"x":NaN}}',
                                    b'{"__metadata__":{"x":' + b"1" * 5000 + b"}}", b'\xed\xa0\x80'])
def test_pathological_headers_are_refused_clearly(header):
    assert _outcome(struct.pack("<Q", len(header)) + header) == "refused"


def test_strict_json_refuses_what_python_would_accept():
    for text in ("NaN", "[Infinity]", "1" * 40, "1e400", "[" * 5000 + "]" * 5000):
        with pytest.raises(ModelFileError):
            strict_json(text)
    assert strict_json('{"a": [1, 2.5, "é"]}') == {"a": [1, 2.5, "é"]}


# --- a file that loads works on every page -------------------------------------------------------------------------

def _meta_json(raw: bytes, key: str) -> dict:
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(json.loads(raw[8 : 8 + n])["__metadata__"][key])


@pytest.mark.parametrize("key,change,needle", [
    ("data", {"sample": "the cats"}, "needs at least"),                        # too short for seq_len 64
    ("data", {"vocab": None}, "vocabulary"),
    ("data", {"name": ["x"]}, "data name"),
    ("data", {"kind": "series"}, "another kind"),
])
def test_text_files_the_pages_could_not_use_are_refused(key, change, needle):
    _, raw = good()
    raw = _edit_meta(raw, "train_config", json.dumps({**_meta_json(raw, "train_config"), "seq_len": 64}))
    with pytest.raises(ModelFileError, match=needle):
        load_bytes(_edit_meta(raw, key, json.dumps({**_meta_json(raw, key), **change})))


def test_a_vocabulary_of_lone_surrogates_is_refused():
    _, raw = good()
    data = _meta_json(raw, "data")
    vocab = sorted(data["vocab"][:-1] + ["\ud800"])
    edited = _edit_meta(raw, "data", json.dumps({**data, "vocab": vocab}))
    with pytest.raises(ModelFileError):
        load_bytes(edited)


@pytest.mark.parametrize("change,needle", [({"std": 1e-320}, "infinite"), ({"std": 0}, "not positive"),
                                           ({"mean": 1e308, "std": 1e303}, "infinite"), ({"mean": "0"}, "finite"),
                                           ({"sample": [1.0] * 10}, "needs at least"), ({"unit": 5}, "unit")])
def test_series_files_whose_normalisation_or_sample_cannot_work_are_refused(change, needle):
    data = _meta_json(GOOD_SERIES, "data")
    with pytest.raises(ModelFileError, match=needle):
        load_bytes(_edit_meta(GOOD_SERIES, "data", json.dumps({**data, **change})))


def test_a_series_model_reading_two_numbers_per_step_is_refused():
    model = build_model(ModelConfig("series", hidden_size=3, input_size=2))
    raw = save_bytes(model, load_series_preset("sine"), TrainConfig(seq_len=16), 5)
    with pytest.raises(ModelFileError, match="2 numbers per step"):
        load_bytes(raw)


def test_checkpoints_round_trip_and_malformed_lists_are_refused():
    model, _ = good()
    other = build_model(replace(model.cfg), seed=9)
    raw = save_bytes(model, TEXT, TrainConfig(steps=50), 50, checkpoints=[(0, other.state_dict()),
                                                                         (50, model.state_dict())])
    loaded = load_bytes(raw)
    assert [s for s, _ in loaded.checkpoints] == [0, 50]
    assert torch.allclose(loaded.checkpoints[0][1]["head.bias"].float(), other.state_dict()["head.bias"], rtol=1e-3,
                          atol=1e-4)
    for bad in ([0, 1, 2], ["0", 50], [-1, 50], [0, 10**12]):
        with pytest.raises(ModelFileError):
            load_bytes(_edit_meta(raw, "checkpoints", json.dumps(bad)))


@pytest.mark.parametrize("kind", sorted(__import__("lstm_demo.kinds", fromlist=["KINDS"]).KINDS))
def test_the_size_limit_counts_the_parameters_a_real_model_has(kind):
    """count_parameters (meta device, initialisers skipped) against the same config built for real on the CPU."""
    from lstm_demo.kinds import KINDS
    from lstm_demo.models import count_parameters
    cfg = KINDS[kind].max_config()
    real = sum(p.numel() for p in build_model(cfg, seed=0).parameters())
    assert count_parameters(cfg) == real


def test_looking_at_a_bundled_model_imports_no_compiler():
    """torch._dynamo costs ~2 s and ~140 MB: a server's first model file or link — sizing the largest model, opening
    a bundled one as a visitor's experiment, tracing it — must not pull it in; training may (a fresh interpreter:
    the suite itself may have imported it)."""
    import subprocess
    import sys
    code = ("import sys\n"
            "from lstm_demo.bundle import load_bundle\n"
            "from lstm_demo.jobs import Experiment\n"
            "loaded = load_bundle('agreement')\n"
            "ex = Experiment(loaded.data, loaded.model.cfg, loaded.train_cfg, model=loaded.model, shared=True)\n"
            "ex.spec.trace(ex.model, ex.data, ex.spec.text_choice(ex.data, 'the cats were full.'))\n"
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.strip() == "False", out.stderr
