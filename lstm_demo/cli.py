"""Prepare material without the browser.

    python -m lstm_demo.cli bundle [--only agreement sine]          rebuild the bundled models
    python -m lstm_demo.cli train --preset agreement --out m.safetensors [--steps 1500 --hidden 128 --cell lstm]
    python -m lstm_demo.cli train --text notes.txt --out m.safetensors
    python -m lstm_demo.cli train --csv data.csv --column temp --out m.safetensors
    python -m lstm_demo.cli trace m.safetensors --text "the cats were full." --out trace.csv
    python -m lstm_demo.cli trace m.safetensors --start 0 --length 128 --out trace.csv   (a slice of the model's data)
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from .config import CELLS, DEFAULTS, LIMITS, ConfigError
from .data import DataError, TextData, decode_text, load_series_preset, load_text_preset, read_csv, series_from_frame
from .data import SERIES_PRESETS, TEXT_PRESETS
from .export import trace_csv
from .store import MAX_CHECKPOINTS, MAX_FILE_BYTES, ModelFileError, load_bytes, save_bytes
from .trace import trace_sequence
from .train import fit


def _read(path: str, limit: int) -> bytes:
    """An input file's bytes, refused by its size before anything is read."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{path}: no such file")
    size = p.stat().st_size
    if size > limit:
        raise ConfigError(f"{path} is {size:,} bytes; the limit is {limit:,}")
    return p.read_bytes()


def _data(args):
    if args.preset:
        if args.preset in TEXT_PRESETS:
            return load_text_preset(args.preset)
        if args.preset in SERIES_PRESETS:
            return load_series_preset(args.preset)
        raise ConfigError(f"unknown preset {args.preset!r}; text: {', '.join(TEXT_PRESETS)}; series: "
                          f"{', '.join(SERIES_PRESETS)}")
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


def cmd_train(args) -> int:
    out = _check_out(args.out, args.text, args.csv)
    data = _data(args)
    model_cfg, train_cfg = DEFAULTS[data.kind]
    model_cfg = replace(model_cfg, vocab_size=len(data.vocab) if data.kind == "text" else 0, cell=args.cell,
                        hidden_size=_given(args.hidden, model_cfg.hidden_size), num_layers=args.layers).validate()
    train_cfg = replace(train_cfg, steps=_given(args.steps, train_cfg.steps), seed=args.seed,
                        lr=_given(args.lr, train_cfg.lr)).validate()
    result = fit(model_cfg, data, train_cfg, n_checkpoints=MAX_CHECKPOINTS, log=lambda step, loss: print(
        f"step {step}/{train_cfg.steps}: train loss {loss:.4f}", flush=True))
    out.write_bytes(save_bytes(result.model, data, train_cfg, train_cfg.steps, history=result.history,
                               checkpoints=result.checkpoints))
    print(f"validation loss {result.val_loss:.4f}; wrote {out}")
    return 0


def cmd_trace(args) -> int:
    out = _check_out(args.out, args.model)
    loaded = load_bytes(_read(args.model, MAX_FILE_BYTES))
    data = loaded.data
    if args.text is not None:
        if data.kind != "text":
            raise ConfigError("--text is for text models; use --start/--length for a series")
        if not 2 <= len(args.text) <= LIMITS.max_seq_len + 1:
            raise ConfigError(f"--text must have 2 to {LIMITS.max_seq_len + 1} characters (a trace of at most "
                              f"{LIMITS.max_seq_len} steps, as on the page)")
        seq = data.encode(args.text)
    else:
        n = len(data.ids) if data.kind == "text" else len(data.values)
        if not 1 <= args.length <= LIMITS.max_seq_len:
            raise ConfigError(f"--length must be between 1 and {LIMITS.max_seq_len} steps")
        if not 0 <= args.start <= n - 2:
            raise ConfigError(f"--start must be between 0 and {n - 2} (the model file holds {n} items)")
        seq = (data.ids if data.kind == "text" else data.normed)[args.start : args.start + args.length + 1]
    trace = trace_sequence(loaded.model, data, seq)
    out.write_text(trace_csv(trace), encoding="utf-8")
    print(f"{trace.n_steps} steps x {trace.n_layers} layer(s) x {trace.n_units} units -> {out}")
    return 0


def cmd_bundle(args) -> int:
    from .bundle import regenerate
    regenerate(args.only)
    return 0


def cmd_scenes(args) -> int:
    from .scenes import SCENES, save_scene
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
    src.add_argument("--preset")
    src.add_argument("--text", help="a UTF-8 text file")
    src.add_argument("--csv", help="a CSV file (with --column)")
    t.add_argument("--column")
    t.add_argument("--cell", choices=list(CELLS), default="lstm")
    t.add_argument("--hidden", type=int)
    t.add_argument("--layers", type=int, default=1)
    t.add_argument("--steps", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True)
    r = sub.add_parser("trace", help="export one sequence's trace as CSV")
    r.add_argument("model")
    r.add_argument("--text")
    r.add_argument("--start", type=int, default=0)
    r.add_argument("--length", type=int, default=128)
    r.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        return {"bundle": cmd_bundle, "scenes": cmd_scenes, "train": cmd_train, "trace": cmd_trace}[args.cmd](args)
    except (ConfigError, DataError, ModelFileError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
