"""The melody kind's core (lstm_demo.kinds.music, lstm_demo.kinds.melody_io): the shipped corpus round-trips through the tokens,
held-out tunes are whole and unseen, the bigram and the scores agree with torch's cross-entropy, MIDI written here
reads back (with mido itself) as the notes that went in, the WAV lasts exactly the notes' durations, and bad input
— hostile MIDI, typed melodies, model-file vocabularies — gets a value or a DataError, never another exception."""
import ast
import io
import re
import subprocess
import sys
import wave
from pathlib import Path

import mido
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_demo.kinds import melody_io as mio
from lstm_demo.kinds import music as mu
from lstm_demo.config import LIMITS, DataError
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.models import build_model

ROOT = Path(__file__).resolve().parents[1]


# --- the corpus and the tokens -----------------------------------------------------------------------------------

def test_the_shipped_corpus_is_real_small_and_documented():
    tunes = mu.load_tunes()
    assert len(tunes) >= 200
    assert mu.CORPUS_FILE.stat().st_size < 1_000_000
    readme = (mu.CORPUS_FILE.parent / "README.md").read_text()
    for collection in {t.collection for t in tunes}:
        assert mu.COLLECTIONS[collection] in readme
    for t in tunes:
        bar = t.metre.bar_ticks
        assert t.notes and all(d > 0 and 0 <= pos < bar for _, d, pos in t.notes)
        # every note starts where the one before it ended, counted in the bar: no note crosses a bar line
        assert all(pos + d <= bar for _, d, pos in t.notes), t.name


def test_every_shipped_tune_round_trips_through_its_tokens_exactly():
    for tune in mu.load_tunes():
        tokens = mu.tune_tokens(tune)
        metre, notes = mu.tokens_to_notes(tokens)
        assert metre == tune.metre and tuple(notes) == tune.notes, tune.name
        # and through the names a model file or a page shows
        assert [mu.parse_token_name(mu.token_name(t)) for t in tokens] == tokens


def test_bar_tokens_stand_where_the_metre_puts_bar_lines():
    tune = mu.Tune("t", "upload", mu.Key(7, "major"), mu.Metre(6, 8),
                   (mu.Note(62, 6, 30), mu.Note(67, 12, 0), mu.Note(69, 6, 12), mu.Note(71, 18, 18),
                    mu.Note(74, 36, 0)))
    names = [mu.token_name(t) for t in mu.tune_tokens(tune)]
    assert names == ["start 6/8", "D4 ♪", "bar |", "G4 ♩", "A4 ♪", "beat ·", "B4 ♩.", "bar |", "D5 half.", "end ‖"]
    assert mu.bar_lines_ok(mu.tune_tokens(tune)) == mu.BarCheck(2, 2, 0, 4, 0)


def test_bar_check_counts_misplaced_missing_and_crossing():
    S, B, E = mu.start_token(mu.Metre(3, 4)), mu.BAR, mu.END
    q, h = mu.note_token(60, 12), mu.note_token(60, 24)
    # pick-up q | q q q | q q  (bar after two quarters: misplaced) | q q q q (no bar after 3: missing) end
    tokens = [S, q, B, q, q, q, B, q, q, B, q, q, q, q, E]
    assert mu.bar_lines_ok(tokens) == mu.BarCheck(bars=3, bars_in_place=2, bars_missing=1, notes=9, notes_across=0)
    # q q | q h (the half note crosses the bar line)
    assert mu.bar_lines_ok([S, q, q, B, q, q, h, E]) == mu.BarCheck(1, 1, 0, 3, 1)
    # counting from `start` on, the phase still comes from the tokens before it
    assert mu.bar_lines_ok(tokens, start=6) == mu.BarCheck(2, 1, 1, 6, 0)
    with pytest.raises(DataError, match="metre"):
        mu.bar_lines_ok([q, B, q])


