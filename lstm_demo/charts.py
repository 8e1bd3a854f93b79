"""Pure Altair chart builders over tidy frames. No Streamlit here.

The views that follow the step cursor live in step_charts.py (drawn in the browser at its cursor). `with_data`
attaches named datasets to a spec.
"""
from __future__ import annotations

import functools

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from .colours import ramp, scale_of  # noqa: F401  (re-exported)
from .names import CELL_NAMES, COLORS, LABELS, SHORT, SIGMOID_GATES, show  # noqa: F401  (re-exported)

FONT = {"labelFontSize": 13, "titleFontSize": 14}  # readable on a projector


# Vega sizes a view when it is made, and again on an update only with "resize": Streamlit hands a chart its data
# and width after it is made (and the cursor its step), so without it a chart kept the size of that first layout
# (seen: after PageDown from scene 4 to 5 the strip, diagram and equations had lost their bottom padding). Measured
# with bench/bench_browser.py: → to every view redrawn, median 41 ms with it, 44 ms without (noise).
FIT_X = {"type": "fit-x", "contains": "padding", "resize": True}
PAD = {"type": "pad", "resize": True}  # a composed or faceted chart: as large as its views
PADDING = {"left": 5, "right": 5, "top": 5, "bottom": 5}
COMPOSED = ("vconcat", "hconcat", "concat", "facet", "repeat")
CONFIG = {"axis": FONT, "legend": FONT, "title": {"fontSize": 16, "anchor": "start", "offset": 8},
          "view": {"stroke": None}}  # what configure() and configured_spec() both give every chart


def configure(chart):
    """Fonts, titles and sizing every chart shares. A single view's height is its plot's: Streamlit's theme sizes
    a chart to fit both ways (autosize "fit"), so a legend, a title or long axis labels took their room from the
    plot (a 220 px bar chart was left a 3 px plot); fit-x keeps the width to the column and leaves the height be."""
    enc = getattr(chart, "encoding", alt.Undefined)
    faceted = enc is not alt.Undefined and any(getattr(enc, k, alt.Undefined) is not alt.Undefined
                                               for k in ("row", "column", "facet"))
    chart = chart.properties(autosize=alt.AutoSizeParams(**(FIT_X if isinstance(chart, (alt.Chart, alt.LayerChart))
                                                            and not faceted else PAD)))
    chart = chart.properties(padding=PADDING)
    title = getattr(chart, "title", alt.Undefined)
    text = title.text if isinstance(title, alt.TitleParams) else title
    if text is not alt.Undefined and getattr(chart, "description", alt.Undefined) is alt.Undefined:
        chart = chart.properties(description=" ".join(text) if isinstance(text, list) else str(text))
    return (chart.configure_axis(**CONFIG["axis"]).configure_legend(**CONFIG["legend"])
            .configure_title(**CONFIG["title"]).configure_view(**CONFIG["view"]))


def configured_spec(chart) -> dict:
    """configure(chart) as a spec dict (fit_width, inline datasets as Arrow), its settings put into the dict: altair
    copies the whole chart at each of configure's six calls, a third of a view's build time (measured: the step
    views of a typed text on a server's first link). tests/test_charts.py holds the two to the same result."""
    spec = chart.to_dict(validate=False)
    composed = any(k in spec for k in COMPOSED) or _faceted(spec)
    spec["autosize"] = dict(PAD if composed else FIT_X)
    spec["padding"] = dict(PADDING)
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    if text is not None and "description" not in spec:
        spec["description"] = " ".join(text) if isinstance(text, list) else str(text)
    config = spec.setdefault("config", {})  # (altair's theme has put the view's default size there)
    for k, v in CONFIG.items():
        config[k] = {**config.get(k, {}), **v}
    spec = fit_width(spec)
    if spec.get("datasets"):
        spec["datasets"] = {k: arrow(v) for k, v in spec["datasets"].items()}
    return spec


def fit_width(spec: dict) -> dict:
    """A spec dict sized as configure() sizes a chart (fit-x for a single or layered view), with a text
    alternative for screen readers (the title as its description) where it has none."""
    if "autosize" not in spec:
        spec["autosize"] = dict(PAD if any(k in spec for k in COMPOSED) or _faceted(spec) else FIT_X)
    spec.setdefault("padding", dict(PADDING))  # Streamlit sets none (0 px): an axis title at the edge was cut
    if any(k in spec for k in COMPOSED) and _container_wide(spec):
        # a sub-view as wide as the column already fills it: padding at the sides would push it past the column
        spec["padding"] = {**spec["padding"], "left": 0, "right": 0}
    if "description" not in spec:
        spec["description"] = describe(spec)
    return spec


