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

from .charts import CELL_NAMES, COLORS, FONT, LABELS, SHORT, color_scale, configure, heatmap_image, spec_of
from .names import show
from .explain import diagram_tables, step_terms, width_words
from .view_store import with_data

STEP_BUS = "body"              # the element every view listens to: always there, never replaced (cursor.js)
STEP_EVENT = "lstm-step"       # the event the cursor fires on it when the step moves
STEP = "(isValid(toNumber(step)) ? toNumber(step) : 0)"  # the step as a number (a bound element's value is text)
AT_STEP = f"datum.step == {STEP}"
SVG = {"embedOptions": {"renderer": "svg"}}  # SVG updates only the marks that change; its text can be read back
TEXT_COLUMNS = 40              # characters per row of the text strip (fits a 1280 px laptop page)
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"


def step_param(value: int = 0) -> alt.Parameter:
    return alt.param(name="step", value=int(value), bind=alt.BindDirect(element=STEP_BUS, event=STEP_EVENT))


def finish(chart) -> dict:
    """Spec dict with the step parameter, Arrow datasets and the SVG renderer."""
    spec = spec_of(configure(chart.add_params(step_param())))
    spec["usermeta"] = SVG
    return spec


def at_step(spec: dict, step: int) -> dict:
    """The spec with its step fixed (no binding): for rendering outside a browser, e.g. an export of this step."""
    out = copy.copy(spec)
    out["params"] = [({**p, "value": int(step)} if p.get("name") == "step" else p) for p in spec.get("params", [])]
    for p in out["params"]:
        p.pop("bind", None) if p.get("name") == "step" else None
    out.pop("usermeta", None)
    return out


def _num(field: str, fmt: str = ".3f", paren: bool = False) -> str:
    """Vega expression: a number of the current row, formatted; negative factors in parentheses."""
    value = f"format(datum.{field}, '{fmt}')"
    return f"(datum.{field} < 0 ? '(' + {value} + ')' : {value})" if paren else value


def _steps_x(n_steps: int, title: str = "time step") -> alt.X:
    """A time-step x axis over 0…n_steps-1. Views with a cursor layer give their scales fixed domains: a domain
    taken from the layers would be fed by the cursor's data, recomputed at every move, and every mark on that scale
    re-encoded and redrawn (measured: 18 of the text strip's 19 ms per move at 256 steps)."""
    return alt.X("step:Q", title=title, scale=alt.Scale(domain=[0, max(n_steps - 1, 1)], nice=False))


def text_rule() -> alt.Chart:
    """A one-row dataset that carries the current step: rules and labels position on it."""
    return alt.Chart(alt.Data(values=[{"one": 1}])).transform_calculate(step=STEP)


# --- the text strip (or the series) and a sentence saying what happens at this step -----------------------------

def caption_frame(captions: list) -> pd.DataFrame:
    """Dataset "captions": one sentence per step (the kind writes them: lstm_demo/kinds/)."""
    return pd.DataFrame({"step": np.arange(len(captions)), "text": captions})


def _caption(width) -> alt.Chart:
    return alt.Chart(alt.NamedData("captions")).transform_filter(AT_STEP).mark_text(
        align="left", baseline="middle", fontSize=18, fontWeight="bold", color="#222").encode(
        x=alt.value(0), y=alt.value(14), text="text:N").properties(height=28, width=width)


def text_colour_frame(trace, values: np.ndarray, columns: int = TEXT_COLUMNS) -> pd.DataFrame:
    """One row per input character with the unit's value and the model's top-3 guesses at that step."""
    steps = np.arange(trace.n_steps)
    top = trace.predictions[trace.predictions["rank"] <= 3]
    guesses = top.groupby("step").apply(
        lambda g: "  ".join(f"{show(c)} {p:.0%}" for c, p in zip(g["char"], g["prob"])), include_groups=False)
    return pd.DataFrame({"step": steps, "row": steps // columns, "col": steps % columns,
                         "char": [show(c) for c in trace.inputs], "value": values,
                         "guesses": guesses.reindex(steps).to_numpy()})


