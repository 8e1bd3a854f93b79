"""The melody kind's pictures (pure Altair over tidy frames, no Streamlit): the piano-roll strip of Step through, which
follows the browser's time cursor like the text strip (step_charts.py), and the static piano roll of a melody with
its seed and continuation (the Train page).

    roll strip:  one row per step (token) of the trace ->  x: time in quarter notes, y: pitch
                 a note is a bar coloured by a unit's value with a dot where it begins (repeated notes stay
                 apart); bar lines grey, beats dotted;
                 the cursor's note outlined (or a line where a bar, a beat, a rest or a start token is read), and the
                 model's top guess for the next token dashed where it would sound
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ..charts import SHORT, color_scale, configured_spec
from ..step_charts import AT_STEP, PRESENTER, SERIES_CAPTION_CHARS, caption_frame, finish, sentence_above, title_above
from ..view_store import with_data
from .music import BAR, BEAT, REST, TICKS_PER_QUARTER, parse_token_name

PITCH_NAMES = "['C','C♯','D','D♯','E','F','F♯','G','G♯','A','A♯','B']"   # music.NOTE_NAMES, as a Vega expression
PITCH_LABEL = f"{PITCH_NAMES}[datum.value % 12] + (floor(datum.value / 12) - 1)"   # 69 -> "A4"
LABELLED = (0, 4, 7)   # pitch classes named on the pitch axis: C, E, G (three an octave stay legible)
CURSOR = "#f28e2b"


def _what(token: tuple) -> str:
    if token[0] == "note":
        return "rest" if token[1] == REST else "note"
    return {BAR: "bar", BEAT: "beat"}.get(token, token[0])   # "start", "end"


def roll_steps_frame(trace, values: np.ndarray) -> pd.DataFrame:
    """Dataset "roll": one row per step — the token read (its name), what it is (note, rest, bar, beat, start, end),
    where it sounds (start, end in quarter notes from the first step; bar and beat tokens take no time), its pitch
    (NaN when it has none), the unit's value, the model's top guess for the next token and where that would sound
    (guess_pitch NaN when the guess is not a pitched note) and the top three guesses in words (tooltips)."""
    tokens = [parse_token_name(name) for name in trace.inputs]
    top = trace.predictions[trace.predictions["rank"] == 1].set_index("step")["char"]
    top3 = trace.predictions[trace.predictions["rank"] <= 3].groupby("step").apply(
        lambda g: "  ".join(f"{c} {p:.0%}" for c, p in zip(g["char"], g["prob"])), include_groups=False)
    rows, clock = [], 0
    for t, token in enumerate(tokens):
        ticks = token[2] if token[0] == "note" else 0
        guess = parse_token_name(top.get(t)) if t in top.index else None
        pitched_guess = guess is not None and guess[0] == "note" and guess[1] != REST
        rows.append({"step": t, "token": trace.inputs[t], "what": _what(token),
                     "start": clock / TICKS_PER_QUARTER, "end": (clock + ticks) / TICKS_PER_QUARTER,
                     "pitch": float(token[1]) if token[0] == "note" and token[1] != REST else np.nan,
                     "value": float(values[t]),
                     "guess": top.get(t, ""), "guess_pitch": float(guess[1]) if pitched_guess else np.nan,
                     "guess_end": (clock + ticks + (guess[2] if pitched_guess else 0)) / TICKS_PER_QUARTER,
                     "guesses": top3.get(t, "")})
        clock += ticks
    return pd.DataFrame(rows)


def pitch_axis(lo: float, hi: float) -> alt.Axis:
    """A pitch axis that names C, E and G of every octave in range (note names, not MIDI numbers)."""
    values = [p for p in range(int(lo), int(hi) + 1) if p % 12 in LABELLED]
    return alt.Axis(values=values, labelExpr=PITCH_LABEL, title="pitch", grid=True, gridOpacity=0.25)


def pitch_range(*columns) -> tuple[float, float]:
    """The drawn pitch range: every pitch in the columns with a semitone's margin (C4 … C5 when there is none)."""
    pitches = np.concatenate([np.asarray(c, dtype=float) for c in columns])
    pitches = pitches[np.isfinite(pitches)]
    if not pitches.size:
        return 59.0, 73.0
    return float(pitches.min() - 1), float(pitches.max() + 1)


