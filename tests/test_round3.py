"""Round 3 of hostile and edge inputs (issue "any machine, any input"), one test per class of what failed:
settings whose caps held one by one but not together (the budget), settings the page offers that crashed, types and
cross-field facts, held-out data that was not held out, background runs outside the rules, the command line on the
newer kinds, lists in model files taken on trust, crafted widget values, and links that dropped what they got."""
import json
import math
import os
import struct
from dataclasses import fields, replace

import numpy as np
import pytest
import torch

from lstm_demo import budget
from lstm_demo.config import ConfigError, DataError, ModelFileError, TrainConfig
from lstm_demo.kinds import KINDS
from lstm_demo.kinds.bottleneck import BottleneckConfig
from lstm_demo.kinds.cnnlstm import CNNLSTMConfig
from lstm_demo.kinds.convlstm import ConvLSTMConfig
from lstm_demo.kinds.frames_data import FramesData
from lstm_demo.kinds.seq2seq import Seq2SeqConfig
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData
from lstm_demo.kinds.translation_data import LENGTHS, MIN_VAL_PAIRS, TASKS, TranslationData
from lstm_demo.memory import RaceConfig
from lstm_demo.models import build_model
from lstm_demo.store import _canonical, load_bytes, save_bytes

CONFIGS = [ModelConfig("text", vocab_size=10), TrainConfig(), ConvLSTMConfig(), CNNLSTMConfig(),
           Seq2SeqConfig(vocab_size=40), RaceConfig(), BottleneckConfig(),
           __import__("lstm_demo.kinds.captioner", fromlist=["x"]).CaptionerConfig(vocab_size=18)]
WRONG = {bool: ["false", 0, 1, None, [], "true"],
         int: ["3", 2.5, True, None, [], {}, float("nan"), float("inf"), 10**30, -10**30],
         float: ["0.1", None, True, [], float("nan"), float("inf"), -float("inf")],
         str: [3, None, True, [], "", "no such value"]}


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: type(c).__name__)
def test_every_config_field_refuses_the_wrong_type_with_a_config_error(cfg):
    """A file, a crafted websocket message or the CLI may send any JSON value for any field: each is a clear
    ConfigError (e.g. "peepholes must be true or false, not 'false'"), never another exception, never accepted."""
    cfg.validate()
    for f in fields(cfg):
        default = getattr(cfg, f.name)
        for bad in WRONG[type(default)]:
            if isinstance(default, float) and isinstance(bad, int) and not isinstance(bad, bool):
                continue  # an int is a fine float
            with pytest.raises(ConfigError):
                replace(cfg, **{f.name: bad}).validate()


def _offered(kind: str, data):
    """Every combination of the extreme options the Train page offers for this kind (ui/kinds' Settings)."""
    from lstm_demo.ui.kinds import UI_KINDS
    model_cfg, train_cfg = KINDS[kind].defaults(data)
    ends = []
    for row in UI_KINDS[kind].settings(data):
        for s in row:
            if s.widget == "slider":
                ends.append((s, [min(s.options), max(s.options)]))
            elif s.widget == "number" and s.field in ("steps",):
                ends.append((s, [s.lo, s.hi]))
            elif s.widget == "check":
                ends.append((s, [False, True]))
    combos = [(model_cfg, train_cfg)]
    for s, values in ends:
        combos = [(replace(m, **{s.field: s.to_config(v) if s.to_config else v}) if s.on == "model" else m,
                   replace(t, **{s.field: s.to_config(v) if s.to_config else v}) if s.on == "train" else t)
                  for m, t in combos for v in values]
    # as the page sends them: a bidirectional text model does the fill-in task (ui/kinds/text.py)
    return [(replace(m, task="masked") if getattr(m, "bidirectional", False) else m, t) for m, t in combos]


