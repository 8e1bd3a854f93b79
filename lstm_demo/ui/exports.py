"""Exports of the view on screen: the trace as CSV, a chart of this step as PNG or SVG (the layer, direction and unit
on screen), and a plain-PyTorch snippet. The browser reports its step at rest while this panel is open."""
from __future__ import annotations

import streamlit as st

from ..names import CELL_NAMES, SHORT
from .common import state


def chart_at_step(trace, which: str, layer: int, direction: int, step: int, unit: int) -> dict:
    """A step-following chart of the view on screen with its step fixed, ready for vl-convert."""
    from .. import step_charts
    from ..explain import diagram_tables, step_terms, width_words
    if which in ("diagram", "equations"):
        terms = step_terms(trace, layer, direction, unit)
        if which == "diagram":
            title = f"{CELL_NAMES[trace.cell]} cell, unit u{unit}, step {step}: {width_words()}"
            edges, nodes = diagram_tables(trace.cell)
            spec = step_charts.with_data(step_charts.diagram_spec(trace.cell, title), dg_edges=edges,
                                         dg_nodes=nodes, dg_terms=step_charts.terms_long(terms), terms=terms)
        else:
            spec = step_charts.with_data(step_charts.equations_spec(trace.cell, direction, f"u{unit}"), terms=terms)
    else:
        names = ("forward", "backward") if trace.n_directions == 2 else ("",)
        spec = step_charts.heatmap_spec(which, layer, trace.get(which, layer, direction), trace.n_layers,
                                        names[direction], blocks=True)  # no CSS to keep a file's pixels crisp
    return step_charts.at_step(spec, step)


def chart_label(which: str, unit: int) -> str:
    if which == "diagram":
        return f"cell diagram (unit u{unit})"
    if which == "equations":
        return f"equations (unit u{unit})"
    return f"heatmap of {SHORT[which]} — {which.replace('_', ' ')}"


def export_ui(ex, view, layer: int, direction: int, unit: int) -> None:
    from .. import charts
    from ..export import pytorch_snippet, trace_csv
    trace = view.trace
    step = min(state().cursor.step, trace.n_steps - 1)
    where = (f"layer {layer + 1}, " if trace.n_layers > 1 else "") + (
        f"{('forward', 'backward')[direction]} direction, " if trace.n_directions == 2 else "")
    st.markdown(f"**Export** — {where}unit u{unit}, step {step} (stop the cursor elsewhere to export another step)")
    c1, c2 = st.columns(2)
    c1.download_button("Trace as CSV (every step, layer, unit and quantity)", key="export_csv",
                       data=lambda: trace_csv(trace), file_name="trace.csv", mime="text/csv", on_click="ignore",
                       icon=":material/table:", help="Tidy: step, layer, direction, unit, quantity, value, input. "
                                                     "Cells a spreadsheet would run as formulas are prefixed with ' .")
    options = ["diagram", "equations"] + list(trace.names)
    which = c2.selectbox("Chart", options, key="export_chart",
                         format_func=lambda q: chart_label(q, unit))
    fmt = c2.radio("Format", ["png", "svg"], horizontal=True, key="export_fmt", format_func=str.upper)
    c2.download_button(f"Download {which} at step {step} as {fmt.upper()}", key="export_download",
                       data=lambda: charts.render(chart_at_step(trace, which, layer, direction, step, unit), fmt),
                       file_name=f"{which}-step{step}.{fmt}", on_click="ignore",
                       mime="image/png" if fmt == "png" else "image/svg+xml", icon=":material/image:")
    if ex is not None:
        st.markdown("**Reproduce this model's training in plain PyTorch** (exact settings; no code from this app):")
        st.code(pytorch_snippet(ex.model_cfg, ex.train_cfg, ex.data.name, getattr(ex.data, "vocab", None)),
                language="python")