def _container_wide(node) -> bool:
    """Some view of the spec takes the width of its container."""
    if isinstance(node, dict):
        return node.get("width") == "container" or any(_container_wide(v) for k, v in node.items()
                                                        if k not in ("datasets", "data", "config"))
    if isinstance(node, list):
        return any(_container_wide(v) for v in node)
    return False


def _faceted(spec: dict) -> bool:
    """A unit spec split into panels by a row/column/facet channel: Vega-Lite cannot fit it to a width (fit-x drew
    it 0 px wide), so it keeps its panels' own sizes."""
    return any(k in spec.get("encoding", {}) for k in ("row", "column", "facet"))


def describe(spec: dict) -> str:
    """The words of a spec's title (and its sub-views' titles), for a chart's description."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            title = node.get("title")
            if title is not None:
                text = title.get("text") if isinstance(title, dict) else title
                sub = title.get("subtitle") if isinstance(title, dict) else None
                for part in (text, sub):
                    if isinstance(part, list):
                        found.append(" ".join(str(x) for x in part))
                    elif isinstance(part, str) and part:
                        found.append(part)
            for k in ("layer", *COMPOSED, "spec"):
                v = node.get(k)
                for child in (v if isinstance(v, list) else [v] if isinstance(v, dict) else []):
                    walk(child)
    walk(spec)
    return ". ".join(dict.fromkeys(found)) or "Chart"


from .view_store import arrow, table  # noqa: E402,F401  (re-exported)


from .view_store import with_data  # noqa: E402,F401  (re-exported)


def plain_spec(spec: dict) -> dict:
    """A spec with its named datasets as plain records (JSON), for rendering outside the browser."""
    return {**spec, "datasets": {k: (table(v).to_pylist() if isinstance(v, bytes) else v.to_pylist()
                                     if isinstance(v, pa.Table) else
                                     v.to_dict("records") if isinstance(v, pd.DataFrame) else v)
                                 for k, v in spec.get("datasets", {}).items()}}


def render(spec: dict, fmt: str) -> bytes:
    """PNG (2x, for slides) or SVG bytes of a spec with data attached (vl-convert, no browser needed)."""
    import vl_convert as vlc
    spec = _fixed_widths(plain_spec(spec))
    if "width" not in spec and not {"facet", "vconcat", "hconcat", "concat"} & set(spec):
        spec["width"] = 640
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=2)
    return vlc.vegalite_to_svg(spec).encode()


def _fixed_widths(spec, width: int = 640):
    """"container" widths have no meaning outside a page: give them a size (nested views too)."""
    if isinstance(spec, dict):
        return {k: (width if k == "width" and v == "container" else _fixed_widths(v, width)) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_fixed_widths(v, width) for v in spec]
    return spec


def color_scale(quantity: str, values: np.ndarray | None = None) -> alt.Scale:
    """Gates 0…1 sequential; g and h −1…1 diverging; c diverging and symmetric around 0 (colours.scale_of)."""
    scheme, lo, hi, reverse = scale_of(quantity, values)
    return alt.Scale(scheme=scheme, domain=[lo, hi], reverse=reverse) if reverse else \
        alt.Scale(scheme=scheme, domain=[lo, hi])


# --- training ----------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def loss_spec(what: str, marked: bool = False, height: int = 260, compact: bool = False) -> dict:
    """Train and validation loss on a log scale. Dataset "loss" (step, loss, split: "train" / "validation"); with
    marked=True also "mark" (step, label): a line at a training step (the checkpoint on screen). The spec does not
    change while training goes on, so the page updates the data in place instead of rebuilding the chart. Built
    once per argument set (Altair: a fifth of the server's time under bench_load.py when built per rerun); callers
    must not change the dict (with_data copies it). what: the loss's axis title (the kind's loss_label)."""
    base = alt.Chart(alt.NamedData("loss")).encode(
        x=alt.X("step:Q", title="training step"),
        y=alt.Y("loss:Q", title=None if compact else what, scale=alt.Scale(zero=False, type="log")),
        color=alt.Color("split:N", title=None, scale=alt.Scale(domain=["train", "validation"],
                                                               range=["#4e79a7", "#e15759"]),
                        legend=alt.Legend(orient="bottom") if compact else alt.Legend()),
        tooltip=["step:Q", "split:N", alt.Tooltip("loss:Q", format=".4f")])
    layers = [base.transform_filter("datum.split == 'train'").mark_line(opacity=0.8, strokeWidth=1.5),
              base.transform_filter("datum.split == 'validation'").mark_line(point=True, strokeWidth=2.5)]
    if marked:
        mark = alt.Chart(alt.NamedData("mark"))
        layers += [mark.mark_rule(color="black", strokeWidth=2).encode(x="step:Q"),
                   mark.mark_text(align="left", dx=4, dy=-6, fontSize=13, baseline="top").encode(
                       x="step:Q", y=alt.value(0), text="label:N")]
    title = "Loss (log scale)" + ("" if compact else ": lower is better")
    return configured_spec(alt.layer(*layers).properties(title=title, height=height, width="container"))


def loss_frame(train: list, val: list, max_points: int = 600) -> pd.DataFrame:
    """(step, loss) lists -> the "loss" dataset, thinned to about max_points per line, finite and positive."""
    stride = max(1, len(train) // max_points)
    frame = pd.concat([pd.DataFrame(train[::stride], columns=["step", "loss"]).assign(split="train"),
                       pd.DataFrame(val, columns=["step", "loss"]).assign(split="validation")], ignore_index=True)
    frame["loss"] = frame["loss"].astype(float)  # an empty validation list makes the column "object"
    return frame[np.isfinite(frame["loss"]) & (frame["loss"] > 0)]


def series_chart(frame: pd.DataFrame, unit: str, title: str, split_at=None) -> alt.Chart:
    """frame: t (number or date), value, what ('actual' / 'predicted' / 'series')."""
    x_type = "T" if np.issubdtype(frame["t"].dtype, np.datetime64) else "Q"
    shown = [w for w in ("series", "actual", "predicted") if w in set(frame["what"])]
    colours = {"series": "#4e79a7", "actual": "#4e79a7", "predicted": "#f28e2b"}
    dashes = {"series": [1, 0], "actual": [1, 0], "predicted": [6, 3]}
    legend = alt.Legend(orient="top", title=None, symbolStrokeWidth=3, symbolSize=300) if len(shown) > 1 else None
    line = alt.Chart(frame).mark_line().encode(
        x=alt.X(f"t:{x_type}", title="date" if x_type == "T" else "time step",
                axis=alt.Axis(tickMinStep=1, format="d") if x_type == "Q" else alt.Axis()),
        y=alt.Y("value:Q", title=unit or "value", scale=alt.Scale(zero=False)),
        color=alt.Color("what:N", legend=legend, scale=alt.Scale(domain=shown, range=[colours[w] for w in shown])),
        strokeDash=alt.StrokeDash("what:N", legend=legend, scale=alt.Scale(domain=shown,
                                                                          range=[dashes[w] for w in shown])),
        tooltip=[f"t:{x_type}", "what:N", alt.Tooltip("value:Q", format=".3f")])
    if split_at is not None:
        rule = alt.Chart(pd.DataFrame({"t": [split_at]})).mark_rule(color="gray", strokeDash=[4, 4]).encode(
            x=f"t:{x_type}")
        line = line + rule
    return configure(line.properties(title=title, height=240))


def rollout_chart(frame: pd.DataFrame, title: str, unit: str) -> alt.Chart:
    """frame: h (steps ahead), value, what — lines over the forecast horizon."""
    names = {"actual": "#4e79a7", "teacher-forced (fed the truth)": "#f28e2b",
             "free-running (fed its own predictions)": "#e15759"}
    shown = [w for w in names if w in set(frame["what"])]
    chart = alt.Chart(frame).mark_line(point=True, strokeWidth=2.5).encode(
        x=alt.X("h:Q", title="steps ahead", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("value:Q", title=unit or "value", scale=alt.Scale(zero=False)),
        color=alt.Color("what:N", title=None, legend=alt.Legend(orient="top", direction="vertical", labelLimit=0),
                        scale=alt.Scale(domain=shown, range=[names[w] for w in shown])),
        tooltip=["h:Q", "what:N", alt.Tooltip("value:Q", format=".3f")])
    return configure(chart.properties(height=260, title=title))


# --- heatmap images (step_charts draws them with a cursor) ---------------------------------------------------------

def heatmap_image(quantity: str, values: np.ndarray, blocks: bool = False) -> str:
    """values (T, H) -> PNG data URL, units down, steps across: one pixel per unit and step, which the page scales
    up without smoothing (image-rendering: pixelated, in ui/cursor.css) — a tenth of the bytes of drawing blocks.
    blocks=True draws each cell as a block of pixels instead, for renderers without that CSS (exports).

    An image instead of T*H rect marks: a 256-step x 64-unit heatmap is one mark, so moving the cursor redraws
    in milliseconds (bench/bench_browser.py measured ~1.4 s per step with 6 x 16k rects).
    """
    import base64
    import io

    from PIL import Image
    scheme, lo, hi, reverse = scale_of(quantity, values)
    rgb = ramp(values.T, lo, hi, scheme, reverse)              # (H, T, 3), the legend's colours
    T, H = values.shape
    if blocks:
        cell_w, cell_h = max(1, 1024 // T), max(1, 256 // H)
        rgb = rgb.repeat(cell_h, axis=0).repeat(cell_w, axis=1)    # nearest-neighbour upscale
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def finder_chart(ranked: pd.DataFrame, best: int, label: str) -> alt.Chart:
    """Top units by |correlation| with a hypothesis; the best one highlighted."""
    top = ranked.head(12).assign(name=lambda f: "u" + f["unit"].astype(str), best=lambda f: f["unit"] == best)
    chart = alt.Chart(top).mark_bar().encode(
        y=alt.Y("name:N", sort=None, title="unit"),
        x=alt.X("correlation:Q", title="correlation with the hypothesis", scale=alt.Scale(domain=[-1, 1])),
        color=alt.condition("datum.best", alt.value("#e15759"), alt.value("#bab0ac")),
        tooltip=["name:N", alt.Tooltip("correlation:Q", format="+.3f")])
    return configure(chart.properties(height=260, title=f"Units that follow “{label}” (|r| ranks)"))


def saturation_chart(sat: pd.DataFrame, title: str) -> alt.Chart:
    """Karpathy's saturation plot: one point per unit, x = share of time a gate is < 0.1, y = share > 0.9."""
    gates = list(dict.fromkeys(sat["gate"]))
    frame = sat.assign(name="u" + sat["unit"].astype(str), gate_label=sat["gate"].map(
        lambda g: f"{SHORT[g]}: {g.replace('_', ' ')}"), layer_label="layer " + (sat["layer"] + 1).astype(str))
    diag = alt.Chart(pd.DataFrame({"a": [0, 1], "b": [1, 0]})).mark_line(color="#ccc", strokeDash=[4, 4]).encode(
        x="a:Q", y="b:Q")
    points = alt.Chart().mark_circle(size=60, opacity=0.7).encode(  # data from the facet: one gate per panel
        x=alt.X("left:Q", title="fraction of steps < 0.1 (closed)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("right:Q", title="fraction > 0.9 (open)", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("gate:N", legend=None, scale=alt.Scale(domain=gates, range=[COLORS[g] for g in gates])),
        shape=alt.Shape("layer_label:N", title=None),
        tooltip=["name:N", "layer_label:N", "gate_label:N", alt.Tooltip("left:Q", format=".0%"),
                 alt.Tooltip("right:Q", format=".0%")])
    chart = alt.layer(diag, points).properties(width=230, height=230).facet(
        column=alt.Column("gate_label:N", title=None, sort=[f"{SHORT[g]}: {g.replace('_', ' ')}" for g in gates],
                          header=alt.Header(labelFontSize=14)), data=frame)
    return configure(chart.properties(title=title))


# --- long-memory lab ---------------------------------------------------------------------------------------------

CELL_COLORS = {"rnn": "#bab0ac", "gru": "#59a14f", "lstm": "#b07aa1"}


CELL_SCALE = alt.Scale(domain=[CELL_NAMES[c] for c in CELL_COLORS], range=list(CELL_COLORS.values()))


def _cell_color(field: str = "name") -> alt.Color:
    return alt.Color(f"{field}:N", title=None, scale=CELL_SCALE)


def race_loss_chart(history: pd.DataFrame, what: str) -> alt.Chart:
    """history: cell, step, loss — one panel per cell, same scales, side by side. what: the loss's axis title."""
    frame = history.assign(name=history["cell"].map(CELL_NAMES))
    chart = alt.Chart(frame).mark_line(strokeWidth=1.5).encode(
        x=alt.X("step:Q", title="training step"), y=alt.Y("loss:Q", title=what, scale=alt.Scale(type="log")),
        color=alt.Color("name:N", legend=None, scale=CELL_SCALE),
        tooltip=["name:N", "step:Q", alt.Tooltip("loss:Q", format=".4f")]
    ).properties(width=250, height=200).facet(column=alt.Column(
        "name:N", title=None, sort=list(CELL_NAMES.values()), header=alt.Header(labelFontSize=15)))
    return configure(chart.properties(title="Training loss, same batches for all three"))


def accuracy_chart(acc: pd.DataFrame, chance: float, unit: str) -> alt.Chart:
    """acc: [seed,] cell, distance, accuracy; a dashed line at chance level. Over several seeds: the mean as the
    line and a band from the worst to the best seed."""
    n_seeds = acc["seed"].nunique() if "seed" in acc else 1
    frame = (acc.groupby(["cell", "distance"], as_index=False)["accuracy"].agg(accuracy="mean", low="min",
                                                                              high="max")
             .assign(name=lambda f: f["cell"].map(CELL_NAMES)))
    x = alt.X("distance:Q", title=f"distance ({unit})")
    y_title = "accuracy on the dependent item" + (f" (mean of {n_seeds} seeds)" if n_seeds > 1 else "")
    tooltip = ["name:N", "distance:Q", alt.Tooltip("accuracy:Q", format=".0%", title="accuracy")]
    if n_seeds > 1:
        tooltip += [alt.Tooltip("low:Q", format=".0%", title="worst seed"),
                    alt.Tooltip("high:Q", format=".0%", title="best seed")]
    y = alt.Y("accuracy:Q", title=y_title, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"))
    lines = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=70), strokeWidth=3).encode(
        x=x, y=y, color=_cell_color(), tooltip=tooltip)
    # the GRU and the LSTM are often both at 100 %: a wide GRU line underneath shows as a rim around the LSTM's
    rim = alt.Chart(frame[frame["cell"] == "gru"]).mark_line(strokeWidth=10, opacity=0.7).encode(
        x=x, y=y, color=_cell_color(), tooltip=tooltip)
    layers = [rim, lines]
    if n_seeds > 1:
        layers.insert(0, alt.Chart(frame).mark_area(opacity=0.18).encode(
            x=x, y="low:Q", y2="high:Q", color=_cell_color(), tooltip=tooltip))
    rule = alt.Chart(pd.DataFrame({"chance": [chance]})).mark_rule(strokeDash=[6, 4], color="#555").encode(
        y="chance:Q")
    label = alt.Chart(pd.DataFrame({"chance": [chance], "text": [f"chance {chance:.0%}"]})).mark_text(
        align="left", dx=4, dy=-8, color="#555", fontSize=13).encode(y="chance:Q", x=alt.value(0), text="text:N")
    return configure(alt.layer(*layers, rule, label).properties(height=300))


