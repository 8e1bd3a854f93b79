"""The step-following views, drawn in the browser at the browser's cursor. Pure Altair over tidy frames; no Streamlit.

Each spec holds the data of *every* step and a Vega-Lite parameter `step` bound to the page's body, where
lstm_demo/ui/cursor.js keeps the step (body.value, announced with a "lstm-step" event). Moving the cursor sets that element and every view filters or positions
on `step` in the browser: no script run, no data sent. A spec therefore never depends on the current step — it is
built once per sequence, layer, direction and unit — and `at_step()` fixes the step for rendering outside a browser
(exports, tests).

    server:  trace -> frames for all steps -> specs (once per sequence/unit) ----> browser
    browser: cursor (keys, slider, Play) -> body.value + "lstm-step" -> every view redraws from its data
"""
from __future__ import annotations

import copy

import altair as alt
import numpy as np
import pandas as pd

from .colours import ink, ramp, scale_of
from .charts import CELL_NAMES, COLORS, FONT, LABELS, SHORT, color_scale, configured_spec, heatmap_image
from .names import quote, show
from .explain import diagram_tables, step_terms, width_words
from .view_store import with_data

STEP_BUS = "body"              # the element every view listens to: always there, never replaced (cursor.js)
STEP_EVENT = "lstm-step"       # the event the cursor fires on it when the step moves
STEP = "(isValid(toNumber(step)) ? toNumber(step) : 0)"  # the step as a number (a bound element's value is text)
AT_STEP = f"datum.step == {STEP}"
SVG = {"embedOptions": {"renderer": "svg"}}  # SVG updates only the marks that change; its text can be read back
TEXT_COLUMNS = 24              # characters per row of the text strip: 480 px, beside the cell diagram in half a
                               # 1440 px page with the sidebar open (ui/common.CSS scales it a little at 1280)
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"
CHAR_EM = 0.56      # a proportional font's average character width in ems, on the wide side (Source Sans 3 ≈ 0.5)
MONO_EM = 0.61      # a monospace character in ems (DejaVu Sans Mono 0.602)
TITLE_CHARS = 44    # characters per line of a chart's title: two views side by side, or one on a phone, fit them


def text_px(text: str, size: float, em: float = CHAR_EM) -> float:
    """The width of a line of text in pixels, estimated from its characters (Vega cannot wrap or measure ahead)."""
    return len(text) * size * em


def wrap(text: str, chars: int = TITLE_CHARS):
    """Text as lines of at most `chars` characters (a chart title or label given as lines never gets cut by Vega);
    one line stays a string."""
    import textwrap
    lines = textwrap.wrap(text, chars, break_on_hyphens=False) or [""]
    return lines[0] if len(lines) == 1 else lines


def lines(text: str, chars: int) -> list[str]:
    """Text as a list of lines of at most `chars` characters."""
    found = wrap(text, chars)
    return found if isinstance(found, list) else [found]


def precision(fmt: str) -> int:
    """Digits after the point a d3/Python format spec shows (".0%" shows 2 of the fraction)."""
    digits = int(fmt.split(".")[1].rstrip("f%eg") or 0) if "." in fmt else 0
    return digits + 2 if fmt.endswith("%") else digits


def nz(expr: str, fmt: str) -> str:
    """Vega expression: expr, or 0 where fmt would round it to zero — so a tiny negative shows as 0.00, not
    −0.00 (explain.number does the same in Python)."""
    return f"(abs({expr}) < {0.5 * 10 ** -precision(fmt)!r} ? 0 : {expr})"


def step_param(value: int = 0) -> alt.Parameter:
    return alt.param(name="step", value=int(value), bind=alt.BindDirect(element=STEP_BUS, event=STEP_EVENT))


def finish(chart, data: dict | None = None) -> dict:
    """Spec dict with the step parameter, Arrow datasets (data: named datasets the spec carries itself), the SVG
    renderer and, for a single view, a height that is the plot's (see charts.fit_width)."""
    spec = configured_spec(chart.add_params(step_param()))
    spec["usermeta"] = SVG
    return with_data(spec, **data) if data else spec


def at_step(spec: dict, step: int) -> dict:
    """The spec with its step fixed (no binding): for rendering outside a browser, e.g. an export of this step."""
    out = copy.copy(spec)
    out["params"] = [({**p, "value": int(step)} if p.get("name") == "step" else p) for p in spec.get("params", [])]
    for p in out["params"]:
        p.pop("bind", None) if p.get("name") == "step" else None
    out.pop("usermeta", None)
    return out


def _steps_x(n_steps: int, title: str = "time step") -> alt.X:
    """A time-step x axis over 0…n_steps-1. Views with a cursor layer give their scales fixed domains: a domain
    taken from the layers would be fed by the cursor's data, recomputed at every move, and every mark on that scale
    re-encoded and redrawn (measured: 18 of the text strip's 19 ms per move at 256 steps)."""
    return alt.X("step:Q", title=title, scale=alt.Scale(domain=[0, max(n_steps - 1, 1)], nice=False),
                 axis=STEP_AXIS)


STEP_AXIS = alt.Axis(tickMinStep=1, format="d")  # an axis of time steps is ticked at whole steps


def heading(text: str, subtitle: str | None = None, chars: int = TITLE_CHARS) -> alt.TitleParams:
    """A chart's title (and subtitle) broken into lines of at most `chars` characters, never shortened with '…'
    (Streamlit limits a title to the chart's width otherwise)."""
    return alt.TitleParams(wrap(text, chars), subtitle=wrap(subtitle, chars) if subtitle else alt.Undefined,
                           subtitleFontSize=14, subtitleColor="#444", limit=0)


def text_rule() -> alt.Chart:
    """A one-row dataset that carries the current step: rules and labels position on it. A cursor rule is clipped
    to its plot: a chart embedded while the page still holds another sequence's step (the scene before) draws it
    off the plot for a moment, and Vega, fitting the chart to its column, kept the height of that layout (the x
    axis's title was cut)."""
    return alt.Chart(alt.Data(values=[{"one": 1}])).transform_calculate(step=STEP)


# --- the text strip (or the series) and a sentence saying what happens at this step -----------------------------

STRIP = {"tile": (20, 30), "letter": 17, "caption": 18, "title": 16}      # the text strip's sizes (px)
PRESENTER_STRIP = {"tile": (27, 38), "letter": 24, "caption": 25, "title": 22}  # … on a projector


def strip_chars(n_steps: int, columns: int, style: dict, font: str = "caption") -> int:
    """Characters of a sentence (or title) in `font` that fit on one line above the strip."""
    return max(16, int(min(n_steps, columns) * style["tile"][0] / (style[font] * CHAR_EM)))