BIG_DATA = {"text": lambda: TextData("the cats were full. the dog was happy.\n" * 400),
            "series": lambda: __import__("lstm_demo.kinds.series_data", fromlist=["x"]).load_series_preset("sine"),
            "frames": lambda: FramesData("shapes", steps=32, frame=32),
            "digits": lambda: FramesData("first_digit", steps=32, frame=32),
            "translation": lambda: TranslationData("copy", 40),
            "captions": lambda: __import__("lstm_demo.kinds.captions_data", fromlist=["x"]).CaptionData()}


@pytest.mark.parametrize("kind", list(BIG_DATA))
def test_every_setting_the_page_offers_is_allowed_within_the_budget_or_refused_in_words(kind):
    """The caps hold together: every combination of offered extremes on the largest offered data is either within
    the budget or refused before anything is built, saying what it would need and what to change."""
    data = BIG_DATA[kind]()
    allowed = refused = 0
    for model_cfg, train_cfg in _offered(kind, data):
        model_cfg, train_cfg, _ = KINDS[kind].adapt(model_cfg, train_cfg, data)
        try:
            KINDS[kind].checked(model_cfg, train_cfg, data)
        except ConfigError as e:
            assert "would need about" in str(e) and "the limit here is" in str(e) and "Choose" in str(e), str(e)
            refused += 1
            continue
        cost = KINDS[kind].cost(model_cfg, train_cfg, data)
        assert cost.step_bytes <= budget.JOB_BYTES and cost.step_seconds <= budget.STEP_SECONDS
        allowed += 1
    assert allowed and (refused or kind == "series")  # the presets fit; the largest corners do not (but a series')


def _largest_allowed(kind: str):
    data = BIG_DATA[kind]()
    best = None
    for model_cfg, train_cfg in _offered(kind, data):
        model_cfg, train_cfg, _ = KINDS[kind].adapt(model_cfg, train_cfg, data)
        try:
            KINDS[kind].checked(model_cfg, train_cfg, data)
        except ConfigError:
            continue
        cost = KINDS[kind].cost(model_cfg, train_cfg, data)
        if best is None or cost.step_bytes > best[0]:
            best = (cost.step_bytes, data, model_cfg, train_cfg)
    return best[1:]


