"""The two LSTMs that see (issue 12): CNN-LSTM and ConvLSTM traces against the models' own forward passes and torch's
nn.LSTM, the image-sequence data, training through the same jobs as text and series, and the model file."""
from dataclasses import replace
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lstm_demo.kinds.cnnlstm import CNNLSTMConfig, trace_cnnlstm
from lstm_demo.config import ConfigError, DataError, TrainConfig
from lstm_demo.kinds.convlstm import ConvLSTMConfig, trace_convlstm
from lstm_demo.kinds.frames_data import FramesData, digit_split, first_digit_sequences, load_digits_images
from lstm_demo.explain import step_terms
from lstm_demo.kinds import KINDS
from lstm_demo.jobs import Experiment
from lstm_demo.models import build_model
from lstm_demo.store import ModelFileError, load_bytes, save_bytes
from support import wait_until


def _randomised(model, seed=0):
    """Weights larger than the default init, so gates leave their middle range and errors would show."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 0.8)
    return model


def test_cnn_lstm_trace_is_the_models_forward_pass_at_every_step():
    cfg = CNNLSTMConfig(frame=12, conv_channels=4, embed_size=6, hidden_size=5)
    model = _randomised(build_model(cfg))
    frames, labels = first_digit_sequences(1, 7, 12, seed=3)
    trace = trace_cnnlstm(model, frames[0], int(labels[0]))
    x = torch.from_numpy(frames)
    with torch.no_grad():
        logits, _ = model(x)
    assert np.allclose(trace.extras["probs"], torch.softmax(logits[0], -1).numpy(), atol=1e-5)
    # the gates come from the one replay in trace.py; torch's fused nn.LSTM on the CNN's vectors is the reference
    with torch.no_grad():
        out, _ = model.rnn(model.encode(x))
    assert np.abs(trace.get("hidden_state") - out[0].numpy()).max() <= 1e-5
    assert trace.extras["replay_check"]["max_abs_h"] <= 1e-5
    # the first convolution's maps shown per step are that convolution, recomputed here
    maps = F.relu(F.conv2d(x[0], model.conv1.weight, model.conv1.bias, padding=1)).detach().numpy()
    assert np.allclose(trace.extras["maps"], maps, atol=1e-5)
    top = trace.predictions[trace.predictions["rank"] == 1]
    assert list(top["char"]) == [str(int(k)) for k in logits[0].argmax(-1)]


def test_convlstm_trace_matches_forward_and_each_pixel_follows_the_paper():
    cfg = ConvLSTMConfig(hidden_channels=3, kernel=3, height=12, width=12, peephole=True)
    model = _randomised(build_model(cfg), seed=1)
    data = FramesData("shapes", steps=6, frame=12, seed=2)
    frames, _ = data.sequence(0)
    trace = trace_convlstm(model, frames)
    with torch.no_grad():
        pred, (h_last, _) = model(torch.from_numpy(frames)[None])
    assert np.allclose(trace.extras["predicted"], pred[0, :, 0].detach().numpy(), atol=1e-5)
    assert trace.quantities["hidden_state"].shape == (1, 1, 6, 3, 12, 12)
    assert np.allclose(trace.quantities["hidden_state"][0, 0, -1], h_last[0].detach().numpy(), atol=1e-5)
    # one unit = one channel at one pixel: its equation terms, checked against separate convolutions over x and h
    ch, y, xx = 2, 5, 7
    unit = ch * 144 + y * 12 + xx
    terms = step_terms(trace, 0, 0, unit)
    w_x, w_h = model.weight[:, :1], model.weight[:, 1:]
    h = torch.zeros(1, 3, 12, 12)
    c = torch.zeros(1, 3, 12, 12)
    for t in range(6):
        x = torch.from_numpy(frames[t])[None]
        torch.set_grad_enabled(False)
        pre = (F.conv2d(x, w_x, padding=1) + F.conv2d(h, w_h, padding=1) + model.bias[None, :, None, None])[0]
        pre_f = pre[3 + ch, y, xx] + model.peep[1, ch, y, xx] * c[0, ch, y, xx]
        f = torch.sigmoid(pre_f)
        i = torch.sigmoid(pre[ch, y, xx] + model.peep[0, ch, y, xx] * c[0, ch, y, xx])
        assert abs(float(f) - terms["f"][t]) < 1e-5 and abs(float(pre_f) - terms["pre_f"][t]) < 1e-5
        assert abs(float(i) - terms["i"][t]) < 1e-5
        assert abs(float(c[0, ch, y, xx]) - terms["c_prev"][t]) < 1e-5
        h = torch.from_numpy(trace.quantities["hidden_state"][0, 0, t])[None]
        c = torch.from_numpy(trace.quantities["cell_state"][0, 0, t])[None]
    torch.set_grad_enabled(True)
    assert np.isnan(trace.extras["truth"][-1]).all() and np.allclose(trace.extras["truth"][0], frames[1, 0])


def test_first_digit_sequences_show_the_labelled_digit_first_and_other_digits_after():
    images, classes = load_digits_images()
    assert images.shape == (1797, 8, 8) and set(classes) == set(range(10))
    frames, labels = first_digit_sequences(10, 4, 12, seed=5)
    sums = images.sum(axis=(1, 2))
    for seq, label in zip(frames, labels):
        for t, frame in enumerate(seq[:, 0]):
            match = [k for y0 in range(5) for x0 in range(5) for k in np.flatnonzero(
                (images == frame[y0 : y0 + 8, x0 : x0 + 8]).all(axis=(1, 2)) & (sums == frame.sum()))]
            assert match, "every frame holds one of the shipped handwritten digits"
            assert (classes[match[0]] == label) == (t == 0)
    train, val = digit_split()
    assert not set(train) & set(val) and len(train) + len(val) == 1797


def test_frames_data_caps_and_bad_input_say_what_is_wrong():
    with pytest.raises(DataError, match="task"):
        FramesData("videos")
    with pytest.raises(DataError, match="frame size"):
        FramesData("shapes", frame=200)
    with pytest.raises(DataError, match="multiple of 4"):
        FramesData("shapes", frame=18)
    with pytest.raises(DataError, match="frames per sequence"):
        FramesData("shapes", steps=1000)
    model = build_model(CNNLSTMConfig(frame=12))
    with pytest.raises(ConfigError, match="frames must be"):
        model(torch.zeros(1, 3, 1, 16, 16))
    nan = torch.zeros(1, 3, 1, 12, 12)
    nan[0, 1, 0, 2, 2] = float("nan")
    with pytest.raises(ConfigError, match="NaN"):
        model(nan)
    with pytest.raises(ConfigError, match="hidden size"):
        replace(KINDS["digits"].defaults(FramesData("first_digit"))[0], hidden_size=10_000).validate()


@pytest.mark.parametrize("task", ["shapes", "first_digit"])
def test_both_train_through_the_jobs_and_survive_the_model_file(task):
    data = FramesData(task, steps=4, frame=12, seed=1)
    preset, _ = KINDS[data.kind].defaults(data)
    cfg = replace(preset, hidden_size=4, conv_channels=4, embed_size=8) if data.kind == "digits" else \
        replace(preset, hidden_channels=4)
    ex = Experiment(data, cfg, TrainConfig(batch_size=4, steps=6, lr=1e-2, eval_every=0.05))
    job = ex.start(ex.train_cfg)
    wait_until(lambda: not job.view().active, what="the training job")
    view = ex.finish_job()
    assert view.status == "done" and view.step == 6 and all(np.isfinite(l) for _, l in view.history)
    acc = ex.validation_accuracy()
    assert (acc is None) == (task == "shapes") and (acc is None or 0 <= acc <= 1)
    raw = save_bytes(ex.model, data, ex.train_cfg, ex.trained_steps, {"train": view.history, "val": []})
    loaded = load_bytes(raw)
    assert loaded.data.recipe == data.recipe and loaded.steps == 6 and loaded.model.cfg == cfg
    for (k, a), b in zip(ex.model.state_dict().items(), loaded.model.state_dict().values()):
        assert torch.equal(a, b), k
    assert np.array_equal(loaded.data.val_frames, data.val_frames)
    # a tampered recipe is refused with a message, not an exception from deep inside
    bad = raw.replace(b'\\"steps\\": 4, \\"frame\\": 12', b'\\"steps\\": 4, \\"frame\\": 20')  # the recipe's
    assert bad != raw
    with pytest.raises(ModelFileError, match="image sequences"):
        load_bytes(bad)


def test_presets_fit_their_data():
    for task in ("shapes", "moving_digits", "first_digit"):
        data = FramesData(task)
        cfg, train = KINDS[data.kind].defaults(data)
        model = build_model(cfg)
        x, _ = data.train_batch(2, 0)
        out, _ = model(torch.from_numpy(x))
        assert out.shape[:2] == (2, data.steps) and train.validate()


def test_the_family_page_opens_models_that_are_what_it_says():
    from lstm_demo.bundle import load_bundle
    from lstm_demo.family import FAMILY
    kinds = {}
    for member in FAMILY:
        model = load_bundle(member["bundle"]).model
        kinds[member["name"]] = model
    assert isinstance(kinds["Vanilla LSTM"].rnn, torch.nn.LSTM) and kinds["Vanilla LSTM"].rnn.num_layers == 1
    assert isinstance(kinds["Stacked LSTM"].rnn, torch.nn.LSTM) and kinds["Stacked LSTM"].rnn.num_layers >= 2
    assert kinds["Bidirectional LSTM"].rnn.bidirectional
    assert type(kinds["CNN-LSTM"]).__name__ == "CNNLSTM" and isinstance(kinds["CNN-LSTM"].rnn, torch.nn.LSTM)
    assert type(kinds["ConvLSTM"]).__name__ == "ConvLSTM"
    enc_dec = kinds["Encoder–decoder"]
    assert isinstance(enc_dec.encoder, torch.nn.LSTM) and isinstance(enc_dec.decoder, torch.nn.LSTM)


@pytest.mark.parametrize("first,last,label,case", [(7, 7, 7, "right"), (3, 3, 7, "misread"), (3, 7, 7, "recovered"),
                                                   (7, 3, 7, "lost"), (2, 3, 7, "wrong")])
def test_the_digit_scene_says_remembered_only_when_its_answers_show_it(first, last, label, case):
    """Five cases of the answers after the first and the last frame: a held wrong reading was kept (not "did not
    remember"), and the words name the answers, not the cell state."""
    from lstm_demo.kinds.digits import kept, remembers
    probs = np.full((5, 10), 0.01)
    probs[0, first] = probs[4, last] = 0.9
    assert kept(probs, label, 4) == case
    words = remembers(probs, label, 4)
    # numbered as the picture labels its frames (vision_charts: "frame 0" … "frame 4", "after frame 4: …")
    assert f"After the first frame (frame 0) it answers {first}" in words and f"after frame 4 it answers {last}" in words
    assert ("was kept" in words) == (case == "right") and ("held that reading" in words) == (case == "misread")
    assert ("did not remember" in words) == (case == "lost") and "cell state" not in words
    assert "4 distractors" in words or case in ("recovered", "wrong")
