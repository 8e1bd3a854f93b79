"""The explainer views of the step-through page: selectors, cell diagram, equations, unit finder, what-if.

The numbers come from lstm_demo.explain (pure functions over a Trace); this module only lays them out.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from .. import charts
from ..config import CELLS
from ..explain import (HYPOTHESES, compare_runs, diagram_frames, equation_terms, hypothesis_signal, rank_units,
                       rank_units_on_windows)
from ..trace import Intervention, trace_sequence
from .common import memo, show_chart

DIRECTIONS = ("forward (reads left to right)", "backward (reads right to left)")


def state_of(trace) -> str:
    """The quantity that carries memory: c for an LSTM, h for GRU and RNN."""
    return "cell_state" if trace.cell == "lstm" else "hidden_state"


def busiest_units(trace, layer: int, direction: int) -> list[int]:
    return [int(u) for u in np.argsort(-trace.get(state_of(trace), layer, direction).std(axis=0), kind="stable")]


def _label(q: str) -> str:
    return f"{charts.SHORT[q]} — {q.replace('_', ' ')}"


def selectors_ui(trace):
    """Layer, direction, the unit to explain and what colours the text -> (layer, direction, unit, quantity)."""
    c1, c2, c3, c4 = st.columns(4)
    layer = direction = 0
    if trace.n_layers > 1:
        layer = c1.radio("Layer", list(range(trace.n_layers)), horizontal=True, key=f"layer_{trace.n_layers}",
                         format_func=lambda l: f"{l + 1}" + (" (bottom)" if l == 0 else " (top)"
                                                             if l == trace.n_layers - 1 else ""))
    if trace.n_directions == 2:
        direction = c2.radio("Direction", [0, 1], key="direction", format_func=lambda d: DIRECTIONS[d].split()[0],
                             horizontal=True, help="A bidirectional layer is two layers: one reads the text "
                                                   "forwards, the other backwards. Each has its own gates.")
    key = f"focus_{trace.n_units}"
    if st.session_state.get(key) not in range(trace.n_units):
        st.session_state[key] = busiest_units(trace, layer, direction)[0]
    unit = c3.selectbox("Unit to explain", list(range(trace.n_units)), key=key, format_func=lambda u: f"u{u}",
                        help="Starts on the unit whose state varies most; “Find a unit” below can choose one.")
    colour_key = f"colour_{trace.cell}"
    st.session_state.setdefault(colour_key, state_of(trace))
    colour_by = c4.selectbox("Colour the text by", list(trace.names), key=colour_key, format_func=_label,
                             disabled=trace.kind != "text")
    return layer, direction, unit, colour_by


def diagram(trace, store: dict, layer: int, direction: int, step: int, unit: int) -> None:
    terms = equation_terms(trace, layer, direction, step, unit)
    edges, nodes = diagram_frames(trace.cell, terms)
    title = (f"{CELLS[trace.cell]} cell, unit u{unit}" + (f", layer {layer + 1}" if trace.n_layers > 1 else "")
             + " — the width of each path is how much flows along it now")
    spec = memo(store, ("diagram", trace.cell, title), lambda: charts.diagram_spec(title))
    show_chart(spec, key="diagram", edges=edges, nodes=nodes)
    st.caption(_in_words(trace.cell, terms))


def _in_words(cell: str, t: dict) -> str:
    if cell == "lstm":
        return (f"The forget gate keeps {t['f']:.0%} of the old cell state ({t['c_prev']:+.2f} → {t['kept']:+.2f}); "
                f"the input gate lets in {t['i']:.0%} of the candidate {t['g']:+.2f} (writes {t['written']:+.2f}); "
                f"the output gate shows {t['o']:.0%} of tanh(c) as h.")
    if cell == "gru":
        return (f"The update gate keeps {t['z']:.0%} of the old state ({t['h_prev']:+.2f} → {t['kept']:+.2f}) and "
                f"writes {1 - t['z']:.0%} of the candidate {t['n']:+.2f}; the reset gate let the candidate see "
                f"{t['r']:.0%} of the old state.")
    return ("A plain RNN has no gates and no conveyor belt: the new state is tanh of a mix of the input and the "
            "old state, so old information is squashed and mixed again at every step.")


def _n(v: float) -> str:
    """A number for LaTeX; negative factors in parentheses."""
    return f"{v:.3f}" if v >= 0 else f"({v:.3f})"


def equations(trace, layer: int, direction: int, step: int, unit: int) -> None:
    """The cell's equations with this unit's numbers at this step (all read from the trace)."""
    t = equation_terms(trace, layer, direction, step, unit)
    prev = "t-1" if direction == 0 else "t+1"
    st.markdown(f"**Equations for unit u{unit} at step {step}**")
    if trace.cell == "lstm":
        st.latex(rf"""\begin{{aligned}}
