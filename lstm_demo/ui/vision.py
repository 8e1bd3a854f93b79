"""Step through the LSTMs that see: ConvLSTM (gates as maps, a pixel's diagram and equations) and CNN-LSTM (frames,
the CNN's maps, then the LSTM's gates exactly as for text). The same browser cursor drives every view: the server
sends each view once per sequence and pixel or unit, and no script runs while the cursor moves."""
from __future__ import annotations

import streamlit as st

from ..vision_views import (CNN_KEY, FRAMES_KEY, cell_key, default_unit, cell_views, cnn_views, frame_views, pick_key, pick_views,
                            pix_key, pix_views, split_unit, unit_label)
from .common import bound, show_chart, state
from .cursor import cursor_ui
from .state import TraceView
from .step import Memo, memo

FRAME_KINDS = ("frames", "digits")


def is_vision(ex) -> bool:
    return ex is not None and getattr(ex.data, "kind", "") in FRAME_KINDS


def describe(ex) -> str:
    cfg, steps = ex.model_cfg, ex.job.weights()[0] if ex.job else ex.trained_steps
    if ex.kind == "frames":
        what = (f"ConvLSTM, {cfg.hidden_channels} hidden channels, {cfg.kernel}×{cfg.kernel} convolutions"
                + (", peepholes" if cfg.peephole else ""))
    else:
        what = (f"CNN-LSTM, {cfg.conv_channels} + {2 * cfg.conv_channels} convolution maps → LSTM × "
                f"{cfg.hidden_size} units")
    return f"Model: {what}, trained {steps:,} steps on {ex.data.name}."


def sequence_ui(ex) -> int:
    """Which validation sequence to trace (sequences training never saw)."""
    seq = state().sequence
    n = len(ex.data.val_frames)
    seq.frames_index = min(max(seq.frames_index, 0), n - 1)
    return bound(st.slider, f"Validation sequence (0 … {n - 1}; training never saw these)", "frames_index",
                 seq.frames_index, lambda v: setattr(seq, "frames_index", v), min_value=0, max_value=n - 1)


def _trace(model, data, index: int):
    frames, label = data.sequence(index)
    if data.kind == "frames":
        from ..convlstm import trace_convlstm
        return trace_convlstm(model, frames)
    from ..cnnlstm import trace_cnnlstm
    return trace_cnnlstm(model, frames, label)


@st.cache_resource(max_entries=16, show_spinner=False)
def _shared_trace(origin: str, steps: int, index: int, _model, _data):
    """Bundled models are public and never trained in place: one trace per process and sequence."""
    return _trace(_model, _data, index), Memo()


def get_view(ex, index: int) -> TraceView:
    s = state()
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    key = ("vision", id(ex), weights_step, index)
    if s.view is None or s.view.key != key:
        model = ex.current_weights_model()
        if ex.origin.startswith("bundled") and ex.job is None:
            trace, shared = _shared_trace(ex.origin, ex.trained_steps, index, model, ex.data)
            s.view = TraceView(key, trace, model, index, None, shared)
        else:
            s.view = TraceView(key, _trace(model, ex.data, index), model, index, None, Memo())
    return s.view


def step_view(view: TraceView, query=None, compact: bool = False) -> None:
    """Everything that follows the cursor, in one fragment (a new pixel or unit reruns only this part)."""

    @st.fragment
    def fragment():
        trace, c = view.trace, state().cursor
        c.fit(trace.n_steps, 1, 1, trace.n_units)
        c.layer = c.direction = 0
        if c.unit is None:
            c.unit = default_unit(trace)
        if trace.kind == "frames":
            _convlstm(view, trace, c, query, compact)
        else:
            _cnnlstm(view, trace, c, query, compact)

    fragment()


def _diagram_and_equations(view, trace, unit: int, label: str, compact: bool) -> None:
    views = memo(view, cell_key(unit, compact), lambda: cell_views(trace, unit, label, compact))
    left, right = st.columns([1.1, 1])
    with left, st.container(key="view_diagram"):
        show_chart(views["diagram"], key="diagram")
    with right, st.container(key="view_equations"):
        show_chart(views["equations"], key="equations")
        check = trace.extras.get("replay_check")
        if check and not compact:
            st.caption(f"✓ These are the model's own numbers: the step-by-step replay reproduces "
                       f"`{check['module']}` on this sequence to max |Δ| = {check['max_abs_h']:.1e}.")


# --- ConvLSTM ----------------------------------------------------------------------------------------------------

