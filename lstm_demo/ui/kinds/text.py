"""The text kind's UI: built-in texts or the visitor's own, the settings (task, directions, what to hide), the
preview (the text the model writes, or the blanks it fills in), and the sequence to step through."""
from __future__ import annotations

import hashlib

import streamlit as st

from ...config import LIMITS, DataError
from ...names import show
from ..common import bound, state
from ..widgets import Setting, pick
from .base import FILE, file_label, file_options, file_source, timed
from .sequence import CELL, OPEN_LENGTH, SequenceUI, max_trace_length, once, own_sequence, size_and_training, \
    validation_sample

UPLOAD_MB = LIMITS.max_upload_bytes // 1_000_000
OWN = "__own__"
DEFAULT_TEXT = "the cats, which ate the fish, were full."
PREVIEW = {"prompt": "the cats", "temperature": 0.8, "length": 300}  # what the Train page opens with


@st.cache_data(max_entries=16, show_spinner=False)
def _preset(key: str):
    from ...kinds import KINDS
    return KINDS["text"].preset_data(key)


def _masked(model_cfg, train_cfg) -> bool:
    return model_cfg.task == "masked"


def task_setting(unit: str) -> Setting:
    """The task, in the data's unit ("character" or "word")."""
    return Setting("task", "Task", "task", widget="radio", options=("next", "masked"),
                   names={"next": f"Predict the next {unit}", "masked": f"Fill in hidden {unit}s"},
                   help=f"Fill-in: 15 % of the {unit}s are hidden and the model guesses them from both sides — the "
                        "task a bidirectional model can do honestly.")


TOKENS = {"chars": "characters", "words": "words"}
BIDIRECTIONAL = Setting("bidirectional", "Bidirectional", "bidir", widget="check", when=_masked,
                        help="A second layer reads the text from the end. Only with the fill-in task: for "
                             "next-character prediction it would see the answer.")
HIDE = Setting("hide", "Hide", "hide", widget="radio", options=("chars", "words"), on="train", when=_masked,
               names={"chars": "characters", "words": "whole words"},
               help="Fill-in: hide single characters, or 15 % of the words with every letter — then only the context "
                    "far from the blank can tell what it was (“go to ▮▮▮▮▮▮; … come out of school”).")


