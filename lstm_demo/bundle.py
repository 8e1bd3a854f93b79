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

from .config import DEFAULTS, ModelConfig, TrainConfig

# store, data, train and torch are imported where they are used: the first screen reads BUNDLES without torch

BUNDLE_DIR = Path(__file__).resolve().parent / "bundled"


@dataclass(frozen=True)
class Bundle:
    key: str
    kind: str            # text or series
    preset: str          # the data preset it is trained on
    label: str
    cell: str = "lstm"
    hidden: int | None = None
    steps: int | None = None


BUNDLES = {b.key: b for b in [
    Bundle("agreement", "text", "agreement", "LSTM on the agreement text (cat/cats … was/were)"),
    Bundle("memory_lstm", "race", "agreement", "LSTM from the long-memory race: was/were after 0-20 filler words"),
    Bundle("memory_rnn", "race", "agreement", "plain RNN from the same race (same size, data and seed)",
           cell="rnn"),
    Bundle("brackets", "text", "brackets", "LSTM on brackets and quotes"),
    Bundle("python", "text", "python", "LSTM on Python source", steps=1000),
    Bundle("sine", "series", "sine", "LSTM on a sine wave", steps=400),
    Bundle("seattle", "series", "seattle_daily", "LSTM on Seattle daily temperature"),
]}
DEFAULT_BUNDLE = "agreement"


def configs(b: Bundle, data) -> tuple[ModelConfig, TrainConfig]:
    model_cfg, train_cfg = DEFAULTS[b.kind]
    model_cfg = replace(model_cfg, cell=b.cell, vocab_size=len(data.vocab) if b.kind == "text" else 0,
                        hidden_size=b.hidden or model_cfg.hidden_size)
    return model_cfg, replace(train_cfg, steps=b.steps or train_cfg.steps, seed=0)


def load_data(b: Bundle):
    from .data import load_series_preset, load_text_preset
    return load_text_preset(b.preset) if b.kind == "text" else load_series_preset(b.preset)


_RACES: dict = {}  # one default race per regeneration serves both race bundles


def _race_bundle(b: Bundle) -> tuple[bytes, float]:
    """The long-memory lab's default race (memory.RaceConfig), keeping one of its models."""
    from .memory import Race, RaceConfig
    from .store import save_bytes
    cfg = RaceConfig()
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


def train_bundle(key: str) -> tuple[bytes, float]:
    """Train one bundled model from scratch -> (safetensors bytes, validation loss or race accuracy)."""
    from .store import BUNDLE_CHECKPOINT_BYTES, MAX_CHECKPOINTS, save_bytes
    from .train import fit
    b = BUNDLES[key]
    with one_thread():
        if b.kind == "race":
            return _race_bundle(b)
        data = load_data(b)
        model_cfg, train_cfg = configs(b, data)
        result = fit(model_cfg, data, train_cfg, n_checkpoints=MAX_CHECKPOINTS)
    return save_bytes(result.model, data, train_cfg, train_cfg.steps, history=result.history,
                      checkpoints=result.checkpoints, checkpoint_bytes=BUNDLE_CHECKPOINT_BYTES), result.val_loss


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
        log(f"{key}: {len(raw):,} bytes, {what} {val:.4f}")
    index_path.write_text(json.dumps(index, indent=2) + "\n")
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
