"""The step-following views: rendered outside a browser at a chosen step (vl-convert), each must show the trace's
own numbers at that step — the numbers are formatted here from the trace arrays, not taken from the view code."""
import json
import re

import numpy as np
import pytest

from lstm_demo import charts, step_charts
from lstm_demo.kinds import KINDS
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData
from lstm_demo.kinds.series_data import load_series_preset
from lstm_demo.explain import diagram_tables, step_terms
from lstm_demo.models import build_model
from lstm_demo.kinds.sequence import trace_sequence

DATA = TextData("the cats, which ate the fish, were full. the cat was happy. " * 4)


def svg_texts(spec: dict, step: int, width: int = 640) -> list[str]:
    import vl_convert as vlc
    svg = vlc.vegalite_to_svg(charts._fixed_widths(charts.plain_spec(step_charts.at_step(spec, step)), width))
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    clean = [re.sub(r"<[^>]+>", "", t).replace("&apos;", "'").replace("&amp;", "&").replace("−", "-") for t in texts]
    return [t.replace("\u00a0", " ") for t in clean]


@pytest.fixture(scope="module")
def trace():
    model = build_model(ModelConfig("text", vocab_size=len(DATA.vocab), hidden_size=6, num_layers=2), seed=4)
    return trace_sequence(model, DATA, DATA.ids[:70])


def test_every_step_view_binds_its_step_to_the_browsers_cursor(trace):
    terms = step_terms(trace, 0, 0, 2)
    specs = [step_charts.equations_spec("lstm", 0, "u2"), step_charts.diagram_spec("lstm", "t"),
             step_charts.topk_spec("x"), step_charts.heatmap_spec("forget_gate", 0, trace.get("forget_gate")),
             step_charts.unit_lines_spec(70), step_charts.gates_now_spec(trace.names), step_charts.series_strip_spec("", 70, -1.0, 1.0),
             step_charts.text_strip_spec(70, "t", charts.color_scale("cell_state", terms["c"].to_numpy())),
             step_charts.compare_spec(step_charts.caption_frame(KINDS[trace.kind].captions(trace)).assign(run="original", value=0.0), "t", "y", 3)]
    for spec in specs:
        step = [p for p in spec["params"] if p["name"] == "step"]
        assert step == [{"name": "step", "value": 0,
                         "bind": {"element": step_charts.STEP_BUS, "event": step_charts.STEP_EVENT}}]
        assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"


@pytest.mark.parametrize("step,layer,unit", [(0, 0, 0), (17, 1, 3), (68, 0, 5)])
def test_equations_show_this_steps_numbers(trace, step, layer, unit):
    terms = step_terms(trace, layer, 0, unit)
    shown = svg_texts(step_charts.with_data(step_charts.equations_spec("lstm", 0, f"u{unit}"), terms=terms), step)
    H = trace.n_units
    pre_f = trace.pre_activation[layer, 0, step, H + unit]
    f = trace.get("forget_gate", layer)[step, unit]
    c = trace.get("cell_state", layer)[step, unit]
    h = trace.get("hidden_state", layer)[step, unit]
    c_prev = trace.get("cell_state", layer)[step - 1, unit] if step else 0.0
    assert f"Equations for unit u{unit} at step {step}" in shown
    assert f"f = σ({pre_f:.3f}) = {f:.3f}   forget gate" in shown
    assert any(line.endswith(f"written = {c:.3f}") for line in shown), shown
    assert any(line.startswith("h(t) = o·tanh(c(t))") and line.endswith(f"= {h:.3f}") for line in shown)
    kept = f * c_prev
    assert any(f"= {kept:.3f} kept" in line for line in shown)


def test_the_diagram_labels_and_words_follow_the_step(trace):
    terms = step_terms(trace, 0, 0, 1)
    edges, nodes = diagram_tables("lstm")
    spec = step_charts.with_data(step_charts.diagram_spec("lstm", "LSTM"), dg_edges=edges, dg_nodes=nodes,
                                 dg_terms=step_charts.terms_long(terms), terms=terms)
    for step in (5, 40):
        shown = " | ".join(svg_texts(spec, step))
        c = trace.get("cell_state")[step, 1]
        f = trace.get("forget_gate")[step, 1]
        assert f"c(t) {c:+.2f}" in shown and f"keeps {f:.0%} of the old cell state" in shown


