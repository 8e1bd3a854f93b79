"""Small trained models shipped with the app, so the first screen shows real gates without any training.

    python -m lstm_demo.cli bundle            # regenerates every file in lstm_demo/bundled/ (about 2 minutes)

Each model is trained synchronously with fixed seeds and one torch thread, so on one machine a rebuild gives the
same bytes every time. Another CPU may round differently (oneDNN and BLAS pick kernels by CPU), so its weights may
differ in the last bits: tests/test_bundle.py checks that a rebuild is deterministic where it runs and equals the
shipped file within a tolerance. The Python-source corpus is read from the running Python's standard library, so
that one bundle follows the Python version.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from .config import DEFAULTS, ModelConfig, TrainConfig, fitting_seq_len

# store, data, train and torch are imported where they are used: the first screen reads BUNDLES without torch

BUNDLE_DIR = Path(__file__).resolve().parent / "bundled"


@dataclass(frozen=True)
class Bundle:
    key: str
    kind: str            # text, series, frames / digits (image sequences), or race (a model from a long-memory race)
    preset: str          # the data preset (text, series) or long-memory task (race) it is trained on
    label: str
    cell: str = "lstm"
    task: str = "next"   # text: "next" character or "masked" (fill in hidden characters)
    bidirectional: bool = False
    hide: str = "chars"  # fill-in: hide characters or whole words in training
    steps: int | None = None  # None: the Train page's default
    checkpoint_bytes: int | None = None  # None: BUNDLE_CHECKPOINT_BYTES (a larger model keeps fewer checkpoints)
    layers: int = 1      # stacked LSTM layers


BUNDLES = {b.key: b for b in [
    # every data preset at the Train page's default settings (the Train page opens on these)
    Bundle("agreement", "text", "agreement", "LSTM on the agreement text (cat/cats … was/were)"),
    Bundle("brackets", "text", "brackets", "LSTM on brackets and quotes"),
    Bundle("python", "text", "python", "LSTM on Python source"),
    Bundle("sine", "series", "sine", "LSTM on a sine wave"),
    Bundle("sines_noise", "series", "sines_noise", "LSTM on two sines + noise"),
    Bundle("square", "series", "square", "LSTM on a square wave"),
    Bundle("sawtooth", "series", "sawtooth", "LSTM on a sawtooth wave"),
    Bundle("mackey_glass", "series", "mackey_glass", "LSTM on the Mackey–Glass series"),
    Bundle("seattle", "series", "seattle_daily", "LSTM on Seattle daily temperature"),
    Bundle("seattle_hourly", "series", "seattle_hourly", "LSTM on Seattle hourly temperature"),
    Bundle("stock_aapl", "series", "stock_aapl", "LSTM on AAPL's monthly price"),
    # the scenes' models
    Bundle("memory_lstm", "race", "agreement", "LSTM from the long-memory race: was/were after filler words"),
    Bundle("memory_rnn", "race", "agreement", "plain RNN from the same race (same size, data and seed)",
           cell="rnn"),
    Bundle("allergy_lstm", "race", "allergy", "LSTM from the allergy race: can/can't after filler words"),
    Bundle("allergy_rnn", "race", "allergy", "plain RNN from the allergy race (same size, data and seed)",
           cell="rnn"),
    Bundle("colours_rnn", "text", "colours", "plain RNN on “the colour of the sky is blue”", cell="rnn"),
    Bundle("places_bi", "text", "places", "bidirectional LSTM filling in hidden words (places text)",
           task="masked", bidirectional=True, hide="words", steps=2000),
    Bundle("places_uni", "text", "places", "one-directional LSTM filling in hidden words (places text)",
           task="masked", hide="words", steps=2000),  # 1000 steps leave the bidirectional one unsure
    Bundle("python_stacked", "text", "python", "stacked LSTM (2 layers) on Python source", layers=2),
    # the two that see (image sequences), at the Train page's presets
    Bundle("shapes", "frames", "shapes", "ConvLSTM on moving shapes (next frame)"),
    Bundle("moving_digits", "frames", "moving_digits", "ConvLSTM on moving handwritten digits (next frame)"),
    Bundle("first_digit", "digits", "first_digit", "CNN-LSTM: which handwritten digit came first?"),
    # the encoder–decoder
    Bundle("numbers", "translation", "numbers", "encoder–decoder LSTM: numbers in words → digits",
           checkpoint_bytes=1_000_000),  # two LSTMs of 128 units: the file stays under 2 MB
]}
FRAME_BUNDLE_KINDS = ("frames", "digits")
DEFAULT_BUNDLE = "agreement"


def configs(b: Bundle, data) -> tuple[ModelConfig, TrainConfig]:
    """The Train page's defaults for the bundle's data (the sequence length shortened where the data is short)."""
    if b.kind in FRAME_BUNDLE_KINDS:
        from .family import vision_defaults
        model_cfg, train_cfg = vision_defaults(b.preset, data.frame)
        return model_cfg, replace(train_cfg, steps=b.steps or train_cfg.steps)
    if b.kind == "translation":
        from .family import translation_defaults
        model_cfg, train_cfg = translation_defaults(data)
        return model_cfg, replace(train_cfg, steps=b.steps or train_cfg.steps)
    model_cfg, train_cfg = DEFAULTS[b.kind]
    model_cfg = replace(model_cfg, cell=b.cell, vocab_size=len(data.vocab) if b.kind == "text" else 0,
                        task=b.task, bidirectional=b.bidirectional, num_layers=b.layers)
    n = len(data.ids) if b.kind == "text" else len(data.values)
    return model_cfg, replace(train_cfg, seed=0, seq_len=fitting_seq_len(n, train_cfg.seq_len), hide=b.hide,
                              steps=b.steps or train_cfg.steps)


_COMPARED = (("cell", "cell"), ("hidden_size", "hidden units"), ("num_layers", "layers"), ("task", "task"),
             ("bidirectional", "bidirectional"), ("seq_len", "sequence length"), ("batch_size", "batch size"),
             ("lr", "learning rate"), ("steps", "steps"), ("seed", "seed"), ("grad_clip", "gradient clipping"),
             ("hide", "hidden"), ("hidden_channels", "hidden channels"), ("kernel", "kernel size"),
             ("peephole", "peepholes"), ("conv_channels", "convolution maps"), ("embed_size", "embedding size"),
             ("reverse_source", "source reversed"))


def reference_bundle(preset: str, data, model_cfg: ModelConfig, train_cfg: TrainConfig) -> tuple[str, list] | None:
    """The bundled model trained on this preset's data (the Train page shows its loss curve and preview until the
    visitor trains their own): the one trained with exactly these settings if there is one, else the first for
    the preset. Returns (key, differences: "hidden units 64 (yours: 32)", …) or None."""
    found = []
    for b in BUNDLES.values():
        if b.kind != data.kind or b.preset != preset:
            continue
        m, t = configs(b, data)
        diffs = [f"{label} {getattr(ref, name):g} (yours: {getattr(mine, name):g})"
                 if isinstance(getattr(ref, name), (int, float)) and not isinstance(getattr(ref, name), bool)
                 else f"{label} {getattr(ref, name)} (yours: {getattr(mine, name)})"
                 for name, label in _COMPARED
                 for ref, mine in ((m, model_cfg), (t, train_cfg)) if hasattr(ref, name)
                 if getattr(ref, name) != getattr(mine, name)]
        found.append((b.key, diffs))
    return min(found, key=lambda f: len(f[1])) if found else None


def data_fingerprint(data) -> str:
    """sha256 of what a model was trained and validated on (the text, the values, or the recipe it is made from).
    Recorded in index.json: a check that re-evaluates a shipped model knows it reads the same data (the Python
    source preset follows the running Python's standard library)."""
    if hasattr(data, "recipe"):
        content = json.dumps(data.recipe, sort_keys=True).encode()
    elif data.kind == "text":
        content = data.text.encode("utf-8")
    else:
        import numpy as np
        content = np.ascontiguousarray(data.values, dtype=np.float64).tobytes()
    return hashlib.sha256(content).hexdigest()


def load_data(b: Bundle):
    if b.kind in FRAME_BUNDLE_KINDS:
        from .data.frames import FramesData
        return FramesData(b.preset)
    if b.kind == "translation":
        from .data.translation import TranslationData
        return TranslationData(b.preset)
    from .data import load_series_preset, load_text_preset
    return load_text_preset(b.preset) if b.kind == "text" else load_series_preset(b.preset)


_RACES: dict = {}  # one default race per regeneration serves both race bundles


def _race_bundle(b: Bundle) -> tuple[bytes, float]:
    """The long-memory lab's default race (memory.RaceConfig), keeping one of its models."""
    from .memory import Race, RaceConfig
    from .store import save_bytes
    cfg = RaceConfig(task=b.preset)
    if cfg not in _RACES:
        race = Race(cfg).start()
        race.join()
        _RACES[cfg] = race
    race = _RACES[cfg]
    model = race.racers[b.cell].model
    acc = race.results["accuracy"]
    score = float(acc[acc.cell == b.cell]["accuracy"].mean())  # mean accuracy over the distances
    history = {"train": race.racers[b.cell].history}
    return save_bytes(model, race.data, TrainConfig(seq_len=64, steps=race.cfg.steps, lr=race.cfg.lr),
                      race.cfg.steps, history=history), score


@contextmanager
def one_thread():
    """Reduction order, hence the exact bytes, depends on torch's thread count."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_bundle(key: str, steps: int | None = None) -> tuple[bytes, float]:
    """Train one bundled model from scratch -> (safetensors bytes, validation loss or race accuracy). `steps`
    shortens the training (a quick build for checks; the shipped files use the bundle's own steps)."""
    from .store import BUNDLE_CHECKPOINT_BYTES, MAX_CHECKPOINTS, save_bytes
    from .train import fit
    b = BUNDLES[key]
    with one_thread():
        if b.kind == "race":
            return _race_bundle(b)
        data = load_data(b)
        model_cfg, train_cfg = configs(b, data)
        train_cfg = replace(train_cfg, steps=steps or train_cfg.steps)
        result = fit(model_cfg, data, train_cfg, n_checkpoints=MAX_CHECKPOINTS)
    return save_bytes(result.model, data, train_cfg, train_cfg.steps, history=result.history,
                      checkpoints=result.checkpoints, checkpoint_bytes=b.checkpoint_bytes or BUNDLE_CHECKPOINT_BYTES), \
        result.val_loss


def regenerate(keys=None, out_dir: Path = BUNDLE_DIR, log=print) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    index_path = out_dir / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    for key in keys or list(BUNDLES):
        raw, val = train_bundle(key)
        (out_dir / f"{key}.safetensors").write_bytes(raw)
        b = BUNDLES[key]
        what = "mean race accuracy" if b.kind == "race" else "validation loss"
        index[key] = {"label": b.label, "kind": b.kind, "preset": b.preset, "cell": b.cell, "bytes": len(raw),
                      what.replace(" ", "_"): round(val, 4), "sha256": hashlib.sha256(raw).hexdigest()}
        if b.kind != "race":
            index[key]["data_sha256"] = data_fingerprint(load_data(b))
        log(f"{key}: {len(raw):,} bytes, {what} {val:.4f}")
    index_path.write_text(json.dumps(index, indent=2) + "\n")
    from .memory import RaceConfig
    if (race := _RACES.get(RaceConfig())) is not None:  # the Long-memory page opens on it
        (out_dir / "race_default.json").write_text(race.record().to_json() + "\n")
        log("race_default.json: the default race's result")
    from .scenes import SCENES, save_scene
    for scene in SCENES:  # the first screen's traces, so it needs no torch
        if keys is None or scene.bundle in keys:
            log(f"scene {scene.key}: {save_scene(scene).name}")
    return index


def bundle_bytes(key: str) -> bytes:
    if key not in BUNDLES:
        raise KeyError(f"no bundled model {key!r}; choose one of {', '.join(BUNDLES)}")
    return (BUNDLE_DIR / f"{key}.safetensors").read_bytes()


def load_bundle(key: str):
    """A fresh copy of a bundled model (store.LoadedModel; each caller gets its own module to train or inspect)."""
    from .store import load_bytes
    return load_bytes(bundle_bytes(key))
