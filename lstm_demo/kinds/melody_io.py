"""Melodies in and out: a waveform synthesised in NumPy (to hear), WAV and MIDI files (to download), and the two
ways a visitor brings a melody: a MIDI file (read with mido) or a line of text such as

    M:6/8 Q:100   D4 e | G4 q A4 e B4 q G4 e | D5 q. r q.

(M: metre, default 4/4; Q: quarter notes per minute; K: key such as G, Em, Ador, else estimated; each note is a name
— C4, F#5, Bb3 or r for a rest — then a length: w h q e s, a dot for dotted, a 3 for a triplet note: e3.)

Both readers return a Tune and a list of sentences saying what they changed; anything they cannot read gets a
DataError that says why. What they do with an awkward file:

    empty / not MIDI / broken        refused                       SMPTE timing, tempo 0      refused / 120 bpm
    notes on several tracks          the track with most notes      notes on channel 10 (drums)   left out
    chords (polyphony)               reduced to the top line        times off the grid        rounded to 1/12 beat
    a note across a bar line         split in two at the bar       silence before the first   a pick-up, or dropped
    more than MAX_NOTES notes, MAX_QUARTERS quarter notes or MAX_MIDI_BYTES bytes (200 KB): refused

mido is imported only inside the MIDI functions; music21 never.
"""
from __future__ import annotations

import io
import math
import re
import wave
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from ..config import LIMITS, DataError
from .music import (MODES, REST, TICKS_PER_QUARTER, Key, Metre, Note, Tune, bar_positions, check_metre,
                    estimate_key, parse_pitch, parse_token_name)

MAX_NOTES = 2000            # notes in one melody (the longest shipped tune has about 400)
MAX_QUARTERS = 2000         # its length in quarter notes (over 15 minutes at 120 per minute)
MAX_MIDI_BYTES = 200_000    # a MIDI melody file (2,000 notes take ~16 KB); mido parses ~200 KB/s here, so a
                            # file at the app's 5 MB upload cap would take ~25 s and ~1 GB before any check
MAX_MIDI_EVENTS = 50_000    # messages in a MIDI file, counted before anything else is done with them
MAX_TEXT_CHARS = 20_000     # a typed melody
MAX_SECONDS = 300.0         # the longest waveform synthesised
MIDI_TICKS_PER_BEAT = 480   # in files we write: 40 MIDI ticks per tick of ours
DEFAULT_TEMPO = 120         # quarter notes per minute when a file does not say (or says something absurd)
PERCUSSION_CHANNEL = 9      # MIDI channel 10: drum sounds, not pitches


class Melody(NamedTuple):
    tune: Tune            # the melody as notes with bar positions
    tempo_bpm: int        # quarter notes per minute
    changes: list         # sentences: what was changed to read it (empty: read as it is)


# --- sound -----------------------------------------------------------------------------------------------------

# Harmonic amplitudes of the two timbres: the seed soft and nearly a sine, the continuation brighter (a reedy tone).
SEED_TIMBRE = (1.0, 0.12, 0.04)
CONTINUATION_TIMBRE = (1.0, 0.55, 0.4, 0.28, 0.2, 0.12)
ATTACK_S, RELEASE_S, DECAY_S = 0.012, 0.03, 0.6   # envelope: rise, fall at the note's end, exponential decay time
LEVEL = 0.3   # peak of one note: monophonic, so the waveform stays within ±LEVEL


def sample_at(ticks: int, tempo_bpm: int, sample_rate: int) -> int:
    """The sample where `ticks` after the start falls, rounded half up, in exact integer arithmetic: the sum of the
    notes' lengths in samples is exactly the sound's length."""
    num, den = ticks * 60 * sample_rate, TICKS_PER_QUARTER * tempo_bpm
    return (2 * num + den) // (2 * den)


def _check(name: str, value, lo: int, hi: int):
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DataError(f"The {name} must be a whole number from {lo} to {hi}, got {value!r}.")