def caption_frame(captions: list, chars: int | None = None) -> pd.DataFrame:
    """Dataset "captions": one sentence per step (the kind writes them: lstm_demo/kinds/), broken into lines of
    at most `chars` characters (None: one line each)."""
    text = captions if chars is None else ["\n".join(lines(c, chars)) for c in captions]
    return pd.DataFrame({"step": np.arange(len(captions)), "text": text})


def _caption(width, lines: int = 1, font: float = 18) -> alt.Chart:
    line = round(1.3 * font)
    return alt.Chart(alt.NamedData("captions")).transform_filter(AT_STEP).mark_text(
        align="left", baseline="top", fontSize=font, fontWeight="bold", color="#222", lineBreak="\n",
        lineHeight=line).encode(x=alt.value(0), y=alt.value(2), text="text:N").properties(
        height=line * lines + 4, width=width)


def text_colour_frame(trace, values: np.ndarray, columns: int = TEXT_COLUMNS, quantity: str = "cell_state",
                      scale_values: np.ndarray | None = None) -> pd.DataFrame:
    """One row per input character with the unit's value, the model's top-3 guesses at that step and the letter's
    ink: black or white, whichever reads better on the tile's colour (the quantity's scale over scale_values, as
    color_scale draws it; WCAG contrast at least 4.58:1)."""
    steps = np.arange(trace.n_steps)
    top = trace.predictions[trace.predictions["rank"] <= 3]
    guesses = top.groupby("step").apply(
        lambda g: "  ".join(f"{show(c)} {p:.0%}" for c, p in zip(g["char"], g["prob"])), include_groups=False)
    scheme, lo, hi, reverse = scale_of(quantity, values if scale_values is None else scale_values)
    return pd.DataFrame({"step": steps, "row": steps // columns, "col": steps % columns,
                         "char": [show(c) for c in trace.inputs], "value": values,
                         "ink": ink(ramp(values, lo, hi, scheme, reverse)),
                         "guesses": guesses.reindex(steps).to_numpy()})


def text_strip_spec(n_steps: int, title: str, scale: alt.Scale, columns: int = TEXT_COLUMNS, style: dict = STRIP,
                    caption_lines: int = 1) -> dict:
    """The input characters in rows, each on a tile coloured by one unit's value; the character at the cursor is
    outlined and the sentence above says what happens there (caption_lines: the most lines a step's sentence
    takes, caption_frame(…, strip_chars(…))); the title is broken to the strip's width. Datasets "chars"
    (text_colour_frame), "captions"."""
    cols = min(n_steps, columns)
    tile_w, tile_h = style["tile"]
    rows = -(-n_steps // columns)
    # fixed domains (see _steps_x): the outlined tile's layer must not feed the scales of every tile and letter
    base = alt.Chart(alt.NamedData("chars")).encode(
        x=alt.X("col:O", axis=None, scale=alt.Scale(domain=list(range(cols)))),
        y=alt.Y("row:O", axis=None, scale=alt.Scale(domain=list(range(rows)))))
    tiles = base.mark_rect().encode(color=alt.Color("value:Q", scale=scale, title="value",
                                                    legend=alt.Legend(orient="right", gradientLength=70)),
                                    tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("char:N", title="input"),
                                             alt.Tooltip("value:Q", format="+.3f"),
                                             alt.Tooltip("guesses:N", title="top guesses")])
    letters = base.mark_text(font=MONO, fontSize=style["letter"]).encode(
        text="char:N", color=alt.condition("datum.ink == 'white'", alt.value("white"), alt.value("black")))
    cursor = base.transform_filter(AT_STEP).mark_rect(fill=None, stroke="#f28e2b", strokeWidth=4)
    heading = alt.TitleParams(wrap(title, strip_chars(n_steps, columns, style, "title")), fontSize=style["title"],
                              limit=0)
    strip = (tiles + letters + cursor).properties(width=alt.Step(tile_w), height=alt.Step(tile_h), title=heading)
    return finish(alt.vconcat(_caption(cols * tile_w, caption_lines, style["caption"]), strip, spacing=4))


def series_points_frame(trace) -> pd.DataFrame:
    p = trace.predictions
    return pd.concat([pd.DataFrame({"step": p["step"], "what": "actual next value", "value": p["actual"]}),
                      pd.DataFrame({"step": p["step"], "what": "predicted next value", "value": p["predicted"]})],
                     ignore_index=True)


SERIES_CAPTION_CHARS = {False: 52, True: 90}  # characters per line of a sentence above a plot (normal, presenter)
SENTENCE = {"font": 16, "line": 20}           # … its letters and line height (px)


def sentence_above() -> alt.Chart:
    """The step's sentence (dataset "captions", lines split by a line break) just above a single view's plot. One
    layered view, not a caption chart above it: only a single view fits the page's width with its axis and legend
    inside (a concatenation spilled over the right edge); the sentence sits in the room its title leaves it
    (title_above), so its length never resizes the view at a step, and it wraps instead of being cut with '…'."""
    # Vega puts a multi-line text's first line at y and the others below it, whatever the baseline: the sentence
    # is lifted by its extra lines, so that its last line, not its first, ends just above the plot
    return alt.Chart(alt.NamedData("captions")).transform_filter(AT_STEP).transform_calculate(
        lift=f"-(length(split(datum.text, '\\n')) - 1) * {SENTENCE['line']}").mark_text(
        align="left", baseline="bottom", fontSize=SENTENCE["font"], fontWeight="bold", color="#222", dy=-8,
        lineBreak="\n", lineHeight=SENTENCE["line"]).encode(x=alt.value(0), y=alt.Y("lift:Q", scale=None),
                                                             text="text:N")


def title_above(text: str, sentence_lines: int, chars: int = 60, factor: float = 1.0) -> alt.TitleParams:
    """A view's title in lines of `chars`, lifted above the sentence_above lines under it (factor: the letters'
    scale, for a spec that scaled() will enlarge — it grows the letters, not this offset)."""
    title = heading(text, chars=chars)
    title.offset = round(12 + SENTENCE["line"] * sentence_lines * factor)
    return title


