"""The translation kind's UI: the generated tasks, the encoder–decoder's settings, its preview (sources, the
model's answers, the truth, exact match), Step through of both halves with the same cursor, and the bottleneck
measured live (plain vs reversed source vs attention)."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from ...kinds.translation import handover_words
from .. import step as step_ui
from ..common import bound, state
from ..widgets import Setting, batch_setting, lr_setting, pick, seed_setting, steps_setting
from .base import UIKind, file_options, file_source, timed

LENGTH_WORDS = {"numbers": "Most digits of the number", "dates": "Years around 2010: ±20, ±100, ±500, ±1000",
                "copy": "Most letters", "reverse": "Most letters"}


@st.cache_data(max_entries=16, show_spinner=False)
def _data(task: str, length: int):
    from ...kinds.translation_data import TranslationData
    return TranslationData(task, length)


class TranslationUI(UIKind):
    choice = "translation"
    label = "Translation (encoder–decoder)"
    kinds = ("translation",)

    def data_ui(self, locked: bool):
        from ...kinds.translation_data import LENGTHS, TASKS
        if file_options("translation") and pick(st.checkbox, f"Use the data of the opened model file "
                                                f"({state().file_data.name})", "translation_file", True,
                                                disabled=locked):
            return file_source()
        task = pick(st.selectbox, "Task", "translation_task", "numbers", options=list(TASKS), format_func=TASKS.get,
                    disabled=locked)
        lo, hi, default = LENGTHS[task]
        length = pick(st.slider, LENGTH_WORDS[task], f"translation_length_{task}", default, min_value=lo,
                      max_value=hi, disabled=locked,
                      help="The length knob: longer sources are harder to squeeze through the encoder's final state.")
        ident = task if length == default else f"{task}:{length}"
        return "translation", ident, lambda: _data(task, length)

    def data_summary(self, data) -> None:
        c1, c2, c3 = st.columns(3)
        c1.metric("Task", data.task)
        c2.metric("Validation pairs (held out)", len(data.val_pairs))
        c3.metric("Training pairs", "fresh every batch")
        with st.expander(f"Source → target pairs of {data.name}", expanded=True):
            st.dataframe(pd.DataFrame(data.val_pairs[:6], columns=["source", "target"]), hide_index=True,
                         width="stretch")

    def picture(self, data):
        return "text", "\n".join(f"{s}  →  {t}" for s, t in data.val_pairs[:5])

    def settings(self, data) -> list:
        return [[Setting("hidden_size", "Hidden units (the bottleneck's width)", "hidden",
                         options=(8, 16, 32, 64, 128, 192, 256)),
                 Setting("num_layers", "Layers (encoder and decoder each)", "layers", options=(1, 2)),
                 Setting("embed_size", "Embedding size", "embed", options=(8, 16, 32, 64)),
                 Setting("reverse_source", "Read the source backwards", "reverse", widget="check",
                         help="Sutskever et al. (2014): the answer's first characters then sit close to the source "
                              "characters they come from.")],
                [Setting("attention", "Attention (dot-product)", "attention", widget="check",
                         help="After each decoder step, its h looks back at every encoder step; the weights (the "
                              "alignment) are drawn in Step through. The fix for the bottleneck."),
                 batch_setting((8, 16, 32, 64, 128)), lr_setting((3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2)),
                 steps_setting()],
                [seed_setting()]]

    def row(self, cfg) -> dict:
        from ...kinds import KINDS
        return {"cell": KINDS["translation"].describe(cfg), "task": "translate", "layers": cfg.num_layers,
                "units": cfg.hidden_size}

    def preview(self, ex, due) -> None:
        """A table of held-out sources, the model's greedy answers and the truth, with exact match over them all."""
        from ...kinds.seq2seq import translate
        s = state()
        key = ("translation", id(ex), ex.weights_step)
        if due(key, not ex.training):
            pairs = ex.data.val_pairs
            outputs = translate(ex.current_weights_model(), ex.data, [src for src, _ in pairs])
            right = [o == t for o, (_, t) in zip(outputs, pairs)]
            s.preview = timed(key, (outputs[:8], sum(right) / len(right)))
        shown_step, (outputs, acc) = s.preview.key[2], s.preview.value
        st.metric("Exact match on the held-out pairs (greedy decoding)", f"{acc:.0%}")
        pairs = ex.data.val_pairs[:8]
        st.dataframe(pd.DataFrame({"source": [src for src, _ in pairs], "model's answer": outputs,
                                   "truth": [t for _, t in pairs],
                                   "right": ["✓" if o == t else "✗" for o, (_, t) in zip(outputs, pairs)]}),
                     hide_index=True, width="stretch")
        st.caption(f"With the weights of step {shown_step:,}; refreshed every few seconds while training.")

    def after_training(self) -> None:
        """Below the Train page's runs: the bottleneck, measured live."""
        bottleneck_ui()

    # --- Step through -----------------------------------------------------------------------------------------
    def step_page(self, ex) -> None:
        from .. import links
        st.caption(self.describe(ex))
        view = step_ui.get_view(ex, source_ui(ex))
        links.apply_step_link(view.trace)
        step_ui.step_view(ex, view, query=links.step_query(ex))
        after_views(ex, view)

    def scene_view(self, view, query, compact: bool, ex) -> None:
        step_ui.step_view(ex, view, query=query, panels=not compact, compact=compact)

    def read_link(self, link, seq_state) -> list:
        notes = []
        if link.text is not None:
            seq_state.source, seq_state.text = "own", link.text
        if link.seq is not None:
            notes.append(f"An encoder–decoder reads a typed source, not a numbered sequence; seq={link.seq} was "
                         "ignored.")
        return notes


