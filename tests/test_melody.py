"""The melody kind (lstm_demo/kinds/melody.py): its trace against torch's own nn.LSTM on the note embeddings, its model
files (and hostile vocabularies in them), the sentences the Train page writes, what it generates (MIDI read back with
mido, WAV of the right length) and the piano-roll strip that follows the browser's cursor."""
import io
import json
import struct
import wave

import mido
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_demo.config import ConfigError, TrainConfig
from lstm_demo.kinds import KINDS, music
from lstm_demo.kinds.melody import (Continuation, Scores, bar_facts, continuation_words, judge, scores_words,
                                    seed_phrase, tune_choice)
from lstm_demo.kinds.melody_io import DEFAULT_TEMPO, sample_at, step_tones
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.models import build_model
from lstm_demo.store import ModelFileError, load_bytes, save_bytes
from test_store import _edit_meta, _meta_json

KIND = KINDS["melody"]
DATA = KIND.preset_data("tunes_all")
TOL = 1e-5


def model_of(hidden=8, layers=1, embed=6, seed=1, cell="lstm"):
    return build_model(ModelConfig("melody", vocab_size=len(DATA.vocab), embed_size=embed, hidden_size=hidden,
                                   num_layers=layers, cell=cell), seed=seed)


# --- the trace is torch's own numbers --------------------------------------------------------------------------

@pytest.mark.parametrize("hidden,layers", [(1, 1), (8, 1), (16, 2), (5, 3)])
def test_the_trace_equals_nn_lstm_on_the_note_embeddings_at_every_step(hidden, layers):
    """The replayed h and c of every layer at every step equal nn.LSTM's own, fed the note embeddings one step at a
    time from a zero state; the top guesses are the softmax of the model's forward pass."""
    model = model_of(hidden, layers, seed=hidden)
    with torch.no_grad():  # random, larger weights: gates away from 0.5, so a wrong equation shows
        for p in model.rnn.parameters():
            p.normal_(0, 0.6)
    ids, _ = tune_choice(DATA, 3, 60)
    trace = KIND.trace(model, DATA, (ids, None))
    emb = model.encoder(ids[:-1]).detach()                        # (T, E): the note embeddings
    state = (torch.zeros(layers, 1, hidden), torch.zeros(layers, 1, hidden))
    with torch.no_grad():
        for t in range(len(emb)):
            _, state = model.rnn(emb[t : t + 1][None], state)     # one step of nn.LSTM, batch_first (1, 1, E)
            for layer in range(layers):
                assert np.allclose(trace.get("hidden_state", layer)[t], state[0][layer, 0].numpy(), atol=TOL)
                assert np.allclose(trace.get("cell_state", layer)[t], state[1][layer, 0].numpy(), atol=TOL)
        probs = torch.softmax(model(ids[None, :-1])[0][0], -1)
    top = trace.predictions[trace.predictions["rank"] == 1]
    assert np.allclose(top["prob"].to_numpy(), probs.max(-1).values.numpy(), atol=TOL)
    assert list(top["char"]) == [DATA.vocab[int(i)] for i in probs.argmax(-1)]
    assert trace.inputs == DATA.decode(ids[:-1]) and trace.targets == DATA.decode(ids[1:])
    assert trace.kind == "melody" and trace.extras["replay_check"]["max_abs_h"] < TOL


def test_captions_say_the_note_read_the_top_guess_and_the_true_next_note():
    trace = KIND.trace(model_of(), DATA, tune_choice(DATA, 0, 12))
    top = trace.predictions[trace.predictions["rank"] == 1]
    captions = KIND.captions(trace)
    assert len(captions) == trace.n_steps == 12
    for t, caption in enumerate(captions):
        row = top.iloc[t]
        assert caption == (f"Step {t}: reads {trace.inputs[t]} → top guess {row['char']} ({row['prob']:.0%}); the "
                           f"true next is {trace.targets[t]}")
    assert captions[0].startswith("Step 0: reads start ")