def series_strip_spec(unit: str, n_steps: int, lo: float, hi: float, height: int = 240, presenter: bool = False,
                      caption_lines: int = 2) -> dict:
    """The series and the one-step predictions with the point at the cursor, and above the plot the step's
    sentence in up to caption_lines lines (caption_frame(…, SERIES_CAPTION_CHARS[presenter])). Datasets "points",
    "captions". Fixed domains (see _steps_x): steps 0…n_steps-1, values lo…hi."""
    x = _steps_x(n_steps, None if presenter else "time step")
    y = alt.Y("value:Q", title=unit or "value", scale=alt.Scale(domain=[lo, hi] if hi > lo else [lo - 1, hi + 1],
                                                                zero=False, nice=True))
    lines = alt.Chart(alt.NamedData("points")).mark_line().encode(
        x=x, y=y,
        color=alt.Color("what:N", title=None, scale=alt.Scale(domain=["actual next value", "predicted next value"],
                                                              range=["#4e79a7", "#f28e2b"]),
                        legend=alt.Legend(orient="bottom", direction="horizontal", labelLimit=0)),
        tooltip=["step:Q", "what:N", alt.Tooltip("value:Q", format=".3f")])
    now = alt.Chart(alt.NamedData("points")).transform_filter(AT_STEP).mark_point(size=180, filled=True, clip=True).encode(
        x=x, y=y, color=alt.Color("what:N"))
    rule = text_rule().mark_rule(color="black", strokeWidth=2, clip=True).encode(x=x)
    # the legend sits below, so the plot and the sentence have the column's width
    chart = (lines + rule + now + sentence_above()).properties(height=height, width="container")
    if not presenter:  # (on a projector the scene's words and the legend say what it is: its room goes to the plot)
        chart = chart.properties(title=title_above(
            "Series: the model's prediction for the next point vs what came", caption_lines))
    return finish(chart)


# --- the cell diagram and the equations -----------------------------------------------------------------------------

def terms_long(terms: pd.DataFrame) -> pd.DataFrame:
    """step_terms() as (k = "term@step", value) rows: the diagram looks its numbers up by term and cursor."""
    long = terms.melt(id_vars="step", var_name="term", value_name="value")
    return pd.DataFrame({"k": long["term"] + "@" + long["step"].astype(str), "value": long["value"]})


def _say(field: str, fmt: str) -> str:
    """Vega expression: a number of the current row, formatted as explain.number does (no "−0.00")."""
    return f"format({nz(f'datum.{field}', fmt)}, '{fmt}')"


_WORDS = {  # what the diagram shows, in words, a short line each (Vega expressions over the row at the cursor)
    "lstm": (f"'The forget gate keeps ' + {_say('f', '.0%')} + ' of the old cell state (' + "
             f"{_say('c_prev', '+.2f')} + ' → ' + {_say('kept', '+.2f')} + ');'",
             f"'the input gate lets in ' + {_say('i', '.0%')} + ' of the candidate ' + {_say('g', '+.2f')} + "
             f"' (writes ' + {_say('written', '+.2f')} + ');'",
             f"'the output gate shows ' + {_say('o', '.0%')} + ' of tanh(c) as h.'"),
    "gru": (f"'The update gate keeps ' + {_say('z', '.0%')} + ' of the old state (' + "
            f"{_say('h_prev', '+.2f')} + ' → ' + {_say('kept', '+.2f')} + ')'",
            f"'and writes ' + {_say('one_minus_z', '.0%')} + ' of the candidate ' + {_say('n', '+.2f')} + ';'",
            f"'the reset gate let the candidate see ' + {_say('r', '.0%')} + ' of the old state.'"),
    "rnn": ("'A plain RNN has no gates and no conveyor belt: the new state'",
            "'is tanh of a mix of the input and the old state, so old information'",
            "'is squashed and mixed again at every step.'"),
}

# The diagram is drawn at a fixed size in pixels, laid out from its letters' size: gate boxes and circles as wide as
# their labels, the rows far enough apart that a label never meets a circle or the belt (at its widest, 24 px). A
# narrower column scales the whole picture down (ui/cursor.css), so nothing collides at any width the page uses.
DIAGRAM = {"width": 540, "height": 300, "font": 14, "end_font": 16}
MAX_STROKE = 24            # px: the widest path (|value| of 1.5 or more)
NUMBER_CHARS = 7           # the longest number a diagram label shows ("−123.45")
ROWS = {"top": 60.5, "mid": 59.5}  # y of the labels above the belt (y = 52), in the diagram's 0…62 units


BOUNDED = {"f": "0.00", "i": "0.00", "o": "0.00", "z": "0.00", "r": "0.00", "g": "+0.00", "n": "+0.00",
           "h": "+0.00", "h_prev": "+0.00", "tanh_c": "+0.00", "written": "+0.00"}  # values within −1…1


def widest(term: str) -> str:
    """The widest number a diagram label of this term shows: gates and tanh within −1…1, the cell state unbounded
    (NUMBER_CHARS)."""
    if not term:
        return ""
    return BOUNDED.get(term, "−" + "8" * (NUMBER_CHARS - 4) + ".88")


def _gate_label(prefix: str) -> str:
    """A gate box's first line without the activation's name ("forget σ" -> "forget"): the equations beside the
    diagram say σ and tanh, and a short line keeps the boxes small enough for large type."""
    head, _, rest = prefix.partition("\n")
    if not rest:
        return prefix
    short = head.replace(" σ", "").replace(" tanh", "")
    return (short or head) + "\n" + rest


def diagram_layout(cell: str, direction: int = 0, font: float = 14, end_font: float = 16, width: float = 540,
                   height: float = 300) -> tuple:
    """(nodes, geometry): the node table of explain.diagram_tables with each label's box (its half width and
    height in the diagram's units: x 0…100, y 0…62) and each circle's size (px²), for this font; geometry = the
    pixel size the diagram needs — at least width × height, more where the letters need room. Widths are estimates
    from the number of characters (text_px), on the wide side for the fonts a browser may use."""
    _, nodes = diagram_tables(cell, direction)
    nodes = nodes.assign(prefix=[_gate_label(p) if s == "gate" else p for p, s in zip(nodes["prefix"],
                                                                                      nodes["shape"])])
    lines = [(r.prefix + widest(r.term) + r.suffix).split("\n") for r in nodes.itertuples()]
    wide = [max(text_px(line, font) for line in ls) for ls in lines]
    line_h = 1.2 * font
    box_w = max([w for w, s in zip(wide, nodes["shape"]) if s == "gate"], default=0) + 14
    box_h = 2 * line_h + 8
    radius = [max(font, w / 2 + 5) if s == "op" else 0 for w, s in zip(wide, nodes["shape"])]
    r_belt = max([r for r, y in zip(radius, nodes["y"]) if y == 52] + [font])  # circles on the belt
    x_gates = sorted(nodes.loc[nodes["shape"] == "gate", "x"])
    gap = min([b - a for a, b in zip(x_gates, x_gates[1:])], default=100)
    written = max([text_px(r.prefix + widest(r.term), end_font) for r in nodes.itertuples()
                   if r.shape == "left" and r.y < 52], default=0)  # the label beside the candidate's path
    need_w = max(width, 100 * (box_w + 10) / gap,                                   # gate boxes apart
                 100 * (written + max(radius) + 8) / 27)                              # "written" clear of "tanh"
    need_h = max(height, 62 * (max(r_belt, MAX_STROKE / 2) + 0.6 * end_font + 3) / (ROWS["top"] - 52),  # belt labels
                 62 * (MAX_STROKE / 2 + 0.6 * font + 3) / (ROWS["mid"] - 52),
                 62 * (box_h / 2 + r_belt + 6) / 18)                                  # boxes clear of the × above
    nodes = nodes.assign(
        y=[ROWS["top"] if s in ("left", "right") and y > 52 else ROWS["mid"] if s == "mid" and y > 52 else y
           for s, y in zip(nodes["shape"], nodes["y"])],
        hw=100 * box_w / 2 / need_w, hh=62 * box_h / 2 / need_h,
        size=[(2 * r) ** 2 for r in radius],  # a symbol's size is the area of its bounding square
        tiny=[0.5 * 10 ** -precision(f) if t else 0.0 for f, t in zip(nodes["fmt"], nodes["term"])])
    return nodes, {"width": round(need_w), "height": round(need_h), "font": font, "end_font": end_font,
                   "line": line_h}


