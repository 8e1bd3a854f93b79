"""The step-through views of the LSTMs that see, with their data, keyed as the page memoises them: built once per
trace and pixel or unit, or ahead of time for a scene (lstm_demo/scenes.py) so the first screen only reads them.
No Streamlit here; the plotting library is imported when a view is built."""
from __future__ import annotations

import numpy as np

from ..view_store import with_data

MAX_CHANNELS_SHOWN = 8


def split_unit(unit: int, shape) -> tuple[int, int, int]:
    C, H, W = shape
    return unit // (H * W), (unit % (H * W)) // W, unit % W


FRAMES_KEY, CNN_KEY = ("vision_frames",), ("vision_cnn",)
cell_key = lambda unit, compact=False: ("vision_cell", unit, bool(compact))
pick_key = lambda y, x: ("vision_pick", y, x)
pix_key = lambda unit: ("vision_pix", unit)


def cell_views(trace, unit: int, label: str, compact: bool = False) -> dict:
    """The cell diagram and equations of one unit (compact: the presenter view's large type, no words)."""
    from .. import step_charts
    from ..explain import diagram_tables, step_terms, width_words
    terms = step_terms(trace, 0, 0, unit)
    edges, _ = diagram_tables("lstm")
    title = f"LSTM cell at {label}"
    diagram = step_charts.diagram_spec("lstm", title, words=False, **step_charts.PRESENTER["diagram"]) if compact \
        else step_charts.diagram_spec("lstm", title, how=width_words())
    font = step_charts.PRESENTER["equations"] if compact else 15
    return {"diagram": with_data(diagram, dg_edges=edges, dg_terms=step_charts.terms_long(terms), terms=terms),
            "equations": with_data(step_charts.equations_spec("lstm", 0, label, who=label, font=font,
                                                              chars=step_charts.equation_chars("lstm", terms)),
                                   terms=terms)}


def frame_views(trace) -> dict:
    from . import vision_charts as vc
    C = trace.unit_shape[0]
    maps = vc.convlstm_maps(trace, MAX_CHANNELS_SHOWN)
    frames = vc.convlstm_frames(trace)
    word_lines = int(frames["scores"]["text"].str.count("\n").max()) + 1
    return {"frames": with_data(vc.convlstm_frames_spec(word_lines=word_lines), **frames),
            "maps": with_data(vc.convlstm_maps_spec(min(C, MAX_CHANNELS_SHOWN)), maps=maps),
            "maps_compact": with_data(vc.convlstm_maps_spec(min(C, MAX_CHANNELS_SHOWN), compact=True), maps=maps)}


def pick_views(trace, y: int, x: int) -> dict:
    from . import vision_charts as vc
    return {"chart": with_data(vc.pixel_pick_spec(trace.unit_shape[1]), pixels=vc.pixel_grid(trace, 0, y, x))}


def pix_views(trace, unit: int, label: str) -> dict:
    from . import vision_charts as vc
    from ..explain import step_terms
    pix = vc.pixel_gates_frame(step_terms(trace, 0, 0, unit))
    return {"gates": with_data(vc.pixel_gates_spec(label, trace.n_steps), pix=pix),
            "states": with_data(vc.pixel_states_spec(label, trace.n_steps), pix=pix)}


def convlstm_views(trace, unit: int, label: str) -> dict:
    """The memo entries a ConvLSTM view opens on, at this channel and pixel (scenes store them)."""
    _, y, x = split_unit(unit, trace.unit_shape)
    return {FRAMES_KEY: frame_views(trace), pick_key(y, x): pick_views(trace, y, x),
            cell_key(unit): cell_views(trace, unit, label), cell_key(unit, True): cell_views(trace, unit, label, True),
            pix_key(unit): pix_views(trace, unit, label)}


def cnnlstm_views(trace, unit: int, label: str) -> dict:
    """The memo entries a CNN-LSTM view opens on, at this unit (scenes store them)."""
    return {CNN_KEY: cnn_views(trace), cell_key(unit): cell_views(trace, unit, label),
            cell_key(unit, True): cell_views(trace, unit, label, True)}


def cnn_views(trace) -> dict:
    from .. import step_charts
    from . import vision_charts as vc
    data = vc.cnn_frames(trace)
    topk, guesses = step_charts.topk_parts(trace, "the first digit")
    return {"strip": with_data(vc.cnn_strip_spec(trace.n_steps), strip=data["strip"], answer=data["answer"]),
            "strip_compact": with_data(vc.cnn_strip_spec(trace.n_steps, compact=True), strip=data["strip"],
                                       answer=data["answer"]),
            "maps": with_data(vc.cnn_maps_spec(data["fmaps"]["map"].nunique()), fmaps=data["fmaps"]),
            "topk": with_data(topk, **guesses)}
