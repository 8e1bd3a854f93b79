"""What a model predicts: sampled text and one-step forecasts, checked against direct computations."""
import numpy as np
import torch

from lstm_demo.config import ModelConfig
from lstm_demo.data import TextData, load_series_preset
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
