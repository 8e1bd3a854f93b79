"""The captions kind's UI: pictures of shapes and their sentences, the captioner's settings, its preview (held-out
pictures, the model's caption and the truth, word accuracy and exact match against the baselines), and Step through
one caption word by word with the same cursor — a held-out picture or the visitor's own scene, teacher-forced or
free-running."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ...kinds.captions import comparison_badges
from .. import step as step_ui
from ..common import bound, state
from ..widgets import Setting, batch_setting, lr_setting, pick, seed_setting, steps_setting
from .base import UIKind, file_options, file_source, timed

SCALE = 4          # screen pixels per picture pixel in the previews
MAX_SEED = 10_000  # data seeds offered on the Train page (a file may hold any the core accepts)


@st.cache_data(max_entries=8, show_spinner=False)
def _data(max_shapes: int, seed: int):
    from ...kinds.captions_data import CaptionData
    return CaptionData(max_shapes, seed)


def big(image: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """A picture (3, P, P) in [0, 1] -> (P·scale, P·scale, 3) for st.image, pixels kept square."""
    return np.transpose(image, (1, 2, 0)).repeat(scale, 0).repeat(scale, 1)


class CaptionsUI(UIKind):
    choice = "captions"
    label = "Captions (picture → words)"
    kinds = ("captions",)
    items_text = "captions"

    # --- data -------------------------------------------------------------------------------------------------
    def data_ui(self, locked: bool):
        from ...kinds.captions import PRESET
        from ...kinds.captions_data import MAX_SHAPES
        if file_options("captions") and pick(st.checkbox, f"Use the data of the opened model file "
                                             f"({state().file_data.name})", "captions_file", True, disabled=locked):
            return file_source()
        c1, c2 = st.columns(2)
        shapes = pick(c1.select_slider, "Shapes per picture (at most)", "captions_shapes", MAX_SHAPES,
                      options=list(range(1, MAX_SHAPES + 1)), disabled=locked,
                      help="Every picture has one to this many shapes; its sentence names each shape and where it "
                           "is.")
        seed = pick(c2.number_input, "Picture seed", "captions_data_seed", 0, min_value=0, max_value=MAX_SEED, step=1,
                    disabled=locked, help="Which pictures are drawn, and which layouts are held out for testing.")
        ident = PRESET if (shapes, seed) == (MAX_SHAPES, 0) else f"{PRESET}:{shapes}:{seed}"
        return "captions", ident, lambda: _data(int(shapes), int(seed))

    def data_summary(self, data) -> None:
        s = data.summary()
        c1, c2, c3 = st.columns(3)
        c1.metric("Picture", s["picture"])
        c2.metric("Held-out pictures", s["held-out pictures"])
        c3.metric("Training pictures", s["training pictures"])
        with st.expander(f"Pictures and their sentences: {data.name}", expanded=True):
            cols = st.columns(4)
            for col, image, text in zip(cols, data.val_images[:4], data.val_captions[:4]):
                col.image(big(image, 3), caption=text, clamp=True)
            st.caption(f"{s['words']} words; every picture has exactly one sentence (shapes named along the wider "
                       "axis: “left of” across, “above” down). Held-out pictures come from layouts training never "
                       "draws.")

    def picture(self, data):
        shown = np.concatenate([np.pad(big(i, 3), ((0, 0), (0, 6), (0, 0)), constant_values=1.0)
                                for i in data.val_images[:2]], axis=1)
        return "image", shown, " · ".join(f"“{c}”" for c in data.val_captions[:2])

    # --- settings ---------------------------------------------------------------------------------------------
    def heading(self, data) -> None:
        st.markdown("**Captioner** — a small CNN sees the picture; an LSTM with attention writes its sentence")

    def settings(self, data) -> list:
        return [[Setting("conv_channels", "Convolution maps", "conv", options=(4, 8, 16, 32)),
                 Setting("embed_size", "Word embedding", "embed", options=(8, 16, 32, 64)),
                 Setting("hidden_size", "LSTM units", "hidden", options=(16, 32, 64, 128, 256)),
                 Setting("attention", "Attention over the picture", "attention", widget="check",
                         help="Before each word the LSTM chooses where in the CNN's 4 × 4 grid to look. Without "
                              "it, the grid's mean starts the LSTM and is all it ever sees of the picture.")],
                [batch_setting((16, 32, 64, 128)), lr_setting((1e-3, 2e-3, 3e-3, 5e-3, 1e-2)), steps_setting(),
                 seed_setting()]]

    def row(self, cfg) -> dict:
        return {"cell": f"captioner {cfg.conv_channels} maps → {cfg.hidden_size} units"
                        + (", attention" if cfg.attention else ""), "task": "caption", "layers": 1,
                "units": cfg.hidden_size}

    # --- the preview ------------------------------------------------------------------------------------------
    def preview(self, ex, due) -> None:
        """Held-out pictures, the model's greedy caption and the truth; word accuracy and exact match over all the
        held-out pictures against the baselines (the sentence comes from the core: kinds/captions.comparison)."""
        s = state()
        key = ("captions", id(ex), ex.weights_step)
        if due(key, not ex.training):
            s.preview = timed(key, ex.spec.held_out(ex.current_weights_model(), ex.data))
        shown_step, found = s.preview.key[2], s.preview.value
        scores, base = found["scores"], found["baselines"]
        badges = comparison_badges(scores, base)  # each metric against the baseline best at it
        c1, c2, c3 = st.columns(3)
        (b, name), (e, e_name) = badges["word_accuracy"], badges["exact_match"]
        c1.metric("Word accuracy (held-out, greedy)", f"{scores['word_accuracy']:.0%}", b.text, delta_color=b.colour,
                  delta_arrow="off", help=f"Baseline: {name}, from the training captions alone.")
        c2.metric("Exact match (whole captions)", f"{scores['exact_match']:.0%}", e.text, delta_color=e.colour,
                  delta_arrow="off", help=f"Baseline: {e_name}, from the training captions alone.")
        if "attention_on_named" in scores and np.isfinite(scores["attention_on_named"]):
            c3.metric("Attention on the named shape (median)", f"{scores['attention_on_named']:.0%}",
                      help="When the model says a shape's colour or shape word right, the share of its attention on "
                           "that shape's grid cells.")
        st.markdown(found["sentence"])
        cols = st.columns(4)
        for n, (col, said) in enumerate(zip(cols * 2, found["said"])):
            truth = ex.data.val_captions[n]
            col.image(big(ex.data.val_images[n], 3), clamp=True,
                      caption=f"{'✓' if said == truth else '✗'} model: {said or '(nothing)'}" +
                              ("" if said == truth else f" · truth: {truth}"))
        st.caption(f"With the weights of step {shown_step:,}; refreshed every few seconds while training.")

    # --- Step through -----------------------------------------------------------------------------------------
    def step_page(self, ex) -> None:
        from .. import links
        st.caption(self.describe(ex))
        layout, teacher = picture_ui(ex)
        view = step_ui.get_view(ex, (layout, None, teacher))
        links.apply_step_link(view.trace)
        step_ui.step_view(ex, view, query=links.step_query(ex))
        after_views(ex, view, layout, teacher)

    def scene_view(self, view, query, compact: bool, ex) -> None:
        step_ui.step_view(ex, view, query=query, panels=not compact, compact=compact)

    def link(self, ex, model: str):
        seq = state().sequence
        return lambda: state().to_query("step", model=model, seq=seq.frames_index if seq.source != "own" else None)

    def read_link(self, link, seq_state) -> list:
        notes = []
        if link.seq is not None:
            seq_state.source, seq_state.frames_index = "validation", link.seq  # the page clamps it
        if link.text is not None:
            notes.append(f"A captioner reads a picture, not text: the link's text={link.text[:30]!r} was ignored.")
        return notes


UI = CaptionsUI()


# --- which picture: a held-out one or the visitor's own scene ------------------------------------------------------

def picture_ui(ex):
    """-> (the layout to caption, teacher forcing?)."""
    seq, data = state().sequence, ex.data
    n = len(data.val_layouts)
    c1, c2 = st.columns([2, 3])
    source = bound(c1.radio, "Picture", "cap_source", seq.source if seq.source == "own" else "validation",
                   lambda v: setattr(seq, "source", v), options=["validation", "own"],
                   format_func={"validation": "A held-out picture", "own": "Your own scene"}.get)
    mode = c1.radio("The decoder reads", ["free", "teacher"], key="cap_mode", horizontal=True,
                    format_func={"free": "its own words (free-running)", "teacher": "the truth (teacher forcing)"}.get,
                    help="Training feeds the true previous word (teacher forcing); describing a new picture, the "
                         "model reads its own.")
    if source == "own":
        with c2:
            layout = scene_editor(seq)
    else:
        seq.frames_index = min(max(seq.frames_index, 0), n - 1)
        index = bound(c2.slider, f"Held-out picture (0 … {n - 1}; training never drew these layouts)", "cap_index",
                      seq.frames_index, lambda v: setattr(seq, "frames_index", v), min_value=0, max_value=n - 1)
        layout = data.val_layouts[index]
    return layout, mode == "teacher"


def scene_editor(seq):
    """Up to three shapes: shape, colour, size and position each. A layout that cannot be drawn (overlapping
    shapes, a shape off the picture) is refused with the reason and the last scene that worked stays."""
    from ...config import DataError
    from ...kinds.captions_data import COLOURS, MAX_SHAPES, PICTURE, SHAPES, SHOWCASE, SIZES, check_layout
    if seq.layout is None:
        seq.layout = tuple(SHOWCASE)
    if seq.draft is None:
        seq.draft = [dict(s._asdict(), on=True) for s in seq.layout] + \
            [{"shape": "triangle", "colour": "green", "size": "small", "x": 20, "y": 2, "on": False}
             for _ in range(MAX_SHAPES - len(seq.layout))]
    cols = st.columns(MAX_SHAPES)
    for k, (col, shape) in enumerate(zip(cols, seq.draft)):
        put = lambda field, k=k: (lambda v: seq.draft[k].__setitem__(field, v))
        with col:
            on = bound(st.checkbox, f"Shape {k + 1}", f"cap_on_{k}", shape["on"] or k == 0, put("on"), disabled=k == 0)
            for field, options in (("shape", SHAPES), ("colour", tuple(COLOURS)), ("size", tuple(SIZES))):
                bound(st.selectbox, field.capitalize(), f"cap_{field}_{k}", shape[field], put(field),
                      options=list(options), disabled=not on, label_visibility="collapsed" if k else "visible")
            for field, words in (("x", "Left edge (px)"), ("y", "Top edge (px)")):
                bound(st.slider, words, f"cap_{field}_{k}", int(shape[field]), put(field), min_value=0,
                      max_value=PICTURE - min(SIZES.values()), disabled=not on)
    wanted = [{f: s[f] for f in ("shape", "colour", "size", "x", "y")} for k, s in enumerate(seq.draft)
              if s["on"] or k == 0]
    try:
        seq.layout = check_layout(wanted)
    except DataError as e:
        st.error(f"{e} Showing the last scene that worked.")
    return seq.layout


# --- below the views: teacher forcing vs free running ---------------------------------------------------------------

def after_views(ex, view, layout, teacher: bool) -> None:
    from ...kinds.caption_views import side_by_side
    from ...kinds.captions import greedy_check
    trace, model = view.trace, view.model
    other = ex.spec.trace(model, ex.data, (layout, None, not teacher))
    pair = {teacher: trace, not teacher: other}
    st.caption(greedy_check(model, ex.data, pair[False]))
    st.markdown("## Teacher forcing vs free running, side by side")
    st.dataframe(side_by_side(pair[True], pair[False]), hide_index=True, width="stretch")
    st.caption("Teacher-forced, the decoder reads the true previous word at every step (as in training): one mistake "
               "does not derail the next word. Free-running, it reads what it said: an early mistake is fed back "
               "in. The attention and the gates above are the mode chosen at the top.")
    sampling(ex, model, trace)


@st.fragment
def sampling(ex, model, trace) -> None:
    """A caption drawn at a temperature, seeded (a rerun shows the same words); its own fragment, so moving the
    temperature redraws only this."""
    from ...kinds.captioner import MAX_SEED, sampled_caption
    from ...kinds.captions import sample_sentence
    st.markdown("## Sampling: the model's other captions")
    c1, c2 = st.columns(2)
    temperature = c1.slider("Temperature (0 = greedy)", 0.0, 3.0, 1.0, step=0.1, format="%.1f",
                            key="cap_temperature",
                            help="Each word is drawn from the model's guesses with their logits divided by the "
                                 "temperature: below 1 the likeliest words win more often, above 1 unlikely ones "
                                 "get their chance; 0 takes the likeliest every time.")
    seed = c2.number_input("Sampling seed", 0, MAX_SEED, 0, step=1, key="cap_sample_seed",
                           help="The same picture, temperature and seed draw the same words.")
    temperature = round(float(temperature), 2)  # a slider's 0.1 steps arrive as 0.30000000000000004
    image = trace.extras["image"]
    said = sampled_caption(model, ex.data, image, temperature, int(seed))
    greedy = sampled_caption(model, ex.data, image, 0, 0)
    st.markdown(sample_sentence(said, greedy, str(trace.extras["caption"]), temperature, int(seed)))
