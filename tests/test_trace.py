"""The replay must reproduce torch.nn.LSTM — the reference — not agree with itself."""
import numpy as np
import pytest
import torch
from torch import nn

from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData
from lstm_demo.kinds.series_data import load_series_preset
from lstm_demo.models import build_model
from lstm_demo.trace import QUANTITIES, Intervention, gru_cell, lstm_cell, replay, replay_lstm
from lstm_demo.kinds.sequence import trace_sequence

TOL = 1e-5


def reference_states(lstm, x, h0, c0):
    """h and c of every layer after every step, from nn.LSTM itself fed one step at a time: (T, L, H) each."""
    hs, cs, state = [], [], (h0[:, None], c0[:, None])
    for t in range(len(x)):
        _, state = lstm(x[t : t + 1, None], state)  # (1, 1, E) in nn.LSTM's (T, B, E) layout
        hs.append(state[0][:, 0]); cs.append(state[1][:, 0])
    return torch.stack(hs), torch.stack(cs)


@pytest.mark.parametrize("input_size,hidden,layers", [(3, 1, 1), (5, 8, 1), (7, 16, 2), (4, 33, 3)])
def test_replay_matches_nn_lstm_every_step_every_layer(input_size, hidden, layers):
    torch.manual_seed(hidden)
    lstm = nn.LSTM(input_size, hidden, layers)
    T = 23
    x = torch.randn(T, input_size)
    h0, c0 = torch.randn(layers, hidden), torch.randn(layers, hidden)  # non-zero initial state
    got = replay_lstm(lstm, x, (h0, c0))
    with torch.no_grad():
        ref_h, ref_c = reference_states(lstm, x, h0, c0)
        out, _ = lstm(x[:, None], (h0[:, None], c0[:, None]))
    assert torch.allclose(got["hidden_state"][:, 0].permute(1, 0, 2), ref_h, atol=TOL)
    assert torch.allclose(got["cell_state"][:, 0].permute(1, 0, 2), ref_c, atol=TOL)
    assert torch.allclose(got["output"], out[:, 0], atol=TOL)


def test_replay_matches_bidirectional_stacked_lstm():
    torch.manual_seed(1)
    lstm = nn.LSTM(4, 6, 2, bidirectional=True)
    x = torch.randn(11, 4)
    h0, c0 = torch.randn(4, 6), torch.randn(4, 6)
    got = replay_lstm(lstm, x, (h0, c0))
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x[:, None], (h0[:, None], c0[:, None]))
    assert torch.allclose(got["output"], out[:, 0], atol=TOL)
    # final states: forward direction ends at the last step, reverse at step 0
    for layer in range(2):
        assert torch.allclose(got["hidden_state"][layer, 0, -1], h_n[2 * layer, 0], atol=TOL)
        assert torch.allclose(got["hidden_state"][layer, 1, 0], h_n[2 * layer + 1, 0], atol=TOL)
        assert torch.allclose(got["cell_state"][layer, 1, 0], c_n[2 * layer + 1, 0], atol=TOL)


def test_gates_equal_what_nn_lstm_itself_implies():
    """torch does not expose its gates, but its own outputs and gradients pin them down. One nn.LSTM step from the
    same x and h(t-1) with c(t-1) = 0 and c(t-1) = 1 gives c = i·g and c = f + i·g; h = o·tanh(c); and autograd through
    nn.LSTM gives dc/db_i = i·g·(1 - i), so i = 1 - (dc/db_i)/(i·g) and g = (i·g)/i. The replay's gates must equal
    these at every step — a check that shares no code or expression with the replay."""
    torch.manual_seed(0)
    H = 10
    lstm = nn.LSTM(3, H, 1)
    x = torch.randn(30, 3) * 2
    got = replay_lstm(lstm, x)
    h, c = torch.zeros(1, 1, H), torch.zeros(1, 1, H)
    for t in range(len(x)):
        xt = x[t : t + 1, None]
        with torch.no_grad():
            c_zero = lstm(xt, (h, torch.zeros_like(c)))[1][1][0, 0]
            c_one = lstm(xt, (h, torch.ones_like(c)))[1][1][0, 0]
            _, (h_next, c_next) = lstm(xt, (h, c))
        lstm.zero_grad()
        lstm(xt, (h, torch.zeros_like(c)))[1][1].sum().backward()
        dc_dbi = lstm.bias_ih_l0.grad[:H]                        # rows [i | f | g | o] (torch.nn.LSTM docs)
        f_ref, ig_ref = c_one - c_zero, c_zero
        o_ref = h_next[0, 0] / torch.tanh(c_next[0, 0])
        i_ref = 1 - dc_dbi / ig_ref
        g_ref = ig_ref / i_ref
        step = {q: got[q][0, 0, t] for q in ("input_gate", "forget_gate", "candidate", "output_gate")}
        assert torch.allclose(step["forget_gate"], f_ref, atol=1e-5)
        assert torch.allclose(step["output_gate"], o_ref, atol=1e-4)
        usable = ig_ref.abs() > 1e-3  # i and g are recoverable where i·g is not ~0
        assert torch.allclose(step["input_gate"][usable], i_ref[usable], atol=1e-3)
        assert torch.allclose(step["candidate"][usable], g_ref[usable], atol=1e-3)
        assert torch.allclose(got["cell_state"][0, 0, t], c_next[0, 0], atol=1e-5)
        h, c = h_next, c_next
    for gate in ("input_gate", "forget_gate", "output_gate"):
        assert got[gate].min() > 0 and got[gate].max() < 1