def gradient_chart(grads: pd.DataFrame) -> alt.Chart:
    """grads: cell, when, k, norm — ‖∂L/∂h(t−k)‖ on a log scale, solid after training, dashed at initialisation."""
    frame = grads[grads["norm"] > 0].assign(name=grads["cell"].map(CELL_NAMES))
    chart = alt.Chart(frame).mark_line(strokeWidth=2.5).encode(
        x=alt.X("k:Q", title="k: steps back from the scored step"),
        y=alt.Y("norm:Q", title="‖∂L/∂h(t−k)‖", scale=alt.Scale(type="log")),
        color=_cell_color(),
        strokeDash=alt.StrokeDash("when:N", title=None, scale=alt.Scale(
            domain=["after training", "at initialisation"], range=[[1, 0], [5, 4]])),
        tooltip=["name:N", "when:N", "k:Q", alt.Tooltip("norm:Q", format=".2e")])
    return configure(chart.properties(height=300, title="How much the loss still reaches back k steps"))


def forget_chart(frame: pd.DataFrame) -> alt.Chart:
    """frame: k, 'mean over units', 'best unit' — the share of the LSTM's cell state that survives k steps."""
    long = frame.melt(id_vars="k", var_name="which", value_name="survives")
    chart = alt.Chart(long).mark_line(strokeWidth=2.5, color=CELL_COLORS["lstm"]).encode(
        x=alt.X("k:Q", title="k: steps back from the scored step"),
        y=alt.Y("survives:Q", title="∏ f over the last k steps", scale=alt.Scale(domain=[0, 1])),
        strokeDash=alt.StrokeDash("which:N", title=None, scale=alt.Scale(domain=["best unit", "mean over units"],
                                                                         range=[[1, 0], [5, 4]])),
        tooltip=["which:N", "k:Q", alt.Tooltip("survives:Q", format=".3f")])
    return configure(chart.properties(height=300, title="LSTM: how much of the cell state survives the gap"))