def test_vocabulary_is_capped_and_held_out_tunes_are_whole_and_unseen():
    for transpose in (False, True):
        data = mu.MelodyData("all", transpose=transpose, seed=3)
        assert len(data.vocab) <= LIMITS.max_vocab and len(set(data.vocab)) == len(data.vocab)
        train, val = data.parts(64)
        for same in (lambda t: t.notes, lambda t: re.sub(r"[^a-z]", "", t.name.split("--")[0].lower())):
            assert not {same(t) for t in data.train_tunes} & {same(t) for t in data.val_tunes}
        assert len(data.val_tunes) >= 0.09 * len(data.tunes)
        # the id stream is the tunes' tokens: training tunes first, the held-out ones after the cut
        assert train.tolist() == [i for t in data.train_tunes for i in data.ids_of_tokens(mu.tune_tokens(t))]
        assert val.tolist() == [i for ids in data.val_sequences() for i in ids]
        assert val[0] == data.stoi[f"start {data.val_tunes[0].metre}"]
    a, b = mu.MelodyData(**data.recipe), mu.MelodyData("all", True, 4)
    assert torch.equal(a.ids, data.ids) and a.vocab == data.vocab  # rebuilt exactly from its recipe
    assert {t.source for t in b.val_tunes} != {t.source for t in data.val_tunes}
    with pytest.raises(DataError, match="sequence length"):
        mu.MelodyData("ryans").parts(10_000)
    for bad in ({"collection": "essen"}, {"transpose": "yes"}, {"seed": -1}):
        with pytest.raises(DataError):
            mu.MelodyData(**bad)


def test_transposing_moves_every_tune_to_no_sharps_or_flats_and_keeps_its_intervals():
    plain, moved = mu.MelodyData("oneills"), mu.MelodyData("oneills", transpose=True)
    for a, b in zip(plain.tunes, moved.tunes):
        assert (b.key.tonic + mu.MODES[b.key.mode]) % 12 == 0   # the key's major scale is C major
        shift = {q - p for (p, *_), (q, *_) in zip(a.notes, b.notes) if p != mu.REST}
        assert len(shift) == 1 and -6 <= shift.pop() <= 5
        assert [n[1:] for n in a.notes] == [n[1:] for n in b.notes]


# --- the baseline and the scores ----------------------------------------------------------------------------------

def test_bigram_probabilities_are_smoothed_counts():
    ids = [0, 1, 0, 1, 0, 2]
    bigram = mu.Bigram(ids, 3, k=0.5)
    # after 0: 1 twice, 2 once, 0 never -> (0.5, 2.5, 1.5) / 4.5
    assert np.allclose(np.exp(bigram.log_probs[0]), [0.5 / 4.5, 2.5 / 4.5, 1.5 / 4.5])
    assert np.allclose(np.exp(bigram.log_probs[2]), [1 / 3] * 3)   # never seen: uniform


def test_scores_match_torch_cross_entropy():
    gen = torch.Generator().manual_seed(0)
    logits, targets = torch.randn(50, 7, generator=gen) * 3, torch.randint(0, 7, (50,), generator=gen)
    ce, acc = mu.score_logits(logits.numpy(), targets.numpy())
    assert ce == pytest.approx(F.cross_entropy(logits, targets).item(), rel=1e-6)
    assert acc == pytest.approx((logits.argmax(1) == targets).float().mean().item())


def test_the_bigram_beats_a_uniform_guess_on_held_out_tunes():
    data = mu.MelodyData("all", seed=0)
    train, _ = data.parts(64)
    ce, acc = mu.heldout_scores(mu.Bigram(train.numpy(), len(data.vocab)).logits, data)
    uniform_ce, _ = mu.heldout_scores(lambda ids: np.zeros((len(ids), len(data.vocab))), data)
    assert uniform_ce == pytest.approx(np.log(len(data.vocab)))
    assert ce < uniform_ce - 1.0 and acc > 3 / len(data.vocab)


def _tiny_model(data, seed=0):
    return build_model(ModelConfig(kind="text", vocab_size=len(data.vocab), embed_size=8, hidden_size=12), seed)


def test_a_model_is_scored_on_the_same_targets_as_the_bigram():
    data = mu.MelodyData("ryans", seed=1)
    model = _tiny_model(data)
    ce, _ = mu.heldout_scores(mu.model_predictor(model), data)
    with torch.no_grad():   # independent: torch's loss over each held-out tune, weighted by its targets
        losses = [F.cross_entropy(model(torch.tensor([ids[:-1]]))[0][0], torch.tensor(ids[1:]), reduction="sum")
                  for ids in data.val_sequences()]
    assert ce == pytest.approx(sum(losses).item() / sum(len(ids) - 1 for ids in data.val_sequences()), rel=1e-6)


