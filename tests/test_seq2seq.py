"""The encoder–decoder (issue 13): the generated tasks, both halves' traces against torch's nn.LSTM (the decoder from
the encoder's final state, fed the teacher-forced and the greedy inputs), training through the jobs, the model file,
and bad input."""
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_demo.config import DataError, TrainConfig
from lstm_demo.kinds.translation_data import (BOS, EOS, TranslationData, date_words, holdable, make_pair, number_words)
from lstm_demo.jobs import Experiment
from lstm_demo.models import build_model
from lstm_demo.kinds.seq2seq import Seq2SeqConfig, accuracy_by_length, trace_seq2seq, translate
from lstm_demo.store import ModelFileError, load_bytes, save_bytes
from support import wait_until


def _words_to_number(words: str) -> int:
    """An independent reader of the number words (the generator writes them; this reads them back)."""
    units = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                        "fourteen fifteen sixteen seventeen eighteen nineteen".split())}
    tens = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
    total = current = 0
    for word in words.replace("-", " ").split():
        if word == "and":
            continue
        if word == "hundred":
            current *= 100
        elif word == "thousand":
            total, current = total + current * 1000, 0
        else:
            current += units.get(word, tens.get(word, 0))
    return total + current


def test_the_tasks_say_what_they_mean():
    for n in [0, 7, 13, 40, 99, 100, 104, 999, 1000, 2026, 21_000, 999_999]:
        assert _words_to_number(number_words(n)) == n
    assert number_words(304) == "three hundred and four"
    assert date_words(2026, 11, 21) == "the twenty-first of november, two thousand and twenty-six"
    rng = random.Random(0)
    for task in ("numbers", "dates", "copy", "reverse"):
        for _ in range(50):
            src, tgt = make_pair(task, 2 if task == "dates" else 4, rng)
            if task == "numbers":
                assert _words_to_number(src) == int(tgt)
            elif task == "copy":
                assert src == tgt
            elif task == "reverse":
                assert src[::-1] == tgt
            else:
                y, m, d = map(int, tgt.split("-"))
                assert date_words(y, m, d) == src
    data = TranslationData("numbers", 3)
    train_sources = {s for s, _ in data.train_pairs(2000, seed=1)}
    val_sources = {s for s, _ in data.val_pairs}
    assert not train_sources & val_sources  # held out
    assert all(holdable("numbers", 3, s, t) for s, t in data.val_pairs)
    assert {"eight", "twelve"} <= train_sources  # the short ones stay in training


def _model(data, reverse=False, layers=1, seed=0, attention=False):
    model = build_model(Seq2SeqConfig(vocab_size=len(data.vocab), embed_size=6, hidden_size=7, num_layers=layers,
                                      reverse_source=reverse, attention=attention), seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 1.2)
    return model


@pytest.mark.parametrize("layers,reverse,attention", [(1, False, False), (2, True, False), (1, True, True)])
def test_both_halves_replay_nn_lstm_teacher_forced_and_greedy(layers, reverse, attention):
    data = TranslationData("numbers", 3)
    model = _model(data, reverse, layers, attention=attention)
    source, target = "three hundred and four", "304"
    src = torch.tensor(data.encode(source[::-1] if reverse else source))
    with torch.no_grad():
        enc_out, (h, c) = model.encoder(model.embed(src)[None])          # torch's own kernel
    for teacher in (True, False):
        trace = trace_seq2seq(model, data, source, target, teacher=teacher)
        (_, s0, s1), (_, d0, d1) = trace.segments
        assert (s0, s1) == (0, len(source)) and d0 == len(source)
        top = trace.quantities["hidden_state"][-1, 0]                      # (S + T, H), the last layer
        assert np.abs(top[s0:s1] - enc_out[0].numpy()).max() <= 1e-5
        dec_in = [BOS] + (list(target) if teacher else trace.extras["emitted"][:d1 - d0 - 1])
        assert trace.inputs[d0:] == dec_in
        with torch.no_grad():
            dec_out, _ = model.decoder(model.embed(torch.tensor([data.stoi[ch] for ch in dec_in]))[None], (h, c))
        assert np.abs(top[d0:] - dec_out[0].numpy()).max() <= 1e-5
        assert trace.extras["replay_check"]["max_abs_h"] <= 1e-5
        if teacher:  # the answers the trace shows are the model's own batch forward pass (packing, masks and all)
            batch = data.tensors([(source, target)], reverse=reverse)
            with torch.no_grad():
                logits, _ = model(batch[:3])
            probs = torch.softmax(logits[0], -1).numpy()
            shown = trace.predictions[trace.predictions["rank"] == 1]
            assert list(shown["char"]) == [data.vocab[int(i)] for i in probs.argmax(-1)]
            assert np.allclose(shown["prob"].to_numpy(), probs.max(-1), atol=1e-5)
        if attention:
            align = trace.extras["alignment"]
            assert align.shape == (d1 - d0, s1 - s0) and np.allclose(align.sum(1), 1, atol=1e-5)
        if not teacher:  # greedy: each step read what the step before emitted, as translate() decodes
            out = translate(model, data, [source])[0]
            emitted = "".join(trace.extras["emitted"])
            assert emitted.split(EOS)[0] == out


