"""Step-through page: choose a sequence, move the cursor, and draw everything that follows it."""
from __future__ import annotations

import hashlib
import time

import numpy as np
import streamlit as st
import torch

from .. import charts
from ..config import LIMITS
from ..data import DataError
from ..trace import MASK, default_mask, trace_sequence
from . import cell_views
from .common import memo, show_chart


# --- step-through --------------------------------------------------------------------------------------------------

def sequence_ui(ex):
    """Choose what to trace -> (description, sequence tensor of T+1 items, hidden positions or None) or None."""
    data = ex.data
    masked = ex.model_cfg.task == "masked"
    _, val = data.parts(ex.train_cfg.seq_len)
    max_len = min(LIMITS.max_seq_len, len(val) - 1)
    c1, c2 = st.columns([1, 3])
    if data.kind == "text":
        source = c1.radio("Sequence", ["validation", "own"], key="seq_source",
                          format_func={"validation": "A validation sample", "own": "Your own text"}.get)
        if source == "own":
            default = "the cats, which ate the fish, were full."
            default = default if set(default) <= set(data.stoi) else data.text[:40].replace("\n", " ")
            # defaults through session state: the long-memory page may have put a sentence there already
            st.session_state.setdefault("seq_text", default)
            st.session_state.setdefault("seq_hide", "were")
            text = c2.text_input("Your text (characters the model knows)", key="seq_text",
                                 max_chars=LIMITS.max_seq_len)
            hide = c2.text_input("Hide this part — the model fills it in", key="seq_hide",
                                 max_chars=40) if masked else ""
            try:
                if len(text) < 2:
                    raise DataError("Type at least 2 characters.")
                seq = data.encode(text + text[-1])  # one extra item: the last step's "next" (never shown)
                mask = None
                if masked:
                    at = text.find(hide) if hide else -1
                    if at < 0:
                        raise DataError(f"“{hide}” is not in your text; type a part of it to hide.")
                    mask = np.zeros(len(text), dtype=bool)
                    mask[at : at + len(hide)] = True
                return f"your text {text[:20]!r}…", seq[:-1] if not masked else seq, mask
            except DataError as e:
                st.error(f"{e} Showing a validation sample instead.")
        length = c2.slider("Length (steps)", 8, max_len, min(128, max_len), key="seq_len_text") \
            if max_len > 8 else max_len
        last_start = len(val) - length - 1
        start = c2.slider("Start in the validation text", 0, last_start, 0, key="seq_start_text") \
            if last_start > 0 else 0  # a short text: the sample is the whole validation part
        mask = default_mask(length, seed=start) if masked else None
        return f"validation text from position {start}", val[start : start + length + 1], mask
    c1.markdown("**Range of the series**")
    n = len(data.values)
    default = (max(0, n - 129), n - 1)
    lo, hi = c2.slider("Points (validation data is the last 10 %)", 0, n - 1, default, key="seq_range")
    if hi - lo < 2:
        st.error("Choose a range of at least 3 points.")
        return None
    if hi - lo > LIMITS.max_seq_len:
        st.warning(f"At most {LIMITS.max_seq_len} steps are traced; using points {lo}…{lo + LIMITS.max_seq_len}.")
        hi = lo + LIMITS.max_seq_len
    return f"points {lo}…{hi}", data.normed[lo : hi + 1], None


def heat_spec(trace, quantity: str, layer: int, direction: int) -> dict:
    names = cell_views.DIRECTIONS if trace.n_directions == 2 else ("",)
    return charts.heatmap_spec(quantity, layer, trace.get(quantity, layer, direction), trace.n_layers,
                               names[direction])


def heatmap_specs(trace) -> dict:
    """Every heatmap spec of a trace's first layer and direction, keyed as step_view memoises them."""
    return {("heat_spec", q, 0, 0): heat_spec(trace, q, 0, 0) for q in trace.names}


@st.cache_resource(max_entries=32, show_spinner=False)
def _shared_bundled_trace(origin: str, steps: int, digest: str, _model, _data, _seq, _mask):
    """Bundled models are public and never trained further in place: their traces and heatmap images are computed
    once per process, not once per visitor (30 people opening the same link at once). Read-only for callers."""
    trace = trace_sequence(_model, _data, _seq, mask=_mask)
    return trace, heatmap_specs(trace)