def text_strip_spec(n_steps: int, title: str, scale: alt.Scale, columns: int = TEXT_COLUMNS) -> dict:
    """The input characters in rows, each on a tile coloured by one unit's value; the character at the cursor is
    outlined and the sentence above says what happens there. Datasets "chars" (text_colour_frame), "captions"."""
    cols = min(n_steps, columns)
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
    limit = 0.55 * max(abs(scale.domain[0]), abs(scale.domain[1]))
    letters = base.mark_text(font=MONO, fontSize=17).encode(
        text="char:N", color=alt.condition(f"abs(datum.value) > {limit}", alt.value("white"), alt.value("black")))
    cursor = base.transform_filter(AT_STEP).mark_rect(fill=None, stroke="#f28e2b", strokeWidth=4)
    strip = (tiles + letters + cursor).properties(width=alt.Step(20), height=alt.Step(30), title=title)
    return finish(alt.vconcat(_caption(cols * 20), strip, spacing=4))


def series_points_frame(trace) -> pd.DataFrame:
    p = trace.predictions
    return pd.concat([pd.DataFrame({"step": p["step"], "what": "actual next value", "value": p["actual"]}),
                      pd.DataFrame({"step": p["step"], "what": "predicted next value", "value": p["predicted"]})],
                     ignore_index=True)


def series_strip_spec(unit: str, n_steps: int, lo: float, hi: float) -> dict:
    """The series and the one-step predictions with the point at the cursor. Datasets "points", "captions".
    Fixed domains (see _steps_x): steps 0…n_steps-1, values lo…hi."""
    x = _steps_x(n_steps)
    y = alt.Y("value:Q", title=unit or "value", scale=alt.Scale(domain=[lo, hi] if hi > lo else [lo - 1, hi + 1],
                                                                zero=False, nice=True))
    lines = alt.Chart(alt.NamedData("points")).mark_line().encode(
        x=x, y=y,
        color=alt.Color("what:N", title=None, scale=alt.Scale(domain=["actual next value", "predicted next value"],
                                                              range=["#4e79a7", "#f28e2b"])),
        tooltip=["step:Q", "what:N", alt.Tooltip("value:Q", format=".3f")])
    now = alt.Chart(alt.NamedData("points")).transform_filter(AT_STEP).mark_point(size=180, filled=True).encode(
        x=x, y=y, color=alt.Color("what:N"))
    rule = text_rule().mark_rule(color="black", strokeWidth=2).encode(x=x)
    # One layered view, not a caption chart above it: only a single view fits the page's width with its axis and
    # legend inside (a concatenation spilled over the right edge and hid the legend). The caption sits above the
    # plot, cut at the legend's right edge, so that its length never resizes the view at a step.
    caption = alt.Chart(alt.NamedData("captions")).transform_filter(AT_STEP).mark_text(
        align="left", baseline="bottom", fontSize=16, fontWeight="bold", color="#222", dy=-8,
        limit=alt.ExprRef("width + 120")).encode(x=alt.value(0), y=alt.value(0), text="text:N")
    chart = (lines + rule + now + caption).properties(
        height=240, width="container", title="Series: the model's prediction for the next point vs what came")
    spec = finish(chart)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    return spec


# --- the cell diagram and the equations -----------------------------------------------------------------------------

def terms_long(terms: pd.DataFrame) -> pd.DataFrame:
    """step_terms() as (k = "term@step", value) rows: the diagram looks its numbers up by term and cursor."""
    long = terms.melt(id_vars="step", var_name="term", value_name="value")
    return pd.DataFrame({"k": long["term"] + "@" + long["step"].astype(str), "value": long["value"]})


