"""ConvLSTM (issue 12, the core): its one cell function against torch.nn.LSTM and against the paper's equations
written out here with separate convolutions; the trace against the training forward pass; the moving-shapes data."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lstm_demo.config import ConfigError
from lstm_demo.kinds.convlstm import ConvLSTM, ConvLSTMConfig, convlstm_cell
from lstm_demo.config import DataError
from lstm_demo.kinds.frames_data import moving_shapes


def test_a_1x1_convlstm_on_1x1_frames_is_nn_lstm():
    """Same weights in both: the ConvLSTM's conv over [x, h] is nn.LSTM's [W_ih | W_hh], its bias b_ih + b_hh."""
    torch.manual_seed(0)
    E, H, T, B = 3, 5, 12, 2
    lstm = torch.nn.LSTM(E, H, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.uniform_(-0.8, 0.8)  # larger than the default init, so the gates leave their middle range
    x = torch.randn(B, T, E)
    h0, c0 = torch.randn(1, B, H), torch.randn(1, B, H)
    expected, _ = lstm(x, (h0, c0))
    weight = torch.cat([lstm.weight_ih_l0, lstm.weight_hh_l0], dim=1)[:, :, None, None]
    bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
    h, c = h0[0, :, :, None, None], c0[0, :, :, None, None]
    with torch.no_grad():
        for t in range(T):
            step = convlstm_cell(x[:, t, :, None, None], h, c, weight, bias)
            h, c = step.h, step.c
            assert torch.allclose(h[:, :, 0, 0], expected[:, t], atol=1e-5, rtol=0), t


def _paper_reference(x_seq, weight, bias, peep, C):
    """Shi et al. (2015), eq. 3, written with one convolution per weight matrix: W_x* on x, W_h* on h."""
    k = weight.shape[-1]
    cin = x_seq.shape[2]
    w_x, w_h = weight[:, :cin], weight[:, cin:]
    (wxi, wxf, wxg, wxo), (whi, whf, whg, who) = w_x.split(C), w_h.split(C)
    bi, bf, bg, bo = bias.split(C)
    B, _, _, Hh, Ww = x_seq.shape
    h = torch.zeros(B, C, Hh, Ww)
    c = torch.zeros(B, C, Hh, Ww)
    conv = lambda inp, w: F.conv2d(inp, w, padding=k // 2)
    zero = torch.zeros(C, Hh, Ww)
    wci, wcf, wco = (peep[0], peep[1], peep[2]) if peep is not None else (zero, zero, zero)
    hs = []
    for t in range(x_seq.shape[1]):
        x = x_seq[:, t]
        i = torch.sigmoid(conv(x, wxi) + conv(h, whi) + wci * c + bi[:, None, None])
        f = torch.sigmoid(conv(x, wxf) + conv(h, whf) + wcf * c + bf[:, None, None])
        c = f * c + i * torch.tanh(conv(x, wxg) + conv(h, whg) + bg[:, None, None])
        o = torch.sigmoid(conv(x, wxo) + conv(h, who) + wco * c + bo[:, None, None])
        h = o * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs, dim=1)


@pytest.mark.parametrize("peephole", [False, True])
def test_the_cell_follows_the_papers_equations(peephole):
    torch.manual_seed(1)
    cfg = ConvLSTMConfig(in_channels=2, hidden_channels=4, kernel=3, height=6, width=5, peephole=peephole)
    model = ConvLSTM(cfg)
    with torch.no_grad():
        model.bias.uniform_(-1, 1)
        if peephole:
            model.peep.uniform_(-1, 1)
    frames = torch.rand(2, 7, 2, 6, 5)
    _, (h, c) = model(frames)
    reference = _paper_reference(frames, model.weight.detach(), model.bias.detach(),
                                 model.peep.detach() if peephole else None, cfg.hidden_channels)
    assert torch.allclose(h, reference[:, -1], atol=1e-5, rtol=0)
    steps = model.trace(frames[0])
    for t, step in enumerate(steps):  # the trace, step by step, equals the same reference
        assert torch.allclose(step.h, reference[0, t], atol=1e-5, rtol=0), t
        assert step.i.shape == step.f.shape == step.c.shape == (4, 6, 5)
        assert 0 <= float(step.f.min()) and float(step.f.max()) <= 1


def test_the_trace_equals_the_training_forward_pass_and_its_prediction():
    torch.manual_seed(2)
    model = ConvLSTM(ConvLSTMConfig(hidden_channels=3, height=8, width=8))
    frames = torch.from_numpy(moving_shapes(1, 10, frame=8, size=2, seed=3))
    pred, (h, c) = model(frames)
    steps = model.trace(frames[0])
    assert torch.allclose(steps[-1].h, h[0], atol=1e-6) and torch.allclose(steps[-1].c, c[0], atol=1e-6)
    head = torch.sigmoid(F.conv2d(steps[4].h[None], model.head.weight, model.head.bias))
    assert torch.allclose(head[0], pred[0, 4], atol=1e-6)


def test_bad_frames_and_settings_get_clear_messages():
    model = ConvLSTM(ConvLSTMConfig(height=8, width=8))
    with pytest.raises(ConfigError, match="frames must be"):
        model(torch.zeros(1, 3, 1, 9, 8))
    nan = torch.zeros(1, 3, 1, 8, 8)
    nan[0, 1, 0, 2, 2] = float("nan")
    with pytest.raises(ConfigError, match="NaN"):
        model(nan)
    for bad in (dict(kernel=4), dict(hidden_channels=10**6), dict(height=0), dict(kernel=True)):
        with pytest.raises(ConfigError):
            ConvLSTMConfig(**bad).validate()
    with pytest.raises(DataError, match="does not fit"):
        moving_shapes(1, 5, frame=8, size=8)
    with pytest.raises(DataError, match="steps"):
        moving_shapes(1, 10**6)


def test_moving_shapes_stay_in_the_frame_and_move_steadily():
    frames = moving_shapes(20, 30, frame=16, size=4, seed=5)
    assert frames.shape == (20, 30, 1, 16, 16) and frames.dtype == np.float32
    assert set(np.unique(frames)) <= {0.0, 1.0}
    assert np.array_equal(frames, moving_shapes(20, 30, frame=16, size=4, seed=5))  # the seed decides
    assert not np.array_equal(frames, moving_shapes(20, 30, frame=16, size=4, seed=6))
    ys, xs = np.arange(16)[:, None], np.arange(16)[None, :]
    for seq in frames[:, :, 0]:
        mass = seq.sum(axis=(1, 2))
        assert (mass > 0).all()  # never leaves the frame
        cy = (seq * ys).sum(axis=(1, 2)) / mass
        cx = (seq * xs).sum(axis=(1, 2)) / mass
        step = np.hypot(np.diff(cy), np.diff(cx))
        assert step.max() <= 2 * np.sqrt(2) + 1.01 and np.median(step) >= 0.9  # 1-2 px per step, bounces included
