"""Every page run headless with AppTest: a short real training run, then stepping through its trace."""
import json
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
    return [json.loads(el.proto.spec) for el in at.get("arrow_vega_lite_chart")]


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


def test_step_through_without_model_says_what_to_do():
    at = new("pages/2_Step_through.py").run()
    assert not at.exception
    assert "no trained model" in at.info[0].value


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