def diagram_spec(cell: str, title: str, height: int = DIAGRAM["height"], words: bool = True, how: str | None = None,
                 direction: int = 0, font: float = DIAGRAM["font"], end_font: float = DIAGRAM["end_font"],
                 width: int = DIAGRAM["width"]) -> dict:
    """The tutorials' cell diagram; a path's width is |the value flowing along it| at the cursor, and three lines
    say it in words. how: how to read it, a subtitle under the title. direction 1: the backward half (c(t+1)).
    Drawn at a fixed size laid out for its letters (diagram_layout). Datasets "dg_edges", "dg_nodes"
    (diagram_tables / diagram_layout), "dg_terms" (terms_long), "terms"."""
    nodes_table, geo = diagram_layout(cell, direction, font, end_font, width, height)
    w, h = geo["width"], geo["height"]
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[0, 100], nice=False))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[0, 62], nice=False))
    colors = {**COLORS, "input": "#bab0ac"}
    heading = alt.TitleParams(title, subtitle=how or alt.Undefined, subtitleFontSize=max(13, font - 1),
                              subtitleColor="#444", fontSize=max(16, end_font), limit=0)
    lookup = dict(lookup="k", from_=alt.LookupData(data=alt.NamedData("dg_terms"), key="k", fields=["value"]))
    edges = alt.Chart(alt.NamedData("dg_edges")).transform_calculate(k=f"datum.term + '@' + {STEP}").transform_lookup(
        **lookup).transform_calculate(width="datum.term ? min(abs(datum.value), 1.5) : 0.05").mark_rule(
        strokeCap="round", opacity=0.85).encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q",
        strokeWidth=alt.StrokeWidth("width:Q", legend=None, scale=alt.Scale(domain=[0, 1.5], range=[1, MAX_STROKE])),
        color=alt.Color("quantity:N", legend=None, scale=alt.Scale(domain=list(colors), range=list(colors.values()))),
        tooltip=["name:N", alt.Tooltip("value:Q", format="+.3f")])
    nodes = alt.Chart(alt.NamedData("dg_layout")).transform_calculate(k=f"datum.term + '@' + {STEP}").transform_lookup(
        **lookup).transform_calculate(
        label="datum.term ? datum.prefix + format(abs(datum.value) < datum.tiny ? 0 : datum.value, datum.fmt) "
              "+ datum.suffix : datum.prefix")
    boxes = nodes.transform_filter("datum.shape == 'gate'").transform_calculate(
        x1="datum.x - datum.hw", x2="datum.x + datum.hw", y1="datum.y - datum.hh", y2="datum.y + datum.hh").mark_rect(
        fill="white", stroke="#333", strokeWidth=1.5, cornerRadius=4).encode(
        x=alt.X("x1:Q", axis=None, scale=alt.Scale(domain=[0, 100], nice=False)), x2="x2:Q",
        y=alt.Y("y1:Q", axis=None, scale=alt.Scale(domain=[0, 62], nice=False)), y2="y2:Q")
    ops = nodes.transform_filter("datum.shape == 'op'").mark_circle(color="white", stroke="#333", strokeWidth=1.5,
                                                                     opacity=1).encode(
        x=x, y=y, size=alt.Size("size:Q", scale=None, legend=None))
    text = lambda shape, **kw: nodes.transform_filter(f"datum.shape == '{shape}'").mark_text(**kw).encode(
        x=x, y=y, text="label:N")
    line = geo["line"]
    diagram = alt.layer(edges, boxes, ops,
                        text("gate", fontSize=font, lineBreak="\n", lineHeight=line, dy=-line / 2),
                        text("op", fontSize=font), text("left", align="left", fontSize=end_font),
                        text("right", align="right", fontSize=end_font),
                        text("mid", fontSize=font, color="#444")).properties(height=h, width=w, title=heading)
    if not words:  # the presenter view: the equations beside it say the same
        return finish(diagram, data={"dg_layout": nodes_table})
    sentences = _WORDS[cell]
    names = [f"w{k}" for k in range(len(sentences))]
    said = alt.Chart(alt.NamedData("terms")).transform_filter(AT_STEP).transform_calculate(
        **dict(zip(names, sentences))).transform_fold(names, as_=["line", "text"]).mark_text(
        align="left", baseline="top", fontSize=font + 1, color="#333").encode(
        x=alt.value(0), y=alt.Y("line:O", axis=None, scale=alt.Scale(domain=names)), text="text:N").properties(
        height=round(1.45 * (font + 1)) * len(names), width=w)
    return finish(alt.vconcat(diagram, said, spacing=2), data={"dg_layout": nodes_table})


