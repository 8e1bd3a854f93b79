"""The app's comparing and concluding words (lstm_demo/conclusions.py) on their edge cases: errors of 0 and 1e-28,
ties, NaN, negative correlations, curves that dip and recover. Each claim is checked against the numbers directly."""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_demo import conclusions as cc

errors = st.one_of(st.just(0.0), st.just(1e-28), st.floats(1e-9, 1e6), st.just(float("nan")), st.just(float("inf")))


@given(errors, errors)
@settings(max_examples=300, deadline=None)
def test_a_comparison_says_better_only_when_the_models_error_is_smaller(model, baseline):
    c = cc.compare_errors(model, baseline)
    if not (math.isfinite(model) and math.isfinite(baseline)):
        assert c.outcome == "unknown" and c.colour == "gray"
        return
    assert c.colour == {"better": "green", "worse": "red", "same": "gray"}[c.outcome]
    if c.outcome == "better":
        assert model < baseline
    if c.outcome == "worse":
        assert model > baseline
    assert "e+" not in c.words and "e+" not in c.badge            # never a 24-digit factor
    for text in (c.words, c.badge):
        assert len(text) < 80


def test_the_sine_case_an_exact_seasonal_baseline_is_not_beaten():
    """The default series preset: repeating last season is exact to 1e-28 — the model does not beat it."""
    c = cc.compare_errors(7.7e-5, 1.245e-28)
    assert c.outcome == "worse" and c.colour == "red" and "exact" in c.words
    verdict = cc.forecast_verdict(7.7e-5, {"repeat the last value": 8.0e-3, "repeat last season": 1.245e-28})
    assert verdict.startswith("It does not beat") and "repeat last season" in verdict
    assert "617" not in verdict


def test_a_tenfold_smaller_error_is_better_in_green_and_says_by_how_much():
    c = cc.compare_errors(0.01, 0.1)
    assert (c.outcome, c.colour) == ("better", "green")
    assert "10×" in c.words and "smaller" in c.words
    c = cc.compare_errors(0.1, 0.01)
    assert (c.outcome, c.colour) == ("worse", "red") and "10×" in c.words and "larger" in c.words


def test_ties_and_both_exact_are_the_same_in_grey():
    assert cc.compare_errors(1.0, 1.0).outcome == "same"
    assert cc.compare_errors(1.0, 1.04).outcome == "same"
    assert cc.compare_errors(1.0, 1.2).outcome == "better"
    both = cc.compare_errors(0.0, 1e-28)
    assert both.outcome == "same" and both.colour == "gray"


def test_exactness_is_relative_to_the_values_scale():
    """An error of 1e-10 is exact for values of size 1e3, not for values of size 1e-6."""
    assert cc.compare_errors(1.0, 1e-10, scale=1e6).badge == "baseline exact"
    assert cc.compare_errors(1e-8, 1e-10, scale=1e-12).outcome == "worse"
    assert "exact" not in cc.compare_errors(1e-8, 1e-10, scale=1e-12).words


def test_the_verdict_names_the_baseline_with_the_smallest_error():
    v = cc.forecast_verdict(0.5, {"a": 1.0, "b": 0.25, "c": 4.0})
    assert "“b”" in v and v.startswith("It does not beat")
    v = cc.forecast_verdict(0.1, {"a": 1.0, "b": 0.25})
    assert v.startswith("It beats") and "“b”" in v and "2.5×" in v
    v = cc.forecast_verdict(float("nan"), {"a": 1.0})
    assert "cannot be judged" in v
    assert "cannot be judged" in cc.forecast_verdict(1.0, {"a": float("nan")})
    assert "cannot be judged" in cc.forecast_verdict(1.0, {})


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_number_for_words_is_never_negative_zero_or_long(x):
    text = cc.number(x)
    assert not re.fullmatch(r"-0(\.0*)?", text)  # a zero with a sign ("-0.0078" is a number, not a zero)
    assert len(text) <= 14
    assert (text == "not a number") == math.isnan(x)
    if math.isfinite(x) and x != 0 and abs(x) >= 1e-3 and abs(x) < 1e3:
        assert float(text) == pytest.approx(x, rel=5e-3)


