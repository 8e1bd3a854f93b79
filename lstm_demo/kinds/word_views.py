"""A strip of words that follows the cursor: one tile per step, as wide as its word, coloured by one unit's value,
the tile at the cursor outlined. The text kind draws it for a word-level model (step_charts.text_strip_spec's
tiles are one character wide) and the captioner for the words its decoder reads, with the word it says under each.
Pure Altair over pixel coordinates; no Streamlit, no torch.

    x →  0                                                                 width
    row 0  [ <start> ][ a ][ small ][ red ][ circle ][ left ][ of ] …      tiles: the word read, coloured by the unit
             a         small  red    circle  left     of     a           (captioner) the word said, under each tile
    row 1  [ a ][ big ][ blue ][ square ]

Tile colours are computed here (charts.ramp, the anchors Vega's schemes use), so each tile's letters can be black or
white by the tile's own luminance: at least 4.6:1 contrast on any tile (WCAG's 4.5:1), whatever the scheme.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ..charts import SHORT, color_scale
from ..colours import ink, luminance, ramp, scale_of  # noqa: F401  (luminance: re-exported for the tests)
from ..names import show
from ..step_charts import AT_STEP, MONO, finish

CHAR_PX = 9.2       # width of a character of the 15-px monospace font
TILE_PAD = 14       # pixels around a word inside its tile
GAP = 4             # pixels between tiles
TILE_H = 30
SAID_H = 22         # the line of words said under the tiles (captioner)
ROW_GAP = 8


def contrast(l1, l2):
    """WCAG contrast ratio of two luminances (colours.luminance)."""
    hi, lo = np.maximum(l1, l2), np.minimum(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def ink_for(rgb: np.ndarray) -> np.ndarray:
    """Black or white letters, whichever contrasts more with each colour (colours.ink: at worst 4.58:1)."""
    return np.where(ink(rgb) == "black", "#000000", "#ffffff")


def hex_colours(rgb: np.ndarray) -> list[str]:
    return ["#{:02x}{:02x}{:02x}".format(*map(int, c)) for c in rgb.reshape(-1, 3)]


def tile_colours(quantity: str, values: np.ndarray) -> tuple[list[str], list[str], alt.Scale]:
    """(fill per value, ink per value, the Vega scale of the legend) for one quantity's values: gates 0…1 viridis,
    c symmetric red-blue over its largest |value|, g and h −1…1 red-blue — the colours the legend's scale draws
    (colours.scale_of; red-blue reversed: blue below 0)."""
    scheme, lo, hi, reverse = scale_of(quantity, values)
    rgb = ramp(np.asarray(values, dtype=float), lo, hi, scheme, reverse)
    return hex_colours(rgb), list(ink_for(rgb)), color_scale(quantity, values)


def layout(words: list[str], width: int, under: list[str] | None = None, char_px: float = CHAR_PX,
           tile_h: int = TILE_H) -> pd.DataFrame:
    """Tiles in rows no wider than `width`: step, x0, x1, y0, y1 (pixels, y down), xm, ym (the tile's centre) and,
    with `under` (a word per step drawn under its tile), said_y. A tile is as wide as the longer of its words."""
    pitch = tile_h + (SAID_H if under is not None else 0) + ROW_GAP
    rows, x = [], 0.0
    row = 0
    for t, word in enumerate(words):
        longest = max(len(word), len(under[t]) if under is not None else 0, 1)
        w = longest * char_px + TILE_PAD
        if x > 0 and x + w > width:
            row, x = row + 1, 0.0
        rows.append({"step": t, "x0": x, "x1": x + w, "y0": row * pitch, "y1": row * pitch + tile_h,
                     "xm": x + w / 2, "ym": row * pitch + tile_h / 2,
                     "said_y": row * pitch + tile_h + SAID_H / 2 + 1})
        x += w + GAP
    return pd.DataFrame(rows)


def strip_height(frame: pd.DataFrame, under: bool) -> int:
    return int(frame["y1"].max() + (SAID_H if under else 0) + 2) if len(frame) else TILE_H


def word_frame(words: list[str], values: np.ndarray, quantity: str, width: int, guesses=None, under=None,
               under_colours=None, char_px: float = CHAR_PX, tile_h: int = TILE_H) -> tuple[pd.DataFrame, alt.Scale]:
    """Dataset "words" of word_strip_spec: the layout, each tile's fill, ink, value, word (spaces and line breaks
    made visible), the top guesses (tooltip) and, with `under`, the word under each tile and its colour."""
    shown = [show(w) for w in words]
    under_shown = [show(w) for w in under] if under is not None else None
    frame = layout(shown, width, under_shown, char_px, tile_h)
    fill, ink, scale = tile_colours(quantity, values)
    frame = frame.assign(word=shown, value=np.asarray(values, dtype=float), fill=fill, ink=ink,
                         guesses=list(guesses) if guesses is not None else [""] * len(words))
    if under is not None:
        frame = frame.assign(said=under_shown, said_colour=list(under_colours))
    return frame, scale


def word_strip_spec(frame: pd.DataFrame, scale: alt.Scale, quantity: str, title: str, width: int,
                    under: bool = False, font: int = 15, said_font: int = 14, legend: bool = True) -> alt.LayerChart:
    """The strip as an Altair layer (not finished: a kind puts it beside its other views). Dataset "words"
    (word_frame); its values are constant across steps, only the outline follows the cursor."""
    height = strip_height(frame, under)
    x = lambda f: alt.X(f"{f}:Q", axis=None, scale=alt.Scale(domain=[0, width], nice=False, zero=False))
    y = lambda f: alt.Y(f"{f}:Q", axis=None, scale=alt.Scale(domain=[0, height], nice=False, zero=False,
                                                             reverse=True))
    base = alt.Chart(alt.NamedData("words"))
    tiles = base.mark_rect().encode(
        x=x("x0"), x2="x1:Q", y=y("y0"), y2="y1:Q", color=alt.Color("fill:N", scale=None),
        tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("word:N", title="reads"),
                 alt.Tooltip("value:Q", format="+.3f"), alt.Tooltip("guesses:N", title="top guesses")])
    letters = base.mark_text(font=MONO, fontSize=font).encode(
        x=x("xm"), y=y("ym"), text="word:N", color=alt.Color("ink:N", scale=None))
    cursor = base.transform_filter(AT_STEP).mark_rect(fill=None, stroke="#f28e2b", strokeWidth=4).encode(
        x=x("x0"), x2="x1:Q", y=y("y0"), y2="y1:Q")
    layers = [tiles, letters, cursor]
    if under:
        layers.append(base.mark_text(font=MONO, fontSize=said_font, fontWeight="bold").encode(
            x=x("xm"), y=y("said_y"), text="said:N", color=alt.Color("said_colour:N", scale=None)))
    if legend:  # an invisible point on the value's own scale draws the colour legend (the tiles' colours are fixed)
        corners = pd.DataFrame({"x0": [0.0, 0.0], "y0": [0.0, 0.0], "value": list(scale.domain)})
        layers.insert(0, alt.Chart(corners).mark_point(opacity=0).encode(
            x=x("x0"), y=y("y0"), color=alt.Color("value:Q", scale=scale, title=SHORT[quantity],
                                                  legend=alt.Legend(orient="right", gradientLength=60))))
    return alt.layer(*layers).properties(width=width, height=height, title=title)


def caption_lines(captions: list, width: int, lines: int = 1, font: int = 16) -> alt.Chart:
    """The sentence(s) of the step at the cursor (dataset "captions": step, text; a line break splits lines)."""
    return alt.Chart(alt.NamedData("captions")).transform_filter(AT_STEP).mark_text(
        align="left", baseline="top", fontSize=font, fontWeight="bold", color="#222", lineBreak="\n",
        lineHeight=font + 6).encode(x=alt.value(0), y=alt.value(2), text="text:N").properties(
        height=lines * (font + 6) + 4, width=width)


def text_word_strip(trace, values: np.ndarray, quantity: str, title: str, captions: list, guesses,
                    width: int = 1000, presenter: bool = False) -> dict:
    """A word-level text model's strip: its caption line above the words it reads, coloured by one unit (the
    word-level counterpart of step_charts.text_strip_spec). -> a finished spec with its datasets."""
    from ..view_store import with_data
    from ..step_charts import caption_frame
    char_px, font, tile_h = (CHAR_PX * 1.4, 21, 40) if presenter else (CHAR_PX, 15, TILE_H)
    frame, scale = word_frame(list(trace.inputs), values, quantity, width, guesses, char_px=char_px, tile_h=tile_h)
    strip = word_strip_spec(frame, scale, quantity, title, width, font=font)
    spec = finish(alt.vconcat(caption_lines(captions, width, font=22 if presenter else 18), strip, spacing=4))
    return with_data(spec, words=frame, captions=caption_frame(captions))
