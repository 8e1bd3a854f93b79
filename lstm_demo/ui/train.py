"""Train page: data source, model and training settings, controls, and the live panel."""
from __future__ import annotations

import hashlib
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st
import torch

from .. import charts
from ..config import CELLS, DEFAULTS, LIMITS, SEQ_LEN_CHOICES, ConfigError, ModelConfig, TrainConfig, fitting_seq_len
from ..data import (SERIES_PRESETS, TEXT_PRESETS, DataError, TextData, decode_text, load_series_preset,
                    load_text_preset, numeric_columns, read_csv, series_from_frame)
from ..explain import gate_saturation
from ..jobs import Experiment
from ..predict import fill_in, generate_text, judged_forecast
from ..store import MAX_FILE_BYTES, ModelFileError, load_bytes, save_bytes
from ..trace import GATES
from . import translation, vision_train
from .common import experiment, state, visitor_alive
from .forecast import forecast_ui
from .vision_train import FRAME_KINDS

FAMILY_KINDS = FRAME_KINDS + ("translation",)  # the kinds whose models are not the text/series SequenceModel

UPLOAD_MB = LIMITS.max_upload_bytes // 1_000_000           # text and CSV
MODEL_UPLOAD_MB = -(-MAX_FILE_BYTES // 1_000_000)          # the largest model the caps allow, with checkpoints
OWN = "__own__"
FILE = "__file__"  # data that came inside an opened model file


# --- data --------------------------------------------------------------------------------------------------------

@st.cache_data(max_entries=16, show_spinner=False)
def _text_preset(key: str):
    return load_text_preset(key)


@st.cache_data(max_entries=16, show_spinner=False)
def _series_preset(key: str):
    return load_series_preset(key)


def data_ui(locked: bool):
    """Data source widgets -> the active data object (or None). A bad choice shows an error and keeps the data."""
    st.subheader("1 · Data")
    kind = st.radio("Kind of data", ["text", "series", "frames", "translation"], horizontal=True, key="kind",
                    disabled=locked, format_func={"text": "Text (next character)", "series": "Time series (next value)",
                                                  "frames": "Image sequences (CNN-LSTM, ConvLSTM)",
                                                  "translation": "Translation (encoder–decoder)"}.get)
    if kind in ("frames", "translation"):  # made from a recipe: one module draws the choice and the summary
        return _family_data_ui(kind, vision_train if kind == "frames" else translation, locked)
    presets, label_text, own_label, own_ui, preset = {
        "text": (TEXT_PRESETS, "Text", "Your own text (paste or upload)", _own_text_ui, _text_preset),
        "series": (SERIES_PRESETS, "Series", "Your own CSV file", _own_csv_ui, _series_preset)}[kind]
    label = lambda k: own_label if k == OWN else _file_label() if k == FILE else presets[k][0]
    source = st.selectbox(label_text, list(presets) + [OWN] + _file_option(kind), format_func=label,
                          key=f"{kind}_source", disabled=locked)
    chosen = (own_ui(locked) if source == OWN else _file_source() if source == FILE
              else (kind, source, lambda: preset(source)))
    if chosen is not None and not locked:
        _activate(*chosen)
    data = state().data
    if data is not None:
        _data_summary(data)
    return data


def _family_data_ui(kind: str, module, locked: bool):
    """Image sequences or a translation task: the opened file's data (if it is of this kind) or the module's choice."""
    chosen = _file_source() if FILE in _file_option(kind) and st.checkbox(
        f"Use the data of the opened model file ({state().file_data.name})", True, key=f"{kind}_file",
        disabled=locked) else module.data_choice(locked)
    if chosen is not None and not locked:
        _activate(*chosen)
    data = state().data
    if data is None or _radio_kind(data.kind) != kind:
        return None
    module.data_summary(data)
    return data


def _radio_kind(data_kind: str) -> str:
    """The Kind-of-data choice a data object belongs to (both image tasks sit under "frames")."""
    return "frames" if data_kind in FRAME_KINDS else data_kind


def _file_option(kind: str) -> list:
    data = state().file_data
    return [FILE] if data is not None and _radio_kind(data.kind) == kind else []


def _file_label() -> str:
    return f"Data saved in the model file: {state().file_data.name}"


def _file_source():
    s = state()
    return s.file_data.kind, FILE + s.file_sha, lambda: s.file_data


def _activate(kind: str, ident: str, build) -> None:
    """Make the chosen data active unless it already is; on bad data keep the old one and say so."""
    s = state()
    if s.data_id == (kind, ident):
        return
    try:
        data = build()
    except (DataError, ConfigError) as e:
        st.error(str(e) + _kept_note())
        return
    s.data, s.data_id = data, (kind, ident)
    if data.kind not in FAMILY_KINDS:  # image sequences and translation pairs have no windows to fit
        _fit_seq_len(data)


def _fit_seq_len(data) -> None:
    """Short data (a monthly series of ten years) cannot fill training and validation windows of the current
    sequence length: offer the longest one it can (runs before the widgets are drawn, so it may set them)."""
    key = f"{data.kind}_seq_len"
    current = st.session_state.get(key, DEFAULTS[data.kind][1].seq_len)
    fit = fitting_seq_len(len(data.ids) if data.kind == "text" else len(data.values), current)
    if fit < current:
        st.session_state[key] = fit
        state().notice("train", f"{data.name} has room for windows of {fit} steps: the sequence length was set "
                                f"to {fit}.")


def _kept_note() -> str:
    data = state().data
    return f" Still using the previous data: {data.name}." if data is not None else ""


def _own_text_ui(locked: bool):
    with st.form("own_text"):
        pasted = st.text_area("Paste text", height=150, key="own_text_area",
                              placeholder="At least a few hundred characters of any text…")
        upload = st.file_uploader("…or upload a UTF-8 .txt file", type=["txt"], key="own_text_file",
                                  max_upload_size=UPLOAD_MB)
        submitted = st.form_submit_button("Use this text", disabled=locked)
    if not submitted:
        return None
    try:
        text = decode_text(upload.getvalue()) if upload is not None else pasted
        name = f"your text ({upload.name})" if upload is not None else "your pasted text"
        data = TextData(text, name=name)
    except DataError as e:
        st.error(str(e) + _kept_note())
        return None
    return "text", hashlib.sha1(text.encode()).hexdigest(), lambda: data


def _own_csv_ui(locked: bool):
    upload = st.file_uploader("Upload a CSV file (comma, semicolon or tab separated)", type=["csv", "txt"],
                              key="own_csv_file", disabled=locked, max_upload_size=UPLOAD_MB)
    if upload is None:
        st.info("Upload a CSV with at least one numeric column." + _kept_note())
        return None
    try:
        frame = read_csv(upload.getvalue())
    except DataError as e:
        st.error(str(e) + _kept_note())
        return None
    numeric = numeric_columns(frame)
    if not numeric:
        st.error("The CSV has no numeric column to forecast." + _kept_note())
        return None
    c1, c2 = st.columns(2)
    value_col = c1.selectbox("Value column", numeric, key="csv_value_col", disabled=locked)
    others = [str(c) for c in frame.columns if str(c) != value_col]
    date_col = c2.selectbox("Date column (optional)", [None] + others, key="csv_date_col", disabled=locked)
    if not st.button("Use this series", disabled=locked):
        return None
    try:
        data = series_from_frame(frame, value_col, date_col, name=f"{upload.name}: {value_col}")
    except DataError as e:
        st.error(str(e) + _kept_note())
        return None
    ident = hashlib.sha1(upload.getvalue()).hexdigest() + value_col + str(date_col)
    return "series", ident, lambda: data


def _data_summary(data) -> None:
    if data.kind == "text":
        s = data.summary()
        c1, c2, c3 = st.columns(3)
        c1.metric("Characters", f"{s['characters']:,}")
        c2.metric("Vocabulary", s["vocabulary"])
        c3.metric("Lines", f"{s['lines']:,}")
        with st.expander(f"Preview of {data.name}", expanded=False):
            st.code(data.text[:800], language=None)
            st.caption("Vocabulary: " + "".join(charts._show(c) for c in data.vocab))
    else:
        s = data.summary()
        c1, c2, c3 = st.columns(3)
        c1.metric("Points", f"{s['points']:,}")
        c2.metric("Range", f"{s['min']:,.2f} … {s['max']:,.2f} {data.unit}")
        c3.metric("Mean ± std", f"{s['mean']:,.2f} ± {s['std']:,.2f}")
        t = data.dates if data.dates is not None else np.arange(len(data.values))
        frame = pd.DataFrame({"t": t, "value": data.values, "what": "series"})
        cut = int(len(data.values) * 0.9)
        st.altair_chart(charts.series_chart(frame, data.unit, f"{data.name} — gray line: start of validation data",
                                            split_at=t[cut]), width="stretch")


def _saturation(ex: Experiment) -> None:
    """Karpathy's gate-saturation plot, recomputed on the validation windows when the weights snapshot changes."""
    if (not ex.trained_steps and ex.job is None) or ex.kind in FAMILY_KINDS:  # (the sequence model's cells only)
        return
    if not GATES[ex.model_cfg.cell]:
        st.caption("Gate saturation: a plain RNN has no gates — every step squashes the whole state through one "
                   "tanh — so there is nothing to plot here. Train an LSTM or a GRU to see it.")
        return
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    key = (id(ex), weights_step)
    running = ex.job is not None and ex.job.view().status == "running"
    cached = state().caches.get("saturation")
    if (cached is None or cached[0] != key) and (not running or st.session_state.get("saturation_now")):
        sat = gate_saturation(ex.current_weights_model(), ex.validation_batch()[0])
        state().caches["saturation"] = cached = (key, sat, time.monotonic())
    if cached is None:
        st.caption("Gate saturation (how often each unit's gates are shut or wide open) is drawn when training "
                   "pauses or ends, so it does not slow the run.")
        st.button("Draw it now", key="saturation_now", icon=":material/scatter_plot:")
        return
    shown_step = cached[0][1]
    with st.expander("Gate saturation: how often each unit's gates are shut (< 0.1) or wide open (> 0.9)",
                     expanded=True):
        st.altair_chart(charts.saturation_chart(cached[1], f"One dot per unit, at step {shown_step:,} "
                                                           "(validation text)"), width="content")
        if running and shown_step != weights_step:
            st.button(f"Update to step {weights_step:,}", key="saturation_now", icon=":material/refresh:",
                      help="Drawn again when training pauses or ends; updating now takes a moment of the CPU.")
        st.caption("Points near the top-left corner of the forget-gate panel are units that almost never forget: "
                   "they can carry information for a long time (Karpathy et al. 2015, fig. 3). Points at the "
                   "bottom-left are gates that stay in between.")


# --- model files --------------------------------------------------------------------------------------------------

def _open_model_file() -> None:
    """Upload callback (runs before the page, so it may set the widgets): a good file becomes the visitor's model
    with its data and settings; a bad one changes nothing."""
    upload = st.session_state.get("model_upload")
    if upload is not None:
        open_model_bytes(upload.getvalue(), upload.name)


def open_model_bytes(raw: bytes, name: str) -> bool:
    """Bytes of a model file (an upload, or the copy kept in the browser, ui/keep.py) through the loader's checks:
    True if they became the visitor's model with its data and settings; False (said, nothing changed) if not.
    Runs before the page's widgets (a callback), since it sets them."""
    sha = hashlib.sha1(raw).hexdigest()
    ex = experiment()
    if ex is not None and ex.training:
        state().notice("file", ("error", "Stop the training before opening a model file. Nothing was changed."))
        return False
    try:
        loaded = load_bytes(raw)
    except ModelFileError as e:
        state().notice("file", ("error", f"{e} Nothing was changed."))
        return False
    data, cfg, tc = loaded.data, loaded.model.cfg, loaded.train_cfg
    kind = data.kind
    k = lambda name: f"{kind}_{name}"
    s = state()
    if kind == "translation":
        s.file_sha, s.file_data, s.data, s.data_id = sha, data, data, (kind, FILE + sha)
        st.session_state.update({"kind": "translation", "translation_file": True, k("batch"): tc.batch_size,
                                 k("lr"): tc.lr, k("steps"): tc.steps, k("seed"): tc.seed, k("hidden"): cfg.hidden_size,
                                 k("layers"): cfg.num_layers, k("embed"): cfg.embed_size,
                                 k("reverse"): cfg.reverse_source, k("attention"): cfg.attention})
        _set_experiment(Experiment(data, cfg, tc, model=loaded.model, trained_steps=loaded.steps,
                                   origin=f"file:{name}", loaded=loaded))
        s.notice("file", ("success", f"Opened {name}: {translation.describe(cfg)}, trained {loaded.steps:,} "
                                     "steps. Continue training here or step through it."))
        return True
    if kind in FRAME_KINDS:
        s.file_sha, s.file_data, s.data, s.data_id = sha, data, data, (kind, FILE + sha)
        st.session_state.update({"kind": "frames", "frames_file": True, k("batch"): tc.batch_size, k("lr"): tc.lr,
                                 k("steps"): tc.steps, k("seed"): tc.seed})
        if kind == "frames":
            st.session_state.update({k("hidden"): cfg.hidden_channels, k("kernel"): cfg.kernel,
                                     k("peephole"): cfg.peephole})
        else:
            st.session_state.update({k("conv"): cfg.conv_channels, k("embed"): cfg.embed_size,
                                     k("hidden"): cfg.hidden_size})
        _set_experiment(Experiment(data, cfg, tc, model=loaded.model, trained_steps=loaded.steps,
                                   origin=f"file:{name}", loaded=loaded))
        s.notice("file", ("success", f"Opened {name}: {vision_train.describe(cfg)}, trained "
                                     f"{loaded.steps:,} steps. Continue training here or step through it."))
        return True
    s.file_sha, s.file_data, s.data, s.data_id = sha, data, data, (kind, FILE + sha)
    st.session_state.update({"kind": kind, f"{kind}_source": FILE, k("cell"): cfg.cell,
                             k("hidden"): cfg.hidden_size, k("layers"): cfg.num_layers, k("seq_len"): tc.seq_len,
                             k("batch"): tc.batch_size, k("lr"): tc.lr, k("steps"): tc.steps, k("seed"): tc.seed,
                             k("clip"): tc.grad_clip > 0})
    if kind == "text":
        st.session_state.update(text_task=cfg.task, text_bidir=cfg.bidirectional, text_hide=tc.hide)
    _set_experiment(Experiment(data, cfg, tc, model=loaded.model, trained_steps=loaded.steps,
                               origin=f"file:{name}", loaded=loaded))
    s.notice("file", ("success", f"Opened {name}: {CELLS[cfg.cell]}, {cfg.num_layers} layer(s) × "
                                               f"{cfg.hidden_size} units, trained {loaded.steps:,} steps. Continue "
                                               "training here or step through it."))
    return True


def _model_bytes(ex: Experiment) -> bytes:
    train, val = ex.history()
    return save_bytes(ex.model, ex.data, ex.train_cfg, ex.trained_steps, history={"train": train, "val": val},
                      checkpoints=ex.all_checkpoints())


def model_file_ui(ex: Experiment) -> None:
    """Download the model as .safetensors (weights + config, vocabulary, normalisation); open one to continue."""
    notice = state().take_notice("file")
    with st.expander("Save or open a model file (.safetensors)", expanded=notice is not None):
        if notice:
            (st.error if notice[0] == "error" else st.success)(notice[1])
        c1, c2 = st.columns(2)
        trained = bool(ex.trained_steps) and not ex.training
        family = {"frames": "convlstm", "digits": "cnnlstm", "translation": "seq2seq"}.get(ex.kind) or ex.model_cfg.cell
        name = f"lstm-gate-lab-{family}-{ex.trained_steps}steps.safetensors"
        c1.download_button("Download this model", key="model_download", icon=":material/download:",
                           data=lambda: _model_bytes(ex), on_click="ignore",  # no rerun racing the download
                           file_name=name, mime="application/octet-stream", disabled=not trained,
                           help="Weights in safetensors; config, vocabulary or normalisation, a sample of the data, "
                                "the loss history and checkpoints for the training-step slider. No pickle.")
        c2.file_uploader("Open a model file saved here", type=["safetensors"], key="model_upload",
                         on_change=_open_model_file, disabled=ex.training, max_upload_size=MODEL_UPLOAD_MB,
                         help="Only files saved by this app; checked before anything is built. PyTorch .pt files "
                              "are pickles and are never opened.")


# --- model and training settings ---------------------------------------------------------------------------------

def settings_ui(data, training: bool) -> tuple[ModelConfig, TrainConfig]:
    """Model and training widgets -> configs. Architecture is locked while training; the learning rate is not."""
    st.subheader("2 · Model and training")
    kind = data.kind
    if kind in FRAME_KINDS:
        return vision_train.settings(data, training)
    if kind == "translation":
        return translation.settings(data, training)
    model_default, train_default = DEFAULTS[kind]
    ex = experiment()
    if ex is not None and ex.origin.startswith("file") and ex.kind == kind:  # keep an opened model's embedding
        model_default = replace(model_default, embed_size=ex.model_cfg.embed_size)
    k = lambda name: f"{kind}_{name}"  # separate widget state per kind so each keeps its own defaults
    with_current = lambda name, options: sorted(set(options) | {st.session_state.get(k(name), options[0])})
    c1, c2, c3, c4 = st.columns(4)
    cell = c1.selectbox("Cell type", list(CELLS), format_func=CELLS.get, key=k("cell"), disabled=training,
                        help="LSTM: gates and a cell state. GRU: two gates, no separate cell state. Plain RNN: "
                             "one tanh, no gates — it forgets fast.")
    task, bidirectional, hide = "next", False, "chars"
    if kind == "text":
        task = c2.radio("Task", ["next", "masked"], key="text_task", disabled=training, horizontal=True,
                        format_func={"next": "Predict the next character",
                                     "masked": "Fill in hidden characters"}.get,
                        help="Fill-in: 15 % of the characters are hidden and the model guesses them from both "
                             "sides — the task a bidirectional model can do honestly.")
        bidirectional = c3.checkbox("Bidirectional", key="text_bidir",
                                    disabled=training or task != "masked",
                                    help="A second layer reads the text from the end. Only with the fill-in task: "
                                         "for next-character prediction it would see the answer.")
        bidirectional = bidirectional and task == "masked"
        hide = c4.radio("Hide", ["chars", "words"], key="text_hide", disabled=training or task != "masked",
                        horizontal=True, format_func={"chars": "characters", "words": "whole words"}.get,
                        help="Fill-in: hide single characters, or 15 % of the words with every letter — then "
                             "only the context far from the blank can tell what it was (“go to ▮▮▮▮▮▮; … come "
                             "out of school”).")
    c1, c2, c3, c4 = st.columns(4)
    hidden = c1.select_slider("Hidden units", with_current("hidden", [4, 8, 16, 32, 64, 96, 128, 192, 256]),
                              model_default.hidden_size,
                              key=k("hidden"), disabled=training)
    layers = c2.select_slider("Layers", [1, 2, 3], model_default.num_layers, key=k("layers"), disabled=training)
    seq_len = c3.select_slider("Sequence length (steps per window)",
                               with_current("seq_len", list(SEQ_LEN_CHOICES)),
                               train_default.seq_len, key=k("seq_len"), disabled=training)
    batch = c4.select_slider("Batch size", with_current("batch", [1, 4, 8, 16, 32, 64, 128]), train_default.batch_size,
                             key=k("batch"),
                             disabled=training)
    c1, c2, c3, c4 = st.columns(4)
    lr = c1.select_slider("Learning rate (can change while training)",
                          with_current("lr", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2]), train_default.lr,
                          key=k("lr"))
    steps = c2.number_input("Steps per run", 10, LIMITS.max_steps, train_default.steps, step=100, key=k("steps"),
                            disabled=training)
    seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key=k("seed"), disabled=training)
    clip = c4.checkbox("Gradient clipping (norm 1.0)", True, key=k("clip"), disabled=training,
                       help="Scales down a too-large gradient before the step: keeps training stable.")
    model_cfg = replace(model_default, vocab_size=len(data.vocab) if kind == "text" else 0, hidden_size=hidden,
                        num_layers=layers, cell=cell, task=task, bidirectional=bidirectional)
    train_cfg = replace(train_default, seq_len=seq_len, batch_size=batch, lr=lr, steps=int(steps), seed=int(seed),
                        grad_clip=1.0 if clip else 0.0, hide=hide if task == "masked" else "chars")
    return model_cfg, train_cfg


