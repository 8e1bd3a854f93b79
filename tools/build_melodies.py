"""Build the shipped melody corpus, lstm_demo/kinds/melodies/tunes.json.gz, from music21's bundled folk tunes.

Run once by a developer (music21 is a development-only dependency: pip install -r tools/requirements-corpus.txt):

    python tools/build_melodies.py [--stats]

It reads the ABC files of two public-domain collections that music21 ships inside its wheel — O'Neill's "Music of
Ireland" (1903; music21's `oneills1850`) and Ryan's Mammoth Collection (1883; `ryansMammoth`) — and keeps a tune only
when its B: (book) line does not name Cole's 1000 Fiddle Tunes (a 1940 reprint of Ryan's) and it can be written
down exactly as (pitch, duration, bar position) per note:

    one part, one voice, no chords;  one key and one metre (music21's ABC reader marks a short section pick-up bar
    with a metre of its own: allowed);  every duration a whole number of ticks (1 tick = 1/12 quarter, so triplets and
    dotted values are exact);  every notated bar line where the metre puts one, counted from the pick-up (a bar split
    in two at a repeat sign must add up to one bar);  16 to 400 notes.

A tune whose title or notes repeat an earlier one's is left out (the books repeat some tunes), so a held-out tune
is never also a training tune.
Grace notes are left out (they take no time in the notation); ties are not kept (a tied note is two notes). Then the
tunes whose notes are rare are dropped, over and over, until every (pitch, duration) pair — in the written key and
transposed to the common key — occurs in at least MIN_TUNES tunes: the model's vocabulary stays small (well under
256 tokens) and every shipped tune can be tokenised exactly. Of what remains, PER_COLLECTION tunes of each
collection are kept, spread evenly through the book.

The output is deterministic: same music21 version -> same bytes (gzip with mtime 0, sorted keys).
"""
from __future__ import annotations

import argparse
import collections
import gzip
import json
import re
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "lstm_demo" / "kinds" / "melodies" / "tunes.json.gz"
TICKS_PER_QUARTER = 12
MIN_NOTES, MAX_NOTES = 16, 400
MIN_TUNES = 10         # a (pitch, duration) pair must occur in this many readable tunes, or its tunes are dropped
PER_COLLECTION = 300   # tunes kept of each collection
COLLECTIONS = {        # key -> (music21 corpus folder, label)
    "oneills": ("oneills1850", "O'Neill's Music of Ireland (1903)"),
    "ryans": ("ryansMammoth", "Ryan's Mammoth Collection (1883)"),
}
MODES = ("major", "minor", "dorian", "mixolydian", "lydian", "phrygian", "locrian")
# semitones from a mode's tonic up to the tonic of the major scale with the same key signature
MODE_TO_MAJOR = {"major": 0, "minor": 3, "dorian": 10, "mixolydian": 5, "lydian": 7, "phrygian": 8, "locrian": 1}


class Skip(Exception):
    """This tune cannot be written down exactly; the message says why (counted in --stats)."""


def ticks(quarter_length) -> int:
    t = Fraction(quarter_length).limit_denominator(10_000) * TICKS_PER_QUARTER
    if t.denominator != 1:
        raise Skip("duration off the 1/12-quarter grid")
    return int(t)


def book_lines(path: Path) -> dict[str, str]:
    """X: number -> the tune's B: (book) line, read from the ABC text itself."""
    out, number = {}, None
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("X:"):
            number = line[2:].strip()
        elif line.startswith("B:") and number is not None and number not in out:
            out[number] = " ".join(line[2:].replace('"', " ").split())
    return out


def read_tune(score, collection: str, source: str) -> dict:
    import music21 as m21
    if len(score.parts) != 1:
        raise Skip("more than one part")
    part = score.parts[0]
    if part.recurse().getElementsByClass("Voice"):
        raise Skip("more than one voice")
    if part.recurse().getElementsByClass("Chord"):
        raise Skip("chords")
    keys = {(k.tonic.pitchClass, k.mode) for k in part.recurse().getElementsByClass(m21.key.Key)}
    if len(keys) != 1:
        raise Skip("no key or a key change")
    (tonic, mode), = keys
    if mode not in MODES:
        raise Skip(f"mode {mode}")
    measures = list(part.getElementsByClass("Measure"))
    metres = list(part.recurse().getElementsByClass("TimeSignature"))
    if not metres or not measures:
        raise Skip("no metre")
    num, den = metres[0].numerator, metres[0].denominator
    bar = ticks(metres[0].barDuration.quarterLength)
    for ts in metres[1:]:  # the ABC reader gives a short pick-up measure its own metre: allowed, nothing else
        if ts.ratioString != metres[0].ratioString and ticks(ts.getContextByClass("Measure").quarterLength) >= bar:
            raise Skip("metre change")
    pickup = ticks(measures[0].quarterLength) % bar
    start = (bar - pickup) % bar  # bar position of the first note
    pitches, durations, positions, clock = [], [], [], 0
    for measure in measures:
        length = ticks(measure.quarterLength)
        begin = (start + clock) % bar
        if length > bar or (length == bar and begin) or begin + length > bar:
            raise Skip("bar lines off the metre")
        inside = 0  # ticks from the measure's start
        for element in measure.notesAndRests:
            if element.duration.isGrace:
                continue
            if element.isChord:
                raise Skip("chords")
            d = ticks(element.quarterLength)
            if d <= 0 or ticks(element.offset) != inside:
                raise Skip("a gap, an overlap or a zero-length note")
            positions.append((start + clock + inside) % bar)
            pitches.append(-1 if element.isRest else element.pitch.midi)
            durations.append(d)
            inside += d
        if inside != length:
            raise Skip("notes do not fill their bars")
        clock += length
    if not MIN_NOTES <= len(pitches) <= MAX_NOTES:
        raise Skip("too short or too long")
    if all(p < 0 for p in pitches):
        raise Skip("only rests")
    title = (score.metadata.title or source).strip()
    if title.isupper():
        title = title.title()
    return {"name": title, "collection": collection, "source": source, "tonic": tonic, "mode": mode,
            "metre": [num, den], "pickup": pickup, "pitch": pitches, "dur": durations, "pos": positions}