UI = TranslationUI()


# --- the bottleneck, measured live ---------------------------------------------------------------------------------

def bottleneck_ui() -> None:
    """Plain vs reversed source, same task, seed and held-out pairs: accuracy by source length."""
    from ...kinds.bottleneck import BOTTLENECK_DEFAULT
    st.header("The bottleneck, measured")
    steps = st.select_slider("Training steps per model", [100, 200, 400, 800], BOTTLENECK_DEFAULT.steps,
                             key="bottleneck_steps", help="800: the clearest curves and the longest wait; "
                                                          "fewer: quicker and rougher.")
    cfg = replace(BOTTLENECK_DEFAULT, steps=steps)
    st.caption(f"Trains three encoder–decoders live, one after the other, on the {cfg.task} task (up to {cfg.length} "
               f"letters, {cfg.hidden} units, {cfg.steps} steps each, same seed and batches): one reads the source "
               "as written, one reads it backwards, one attends to every encoder step. Then all answer the same "
               "held-out sources, grouped by length.")
    s = state()
    run = s.bottleneck
    running = run is not None and run.active

    def start():
        from ...kinds.bottleneck import BottleneckRun
        from ..common import visitor_alive
        s.set_bottleneck(BottleneckRun(cfg, alive=visitor_alive()).start())

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
            from ... import charts
            st.altair_chart(charts.bottleneck_chart(view["result"], view["title"]), width="stretch")
            st.markdown(view["summary"])

    panel()



# --- step through both halves ------------------------------------------------------------------------------------

def source_ui(ex):
    """The source to translate and what the decoder reads -> (source, truth or None, teacher forcing?)."""
    from ...config import DataError
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
    return bound(col.text_input, "Source — the encoder reads it", "tr_source", seq.text,
                 lambda v: (setattr(seq, "text", v), setattr(seq, "source", "own")), max_chars=120)


def after_views(ex, view) -> None:
    """What the encoder handed over (its final state, unit by unit) and teacher forcing vs free running."""
    import numpy as np

    trace = view.trace
    (_, _, S), _ = trace.segments
    layer = trace.n_layers - 1
    h, c = trace.get("hidden_state", layer)[S - 1], trace.get("cell_state", layer)[S - 1]
    order = np.argsort(-np.abs(c))[:24]
    heading, caption = handover_words(len(c), len(order), trace.extras.get("alignment") is not None)
    st.markdown(f"## {heading}")
    frame = pd.DataFrame({"unit": [f"u{u}" for u in order], "c (cell state)": c[order], "h (hidden state)": h[order]})
    long = frame.melt(id_vars="unit", var_name="quantity", value_name="value")
    from ... import charts
    st.altair_chart(charts.final_state_chart(long, [f"u{u}" for u in order]), width="stretch")
    st.caption(caption)
    align = trace.extras.get("alignment")
    if align is not None:
        from ... import charts
        (_, d0, d1) = trace.segments[1]
        st.markdown("## Attention: where each decoder step looked in the source")
        st.altair_chart(charts.alignment_chart(align, trace.inputs[:S], trace.inputs[d0:d1],
                                               trace.extras["emitted"]), width="stretch")
        st.caption("A row per decoder step (what it read → what it emitted), a column per source character as the "
                   "encoder read it; darker = more weight. Without attention everything must pass through the "
                   "hand-over alone.")
    truth = trace.extras.get("target")
    if truth is None:
        return
    model = view.model
    other = ex.spec.trace(model, ex.data, (trace.extras["source"], truth, not trace.extras["teacher"]))
    pair = {trace.extras["teacher"]: trace, other.extras["teacher"]: other}
    rows = []
    for name, tr in (("teacher-forced", pair[True]), ("free-running", pair[False])):
        (_, d0, d1) = tr.segments[1]
        rows.append({"decoder": name, "reads": "".join(tr.inputs[d0:d1]),
                     "emits": "".join(tr.extras["emitted"]).split("$")[0], "truth": truth})
    st.markdown("## Teacher forcing vs free running, side by side")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("Teacher-forced, the decoder reads the true previous character at every step (as in training): one "
               "mistake does not derail the next step. Free-running, it reads its own output: an early mistake is "
               "fed back in.")
