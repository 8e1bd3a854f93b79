"""The Train page's "Image sequences" kind: the data (moving shapes, moving handwritten digits, which digit came
first), the ConvLSTM and CNN-LSTM settings, and the previews (predicted vs true frames; accuracy)."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import streamlit as st

from ..config import LIMITS
from .common import state

FRAME_KINDS = ("frames", "digits")


@st.cache_data(max_entries=16, show_spinner=False)
def _frames_data(task: str, steps: int, frame: int):
    from ..data.frames import FramesData
    return FramesData(task, steps=steps, frame=frame)


def data_choice(locked: bool):
    """Widgets for image-sequence data -> (kind, identity, build) like the other sources."""
    from ..data.frames import FRAME_DEFAULTS, FRAME_TASKS
    task = st.selectbox("Image sequences", list(FRAME_TASKS), format_func=lambda k: FRAME_TASKS[k][0],
                        key="frames_task", disabled=locked)
    c1, c2 = st.columns(2)
    default = FRAME_DEFAULTS[task]
    steps = c1.select_slider("Frames per sequence", [2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32], default["steps"],
                             key=f"frames_steps_{task}", disabled=locked,
                             help="CNN-LSTM: one digit, then this many minus one distractors to remember it "
                                  "through. ConvLSTM: the frames it reads and predicts.")
    frame = c2.select_slider("Frame size (pixels)", [12, 16, 20, 24, 28, 32], default["frame"],
                             key=f"frames_frame_{task}", disabled=locked)
    if task != "first_digit" and steps < 3:
        st.error("Next-frame prediction needs at least 3 frames per sequence." + _kept())
        return None
    ident = task if (steps, frame) == (default["steps"], default["frame"]) else f"{task}:{steps}:{frame}"
    return FRAME_TASKS[task][1], ident, lambda: _frames_data(task, steps, frame)


def _kept() -> str:
    data = state().data
    return f" Still using the previous data: {data.name}." if data is not None else ""


def strip_image(frames: np.ndarray, scale: int = 4) -> np.ndarray:
    """Sequences (N, T, 1, F, F) -> one greyscale image: a row per sequence, a column per frame, 1-px gaps."""
    n, t, _, f, _ = frames.shape
    out = np.full((n * (f + 1), t * (f + 1)), 0.85, dtype=np.float32)
    for i in range(n):
        for j in range(t):
            out[i * (f + 1) : i * (f + 1) + f, j * (f + 1) : j * (f + 1) + f] = frames[i, j, 0]
    ink = (255 * (1 - np.clip(out, 0, 1))).astype(np.uint8)
    return ink.repeat(scale, 0).repeat(scale, 1)


def data_summary(data) -> None:
    s = data.summary()
    c1, c2, c3 = st.columns(3)
    c1.metric("Frames per sequence", s["frames per sequence"])
    c2.metric("Frame", s["frame"])
    c3.metric("Training sequences", "fresh every batch")
    with st.expander(f"Preview of {data.name}", expanded=True):
        shown = min(4, len(data.val_frames))
        st.image(strip_image(data.val_frames[:shown]), clamp=True,
                 caption=(f"{shown} validation sequences, a row each, time → "
                          + (f"(answers: {', '.join(str(int(l)) for l in data.val_labels[:shown])})"
                             if data.val_labels is not None else "")))
        if data.task != "shapes":
            st.caption("Real handwriting: the 1,797 8×8 digits by 43 writers that scikit-learn ships (UCI "
                       "“Optical Recognition of Handwritten Digits”). Validation sequences use images training "
                       "never sees.")


def settings(data, training: bool):
    """Model and training widgets for image sequences -> (model config, train config)."""
    from ..family import model_config_for, vision_defaults
    model_default, train_default = vision_defaults(data.task, data.frame)
    k = lambda name: f"{data.kind}_{name}"
    c1, c2, c3, c4 = st.columns(4)
    if data.kind == "frames":
        c1.markdown("**ConvLSTM** — every gate is a convolution; predicts the next frame")
        hidden = c2.select_slider("Hidden channels", [1, 2, 4, 8, 12, 16, 24, 32], model_default.hidden_channels,
                                  key=k("hidden"), disabled=training)
        kernel = c3.select_slider("Kernel size", [1, 3, 5, 7], model_default.kernel, key=k("kernel"),
                                  disabled=training, help="How far a gate looks around each pixel (odd sizes).")
        peephole = c4.checkbox("Peepholes (Shi et al.)", False, key=k("peephole"), disabled=training,
                               help="The gates also look at the cell state, as in the ConvLSTM paper.")
        conv = embed = 0
    else:
        c1.markdown("**CNN-LSTM** — a small CNN per frame, an LSTM over the frames")
        conv = c2.select_slider("Convolution maps", [4, 8, 16, 32], model_default.conv_channels, key=k("conv"),
                                disabled=training)
        embed = c3.select_slider("Vector per frame", [8, 16, 32, 64, 128], model_default.embed_size,
                                 key=k("embed"), disabled=training)
        hidden = c4.select_slider("LSTM units", [4, 8, 16, 32, 64, 128], model_default.hidden_size,
                                  key=k("hidden"), disabled=training)
        kernel, peephole = 3, False
    c1, c2, c3, c4 = st.columns(4)
    batch = c1.select_slider("Batch size", [4, 8, 16, 32, 64], train_default.batch_size, key=k("batch"),
                             disabled=training)
    lr = c2.select_slider("Learning rate (can change while training)", [3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2],
                          train_default.lr, key=k("lr"))
    steps = c3.number_input("Steps per run", 10, LIMITS.max_steps, train_default.steps, step=100, key=k("steps"),
                            disabled=training)
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0, key=k("seed"), disabled=training)
    model_cfg = model_config_for(data, hidden=hidden, kernel=kernel, peephole=peephole, conv=conv or 16,
                                 embed=embed or 32)
    train_cfg = replace(train_default, batch_size=batch, lr=lr, steps=int(steps), seed=int(seed))
    return model_cfg, train_cfg


def describe(cfg) -> str:
    if hasattr(cfg, "hidden_channels"):
        return f"ConvLSTM {cfg.hidden_channels} ch, {cfg.kernel}×{cfg.kernel}" + (" + peepholes" if cfg.peephole
                                                                                  else "")
    return f"CNN-LSTM {cfg.conv_channels} maps → {cfg.hidden_size} units"


def record(ex, view) -> dict:
    acc = ex.validation_accuracy()
    return {"data": ex.data.name, "cell": describe(ex.model_cfg), "task": "next frame" if ex.kind == "frames"
            else "which digit first", "layers": 1, "units": getattr(ex.model_cfg, "hidden_size", None)
            or ex.model_cfg.hidden_channels, "parameters": ex.model.n_params() if hasattr(ex.model, "n_params")
            else sum(p.numel() for p in ex.model.parameters()), "steps": view.step,
            "validation loss": view.val_history[-1][1] if view.val_history else float("nan"),
            "validation accuracy": acc if acc is not None else float("nan")}


def preview(ex, due) -> None:
    """Predicted vs true frames (ConvLSTM) or the answers and accuracy (CNN-LSTM) on validation sequences, with the
    latest weights; refreshed every few seconds while training (due() decides, as for text and series)."""
    import torch
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    key = (id(ex), weights_step)
    caches = state().caches
    if due("preview_frames", key, not ex.training):
        model = ex.current_weights_model()
        x, y = ex.validation_batch()
        with torch.no_grad():
            out, _ = model(x)
        if ex.kind == "frames":
            mse = float(torch.mean((out - y) ** 2))
            copy = float(torch.mean((x - y) ** 2))
            shown = np.concatenate([x[:3, :1].numpy(), y[:3].numpy()], 1), np.concatenate(
                [x[:3, :1].numpy(), out[:3].numpy()], 1)
            result = ("frames", mse, copy, shown)
        else:
            answers = out[:, -1].argmax(-1)
            acc = float((answers == y).float().mean())
            result = ("digits", acc, answers[:6].tolist(), y[:6].tolist(), x[:6].numpy())
        caches["preview_frames"] = (key, result, time.monotonic())
    (_, shown_step), result, _ = caches["preview_frames"]
    if result[0] == "frames":
        _, mse, copy, (truth, pred) = result
        c1, c2 = st.columns(2)
        c1.metric("Next-frame error (validation MSE)", f"{mse:.4f}")
        c2.metric("“Copy the last frame” would make", f"{copy:.4f}",
                  f"the model is {copy / mse:.1f}× better" if mse > 0 else None,
                  delta_color="normal" if copy >= mse else "inverse")
        st.image([strip_image(truth), strip_image(pred)], clamp=True, width=420,
                 caption=["True frames (first frame, then frames 1 …)", f"Predicted by the model (step "
                                                                         f"{shown_step:,})"])
    else:
        _, acc, answers, truth, frames = result
        st.metric("Validation accuracy: which digit came first?", f"{acc:.0%}", help="Chance is 10 %.")
        st.image(strip_image(frames[:, :, :, :, :], scale=3), clamp=True,
                 caption="Validation sequences (a row each). First digit → model's answer: "
                         + ", ".join(f"{t} → {a}{'' if a == t else ' ✗'}" for a, t in zip(answers, truth)))
