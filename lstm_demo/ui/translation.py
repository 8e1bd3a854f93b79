"""The Train page's "Translation" kind: the generated tasks, the encoder–decoder's settings, its preview (sources, the
model's answers, the truth, exact match) and the bottleneck measured live (plain vs reversed source)."""
from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import streamlit as st

from ..config import LIMITS
from .common import state


@st.cache_data(max_entries=16, show_spinner=False)
def _data(task: str, length: int):
    from ..data.translation import TranslationData
    return TranslationData(task, length)


def data_choice(locked: bool):
    from ..data.translation import LENGTHS, TASKS
    task = st.selectbox("Task", list(TASKS), format_func=TASKS.get, key="translation_task", disabled=locked)
    lo, hi, default = LENGTHS[task]
    length = st.slider({"numbers": "Most digits of the number", "dates": "Years around 2010: ±20, ±100, ±500, ±1000",
                        "copy": "Most letters", "reverse": "Most letters"}[task], lo, hi, default,
                       key=f"translation_length_{task}", disabled=locked,
                       help="The length knob: longer sources are harder to squeeze through the encoder's final state.")
    ident = task if length == default else f"{task}:{length}"
    return "translation", ident, lambda: _data(task, length)


def data_summary(data) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric("Task", data.task)
    c2.metric("Validation pairs (held out)", len(data.val_pairs))
    c3.metric("Training pairs", "fresh every batch")
    with st.expander(f"Source → target pairs of {data.name}", expanded=True):
        st.dataframe(pd.DataFrame(data.val_pairs[:6], columns=["source", "target"]), hide_index=True,
                     width="stretch")


def defaults(data):
    from ..family import translation_defaults
    return translation_defaults(data)


def settings(data, training: bool):
    model_default, train_default = defaults(data)
    k = lambda name: f"translation_{name}"
    c1, c2, c3, c4 = st.columns(4)
    hidden = c1.select_slider("Hidden units (the bottleneck's width)", [8, 16, 32, 64, 128, 192, 256],
                              model_default.hidden_size, key=k("hidden"), disabled=training)
    layers = c2.select_slider("Layers (encoder and decoder each)", [1, 2], 1, key=k("layers"), disabled=training)
    embed = c3.select_slider("Embedding size", [8, 16, 32, 64], model_default.embed_size, key=k("embed"),
                             disabled=training)
    reverse = c4.checkbox("Read the source backwards", False, key=k("reverse"), disabled=training,
                          help="Sutskever et al. (2014): the answer's first characters then sit close to the source "
                               "characters they come from.")
    attention = c4.checkbox("Attention (dot-product)", False, key=k("attention"), disabled=training,
                            help="After each decoder step, its h looks back at every encoder step; the weights (the "
                                 "alignment) are drawn in Step through. The fix for the bottleneck.")
    c1, c2, c3, c4 = st.columns(4)
    batch = c1.select_slider("Batch size", [8, 16, 32, 64, 128], train_default.batch_size, key=k("batch"),
                             disabled=training)
    lr = c2.select_slider("Learning rate (can change while training)", [3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2],
                          train_default.lr, key=k("lr"))
    steps = c3.number_input("Steps per run", 10, LIMITS.max_steps, train_default.steps, step=100, key=k("steps"),
                            disabled=training)
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0, key=k("seed"), disabled=training)
    model_cfg = replace(model_default, hidden_size=hidden, num_layers=layers, embed_size=embed, reverse_source=reverse,
                        attention=attention)
    return model_cfg.validate(), replace(train_default, batch_size=batch, lr=lr, steps=int(steps), seed=int(seed))


def describe(cfg) -> str:
    return (f"encoder–decoder LSTM {cfg.num_layers} × {cfg.hidden_size} units"
            + (", source reversed" if cfg.reverse_source else "") + (", attention" if cfg.attention else ""))


def record(ex, view) -> dict:
    acc = ex.validation_accuracy()
    return {"data": ex.data.name, "cell": describe(ex.model_cfg), "task": "translate", "layers": ex.model_cfg.num_layers,
            "units": ex.model_cfg.hidden_size, "parameters": ex.model.n_params(), "steps": view.step,
            "validation loss": view.val_history[-1][1] if view.val_history else float("nan"),
            "validation accuracy": acc}


