"""Text as characters or as words: built-in corpora, the user's own text, and the vocabulary.

Tokens "chars": every character is one step (the vocabulary is the text's distinct characters). Tokens "words": a
word (letters, digits, inner apostrophes: "can't"), a punctuation mark or a line break is one step; spaces only
separate words. The vocabulary is capped: the MAX_WORD_VOCAB - 1 most frequent words (ties in alphabetical order)
and UNK for every other one, so a text of any size gives a small model.

    "the cats, which ate, were full.\n"   chars: t h e · c a t s , · w h i c h …    (31 steps)
                                           words: the cats , which ate , were full . ⏎   (10 steps)
"""
from __future__ import annotations

import importlib.util
import random
import re
from collections import Counter
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


# --- words as tokens -------------------------------------------------------------------------------------------------

TOKENS = ("chars", "words")
UNK = "<unk>"          # every word outside a word-level vocabulary (the tokenizer never makes it: "<" splits off)
MAX_WORD_VOCAB = 256   # words kept, UNK included (the character vocabulary's cap: the same model sizes)
MAX_WORD_CHARS = 24    # longer "words" (a URL, a hash) never enter the vocabulary: they read as UNK
_WORD = re.compile(r"\w+(?:['’]\w+)*|\n|[^\w\s]")
_NO_SPACE_BEFORE = set(".,;:!?)]}%")
_NO_SPACE_AFTER = set("([{")


def split_words(text: str) -> list[str]:
    """Words, punctuation marks and line breaks, in order; other white space only separates them."""
    return _WORD.findall(text)


def join_words(tokens) -> str:
    """Tokens back to text: a space between words, none before closing punctuation, after an opening bracket or
    around a line break; a double quote opens and closes in turn."""
    out, quotes, prev = [], 0, "\n"
    for tok in tokens:
        glue = not (prev == "\n" or tok == "\n" or tok in _NO_SPACE_BEFORE or prev in _NO_SPACE_AFTER
                    or (tok == '"' and quotes % 2 == 1) or (prev == '"' and quotes % 2 == 1))
        out.append((" " if glue else "") + tok)
        quotes += tok == '"'
        prev = tok
    return "".join(out)


def word_vocabulary(words: list[str], cap: int = MAX_WORD_VOCAB) -> list[str]:
    """[UNK] + the cap - 1 most frequent words no longer than MAX_WORD_CHARS, sorted (the same text gives the same
    ids); ties at the cut go in alphabetical order."""
    counts = Counter(w for w in words if len(w) <= MAX_WORD_CHARS)
    kept = sorted(counts, key=lambda w: (-counts[w], w))[: cap - 1]
    return [UNK] + sorted(kept)


def check_word_vocabulary(vocab) -> list[str]:
    """A word-level vocabulary from anywhere (a model file): UNK first, then distinct tokens the tokenizer makes,
    each at most MAX_WORD_CHARS long; at most MAX_WORD_VOCAB in all. DataError otherwise."""
    if not isinstance(vocab, list) or not 2 <= len(vocab) <= MAX_WORD_VOCAB or vocab[0] != UNK:
        raise DataError(f"A word vocabulary is a list of 2 to {MAX_WORD_VOCAB} tokens starting with {UNK}.")
    words = vocab[1:]
    if not all(isinstance(w, str) and 0 < len(w) <= MAX_WORD_CHARS and split_words(w) == [w] for w in words):
        raise DataError(f"A word vocabulary holds single words, marks or line breaks of at most {MAX_WORD_CHARS} "
                        f"characters.")
    if len(set(vocab)) != len(vocab):
        raise DataError("A word vocabulary lists each token once.")
    return vocab


# --- the data object the trainer uses ----------------------------------------------------------------------------