def test_lstm_cell_gate_order_is_pytorchs():
    """A bias that opens only the forget slice (rows H..2H) must move only f: proves the i, f, g, o split."""
    H = 2
    w_ih, w_hh = torch.zeros(4 * H, 1), torch.zeros(4 * H, H)
    b = torch.zeros(4 * H)
    b[H : 2 * H] = 10.0
    step = lstm_cell(torch.zeros(1), torch.zeros(H), torch.ones(H), w_ih, w_hh, b, torch.zeros(4 * H))
    assert torch.all(step.forget_gate > 0.99) and torch.allclose(step.input_gate, torch.full((H,), 0.5))
    assert torch.allclose(step.cell_state, step.forget_gate * 1.0)  # g = tanh(0) = 0 writes nothing


def test_trace_text_predictions_match_model_forward():
    data = TextData("the cat was full. the cats were full. " * 3)
    model = build_model(ModelConfig("text", vocab_size=len(data.vocab), hidden_size=12, num_layers=2), seed=3)
    seq = data.ids[:40]
    trace = trace_sequence(model, data, seq, top_k=3)
    with torch.no_grad():
        probs = torch.softmax(model(seq[None, :-1])[0][0], -1)
    top1 = trace.predictions[trace.predictions["rank"] == 1]
    assert np.allclose(top1["prob"].to_numpy(), probs.max(-1).values.numpy(), atol=TOL)
    assert "".join(trace.inputs) == data.decode(seq[:-1]) and "".join(trace.targets) == data.decode(seq[1:])
    assert trace.quantities["cell_state"].shape == (2, 1, 39, 12)


def test_trace_series_prediction_in_original_units():
    data = load_series_preset("seattle_daily")
    model = build_model(ModelConfig("series", hidden_size=8), seed=0)
    seq = data.normed[:50]
    trace = trace_sequence(model, data, seq)
    with torch.no_grad():
        direct = data.denorm(model(seq[None, :-1])[0][0, :, 0].numpy())
    assert np.allclose(trace.predictions["predicted"], direct, atol=1e-4)
    assert np.allclose(trace.inputs, data.values[:49], atol=1e-4)  # float32 round trip of the normalisation


def test_tidy_frame_has_every_quantity_step_layer_unit():
    data = TextData("abcabcabcab" * 4)
    model = build_model(ModelConfig("text", vocab_size=3, hidden_size=4, num_layers=2))
    frame = trace_sequence(model, data, data.ids[:11]).to_frame()
    assert set(frame.columns) >= {"step", "layer", "unit", "quantity", "value", "input"}
    assert len(frame) == len(QUANTITIES) * 2 * 10 * 4 and set(frame.direction) == {"forward"}
    one = frame[(frame.quantity == "cell_state") & (frame.layer == 1) & (frame.step == 9) & (frame.unit == 3)]
    assert len(one) == 1 and one["input"].iloc[0] == data.text[9]


def reference_outputs(rnn, x, h0):
    """Every layer's h after every step from the torch module itself, one step at a time: (T, L*D, H)."""
    hs, h = [], h0[:, None]
    for t in range(len(x)):
        _, h = rnn(x[t : t + 1, None], h)
        hs.append(h[:, 0])
    return torch.stack(hs)