# --- generation, guesses, keys, hypotheses ------------------------------------------------------------------------

def test_continue_melody_is_seeded_and_stops_at_the_end_token():
    data = mu.MelodyData("ryans")
    model = _tiny_model(data)
    seed = data.val_sequences()[0][:12]
    a, b = (mu.continue_melody(model, data, seed, 60, 1.0, seed=5) for _ in range(2))
    assert a == b and 0 < len(a) <= 60
    assert data.id_of(mu.END) not in a[:-1]
    with pytest.raises(DataError, match="temperature"):
        mu.continue_melody(model, data, seed, 10, 0.0)
    guesses = mu.top_guesses(model(torch.tensor([seed]))[0][0, -1].detach().numpy(), data, k=4)
    assert [p for _, p in guesses] == sorted((p for _, p in guesses), reverse=True) and len(guesses) == 4
    assert all(name in data.vocab for name, _ in guesses)


def test_key_estimate_on_scales_and_the_corpus():
    c_major = [mu.Note(p, 12, 0) for p in (60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60)]
    a_minor = [mu.Note(p, 12, 0) for p in (57, 59, 60, 62, 64, 65, 68, 69, 64, 60, 57, 57)]
    assert mu.estimate_key(c_major) == mu.Key(0, "major")
    assert mu.estimate_key(a_minor) == mu.Key(9, "minor")
    assert mu.share_in_key(c_major + [mu.Note(61, 12, 0)], mu.Key(0, "major")) == pytest.approx(11 / 12)
    assert np.isnan(mu.share_in_key([mu.Note(mu.REST, 12, 0)], mu.Key(0, "major")))
    # the written key is an independent reference: the estimate from a whole tune finds its key signature
    tunes = mu.load_tunes()
    same_signature = [(mu.estimate_key(t.notes).tonic + mu.MODES[mu.estimate_key(t.notes).mode]) % 12 ==
                      (t.key.tonic + mu.MODES[t.key.mode]) % 12 for t in tunes]
    assert np.mean(same_signature) > 0.8


def test_hypotheses_on_a_small_tune():
    tune = mu.Tune("t", "upload", mu.Key(0, "major"), mu.Metre(2, 4),
                   (mu.Note(67, 12, 12), mu.Note(60, 6, 0), mu.Note(64, 6, 6), mu.Note(mu.REST, 6, 12),
                    mu.Note(62, 6, 18), mu.Note(60, 24, 0)))
    tokens = mu.tune_tokens(tune)   # start G4 | C4 E4 · rest D4 | C4 end
    assert tokens[5] == mu.BEAT
    h = mu.hypotheses(tokens)
    assert set(h) == set(mu.MELODY_HYPOTHESES)
    assert h["downbeat"].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]
    assert h["bar_position"].tolist() == [0, 0.5, 0, 0, 0.25, 0, 0.5, 0.75, 0, 0, 0]
    assert h["rising"].tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert h["tonic"].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]
    assert h["phrase_end"].tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]   # G4 ♩ before a bar; the last note
    assert h["bar_line"].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    assert all(len(v) == len(tokens) for v in h.values())
    # a window cut from the middle (names, no start token): places from its bar lines, the bar's length from two
    window = [mu.token_name(t) for t in tokens[1:]] + [mu.token_name(t) for t in tokens]
    w = mu.hypotheses(window, key=mu.Key(0, "major"))
    assert w["bar_position"].tolist() == [0.5, 0, 0, 0.25, 0, 0.5, 0.75, 0, 0, 0] + h["bar_position"].tolist()
    assert w["downbeat"].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0] + h["downbeat"].tolist()
    assert w["phrase_end"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 1, 0] + h["phrase_end"].tolist()
    one_bar = mu.hypotheses([mu.token_name(t) for t in tokens[4:]])   # E4 · rest D4 | C4: the bar's length unknown
    assert one_bar["bar_position"].tolist() == [0] * 7 and one_bar["downbeat"].tolist() == [0, 0, 0, 0, 0, 1, 0]
    # every shipped tune: the places agree with the stored bar positions
    for t in mu.load_tunes()[::25]:
        tokens = mu.tune_tokens(t)
        places, _ = mu.bar_places(tokens)
        assert [p for p, tok in zip(places, tokens) if tok[0] == "note"] == [n.bar_pos for n in t.notes]
    roll = mu.roll_frame(tune.notes, seed_len=2)
    assert roll["part"].tolist() == ["seed", "seed", "continuation", "continuation", "continuation"]
    assert roll["start"].tolist() == [0, 1, 1.5, 2.5, 3] and roll["note"][0] == "G4 ♩"