def test_configs_a_melody_model_cannot_use_are_refused():
    for bad in (dict(task="masked"), dict(task="masked", bidirectional=True), dict(vocab_size=0),
                dict(vocab_size=1000)):
        with pytest.raises(ConfigError):
            ModelConfig("melody", **{"vocab_size": len(DATA.vocab), **bad}).validate()
    model_cfg, train_cfg = KIND.defaults(DATA)
    assert model_cfg.vocab_size == len(DATA.vocab) and model_cfg.kind == "melody" and train_cfg.steps == 2000
    with pytest.raises(ConfigError, match="note tokens"):
        KIND.checked(ModelConfig("melody", vocab_size=len(DATA.vocab) - 1), train_cfg, DATA)


def test_the_hypotheses_read_the_traces_tokens():
    trace = KIND.trace(model_of(), DATA, tune_choice(DATA, 0, 40))
    for key, (label, signal) in KIND.hypotheses.items():
        values = signal(trace.inputs)
        assert values.shape == (trace.n_steps,) and label
    bar = KIND.hypotheses["bar_line"][1](trace.inputs)
    assert list(np.flatnonzero(bar)) == [t for t, n in enumerate(trace.inputs) if n == "bar |"]


def test_bar_facts_on_a_small_sequence():
    names = ["start 2/4", "G4 ♪", "bar |", "A4 ♪", "rest ♪", "B4 ♪", "bar |", "C5 ♩", "bar |"]
    values = np.array([0, 1, -1, 2, 3, 4, -2, 5, -3], dtype=float)
    facts = bar_facts(names, values)
    assert facts == {"bars": 3, "c_bar_low": -3.0, "c_bar_high": -1.0, "c_first": 3.5, "c_last": 10 / 3}


# --- model files -----------------------------------------------------------------------------------------------

def saved(hidden=5):
    model = model_of(hidden)
    return model, save_bytes(model, DATA, TrainConfig(seq_len=32, steps=20), 20)


def test_a_melody_model_file_round_trips():
    model, raw = saved()
    loaded = load_bytes(raw)
    assert loaded.data.recipe == DATA.recipe and loaded.data.vocab == DATA.vocab and loaded.model.cfg == model.cfg
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.model.state_dict()[k])
    assert _meta_json(raw, "data") == {"kind": "melody", "recipe": DATA.recipe, "vocab": DATA.vocab}


def _vocab(change):
    vocab = list(DATA.vocab)
    change(vocab)
    return vocab