def _check_sound(tempo_bpm, sample_rate):
    _check("tempo", tempo_bpm, 20, 400)
    _check("sample rate", sample_rate, 8000, 48000)


def _tone(pitch: int, n: int, sample_rate: int, timbre) -> np.ndarray:
    t = np.arange(n) / sample_rate
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    amps = [(h, a) for h, a in enumerate(timbre, 1) if h * f0 < sample_rate / 2]   # nothing above Nyquist
    wave_ = sum(a * np.sin(2 * np.pi * h * f0 * t) for h, a in amps) / sum(timbre)
    attack = np.minimum(1.0, t / ATTACK_S)
    release = np.minimum(1.0, (n - np.arange(n)) / max(1.0, RELEASE_S * sample_rate))   # no click at the end
    return LEVEL * wave_ * attack * release * np.exp(-t / DECAY_S)


def synthesize(notes, tempo_bpm: int = DEFAULT_TEMPO, sample_rate: int = 22050, seed_len: int = 0) -> np.ndarray:
    """Notes ((pitch, ticks, …) each) -> a float32 mono waveform of exactly sample_at(total ticks) samples: a soft
    tone per note with an attack and a decay, silence for rests; the first seed_len notes in the seed's timbre
    (soft), the rest in the continuation's (brighter), so a listener hears where the model takes over."""
    _check_sound(tempo_bpm, sample_rate)
    total = sum(int(n[1]) for n in notes)
    seconds = total / TICKS_PER_QUARTER * 60 / tempo_bpm
    if seconds > MAX_SECONDS:
        raise DataError(f"The melody lasts {seconds:.0f} s at {tempo_bpm} per minute; at most {MAX_SECONDS:.0f} s is "
                        f"played.")
    out = np.zeros(sample_at(total, tempo_bpm, sample_rate), dtype=np.float32)
    clock = 0
    for i, (pitch, ticks, *_) in enumerate(notes):
        a, b = sample_at(clock, tempo_bpm, sample_rate), sample_at(clock + ticks, tempo_bpm, sample_rate)
        if pitch != REST and b > a:
            out[a:b] = _tone(pitch, b - a, sample_rate, SEED_TIMBRE if i < seed_len else CONTINUATION_TIMBRE)
        clock += ticks
    return out


def step_tones(names, tempo_bpm: int = DEFAULT_TEMPO) -> list[list[float]]:
    """Token names (a trace's inputs) -> [frequency in Hz, seconds] per token, for the browser to play at the time
    cursor: a note its pitch and length, a rest silence of its length (frequency 0), a bar, beat, start or end token
    no time at all."""
    _check("tempo", tempo_bpm, 20, 400)
    out = []
    for name in names:
        token = parse_token_name(name)
        if token[0] != "note":
            out.append([0.0, 0.0])
            continue
        seconds = token[2] / TICKS_PER_QUARTER * 60 / tempo_bpm
        out.append([0.0 if token[1] == REST else round(440.0 * 2 ** ((token[1] - 69) / 12), 3), round(seconds, 4)])
    return out


def wav_bytes(wave_: np.ndarray, sample_rate: int = 22050) -> bytes:
    """A mono float waveform (-1 … 1) -> a 16-bit PCM WAV file (stdlib `wave`)."""
    _check("sample rate", sample_rate, 8000, 48000)
    pcm = (np.clip(np.asarray(wave_, dtype=np.float64), -1, 1) * 32767).round().astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


# --- MIDI out --------------------------------------------------------------------------------------------------