f &= \sigma({t['pre_f']:.3f}) = {t['f']:.3f}\\
i &= \sigma({t['pre_i']:.3f}) = {t['i']:.3f}\\
g &= \tanh({t['pre_g']:.3f}) = {t['g']:.3f}\\
c_t &= f\,c_{{{prev}}} + i\,g\\
 &= {_n(t['f'])}\cdot{_n(t['c_prev'])} + {_n(t['i'])}\cdot{_n(t['g'])}\\
 &= \underbrace{{{t['kept']:.3f}}}_{{\text{{kept}}}} + \underbrace{{{t['written']:.3f}}}_{{\text{{written}}}}
  = {t['c']:.3f}\\
o &= \sigma({t['pre_o']:.3f}) = {t['o']:.3f}\\
h_t &= o\,\tanh(c_t) = {_n(t['o'])}\cdot{_n(t['tanh_c'])} = {t['h']:.3f}
\end{{aligned}}""")
    elif trace.cell == "gru":
        st.latex(rf"""\begin{{aligned}}
r &= \sigma({t['pre_r']:.3f}) = {t['r']:.3f}\\
z &= \sigma({t['pre_z']:.3f}) = {t['z']:.3f}\\
n &= \tanh({t['pre_n']:.3f}) = {t['n']:.3f}\\
h_t &= z\,h_{{{prev}}} + (1-z)\,n\\
 &= {_n(t['z'])}\cdot{_n(t['h_prev'])} + {_n(1 - t['z'])}\cdot{_n(t['n'])}\\
 &= \underbrace{{{t['kept']:.3f}}}_{{\text{{kept}}}} + \underbrace{{{t['written']:.3f}}}_{{\text{{written}}}}
  = {t['h']:.3f}
