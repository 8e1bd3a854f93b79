"""Every page run headless with AppTest: a short real training run, then stepping through its trace."""
import json

import numpy as np
import time

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 60


def new(page=None):
    """An app session (app.py is the entry point, as in the browser), optionally switched to a page."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    if page:
        at.switch_page(page)
    return at


def specs(at):
    return [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]


def small_settings(at, kind="text"):
    at.select_slider(key=f"{kind}_hidden").set_value(8)
    at.select_slider(key=f"{kind}_seq_len").set_value(16)
    at.select_slider(key=f"{kind}_batch").set_value(4)
    at.number_input(key=f"{kind}_steps").set_value(30)
    return at.run()


def train_until_done(at, limit=60):
    at.button(key="start").click().run()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        ex = at.session_state["experiment"]
        if ex.job is not None and not ex.job.view().active:
            break
        time.sleep(0.2)
    return at.run()


def test_home_page_explains_and_links():
    at = new().run()
    assert not at.exception
    assert "forget gate" in at.markdown[0].value


def test_step_through_without_a_model_opens_a_bundled_one():
    at = new("pages/2_Step_through.py").run()
    assert not at.exception, at.exception
    assert "ships with the app" in at.info[0].value
    ex = at.session_state["experiment"]
    assert ex.origin == "bundled:agreement" and at.session_state["trace_cache"][1].n_steps > 0


@pytest.mark.parametrize("kind", ["text", "series"])
def test_train_then_step_through(kind):
    at = new("pages/1_Train.py").run()
    if kind == "series":
        at.radio(key="kind").set_value("series").run()
    small_settings(at, kind)
    at = train_until_done(at)
    assert not at.exception, at.exception
    ex = at.session_state["experiment"]
    assert ex.trained_steps == 30 and ex.job is None or ex.job.view().status == "done"
    assert any("Finished 30 steps" in s.value for s in at.success)

    step = at.switch_page("pages/2_Step_through.py").run()
    assert not step.exception, step.exception
    assert step.slider(key="step").value == 0
    step.button(key="next").click().run()
    step.button(key="next").click().run()
    assert step.slider(key="step").value == 2
    step.button(key="prev").click().run()
    assert step.slider(key="step").value == 1
    assert not step.exception


def test_bad_own_text_keeps_the_trained_model_and_data():
    at = new("pages/1_Train.py").run()
    small_settings(at)
    at = train_until_done(at)
    ex, data = at.session_state["experiment"], at.session_state["data"]
    at.selectbox(key="text_source").set_value("__own__").run()
    at.text_area(key="own_text_area").input("   \n  ")
    submit = next(b for b in at.get("button") if "Use this text" in str(b.proto.label))
    submit.click().run()
    assert not at.exception
    assert any("empty" in e.value and "Still using the previous data" in e.value for e in at.error)
    assert at.session_state["experiment"] is ex and at.session_state["data"] is data
    assert ex.trained_steps == 30


def named_dataset(at, name):
    """A named dataset of a chart as the browser receives it (Streamlit ships them as Arrow next to the spec)."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
    for el in at.get("vega_lite_chart"):
        for ds in el.proto.datasets:
            if ds.name == name:
                return convert_arrow_bytes_to_pandas_df(ds.data.data)
    raise AssertionError(f"no chart has a dataset {name!r}")


def diagram_edges(at):
    return named_dataset(at, "edges").set_index("name").to_dict("index")


def test_explainer_views_follow_the_trace():
    """Diagram, equations, finder and what-if on a trained LSTM: numbers equal the trace at the cursor."""
    at = new("pages/1_Train.py").run()
    small_settings(at)
    at = train_until_done(at)
    step = at.switch_page("pages/2_Step_through.py").run()
    for _ in range(5):
        step.button(key="next").click().run()
    ex = step.session_state["experiment"]
    trace = step.session_state["trace_cache"][1]
    unit = step.selectbox(key=f"focus_{trace.n_units}").value
    edges = diagram_edges(step)
    assert edges["f"]["value"] == pytest.approx(float(trace.get("forget_gate")[5, unit]), abs=1e-6)
    assert edges["c(t)"]["value"] == pytest.approx(float(trace.get("cell_state")[5, unit]), abs=1e-6)
    latex = step.get("latex")
    assert any(f"{float(trace.get('cell_state')[5, unit]):.3f}" in m.value for m in latex)

    step.segmented_control(key="panel").set_value("finder").run()
    assert not step.exception, step.exception
    step.selectbox(key="hyp_text").set_value("plural").run()
    assert any("Best match" in s.value for s in step.success)
    step.selectbox(key="hyp_text").set_value("sentence_end")
    step.radio(key="finder_over").set_value("windows").run()  # 16-character windows: sentence ends, not subjects
    assert not step.exception, step.exception
    assert "over the validation windows" in step.success[0].value
    best = int(step.success[0].value.split("unit u")[1].split(",")[0])
    step.button(key="finder_pick").click().run()
    assert step.selectbox(key=f"focus_{trace.n_units}").value == best

    step.segmented_control(key="panel").set_value("whatif").run()
    step.radio(key="whatif_lstm").set_value("f0").run()
    assert not step.exception, step.exception
    changed = step.session_state["trace_cache"][2]["whatif"][1]
    assert np.all(changed.get("forget_gate")[5:, best] == 0) and ex.trained_steps == 30
    assert any("Largest change" in m.label for m in step.metric)