# --- fitting a melody from outside to a model's tokens ------------------------------------------------------------

def test_fitting_an_upload_says_what_it_changed():
    data = mu.MelodyData("all")
    known = {t for t in data.tokens if t[0] == "note"}
    # a quarter tied to a sixteenth (15 ticks), a note far above the corpus, a sixteenth rest
    tune = mu.Tune("up", "upload", mu.Key(7, "major"), mu.Metre(2, 4),
                   (mu.Note(67, 15, 0), mu.Note(103, 6, 15), mu.Note(mu.REST, 3, 21), mu.Note(67, 24, 0)))
    ids, changes = data.fit_tune(tune)
    tokens = data.tokens_of(ids)
    assert all(t in known for t in tokens if t[0] == "note")
    metre, notes = mu.tokens_to_notes(tokens)
    assert metre == tune.metre and sum(n.ticks for n in notes) == sum(n.ticks for n in tune.notes)
    assert [n.bar_pos for n in notes] == mu.bar_positions([n.ticks for n in notes], metre)
    assert notes[2].pitch % 12 == 103 % 12            # moved by octaves, not to another pitch class
    assert any("split" in c for c in changes) and any("nearest pitch" in c for c in changes)
    assert any("rest" in c for c in changes)
    with pytest.raises(DataError, match="metres"):
        data.fit_tune(mu.Tune("up", "upload", mu.Key(0, "major"), mu.Metre(5, 4), (mu.Note(60, 12, 0),)))
    moved = mu.MelodyData("all", transpose=True)
    _, changes = moved.fit_tune(tune)
    assert any("Transposed by +5 semitones to C major" in c for c in changes)


# --- model-file vocabularies --------------------------------------------------------------------------------------

HOSTILE_VOCABS = {
    "not a list": ("A4 ♩", "list"),
    "too long": (["A4 ♩"] * 300, "list"),
    "a number": ([1, 2, 3, 4, 5], "short string"),
    "a duplicate": (["bar |", "beat ·", "end ‖", "start 6/8", "A4 ♩", "A4 ♩"], "twice"),
    "no bar": (["beat ·", "end ‖", "start 6/8", "A4 ♩", "B4 ♩"], "lacks"),
    "no beat": (["bar |", "end ‖", "start 6/8", "A4 ♩", "B4 ♩"], "lacks"),
    "a pitch beyond the piano": (["bar |", "beat ·", "end ‖", "start 6/8", "A9 ♩"], "piano"),
    "a made-up duration": (["bar |", "beat ·", "end ‖", "start 6/8", "A4 ♩♩"], "duration"),
    "a huge duration": (["bar |", "beat ·", "end ‖", "start 6/8", "A4 99999/12 ♩"], "duration|short"),
    "a zero-beat metre": (["bar |", "beat ·", "end ‖", "start 0/8", "A4 ♩"], "start token"),
    "a metre off the grid": (["bar |", "beat ·", "end ‖", "start 7/32", "A4 ♩"], "metre"),
    "a flat spelling": (["bar |", "beat ·", "end ‖", "start 6/8", "B♭4 ♩"], "written"),
    "markup": (["bar |", "beat ·", "end ‖", "start 6/8", "<script>"], "duration|note"),
}


@pytest.mark.parametrize("name", list(HOSTILE_VOCABS))
def test_hostile_vocabularies_are_refused(name):
    names, needle = HOSTILE_VOCABS[name]
    with pytest.raises(DataError, match=needle):
        mu.vocab_from_names(names)


def test_a_real_vocabulary_reads_back():
    data = mu.MelodyData("all", transpose=True)
    assert mu.vocab_from_names(data.vocab) == data.tokens


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=30))
def test_any_token_name_is_a_token_or_a_data_error(name):
    try:
        token = mu.parse_token_name(name)
    except DataError:
        return
    assert mu.token_name(token) == name