def roll_strip_spec(n_steps: int, total: float, lo: float, hi: float, title: str, scale: alt.Scale,
                    value_title: str, height: int = 230, sentence_lines: int = 2, factor: float = 1.0) -> dict:
    """The piano-roll strip at the browser's cursor. Datasets "roll" (roll_steps_frame) and "captions". Every scale
    has a fixed domain (steps … time 0 … total, pitches lo … hi): a layer that moves with the cursor must not feed a
    scale, or every note is re-encoded at every move (see step_charts._steps_x)."""
    x = alt.X("start:Q", title="time (quarter notes)", scale=alt.Scale(domain=[0, max(total, 1.0)], nice=False))
    y = alt.Y("low:Q", scale=alt.Scale(domain=[lo, hi], nice=False, zero=False), axis=pitch_axis(lo, hi))
    base = alt.Chart(alt.NamedData("roll")).transform_calculate(low="datum.pitch - 0.42", high="datum.pitch + 0.42")
    notes = base.transform_filter("isValid(datum.pitch) && isFinite(datum.pitch)").mark_rect(
        stroke="#555", strokeWidth=0.5).encode(
        x=x, x2="end:Q", y=y, y2="high:Q",
        color=alt.Color("value:Q", scale=scale, title=value_title, legend=alt.Legend(orient="right",
                                                                                      gradientLength=90)),
        tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("token:N", title="note read"),
                 alt.Tooltip("value:Q", format="+.3f"), alt.Tooltip("guesses:N", title="top guesses next")])
    onsets = base.transform_filter("isValid(datum.pitch) && isFinite(datum.pitch)").mark_point(
        shape="circle", filled=True, size=14, color="#333", opacity=0.8).encode(
        x=x, y=alt.Y("pitch:Q", scale=alt.Scale(domain=[lo, hi], nice=False, zero=False)))
    lines = base.transform_filter("datum.what == 'bar' || datum.what == 'beat'").mark_rule(color="#888").encode(
        x=x, strokeDash=alt.StrokeDash("what:N", legend=None, scale=alt.Scale(domain=["bar", "beat"],
                                                                               range=[[1, 0], [2, 3]])),
        strokeWidth=alt.StrokeWidth("what:N", legend=None, scale=alt.Scale(domain=["bar", "beat"], range=[1.5, 0.8])))
    now = base.transform_filter(AT_STEP)
    outlined = now.transform_filter("isValid(datum.pitch) && isFinite(datum.pitch)").mark_rect(
        fill=None, stroke=CURSOR, strokeWidth=4).encode(x=x, x2="end:Q", y=y, y2="high:Q")
    marked = now.transform_filter("!(isValid(datum.pitch) && isFinite(datum.pitch))").mark_rule(
        color=CURSOR, strokeWidth=4).encode(x=x)
    guessed = now.transform_filter("isValid(datum.guess_pitch) && isFinite(datum.guess_pitch)").transform_calculate(
        g_low="datum.guess_pitch - 0.42", g_high="datum.guess_pitch + 0.42").mark_rect(
        fill=None, stroke="#222", strokeWidth=2, strokeDash=[4, 3]).encode(
        x=alt.X("end:Q", scale=alt.Scale(domain=[0, max(total, 1.0)], nice=False)), x2="guess_end:Q",
        y=alt.Y("g_low:Q", scale=alt.Scale(domain=[lo, hi], nice=False, zero=False)), y2="g_high:Q")
    chart = alt.layer(notes, onsets, lines, outlined, marked, guessed, sentence_above()).properties(
        height=height, width="container")
    if title:  # (none: the presenter's screen; the scene's words and the legend say what the colour is)
        chart = chart.properties(title=title_above(title, sentence_lines, factor=factor))
    return finish(chart)


def roll_strip(trace, values: np.ndarray, quantity: str, unit: int, captions: list, presenter: bool = False) -> dict:
    """The strip with its data: the notes of the trace coloured by one unit's `quantity` (values (T,)). presenter:
    shorter, with a shorter title (a scene's key views on one projector screen)."""
    frame = roll_steps_frame(trace, values)
    lo, hi = pitch_range(frame["pitch"], frame["guess_pitch"])
    total = float(max(frame["end"].max(), frame["guess_end"].max())) if len(frame) else 1.0
    title = ("" if presenter else
             f"The melody as a piano roll, notes coloured by unit u{unit}'s {SHORT[quantity]} "
             f"({quantity.replace('_', ' ')}); outlined: the cursor, dashed: the model's top guess next")
    said = caption_frame(captions, SERIES_CAPTION_CHARS[presenter])
    spec = roll_strip_spec(trace.n_steps, total, lo, hi, title, color_scale(quantity, values), SHORT[quantity],
                           height=120 if presenter else 230, factor=PRESENTER["fonts"] if presenter else 1.0,
                           sentence_lines=int(said["text"].str.count("\n").max()) + 1 if len(said) else 1)
    return with_data(spec, roll=frame, captions=said)


# --- a melody's piano roll (not tied to the cursor) --------------------------------------------------------------

def roll_chart(frame: pd.DataFrame, title: str, height: int = 220) -> dict:
    """A static piano roll of music.roll_frame(notes, seed_len): the seed and the continuation in two colours (a
    legend names them), note names in the tooltips."""
    lo, hi = pitch_range(frame["pitch"])
    total = float(frame["end"].max()) if len(frame) else 1.0
    parts = [p for p in ("seed", "continuation") if p in set(frame["part"])] or ["seed"]
    x = alt.X("start:Q", title="time (quarter notes)", scale=alt.Scale(domain=[0, max(total, 1.0)], nice=False))
    y_scale = alt.Scale(domain=[lo, hi], nice=False, zero=False)
    base = alt.Chart(frame)
    notes = base.transform_calculate(low="datum.pitch - 0.42", high="datum.pitch + 0.42").mark_rect(
        stroke="#333", strokeWidth=0.5).encode(
        x=x, x2="end:Q", y=alt.Y("low:Q", scale=y_scale, axis=pitch_axis(lo, hi)), y2="high:Q",
        color=alt.Color("part:N", title=None, scale=alt.Scale(domain=parts, range=["#4e79a7", "#f28e2b"][:len(parts)]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("note:N"), alt.Tooltip("part:N"), alt.Tooltip("start:Q", title="at quarter",
                                                                           format=".2f")])
    onsets = base.mark_point(shape="circle", filled=True, size=14, color="#333", opacity=0.8).encode(
        x=x, y=alt.Y("pitch:Q", scale=y_scale))  # where each note begins: repeated notes stay apart
    return configured_spec(alt.layer(notes, onsets).properties(height=height, width="container", title=title))

