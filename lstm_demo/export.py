"""Exports: the trace as CSV a spreadsheet opens safely, and a plain-PyTorch snippet that reproduces a run."""
from __future__ import annotations

import pandas as pd

from .config import describe

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection advice)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def trace_csv(trace) -> str:
    """The tidy trace (step, layer, direction, unit, quantity, value, input) as CSV text."""
    frame = trace.to_frame()
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):  # pandas 3 has a str dtype
            frame[col] = frame[col].map(neutralise)
    return frame.to_csv(index=False)


def pytorch_snippet(model_cfg, train_cfg, data_description: str) -> str:
    """A self-contained script with the exact settings, using only torch (no code from this app)."""
    m, t = describe(model_cfg), describe(train_cfg)
    rnn = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn": "nn.RNN"}[m["cell"]]
    if m["vocab_size"]:  # tokens (characters, notes) go in through an embedding
        enc = f"nn.Embedding({m['vocab_size'] + (m['task'] == 'masked')}, {m['embed_size']})"
        out = m["vocab_size"]
        loss = "F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=-100)"
    else:
        enc, out = f"nn.Linear({m['input_size']}, {m['embed_size']})", 1
        loss = "F.mse_loss(out, y)"
    d = 2 if m["bidirectional"] else 1
    return f'''# Reproduce this run in plain PyTorch. Data: {data_description}
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed({t["seed"]})


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = {enc}
        self.rnn = {rnn}({m["embed_size"]}, {m["hidden_size"]}, {m["num_layers"]}, batch_first=True,
                          bidirectional={m["bidirectional"]})
        self.head = nn.Linear({m["hidden_size"] * d}, {out})

    def forward(self, x):
        hidden, _ = self.rnn(self.encoder(x))
        return self.head(hidden)


model = Model()
opt = torch.optim.Adam(model.parameters(), lr={t["lr"]})
SEQ_LEN, BATCH, STEPS, CLIP = {t["seq_len"]}, {t["batch_size"]}, {t["steps"]}, {t["grad_clip"]}
# seq: the training part (first 90 %) as ids (N,) or normalised values (N, 1); windows of SEQ_LEN, target = next item
def batch(seq):
    starts = torch.randint(0, len(seq) - SEQ_LEN, (BATCH,))
    idx = starts[:, None] + torch.arange(SEQ_LEN + 1)[None]
    chunk = seq[idx]
    return chunk[:, :-1], chunk[:, 1:]


def train(seq):
    for step in range(STEPS):
        x, y = batch(seq)
        out = model(x)
        loss = {loss}
        opt.zero_grad()
        loss.backward()
        if CLIP:
            nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
'''
