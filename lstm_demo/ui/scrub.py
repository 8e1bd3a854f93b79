"""How the model got there: a "Training step" slider that replays the sequence under a kept checkpoint's weights,
the loss curve marking it, and one unit across training (checkpoints x time steps)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ..kinds import KINDS
from .common import bound, show_chart, state


def training_step_ui(ex) -> int | None:
    """The training-step slider (when the model has kept checkpoints) -> the checkpoint's step, or None for the
    final weights."""
    s = state()
    steps = [step for step, _ in ex.all_checkpoints()]
    final = ex.weights_step
    if not steps or steps == [final]:
        s.checkpoint = None
        return None
    options = sorted(set(steps) | {final})
    value = s.checkpoint if s.checkpoint in options else final
    with st.container(border=True):
        c1, c2 = st.columns([2, 3], vertical_alignment="center")
        with c1:
            chosen = bound(st.select_slider, "Training step", "training_step", value,
                           lambda v: setattr(state(), "checkpoint", None if v == final else v), options=options,
                           format_func=lambda v: f"{v:,}" + (" (final)" if v == final else ""),
                           help="Every view below replays this sequence with the weights the model had at that "
                                "training step. Move it to watch a gate learn.")
            st.caption(f"{len(steps)} checkpoints kept" + (" (weights at half precision)" if chosen != final
                                                          else "") + ". “Across training” below shows one unit at "
                       "all of them at once.")
        with c2:
            _loss_with_mark(ex, chosen)
    s.checkpoint = None if chosen == final else chosen
    return s.checkpoint


def _loss_with_mark(ex, step: int) -> None:
    from .. import charts
    train, val = ex.history()
    if not train:
        return
    spec = charts.loss_spec(ex.spec.loss_label, marked=True, height=130, compact=True)
    key = (id(ex), len(train), len(val))  # the curve as Arrow bytes, made once per history, not once per rerun
    s = state()
    if s.loss_marked is None or s.loss_marked[0] != key:
        s.loss_marked = (key, charts.arrow(charts.loss_frame(train, val, 300)))
    cached = s.loss_marked
    show_chart(spec, key="loss_marked", loss=cached[1], mark=[{"step": int(step), "label": f"step {step:,}"}])


def across_training_ui(ex, view, layer: int, direction: int, unit: int, colour: str) -> None:
    """The chosen unit and quantity at every time step under every kept checkpoint."""
    from .. import step_charts
    s = state()
    ckpts = ex.all_checkpoints() if ex is not None else []
    if len(ckpts) < 2:
        st.info("This model kept no checkpoints during training (a model trained in this session keeps up to 50; "
                "bundled models ship theirs).")
        return
    trace = view.trace
    quantity = colour if colour in trace.names else trace.names[-1]
    key = (view.key[:-1] if view.key and view.key[-1] is not None else view.key, tuple(c[0] for c in ckpts),
           quantity, layer, direction)
    cached = s.across
    if cached is None or cached[0] != key:
        with st.spinner(f"Replaying the sequence under {len(ckpts)} checkpoints…"):
            stacks = []
            for step, _ in ckpts:
                tr = ex.spec.trace(ex.checkpoint_model(step), ex.data, view.choice, check=False)
                stacks.append(tr.get(quantity, layer, direction).astype(np.float16))
        cached = s.across = (key, np.stack(stacks))   # (checkpoints, T, units), half precision: one per visitor
    values = cached[1][:, :, unit].astype(np.float32)
    steps = [c[0] for c in ckpts]
    shown = steps.index(s.checkpoint) if s.checkpoint in steps else len(steps) - 1
    show_chart(step_charts.across_training_spec(values, steps, quantity, unit, shown), key="across_training")
    choose = KINDS[view.trace.kind].colour_label  # a page without that control does not send the learner to it
    st.caption(f"Each row is the same sequence replayed with the weights of one training step; colour is u{unit}'s "
               f"{quantity.replace('_', ' ')}" + (f" (choose another quantity with “{choose}”)" if choose else "")
               + ". Early rows are the untrained model; watch a pattern appear as training goes on.")