def to_midi(notes, metre: Metre, tempo_bpm: int = DEFAULT_TEMPO, seed_len: int = 0, name: str = "melody",
            key: Key | None = None) -> bytes:
    """Notes -> a standard MIDI file (type 0, one track): time signature, tempo, key signature (a mode's is its
    major's), a marker where the continuation begins, and a silent lead-in of the first note's bar position so the
    bars line up (read_midi reads that lead-in back as the pick-up). Rests before the first note become part of the
    lead-in; a rest at the end is kept as the track's closing silence."""
    import mido
    _check("tempo", tempo_bpm, 20, 400)
    per_tick = MIDI_TICKS_PER_BEAT // TICKS_PER_QUARTER
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name[:60], time=0))
    track.append(mido.MetaMessage("time_signature", numerator=metre.beats, denominator=metre.unit, time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
    if key is not None:
        track.append(mido.MetaMessage("key_signature", key=_midi_key_name(key), time=0))
    track.append(mido.Message("program_change", program=73, time=0))   # a flute (General MIDI 74)
    wait = (notes[0][2] if notes else 0) * per_tick                     # the lead-in (pick-up)
    for i, (pitch, ticks, *_) in enumerate(notes):
        if i == seed_len and seed_len:
            track.append(mido.MetaMessage("marker", text="continuation", time=wait))
            wait = 0
        if pitch == REST:
            wait += ticks * per_tick
            continue
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=wait))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=ticks * per_tick))
        wait = 0
    track.append(mido.MetaMessage("end_of_track", time=wait))
    midi = mido.MidiFile(type=0, ticks_per_beat=MIDI_TICKS_PER_BEAT)
    midi.tracks.append(track)
    buf = io.BytesIO()
    midi.save(file=buf)
    return buf.getvalue()


def _midi_key_name(key: Key) -> str:
    if key.mode == "minor":
        return ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"][key.tonic] + "m"
    major = (key.tonic + MODES[key.mode]) % 12
    return ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"][major]


# --- building a tune from timed notes (MIDI and text) ----------------------------------------------------------

def tune_from_events(events, metre: Metre, key: Key | None, name: str, changes: list, end: int = 0) -> Tune:
    """Monophonic (onset, end, pitch) in ticks, sorted and not overlapping -> a Tune: gaps become rests, and
    silence after the last note up to `end` becomes a rest if it lasts at most a bar (dropped if longer); then as
    tune_from_pieces. Appends to `changes` what it did."""
    if not events:
        raise DataError("The melody has no notes.")
    pieces, clock = [], events[0][0]
    for onset, stop, pitch in events:
        if onset > clock:
            pieces.append((REST, clock, onset))
        pieces.append((pitch, onset, stop))
        clock = stop
        if clock - events[0][0] > MAX_QUARTERS * TICKS_PER_QUARTER:
            raise DataError(f"The melody is longer than {MAX_QUARTERS} quarter notes.")
    if 0 < end - clock <= metre.bar_ticks:
        pieces.append((REST, clock, end))
    elif end - clock > metre.bar_ticks:
        changes.append("The silence after the last note (longer than a bar) dropped.")
    return tune_from_pieces(pieces, metre, key, name, changes)


