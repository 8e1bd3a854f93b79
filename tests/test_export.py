"""Exports: CSV that a spreadsheet cannot turn into formulas, chart files, and a snippet that really runs."""
import csv
import io

import torch

from lstm_demo import charts
from lstm_demo.config import ModelConfig, TrainConfig
from lstm_demo.data import TextData
from lstm_demo.export import neutralise, pytorch_snippet, trace_csv
from lstm_demo.models import build_model
from lstm_demo.trace import trace_sequence


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


def test_charts_render_to_png_and_svg():
    values = torch.rand(12, 4).numpy()
    spec = charts.with_data(charts.heatmap_spec("forget_gate", 0, values), cursor=charts.cursor_frame(2))
    assert charts.render(spec, "png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in charts.render(spec, "svg")[:200]
