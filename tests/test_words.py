"""Words as tokens for text: the tokenizer and its capped vocabulary, word-level models traced against torch's own
nn.LSTM, model files that reopen exactly (and hostile ones refused), fill-in over words, the word strip's colours,
and the bundled word-level model reading the tutorials' sentence."""
import json
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_demo.config import DataError, ModelFileError, TrainConfig
from lstm_demo.kinds import KINDS
from lstm_demo.kinds.sequence import Batches, ModelConfig, trace_sequence
from lstm_demo.kinds.text import plural_subject
from lstm_demo.kinds.text_data import (MAX_WORD_CHARS, MAX_WORD_VOCAB, UNK, TextData, join_words, load_text_preset,
                                       split_words, word_vocabulary)
from lstm_demo.models import build_model
from lstm_demo.store import load_bytes, save_bytes

SENTENCES = ["the cats, which already ate the fish, were full.",
             "mary is allergic to nuts. she can't eat peanut cake.",
             "the students go to school in the morning; the students come out of school at noon."]
TEXT = "\n".join(SENTENCES * 8) + "\n"


@pytest.fixture(scope="module")
def words():
    return TextData(TEXT, name="tutorials", tokens="words")


def test_the_tutorials_sentences_read_as_words_and_back(words):
    assert split_words(SENTENCES[0]) == ["the", "cats", ",", "which", "already", "ate", "the", "fish", ",", "were",
                                         "full", "."]
    assert "can't" in split_words(SENTENCES[1])
    for s in SENTENCES:
        assert join_words(split_words(s)) == s
    assert join_words(split_words('he said "go (now)!"\nok')) == 'he said "go (now)!"\nok'
    assert words.decode(words.encode(SENTENCES[2])) == SENTENCES[2]
    assert words.vocab[0] == UNK and words.vocab[1:] == sorted(words.vocab[1:])
    assert len(words.ids) == len(split_words(TEXT)) and words.summary()["unknown"] == 0


def test_a_word_outside_the_vocabulary_reads_as_unknown_and_characters_stay_as_they_were(words):
    assert words.encode("the purple cats were full").tolist()[1] == words.stoi[UNK]
    assert not words.known("the purple cats") and words.known("the cats were full.")
    assert words.span("the cats, which ate, were full.", "were full") == (6, 2)
    chars = TextData(TEXT)                                  # the default: characters, as before
    assert chars.tokens == "chars" and chars.vocab == sorted(set(TEXT))
    assert chars.ids.tolist() == [chars.vocab.index(c) for c in TEXT]
    assert chars.span("the cats", "cats") == (4, 4)
    with pytest.raises(DataError, match="not in the model's vocabulary"):
        chars.encode("ZEBRA")
    with pytest.raises(DataError, match="Tokens"):
        TextData(TEXT, tokens="bytes")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([f"w{i}" for i in range(400)]), min_size=2, max_size=3000))
def test_the_word_vocabulary_is_capped_most_frequent_first(tokens):
    vocab = word_vocabulary(tokens)
    counts = {w: tokens.count(w) for w in set(tokens)}
    kept = set(vocab[1:])
    assert vocab[0] == UNK and len(vocab) == min(MAX_WORD_VOCAB, len(counts) + 1) and len(set(vocab)) == len(vocab)
    if kept != set(counts):  # a word left out is never more frequent than one kept (ties: alphabetical)
        worst = min((counts[w], w) for w in kept)
        assert all((counts[w], w) < worst or (counts[w] == worst[0] and w > worst[1]) for w in set(counts) - kept)


def test_long_words_never_enter_the_vocabulary():
    data = TextData(("x" * (MAX_WORD_CHARS + 1) + " a b. ") * 5, tokens="words")
    assert all(len(w) <= MAX_WORD_CHARS for w in data.vocab) and int(data.ids[0]) == 0