@pytest.mark.parametrize("cell,bidirectional,layers", [("gru", True, 1), ("rnn", False, 1), ("lstm", True, 2)])
def test_gru_bidirectional_rnn_and_stacked_train_and_step(cell, bidirectional, layers):
    at = new("pages/1_Train.py").run()
    at.selectbox(key="text_cell").set_value(cell).run()
    at.select_slider(key="text_layers").set_value(layers).run()
    if bidirectional:
        at.radio(key="text_task").set_value("masked").run()
        at.checkbox(key="text_bidir").check().run()
    small_settings(at)
    at = train_until_done(at)
    assert not at.exception, at.exception
    cfg = at.session_state["experiment"].model_cfg
    assert (cfg.cell, cfg.bidirectional, cfg.task) == (cell, bidirectional, "masked" if bidirectional else "next")
    assert at.session_state["scoreboard"][-1]["steps"] == 30
    step = at.switch_page("pages/2_Step_through.py").run()
    assert not step.exception, step.exception
    trace = step.session_state["trace_cache"][1]
    assert trace.cell == cell and trace.n_directions == (2 if bidirectional else 1)
    assert trace.n_layers == layers
    layer = layers - 1
    if layers > 1:
        step.radio(key=f"layer_{layers}").set_value(layer).run()
    if bidirectional:
        step.radio(key="direction").set_value(1).run()
        assert not step.exception, step.exception
        assert "▮" in "".join(trace.inputs)
    step.button(key="next").click().run()
    assert not step.exception, step.exception
    assert diagram_edges(step)["h(t)"]["value"] == pytest.approx(
        float(trace.get("hidden_state", layer, 1 if bidirectional else 0)[1, step.selectbox(
            key=f"focus_{trace.n_units}").value]), abs=1e-6)
    if cell == "rnn":
        assert any("no gates" in c.value for c in at.caption)


def test_long_memory_race_then_open_the_remembering_unit():
    at = new("pages/3_Long_memory.py").run()
    assert not at.exception, at.exception
    at.slider(key="lab_range").set_value((0, 3))
    at.select_slider(key="lab_hidden").set_value(8)
    at.number_input(key="lab_steps").set_value(60).run()
    at.button(key="lab_start").click().run()
    race = at.session_state["race"]
    race.join(90)
    at.run()
    assert not at.exception, at.exception
    assert race.status == "done" and any("Finished 60 steps" in s.value for s in at.success)
    assert any("What this run shows" in m.value for m in at.markdown)
    unit = race.results["unit"]["unit"]
    at.button(key="lab_open_unit").click().run()
    assert not at.exception, at.exception
    ex = at.session_state["experiment"]
    assert ex.model is race.racers["lstm"].model and at.session_state[f"focus_{ex.model_cfg.hidden_size}"] == unit
    trace = at.session_state["trace_cache"][1]
    assert "".join(trace.inputs) + trace.targets[-1] == race.results["unit"]["sentence"]


def _everything_shown(at) -> str:
    """All text the session renders plus a dump of its session state."""
    parts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)
    walk(at._tree)
    state = at.session_state
    parts += [f"{k}={state[k]!r}" for k in state]
    return "\n".join(parts)


def test_two_visitors_never_see_each_others_data_model_or_trace():
    secret = "zebra quartz ovulation mnemonic " * 40
    a = new("pages/1_Train.py").run()
    a.selectbox(key="text_source").set_value("__own__").run()
    a.text_area(key="own_text_area").input(secret)
    next(b for b in a.get("button") if "Use this text" in str(b.proto.label)).click().run()
    small_settings(a)
    a = train_until_done(a)
    a_step = a.switch_page("pages/2_Step_through.py").run()
    assert not a_step.exception, a_step.exception
    ex_a = a_step.session_state["experiment"]
    assert ex_a.data.text == secret and "zebra" in _everything_shown(a_step)

    b = new("pages/1_Train.py").run()  # a second visitor, same process, at the same time
    small_settings(b)
    b = train_until_done(b)
    b_step = b.switch_page("pages/2_Step_through.py").run()
    ex_b = b_step.session_state["experiment"]
    assert ex_b is not ex_a and ex_b.model is not ex_a.model and ex_b.data is not ex_a.data
    assert not set(ex_a.model.state_dict().values()) & set(ex_b.model.state_dict().values())
    shown_b = _everything_shown(b_step)
    assert "zebra" not in shown_b and "quartz" not in shown_b
    assert b_step.session_state["trace_cache"][1] is not a_step.session_state["trace_cache"][1]
    home_b = b.switch_page("app.py").run()
    assert "zebra" not in _everything_shown(home_b)
