"""The one module that imports streamlit: page set-up, session state, and the widget groups of the pages.

Each *_ui() function draws a group of widgets and returns a plain value (a config, a data object, a sequence).
Per-visitor objects live in st.session_state only; st.cache_data holds just the deterministic preset builders.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st
import torch

from . import charts
from .config import DEFAULTS, LIMITS, ConfigError, ModelConfig, TrainConfig
from .data import (SERIES_PRESETS, TEXT_PRESETS, DataError, TextData, decode_text, load_series_preset,
                   load_text_preset, numeric_columns, read_csv, series_from_frame)
from .jobs import Experiment, configure_torch
from .predict import forecast_validation, generate_text
from .trace import QUANTITIES, trace_sequence

OWN = "__own__"


def setup(title: str) -> None:
    """First call of every page (a deep link runs a page without app.py)."""
    st.set_page_config(page_title=f"{title} · LSTM gate lab", page_icon="🧠", layout="wide")
    configure_torch(1)
    st.session_state.setdefault("experiment", None)
    st.session_state.setdefault("data", None)
    st.session_state.setdefault("notice", None)


def experiment() -> Experiment | None:
    return st.session_state.get("experiment")


def show_chart(spec: dict, key: str | None = None, width="stretch", **frames) -> None:
    st.vega_lite_chart(charts.with_data(spec, **frames), width=width, key=key)


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
    kind = st.radio("Kind of data", ["text", "series"], horizontal=True, key="kind", disabled=locked,
                    format_func={"text": "Text (next character)", "series": "Time series (next value)"}.get)
    if kind == "text":
        options = list(TEXT_PRESETS) + [OWN]
        label = lambda k: "Your own text (paste or upload)" if k == OWN else TEXT_PRESETS[k][0]
        source = st.selectbox("Text", options, format_func=label, key="text_source", disabled=locked)
        chosen = _own_text_ui(locked) if source == OWN else ("text", source, lambda: _text_preset(source))
    else:
        options = list(SERIES_PRESETS) + [OWN]
        label = lambda k: "Your own CSV file" if k == OWN else SERIES_PRESETS[k][0]
        source = st.selectbox("Series", options, format_func=label, key="series_source", disabled=locked)
        chosen = _own_csv_ui(locked) if source == OWN else ("series", source, lambda: _series_preset(source))
    if chosen is not None and not locked:
        _activate(*chosen)
    data = st.session_state.get("data")
    if data is not None:
        _data_summary(data)
    return data


def _activate(kind: str, ident: str, build) -> None:
    """Make the chosen data active unless it already is; on bad data keep the old one and say so."""
    if st.session_state.get("data_id") == (kind, ident):
        return
    try:
        data = build()
    except (DataError, ConfigError) as e:
        st.error(str(e) + _kept_note())
        return
    st.session_state.update(data=data, data_id=(kind, ident))


def _kept_note() -> str:
    data = st.session_state.get("data")
    return f" Still using the previous data: {data.name}." if data is not None else ""


def _own_text_ui(locked: bool):
    with st.form("own_text"):
        pasted = st.text_area("Paste text", height=150, key="own_text_area",
                              placeholder="At least a few hundred characters of any text…")
        upload = st.file_uploader("…or upload a UTF-8 .txt file", type=["txt"], key="own_text_file")
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
                              key="own_csv_file", disabled=locked)
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


# --- model and training settings ---------------------------------------------------------------------------------

def settings_ui(data, training: bool) -> tuple[ModelConfig, TrainConfig]:
    """Model and training widgets -> configs. Architecture is locked while training; the learning rate is not."""
    st.subheader("2 · Model and training")
    kind = data.kind
    model_default, train_default = DEFAULTS[kind]
    k = lambda name: f"{kind}_{name}"  # separate widget state per kind so each keeps its own defaults
    c1, c2, c3, c4 = st.columns(4)
    hidden = c1.select_slider("Hidden units", [4, 8, 16, 32, 64, 96, 128, 192, 256], model_default.hidden_size,
                              key=k("hidden"), disabled=training)
    layers = c2.select_slider("Layers", [1, 2, 3], model_default.num_layers, key=k("layers"), disabled=training)
    seq_len = c3.select_slider("Sequence length (steps per window)", [8, 16, 32, 64, 100, 128, 200, 256],
                               train_default.seq_len, key=k("seq_len"), disabled=training)
    batch = c4.select_slider("Batch size", [1, 4, 8, 16, 32, 64, 128], train_default.batch_size, key=k("batch"),
                             disabled=training)
    c1, c2, c3, c4 = st.columns(4)
    lr = c1.select_slider("Learning rate (can change while training)", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2,
                                                                        2e-2, 3e-2], train_default.lr, key=k("lr"))
    steps = c2.number_input("Steps per run", 10, LIMITS.max_steps, train_default.steps, step=100, key=k("steps"),
                            disabled=training)
    seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key=k("seed"), disabled=training)
    clip = c4.checkbox("Gradient clipping (norm 1.0)", True, key=k("clip"), disabled=training,
                       help="Scales down a too-large gradient before the step: keeps training stable.")
    model_cfg = replace(model_default, vocab_size=len(data.vocab) if kind == "text" else 0, hidden_size=hidden,
                        num_layers=layers)
    train_cfg = replace(train_default, seq_len=seq_len, batch_size=batch, lr=lr, steps=int(steps), seed=int(seed),
                        grad_clip=1.0 if clip else 0.0)
    return model_cfg, train_cfg


def sync_experiment(data, model_cfg: ModelConfig, train_cfg: TrainConfig) -> Experiment | None:
    """Keep the visitor's experiment in step with the widgets: new data or architecture -> a fresh model (said)."""
    ex = experiment()
    if ex is not None:
        ex.finish_job()
    try:
        if ex is None or ex.data is not data or ex.model_cfg != model_cfg:
            if ex is not None and ex.training:
                return ex  # widgets are locked while training; never drop a running job here
            if ex is not None and ex.trained_steps:
                what = "data" if ex.data is not data else "architecture"
                st.session_state.notice = f"The {what} changed, so the model was reset to new random weights."
            ex = Experiment(data, model_cfg, train_cfg)
            _set_experiment(ex)
        elif ex.training and ex.job.cfg.lr != train_cfg.lr:
            ex.job.set_lr(train_cfg.lr)
            st.toast(f"Learning rate set to {train_cfg.lr:g} from step {ex.job.view().step} on.")
    except ConfigError as e:
        st.error(f"{e}. Nothing was changed.")
    return ex