def sync_experiment(data, model_cfg: ModelConfig, train_cfg: TrainConfig) -> Experiment | None:
    """Keep the visitor's experiment in step with the widgets: new data or architecture -> a fresh model (said)."""
    ex = experiment()
    if ex is not None:
        _record(ex, ex.finish_job())
    try:
        if ex is None or ex.data is not data or ex.model_cfg != model_cfg:
            if ex is not None and ex.training:
                return ex  # widgets are locked while training; never drop a running job here
            if ex is not None and ex.trained_steps and not ex.origin.startswith("bundled"):
                what = "data" if ex.data is not data else "architecture"
                state().notice("train", f"The {what} changed, so the model was reset to new random weights.")
            ex = Experiment(data, model_cfg, train_cfg)
            _set_experiment(ex)
        elif ex.training and ex.job.cfg.lr != train_cfg.lr:
            ex.job.set_lr(train_cfg.lr)
            st.toast(f"Learning rate set to {train_cfg.lr:g} from step {ex.job.view().step} on.")
    except ConfigError as e:
        st.error(f"{e}. Nothing was changed.")
    return ex


def _record(ex: Experiment, view) -> None:
    """A finished run goes on the visitor's scoreboard, to compare cell types and directions on the same data."""
    if view is None or not view.history:
        return
    if ex.kind in FAMILY_KINDS:
        state().scoreboard.append((translation if ex.kind == "translation" else vision_train).record(ex, view))
        return
    cfg = ex.model_cfg
    acc = ex.validation_accuracy()
    state().scoreboard.append({
        "data": ex.data.name, "cell": CELLS[cfg.cell] + (" ×2 directions" if cfg.bidirectional else ""),
        "task": {"next": "next item", "masked": "fill in"}[cfg.task], "layers": cfg.num_layers,
        "units": cfg.hidden_size, "parameters": ex.model.n_params(), "steps": view.step,
        "validation loss": view.val_history[-1][1] if view.val_history else float("nan"),
        "validation accuracy": acc if acc is not None else float("nan")})


