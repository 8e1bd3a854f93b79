"""Prepare material without the browser.

    python -m lstm_demo.cli bundle [--only agreement sine]          rebuild the bundled models (and their scenes)
    python -m lstm_demo.cli scenes [--only sentence_end]            redraw the home page's stored scenes
    python -m lstm_demo.cli train --preset agreement --out m.safetensors [--steps 1500 --hidden 128 --cell lstm]
    python -m lstm_demo.cli train --preset shapes --out m.safetensors   (any kind's preset: python -m lstm_demo.cli
                                                                          train --help lists them)
    python -m lstm_demo.cli train --text notes.txt --out m.safetensors
    python -m lstm_demo.cli train --csv data.csv --column temp --out m.safetensors
    python -m lstm_demo.cli trace m.safetensors --text "the cats were full." --out trace.csv   (a text or a source)
    python -m lstm_demo.cli trace m.safetensors --start 0 --length 128 --out trace.csv   (a slice of the model's data)
    python -m lstm_demo.cli trace m.safetensors --seq 3 --out trace.csv    (image sequences: a validation sequence)
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from .config import LIMITS, ConfigError, DataError, ModelFileError
from .export import trace_csv
from .kinds import KINDS
from .kinds.sequence import CELL_TYPES
from .kinds.series_data import read_csv, series_from_frame
from .kinds.text_data import TextData, decode_text
from .store import MAX_CHECKPOINTS, MAX_FILE_BYTES, load_bytes, save_bytes
from .train import NonFiniteLoss, fit


def _read(path: str, limit: int) -> bytes:
    """An input file's bytes, refused by its size before anything is read."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{path}: no such file")
    size = p.stat().st_size
    if size > limit:
        raise ConfigError(f"{path} is {size:,} bytes; the limit is {limit:,}")
    return p.read_bytes()


def presets() -> dict:
    """Every kind's presets: preset -> kind."""
    return {preset: name for name, kind in KINDS.items() for preset in kind.presets()}


def _data(args):
    if args.preset:
        found = presets()
        if args.preset not in found:
            raise ConfigError(f"unknown preset {args.preset!r}; choose one of {', '.join(found)}")
        return KINDS[found[args.preset]].preset_data(args.preset)
    if args.text:
        return TextData(decode_text(_read(args.text, LIMITS.max_upload_bytes)), name=Path(args.text).name)
    if not args.column:
        raise ConfigError("--csv needs --column (the numeric column to forecast)")
    frame = read_csv(_read(args.csv, LIMITS.max_upload_bytes))
    return series_from_frame(frame, args.column, None, name=f"{Path(args.csv).name}: {args.column}")


