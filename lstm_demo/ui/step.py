"""Step-through: choose a sequence, then the views that follow the browser's cursor.

The server draws each view once per sequence, layer, direction and unit, with the data of every step; the cursor
(cursor.py) moves in the browser and no script runs until the visitor changes something else.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

from ..conclusions import replay_verdict
from ..kinds import KINDS
from ..view_store import heat_key, main_key
from . import cell_views, exports
from .common import bound, show_chart, state
from .cursor import KEYS_HINT, cursor_ui
from .state import PANELS, TraceView

MEMO_ENTRIES = 48   # specs kept per trace (a visitor browsing units evicts the oldest)
REPORTING_PANELS = ("whatif", "forecast", "export")  # panels that need the browser's step on the server


class Memo(OrderedDict):
    """A bounded memo: the least recently used entries go first. Safe to share between visitors: when many ask for
    the same missing entry at once (a workshop opening one link), one builds it and the others wait for it."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._building: dict = {}

    def get_or(self, key, build):
        with self._lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
            ready = self._building.get(key)
            mine = ready is None
            if mine:
                ready = self._building[key] = threading.Event()
        if not mine:
            ready.wait(60)
            with self._lock:
                if key in self:
                    return self[key]
            return build()  # the builder failed: build for this visitor
        try:
            value = build()
            with self._lock:
                self[key] = value
                while len(self) > MEMO_ENTRIES:
                    self.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._building.pop(key, None)
            ready.set()


def memo(view: TraceView, key, build):
    return view.memo.get_or(key, build)


# --- the trace ------------------------------------------------------------------------------------------------------

def choice_digest(choice) -> str:
    """A fingerprint of what a kind traces (a sequence and its mask, an index, a source …)."""
    parts = choice if isinstance(choice, tuple) else (choice,)
    h = hashlib.sha1()
    for part in parts:
        raw = part.numpy().tobytes() if hasattr(part, "numpy") else np.asarray(part).tobytes() \
            if isinstance(part, np.ndarray) else repr(part).encode()
        h.update(raw + b"|")
    return h.hexdigest()


@st.cache_resource(max_entries=48, show_spinner=False)
def _shared_trace(origin: str, model_id: int, steps: int, digest: str, checkpoint, _kind, _model, _data, _choice):
    """A bundled model's read-only copy is public and never trained in place (a visitor who trains gets their own
    copy): its traces and the views drawn from them are computed once per process, not once per visitor (30
    people opening the same link at once). Keyed by the shared weights' identity, not only the bundle's name: no
    visitor's own model can ever meet this cache. Read-only for callers; the memo is bounded."""
    return _kind.trace(_model, _data, _choice), Memo()


def shared_view(origin: str, loaded, choice) -> tuple:
    """(trace, memo) of a bundled model's process-wide copy (warm-ups and the pages use the same cache)."""
    kind = KINDS[loaded.data.kind]
    return _shared_trace(origin, id(loaded.model), loaded.steps, choice_digest(choice), None, kind, loaded.model,
                         loaded.data, choice)


def get_view(ex, choice, checkpoint: int | None = None) -> TraceView:
    """The trace of `choice` under the current weights, or under a kept checkpoint's; kept until the weights, the
    checkpoint or the choice change."""
    s = state()
    digest = choice_digest(choice)
    key = (id(ex), ex.weights_step, digest, checkpoint)
    if s.view is None or s.view.key != key:
        model = ex.current_weights_model() if checkpoint is None else ex.checkpoint_model(checkpoint)
        if ex.shared and ex.job is None:
            trace, shared = _shared_trace(ex.origin, id(ex.model), ex.trained_steps, digest, checkpoint, ex.spec,
                                          model, ex.data, choice)
            s.view = TraceView(key, trace, model, choice, shared)
        else:
            s.view = TraceView(key, ex.spec.trace(model, ex.data, choice), model, choice, Memo())
        s.whatif = None
    return s.view


# --- the views -----------------------------------------------------------------------------------------------------