def peak_bytes_of_one_step(kind: str) -> int:
    """In a fresh process: the memory one training step and one evaluation at the largest allowed settings add
    (its peak RSS against its RSS just before the model is built)."""
    from lstm_demo.train import Trainer, eval_chunk, make_optimizer
    torch.set_num_threads(1)
    data, model_cfg, train_cfg = _largest_allowed(kind)
    spec = KINDS[kind]
    batches = spec.batches(data, model_cfg, train_cfg, 0)
    make_optimizer(torch.nn.Linear(1, 1), 1e-3)  # once per process, not per job: torch's optimisers import
    import threading                               # torch._dynamo (~140 MB) on first use
    rss = lambda: int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    before, peak, done = rss(), [0], threading.Event()

    def watch():  # the process's resident memory, sampled while the step and the evaluation run
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            done.wait(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        model = build_model(model_cfg)
        trainer = Trainer(model, make_optimizer(model, 1e-3), spec, 1.0, batches,
                          eval_chunk=eval_chunk(spec, model_cfg, train_cfg, data, batches.val_x))
        trainer.step()
        trainer.evaluate()
    finally:
        done.set()
        watcher.join()
    return max(peak[0], rss()) - before


@pytest.mark.parametrize("kind", list(BIG_DATA))
def test_the_largest_allowed_step_and_evaluation_stay_within_the_memory_budget(kind):
    """Measured, not only estimated: one training step and one evaluation at the largest allowed settings add at
    most the budget to a process (a fresh one, so its peak memory is this step's)."""
    import subprocess
    import sys
    code = (f"import sys; sys.path.insert(0, 'tests'); from test_round3 import peak_bytes_of_one_step; "
            f"print(peak_bytes_of_one_step({kind!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) <= budget.JOB_BYTES


def test_every_offered_translation_setting_has_a_held_out_set_training_never_draws():
    for task in TASKS:
        lo, hi, _ = LENGTHS[task]
        for length in range(lo, hi + 1):
            data = TranslationData(task, length)
            held = {s for s, _ in data.val_pairs}
            assert len(held) == len(data.val_pairs) >= MIN_VAL_PAIRS
            assert not held & {s for s, _ in data.train_pairs(500, seed=length)}, (task, length)
    with pytest.raises(DataError):  # numbers of at most 1 digit: 10 sources, too few to hold some out
        TranslationData("numbers", 1)


def test_cross_field_facts_are_checked_for_configs_and_files():
    from lstm_demo.jobs import Experiment
    digits = FramesData("first_digit", steps=3, frame=12)
    with pytest.raises(ConfigError, match="10"):
        Experiment(digits, CNNLSTMConfig(frame=12, classes=7), TrainConfig(batch_size=4, steps=2))
    text = TextData("the cats were full. " * 30)
    with pytest.raises(ConfigError, match="distinct characters"):
        Experiment(text, ModelConfig("text", vocab_size=3), TrainConfig(seq_len=16, batch_size=4, steps=2))
    # a file whose CNN-LSTM answers in 7 classes, and a ConvLSTM file whose peephole flag is the string "false"
    bad_classes = save_bytes(build_model(CNNLSTMConfig(frame=12, classes=7)), digits, TrainConfig(), 3)
    with pytest.raises(ModelFileError, match="does not fit its data"):
        load_bytes(bad_classes)
    raw = save_bytes(build_model(ConvLSTMConfig(height=12, width=12)), FramesData("shapes", steps=4, frame=12),
                     TrainConfig(), 3)
    with pytest.raises(ModelFileError, match="true or false"):
        load_bytes(_with_meta(raw, "model_config", lambda c: {**c, "peephole": "false"}))


def _with_meta(raw: bytes, key: str, change) -> bytes:
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header["__metadata__"][key] = json.dumps(change(json.loads(header["__metadata__"][key])))
    text = json.dumps(header).encode()
    return _canonical(struct.pack("<Q", len(text)) + text + raw[8 + n :])


def test_lists_in_model_files_are_not_taken_on_trust():
    from lstm_demo.train import MAX_TOTAL_STEPS
    text = TextData("the cats were full. " * 30)
    model = build_model(ModelConfig("text", vocab_size=len(text.vocab), hidden_size=4, embed_size=4))
    states = [(s, {k: v.clone() for k, v in model.state_dict().items()}) for s in (0, 5, 10)]
    raw = save_bytes(model, text, TrainConfig(seq_len=16), 10, checkpoints=states)
    assert [s for s, _ in load_bytes(raw).checkpoints] == [0, 5, 10]
    for steps in ([5, 0, 10], [0, 5, 5], [0, 5, 11]):
        with pytest.raises(ModelFileError, match="checkpoint list"):
            load_bytes(_with_meta(raw, "checkpoints", lambda _: steps))
    history = {"train": [[1, 2.0], [3, 1.0], [2, 1.5]], "val": []}
    with pytest.raises(ModelFileError, match="loss history"):
        load_bytes(_with_meta(raw, "history", lambda _: history))
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header["__metadata__"]["steps"] = str(MAX_TOTAL_STEPS + 1)
    body = json.dumps(header).encode()
    with pytest.raises(ModelFileError, match="step count"):
        load_bytes(_canonical(struct.pack("<Q", len(body)) + body + raw[8 + n :]))


def test_a_model_may_not_train_past_the_steps_its_file_can_hold():
    from lstm_demo.jobs import Experiment
    from lstm_demo.train import MAX_TOTAL_STEPS
    text = TextData("the cats were full. " * 30)
    ex = Experiment(text, ModelConfig("text", vocab_size=len(text.vocab), hidden_size=4, embed_size=4),
                    TrainConfig(seq_len=16, batch_size=4, steps=10), trained_steps=MAX_TOTAL_STEPS - 5)
    with pytest.raises(ConfigError, match="in all"):
        ex.start(ex.train_cfg)


@pytest.mark.parametrize("kind", ["frames", "digits", "translation"])
def test_the_command_line_traces_every_kind_it_saves(kind, tmp_path, capsys):
    from lstm_demo.cli import main
    data = {"frames": lambda: FramesData("shapes", steps=4, frame=12),
            "digits": lambda: FramesData("first_digit", steps=3, frame=12),
            "translation": lambda: TranslationData("copy", 5)}[kind]()
    model_cfg, train_cfg = KINDS[kind].defaults(data)
    path = tmp_path / "m.safetensors"
    path.write_bytes(save_bytes(build_model(model_cfg), data, train_cfg, 1))
    out = tmp_path / "t.csv"
    assert main(["trace", str(path), "--out", str(out)]) == 0, capsys.readouterr().err
    assert out.read_text().startswith("step,")
    wrong = ["--start", "0"] if kind != "translation" else ["--seq", "1"]
    assert main(["trace", str(path), *wrong, "--out", str(out)]) == 2
    assert "error:" in capsys.readouterr().err


def test_the_bundle_command_refuses_unknown_or_missing_keys(capsys):
    from lstm_demo.cli import main
    assert main(["bundle", "--only", "no_such_bundle"]) == 2
    assert "no_such_bundle" in capsys.readouterr().err
    assert main(["bundle", "--only"]) == 2  # not "rebuild every bundle"
    assert main(["scenes", "--only", "nope"]) == 2


@pytest.mark.parametrize("event", [
    {"selection": {"pixel": [{"y": float("inf"), "x": 3}]}}, {"selection": {"pixel": [{"y": float("nan"), "x": 3}]}},
    {"selection": {"pixel": [{"y": "3", "x": 3}]}}, {"selection": {"pixel": [{"y": [3], "x": 3}]}},
    {"selection": {"pixel": [{"y": 2.5, "x": 3}]}}, {"selection": {"pixel": [{"y": -1, "x": 3}]}},
    {"selection": {"pixel": [{"y": 10**40, "x": 3}]}}, {"selection": {"pixel": "x"}}, {"selection": None},
    "not a dict", {"selection": {"pixel": [{"y": True, "x": 3}]}}])
def test_a_crafted_pixel_pick_is_refused_like_a_bad_file(event):
    from lstm_demo.ui.kinds.vision import picked_pixel
    assert picked_pixel(event, (8, 16, 16)) is None


def test_a_real_pixel_pick_is_read():
    from lstm_demo.ui.kinds.vision import picked_pixel
    assert picked_pixel({"selection": {"pixel": [{"y": 3, "x": 15.0}]}}, (8, 16, 16)) == (3, 15)


def test_background_runs_validate_their_configs():
    with pytest.raises(ConfigError, match="steps per model"):
        BottleneckConfig(steps=10**9).validate()
    with pytest.raises(ConfigError, match="batch size"):
        BottleneckConfig(batch=0).validate()
    with pytest.raises(ConfigError):
        RaceConfig(steps=10**9).validate()


def test_the_budget_estimates_grow_with_every_size():
    """A sanity check of the estimator itself: doubling any size never makes a step cheaper."""
    data = FramesData("shapes", steps=8, frame=16)
    base_m, base_t = KINDS["frames"].defaults(data)
    base = KINDS["frames"].cost(base_m, base_t, data)
    for m, t in ((replace(base_m, hidden_channels=16), base_t), (replace(base_m, kernel=5), base_t),
                 (base_m, replace(base_t, batch_size=32))):
        cost = KINDS["frames"].cost(m, t, data)
        assert cost.step_bytes >= base.step_bytes and cost.flops > base.flops
    assert math.isfinite(base.step_seconds)
