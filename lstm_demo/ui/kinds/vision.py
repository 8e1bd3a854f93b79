"""The UI of the two kinds that see (ConvLSTM: frames; CNN-LSTM: digits): the image-sequence data, their
settings, the previews (predicted vs true frames; which digit came first) and Step through — a ConvLSTM's gates as
maps with a pixel to pick, a CNN-LSTM's frames, feature maps and LSTM. The same browser cursor drives every view:
the server sends each view once per sequence and pixel or unit, and no script runs while the cursor moves."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from ...conclusions import compare_errors, error_text, replay_verdict
from ...kinds import KINDS
from ...kinds.vision_views import (CNN_KEY, FRAMES_KEY, cell_key, cell_views, cnn_views, frame_views, pick_key,
                                   pick_views, pix_key, pix_views, split_unit)
from .. import step as step_ui
from ..common import bound, lazy_expander, show_chart, state
from ..cursor import cursor_ui
from ..state import TraceView
from ..step import memo
from ..widgets import Setting, batch_setting, pick, seed_setting, steps_setting
from ..widgets import lr_setting as _lr
from .base import FILE, UIKind, file_options, file_source, timed

STEPS = (2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32)   # frames per sequence offered
FRAMES = (12, 16, 20, 24, 28, 32)                    # frame sizes offered
LEARNING_RATES = (3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2)


@st.cache_data(max_entries=16, show_spinner=False)
def _frames_data(task: str, steps: int, frame: int):
    from ...kinds.frames_data import FramesData
    return FramesData(task, steps=steps, frame=frame)


def strip_image(frames: np.ndarray, scale: int = 4) -> np.ndarray:
    """Sequences (N, T, 1, F, F) -> one greyscale image: a row per sequence, a column per frame, 1-px gaps in a light
    grey (ink 0.15: a dark gap read as a stroke of the digits beside it)."""
    n, t, _, f, _ = frames.shape
    out = np.full((n * (f + 1), t * (f + 1)), 0.15, dtype=np.float32)
    for i in range(n):
        for j in range(t):
            out[i * (f + 1) : i * (f + 1) + f, j * (f + 1) : j * (f + 1) + f] = frames[i, j, 0]
    ink = (255 * (1 - np.clip(out, 0, 1))).astype(np.uint8)
    return ink.repeat(scale, 0).repeat(scale, 1)


class VisionUI(UIKind):
    choice = "frames"
    label = "Image sequences (CNN-LSTM, ConvLSTM)"
    kinds = ("frames", "digits")

    # --- data -------------------------------------------------------------------------------------------------
    def data_ui(self, locked: bool):
        from ...kinds.frames_data import FRAME_DEFAULTS, FRAME_TASKS
        if file_options("frames") and pick(st.checkbox, f"Use the data of the opened model file "
                                           f"({state().file_data.name})", "frames_file", True, disabled=locked):
            return file_source()
        task = pick(st.selectbox, "Image sequences", "frames_task", "shapes", options=list(FRAME_TASKS),
                    format_func=lambda k: FRAME_TASKS[k][0], disabled=locked)
        c1, c2 = st.columns(2)
        default = FRAME_DEFAULTS[task]
        lowest = 2 if task == "first_digit" else 3  # a next frame to predict needs two frames to learn from
        steps = pick(c1.select_slider, "Frames per sequence", f"frames_steps_{task}", default["steps"],
                     options=[n for n in STEPS if n >= lowest], disabled=locked,
                     help="CNN-LSTM: one digit, then this many minus one distractors to remember it through. "
                          "ConvLSTM: the frames it reads and predicts.")
        frame = pick(c2.select_slider, "Frame size (pixels)", f"frames_frame_{task}", default["frame"],
                     options=list(FRAMES), disabled=locked)
        ident = task if (steps, frame) == (default["steps"], default["frame"]) else f"{task}:{steps}:{frame}"
        return FRAME_TASKS[task][1], ident, lambda: _frames_data(task, steps, frame)

    def data_summary(self, data) -> None:
        s = data.summary()
        c1, c2, c3 = st.columns(3)
        c1.metric("Frames per sequence", s["frames per sequence"])
        c2.metric("Frame", s["frame"])
        c3.metric("Training sequences", "fresh every batch")
        with st.expander(f"Preview of {data.name}", expanded=True):
            shown = min(4, len(data.val_frames))
            st.image(strip_image(data.val_frames[:shown]), clamp=True,
                     alt=f"{shown} validation sequences of {data.name}, a row of frames each",
                     caption=(f"{shown} validation sequences, a row each, time → "
                              + (f"(answers: {', '.join(str(int(l)) for l in data.val_labels[:shown])})"
                                 if data.val_labels is not None else "")))
            if data.task != "shapes":
                st.caption("Real handwriting: the 1,797 8×8 digits by 43 writers that scikit-learn ships (UCI "
                           "“Optical Recognition of Handwritten Digits”). Validation sequences use images training "
                           "never sees.")

    def picture(self, data):
        return "image", strip_image(data.val_frames[:2], scale=5)

    # --- settings ---------------------------------------------------------------------------------------------
    def heading(self, data) -> None:
        st.markdown("**ConvLSTM** — every gate is a convolution; predicts the next frame" if data.kind == "frames"
                    else "**CNN-LSTM** — a small CNN per frame, an LSTM over the frames")

    def settings(self, data) -> list:
        training = [batch_setting((4, 8, 16, 32, 64)), _lr(LEARNING_RATES), steps_setting(), seed_setting()]
        if data.kind == "frames":
            model = [Setting("hidden_channels", "Hidden channels", "hidden", options=(1, 2, 4, 8, 12, 16, 24, 32)),
                     Setting("kernel", "Kernel size", "kernel", options=(1, 3, 5, 7),
                             help="How far a gate looks around each pixel (odd sizes)."),
                     Setting("peephole", "Peepholes (Shi et al.)", "peephole", widget="check",
                             help="The gates also look at the cell state, as in the ConvLSTM paper.")]
        else:
            model = [Setting("conv_channels", "Convolution maps", "conv", options=(4, 8, 16, 32)),
                     Setting("embed_size", "Vector per frame", "embed", options=(8, 16, 32, 64, 128)),
                     Setting("hidden_size", "LSTM units", "hidden", options=(4, 8, 16, 32, 64, 128))]
        return [model, training]

    def row(self, cfg) -> dict:
        if hasattr(cfg, "hidden_channels"):
            return {"cell": f"ConvLSTM {cfg.hidden_channels} ch, {cfg.kernel}×{cfg.kernel}"
                            + (" + peepholes" if cfg.peephole else ""), "task": "next frame", "layers": 1,
                    "units": cfg.hidden_channels}
        return {"cell": f"CNN-LSTM {cfg.conv_channels} maps → {cfg.hidden_size} units", "task": "which digit first",
                "layers": 1, "units": cfg.hidden_size}

    # --- the preview ------------------------------------------------------------------------------------------
    def preview(self, ex, due) -> None:
        """Predicted vs true frames (ConvLSTM) or the answers and accuracy (CNN-LSTM) on validation sequences, with
        the latest weights; refreshed every few seconds while training (due() decides, as for text and series)."""
        import torch
        s = state()
        key = ("frames", id(ex), ex.weights_step)
        if due(key, not ex.training):
            x, y = ex.validation_batch()
            out = ex.spec.outputs_in_chunks(ex.current_weights_model(), x, ex.eval_chunk())  # within the budget
            if ex.kind == "frames":
                mse = float(torch.mean((out - y) ** 2))
                copy = float(torch.mean((x - y) ** 2))
                shown = np.concatenate([x[:3, :1].numpy(), y[:3].numpy()], 1), np.concatenate(
                    [x[:3, :1].numpy(), out[:3].numpy()], 1)
                result = ("frames", mse, copy, shown, float(torch.mean(y ** 2)))  # scale: what "exact" is against
            else:
                answers = out[:, -1].argmax(-1)
                acc = float((answers == y).float().mean())
                result = ("digits", acc, answers[:6].tolist(), y[:6].tolist(), x[:6].numpy())
            s.preview = timed(key, result)
        shown_step, result = s.preview.key[2], s.preview.value
        if result[0] == "frames":
            _, mse, copy, (truth, pred), scale = result
            c = compare_errors(mse, copy, scale)  # the badge and its colour, from the two errors shown
            c1, c2 = st.columns(2)
            c1.metric("Next-frame error (validation MSE)", error_text(mse, scale))
            c2.metric("“Copy the last frame” would make", error_text(copy, scale), c.badge, delta_color=c.colour,
                      delta_arrow="off", help=f"Against the model: {c.words}.")
            st.image([strip_image(truth), strip_image(pred)], clamp=True, width=420,
                     alt=["The true frames of three validation sequences", "The frames the model predicts for them"],
                     caption=["True frames (first frame, then frames 1 …)", f"Predicted by the model (step "
                                                                             f"{shown_step:,})"])
        else:
            _, acc, answers, truth, frames = result
            st.metric("Validation accuracy: which digit came first?", f"{acc:.0%}", help="Chance is 10 %.")
            st.image(strip_image(frames[:, :, :, :, :], scale=3), clamp=True,
                     alt="Validation sequences of handwritten digits, a row each",
                     caption="Validation sequences (a row each). First digit → model's answer: "
                             + ", ".join(f"{t} → {a}{'' if a == t else ' ✗'}" for a, t in zip(answers, truth)))

    # --- Step through -----------------------------------------------------------------------------------------
    def sequence_ui(self, ex) -> int:
        """Which validation sequence to trace (sequences training never saw)."""
        seq = state().sequence
        n = len(ex.data.val_frames)
        seq.frames_index = min(max(seq.frames_index, 0), n - 1)
        return bound(st.slider, f"Validation sequence (0 … {n - 1}; training never saw these)", "frames_index",
                     seq.frames_index, lambda v: setattr(seq, "frames_index", v), min_value=0, max_value=n - 1)

    def step_page(self, ex) -> None:
        from .. import links
        st.caption(self.describe(ex))
        view = step_ui.get_view(ex, self.sequence_ui(ex))
        links.apply_step_link(view.trace)
        step_view(view, query=links.step_query(ex))

    def scene_view(self, view, query, compact: bool, ex) -> None:
        step_view(view, query=query, compact=compact)

    def link(self, ex, model: str):
        return lambda: state().to_query("step", model=model, seq=state().sequence.frames_index)

    def read_link(self, link, seq_state) -> list:
        notes = []
        if link.seq is not None:
            seq_state.frames_index = link.seq  # the page clamps it to the sequences there are
        if link.text is not None:
            notes.append(f"An image-sequence model reads frames, not text: the link's text={link.text[:30]!r} was "
                         "ignored.")
        return notes


UI = VisionUI()


def step_view(view: TraceView, query=None, compact: bool = False) -> None:
    """Everything that follows the cursor, in one fragment (a new pixel or unit reruns only this part)."""

    @st.fragment
    def fragment():
        trace, c = view.trace, state().cursor
        c.fit(trace.n_steps, 1, 1, trace.n_units)
        c.layer = c.direction = 0
        if c.unit is None:
            c.unit = KINDS[trace.kind].default_unit(trace)
        (_maps if len(trace.unit_shape) == 3 else _cnnlstm)(view, trace, c, query, compact)

    fragment()


def _diagram_and_equations(view, trace, unit: int, label: str, compact: bool, stacked: bool = False) -> None:
    """The cell diagram and its equations side by side (stacked: one above the other), each drawn at the size its
    letters need (width "content"; a narrower column scales it down)."""
    views = memo(view, cell_key(unit, compact), lambda: cell_views(trace, unit, label, compact))
    left, right = (st.container(), st.container()) if stacked else st.columns([0.95, 1.05] if compact else [1.1, 1])
    with left, st.container(key="view_diagram"):
        show_chart(views["diagram"], key="diagram", width="content")
    with right, st.container(key="view_equations"):
        show_chart(views["equations"], key="equations", width="content")
        check = trace.extras.get("replay_check")
        if check and not compact:
            st.caption(replay_verdict(check))


# --- ConvLSTM ----------------------------------------------------------------------------------------------------

def _maps(view, trace, c, query, compact) -> None:
    C, H, W = trace.unit_shape
    ch, y, x = split_unit(c.unit, (C, H, W))
    cursor_ui(f"{id(view)}:{c.unit}", trace.n_steps, query=query() if callable(query) else query,
              compact=compact)
    fixed = memo(view, FRAMES_KEY, lambda: frame_views(trace))
    label = KINDS[trace.kind].unit_label(trace, c.unit)
    if compact:  # the presenter view: the maps (the lesson) beside the cell and its equations, on one screen
        left, right = st.columns([0.39, 0.61])
        with left, st.container(key="view_maps"):
            show_chart(fixed["maps_compact"], key="maps", width="content")
        with right:
            _diagram_and_equations(view, trace, c.unit, label, compact, stacked=True)
    left, right = st.columns([1.6, 1])
    with left, st.container(key="view_frames"):
        show_chart(fixed["frames"], key="frames", width="content")
    with right:
        pick = memo(view, pick_key(y, x), lambda: pick_views(trace, y, x))["chart"]
        event = st.vega_lite_chart(pick, on_select="rerun", selection_mode="pixel", key="pixel_pick",
                                   width="content")
        _picked(event, c, (C, H, W), ch)
    if not compact:
        with st.container(key="view_maps"):
            show_chart(fixed["maps"], key="maps", width="content")
    cols = st.columns(3)
    set_unit = lambda **k: setattr(c, "unit", _join({"ch": ch, "y": y, "x": x, **k}, (C, H, W)))
    bound(cols[0].selectbox, "Channel", "pix_ch", ch, lambda v: set_unit(ch=v), options=list(range(C)),
          format_func=lambda v: f"channel {v}")
    bound(cols[1].number_input, "Pixel row (0 = top)", "pix_y", y, lambda v: set_unit(y=int(v)), min_value=0,
          max_value=H - 1, step=1)
    bound(cols[2].number_input, "Pixel column (0 = left)", "pix_x", x, lambda v: set_unit(x=int(v)), min_value=0,
          max_value=W - 1, step=1)
    if not compact:
        _diagram_and_equations(view, trace, c.unit, label, compact)
        pix = memo(view, pix_key(c.unit), lambda: pix_views(trace, c.unit, label))
        show_chart(pix["gates"], key="pixel_gates")
        show_chart(pix["states"], key="pixel_states")


def _join(parts: dict, shape) -> int:
    C, H, W = shape
    return parts["ch"] * H * W + parts["y"] * W + parts["x"]


def picked_pixel(event, shape) -> tuple[int, int] | None:
    """The pixel a click on the frame picked, as (row, column) inside the frame — or None for anything else the
    browser may send (a crafted message can hold Infinity, NaN, text, objects or numbers outside the frame)."""
    try:
        point = ((event or {}).get("selection", {}).get("pixel") or [None])[0]
        y, x = point["y"], point["x"]
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    _, H, W = shape
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v == int(v)
               for v in (y, x)):
        return None
    y, x = int(y), int(x)
    return (y, x) if 0 <= y < H and 0 <= x < W else None


def _picked(event, c, shape, ch) -> None:
    """A click on the frame picks a pixel (in the channel on screen); applied once per click."""
    found = picked_pixel(event, shape)
    if found is None:
        return
    y, x = found
    s = state()
    if s.pixel_click == (y, x):
        return
    s.pixel_click = (y, x)
    c.unit = _join({"ch": ch, "y": y, "x": x}, shape)
    st.rerun(scope="fragment")


# --- CNN-LSTM ----------------------------------------------------------------------------------------------------

def _cnnlstm(view, trace, c, query, compact) -> None:
    from ... import step_charts
    cursor_ui(f"{id(view)}:{c.unit}", trace.n_steps, query=query() if callable(query) else query,
              compact=compact)
    fixed = memo(view, CNN_KEY, lambda: cnn_views(trace))
    with st.container(key="view_strip"):
        show_chart(fixed["strip_compact" if compact else "strip"], key="digit_strip", width="content")
    if not compact:  # the presenter view goes from the answers under the frames to the LSTM's cell: one screen
        left, right = st.columns([1, 1])
        with left:
            show_chart(fixed["maps"], key="feature_maps", width="content")
        with right:
            show_chart(fixed["topk"], key="topk")
    bound(st.selectbox, "LSTM unit to explain", "unit", c.unit, lambda v: setattr(c, "unit", v),
          options=list(range(trace.n_units)), format_func=lambda u: f"u{u}",
          help="Starts on the unit whose cell state varies most over this sequence.")
    _diagram_and_equations(view, trace, c.unit, KINDS[trace.kind].unit_label(trace, c.unit), compact)
    if not compact:
        box = lazy_expander("Every LSTM unit at every step (heatmaps)", key="cnn_heatmaps")
        with box:
            if box.open:
                heat = memo(view, ("heat", 0, 0), lambda: step_charts.heatmap_views(trace, 0, 0))
                cols = st.columns(2)
                for n, q in enumerate(trace.names):
                    with cols[n % 2]:
                        show_chart(heat[q], key=f"heat_{q}")