def _set_experiment(ex: Experiment) -> None:
    old = experiment()
    if old is not None and old is not ex:
        old.close()
    st.session_state.experiment = ex
    st.session_state.pop("trace_cache", None)


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
    if st.session_state.get("notice"):
        st.info(st.session_state.notice)
        st.session_state.notice = None


def _start(ex: Experiment, train_cfg: TrainConfig) -> None:
    try:
        ex.start(train_cfg)
    except (ConfigError, DataError) as e:
        st.session_state.notice = f"Could not start: {e}"


def _reset(ex: Experiment) -> None:
    _set_experiment(Experiment(ex.data, ex.model_cfg, ex.train_cfg))
    st.session_state.notice = "The model was reset to new random weights."


def live_panel(ex: Experiment) -> None:
    """Progress, metrics, loss and a preview; polls the job twice a second while it runs."""
    active = ex.training

    @st.fragment(run_every=0.5 if active else None)
    def panel():
        view = ex.last_view()
        if view is not None:
            if ex.job is not None:
                ex.job.touch()
            if active and not view.active:
                st.rerun()  # a full rerun turns polling off and unlocks the widgets
            _progress(ex, view)
        elif not ex.trained_steps:
            st.caption(f"Untrained model with {ex.model.n_params():,} parameters. Press Start.")
        _loss(ex)
        _preview(ex)

    panel()


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
    per = "characters/s" if ex.kind == "text" else "windows·steps/s"
    cols = st.columns(6)
    cols[0].metric("Step", f"{view.step:,}")
    cols[1].metric("Train loss", f"{train:.4f}")
    cols[2].metric("Validation loss", f"{val:.4f}")
    cols[3].metric("ms / step", f"{view.ms_per_step:.1f}")
    cols[4].metric(per, f"{view.items_per_second:,.0f}")
    cols[5].metric("Parameters", f"{ex.model.n_params():,}")