def whole_words(text: str, limit: int) -> str:
    """The start of text, at most limit characters, cut after a whole word (and marked … when cut)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > limit // 2 else cut).rstrip() + " …"


class TextUI(SequenceUI):
    choice = "text"
    label = "Text (next character)"
    kinds = ("text",)

    # --- data -------------------------------------------------------------------------------------------------
    def data_ui(self, locked: bool):
        from ...kinds import KINDS
        from ...kinds.text_data import MAX_WORD_VOCAB
        presets = {k: v for k, v in KINDS["text"].presets().items() if ":" not in k}  # (":words": the Tokens radio)
        options = list(presets) + [OWN] + file_options("text")
        labels = {**presets, OWN: "Your own text (paste or upload)", **{k: file_label() for k in options if k == FILE}}
        names = labels.get  # a plain mapping: the widget may format an option after this run
        c1, c2 = st.columns([3, 1])
        source = pick(c1.selectbox, "Text", "text_source", options[0], options=options, format_func=names,
                      disabled=locked)
        if source == FILE:
            return file_source()
        tokens = pick(c2.radio, "Tokens", "text_tokens", "chars", options=list(TOKENS), format_func=TOKENS.get,
                      horizontal=True, disabled=locked,
                      help="What one step reads: a character, or a word (and each punctuation mark and line break). "
                           f"Words: the {MAX_WORD_VOCAB - 1} most frequent become the vocabulary, any other reads "
                           "as the unknown-word token.")
        if source == OWN:
            return self._own_text(locked, tokens)
        preset = source if tokens == "chars" else f"{source}:words"
        return "text", preset, lambda: _preset(preset)

    def _own_text(self, locked: bool, tokens: str):
        from ...kinds.text_data import TextData, decode_text
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
            data = TextData(text, name=name, tokens=tokens)
        except DataError as e:
            self.error(str(e))
            return None
        return "text", hashlib.sha1(text.encode()).hexdigest() + ":" + tokens, lambda: data

    def data_summary(self, data) -> None:
        s = data.summary()
        c1, c2, c3 = st.columns(3)
        if data.tokens == "words":
            c1.metric("Words (and marks)", f"{s['words']:,}",
                      help=f"{s['unknown']:,} of them outside the vocabulary (read as the unknown-word token)")
        else:
            c1.metric("Characters", f"{s['characters']:,}")
        c2.metric("Vocabulary", s["vocabulary"])
        c3.metric("Lines", f"{s['lines']:,}")
        with st.expander(f"Preview of {data.name}", expanded=False):
            st.code(data.text[:800], language=None)
            st.caption("Vocabulary: " + ("".join(show(c) for c in data.vocab) if data.tokens == "chars" else
                                         " ".join(show(w) for w in data.vocab)))

    def picture(self, data):
        return "text", whole_words(data.text, 300)

    # --- settings ---------------------------------------------------------------------------------------------
    def settings(self, data) -> list:
        # words as tokens: a hidden step is a whole word already, so there is no "hide" choice
        return [[CELL, task_setting(data.unit), BIDIRECTIONAL] + ([HIDE] if data.tokens == "chars" else [])] + \
            size_and_training()

    def settings_ui(self, data, training: bool):
        from dataclasses import replace
        model_cfg, train_cfg = super().settings_ui(data, training)
        masked = model_cfg.task == "masked"  # a one-directional task reads no future; "hide" is the fill-in's
        return replace(model_cfg, bidirectional=model_cfg.bidirectional and masked), \
            replace(train_cfg, hide=train_cfg.hide if masked and data.tokens == "chars" else "chars")

    # --- the preview ------------------------------------------------------------------------------------------
    def preview(self, ex, due) -> None:
        if ex.model_cfg.task == "masked":
            return self._fill_in(ex, due)
        c1, c2 = st.columns([1, 3])
        temperature = pick(c1.slider, "Temperature", "temperature", PREVIEW["temperature"], min_value=0.1,
                           max_value=2.0, step=0.1, help="Low: the model's safest guesses. High: more surprising text.")
        prompt = pick(c2.text_input, "Start the text with", "prompt", PREVIEW["prompt"], max_chars=200)
        s = state()
        key = ("text", id(ex), ex.weights_step, prompt, temperature)
        if s.preview is None or s.preview.key[3:] != key[3:] or due(key, not ex.training):  # new settings: now
            length = PREVIEW["length"] if not ex.training else 160
            s.preview = timed(key, sampled_text(ex.origin, ex.current_weights_model(), ex.data, ex.shared,
                                                 ex.weights_step, prompt, length, temperature))
        from ...conclusions import loss_progress
        progress = loss_progress(ex.history()[1], s.preview.key[2])
        st.markdown(f"**Text the model writes** with the weights of step {s.preview.key[2]:,}"
                    + (f" ({progress})" if progress else "")
                    + (" — refreshed every few seconds while it trains:" if ex.training else ":"))
        st.code(s.preview.value, language=None)

    def _fill_in(self, ex, due) -> None:
        import torch

        from ...predict import fill_in_preview
        s = state()
        key = ("fill", id(ex), ex.weights_step)
        if due(key, not ex.training):
            x, y = ex.validation_batch()
            hidden_at = y[0] >= 0                            # the first validation window's own blanks
            ids = torch.where(hidden_at, y[0], x[0])         # its characters restored
            model = ex.current_weights_model()
            s.preview = timed(key, once(ex.origin, model, ex.shared, ("fill", ex.weights_step), lambda: fill_in_preview(
                model, ex.data, ids[:160], hidden_at[:160], ex.train_cfg.hide)))
        hidden, filled, heading = s.preview.value
        st.markdown(heading)
        st.code(hidden + "\n" + filled, language=None)

    # --- Step through -----------------------------------------------------------------------------------------
    def opening(self, data, train_cfg, masked: bool):
        _, val = data.parts(train_cfg.seq_len)
        return validation_sample(val, min(OPEN_LENGTH, max_trace_length(val)), 0, masked)

    def sequence_ui(self, ex):
        data, seq = ex.data, state().sequence
        masked = ex.model_cfg.task == "masked"
        _, val = data.parts(ex.train_cfg.seq_len)
        max_len = max_trace_length(val)
        c1, c2 = st.columns([1, 3])
        source = bound(c1.radio, "Sequence", "seq_source", seq.source, lambda v: setattr(seq, "source", v),
                       options=["validation", "own"],
                       format_func={"validation": "A validation sample", "own": "Your own text"}.get)
        if source == "own":
            if seq.text is None:
                seq.text = DEFAULT_TEXT if data.known(DEFAULT_TEXT) else data.text[:40].replace("\n", " ")
            words = data.tokens == "words"
            text = bound(c2.text_input, "Your text (words the model knows)" if words else
                         "Your text (characters the model knows)", "seq_text", seq.text,
                         lambda v: setattr(seq, "text", v), max_chars=LIMITS.max_seq_len * (8 if words else 1))
            hide = bound(c2.text_input, "Hide this part — the model fills it in", "seq_hide", seq.hide,
                         lambda v: setattr(seq, "hide", v), max_chars=40) if masked else ""
            try:
                return own_sequence(data, text, hide, masked)
            except DataError as e:
                st.error(f"{e} Showing a validation sample instead.")
        length = c2.slider("Length (steps)", 8, max_len, min(OPEN_LENGTH, max_len), key="seq_len_text") \
            if max_len > 8 else max_len
        last_start = len(val) - length - 1
        start = c2.slider("Start in the validation text", 0, last_start, 0, key="seq_start_text") \
            if last_start > 0 else 0  # a short text: the sample is the whole validation part
        return validation_sample(val, length, start, masked)

    def change_input(self, data, trace, seq, step: int):
        """What if: another character at this step (seq is changed in place) -> (the new input, the words)."""
        vocab = data.vocab
        new = st.selectbox("New input character at this step", vocab, key="whatif_char", format_func=show,
                           index=vocab.index(" ") if " " in vocab else 0)
        seq[step] = data.stoi[new]
        return new, f"input {show(trace.inputs[step])!r} → {show(new)!r} at step {step}"

    def prediction_change(self, col, trace, changed, cmp, later, data) -> None:
        top = lambda tr: tr.predictions[tr.predictions["rank"] == 1]["char"].to_numpy()[later]
        flips = int((top(trace) != top(changed)).sum())
        col.metric("Top guess changed at", f"{flips} of {len(top(trace))} steps")

    def warm_preview(self, origin: str, loaded) -> None:
        warm_reference(origin, loaded)

    def read_link(self, link, seq_state) -> list:
        notes = []
        if link.text is not None:
            seq_state.source, seq_state.text = "own", link.text
        if link.seq is not None:
            notes.append(f"A text model has no validation sequences to pick; seq={link.seq} was ignored.")
        return notes


def sampled_text(origin: str, model, data, shared: bool, steps: int, prompt: str, length: int,
                 temperature: float) -> str:
    """The text a model writes after a prompt (a bundled model's shared copy: once per process and setting)."""
    from ... import predict
    return once(origin, model, shared, ("text", steps, prompt, length, temperature),
                lambda: predict.generate_text(model, data, prompt, length, temperature))


def warm_reference(origin: str, loaded) -> None:
    """The preview the Train page opens on (a bundled model's text with the page's defaults), computed before anyone
    asks."""
    sampled_text(origin, loaded.model, loaded.data, True, loaded.steps, PREVIEW["prompt"], PREVIEW["length"],
                 PREVIEW["temperature"])


UI = TextUI()
