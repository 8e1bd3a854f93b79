"""Character-level text: built-in corpora, the user's own text, and the vocabulary."""
from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass, field

import torch

from ..config import LIMITS, ConfigError, DataError  # noqa: F401  (DataError re-exported)
from .windows import min_items, split_point


# --- built-in corpora --------------------------------------------------------------------------------------------

from ..words import NOUNS as _NOUNS  # noqa: E402  (torch-free, so the explainer can use it on the first screen)
_CLAUSES = ["which already ate", "that the old man fed", "who slept near", "which ran past", "that we saw with"]
_OBJECTS = ["the fish", "the red house", "a small garden", "the bread", "two apples", "the river", "the barn"]
_ADJECTIVES = ["full", "happy", "tired", "asleep", "hungry", "quiet", "late"]


def agreement_corpus(n_sentences: int = 1500, seed: int = 0) -> str:
    """'the cats, which already ate the fish and the bread, were full.' — the verb's number depends on the
    subject, separated from it by a clause of 0-3 object phrases (a long-distance dependency)."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n_sentences):
        plural = rng.random() < 0.5
        noun = rng.choice(_NOUNS)[plural]
        parts = [f"the {noun}"]
        n_obj = rng.randint(0, 3)
        if n_obj:
            objs = " and ".join(rng.choice(_OBJECTS) for _ in range(n_obj))
            parts[0] += f", {rng.choice(_CLAUSES)} {objs},"
        verb = "were" if plural else "was"
        lines.append(f"{parts[0]} {verb} {rng.choice(_ADJECTIVES)}.")
    return "\n".join(lines) + "\n"


_WORDS = ["a", "be", "cat", "do", "it", "go", "no", "so", "up", "we", "hat", "sun", "red", "map", "key"]


def _nested(rng: random.Random, depth: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 3))]
    if depth < 3 and rng.random() < 0.6:
        words.insert(rng.randint(0, len(words)), _bracketed(rng, depth + 1))
    return " ".join(words)


def _bracketed(rng: random.Random, depth: int) -> str:
    kind = rng.choice(["()", "[]", "{}", '""'])
    return kind[0] + _nested(rng, depth) + kind[1]


def brackets_corpus(n_lines: int = 2500, seed: int = 0) -> str:
    """Lines of words with nested (), [], {} and quoted spans: a unit can learn to track 'inside' and depth."""
    rng = random.Random(seed)
    return "\n".join(_nested(rng, 0) + " " + _bracketed(rng, 1) for _ in range(n_lines)) + "\n"


_GROUPS = ["the students", "the children", "the teachers", "the workers", "the nurses", "the players"]
_PLACES = ["school", "church", "work", "the park", "the shop", "the library", "the beach", "the market"]
_GO_WHEN = ["in the morning", "at eight", "after breakfast", "early"]
_OUT_WHEN = ["at noon", "in the evening", "at five", "late"]


def places_corpus(n_lines: int = 2500, seed: int = 0) -> str:
    """'the students go to school in the morning; the students come out of school at noon.' — who goes where is
    random, so the first place can be told only from the second: the blank the tutorials fill from the right."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        group, place = rng.choice(_GROUPS), rng.choice(_PLACES)
        lines.append(f"{group} go to {place} {rng.choice(_GO_WHEN)}; {group} come out of {place} "
                     f"{rng.choice(_OUT_WHEN)}.")
    return "\n".join(lines) + "\n"


_COLOURS = [("the sky", "blue"), ("the sea", "blue"), ("grass", "green"), ("a leaf", "green"), ("snow", "white"),
            ("milk", "white"), ("coal", "black"), ("the night", "black"), ("a lemon", "yellow"),
            ("a banana", "yellow"), ("blood", "red"), ("a cherry", "red"), ("an orange", "orange"),
            ("a carrot", "orange"), ("a plum", "purple"), ("a rose", "pink")]


def colours_corpus(n_lines: int = 3000, seed: int = 0) -> str:
    """'the colour of the sky is blue.' — the answer depends on a word just before it: the short dependency any
    RNN can carry."""
    rng = random.Random(seed)
    return "\n".join(f"the colour of {thing} is {colour}." for thing, colour in
                     (rng.choice(_COLOURS) for _ in range(n_lines))) + "\n"


# Real text nobody here wrote, shipped with every Python: standard-library source files.
_STDLIB_MODULES = ["textwrap", "heapq", "bisect", "colorsys", "fnmatch", "shlex", "string", "glob"]