def _word_model(words, task="next", bidirectional=False, seed=0):
    cfg = ModelConfig("text", vocab_size=len(words.vocab), embed_size=6, hidden_size=9, num_layers=2, task=task,
                      bidirectional=bidirectional)
    model = build_model(cfg, seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # large weights, so every gate moves
        for p in model.parameters():
            p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 1.5)
    return model.eval()


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_word_level_trace_is_nn_lstm(words, bidirectional):
    """The replay of every layer and direction against torch's own nn.LSTM (a fresh module with the same weights),
    and the words it reads and guesses are the vocabulary's."""
    model = _word_model(words, "masked" if bidirectional else "next", bidirectional)
    seq = words.ids[:30]
    mask = np.zeros(29, dtype=bool)
    mask[[3, 9]] = True
    trace = trace_sequence(model, words, seq, mask=mask if bidirectional else None)
    reference = torch.nn.LSTM(6, 9, num_layers=2, bidirectional=bidirectional)
    reference.load_state_dict(model.rnn.state_dict())
    x_in = torch.where(torch.from_numpy(mask), model.cfg.vocab_size, seq[:-1]) if bidirectional else seq[:-1]
    with torch.no_grad():
        out, _ = reference(model.encoder(x_in)[:, None])                 # (T, 1, D*H): the top layer
    top = trace.quantities["hidden_state"][1]                             # (D, T, H)
    both = np.concatenate([top[d] for d in range(top.shape[0])], -1)
    assert np.abs(both - out[:, 0].numpy()).max() <= 1e-5
    assert trace.extras["replay_check"]["max_abs_h"] <= 1e-5
    assert trace.inputs[0] == "the" and str(trace.extras["tokens"]) == "words"
    assert set(trace.predictions["char"]) <= set(words.vocab)
    kind = KINDS["text"]
    assert kind.guesses(trace) == ("the word at this position" if bidirectional else "the next word")
    assert "the true next word is" in kind.captions(trace)[0] or "word is" in kind.captions(trace)[0]


def test_the_word_strip_has_a_tile_per_word_and_readable_letters(words):
    from lstm_demo.view_store import table
    model = _word_model(words)
    trace = trace_sequence(model, words, words.ids[:40])
    views = KINDS["text"].step_views(trace, 0, 0, 2, "forget_gate")
    tiles = table(views["strip"]["datasets"]["words"]).to_pandas()
    assert list(tiles["word"]) == [{"\n": "⏎"}.get(w, w) for w in trace.inputs]
    assert (tiles["x1"] - tiles["x0"] >= tiles["word"].str.len() * 9).all()   # each word fits its tile
    assert (tiles.groupby("y0")["x1"].max() <= 1000).all()                   # rows wrap inside the strip


@settings(max_examples=60, deadline=None)
@given(st.floats(-30, 30), st.sampled_from(["forget_gate", "cell_state", "hidden_state", "candidate"]))
def test_letters_on_a_word_tile_contrast_at_least_4_5_to_1(value, quantity):
    from lstm_demo.kinds.word_views import contrast, luminance, tile_colours
    values = np.array([value, 30.0, -30.0, 0.0])
    fill, ink, _ = tile_colours(quantity, values)
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in fill], dtype=np.uint8)
    ink_l = np.where(np.array(ink) == "#000000", 0.0, 1.0)
    assert (contrast(luminance(rgb), ink_l) >= 4.5).all()


def test_fill_in_over_words_hides_whole_tokens(words):
    model = _word_model(words, "masked", True)
    batches = Batches(words, 16, 4, 0, mask_id=model.cfg.vocab_size, words=False)
    x, y = batches.next()
    hidden = y != -100
    assert hidden.any() and (x[hidden] == model.cfg.vocab_size).all()
    kind = KINDS["text"]
    b = kind.batches(words, model.cfg, TrainConfig(seq_len=16, batch_size=4, hide="words"), 0)
    assert b.letters is None  # words as tokens: a hidden step is a whole word, letters are not grouped
    from lstm_demo.predict import fill_in
    ids, mask = words.ids[:12], np.zeros(12, dtype=bool)
    mask[1] = True
    hidden_text, filled, _ = fill_in(model, words, ids, mask)
    assert hidden_text.startswith("the ▮, which") and len(split_words(filled)) == 12


