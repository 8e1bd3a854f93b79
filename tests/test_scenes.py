"""The workshop's scenes: each opens on a precomputed trace that matches its shipped model, and every number its words
quote is the model's own — checked here with the model's plain forward pass, not with the trace code."""
import numpy as np
import pytest
import torch

from lstm_demo.bundle import BUNDLES, load_bundle
from lstm_demo.kinds.sequence import scene_mask, scene_sequence
from lstm_demo.scenes import SCENES, load_scene, scene_words

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
    words = scene_words(scene, facts)
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
            assert facts["first_out"] == facts["answer_out"][0]
            _, (_, c) = model.encoder(model.embed(torch.tensor(data.encode(scene.text)))[None])
            assert step == len(scene.text) and facts["c_now"] == pytest.approx(float(c[-1, 0, facts["unit"]]),
                                                                                abs=1e-4)
        elif data.kind == "melody":
            return melody_scene_facts(scene, facts, step, model, data)
        elif data.kind == "frames":  # ConvLSTM: the next-frame error against copying, from the forward pass
            frames, _ = data.sequence(scene.frames)
            x = torch.from_numpy(frames)
            pred, _ = model(x[None])
            mse = ((pred[0, :-1] - x[1:]) ** 2).mean(dim=(1, 2, 3)).sum()
            copy = ((x[:-1] - x[1:]) ** 2).mean(dim=(1, 2, 3)).sum()
            assert facts["ratio"] == pytest.approx(float(copy / mse), rel=1e-4) and facts["ratio"] > 1.5
            assert facts["f_on"] < 0.5 < facts["f_off"]  # the lesson: shut on the shape, open elsewhere
            assert f"the model's error is {facts['ratio']:.3g}× smaller" in facts["vs_copy"]
        else:  # CNN-LSTM: the answer after the frame at the scene's step
            frames, label = data.sequence(scene.frames)
            logits, _ = model(torch.from_numpy(frames)[None])
            p = torch.softmax(logits[0, step], -1)
            assert facts["answer"] == str(int(p.argmax())) == facts["truth"] == str(label)
            assert facts["p_right"] == pytest.approx(float(p[label]), abs=1e-4)
            first = torch.softmax(logits[0, 0], -1)
            said = f"After the first frame (frame 0) it answers {int(first.argmax())} ({float(first.max()):.0%})"
            assert facts["remembers"].startswith(said)
            kept_right = int(first.argmax()) == int(p.argmax()) == label
            assert ("what it saw first was kept" in facts["remembers"]) == kept_right == (facts["kept"] == "right")


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
        assert facts["gap"] == expected and f"{expected} words" in scene_words(scene, facts)
    fill = BY_KEY["fill_in"]
    hidden = np.flatnonzero(scene_mask(fill))
    assert fill.text[hidden[0] : hidden[-1] + 1] == "school" and fill.text.count("school") == 2


def _states_by_torch(key: str, scene) -> tuple[np.ndarray, np.ndarray]:
    """(h, c) of the bundled model's first layer at every step of the scene's text, from torch.nn.LSTM stepped one
    character at a time (its own (h_n, c_n) after each step), not from the app's replay."""
    loaded = load_bundle(key)
    model, data = loaded.model, loaded.data
    ids = torch.as_tensor(scene_sequence(scene, data))[:-1]
    x = model.encoder(ids[None])                                   # (1, T, E)
    hs, cs, state = [], [], None
    with torch.no_grad():
        for t in range(x.shape[1]):
            _, state = model.rnn(x[:, t : t + 1], state)
            hs.append(state[0][0, 0].numpy().copy())
            cs.append(state[1][0, 0].numpy().copy())
    return np.array(hs), np.array(cs)


