"""The workshop's scenes: each opens on a precomputed trace that matches its shipped model, and every number its words
quote is the model's own — checked here with the model's plain forward pass, not with the trace code."""
import numpy as np
import pytest
import torch

from lstm_demo.bundle import BUNDLES, load_bundle
from lstm_demo.scenes import SCENES, load_scene, scene_mask, scene_sequence

BY_KEY = {s.key: s for s in SCENES}


def forward_prob(key: str, scene, step: int) -> tuple[float, str, str]:
    """(probability of the true character, the true character, the model's best guess) at `step` of the scene's
    text, from the bundled model's forward pass: the next character, or the hidden one for a fill-in model."""
    loaded = load_bundle(key)
    model, data = loaded.model, loaded.data
    ids = torch.as_tensor(scene_sequence(scene, data))
    with torch.no_grad():
        if model.cfg.task == "masked":
            mask = torch.as_tensor(scene_mask(scene))
            x = torch.where(mask, model.mask_id, ids[: len(mask)])
            truth = int(ids[step])
        else:
            x, truth = ids[:-1], int(ids[step + 1])
        logits, _ = model(x[None])
    p = torch.softmax(logits[0, step, : len(data.vocab)], -1)
    return float(p[truth]), data.vocab[truth], data.vocab[int(p.argmax())]


@pytest.mark.parametrize("key", list(BY_KEY))
def test_each_scene_is_precomputed_for_its_shipped_model_and_quotes_the_models_numbers(key):
    scene = BY_KEY[key]
    trace, facts, step, views = load_scene(scene)
    assert views, "the precomputed scene is missing or stale: run python -m lstm_demo.cli bundle"
    assert 0 <= step < trace.n_steps and 0 <= facts["unit"] < trace.n_units
    words = scene.notice.format(**facts)
    assert "{" not in words
    if scene.text is not None:
        p, truth, _ = forward_prob(scene.bundle, scene, step)
        assert facts["answer"] == truth and facts["p_right"] == pytest.approx(p, abs=1e-3)
        if "{p_right" in scene.notice:
            assert f"{facts['p_right']:.0%}" in words
    if scene.hide:
        assert scene.text[step] == scene.hide[0]  # the scene opens on the blank's first letter
    if scene.compare:
        p_other, _, guess = forward_prob(scene.compare, scene, step)
        assert facts["p_other"] == pytest.approx(p_other, abs=1e-3)
        if "other_guess" in facts:
            assert facts["other_guess"] in (guess, repr(guess), "·" if guess == " " else guess)  # a space shows as ·
        assert any(r["truth"] for r in facts["compare"])  # the chart marks the true character


def test_the_scenes_tell_the_tutorials_lessons():
    """What the words claim, measured on the shipped models: a short gap is easy for a plain RNN, a long one is
    not; the LSTM carries it; reading backwards fills a blank the left context cannot."""
    p = {key: forward_prob(BY_KEY[key].bundle, BY_KEY[key], load_scene(BY_KEY[key])[2])[0]
         for key in ("number_rides", "short_gap", "long_gap", "sky", "allergy", "fill_in")}
    assert p["sky"] > 0.8 and p["short_gap"] > 0.9  # a plain RNN, short gaps
    assert p["number_rides"] > 0.9 and p["long_gap"] < 0.75  # same race: the LSTM keeps it, the RNN does not
    allergy, fill = BY_KEY["allergy"], BY_KEY["fill_in"]
    rnn = forward_prob(allergy.compare, allergy, load_scene(allergy)[2])[0]
    assert p["allergy"] > 0.9 and rnn < p["allergy"] - 0.25
    uni = forward_prob(fill.compare, fill, load_scene(fill)[2])[0]
    assert p["fill_in"] > 0.5 and uni < p["fill_in"] - 0.25
    assert BUNDLES["places_bi"].bidirectional and not BUNDLES["places_uni"].bidirectional


def test_the_distances_the_words_state_are_counted_from_the_scene_text():
    for key, expected in (("number_rides", 14), ("long_gap", 14), ("allergy", 14)):  # counted by hand
        scene = BY_KEY[key]
        facts = load_scene(scene)[1]
        assert facts["gap"] == expected and f"{expected} words" in scene.notice.format(**facts)
    fill = BY_KEY["fill_in"]
    hidden = np.flatnonzero(scene_mask(fill))
    assert fill.text[hidden[0] : hidden[-1] + 1] == "school" and fill.text.count("school") == 2