# --- sound --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tempo,rate", [(120, 22050), (97, 8000), (61, 44100)])
def test_the_waveform_lasts_exactly_the_notes_durations(tempo, rate):
    notes = [mu.Note(67, 6, 0), mu.Note(mu.REST, 9, 6), mu.Note(72, 4, 15), mu.Note(71, 4, 19), mu.Note(69, 25, 23)]
    wave_ = mio.synthesize(notes, tempo, rate, seed_len=2)
    seconds = sum(n.ticks for n in notes) / 12 * 60 / tempo
    assert wave_.dtype == np.float32 and len(wave_) == round(seconds * rate)
    assert np.abs(wave_).max() <= mio.LEVEL + 1e-6
    rest = slice(round(6 / 12 * 60 / tempo * rate) + 2, round(15 / 12 * 60 / tempo * rate) - 2)
    assert not wave_[rest].any()   # a rest is silence
    with wave.open(io.BytesIO(mio.wav_bytes(wave_, rate))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, rate, len(wave_))


def test_seed_and_continuation_sound_different():
    rate = 22050
    wave_ = mio.synthesize([mu.Note(69, 12, 0), mu.Note(69, 12, 0)], 60, rate, seed_len=1)
    seed, cont = wave_[:rate], wave_[rate:]

    def brightness(x):   # share of the spectrum's energy above the fundamental (440 Hz)
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / rate)
        return spectrum[freqs > 660].sum() / spectrum.sum()
    assert brightness(seed) < 0.05 < 0.3 < brightness(cont)


def test_sound_refuses_what_it_cannot_play():
    with pytest.raises(DataError, match="at most"):
        mio.synthesize([mu.Note(60, 12 * 2000, 0)], 120)
    with pytest.raises(DataError, match="tempo"):
        mio.synthesize([mu.Note(60, 12, 0)], 0)
    with pytest.raises(DataError, match="sample rate"):
        mio.wav_bytes(np.zeros(10), 100)


# --- MIDI out and back in -----------------------------------------------------------------------------------------

def _sounding(notes):
    """(onset, pitch, duration) of the pitched notes, counted from the first note's place in its bar."""
    out, clock = [], notes[0][2]
    for pitch, ticks, *_ in notes:
        if pitch != mu.REST:
            out.append((clock, pitch, ticks))
        clock += ticks
    return out


