"""The captioner (pictures of shapes -> an LSTM with soft attention describes them): the pictures and their grammar,
the held-out split, the decoder's trace against the model's own forward pass and an nn.LSTMCell stepped by hand
(teacher-forced and greedy), the attention, the scores, and bad input."""
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lstm_demo.kinds.captioner import (Captioner, CaptionerConfig, attention_on_named, baselines, build_captioner,
                                 caption_loss, check_fits, expected_shapes, greedy_captions, score, trace_caption)
from lstm_demo.config import ConfigError, DataError
from lstm_demo.trace_data import Trace
from lstm_demo.kinds.captions_data import (COLOURS, END, PICTURE, SHAPES, SIZES, START, CaptionData, Shape, caption,
                                     caption_words, check_layout, check_recipe, covered_cells, held_out, layout_key,
                                     render)

SCENE = [("circle", "red", "small", 2, 4), ("square", "blue", "big", 18, 12)]


@pytest.fixture(scope="module")
def data():
    return CaptionData(max_shapes=3, seed=0)


def _model(data, attention=True, seed=0):
    """A tiny captioner with large random weights, so every gate and the attention move visibly."""
    cfg = CaptionerConfig(vocab_size=len(data.vocab), conv_channels=3, embed_size=5, hidden_size=7,
                          attention_size=6, attention=attention, max_words=data.max_words + 1)
    model = build_captioner(cfg, seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 1.5)
    return model.eval()


# --- the pictures and the grammar -----------------------------------------------------------------------------------

def _parse(text: str):
    """An independent reader of the grammar: -> (relation word or None, [(size, colour, shape)] in mention order)."""
    words = text.split()
    phrases, relations = [], set()
    i = 0
    while i < len(words):
        assert words[i] == "a", text
        phrases.append(tuple(words[i + 1 : i + 4]))
        i += 4
        if i < len(words):
            rel = "left of" if words[i] == "left" else words[i]
            assert rel in ("left of", "above"), text
            relations.add(rel)
            i += 2 if rel == "left of" else 1
    assert len(relations) <= 1, text
    return (relations.pop() if relations else None), phrases


@st.composite
def shape_st(draw):
    size = draw(st.sampled_from(list(SIZES)))
    corner = st.integers(0, PICTURE - SIZES[size])
    return (draw(st.sampled_from(SHAPES)), draw(st.sampled_from(list(COLOURS))), size, draw(corner), draw(corner))



@settings(max_examples=150, deadline=None)
@given(st.lists(shape_st(), min_size=1, max_size=3))
def test_any_valid_layout_renders_in_range_and_its_caption_names_it(items):
    try:
        layout = check_layout(items)
    except DataError:
        assume(False)  # overlapping: the next test shows these are refused
    picture = render(layout)
    assert picture.dtype == np.float32 and picture.shape == (3, PICTURE, PICTURE)
    assert picture.min() >= 0 and picture.max() <= 1
    relation, phrases = _parse(caption(layout))
    assert sorted(phrases) == sorted((s.size, s.colour, s.shape) for s in layout)
    # every shape's colour is drawn inside its own box, and nothing is drawn outside the boxes
    inside = np.zeros((PICTURE, PICTURE), dtype=bool)
    for s in layout:
        box = picture[:, s.y : s.y + s.side, s.x : s.x + s.side].reshape(3, -1)
        assert np.isclose(box.T, COLOURS[s.colour], atol=1e-6).all(-1).any()
        inside[s.y : s.y + s.side, s.x : s.x + s.side] = True
    assert picture[:, ~inside].max(initial=0) == 0
    # the relation is true of the shapes in the order they are named
    if len(layout) > 1:
        remaining = list(layout)
        named = []
        for p in phrases:  # match phrases to shapes (identical phrases: any order along the axis is the same)
            match = [s for s in remaining if (s.size, s.colour, s.shape) == p]
            key = (lambda s: s.centre[0]) if relation == "left of" else (lambda s: s.centre[1])
            pick = min(match, key=key)
            named.append(pick)
            remaining.remove(pick)
        along = [s.centre[0] if relation == "left of" else s.centre[1] for s in named]
        assert along == sorted(along)
        xs, ys = [s.centre[0] for s in layout], [s.centre[1] for s in layout]
        assert (max(xs) - min(xs) >= max(ys) - min(ys)) == (relation == "left of")