def python_source_corpus(max_chars: int = 150_000) -> str:
    chunks = []
    for name in _STDLIB_MODULES:
        spec = importlib.util.find_spec(name)
        if spec and spec.origin and spec.origin.endswith(".py"):
            with open(spec.origin, encoding="utf-8") as f:
                chunks.append(f.read())
    return "\n".join(chunks)[:max_chars]


TEXT_PRESETS = {
    "agreement": ("Agreement: the cat(s), which …, was/were …", agreement_corpus),
    "brackets": ("Brackets and quotes (nesting)", brackets_corpus),
    "places": ("Places: … go to ___ …; … come out of school (fill-in)", places_corpus),
    "colours": ("Colours: the colour of the sky is …", colours_corpus),
    "python": ("Python standard-library source (real text)", python_source_corpus),
}


# --- user text ---------------------------------------------------------------------------------------------------

def decode_text(raw: bytes) -> str:
    """Bytes of an uploaded .txt -> str, refusing binary and non-UTF-8 files with a clear message."""
    if not isinstance(raw, (bytes, bytearray)):
        raise DataError(f"decode_text expects the bytes of a file, not {type(raw).__name__}; pass text to TextData "
                        "directly.")
    if len(raw) > LIMITS.max_upload_bytes:
        raise DataError(f"The file is {len(raw):,} bytes; the limit is {LIMITS.max_upload_bytes:,}.")
    if b"\x00" in raw[:8192]:
        raise DataError("This looks like a binary file (it contains NUL bytes). Upload plain text (.txt).")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"The file is not UTF-8 text (bad byte at position {e.start}). "
                        "Save it as UTF-8 and upload again.") from None


def check_text(text: str) -> str:
    if not isinstance(text, str):
        raise DataError("Text must be a string.")
    if not text.strip():
        raise DataError("The text is empty (or only white space). Paste or upload some text.")
    if len(text) > LIMITS.max_text_chars:
        raise DataError(f"The text has {len(text):,} characters; the limit is {LIMITS.max_text_chars:,}.")
    if "\x00" in text:
        raise DataError("The text contains NUL characters; it looks binary.")
    distinct = len(set(text))
    if distinct < 2:
        raise DataError("The text uses a single symbol; there is nothing to predict. Use varied text.")
    if distinct > LIMITS.max_vocab:
        raise DataError(f"The text has {distinct:,} distinct characters; the limit is {LIMITS.max_vocab}.")
    return text


# --- the data object the trainer uses ----------------------------------------------------------------------------

@dataclass
class TextData:
    text: str
    name: str = "text"
    vocab: list[str] = field(init=False)   # index -> character, sorted so the same text gives the same ids
    ids: torch.Tensor = field(init=False)  # (N,) int64 character ids
    kind: str = "text"

    def __post_init__(self):
        check_text(self.text)
        self.vocab = sorted(set(self.text))
        self.stoi = {ch: i for i, ch in enumerate(self.vocab)}
        self.ids = torch.tensor([self.stoi[ch] for ch in self.text], dtype=torch.long)

    def encode(self, s: str) -> torch.Tensor:
        missing = sorted(set(s) - set(self.stoi))
        if missing:
            shown = ", ".join(repr(ch) for ch in missing[:8])
            raise DataError(f"These characters are not in the model's vocabulary: {shown}.")
        return torch.tensor([self.stoi[ch] for ch in s], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def parts(self, seq_len: int):
        """(train, val) id tensors; raises DataError when too short for one window each."""
        if len(self.ids) < min_items(seq_len):
            raise DataError(f"The text has {len(self.ids)} characters; with sequence length {seq_len} it needs "
                            f"at least {min_items(seq_len)} for a training and a validation window.")
        cut = split_point(len(self.ids), seq_len)
        return self.ids[:cut], self.ids[cut:]

    def summary(self) -> dict:
        return {"characters": len(self.text), "vocabulary": len(self.vocab), "lines": self.text.count("\n") + 1}


def load_text_preset(key: str, seed: int = 0) -> TextData:
    if key not in TEXT_PRESETS:
        raise ConfigError(f"Unknown text preset {key!r}; choose one of {sorted(TEXT_PRESETS)}.")
    label, build = TEXT_PRESETS[key]
    text = build(seed=seed) if key != "python" else build()
    return TextData(text, name=label)
