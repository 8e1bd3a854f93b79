"""Folk melodies as tokens for a next-note LSTM: the shipped corpus, the tokens, a bigram baseline, and the measures
the bench and the pages quote (key, bar lines, hypotheses for the unit finder). Sound, MIDI and the text format live in
lstm_demo/kinds/melody_io.py. No music21 here (tools/build_melodies.py read the corpus once); torch only where ids are made.

A tune is notes of (pitch, duration, bar position); durations count ticks of 1/12 of a quarter note, so dotted notes
and triplets are whole numbers (♪ = 6, ♪. = 9, ♩ = 12, a triplet ♪ = 4). A tune becomes one token per note — pitch and
duration together, "A4 ♩" — plus a token at each bar line, at each beat inside a bar, and at each end:

    tune (6/8, pick-up ♪)   D4 ♪ | G4 ♩ A4 ♪ B4 ♩ G4 ♪ | …   ->   start 6/8, D4 ♪, bar |, G4 ♩, A4 ♪, beat ·, B4 ♩, …

A bar token stands before every note that begins a bar, a beat token before every other note that begins a beat
(in 6/8 the second dotted quarter), neither before the tune's first note; the start token names the metre, and
an end token closes the tune. So the tokens alone give back every note and its bar position (tokens_to_notes), and
"the bar lines fall where the metre says" can be checked on generated tokens (bar_lines_ok). The beat tokens are
redundant for the round trip but not for the model: with them an LSTM counts to a beat (2 or 3 notes) instead of to
a bar (6 to 9), and places bar lines far better (bench/bench_melody.py; 70 % against 38 % in a 500-step trial).

The vocabulary is every (pitch, duration) pair of the chosen tunes plus the special tokens: the build script dropped
tunes with rare pairs, so it stays near 130 tokens (cap: LIMITS.max_vocab). A melody from outside the corpus (an
upload, a seed) is fitted to it by fit_notes: a duration the vocabulary lacks is split into ones it has (played as
two notes), a pitch it lacks becomes the nearest it has at that duration (an octave shift first); fit_notes says
what it changed, and refuses a metre the vocabulary lacks.

Held-out tunes are whole tunes the training part never contains (not a cut by position inside a tune).
"""
from __future__ import annotations

import functools
import gzip
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..config import LIMITS, DataError

CORPUS_FILE = Path(__file__).parent / "melodies" / "tunes.json.gz"
TICKS_PER_QUARTER = 12   # 1 tick = 1/12 quarter: sixteenths (3), triplet eighths (4) and dotted notes are exact
REST = -1                # the pitch of a rest
HELD_OUT_SHARE = 0.1     # tunes held out for validation (whole tunes)
COLLECTIONS = {"all": "O'Neill's and Ryan's folk tunes", "oneills": "O'Neill's Music of Ireland (1903)",
               "ryans": "Ryan's Mammoth Collection (1883)"}
