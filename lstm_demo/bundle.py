"""Small trained models shipped with the app, so the first screen shows real gates without any training.

    python -m lstm_demo.cli bundle            # regenerates every file in lstm_demo/bundled/ and the scenes

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
from dataclasses import fields, replace
from pathlib import Path

from .config import TrainConfig
from .kinds import KINDS
from .kinds.base import Bundle

# store, data, train and torch are imported where they are used: the first screen reads BUNDLES without torch

BUNDLE_DIR = Path(__file__).resolve().parent / "bundled"


BUNDLES = {b.key: b for kind in KINDS.values() for b in kind.bundles}  # each kind lists its own (kinds/)
DEFAULT_BUNDLE = "agreement"


def configs(b: Bundle, data):
    """The kind's preset for the bundle's data with the bundle's own changes (the sequence length shortened where the
    data is short)."""
    return KINDS[b.kind].with_overrides(data, dict(b.model), dict(b.train))


LABELS = {"hidden_size": "hidden units", "num_layers": "layers", "seq_len": "sequence length",
          "batch_size": "batch size", "lr": "learning rate", "grad_clip": "gradient clipping", "hide": "hidden",
          "embed_size": "embedding size", "reverse_source": "source reversed", "peephole": "peepholes",
          "kernel": "kernel size", "conv_channels": "convolution maps"}
NOT_SETTINGS = {"eval_every", "vocab_size", "kind", "input_size", "height", "width", "in_channels", "frame",
                "classes"}  # follow from the data, or are not the visitor's to choose


def _differing(ref, mine):
    """(label, ref's value, mine's value) of each visitor's setting that differs between two configs."""
    for f in fields(ref):
        a, b = getattr(ref, f.name), getattr(mine, f.name, None)
        if f.name not in NOT_SETTINGS and a != b:
            yield LABELS.get(f.name, f.name.replace("_", " ")), a, b


def _differences(ref, mine) -> list:
    out = []
    for label, a, b in _differing(ref, mine):
        number = isinstance(a, (int, float)) and not isinstance(a, bool)
        out.append(f"{label} {a:g} (yours: {b:g})" if number and isinstance(b, (int, float)) else
                   f"{label} {a} (yours: {b})")
    return out


def _changed(default, mine) -> list:
    """The settings of `mine` that differ from `default`, as "cell rnn", "steps 2,000", "bidirectional"."""
    return [label if b is True else f"not {label}" if b is False else
            f"{label} {b:,}" if isinstance(b, int) else f"{label} {b:g}" if isinstance(b, float) else
            f"{label} {b}" for label, _, b in _differing(default, mine)]


def provenance(key: str) -> str:
    """How a bundled model was trained, read from its own file: its settings against the Train page's defaults for
    its data (kind.defaults, fitted by kind.adapt: what the Train page offers first), or a long-memory race's
    (memory.RaceConfig) — "trained with the Train page's default settings for its data, except cell rnn". Loads
    the model (torch): the scenes store it with their facts."""
    b = BUNDLES[key]
    loaded = load_bundle(key)
    model_cfg, train_cfg = loaded.model.cfg, loaded.train_cfg
    if b.from_race:
        from .memory import RaceConfig
        race = RaceConfig(task=b.preset)
        H = model_cfg.hidden_size
        size = f"{H} units" if b.cell == "lstm" else \
            f"{H} units, sized to the {race.lstm_hidden}-unit LSTM's parameter count"
        default = loaded.steps == race.steps and train_cfg.lr == race.lr and \
            (b.cell != "lstm" or H == race.lstm_hidden)
        said = (f"{loaded.steps:,} steps, learning rate {train_cfg.lr:g}, batches of {race.batch_size}, seed "
                f"{race.seed}; {size}") if default else f"{loaded.steps:,} steps, learning rate {train_cfg.lr:g}; {size}"
        return f"trained in the long-memory race{' with its default settings' if default else ''} ({said})"
    kind = KINDS[b.kind]
    default_model, default_train, _ = kind.adapt(*kind.defaults(loaded.data), loaded.data)
    changed = _changed(default_model, model_cfg) + _changed(default_train, train_cfg)
    return "trained with the Train page's default settings for its data" + (
        f", except {', '.join(changed)}" if changed else "")


def reference_words(key: str, differences: list) -> str:
    """What the Train page's reference panel says of the bundled model it shows (reference_bundle's key and
    differences): "exactly these settings"; "the default settings" only when the bundle is a default one."""
    if not differences:
        return "exactly these settings"
    b = BUNDLES[key]
    own = "the default settings" if not (b.model or b.train or b.from_race) else "its own settings"
    return f"{own} — yours differ: " + ", ".join(differences)


def reference_bundle(preset: str, data, model_cfg, train_cfg) -> tuple[str, list] | None:
    """The bundled model trained on this preset's data (the Train page shows its loss curve and preview until the
    visitor trains their own): the one trained with exactly these settings if there is one, else the first for
    the preset. Returns (key, differences: "hidden units 64 (yours: 32)", …) or None."""
    found = []
    for b in BUNDLES.values():
        if b.kind != data.kind or b.preset != preset:
            continue
        m, t = configs(b, data)
        if type(m) is not type(model_cfg):
            continue
        found.append((b.key, _differences(m, model_cfg) + _differences(t, train_cfg)))
    return min(found, key=lambda f: len(f[1])) if found else None


def data_fingerprint(data) -> str:
    """sha256 of what a model was trained and validated on (the text, the values, or the recipe it is made from).
    Recorded in index.json: a check that re-evaluates a shipped model knows it reads the same data (the Python
    source preset follows the running Python's standard library)."""
    if hasattr(data, "recipe"):
        content = json.dumps(data.recipe, sort_keys=True).encode()
    elif hasattr(data, "text"):
        content = data.text.encode("utf-8")
    else:
        import numpy as np
        content = np.ascontiguousarray(data.values, dtype=np.float64).tobytes()
    return hashlib.sha256(content).hexdigest()


def load_data(b: Bundle):
    return KINDS[b.kind].preset_data(b.preset)


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
        if b.from_race:
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
        what = "mean race accuracy" if b.from_race else "validation loss"
        index[key] = {"label": b.label, "kind": b.kind, "preset": b.preset, "cell": b.cell, "bytes": len(raw),
                      what.replace(" ", "_"): round(val, 4), "sha256": hashlib.sha256(raw).hexdigest()}
        if not b.from_race:
            index[key]["data_sha256"] = data_fingerprint(load_data(b))
        log(f"{key}: {len(raw):,} bytes, {what} {val:.4f}")
    index_path.write_text(json.dumps(index, indent=2) + "\n")
    from .memory import RaceConfig
    if (race := _RACES.get(RaceConfig())) is not None:  # the Long-memory page opens on it
        (out_dir / "race_default.json").write_text(race.record().to_json() + "\n")
        log("race_default.json: the default race's result")
    return index


def bundle_bytes(key: str) -> bytes:
    if key not in BUNDLES:
        raise KeyError(f"no bundled model {key!r}; choose one of {', '.join(BUNDLES)}")
    return (BUNDLE_DIR / f"{key}.safetensors").read_bytes()


def load_bundle(key: str):
    """A fresh copy of a bundled model (store.LoadedModel; each caller gets its own module to train or inspect)."""
    from .store import load_bytes
    return load_bytes(bundle_bytes(key))