def test_negative_zero_prints_as_zero():
    assert cc.number(-0.0) == "0" and cc.number(-1e-9, 2) != "-0"
    assert cc.number(-0.0004, 2) == "-0.0004"  # small but not zero keeps its sign


@pytest.mark.parametrize("r,start", [(0.9, "strongly"), (-0.9, "strongly"), (0.5, "moderately"), (0.2, "only weakly"),
                                     (0.05, "does not"), (-0.05, "does not"), (float("nan"), "cannot")])
def test_follows_reads_the_size_of_r_and_says_a_negative_sign(r, start):
    words = cc.follows(r, "plural subject")
    assert words.startswith(start) and "“plural subject”" in words
    assert ("opposite sign" in words) == (r < -0.1)


def test_reach_stops_before_a_dip_even_if_the_curve_recovers():
    d = [5, 10, 20, 40, 80]
    assert cc.reach(d, [0.99, 0.97, 0.6, 0.95, 0.96], bar=0.9) == 10       # dips at 20, recovers: reaches 10
    assert cc.reach(d, [0.99, 0.97, 0.95, 0.95, 0.96], bar=0.9) == 80
    assert cc.reach(d, [0.5, 0.97, 0.95, 0.95, 0.96], bar=0.9) is None     # not even the shortest
    assert cc.reach(d[::-1], [0.96, 0.95, 0.6, 0.97, 0.99], bar=0.9) == 10  # order of the input does not matter
    assert cc.reach(d, [0.99, float("nan"), 0.95, 0.95, 0.96], bar=0.9) == 5
    assert cc.reach(d, [0.9, 0.9, 0.9, 0.9, 0.9], bar=0.9) == 80           # at the bar counts


@given(st.lists(st.floats(0, 1), min_size=1, max_size=12), st.floats(0.1, 0.99))
def test_reach_is_the_longest_prefix_at_or_above_the_bar(means, bar):
    d = [5 * (i + 1) for i in range(len(means))]
    got = cc.reach(d, means, bar)
    ok = [m >= bar for m in means]
    if not ok[0]:
        assert got is None
    else:
        k = ok.index(False) if False in ok else len(ok)
        assert got == d[k - 1]


def test_tally_counts_better_worse_and_equal():
    assert cc.tally(np.array([1, 1, -1, 0])) == "better in 2, worse in 1, equal in 1 of 4 length groups"
    assert cc.tally(np.array([1, 1])) == "better in 2 of 2 length groups"
    assert cc.tally(np.array([-1])) == "better in 0, worse in 1 of 1 length groups"


def test_took_note_at_is_a_clear_jump_inside_the_words_steps_and_not_a_ramp():
    jump = np.r_[np.zeros(5), np.ones(15)]                              # the change is made at step 5
    assert cc.changes_most_at(jump, (5, 6)) and not cc.changes_most_at(jump, (6, 9))
    assert not cc.changes_most_at(np.linspace(0, 1, 20), (5, 6))          # a ramp took note nowhere
    small_then_big = np.r_[np.zeros(5), np.full(7, 0.1), np.full(8, 1.0)]  # a small step at 5, the big one at 12
    assert not cc.changes_most_at(small_then_big, (5, 8)) and cc.changes_most_at(small_then_big, (12, 13))
    noisy = np.r_[np.zeros(5), np.ones(15)] + 0.1 * np.sin(np.arange(20))
    assert cc.changes_most_at(noisy, (5, 6))
    assert not cc.changes_most_at([1.0], (0, 1)) and not cc.changes_most_at([0.0, np.nan, 1.0], (1, 2))
    assert not cc.changes_most_at(np.zeros(10), (3, 4))