NOTE_NAMES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"]   # in token names: sharps only
TONIC_NAMES = {"major": ["C", "D♭", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B"],   # as keys are named
               "minor": ["C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "G♯", "A", "B♭", "B"]}
DURATION_NAMES = {2: "♬ triplet", 3: "♬", 4: "♪ triplet", 6: "♪", 9: "♪.", 12: "♩", 18: "♩.", 24: "half",
                  36: "half.", 48: "whole", 72: "whole."}   # DejaVu has ♩ ♪ ♫ ♬, not the U+1D15x note symbols
BAR, BEAT, END = ("bar",), ("beat",), ("end",)
MODES = {"major": 0, "minor": 3, "dorian": 10, "mixolydian": 5, "lydian": 7, "phrygian": 8, "locrian": 1}
# MODES: semitones from a mode's tonic up to the tonic of the major scale with the same key signature


class Note(NamedTuple):
    pitch: int     # MIDI number (60 = C4, 69 = A4), or REST
    ticks: int     # duration in ticks of 1/12 quarter
    bar_pos: int   # ticks from the start of its bar to its start


class Metre(NamedTuple):
    beats: int     # 6 in 6/8
    unit: int      # 8 in 6/8 (a power of two)

    @property
    def bar_ticks(self) -> int:
        return self.beats * 4 * TICKS_PER_QUARTER // self.unit

    @property
    def beat_ticks(self) -> int:
        """The felt beat: a dotted unit in compound metres (6/8, 9/8, 12/8), else one unit."""
        compound = self.beats % 3 == 0 and self.beats > 3 and self.unit >= 8
        return (3 if compound else 1) * 4 * TICKS_PER_QUARTER // self.unit

    def __str__(self) -> str:
        return f"{self.beats}/{self.unit}"


def check_metre(beats, unit) -> Metre:
    """A metre whose bar is a whole number of ticks, or a DataError."""
    if isinstance(beats, bool) or isinstance(unit, bool) or not isinstance(beats, int) or not isinstance(unit, int) \
            or not 1 <= beats <= 16 or unit not in (1, 2, 4, 8, 16):
        raise DataError(f"A metre needs 1–16 beats of a whole, half, quarter, eighth or sixteenth note, not "
                        f"{beats!r}/{unit!r}.")
    return Metre(beats, unit)


class Key(NamedTuple):
    tonic: int     # pitch class, 0 = C
    mode: str      # one of MODES

    def __str__(self) -> str:
        return f"{TONIC_NAMES.get(self.mode, TONIC_NAMES['major'])[self.tonic]} {self.mode}"

    def scale(self) -> set[int]:
        """The seven pitch classes of the key's mode (minor: natural minor plus the raised leading note)."""
        major = (self.tonic + MODES[self.mode]) % 12
        pcs = {(major + step) % 12 for step in (0, 2, 4, 5, 7, 9, 11)}
        return pcs | ({(self.tonic + 11) % 12} if self.mode == "minor" else set())


@dataclass(frozen=True)
class Tune:
    name: str
    collection: str      # "oneills", "ryans", or "upload"
    key: Key             # as written in the source (or estimated for an upload)
    metre: Metre
    notes: tuple         # Note, …; the first note's bar_pos is where the tune starts in its bar (pick-up)
    source: str = ""     # where the tune comes from, e.g. "O'Neill's Music of Ireland (1903), no. 4"

    def transposed(self, semitones: int) -> "Tune":
        notes = tuple(Note(p + semitones if p != REST else REST, d, b) for p, d, b in self.notes)
        return Tune(self.name, self.collection, Key((self.key.tonic + semitones) % 12, self.key.mode), self.metre,
                    notes, self.source)


def bar_positions(durations, metre: Metre, first_pos: int = 0) -> list[int]:
    """Bar position of each note when the first starts at first_pos: the running sum of durations, modulo the bar."""
    out, clock = [], first_pos
    for d in durations:
        out.append(clock % metre.bar_ticks)
        clock += d
    return out


def common_key_shift(key: Key) -> int:
    """Semitones (-6 … +5) that move the key signature to no sharps or flats: C major, A minor, D dorian, …"""
    major = (key.tonic + MODES[key.mode]) % 12
    return -major if major <= 6 else 12 - major


# --- the shipped corpus ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def load_tunes() -> tuple[Tune, ...]:
    """Every shipped tune (read once, cached). See lstm_demo/kinds/melodies/README.md for the sources."""
    with gzip.open(CORPUS_FILE, "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    if doc.get("ticks_per_quarter") != TICKS_PER_QUARTER:
        raise DataError("The shipped melody file uses another time grid; rebuild it with tools/build_melodies.py.")
    tunes = []
    for t in doc["tunes"]:
        metre = check_metre(*t["metre"])
        notes = tuple(Note(p, d, b) for p, d, b in zip(t["pitch"], t["dur"], t["pos"]))
        tunes.append(Tune(t["name"], t["collection"], Key(t["tonic"], t["mode"]), metre, notes, t["source"]))
    return tuple(tunes)


# --- tokens ----------------------------------------------------------------------------------------------------

def note_token(pitch: int, ticks: int) -> tuple:
    return ("note", pitch, ticks)


def start_token(metre: Metre) -> tuple:
    return ("start", metre.beats, metre.unit)


def pitch_name(pitch: int) -> str:
    """60 -> "C4", 70 -> "A♯4", REST -> "rest"."""
    return "rest" if pitch == REST else f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def duration_name(ticks: int) -> str:
    return DURATION_NAMES.get(ticks, f"{ticks}/12 ♩")


def token_name(token: tuple) -> str:
    """("note", 69, 12) -> "A4 ♩"; ("note", REST, 6) -> "rest ♪"; BAR -> "bar |"; END -> "end ‖";
    ("start", 6, 8) -> "start 6/8"."""
    if token == BAR:
        return "bar |"
    if token == BEAT:
        return "beat ·"
    if token == END:
        return "end ‖"
    if token[0] == "start":
        return f"start {token[1]}/{token[2]}"
    return f"{pitch_name(token[1])} {duration_name(token[2])}"


_PITCH_CLASS = {name: pc for pc, name in enumerate(NOTE_NAMES)} | {"D♭": 1, "E♭": 3, "G♭": 6, "A♭": 8, "B♭": 10}
_TICKS_OF = {name: ticks for ticks, name in DURATION_NAMES.items()}


def parse_pitch(text: str) -> int:
    """"A4" / "C♯5" / "C#5" / "Bb3" / "B♭3" -> MIDI number (within a piano's range, 21 … 108); "rest" -> REST."""
    if text == "rest":
        return REST
    t = text.replace("#", "♯")
    t = t[:1] + t[1:].replace("b", "♭")
    letter = t[:2] if t[1:2] in ("♯", "♭") else t[:1]
    octave = t[len(letter):]
    if letter not in _PITCH_CLASS or not re.fullmatch(r"[0-9]", octave):
        raise DataError(f"{text[:20]!r} is not a note name like A4, C♯5 or B♭3.")
    midi = 12 * (int(octave) + 1) + _PITCH_CLASS[letter]
    if not 21 <= midi <= 108:
        raise DataError(f"{text[:20]} is outside a piano's range (A0 … C8).")
    return midi


def parse_token_name(name) -> tuple:
    """The inverse of token_name, strict: a DataError for anything token_name would not write (a model file's
    vocabulary is read with this; a hostile one gets a message, not an exception)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 24:
        raise DataError(f"A note token must be a short string, not {str(name)[:30]!r}.")
    if name == "bar |":
        return BAR
    if name == "beat ·":
        return BEAT
    if name == "end ‖":
        return END
    head, _, tail = name.partition(" ")
    if head == "start":
        m = re.fullmatch(r"([1-9][0-9]?)/([1-9][0-9]?)", tail)
        if not m:
            raise DataError(f"{name!r} is not a start token like 'start 6/8'.")
        return start_token(check_metre(int(m.group(1)), int(m.group(2))))
    ticks = _TICKS_OF.get(tail)
    m = re.fullmatch(r"([1-9][0-9]{0,2})/12 ♩", tail)
    if ticks is None and m:
        ticks = int(m.group(1))
    if not ticks or ticks > 4 * 4 * TICKS_PER_QUARTER:
        raise DataError(f"{name!r} does not name a duration (♬, ♪, ♪., ♩, ♩., half, whole, …).")
    token = note_token(parse_pitch(head), ticks)
    if token_name(token) != name:  # e.g. "Db4 ♩": readable, but not how this app writes it
        raise DataError(f"{name!r} is not written the way this app writes notes ({token_name(token)!r}).")
    return token


def vocab_from_names(names) -> list[tuple]:
    """A vocabulary read from outside (a model file): a list of distinct token names with the tokens a tune needs
    (bar, beat, end, a start, a note), at most LIMITS.max_vocab long -> tokens; else a DataError saying what is
    wrong."""
    if not isinstance(names, list) or not 5 <= len(names) <= LIMITS.max_vocab:
        raise DataError(f"A melody vocabulary is a list of 5 to {LIMITS.max_vocab} note names.")
    tokens = [parse_token_name(n) for n in names]
    if len(set(tokens)) != len(tokens):
        raise DataError("The melody vocabulary names a token twice.")
    if BAR not in tokens or BEAT not in tokens or END not in tokens or not any(t[0] == "start" for t in tokens) \
            or not any(t[0] == "note" for t in tokens):
        raise DataError("The melody vocabulary lacks the bar, beat, end, start or note tokens every tune needs.")
    return tokens


def tune_tokens(tune: Tune) -> list[tuple]:
    """start, then each note, with a bar token before every note that begins a bar and a beat token before every
    other note that begins a beat (none before the first note), then end."""
    out, beat = [start_token(tune.metre)], tune.metre.beat_ticks
    for i, note in enumerate(tune.notes):
        if note.bar_pos == 0 and i > 0:
            out.append(BAR)
        elif note.bar_pos % beat == 0 and i > 0:
            out.append(BEAT)
        out.append(note_token(note.pitch, note.ticks))
    out.append(END)
    return out


def tokens_to_notes(tokens, metre: Metre | None = None) -> tuple[Metre | None, list[Note]]:
    """Tokens (from one start on) -> (metre, notes with bar positions). Positions count from the latest bar token;
    notes before the first bar token are a pick-up ending at it; beat tokens are skipped. The metre is the start
    token's (or the one given); reading stops at an end token. For the corpus's tokens this gives back the shipped notes exactly."""
    notes: list[list] = []   # [pitch, ticks, ticks since the latest bar (None before the first)]
    clock = None
    for token in tokens:
        if token[0] == "start":
            metre = Metre(token[1], token[2])
        elif token == END:
            break
        elif token == BAR:
            clock = 0
        elif token[0] == "note":
            notes.append([token[1], token[2], clock])
            clock = None if clock is None else clock + token[2]
    if metre is None:
        raise DataError("These tokens have no start token, so their metre is unknown.")
    bar = metre.bar_ticks
    pickup = sum(n[1] for n in notes if n[2] is None)   # ticks before the first bar token
    clock = (bar - pickup) % bar if any(n[2] is not None for n in notes) else 0
    out = []
    for pitch, ticks, since_bar in notes:
        pos = clock % bar if since_bar is None else since_bar % bar
        out.append(Note(pitch, ticks, pos))
        clock += ticks
    return metre, out


# --- fitting a melody from outside to a vocabulary ------------------------------------------------------------

def _split_duration(ticks: int, allowed: list[int]) -> list[int] | None:
    """Fewest pieces from `allowed` that add up to ticks, longest first (a small coin change), or None."""
    best = [[]] + [None] * ticks
    for t in range(1, ticks + 1):
        options = [best[t - a] + [a] for a in allowed if a <= t and best[t - a] is not None]
        best[t] = min(options, key=len) if options else None
    return sorted(best[ticks], reverse=True) if best[ticks] is not None else None


def fit_notes(notes, metre: Metre, tokens: list[tuple]) -> tuple[list[Note], list[str]]:
    """Notes from outside the corpus -> notes every one of which is a token of `tokens`, and what was changed
    (see the module docstring); a DataError if the metre or a note's duration cannot be written with these tokens.
    A rest no rest token can write is added to the note before it (held longer), or dropped at the start."""
    if start_token(metre) not in tokens:
        known = ", ".join(sorted(f"{t[1]}/{t[2]}" for t in tokens if t[0] == "start"))
        raise DataError(f"This model learnt the metres {known}; the melody is in {metre}.")
    pitches_at: dict[int, list[int]] = {}   # duration -> the pitches (and REST) it has a token for
    for t in tokens:
        if t[0] == "note":
            pitches_at.setdefault(t[2], []).append(t[1])
    note_lengths = sorted(d for d, ps in pitches_at.items() if any(p != REST for p in ps))
    rest_lengths = sorted(d for d, ps in pitches_at.items() if REST in ps)
    held, out, split, moved = 0, [], 0, 0
    merged = []   # rests no rest token can write, folded into the note before
    for pitch, ticks, pos in notes:
        if pitch == REST and _split_duration(ticks, rest_lengths) is None:
            if merged:
                merged[-1] = Note(merged[-1].pitch, merged[-1].ticks + ticks, merged[-1].bar_pos)
            held += 1
            continue
        merged.append(Note(pitch, ticks, pos))
    for pitch, ticks, pos in merged:
        pieces = _split_duration(ticks, rest_lengths if pitch == REST else note_lengths)
        if pieces is None:
            raise DataError(f"A note of {ticks}/12 of a quarter cannot be written with this model's note lengths "
                            f"({', '.join(duration_name(d) for d in note_lengths)}).")
        split += len(pieces) > 1
        for d in pieces:
            choice = pitch if pitch in pitches_at[d] else _nearest_pitch(pitch, pitches_at[d])
            moved += choice != pitch
            out.append(Note(choice, d, pos))
            pos = (pos + d) % metre.bar_ticks
    if not any(n.pitch != REST for n in out):
        raise DataError("The melody has no notes this model can write.")
    changes = []
    if held:
        changes.append(f"{held} rest(s) of a length this model has no token for were added to the note before.")
    if split:
        changes.append(f"{split} note(s) split into shorter ones this model knows (they play as repeated notes).")
    if moved:
        changes.append(f"{moved} note(s) moved to the nearest pitch this model knows (an octave first).")
    return out, changes


def _nearest_pitch(pitch: int, available: list[int]) -> int:
    """The available pitch of the same pitch class nearest to `pitch`, else the nearest pitch."""
    return min((p for p in available if p != REST), key=lambda p: (p % 12 != pitch % 12, abs(p - pitch), p))


def notes_to_tokens(notes, metre: Metre) -> list[tuple]:
    """Notes (with bar positions) -> tokens of one tune: start, notes with bar tokens, end."""
    return tune_tokens(Tune("", "", Key(0, "major"), metre, tuple(Note(*n) for n in notes)))


# --- the data object the trainer uses ---------------------------------------------------------------------------

@dataclass
class MelodyData:
    """The shipped tunes as one long id sequence, like TextData. Rebuilt exactly from its recipe:

        collection: "all", "oneills" or "ryans";  transpose: every tune moved to the common key (C major, A minor,
        D dorian, …: no sharps or flats);  seed: which whole tunes are held out and the order of the rest.

    ids (N,) = the training tunes' tokens, one tune after another, then the held-out tunes' tokens:

        [start 6/8, D4 ♪, bar |, G4 ♩, …, end ‖][start 2/2, …, end ‖] … | [held-out tune] … [held-out tune]
        |<------------------------- training tunes ------------------------->|<------- held out -------->|
    """
    collection: str = "all"
    transpose: bool = False
    seed: int = 0
    kind: str = "melody"
    name: str = field(init=False)
    tunes: list = field(init=False)         # training tunes, then held-out tunes (transposed if asked)
    n_train: int = field(init=False)        # how many of `tunes` are for training
    tokens: list = field(init=False)        # id -> token tuple
    vocab: list = field(init=False)         # id -> token name, "A4 ♩"
    stoi: dict = field(init=False)          # token name -> id

    def __post_init__(self):
        if self.collection not in COLLECTIONS:
            raise DataError(f"Unknown melody collection {self.collection!r}; choose one of {', '.join(COLLECTIONS)}.")
        if not isinstance(self.transpose, bool):
            raise DataError(f"transpose must be true or false, not {self.transpose!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**31:
            raise DataError(f"seed must be a whole number from 0 to {2**31 - 1}, got {self.seed!r}")
        tunes = [t for t in load_tunes() if self.collection == "all" or t.collection == self.collection]
        if self.transpose:
            tunes = [t.transposed(common_key_shift(t.key)) for t in tunes]
        random.Random(self.seed).shuffle(tunes)
        n_val = max(2, round(HELD_OUT_SHARE * len(tunes)))
        self.tunes, self.n_train = tunes[n_val:] + tunes[:n_val], len(tunes) - n_val
        specials = [END, BAR, BEAT] + sorted({start_token(t.metre) for t in tunes})
        notes = sorted({note_token(p, d) for t in tunes for p, d, _ in t.notes})
        self.tokens = specials + notes
        if len(self.tokens) > LIMITS.max_vocab:  # the build script keeps this near 130; a guard, not a path
            raise DataError(f"The melodies need {len(self.tokens)} tokens; the limit is {LIMITS.max_vocab}.")
        self.vocab = [token_name(t) for t in self.tokens]
        self._id = {t: i for i, t in enumerate(self.tokens)}
        self.stoi = {name: i for i, name in enumerate(self.vocab)}
        self.name = COLLECTIONS[self.collection] + (" (in a common key)" if self.transpose else "")
        self._ids = [self.ids_of_tokens(tune_tokens(t)) for t in self.tunes]

    @property
    def recipe(self) -> dict:
        return {"collection": self.collection, "transpose": self.transpose, "seed": self.seed}

    @property
    def train_tunes(self) -> list[Tune]:
        return self.tunes[: self.n_train]

    @property
    def val_tunes(self) -> list[Tune]:
        return self.tunes[self.n_train:]

    @functools.cached_property
    def ids(self):
        import torch
        return torch.tensor([i for ids in self._ids for i in ids], dtype=torch.long)

    @property
    def cut(self) -> int:
        """Index in ids where the held-out tunes begin."""
        return sum(len(ids) for ids in self._ids[: self.n_train])

    def parts(self, seq_len: int):
        """(training ids, held-out ids): whole tunes on each side; a DataError if either is shorter than a window."""
        train, val = self.ids[: self.cut], self.ids[self.cut:]
        if min(len(train), len(val)) < seq_len + 2:
            raise DataError(f"The held-out tunes have {len(val)} tokens; sequence length {seq_len} needs at least "
                            f"{seq_len + 2}. Choose a shorter sequence length.")
        return train, val

    def val_sequences(self) -> list[list[int]]:
        """The held-out tunes' ids, one list per tune (each from its start token to its end token)."""
        return self._ids[self.n_train:]

    def id_of(self, token: tuple) -> int:
        return self._id[token]

    def ids_of_tokens(self, tokens) -> list[int]:
        missing = [token_name(t) for t in tokens if t not in self._id]
        if missing:
            raise DataError(f"Not in this model's vocabulary: {', '.join(missing[:6])}. Fit the melody first.")
        return [self._id[t] for t in tokens]

    def encode(self, names) -> "torch.Tensor":  # noqa: F821
        """Token names ("A4 ♩", "bar |", …) -> ids (T,)."""
        import torch
        missing = [n for n in names if n not in self.stoi]
        if missing:
            raise DataError(f"Not in this model's vocabulary: {', '.join(map(str, missing[:6]))}.")
        return torch.tensor([self.stoi[n] for n in names], dtype=torch.long)

    def decode(self, ids) -> list[str]:
        """ids -> token names (a list: the names hold spaces)."""
        return [self.vocab[int(i)] for i in ids]

    def tokens_of(self, ids) -> list[tuple]:
        return [self.tokens[int(i)] for i in ids]

    def fit_tune(self, tune: Tune) -> tuple[list[int], list[str]]:
        """A melody from outside (an upload) -> (its ids as one tune, what was changed to fit this vocabulary)."""
        changes = []
        if self.transpose:
            shift = common_key_shift(tune.key)
            if shift:
                tune = tune.transposed(shift)
                changes.append(f"Transposed by {shift:+d} semitones to {tune.key}, the key the model learnt in.")
        notes, fitted = fit_notes(tune.notes, tune.metre, self.tokens)
        return self.ids_of_tokens(notes_to_tokens(notes, tune.metre)), changes + fitted

    def summary(self) -> dict:
        metres = sorted({str(t.metre) for t in self.tunes}, key=lambda m: (len(m), m))
        return {"tunes": len(self.tunes), "training tunes": self.n_train,
                "held-out tunes": len(self.tunes) - self.n_train,
                "notes": sum(len(t.notes) for t in self.tunes), "tokens": len(self.ids),
                "vocabulary": len(self.vocab), "metres": ", ".join(metres)}


# --- the baseline ----------------------------------------------------------------------------------------------

# The Train page's preset for melodies (bench/bench_melody.py, one thread): a 1 x 64 LSTM reaches its lowest held-out
# loss near 1,500-2,000 steps (~20 s) and then starts to learn the training tunes by heart (the loss rises again
# while the accuracy stays); 128 units are no better there and take three times as long per step.
MELODY_PRESET = {"embed_size": 32, "hidden_size": 64, "num_layers": 1, "seq_len": 64, "batch_size": 32, "lr": 5e-3,
                 "steps": 2000}

BIGRAM_K = 0.1   # add-k smoothing: every next token gets k imagined sightings, so none has probability 0


class Bigram:
    """P(next token | this token) from counts over the training tunes, add-k smoothed."""

    def __init__(self, train_ids, vocab_size: int, k: float = BIGRAM_K):
        ids = np.asarray(train_ids, dtype=np.int64)
        counts = np.zeros((vocab_size, vocab_size))
        np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
        counts += k
        self.log_probs = np.log(counts / counts.sum(1, keepdims=True))   # (V, V): row = this token

    def logits(self, ids) -> np.ndarray:
        """ids (T,) -> log-probabilities of the token after each (T, V)."""
        return self.log_probs[np.asarray(ids, dtype=np.int64)]


def score_logits(logits, targets) -> tuple[float, float]:
    """(mean cross-entropy in nats, share of targets that are the top guess) for logits (N, V) and targets (N,);
    logits may be unnormalised (a model's) or log-probabilities (the bigram's): both go through log-softmax."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    t = np.asarray(targets, dtype=np.int64)
    return float(-log_p[np.arange(len(t)), t].mean()), float((log_p.argmax(1) == t).mean())


def heldout_scores(predict, data: MelodyData) -> tuple[float, float]:
    """Score a predictor on every held-out tune: predict(ids (T,)) -> logits (T, V) for the token after each;
    each tune's tokens after its start token are the targets (the same targets for every predictor)."""
    logits, targets = [], []
    for ids in data.val_sequences():
        logits.append(np.asarray(predict(ids[:-1]), dtype=np.float64))
        targets.extend(ids[1:])
    return score_logits(np.concatenate(logits), targets)


def model_predictor(model):
    """A torch model (ids (1, T) -> (logits (1, T, V), state)) as a predictor for heldout_scores, from a fresh state."""
    import torch

    @torch.no_grad()
    def predict(ids):
        model.eval()
        out, _ = model(torch.as_tensor(ids, dtype=torch.long)[None])
        return out[0].double().numpy()
    return predict


# --- what a model writes ---------------------------------------------------------------------------------------

def continue_melody(model, data: MelodyData, seed_ids, max_tokens: int = 200, temperature: float = 1.0,
                    seed: int = 0) -> list[int]:
    """Sample up to max_tokens ids after seed_ids (stops after an end token); returns the new ids only."""
    import torch
    if not 0.05 <= temperature <= 5:
        raise DataError(f"temperature must be between 0.05 and 5, got {temperature}")
    gen = torch.Generator().manual_seed(seed)
    end = data.id_of(END)
    with torch.no_grad():
        model.eval()
        out, state = model(torch.as_tensor(list(seed_ids), dtype=torch.long)[None])
        new = []
        for _ in range(max_tokens):
            probs = torch.softmax(out[0, -1].double() / temperature, -1)
            nxt = int(torch.multinomial(probs, 1, generator=gen))
            new.append(nxt)
            if nxt == end:
                break
            out, state = model(torch.tensor([[nxt]]), state)
    return new


def top_guesses(logits, data: MelodyData, k: int = 5) -> list[tuple[str, float]]:
    """The k likeliest next tokens with their probabilities, best first: [("A4 ♩", 0.41), …]."""
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")[:k]
    return [(data.vocab[i], float(p[i])) for i in order]


# --- measures of the music -------------------------------------------------------------------------------------

# Krumhansl & Kessler (1982) key profiles, as used by the Krumhansl–Schmuckler key-finding algorithm
# (Krumhansl 1990, "Cognitive Foundations of Musical Pitch", ch. 4): how well each pitch class fits a key's tonic.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(notes) -> Key:
    """The major or minor key whose profile correlates best with the notes' duration-weighted pitch classes."""
    hist = np.zeros(12)
    for pitch, ticks, *_ in notes:
        if pitch != REST:
            hist[pitch % 12] += ticks
    if not hist.any():
        raise DataError("A key needs at least one note (these are all rests).")
    if hist.std() == 0:   # every pitch class equally long: no key stands out; C major by convention
        return Key(0, "major")
    keys = [Key(tonic, mode) for mode in ("major", "minor") for tonic in range(12)]
    profiles = np.array([np.roll(MAJOR_PROFILE if k.mode == "major" else MINOR_PROFILE, k.tonic) for k in keys])
    z = lambda x: (x - x.mean(-1, keepdims=True)) / x.std(-1, keepdims=True)  # noqa: E731
    r = (z(profiles) * z(hist)).mean(-1)          # (24,) Pearson correlation with each key's profile
    return keys[int(np.argmax(r))]


def share_in_key(notes, key: Key) -> float:
    """Share of the (pitched) notes whose pitch class is in the key's scale (nan without notes)."""
    pitched = [n[0] for n in notes if n[0] != REST]
    if not pitched:
        return float("nan")
    scale = key.scale()
    return sum(p % 12 in scale for p in pitched) / len(pitched)


class BarCheck(NamedTuple):
    bars: int           # bar tokens written (after `start`)
    bars_in_place: int  # … of which stand exactly where the metre puts a bar line
    bars_missing: int   # bar lines the metre puts between two notes where no bar token was written
    notes: int          # notes written (after `start`) once the bar lines' phase is known
    notes_across: int   # … of which cross a bar line (start before it, end after it)

    @property
    def share_bars_ok(self) -> float:
        total = self.bars + self.bars_missing
        return self.bars_in_place / total if total else float("nan")

    @property
    def share_notes_ok(self) -> float:
        return 1 - self.notes_across / self.notes if self.notes else float("nan")


def bar_lines_ok(tokens, metre: Metre | None = None, start: int = 0) -> BarCheck:
    """Do the bar tokens fall where the metre puts bar lines? Each bar token is checked against the one before it:
    in place if exactly one bar of notes stands between them (the first after a start token: a pick-up of at most a
    bar). A misplaced bar token still starts the next bar, so one slip counts once, not for the rest of the tune. A
    note that starts where a bar should have begun counts a missing bar; a note that runs past the bar's end counts
    as crossing. Tokens from index `start` on are counted (e.g. a continuation after its seed); the ones before
    set the metre (the latest start token's, else the one given) and the phase. Beat tokens are not checked.
    """
    bars = in_place = missing = notes = across = 0
    since = None    # ticks since the latest bar line (None: the phase is not known yet)
    before = 0      # ticks of notes before the first bar token (the pick-up)
    for i, token in enumerate(tokens):
        counted = i >= start
        if token[0] == "start":
            metre, since, before = Metre(token[1], token[2]), None, 0
        elif token == END:
            since, before = None, 0
        elif metre is None:
            raise DataError("These tokens have no start token, so their metre is unknown.")
        elif token == BAR:
            ok = since == metre.bar_ticks if since is not None else 0 < before <= metre.bar_ticks
            bars, in_place, since = bars + counted, in_place + (counted and ok), 0
        elif token[0] == "note" and since is None:
            before += token[2]
        elif token[0] == "note":
            bar = metre.bar_ticks
            if since == bar:          # a bar line the tokens should have marked before this note
                missing, since = missing + counted, 0
            end = since + token[2]
            notes, across = notes + counted, across + (counted and end > bar)
            since = end if end <= bar else end % bar
    return BarCheck(bars, in_place, missing, notes, across)


MELODY_HYPOTHESES = {   # key -> label: what a unit of a melody model might follow, one value per token
    "downbeat": "on the downbeat (a note that starts a bar)",
    "bar_position": "position in the bar (0 at the bar line … 1 at the next)",
    "phrase_end": "the last note of a phrase (a long note before a bar line, or a tune's last note)",
    "rising": "the pitch going up (this note above the one before)",
    "tonic": "on the tonic (the key's home note)",
    "bar_line": "a bar line",
}


def _as_tokens(tokens) -> list[tuple]:
    return [parse_token_name(t) if isinstance(t, str) else tuple(t) for t in tokens]


def _segments(tokens) -> list[tuple[int, int]]:
    """Index ranges that each begin at a start token (the first may begin mid-tune: a training window)."""
    cuts = [0] + [i for i, t in enumerate(tokens) if t[0] == "start" and i > 0] + [len(tokens)]
    return list(zip(cuts, cuts[1:]))


def _bar_length(tokens, metre: Metre | None) -> int | None:
    """The segment's bar in ticks: its start token's metre, else the one given, else the notes between its first two
    bar tokens, else unknown."""
    if tokens and tokens[0][0] == "start":
        return Metre(tokens[0][1], tokens[0][2]).bar_ticks
    if metre is not None:
        return metre.bar_ticks
    bars = [i for i, t in enumerate(tokens) if t == BAR]
    if len(bars) >= 2 and END not in tokens[bars[0]:bars[1]]:
        return sum(t[2] for t in tokens[bars[0]:bars[1]] if t[0] == "note") or None
    return None


def bar_places(tokens, metre: Metre | None = None) -> tuple[list, list]:
    """(each token's place in its bar in ticks, each token's bar length in ticks); None where not a note or not known.
    Works on a window cut from the middle of the token stream too: after a bar token a note's place is the ticks
    since it; before the first bar token it is counted back from it, if the bar's length is known (a start token,
    `metre`, or two bar tokens in the window)."""
    places, lengths = [None] * len(tokens), [None] * len(tokens)
    for lo, hi in _segments(tokens):
        seg = tokens[lo:hi]
        bar = _bar_length(seg, metre)
        since, before = None, []   # ticks since the latest bar token; notes before the first one
        for i, t in enumerate(seg, lo):
            lengths[i] = bar
            if t == BAR:
                since = 0
            elif t[0] == "note" and since is None:
                before.append(i)
            elif t[0] == "note":
                places[i], since = since % bar if bar else since, since + t[2]
        if before and bar:
            lead = sum(tokens[i][2] for i in before)
            first = (bar - lead) % bar if since is not None or seg[0][0] != "start" else 0
            for i in before:
                places[i], first = first % bar, first + tokens[i][2]
    return places, lengths


def hypotheses(tokens, key: Key | None = None, metre: Metre | None = None) -> dict[str, np.ndarray]:
    """MELODY_HYPOTHESES as signals, one value per token of `tokens` (tuples or names; one tune, several, or a
    window from the middle of the stream), about the token just read. Where a place in the bar is unknown (a window
    without a start token or two bar lines) its downbeat and position are 0. Phrase end: a note followed by a bar
    line or the end that lasts at least a beat (a quarter where the metre is unknown), or a tune's last note. The
    tonic: the given key's, else the key estimated from the notes of `tokens`."""
    tokens = _as_tokens(tokens)
    places, lengths = bar_places(tokens, metre)
    notes = [t[1:] for t in tokens if t[0] == "note" and t[1] != REST]
    if key is None and notes:
        key = estimate_key(notes)
    T = len(tokens)
    out = {name: np.zeros(T) for name in MELODY_HYPOTHESES}
    previous, seg_metre = None, metre
    for i, t in enumerate(tokens):
        if t[0] == "start":
            seg_metre, previous = Metre(t[1], t[2]), None
        if t[0] != "note":
            continue
        if places[i] is not None:
            out["downbeat"][i] = places[i] == 0
            out["bar_position"][i] = places[i] / lengths[i] if lengths[i] else 0.0
        after = tokens[i + 1] if i + 1 < T else None
        beat = seg_metre.beat_ticks if seg_metre else TICKS_PER_QUARTER
        out["phrase_end"][i] = after == END or (after == BAR and t[2] >= beat)
        if t[1] != REST:
            out["rising"][i] = previous is not None and t[1] > previous
            out["tonic"][i] = key is not None and t[1] % 12 == key.tonic
            previous = t[1]
    out["bar_line"] = np.array([t == BAR for t in tokens], dtype=float)
    return out


def roll_frame(notes, seed_len: int = 0):
    """A piano roll as a tidy frame: one row per pitched note with start and end (in quarters), pitch, its name and
    whether it is part of the seed or the continuation (the first seed_len notes are the seed)."""
    import pandas as pd
    rows, clock = [], 0
    for i, (pitch, ticks, *_) in enumerate(notes):
        if pitch != REST:
            rows.append({"start": clock / TICKS_PER_QUARTER, "end": (clock + ticks) / TICKS_PER_QUARTER,
                         "pitch": pitch, "note": f"{pitch_name(pitch)} {duration_name(ticks)}",
                         "part": "seed" if i < seed_len else "continuation"})
        clock += ticks
    return pd.DataFrame(rows, columns=["start", "end", "pitch", "note", "part"])
