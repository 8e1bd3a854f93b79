"""What a model predicts: sampled text and one-step forecasts, checked against direct computations."""
import numpy as np
import pytest
import torch

from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData
from lstm_demo.kinds.series_data import load_series_preset
from lstm_demo.models import build_model
from lstm_demo.predict import forecast_validation, generate_text

TEXT = TextData("the cat was full. the cats were full. " * 10)


def test_generated_text_has_the_length_asked_uses_the_vocabulary_and_follows_the_seed():
    model = build_model(ModelConfig("text", vocab_size=len(TEXT.vocab), hidden_size=8), seed=1)
    a = generate_text(model, TEXT, "the ca", 50, 0.8, seed=3)
    assert len(a) == 50 and set(a) <= set(TEXT.vocab)
    assert a == generate_text(model, TEXT, "the ca", 50, 0.8, seed=3) != generate_text(model, TEXT, "the ca", 50,
                                                                                        0.8, seed=4)


def test_a_cold_temperature_samples_the_greedy_continuation():
    """Reference: re-run the model on the whole growing prefix and take the argmax each time."""
    model = build_model(ModelConfig("text", vocab_size=len(TEXT.vocab), hidden_size=8), seed=2)
    out = generate_text(model, TEXT, "the ", 20, temperature=1e-6, seed=0)
    ids = list(TEXT.encode("the "))
    with torch.no_grad():
        for _ in range(20):
            logits, _ = model(torch.tensor([ids]))
            ids.append(int(logits[0, -1].argmax()))
    assert out == TEXT.decode(ids[4:])


def test_forecast_is_one_step_ahead_in_original_units_at_the_right_points():
    data = load_series_preset("seattle_daily")
    model = build_model(ModelConfig("series", hidden_size=6), seed=0)
    index, actual, predicted = forecast_validation(model, data, seq_len=32, max_points=100)
    assert len(index) == len(actual) == len(predicted) == 99
    assert np.allclose(actual, data.values[index], atol=1e-3)  # the truth at each index, in °C
    train, val = data.parts(32)
    with torch.no_grad():  # prediction for point index[k] from the validation points before it
        direct = data.denorm(model(val[None, :99])[0][0, :, 0].numpy())
    assert np.allclose(predicted, direct, atol=1e-4)
    assert index[0] == len(train) + 1


# --- forecasts judged against naive baselines ---------------------------------------------------------------------

def test_baseline_errors_equal_a_direct_computation():
    from lstm_demo.predict import judge, seasonal_period
    rng = np.random.default_rng(3)
    t = np.arange(900)
    values = np.sin(2 * np.pi * t / 30) + 0.1 * rng.standard_normal(900)
    assert seasonal_period(values[:800]) == 30
    index = np.arange(800, 900)
    predicted = values[index] + 0.05
    scores = judge(values, index, predicted, 30)
    last = np.mean([(values[i - 1] - values[i]) ** 2 for i in index])           # "repeat the last value"
    season = np.mean([(values[i - 30] - values[i]) ** 2 for i in index])        # "repeat last season"
    assert scores["last value"] == pytest.approx(last) and scores["last season"] == pytest.approx(season)
    assert scores["model"] == pytest.approx(0.05 ** 2)
    assert scores["scale"] == pytest.approx(np.mean(values[index] ** 2))


def test_no_season_in_a_random_walk_or_noise():
    from lstm_demo.predict import seasonal_period
    rng = np.random.default_rng(0)
    assert seasonal_period(rng.standard_normal(3000).cumsum()) is None
    assert seasonal_period(rng.standard_normal(3000)) is None


def test_judged_forecast_on_a_preset_names_its_season_and_baselines():
    from lstm_demo.predict import judged_forecast
    data = load_series_preset("seattle_hourly")
    model = build_model(ModelConfig("series", hidden_size=4), seed=0)
    judged = judged_forecast(model, data, seq_len=32, max_points=200)
    assert judged["scores"]["period"] == 24                                       # a daily cycle in hourly data
    idx = judged["index"]
    assert np.allclose(judged["baselines"]["repeat the last value"], data.values[idx - 1])
    assert np.allclose(judged["baselines"]["repeat last season"], data.values[idx - 24])


def test_rollout_feeds_the_model_its_own_predictions():
    """Reference: a plain loop that appends each prediction to the input and runs the whole sequence again."""
    from lstm_demo.predict import rollout
    data = load_series_preset("sine")
    model = build_model(ModelConfig("series", hidden_size=6), seed=2)
    seq = data.normed[:60]
    res = rollout(model, data, seq, start=20, horizon=8)
    history = seq[:21].clone()
    expect = []
    with torch.no_grad():
        for _ in range(8):
            nxt = model(history[None])[0][0, -1:]            # (1, 1): the prediction after the last input
            expect.append(float(nxt[0, 0]))
            history = torch.cat([history, nxt])
        forced = model(seq[None, :28])[0][0, 20:28, 0]
    assert np.allclose(res["free"], data.denorm(expect), atol=1e-5)
    assert np.allclose(res["forced"], data.denorm(forced.numpy()), atol=1e-5)
    assert np.allclose(res["actual"], data.values[21:29], atol=1e-4)
    assert res["free"][0] == pytest.approx(res["forced"][0])  # one step ahead, both saw only the truth


def test_judged_steps_start_one_season_in_when_the_range_allows():
    from lstm_demo.predict import judged_steps
    assert judged_steps(100, 50)[0] == 50 and judged_steps(100, 50)[-1] == 99
    assert judged_steps(55, 50)[0] == 1          # too few steps after one season: the season is not judged
    assert judged_steps(100, None)[0] == 1


def test_the_fill_in_heading_counts_what_its_mask_hides():
    """Masking is random per character (or word): the heading counts the shown mask instead of saying "15 %"."""
    from lstm_demo.predict import blanks_heading
    data = TextData("the cats were here. the dog was there. " * 3)
    text = "the cats were here."
    ids = torch.as_tensor(data.encode(text))
    mask = np.zeros(len(ids), dtype=bool)
    mask[4:8] = True                      # "cats"
    mask[14:18] = True                    # "here"
    words = blanks_heading(data, ids, mask, "words", 0.5)
    assert "8 of its 19 characters hidden (▮, in 2 words)" in words and "right on 50%" in words
    chars = blanks_heading(data, ids, mask, "chars", 0.25)
    assert "8 of its 19 characters hidden (▮)" in chars and "words" not in chars and "15 %" not in chars
    mask[3] = True                        # a hidden space joins the run but is not a word of its own
    assert "in 2 words" in blanks_heading(data, ids, mask, "words", 0.5)
    none = blanks_heading(data, ids, np.zeros(len(ids), dtype=bool), "chars", float("nan"))
    assert "0 of its 19" in none and "nothing hidden" in none and "nan" not in none
    tokens = TextData("the cats were here . the dog was there . " * 3, tokens="words")
    ids = torch.as_tensor(tokens.encode("the cats were here ."))
    said = blanks_heading(tokens, ids, np.array([False, True, False, True, False]), "words", 1.0)
    assert "2 of its 5 words hidden (▮)" in said and "right on 100% of the hidden words" in said