_EQUATIONS = {  # each line: literal text and (term, format, in parentheses if negative); {prev} = t−1 or t+1
    "lstm": [(["f = σ(", ("pre_f",), ") = ", ("f",), "   forget gate"], "forget_gate"),
             (["i = σ(", ("pre_i",), ") = ", ("i",), "   input gate"], "input_gate"),
             (["g = tanh(", ("pre_g",), ") = ", ("g",), "   candidate"], "candidate"),
             (["c(t) = f·c({prev}) + i·g"], None),
             (["\u00a0" * 5 + "= ", ("f", True), "·", ("c_prev", True), " + ", ("i", True), "·", ("g", True)], None),
             (["\u00a0" * 5 + "= ", ("kept",), " kept + ", ("written",), " written = ", ("c",)], "cell_state"),
             (["o = σ(", ("pre_o",), ") = ", ("o",), "   output gate"], "output_gate"),
             (["h(t) = o·tanh(c(t)) = ", ("o", True), "·", ("tanh_c", True), " = ", ("h",)], "hidden_state")],
    "gru": [(["r = σ(", ("pre_r",), ") = ", ("r",), "   reset gate"], "#b8860b"),
            (["z = σ(", ("pre_z",), ") = ", ("z",), "   update gate"], "update_gate"),
            (["n = tanh(", ("pre_n",), ") = ", ("n",), "   candidate"], "new_gate"),
            (["h(t) = z·h({prev}) + (1−z)·n"], None),
            (["\u00a0" * 5 + "= ", ("z", True), "·", ("h_prev", True), " + ", ("one_minus_z", True), "·", ("n", True)],
             None),
            (["\u00a0" * 5 + "= ", ("kept",), " kept + ", ("written",), " written = ", ("h",)], "hidden_state")],
    "rnn": [(["h(t) = tanh(W_ih·x(t) + W_hh·h({prev}) + b)"], None),
            (["\u00a0" * 5 + "= tanh(", ("pre",), ") = ", ("h",)], "hidden_state")],
}
EQ_FORMAT = ".3f"


def _colour(name) -> str:
    return "#222" if name is None else COLORS.get(name, name)


def _lines(cell: str, direction: int) -> list:
    """(Vega expression, colour) per line of the cell's equations, filled from the row of step_terms at the cursor."""
    prev = "t−1" if direction == 0 else "t+1"
    out = []
    for parts, colour in _EQUATIONS[cell]:
        pieces = []
        for p in parts:
            if isinstance(p, str):
                pieces.append("'" + p.replace("{prev}", prev) + "'")
            else:
                value = _say(p[0], EQ_FORMAT)
                pieces.append(f"(datum.{p[0]} < 0 && {value} != '0.000' ? '(' + {value} + ')' : {value})"
                              if len(p) > 1 else value)
        out.append((" + ".join(pieces), _colour(colour)))
    return out


def equation_chars(cell: str, terms: pd.DataFrame) -> int:
    """The longest line of the cell's equations over every step of terms, in characters (the view's width)."""
    from .explain import number
    longest = 0
    for parts, _ in _EQUATIONS[cell]:
        fixed = sum(len(p.replace("{prev}", "t−1")) for p in parts if isinstance(p, str))
        numbers = 0
        for p in parts:
            if not isinstance(p, str):
                shown = terms[p[0]].map(lambda v: number(v, EQ_FORMAT))
                numbers += int(shown.str.len().max()) + (2 if len(p) > 1 and (terms[p[0]] < 0).any() else 0)
        longest = max(longest, fixed + numbers)
    return longest


def equations_spec(cell: str, direction: int, unit_label: str, who: str | None = None, font: float = 15,
                   chars: int | None = None) -> dict:
    """The cell's equations with the numbers of one unit at the cursor (gate lines in the gates' colours).
    Dataset "terms" (explain.step_terms). who: what the heading names instead of "unit <label>" (a map's pixel).
    chars: the longest line (equation_chars) — the view is then as wide as its text, so a narrow column scales it
    down instead of cutting it; None: as wide as the column."""
    lines = _lines(cell, direction)
    names = [f"l{k}" for k in range(len(lines))]
    base = alt.Chart(alt.NamedData("terms")).transform_filter(AT_STEP).transform_calculate(
        **{name: expr for name, (expr, _) in zip(names, lines)},
        head=f"'Equations for {who or 'unit ' + unit_label} at step ' + datum.step")
    head_font = round(font * 17 / 15, 1)
    line = round(1.35 * font)
    head = base.mark_text(align="left", baseline="top", fontSize=head_font, fontWeight="bold", color="#222").encode(
        x=alt.value(0), y=alt.value(0), text="head:N")
    body = base.transform_fold(names, as_=["line", "text"]).mark_text(
        align="left", baseline="top", font=MONO, fontSize=font).encode(
        x=alt.value(0), y=alt.Y("line:O", axis=None, scale=alt.Scale(domain=names, paddingOuter=0)),
        text="text:N", color=alt.Color("line:N", legend=None, scale=alt.Scale(
            domain=names, range=[c for _, c in lines])))
    heading_w = text_px(f"Equations for {who or 'unit ' + unit_label} at step 000", head_font)
    width = "container" if chars is None else round(max(chars * MONO_EM * font, heading_w) + 8)
    chart = alt.vconcat(head.properties(height=round(1.4 * head_font), width=width),
                        body.properties(height=line * len(lines), width=width), spacing=6)
    return finish(chart)


# --- the model's answer at the cursor ---------------------------------------------------------------------------

def topk_frame(trace) -> pd.DataFrame:
    """Dataset "topk": the model's guesses at the steps where it answers (rank, shown, prob, is_actual, pct)."""
    p = trace.predictions
    truth = np.asarray(trace.targets, dtype=object)[p["step"].to_numpy()]
    return p.assign(shown=[show(c) for c in p["char"]], is_actual=p["char"].to_numpy() == truth,
                    pct=[f"{x:.0%}" for x in p["prob"]])


NO_TRUTH = "No known answer: a typed source has no truth to compare with"
HEAD_CHARS = 46   # characters per line of the sentence above the top guesses


def topk_heads(trace, no_guess=None, no_truth: str = NO_TRUTH) -> pd.DataFrame:
    """Dataset "topk_head": a sentence per step above the top guesses, in lines of HEAD_CHARS — the truth and its
    probability; no_truth where there is no known truth (a typed source, a caption past its true end); or, at a
    step where the model gives no guess (an encoder reading its source), no_guess(step) (default: "No guess at
    step t")."""
    p = trace.predictions
    first = p[p["rank"] == 1].set_index("step")
    heads, inks = [], []
    for t in range(trace.n_steps):
        truth = trace.targets[t] if t < len(trace.targets) else None
        if t not in first.index:
            text, colour = no_guess(t) if no_guess else f"No guess at step {t}", "#333"
        elif truth is None or (isinstance(truth, str) and not truth) or (isinstance(truth, float)
                                                                         and not np.isfinite(truth)):
            text, colour = no_truth, "#333"
        else:
            text, colour = f"truth {quote(truth)}: {first.loc[t, 'actual_prob']:.0%}", "#2e6b27"
        heads.append("\n".join(lines(text, HEAD_CHARS)))
        inks.append(colour)
    return pd.DataFrame({"step": np.arange(trace.n_steps), "text": heads, "ink": inks})


