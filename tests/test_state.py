"""The UI state and links, without Streamlit: what a link asks for, what is refused, and the round trip."""
from urllib.parse import parse_qsl, urlencode

import pytest

from lstm_demo.ui.state import Cursor, Link, UIState


def query_string(pairs, step: int) -> str:
    """What the browser writes at rest: the state's pairs with the step filled in."""
    return urlencode([(k, str(step) if v is None else v) for k, v in pairs])


def parse(qs: str, **kw) -> Link:
    return Link.parse(dict(parse_qsl(qs)), **kw)


def test_a_home_view_round_trips_through_its_link():
    s = UIState(scene=2, present=True)
    s.cursor = Cursor(unit=5, colour="forget_gate", layer=1)
    link = parse(query_string(s.to_query("home"), step=30), n_scenes=6)
    assert (link.scene, link.step, link.unit, link.colour, link.layer, link.present) == (2, 30, 5, "forget_gate", 1,
                                                                                       True)
    assert not link.notes
    again = UIState()
    link.apply(again.cursor)
    assert (again.cursor.step, again.cursor.unit, again.cursor.colour, again.cursor.layer) == (30, 5, "forget_gate", 1)
    assert again.cursor.jump == 1  # the browser is told to move once


def test_a_step_through_link_carries_the_model_and_own_text():
    s = UIState()
    s.sequence.source, s.sequence.text = "own", "the cats, which ate the fish, were full."
    s.cursor.unit = 7
    qs = query_string(s.to_query("step", model="agreement"), step=33)
    assert qs.startswith("model=agreement&text=the+cats") and "step=33" in qs
    link = parse(qs, models=("agreement", "sine"))
    assert (link.model, link.text, link.step, link.unit) == ("agreement", "the cats, which ate the fish, were full.",
                                                             33, 7)


def test_own_models_have_no_link_and_validation_samples_carry_no_text():
    assert UIState().to_query("step", model=None) is None
    assert "text" not in dict(UIState().to_query("step", model="agreement"))


@pytest.mark.parametrize("qs,needle", [
    ("scene=99", "scene '99', which does not exist; showing scene 1 of 6"),
    ("scene=abc", "does not exist"),
    ("step=-4", "step='-4' is not a whole number"),
    ("step=1e9", "step="),
    ("unit=%3Cscript%3E", "unit='<script>'"),
    ("colour=evil", "colour='evil' is not a quantity"),
    ("model=..%2F..%2Fetc%2Fpasswd", "does not exist"),
    ("direction=2", "direction="),
])
def test_bad_link_values_are_ignored_and_said(qs, needle):
    link = parse(qs, n_scenes=6, models=("agreement",))
    assert any(needle in n for n in link.notes), link.notes
    assert link.step is None or link.step >= 0
    assert link.model in (None, "agreement")


def test_a_long_text_in_a_link_is_cut_to_the_trace_cap():
    link = parse("text=" + "a" * 5000, models=("agreement",))
    assert len(link.text) == 256 and "first 256" in link.notes[0]


def test_cursor_fits_a_smaller_trace():
    c = Cursor(step=300, layer=2, direction=1, unit=200)
    c.fit(n_steps=128, n_layers=1, n_directions=1, n_units=64)
    assert (c.step, c.layer, c.direction, c.unit) == (127, 0, 0, None)


def test_notices_are_shown_once_and_forget_view_drops_caches():
    s = UIState()
    s.notice("train", "reset")
    assert s.take_notice("train") == "reset" and s.take_notice("train") is None
    from lstm_demo.ui.state import Timed
    s.preview, s.view, s.whatif = Timed(("text",), "x", 0.0), object(), ("key", object())
    s.forget_view()
    assert s.view is None and s.preview is None and s.whatif is None


def test_a_unit_chosen_on_one_model_is_not_carried_to_another():
    c = Cursor()
    c.follow("bundled:agreement")
    c.unit, c.colour, c.layer = 34, "forget_gate", 1
    c.follow("bundled:agreement")  # the same model (another sequence, another page): the choice stays
    assert (c.unit, c.colour, c.layer) == (34, "forget_gate", 1)
    c.follow("bundled:sine")       # another model: back to the defaults (the busiest unit, the cell's memory)
    assert (c.unit, c.colour, c.layer, c.direction) == (None, None, 0, 0)