def scoreboard_ui() -> None:
    board = state().scoreboard
    if not board:
        return
    st.subheader("Runs so far")
    st.caption("Every finished run in this session. Compare cell types, layers and directions on the same data: "
               "for the fill-in task, a bidirectional model sees both sides of the gap.")
    st.dataframe(pd.DataFrame(board[::-1]), hide_index=True, width="stretch",
                 column_config={"validation accuracy": st.column_config.ProgressColumn(
                     "validation accuracy", format="percent", min_value=0.0, max_value=1.0),
                     "validation loss": st.column_config.NumberColumn(format="%.4f")})


def _set_experiment(ex: Experiment) -> None:
    old = experiment()
    if old is not None and old is not ex:
        old.close()
    s = state()
    s.experiment = ex
    s.forget_view()


def controls_ui(ex: Experiment, train_cfg: TrainConfig) -> None:
    view = ex.job.view() if ex.job else None
    active = view is not None and view.active
    c1, c2, c3, c4, _ = st.columns([2, 1.3, 1, 1, 3])
    label = "Start training" if not ex.trained_steps else f"Continue (+{train_cfg.steps} steps)"
    c1.button(label, type="primary", disabled=active, on_click=_start, args=(ex, train_cfg), key="start",
              icon=":material/play_arrow:")
    paused = view is not None and view.status == "paused"
    c2.button("Resume" if paused else "Pause", disabled=not active, key="pause",
              icon=":material/play_arrow:" if paused else ":material/pause:",
              on_click=(ex.job.resume if paused else ex.job.pause) if active else None)
    c3.button("Stop", disabled=not active, key="stop", on_click=ex.job.stop if active else None,
              icon=":material/stop:")
    c4.button("Reset", disabled=active, key="reset", on_click=_reset, args=(ex,), icon=":material/restart_alt:",
              help="New random weights; the data and settings stay.")
    if (notice := state().take_notice("train")) is not None:
        st.info(notice)


