"""Translation tasks made here, character level, with a length knob: numbers in words → digits, dates in words → ISO,
and copy / reverse as baselines. Every pair comes from a seeded generator; nothing is downloaded.

    "three hundred and four"                                 -> "304"
    "the twenty-first of november, two thousand and twenty-six" -> "2026-11-21"
"""
from __future__ import annotations

import random

import numpy as np

from ..config import DataError

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINAL_ONES = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
                "eighteenth", "nineteenth"]
ORDINAL_TENS = {20: "twentieth", 30: "thirtieth"}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

BOS, EOS, PAD = "^", "$", "_"   # start of the answer (the decoder's first input), end of it, padding (never scored)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def words_below_1000(n: int) -> str:
    """0 … 999 in British English words: 304 -> "three hundred and four"."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("-" + ONES[n % 10] if n % 10 else "")
    rest = n % 100
    return ONES[n // 100] + " hundred" + (" and " + words_below_1000(rest) if rest else "")


def number_words(n: int) -> str:
    """0 … 999,999 in words: 2026 -> "two thousand and twenty-six"."""
    if not 0 <= n < 1_000_000:
        raise DataError(f"numbers in words go from 0 to 999,999, not {n}")
    if n < 1000:
        return words_below_1000(n)
    thousands, rest = divmod(n, 1000)
    head = words_below_1000(thousands) + " thousand"
    if not rest:
        return head
    return head + (" and " if rest < 100 else " ") + words_below_1000(rest)


def ordinal_words(day: int) -> str:
    """1 … 31 -> "first" … "thirty-first"."""
    if day < 20:
        return ORDINAL_ONES[day]
    if day % 10 == 0:
        return ORDINAL_TENS[day]
    return TENS[day // 10] + "-" + ORDINAL_ONES[day % 10]


def date_words(year: int, month: int, day: int) -> str:
    return f"the {ordinal_words(day)} of {MONTHS[month - 1]}, {number_words(year)}"


DATE_SPANS = {1: 20, 2: 100, 3: 500, 4: 1000}  # dates: years either side of 2010, by the length knob

TASKS = {  # key -> (label, what the length knob means)
    "numbers": "Numbers in words → digits (“three hundred and four” → 304)",
    "dates": "Dates in words → ISO (“the twenty-first of november, two thousand and twenty-six” → 2026-11-21)",
    "copy": "Copy a string of letters (the baseline)",
    "reverse": "Reverse a string of letters",
}


def make_pair(task: str, length: int, rng: random.Random) -> tuple[str, str]:
    """One (source, target). length: numbers — the most digits of the number (1–6); dates — years from 2000 back
    10**length… (length 1: 1990–2029 … 4: 1000–2999); copy / reverse — the most letters (2–40)."""
    if task == "numbers":
        digits = rng.randint(1, length)
        n = rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1)
        return number_words(n), str(n)
    if task == "dates":
        span = DATE_SPANS[length]
        year = rng.randint(2010 - span, 2010 + span - 1)
        month = rng.randint(1, 12)
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        day = rng.randint(1, DAYS_IN[month - 1] + (month == 2 and leap))
        return date_words(year, month, day), f"{year:04d}-{month:02d}-{day:02d}"
    n = rng.randint(2, length)
    s = "".join(rng.choice(LETTERS[:10]) for _ in range(n))
    return s, (s if task == "copy" else s[::-1])


def holdable(task: str, length: int, source: str, target: str) -> bool:
    """May this pair be held out for validation? Only where its kind is plentiful, so holding it out leaves training
    every part it is made of: a number with the most digits the knob allows (not "eight": one of ten), a string of 5
    or more letters, any date."""
    if task == "numbers":
        return len(target) >= max(2, length)
    if task in ("copy", "reverse"):
        return len(source) >= min(5, length)
    return True


LENGTHS = {"numbers": (2, 6, 3), "dates": (1, 4, 2), "copy": (2, 40, 12), "reverse": (2, 40, 12)}  # lo, hi, default
VAL_PAIRS = 256
MIN_VAL_PAIRS = 8   # fewer held-out pairs could not say anything about a model
HELD_OUT_SHARE = 3  # at most a third of the distinct sources a task can make is held out: training keeps the rest


def source_count(task: str, length: int) -> int:
    """How many distinct sources make_pair can give at this length (dates: far more than are ever held out)."""
    if task == "numbers":
        return 10 ** length
    if task in ("copy", "reverse"):
        return sum(10 ** n for n in range(2, length + 1))
    return 2 * DATE_SPANS[length] * 365
MAX_SOURCE = 80   # characters: the longest source any task makes is well under this (a date: ~70)


class TranslationData:
    """Source–target pairs from a recipe (task, length, seed). Training draws fresh pairs for every batch; the
    validation pairs are fixed and held out: training never sees their sources (see holdable)."""
    kind = "translation"

    def __init__(self, task: str = "numbers", length: int | None = None, seed: int = 0):
        if task not in TASKS:
            raise DataError(f"Unknown translation task {task!r}; choose one of {', '.join(TASKS)}.")
        lo, hi, default = LENGTHS[task]
        length = default if length is None else length
        if isinstance(length, bool) or not isinstance(length, int) or not lo <= length <= hi:
            raise DataError(f"the length knob of {task} goes from {lo} to {hi}, got {length!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise DataError(f"seed must be a whole number from 0 to {2**31 - 1}, got {seed!r}")
        self.task, self.length, self.seed = task, length, seed
        self.name = TASKS[task].split(" (")[0] + f" (length {length})"
        chars = set(BOS + EOS + PAD + LETTERS + "0123456789-, ")
        self.vocab = sorted(chars)
        self.stoi = {c: i for i, c in enumerate(self.vocab)}
        rng = random.Random(seed + 10_007)
        wanted = min(VAL_PAIRS, source_count(task, length) // HELD_OUT_SHARE)
        pairs, seen = [], set()
        for _ in range(VAL_PAIRS * 50):
            if len(pairs) >= wanted:
                break
            src, tgt = make_pair(task, length, rng)
            if src not in seen and holdable(task, length, src, tgt):
                seen.add(src)
                pairs.append((src, tgt))
        self.val_pairs, self._held_out = pairs, seen
        self.check_held_out()

    def longest_source(self) -> int:
        """Characters of the longest source a batch may hold (the validation sources, and a margin for training's
        fresh ones: the task's own bound)."""
        longest = max((len(s) for s, _ in self.val_pairs), default=1)
        bound = self.length if self.task in ("copy", "reverse") else longest + longest // 4
        return min(max(longest, bound), MAX_SOURCE)

    def check_held_out(self) -> None:
        """Enough held-out pairs to measure anything, none of whose sources training can draw (train_pairs)."""
        if len(self.val_pairs) < MIN_VAL_PAIRS:
            raise DataError(f"{TASKS[self.task].split(' (')[0]} at length {self.length} makes only "
                            f"{source_count(self.task, self.length):,} different sources: too few to hold "
                            f"{MIN_VAL_PAIRS} out for validation and still train on the rest. Choose a longer length.")

    @property
    def recipe(self) -> dict:
        return {"task": self.task, "length": self.length, "seed": self.seed}

    @property
    def pad_id(self) -> int:
        return self.stoi[PAD]

    def train_pairs(self, n: int, seed: int) -> list:
        """n fresh training pairs, none of whose sources is a validation source (at most a third of the sources are
        held out, so rejection needs few draws)."""
        rng = random.Random(seed)
        out = []
        while len(out) < n:
            src, tgt = make_pair(self.task, self.length, rng)
            if src not in self._held_out:
                out.append((src, tgt))
        return out

    def encode(self, text: str) -> list[int]:
        bad = sorted(set(text) - set(self.stoi) - {BOS, EOS, PAD} | (set(text) & {BOS, EOS, PAD}))
        if bad:
            raise DataError(f"characters outside the vocabulary: {''.join(bad)!r} (lowercase letters, digits, "
                            f"space, comma and hyphen only)")
        return [self.stoi[c] for c in text]

    def check_source(self, text: str) -> str:
        """A visitor's source: a clear message for what cannot be translated."""
        if not isinstance(text, str) or not text.strip():
            raise DataError("Type a source to translate (it is empty).")
        if len(text) > MAX_SOURCE:
            raise DataError(f"The source has {len(text)} characters; at most {MAX_SOURCE} are read.")
        self.encode(text)
        return text

    def tensors(self, pairs: list, reverse: bool = False):
        """(source ids (B, S) padded, decoder inputs (B, T) = BOS + target, targets (B, T) = target + EOS, padded
        with -100 where not scored). reverse: the source read backwards (Sutskever et al. 2014); its padding stays
        at the end."""
        import torch
        src = [self.encode(s[::-1] if reverse else s) for s, _ in pairs]
        tgt = [self.encode(t) for _, t in pairs]
        S, T = max(map(len, src)), max(map(len, tgt)) + 1
        x = torch.full((len(pairs), S), self.pad_id, dtype=torch.long)
        dec = torch.full((len(pairs), T), self.pad_id, dtype=torch.long)
        y = torch.full((len(pairs), T), -100, dtype=torch.long)
        for i, (s, t) in enumerate(zip(src, tgt)):
            x[i, : len(s)] = torch.tensor(s)
            dec[i, : len(t) + 1] = torch.tensor([self.stoi[BOS]] + t)
            y[i, : len(t) + 1] = torch.tensor(t + [self.stoi[EOS]])
        lengths = torch.tensor([len(s) for s in src])
        return x, lengths, dec, y

    def summary(self) -> dict:
        return {"task": self.task, "length knob": self.length, "validation pairs": len(self.val_pairs)}


def exact_match(outputs: list[str], targets: list[str]) -> float:
    return float(np.mean([o == t for o, t in zip(outputs, targets)])) if targets else float("nan")
