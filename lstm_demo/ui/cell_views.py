"""The step-through views that need the server: selectors, the unit finder and "what if?" interventions.

The numbers come from lstm_demo.explain (pure functions over a Trace); this module only lays them out.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from ..explain import compare_runs, hypotheses, hypothesis_signal, rank_units, rank_units_on_windows
from ..kinds import KINDS
from ..names import SHORT, show
from ..scenes import unit_help
from .common import bound, show_chart, state

DIRECTIONS = ("forward (reads left to right)", "backward (reads right to left)")


def state_of(trace) -> str:
    """The quantity that carries memory: c for an LSTM, h for GRU and RNN."""
    return "cell_state" if trace.cell == "lstm" else "hidden_state"


def busiest_units(trace, layer: int, direction: int) -> list[int]:
    return [int(u) for u in np.argsort(-trace.get(state_of(trace), layer, direction).std(axis=0), kind="stable")]


def _label(q: str) -> str:
    return f"{SHORT[q]} — {q.replace('_', ' ')}"


def selectors_ui(trace, compact: bool = False, narrow: bool = False):
    """Layer, direction, the unit to explain and what colours the text -> (layer, direction, unit, quantity).
    narrow: in a narrow column, the selectors shown share it (else each has a quarter of the page, in place)."""
    c = state().cursor
    wanted = [trace.n_layers > 1, trace.n_directions == 2, True, KINDS[trace.kind].colour_label is not None]
    if narrow:
        cols = iter(st.columns(max(sum(wanted), 2)))
    else:
        cols = iter(col for col, want in zip(st.columns(4), wanted) if want)
    if trace.n_layers > 1:
        bound(next(cols).radio, "Layer", "layer", c.layer, lambda v: setattr(c, "layer", v),
              options=list(range(trace.n_layers)), horizontal=True,
              format_func=lambda l: f"{l + 1}" + (" (bottom)" if l == 0 else " (top)" if l == trace.n_layers - 1
                                                  else ""))
    if trace.n_directions == 2:
        bound(next(cols).radio, "Direction", "direction", c.direction, lambda v: setattr(c, "direction", v),
              options=[0, 1], format_func=lambda d: DIRECTIONS[d].split()[0], horizontal=True,
              help="A bidirectional layer is two layers: one reads the text forwards, the other backwards. Each "
                   "has its own gates.")
    if c.unit is None:
        c.unit = busiest_units(trace, c.layer, c.direction)[0]
    bound(next(cols).selectbox, "Unit to explain", "unit", c.unit, lambda v: setattr(c, "unit", v),
          options=list(range(trace.n_units)), format_func=lambda u: f"u{u}",
          help=unit_help(getattr(state().view, "key", None)))
    if c.colour not in trace.names:
        c.colour = state_of(trace)
    if (colour_label := KINDS[trace.kind].colour_label) is not None:
        bound(next(cols).selectbox, colour_label, "colour", c.colour, lambda v: setattr(c, "colour", v),
              options=list(trace.names), format_func=_label)
    return c.layer, c.direction, c.unit, c.colour


# --- the interpretable-unit finder -----------------------------------------------------------------------------

def _focus(unit: int, quantity: str) -> None:
    c = state().cursor
    c.unit, c.colour = unit, quantity


def finder_ui(ex, view, layer: int, direction: int) -> None:
    trace = view.trace
    found = hypotheses(trace.kind)
    options = list(found)
    # start on a hypothesis that changes in this sequence (plural subjects in the agreement text, quotes in …)
    varies = [k for k in options if hypothesis_signal(k, trace).std() > 0]
    c1, c2, c3 = st.columns([3, 2, 2])
    hyp = c1.selectbox("Hypothesis: a unit that knows…", options, key=f"hyp_{trace.kind}",
                       format_func=lambda k: found[k][0],
                       index=options.index("plural" if "plural" in varies else (varies or options)[0]))
    states = ["cell_state", "hidden_state"] if trace.cell == "lstm" else ["hidden_state"]
    quantity = c2.radio("Compare it with each unit's", states, key=f"finder_q_{trace.cell}", format_func=_label,
                        horizontal=True)
    over = c3.radio("Rank over", ["sequence", "windows"], key="finder_over", horizontal=True,
                    format_func={"sequence": "this sequence", "windows": "16 validation windows"}.get,
                    disabled=ex is None,
                    help="The validation windows give a sturdier ranking; this sequence shows what you see.")
    try:
        if over == "windows" and ex is not None:
            import torch
            x, y = ex.validation_batch()
            if trace.task == "masked":
                x = torch.where(y >= 0, y, x)  # rank on the original characters
            ranked = view.memo.get_or(("rank_windows", hyp, quantity, layer, direction), lambda: rank_units_on_windows(
                ex.model, ex.data, x, hyp, quantity, layer, direction))
        else:
            signal = hypothesis_signal(hyp, trace)
            ranked = view.memo.get_or(("rank", hyp, quantity, layer, direction),
                                      lambda: rank_units(trace.get(quantity, layer, direction), signal))
    except ValueError as e:
        st.warning(f"Cannot rank the units: {e}.")
        return
    from .. import charts
    from ..conclusions import best_match
    best, r = int(ranked["unit"].iloc[0]), float(ranked["correlation"].iloc[0])
    st.altair_chart(charts.finder_chart(ranked, best, found[hyp][0]), width="stretch")
    where = "in this sequence" if over == "sequence" else "over the validation windows"
    sentence, good = best_match(best, r, found[hyp][0], where)
    (st.success if good else st.info)(sentence)
    colour_label = KINDS[trace.kind].colour_label
    st.button(f"{colour_label or 'Explain'} u{best}", key="finder_pick", icon=":material/palette:",
              on_click=_focus, args=(best, quantity if colour_label else state_of(trace)))
    st.caption("The score is the Pearson correlation between the hypothesis (1 = true, 0 = false; signed ±1 for "
               "plural/singular; the bracket depth counts) and the unit's value over the steps.")


# --- interventions ---------------------------------------------------------------------------------------------

ACTIONS = {
    "lstm": {"f0": "Close the forget gate (f = 0)", "f1": "Open the forget gate fully (f = 1)",
             "zero": "Silence the unit (h = c = 0)", "input": "Change the input here"},
    "gru": {"z0": "Update gate z = 0 (overwrite)", "z1": "Update gate z = 1 (keep)",
            "zero": "Silence the unit (h = 0)", "input": "Change the input here"},
    "rnn": {"zero": "Silence the unit (h = 0)", "input": "Change the input here"},
}
_CLAMPS = {"f0": ("forget_gate", 0.0), "f1": ("forget_gate", 1.0), "z0": ("update_gate", 0.0),
           "z1": ("update_gate", 1.0)}


def whatif_ui(ex, view, layer: int, direction: int, unit: int) -> None:
    """Change the run from the cursor's step on and compare. The browser reports its step when the cursor comes to
    rest while this panel is open, so this follows the cursor (one script run per rest, not per step)."""
    from .. import charts, step_charts
    from ..trace import Intervention
    from .kinds import UI_KINDS
    s = state()
    trace, step = view.trace, min(s.cursor.step, view.trace.n_steps - 1)
    model, data, seq = view.model, ex.data, view.seq
    st.markdown(f"**What if, from step {step} on, …** (unit u{unit}; stop the cursor elsewhere to change where it "
                "starts)")
    actions = ACTIONS[trace.cell]
    action = st.radio("Change", list(actions), format_func=actions.get, key=f"whatif_{trace.cell}",
                      horizontal=True, label_visibility="collapsed")
    seq, intervention, what = seq.clone(), None, actions[action]
    ui = UI_KINDS[trace.kind]
    if action == "input":
        new, what = ui.change_input(data, trace, seq, step)
        key = ("input", step, str(new))
    else:
        gate, value = _CLAMPS.get(action, ("forget_gate", 0.0))
        intervention = Intervention(layer, unit, step, "zero" if action == "zero" else "clamp", gate, value,
                                    direction)
        key = (intervention,)
    if s.whatif is None or s.whatif[0] != (view.key, key):  # keep only the latest changed run: traces are not small
        s.whatif = ((view.key, key), ex.spec.trace(model, data, (seq, view.mask), intervention=intervention))
    changed = s.whatif[1]
    quantity = state_of(trace)
    cmp = compare_runs(trace, changed, quantity, layer, direction, unit)
    later = slice(step, None) if direction == 0 else slice(0, step + 1)
    delta = np.abs(cmp["delta"][later])
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Largest change of u{unit}'s {charts.SHORT[quantity]}", f"{delta[:, unit].max():.3f}")
    c2.metric(f"Mean change of {charts.SHORT[quantity]} over all units", f"{delta.mean():.3f}")
    ui.prediction_change(c3, trace, changed, cmp, later, data)
    left, right = st.columns(2)
    with left:
        show_chart(step_charts.compare_spec(cmp["unit"], f"u{unit}'s {_label(quantity)}: original vs {what}",
                                            charts.SHORT[quantity], step), key="whatif_unit")
    with right:
        show_chart(step_charts.compare_spec(cmp["prediction"], f"Prediction: {cmp['value_label']}",
                                            cmp["value_label"], step), key="whatif_prediction")