@pytest.mark.parametrize("key", ["number_rides", "allergy"])
def test_the_unit_the_words_name_takes_note_at_the_clue_and_holds_it_in_the_picture(key):
    """Scenes 2 and 8 say the unit's hidden state (the colour of their text) switched at the clue word and held it to
    the verb: on torch's own numbers, its largest change up to the scene's step is made while reading the clue, and
    from there to the step it keeps one sign at at least half the colour scale (h: −1…1)."""
    scene = BY_KEY[key]
    _, facts, step, _ = load_scene(scene)
    assert scene.colour == "hidden_state"
    h, c = _states_by_torch(scene.bundle, scene)
    v = h[: step + 1, facts["unit"]]
    start = scene.text.index(scene.gap[0])
    end = start + len(scene.gap[0])
    jumps = np.abs(np.diff(v))
    assert start <= int(np.argmax(jumps)) + 1 < end, (np.argmax(jumps), start, end)
    held = v[end:]
    assert (np.abs(held) >= 0.5).all() and len(set(np.sign(held))) == 1
    words = scene_words(scene, facts)
    assert f"switched at “{scene.gap[0]}” and held it all the way to {scene.until}" in words
    assert f"h = {v[-1]:+.2f}".replace("-", "−") in words  # (the words print a true minus, as the charts do)
    # the belt behind it: the cell state keeps the sign the words say, and grows past where tanh saturates
    cc = c[end - 1 : step + 1, facts["unit"]]
    assert len(set(np.sign(cc))) == 1 and abs(cc[-1]) > 3 and f"c = {cc[-1]:+.1f}" in words


def test_the_quote_unit_changes_colour_at_as_many_quote_marks_as_the_words_say():
    scene = BY_KEY["quotes"]
    _, facts, step, _ = load_scene(scene)
    _, c = _states_by_torch(scene.bundle, scene)
    v = c[:, facts["unit"]]
    quotes = [i for i, ch in enumerate(scene.text[: len(v)]) if ch == '"']
    sign = np.sign(facts["r"])
    moved = sum((v[i] - v[i - 1]) * (sign if n % 2 == 0 else -sign) >= 0.25 * np.abs(v).max()
                for n, i in enumerate(quotes))
    words = scene_words(scene, facts)
    assert (f"changes at {moved} of the {len(quotes)} quote marks" in words) or \
        (moved == len(quotes) and "changes at every quote mark" in words)
    assert moved >= len(quotes) // 2  # the lesson: it mostly follows the quotes


def test_the_forget_gate_scene_says_drop_and_shut_only_as_the_gate_does():
    scene = BY_KEY["sentence_end"]
    _, facts, step, _ = load_scene(scene)
    words = scene_words(scene, facts)
    from lstm_demo.scenes import drop_words
    f_prev, f_now = 0.9, 0.05
    assert "drops to 0.05" in drop_words(np.array([0.9, f_prev, f_now]), 2) and "shuts" in drop_words(
        np.array([0.9, f_prev, f_now]), 2)
    assert "drops" not in drop_words(np.array([0.1, 0.05, 0.1]), 2)          # rising to 0.10: not a drop
    assert "shuts" not in drop_words(np.array([0.9, 0.9, 0.6]), 2)           # 0.6 is not shut
    assert "does not close" in drop_words(np.array([0.5, 0.5, 0.95]), 2)
    assert f"{facts['f_now']:.2f}" in words and ("shuts" in words) == (facts["f_now"] < 0.2)


def test_held_and_belt_words_are_true_in_each_case():
    from lstm_demo.scenes import belt_words, held_words, holds
    jump_and_hold = np.r_[np.zeros(5), np.full(10, 0.9)]
    fade = np.r_[np.zeros(5), np.linspace(0.9, 0.0, 10)]
    ramp = np.linspace(-0.9, 0.9, 15)
    assert holds(jump_and_hold, (4, 7), 1.0) == {"took_note": True, "carried": True}
    assert holds(fade, (4, 7), 1.0) == {"took_note": True, "carried": False}
    assert holds(ramp, (4, 7), 1.0)["took_note"] is False
    assert "switched at “cats” and held it" in held_words(True, True, "cats", "the verb")
    assert "did not hold it" in held_words(True, False, "cats", "the verb")
    assert "largest change came elsewhere" in held_words(False, True, "cats", "the verb")
    assert "no clear note" in held_words(False, False, "cats", "the verb")
    grows = belt_words(np.r_[0.1, 0.5, np.linspace(1, 20, 10)], 1.0, (0, 2))
    assert "grows to c = +20.0" in grows and "full strength" in grows
    assert "full strength" not in belt_words(np.r_[0.1, 0.5, np.linspace(1, 20, 10)], 0.4, (0, 2))  # h is not ±1
    assert belt_words(np.r_[0.1, 0.5, -0.2, 2.0], 1.0, (0, 2)) == ""        # changes sign: no claim
    assert "ends at c = +0.5" in belt_words(np.r_[0.1, 1.0, 0.8, 0.5], 0.4, (0, 2))