def _check_out(out: str, *inputs) -> Path:
    """The output file may not be one of the inputs (a trace must never overwrite its model), and its folder must
    exist and be writable — checked before any training starts."""
    path = Path(out)
    for given in inputs:
        if given and Path(given).resolve() == path.resolve():
            raise ConfigError(f"--out {out} is also an input file; choose another name so nothing is overwritten")
    if path.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ConfigError(f"the folder {folder} for --out does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"the folder {folder} for --out is not writable")
    return path


def _given(value, default):
    """0 is a value, not "use the default": only a missing option takes the default."""
    return default if value is None else value


SIZE_FIELDS = ("hidden_size", "hidden_channels")  # what --hidden sets: units, or a ConvLSTM's channels


def _configs(args, data):
    """The kind's preset for this data with the options given; an option the kind has no setting for is refused."""
    kind = KINDS[data.kind]
    model_cfg, train_cfg = kind.defaults(data)
    changes = {}
    if args.cell is not None:
        changes["cell"] = args.cell
    if args.layers is not None:
        changes["num_layers"] = args.layers
    if args.hidden is not None:
        size = [f for f in SIZE_FIELDS if hasattr(model_cfg, f)]
        changes[size[0] if size else "hidden_size"] = args.hidden
    missing = [name for name in changes if not hasattr(model_cfg, name)]
    if missing:
        raise ConfigError(f"a {kind.label} model has no setting {missing[0].replace('_', ' ')!r}; leave out its option")
    train_changes = {"seed": args.seed}
    if args.steps is not None:
        train_changes["steps"] = args.steps
    if args.lr is not None:
        train_changes["lr"] = args.lr
    return kind.checked(replace(model_cfg, **changes), replace(train_cfg, **train_changes), data)


def cmd_train(args) -> int:
    out = _check_out(args.out, args.text, args.csv)
    data = _data(args)
    model_cfg, train_cfg = _configs(args, data)
    result = fit(model_cfg, data, train_cfg, n_checkpoints=MAX_CHECKPOINTS, log=lambda step, loss: print(
        f"step {step}/{train_cfg.steps}: train loss {loss:.4f}", flush=True))
    out.write_bytes(save_bytes(result.model, data, train_cfg, train_cfg.steps, history=result.history,
                               checkpoints=result.checkpoints))
    print(f"validation loss {result.val_loss:.4f}; wrote {out}")
    return 0


def cmd_trace(args) -> int:
    out = _check_out(args.out, args.model)
    loaded = load_bytes(_read(args.model, MAX_FILE_BYTES))
    kind = KINDS[loaded.data.kind]
    choice = kind.cli_choice(loaded, text=args.text, start=args.start, length=args.length, seq=args.seq)
    trace = kind.trace(loaded.model, loaded.data, choice)
    out.write_text(trace_csv(trace), encoding="utf-8")
    print(f"{trace.n_steps} steps x {trace.n_layers} layer(s) x {trace.n_units} units -> {out}")
    return 0


def cmd_bundle(args) -> int:
    from .bundle import BUNDLES, regenerate
    from .scenes import SCENES, save_scene
    unknown = [k for k in args.only or [] if k not in BUNDLES]
    if args.only is not None and not args.only or unknown:
        raise ConfigError(f"--only needs bundle keys: {', '.join(BUNDLES)}" + (f" (not {', '.join(unknown)})"
                                                                             if unknown else ""))
    regenerate(args.only)
    for scene in SCENES:  # the first screen's traces, so it needs no torch
        if args.only is None or scene.bundle in args.only:
            print(f"scene {scene.key}: {save_scene(scene).name}")
    return 0


def cmd_scenes(args) -> int:
    from .scenes import SCENES, save_scene
    unknown = [k for k in args.only or [] if k not in {s.key for s in SCENES}]
    if args.only is not None and not args.only or unknown:
        raise ConfigError(f"--only needs scene keys: {', '.join(s.key for s in SCENES)}"
                          + (f" (not {', '.join(unknown)})" if unknown else ""))
    for scene in SCENES:
        if not args.only or scene.key in args.only:
            print(f"scene {scene.key}: {save_scene(scene).name}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m lstm_demo.cli", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bundle", help="rebuild the bundled models in lstm_demo/bundled/")
    b.add_argument("--only", nargs="*", help="keys to rebuild (default: all)")
    sc = sub.add_parser("scenes", help="rebuild the home page's precomputed scenes from the bundled models (after a "
                                       "change to the charts)")
    sc.add_argument("--only", nargs="*", help="scene keys (default: all)")
    t = sub.add_parser("train", help="train a model file from a preset, a .txt or a .csv")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", help="one of: " + ", ".join(presets()))
    src.add_argument("--text", help="a UTF-8 text file")
    src.add_argument("--csv", help="a CSV file (with --column)")
    t.add_argument("--column")
    t.add_argument("--cell", choices=list(CELL_TYPES))
    t.add_argument("--hidden", type=int, help="units (a ConvLSTM: hidden channels)")
    t.add_argument("--layers", type=int)
    t.add_argument("--steps", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True)
    r = sub.add_parser("trace", help="export one sequence's trace as CSV")
    r.add_argument("model")
    r.add_argument("--text", help="text models: your text; encoder–decoders: a source to translate")
    r.add_argument("--start", type=int, help="text and series models: where the slice of the model's data starts")
    r.add_argument("--length", type=int, help="text and series models: steps in the slice (default 128)")
    r.add_argument("--seq", type=int, help="image-sequence models: the validation sequence (default 0)")
    r.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        return {"bundle": cmd_bundle, "scenes": cmd_scenes, "train": cmd_train, "trace": cmd_trace}[args.cmd](args)
    except (ConfigError, DataError, ModelFileError, NonFiniteLoss, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