def test_a_translation_model_trains_through_the_jobs_and_survives_the_model_file():
    data = TranslationData("numbers", 2, seed=3)
    cfg = Seq2SeqConfig(vocab_size=len(data.vocab), embed_size=8, hidden_size=16, reverse_source=True)
    ex = Experiment(data, cfg, TrainConfig(batch_size=8, steps=8, lr=1e-2, eval_every=0.05))
    job = ex.start(ex.train_cfg)
    wait_until(lambda: not job.view().active, what="the training job")
    view = ex.finish_job()
    assert view.status == "done" and all(np.isfinite(l) for _, l in view.history)
    acc = ex.validation_accuracy()
    assert 0 <= acc <= 1
    table = accuracy_by_length(ex.model, data)
    assert table["examples"].sum() == len(data.val_pairs)
    raw = save_bytes(ex.model, data, ex.train_cfg, ex.trained_steps, {"train": view.history, "val": []})
    loaded = load_bytes(raw)
    assert loaded.model.cfg == cfg and loaded.data.recipe == data.recipe and loaded.data.val_pairs == data.val_pairs
    for a, b in zip(ex.model.state_dict().values(), loaded.model.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ModelFileError, match="translation"):
        load_bytes(raw.replace(b'\\"task\\": \\"numbers\\"', b'\\"task\\": \\"poetry!\\"'))


def test_bad_sources_get_a_clear_message():
    data = TranslationData("numbers", 3)
    model = _model(data)
    with pytest.raises(DataError, match="empty"):
        trace_seq2seq(model, data, "   ")
    with pytest.raises(DataError, match="outside the vocabulary"):
        trace_seq2seq(model, data, "Three hundred!")
    with pytest.raises(DataError, match="at most"):
        trace_seq2seq(model, data, "one " * 40)
    with pytest.raises(DataError, match="length knob"):
        TranslationData("numbers", 9)


