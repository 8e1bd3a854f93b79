"""The workshop's scenes: each opens on a precomputed trace that matches its shipped model, and every number its words
quote is the model's own — checked here with the model's plain forward pass, not with the trace code."""
import numpy as np
import pytest
import torch

from lstm_demo.bundle import BUNDLES, load_bundle
from lstm_demo.kinds.sequence import scene_mask, scene_sequence
from lstm_demo.scenes import SCENES, load_scene

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
    assert views, "the precomputed scene is missing or stale: run python -m lstm_demo.cli scenes (or bundle)"
    assert 0 <= step < trace.n_steps and 0 <= facts["unit"] < trace.n_units
    words = scene.notice.format(**facts)
    assert "{" not in words
    if scene.answer is not None or scene.frames is not None:
        return family_scene_facts(scene, facts, step)
    if scene.shapes is not None:
        return caption_scene_facts(scene, facts, step, words)
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


def family_scene_facts(scene, facts, step):
    """The family's scenes: their numbers from the models' own forward passes (not the trace code)."""
    loaded = load_bundle(scene.bundle)
    model, data = loaded.model, loaded.data
    with torch.no_grad():
        if scene.answer is not None:  # encoder–decoder: greedy answer and the encoder's final cell state
            from lstm_demo.kinds.seq2seq import translate
            assert facts["answer_out"] == translate(model, data, [scene.text])[0] == scene.answer
            _, (_, c) = model.encoder(model.embed(torch.tensor(data.encode(scene.text)))[None])
            assert step == len(scene.text) and facts["c_now"] == pytest.approx(float(c[-1, 0, facts["unit"]]),
                                                                                abs=1e-4)
        elif data.kind == "frames":  # ConvLSTM: the next-frame error against copying, from the forward pass
            frames, _ = data.sequence(scene.frames)
            x = torch.from_numpy(frames)
            pred, _ = model(x[None])
            mse = ((pred[0, :-1] - x[1:]) ** 2).mean(dim=(1, 2, 3)).sum()
            copy = ((x[:-1] - x[1:]) ** 2).mean(dim=(1, 2, 3)).sum()
            assert facts["ratio"] == pytest.approx(float(copy / mse), rel=1e-4) and facts["ratio"] > 1.5
            assert facts["f_on"] < 0.5 < facts["f_off"]  # the lesson: shut on the shape, open elsewhere
        else:  # CNN-LSTM: the answer after the frame at the scene's step
            frames, label = data.sequence(scene.frames)
            logits, _ = model(torch.from_numpy(frames)[None])
            p = torch.softmax(logits[0, step], -1)
            assert facts["answer"] == str(int(p.argmax())) == facts["truth"] == str(label)
            assert facts["p_right"] == pytest.approx(float(p[label]), abs=1e-4)


def caption_scene_facts(scene, facts, step, words):
    """The captioner's scene: from the model's own greedy decoding of the picture (its batch sampler, not the trace
    code) — the word said at the step, the share of that word's attention on the named shape's pixels' grid cells,
    and the caption said against the picture's own (the grammar of captions_data, independent of the model)."""
    from lstm_demo.kinds.captions_data import END, caption, covered_cells, render
    loaded = load_bundle(scene.bundle)
    model, data = loaded.model, loaded.data
    with torch.no_grad():
        ids, attention = model.sample(torch.from_numpy(render(scene.shapes))[None])
    said = [data.vocab[i] for i in ids[0].tolist()]
    said = said[: said.index(END)] if END in said else said
    assert step == said.index(scene.at) and facts["word"] == scene.at            # it opens where it says the word
    named = [i for i, s in enumerate(scene.shapes) if scene.at in s[:3]]          # the shape the word names
    assert len(named) == 1 and facts["named"] == named[0]
    share = float(attention[0, step][torch.from_numpy(covered_cells(scene.shapes)[named[0]])].sum())
    assert facts["share"] == pytest.approx(share, abs=1e-4) and f"{share:.0%}" in words
    assert share >= 0.5, "the title says it looks at the shape its word names"
    assert facts["said"] == " ".join(said) == caption(scene.shapes) == facts["truth"]  # verified against the picture
    assert f"“{caption(scene.shapes)}” — word for word the picture's caption" in words


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
    assert load_bundle("places_bi").model.cfg.bidirectional and not load_bundle("places_uni").model.cfg.bidirectional


def test_the_distances_the_words_state_are_counted_from_the_scene_text():
    for key, expected in (("number_rides", 14), ("long_gap", 14), ("allergy", 14)):  # counted by hand
        scene = BY_KEY[key]
        facts = load_scene(scene)[1]
        assert facts["gap"] == expected and f"{expected} words" in scene.notice.format(**facts)
    fill = BY_KEY["fill_in"]
    hidden = np.flatnonzero(scene_mask(fill))
    assert fill.text[hidden[0] : hidden[-1] + 1] == "school" and fill.text.count("school") == 2