_WORDS = {  # what the diagram shows, in words, a short line each (Vega expressions over the row at the cursor)
    "lstm": ("'The forget gate keeps ' + format(datum.f, '.0%') + ' of the old cell state (' + "
             "format(datum.c_prev, '+.2f') + ' → ' + format(datum.kept, '+.2f') + ');'",
             "'the input gate lets in ' + format(datum.i, '.0%') + ' of the candidate ' + format(datum.g, '+.2f') + "
             "' (writes ' + format(datum.written, '+.2f') + ');'",
             "'the output gate shows ' + format(datum.o, '.0%') + ' of tanh(c) as h.'"),
    "gru": ("'The update gate keeps ' + format(datum.z, '.0%') + ' of the old state (' + "
            "format(datum.h_prev, '+.2f') + ' → ' + format(datum.kept, '+.2f') + ')'",
            "'and writes ' + format(1 - datum.z, '.0%') + ' of the candidate ' + format(datum.n, '+.2f') + ';'",
            "'the reset gate let the candidate see ' + format(datum.r, '.0%') + ' of the old state.'"),
    "rnn": ("'A plain RNN has no gates and no conveyor belt: the new state'",
            "'is tanh of a mix of the input and the old state, so old information'",
            "'is squashed and mixed again at every step.'"),
}


def diagram_spec(cell: str, title: str, height: int = 330, words: bool = True, how: str | None = None) -> dict:
    """The tutorials' cell diagram; a path's width is |the value flowing along it| at the cursor, and two lines say
    it in words. how: how to read it, a subtitle under the title (one long title ran into the next column on a
    laptop). Datasets "dg_edges", "dg_nodes" (explain.diagram_tables), "dg_terms" (terms_long), "terms"."""
    x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[0, 100], nice=False))
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[0, 62], nice=False))
    colors = {**COLORS, "input": "#bab0ac"}
    heading = alt.TitleParams(title, subtitle=how or alt.Undefined, subtitleFontSize=13, subtitleColor="#555")
    lookup = dict(lookup="k", from_=alt.LookupData(data=alt.NamedData("dg_terms"), key="k", fields=["value"]))
    edges = alt.Chart(alt.NamedData("dg_edges")).transform_calculate(k=f"datum.term + '@' + {STEP}").transform_lookup(
        **lookup).transform_calculate(width="datum.term ? min(abs(datum.value), 1.5) : 0.05").mark_rule(
        strokeCap="round", opacity=0.85).encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q",
        strokeWidth=alt.StrokeWidth("width:Q", legend=None, scale=alt.Scale(domain=[0, 1.5], range=[1, 24])),
        color=alt.Color("quantity:N", legend=None, scale=alt.Scale(domain=list(colors), range=list(colors.values()))),
        tooltip=["name:N", alt.Tooltip("value:Q", format="+.3f")])
    nodes = alt.Chart(alt.NamedData("dg_nodes")).transform_calculate(k=f"datum.term + '@' + {STEP}").transform_lookup(
        **lookup).transform_calculate(
        label="datum.term ? datum.prefix + format(datum.value, datum.fmt) + datum.suffix : datum.prefix")
    boxes = nodes.transform_filter("datum.shape == 'gate'").transform_calculate(
        x1="datum.x - 7.8", x2="datum.x + 7.8", y1="datum.y - 5.5", y2="datum.y + 5.5").mark_rect(
        fill="white", stroke="#333", strokeWidth=1.5, cornerRadius=4).encode(
        x=alt.X("x1:Q", axis=None, scale=alt.Scale(domain=[0, 100], nice=False)), x2="x2:Q",
        y=alt.Y("y1:Q", axis=None, scale=alt.Scale(domain=[0, 62], nice=False)), y2="y2:Q")
    ops = nodes.transform_filter("datum.shape == 'op'").mark_circle(size=1000, color="white", stroke="#333",
                                                                     strokeWidth=1.5, opacity=1).encode(x=x, y=y)
    text = lambda shape, **kw: nodes.transform_filter(f"datum.shape == '{shape}'").mark_text(**kw).encode(
        x=x, y=y, text="label:N")
    diagram = alt.layer(edges, boxes, ops, text("gate", fontSize=14, lineBreak="\n", lineHeight=17, dy=-8),
                        text("op", fontSize=14), text("left", align="left", fontSize=16),
                        text("right", align="right", fontSize=16),
                        text("mid", fontSize=14, color="#555")).properties(height=height, width="container",
                                                                           title=heading)
    if not words:  # the presenter view: the equations beside it say the same
        return finish(diagram)
    sentences = _WORDS[cell]
    names = [f"w{k}" for k in range(len(sentences))]
    words = alt.Chart(alt.NamedData("terms")).transform_filter(AT_STEP).transform_calculate(
        **dict(zip(names, sentences))).transform_fold(names, as_=["line", "text"]).mark_text(
        align="left", baseline="top", fontSize=16, color="#333").encode(
        x=alt.value(0), y=alt.Y("line:O", axis=None, scale=alt.Scale(domain=names)), text="text:N").properties(
        height=22 * len(names), width="container")
    return finish(alt.vconcat(diagram, words, spacing=2))