def get_trace(ex, seq: torch.Tensor, mask=None):
    """Trace of seq under the current weights; cached per visitor until the weights or the sequence change."""
    weights_step = ex.job.weights()[0] if ex.job else ex.trained_steps
    digest = hashlib.sha1(seq.numpy().tobytes() + (mask.tobytes() if mask is not None else b"")).hexdigest()
    key = (id(ex), weights_step, digest)
    cache = st.session_state.get("trace_cache")
    if cache is None or cache[0] != key:
        model = ex.current_weights_model()
        if ex.origin.startswith("bundled") and ex.job is None:
            trace, specs = _shared_bundled_trace(ex.origin, ex.trained_steps, digest, model, ex.data, seq, mask)
        else:
            trace, specs = trace_sequence(model, ex.data, seq, mask=mask), {}
        # the dict memoises chart specs, big frames and what-if runs for this trace (this visitor's own dict)
        cache = (key, trace, {"model": model, "seq": seq, "mask": mask, **specs})
        st.session_state.trace_cache = cache
        st.session_state.step = min(st.session_state.get("step", 0), trace.n_steps - 1)
    return cache[1], cache[2]


def _move(delta: int, n_steps: int) -> None:
    st.session_state.step = int(min(n_steps - 1, max(0, st.session_state.get("step", 0) + delta)))


def _toggle_play() -> None:
    st.session_state.playing = not st.session_state.get("playing", False)
    st.session_state.last_tick = time.monotonic()


def cursor_ui(trace) -> int:
    """Slider, Prev/Next (← →), Play/Pause (space) with a speed. Returns the current step."""
    T = trace.n_steps
    st.session_state.setdefault("step", 0)
    playing = st.session_state.get("playing", False)
    c1, c2, c3, c4, c5 = st.columns([1.4, 1.4, 1.4, 1.3, 4.5], vertical_alignment="bottom")
    c1.button("Prev", key="prev", shortcut="Left", on_click=_move, args=(-1, T), help="Keyboard: ←",
              icon=":material/chevron_left:")
    c2.button("Next", key="next", shortcut="Right", on_click=_move, args=(1, T), help="Keyboard: →",
              icon=":material/chevron_right:", icon_position="right")
    c3.button("Pause" if playing else "Play", key="play", on_click=_toggle_play, help="Keyboard: space",
              shortcut="Space", icon=":material/pause:" if playing else ":material/play_arrow:")
    c4.selectbox("Speed", [1, 2, 4, 8], index=1, key="speed", format_func=lambda s: f"{s} steps/s")
    return c5.slider("Time step", 0, T - 1, key="step")


PANELS = {"heatmaps": "Every unit (heatmaps)", "units": "Selected units over time", "finder": "Find a unit",
          "whatif": "What if? (interventions)"}


def step_view(ex, trace, memo_store: dict, panels: bool = True, on_step=None) -> None:
    """Everything that follows the cursor, in one fragment: a step change reruns only this part.

    panels: show the "More views" switcher; on_step(step, unit): called on every run (the URL follows the view)."""
    playing = st.session_state.get("playing", False)
    interval = 1.0 / st.session_state.get("speed", 2)

    @st.fragment(run_every=interval if playing else None)
    def view():
        if st.session_state.get("playing", False) != playing:
            st.rerun()  # Play/Pause was pressed: run_every is only read on a full run
        if playing:
            _tick(trace.n_steps, interval)
        step = cursor_ui(trace)
        layer, direction, unit, colour_by = cell_views.selectors_ui(trace)
        if on_step is not None:
            on_step(step, unit)
        _input_and_prediction(ex, trace, step, memo_store, layer, direction, unit, colour_by)
        left, right = st.columns([3, 2])
        with left:
            cell_views.diagram(trace, memo_store, layer, direction, step, unit)
        with right:
            cell_views.equations(trace, layer, direction, step, unit)
            if trace.kind == "text":
                preds = trace.predictions[trace.predictions["step"] == step]
                what = "this hidden character" if trace.task == "masked" else "the next character"
                st.altair_chart(charts.topk_chart(preds, trace.targets[step], what), width="stretch")
        panel = st.segmented_control("More views", list(PANELS), format_func=PANELS.get, key="panel",
                                     default="heatmaps") if panels else None
        if panel == "units":
            units = _units_ui(trace, layer, direction)
            if units:
                show_chart(memo(memo_store, ("gates_spec", trace.cell), lambda: charts.gates_now_spec(trace.names)),
                           key="gates_now", gates=charts.gates_now_frame(trace, layer, step, units, direction))
                show_chart(memo(memo_store, "lines_spec", charts.unit_lines_spec), key="unit_lines",
                           lines=memo(memo_store, ("lines", layer, direction, tuple(units)),
                                      lambda: charts.arrow(charts.unit_lines_frame(trace, layer, units, direction))),
                           cursor=charts.cursor_frame(step))
        elif panel == "finder":
            cell_views.finder_ui(ex, trace, memo_store, layer, direction)
        elif panel == "whatif":
            cell_views.whatif_ui(ex, trace, memo_store, layer, direction, step, unit)
        elif panel == "heatmaps":
            st.markdown("#### Every unit at every step — the black line is the current step")
            cols = st.columns(2)
            for n, q in enumerate(trace.names):
                with cols[n % 2]:
                    spec = memo(memo_store, ("heat_spec", q, layer, direction),
                                lambda: heat_spec(trace, q, layer, direction))
                    show_chart(spec, key=f"heat_{q}", cursor=charts.cursor_frame(step))

    view()