def top_ranks(frame: pd.DataFrame) -> int:
    """How many guesses a step shows (topk_frame's largest rank; 1 for a trace without guesses)."""
    return int(frame["rank"].max()) if len(frame) else 1


GUESS_FONT = 17  # px: the guessed characters or words, monospace


def label_width(frame: pd.DataFrame) -> int:
    """Pixels the widest guessed token needs (a character, or a word of a word-level model)."""
    longest = int(frame["shown"].str.len().max()) if len(frame) else 1
    return round(text_px("x" * max(longest, 1), GUESS_FONT, MONO_EM)) + 6


def topk_parts(trace, guesses: str, no_guess=None, no_truth: str = NO_TRUTH) -> tuple[dict, dict]:
    """(spec, datasets) of the top guesses of a trace: topk_spec sized for its sentences, ranks and tokens."""
    frame, heads = topk_frame(trace), topk_heads(trace, no_guess, no_truth)
    spec = topk_spec(guesses, int(heads["text"].str.count("\n").max()) + 1, ranks=top_ranks(frame),
                     label_px=label_width(frame))
    return spec, {"topk": frame, "topk_head": heads}


def topk_spec(what: str, head_lines: int = 1, chars: int = TITLE_CHARS, ranks: int = 5, label_px: int = 18) -> dict:
    """The model's top guesses at the cursor as bars with their probability written at the end (no axes: a step
    without guesses shows only its sentence, never empty axes); the true one in green, and the sentence above says
    the truth's probability or why there is none. A row per rank 1…ranks, so the chart keeps its height at every
    step (a height taken from the rows at the cursor was 0 at an encoder step, and stayed so when the cursor moved
    on); the guessed tokens right-aligned in the first label_px pixels (label_width), the bars after them.
    Datasets "topk" (topk_frame), "topk_head" (topk_heads)."""
    head = alt.Chart(alt.NamedData("topk_head")).transform_filter(AT_STEP).mark_text(
        align="left", baseline="top", fontSize=15, fontWeight="bold", lineBreak="\n", lineHeight=19).encode(
        x=alt.value(0), y=alt.value(0), text="text:N", color=alt.Color("ink:N", scale=None, legend=None)).properties(
        height=head_lines * 19, width="container")
    base = alt.Chart(alt.NamedData("topk")).transform_filter(AT_STEP)
    # probability 0…1.16 over the plot after the labels (the share is written past the bar's end)
    scale = alt.Scale(domain=[0, 1.16], nice=False, zero=False, range=[label_px + 6, alt.ExprRef("width")])
    x = alt.X("prob:Q", axis=None, scale=scale)
    y = alt.Y("rank:O", axis=None, scale=alt.Scale(domain=list(range(1, ranks + 1))))
    bars = base.transform_calculate(zero="0").mark_bar().encode(
        x=alt.X("zero:Q", axis=None, scale=scale), x2="prob:Q", y=y,
        color=alt.Color("is_actual:N", legend=None, scale=alt.Scale(domain=[True, False],
                                                                    range=["#59a14f", "#bab0ac"])),
        tooltip=["shown:N", alt.Tooltip("prob:Q", format=".3f")])
    letters = base.mark_text(font=MONO, fontSize=GUESS_FONT, color="#222", align="right").encode(
        x=alt.value(label_px), y=y, text="shown:N")
    share = base.mark_text(align="left", dx=4, fontSize=14, color="#222").encode(x=x, y=y, text="pct:N")
    guesses = alt.layer(bars, letters, share).properties(height=alt.Step(26), width="container")
    title = alt.TitleParams(wrap(f"Top guesses for {what} (green: the truth)", chars), limit=0)
    return finish(alt.vconcat(head, guesses, spacing=6).properties(title=title))


# --- views over all steps with a cursor line --------------------------------------------------------------------

def heatmap_spec(quantity: str, layer: int, values: np.ndarray, n_layers: int = 1, direction: str = "",
                 blocks: bool = False) -> dict:
    """Units × steps heatmap of one quantity (values (T, H)) with a black line at the cursor. The cells are one
    image (a 256 × 64 heatmap is one mark, not 16,000); a colour legend comes from an invisible layer over the
    scale's two ends."""
    T, H = values.shape
    height = max(100, min(240, 4 * H))  # the plot's height (configure: its title and axes come on top)
    layer_note = (f" — layer {layer + 1} of {n_layers}" if n_layers > 1 else "") + (f" ({direction})" if direction
                                                                                    else "")
    scale = color_scale(quantity, values)
    domain_x = alt.Scale(domain=[-0.5, T - 0.5], nice=False, zero=False)
    x = alt.X("x:Q", title="time step →", scale=domain_x, axis=STEP_AXIS)
    y = alt.Y("y:Q", title="unit", scale=alt.Scale(domain=[-0.5, H - 0.5], nice=False, zero=False, reverse=True),
              axis=alt.Axis(tickMinStep=1))
    image = alt.Chart(pd.DataFrame({"url": [heatmap_image(quantity, values, blocks)]})).mark_image(
        aspect=False, align="left", baseline="top", width=alt.ExprRef("width"), height=alt.ExprRef("height")
    ).encode(x=alt.value(0), y=alt.value(0), url="url:N")
    corners = pd.DataFrame({"x": [-0.5, T - 0.5], "y": [-0.5, H - 0.5], "value": list(scale.domain)})
    legend = alt.Chart(corners).mark_point(opacity=0).encode(
        x=x, y=y, color=alt.Color("value:Q", title=SHORT[quantity], scale=scale))
    cursor = text_rule().mark_rule(color="black", strokeWidth=3, clip=True).encode(x=alt.X("step:Q", scale=domain_x))
    name, _, what = LABELS[quantity].partition(" — ")
    chart = alt.layer(legend, image, cursor).properties(title=heading(name + layer_note, what or None), height=height,
                                                        width="container")
    return finish(chart)