def _lines(cell: str, direction: int) -> list:
    """(expression, colour) per line of the cell's equations, filled from the row of step_terms at the cursor."""
    prev = "t−1" if direction == 0 else "t+1"
    n, p = _num, lambda f: _num(f, paren=True)
    black = "#222"
    if cell == "lstm":
        return [
            (f"'f = σ(' + {n('pre_f')} + ') = ' + {n('f')} + '   forget gate'", COLORS["forget_gate"]),
            (f"'i = σ(' + {n('pre_i')} + ') = ' + {n('i')} + '   input gate'", COLORS["input_gate"]),
            (f"'g = tanh(' + {n('pre_g')} + ') = ' + {n('g')} + '   candidate'", COLORS["candidate"]),
            (f"'c(t) = f·c({prev}) + i·g'", black),
            (f"'\u00a0\u00a0\u00a0\u00a0\u00a0= ' + {p('f')} + '·' + {p('c_prev')} + ' + ' + {p('i')} + '·' + {p('g')}", black),
            (f"'\u00a0\u00a0\u00a0\u00a0\u00a0= ' + {n('kept')} + ' kept + ' + {n('written')} + ' written = ' + {n('c')}", COLORS["cell_state"]),
            (f"'o = σ(' + {n('pre_o')} + ') = ' + {n('o')} + '   output gate'", COLORS["output_gate"]),
            (f"'h(t) = o·tanh(c(t)) = ' + {p('o')} + '·' + {p('tanh_c')} + ' = ' + {n('h')}",
             COLORS["hidden_state"]),
        ]
    if cell == "gru":
        return [
            (f"'r = σ(' + {n('pre_r')} + ') = ' + {n('r')} + '   reset gate'", "#b8860b"),
            (f"'z = σ(' + {n('pre_z')} + ') = ' + {n('z')} + '   update gate'", COLORS["update_gate"]),
            (f"'n = tanh(' + {n('pre_n')} + ') = ' + {n('n')} + '   candidate'", COLORS["new_gate"]),
            (f"'h(t) = z·h({prev}) + (1−z)·n'", black),
            (f"'\u00a0\u00a0\u00a0\u00a0\u00a0= ' + {p('z')} + '·' + {p('h_prev')} + ' + ' + {p('one_minus_z')} + '·' + {p('n')}", black),
            (f"'\u00a0\u00a0\u00a0\u00a0\u00a0= ' + {n('kept')} + ' kept + ' + {n('written')} + ' written = ' + {n('h')}",
             COLORS["hidden_state"]),
        ]
    return [(f"'h(t) = tanh(W_ih·x(t) + W_hh·h({prev}) + b)'", black),
            (f"'     = tanh(' + {n('pre')} + ') = ' + {n('h')}", COLORS["hidden_state"])]


def equations_spec(cell: str, direction: int, unit_label: str, who: str | None = None) -> dict:
    """The cell's equations with the numbers of one unit at the cursor (gate lines in the gates' colours).
    Dataset "terms" (explain.step_terms). who: what the heading names instead of "unit <label>" (a map's pixel)."""
    lines = _lines(cell, direction)
    names = [f"l{k}" for k in range(len(lines))]
    base = alt.Chart(alt.NamedData("terms")).transform_filter(AT_STEP).transform_calculate(
        **{name: expr for name, (expr, _) in zip(names, lines)},
        head=f"'Equations for {who or 'unit ' + unit_label} at step ' + datum.step")
    head = base.mark_text(align="left", baseline="top", fontSize=17, fontWeight="bold", color="#222").encode(
        x=alt.value(0), y=alt.value(0), text="head:N")
    body = base.transform_fold(names, as_=["line", "text"]).mark_text(
        align="left", baseline="top", font=MONO, fontSize=15).encode(
        x=alt.value(0), y=alt.Y("line:O", axis=None, scale=alt.Scale(domain=names, paddingOuter=0)),
        text="text:N", color=alt.Color("line:N", legend=None, scale=alt.Scale(
            domain=names, range=[c for _, c in lines])))
    chart = alt.vconcat(head.properties(height=24, width="container"),
                        body.properties(height=24 * len(lines), width="container"), spacing=6)
    return finish(chart)