def test_impossible_layouts_get_a_message():
    cases = [([("circle", "red", "small", 2, 4), ("square", "blue", "big", 5, 6)], "overlaps"),
             ([("circle", "red", "big", 25, 0)], "sticks out"),
             ([("circle", "red", "small", -1, 0)], "sticks out"),
             ([("hexagon", "red", "small", 0, 0)], "shape must be one of"),
             ([("circle", "purple", "small", 0, 0)], "colour must be one of"),
             ([("circle", "red", "huge", 0, 0)], "size must be one of"),
             ([("circle", "red", "small", float("nan"), 0)], "finite"),
             ([("circle", "red", "small", 1e300, 0)], "pixels"),
             ([("circle", "red", "small", "3", 0)], "number of pixels"),
             ([("circle", "red", "small", 0, 0)] * 4, "1 to 3 shapes"),
             ([], "1 to 3 shapes"),
             ("a red circle", "list of shapes"),
             ([{"shape": "circle", "colour": "red", "size": "small", "x": 0}], "lacks its y"),
             ([{"shape": "circle", "colour": "red", "size": "small", "x": 0, "y": 0, "z": 1}], "does not know"),
             ([("circle", "red")], "must be (shape, colour, size, x, y)")]
    for layout, message in cases:
        with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
            check_layout(layout)
    dicts = [dict(zip(Shape._fields, s)) for s in SCENE]
    assert check_layout(dicts) == check_layout(SCENE)  # the editor's dicts work as tuples do
    assert caption(SCENE) == "a small red circle left of a big blue square"


def test_covered_cells_are_the_cells_with_the_shapes_pixels():
    cells = covered_cells([("square", "red", "small", 0, 0), ("square", "blue", "small", 12, 20)])
    want0 = np.zeros(16, bool)
    want0[0] = True                                      # 8×8 at the corner: exactly cell (0, 0)
    want1 = np.zeros(16, bool)
    want1[[2 * 4 + 1, 2 * 4 + 2, 3 * 4 + 1, 3 * 4 + 2]] = True  # columns 12-19, rows 20-27: cells (2..3, 1..2)
    assert (cells[0] == want0).all() and (cells[1] == want1).all()


# --- the data object: recipe, vocabulary, held-out split -------------------------------------------------------------

def test_the_recipe_rebuilds_the_data_and_the_held_out_set_is_never_trained_on(data):
    again = CaptionData.from_recipe(data.recipe)
    assert again.val_captions == data.val_captions and np.array_equal(again.val_images, data.val_images)
    assert all(held_out(s, data.seed) for s in data.val_layouts)
    val_keys = {layout_key(s, data.seed) for s in data.val_layouts}
    val_pictures = {p.tobytes() for p in data.val_images}
    for seed in range(3):
        layouts = data.train_layouts(512, seed)
        assert not {layout_key(s, data.seed) for s in layouts} & val_keys
        images, words_in, targets = data.tensors(layouts)
        assert not {p.numpy().tobytes() for p in images} & val_pictures
    # fresh pictures every call, the same ones for the same seed
    a, b = data.train_batch(8, 1), data.train_batch(8, 2)
    assert not torch.equal(a[0], b[0]) and torch.equal(a[0], data.train_batch(8, 1)[0])
    # the tensors: <start> + words, and words + <end> with -100 past the end
    images, words_in, targets = data.tensors([check_layout(SCENE)])
    assert data.decode(words_in[0]) == caption(SCENE) == data.decode(targets[0][targets[0] >= 0])
    assert words_in[0, 0] == data.stoi[START] and targets[0, -1] == data.stoi[END]
    assert torch.equal(images[0], torch.from_numpy(render(SCENE)))
    assert len(data.vocab) <= 256 and data.max_words == 16 and len(data.val_layouts) == 256


def test_hostile_recipes_are_refused(data):
    for recipe, message in [({"max_shapes": 10**9, "seed": 0}, "shapes per picture"),
                            ({"max_shapes": "3", "seed": 0}, "shapes per picture"),
                            ({"max_shapes": True, "seed": 0}, "shapes per picture"),
                            ({"max_shapes": 3, "seed": -1}, "seed"),
                            ({"max_shapes": 3, "seed": 0, "picture": 100_000}, "exactly"),
                            ({"max_shapes": 3}, "exactly"),
                            ([3, 0], "exactly")]:
        with pytest.raises(DataError, match=message):
            CaptionData.from_recipe(recipe)
    assert check_recipe({"seed": 4, "max_shapes": 2}) == {"max_shapes": 2, "seed": 4}
    with pytest.raises(DataError, match="outside the vocabulary"):
        data.encode("a small purple circle")
    with pytest.raises(DataError, match="at most 16"):
        data.encode("a " * 17)