\end{{aligned}}""")
    else:
        st.latex(rf"""h_t = \tanh(W_{{ih}}x_t + W_{{hh}}h_{{{prev}}} + b) = \tanh({t['pre']:.3f}) = {t['h']:.3f}""")


# --- the interpretable-unit finder -----------------------------------------------------------------------------

def _focus(n_units: int, unit: int, cell: str, quantity: str) -> None:
    st.session_state[f"focus_{n_units}"] = unit
    st.session_state[f"colour_{cell}"] = quantity


def finder_ui(ex, trace, store: dict, layer: int, direction: int) -> None:
    options = [k for k, (_, kind, _) in HYPOTHESES.items() if kind == trace.kind]
    # start on a hypothesis that changes in this sequence (plural subjects in the agreement text, quotes in …)
    varies = [k for k in options if hypothesis_signal(k, trace).std() > 0]
    c1, c2, c3 = st.columns([3, 2, 2])
    hyp = c1.selectbox("Hypothesis: a unit that knows…", options, key=f"hyp_{trace.kind}",
                       format_func=lambda k: HYPOTHESES[k][0],
                       index=options.index("plural" if "plural" in varies else (varies or options)[0]))
    states = ["cell_state", "hidden_state"] if trace.cell == "lstm" else ["hidden_state"]
    quantity = c2.radio("Compare it with each unit's", states, key=f"finder_q_{trace.cell}", format_func=_label,
                        horizontal=True)
    over = c3.radio("Rank over", ["sequence", "windows"], key="finder_over", horizontal=True,
                    format_func={"sequence": "this sequence", "windows": "16 validation windows"}.get,
                    help="The validation windows give a sturdier ranking; this sequence shows what you see.")
    try:
        if over == "windows":
            x, y = ex.validation_batch()
            if trace.task == "masked":
                x = torch.where(y >= 0, y, x)  # rank on the original characters
            ranked = memo(store, ("rank_windows", hyp, quantity, layer, direction), lambda: rank_units_on_windows(
                store["model"], ex.data, x, hyp, quantity, layer, direction))
        else:
            signal = hypothesis_signal(hyp, trace)
            ranked = memo(store, ("rank", hyp, quantity, layer, direction),
                          lambda: rank_units(trace.get(quantity, layer, direction), signal))
    except ValueError as e:
        st.warning(f"Cannot rank the units: {e}.")
        return
    best, r = int(ranked["unit"].iloc[0]), float(ranked["correlation"].iloc[0])
    st.altair_chart(charts.finder_chart(ranked, best, HYPOTHESES[hyp][0]), width="stretch")
    strength = "strongly" if abs(r) > 0.7 else "clearly" if abs(r) > 0.4 else "only weakly"
    where = "in this sequence" if over == "sequence" else "over the validation windows"
    st.success(f"Best match {where}: unit u{best}, correlation {r:+.2f} — it {strength} follows "
               f"“{HYPOTHESES[hyp][0]}”" + (" (with the opposite sign: high when the hypothesis is false)."
                                             if r < 0 else "."))
    st.button(f"Colour the text by u{best}", key="finder_pick", icon=":material/palette:",
              on_click=_focus, args=(trace.n_units, best, trace.cell, quantity))
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


def whatif_ui(ex, trace, store: dict, layer: int, direction: int, step: int, unit: int) -> None:
    st.markdown(f"**What if, from step {step} on, …** (unit u{unit}; move the cursor to change where it starts)")
    actions = ACTIONS[trace.cell]
    action = st.radio("Change", list(actions), format_func=actions.get, key=f"whatif_{trace.cell}",
                      horizontal=True, label_visibility="collapsed")
    seq, intervention, what = store["seq"].clone(), None, actions[action]
    if action == "input":
        if trace.kind == "text":
            vocab = ex.data.vocab
            new = st.selectbox("New input character at this step", vocab, key="whatif_char",
                               format_func=charts._show, index=vocab.index(" ") if " " in vocab else 0)
            seq[step] = ex.data.stoi[new]
            what = f"input {charts._show(trace.inputs[step])!r} → {charts._show(new)!r} at step {step}"
        else:
            new = st.number_input("New input value at this step (original units)", -1e6, 1e6,
                                  float(np.round(trace.inputs[step], 3)), key="whatif_value")
            seq[step, 0] = (new - ex.data.mean) / ex.data.std
            what = f"input {trace.inputs[step]:.3f} → {new:.3f} at step {step}"
        key = ("input", step, str(new))
    else:
        gate, value = _CLAMPS.get(action, ("forget_gate", 0.0))
        intervention = Intervention(layer, unit, step, "zero" if action == "zero" else "clamp", gate, value,
                                    direction)
        key = (intervention,)
    cached = store.get("whatif")
    if cached is None or cached[0] != key:  # keep only the latest changed run: traces are not small
        cached = (key, trace_sequence(store["model"], ex.data, seq, intervention=intervention, mask=store["mask"]))
        store["whatif"] = cached
    changed = cached[1]
    quantity = state_of(trace)
    cmp = compare_runs(trace, changed, quantity, layer, direction, unit)
    later = slice(step, None) if direction == 0 else slice(0, step + 1)
    delta = np.abs(cmp["delta"][later])
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Largest change of u{unit}'s {charts.SHORT[quantity]}", f"{delta[:, unit].max():.3f}")
    c2.metric(f"Mean change of {charts.SHORT[quantity]} over all units", f"{delta.mean():.3f}")
    if trace.kind == "text":
        top = lambda tr: tr.predictions[tr.predictions["rank"] == 1]["char"].to_numpy()[later]
        flips = int((top(trace) != top(changed)).sum())
        c3.metric("Top guess changed at", f"{flips} of {len(top(trace))} steps")
    else:
        diff = np.abs(cmp["prediction"].query("run == 'changed'")["value"].to_numpy()
                      - cmp["prediction"].query("run == 'original'")["value"].to_numpy())[later]
        c3.metric("Largest change of the forecast", f"{diff.max():.3f} {ex.data.unit}")
    left, right = st.columns(2)
    left.altair_chart(charts.compare_chart(cmp["unit"], f"u{unit}'s {_label(quantity)}: original vs {what}",
                                           charts.SHORT[quantity], step), width="stretch")
    right.altair_chart(charts.compare_chart(cmp["prediction"], f"Prediction: {cmp['value_label']}",
                                            cmp["value_label"], step), width="stretch")