def _cell_states(model, ids) -> np.ndarray:
    """c of the first layer after every token, from nn.LSTM itself fed one token at a time: (T, H)."""
    emb, state, out = model.encoder(torch.as_tensor(ids)), None, []
    for t in range(len(ids)):
        _, state = model.rnn(emb[t : t + 1][None], state)
        out.append(state[1][0, 0].numpy())
    return np.array(out)


def _bar_positions(data, ids) -> np.ndarray:
    """Each token's place in its bar (0 … 1) from the tune's own notes (music.Note.bar_pos), 0 for other tokens."""
    from lstm_demo.kinds import music
    tokens = data.tokens_of(ids)
    metre, notes = music.tokens_to_notes(tokens)
    places, k = np.zeros(len(ids)), 0
    for t, token in enumerate(tokens):
        if token[0] == "note":
            places[t] = notes[k].bar_pos / metre.bar_ticks
            k += 1
    return places


def melody_scene_facts(scene, facts, step, model, data):
    """The melody scene: the unit, its correlations and its cell state at the bar lines, from nn.LSTM's own cell
    states and bar positions read from the tunes' notes (neither the trace nor the finder's code)."""
    tunes = [ids[:257] for ids in data.val_sequences()]
    states = [_cell_states(model, ids[:-1]) for ids in tunes]
    signal = np.concatenate([_bar_positions(data, ids[:-1]) for ids in tunes])
    values = np.concatenate(states)
    r_all = np.array([np.corrcoef(values[:, u], signal)[0, 1] for u in range(values.shape[1])])
    unit = facts["unit"]
    assert unit == int(np.argmax(np.abs(r_all))) and facts["r_all"] == pytest.approx(r_all[unit], abs=1e-4)
    assert facts["tunes"] == len(tunes)
    ids = tunes[scene.frames][:129]
    c = _cell_states(model, ids[:-1])[:, unit]
    assert facts["r"] == pytest.approx(np.corrcoef(c, _bar_positions(data, ids[:-1]))[0, 1], abs=1e-4)
    names = data.decode(ids[:-1])
    bars = [t for t, n in enumerate(names) if n == "bar |"]
    pitched = lambda t: 0 <= t < len(names) and names[t][0] in "ABCDEFG"  # noqa: E731
    assert facts["bars"] == len(bars)
    assert facts["c_bar_low"] == pytest.approx(c[bars].min(), abs=1e-4)
    assert facts["c_bar_high"] == pytest.approx(c[bars].max(), abs=1e-4)
    assert facts["c_first"] == pytest.approx(c[[t + 1 for t in bars if pitched(t + 1)]].mean(), abs=1e-4)
    assert facts["c_last"] == pytest.approx(c[[t - 1 for t in bars if pitched(t - 1)]].mean(), abs=1e-4)
    assert facts["c_now"] == pytest.approx(c[step], abs=1e-4)
    # the lesson the words draw: the count resets at each bar line and rises through the bar
    assert facts["c_bar_high"] < facts["c_first"] < facts["c_last"] and facts["r"] > 0.5 and facts["r_all"] > 0.5


# --- a scene's title, model line, unit and words are claims (issue #21's claims audit) -----------------------------

from lstm_demo.scenes import (clue_distance, copes, counts_bar, drop_level, model_line, scene_title,  # noqa: E402
                              unit_help, washed_out)

VERDICT_TITLES = {"sentence_end", "number_rides", "quotes", "sine", "short_gap", "long_gap", "sky", "first_digit",
                  "handover", "captions_gaze", "bar_counter"}  # the others name a topic, not a verdict


def _title_holds(key, facts, step, trace) -> bool:
    """Each verdict title's claim, measured here from the trace and the facts checked above against the models'
    forward passes (not through the scenes' predicates)."""
    if key == "sentence_end":
        return facts["f_now"] < 0.2                                # the gate shuts
    if key == "number_rides":                                      # took note at "cats" and carried it (h, −1…1)
        v = trace.get("hidden_state")[: step + 1, facts["unit"]]
        span = BY_KEY[key].text.index("cats"), BY_KEY[key].text.index("cats") + 4
        jumps = np.abs(np.diff(v))
        return span[0] <= int(np.argmax(jumps)) + 1 < span[1] and (np.abs(v[span[1]:]) >= 0.5).all()
    if key in ("quotes", "sine"):
        return abs(facts["r"]) > 0.4
    if key in ("short_gap", "sky"):
        return facts["p_right"] > 0.5
    if key == "long_gap":
        return facts["p_right"] < 0.75
    if key == "first_digit":
        return facts["answer"] == facts["truth"] and "stayed the same" in facts["remembers"]
    if key == "handover":
        return facts["answer_out"] == scene_answer(key)
    if key == "captions_gaze":
        return facts["share"] > 0.5
    if key == "bar_counter":
        return facts["r_all"] > 0.4 and facts["c_bar_high"] < facts["c_first"] < facts["c_last"]