def across_training_spec(values: np.ndarray, steps: list, quantity: str, unit: int, shown: int | None) -> dict:
    """One unit across training: values (checkpoints, T) as an image, a row per kept checkpoint (training step, oldest
    at the top) and a column per time step; the black line is the cursor, the arrow marks the checkpoint on screen."""
    n, T = values.shape
    scale = color_scale(quantity, values)
    domain_x = alt.Scale(domain=[-0.5, T - 0.5], nice=False, zero=False)
    y_scale = alt.Scale(domain=[-0.5, n - 0.5], nice=False, zero=False, reverse=True)
    ticks = sorted({0, n - 1, *range(0, n, max(1, n // 8))})
    labels = {k: f"{steps[k]:,}" for k in ticks}
    y = alt.Y("y:Q", title="training step", scale=y_scale, axis=alt.Axis(values=ticks, labelExpr=
              "{" + ", ".join(f"'{k}': '{v}'" for k, v in labels.items()) + "}[datum.value]"))
    image = alt.Chart(pd.DataFrame({"url": [heatmap_image(quantity, values.T)]})).mark_image(
        aspect=False, align="left", baseline="top", width=alt.ExprRef("width"), height=alt.ExprRef("height")
    ).encode(x=alt.value(0), y=alt.value(0), url="url:N")
    corners = pd.DataFrame({"x": [-0.5, T - 0.5], "y": [-0.5, n - 0.5], "value": list(scale.domain)})
    legend = alt.Chart(corners).mark_point(opacity=0).encode(
        x=alt.X("x:Q", title="time step →", scale=domain_x, axis=STEP_AXIS), y=y,
        color=alt.Color("value:Q", title=SHORT[quantity], scale=scale))
    cursor = text_rule().mark_rule(color="black", strokeWidth=3, clip=True).encode(x=alt.X("step:Q", scale=domain_x))
    layers = [legend, image, cursor]
    if shown is not None:
        layers.append(alt.Chart(pd.DataFrame({"y": [shown], "x": [-0.5]})).mark_point(
            shape="triangle-right", size=220, filled=True, color="#f28e2b", opacity=1).encode(
            x=alt.X("x:Q", scale=domain_x), y=alt.Y("y:Q", scale=y_scale)))
    chart = alt.layer(*layers).properties(
        title=heading(f"Unit u{unit}'s {LABELS[quantity].split(' —')[0].split(' (')[0]} at every time step (across) "
                      f"and every kept checkpoint (down): how it learned", chars=70),
        height=max(160, min(420, 14 * n)), width="container")
    return finish(chart)


def unit_lines_frame(trace, layer: int, units: list[int], direction: int = 0) -> pd.DataFrame:
    T = trace.n_steps
    frames = []
    for q, name in (("cell_state", "c (cell state)"), ("hidden_state", "h (hidden state)")):
        if q not in trace.names:
            continue  # GRU and plain RNN have no separate cell state
        for u in units:
            frames.append(pd.DataFrame({"step": np.arange(T), "unit": f"u{u}", "state": name,
                                        "value": trace.get(q, layer, direction)[:, u],
                                        "input": [show(s) for s in trace.inputs]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["step", "unit", "state", "value", "input"])


def unit_lines_spec(n_steps: int) -> dict:
    """c and h of the selected units over time, with the cursor: c on the left axis, h on its own right axis (−1…1;
    on c's axis, with c at ±40, the h lines were a flat band at 0). Dataset "lines" (unit_lines_frame)."""
    x = _steps_x(n_steps)
    dash = alt.StrokeDash("state:N", title="state", scale=alt.Scale(domain=["c (cell state)", "h (hidden state)"],
                                                                    range=[[1, 0], [5, 3]]))
    base = alt.Chart(alt.NamedData("lines")).mark_line(strokeWidth=2).encode(
        x=x, color=alt.Color("unit:N", title="unit"), strokeDash=dash,
        tooltip=["step:Q", "input:N", "unit:N", "state:N", alt.Tooltip("value:Q", format=".3f")])
    c = base.transform_filter("datum.state == 'c (cell state)'").encode(
        y=alt.Y("value:Q", title="c (solid)", axis=alt.Axis(orient="left")))
    h = base.transform_filter("datum.state == 'h (hidden state)'").encode(
        y=alt.Y("value:Q", title="h (dashed)", scale=alt.Scale(domain=[-1, 1]), axis=alt.Axis(orient="right")))
    cursor = text_rule().mark_rule(color="black", strokeWidth=2, clip=True).encode(x=x)
    chart = alt.layer(c, h, cursor).resolve_scale(y="independent").properties(
        height=240, width="container", title=heading(
            "Cell state c (solid, left axis) and hidden state h (dashed, right axis) of the selected units over time",
            chars=70))
    return finish(chart)


def gates_frame(trace, layer: int, units: list[int], direction: int = 0) -> pd.DataFrame:
    """Every quantity of the selected units at every step (long)."""
    T = trace.n_steps
    rows = [pd.DataFrame({"step": np.arange(T), "unit": f"u{u}", "quantity": q,
                          "label": f"{SHORT[q]}: {q.replace('_', ' ')}",
                          "value": trace.get(q, layer, direction)[:, u]}) for q in trace.names for u in units]
    return pd.concat(rows, ignore_index=True)


def gates_now_spec(names) -> dict:
    """Bars: each gate's value for the selected units at the cursor. Dataset "gates" (gates_frame)."""
    # (the cell state is not bounded: at ±40 its bars ran off this −1…1 scale; the chart over time draws it)
    chart = alt.Chart(alt.NamedData("gates")).transform_filter(AT_STEP).transform_filter(
        "datum.quantity != 'cell_state'").mark_bar().encode(
        x=alt.X("unit:N", title="unit"),
        y=alt.Y("value:Q", title="value at this step", scale=alt.Scale(domain=[-1, 1])),
        color=alt.Color("quantity:N", legend=None, scale=alt.Scale(domain=list(COLORS), range=list(COLORS.values()))),
        column=alt.Column("label:N", title=None, sort=[f"{SHORT[q]}: {q.replace('_', ' ')}" for q in names
                                                       if q != "cell_state"],
                          header=alt.Header(labelFontSize=FONT["titleFontSize"])),
        tooltip=["unit:N", "label:N", alt.Tooltip("value:Q", format=".3f")])
    return finish(chart.properties(width=110, height=200, title=heading(
        "Gates, candidate and hidden state of the selected units at this step (gates 0…1, g and h −1…1)",
        chars=70)))


RUN_LABELS = "datum.label == 'original' ? 'original run' : 'changed run (the intervention)'"


def compare_spec(frame: pd.DataFrame, title: str, y_title: str, start: int) -> dict:
    """Original vs changed run over the steps (a legend says which line is which): a dashed line where the change
    begins, a solid one at the cursor."""
    x = _steps_x(int(frame["step"].max()) + 1)
    runs = ["original", "changed"]
    legend = alt.Legend(orient="top", title=None, labelExpr=RUN_LABELS, symbolStrokeWidth=3, symbolSize=300,
                        labelLimit=0)
    lines = alt.Chart(frame).mark_line(strokeWidth=2.5).encode(
        x=x, y=alt.Y("value:Q", title=wrap(y_title, 24)),
        color=alt.Color("run:N", legend=legend, scale=alt.Scale(domain=runs, range=["#4e79a7", "#e15759"])),
        strokeDash=alt.StrokeDash("run:N", legend=legend, scale=alt.Scale(domain=runs, range=[[1, 0], [6, 3]])),
        tooltip=["step:Q", "run:N", alt.Tooltip("value:Q", format="+.3f")])
    start_rule = alt.Chart(pd.DataFrame({"step": [start]})).mark_rule(color="black", strokeDash=[3, 3]).encode(x=x)
    cursor = text_rule().mark_rule(color="#f28e2b", strokeWidth=2, clip=True).encode(x=x)
    return finish((lines + start_rule + cursor).properties(height=220, width="container", title=heading(title)))


def compare_guesses_spec(rows: list, labels: list) -> dict:
    """Two models' top guesses for the same blank, side by side (rows: model, guess, prob, truth)."""
    frame = pd.DataFrame(rows)
    chart = alt.Chart(frame).mark_bar().encode(
        y=alt.Y("guess:N", sort="-x", title=None, axis=alt.Axis(labelFont=MONO, labelFontSize=17)),
        x=alt.X("prob:Q", title="probability", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("truth:N", legend=None, scale=alt.Scale(domain=[True, False], range=["#59a14f", "#bab0ac"])),
        tooltip=["model:N", "guess:N", alt.Tooltip("prob:Q", format=".3f")],
    ).properties(width=260, height=alt.Step(24)).facet(
        column=alt.Column("model:N", title=None, sort=labels, header=alt.Header(labelFontSize=16)))
    spec = configured_spec(chart.resolve_scale(y="independent").properties(
        title="The same blank, two models: their top guesses (green: the truth)"))
    return spec


# --- the views of one trace at one layer, direction and unit --------------------------------------------------------

DIRECTION_NAMES = ("forward", "backward")


PRESENTER = {"fonts": 1.4, "columns": 34, "series_height": 120, "diagram": {"font": 16, "end_font": 16, "width": 540,
                                                                             "height": 215},
             "equations": 20}  # presenter view: type for a projector, every scene's key views on one 1280 x 720 screen


def scaled(spec, factor: float):
    """The spec with every font size (and text line height) multiplied: charts that grow with the page's type."""
    if isinstance(spec, dict):
        return {k: (round(v * factor, 1) if k in ("fontSize", "labelFontSize", "titleFontSize", "lineHeight",
                                                  "subtitleFontSize")
                    and isinstance(v, (int, float)) else scaled(v, factor)) for k, v in spec.items()}
    if isinstance(spec, list):
        return [scaled(v, factor) for v in spec]
    return spec


def with_presenter_config(spec: dict) -> dict:
    """The spec's shared fonts (axes, legends, titles) enlarged for a projector; its own marks keep their sizes."""
    return {**spec, "config": scaled(spec.get("config", {}), PRESENTER["fonts"])}


def main_views(trace, layer: int, direction: int, unit: int, colour: str, strip: str, captions: list,
               guesses: str | None, unit_of: str = "", presenter: bool = False, no_guess=None) -> dict:
    """The views above "More views", with their data: "strip" (strip="text": the characters coloured by the unit;
    "series": the series; any other: none here, the kind draws its own), "diagram", "equations" and, when guesses names what they are guesses of, "topk".
    captions: a sentence per step. unit_of: the series' unit, e.g. " °C". presenter: larger type, fewer characters
    per row and a shorter diagram and series, so a scene's key views fit one 1280 x 720 projector screen.
    no_guess(step): what the top guesses say at a step where the model gives none (topk_heads)."""
    terms = step_terms(trace, layer, direction, unit)
    columns = PRESENTER["columns"] if presenter else TEXT_COLUMNS
    views = {}
    if strip == "text":
        values = trace.get(colour, layer, direction)[:, unit]
        title = (f"The text coloured by unit u{unit}'s {SHORT[colour]} ({colour.replace('_', ' ')})"
                 + ("" if presenter else " — hover a character for the model's top guesses")
                 + ("; ▮ = hidden" if trace.masked is not None else ""))
        style = PRESENTER_STRIP if presenter else STRIP
        said = caption_frame(captions, strip_chars(trace.n_steps, columns, style))
        chart = text_strip_spec(trace.n_steps, title, color_scale(colour, values), columns, style,
                                int(said["text"].str.count("\n").max()) + 1)
        views["strip"] = with_data(chart, chars=text_colour_frame(trace, values, columns, colour), captions=said)
        if presenter:
            views["strip"] = with_presenter_config(views["strip"])
    elif strip == "series":
        points = series_points_frame(trace)
        lo, hi = float(points["value"].min()), float(points["value"].max())
        said = caption_frame(captions, SERIES_CAPTION_CHARS[presenter])
        chart = series_strip_spec(unit_of.strip(), trace.n_steps, lo, hi,
                                  PRESENTER["series_height"] if presenter else 240, presenter,
                                  int(said["text"].str.count("\n").max()) + 1)
        views["strip"] = with_data(scaled(chart, PRESENTER["fonts"]) if presenter else chart, points=points,
                                   captions=said)
    title = f"{CELL_NAMES[trace.cell]} cell, unit u{unit}" + (f", layer {layer + 1}" if trace.n_layers > 1 else "")
    edges, _ = diagram_tables(trace.cell, direction)
    diagram = diagram_spec(trace.cell, title, words=False, direction=direction, **PRESENTER["diagram"]) \
        if presenter else diagram_spec(trace.cell, title, how=width_words(),
                                       direction=direction)
    views["diagram"] = with_data(diagram, dg_edges=edges, dg_terms=terms_long(terms), terms=terms)
    font = PRESENTER["equations"] if presenter else 15
    views["equations"] = with_data(equations_spec(trace.cell, direction, f"u{unit}", font=font,
                                                  chars=equation_chars(trace.cell, terms)), terms=terms)
    if guesses:
        spec, data = topk_parts(trace, guesses, no_guess)
        views["topk"] = with_data(scaled(spec, PRESENTER["fonts"]) if presenter else spec, **data)
    return views


def heatmap_views(trace, layer: int, direction: int) -> dict:
    """One heatmap per quantity (every unit at every step) with the cursor line."""
    name = DIRECTION_NAMES[direction] if trace.n_directions == 2 else ""
    return {q: heatmap_spec(q, layer, trace.get(q, layer, direction), trace.n_layers, name) for q in trace.names}