def _start(ex: Experiment, train_cfg: TrainConfig) -> None:
    ex.alive = visitor_alive()  # the job stops within seconds once this visitor's browser is gone
    try:
        ex.start(train_cfg)
    except (ConfigError, DataError) as e:
        state().notice("train", f"Could not start: {e}")


def _reset(ex: Experiment) -> None:
    _set_experiment(Experiment(ex.data, ex.model_cfg, ex.train_cfg))
    state().notice("train", "The model was reset to new random weights.")


POLL = 2.0            # seconds between looks at a running job: the page shares the CPU with the training thread
SLOW_PANELS = 6.0     # seconds between refreshes of the sample text or forecast while training
# (measured with bench/bench_watched.py + py-spy: the page's own work slowed the job it was watching)


def _due(name: str, key, final: bool) -> bool:
    """Recompute an expensive panel? Only when its inputs changed and either the run is over or SLOW_PANELS
    seconds have passed since the last time (the training thread shares the CPU with this page)."""
    cached = state().caches.get(name)
    if cached is None or final or cached[0][0] != key[0]:  # key[0]: the experiment; another one's is never shown
        return cached is None or cached[0] != key
    return cached[0] != key and time.monotonic() - cached[2] >= SLOW_PANELS


def live_panel(ex: Experiment, train_cfg: TrainConfig | None = None) -> None:
    """Progress, metrics, loss and a preview; polls the job every POLL seconds while it runs. Before the first
    Start: the bundled model trained on the same preset with the same settings, if there is one."""
    active = ex.training
    if not ex.trained_steps and ex.job is None and train_cfg is not None and _reference(ex, train_cfg):
        return

    @st.fragment(run_every=POLL if active else None)
    def panel():
        view = ex.last_view()
        if view is not None:
            if ex.job is not None:
                ex.job.touch()
            if active and not view.active:
                st.rerun()  # a full rerun turns polling off and unlocks the widgets
            _progress(ex, view)
        elif not ex.trained_steps:
            st.caption(f"Untrained model with {_n_params(ex.model):,} parameters. Press Start.")
        _loss(ex)
        _preview(ex)
        _saturation(ex)

    panel()