def test_the_plural_subject_over_words_spans_from_the_noun_to_the_verb():
    tokens = split_words("the cats , which ate the fish , were full .\nthe dog was happy .")
    signal = plural_subject(tokens)
    cats, were, dog, was = tokens.index("cats"), tokens.index("were"), tokens.index("dog"), tokens.index("was")
    assert (signal[cats + 1 : were] == 1).all() and signal[cats] == 0 and signal[were] == 0
    assert (signal[dog + 1 : was] == -1).all() and signal[was] == 0


def _rewrite(raw: bytes, **data) -> bytes:
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    info = json.loads(header["__metadata__"]["data"])
    info.update(data)
    header["__metadata__"]["data"] = json.dumps(info)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + raw[8 + n :]


def test_a_word_level_file_reopens_with_its_own_vocabulary(words):
    model = _word_model(words)
    raw = save_bytes(model, words, TrainConfig(seq_len=16, batch_size=4, steps=5), 5)
    loaded = load_bytes(raw)
    assert loaded.data.tokens == "words" and loaded.data.vocab == words.vocab
    assert loaded.data.ids.tolist() == words.ids.tolist()  # the whole text fits the file's sample
    a = trace_sequence(loaded.model, loaded.data, loaded.data.ids[:20])
    b = trace_sequence(model, words, words.ids[:20])
    assert a.inputs == b.inputs and np.array_equal(a.get("cell_state"), b.get("cell_state"))
    chars = TextData(TEXT)
    char_model = build_model(ModelConfig("text", vocab_size=len(chars.vocab), hidden_size=8))
    char_raw = save_bytes(char_model, chars, TrainConfig(seq_len=16, batch_size=4, steps=5), 5)
    assert "tokens" not in json.loads(json.loads(char_raw[8 : 8 + struct.unpack("<Q", char_raw[:8])[0]])
                                      ["__metadata__"]["data"])  # character files stay as they were
    assert load_bytes(char_raw).data.tokens == "chars"


@pytest.mark.parametrize("change, why", [
    (dict(tokens="bytes"), "neither characters nor words"),
    (dict(vocab=["the", UNK]), "word vocabulary"),                       # the unknown-word token not first
    (dict(vocab=None), "word vocabulary"),
    ("duplicate", "each token once"),
    ("two words", "single words"),
    ("too long", "single words"),
    ("one more", "does not match its model"),
    ("too many", "word vocabulary"),
])
def test_a_hostile_word_level_file_is_refused(words, change, why):
    model = _word_model(words)
    raw = save_bytes(model, words, TrainConfig(seq_len=16, batch_size=4, steps=5), 5)
    vocab = list(words.vocab)
    changes = {"duplicate": dict(vocab=vocab[:-1] + [vocab[1]]), "two words": dict(vocab=vocab[:-1] + ["a b"]),
               "too long": dict(vocab=vocab[:-1] + ["x" * (MAX_WORD_CHARS + 1)]),
               "one more": dict(vocab=vocab + ["zebra"]),
               "too many": dict(vocab=[UNK] + [f"w{i}" for i in range(MAX_WORD_VOCAB)])}
    with pytest.raises(ModelFileError, match=why):
        load_bytes(_rewrite(raw, **(changes[change] if isinstance(change, str) else change)))


def test_the_bundled_word_level_model_reads_the_agreement_sentence():
    """At word level the tutorials' sentence reads as it is written: after "the dogs, that …," the verb's number is
    the subject's (the shipped weights, evaluated here)."""
    from lstm_demo.bundle import load_bundle
    loaded = load_bundle("agreement_words")
    data, model = loaded.data, loaded.model
    assert data.tokens == "words" and data.vocab == load_text_preset("agreement", tokens="words").vocab
    for subject, verb in (("the dogs", "were"), ("the dog", "was")):
        ids = data.encode(f"{subject} , that the old man fed two apples and the river and the barn ,")
        with torch.no_grad():
            p = torch.softmax(model(ids[None])[0][0, -1], -1)
        assert data.vocab[int(p.argmax())] == verb and float(p[data.stoi[verb]]) > 0.9