def preview(ex, due) -> None:
    """A table of held-out sources, the model's greedy answers and the truth, with exact match over all of them."""
    from ..seq2seq import translate
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    key = (id(ex), weights_step)
    caches = state().caches
    if due("preview_translation", key, not ex.training):
        model = ex.current_weights_model()
        pairs = ex.data.val_pairs
        outputs = translate(model, ex.data, [s for s, _ in pairs])
        right = [o == t for o, (_, t) in zip(outputs, pairs)]
        caches["preview_translation"] = (key, (outputs[:8], sum(right) / len(right)), time.monotonic())
    (_, shown_step), (outputs, acc), _ = caches["preview_translation"]
    st.metric("Exact match on the held-out pairs (greedy decoding)", f"{acc:.0%}")
    pairs = ex.data.val_pairs[:8]
    st.dataframe(pd.DataFrame({"source": [s for s, _ in pairs], "model's answer": outputs,
                               "truth": [t for _, t in pairs],
                               "right": ["✓" if o == t else "✗" for o, (_, t) in zip(outputs, pairs)]}),
                 hide_index=True, width="stretch")
    st.caption(f"With the weights of step {shown_step:,}; refreshed every few seconds while training.")


# --- the bottleneck, measured live ---------------------------------------------------------------------------------

def bottleneck_ui() -> None:
    """Plain vs reversed source, same task, seed and held-out pairs: accuracy by source length."""
    from ..bottleneck import BOTTLENECK_DEFAULT
    st.subheader("The bottleneck, measured")
    steps = st.select_slider("Training steps per model", [100, 200, 400, 800], BOTTLENECK_DEFAULT.steps,
                             key="bottleneck_steps", help="800: the clear curves (about a minute on one core); "
                                                          "fewer: quicker and rougher.")
    cfg = replace(BOTTLENECK_DEFAULT, steps=steps)
    st.caption(f"Trains three encoder–decoders live, one after the other, on the {cfg.task} task (up to {cfg.length} "
               f"letters, {cfg.hidden} units, {cfg.steps} steps each, same seed and batches): one reads the source "
               "as written, one reads it backwards, one attends to every encoder step. Then all answer the same "
               "held-out sources, grouped by length.")
    s = state()
    run = s.caches.get("bottleneck")
    running = run is not None and run.active

    def start():
        from ..bottleneck import BottleneckRun
        from .common import visitor_alive
        old = s.caches.get("bottleneck")
        if old is not None:
            old.stop()
        s.caches["bottleneck"] = BottleneckRun(cfg, alive=visitor_alive()).start()

    st.button("Measure the bottleneck", on_click=start, disabled=running, icon=":material/compress:",
              key="bottleneck_start")
    if run is None:
        return

    @st.fragment(run_every=1.0 if running else None)
    def panel():
        view = run.view()
        run.touch()
        if running and not run.active:
            st.rerun()
        if view["status"] in ("queued", "running"):
            st.progress(view["progress"], text=view["message"])
        elif view["status"] == "failed":
            st.error(view["message"])
        if view["result"] is not None:
            from .. import charts
            st.altair_chart(charts.bottleneck_chart(view["result"]), width="stretch")
            st.markdown(view["summary"])

    panel()


# --- step through both halves ------------------------------------------------------------------------------------

def describe_model(ex) -> str:
    steps = ex.job.weights()[0] if ex.job else ex.trained_steps
    return f"Model: {describe(ex.model_cfg)}, trained {steps:,} steps on {ex.data.name}."


