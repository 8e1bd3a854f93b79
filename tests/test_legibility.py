"""What makes a view legible and its words true, computed in the core: the tile colours and the ink on them (checked
against Vega's own rendering and the WCAG formula written out here), numbers that never read "−0.00", the top
guesses' sentence when there is no truth or no guess yet, the backward half's diagram labels, titles broken into
lines, and the first words of a sample cut at a word."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_demo import step_charts
from lstm_demo.colours import WCAG_LARGEST_MIN, ink, ramp, scale_of, scheme_rgb
from lstm_demo.explain import diagram_tables, number


def wcag(a, b) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (0…255), from the definition."""
    def lum(c):
        lin = [v / 255 / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


BLACK, WHITE = (0, 0, 0), (255, 255, 255)


@pytest.mark.parametrize("scheme, reverse, lo, hi", [("viridis", False, 0.0, 1.0), ("redblue", True, -1.0, 1.0),
                                                     ("redblue", True, -26.4, 26.4)])
def test_tile_colours_are_the_colours_vega_draws(scheme, reverse, lo, hi):
    import vl_convert as vlc
    values = np.concatenate([np.linspace(lo, hi, 101), np.random.default_rng(0).uniform(lo, hi, 40)])
    spec = {"data": {"values": [{"i": i, "v": float(v)} for i, v in enumerate(values)]}, "mark": "rect",
            "encoding": {"x": {"field": "i", "type": "ordinal"},
                         "color": {"field": "v", "type": "quantitative", "legend": None,
                                   "scale": {"scheme": scheme, "domain": [lo, hi], "reverse": reverse}}}}
    drawn = [tuple(int(x) for x in m) for m in
             re.findall(r'aria-roledescription="rect mark"[^>]*fill="rgb\((\d+), (\d+), (\d+)\)"', vlc.vegalite_to_svg(spec))]
    assert len(drawn) == len(values)
    ours = ramp(values, lo, hi, scheme, reverse)
    assert np.abs(ours.astype(int) - np.array(drawn)).max() <= 1  # (a rounding step at most)


@settings(max_examples=300, deadline=None)
@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_the_ink_on_any_colour_is_the_more_contrasting_one_and_reads(rgb):
    chosen = str(ink(np.array(rgb)))
    k_black, k_white = wcag(BLACK, rgb), wcag(WHITE, rgb)
    assert wcag(BLACK if chosen == "black" else WHITE, rgb) == pytest.approx(max(k_black, k_white))
    assert max(k_black, k_white) >= WCAG_LARGEST_MIN - 1e-9


@pytest.mark.parametrize("quantity", ["forget_gate", "candidate", "cell_state"])
def test_every_letter_of_the_text_strip_reads_on_its_tile(quantity):
    """Over the whole of each scale (the strip's values), the letter's ink has at least 4.5:1 on its tile."""
    values = np.linspace(-30, 30, 1201) if quantity == "cell_state" else np.linspace(-1, 1, 801)
    scheme, lo, hi, reverse = scale_of(quantity, values)
    tiles = ramp(values, lo, hi, scheme, reverse)
    for tile, chosen in zip(tiles, ink(tiles)):
        assert wcag(BLACK if chosen == "black" else WHITE, tile) >= 4.5, (tile, chosen)


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e4, 1e4, allow_nan=False), st.sampled_from(["+.2f", ".2f", ".3f", "+.3f", ".0%", ".1f"]))
def test_a_number_that_rounds_to_zero_never_reads_minus_zero(value, fmt):
    shown = number(value, fmt)
    assert not re.match(r"^-0(\.0*)?%?$", shown), shown
    assert float(shown.rstrip("%")) == pytest.approx(float(format(value, fmt).rstrip("%")), abs=1e-9)


def test_number_on_the_edges():
    assert number(-0.004, "+.2f") == "+0.00" and number(-0.0, ".2f") == "0.00" and number(-0.006, "+.2f") == "-0.01"
    assert number(-0.001, ".0%") == "0%" and number(0.126, ".0%") == "13%"