def test_hostile_configs_are_refused(data):
    good = CaptionerConfig(vocab_size=len(data.vocab))
    for change, message in [(dict(picture=4096), "picture size"), (dict(picture=36), "multiple of 8"),
                            (dict(vocab_size=10**6), "vocab size"), (dict(attention="false"), "attention"),
                            (dict(attention=0), "attention"), (dict(hidden_size=True), "hidden size"),
                            (dict(hidden_size=2.5), "hidden size"), (dict(conv_channels=10**4), "convolution maps"),
                            (dict(max_words=10**9), "caption length")]:
        with pytest.raises(ConfigError, match=message):
            CaptionerConfig(**{**good.__dict__, **change}).validate()
    with pytest.raises(ConfigError, match="words"):
        check_fits(CaptionerConfig(vocab_size=len(data.vocab) + 1), data)
    with pytest.raises(ConfigError, match="pictures"):
        check_fits(CaptionerConfig(vocab_size=len(data.vocab), picture=16), data)
    # an attention flag that does not match the weights: the two variants hold different tensors, so a file's
    # tensors are refused by name before any weight is read (expected_shapes allocates nothing)
    with_att = expected_shapes(good)
    without = expected_shapes(CaptionerConfig(vocab_size=len(data.vocab), attention=False))
    assert set(with_att) - set(without) == {"att_grid.weight", "att_grid.bias", "att_hidden.weight",
                                            "att_score.weight", "att_score.bias"}
    assert with_att["decoder.weight_ih"] != without["decoder.weight_ih"]
    assert with_att == {k: tuple(v.shape) for k, v in Captioner(good).state_dict().items()}


# --- the trace against torch ------------------------------------------------------------------------------------------

def _by_hand(model, image, read):
    """The decoder stepped by hand with torch's own nn.LSTMCell (a fresh copy of the weights) and the attention
    written out from its equation: e_i = v · tanh(W_g g_i + W_h h), a = softmax(e), z = sum a_i g_i."""
    cell = torch.nn.LSTMCell(model.decoder.input_size, model.decoder.hidden_size)
    cell.load_state_dict(model.decoder.state_dict())
    with torch.no_grad():
        grid, _ = model.encode(image[None])
        g = grid[0]                                                     # (16, F)
        mean = g.mean(0)
        norm = model.init_norm                                          # layer norm, written out
        mean = (mean - mean.mean()) / torch.sqrt(mean.var(unbiased=False) + norm.eps) * norm.weight + norm.bias
        h = torch.tanh(model.init_h.weight @ mean + model.init_h.bias)[None]
        c = torch.tanh(model.init_c.weight @ mean + model.init_c.bias)[None]
        hs, cs, atts = [], [], []
        for word in read:
            emb = model.embed.weight[word][None]
            if model.cfg.attention:
                e = torch.tanh(g @ model.att_grid.weight.T + model.att_grid.bias + h @ model.att_hidden.weight.T)
                e = (e @ model.att_score.weight.T)[:, 0] + model.att_score.bias
                a = torch.exp(e - e.max()) / torch.exp(e - e.max()).sum()
                x = torch.cat([emb, (a[:, None] * g).sum(0)[None]], 1)
                atts.append(a)
            else:
                x = emb
            h, c = cell(x, (h, c))
            hs.append(h[0])
            cs.append(c[0])
        return torch.stack(hs), torch.stack(cs), (torch.stack(atts) if atts else None)


@pytest.mark.parametrize("attention", [True, False])
@pytest.mark.parametrize("teacher", [True, False])
def test_the_trace_is_the_model_and_an_lstmcell_at_every_word(data, attention, teacher):
    model = _model(data, attention)
    image = torch.from_numpy(render(SCENE))
    trace = trace_caption(model, data, image, caption(SCENE), teacher=teacher)
    read = [data.stoi[w] for w in trace.inputs]
    if teacher:
        assert trace.inputs == [START] + caption(SCENE).split()
    else:  # free-running: each word read is the word emitted before, as sample() decodes
        ids, _ = model.sample(image[None])
        emitted, _ = greedy_captions(model, data, image[None])
        assert trace.inputs[1:] == emitted[0][: len(trace.inputs) - 1]
        assert list(trace.extras["emitted"]) == emitted[0] == [data.vocab[i] for i in ids[0, : len(emitted[0])]]
    T = len(read)
    assert trace.quantities["hidden_state"].shape == (1, 1, T, 7)
    assert trace.targets == caption(SCENE).split() + [END] if teacher else len(trace.targets) == T
    h, c, att = _by_hand(model, image, read)
    assert np.abs(trace.get("hidden_state") - h.numpy()).max() <= 1e-5
    assert np.abs(trace.get("cell_state") - c.numpy()).max() <= 1e-5
    with torch.no_grad():
        out = model.decode(image[None], torch.tensor([read]))          # the batch forward pass
        logits, attention_out = model((image[None], torch.tensor([read])))
    assert np.abs(trace.get("hidden_state") - out["hidden_state"][0].numpy()).max() <= 1e-5
    assert trace.extras["replay_check"]["max_abs_h"] <= 1e-5
    shown = trace.predictions[trace.predictions["rank"] == 1]
    probs = torch.softmax(logits[0], -1).numpy()
    assert list(shown["char"]) == [data.vocab[i] for i in probs.argmax(-1)]
    assert np.allclose(shown["prob"].to_numpy(), probs.max(-1), atol=1e-5)
    if attention:
        weights = trace.extras["attention"]
        assert weights.shape == (T, 16) and (weights >= 0).all() and np.allclose(weights.sum(1), 1, atol=1e-6)
        assert np.abs(weights - att.numpy()).max() <= 1e-5
        assert np.abs(weights - attention_out[0].numpy()).max() <= 1e-5
    else:
        assert attention_out is None and "attention" not in trace.extras


