"""The captioner (pictures of shapes -> an LSTM with soft attention describes them): the pictures and their grammar,
the held-out split, the decoder's trace against the model's own forward pass and an nn.LSTMCell stepped by hand
(teacher-forced and greedy), the attention, the scores, and bad input."""
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
