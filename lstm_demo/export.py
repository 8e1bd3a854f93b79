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


def pytorch_snippet(model_cfg, train_cfg, data_description: str, vocab=None) -> str:
    """A self-contained script with the exact settings, using only torch (no code from this app): the next-item
    task, or the fill-in task as the app trains it (kinds.sequence.mask_windows: MASK_RATE of the characters, or of
    the words — `vocab` says which ids are letters — hidden behind an extra id, the loss on those only)."""
    from .kinds.sequence import MASK_RATE
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
    batch = _masked_batch(m, t, MASK_RATE, vocab) if m.get("task") == "masked" else NEXT_BATCH
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
{batch}

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


NEXT_BATCH = """# seq: the training part (first 90 %) as ids (N,) or normalised values (N, 1); windows of SEQ_LEN, target = next item
def batch(seq):
    starts = torch.randint(0, len(seq) - SEQ_LEN, (BATCH,))
    idx = starts[:, None] + torch.arange(SEQ_LEN + 1)[None]
    chunk = seq[idx]
    return chunk[:, :-1], chunk[:, 1:]
"""


def _masked_batch(m: dict, t: dict, rate: float, vocab) -> str:
    words = t.get("hide") == "words" and vocab is not None and all(len(v) == 1 for v in vocab)
    head = (f"# seq: the training part (first 90 %) as ids (N,); windows of SEQ_LEN with {rate:.0%} of the "
            + ("words" if words else "items") + " hidden behind MASK_ID (at least one per window);\n"
            "# the target is the hidden item there and -100 (ignored) elsewhere\n"
            f"MASK_ID, RATE = {m['vocab_size']}, {rate}\n")
    if words:
        head += f"LETTERS = torch.tensor({[v.isalpha() for v in vocab]})  # which ids are letters (a word's)\n"
        hide = """    is_letter = LETTERS[x]
    first = is_letter & ~torch.cat([torch.zeros(BATCH, 1, dtype=torch.bool), is_letter[:, :-1]], 1)
    word = torch.cumsum(first, 1)  # the word each position belongs to
    hide = is_letter & torch.gather(torch.rand(BATCH, SEQ_LEN + 1) < RATE, 1, word)
"""
    else:
        hide = "    hide = torch.rand(x.shape) < RATE\n"
    return head + """def batch(seq):
    starts = torch.randint(0, len(seq) - SEQ_LEN, (BATCH,))
    x = seq[starts[:, None] + torch.arange(SEQ_LEN)[None]]
""" + hide + """    hide[torch.arange(BATCH), torch.randint(0, SEQ_LEN, (BATCH,))] = True
    return torch.where(hide, MASK_ID, x), torch.where(hide, x, -100)
"""