def test_a_layout_traces_with_its_shapes_and_the_named_words(data):
    model = _model(data)
    trace = trace_caption(model, data, SCENE, teacher=True)
    assert trace.targets[:-1] == caption(SCENE).split()
    assert list(trace.extras["named"]) == [0, 0, 0, 0, -1, -1, 1, 1, 1, 1, -1]
    assert trace.extras["cells"].shape == (2, 16) and np.array_equal(trace.extras["image"], render(SCENE))
    with pytest.raises(DataError, match="overlaps"):
        trace_caption(model, data, [("circle", "red", "small", 2, 4), ("square", "blue", "big", 4, 6)])
    with pytest.raises(DataError, match="outside the vocabulary"):
        trace_caption(model, data, SCENE, "a small pink circle", teacher=True)
    with pytest.raises(DataError, match="RGB"):
        trace_caption(model, data, np.zeros((1, 32, 32), np.float32))
    with pytest.raises(DataError, match="NaN"):
        trace_caption(model, data, np.full((3, 32, 32), np.nan, np.float32))


def test_sampling_at_a_temperature_is_seeded_and_checked(data):
    model = _model(data)
    images = data.tensors(data.val_layouts[:4])[0]
    a, _ = model.sample(images, temperature=1.0, generator=torch.Generator().manual_seed(3))
    b, _ = model.sample(images, temperature=1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    for bad in (0, -1.0, float("nan"), "hot", True):
        with pytest.raises(ConfigError, match="temperature"):
            model.sample(images, temperature=bad)
    with pytest.raises(DataError, match="pictures must be"):
        model.sample(images[:, :1])


# --- the scores -----------------------------------------------------------------------------------------------------

def test_scores_count_words_position_by_position_with_the_end_mark():
    truths = ["a big red circle", "a small blue cross"]
    perfect = [t.split() + [END] for t in truths]
    assert score(perfect, truths) == {"word_accuracy": 1.0, "exact_match": 1.0}
    # one wrong colour (4 of 5 right), one caption that runs on past its end (4 of 5: <end> missing)
    emitted = [["a", "big", "blue", "circle", END], "a small blue cross left".split()]
    assert score(emitted, truths) == {"word_accuracy": 8 / 10, "exact_match": 0.0}
    assert score([[END], perfect[1]], truths) == {"word_accuracy": 5 / 10, "exact_match": 0.5}


def test_baselines_and_the_attention_share(data):
    base = baselines(data, n=500)
    for name in ("most common caption", "most frequent word per position"):
        assert 0 <= base[name]["word_accuracy"] < 0.5 and base[name]["exact_match"] < 0.1
    # attention put wholly on the named shape's cells scores 1, wholly elsewhere 0, counted on right words only
    layouts = data.val_layouts[:5]
    emitted, full, none = [], [], []
    for layout in layouts:
        words = caption(layout).split() + [END]
        cells = covered_cells(layout)
        named = caption_words(layout)[1] + [-1]
        on = np.array([cells[n] / cells[n].sum() if n >= 0 else np.full(16, 1 / 16) for n in named])
        off = np.array([(~cells[n]) / (~cells[n]).sum() if n >= 0 else np.full(16, 1 / 16) for n in named])
        emitted.append(words)
        full.append(on)
        none.append(off)

    class Five:  # the first five held-out pictures
        val_layouts, grid = layouts, 4
    shares = attention_on_named(Five, emitted, full)
    assert len(shares) == sum(2 * len(s) for s in layouts) and np.allclose(shares, 1)
    assert np.allclose(attention_on_named(Five, emitted, none), 0)
    wrong = [["a", "big", "big", "big", END]] + emitted[1:]  # no colour or shape word of picture 0 is right
    assert len(attention_on_named(Five, wrong, full)) == len(shares) - 2 * len(layouts[0])


def test_the_loss_ignores_padding_and_trains(data):
    model = _model(data)
    batch = data.train_batch(6, 0)
    loss = caption_loss(model, batch)
    logits, _ = model(batch[:2])
    scored = batch[2] >= 0
    by_hand = -torch.log_softmax(logits, -1)[scored].gather(1, batch[2][scored][:, None]).mean()
    assert math.isclose(loss.item(), by_hand.item(), rel_tol=1e-5)


def test_the_gaze_sentence_says_what_the_attention_numbers_say(data):
    from lstm_demo.kinds.captioner import gaze, gaze_sentence
    from lstm_demo.kinds.captions_data import SHOWCASE
    assert caption(SHOWCASE) == "a small red circle left of a big blue square"
    model = _model(data)
    trace = trace_caption(model, data, SHOWCASE, teacher=True)
    cells = covered_cells(SHOWCASE)
    T = len(trace.inputs)
    att = np.zeros((T, 16), np.float32)
    att[:, cells[1]] = 0.2 / cells[1].sum()
    att[:, ~cells[1]] = 0.8 / (~cells[1]).sum()             # 80 % off the square: some on the circle's cells
    on_circle = float(att[0][cells[0]].sum())
    trace.extras["attention"] = att
    trace.extras["emitted"] = np.array(trace.targets)       # as if every word were right
    red = trace.targets.index("red")
    g = gaze(trace, red)
    assert g["named"] == 0 and np.allclose(g["shares"], [on_circle, 0.2])
    assert gaze_sentence(trace, red) == f"Saying “red”, it puts {on_circle:.0%} of its attention on the small red " \
                                        f"circle, the shape that word names."
    square = trace.targets.index("square")
    assert gaze_sentence(trace, square) == f"Saying “square”, it puts 20% of its attention on the big blue square, " \
                                           f"the shape that word names; more ({on_circle:.0%}) is on the small red " \
                                           f"circle."
    assert gaze(trace, trace.targets.index("left"))["named"] == -1  # a relation word names no shape
    trace.extras["emitted"] = np.array(["blue" if w == "red" else w for w in trace.targets])
    assert gaze(trace, red)["named"] == -1 and "the most attention" in gaze_sentence(trace, red)  # a wrong word
    again = Trace.from_npz(trace.to_npz())  # a precomputed trace keeps what the sentence needs
    assert gaze_sentence(again, red) == gaze_sentence(trace, red)
    plain = trace_caption(_model(data, attention=False), data, SHOWCASE)
    assert "no attention" in gaze_sentence(plain, 0)
    picture_only = trace_caption(model, data, render(SHOWCASE))
    assert "row" in gaze_sentence(picture_only, 0) and "cells" not in picture_only.extras


# --- the kind: the registry's way in (training, files, the views' words) ---------------------------------------------

from lstm_demo.kinds import KINDS  # noqa: E402

KIND = KINDS["captions"]


def _tiny_cfg(data, attention=True):
    return CaptionerConfig(vocab_size=len(data.vocab), conv_channels=3, embed_size=5, hidden_size=7,
                           attention_size=6, attention=attention, max_words=data.max_words + 1)


def test_the_kind_trains_through_the_trainer_and_scores_whole_batches_as_chunks(data):
    """train.fit on the kind's batches and loss; the chunked validation loss (the memory budget) is the mean over
    every scored word, the same as one pass over the whole held-out set."""
    from lstm_demo.config import TrainConfig
    from lstm_demo.train import fit
    result = fit(_tiny_cfg(data), data, TrainConfig(batch_size=8, lr=1e-2, steps=6, seed=0, grad_clip=1.0))
    batches = KIND.batches(data, result.model.cfg, TrainConfig(batch_size=8), 0)
    x, y = batches.next()
    assert x[0].shape[1:] == (3, 32, 32) and x[1].shape == y.shape and batches.items_per_batch == 8
    whole = KIND.val_loss(result.model, batches.val_x, batches.val_y)
    assert math.isfinite(result.val_loss) and result.val_loss == pytest.approx(whole, rel=1e-6)
    assert KIND.val_loss(result.model, batches.val_x, batches.val_y, chunk=37) == pytest.approx(whole, rel=1e-5)
    assert KIND.scored(batches.val_x, batches.val_y) == sum(len(c.split()) + 1 for c in data.val_captions)


def test_the_kinds_accuracy_is_word_accuracy_of_greedy_captions(data):
    """Against an independent count: the model's own sampler's ids position by position against the held-out
    targets (end mark included, a missing word wrong)."""
    model = _model(data)
    batches = KIND.batches(data, model.cfg, KIND.defaults(data)[1], 0)
    images, _ = batches.val_x
    ids, _ = model.sample(images)
    right = total = 0
    for row, target in zip(ids.tolist(), batches.val_y.tolist()):
        want = [t for t in target if t != -100]
        right += sum(a == b for a, b in zip(row, want))
        total += len(want)
    assert KIND.accuracy(model, data, batches.val_x, batches.val_y) == pytest.approx(right / total)


@pytest.mark.parametrize("teacher", [True, False])
def test_the_kinds_trace_follows_the_picture_and_its_first_step_reads_the_pictures_state(data, teacher):
    """The trace of a choice (layout, None, teacher) is the decoder's; attention is a distribution at every word;
    the equations of step 0 start from the state the picture gives (h0, c0 from the model's start_state, not 0)."""
    from lstm_demo.explain import step_terms
    model = _model(data)
    trace = KIND.trace(model, data, (SCENE, None, teacher))
    assert trace.extras["replay_check"]["max_abs_h"] <= 1e-5
    from lstm_demo.conclusions import replay_verdict
    said = replay_verdict(trace.extras["replay_check"])  # the line under the equations names what ran, once
    assert said.startswith("✓") and said.count("forward pass") == 1 and "Captioner.decode" in said
    att = trace.extras["attention"]
    assert (att >= 0).all() and np.allclose(att.sum(1), 1, atol=1e-6)
    with torch.no_grad():
        grid, _ = model.encode(torch.from_numpy(render(SCENE))[None])
        h0, c0 = model.start_state(grid)
    for unit in range(7):
        terms = step_terms(trace, 0, 0, unit)
        assert terms["c_prev"].iloc[0] == pytest.approx(float(c0[0, unit]), abs=1e-6)
        assert np.allclose(terms["c"], terms["f"] * terms["c_prev"] + terms["i"] * terms["g"], atol=1e-5)
    captions = KIND.captions(trace)
    assert len(captions) == trace.n_steps and all(c.startswith(f"Step {t}: reads “") for t, c in enumerate(captions))
    if not teacher:
        from lstm_demo.kinds.captions import greedy_check, said_caption
        greedy = greedy_captions(model, data, render(SCENE)[None])[0][0]
        assert said_caption(trace) == " ".join(w for w in greedy if w != END)
        assert greedy_check(model, data, trace).startswith("✓")


def test_the_step_views_draw_the_picture_attention_and_words(data):
    from lstm_demo.view_store import table
    model = _model(data)
    trace = KIND.trace(model, data, (SCENE, None, False))
    views = KIND.step_views(trace, 0, 0, 2, "forget_gate")
    assert set(views) == {"strip", "diagram", "equations", "topk"}
    att = table(views["strip"]["datasets"]["attention"]).to_pandas()
    assert len(att) == 16 * trace.n_steps
    assert np.allclose(att.groupby("step")["weight"].sum(), 1, atol=1e-6)
    words = table(views["strip"]["datasets"]["words"]).to_pandas()
    assert list(words["word"]) == list(trace.inputs) and list(words["said"]) == list(trace.extras["emitted"])
    big = KIND.step_views(trace, 0, 0, 2, "forget_gate", presenter=True)
    assert json.dumps(big["strip"], default=str) != json.dumps(views["strip"], default=str)


def test_the_comparison_sentence_says_ahead_level_or_behind_on_the_numbers_it_shows():
    from lstm_demo.kinds.captions import comparison
    base = {"most common caption": {"word_accuracy": 0.2, "exact_match": 0.01},
            "most frequent word per position": {"word_accuracy": 0.334, "exact_match": 0.0}}
    ahead = comparison({"word_accuracy": 0.94, "exact_match": 0.856}, base, 256)
    assert ahead == ("On 256 held-out pictures the model's greedy captions get 94 % of the words and 86 % of the "
                     "captions exactly right; knowing only the training captions (most frequent word per position) "
                     "gets 33 % and 0 %: the model is ahead of that baseline on words.")
    # 33.6 % shows as 34 %, 33.4 % as 33 %: the verdict follows what is shown, not the third digit
    assert "level with" in comparison({"word_accuracy": 0.3345, "exact_match": 0.0}, base, 256)
    assert "behind" in comparison({"word_accuracy": 0.1, "exact_match": 0.0}, base, 256)
    assert comparison({"word_accuracy": float("nan"), "exact_match": float("nan")}, base, 0) == \
        "There are no held-out pictures to score the model on."


def test_each_badge_is_measured_against_the_baseline_best_at_its_metric():
    """Word accuracy against the best baseline at words; exact match against the best at exact match (not the
    word-accuracy one), in the whole points the sentence shows."""
    from lstm_demo.kinds.captions import comparison_badges
    base = {"most common caption": {"word_accuracy": 0.2, "exact_match": 0.12},
            "most frequent word per position": {"word_accuracy": 0.334, "exact_match": 0.0}}
    badges = comparison_badges({"word_accuracy": 0.5, "exact_match": 0.1}, base)
    (words, w_name), (exact, e_name) = badges["word_accuracy"], badges["exact_match"]
    assert w_name == "most frequent word per position" and e_name == "most common caption"
    assert words.text == "+17 points vs the best baseline" and words.colour == "green"
    assert exact.text == "-2 points vs the best baseline" and exact.colour == "red"  # not +10 vs the 0 % one
    level = comparison_badges({"word_accuracy": 0.3345, "exact_match": 0.1201}, base)
    assert level["word_accuracy"][0].colour == level["exact_match"][0].colour == "gray"


# --- model files ---------------------------------------------------------------------------------------------------

def _file(data, cfg=None, train=None, recipe=None, model_cfg_json=None):
    from lstm_demo.config import TrainConfig
    from lstm_demo.models import build_model
    from lstm_demo.store import save_bytes
    raw = save_bytes(build_model(cfg or _tiny_cfg(data)), data, train or TrainConfig(batch_size=8, steps=3), 3)
    return _rewrite(raw, recipe, model_cfg_json)


def _rewrite(raw: bytes, recipe=None, model_cfg=None) -> bytes:
    """The file with its header's recipe or model config replaced (a crafted file)."""
    import struct
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header["__metadata__"]
    if recipe is not None:
        meta["data"] = json.dumps({"kind": "captions", "recipe": recipe} if not isinstance(recipe, str) else recipe)
    if model_cfg is not None:
        meta["model_config"] = json.dumps({**json.loads(meta["model_config"]), **model_cfg})
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + raw[8 + n :]


def test_a_captioner_file_round_trips(data):
    from lstm_demo.store import load_bytes
    raw = _file(data)
    loaded = load_bytes(raw)
    assert loaded.model.cfg == _tiny_cfg(data) and loaded.data.recipe == data.recipe and loaded.steps == 3
    assert loaded.data.val_captions == data.val_captions
    again = KIND.trace(loaded.model, loaded.data, (SCENE, None, False))
    from lstm_demo.models import build_model
    assert np.array_equal(again.get("cell_state"), KIND.trace(build_model(_tiny_cfg(data)), data,
                                                               (SCENE, None, False)).get("cell_state"))


@pytest.mark.parametrize("recipe, why", [
    ({"max_shapes": 1000, "seed": 0}, "shapes per picture"),
    ({"max_shapes": 3, "seed": -1}, "seed"),
    ({"max_shapes": 3, "seed": 0, "picture": 4096}, "exactly"),
    ({"max_shapes": "3", "seed": 0}, "shapes per picture"),
    ({"max_shapes": True, "seed": 0}, "shapes per picture"),
    ([3, 0], "exactly"),
    ('{"kind": "captions"}', "malformed"),
    ('{"kind": "captions", "recipe": {"max_shapes": 3, "seed": 0}, "vocab": ["a"]}', "malformed"),
])
def test_a_file_with_a_hostile_recipe_is_refused_before_its_pictures_are_drawn(data, recipe, why):
    from lstm_demo.config import ModelFileError
    from lstm_demo.store import load_bytes
    with pytest.raises(ModelFileError, match=why):
        load_bytes(_file(data, recipe=recipe))


@pytest.mark.parametrize("config, why", [
    ({"picture": 4096}, "picture size"),            # huge pictures: refused by the config's caps
    ({"picture": 64}, "wrong type or shape"),       # within the caps: its grid (8 × 8) is not these tensors
    ({"vocab_size": 10**6}, "vocab size"),          # an absurd vocabulary
    ({"vocab_size": 200}, "wrong type or shape"),  # the embedding and the head are not these tensors
    ({"attention": False}, "weights do not fit its model"),   # the flag against the tensors: refused by name
    ({"attention": "yes"}, "attention"),
    ({"max_words": 3}, "does not fit its data"),
])
def test_a_file_whose_config_does_not_fit_its_tensors_or_pictures_is_refused(data, config, why):
    from lstm_demo.config import ModelFileError
    from lstm_demo.store import load_bytes
    with pytest.raises(ModelFileError, match=why):
        load_bytes(_file(data, model_cfg_json=config))


def test_the_budget_refuses_the_largest_settings_in_words_and_the_cli_steps_through_a_held_out_picture(data):
    from dataclasses import replace
    from types import SimpleNamespace
    m, t = KIND.defaults(data)
    KIND.checked(m, t, data)  # the preset fits
    with pytest.raises(ConfigError, match="would need about .* Choose a smaller batch"):
        KIND.checked(replace(m, conv_channels=32, hidden_size=256, embed_size=64), replace(t, batch_size=128), data)
    loaded = SimpleNamespace(data=data)
    assert KIND.cli_choice(loaded, seq=5) == (data.val_layouts[5], None, False)
    for bad in (dict(seq=256), dict(seq=-1), dict(text="a red circle"), dict(start=0)):
        with pytest.raises(ConfigError):
            KIND.cli_choice(loaded, **bad)


# --- sampling at a temperature (Step through's "Sampling" caption) ---------------------------------------------------

def _decoded_by_hand(model, data, image, temperature, seed):
    """The reference: the model's teacher-forced forward pass over the words so far, the next word its argmax
    (temperature 0) or one draw of torch.multinomial from softmax(logits / temperature) with a generator seeded
    like the app's — word by word until the end mark or max_words."""
    gen = torch.Generator().manual_seed(seed)
    read, words = [data.stoi[START]], []
    with torch.no_grad():
        for _ in range(model.cfg.max_words):
            logits = model.decode(image[None], torch.tensor([read]))["logits"][0, -1]
            if temperature == 0:
                word = int(logits.argmax())
            else:
                word = int(torch.multinomial(torch.softmax(logits / temperature, -1)[None], 1, generator=gen)[0, 0])
            words.append(data.vocab[word])
            read.append(word)
            if words[-1] == END:
                break
    return words


@settings(max_examples=12, deadline=None)
@given(temperature=st.sampled_from([0, 0.01, 0.5, 1.0, 2.5, 10.0]), seed=st.integers(0, 2**31 - 1),
       layout=st.sampled_from(range(8)))
def test_a_sampled_caption_is_drawn_as_the_model_says_and_seeded(data, temperature, seed, layout):
    from lstm_demo.kinds.captioner import sampled_caption
    model = _model(data)
    image = torch.from_numpy(render(data.val_layouts[layout]))
    said = sampled_caption(model, data, image.numpy(), temperature, seed)
    assert said == _decoded_by_hand(model, data, image, temperature, seed)
    assert said == sampled_caption(model, data, data.val_layouts[layout], temperature, seed)  # a rerun, same words
    if temperature == 0:  # greedy: the seed plays no part, and it is the model's own greedy decoding
        assert said == sampled_caption(model, data, image.numpy(), 0, seed + 1 if seed < 2**31 - 1 else 0)
        assert said == greedy_captions(model, data, image[None])[0][0]


def test_a_hot_caption_depends_on_its_seed_and_bad_settings_are_refused(data):
    from lstm_demo.kinds.captioner import sampled_caption
    model = _model(data)
    image = render(SCENE)
    hot = {seed: tuple(sampled_caption(model, data, image, 10.0, seed)) for seed in range(6)}
    assert all(hot[s] == tuple(sampled_caption(model, data, image, 10.0, s)) for s in hot)
    assert len(set(hot.values())) > 1  # at 10 the draws are near uniform over 20 words: six seeds do not all agree
    for bad in (-0.5, 0.005, 11, float("nan"), float("inf"), "warm", True, None):
        with pytest.raises(ConfigError, match="temperature"):
            sampled_caption(model, data, image, bad, 0)
    for bad in (-1, 2**31, 1.5, "0", False):
        with pytest.raises(ConfigError, match="sampling seed"):
            sampled_caption(model, data, image, 1.0, bad)
    with pytest.raises(DataError, match="overlaps"):
        sampled_caption(model, data, [("circle", "red", "small", 2, 4), ("square", "blue", "big", 4, 6)], 1.0, 0)


def test_the_sampling_sentence_says_how_the_caption_was_drawn_and_what_it_matches():
    from lstm_demo.kinds.captions import sample_sentence
    truth = "a small red circle"
    right = truth.split() + [END]
    assert sample_sentence(right, right, truth, 0, 7) == (
        "At temperature 0 the model says its likeliest word every time (greedy): “a small red circle”. It is the "
        "picture's true caption.")
    assert sample_sentence(right, right, truth, 0.5, 3) == (
        "At temperature 0.5 (seed 3) the model draws each word from its guesses sharpened: “a small red circle”. It "
        "is word for word its greedy caption. It is the picture's true caption.")
    wrong = "a big red circle".split() + [END]
    assert sample_sentence(wrong, right, truth, 1, 0) == (
        "At temperature 1 (seed 0) the model draws each word from its guesses as they are: “a big red circle”. It "
        "differs from its greedy caption (“a small red circle”) at 1 of 5 places. The picture's caption is “a small "
        "red circle”.")
    # longer than the greedy caption and never ended: every place past the shorter one differs
    endless = ["a"] * 17
    said = sample_sentence(endless, right, truth, 2.5, 1)
    assert "its guesses flattened" in said and "It had not ended after 17 words" in said
    assert "at 16 of 17 places" in said and "The picture's caption is" in said
    # an end mark first: nothing said; no truth (a picture without a layout): nothing compared with it
    nothing = sample_sentence([END], right, "", 3, 2)
    assert "draws each word from its guesses flattened: nothing (its first word is the end mark)." in nothing
    assert "at 5 of 5 places" in nothing and "picture's" not in nothing
    # a caption that is the truth's words and then more is not the truth
    assert "The picture's caption is" in sample_sentence(truth.split() + ["left", END], right, truth, 1, 0)