def _reference(ex: Experiment, train_cfg: TrainConfig) -> bool:
    """Draw the reference panel; False if this data has no bundled model."""
    from ..bundle import BUNDLES, reference_bundle
    from .workshop import bundled
    kind, ident = state().data_id or (None, None)
    found = reference_bundle(ident, ex.data, ex.model_cfg, train_cfg) if kind == ex.kind else None
    if found is None:
        return False
    key, diffs = found
    ref = bundled(key)
    same = ("exactly these settings" if not diffs else
            "the default settings — yours differ: " + ", ".join(diffs))
    what = {"text": "text", "series": "forecast"}.get(ex.kind, "predictions")
    st.info(f"**Before you press Start:** the loss curve and {what} of "
            f"the bundled model trained on this data with {same} ({BUNDLES[key].label}, {ref.trained_steps:,} "
            f"steps). Your untrained model has {_n_params(ex.model):,} parameters; press Start to train it.",
            icon=":material/history:")
    _loss(ref)
    _preview(ref)
    return True


def _progress(ex: Experiment, view) -> None:
    run_steps = ex.train_cfg.steps
    done = view.step - view.total_steps + run_steps
    st.progress(min(1.0, max(0.0, done / run_steps)),
                text=f"{view.status} — step {view.step:,} (this run {done:,} of {run_steps:,})"
                     + (f", queue position {view.queue_position}" if view.status == "queued" else ""))
    if view.status == "failed":
        st.error(view.message)
    elif view.status in ("stopped", "done") and view.message:
        st.success(view.message) if view.status == "done" else st.warning(view.message)
    train = view.history[-1][1] if view.history else float("nan")
    val = view.val_history[-1][1] if view.val_history else float("nan")
    per = {"text": "characters/s", "series": "windows·steps/s", "translation": "pairs/s"}.get(ex.kind, "frames/s")
    cols = st.columns(6)
    cols[0].metric("Step", f"{view.step:,}")
    cols[1].metric("Train loss", f"{train:.4f}")
    cols[2].metric("Validation loss", f"{val:.4f}")
    cols[3].metric("ms / step", f"{view.ms_per_step:.1f}")
    cols[4].metric(per, f"{view.items_per_second:,.0f}")
    cols[5].metric("Parameters", f"{_n_params(ex.model):,}")