def _tick(n_steps: int, interval: float) -> None:
    """Advance one step per timer tick (not on clicks inside the fragment)."""
    now = time.monotonic()
    if now - st.session_state.get("last_tick", 0) >= 0.8 * interval:
        st.session_state.last_tick = now
        if st.session_state.get("step", 0) >= n_steps - 1:
            st.session_state.playing = False
            st.rerun()  # full rerun turns the timer off
        _move(1, n_steps)


def _units_ui(trace, layer: int, direction: int) -> list[int]:
    """Units to follow; by default the four whose state varies most (the busiest ones)."""
    busiest = cell_views.busiest_units(trace, layer, direction)[:4]
    key = f"units_{trace.n_units}_{layer}_{direction}"
    return st.multiselect("Units to follow (default: the 4 whose state varies most)", list(range(trace.n_units)),
                          default=busiest, key=key, format_func=lambda u: f"u{u}", max_selections=12)


def _input_and_prediction(ex, trace, step: int, memo_store: dict, layer: int, direction: int, unit: int,
                          colour_by: str) -> None:
    if trace.kind == "text":
        values = trace.get(colour_by, layer, direction)
        chars = memo(memo_store, ("colour", layer, direction, unit, colour_by),  # Arrow once, not every rerun
                     lambda: charts.arrow(charts.text_colour_frame(trace, values[:, unit])))
        n_rows = (trace.n_steps - 1) // charts.TEXT_COLUMNS + 1
        title = (f"The text coloured by unit u{unit}'s {charts.SHORT[colour_by]} ({colour_by.replace('_', ' ')})"
                 " — hover a character for the model's top guesses" + (f"; {MASK} = hidden" if trace.masked is not None
                                                                        else ""))
        spec = memo(memo_store, ("colour_spec", colour_by, layer, direction, unit, n_rows, title),
                    lambda: charts.text_colour_spec(n_rows, title, charts.color_scale(colour_by, values[:, unit])))
        show_chart(spec, key="text_strip", width="content", chars=chars,
                   cursor=charts.text_strip_frames(trace.inputs, step)[1])
        if trace.task == "masked":
            truth = "the hidden character is" if trace.masked[step] else "this character is"
        else:
            truth = "the true next character is"
        st.markdown(f"**Step {step}**: input {charts._show(trace.inputs[step])!r} → {truth} "
                    f"{charts._show(trace.targets[step])!r}")
    else:
        points = memo(memo_store, "points", lambda: charts.series_step_frames(trace, 0)[0])
        now = points[points["step"] == step]
        show_chart(memo(memo_store, "series_spec", lambda: charts.series_step_spec(ex.data.unit)), key="series_now",
                   points=memo(memo_store, "points_arrow", lambda: charts.arrow(points)), now=now)
        row = trace.predictions.iloc[step]
        c1, c2, c3 = st.columns(3)
        c1.metric(f"Input at step {step}", f"{trace.inputs[step]:.3f} {ex.data.unit}")
        c2.metric("Predicted next", f"{row['predicted']:.3f}")
        c3.metric("Actual next", f"{row['actual']:.3f}", delta=f"error {row['predicted'] - row['actual']:+.3f}",
                  delta_color="off")