@pytest.mark.parametrize("cls", [nn.GRU, nn.RNN])
@pytest.mark.parametrize("hidden,layers", [(1, 1), (9, 2), (16, 3)])
def test_replay_matches_nn_gru_and_rnn(cls, hidden, layers):
    torch.manual_seed(hidden + layers)
    rnn = cls(5, hidden, layers)
    x = torch.randn(19, 5)
    h0 = torch.randn(layers, hidden)
    got = replay(rnn, x, h0)
    with torch.no_grad():
        ref = reference_outputs(rnn, x, h0)
        out, _ = rnn(x[:, None], h0[:, None])
    assert torch.allclose(got["hidden_state"][:, 0].permute(1, 0, 2), ref, atol=TOL)
    assert torch.allclose(got["output"], out[:, 0], atol=TOL)


@pytest.mark.parametrize("cls", [nn.GRU, nn.RNN, nn.LSTM])
def test_replay_matches_bidirectional_stacked_gru_rnn_lstm_batched(cls):
    torch.manual_seed(2)
    rnn = cls(3, 7, 2, bidirectional=True)
    x = torch.randn(13, 4, 3)  # (T, B, E): the batched replay the saturation statistics use
    with torch.no_grad():
        out, _ = rnn(x)
    got = replay(rnn, x)
    assert got["hidden_state"].shape == (2, 2, 13, 4, 7)
    assert torch.allclose(got["output"], out, atol=TOL)


def test_gru_cell_gate_order_and_update_rule():
    """Bias opening only the update slice (rows H..2H) makes h keep h_prev: proves the r, z, n split."""
    H = 3
    b = torch.zeros(3 * H)
    b[H : 2 * H] = 20.0
    h_prev = torch.tensor([0.5, -0.2, 0.9])
    step = gru_cell(torch.zeros(1), h_prev, torch.zeros(3 * H, 1), torch.zeros(3 * H, H), b, torch.zeros(3 * H))
    assert torch.all(step.update_gate > 0.999) and torch.allclose(step.reset_gate, torch.full((H,), 0.5))
    assert torch.allclose(step.hidden_state, h_prev, atol=1e-6)


def test_intervention_clamps_forget_gate_from_the_start_step_only():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 6, 1)
    x = torch.randn(20, 3)
    base = replay(lstm, x)
    cut = replay(lstm, x, intervention=Intervention(layer=0, unit=2, start=8, action="clamp", gate="forget_gate",
                                                    value=0.0))
    assert torch.equal(base["cell_state"][0, 0, :8], cut["cell_state"][0, 0, :8])  # before: identical
    assert torch.all(cut["forget_gate"][0, 0, 8:, 2] == 0)
    i, g = cut["input_gate"][0, 0, 8, 2], cut["candidate"][0, 0, 8, 2]
    assert torch.allclose(cut["cell_state"][0, 0, 8, 2], i * g)  # forgetting everything keeps only what is written
    zero = replay(lstm, x, intervention=Intervention(layer=0, unit=4, start=5, action="zero"))
    assert torch.all(zero["cell_state"][0, 0, 5:, 4] == 0) and torch.all(zero["hidden_state"][0, 0, 5:, 4] == 0)
    assert not torch.allclose(zero["hidden_state"][0, 0, 6:], base["hidden_state"][0, 0, 6:])  # it spreads


def test_masked_task_trace_hides_positions_and_scores_them():
    data = TextData("the cats were full. the cat was full. " * 4)
    cfg = ModelConfig("text", vocab_size=len(data.vocab), hidden_size=6, bidirectional=True, task="masked",
                      cell="gru")
    model = build_model(cfg, seed=1)
    seq = data.ids[:21]
    mask = np.zeros(20, dtype=bool)
    mask[[3, 11]] = True
    trace = trace_sequence(model, data, seq, mask=mask)
    assert trace.inputs[3] == "▮" and trace.inputs[4] == data.text[4]
    assert "".join(trace.targets) == data.text[:20]  # each step's target is its own original character
    assert trace.n_directions == 2 and trace.names == ("reset_gate", "update_gate", "new_gate", "hidden_state")
    with torch.no_grad():
        x = torch.where(torch.from_numpy(mask), model.mask_id, seq[:-1])
        probs = torch.softmax(model(x[None])[0][0, :, : len(data.vocab)], -1)
    top1 = trace.predictions[trace.predictions["rank"] == 1]
    assert np.allclose(top1["prob"].to_numpy(), probs.max(-1).values.numpy(), atol=TOL)