def _loss(ex: Experiment) -> None:
    train, val = ex.history()
    if not train:
        return
    spec = charts.loss_spec(ex.kind)  # the same object every poll
    st.vega_lite_chart(charts.with_data(spec, loss=charts.loss_frame(train, val)), width="stretch", key="loss")


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@st.cache_resource(max_entries=64, show_spinner=False)
def _shared_preview(origin: str, args: tuple, _compute):
    return _compute()


def _once(origin: str | None, args: tuple, compute):
    """A bundled model's preview (sampled text, filled-in blanks, forecast) is the same for every visitor with the
    same settings: computed once per process, not once per visitor (sampling 300 characters was ~1.2 s of every
    Train page visit under py-spy). origin None: the visitor's own model (being trained, or trained here)."""
    return _shared_preview(origin, args, compute) if origin else compute()


def _shared_origin(ex: Experiment) -> str | None:
    """The bundle whose read-only model every visitor shares, or None once this visitor trains their own copy (it
    keeps the bundle's origin, but its preview is theirs alone)."""
    return ex.origin if ex.shared else None


def _sampled_text(origin: str | None, model, data, steps: int, prompt: str, length: int, temperature: float) -> str:
    return _once(origin, ("text", steps, prompt, length, temperature),
                 lambda: generate_text(model, data, prompt, length, temperature))