class FakeTrace:
    """The fields topk_heads reads: steps, targets and the model's guesses (a table like trace.predictions)."""

    def __init__(self, targets, guessed_steps):
        import pandas as pd
        self.n_steps = len(targets)
        self.targets = targets
        rows = [{"step": t, "rank": r, "char": c, "prob": p, "actual_prob": 0.25}
                for t in guessed_steps for r, (c, p) in enumerate([("a", 0.5), ("b", 0.25)], 1)]
        self.predictions = pd.DataFrame(rows, columns=["step", "rank", "char", "prob", "actual_prob"])


def test_top_guesses_say_the_truth_or_why_there_is_none():
    trace = FakeTrace(["b", None, "", float("nan"), "x"], guessed_steps=[0, 1, 2, 3])
    heads = [h.replace("\n", " ") for h in
             step_charts.topk_heads(trace, no_guess=lambda t: f"Encoder step {t}: nothing yet")["text"]]
    assert heads[0] == "truth 'b': 25%"
    assert heads[1] == heads[2] == heads[3] == step_charts.NO_TRUTH  # no truth: no "truth '': nan%"
    assert heads[4] == "Encoder step 4: nothing yet"                  # no guess at this step: said so
    assert all("nan" not in h and "''" not in h for h in heads)


def test_the_encoder_decoder_says_when_its_decoder_starts():
    from lstm_demo.kinds import KINDS

    class T:
        segments = ((0, 0, 9), (9, 9, 13))
    said = KINDS["translation"].no_guess(T(), 3)
    assert "Encoder step 3" in said and "step 9" in said


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_backward_halfs_diagram_reads_the_state_after_as_its_equations_do(cell):
    for direction, want, not_want in ((0, "t−1", "t+1"), (1, "t+1", "t−1")):
        edges, nodes = diagram_tables(cell, direction)
        words = " ".join(edges["name"]) + " " + " ".join(nodes["prefix"])
        assert want in words and not_want not in words
        lines = " ".join(e for e, _ in step_charts._lines(cell, direction))
        assert want in lines and not_want not in lines


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=12), min_size=1, max_size=30),
       st.integers(12, 80))
def test_a_title_broken_into_lines_keeps_its_words_and_its_width(words, chars):
    text = " ".join(words)
    got = step_charts.lines(text, chars)
    assert " ".join(got).split() == text.split()
    assert all(len(line) <= chars for line in got)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("font", [14, 16, 22])
def test_the_diagrams_boxes_and_circles_hold_their_widest_labels(cell, font):
    nodes, geo = step_charts.diagram_layout(cell, 0, font, font)
    for r in nodes.itertuples():
        widest = max(step_charts.text_px(line, font)
                     for line in (r.prefix + step_charts.widest(r.term) + r.suffix).split("\n"))
        if r.shape == "gate":
            assert 2 * r.hw / 100 * geo["width"] >= widest + 4, r
        if r.shape == "op":
            assert np.sqrt(r.size) >= widest + 4, r


def test_a_sample_is_cut_after_a_whole_word():
    from lstm_demo.ui.kinds.text import whole_words
    text = "the children go to the park at eight; the children come out of the park"
    cut = whole_words(text, 30)
    assert cut.endswith(" …") and text.startswith(cut[:-2]) and text[len(cut) - 2] == " "
    assert whole_words("short", 30) == "short"


def test_presenter_scene_keys_stop_at_the_ends():
    from lstm_demo.ui.workshop import next_scene
    assert next_scene(1, -1, 12) == 1 and next_scene(12, 1, 12) == 12 and next_scene(4, 1, 12) == 5


def test_stored_views_keep_a_shared_dataset_once_and_read_back_whole():
    import io
    import zipfile

    import pandas as pd

    from lstm_demo.view_store import arrow, dump_views, load_views
    maps = pd.DataFrame({"step": range(500), "url": ["data:image/png;base64," + "A" * 200] * 500})
    views = {("maps",): {"mark": "image", "datasets": {"maps": arrow(maps)}},
             ("maps", "compact"): {"mark": "image", "datasets": {"maps": arrow(maps), "other": arrow(maps.head(3))}}}
    raw = dump_views(views)
    assert len([n for n in zipfile.ZipFile(io.BytesIO(raw)).namelist() if n.endswith(".arrow")]) == 2
    assert load_views(raw) == views
