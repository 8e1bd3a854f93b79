"""The melody kind's UI: the folk-tune collections (optionally moved to a common key), the sequence model's settings,
the preview (the model against the bigram baseline on the held-out tunes, and a continuation of a seed phrase — a
held-out tune's opening or the visitor's own melody — to hear, see and download), and Step through: a held-out tune
or the melody the model wrote, with its notes played at the time cursor (melody_player.js)."""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from ...config import DataError
from ...kinds import melody_io, music
from ...kinds.melody import OPEN_LENGTH, PRESETS, SAMPLE_RATE, preset_key
from .. import links, scrub, step
from ..common import bound, lazy_expander, show_chart, state
from ..widgets import pick
from .base import FILE, file_label, file_options, file_source, timed
from .sequence import CELL, SequenceUI, once, size_and_training

_HERE = Path(__file__).resolve().parent
SUMMARY_BARS = 8        # the tune the data summary plays: its first bars
UPLOAD_MB = 1           # a MIDI or text melody (melody_io refuses more than MAX_MIDI_BYTES with the reason)
PREVIEW = {"temperature": 1.0}   # what the Train page opens with
TEXT_EXAMPLE = "M:6/8 Q:120 K:G  D4 e | G4 q A4 e B4 q G4 e | D5 q. B4 q G4 e | A4 q. F#4 q D4 e"
PLAYER_HTML = """
<div class="lstm-notes" data-testid="melody-player">
  <button type="button" class="lstm-notes-play" aria-pressed="false">▶ Play the notes with the cursor</button>
  <label class="lstm-notes-each-label"><input type="checkbox" class="lstm-notes-each" checked>
    Sound each note the cursor reaches</label>
</div>
"""
PLAYER_CSS = """
.lstm-notes { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; padding: 0.2rem 0; }
.lstm-notes button { font: inherit; font-size: 1rem; padding: 0.35rem 0.8rem; border-radius: 0.5rem; cursor: pointer;
                     border: 1px solid var(--st-border-color, #ccc); background: var(--st-background-color, #fff);
                     color: var(--st-text-color, #222); }
.lstm-notes button:hover { border-color: var(--st-primary-color, #ff4b4b); color: var(--st-primary-color, #ff4b4b); }
.lstm-notes label { display: flex; align-items: center; gap: 0.4rem; }
"""
_PLAYER = st.components.v2.component("melody_player", html=PLAYER_HTML, css=PLAYER_CSS,
                                     js=(_HERE / "melody_player.js").read_text(), isolate_styles=False)


@st.cache_resource(max_entries=8, show_spinner=False)
def _tunes(collection: str, transpose: bool, seed: int = 0):
    """The tunes of a recipe, built once per process and shared (read-only)."""
    return music.MelodyData(collection, transpose, seed)


def _preset(key: str):
    collection, common = PRESETS[key]
    return _tunes(collection, common)


@st.cache_data(max_entries=32, show_spinner=False)
def _sound(notes: tuple, tempo: int, seed_len: int) -> bytes:
    """A melody as WAV bytes (melody_io: the seed soft, the continuation bright)."""
    return melody_io.wav_bytes(melody_io.synthesize(notes, tempo, SAMPLE_RATE, seed_len), SAMPLE_RATE)


def player_ui(names: list, tempo: int, trace_id: str) -> None:
    """The melody's notes at the time cursor (melody_player.js): no script run when it plays."""
    steps = melody_io.step_tones(names, tempo)
    _PLAYER(key="melody_player", data=json.dumps({"steps": steps, "trace": trace_id}).encode("utf-8"))
    st.caption(f"The notes sound in your browser at {tempo} quarter notes a minute: tick “Sound each note” and step "
               "with ← →, or play them — the cursor moves with the sound. Bar lines and beats take no time.")


