"""The explainer's numbers against the trace (and the trace is proven against torch in test_trace.py)."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_demo.kinds import series as series_kind, text as text_kind
from lstm_demo import explain
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData, load_text_preset
from lstm_demo.models import build_model
from lstm_demo.trace import Intervention, Trace
from lstm_demo.kinds.sequence import trace_sequence

sigmoid = lambda x: 1 / (1 + math.exp(-x))


@pytest.fixture(scope="module")
def text():
    return TextData('the cats, which ate "the fish", were full. the cat was full.\n' * 6)


def traced(text, cell, layers=1, bidirectional=False):
    cfg = ModelConfig("text", vocab_size=len(text.vocab), hidden_size=5, num_layers=layers, cell=cell,
                      bidirectional=bidirectional, task="masked" if bidirectional else "next")
    return trace_sequence(build_model(cfg, seed=4), text, text.ids[:40])


@pytest.mark.parametrize("layer,direction,step", [(0, 0, 0), (1, 0, 7), (1, 1, 38), (0, 1, 12)])
def test_lstm_equation_numbers_equal_the_trace(text, layer, direction, step):
    trace = traced(text, "lstm", layers=2, bidirectional=True)
    unit = 3
    t = explain.equation_terms(trace, layer, direction, step, unit)
    at = lambda q, s=step: float(trace.get(q, layer, direction)[s, unit])
    for gate, pre in (("i", "pre_i"), ("f", "pre_f"), ("o", "pre_o")):
        assert t[gate] == pytest.approx(sigmoid(t[pre]), abs=1e-6)
    assert t["g"] == pytest.approx(math.tanh(t["pre_g"]), abs=1e-6)
    assert (t["i"], t["f"], t["g"], t["o"]) == (at("input_gate"), at("forget_gate"), at("candidate"),
                                                  at("output_gate"))
    prev = step - 1 if direction == 0 else step + 1
    expected_prev = at("cell_state", prev) if 0 <= prev < trace.n_steps else 0.0
    assert t["c_prev"] == expected_prev
    assert t["kept"] + t["written"] == pytest.approx(t["c"], abs=1e-6) and t["c"] == at("cell_state")
    assert t["h"] == pytest.approx(t["o"] * math.tanh(t["c"]), abs=1e-6) and t["h"] == at("hidden_state")


def test_gru_and_rnn_equation_numbers(text):
    gru = traced(text, "gru")
    t = explain.equation_terms(gru, 0, 0, 10, 2)
    assert t["h_prev"] == float(gru.get("hidden_state")[9, 2])
    assert t["z"] == pytest.approx(sigmoid(t["pre_z"]), abs=1e-6) and t["n"] == pytest.approx(math.tanh(t["pre_n"]))
    assert t["kept"] + t["written"] == pytest.approx(t["h"], abs=1e-6)
    rnn = traced(text, "rnn")
    t = explain.equation_terms(rnn, 0, 0, 10, 1)
    assert t["h"] == pytest.approx(math.tanh(t["pre"]), abs=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_diagram_widths_follow_the_values(text, cell):
    trace = traced(text, cell)
    terms = explain.equation_terms(trace, 0, 0, 5, 0)
    edges, nodes = explain.diagram_frames(cell, terms)
    wires = edges["quantity"] == "input"
    assert np.allclose(edges["width"][~wires], np.minimum(edges["value"][~wires].abs(), 1.5))
    assert nodes["label"].str.contains(f"{terms['h']:+.2f}", regex=False).any()
    if cell == "lstm":
        forget = edges.set_index("name").loc["f"]
        assert forget["value"] == terms["f"]


def test_the_diagram_says_its_widths_are_capped_at_the_cap_it_draws(text):
    """A cell state of 20 is drawn as wide as one of 1.5: the subtitle says so, with the cap the widths use."""
    from lstm_demo import step_charts
    trace = traced(text, "lstm")
    terms = explain.equation_terms(trace, 0, 0, 5, 0)
    edges, _ = explain.diagram_frames("lstm", {**terms, "c": 20.0, "c_prev": -35.9})
    cap = float(edges["width"].max())
    assert cap == explain.MAX_WIDTH and f"capped at {cap:g}" in explain.width_words()
    views = step_charts.main_views(trace, 0, 0, 0, "cell_state", "text", [""] * trace.n_steps, "")
    assert explain.width_words() in str(views["diagram"])  # the subtitle the diagram shows


def test_closing_the_forget_gate_thins_the_kept_path(text):
    """An intervention f := 0 must show a zero-width 'kept' path on the diagram and change c."""
    model = build_model(ModelConfig("text", vocab_size=len(text.vocab), hidden_size=5), seed=4)
    seq = text.ids[:40]
    a = trace_sequence(model, text, seq)
    b = trace_sequence(model, text, seq, intervention=Intervention(0, unit=1, start=10, gate="forget_gate"))
    edges, _ = explain.diagram_frames("lstm", explain.equation_terms(b, 0, 0, 12, 1))
    assert edges.set_index("name").loc["kept f·c(t−1)", "width"] == 0
    cmp = explain.compare_runs(a, b, "cell_state", 0, 0, 1)
    assert np.all(cmp["delta"][:10] == 0) and np.abs(cmp["delta"][10:, 1]).max() > 0
    assert set(cmp["prediction"]["run"]) == {"original", "changed"}


def test_hypothesis_signals_on_known_strings():
    assert text_kind.inside_quotes(list('a "bc" d')).tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert text_kind.bracket_depth(list("a(b[c])d")).tolist() == [0, 1, 1, 2, 2, 2, 1, 0]
    assert text_kind.after_sentence_end(list("ab. Cd")).tolist() == [0, 0, 1, 1, 0, 0]
    s = "the cats, which ate, were full.\nthe cat was ok.\n"
    sig = text_kind.plural_subject(list(s))
    assert sig[s.index(",")] == 1 and sig[s.index("were")] == 0
    assert sig[s.index("cat was") + 3] == -1 and sig[0] == 0
    assert series_kind.rising([1, 2, 1, 3]).tolist() == [0, 1, 0, 1]


def test_finder_recovers_a_planted_unit():
    """Units of noise plus one unit that follows 'inside quotes' (with noise): the finder must rank it first."""
    chars = list(load_text_preset("brackets").text[:300])
    signal = explain.hypothesis_signal("quotes", Trace("text", {"hidden_state": np.zeros((1, 1, 300, 1))}, chars,
                                                       chars, pd.DataFrame()))
    assert 0 < signal.mean() < 1
    rng = np.random.default_rng(0)
    values = rng.normal(size=(300, 12))
    values[:, 7] = 0.8 * signal + rng.normal(scale=0.3, size=300)
    values[:, 2] = -0.5 * signal + rng.normal(scale=0.4, size=300)  # anti-correlated: ranked by |r|
    ranked = explain.rank_units(values, signal)
    assert ranked["unit"].tolist()[:2] == [7, 2] and ranked["correlation"][1] < 0
    assert ranked["score"].iloc[0] > 0.7 and ranked["score"].iloc[2] < 0.25
    with pytest.raises(ValueError, match="never changes"):
        explain.rank_units(values, np.zeros(300))


def test_gate_saturation_counts_forced_gates(text):
    model = build_model(ModelConfig("text", vocab_size=len(text.vocab), hidden_size=4), seed=0)
    with torch.no_grad():
        model.rnn.bias_ih_l0[4 + 1] = 50.0   # forget gate of unit 1 always open
        model.rnn.bias_ih_l0[0 + 2] = -50.0  # input gate of unit 2 always closed
    sat = explain.gate_saturation(model, text.ids[:64].reshape(4, 16)).set_index(["gate", "unit"])
    assert sat.loc[("forget_gate", 1), "right"] == 1.0 and sat.loc[("input_gate", 2), "left"] == 1.0
    assert sat.loc[("output_gate", 0), "right"] < 1.0 and len(sat) == 3 * 4
    gru = build_model(ModelConfig("text", vocab_size=len(text.vocab), hidden_size=4, cell="gru"), seed=0)
    assert set(explain.gate_saturation(gru, text.ids[:32].reshape(2, 16))["gate"]) == {"update_gate", "reset_gate"}


def test_finder_over_windows_matches_one_long_sequence():
    """Ranking over a batch of windows = ranking over those windows laid end to end (signals restart per window)."""
    data = load_text_preset("brackets")
    model = build_model(ModelConfig("text", vocab_size=len(data.vocab), hidden_size=6), seed=0)
    x = data.ids[:120].reshape(3, 40)
    batched = explain.rank_units_on_windows(model, data, x, "quotes", "cell_state")
    traces = [trace_sequence(model, data, torch.cat([row, row[-1:]])) for row in x]
    values = np.concatenate([t.get("cell_state") for t in traces])
    signal = np.concatenate([explain.hypothesis_signal("quotes", t) for t in traces])
    direct = explain.rank_units(values, signal)
    assert batched["unit"].tolist() == direct["unit"].tolist()
    assert np.allclose(batched["correlation"], direct["correlation"], atol=1e-5)