def test_the_text_strip_says_what_happens_at_the_step(trace):
    values = trace.get("cell_state")[:, 0]
    spec = step_charts.with_data(step_charts.text_strip_spec(70, "t", charts.color_scale("cell_state", values)),
                                 chars=step_charts.text_colour_frame(trace, values),
                                 captions=step_charts.caption_frame(KINDS[trace.kind].captions(trace)))
    text = DATA.text
    for step in (3, 44):
        nxt = charts.show(text[step + 1])
        assert f"Step {step}: input '{charts.show(text[step])}' → the true next character is '{nxt}'" in \
            svg_texts(spec, step)


def test_top_guesses_show_this_steps_truth(trace):
    spec = step_charts.with_data(step_charts.topk_spec("the next character"), topk=step_charts.topk_frame(trace),
                                 topk_head=step_charts.topk_heads(trace))
    step = 12
    p = trace.predictions
    actual = p[(p.step == step) & (p["rank"] == 1)]["actual_prob"].iloc[0]
    assert f"truth '{charts.show(DATA.text[step + 1])}': {actual:.0%}" in svg_texts(spec, step)


def _cursor_x(spec: dict, step: int) -> float:
    """x of the black cursor rule in the SVG the spec renders to at `step`, its plot 640 px wide (autosize "pad":
    the width is the plot's)."""
    import vl_convert as vlc
    svg = vlc.vegalite_to_svg({**charts._fixed_widths(charts.plain_spec(step_charts.at_step(spec, step))),
                               "autosize": {"type": "pad"}})
    (x,) = re.findall(r'<line aria-label="step: \d+"[^>]*transform="translate\(([-\d.]+),', svg)
    return float(x)


def test_a_cursor_line_sits_at_the_step(trace):
    """The heatmap's x scale runs from -0.5 to T-0.5 across the plot: the cursor at step k sits at (k+0.5)/T of it."""
    values = trace.get("input_gate")
    spec = step_charts.heatmap_spec("input_gate", 0, values)
    T, width = values.shape[0], 640
    for step in (0, 3, 40, T - 1):
        assert _cursor_x(spec, step) == pytest.approx((step + 0.5) / T * width, abs=1.0)


def test_series_caption_gives_input_prediction_and_truth_in_original_units():
    data = load_series_preset("seattle_daily")
    model = build_model(ModelConfig("series", hidden_size=4), seed=0)
    tr = trace_sequence(model, data, data.normed[:40])
    points = step_charts.series_points_frame(tr)
    spec = step_charts.with_data(step_charts.series_strip_spec("°C", 40, points["value"].min(), points["value"].max()),
                                 points=points,
                                 captions=step_charts.caption_frame(KINDS[tr.kind].captions(tr, " °C")))
    row = tr.predictions.iloc[9]
    shown = svg_texts(spec, 9, width=900)  # a laptop's page: the caption is cut only where the legend ends
    assert f"Step 9: input {data.values[9]:.3f} °C → predicted next {row['predicted']:.3f}, actual " \
           f"{data.values[10]:.3f} (error {row['predicted'] - row['actual']:+.3f})" in [t.replace("−", "-")
                                                                                        for t in shown]


def test_gru_and_rnn_equations_render(trace):
    for cell in ("gru", "rnn"):
        model = build_model(ModelConfig("text", vocab_size=len(DATA.vocab), hidden_size=3, cell=cell), seed=1)
        tr = trace_sequence(model, DATA, DATA.ids[:20])
        terms = step_terms(tr, 0, 0, 2)
        shown = svg_texts(step_charts.with_data(step_charts.equations_spec(cell, 0, "u2"), terms=terms), 7)
        h = tr.get("hidden_state")[7, 2]
        assert any(line.endswith(f"{h:.3f}") for line in shown)
        assert np.isclose(terms["h"][7], h)


def svg_font_sizes(spec: dict, step: int) -> list[float]:
    import vl_convert as vlc
    svg = vlc.vegalite_to_svg(charts._fixed_widths(charts.plain_spec(step_charts.at_step(spec, step))))
    return [float(x) for x in re.findall(r'font-size="([\d.]+)px"', svg)
            + re.findall(r"font-size: ?([\d.]+)px", svg)]


def test_presenter_charts_grow_with_the_type_and_show_the_same_numbers(trace):
    """On a projector every letter of the charts (titles, legends, the strip's letters, the diagram, the equations)
    is 16 px or more and none is smaller than in the normal view; the presenter view draws the same step's
    numbers."""
    step = 20
    normal = KINDS[trace.kind].step_views(trace, 1, 0, 3, "cell_state")
    big = KINDS[trace.kind].step_views(trace, 1, 0, 3, "cell_state", presenter=True)
    for name in ("strip", "diagram", "equations"):
        small_fonts, big_fonts = svg_font_sizes(normal[name], step), svg_font_sizes(big[name], step)
        assert small_fonts and big_fonts, name
        assert min(big_fonts) >= 16 and min(big_fonts) >= min(small_fonts), (name, min(big_fonts))
        assert max(big_fonts) >= max(small_fonts), name
    assert min(svg_font_sizes(big["strip"], step)) >= 18  # readable from the back of a room
    c = trace.get("cell_state", 1, 0)[step, 3]
    assert any(f"{c:+.3f}".replace("-", "-") in t or f"{c:.3f}" in t for t in svg_texts(big["equations"], step))


