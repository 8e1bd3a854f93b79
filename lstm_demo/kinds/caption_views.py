"""The captioner's step-following views: the picture with the attention at the cursor's word over its feature grid,
the attention's numbers cell by cell, and the words the decoder reads (coloured by one unit) with the word it says
under each. Drawn in the browser at the cursor like every step view (step_charts.py): the data of every word is
sent once, the `step` parameter picks what shows. Pure Altair; no Streamlit, no torch.

    ┌ picture ───────┐  ┌ attention ─────┐   [<start>][ a ][ small ][ red ] …   the words read (tiles: one unit)
    │ ● ░░░          │  │  2% 71%  …     │      a     small  red   circle       the words said (green: the truth)
    │ grid outlined, │  │  sums to 100 % │
    │ veil = weight  │  └────────────────┘
    └────────────────┘
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ..charts import SHORT
from ..step_charts import AT_STEP, PRESENTER, caption_frame, finish, main_views, scaled, topk_parts
from ..view_store import with_data
from .vision_charts import png
from .word_views import caption_lines, hex_colours, ink_for, word_frame, word_strip_spec

PICTURE_PX = 150        # the picture and the attention grid on screen (the 32-pixel picture scaled ×4.7)
STRIP_PX = 520          # the words' strip
RIGHT, WRONG, NO_TRUTH = "#1b7a2e", "#c62828", "#555555"   # a said word: the truth's, not it, no truth to compare
HEAT = ("#fff5eb", "#7f2704")   # the attention grid: 0 … 1 (white to dark orange)
NAMED = "#f28e2b"               # outline of the cells of the shape the word names


def picture_url(image: np.ndarray) -> str:
    """A picture (3, P, P) in [0, 1] -> PNG data URL, one pixel per pixel (the page scales it up without blur)."""
    rgb = (np.clip(np.transpose(np.asarray(image, dtype=float), (1, 2, 0)), 0, 1) * 255).round().astype(np.uint8)
    return png(rgb)


def heat_colours(weights: np.ndarray) -> np.ndarray:
    """Attention weights in [0, 1] -> RGB (..., 3) uint8 on the white-to-orange ramp."""
    lo, hi = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=float) for c in HEAT)
    w = np.clip(np.asarray(weights, dtype=float), 0, 1)[..., None]
    return (lo * (1 - w) + hi * w).round().astype(np.uint8)


def named_cells(trace) -> np.ndarray:
    """(T, cells) bool: at each word, the grid cells of the shape the word names (none for a relation word, a wrong
    word or a picture without a layout)."""
    from .captioner import gaze
    T, cells = trace.n_steps, int(trace.extras["grid"]) ** 2
    out = np.zeros((T, cells), dtype=bool)
    if "cells" not in trace.extras:
        return out
    for t in range(T):
        named = gaze(trace, t)["named"]
        if named >= 0:
            out[t] = np.asarray(trace.extras["cells"])[named]
    return out


def attention_frame(trace, size: int = PICTURE_PX) -> pd.DataFrame:
    """Dataset "attention": a row per word and grid cell — step, cell, x0, x1, y0, y1 (pixels), weight, veil (the
    white veil's opacity on the picture), named (the cell is the named shape's), fill and ink (the grid's colours)
    and label ("71%"). Without attention: an empty frame with those columns."""
    columns = ["step", "cell", "x0", "x1", "y0", "y1", "weight", "veil", "named", "fill", "ink", "label"]
    att = trace.extras.get("attention")
    if att is None:
        return pd.DataFrame(columns=columns)
    att = np.asarray(att, dtype=float)                                 # (T, cells)
    grid = int(trace.extras["grid"])
    T, cells = att.shape
    step, cell = (a.ravel() for a in np.meshgrid(np.arange(T), np.arange(cells), indexing="ij"))
    row, col = np.divmod(cell, grid)
    side = size / grid
    weight = att.ravel()
    rgb = heat_colours(weight)
    return pd.DataFrame({"step": step, "cell": cell, "x0": col * side, "x1": (col + 1) * side, "y0": row * side,
                         "y1": (row + 1) * side, "weight": weight,
                         "veil": 0.8 * np.sqrt(weight),  # the square root shows a 6 % cell too, faintly
                         "named": named_cells(trace).ravel(), "fill": hex_colours(rgb), "ink": ink_for(rgb),
                         "label": [f"{w:.0%}" for w in weight]})


def _pixels(size: int):
    scale = alt.Scale(domain=[0, size], nice=False, zero=False)
    return (lambda f: alt.X(f"{f}:Q", axis=None, scale=scale),
            lambda f: alt.Y(f"{f}:Q", axis=None, scale=alt.Scale(domain=[0, size], nice=False, zero=False,
                                                                 reverse=True)))


def picture_spec(size: int, attention: bool) -> alt.LayerChart:
    """The picture; its feature grid outlined; at the cursor's word a white veil as thick as the attention on each
    cell and the named shape's cells outlined in orange. Datasets "picture" (url) and "attention"."""
    x, y = _pixels(size)
    image = alt.Chart(alt.NamedData("picture")).mark_image(
        width=size, height=size, aspect=False, align="left", baseline="top").encode(
        x=alt.value(0), y=alt.value(0), url="url:N")
    layers = [image]
    if attention:
        cells = alt.Chart(alt.NamedData("attention"))
        layers += [
            cells.transform_filter(AT_STEP).mark_rect(fill="white").encode(
                x=x("x0"), x2="x1:Q", y=y("y0"), y2="y1:Q", opacity=alt.Opacity("veil:Q", scale=None),
                tooltip=[alt.Tooltip("label:N", title="attention")]),
            cells.transform_filter("datum.step == 0").mark_rect(fill=None, stroke="#9a9a9a", strokeWidth=1).encode(
                x=x("x0"), x2="x1:Q", y=y("y0"), y2="y1:Q"),
            cells.transform_filter(AT_STEP).transform_filter("datum.named").mark_rect(
                fill=None, stroke=NAMED, strokeWidth=3).encode(x=x("x0"), x2="x1:Q", y=y("y0"), y2="y1:Q")]
    title = "Where it looks (white)" if attention else "The picture"
    return alt.layer(*layers).properties(width=size, height=size, title=title)


def grid_spec(size: int) -> alt.LayerChart:
    """The attention at the cursor's word, cell by cell (sums to 100 %); the named shape's cells outlined."""
    x, y = _pixels(size)
    base = alt.Chart(alt.NamedData("attention")).transform_filter(AT_STEP)
    tiles = base.mark_rect(stroke="#bbbbbb", strokeWidth=1).encode(
        x=x("x0"), x2="x1:Q", y=y("y0"), y2="y1:Q", color=alt.Color("fill:N", scale=None),
        tooltip=[alt.Tooltip("cell:Q"), alt.Tooltip("label:N", title="attention")])
    labels = base.transform_calculate(xm="(datum.x0 + datum.x1) / 2", ym="(datum.y0 + datum.y1) / 2").mark_text(
        fontSize=13).encode(x=x("xm"), y=y("ym"), text="label:N", color=alt.Color("ink:N", scale=None))
    named = base.transform_filter("datum.named").mark_rect(fill=None, stroke=NAMED, strokeWidth=3).encode(
        x=x("x0"), x2="x1:Q", y=y("y0"), y2="y1:Q")
    return alt.layer(tiles, labels, named).properties(width=size, height=size, title="Attention here")


def said_colours(trace) -> list[str]:
    """Each said word's colour: green where it is the truth's word, red where it is not, grey with no truth."""
    said = [str(w) for w in trace.extras["emitted"]]
    return [NO_TRUTH if not truth else RIGHT if word == truth else WRONG for word, truth in zip(said, trace.targets)]


NO_TRUE_WORD = "no true word here: the true caption has ended"


def step_views(trace, layer: int, direction: int, unit: int, colour: str, captions: list, guesses: str,
               presenter: bool = False) -> dict:
    """The captioner's views above "More views": "strip" (the picture, the attention and the words), "diagram",
    "equations" (step_charts.main_views) and "topk" (the next word's top guesses)."""
    views = main_views(trace, layer, direction, unit, colour, "text", captions, None, "", presenter)
    factor = PRESENTER["fonts"] if presenter else 1.0
    size = round(PICTURE_PX * (0.9 if presenter else 1))  # the presenter's screen is shorter
    values = trace.get(colour, layer, direction)[:, unit]
    width = round(STRIP_PX * (1.2 if presenter else 1))    # as many words per row in larger type
    frame, scale = word_frame(list(trace.inputs), values, colour, width, under=list(trace.extras["emitted"]),
                              under_colours=said_colours(trace), char_px=9.2 * factor, tile_h=round(30 * factor))
    title = f"Words read, coloured by u{unit}'s {SHORT[colour]}; below: words said"
    attention = "attention" in trace.extras
    panels = [picture_spec(size, attention)] + ([grid_spec(size)] if attention else []) + \
        [word_strip_spec(frame, scale, colour, title, width, under=True)]
    spacing = 18
    chart = alt.vconcat(caption_lines(captions, (len(panels) - 1) * (size + spacing) + width, lines=2),
                        alt.hconcat(*panels, spacing=spacing), spacing=6)
    strip = with_data(finish(chart), picture=pd.DataFrame({"url": [picture_url(trace.extras["image"])]}),
                      attention=attention_frame(trace, size), words=frame, captions=caption_frame(captions))
    spec, data = topk_parts(trace, guesses, no_truth=NO_TRUE_WORD)
    topk = with_data(spec, **data)
    if presenter:
        strip, topk = scaled(strip, factor), scaled(topk, factor)
    return {**views, "strip": strip, "topk": topk}


# --- teacher forcing vs free running ----------------------------------------------------------------------------------

def side_by_side(teacher, free) -> pd.DataFrame:
    """The two decoders on the same picture, word by word: what each reads and says, and the truth."""
    T = max(teacher.n_steps, free.n_steps)
    cell = lambda seq, t: str(seq[t]) if t < len(seq) else ""
    truth = teacher.targets
    return pd.DataFrame({
        "step": np.arange(T),
        "teacher-forced reads": [cell(teacher.inputs, t) for t in range(T)],
        "teacher-forced says": [cell(teacher.extras["emitted"], t) for t in range(T)],
        "free-running reads": [cell(free.inputs, t) for t in range(T)],
        "free-running says": [cell(free.extras["emitted"], t) for t in range(T)],
        "truth": [cell(truth, t) for t in range(T)]})