def test_carried_needs_a_visible_value_of_one_sign_over_the_whole_span():
    scale = 1.0
    assert cc.carried([0.0, 0.9, 0.8, 0.7, 0.6], (1, 5), scale)
    assert not cc.carried([0.0, 0.9, 0.8, 0.05, 0.6], (1, 5), scale)    # fades on the way: not carried
    assert not cc.carried([0.0, 0.9, -0.8, 0.7, 0.6], (1, 5), scale)    # changes sign
    assert cc.carried([0.0, -0.9, -0.8, -0.7, -0.6], (1, 5), scale)     # negative and steady is carried
    assert not cc.carried([0.0, 0.9], (1, 2), 0.0)
    assert not cc.carried([0.0, 0.9], (2, 2), scale)


def test_horizon_words_say_larger_or_smaller_as_the_errors_do():
    assert "(larger than at the first step)" in cc.horizon_words([0.1, 0.5, 2.0], [0.1, 0.1, 0.2], "°C")
    assert "(smaller than at the first step)" in cc.horizon_words([0.9, 0.5, 0.2], [0.1, 0.1, 0.2])
    assert "(about the same as at the first step)" in cc.horizon_words([0.5, 0.9, 0.5], [0.1, 0.1, 0.2])
    assert "0.5 °C" in cc.horizon_words([0.5], [0.5], "°C") and "after" not in cc.horizon_words([0.5], [0.5])
    hump = cc.horizon_words([0.17, 0.9, 1.67, 0.6, 0.026], [0.1] * 5)  # smaller at the end, far larger between
    assert "(smaller than at the first step)" in hump and "up to 1.67, 3 steps ahead" in hump
    assert "in between" not in cc.horizon_words([0.1, 0.5, 2.0], [0.1, 0.1, 0.2])  # the largest is the last


def test_an_exact_error_is_shown_as_exact_not_as_rounding_noise():
    assert cc.error_text(1.787e-30) == "≈ 0 (exact)" and cc.error_text(0.0) == "≈ 0 (exact)"
    assert cc.error_text(1.787e-30, scale=1e-40) != "≈ 0 (exact)"      # tiny values: 1e-30 is not exact
    assert cc.error_text(0.008165) == "0.008165"
    assert cc.error_text(float("nan")) == "not a number"


@pytest.mark.parametrize("r,good", [(0.85, True), (-0.85, True), (0.41, True), (0.3, False), (0.02, False),
                                    (-0.02, False), (float("nan"), False)])
def test_the_finder_calls_a_unit_a_match_only_when_it_follows_clearly(r, good):
    sentence, ok = cc.best_match(7, r, "plural subject", "in this sequence")
    assert ok == good and sentence.startswith("Best match" if good else "No unit clearly matches")
    assert "u7" in sentence and "nan" not in sentence
    assert ("opposite sign" in sentence) == (r < -0.1)
    if math.isfinite(r):
        assert f"{r:+.2f}" in sentence


def test_loss_progress_says_only_what_the_recorded_losses_show():
    from lstm_demo.conclusions import loss_progress
    assert loss_progress([], 10) == ""
    assert loss_progress([(0, float("nan"))], 10) == ""
    assert loss_progress([(0, 3.2)], 10) == "validation loss 3.20 at step 0"
    assert loss_progress([(0, 3.2), (300, 1.45)], 300).endswith("→ 1.45 at step 300 (down)")
    assert loss_progress([(0, 1.0), (300, 1.6)], 300).endswith("(up)")       # it can get worse: it says so
    assert loss_progress([(0, 3.2), (300, 1.45)], 100) == "validation loss 3.20 at step 0"  # not past the weights
    assert "1,200" in loss_progress([(0, 3.0), (1200, 2.0)], 1200)


