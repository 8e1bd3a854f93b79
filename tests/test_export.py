"""Exports: CSV that a spreadsheet cannot turn into formulas, chart files, and a snippet that really runs."""
import csv
import io

import pytest
import torch

import numpy as np

from lstm_demo import charts, step_charts
from lstm_demo.config import TrainConfig
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData
from lstm_demo.export import neutralise, pytorch_snippet, trace_csv
from lstm_demo.models import build_model
from lstm_demo.kinds.sequence import trace_sequence


def test_csv_neutralises_formula_cells_and_keeps_numbers():
    data = TextData("=1+2 @SUM(A1) -x +y\t'z " * 4)
    model = build_model(ModelConfig("text", vocab_size=len(data.vocab), hidden_size=3))
    trace = trace_sequence(model, data, data.ids[:20])
    rows = list(csv.DictReader(io.StringIO(trace_csv(trace))))
    assert len(rows) == 6 * 19 * 3
    inputs = {r["input"] for r in rows}
    assert "'=" in inputs and "'@" in inputs and "'+" in inputs and "=" not in inputs and "@" not in inputs
    assert all(not v.startswith(("=", "+", "@", "-")) for v in inputs)
    assert abs(float(rows[0]["value"]) - float(trace.get(rows[0]["quantity"])[0, 0])) < 1e-7  # numbers stay numbers
    assert neutralise(-0.5) == -0.5 and neutralise("a=b") == "a=b"


def test_snippet_builds_the_same_model_and_trains():
    cfg = ModelConfig("text", vocab_size=11, embed_size=5, hidden_size=7, num_layers=2, cell="gru")
    code = pytorch_snippet(cfg, TrainConfig(seq_len=8, batch_size=2, steps=3, lr=0.01), "test data")
    ns = {}
    exec(compile(code, "snippet", "exec"), ns)
    assert sum(p.numel() for p in ns["model"].parameters()) == build_model(cfg).n_params()
    ns["train"](torch.randint(0, 11, (200,)))  # three real optimiser steps


@pytest.mark.parametrize("hide", ["chars", "words"])
def test_the_fill_in_snippet_trains_the_fill_in_task(hide):
    """A fill-in model's script hides items behind the extra id and scores only those (not the next item)."""
    data = TextData("the cats were full. the cat was full. " * 4)
    V = len(data.vocab)
    cfg = ModelConfig("text", vocab_size=V, embed_size=5, hidden_size=7, task="masked", bidirectional=True)
    code = pytorch_snippet(cfg, TrainConfig(seq_len=16, batch_size=64, steps=3, lr=0.01, hide=hide), "test data",
                           data.vocab)
    ns = {}
    exec(compile(code, "snippet", "exec"), ns)
    assert sum(p.numel() for p in ns["model"].parameters()) == build_model(cfg).n_params()
    seq = torch.as_tensor(data.ids)
    x, y = ns["batch"](seq)
    hidden = y != -100
    assert hidden.any(1).all() and (x[hidden] == V).all() and (x[~hidden] != V).all()
    assert 0.05 < hidden.float().mean() < 0.4            # about 15 % hidden, not every position
    letters = torch.tensor([c.isalpha() for c in data.vocab])
    if hide == "words":  # whole words hidden (besides the one position forced per window)
        original = torch.where(hidden, y, x)
        partial = 0
        for b in range(x.shape[0]):
            word = []
            for t in range(x.shape[1] + 1):
                if t < x.shape[1] and letters[original[b, t]]:
                    word.append(bool(hidden[b, t]))
                    continue
                if word and 0 < sum(word) < len(word):
                    partial += 1
                    assert sum(word) == 1  # only the forced single position hides part of a word
                word = []
        assert partial <= x.shape[0] and hidden.sum() > x.shape[0]  # most hidden letters came as whole words
    ns["train"](seq)  # three real optimiser steps


def test_charts_render_to_png_and_svg():
    values = torch.rand(12, 4).numpy()
    spec = step_charts.at_step(step_charts.heatmap_spec("forget_gate", 0, values), 2)
    assert charts.render(spec, "png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in charts.render(spec, "svg")[:200]


def test_chart_exports_show_the_layer_direction_unit_and_step_on_screen():
    """The exported equations are those of the view on screen — not layer 1's forward direction."""
    import re

    from lstm_demo.ui.exports import chart_at_step
    data = TextData("the cats were full. the cat was full. " * 4)
    cfg = ModelConfig("text", vocab_size=len(data.vocab), hidden_size=4, num_layers=2, task="masked",
                      bidirectional=True)
    trace = trace_sequence(build_model(cfg, seed=3), data, data.ids[:30])
    layer, direction, step, unit = 1, 1, 11, 2
    svg = charts.render(chart_at_step(trace, "equations", layer, direction, step, unit), "svg").decode()
    shown = [t.replace("−", "-") for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    f = trace.get("forget_gate", layer, direction)[step, unit]
    h = trace.get("hidden_state", layer, direction)[step, unit]
    assert f"Equations for unit u{unit} at step {step}" in shown
    assert any(t.startswith("f = σ(") and t.endswith(f"= {f:.3f}   forget gate") for t in shown)
    assert any(t.endswith(f"= {h:.3f}") for t in shown) and "c(t) = f·c(t+1) + i·g" in shown  # read backwards
    other = trace.get("forget_gate", 0, 0)[step, unit]
    assert not any(t.endswith(f"= {other:.3f}   forget gate") for t in shown) or np.isclose(other, f, atol=5e-4)