def scene_answer(key):
    return BY_KEY[key].answer


@pytest.mark.parametrize("key", list(BY_KEY))
def test_each_scenes_title_is_true_of_its_shipped_model(key):
    scene = BY_KEY[key]
    trace, facts, step, _ = load_scene(scene)
    title = scene_title(scene, facts)
    assert "{" not in title
    if key in VERDICT_TITLES:
        assert _title_holds(key, facts, step, trace), "the shipped model no longer shows the title's lesson"
        assert title == scene.title.format(**facts)
    else:
        assert title == scene.title


OPPOSITE = {  # facts that contradict each verdict title, and what its title must then not say
    "sentence_end": ({"f_now": 0.6, "f_mean": 0.8}, "closes at a"),
    "number_rides": ({"took_note": True, "carried": False}, "rides"),
    "quotes": ({"r": 0.3}, "A unit that knows"),
    "sine": ({"r": -0.2}, "A unit knows"),
    "short_gap": ({"p_right": 0.3}, "copes"),
    "long_gap": ({"p_right": 0.9}, "forgets"),
    "sky": ({"p_right": 0.5}, "can do this"),
    "first_digit": ({"kept": "misread"}, "remembers"),
    "handover": ({"answer_out": "78"}, "the whole number"),
    "captions_gaze": ({"share": 0.3}, "looks at the"),
    "bar_counter": ({"c_first": 1.5}, "A unit that counts"),
}


@pytest.mark.parametrize("key", sorted(VERDICT_TITLES))
def test_a_verdict_title_gives_way_when_the_numbers_say_otherwise(key):
    scene = BY_KEY[key]
    facts = {**load_scene(scene)[1]}
    changed, claim = OPPOSITE[key]
    title = scene_title(scene, {**facts, **changed})
    assert claim not in title and "{" not in title
    assert scene_title(scene, facts) != title


def test_the_forget_title_has_the_words_three_levels():
    scene = BY_KEY["sentence_end"]
    f = np.array([0.9, 0.9, 0.5])
    for now, level, said in ((0.05, "shut", "closes at"), (0.5, "partway", "closes partway"), (0.95, "open",
                                                                                                  "stays open")):
        mean = 0.7
        assert drop_level(now, mean) == level and said in scene_title(scene, {"f_now": now, "f_mean": mean})
    from lstm_demo.scenes import drop_words
    assert "shuts" in drop_words(np.r_[f[:2], 0.05], 2) and "partway" in drop_words(np.r_[f[:2], 0.5], 2)
    assert copes(0.51) and not copes(0.5) and washed_out(0.74) and not washed_out(0.75)
    assert not counts_bar({"r_all": 0.9, "c_bar_high": 0.0, "c_first": 0.5, "c_last": 0.4})   # not rising


@pytest.mark.parametrize("key", list(BY_KEY))
def test_each_scene_says_how_its_model_was_trained_from_the_models_file(key):
    from lstm_demo.bundle import provenance
    scene = BY_KEY[key]
    facts = load_scene(scene)[1]
    assert facts["provenance"] == provenance(scene.bundle)
    line = model_line(scene, facts)
    assert provenance(scene.bundle) in line and "app's defaults" not in line
    if scene.compare:
        assert facts["compare_provenance"] == provenance(scene.compare) and provenance(scene.compare) in line


