"""The browser-kept model's words (lstm_demo/ui/keep.py); the round trip itself runs in Chromium
(tests/e2e/test_keep_browser.py)."""
from types import SimpleNamespace

import pytest

from lstm_demo.kinds.cnnlstm import CNNLSTMConfig
from lstm_demo.kinds.convlstm import ConvLSTMConfig
from lstm_demo.kinds.seq2seq import Seq2SeqConfig
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.ui import keep


@pytest.mark.parametrize("seconds, said", [
    (0, ", kept less than a minute ago"), (29, ", kept less than a minute ago"), (31, ", kept 1 minute ago"),
    (150, ", kept 2 minutes ago"), (119 * 60, ", kept 119 minutes ago"), (120 * 60, ", kept 2 hours ago"),
    (47 * 3600, ", kept 47 hours ago"), (48 * 3600, ", kept 2 days ago"),
    (-5, ""), (None, ""), ("soon", ""), (float("nan"), "")])
def test_the_age_of_the_kept_copy_in_words(seconds, said):
    assert keep._age(seconds) == said


@pytest.mark.parametrize("kind, cfg, said", [
    ("text", ModelConfig(kind="text", vocab_size=30, hidden_size=64, cell="gru"),
     "GRU, 1 layer(s) × 64 units, 1,000 steps"),
    ("series", ModelConfig(kind="series", hidden_size=32), "LSTM, 1 layer(s) × 32 units, 1,000 steps"),
    ("frames", ConvLSTMConfig(hidden_channels=8), "ConvLSTM 8 ch, 3×3, 1,000 steps"),
    ("digits", CNNLSTMConfig(hidden_size=32), "CNN-LSTM 8 maps → 32 units, 1,000 steps"),
    ("translation", Seq2SeqConfig(vocab_size=40, hidden_size=128),
     "encoder–decoder LSTM 1 × 128 units, 1,000 steps")])
def test_the_label_says_the_model_and_passes_the_label_check(kind, cfg, said):
    ex = SimpleNamespace(kind=kind, model_cfg=cfg, trained_steps=1000)
    assert keep.describe(ex) == said
    assert keep._LABEL.match(said)


@pytest.mark.parametrize("label", ["<img src=x onerror=alert(1)>", "**bold** [link](http://x)", "", "a" * 121])
def test_a_label_the_app_never_writes_is_not_shown(label):
    assert not keep._LABEL.match(label)
