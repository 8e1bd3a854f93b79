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

from ..config import LIMITS, DataError
from ..trace_data import default_mask
from ..view_store import heat_key, main_key
from . import cell_views, exports
from .common import bound, show_chart, state
from .cursor import cursor_ui
from .state import PANELS, TraceView

MEMO_ENTRIES = 48   # specs kept per trace (a visitor browsing units evicts the oldest)
OPEN_LENGTH = 128   # steps of the validation sample Step through opens on
OPEN_POINTS = 129   # a series: the last points it opens on
REPORTING_PANELS = ("whatif", "forecast", "export")  # panels that need the browser's step on the server
DEFAULT_TEXT = "the cats, which ate the fish, were full."


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


# --- choosing the sequence ---------------------------------------------------------------------------------------

def sequence_ui(ex):
    """Choose what to trace -> (description, sequence tensor of T+1 items, hidden positions or None) or None."""
    data, seq_state = ex.data, state().sequence
    masked = ex.model_cfg.task == "masked"
    _, val = data.parts(ex.train_cfg.seq_len)
    max_len = min(LIMITS.max_seq_len, len(val) - 1)
    c1, c2 = st.columns([1, 3])
    if data.kind == "text":
        source = bound(c1.radio, "Sequence", "seq_source", seq_state.source,
                       lambda v: setattr(seq_state, "source", v), options=["validation", "own"],
                       format_func={"validation": "A validation sample", "own": "Your own text"}.get)
        if source == "own":
            if seq_state.text is None:
                seq_state.text = DEFAULT_TEXT if set(DEFAULT_TEXT) <= set(data.stoi) else \
                    data.text[:40].replace("\n", " ")
            text = bound(c2.text_input, "Your text (characters the model knows)", "seq_text", seq_state.text,
                         lambda v: setattr(seq_state, "text", v), max_chars=LIMITS.max_seq_len)
            hide = bound(c2.text_input, "Hide this part — the model fills it in", "seq_hide", seq_state.hide,
                         lambda v: setattr(seq_state, "hide", v), max_chars=40) if masked else ""
            try:
                return _own_text(data, text, hide, masked)
            except DataError as e:
                st.error(f"{e} Showing a validation sample instead.")
        length = c2.slider("Length (steps)", 8, max_len, min(OPEN_LENGTH, max_len), key="seq_len_text") \
            if max_len > 8 else max_len
        last_start = len(val) - length - 1
        start = c2.slider("Start in the validation text", 0, last_start, 0, key="seq_start_text") \
            if last_start > 0 else 0  # a short text: the sample is the whole validation part
        return (f"validation text from position {start}",) + _validation_sample(val, length, start, masked)
    c1.markdown("**Range of the series**")
    n = len(data.values)
    default = _opening_range(n)
    lo, hi = c2.slider("Points (validation data is the last 10 %)", 0, n - 1, default, key="seq_range")
    if hi - lo < 2:
        st.error("Choose a range of at least 3 points.")
        return None
    if hi - lo > LIMITS.max_seq_len:
        st.warning(f"At most {LIMITS.max_seq_len} steps are traced; using points {lo}…{lo + LIMITS.max_seq_len}.")
        hi = lo + LIMITS.max_seq_len
    return f"points {lo}…{hi}", data.normed[lo : hi + 1], None


def _validation_sample(val, length: int, start: int, masked: bool):
    """(sequence of length + 1 items from start, hidden positions or None) of the validation text."""
    return val[start : start + length + 1], default_mask(length, seed=start) if masked else None


def _opening_range(n: int) -> tuple[int, int]:
    """The points of a series Step through opens on: the last OPEN_POINTS."""
    return max(0, n - OPEN_POINTS), n - 1


def _opening_sequence(data, train_cfg, masked: bool):
    """(sequence, mask) that sequence_ui shows before the visitor chooses, or None for other kinds of data."""
    if data.kind == "text":
        _, val = data.parts(train_cfg.seq_len)
        return _validation_sample(val, min(OPEN_LENGTH, LIMITS.max_seq_len, len(val) - 1), 0, masked)
    if data.kind == "series":
        lo, hi = _opening_range(len(data.values))
        return data.normed[lo : hi + 1], None
    return None


def _unit_of(data, trace) -> str:
    """A series' unit for the views' words (" °C"), or ""."""
    return f" {data.unit}" if data is not None and trace.kind == "series" and data.unit else ""


def _own_text(data, text: str, hide: str, masked: bool):
    if len(text) < 2:
        raise DataError("Type at least 2 characters.")
    seq = data.encode(text + text[-1])  # one extra item: the last step's "next" (never shown)
    if not masked:
        return f"your text {text[:20]!r}…", seq[:-1], None
    at = text.find(hide) if hide else -1
    if at < 0:
        raise DataError(f"“{hide}” is not in your text; type a part of it to hide.")
    mask = np.zeros(len(text), dtype=bool)
    mask[at : at + len(hide)] = True
    return f"your text {text[:20]!r}…", seq, mask


# --- the trace ------------------------------------------------------------------------------------------------------

@st.cache_resource(max_entries=32, show_spinner=False)
def _shared_bundled_trace(origin: str, steps: int, digest: str, checkpoint, _model, _data, _seq, _mask):
    """Bundled models are public and never trained further in place: their traces and the views drawn from them
    are computed once per process, not once per visitor (30 people opening the same link at once). Read-only for
    callers; the memo is bounded."""
    from ..trace import trace_sequence
    return trace_sequence(_model, _data, _seq, mask=_mask), Memo()