def bottleneck_chart(result: pd.DataFrame, title: str) -> alt.Chart:
    """Exact match vs source length for the encoder–decoder read as written and read backwards (bottleneck.py);
    title: what the curves show (bottleneck.chart_title)."""
    data = result.assign(length=result["bin"].astype(str) + "–" + (result["bin"] + 4).astype(str))
    order = [f"{b}–{b + 4}" for b in sorted(result["bin"].unique())]
    return configure(alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=90), strokeWidth=3).encode(
        x=alt.X("length:O", sort=order, title="source length (characters)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("accuracy:Q", title="exact match on held-out sources", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        color=alt.Color("variant:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["variant:N", "length:O", alt.Tooltip("accuracy:Q", format=".0%"), "examples:Q"]).properties(
        height=300, width="container", title=title))


def final_state_chart(frame: pd.DataFrame, order: list) -> alt.Chart:
    """The encoder's final c and h per unit (translation: what is handed to the decoder): c on the left axis, h on
    its own right axis, −1…1 (on c's axis, with c at ±20, the h bars were too short to see)."""
    base = alt.Chart(frame).mark_bar().encode(
        x=alt.X("unit:N", sort=order, title="unit (largest |c| first)", axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("quantity:N", scale=alt.Scale(domain=["c (cell state)", "h (hidden state)"])),
        color=alt.Color("quantity:N", title=None, scale=alt.Scale(domain=["c (cell state)", "h (hidden state)"],
                                                                  range=[COLORS["cell_state"], COLORS["hidden_state"]]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=["unit:N", "quantity:N", alt.Tooltip("value:Q", format="+.3f")])
    c = base.transform_filter("datum.quantity == 'c (cell state)'").encode(
        y=alt.Y("value:Q", title="c after the last source character", axis=alt.Axis(orient="left")))
    h = base.transform_filter("datum.quantity == 'h (hidden state)'").encode(
        y=alt.Y("value:Q", title="h (−1…1)", scale=alt.Scale(domain=[-1, 1]), axis=alt.Axis(orient="right")))
    return configure(alt.layer(c, h).resolve_scale(y="independent").properties(height=220, width="container"))


def alignment_chart(align: np.ndarray, source: list, reads: list, emits: list) -> alt.Chart:
    """Attention weights (decoder steps × source characters) as a heatmap."""
    T, S = align.shape
    rows = [{"d": t, "s": s, "weight": float(align[t, s]), "src": f"{s}:{show(source[s])}",
             "step": f"{t}: {show(reads[t])}→{show(emits[t]) if t < len(emits) else '?'}"}
            for t in range(T) for s in range(S)]
    frame = pd.DataFrame(rows)
    return configure(alt.Chart(frame).mark_rect().encode(
        x=alt.X("src:O", sort=[f"{s}:{show(source[s])}" for s in range(S)], title="source character (as read)",
                axis=alt.Axis(labelExpr="split(datum.label, ':')[1]", labelAngle=0, labelFontSize=14)),
        y=alt.Y("step:O", sort=[r["step"] for r in rows[::S]], title="decoder step: reads → emits",
                axis=alt.Axis(labelFontSize=14)),
        color=alt.Color("weight:Q", scale=alt.Scale(scheme="greys", domain=[0, 1]), title="weight"),
        tooltip=["step:N", "src:N", alt.Tooltip("weight:Q", format=".2f")]).properties(
        height=alt.Step(24), width="container"))