def _read_with_mido(raw):
    """Independent reader: mido's own messages -> (onset, pitch, duration) in our ticks."""
    midi = mido.MidiFile(file=io.BytesIO(raw))
    per_tick = midi.ticks_per_beat // 12
    clock, on, out = 0, {}, []
    for msg in midi.tracks[0]:
        clock += msg.time
        if msg.type == "note_on" and msg.velocity:
            on[msg.note] = clock
        elif msg.type in ("note_on", "note_off"):
            onset = on.pop(msg.note)
            out.append((onset // per_tick, msg.note, (clock - onset) // per_tick))
    return sorted(out)


def test_midi_of_generated_notes_reads_back_as_those_notes():
    data = mu.MelodyData("all")
    model = _tiny_model(data, seed=3)
    for k, ids in enumerate(data.val_sequences()[:4]):
        seed = ids[:20]
        tokens = data.tokens_of(seed + mu.continue_melody(model, data, seed, 80, 1.0, seed=k))
        metre, notes = mu.tokens_to_notes(tokens)
        seed_len = len(mu.tokens_to_notes(data.tokens_of(seed))[1])
        raw = mio.to_midi(notes, metre, 90, seed_len=seed_len, key=mu.Key(7, "major"))
        want = _sounding(notes)
        assert _read_with_mido(raw) == want      # exactly the generated notes: onset, pitch, length
        melody = mio.read_midi(raw)              # the app's reader: the same, where notes crossing a bar line
        got = _sounding(melody.tune.notes)       # (the tiny model writes some) are split there
        assert {(a, p) for a, p, _ in want} <= {(a, p) for a, p, _ in got}
        assert sum(d for *_, d in got) == sum(d for *_, d in want)
        assert melody.tune.metre == metre and melody.tempo_bpm == 90 and melody.tune.key == mu.Key(7, "major")
        names = [m.text for m in mido.MidiFile(file=io.BytesIO(raw)).tracks[0] if m.type == "marker"]
        assert names == ["continuation"]


def test_shipped_tunes_read_back_from_midi_and_text():
    for tune in mu.load_tunes()[::60]:
        back = mio.read_midi(mio.to_midi(tune.notes, tune.metre, 100, key=tune.key)).tune
        assert _sounding(back.notes) == _sounding(tune.notes) and back.metre == tune.metre
        assert [n.bar_pos for n in back.notes] == mu.bar_positions([n.ticks for n in back.notes], tune.metre,
                                                                   tune.notes[0].bar_pos)
        typed = mio.parse_text(mio.to_text(tune)).tune
        assert typed.notes == tune.notes and typed.key == tune.key and typed.metre == tune.metre


def _midi(tracks, ticks_per_beat=480, type_=1):
    midi = mido.MidiFile(type=type_, ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        midi.tracks.append(mido.MidiTrack(messages))
    buf = io.BytesIO()
    midi.save(file=buf)
    return buf.getvalue()


def _line(pitches, length=480, channel=0, start=0):
    out = []
    for i, p in enumerate(pitches):
        out += [mido.Message("note_on", note=p, velocity=64, channel=channel, time=start if i == 0 else 0),
                mido.Message("note_off", note=p, velocity=0, channel=channel, time=length)]
    return out


def _valid_midi():
    return _midi([_line([60, 62, 64, 65])])


def test_plain_midi_reads_as_is():
    melody = mio.read_midi(_valid_midi())
    assert [n.pitch for n in melody.tune.notes] == [60, 62, 64, 65] and all(n.ticks == 12 for n in melody.tune.notes)
    assert any("4/4 is assumed" in c for c in melody.changes)


def _header(division: int) -> bytes:
    return b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + \
        division.to_bytes(2, "big")


def _track(events: bytes) -> bytes:
    return _header(480) + b"MTrk" + len(events).to_bytes(4, "big") + events


def _with_tempo(micro_seconds: int) -> bytes:
    return _track(bytes([0, 0xFF, 0x51, 3]) + micro_seconds.to_bytes(3, "big") +
                  bytes([0, 0x90, 60, 64, 0x83, 0x60, 0x80, 60, 0, 0, 0xFF, 0x2F, 0]))


HOSTILE_MIDI = {
    "empty": (b"", "empty"),
    "garbage": (b"\x00\x01garbage" * 10, "not a MIDI file"),
    "a header and nothing else": (_header(480), "damaged"),
    "cut off in the middle": (_valid_midi()[:-9], "damaged"),
    "SMPTE timing": (_header(0xE728) + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00", "SMPTE"),
    "zero ticks per beat": (_header(0) + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00", "SMPTE"),
    "no notes": (_midi([[mido.MetaMessage("track_name", name="silence")]]), "no notes"),
    "drums only": (_midi([_line([36, 38], channel=9)]), "no notes"),
    "zero-length notes only": (_midi([_line([60, 62], length=0)]), "no notes"),
    "too many notes": (_midi([_line([60, 62] * 2100, length=120)]), "at most"),
    "an absurd silence": (_midi([_line([60]) + _line([62], start=480 * 5000)]), "longer than"),
    "larger than the upload cap": (b"MThd" + b"\x00" * LIMITS.max_upload_bytes, "at most"),
    "200 KB of notes": (_header(480) + b"MTrk" + (300_000).to_bytes(4, "big") + b"\x00\x90\x3c\x40" * 75_000,
                        "at most 200,000"),
    "60,000 events": (_track(b"\x00\x90\x3c\x40" + b"\x00\x3c\x40" * 59_999 + b"\x00\xff\x2f\x00"), "events"),
    "not bytes": ("MThd", "bytes"),
}


@pytest.mark.parametrize("name", list(HOSTILE_MIDI))
def test_hostile_midi_is_refused_clearly(name):
    raw, needle = HOSTILE_MIDI[name]
    with pytest.raises(DataError, match=needle):
        mio.read_midi(raw)


def test_awkward_midi_is_read_and_the_changes_are_said():
    multi = mio.read_midi(_midi([_line([60, 62]), _line([72, 74, 76, 77])]))
    assert [n.pitch for n in multi.tune.notes] == [72, 74, 76, 77]
    assert any("2 tracks" in c and "2 other note(s) left out" in c for c in multi.changes)
    chord = [mido.Message("note_on", note=p, velocity=64, time=0) for p in (60, 64, 67)] + \
        [mido.Message("note_off", note=p, velocity=0, time=480 if i == 0 else 0) for i, p in enumerate((60, 64, 67))]
    poly = mio.read_midi(_midi([chord + _line([65, 64])]))
    assert [n.pitch for n in poly.tune.notes] == [67, 65, 64]
    assert any("top line" in c and "2 lower" in c for c in poly.changes)
    zero_tempo = mio.read_midi(_with_tempo(0))
    assert zero_tempo.tempo_bpm == mio.DEFAULT_TEMPO and any("tempo" in c for c in zero_tempo.changes)
    off_grid = mio.read_midi(_midi([_line([60, 62], length=487)]))
    assert [n.ticks for n in off_grid.tune.notes] == [12, 12] and any("rounded" in c for c in off_grid.changes)
    held = [mido.Message("note_on", note=60, velocity=64, time=0), mido.Message("note_on", note=62, velocity=64,
                                                                             time=480)]
    never_released = mio.read_midi(_midi([held + [mido.MetaMessage("end_of_track", time=480)]]))
    assert [(n.pitch, n.ticks) for n in never_released.tune.notes] == [(60, 12), (62, 12)]
    across = mio.read_midi(_midi([[mido.MetaMessage("time_signature", numerator=3, denominator=4)] +
                                  _line([60], length=480 * 2, start=480 * 2)]))
    assert [(n.pitch, n.ticks, n.bar_pos) for n in across.tune.notes] == [(60, 12, 24), (60, 12, 0)]
    assert any("split" in c for c in across.changes)
    with_drums = mio.read_midi(_midi([_line([60, 62]) + _line([36], channel=9)]))
    assert any("drum" in c for c in with_drums.changes)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_are_a_melody_or_a_data_error(raw):
    for candidate in (raw, b"MThd" + raw, _valid_midi()[:22] + raw, _valid_midi()[: len(raw) % 60] + raw[:20]):
        try:
            melody = mio.read_midi(candidate)
        except DataError:
            continue
        assert melody.tune.notes and len(melody.tune.notes) <= mio.MAX_NOTES


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_midi_with_random_messages_is_a_melody_or_a_data_error(draw):
    messages = []
    for _ in range(draw.draw(st.integers(0, 30))):
        kind = draw.draw(st.sampled_from(["note_on", "note_off", "tempo", "signature", "key"]))
        time = draw.draw(st.integers(0, 2000))
        if kind in ("note_on", "note_off"):
            messages.append(mido.Message(kind, note=draw.draw(st.integers(0, 127)), time=time,
                                         velocity=draw.draw(st.integers(0, 127)),
                                         channel=draw.draw(st.integers(0, 15))))
        elif kind == "tempo":
            messages.append(mido.MetaMessage("set_tempo", tempo=draw.draw(st.integers(0, 2**24 - 1)), time=time))
        elif kind == "signature":
            messages.append(mido.MetaMessage("time_signature", numerator=draw.draw(st.integers(0, 255)),
                                             denominator=2 ** draw.draw(st.integers(0, 7)), time=time))
        else:
            messages.append(mido.MetaMessage("key_signature", key=draw.draw(st.sampled_from(["C", "Am", "F#m"])),
                                             time=time))
    try:
        melody = mio.read_midi(_midi([messages], ticks_per_beat=draw.draw(st.integers(1, 960))))
    except DataError:
        return
    bar = melody.tune.metre.bar_ticks
    assert all(0 <= n.bar_pos < bar and n.bar_pos + n.ticks <= bar for n in melody.tune.notes)


# --- typed melodies -----------------------------------------------------------------------------------------------

def test_a_typed_melody_reads_with_its_pickup_and_rests():
    melody = mio.parse_text("M:6/8 Q:100 K:G  D4 e | G4 q A4 e B4 q G4 e | D5 q. r q.")
    assert melody.tempo_bpm == 100 and melody.tune.metre == mu.Metre(6, 8) and melody.tune.key == mu.Key(7, "major")
    assert [(n.pitch, n.ticks, n.bar_pos) for n in melody.tune.notes] == [
        (62, 6, 30), (67, 12, 0), (69, 6, 12), (71, 12, 18), (67, 6, 30), (74, 18, 0), (mu.REST, 18, 18)]
    assert mio.parse_text("C4 e3 D4 e3 E4 e3 F4 h.").tune.notes[0].ticks == 4


BAD_TEXT = {
    "empty": ("", "no notes"),
    "only rests": ("r q r h", "no notes"),
    "a bar too long": ("M:3/4 C4 q | D4 q E4 q F4 q G4 q | A4 h.", "Bar 2 lasts 1 of a whole note; 3/4 needs 3/4"),
    "a pickup longer than a bar": ("M:2/4 C4 h D4 q | E4 h", "longer than a bar"),
    "a made-up note": ("H4 q", "note name"),
    "a note off the piano": ("C9 q", "piano"),
    "a made-up length": ("C4 x", "length"),
    "a dotted triplet": ("C4 e.3", "length"),
    "a dotted sixteenth": ("C4 s.", "length"),
    "a missing length": ("C4 q D4", "no length"),
    "a bad metre": ("M:7/9 C4 q", "metre"),
    "a bad tempo": ("Q:0 C4 q", "tempo"),
    "an unknown header": ("X:1 C4 q", "headers"),
    "a bad key": ("K:H C4 q", "key"),
    "too long": ("C4 q " * 5000, "characters|notes"),
    "not text": (b"C4 q", "string"),
}


@pytest.mark.parametrize("name", list(BAD_TEXT))
def test_bad_typed_melodies_are_refused_clearly(name):
    text, needle = BAD_TEXT[name]
    with pytest.raises(DataError, match=needle):
        mio.parse_text(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="ABCDEFGr#b♯♭0123456789 qehsw.3|:MQK/m", max_size=60))
def test_any_text_is_a_melody_or_a_data_error(text):
    try:
        melody = mio.parse_text(text)
    except DataError:
        return
    assert any(n.pitch != mu.REST for n in melody.tune.notes)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([(2, 4), (3, 4), (6, 8), (4, 4), (9, 8)]),
       st.lists(st.tuples(st.integers(48, 84) | st.just(mu.REST), st.sampled_from([3, 4, 6, 9, 12, 18, 24])),
                min_size=1, max_size=40),
       st.integers(0, 71))
def test_typed_melodies_round_trip(metre, items, first):
    metre = mu.Metre(*metre)
    items = [(60, 12)] + items + [(62, 6)]      # typed melodies keep no rests before the first note
    notes, clock = [], first % metre.bar_ticks
    for pitch, ticks in items:                  # split at bar lines, as a tune is stored
        while ticks:
            d = min(ticks, metre.bar_ticks - clock % metre.bar_ticks)
            notes.append(mu.Note(pitch, d, clock % metre.bar_ticks))
            clock, ticks = clock + d, ticks - d
    nameable = (2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 32, 36, 48, 72)
    if any(n.ticks not in nameable for n in notes) or notes[0].bar_pos not in nameable + (0,):
        return                                  # a piece the text format has no name for
    tune = mu.Tune("t", "upload", mu.Key(2, "minor"), metre, tuple(notes))
    back = mio.parse_text(mio.to_text(tune)).tune
    assert back.notes == tune.notes and back.metre == metre and back.key == tune.key


# --- layering -----------------------------------------------------------------------------------------------------

def test_the_core_never_imports_music21_and_loads_mido_only_when_asked():
    for path in (ROOT / "lstm_demo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.split(".")[0] == "music21"], path
    code = ("import sys, lstm_demo.kinds.music, lstm_demo.kinds.melody_io as m; m.synthesize([(60, 12, 0)]); "
            "assert 'mido' not in sys.modules and 'music21' not in sys.modules and 'torch' not in sys.modules; "
            "lstm_demo.kinds.music.load_tunes()")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_the_build_script_agrees_with_the_core_without_music21():
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_melodies", ROOT / "tools" / "build_melodies.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)   # music21 is imported only inside its functions
    assert build.TICKS_PER_QUARTER == mu.TICKS_PER_QUARTER and build.MODE_TO_MAJOR == mu.MODES
    for mode in mu.MODES:
        for tonic in range(12):
            assert build.common_key_shift(tonic, mode) == mu.common_key_shift(mu.Key(tonic, mode))
    assert build.title_key("The One-Legged Man -- Reel.") == build.title_key("One Legged Man.")
    assert build.title_key("O'Neill's Favourite") != build.title_key("Neill's Favourite")