def tune_from_pieces(pieces, metre: Metre, key: Key | None, name: str, changes: list) -> Tune:
    """Back-to-back (pitch or REST, onset, end) in ticks, the first a note -> a Tune: the silence before the first
    note gives its place in the bar (whole silent bars are dropped); notes and rests that cross a bar line are split
    there. Key None: estimated. Refuses melodies over the caps."""
    bar = metre.bar_ticks
    lead = pieces[0][1]
    if lead >= bar:
        changes.append(f"{lead // bar} silent bar(s) before the first note dropped.")
    shift = lead - lead % bar
    if pieces[-1][2] - lead > MAX_QUARTERS * TICKS_PER_QUARTER:
        raise DataError(f"The melody is longer than {MAX_QUARTERS} quarter notes.")
    notes, split = [], 0
    for pitch, a, b in pieces:
        a, b = a - shift, b - shift
        cuts = [a] + list(range((a // bar + 1) * bar, b, bar)) + [b]   # the bar lines inside the note
        split += len(cuts) > 2 and pitch != REST
        notes += [Note(pitch, y - x, x % bar) for x, y in zip(cuts, cuts[1:])]
        if len(notes) > MAX_NOTES:
            raise DataError(f"The melody has more than {MAX_NOTES:,} notes and rests; at most {MAX_NOTES:,} are read.")
    if split:
        changes.append(f"{split} note(s) crossing a bar line split in two there (they play as two notes).")
    if key is None:
        key = estimate_key(notes)
        changes.append(f"Key estimated from the notes: {key}.")
    return Tune(name[:80] or "melody", "upload", key, metre, tuple(notes))


# --- MIDI in ---------------------------------------------------------------------------------------------------

def read_midi(raw) -> Melody:
    """The bytes of a .mid file -> Melody (see the module docstring for what is refused and what is changed)."""
    if not isinstance(raw, (bytes, bytearray)):
        raise DataError("read_midi expects the bytes of a MIDI file.")
    if not raw:
        raise DataError("The file is empty.")
    cap = min(MAX_MIDI_BYTES, LIMITS.max_upload_bytes)
    if len(raw) > cap:
        raise DataError(f"The file is {len(raw):,} bytes; a MIDI melody may have at most {cap:,}.")
    if not bytes(raw[:4]) == b"MThd":
        raise DataError("This is not a MIDI file (it does not start with 'MThd').")
    midi = _parse_midi(bytes(raw))
    changes: list[str] = []
    groups, ends, tempo, metre, key, name = _midi_contents(midi, changes)
    if not groups:
        raise DataError("The MIDI file has no notes.")
    track = _most_notes(groups, changes)
    events = _top_line(groups[track], midi.ticks_per_beat, changes)
    if not events:
        raise DataError("The MIDI file has no notes long enough to keep.")
    end = round(Fraction(ends[track[0]] * TICKS_PER_QUARTER, midi.ticks_per_beat))
    return Melody(tune_from_events(events, metre, key, name, changes, end), tempo, changes)


def _parse_midi(raw: bytes):
    import mido
    try:
        midi = mido.MidiFile(file=io.BytesIO(raw), clip=True)
    except Exception as e:  # noqa: BLE001  (mido raises OSError, EOFError, ValueError, KeyError … on bad bytes)
        raise DataError(f"The MIDI file is damaged or not a MIDI file ({type(e).__name__}: {str(e)[:80]}).") from None
    if not 0 < midi.ticks_per_beat < 0x8000:
        raise DataError("The MIDI file counts time in SMPTE frames (or not at all); only beat-based files are read.")
    if sum(len(t) for t in midi.tracks) > MAX_MIDI_EVENTS:
        raise DataError(f"The MIDI file has more than {MAX_MIDI_EVENTS:,} events; a melody needs far fewer.")
    return midi


def _midi_contents(midi, changes: list):
    """-> ({(track, channel): [(onset, end, pitch), …]}, each track's end, tempo, metre, key, name) in the file's
    own ticks; the first tempo, time signature and key signature count (later ones are noted and ignored)."""
    groups: dict[tuple, list] = {}
    tempos, metres, keys, names, drums, ends = [], [], [], [], 0, []
    for index, track in enumerate(midi.tracks):
        clock, sounding = 0, {}
        for msg in track:
            clock += msg.time
            if msg.type == "set_tempo":
                tempos.append(msg.tempo)
            elif msg.type == "time_signature":
                metres.append((msg.numerator, msg.denominator))
            elif msg.type == "key_signature":
                keys.append(msg.key)
            elif msg.type == "track_name" and msg.name.strip():
                names.append(msg.name.strip())
            elif msg.type in ("note_on", "note_off") and msg.channel == PERCUSSION_CHANNEL:
                drums += msg.type == "note_on"
            elif msg.type == "note_on" and msg.velocity > 0:
                _close(groups, index, msg, clock, sounding)
                sounding[(msg.channel, msg.note)] = clock
            elif msg.type in ("note_on", "note_off"):
                _close(groups, index, msg, clock, sounding)
        for (channel, note), onset in sounding.items():   # never released: it lasts to the track's end
            groups.setdefault((index, channel), []).append((onset, clock, note))
        ends.append(clock)
    if drums:
        changes.append(f"{drums} drum note(s) on MIDI channel 10 left out.")
    return groups, ends, _tempo(tempos, changes), _metre(metres, changes), _key(keys), (names or ["melody"])[0]


def _close(groups, track: int, msg, clock: int, sounding: dict):
    onset = sounding.pop((msg.channel, msg.note), None)
    if onset is not None:
        groups.setdefault((track, msg.channel), []).append((onset, clock, msg.note))


def _tempo(tempos, changes) -> int:
    if not tempos:
        return DEFAULT_TEMPO
    bpm = 60_000_000 / tempos[0] if tempos[0] > 0 else math.inf
    if not 20 <= bpm <= 400:
        changes.append(f"The file's tempo is unusable; playing at {DEFAULT_TEMPO} quarter notes per minute.")
        return DEFAULT_TEMPO
    if len(set(tempos)) > 1:
        changes.append(f"The tempo changes in the file; the first ({round(bpm)} per minute) is used throughout.")
    return round(bpm)


def _metre(metres, changes) -> Metre:
    if not metres:
        changes.append("The file has no time signature; 4/4 is assumed.")
        return Metre(4, 4)
    try:
        metre = check_metre(*metres[0])
    except DataError:
        changes.append(f"The file's time signature {metres[0][0]}/{metres[0][1]} cannot be used; 4/4 is assumed.")
        return Metre(4, 4)
    if len(set(metres)) > 1:
        changes.append(f"The time signature changes in the file; the first ({metre}) is used throughout.")
    return metre


def _key(keys) -> Key | None:
    if not keys:
        return None
    name = keys[0]
    minor = name.endswith("m")
    letter = name[:-1] if minor else name
    pcs = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6, "G": 7, "G#": 8,
           "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11, "Cb": 11}
    return Key(pcs[letter], "minor" if minor else "major") if letter in pcs else None


def _most_notes(groups: dict, changes: list) -> tuple:
    """The (track, channel) with the most notes; say so when there were others."""
    best = max(sorted(groups), key=lambda g: len(groups[g]))
    if len(groups) > 1:
        others = sum(len(v) for g, v in groups.items() if g != best)
        changes.append(f"The file has notes on {len(groups)} tracks or channels; the one with the most notes "
                       f"(track {best[0] + 1}, channel {best[1] + 1}) is read, {others} other note(s) left out.")
    return best


def _top_line(notes: list, ticks_per_beat: int, changes: list) -> list:
    """Timed notes in the file's ticks -> a monophonic line on our grid: times rounded to 1/12 beat, notes that
    sound under a higher note dropped, each kept note ending by the next one's start, zero-length notes dropped."""
    if len(notes) > MAX_NOTES * 4:
        raise DataError(f"The melody has {len(notes):,} notes; at most {MAX_NOTES:,} are read.")
    scale = Fraction(TICKS_PER_QUARTER, ticks_per_beat)
    grid = [(round(a * scale), round(b * scale), p) for a, b, p in notes]
    off_grid = sum((a * scale).denominator != 1 or (b * scale).denominator != 1 for a, b, _ in notes)
    grid.sort(key=lambda n: (n[0], -n[2]))
    line, under, cut = [], 0, 0
    for onset, end, pitch in grid:
        if end <= onset:
            continue
        if line and (onset == line[-1][0] or (onset < line[-1][1] and pitch < line[-1][2])):
            under += 1      # a chord note below the top one, or a note under a higher one still sounding
            continue
        if line and onset < line[-1][1]:
            line[-1] = (line[-1][0], onset, line[-1][2])   # the line moves on: the previous note stops here
            cut += 1
        line.append((onset, end, pitch))
    short = len(notes) - under - len(line)
    if off_grid:
        changes.append(f"{off_grid} note(s) rounded to the nearest 1/12 of a beat.")
    if under:
        changes.append(f"The file plays several notes at once; reduced to its top line ({under} lower note(s) "
                       f"left out).")
    if cut:
        changes.append(f"{cut} note(s) still sounding when the next began cut short there.")
    if short > 0:
        changes.append(f"{short} note(s) too short to keep on a 1/12-beat grid left out.")
    return line


# --- text in ---------------------------------------------------------------------------------------------------

LENGTHS = {"w": 48, "h": 24, "q": 12, "e": 6, "s": 3}   # whole, half, quarter, eighth, sixteenth in ticks
_LENGTH = re.compile(r"^([whqes])(\.?)(3?)$")


def parse_length(code: str) -> int:
    """"q" -> 12, "e." -> 9, "e3" -> 4 (a triplet eighth); a dot or a 3, not both; no dotted sixteenth (off the
    1/12-quarter grid)."""
    m = _LENGTH.match(code)
    if not m or (m.group(2) and m.group(3)) or code == "s.":
        raise DataError(f"{code[:12]!r} is not a length: w h q e s, with a dot (q.) or a 3 for a triplet (e3).")
    ticks = LENGTHS[m.group(1)]
    return ticks * 3 // 2 if m.group(2) else ticks * 2 // 3 if m.group(3) else ticks


def _header(word: str, state: dict):
    field_, value = word[0], word[2:]
    if field_ == "M":
        m = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})", value)
        if not m:
            raise DataError(f"{word[:12]!r}: write the metre as M:6/8.")
        state["metre"] = check_metre(int(m.group(1)), int(m.group(2)))
    elif field_ == "Q":
        if not re.fullmatch(r"[0-9]{1,3}", value) or not 20 <= int(value) <= 400:
            raise DataError(f"{word[:12]!r}: the tempo is quarter notes per minute, 20 to 400 (Q:120).")
        state["tempo"] = int(value)
    elif field_ == "K":
        state["key"] = _text_key(value)
    else:
        raise DataError(f"{word[:12]!r}: only M: (metre), Q: (tempo) and K: (key) headers are read.")


def _text_key(value: str) -> Key:
    modes = {"": "major", "m": "minor", "min": "minor", "maj": "major", "dor": "dorian", "mix": "mixolydian",
             "lyd": "lydian", "phr": "phrygian", "loc": "locrian"}
    m = re.match(r"^([A-G])([#b♯♭]?)([a-z]*)$", value)
    if not m or m.group(3).lower() not in modes:
        raise DataError(f"K:{value[:12]}: write the key as K:G, K:Em, K:Ador or K:Dmix.")
    pc = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[m.group(1)]
    pc += {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(m.group(2), 0)
    mode = modes[m.group(3).lower()]
    assert mode in MODES
    return Key(pc % 12, mode)


def parse_text(text) -> Melody:
    """A melody typed as text (see the module docstring) -> Melody. Bar lines ('|') are optional; where given they
    must fall where the metre puts them (the notes before the first one are a pick-up), else a DataError says
    which bar is too long or short. Rests before the first note become silence before it (its place in the bar);
    the others are kept as written."""
    if not isinstance(text, str):
        raise DataError("A melody as text must be a string.")
    if len(text) > MAX_TEXT_CHARS:
        raise DataError(f"The melody text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,} are read.")
    state = {"metre": Metre(4, 4), "tempo": DEFAULT_TEMPO, "key": None}
    words, items, bars = text.replace("|", " | ").split(), [], []
    i = 0
    while i < len(words):
        word = words[i]
        if len(word) > 2 and word[1] == ":":
            _header(word, state)
        elif word == "|":
            bars.append(sum(t for _, t in items))
        else:
            if i + 1 >= len(words):
                raise DataError(f"{word[:12]!r} has no length after it (e.g. {word[:4]} q).")
            pitch = REST if word in ("r", "rest") else parse_pitch(word)
            items.append((pitch, parse_length(words[i + 1])))
            i += 1
            if len(items) > MAX_NOTES:
                raise DataError(f"The melody has more than {MAX_NOTES:,} notes.")
        i += 1
    if not any(p != REST for p, _ in items):
        raise DataError("The melody has no notes: write notes like 'C4 q D4 e E4 e'.")
    metre, total = state["metre"], sum(t for _, t in items)
    clock = _check_bars(bars, total, metre)
    pieces = []
    for pitch, ticks in items:
        if pitch != REST or pieces:   # rests before the first note are silence: the note's place in its bar
            pieces.append((pitch, clock, clock + ticks))
        clock += ticks
    changes: list[str] = []
    tune = tune_from_pieces(pieces, metre, state["key"], "typed melody", changes)
    return Melody(tune, state["tempo"], changes)


def _check_bars(bars: list[int], total: int, metre: Metre) -> int:
    """Check the written bar lines (ticks from the start at each '|') -> the first note's bar position."""
    bar = metre.bar_ticks
    bars = [b for b in bars if 0 < b < total] if bars else []
    if not bars:
        return 0
    pickup = bars[0] % bar
    for n, (a, b) in enumerate(zip(bars, bars[1:]), 2):
        if b - a != bar:
            raise DataError(f"Bar {n} lasts {Fraction(b - a, 4 * TICKS_PER_QUARTER)} of a whole note; {metre} "
                            f"needs {Fraction(bar, 4 * TICKS_PER_QUARTER)}.")
    if bars[0] > bar:
        raise DataError(f"The notes before the first bar line last longer than a bar of {metre}.")
    return (bar - pickup) % bar


def to_text(tune: Tune, tempo_bpm: int = DEFAULT_TEMPO) -> str:
    """A Tune -> the text format (with bar lines; lengths the format can write only), which parse_text reads back."""
    names = {v: k for k, v in LENGTHS.items()}
    names |= {v * 2 // 3: k + "3" for k, v in LENGTHS.items()} | {v * 3 // 2: k + "." for k, v in LENGTHS.items()
                                                                   if k != "s"}
    suffix = {"major": "", "minor": "m", "dorian": "dor", "mixolydian": "mix", "lydian": "lyd", "phrygian": "phr",
              "locrian": "loc"}[tune.key.mode]
    tonic = str(tune.key).split()[0].replace("♯", "#").replace("♭", "b")
    words = [f"M:{tune.metre}", f"Q:{tempo_bpm}", f"K:{tonic}{suffix}"]
    first = tune.notes[0].bar_pos
    if first and not any(n.bar_pos == 0 for n in tune.notes[1:]):   # no bar line to show the pick-up: a rest does
        if first not in names:
            raise DataError(f"The melody starts {first}/12 of a quarter into its bar; the text format cannot say so.")
        words += ["r", names[first]]
    for i, (pitch, ticks, pos) in enumerate(tune.notes):
        if ticks not in names:
            raise DataError(f"A note of {ticks}/12 of a quarter has no name in the text format.")
        if pos == 0 and i > 0:
            words.append("|")
        words += ["r" if pitch == REST else _ascii_name(pitch), names[ticks]]
    return " ".join(words)


def _ascii_name(pitch: int) -> str:
    return ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"][pitch % 12] + str(pitch // 12 - 1)


__all__ = ["Melody", "synthesize", "step_tones", "wav_bytes", "sample_at", "to_midi", "read_midi", "parse_text", "to_text",
           "tune_from_events", "tune_from_pieces", "bar_positions", "MAX_NOTES", "MAX_QUARTERS"]
