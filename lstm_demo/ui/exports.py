"""Step-through exports: the trace as CSV, a chart as PNG or SVG, and a plain-PyTorch snippet."""
from __future__ import annotations

import streamlit as st

from .. import charts
from ..explain import diagram_frames, equation_terms
from ..export import pytorch_snippet, trace_csv


def _chart_spec(trace, which: str, step: int, unit: int) -> dict:
    if which == "diagram":
        edges, nodes = diagram_frames(trace.cell, equation_terms(trace, 0, 0, step, unit))
        title = f"{trace.cell.upper()} cell, unit u{unit}, step {step}: line width = value flowing along it"
        return charts.with_data(charts.diagram_spec(title), edges=edges, nodes=nodes)
    return charts.with_data(charts.heatmap_spec(which, 0, trace.get(which), trace.n_layers),
                            cursor=charts.cursor_frame(step))


def exports_ui(ex, trace) -> None:
    with st.expander("Export: trace as CSV, charts as PNG/SVG, the run as plain PyTorch"):
        c1, c2 = st.columns(2)
        c1.download_button("Trace as CSV (every step, layer, unit and quantity)", key="export_csv",
                           data=lambda: trace_csv(trace), file_name="trace.csv", mime="text/csv",
                           icon=":material/table:", help="Tidy: step, layer, direction, unit, quantity, value, "
                                                         "input. Cells a spreadsheet would run as formulas are "
                                                         "prefixed with ' .")
        step = int(st.session_state.get("step", 0))
        unit = int(st.session_state.get(f"focus_{trace.n_units}", 0))
        options = ["diagram"] + list(trace.names)
        which = c2.selectbox("Chart", options, key="export_chart",
                             format_func=lambda q: f"cell diagram (unit u{unit}, step {step})" if q == "diagram"
                             else f"heatmap of {charts.SHORT[q]} — {q.replace('_', ' ')} (layer 1)")
        fmt = c2.radio("Format", ["png", "svg"], horizontal=True, key="export_fmt", format_func=str.upper)
        if c2.button("Prepare the file", key="export_prepare", icon=":material/image:"):
            st.session_state.export_file = (which, fmt, charts.render(_chart_spec(trace, which, step, unit), fmt))
        prepared = st.session_state.get("export_file")
        if prepared is not None and prepared[:2] == (which, fmt):
            c2.download_button(f"Download {fmt.upper()}", data=prepared[2], key="export_download",
                               file_name=f"{which}.{fmt}", mime="image/png" if fmt == "png" else "image/svg+xml")
        st.markdown("**Reproduce this model's training in plain PyTorch** (exact settings; no code from this app):")
        st.code(pytorch_snippet(ex.model_cfg, ex.train_cfg, ex.data.name), language="python")