def test_the_bottleneck_measurement_scores_both_variants_on_the_same_held_out_sources():
    from lstm_demo.kinds.bottleneck import NAME, BottleneckConfig, measure, summary
    result, models = measure(BottleneckConfig(task="copy", length=12, hidden=8, embed=4, steps=6, batch=8))
    data = TranslationData("copy", 12)
    assert set(result.variant) == set(NAME.values())
    for variant, rows in result.groupby("variant"):
        assert rows["examples"].sum() == len(data.val_pairs)
    # the plain model's numbers, recomputed here from its answers
    plain = result[result.variant == NAME["plain"]].set_index("bin")
    outputs = translate(models["plain"], data, [s for s, _ in data.val_pairs])
    for b, row in plain.iterrows():
        group = [o == t for o, (s, t) in zip(outputs, data.val_pairs) if len(s) // 5 * 5 == b]
        assert row["accuracy"] == pytest.approx(np.mean(group)) and row["examples"] == len(group)
    assert "backwards" in summary(result) and "attention" in summary(result)
    assert models["attention"].cfg.attention and models["reversed"].cfg.reverse_source


def test_a_stored_trace_reads_back_every_extra_its_views_read():
    """Scenes store their traces as .npz; the presenter draws from the stored copy. Plain extras (the decoder's
    emitted characters, the source, the target, teacher forcing) once were dropped, and the strip said "emits '?'"."""
    from lstm_demo.trace_data import Trace
    data = TranslationData("numbers", 3)
    trace = trace_seq2seq(_model(data, False, 1, attention=True), data, "three hundred and four", "304",
                          teacher=False)
    again = Trace.from_npz(trace.to_npz())
    for name, value in trace.extras.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(again.extras[name], value), name
        else:
            assert again.extras[name] == (list(value) if isinstance(value, tuple) else value), name
    assert {"emitted", "source", "target", "teacher"} <= set(again.extras)


def _bottleneck_frame(plain, reversed_, attention, bins=(5, 10, 15, 20)):
    import pandas as pd
    from lstm_demo.kinds.bottleneck import NAME
    return pd.DataFrame([{"variant": NAME[key], "bin": b, "accuracy": a, "examples": 30}
                         for key, curve in (("plain", plain), ("reversed", reversed_), ("attention", attention))
                         for b, a in zip(bins, curve)])


def test_the_bottleneck_summary_explains_only_what_its_numbers_show():
    from lstm_demo.kinds.bottleneck import summary
    words = summary(_bottleneck_frame([0.9, 0.7, 0.5, 0.2], [0.95, 0.8, 0.6, 0.3], [0.95, 0.9, 0.9, 0.85]))
    assert "the more must squeeze through" in words and "better in 4 of 4 length groups" in words
    assert "sit right next to" in words and "65 points more of the longest" in words
    assert "**90%** of the shortest" in words and "**20%** of the longest" in words
    # the opposite numbers: no bottleneck story, backwards worse, attention no help
    words = summary(_bottleneck_frame([0.5, 0.6, 0.7, 0.8], [0.4, 0.6, 0.5, 0.7], [0.5, 0.6, 0.7, 0.78]))
    assert "squeeze" not in words and "longer sources do better" in words
    assert "better in 0, worse in 3, equal in 1 of 4 length groups" in words and "sit right next" not in words
    assert "about as many of the longest as without it" in words
    flat = summary(_bottleneck_frame([0.8, 0.8, 0.79, 0.78], [0.8] * 4, [0.7] * 4))
    assert "length makes little difference" in flat and "8 points fewer" in flat


@given(st.lists(st.floats(0, 1), min_size=2, max_size=5))
@settings(max_examples=60, deadline=None)
def test_the_bottleneck_chart_title_says_what_the_plain_curve_shows(plain):
    """The title is a verdict like the words under it: "fewer right answers" only when the longest sources get more
    than 5 points fewer right than the shortest; the opposite and the flat case get their own titles."""
    from lstm_demo import charts
    from lstm_demo.kinds.bottleneck import chart_title, summary
    bins = tuple(5 * (i + 1) for i in range(len(plain)))
    frame = _bottleneck_frame(plain, plain, plain, bins)
    title, words = chart_title(frame), summary(frame)
    drop = plain[0] - plain[-1]
    assert ("fewer right answers" in title) == (drop > 0.05) == ("squeeze" in words)
    assert ("longer sources do better" in title) == (drop < -0.05) == ("longer sources do better" in words)
    assert ("little difference" in title) == (abs(drop) <= 0.05) == ("little difference" in words)
    assert charts.bottleneck_chart(frame, title).to_dict()["title"] == title


def test_the_bottleneck_runs_view_carries_the_computed_title():
    from lstm_demo.kinds.bottleneck import BottleneckRun, chart_title
    run = BottleneckRun()
    assert run.view()["title"] is None
    run.result = _bottleneck_frame([0.5, 0.6, 0.7, 0.8], [0.5] * 4, [0.5] * 4)
    assert run.view()["title"] == chart_title(run.result) and "do better" in run.view()["title"]


@pytest.mark.parametrize("hidden,attention", [(8, False), (16, True), (128, False), (128, True)])
def test_the_handover_heading_and_caption_fit_the_model(hidden, attention):
    """"Everything the decoder knows" only without attention; the caption counts the units the chart draws."""
    from lstm_demo.kinds.translation import handover_words
    shown = min(24, hidden)
    heading, caption = handover_words(hidden, shown, attention)
    assert ("everything the decoder knows" in heading) == (not attention)
    assert ("with attention" in heading) == attention
    assert caption.startswith(f"The {shown} units" if shown < hidden else f"All {hidden} units")
    assert "24" not in caption or shown == 24
