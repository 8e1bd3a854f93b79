"""Train page: data source, model and training settings, controls, and the live panel — for every kind through its
UI (lstm_demo/ui/kinds/). The visitor's choices live in the UI state (state.TrainChoices); the widgets are drawn
from them."""
from __future__ import annotations

import hashlib
import time

import pandas as pd
import streamlit as st

from .. import charts
from ..conclusions import loss_text
from ..config import ConfigError, DataError
from ..jobs import Experiment
from ..kinds import KINDS
from ..store import MAX_FILE_BYTES, ModelFileError, load_bytes, save_bytes
from .common import bound, experiment, state, visitor_alive
from .kinds import UI_KINDS
from .kinds.base import FILE

MODEL_UPLOAD_MB = -(-MAX_FILE_BYTES // 1_000_000)          # the largest model the caps allow, with checkpoints


# --- data --------------------------------------------------------------------------------------------------------

def data_ui(locked: bool):
    """The kind of data and its source -> the active data object (or None). A bad choice shows an error and keeps
    the data."""
    st.header("1 · Data")
    choices = UI_KINDS.choices()
    s = state()
    choice = bound(st.radio, "Kind of data", "kind", s.train.choice, lambda v: setattr(s.train, "choice", v),
                   options=list(choices), horizontal=True, disabled=locked, format_func=lambda c: choices[c].label)
    ui = choices[choice]
    chosen = ui.data_ui(locked)
    if chosen is not None and not locked:
        _activate(*chosen)
    data = s.data
    if data is None or UI_KINDS[data.kind].choice != choice:
        return None
    UI_KINDS[data.kind].data_summary(data)
    return data


def _activate(kind: str, ident: str, build) -> None:
    """Make the chosen data active unless it already is; on bad data keep the old one and say so."""
    s = state()
    if s.data_id == (kind, ident):
        return
    try:
        data = build()
    except (DataError, ConfigError) as e:
        st.error(str(e) + UI_KINDS[kind].kept_note())
        return
    s.data, s.data_id = data, (kind, ident)


def _settings_for(data):
    """The visitor's settings for this data's kind (the kind's preset the first time), fitted to the data: its
    vocabulary or frame size, and a sequence length it has room for (said when it changes)."""
    s = state()
    kind = KINDS[data.kind]
    current = s.train.settings.get(data.kind) or kind.defaults(data)
    model_cfg, train_cfg, note = kind.adapt(*current, data)
    s.train.settings[data.kind] = (model_cfg, train_cfg)
    if note:
        s.notice("train", note)


def settings_ui(data, training: bool):
    """Model and training widgets -> configs. Architecture is locked while training; the learning rate is not."""
    st.header("2 · Model and training")
    _settings_for(data)
    return UI_KINDS[data.kind].settings_ui(data, training)


def _saturation(ex: Experiment) -> None:
    """Karpathy's gate-saturation plot, recomputed on the validation windows when the weights snapshot changes."""
    from ..explain import gate_saturation
    from ..trace_data import GATES
    if (not ex.trained_steps and ex.job is None) or not UI_KINDS[ex.kind].saturation:
        return
    if not GATES[ex.model_cfg.cell]:
        st.caption("Gate saturation: a plain RNN has no gates — every step squashes the whole state through one "
                   "tanh — so there is nothing to plot here. Train an LSTM or a GRU to see it.")
        return
    s = state()
    key = (id(ex), ex.weights_step)
    running = ex.job is not None and ex.job.view().status == "running"
    if (s.saturation is None or s.saturation.key != key) and (not running or st.session_state.get("saturation_now")):
        from .kinds.base import timed
        s.saturation = timed(key, gate_saturation(ex.current_weights_model(), ex.validation_batch()[0]))
    if s.saturation is None:
        st.caption("Gate saturation (how often each unit's gates are shut or wide open) is drawn when training "
                   "pauses or ends, so it does not slow the run.")
        st.button("Draw it now", key="saturation_now", icon=":material/scatter_plot:")
        return
    shown_step = s.saturation.key[1]
    with st.expander("Gate saturation: how often each unit's gates are shut (< 0.1) or wide open (> 0.9)",
                     expanded=True):
        st.altair_chart(charts.saturation_chart(s.saturation.value, f"One dot per unit, at step {shown_step:,} "
                                                                    "(validation text)"), width="content")
        if running and shown_step != ex.weights_step:
            st.button(f"Update to step {ex.weights_step:,}", key="saturation_now", icon=":material/refresh:",
                      help="Drawn again when training pauses or ends; updating now takes a moment of the CPU.")
        st.caption("Points near the top-left corner of the forget-gate panel are units that almost never forget: "
                   "they can carry information for a long time (Karpathy et al. 2015, fig. 3). Points at the "
                   "bottom-left are gates that stay in between.")


# --- model files --------------------------------------------------------------------------------------------------

def _open_model_file() -> None:
    """Upload callback (runs before the page, so it may set what the widgets show): a good file becomes the
    visitor's model with its data and settings; a bad one changes nothing."""
    upload = st.session_state.get("model_upload")
    if upload is not None:
        open_model_bytes(upload.getvalue(), upload.name)


def open_model_bytes(raw: bytes, name: str) -> bool:
    """Bytes of a model file (an upload, or the copy kept in the browser, ui/keep.py) through the loader's checks:
    True if they became the visitor's model with its data and settings; False (said, nothing changed) if not.
    Runs before the page's widgets (a callback), since it sets what they show."""
    ex = experiment()
    if ex is not None and ex.training:
        state().notice("file", ("error", "Stop the training before opening a model file. Nothing was changed."))
        return False
    try:
        loaded = load_bytes(raw)
        opened = Experiment(loaded.data, loaded.model.cfg, loaded.train_cfg, model=loaded.model,
                            trained_steps=loaded.steps, origin=f"file:{name}", loaded=loaded)
    except (ModelFileError, ConfigError, DataError) as e:
        state().notice("file", ("error", f"{e} Nothing was changed."))
        return False
    open_experiment(opened, hashlib.sha1(raw).hexdigest(), name)
    return True


def open_experiment(ex: Experiment, sha: str, name: str) -> None:
    """Make an opened model the visitor's: its data, its settings (the widgets show them, exactly) and the model."""
    s = state()
    data, ui = ex.data, UI_KINDS[ex.kind]
    s.file_sha, s.file_data, s.data, s.data_id = sha, data, data, (data.kind, FILE + sha)
    s.train.open_file(data.kind, ui.choice, ex.model_cfg, ex.train_cfg,
                      {f"{ui.choice}_source": FILE, f"{ui.choice}_file": True})
    _set_experiment(ex)
    s.notice("file", ("success", f"Opened {name}: {ui.short(ex.model_cfg)}, trained {ex.trained_steps:,} steps. "
                                 "Continue training here or step through it."))


def model_bytes(ex: Experiment) -> bytes:
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
        name = f"lstm-gate-lab-{ex.spec.family_name(ex.model_cfg)}-{ex.trained_steps}steps.safetensors"
        c1.download_button("Download this model", key="model_download", icon=":material/download:",
                           data=lambda: model_bytes(ex), on_click="ignore",  # no rerun racing the download
                           file_name=name, mime="application/octet-stream", disabled=not trained,
                           help="Weights in safetensors; config, vocabulary or normalisation, a sample of the data, "
                                "the loss history and checkpoints for the training-step slider. No pickle.")
        c2.file_uploader("Open a model file saved here", type=["safetensors"], key="model_upload",
                         on_change=_open_model_file, disabled=ex.training, max_upload_size=MODEL_UPLOAD_MB,
                         help="Only files saved by this app; checked before anything is built. PyTorch .pt files "
                              "are pickles and are never opened.")


# --- the experiment ------------------------------------------------------------------------------------------------

def sync_experiment(data, model_cfg, train_cfg) -> Experiment | None:
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
    except (ConfigError, DataError) as e:
        st.error(f"{e}. Nothing was changed.")
    return ex


def _record(ex: Experiment, view) -> None:
    """A finished run goes on the visitor's scoreboard, to compare cell types and directions on the same data."""
    if view is None or not view.history:
        return
    state().scoreboard.append(UI_KINDS[ex.kind].record(ex, view))


def scoreboard_ui() -> None:
    board = state().scoreboard
    if not board:
        return
    st.header("Runs so far")
    st.caption("Every finished run in this session. Compare cell types, layers and directions on the same data: "
               "for the fill-in task, a bidirectional model sees both sides of the gap.")
    st.dataframe(pd.DataFrame(board[::-1]), hide_index=True, width="stretch",
                 column_config={"validation accuracy": st.column_config.ProgressColumn(
                     "validation accuracy", format="percent", min_value=0.0, max_value=1.0),
                     "validation loss": st.column_config.NumberColumn(format="%.4f")})


def after_training_ui(data) -> None:
    """What a kind shows below the runs (the translation kind: the bottleneck, measured live)."""
    extra = getattr(UI_KINDS[data.kind], "after_training", None)
    if extra is not None:
        extra()


def _set_experiment(ex: Experiment) -> None:
    old = experiment()
    if old is not None and old is not ex:
        old.close()
    s = state()
    s.experiment = ex
    s.forget_view()


def controls_ui(ex: Experiment, train_cfg) -> None:
    view = ex.job.view() if ex.job else None
    active = view is not None and view.active
    try:  # what Start would refuse (the budget: these settings' step would not fit), said before it is pressed
        ex.spec.checked(ex.model_cfg, train_cfg, ex.data)
        refused = None
    except ConfigError as e:
        refused = str(e)
    c1, c2, c3, c4, _ = st.columns([2, 1.3, 1, 1, 3])
    label = "Start training" if not ex.trained_steps else f"Continue (+{train_cfg.steps} steps)"
    c1.button(label, type="primary", disabled=active or refused is not None, on_click=_start, args=(ex, train_cfg),
              key="start", icon=":material/play_arrow:")
    paused = view is not None and view.status == "paused"
    c2.button("Resume" if paused else "Pause", disabled=not active, key="pause",
              icon=":material/play_arrow:" if paused else ":material/pause:",
              on_click=(ex.job.resume if paused else ex.job.pause) if active else None)
    c3.button("Stop", disabled=not active, key="stop", on_click=ex.job.stop if active else None,
              icon=":material/stop:")
    c4.button("Reset", disabled=active, key="reset", on_click=_reset, args=(ex,), icon=":material/restart_alt:",
              help="New random weights; the data and settings stay.")
    if refused and not active:
        st.error(refused, icon=":material/memory:")
    if (notice := state().take_notice("train")) is not None:
        st.info(notice)


def _start(ex: Experiment, train_cfg) -> None:
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


def due(key: tuple, final: bool) -> bool:
    """Recompute the preview? Only when its inputs changed and either the run is over or SLOW_PANELS seconds have
    passed since the last time (the training thread shares the CPU with this page). key: (what, the experiment's
    id, the weights' step, …): another experiment's or another preview's is never shown."""
    cached = state().preview
    if cached is None or final or cached.key[:2] != key[:2]:
        return cached is None or cached.key != key
    return cached.key != key and time.monotonic() - cached.at >= SLOW_PANELS


def live_panel(ex: Experiment, train_cfg=None) -> None:
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


def _reference(ex: Experiment, train_cfg) -> bool:
    """Draw the reference panel; False if this data has no bundled model."""
    from ..bundle import BUNDLES, reference_bundle, reference_words
    from .bundles import bundled
    kind, ident = state().data_id or (None, None)
    found = reference_bundle(ident, ex.data, ex.model_cfg, train_cfg) if kind == ex.kind else None
    if found is None:
        return False
    key, diffs = found
    ref = bundled(key)
    same = reference_words(key, diffs)
    st.info(f"**Before you press Start:** the loss curve and {ex.spec.preview_words} of the bundled model trained on "
            f"this data with {same} ({BUNDLES[key].label}, {ref.trained_steps:,} steps). Your untrained model has "
            f"{_n_params(ex.model):,} parameters; press Start to train it.", icon=":material/history:")
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
    elif view.message:
        st.info(view.message)
    train = view.history[-1][1] if view.history else float("nan")
    val = view.val_history[-1][1] if view.val_history else float("nan")
    cols = st.columns(6)
    cols[0].metric("Step", f"{view.step:,}")
    cols[1].metric("Train loss", loss_text(train))  # "not measured yet" before the first value, never "nan"
    cols[2].metric("Validation loss", loss_text(val))
    cols[3].metric("ms / step", f"{view.ms_per_step:.1f}")
    cols[4].metric(ex.spec.items, f"{view.items_per_second:,.0f}")
    cols[5].metric("Parameters", f"{_n_params(ex.model):,}")


def _loss(ex: Experiment) -> None:
    train, val = ex.history()
    if not train:
        return
    spec = charts.loss_spec(ex.spec.loss_label)  # the same object every poll
    st.vega_lite_chart(charts.with_data(spec, loss=charts.loss_frame(train, val)), width="stretch", key="loss")


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _preview(ex: Experiment) -> None:
    if not ex.trained_steps and ex.job is None:
        return
    UI_KINDS[ex.kind].preview(ex, due)