def source_ui(ex):
    """The source to translate and what the decoder reads -> (source, truth or None, teacher forcing?)."""
    from ..config import DataError
    seq = state().sequence
    data = ex.data
    truths = dict(data.val_pairs)
    if seq.text is None or seq.source != "own":
        seq.text = data.val_pairs[0][0]
    c1, c2 = st.columns([3, 2])
    text = bound_text(c1, seq)
    try:
        data.check_source(text)
        seq.last_good = text
    except DataError as e:
        st.error(f"{e} Showing the last source that worked instead.")
        text = getattr(seq, "last_good", None) or data.val_pairs[0][0]
    truth = truths.get(text)
    if truth is None and data.task in ("copy", "reverse"):
        truth = text if data.task == "copy" else text[::-1]
    modes = ["free", "teacher"] if truth is not None else ["free"]
    mode = c2.radio("The decoder reads", modes, horizontal=True, key="tr_mode",
                    format_func={"free": "its own outputs (free-running)",
                                 "teacher": "the truth (teacher forcing)"}.get,
                    help="Training feeds the true previous character (teacher forcing); using the model, it must "
                         "read its own. Teacher forcing needs the truth: held-out sources have it.")
    c1.caption("Held-out sources have a known answer; " + ", ".join(f"“{s}”" for s, _ in data.val_pairs[1:4]) + " …")
    return text, truth, mode == "teacher"


def bound_text(col, seq):
    from .common import bound
    return bound(col.text_input, "Source — the encoder reads it", "tr_source", seq.text,
                 lambda v: (setattr(seq, "text", v), setattr(seq, "source", "own")), max_chars=120)


def get_view(ex, source: str, truth, teacher: bool):
    from ..seq2seq import trace_seq2seq
    from .state import TraceView
    from .step import Memo
    s = state()
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    key = ("translation", id(ex), weights_step, source, teacher)
    if s.view is None or s.view.key != key:
        model = ex.current_weights_model()
        s.view = TraceView(key, trace_seq2seq(model, ex.data, source, truth, teacher=teacher), model, source, None,
                           Memo())
    return s.view


def after_views(ex, view) -> None:
    """What the encoder handed over (its final state, unit by unit) and teacher forcing vs free running."""
    import numpy as np

    from ..seq2seq import trace_seq2seq
    trace = view.trace
    (_, _, S), _ = trace.segments
    layer = trace.n_layers - 1
    st.markdown("#### The hand-over: the encoder's final state — everything the decoder knows about the source")
    h, c = trace.get("hidden_state", layer)[S - 1], trace.get("cell_state", layer)[S - 1]
    order = np.argsort(-np.abs(c))[:24]
    frame = pd.DataFrame({"unit": [f"u{u}" for u in order], "c (cell state)": c[order], "h (hidden state)": h[order]})
    long = frame.melt(id_vars="unit", var_name="quantity", value_name="value")
    from .. import charts
    st.altair_chart(charts.final_state_chart(long, [f"u{u}" for u in order]), width="stretch")
    st.caption("The 24 units with the largest |c| after the last source character (top layer). Step through the "
               "encoder with one of them as the unit to explain to see when it was written: a unit that counts "
               "characters ramps up steadily; one that holds, say, the hundreds digit is set at that word and then "
               "kept.")
    align = trace.extras.get("alignment")
    if align is not None:
        from .. import charts
        (_, d0, d1) = trace.segments[1]
        st.markdown("#### Attention: where each decoder step looked in the source")
        st.altair_chart(charts.alignment_chart(align, trace.inputs[:S], trace.inputs[d0:d1],
                                               trace.extras["emitted"]), width="stretch")
        st.caption("A row per decoder step (what it read → what it emitted), a column per source character as the "
                   "encoder read it; darker = more weight. Without attention everything must pass through the "
                   "hand-over alone.")
    truth = trace.extras.get("target")
    if truth is None:
        return
    model = view.model
    other = trace_seq2seq(model, ex.data, trace.extras["source"], truth, teacher=not trace.extras["teacher"])
    pair = {trace.extras["teacher"]: trace, other.extras["teacher"]: other}
    rows = []
    for name, tr in (("teacher-forced", pair[True]), ("free-running", pair[False])):
        (_, d0, d1) = tr.segments[1]
        rows.append({"decoder": name, "reads": "".join(tr.inputs[d0:d1]),
                     "emits": "".join(tr.extras["emitted"]).split("$")[0], "truth": truth})
    st.markdown("#### Teacher forcing vs free running, side by side")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("Teacher-forced, the decoder reads the true previous character at every step (as in training): one "
               "mistake does not derail the next step. Free-running, it reads its own output: an early mistake is "
               "fed back in.")