# --- cheap moves: only what follows the cursor depends on it ---------------------------------------------------------

SIGNAL_STEP = re.compile(r"(?<![\w.'\"])step\b")  # the step parameter in an expression (not datum.step, not a name)


def _lists(node, key):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, list):
                yield from v
            yield from _lists(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _lists(v, key)


def scales_fed_by_the_cursor(spec: dict) -> list[str]:
    """Compile with Vega-Lite (vl-convert) and name the scales whose domain reads data that depends on the step
    parameter: in the browser those are recomputed at every move and every mark on them is re-encoded and redrawn."""
    import vl_convert as vlc
    vega = vlc.vegalite_to_vega({k: v for k, v in spec.items() if k != "datasets"})
    data = [d for d in _lists(vega, "data") if isinstance(d, dict) and "name" in d]
    moving, grew = set(), True
    while grew:
        grew = False
        for d in data:
            sources = d.get("source") if isinstance(d.get("source"), list) else [d.get("source")]
            if d["name"] not in moving and (any(SIGNAL_STEP.search(t.get("expr", "")) for t in d.get("transform", []))
                                            or moving.intersection(sources)):
                moving.add(d["name"])
                grew = True
    return [s["name"] for s in _lists(vega, "scales") if isinstance(s, dict)
            and moving.intersection(re.findall(r'"data": "([^"]+)"', json.dumps(s.get("domain", ""))))]


def test_no_scale_of_a_step_view_is_fed_by_the_cursor(trace):
    from lstm_demo.kinds import vision_charts as vc
    c = step_terms(trace, 0, 0, 2)["c"].to_numpy()
    specs = {"text strip": step_charts.text_strip_spec(70, "t", charts.color_scale("cell_state", c)),
             "series": step_charts.series_strip_spec("", 70, -1.0, 1.0),
             "diagram": step_charts.diagram_spec("lstm", "t"), "equations": step_charts.equations_spec("lstm", 0, "u2"),
             "heatmap": step_charts.heatmap_spec("forget_gate", 0, trace.get("forget_gate")),
             "unit lines": step_charts.unit_lines_spec(70),
             "what-if": step_charts.compare_spec(step_charts.caption_frame(KINDS[trace.kind].captions(trace)).assign(run="original", value=0.0),
                                                 "t", "y", 3),
             "CNN-LSTM strip": vc.cnn_strip_spec(5), "CNN maps": vc.cnn_maps_spec(16),
             "ConvLSTM maps": vc.convlstm_maps_spec(8), "frames": vc.convlstm_frames_spec(),
             "pixel pick": vc.pixel_pick_spec(16), "pixel gates": vc.pixel_gates_spec("ch 0, pixel (1, 2)", 10)}
    fed = {name: scales for name, spec in specs.items() if (scales := scales_fed_by_the_cursor(spec))}
    assert not fed, f"scales recomputed at every move: {fed}"
    # the check can fail: bars filtered to the cursor on a band scale of their own characters follow it
    import altair as alt
    follows = alt.Chart(alt.NamedData("topk")).transform_filter(step_charts.AT_STEP).mark_bar().encode(
        x="prob:Q", y="shown:N")
    assert scales_fed_by_the_cursor(step_charts.finish(follows))


def test_a_step_sentence_quotes_an_apostrophe_so_that_it_reads():
    """'x' around a token, but an apostrophe in double quotes: ''' read as noise on the projector (scene 8)."""
    from lstm_demo.kinds.text_data import TextData
    from lstm_demo.names import quote
    assert quote("a") == "'a'" and quote(" ") == "'·'" and quote("'") == "“'”"
    data = TextData("she can't eat it. she can't. " * 4)
    trace = trace_sequence(build_model(ModelConfig("text", vocab_size=len(data.vocab), hidden_size=4), seed=0), data,
                           data.ids[:12])
    said = KINDS["text"].captions(trace)
    apostrophe = [c for c in said if "“'”" in c]
    assert apostrophe and not any("'''" in c for c in said)