def _convlstm(view, trace, c, query, compact) -> None:
    C, H, W = trace.unit_shape
    ch, y, x = split_unit(c.unit, (C, H, W))
    cursor_ui(f"{id(view)}:{c.unit}", trace.n_steps, query=query() if callable(query) else query,
              compact=compact)
    fixed = memo(view, FRAMES_KEY, lambda: frame_views(trace))

    def maps():
        with st.container(key="view_maps"):
            show_chart(fixed["maps"], key="maps", width="content")

    if compact:  # the presenter view: the maps are the lesson, so they come first, on a projector's first screen
        maps()
    left, right = st.columns([1.6, 1])
    with left, st.container(key="view_frames"):
        show_chart(fixed["frames"], key="frames", width="content")
    with right:
        pick = memo(view, pick_key(y, x), lambda: pick_views(trace, y, x))["chart"]
        event = st.vega_lite_chart(pick, on_select="rerun", selection_mode="pixel", key="pixel_pick",
                                   width="content")
        _picked(event, c, (C, H, W), ch)
    if not compact:
        maps()
    cols = st.columns(3)
    set_unit = lambda **k: setattr(c, "unit", _join({"ch": ch, "y": y, "x": x, **k}, (C, H, W)))
    bound(cols[0].selectbox, "Channel", "pix_ch", ch, lambda v: set_unit(ch=v), options=list(range(C)),
          format_func=lambda v: f"channel {v}")
    bound(cols[1].number_input, "Pixel row (0 = top)", "pix_y", y, lambda v: set_unit(y=int(v)), min_value=0,
          max_value=H - 1, step=1)
    bound(cols[2].number_input, "Pixel column (0 = left)", "pix_x", x, lambda v: set_unit(x=int(v)), min_value=0,
          max_value=W - 1, step=1)
    label = unit_label(trace, c.unit)
    _diagram_and_equations(view, trace, c.unit, label, compact)
    if not compact:
        show_chart(memo(view, pix_key(c.unit), lambda: pix_views(trace, c.unit, label))["chart"], key="pixel_gates")


def _join(parts: dict, shape) -> int:
    C, H, W = shape
    return parts["ch"] * H * W + parts["y"] * W + parts["x"]


def _picked(event, c, shape, ch) -> None:
    """A click on the frame picks a pixel (in the channel on screen); applied once per click."""
    try:
        chosen = (event or {}).get("selection", {}).get("pixel") or []
    except AttributeError:
        return
    if not chosen:
        return
    point = chosen[0]
    try:
        y, x = int(point["y"]), int(point["x"])
    except (KeyError, TypeError, ValueError):
        return
    caches = state().caches
    if caches.get("pixel_click") == (y, x):
        return
    caches["pixel_click"] = (y, x)
    C, H, W = shape
    if 0 <= y < H and 0 <= x < W:
        c.unit = _join({"ch": ch, "y": y, "x": x}, shape)
        st.rerun(scope="fragment")


# --- CNN-LSTM ----------------------------------------------------------------------------------------------------

def _cnnlstm(view, trace, c, query, compact) -> None:
    from .. import step_charts
    cursor_ui(f"{id(view)}:{c.unit}", trace.n_steps, query=query() if callable(query) else query,
              compact=compact)
    fixed = memo(view, CNN_KEY, lambda: cnn_views(trace))
    with st.container(key="view_strip"):
        show_chart(fixed["strip"], key="digit_strip", width="content")
    if not compact:  # the presenter view goes from the answers under the frames to the LSTM's cell: one screen
        left, right = st.columns([1, 1])
        with left:
            show_chart(fixed["maps"], key="feature_maps", width="content")
        with right:
            show_chart(fixed["topk"], key="topk")
    bound(st.selectbox, "LSTM unit to explain", "unit", c.unit, lambda v: setattr(c, "unit", v),
          options=list(range(trace.n_units)), format_func=lambda u: f"u{u}",
          help="Starts on the unit whose cell state varies most over this sequence.")
    _diagram_and_equations(view, trace, c.unit, unit_label(trace, c.unit), compact)
    if not compact:
        with st.expander("Every LSTM unit at every step (heatmaps)"):
            heat = memo(view, ("heat", 0, 0), lambda: step_charts.heatmap_views(trace, 0, 0))
            cols = st.columns(2)
            for n, q in enumerate(trace.names):
                with cols[n % 2]:
                    show_chart(heat[q], key=f"heat_{q}")