def _reverse_direction_as_forward_lstm(bi: nn.LSTM, layer: int) -> nn.LSTM:
    """The backward half of a bidirectional layer is an ordinary LSTM reading the flipped sequence."""
    one = nn.LSTM(getattr(bi, f"weight_ih_l{layer}").shape[1], bi.hidden_size, 1)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(one, f"{name}_l0").copy_(getattr(bi, f"{name}_l{layer}_reverse"))
    return one


@pytest.mark.parametrize("action", ["clamp", "zero"])
def test_interventions_in_the_backward_direction_match_nn_lstm_with_its_state_edited(action):
    """Reference without the replay: nn.LSTM on the flipped sequence, one step at a time, editing the unit's state.
    Closing the forget gate from step s on equals feeding c(t+1)[u] = 0 into each of those steps; silencing the unit
    equals setting its h and c to 0 after each of them. The backward direction reads t = T-1 … 0, so "from step s
    on" means t <= s."""
    torch.manual_seed(4)
    bi = nn.LSTM(3, 5, 2, bidirectional=True)
    T, unit, start = 20, 2, 12
    x = torch.randn(T, 3)
    got = replay(bi, x, intervention=Intervention(layer=0, unit=unit, start=start, action=action, value=0.0,
                                                  gate="forget_gate", direction=1))
    base = replay(bi, x)
    ref = _reverse_direction_as_forward_lstm(bi, 0)
    h, c = torch.zeros(1, 1, 5), torch.zeros(1, 1, 5)
    hs, cs = [], []
    with torch.no_grad():
        for k, t in enumerate(range(T - 1, -1, -1)):
            active = t <= start
            if active and action == "clamp":
                c = c.clone()
                c[..., unit] = 0.0
            _, (h, c) = ref(x[t : t + 1, None], (h, c))
            if active and action == "zero":
                h, c = h.clone(), c.clone()
                h[..., unit] = 0.0
                c[..., unit] = 0.0
            hs.append(h[0, 0])
            cs.append(c[0, 0])
    ref_h = torch.stack(hs).flip(0)  # back to the original time order
    ref_c = torch.stack(cs).flip(0)
    assert torch.allclose(got["hidden_state"][0, 1], ref_h, atol=TOL)
    assert torch.allclose(got["cell_state"][0, 1], ref_c, atol=TOL)
    assert torch.equal(got["hidden_state"][0, 0], base["hidden_state"][0, 0])         # forward half untouched
    assert torch.equal(got["hidden_state"][0, 1, start + 1 :], base["hidden_state"][0, 1, start + 1 :])  # not yet
    assert not torch.allclose(got["hidden_state"][1], base["hidden_state"][1])        # the layer above hears it


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_proof_on_screen_reports_the_true_difference_and_catches_a_broken_replay(cell, monkeypatch):
    """trace_sequence's replay_check is what the page shows. Reference: torch's own module run on the same input
    here, compared with the replayed top layer. A replay broken by 1e-3 must show up as about that much."""
    from lstm_demo import trace as trace_mod
    data = TextData("the cats were full. the cat was full. " * 4)
    model = build_model(ModelConfig("text", vocab_size=len(data.vocab), hidden_size=5, num_layers=2, cell=cell,
                                    task="masked", bidirectional=True), seed=6)
    tr = trace_sequence(model, data, data.ids[:30])
    check = tr.extras["replay_check"]
    with torch.no_grad():
        x = torch.where(torch.from_numpy(tr.masked), model.mask_id, data.ids[:29])
        theirs = model.rnn(model.encoder(x)[None])[0][0]       # (T, 2H): the top layer, both directions
    ours = torch.cat([torch.from_numpy(tr.get("hidden_state", 1, 0)), torch.from_numpy(tr.get("hidden_state", 1, 1))],
                     dim=-1)
    assert check["max_abs_h"] >= float((theirs - ours).abs().max()) - 1e-7 and check["max_abs_h"] < 1e-5
    assert len(check["by_layer"]) == 4 and check["module"] == f"torch.nn.{cell.upper()}"

    name = {"lstm": "lstm_cell", "gru": "gru_cell", "rnn": "rnn_cell"}[cell]
    real = getattr(trace_mod, name)

    def broken(*args, **kw):
        out = real(*args, **kw)
        return out._replace(hidden_state=out.hidden_state + 1e-3)
    monkeypatch.setattr(trace_mod, name, broken)
    assert trace_sequence(model, data, data.ids[:30]).extras["replay_check"]["max_abs_h"] > 5e-4