@dataclass
class TextData:
    text: str
    name: str = "text"
    vocab: list[str] = field(init=False)   # index -> token (characters sorted; words: UNK, then sorted)
    ids: torch.Tensor = field(init=False)  # (N,) int64 token ids
    kind: str = "text"
    tokens: str = "chars"                  # "chars" or "words": what one step reads (see the module's docstring)
    word_vocab: list | None = None         # words only: a given vocabulary (a model file's) instead of the text's own

    def __post_init__(self):
        check_text(self.text)
        if self.tokens not in TOKENS:
            raise DataError(f"Tokens are one of {', '.join(TOKENS)}, not {str(self.tokens)[:20]!r}.")
        if self.tokens == "chars":
            self.vocab = sorted(set(self.text))
            self.stoi = {ch: i for i, ch in enumerate(self.vocab)}
            self.ids = torch.tensor([self.stoi[ch] for ch in self.text], dtype=torch.long)
            return
        words = split_words(self.text)
        if len(words) < 2:
            raise DataError("The text has fewer than two words; there is nothing to predict.")
        self.vocab = check_word_vocabulary(self.word_vocab) if self.word_vocab is not None else \
            word_vocabulary(words)
        self.stoi = {w: i for i, w in enumerate(self.vocab)}
        self.ids = torch.tensor([self.stoi.get(w, 0) for w in words], dtype=torch.long)  # 0: UNK

    @property
    def unit(self) -> str:
        """What one step reads, in words ("character" or "word"); the views' sentences use it."""
        return "character" if self.tokens == "chars" else "word"

    def split(self, s: str) -> list[str]:
        """A string as this data's tokens (characters, or words and marks)."""
        return list(s) if self.tokens == "chars" else split_words(s)

    def encode(self, s: str) -> torch.Tensor:
        """Characters must all be known (DataError names the others); a word outside the vocabulary reads as UNK."""
        if self.tokens == "words":
            return torch.tensor([self.stoi.get(w, 0) for w in split_words(s)], dtype=torch.long)
        missing = sorted(set(s) - set(self.stoi))
        if missing:
            shown = ", ".join(repr(ch) for ch in missing[:8])
            raise DataError(f"These characters are not in the model's vocabulary: {shown}.")
        return torch.tensor([self.stoi[ch] for ch in s], dtype=torch.long)

    def known(self, s: str) -> bool:
        """Does every token of s have its own id (no character refused, no word read as UNK)?"""
        return all(t in self.stoi for t in self.split(s)) and bool(self.split(s))

    def prompt_ids(self, prompt: str) -> list[int]:
        """A prompt's ids for sampling: unknown characters are dropped, unknown words read as UNK."""
        return [self.stoi.get(t, 0) for t in self.split(prompt) if self.tokens == "words" or t in self.stoi]

    def join(self, tokens) -> str:
        """Tokens as text: characters side by side, words with spaces between (join_words)."""
        return "".join(tokens) if self.tokens == "chars" else join_words(tokens)

    def decode(self, ids) -> str:
        return self.join([self.vocab[int(i)] for i in ids])

    def span(self, text: str, part: str) -> tuple[int, int] | None:
        """(first step, steps) where `part` first occurs in `text`, in this data's tokens, or None."""
        whole, piece = self.split(text), self.split(part)
        n = len(piece)
        if not n:
            return None
        return next(((i, n) for i in range(len(whole) - n + 1) if whole[i : i + n] == piece), None)

    def parts(self, seq_len: int):
        """(train, val) id tensors; raises DataError when too short for one window each."""
        if len(self.ids) < min_items(seq_len):
            raise DataError(f"The text has {len(self.ids)} {self.unit}s; with sequence length {seq_len} it needs "
                            f"at least {min_items(seq_len)} for a training and a validation window.")
        cut = split_point(len(self.ids), seq_len)
        return self.ids[:cut], self.ids[cut:]

    def summary(self) -> dict:
        out = {"characters": len(self.text), "vocabulary": len(self.vocab), "lines": self.text.count("\n") + 1}
        if self.tokens == "words":
            out["words"] = len(self.ids)
            out["unknown"] = int((self.ids == 0).sum())
        return out


def load_text_preset(key: str, seed: int = 0, tokens: str = "chars") -> TextData:
    if key not in TEXT_PRESETS:
        raise ConfigError(f"Unknown text preset {key!r}; choose one of {sorted(TEXT_PRESETS)}.")
    label, build = TEXT_PRESETS[key]
    text = build(seed=seed) if key != "python" else build()
    return TextData(text, name=label + (" — words as tokens" if tokens == "words" else ""), tokens=tokens)