def test_the_handover_heading_and_words_name_the_same_character():
    """Scene 12: the step heading (the kind's caption at the scene's step) and the words both name what the decoder
    writes at the hand-over — its first character, not the whole answer."""
    from lstm_demo.kinds import KINDS
    scene = BY_KEY["handover"]
    trace, facts, step, _ = load_scene(scene)
    heading = KINDS[trace.kind].captions(trace)[step]
    words = scene_words(scene, facts)
    assert f"emits '{facts['first_out']}'" in heading and f"it writes “{facts['first_out']}” here" in words
    assert f"its whole answer: “{facts['answer_out']}”" in words and len(facts["first_out"]) == 1
    past = KINDS[trace.kind].captions(_trace_with(trace, emitted=trace.extras["emitted"][:1]))
    assert "emits nothing (its answer ended)" in past[-1] and "?" not in past[-1]


def _trace_with(trace, **extras):
    import copy
    t = copy.copy(trace)
    t.extras = {**trace.extras, **extras}
    return t


def test_the_sky_scene_counts_the_characters_between_clue_and_blank():
    scene = BY_KEY["sky"]
    _, facts, step, _ = load_scene(scene)
    assert scene.text[step + 1] == "b" and scene.text[step - 6 : step + 1] == "sky is "   # counted by hand: " is "
    assert facts["clue_chars"] == 4 == clue_distance(scene.text, "sky", step)
    assert "Only 4 characters stand between the clue, “sky”, and the blank" in scene_words(scene, facts)
    assert clue_distance("the sky is blue", "sky", 10) == 4 and clue_distance("sky.blue", "sky", 3) == 1


@pytest.mark.parametrize("key", ["number_rides", "allergy"])
def test_the_memory_scenes_say_separates_on_the_finders_bar_with_the_counted_sentences(key):
    scene = BY_KEY[key]
    facts = load_scene(scene)[1]
    words = scene_words(scene, facts)
    assert facts["n_examples"] == 128 and f"Over {128} test" in words.replace("Across", "Over")
    assert (" it separates " in words) == (abs(facts["r"]) > 0.4)
    assert f"correlation {facts['r']:+.2f}" in words


def test_the_bar_counters_words_say_keeps_count_only_when_the_numbers_count():
    scene = BY_KEY["bar_counter"]
    facts = load_scene(scene)[1]
    assert ("keeps count:" in scene_words(scene, facts)) == counts_bar(facts)


@pytest.mark.parametrize("key", list(BY_KEY))
def test_the_unit_selectors_help_gives_the_scenes_own_reason_and_it_holds(key):
    """The help says why the scene opens on its unit; checked here on the trace where the rule is the trace's."""
    scene = BY_KEY[key]
    trace, facts, step, _ = load_scene(scene)
    help_ = unit_help(("scene", key))
    assert help_.startswith("This scene starts on") and "varies most" not in unit_help(("scene", "quotes"))
    unit = facts["unit"]
    if scene.unit_rule == "busiest" and not scene.unit_why and trace.kind in ("text", "digits", "captions"):
        state = "cell_state" if "cell_state" in trace.names else "hidden_state"
        assert "varies most" in help_
        assert unit == int(np.argmax(trace.get(state, 0, scene.direction).std(0)))
    if scene.unit_rule == "forget_drop":
        f = trace.get("forget_gate")
        assert "forget gate" in help_ and unit == int(np.argmin(f[step] - f.mean(0)))
    if scene.unit_rule.startswith("finder:") and not scene.unit_why:
        state = "cell_state" if "cell_state" in trace.names else "hidden_state"
        from lstm_demo.explain import hypothesis_signal
        signal = hypothesis_signal(scene.unit_rule.split(":", 1)[1], trace)
        values = trace.get(state)
        r = [abs(np.corrcoef(values[:, u], signal)[0, 1]) for u in range(values.shape[1])]
        assert "follows" in help_ and unit == int(np.nanargmax(r))
    if key == "handover":
        (_, _, S), _ = trace.segments
        c = trace.get("cell_state", trace.n_layers - 1)[S - 1]
        assert "largest |c|" in help_ and unit == int(np.argmax(np.abs(c)))


def test_the_scenes_words_print_numbers_with_a_true_minus_as_the_charts_do():
    import re

    from lstm_demo.scenes import scene_words
    scene = next(s for s in SCENES if "{" in s.notice)
    fields = re.findall(r"\{(\w+)", scene.notice)
    facts = {f: -0.8 for f in fields}
    words = scene_words(scene, facts)
    assert "−0.8" in words and "-0.8" not in words
    assert scene_words(scene, {f: "x-y" for f in fields}).count("x-y") == len(fields)  # words keep their hyphens