TEXT_PREVIEW = {"prompt": "the cats", "temperature": 0.8, "length": 300}  # what the Train page opens with


def warm_reference() -> None:
    """The preview the Train page opens on (the default bundle's text), computed before anyone asks."""
    from .workshop import _shared_bundle
    from ..bundle import DEFAULT_BUNDLE
    loaded, p = _shared_bundle(DEFAULT_BUNDLE), TEXT_PREVIEW
    _sampled_text(f"bundled:{DEFAULT_BUNDLE}", loaded.model, loaded.data, loaded.steps, p["prompt"], p["length"],
                  p["temperature"])


def _preview(ex: Experiment) -> None:
    if not ex.trained_steps and ex.job is None:
        return
    if ex.kind in FRAME_KINDS:
        return vision_train.preview(ex, _due)
    if ex.kind == "translation":
        return translation.preview(ex, _due)
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    final = not ex.training
    caches = state().caches
    if getattr(ex.model_cfg, "task", "") == "masked":
        key = (id(ex), weights_step)
        if _due("preview_fill", key, final):
            x, y = ex.validation_batch()
            hidden_at = y[0] >= 0                            # the first validation window's own blanks
            ids = torch.where(hidden_at, y[0], x[0])         # its characters restored
            caches["preview_fill"] = (key, _once(_shared_origin(ex), ("fill", weights_step), lambda: fill_in(
                ex.current_weights_model(), ex.data, ids[:160], hidden_at[:160])), time.monotonic())
        hidden, filled, acc = caches["preview_fill"][1]
        what = "words" if ex.train_cfg.hide == "words" else "characters"
        st.markdown(f"**Fill in the blanks** — validation text with 15 % of the {what} hidden (▮), and the model's "
                    f"guesses (right on {acc:.0%} of the hidden characters here):")
        st.code(hidden + "\n" + filled, language=None)
    elif ex.kind == "text":
        c1, c2 = st.columns([1, 3])
        temperature = c1.slider("Temperature", 0.1, 2.0, TEXT_PREVIEW["temperature"], 0.1, key="temperature",
                                help="Low: the model's safest guesses. High: more surprising text.")
        prompt = c2.text_input("Start the text with", TEXT_PREVIEW["prompt"], key="prompt", max_chars=200)
        key = (id(ex), weights_step, prompt, temperature)
        cached = caches.get("preview_text")
        if cached is None or cached[0][2:] != key[2:] or _due("preview_text", key, final):  # new settings: now
            length = TEXT_PREVIEW["length"] if final else 160
            caches["preview_text"] = (key, _sampled_text(_shared_origin(ex), ex.current_weights_model(), ex.data,
                                                         weights_step, prompt, length, temperature), time.monotonic())
        (_, sampled_at, *_), text, _ = caches["preview_text"]
        st.markdown(f"**Text the model writes** with the weights of step {sampled_at:,} (it improves as training "
                    f"goes; refreshed every few seconds):")
        st.code(text, language=None)
    else:
        key = (id(ex), weights_step)
        if _due("preview_forecast", key, final):
            caches["preview_forecast"] = (key, _once(_shared_origin(ex), ("forecast", weights_step), lambda:
                                                     judged_forecast(ex.current_weights_model(), ex.data,
                                                                     ex.train_cfg.seq_len)), time.monotonic())
        forecast_ui(ex.data, caches["preview_forecast"][1], "Forecast vs truth on validation data (one step ahead)")