def _digest(seq, mask) -> str:
    return hashlib.sha1(seq.numpy().tobytes() + (mask.tobytes() if mask is not None else b"")).hexdigest()


def warm_opening_view(origin: str, loaded) -> None:
    """Trace the sequence Step through opens on for a bundled model and draw its views, once per process and in
    the background (common.warm_up), so that no visitor waits for it: under bench_load.py every visitor's first
    Step through waited on the first one's (about 3 s of CPU). The same defaults as sequence_ui and
    cell_views.selectors_ui, so the same memo keys."""
    data = loaded.data
    opening = _opening_sequence(data, loaded.train_cfg, loaded.model.cfg.task == "masked")
    if opening is None:
        return
    seq, mask = opening
    trace, shared = _shared_bundled_trace(origin, loaded.steps, _digest(seq, mask), None, loaded.model, data, seq,
                                          mask)
    unit, colour = cell_views.busiest_units(trace, 0, 0)[0], cell_views.state_of(trace)
    unit_of = _unit_of(data, trace)
    shared.get_or(main_key(0, 0, unit, colour, unit_of), lambda: _main_views(trace, 0, 0, unit, colour, unit_of))
    shared.get_or(heat_key(0, 0), lambda: _heat_views(trace, 0, 0))


def get_view(ex, seq, mask=None, checkpoint: int | None = None) -> TraceView:
    """The trace of seq under the current weights, or under a kept checkpoint's; kept until the weights, the
    checkpoint or the sequence change."""
    from ..trace import trace_sequence
    s = state()
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    digest = _digest(seq, mask)
    key = (id(ex), weights_step, digest, checkpoint)
    if s.view is None or s.view.key != key:
        model = ex.current_weights_model() if checkpoint is None else ex.checkpoint_model(checkpoint)
        if ex.origin.startswith("bundled") and ex.job is None:
            trace, shared = _shared_bundled_trace(ex.origin, ex.trained_steps, digest, checkpoint, model, ex.data,
                                                  seq, mask)
            s.view = TraceView(key, trace, model, seq, mask, shared)
        else:
            s.view = TraceView(key, trace_sequence(model, ex.data, seq, mask=mask), model, seq, mask, Memo())
        s.caches.pop("whatif", None)
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
        layer, direction, unit, colour = cell_views.selectors_ui(trace, compact)
        panel = c.panel if panels else None
        view_id = f"{id(view)}:{layer}:{direction}:{unit}:{colour}"
        cursor_ui(view_id, trace.n_steps, query=query() if callable(query) else query,
                  report=panel in REPORTING_PANELS, compact=compact)
        unit_of = _unit_of(ex.data if ex is not None else None, trace)
        views = memo(view, main_key(layer, direction, unit, colour, unit_of, compact), lambda: _main_views(
            trace, layer, direction, unit, colour, unit_of, compact))
        # keyed containers: charts get no CSS class of their own, and the presenter test measures these boxes
        with st.container(key="view_strip"):
            text = trace.kind in ("text", "translation")
            show_chart(views["strip"], key="text_strip" if text else "series_now", width="content" if text else
                       "stretch")
        left, right = st.columns([1.15, 1] if not compact else [0.95, 1.05])  # presenter: the big equations need room
        with left, st.container(key="view_diagram"):
            show_chart(views["diagram"], key="diagram")
        with right:
            with st.container(key="view_equations"):
                show_chart(views["equations"], key="equations")
            if not compact:  # the presenter view keeps to what fits one projector screen
                proof_line(trace)
                if "topk" in views:
                    show_chart(views["topk"], key="topk")
        if panels:
            _panels(ex, view, layer, direction, unit)

    fragment()


def _main_views(trace, layer, direction, unit, colour, unit_of, presenter=False):
    from ..step_charts import main_views  # the plotting library loads on first use, not on the first screen
    return main_views(trace, layer, direction, unit, colour, unit_of, presenter)


def _heat_views(trace, layer, direction):
    from ..step_charts import heatmap_views
    return heatmap_views(trace, layer, direction)


def proof_line(trace) -> None:
    """Say, for this very trace, how closely the replayed numbers match torch's own forward pass."""
    check = trace.extras.get("replay_check")
    if check:
        st.caption(f"✓ These are the model's own numbers: replaying its weights step by step reproduces "
                   f"`{check['module']}`'s forward pass on this sequence to max |Δh| = {check['max_abs_h']:.1e} "
                   f"(every layer and direction).")


def _panels(ex, view, layer, direction, unit) -> None:
    c = state().cursor
    labels = {"heatmaps": "Every unit (heatmaps)", "units": "Selected units over time", "finder": "Find a unit",
              "training": "Across training", "whatif": "What if? (interventions)", "forecast": "Forecast from here",
              "export": "Export this step"}
    trace = view.trace
    available = {"forecast": trace.kind == "series" and ex is not None,
                 "training": ex is not None and len(ex.all_checkpoints()) >= 2}
    if trace.kind == "translation":  # the finder, what-if, training scrubber and exports read a one-network model
        available.update(finder=False, whatif=False, training=False, export=False)
    options = [p for p in PANELS if available.get(p, True)]
    if c.panel not in options:
        c.panel = "heatmaps"
    panel = bound(st.segmented_control, "More views", "panel", c.panel,
                  lambda v: setattr(c, "panel", v or "heatmaps"), options=options, format_func=labels.get)
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
        st.markdown("#### Every unit at every step — the black line is the cursor")
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
