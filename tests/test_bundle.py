"""Bundled models: small, loadable, what they claim to be, and rebuilt by the regeneration command.

Nothing here compares a rebuild with the shipped bytes: training amplifies the last-digit rounding differences
between CPUs (oneDNN and BLAS pick kernels by CPU; the AAPL bundle rebuilt on another CPU differs by 3e-4), so such a
comparison fails on some machines for no fault of the code. Instead every CPU can check what a shipped file claims:
it loads, its configs are the ones its bundle is built with, and its recorded validation loss (or race accuracy) is
what evaluating its weights gives now — evaluation rounds differently by ~1e-6, not by what training amplifies.
Determinism stays checked where it holds: two rebuilds on the machine running the test, bit for bit.
"""
import hashlib
import json

import pytest
import torch

from lstm_demo.bundle import BUNDLE_DIR, BUNDLES, bundle_bytes, configs, data_fingerprint, load_bundle, load_data, \
    train_bundle
from lstm_demo.kinds import KINDS

INDEX = json.loads((BUNDLE_DIR / "index.json").read_text())
EVAL_REL = 1e-4      # evaluation on another CPU: ~1e-6 relative; a weight changed by 1e-3 moves the loss far more
MACHINE_DATA = {"python"}  # presets read from the running machine (the Python standard library's source)


@pytest.mark.parametrize("key", list(BUNDLES))
def test_each_bundle_is_small_loads_and_matches_the_index(key):
    raw = bundle_bytes(key)
    assert len(raw) < 2_000_000
    assert INDEX[key]["sha256"] == hashlib.sha256(raw).hexdigest()
    loaded = load_bundle(key)
    assert loaded.model.cfg.cell == BUNDLES[key].cell and loaded.steps > 0
    assert loaded.model is not load_bundle(key).model  # every caller gets its own module to train


def recorded_loss_now(model, b, data) -> float:
    """The validation loss of `model` on the bundle's validation batches, evaluated as training recorded it."""
    model_cfg, train_cfg = configs(b, data)
    kind = KINDS[data.kind]
    batches = kind.batches(data, model_cfg, train_cfg, train_cfg.seed)
    with torch.no_grad():
        model.eval()
        return kind.loss(model, batches.val_x, batches.val_y).item()


TRAINED = [k for k, b in BUNDLES.items() if b.kind != "race"]


@pytest.mark.parametrize("key", TRAINED)
def test_a_shipped_model_is_what_its_file_claims(key):
    """Its configs are the bundle's, its last recorded validation point is the end of its run, and evaluating its
    weights now gives the validation loss it recorded (on any CPU: an evaluation, not a training run)."""
    b, loaded = BUNDLES[key], load_bundle(key)
    data = load_data(b)
    model_cfg, train_cfg = configs(b, data)
    assert loaded.model.cfg == model_cfg and loaded.train_cfg == train_cfg and loaded.steps == train_cfg.steps
    last_step, recorded = loaded.history["val"][-1]
    assert last_step == loaded.steps
    assert INDEX[key]["validation_loss"] == pytest.approx(recorded, abs=5e-5)  # the index rounds to 4 decimals
    now = recorded_loss_now(loaded.model, b, data)
    if data_fingerprint(data) == INDEX[key]["data_sha256"]:
        assert now == pytest.approx(recorded, rel=EVAL_REL, abs=1e-7)
    else:  # another Python's standard library: other text, so only "it still reads it about as well"
        assert b.preset in MACHINE_DATA, f"{key}: this machine made other data than the bundle was trained on"
        assert now < 1.5 * recorded


@pytest.mark.parametrize("key", [k for k, b in BUNDLES.items() if b.kind == "race"])
def test_a_race_model_reproduces_its_recorded_accuracy(key):
    from lstm_demo.memory import Race, RaceConfig, accuracy_by_distance
    b, loaded = BUNDLES[key], load_bundle(key)
    race = Race(RaceConfig(task=b.preset))  # not started: its fixed validation examples are all it is asked for
    acc = accuracy_by_distance(loaded.model, race.task, race.data, race.val)
    # 128 examples per distance: a near-tie flipped by rounding moves the mean by 1/1024 at most per example
    assert sum(acc.values()) / len(acc) == pytest.approx(INDEX[key]["mean_race_accuracy"], abs=2e-3)


def test_the_loss_check_would_catch_a_changed_model():
    """The tolerance is tight enough to see a real change: weights nudged by 1e-3 move the loss past it."""
    b = BUNDLES["stock_aapl"]
    loaded, data = load_bundle("stock_aapl"), load_data(b)
    recorded = loaded.history["val"][-1][1]
    with torch.no_grad():
        for p in loaded.model.parameters():
            p.add_(1e-3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(0)))
    assert recorded_loss_now(loaded.model, b, data) != pytest.approx(recorded, rel=EVAL_REL, abs=1e-7)


def test_regeneration_is_deterministic_on_this_machine():
    assert train_bundle("stock_aapl", steps=150)[0] == train_bundle("stock_aapl", steps=150)[0]


@pytest.mark.parametrize("key", list(BUNDLES))
def test_the_words_on_how_a_bundle_was_trained_name_exactly_its_changed_settings(key):
    """bundle.provenance against the bundle's recipe (Bundle.model / Bundle.train, the other source of truth) and
    the settings its file holds: "the Train page's defaults" only for a bundle trained with them, every changed
    setting named with the file's value; a race model's numbers are the race's."""
    from lstm_demo.bundle import LABELS, provenance
    from lstm_demo.memory import RaceConfig
    b, loaded = BUNDLES[key], load_bundle(key)
    words = provenance(key)
    if b.from_race:
        race = RaceConfig(task=b.preset)
        assert loaded.steps == race.steps and loaded.train_cfg.lr == race.lr
        assert words.startswith("trained in the long-memory race with its default settings")
        assert f"{race.steps:,} steps" in words and f"learning rate {race.lr:g}" in words
        assert f"{loaded.model.cfg.hidden_size} units" in words and "Train page" not in words
        return
    changed = {**dict(b.model), **dict(b.train)}
    assert ("except" in words) == bool(changed)
    assert words.startswith("trained with the Train page's default settings for its data")
    for name, value in changed.items():
        label = LABELS.get(name, name.replace("_", " "))
        said = label if value is True else f"{label} {value:,}" if isinstance(value, int) else f"{label} {value}"
        assert said in words
        cfg = loaded.model.cfg if hasattr(loaded.model.cfg, name) and name in dict(b.model) else loaded.train_cfg
        assert getattr(cfg, name) == value  # the file holds the setting the words name
    if changed:
        assert len(words.split(", except ")[1].split(", ")) == len(changed)  # and nothing else


def test_the_reference_panel_calls_a_bundle_default_only_when_it_is():
    from lstm_demo.bundle import reference_words
    assert reference_words("agreement", []) == "exactly these settings"
    assert reference_words("agreement", ["hidden units 64 (yours: 32)"]).startswith("the default settings — yours")
    for key in ("colours_rnn", "places_bi", "memory_lstm"):        # trained with their own settings
        assert reference_words(key, ["cell rnn (yours: lstm)"]) == "its own settings — yours differ: cell rnn " \
                                                                    "(yours: lstm)"
