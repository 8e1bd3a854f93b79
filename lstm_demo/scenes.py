"""Guided scenes for a workshop: each sets a bundled model, a sequence, a step and a unit, and says in two or three
sentences what to notice. The unit and the numbers in the text are computed from the model, not written down, so
the words stay true when the bundled models are rebuilt. No Streamlit here.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .explain import hypothesis_signal, rank_units
from .kinds import KINDS
from .names import show
from .trace_data import Trace

SCENE_DIR = Path(__file__).resolve().parent / "bundled" / "scenes"


@dataclass(frozen=True)
class Scene:
    key: str
    title: str
    bundle: str               # lstm_demo.bundle key
    text: str | None          # the sequence (text models)
    series_points: int = 0    # series models: the last N points of the model's data sample
    at: str | None = None     # text: the step is where this substring starts (its first character is the input)
    offset: int = 0           # ... plus this many characters
    unit_rule: str = "busiest"  # busiest | forget_drop | finder:<hypothesis> | memory:<long-memory task>
    colour: str = "cell_state"
    notice: str = ""          # what to notice; {placeholders} are filled from the model (see describe)
    hide: str | None = None   # fill-in models: this part of the text (its first occurrence) is hidden
    direction: int = 0        # the direction the scene opens on (1: a bidirectional model's backward half)
    compare: str | None = None  # a second bundle read on the same text: its numbers go into the words and a chart
    compare_label: str = ""     # what to call each model in that chart: "this model|the other one"
    gap: tuple | None = None    # (first word, later word): {gap} in the words is the number of words between them
    frames: int | None = None   # image-sequence models: the validation sequence (the step: `offset` from the end);
                                # melody models: the held-out tune (the step: `offset` from its start)
    answer: str | None = None   # translation models: the true answer to `text` (the step: the hand-over)
    until: str = ""             # with gap: what the words call the scene's step ("the verb") in computed phrases
    shapes: tuple | None = None  # captioners: the picture, (shape, colour, size, x, y) per shape; the step: where
                                 # the model first says the word `at`
    clue: str | None = None     # next-character scenes: {clue_chars} in the words is the number of characters
                                # between this word (its last occurrence before the step) and the blank
    unit_why: str = ""          # where the kind chooses the unit (Kind.scene_facts): why this unit, in words


SCENES = [
    Scene("sentence_end", "The forget gate closes at a sentence end", "agreement",
          "the cats, which already ate the fish, were full.\nthe dog was happy.\n", at=".\n", unit_rule="forget_drop",
          colour="forget_gate",
          notice="At the full stop the sentence is over: what the cell held about its subject is no longer needed. "
                 "Unit u{unit}'s forget gate {drop}"),
    Scene("number_rides", "The subject's number rides to its verb", "memory_lstm",
          "the cats and then near the old barn by a red tree after lunch with joy were.", at="were", offset=0,
          unit_rule="memory:agreement", colour="hidden_state", gap=("cats", "were"), until="the verb",
          notice="“cats” is plural, and {gap} words stand between it and its verb. Unit u{unit}'s hidden state "
                 "{held} (h = {h_now:+.2f} at the verb).{belt} Across {n_examples} test sentences it {separates}. The "
                 "model puts {p_right:.0%} on the right letter, “{answer}”."),
    Scene("quotes", "A unit that knows it is inside quotes", "brackets",
          'go "up sun" a (we "it be") {hat "no so"} key "red [map up]" do\n', unit_rule="finder:quotes",
          colour="cell_state", at='"', offset=1,
          notice="Nobody told the model what a quote is. Yet unit u{unit}'s cell state {follows}: "
                 "correlation {r:+.2f} over this line, and {flips}. It has to know, to predict the closing quote."),
    Scene("sine", "Which way is the wave going? A unit knows", "sine", None, series_points=120,
          unit_rule="finder:rising", colour="cell_state",
          notice="The input is one number per step, and one number does not say whether the wave is going up or "
                 "down — yet to predict the next one the model must know. Unit u{unit}'s cell state {follows}: "
                 "correlation {r:+.2f} over these {points} steps (see it in the heatmaps below)."),
    Scene("short_gap", "A short dependency: the plain RNN copes", "memory_rnn", "the cats were.", at="were",
          unit_rule="busiest",
          notice="“the cats were”: the verb comes right after the subject. A plain RNN, with no gates, {copes}: "
                 "it puts {p_right:.0%} on “{answer}”. Like “the colour of the sky is ___”, the clue is close."),
    Scene("long_gap", "A long dependency: the plain RNN forgets", "memory_rnn",
          "the cats and then near the old barn by a red tree after lunch with joy were.", at="were",
          unit_rule="busiest", gap=("cats", "were"),
          notice="The same RNN, with {gap} words between subject and verb: {p_right:.0%} on “{answer}” (a coin "
                 "toss would give 50 %). {washed} (compare the LSTM in scene 2, same size and training). The "
                 "Long-memory page measures why."),
    Scene("sky", "“The colour of the sky is ___”: even a plain RNN can do this", "colours_rnn",
          "the colour of snow is white.\nthe colour of the sky is blue.\n", at=" blue", unit_rule="busiest",
          colour="hidden_state", clue="sky",
          notice="Only {clue_chars} characters stand between the clue, “sky”, and the blank. Even a plain RNN — no "
                 "gates, no conveyor belt, its whole state squashed through one tanh at every step — {copes} at that "
                 "distance: it puts {p_right:.0%} on “{answer}”. Short dependencies are not what LSTMs are for."),
    Scene("allergy", "“Mary is allergic to nuts. … She can't eat peanut cake.”", "allergy_lstm",
          "mary is allergic to nuts. then near the old barn by a red tree after lunch she can't eat peanut cake.",
          at=" she can", offset=7, unit_rule="memory:allergy", colour="hidden_state", compare="allergy_rnn",
          compare_label="LSTM|plain RNN", gap=("allergic", "can't"), until="“can”",
          notice="Whether she can eat the cake was said {gap} words earlier. Unit u{unit}'s hidden state {held} "
                 "(h = {h_now:+.2f} at “can”).{belt} Over {n_examples} test stories it {separates}. The LSTM puts {p_right:.0%} on the apostrophe of “can't”. The plain RNN "
                 "of the same race, same size and training, reading the same text: {p_other:.0%}."),
    Scene("fill_in", "“The students go to ___”: reading from both sides", "places_bi",
          "the students go to school in the morning; the students come out of school at noon.", hide="school",
          direction=1, unit_rule="busiest", colour="hidden_state", compare="places_uni",
          compare_label="reads both ways|reads left to right",
          notice="Anyone may go anywhere, so the blank in “the students go to ▮▮▮▮▮▮” cannot be filled from the "
                 "left. A bidirectional model also reads the line backwards — “… come out of school” — and puts "
                 "{p_right:.0%} on its first letter, “{answer}”. The same kind of model reading only left to "
                 "right, trained on the same text: {p_other:.0%} (its best guess: “{other_guess}”){both_sides} "
                 "Below: the backward half, unit u{unit}."),
    Scene("conv_maps", "ConvLSTM: the forget gate as a map", "shapes", None, frames=1, offset=6,
          unit_rule="busiest", colour="forget_gate",
          unit_why="the channel whose forget gate tells the shape from the background most clearly at this step, at "
                   "the pixel on the shape where it forgets most",
          notice="Each gate of a ConvLSTM is a convolution, so it is a map: one valve per channel and pixel. At step "
                 "{step}, channel {channel}'s forget gate is {f_on:.2f} on average where the shape is and {f_off:.2f} "
                 "elsewhere{by_pixel}. Over this sequence, against “copy the last frame” as the next frame, "
                 "{vs_copy}. Click a pixel for its diagram and equations."),
    Scene("first_digit", "CNN-LSTM: it sees, then remembers", "first_digit", None, frames=0, offset=0,
          unit_rule="busiest", colour="cell_state",
          notice="A small CNN turns each frame into a vector; the LSTM reads the vectors. The question — which digit "
                 "came first? — is asked after every frame: after the first it is recognition, after the last it is "
                 "memory, through {distractors} distractors. {remembers}"),
    Scene("handover", "Encoder–decoder: the whole number in one hand-over", "numbers",
          "seven hundred and eighty-three", answer="783", unit_rule="busiest", colour="cell_state",
          unit_why="the unit with the largest |c| at the hand-over",
          notice="The encoder reads “{source}” one character at a time; then its final (h, c) — {units} numbers — "
                 "is all the decoder gets. At the hand-over (step {step}) the decoder reads only the start mark and "
                 "must already say the first digit: it writes “{first_out}” here (its whole answer: “{answer_out}”; "
                 "the truth: {answer}). Unit u{unit} "
                 "holds the largest cell state at the hand-over (c = {c_now:+.2f}): step back through the encoder to "
                 "see when it was written."),
    Scene("captions_gaze", "The LSTM looks at the {shape} when it says “{word}”", "shapes_captions", None,
          shapes=(("circle", "red", "small", 3, 5), ("square", "blue", "big", 17, 13)), at="red",
          unit_rule="busiest", colour="cell_state",
          notice="A small CNN turns the picture into a 4 × 4 grid of features; before each word the LSTM's "
                 "attention chooses where in that grid to look. Saying “{word}” (step {step}), it puts {share:.0%} "
                 "of its attention on the {shape}'s {cells} grid cells (outlined in orange) and {rest:.0%} on the "
                 "rest. Its caption: “{said}” — {verdict}."),
    Scene("bar_counter", "A unit that counts through the bar", "folk", None, frames=0, offset=23,
          unit_rule="finder:bar_position", colour="cell_state",
          unit_why="the unit the finder ranks first for “position in the bar” over every held-out tune",
          notice="Nobody told the model where a bar begins: it reads one token at a time — a note with its length, "
                 "a bar line, a beat. Yet unit u{unit}'s cell state {counts}: {c_bar_low:+.2f} to "
                 "{c_bar_high:+.2f} at each of this tune's {bars} bar lines, {c_first:+.2f} on a bar's first note "
                 "and {c_last:+.2f} on its last (on average). Over all {tunes} held-out tunes the unit finder ranks "
                 "it first for “position in the bar” (correlation {r_all:+.2f}; this tune: {r:+.2f})."),
]


def unit_reason(scene: Scene) -> str:
    """Why the scene opens on its unit, from the rule unit_facts applies (or the kind's own, Scene.unit_why)."""
    if scene.unit_why:
        return scene.unit_why
    rule = scene.unit_rule
    if rule == "forget_drop":
        return "the unit whose forget gate is furthest below its own average at the scene's step"
    if rule.startswith("finder:"):
        from .bundle import BUNDLES
        hypothesis = KINDS[BUNDLES[scene.bundle].kind].hypotheses[rule.split(":", 1)[1]][0]
        return f"the unit whose state follows “{hypothesis}” most closely over this sequence"
    if rule.startswith("memory:"):
        return "the unit that best separates the two cases of the long-memory race's task over its test sentences"
    return "the unit whose state varies most over this sequence"


def unit_help(view_key) -> str:
    """The unit selector's help: why the view opened on its unit (a scene's rule on the home page, the busiest
    unit elsewhere)."""
    scene = next((s for s in SCENES if view_key == ("scene", s.key)), None)
    if scene is None:
        return "Starts on the unit whose state varies most; “Find a unit” below can choose one."
    return f"This scene starts on {unit_reason(scene)}; “Find a unit” below can choose another."


def unit_facts(scene: Scene, model, data, trace, step: int, unit: int | None = None) -> dict:
    """The scene's unit by its rule (unless the kind chose it: `unit`) and the measured numbers about it that its
    words quote (a kind's own facts, Kind.scene_facts, come on top of these)."""
    names = trace.names
    state = "cell_state" if "cell_state" in names else "hidden_state"
    out = {}
    if unit is not None:
        pass
    elif scene.unit_rule == "forget_drop":
        f = trace.get("forget_gate")
        unit = int(np.argmin(f[step] - f.mean(0)))
        out.update(f_now=float(f[step, unit]), f_mean=float(f[:, unit].mean()))
    elif scene.unit_rule.startswith("finder:"):
        ranked = rank_units(trace.get(state), hypothesis_signal(scene.unit_rule.split(":", 1)[1], trace))
        unit, out["r"] = int(ranked["unit"].iloc[0]), float(ranked["correlation"].iloc[0])
    elif scene.unit_rule.startswith("memory:"):
        from .memory import TASKS, RaceConfig, remembering_unit  # torch: only when scenes are computed
        task = TASKS[scene.unit_rule.split(":", 1)[1]]
        from .memory import UNIT_EXAMPLES
        rng = random.Random(777)
        quantity = scene_colour(scene, trace)             # what the scene colours is what its words are about
        examples = [task.make(RaceConfig().max_distance, rng) for _ in range(UNIT_EXAMPLES)]
        found = remembering_unit(model, task, data, examples, quantity)
        unit, out["r"] = _clearest(found["ranked"], trace.get(quantity), quantity, scene, step)
        out["n_examples"] = len(examples)
    else:
        unit = int(np.argmax(trace.get(state, 0, scene.direction).std(0)))
    out["unit"] = unit
    if scene.gap:
        words = re.findall(r"[\w']+", scene.text)
        first = words.index(scene.gap[0])
        out["gap"] = words.index(scene.gap[1], first) - first - 1
    if scene.clue:
        out["clue_chars"] = clue_distance(scene.text, scene.clue, step)
    out["c_now"] = float(trace.get(state, 0, scene.direction)[step, unit])
    out["h_now"] = float(trace.get("hidden_state", 0, scene.direction)[step, unit])
    return out


def clue_distance(text: str, clue: str, step: int) -> int:
    """Characters between the clue word (its last occurrence before the step) and the blank a next-character
    model fills at `step` (the character at step + 1)."""
    end = text.rindex(clue, 0, step + 1) + len(clue)
    return step + 1 - end


def _clearest(ranked, values, quantity: str, scene: Scene, step: int, tie: float = 0.005) -> tuple[int, float]:
    """The best separating unit; among units that separate (almost) equally well (|r| within `tie` of the best),
    the one whose picture shows the scene's claim (it changes at the clue and holds it), if one does."""
    near = ranked[ranked["score"] >= ranked["score"].iloc[0] - tie]
    for unit, r in zip(near["unit"], near["correlation"]):
        held = holds(values[: step + 1, int(unit)], _word_span(scene), strip_reach(values[:, int(unit)], quantity))
        if held["took_note"] and held["carried"]:
            return int(unit), float(r)
    return int(ranked["unit"].iloc[0]), float(ranked["correlation"].iloc[0])


def strip_reach(values, quantity: str) -> float:
    """The |value| at which the text strip's colour is at full strength (charts.color_scale): the unit's largest
    |c| for the cell state, 1 for everything else."""
    return float(np.abs(values).max()) or 1.0 if quantity == "cell_state" else 1.0


def _word_span(scene: Scene) -> tuple[int, int]:
    """The steps reading the gap's first word (its first occurrence as a word)."""
    m = re.search(rf"\b{re.escape(scene.gap[0])}\b", scene.text)
    return m.start(), m.end()


def holds(values, span: tuple, scale_max: float) -> dict:
    """Does a unit take note at the word over `span` and hold it to the last of `values`? (values: the unit's
    value at steps 0…scene step; scale_max: the strip's colour scale reaches full strength there)."""
    from .conclusions import carried, changes_most_at
    return {"took_note": bool(changes_most_at(values, span)),
            "carried": bool(carried(values, (span[1], len(values)), scale_max))}


def held_words(took_note: bool, kept: bool, word: str, until: str) -> str:
    """The words for `holds`, true in each of its four cases."""
    if took_note and kept:
        return f"switched at “{word}” and held it all the way to {until}"
    if took_note:
        return f"switched at “{word}” but did not hold it at full strength to {until}"
    if kept:
        return f"held a strong value from “{word}” to {until}, though its largest change came elsewhere"
    return f"shows no clear note of “{word}” on the way to {until}"


def belt_words(c, h_last: float, span: tuple) -> str:
    """The cell state behind a hidden state that holds a fact: does it keep its sign from the word's end to the
    scene's step (c: the unit's cell state at steps 0…scene step), and is it past where tanh saturates (and h, at
    the step, h_last, at full strength)?"""
    after = np.asarray(c, dtype=float)[span[1] - 1 :]
    if not len(after) or not (np.sign(after) == np.sign(after[-1])).all() or after[-1] == 0:
        return ""
    grows = abs(after[-1]) > abs(after[0])
    said = (f" Behind it, its cell state keeps the same sign all the way and {'grows to' if grows else 'ends at'} "
            f"c = {after[-1]:+.1f}")
    if abs(after[-1]) > 3 and abs(h_last) > 0.9 and np.sign(h_last) == np.sign(after[-1]):
        return said + ": tanh(c) is ±1 from about |c| = 3 on, so h shows the belt's sign at full strength."
    return said + "."


def phrases(scene: Scene, trace, step: int, facts: dict) -> dict:
    """The scene's conditional words, each computed from the numbers its picture draws (tests/test_scenes.py checks
    the shipped models give the lesson's strong form, and these functions give a true weaker one otherwise)."""
    from .conclusions import follows, separates
    out = {}
    unit = facts.get("unit")
    if scene.gap and scene.until:
        quantity = scene_colour(scene, trace)
        values = trace.get(quantity, 0, scene.direction)[: step + 1, unit]
        span = _word_span(scene)
        held = holds(values, span, strip_reach(trace.get(quantity, 0, scene.direction)[:, unit], quantity))
        out["took_note"], out["carried"] = held["took_note"], held["carried"]
        out["held"] = held_words(held["took_note"], held["carried"], scene.gap[0], scene.until)
        out["belt"] = belt_words(trace.get("cell_state", 0, scene.direction)[: step + 1, unit],
                                 float(trace.get("hidden_state", 0, scene.direction)[step, unit]), span) \
            if "cell_state" in trace.names else ""
    if scene.unit_rule.startswith("finder:") and "r" in facts:
        name = scene.unit_rule.split(":", 1)[1]
        out["follows"] = follows(facts["r"], KINDS[trace.kind].hypotheses[name][0])
    if scene.unit_rule.startswith("memory:") and "r" in facts:
        from .memory import FACTS
        yes, no, who = FACTS[scene.unit_rule.split(":", 1)[1]]
        out["separates"] = separates(facts["r"], yes, f"{no} {who}")
    if "c_bar_high" in facts:
        out["counts"] = "keeps count" if counts_bar(facts) else "only partly keeps count"
    if scene.unit_rule == "forget_drop":
        out["drop"] = drop_words(trace.get("forget_gate", 0, scene.direction)[:, unit], step)
    if scene.key == "quotes":
        out["flips"] = flip_words(trace.get(scene_colour(scene, trace), 0, scene.direction)[:, unit],
                                  [i for i, ch in enumerate(trace.inputs) if ch == '"'], facts["r"])
    if scene.series_points:
        out["points"] = trace.n_steps
    if "p_right" in facts:
        out["copes"] = "gets it" if copes(facts["p_right"]) else "does not get it"
        out["washed"] = ("Its state is squashed through tanh at every step and the subject's number has washed out"
                         if washed_out(facts["p_right"]) else "Here it still carries the subject's number")
    if "p_other" in facts:
        out["both_sides"] = (": reading both ways is what fills it." if facts["p_right"] > facts["p_other"] + 0.25
                             else "." if facts["p_right"] >= facts["p_other"] else
                             ": here the one-way model does as well or better.")
    return out


def copes(p_right: float) -> bool:
    """A model "gets it" when it puts more than half its probability on the right answer."""
    return p_right > 0.5


def washed_out(p_right: float) -> bool:
    """The subject's number has "washed out" when the model is this unsure of the verb (a coin toss is 0.5)."""
    return p_right < 0.75


SHUT = 0.2   # a forget gate below this "shuts": the diagram's kept path is a fifth of the belt or less


def drop_level(now: float, mean: float) -> str:
    """"shut", "partway" (below the unit's average) or "open": what drop_words and the scene's title say."""
    return "shut" if now < SHUT else "partway" if now < mean else "open"


def drop_words(f, step: int) -> str:
    """The forget gate at a step against the step before and the unit's average (f: the unit's gate, all steps)."""
    now, mean = float(f[step]), float(f.mean())
    prev = float(f[step - 1]) if step > 0 else None
    said = f"is {now:.2f} here (its average over the text is {mean:.2f})"
    if prev is not None and now < prev:
        said = f"drops to {now:.2f} here (from {prev:.2f} a step before; its average over the text is {mean:.2f})"
    level = drop_level(now, mean)
    if level == "shut":
        return said + (": the valve shuts and the conveyor belt is cleared for the next sentence. Watch the "
                       "diagram's “kept” path thin.")
    if level == "partway":
        return said + ": the valve closes partway, and less of the belt is kept."
    return said + ": it does not close here."


def counts_bar(facts: dict) -> bool:
    """"Keeps count": the unit follows the position in the bar clearly over every held-out tune, and on this tune
    its cell state is lowest at the bar lines, higher on a bar's first note and highest on its last."""
    from .conclusions import clear
    return clear(facts["r_all"]) and facts["r_all"] > 0 and \
        facts["c_bar_high"] < facts["c_first"] < facts["c_last"]


# --- a scene's title is a claim too: its lesson only when the numbers its words quote support it ------------------

def _title_rules() -> dict:
    """scene key -> the title from the scene's facts, with the same predicates and thresholds as its words; scenes
    not listed have a title that names a topic, not a verdict."""
    from .conclusions import clear
    forget = {"shut": "The forget gate closes at a sentence end",
              "partway": "The forget gate closes partway at a sentence end",
              "open": "The forget gate stays open at this sentence end"}
    return {
        "sentence_end": lambda f: forget[drop_level(f["f_now"], f["f_mean"])],
        "number_rides": lambda f: None if f["took_note"] and f["carried"] else
        "Does the subject's number ride to its verb?",
        "quotes": lambda f: None if clear(f["r"]) else "The unit closest to knowing it is inside quotes",
        "sine": lambda f: None if clear(f["r"]) else "Which way is the wave going? No unit clearly knows",
        "short_gap": lambda f: None if copes(f["p_right"]) else "A short dependency: the plain RNN misses it",
        "long_gap": lambda f: None if washed_out(f["p_right"]) else
        "A long dependency: here the plain RNN still carries it",
        "sky": lambda f: None if copes(f["p_right"]) else "“The colour of the sky is ___”: this plain RNN misses it",
        "first_digit": lambda f: None if f["kept"] == "right" else "CNN-LSTM: does it remember what it saw first?",
        "handover": lambda f: None if f["answer_out"] == f["answer"] else
        "Encoder–decoder: one hand-over, and the answer it gives",
        "captions_gaze": lambda f: None if f["named"] >= 0 and f["share"] > 0.5 else
        "Where the LSTM looks when it says “{word}”",
        "bar_counter": lambda f: None if counts_bar(f) else "The unit closest to counting through the bar",
    }


class _Minus(string.Formatter):
    """Numbers with a true minus sign (−0.80), as the charts beside the words print them; a hyphen stays a hyphen
    in the words themselves."""

    def format_field(self, value, spec):
        out = super().format_field(value, spec)
        number = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
        return out.replace("-", "−") if number else out


def scene_words(scene: Scene, facts: dict) -> str:
    """The scene's words with its measured facts filled in."""
    return _Minus().format(scene.notice, **facts)


def scene_title(scene: Scene, facts: dict) -> str:
    """The title the scene shows: its lesson (scene.title, filled from the facts) when the facts support it, else
    the neutral or opposite title its rule gives."""
    rule = _title_rules().get(scene.key)
    title = (rule(facts) if rule is not None else None) or scene.title
    return title.format(**facts)


def flip_words(values, quotes: list, r: float, least: float = 0.25) -> str:
    """At how many quote marks the unit's value moves the way "inside quotes" predicts (opening: towards the sign of
    r, closing: away from it) by at least `least` of the strip's colour scale reach (max |value| over the line: a
    visible change of colour)."""
    v = np.asarray(values, dtype=float)
    size = float(np.abs(v).max()) or 1.0
    sign = 1.0 if r >= 0 else -1.0
    moved = 0
    for n, i in enumerate(quotes):
        if i == 0:
            continue
        want = sign if n % 2 == 0 else -sign                 # even: opening quote, odd: closing
        moved += (v[i] - v[i - 1]) * want >= least * size
    if moved == len(quotes):
        return "the colour of the text changes at every quote mark"
    return f"the colour of the text changes at {moved} of the {len(quotes)} quote marks"


def scene_trace(scene: Scene, model, data, check: bool = True):
    """(trace, step) of a scene on a model of its bundle's kind."""
    return KINDS[data.kind].scene_trace(scene, model, data, check=check)


def compare_facts(scene: Scene, facts: dict, trace, step: int) -> dict:
    """The other model's numbers on the same text and step: its probability of the truth, its best guess, and both
    models' top guesses for the side-by-side chart."""
    from .bundle import load_bundle
    other = load_bundle(scene.compare)
    other_trace, _ = scene_trace(scene, other.model, other.data, check=False)
    mine, theirs = scene.compare_label.split("|")
    rows = []
    for label, tr in ((mine, trace), (theirs, other_trace)):
        p = tr.predictions[tr.predictions["step"] == step]
        rows += [{"model": label, "guess": show(c), "prob": float(pr), "truth": c == tr.targets[step]}
                 for c, pr in zip(p["char"], p["prob"])]
    p_other = other_trace.predictions[other_trace.predictions["step"] == step]
    return {**facts, "p_other": float(p_other["actual_prob"].iloc[0]), "other_guess": show(p_other["char"].iloc[0]),
            "compare": rows}


# --- precomputed scenes: the first screen needs no torch ----------------------------------------------------------

def _bundle_sha(key: str) -> str:
    from .bundle import BUNDLE_DIR
    return hashlib.sha256((BUNDLE_DIR / f"{key}.safetensors").read_bytes()).hexdigest()


VIEW_SOURCES = ("charts.py", "step_charts.py", "explain.py", "view_store.py", "colours.py", "kinds/vision_charts.py",
                "kinds/vision_views.py", "kinds/melody_views.py", "kinds/word_views.py", "kinds/caption_views.py")
VIEW_METHODS = ("captions", "guesses", "no_guess", "step_views", "scene_views", "views", "unit_label")  # a kind's
# view code


@functools.lru_cache(maxsize=1)
def _views_sha() -> str:
    """The code the stored first views were drawn by — the chart modules and every kind's methods that write what
    the views show: a change to either makes the stored views stale (drawn anew at run time, and the scene test
    asks for `python -m lstm_demo.cli scenes`); a kind's other code (its training, its files) does not."""
    here = Path(__file__).resolve().parent
    text = "".join((here / name).read_text(encoding="utf-8") for name in VIEW_SOURCES)
    for name in sorted(KINDS):
        kind = type(KINDS[name])
        text += "".join(inspect.getsource(getattr(kind, m)) for m in VIEW_METHODS if hasattr(kind, m))
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def compute_scene(scene: Scene) -> tuple[Trace, dict, int]:
    """Trace the scene on its bundled model and measure what its words quote (needs torch)."""
    import torch

    from .bundle import load_bundle
    loaded = load_bundle(scene.bundle)
    kind = KINDS[loaded.data.kind]
    with torch.no_grad():
        trace, step = kind.scene_trace(scene, loaded.model, loaded.data)
        own = kind.scene_facts(scene, trace, step)
        facts = {**unit_facts(scene, loaded.model, loaded.data, trace, step, own.get("unit")), **own}
        if scene.compare:
            facts = compare_facts(scene, facts, trace, step)
        facts.update(phrases(scene, trace, step, facts))
    from .bundle import provenance
    facts["provenance"] = provenance(scene.bundle)
    if scene.compare:
        facts["compare_provenance"] = provenance(scene.compare)
    return trace, facts, step


def model_line(scene: Scene, facts: dict) -> str:
    """The line under a scene: its model (and the one it is compared with) and how each was trained, as
    bundle.provenance read it from the model's file when the scene was computed."""
    from .bundle import BUNDLES

    def said(key: str, how: str | None) -> str:
        return f"{BUNDLES[key].label}, bundled: {how}" if how else f"{BUNDLES[key].label}, bundled"
    return f"Model: {said(scene.bundle, facts.get('provenance'))}." + (
        f" Compared with: {said(scene.compare, facts.get('compare_provenance'))}." if scene.compare else "")


def scene_colour(scene: Scene, trace) -> str:
    return scene.colour if scene.colour in trace.names else "hidden_state"


def scene_views(scene: Scene, trace, facts: dict) -> dict:
    """The charts the scene opens on (its unit, colour, layer 1), keyed as the step view memoises them."""
    views = KINDS[trace.kind].scene_views(scene, trace, facts)
    if "compare" in facts:
        views[("compare",)] = compare_view(scene, facts)
    return views


def compare_view(scene: Scene, facts: dict) -> dict:
    """The chart of a scene with a second model: both models' top guesses for the same blank."""
    from .step_charts import compare_guesses_spec
    return {"chart": compare_guesses_spec(facts["compare"], scene.compare_label.split("|"))}


def save_scene(scene: Scene) -> Path:
    """Write the scene's trace, facts, step and first views next to the bundles (when the bundles are rebuilt), so
    the first screen needs neither torch nor a plotting library."""
    from .view_store import dump_views
    trace, facts, step = compute_scene(scene)
    SCENE_DIR.mkdir(parents=True, exist_ok=True)
    meta = {"facts": facts, "step": step, "bundle_sha256": _bundle_sha(scene.bundle), "views_sha256": _views_sha()}
    path = SCENE_DIR / f"{scene.key}.npz"
    path.write_bytes(trace.to_npz())
    views = scene_views(scene, trace, facts)
    flat = {(name, sub): spec for name, specs in views.items() for sub, spec in specs.items()}
    path.with_suffix(".views.zip").write_bytes(dump_views(flat))
    path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    return path


def load_scene(scene: Scene) -> tuple[Trace, dict, int, dict]:
    """(trace, facts, step, views): precomputed if they match the scene's bundle (no torch, no plotting library),
    else computed now. views: {memo key: {name: spec}} of the charts the scene opens on."""
    from .view_store import load_views
    path = SCENE_DIR / f"{scene.key}.npz"
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        if meta["bundle_sha256"] == _bundle_sha(scene.bundle):
            views = {}
            if meta.get("views_sha256") == _views_sha():
                for (name, sub), spec in load_views(path.with_suffix(".views.zip").read_bytes()).items():
                    views.setdefault(name, {})[sub] = spec
            return Trace.from_npz(path.read_bytes()), meta["facts"], int(meta["step"]), views
    except (OSError, ValueError, KeyError):
        pass
    trace, facts, step = compute_scene(scene)
    return trace, facts, step, {}