# --- the model's answer at the cursor ---------------------------------------------------------------------------

def topk_frame(trace) -> pd.DataFrame:
    p = trace.predictions
    truth = np.asarray(trace.targets, dtype=object)[p["step"].to_numpy()]
    return p.assign(shown=[show(c) for c in p["char"]], is_actual=p["char"].to_numpy() == truth,
                    truth=[f"truth '{show(t)}': {a:.0%}" for t, a in zip(truth, p["actual_prob"])])


def topk_spec(what: str) -> dict:
    """The model's top guesses at the cursor; the true one in green, and its probability said above the bars.
    Dataset "topk" (topk_frame)."""
    base = alt.Chart(alt.NamedData("topk")).transform_filter(AT_STEP)
    head = base.transform_filter("datum.rank == 1").mark_text(
        align="left", baseline="top", fontSize=15, color="#3b7d34", fontWeight="bold").encode(
        x=alt.value(0), y=alt.value(0), text="truth:N").properties(height=20, width="container")
    bars = base.mark_bar().encode(
        y=alt.Y("shown:N", sort="-x", title=None, axis=alt.Axis(labelFont=MONO, labelFontSize=17, labelLimit=240)),
        x=alt.X("prob:Q", title="probability (green: the truth)", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("is_actual:N", legend=None, scale=alt.Scale(domain=[True, False],
                                                                    range=["#59a14f", "#bab0ac"])),
        tooltip=["shown:N", alt.Tooltip("prob:Q", format=".3f")]).properties(height=alt.Step(26), width="container")
    return finish(alt.vconcat(head, bars, spacing=4).properties(title=f"Top guesses for {what}"))


# --- views over all steps with a cursor line --------------------------------------------------------------------

def heatmap_spec(quantity: str, layer: int, values: np.ndarray, n_layers: int = 1, direction: str = "",
                 blocks: bool = False) -> dict:
    """Units × steps heatmap of one quantity (values (T, H)) with a black line at the cursor. The cells are one
    image (a 256 × 64 heatmap is one mark, not 16,000); a colour legend comes from an invisible layer over the
    scale's two ends."""
    T, H = values.shape
    height = max(100, min(240, 4 * H)) + 72  # the chart keeps this height with its title and axes inside
    layer_note = (f" — layer {layer + 1} of {n_layers}" if n_layers > 1 else "") + (f" ({direction})" if direction
                                                                                    else "")
    scale = color_scale(quantity, values)
    domain_x = alt.Scale(domain=[-0.5, T - 0.5], nice=False, zero=False)
    x = alt.X("x:Q", title="time step →", scale=domain_x)
    y = alt.Y("y:Q", title="unit", scale=alt.Scale(domain=[-0.5, H - 0.5], nice=False, zero=False, reverse=True),
              axis=alt.Axis(tickMinStep=1))
    image = alt.Chart(pd.DataFrame({"url": [heatmap_image(quantity, values, blocks)]})).mark_image(
        aspect=False, align="left", baseline="top", width=alt.ExprRef("width"), height=alt.ExprRef("height")
    ).encode(x=alt.value(0), y=alt.value(0), url="url:N")
    corners = pd.DataFrame({"x": [-0.5, T - 0.5], "y": [-0.5, H - 0.5], "value": list(scale.domain)})
    legend = alt.Chart(corners).mark_point(opacity=0).encode(
        x=x, y=y, color=alt.Color("value:Q", title=SHORT[quantity], scale=scale))
    cursor = text_rule().mark_rule(color="black", strokeWidth=3).encode(x=alt.X("step:Q", scale=domain_x))
    chart = alt.layer(legend, image, cursor).properties(title=LABELS[quantity] + layer_note, height=height,
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
        x=alt.X("x:Q", title="time step →", scale=domain_x), y=y,
        color=alt.Color("value:Q", title=SHORT[quantity], scale=scale))
    cursor = text_rule().mark_rule(color="black", strokeWidth=3).encode(x=alt.X("step:Q", scale=domain_x))
    layers = [legend, image, cursor]
    if shown is not None:
        layers.append(alt.Chart(pd.DataFrame({"y": [shown], "x": [-0.5]})).mark_point(
            shape="triangle-right", size=220, filled=True, color="#f28e2b", opacity=1).encode(
            x=alt.X("x:Q", scale=domain_x), y=alt.Y("y:Q", scale=y_scale)))
    chart = alt.layer(*layers).properties(
        title=f"Unit u{unit}'s {LABELS[quantity].split(' —')[0].split(' (')[0]} at every time step (across) and every "
              f"kept checkpoint (down): how it learned", height=max(160, min(420, 12 * n)), width="container")
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
    """c and h of the selected units over time, with the cursor. Dataset "lines" (unit_lines_frame)."""
    x = _steps_x(n_steps)
    lines = alt.Chart(alt.NamedData("lines")).mark_line(strokeWidth=2).encode(
        x=x,
        y=alt.Y("value:Q", title="value"),
        color=alt.Color("unit:N", title="unit"),
        strokeDash=alt.StrokeDash("state:N", title="state", scale=alt.Scale(
            domain=["c (cell state)", "h (hidden state)"], range=[[1, 0], [5, 3]])),
        tooltip=["step:Q", "input:N", "unit:N", "state:N", alt.Tooltip("value:Q", format=".3f")])
    cursor = text_rule().mark_rule(color="black", strokeWidth=2).encode(x=x)
    chart = (lines + cursor).properties(height=240, width="container", title="Cell state c (solid) and hidden "
                                                                             "state h (dashed) of the selected "
                                                                             "units over time")
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
    chart = alt.Chart(alt.NamedData("gates")).transform_filter(AT_STEP).mark_bar().encode(
        x=alt.X("unit:N", title="unit"),
        y=alt.Y("value:Q", title="value at this step", scale=alt.Scale(domain=[-1, 1])),
        color=alt.Color("quantity:N", legend=None, scale=alt.Scale(domain=list(COLORS), range=list(COLORS.values()))),
        column=alt.Column("label:N", title=None, sort=[f"{SHORT[q]}: {q.replace('_', ' ')}" for q in names],
                          header=alt.Header(labelFontSize=FONT["titleFontSize"])),
        tooltip=["unit:N", "label:N", alt.Tooltip("value:Q", format=".3f")])
    return finish(chart.properties(width=110, height=200, title="Gates and states of the selected units at this "
                                                                  "step (gates 0…1, g/h −1…1)"))


def compare_spec(frame: pd.DataFrame, title: str, y_title: str, start: int) -> dict:
    """Original vs changed run over the steps: a dashed line where the change begins, a solid one at the cursor."""
    x = _steps_x(int(frame["step"].max()) + 1)
    lines = alt.Chart(frame).mark_line(strokeWidth=2.5).encode(
        x=x, y=alt.Y("value:Q", title=y_title),
        color=alt.Color("run:N", title=None, scale=alt.Scale(domain=["original", "changed"],
                                                            range=["#4e79a7", "#e15759"])),
        strokeDash=alt.StrokeDash("run:N", legend=None, scale=alt.Scale(domain=["original", "changed"],
                                                                        range=[[1, 0], [6, 3]])),
        tooltip=["step:Q", "run:N", alt.Tooltip("value:Q", format="+.3f")])
    start_rule = alt.Chart(pd.DataFrame({"step": [start]})).mark_rule(color="black", strokeDash=[3, 3]).encode(x=x)
    cursor = text_rule().mark_rule(color="#f28e2b", strokeWidth=2).encode(x=x)
    return finish((lines + start_rule + cursor).properties(height=220, width="container", title=title))


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
    spec = spec_of(configure(chart.resolve_scale(y="independent").properties(
        title="The same blank, two models: their top guesses (green: the truth)")))
    return spec


# --- the views of one trace at one layer, direction and unit --------------------------------------------------------

DIRECTION_NAMES = ("forward", "backward")


PRESENTER = {"fonts": 1.4, "columns": 34, "diagram_height": 250}  # presenter view: type for a projector


def scaled(spec, factor: float):
    """The spec with every font size (and text line height) multiplied: charts that grow with the page's type."""
    if isinstance(spec, dict):
        return {k: (round(v * factor, 1) if k in ("fontSize", "labelFontSize", "titleFontSize", "lineHeight")
                    and isinstance(v, (int, float)) else scaled(v, factor)) for k, v in spec.items()}
    if isinstance(spec, list):
        return [scaled(v, factor) for v in spec]
    return spec


def main_views(trace, layer: int, direction: int, unit: int, colour: str, strip: str, captions: list,
               guesses: str | None, unit_of: str = "", presenter: bool = False) -> dict:
    """The views above "More views", with their data: "strip" (strip="text": the characters coloured by the unit;
    "series": the series; any other: none here, the kind draws its own), "diagram", "equations" and, when guesses names what they are guesses of, "topk".
    captions: a sentence per step. unit_of: the series' unit, e.g. " °C". presenter: larger type, fewer characters
    per row and a shorter diagram, so a scene's key views fit one 1280 x 720 projector screen."""
    terms = step_terms(trace, layer, direction, unit)
    columns = PRESENTER["columns"] if presenter else TEXT_COLUMNS
    views = {}
    if strip == "text":
        values = trace.get(colour, layer, direction)[:, unit]
        title = (f"The text coloured by unit u{unit}'s {SHORT[colour]} ({colour.replace('_', ' ')})"
                 + ("" if presenter else " — hover a character for the model's top guesses")
                 + ("; ▮ = hidden" if trace.masked is not None else ""))
        chart = text_strip_spec(trace.n_steps, title, color_scale(colour, values), columns)
        if presenter:  # bigger tiles for bigger letters
            chart = {**chart, "vconcat": [chart["vconcat"][0], {**chart["vconcat"][1], "width": {"step": 27},
                                                                 "height": {"step": 38}}]}
        views["strip"] = with_data(chart, chars=text_colour_frame(trace, values, columns),
                                   captions=caption_frame(captions))
    elif strip == "series":
        points = series_points_frame(trace)
        lo, hi = float(points["value"].min()), float(points["value"].max())
        views["strip"] = with_data(series_strip_spec(unit_of.strip(), trace.n_steps, lo, hi), points=points,
                                   captions=caption_frame(captions))
    title = f"{CELL_NAMES[trace.cell]} cell, unit u{unit}" + (f", layer {layer + 1}" if trace.n_layers > 1 else "")
    edges, nodes = diagram_tables(trace.cell)
    diagram = diagram_spec(trace.cell, title, PRESENTER["diagram_height"], words=False) if presenter else \
        diagram_spec(trace.cell, title, how=width_words())
    views["diagram"] = with_data(diagram, dg_edges=edges, dg_nodes=nodes, dg_terms=terms_long(terms), terms=terms)
    views["equations"] = with_data(equations_spec(trace.cell, direction, f"u{unit}"), terms=terms)
    if guesses:
        views["topk"] = with_data(topk_spec(guesses), topk=topk_frame(trace))
    if presenter:
        views = {name: scaled(spec, PRESENTER["fonts"]) for name, spec in views.items()}
    return views


def heatmap_views(trace, layer: int, direction: int) -> dict:
    """One heatmap per quantity (every unit at every step) with the cursor line."""
    name = DIRECTION_NAMES[direction] if trace.n_directions == 2 else ""
    return {q: heatmap_spec(q, layer, trace.get(q, layer, direction), trace.n_layers, name) for q in trace.names}