SHARP = next(i for i, name in enumerate(DATA.vocab) if "♯" in name)
HOSTILE = {  # what the file's data says -> words the refusal must contain
    "not a list": ({"vocab": "A4 ♩"}, "vocabulary"),
    "missing": ({"vocab": None}, "vocabulary"),
    "too long": ({"vocab": [f"A4 {k}/12 ♩" for k in range(1, 300)]}, "vocabulary"),
    "a number": ({"vocab": _vocab(lambda v: v.__setitem__(20, 7))}, "short string"),
    "a name no note has": ({"vocab": _vocab(lambda v: v.__setitem__(20, "H9 ♩"))}, "note name"),
    "an absurd duration": ({"vocab": _vocab(lambda v: v.__setitem__(20, "A4 999/12 ♩"))}, "duration"),
    "a long string": ({"vocab": _vocab(lambda v: v.__setitem__(20, "A" * 10_000))}, "short string"),
    "twice the same": ({"vocab": _vocab(lambda v: v.__setitem__(21, v[20]))}, "twice"),
    "reordered": ({"vocab": _vocab(lambda v: v.reverse())}, "not the one"),
    "one token swapped": ({"vocab": _vocab(lambda v: v.__setitem__(-1, "C8 ♩"))}, "not the one"),
    "no bar token": ({"vocab": _vocab(lambda v: v.__setitem__(1, "C8 ♩"))}, "lacks"),
    "written another way": ({"vocab": _vocab(lambda v: v.__setitem__(SHARP, v[SHARP].replace("♯", "#")))}, "note"),
    "a control character": ({"vocab": _vocab(lambda v: v.__setitem__(20, "A4\x00♩"))}, "note"),
    "a lone surrogate": ({"vocab": _vocab(lambda v: v.__setitem__(20, "\ud800"))}, "note"),
    "no recipe": ({"recipe": None}, "recipe"),
    "a collection path": ({"recipe": {"collection": "../../etc", "transpose": False, "seed": 0}}, "collection"),
    "transpose as text": ({"recipe": {"collection": "all", "transpose": "yes", "seed": 0}}, "transpose"),
    "a huge seed": ({"recipe": {"collection": "all", "transpose": False, "seed": 2**40}}, "seed"),
    "an extra field": ({"recipe": {**DATA.recipe, "path": "/etc/passwd"}}, "recipe"),
    "another recipe's tunes": ({"recipe": {"collection": "ryans", "transpose": False, "seed": 0}}, "not the one"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_vocabularies_and_recipes_in_model_files_are_refused_clearly(name):
    change, needle = HOSTILE[name]
    _, raw = saved()
    info = {**_meta_json(raw, "data"), **change}
    text = json.dumps(info, ensure_ascii=False)
    if "\ud800" in text:  # a lone surrogate cannot be UTF-8: write it as JSON's escape
        text = json.dumps(info)
    with pytest.raises(ModelFileError, match=needle) as e:
        load_bytes(_edit_meta(raw, "data", text))
    assert len(str(e.value)) < 600


def test_a_vocabulary_of_another_size_than_the_model_is_refused():
    _, raw = saved()
    cfg = {**_meta_json(raw, "model_config"), "vocab_size": len(DATA.vocab) + 1}
    with pytest.raises(ModelFileError):
        load_bytes(_edit_meta(raw, "model_config", json.dumps(cfg)))


def test_the_header_cap_holds_the_largest_vocabulary():
    names = [f"A4 {k}/12 ♩" for k in range(1, 193)] + [f"start {b}/{u}" for b in range(1, 16) for u in (4, 8)]
    info = {"kind": "melody", "recipe": DATA.recipe, "vocab": names[:256]}
    assert len(json.dumps(json.dumps(info))) <= KIND.max_info_bytes()


# --- what the Train page says ----------------------------------------------------------------------------------

@pytest.mark.parametrize("model,bigram,phrase", [
    ((1.64, 0.52), (2.64, 0.18), "1.64 nats per token (lower is better), 1.00 below the bigram baseline's 2.64"),
    ((3.10, 0.05), (2.64, 0.18), "0.46 above the bigram baseline's 2.64: it predicts worse than"),
    ((2.641, 0.18), (2.644, 0.18), "the same as the bigram baseline's"),     # equal as printed
    ((2.634, 0.2), (2.646, 0.18), "0.02 below the bigram baseline's 2.65"),  # the difference of the printed numbers
])
def test_the_held_out_sentence_is_computed_from_the_numbers_it_quotes(model, bigram, phrase):
    words = scores_words(Scores(57, *model, *bigram))
    assert phrase in words and words.startswith("On the 57 held-out tunes")
    assert f"{model[1]:.0%} of the time, the bigram's {bigram[1]:.0%}" in words


@given(st.floats(0.5, 5), st.floats(0.5, 5), st.floats(0, 1), st.floats(0, 1))
@settings(max_examples=150, deadline=None)
def test_the_metric_badges_agree_with_the_held_out_sentence(ce, b_ce, acc, b_acc):
    """The badges beside the sentence: the same rounding, the same verdict, the colour of the verdict."""
    s = Scores(57, ce, acc, b_ce, b_acc)
    words, (ce_badge, acc_badge) = s.words, s.badges
    assert ("below the bigram baseline's" in words) == (ce_badge.colour == "green") == ("below" in ce_badge.text)
    assert ("above the bigram baseline's" in words) == (ce_badge.colour == "red") == ("above" in ce_badge.text)
    assert ("the same as the bigram baseline's" in words) == (ce_badge.colour == "gray")
    shown, b_shown = f"{acc:.0%}", f"{b_acc:.0%}"
    assert (acc_badge.colour == "gray") == (shown == b_shown)
    assert "+0.00" not in ce_badge.text and "-0.00" not in ce_badge.text and "+0 " not in acc_badge.text


def test_the_held_out_scores_use_the_same_targets_as_the_bigram():
    from lstm_demo.kinds.melody import bigram_scores, heldout_report
    model = model_of()
    report = heldout_report(model, DATA)
    bigram = music.Bigram(DATA.ids[: DATA.cut].numpy(), len(DATA.vocab))
    assert (report.bigram_cross_entropy, report.bigram_accuracy) == bigram_scores(**DATA.recipe) == \
        music.heldout_scores(bigram.logits, DATA)
    targets = torch.tensor([i for ids in DATA.val_sequences() for i in ids[1:]])
    with torch.no_grad():
        logits = torch.cat([model(torch.tensor(ids[:-1])[None])[0][0] for ids in DATA.val_sequences()])
    ce = torch.nn.functional.cross_entropy(logits.double(), targets).item()
    assert report.cross_entropy == pytest.approx(ce, rel=1e-6) and report.tunes == len(DATA.val_tunes)


def test_a_held_out_tune_judged_as_its_own_continuation():
    """The tune's own notes after its seed: the sentence quotes share_in_key and bar_lines_ok of exactly them."""
    ids = DATA.val_sequences()[0]
    seed = seed_phrase(DATA, ids)
    bar = DATA.id_of(music.BAR)
    assert sum(i == bar for i in seed) == 2 and ids[len(seed)] == bar  # pick-up and two bars, up to a bar line
    cont = judge(DATA, seed, ids[len(seed):])
    metre, notes = music.tokens_to_notes(DATA.tokens_of(ids))
    assert cont.notes == tuple(notes) and cont.metre == metre
    own = [n for n in notes[cont.seed_notes:] if n.pitch != music.REST]
    assert cont.pitched == len(own) and cont.bars.bars_in_place == cont.bars.bars and not cont.bars.bars_missing
    words = cont.words
    assert f"Of the {len(own)} notes the model wrote, {round(cont.in_key * len(own))} ({cont.in_key:.0%})" in words
    assert f"{cont.bars.bars} of the {cont.bars.bars} bar lines stand where {metre} puts them." in words


def _continuation(pitched=3, in_key=1.0, bars=(0, 0, 0, 0, 0)):
    return Continuation((), (), music.Metre(6, 8), (), 0, music.Key(7, "major"), pitched, in_key,
                        music.BarCheck(*bars))


@pytest.mark.parametrize("cont,phrases", [
    (_continuation(0, float("nan")), ["wrote no note"]),
    (_continuation(1, 1.0), ["Of the 1 note the model wrote, 1 (100%) is in the key", "No bar line was due"]),
    (_continuation(3, 2 / 3, (2, 1, 1, 5, 0)), ["2 (67%) are in the key", "(G major,",
                                                 "1 of the 3 bar lines (1 due but not written) stand where 6/8"]),
    (_continuation(4, 0.0, (1, 1, 0, 4, 0)), ["0 (0%) are", "1 of the 1 bar line stand"]),
])
def test_the_continuation_sentence_on_edge_cases(cont, phrases):
    words = continuation_words(cont)
    assert all(p in words for p in phrases), words
    assert "nan" not in words


# --- hear it and download it -----------------------------------------------------------------------------------

def test_the_midi_and_the_wav_hold_the_notes_that_were_generated():
    from lstm_demo.kinds.melody import continue_and_judge
    seed = seed_phrase(DATA, DATA.val_sequences()[5])
    cont = continue_and_judge(model_of(), DATA, seed, 1.0, sample=3, max_tokens=60)
    assert cont.new and len(cont.notes) > cont.seed_notes
    _, written = music.tokens_to_notes(DATA.tokens_of(list(seed) + list(cont.new)))
    assert list(cont.notes) == written                            # the notes are the generated tokens'
    midi = mido.MidiFile(file=io.BytesIO(cont.midi()))
    per_tick = midi.ticks_per_beat // music.TICKS_PER_QUARTER
    clock, onsets, heard = 0, {}, []
    for msg in midi.tracks[0]:
        clock += msg.time
        if msg.type == "note_on" and msg.velocity:
            onsets[msg.note] = clock
        elif msg.type in ("note_off", "note_on"):
            heard.append((msg.note, (clock - onsets.pop(msg.note)) // per_tick))
    assert heard == [(n.pitch, n.ticks) for n in written if n.pitch != music.REST]
    markers = [m for m in midi.tracks[0] if m.type == "marker"]
    assert [m.text for m in markers] == ["continuation"]
    with wave.open(io.BytesIO(cont.wav(DEFAULT_TEMPO, 8000))) as w:
        total = sum(n.ticks for n in written)
        assert w.getnframes() == sample_at(total, DEFAULT_TEMPO, 8000) and w.getframerate() == 8000


def test_the_browser_plays_each_step_for_its_notes_length():
    names = ["start 6/8", "A4 ♩", "bar |", "rest ♪", "beat ·", "C5 ♪.", "end ‖"]
    tones = step_tones(names, 120)
    assert tones == [[0.0, 0.0], [440.0, 0.5], [0.0, 0.0], [0.0, 0.25], [0.0, 0.0], [523.251, 0.375], [0.0, 0.0]]


# --- the piano-roll strip follows the browser's cursor ---------------------------------------------------------

def test_the_piano_roll_strip_binds_to_the_cursor_and_draws_every_step():
    from lstm_demo.step_charts import STEP_BUS, STEP_EVENT, at_step
    from lstm_demo.view_store import table
    trace = KIND.trace(model_of(), DATA, tune_choice(DATA, 0, 50))
    views = KIND.step_views(trace, 0, 0, 2, "cell_state")
    assert set(views) == {"strip", "diagram", "equations", "topk"}
    spec = views["strip"]
    step = [p for p in spec["params"] if p["name"] == "step"]
    assert step and step[0]["bind"] == {"element": STEP_BUS, "event": STEP_EVENT}
    roll = table(spec["datasets"]["roll"]).to_pandas()
    assert list(roll["step"]) == list(range(trace.n_steps)) and list(roll["token"]) == trace.inputs
    values = trace.get("cell_state")[:, 2]
    assert np.allclose(roll["value"], values)
    notes = [music.parse_token_name(n) for n in trace.inputs]
    starts = np.cumsum([0] + [t[2] if t[0] == "note" else 0 for t in notes])[:-1] / music.TICKS_PER_QUARTER
    assert np.allclose(roll["start"], starts)
    pitched = [t[0] == "note" and t[1] != music.REST for t in notes]
    assert list(roll["pitch"].notna()) == pitched
    captions = table(spec["datasets"]["captions"]).to_pandas()["text"].tolist()
    assert [c.replace("\n", " ") for c in captions] == KIND.captions(trace)  # wrapped into lines above the roll
    # the layers that move with the cursor read the step; none of them feeds a scale (fixed domains)
    text = json.dumps({k: v for k, v in spec.items() if k != "datasets"})
    assert text.count("datum.step ==") >= 4
    for layer in spec["layer"]:
        for channel in ("x", "y"):
            enc = layer.get("encoding", {}).get(channel, {})
            if "field" in enc:  # (scale None: the field is pixels, as the sentence's lift above the plot)
                assert enc.get("scale", {}) is None or "domain" in enc["scale"], (layer["mark"], channel)
    assert at_step(spec, 7)["params"][0]["value"] == 7