def _loss(ex: Experiment) -> None:
    train, val = ex.history()
    if not train:
        return
    stride = max(1, len(train) // 1500)  # the chart needs no more than ~1,500 points per line
    frame = pd.concat([pd.DataFrame(train[::stride], columns=["step", "loss"]).assign(split="train"),
                       pd.DataFrame(val, columns=["step", "loss"]).assign(split="validation")], ignore_index=True)
    frame = frame[np.isfinite(frame["loss"]) & (frame["loss"] > 0)]
    st.altair_chart(charts.loss_chart(frame, ex.kind), width="stretch")


def _preview(ex: Experiment) -> None:
    if not ex.trained_steps and ex.job is None:
        return
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    if ex.kind == "text":
        c1, c2 = st.columns([1, 3])
        temperature = c1.slider("Temperature", 0.1, 2.0, 0.8, 0.1, key="temperature",
                                help="Low: the model's safest guesses. High: more surprising text.")
        prompt = c2.text_input("Start the text with", "the cats", key="prompt", max_chars=200)
        st.markdown("**Text the model writes now** (it improves as training goes):")
        # the page polls twice a second; sample again only when the weights snapshot or the settings changed
        key = (id(ex), weights_step, prompt, temperature)
        cached = st.session_state.get("preview_text")
        if cached is None or cached[0] != key:
            cached = (key, generate_text(ex.current_weights_model(), ex.data, prompt, 300, temperature))
            st.session_state.preview_text = cached
        st.code(cached[1], language=None)
    else:
        index, actual, predicted = forecast_validation(ex.current_weights_model(), ex.data, ex.train_cfg.seq_len)
        t = ex.data.dates[index] if ex.data.dates is not None else index
        frame = pd.concat([pd.DataFrame({"t": t, "value": actual, "what": "actual"}),
                           pd.DataFrame({"t": t, "value": predicted, "what": "predicted"})], ignore_index=True)
        st.altair_chart(charts.series_chart(frame, ex.data.unit, "Forecast vs truth on validation data "
                                            "(one step ahead)"), width="stretch")


# --- step-through --------------------------------------------------------------------------------------------------

def sequence_ui(ex: Experiment):
    """Choose what to trace -> (description, sequence tensor of T+1 items) or None."""
    data = ex.data
    _, val = data.parts(ex.train_cfg.seq_len)
    max_len = min(LIMITS.max_seq_len, len(val) - 1)
    c1, c2 = st.columns([1, 3])
    if data.kind == "text":
        source = c1.radio("Sequence", ["validation", "own"], key="seq_source",
                          format_func={"validation": "A validation sample", "own": "Your own text"}.get)
        if source == "own":
            text = c2.text_input("Your text (characters the model knows)", data.text[:40].replace("\n", " "),
                                 key="seq_text", max_chars=LIMITS.max_seq_len + 1)
            try:
                if len(text) < 2:
                    raise DataError("Type at least 2 characters.")
                return f"your text {text[:20]!r}…", data.encode(text)
            except DataError as e:
                st.error(f"{e} Showing a validation sample instead.")
        length = c2.slider("Length (steps)", 8, max_len, min(128, max_len), key="seq_len_text")
        start = c2.slider("Start in the validation text", 0, len(val) - length - 1, 0, key="seq_start_text")
        return f"validation text from position {start}", val[start : start + length + 1]
    c1.markdown("**Range of the series**")
    n = len(data.values)
    default = (max(0, n - 129), n - 1)
    lo, hi = c2.slider("Points (validation data is the last 10 %)", 0, n - 1, default, key="seq_range")
    if hi - lo < 2:
        st.error("Choose a range of at least 3 points.")
        return None
    if hi - lo > LIMITS.max_seq_len:
        st.warning(f"At most {LIMITS.max_seq_len} steps are traced; using points {lo}…{lo + LIMITS.max_seq_len}.")
        hi = lo + LIMITS.max_seq_len
    return f"points {lo}…{hi}", data.normed[lo : hi + 1]


def get_trace(ex: Experiment, seq: torch.Tensor):
    """Trace of seq under the current weights; cached per visitor until the weights or the sequence change."""
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    key = (id(ex), weights_step, hashlib.sha1(seq.numpy().tobytes()).hexdigest())
    cache = st.session_state.get("trace_cache")
    if cache is None or cache[0] != key:
        trace = trace_sequence(ex.current_weights_model(), ex.data, seq)
        cache = (key, trace, {})  # the dict memoises chart specs and big frames for this trace
        st.session_state.trace_cache = cache
        st.session_state.step = min(st.session_state.get("step", 0), trace.n_steps - 1)
    return cache[1], cache[2]


def _move(delta: int, n_steps: int) -> None:
    st.session_state.step = int(min(n_steps - 1, max(0, st.session_state.get("step", 0) + delta)))


def _toggle_play() -> None:
    st.session_state.playing = not st.session_state.get("playing", False)
    st.session_state.last_tick = time.monotonic()


def cursor_ui(trace) -> int:
    """Slider, Prev/Next (← →), Play/Pause (space) with a speed. Returns the current step."""
    T = trace.n_steps
    st.session_state.setdefault("step", 0)
    playing = st.session_state.get("playing", False)
    c1, c2, c3, c4, c5 = st.columns([1.4, 1.4, 1.4, 1.3, 4.5], vertical_alignment="bottom")
    c1.button("Prev", key="prev", shortcut="Left", on_click=_move, args=(-1, T), help="Keyboard: ←",
              icon=":material/chevron_left:")
    c2.button("Next", key="next", shortcut="Right", on_click=_move, args=(1, T), help="Keyboard: →",
              icon=":material/chevron_right:", icon_position="right")
    c3.button("Pause" if playing else "Play", key="play", on_click=_toggle_play, help="Keyboard: space",
              shortcut="Space", icon=":material/pause:" if playing else ":material/play_arrow:")
    c4.selectbox("Speed", [1, 2, 4, 8], index=1, key="speed", format_func=lambda s: f"{s} steps/s")
    return c5.slider("Time step", 0, T - 1, key="step")


def step_view(ex: Experiment, trace, memo: dict) -> None:
    """Everything that follows the cursor, in one fragment: a step change reruns only this part."""
    playing = st.session_state.get("playing", False)
    interval = 1.0 / st.session_state.get("speed", 2)

    @st.fragment(run_every=interval if playing else None)
    def view():
        if st.session_state.get("playing", False) != playing:
            st.rerun()  # Play/Pause was pressed: run_every is only read on a full run
        if playing:
            _tick(trace.n_steps, interval)
        step = cursor_ui(trace)
        layer = 0
        if trace.n_layers > 1:
            layer = st.radio("Layer", list(range(trace.n_layers)), horizontal=True, key="layer",
                             format_func=lambda l: f"layer {l + 1}" + (" (bottom)" if l == 0 else
                                                                      " (top)" if l == trace.n_layers - 1 else ""))
        units = _units_ui(trace, layer)
        _input_and_prediction(ex, trace, step, memo)
        if units:
            show_chart(memo.setdefault("gates_spec", charts.gates_now_spec()), key="gates_now",
                       gates=charts.gates_now_frame(trace, layer, step, units))
            show_chart(memo.setdefault("lines_spec", charts.unit_lines_spec()), key="unit_lines",
                       lines=_memo(memo, ("lines", layer, tuple(units)),
                                   lambda: charts.unit_lines_frame(trace, layer, units)),
                       cursor=charts.cursor_frame(step))
        st.markdown("#### Every unit at every step — the black line is the current step")
        cols = st.columns(2)
        for n, q in enumerate(QUANTITIES):
            with cols[n % 2]:
                spec = _memo(memo, ("heat_spec", q, layer), lambda: charts.heatmap_spec(
                    q, layer, trace.quantities[q][layer], trace.n_layers))
                show_chart(spec, key=f"heat_{q}", cursor=charts.cursor_frame(step))

    view()


def _memo(memo: dict, key, build):
    if key not in memo:
        memo[key] = build()
    return memo[key]


def _tick(n_steps: int, interval: float) -> None:
    """Advance one step per timer tick (not on clicks inside the fragment)."""
    now = time.monotonic()
    if now - st.session_state.get("last_tick", 0) >= 0.8 * interval:
        st.session_state.last_tick = now
        if st.session_state.get("step", 0) >= n_steps - 1:
            st.session_state.playing = False
            st.rerun()  # full rerun turns the timer off
        _move(1, n_steps)


def _units_ui(trace, layer: int) -> list[int]:
    """Units to follow; by default the four whose cell state varies most (the busiest ones)."""
    busiest = np.argsort(-trace.quantities["cell_state"][layer].std(axis=0))[:4]
    options = list(range(trace.n_units))
    key = f"units_{trace.n_units}_{layer}"
    return st.multiselect("Units to follow (default: the 4 whose cell state varies most)", options,
                          default=[int(u) for u in busiest], key=key, format_func=lambda u: f"u{u}",
                          max_selections=12)


def _input_and_prediction(ex: Experiment, trace, step: int, memo: dict) -> None:
    if trace.kind == "text":
        chars = _memo(memo, "chars", lambda: charts.text_strip_frames(trace.inputs, 0)[0])
        n_rows = int(chars["row"].max()) + 1
        spec = _memo(memo, "strip_spec", lambda: charts.text_strip_spec(n_rows))
        st.vega_lite_chart(charts.with_data(spec, chars=chars, cursor=charts.text_strip_frames(trace.inputs, step)[1]),
                           width="content", key="text_strip")
        c1, c2 = st.columns([2, 3])
        with c1:
            st.markdown(f"**Step {step}**: input {charts._show(trace.inputs[step])!r} → true next "
                        f"{charts._show(trace.targets[step])!r}")
        with c2:
            preds = trace.predictions[trace.predictions["step"] == step]
            st.altair_chart(charts.topk_chart(preds, trace.targets[step]), width="stretch")
    else:
        points = _memo(memo, "points", lambda: charts.series_step_frames(trace, 0)[0])
        now = points[points["step"] == step]
        show_chart(_memo(memo, "series_spec", lambda: charts.series_step_spec(ex.data.unit)), key="series_now",
                   points=points, now=now)
        row = trace.predictions.iloc[step]
        c1, c2, c3 = st.columns(3)
        c1.metric(f"Input at step {step}", f"{trace.inputs[step]:.3f} {ex.data.unit}")
        c2.metric("Predicted next", f"{row['predicted']:.3f}")
        c3.metric("Actual next", f"{row['actual']:.3f}", delta=f"error {row['predicted'] - row['actual']:+.3f}",
                  delta_color="off")