def test_the_remembering_heading_follows_the_correlation():
    from lstm_demo.conclusions import remembering_heading
    assert remembering_heading(0.97) == remembering_heading(-0.6) == "The unit that remembers"
    assert remembering_heading(0.4).startswith("No unit clearly remembers")
    assert remembering_heading(float("nan")).startswith("No unit clearly remembers")


# --- the replay's proof line, separation, badges and measurements (issue #21's claims audit) ----------------------

@pytest.mark.parametrize("err,ok", [(0.0, True), (2.4e-7, True), (1e-4, True), (1e-3, False), (0.3, False),
                                    (float("nan"), False), (float("inf"), False)])
def test_the_replay_gets_a_tick_only_when_it_reproduces_torch_within_the_tolerance(err, ok):
    check = {"max_abs_h": err, "module": "torch.nn.LSTM", "by_layer": [[0, 0, err]]}
    words = cc.replay_verdict(check)
    assert words.startswith("✓") == ok and words.startswith("✗") == (not ok)
    assert ("reproduces" in words) == ok and "nan" not in words and "inf" not in words
    if math.isfinite(err):  # (its exponent's hyphen does not break: U+2011)
        assert f"{err:.1e}".replace("-", "\u2011") in words and "e-" not in words


def test_the_replay_line_says_what_was_compared():
    assert "|Δh|" in cc.replay_verdict({"max_abs_h": 1e-7, "module": "torch.nn.LSTM"})
    frames = cc.replay_verdict({"max_abs_h": 0.0, "module": "ConvLSTM.forward", "compared": "the predicted frames"})
    assert "|Δh|" not in frames and "in the predicted frames" in frames and "every layer" not in frames


@given(st.floats(-1, 1) | st.just(float("nan")))
def test_separates_is_said_only_for_a_clear_correlation(r):
    words = cc.separates(r, "plural", "singular subjects")
    clear = math.isfinite(r) and abs(r) > 0.4
    assert words.startswith("separates") == clear
    assert (cc.remembering_heading(r) == "The unit that remembers") == clear  # the heading above it agrees
    assert "nan" not in words
    if math.isfinite(r):
        assert f"{r:+.2f}" in words


shares = st.floats(0, 1) | st.just(float("nan"))


@given(shares, shares)
def test_a_points_badge_is_green_only_when_the_printed_model_share_is_higher(model, baseline):
    b = cc.points_badge(model, baseline, "the baseline")
    if not (math.isfinite(model) and math.isfinite(baseline)):
        assert b.colour == "gray"
        return
    shown_m, shown_b = round(100 * model), round(100 * baseline)  # as f"{x:.0%}" shows them
    assert f"{model:.0%}" == f"{shown_m}%" and f"{baseline:.0%}" == f"{shown_b}%"
    assert b.colour == ("green" if shown_m > shown_b else "red" if shown_m < shown_b else "gray")
    assert ("+0" not in b.text) and ("-0 " not in b.text)


losses = st.floats(0, 10) | st.just(float("nan"))


@given(losses, losses)
def test_a_loss_badge_is_green_only_when_the_printed_loss_is_lower(model, baseline):
    b = cc.lower_badge(model, baseline, "the bigram's")
    if not (math.isfinite(model) and math.isfinite(baseline)):
        assert b.colour == "gray"
        return
    m, base = float(f"{model:.2f}"), float(f"{baseline:.2f}")  # what the metric and the sentence print
    assert b.colour == ("green" if m < base else "red" if m > base else "gray")
    assert not re.search(r"(?<![\d.])0\.00 ", b.text) and "nan" not in b.text  # ("10.00 below" is fine)


def test_a_measurement_that_is_not_there_is_said_so_not_nan():
    assert cc.loss_text(float("nan")) == cc.loss_text(None) == "not measured yet"
    assert cc.loss_text(1.23456) == "1.2346"
    assert cc.measured(float("nan")) is None and cc.measured(None) is None and cc.measured(0.5) == 0.5