def common_key_shift(tonic: int, mode: str) -> int:
    """Semitones (-6 … +5) that move the tune's key signature to no sharps or flats (C major, A minor, D dorian …)."""
    major = (tonic + MODE_TO_MAJOR[mode]) % 12
    return -major if major <= 6 else 12 - major


def read_collection(key: str, stats: collections.Counter) -> list[dict]:
    import music21 as m21
    folder = Path(m21.__file__).parent / "corpus" / COLLECTIONS[key][0]
    tunes = []
    for path in sorted(folder.glob("*.abc")):
        books = book_lines(path)
        parsed = m21.converter.parse(path, forceSource=True, format="abc")
        scores = parsed.scores if isinstance(parsed, m21.stream.Opus) else [parsed]
        for score in scores:
            number = str(score.metadata.number or "").strip()
            book = books.get(number, "")
            if "cole" in book.lower():  # the 1940 reprint (Cole's 1000 Fiddle Tunes): left out, see the README
                stats[f"{key}: skipped, transcribed from Cole's 1940 reprint"] += 1
                continue
            source = f"{book or COLLECTIONS[key][1]} (music21 corpus: {folder.name}/{path.name}, X:{number})"
            try:
                tunes.append(read_tune(score, key, source))
                stats[f"{key}: kept"] += 1
            except Skip as why:
                stats[f"{key}: skipped, {why}"] += 1
            except Exception as error:  # noqa: BLE001  (a parser quirk in one tune must not stop the build)
                stats[f"{key}: skipped, music21 error {type(error).__name__}"] += 1
        print(f"{path.name}: {len(tunes)} tunes so far", file=sys.stderr)
    return tunes


def title_key(title: str) -> str:
    """"The One-Legged Man -- Reel." -> "oneleggedman": the same tune under the same title in another book or file."""
    words = re.sub(r"[^a-z]+", " ", title.split("--")[0].lower().replace("'", "")).split()
    return "".join(words[1:] if words[:1] == ["the"] else words)


def unique(tunes: list[dict]) -> list[dict]:
    """The first of the tunes that share a title or a note sequence (the books and files repeat some): a tune
    held out must not be in the training tunes under another number."""
    seen, out = set(), []
    for t in tunes:
        keys = {("title", title_key(t["name"])), ("notes", tuple(t["pitch"]), tuple(t["dur"]))}
        if not keys & seen:
            out.append(t)
        seen |= keys
    return out


def note_pairs(tune: dict) -> set:
    shift = common_key_shift(tune["tonic"], tune["mode"])
    written = {(p, d) for p, d in zip(tune["pitch"], tune["dur"])}
    moved = {(p + shift if p >= 0 else p, d) for p, d in zip(tune["pitch"], tune["dur"])}
    return written | {("common",) + pair for pair in moved}


def drop_rare(tunes: list[dict]) -> list[dict]:
    """Drop tunes with a (pitch, duration) pair found in fewer than MIN_TUNES tunes, until none is left."""
    while True:
        counts = collections.Counter(pair for tune in tunes for pair in note_pairs(tune))
        kept = [t for t in tunes if all(counts[pair] >= MIN_TUNES for pair in note_pairs(t))]
        if len(kept) == len(tunes):
            return kept
        tunes = kept


def spread(tunes: list[dict], n: int) -> list[dict]:
    """n tunes evenly spaced through the book (all if fewer)."""
    if len(tunes) <= n:
        return tunes
    return [tunes[i * len(tunes) // n] for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stats", action="store_true", help="print why tunes were skipped")
    args = ap.parse_args()
    import music21 as m21
    stats = collections.Counter()
    candidates = [t for key in COLLECTIONS for t in read_collection(key, stats)]
    distinct = unique(candidates)
    stats["dropped as repeats (same title or notes)"] = len(candidates) - len(distinct)
    common = drop_rare(distinct)
    stats["dropped for rare notes"] = len(distinct) - len(common)
    chosen = [t for key in COLLECTIONS for t in spread([t for t in common if t["collection"] == key], PER_COLLECTION)]
    doc = {"format": 1, "ticks_per_quarter": TICKS_PER_QUARTER, "music21": m21.__version__,
           "collections": {k: v[1] for k, v in COLLECTIONS.items()}, "tunes": chosen}
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    by_collection = collections.Counter(t["collection"] for t in chosen)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(chosen)} tunes {dict(by_collection)}, "
          f"{sum(len(t['pitch']) for t in chosen):,} notes, {OUT.stat().st_size:,} bytes")
    if args.stats:
        for reason, count in sorted(stats.items()):
            print(f"  {reason}: {count}")

if __name__ == "__main__":
    main()