class MelodyUI(SequenceUI):
    choice = "melody"
    label = "Melodies (notes)"
    kinds = ("melody",)

    # --- data -------------------------------------------------------------------------------------------------
    def data_ui(self, locked: bool):
        options = list(music.COLLECTIONS) + file_options("melody")
        names = {**music.COLLECTIONS, **{k: file_label() for k in options if k == FILE}}.get
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        source = pick(c1.selectbox, "Tunes", "melody_source", options[0], options=options, format_func=names,
                      disabled=locked)
        if source == FILE:
            return file_source()
        common = pick(c2.checkbox, "Move every tune to a common key", "melody_common", False, disabled=locked,
                      help="C major, A minor, D dorian, …: no sharps or flats. The model then learns one key "
                           "instead of all of them.")
        key = preset_key(source, common)
        return "melody", key, lambda: _preset(key)

    def data_summary(self, data) -> None:
        s = data.summary()
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Tunes", f"{s['tunes']:,}", help=f"{s['training tunes']} to train on, {s['held-out tunes']} held "
                                                    "out (whole tunes) to score the model")
        c2.metric("Notes", f"{s['notes']:,}")
        c3.metric("Vocabulary", s["vocabulary"], help="Every pitch-and-length pair of the tunes, with the bar, "
                                                      "beat, start and end tokens")
        c4.metric("Metres", len(s["metres"].split(", ")), help=s["metres"])
        box = lazy_expander(f"Hear and see a tune of {data.name}", key="melody_tune")
        with box:
            if not box.open:
                return
            tune = data.train_tunes[0]
            notes = _opening(tune.notes, SUMMARY_BARS)
            st.markdown(f"**{tune.name}** ({tune.key}, {tune.metre}) — {tune.source}; its first {SUMMARY_BARS} "
                        "bars as the model reads them:")
            st.audio(_sound(tuple(notes), melody_io.DEFAULT_TEMPO, 0), format="audio/wav")
            from ...kinds.melody_views import roll_chart
            show_chart(roll_chart(music.roll_frame(notes, len(notes)), "Piano roll: pitch against time"),
                       key="tune_roll")
            tokens = music.tune_tokens(music.Tune(tune.name, "", tune.key, tune.metre, tuple(notes)))
            st.caption("Tokens: " + "  ".join(music.token_name(t) for t in tokens[:24]) + "  …")

    def picture(self, data):
        tune = data.train_tunes[0]
        opening = music.Tune(tune.name, "", tune.key, tune.metre, tuple(_opening(tune.notes, 4)))
        return "text", f"{tune.name}, its first 4 bars:\n{melody_io.to_text(opening)}"

    # --- settings ---------------------------------------------------------------------------------------------
    def settings(self, data) -> list:
        return [[CELL]] + size_and_training()

    # --- the preview ------------------------------------------------------------------------------------------
    def preview(self, ex, due) -> None:
        from ...kinds.melody import heldout_report
        s = state()
        scores_box = st.container()   # the model against the bigram first; filled once the settings below are read
        seed, seed_words = self._seed_ui(ex.data)
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        temperature = pick(c1.slider, "Temperature", "melody_temperature", PREVIEW["temperature"], min_value=0.1,
                           max_value=2.0, step=0.1, help="Low: the model's safest notes. High: more surprising ones.")
        if c2.button("Write another", key="melody_again", icon=":material/refresh:"):
            s.train.picks["melody_sample"] = s.train.picks.get("melody_sample", 0) + 1
        sample = s.train.picks.get("melody_sample", 0)
        key = ("melody", id(ex), ex.weights_step, tuple(seed), temperature, sample)
        if s.preview is None or s.preview.key[3:] != key[3:] or due(key, not ex.training):
            model = ex.current_weights_model()
            old = s.preview.value[0] if s.preview is not None and s.preview.key[:3] == key[:3] else None
            scores = old or once(ex.origin, model, ex.shared, ("melody_scores", ex.weights_step),
                                 lambda: heldout_report(model, ex.data))
            written = once(ex.origin, model, ex.shared, ("melody", ex.weights_step) + key[3:],
                           lambda: _written(model, ex.data, seed, temperature, sample))
            s.preview = timed(key, (scores, written))
        scores, written = s.preview.value
        with scores_box:
            self._scores_ui(scores)
        self._written_ui(ex, written, seed_words, s.preview.key[2])

    def _scores_ui(self, scores) -> None:
        c1, c2 = st.columns(2)
        ce, acc = scores.badges  # computed in the core, rounded as the words below round them
        c1.metric("Held-out cross-entropy (nats per token)", f"{scores.cross_entropy:.2f}", ce.text,
                  delta_color=ce.colour, delta_arrow="off")
        c2.metric("Held-out next-token accuracy", f"{scores.accuracy:.0%}", acc.text, delta_color=acc.colour,
                  delta_arrow="off")
        st.caption(scores.words + " The bigram baseline knows only which token tends to follow the one before.")

    def _written_ui(self, ex, written, seed_words: str, step_: int) -> None:
        cont, wav, midi = written
        st.markdown(f"**The melody the model writes** with the weights of step {step_:,}, after {seed_words}:")
        st.audio(wav, format="audio/wav")
        st.caption("First the seed phrase in a soft tone, then the model's continuation in a brighter one "
                   "(blue and orange below).")
        from ...kinds.melody_views import roll_chart
        show_chart(roll_chart(music.roll_frame(cont.notes, cont.seed_notes),
                              f"Seed and continuation: pitch against time ({cont.metre})"), key="written_roll")
        st.markdown(cont.words)
        c1, c2, _ = st.columns([1, 1, 2])
        c1.download_button("Download as MIDI", midi, file_name="melody.mid", mime="audio/midi", key="melody_midi",
                           on_click="ignore", icon=":material/music_note:")
        c2.download_button("Download as WAV", wav, file_name="melody.wav", mime="audio/wav", key="melody_wav",
                           on_click="ignore", icon=":material/graphic_eq:")
        state().kept["melody_written"] = (id(ex), list(cont.seed) + list(cont.new))

    def _seed_ui(self, data) -> tuple[list, str]:
        """The seed phrase (ids) and what it is, in words: a held-out tune's opening or the visitor's melody."""
        from ...kinds.melody import melody_seed, seed_phrase
        tunes = data.val_tunes
        source = pick(st.radio, "Seed phrase", "melody_seed_source", "tune", options=["tune", "yours"],
                      horizontal=True, format_func={"tune": "The opening of a held-out tune",
                                                    "yours": "Your own melody (MIDI or text)"}.get)
        if source == "yours":
            self._upload_ui()
            mine = state().kept.get("melody_upload")
            if mine is not None:
                try:
                    ids, changes = data.fit_tune(mine[1].tune)
                except DataError as e:
                    st.error(f"Your melody “{mine[0]}” cannot be written with this model's tokens: {e} Using a "
                             "held-out tune's opening instead.")
                else:
                    if changes:
                        st.info("To fit this model's tokens: " + " ".join(changes))
                    return melody_seed(data, ids), f"your melody “{mine[0]}” as the seed phrase"
        index = pick(st.selectbox, "Held-out tune (the model never trained on it)", "melody_seed_tune", 0,
                     options=list(range(len(tunes))), format_func=lambda i: f"{tunes[i].name} ({tunes[i].metre})")
        return seed_phrase(data, data.val_sequences()[index]), f"the opening of “{tunes[index].name}”"

    def _upload_ui(self) -> None:
        """A MIDI file or a typed melody becomes the seed phrase; a refusal says why and keeps the one before."""
        with st.form("melody_upload_form"):
            upload = st.file_uploader("A MIDI file with one melody (.mid)", type=["mid", "midi"],
                                      key="melody_file", max_upload_size=UPLOAD_MB)
            typed = st.text_area("…or type one: note names and lengths (w h q e s, a dot, a 3 for triplets), | for "
                                 "bar lines, M: metre, Q: tempo, K: key", key="melody_text", height=80,
                                 placeholder=TEXT_EXAMPLE)
            submitted = st.form_submit_button("Use this melody", icon=":material/upload:")
        kept = state().kept
        if submitted:
            try:
                if upload is not None:
                    found, name = melody_io.read_midi(upload.getvalue()), upload.name
                else:
                    found, name = melody_io.parse_text(typed or ""), "typed melody"
            except DataError as e:
                before = kept.get("melody_upload")
                st.error(f"{e} " + (f"Still using your melody “{before[0]}”." if before else
                                    "Using a held-out tune's opening meanwhile."))
                return
            kept["melody_upload"] = (name[:60], found)
            if found.changes:
                st.info("Read with these changes: " + " ".join(found.changes))
        if kept.get("melody_upload") is None:
            st.caption("Until you bring one, the seed is a held-out tune's opening.")

    # --- Step through -----------------------------------------------------------------------------------------
    def opening(self, data, train_cfg, masked: bool):
        from ...kinds.melody import tune_choice
        return tune_choice(data, 0, OPEN_LENGTH)

    def sequence_ui(self, ex):
        import torch

        from ...kinds.melody import tune_choice
        data, seq, s = ex.data, state().sequence, state()
        tunes = data.val_tunes
        written = s.kept.get("melody_written")
        mine = written is not None and written[0] == id(ex)
        c1, c2 = st.columns([1, 2])
        if not mine or seq.source not in ("validation", "own"):
            seq.source = "validation"
        source = bound(c1.radio, "Melody", "seq_source", seq.source, lambda v: setattr(seq, "source", v),
                       options=["validation", "own"], format_func={"validation": "A held-out tune",
                                                                   "own": "The melody the model wrote"}.get) \
            if mine else "validation"
        if source == "own":
            return torch.tensor(written[1][: OPEN_LENGTH + 1], dtype=torch.long), None
        if not 0 <= seq.frames_index < len(tunes):
            st.warning(f"There are {len(tunes)} held-out tunes; tune {seq.frames_index} does not exist. Showing the "
                       "first.")
            seq.frames_index = 0
        index = bound(c2.selectbox, "Held-out tune (whole tunes the model never trained on)", "frames_index",
                      seq.frames_index, lambda v: setattr(seq, "frames_index", v), options=list(range(len(tunes))),
                      format_func=lambda i: f"{i}: {tunes[i].name} ({tunes[i].key}, {tunes[i].metre})")
        n = len(data.val_sequences()[index]) - 1
        length = c2.slider("Steps (tokens) to step through", 8, min(n, 256), min(OPEN_LENGTH, n),
                           key="melody_steps") if n > 8 else n
        return tune_choice(data, index, length)

    def step_page(self, ex) -> None:
        st.caption(self.describe(ex))
        chosen = self.sequence_ui(ex)
        checkpoint = scrub.training_step_ui(ex)
        view = step.get_view(ex, chosen, checkpoint)
        links.apply_step_link(view.trace)
        player_ui(view.trace.inputs, melody_io.DEFAULT_TEMPO, step.choice_digest(chosen))
        step.step_view(ex, view, query=links.step_query(ex))

    def scene_view(self, view, query, compact: bool, ex) -> None:
        if not compact:
            player_ui(view.trace.inputs, melody_io.DEFAULT_TEMPO, f"scene:{id(view)}")
        step.step_view(ex, view, query=query, panels=not compact, compact=compact)

    def link(self, ex, model: str):
        seq = state().sequence
        return lambda: state().to_query("step", model=model, seq=seq.frames_index) if seq.source == "validation" \
            else []

    def read_link(self, link, seq_state) -> list:
        notes = []
        if link.text is not None:
            notes.append(f"A melody model reads notes, not typed text: the link's text={link.text[:30]!r} was "
                         "ignored.")
        if link.seq is not None:
            seq_state.source, seq_state.frames_index = "validation", link.seq  # the page checks it against the tunes
        return notes

    def change_input(self, data, trace, seq, step_: int):
        """What if: another token at this step (seq is changed in place) -> (the new input, the words)."""
        new = st.selectbox("New input token at this step", data.vocab, key="whatif_token",
                           index=data.vocab.index(trace.inputs[step_]))
        seq[step_] = data.stoi[new]
        return new, f"input {trace.inputs[step_]} → {new} at step {step_}"

    def prediction_change(self, col, trace, changed, cmp, later, data) -> None:
        top = lambda tr: tr.predictions[tr.predictions["rank"] == 1]["char"].to_numpy()[later]
        flips = int((top(trace) != top(changed)).sum())
        col.metric("Top guess changed at", f"{flips} of {len(top(trace))} steps")


def _opening(notes, bars: int) -> list:
    """The notes of a tune's first `bars` bars (and its pick-up)."""
    out, begun = [], 0
    for note in notes:
        begun += note.bar_pos == 0
        if begun > bars:
            break
        out.append(note)
    return out


def _written(model, data, seed: list, temperature: float, sample: int):
    """A continuation of the seed, as (its measures, WAV bytes, MIDI bytes)."""
    from ...kinds.melody import continue_and_judge
    cont = continue_and_judge(model, data, seed, temperature, sample)
    return cont, cont.wav(), cont.midi()


UI = MelodyUI()