def step_view(ex, view: TraceView, query=None, panels: bool = True, compact: bool = False) -> None:
    """Everything that follows the cursor, in one fragment: a change of unit, layer or panel reruns only this part,
    and moving the cursor reruns nothing. query: the address bar (state.to_query) or None."""

    @st.fragment
    def fragment():
        s = state()
        trace, c = view.trace, s.cursor
        c.fit(trace.n_steps, trace.n_layers, trace.n_directions, trace.n_units)
        intro, aside = s.scene_intro[1:] if s.scene_intro and s.scene_intro[0] == view.key and not compact \
            else (None, None)
        if intro is not None:  # a scene's words beside the controls: the coloured text and the cell come sooner
            words, controls = st.columns([1.3, 1])
            with words:
                intro()  # (it notes s.scene_intro_drawn: the scene does not draw its words again)
        else:
            controls = st.container()
        with controls:
            layer, direction, unit, colour = cell_views.selectors_ui(trace, compact, narrow=intro is not None)
            panel = c.panel if panels else None
            view_id = f"{id(view)}:{layer}:{direction}:{unit}:{colour}"
            cursor_ui(view_id, trace.n_steps, query=query() if callable(query) else query,
                      report=panel in REPORTING_PANELS, compact=compact, keys=aside is None)
        kind = KINDS[trace.kind]
        unit_of = unit_words(ex.data if ex is not None else None)
        views = memo(view, main_key(layer, direction, unit, colour, unit_of, compact), lambda: kind.step_views(
            trace, layer, direction, unit, colour, unit_of, compact))
        # keyed containers: charts get no CSS class of their own, and the audit measures these boxes. The text (or
        # the series) beside the cell diagram, the equations and the guesses under them; the presenter view: the
        # text across the screen, then the diagram beside the equations in large type
        text = kind.strip == "text"
        first, second = (st.container(), st.container()) if compact else st.columns([1.05, 1])
        with first, st.container(key="view_strip"):
            show_chart(views["strip"], key="text_strip" if text else "series_now", width="content" if text else
                       "stretch")
        if aside is not None:  # under the coloured text, beside the taller diagram: room the first screen has
            with first:
                st.caption(KEYS_HINT)  # (the cursor's own line would make its column, and the row, taller)
                aside()
        if compact:
            second, third = st.columns([0.95, 1.05])
        else:
            third, fourth = st.columns([1.05, 1])
        with second, st.container(key="view_diagram"):  # drawn at the size their letters need (see common.CSS)
            show_chart(views["diagram"], key="diagram", width="content")
        with third:
            with st.container(key="view_equations"):
                show_chart(views["equations"], key="equations", width="content")
            if not compact:  # the presenter view keeps to what fits one projector screen
                proof_line(trace)
        if not compact and "topk" in views:
            with fourth:
                show_chart(views["topk"], key="topk")
        if panels:
            _panels(ex, view, layer, direction, unit)

    fragment()


def unit_words(data) -> str:
    """The data's unit for the views' words (" °C"), or ""."""
    unit = getattr(data, "unit", "")
    return f" {unit}" if unit else ""


def _heat_views(trace, layer, direction):
    from ..step_charts import heatmap_views
    return heatmap_views(trace, layer, direction)


def proof_line(trace) -> None:
    """Say, for this very trace, how closely the replayed numbers match torch's own forward pass."""
    check = trace.extras.get("replay_check")
    if check:
        st.caption(replay_verdict(check))


PANEL_LABELS = {"heatmaps": "Every unit (heatmaps)", "units": "Selected units over time", "finder": "Find a unit",
                "training": "Across training", "whatif": "What if? (interventions)", "forecast": "Forecast from here",
                "export": "Export this step"}


def _panels(ex, view, layer, direction, unit) -> None:
    c = state().cursor
    trace = view.trace
    needs = {"forecast": ex is not None, "training": ex is not None and len(ex.all_checkpoints()) >= 2}
    options = [p for p in PANELS if p in KINDS[trace.kind].panels and needs.get(p, True)]
    if c.panel not in options:
        c.panel = "heatmaps"
    panel = bound(st.segmented_control, "More views", "panel", c.panel,
                  lambda v: setattr(c, "panel", v or "heatmaps"), options=options, format_func=PANEL_LABELS.get)
    if panel == "units":
        _units_panel(view, layer, direction)
    elif panel == "finder":
        cell_views.finder_ui(ex, view, layer, direction)
    elif panel == "whatif":
        cell_views.whatif_ui(ex, view, layer, direction, unit)
    elif panel == "forecast":
        from .forecast import rollout_ui
        rollout_ui(ex, view)
    elif panel == "training":
        from .scrub import across_training_ui
        across_training_ui(ex, view, layer, direction, unit, c.colour)
    elif panel == "export":
        exports.export_ui(ex, view, layer, direction, unit)
    else:
        st.markdown("## Every unit at every step — the black line is the cursor")
        cols = st.columns(2)
        heat = memo(view, heat_key(layer, direction), lambda: _heat_views(trace, layer, direction))
        for n, q in enumerate(trace.names):
            with cols[n % 2]:
                show_chart(heat[q], key=f"heat_{q}")


def _units_panel(view, layer, direction) -> None:
    from .. import step_charts
    trace = view.trace
    busiest = cell_views.busiest_units(trace, layer, direction)[:4]
    units = st.multiselect("Units to follow (default: the 4 whose state varies most)", list(range(trace.n_units)),
                           default=busiest, key=f"units_{trace.n_units}_{layer}_{direction}",
                           format_func=lambda u: f"u{u}", max_selections=12)
    if not units:
        return
    key = (layer, direction, tuple(units))
    show_chart(memo(view, ("gates_now",) + key, lambda: step_charts.with_data(
        step_charts.gates_now_spec(trace.names), gates=step_charts.gates_frame(trace, layer, units, direction))),
        key="gates_now")
    show_chart(memo(view, ("lines",) + key, lambda: step_charts.with_data(
        step_charts.unit_lines_spec(trace.n_steps),
        lines=step_charts.unit_lines_frame(trace, layer, units, direction))),
        key="unit_lines")
