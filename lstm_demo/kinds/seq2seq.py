"""The encoder–decoder of the translation tutorials (Sutskever et al. 2014; Cho et al. 2014):

    source chars -> Embedding -> nn.LSTM encoder -> its final (h, c)  ──hand-over──┐
    BOS + answer -> Embedding -> nn.LSTM decoder (started from that (h, c)) -> Linear -> next answer char

Trained with teacher forcing (the decoder reads the true previous character), decoded greedily (it reads its own).
Everything the decoder knows about the source passes through the encoder's final (h, c): the bottleneck. Options:
read the source backwards (Sutskever's trick: the first words of the answer then sit close to the words they
depend on); dot-product attention (Luong et al. 2015, without input feeding): after each decoder step, its h scores
every encoder output, the softmax of the scores (the alignment) weighs them into a context, and tanh(W [h; context])
feeds the head — the fix for the bottleneck. The decoder LSTM's own inputs do not change, so its trace stays a replay.

Both halves are plain nn.LSTMs, so the trace is trace.replay on each — the decoder's from the encoder's final state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..config import LIMITS, check_bool, check_int
from .translation_data import BOS, EOS

MAX_ANSWER = 24   # characters the decoder may emit (the longest answer, a date, has 10)


@dataclass(frozen=True)
class Seq2SeqConfig:
    vocab_size: int = 0
    embed_size: int = 32
    hidden_size: int = 128
    num_layers: int = 1
    reverse_source: bool = False
    attention: bool = False

    @property
    def cell(self) -> str:
        return "lstm"

    def validate(self) -> "Seq2SeqConfig":
        for name, value, lo, hi in (("vocab size", self.vocab_size, 4, LIMITS.max_vocab),
                                    ("embedding size", self.embed_size, 1, LIMITS.max_embed),
                                    ("hidden size", self.hidden_size, 1, LIMITS.max_hidden),
                                    ("layers", self.num_layers, 1, 2)):
            check_int(name, value, lo, hi)
        check_bool("source reversed", self.reverse_source)
        check_bool("attention", self.attention)
        return self


class Seq2Seq(nn.Module):
    family = "seq2seq"
    cell = "lstm"

    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg = cfg.validate()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_size)
        self.encoder = nn.LSTM(cfg.embed_size, cfg.hidden_size, cfg.num_layers, batch_first=True)
        self.decoder = nn.LSTM(cfg.embed_size, cfg.hidden_size, cfg.num_layers, batch_first=True)
        self.head = nn.Linear(cfg.hidden_size, cfg.vocab_size)
        self.combine = nn.Linear(2 * cfg.hidden_size, cfg.hidden_size) if cfg.attention else None

    def encode(self, src: torch.Tensor, lengths: torch.Tensor):
        """src (B, S) padded ids, lengths (B,) -> (the encoder's top-layer outputs (B, S, H), zero past each source's
        end, and its final (h, c) at each source's own last character)."""
        packed = pack_padded_sequence(self.embed(src), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.encoder(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])[0], state

    def attend(self, hidden: torch.Tensor, enc_out: torch.Tensor, lengths: torch.Tensor):
        """hidden (B, T, H), enc_out (B, S, H) -> (tanh(W [h; context]) (B, T, H), alignment (B, T, S))."""
        scores = hidden @ enc_out.transpose(1, 2)                               # (B, T, S)
        pad = torch.arange(enc_out.shape[1])[None, :] >= lengths[:, None]     # (B, S): past the source's end
        align = torch.softmax(scores.masked_fill(pad[:, None, :], float("-inf")), -1)
        return torch.tanh(self.combine(torch.cat([hidden, align @ enc_out], -1))), align

    def readout(self, hidden, enc_out, lengths):
        """What the head reads: the decoder's h, or with attention tanh(W [h; context])."""
        return self.attend(hidden, enc_out, lengths)[0] if self.combine is not None else hidden

    def forward(self, batch, state=None):
        """batch = (src, lengths, decoder inputs (B, T)) -> (logits (B, T, V), the decoder's final state)."""
        src, lengths, dec = batch
        enc_out, enc_state = self.encode(src, lengths)
        hidden, state = self.decoder(self.embed(dec), enc_state)
        return self.head(self.readout(hidden, enc_out, lengths)), state

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, lengths: torch.Tensor, bos: int, eos: int, max_len: int = MAX_ANSWER):
        """Decode greedily: each step reads the character the decoder emitted before. -> (B, ≤ max_len) ids."""
        enc_out, state = self.encode(src, lengths)
        token = torch.full((src.shape[0], 1), bos, dtype=torch.long)
        out, done = [], torch.zeros(src.shape[0], dtype=torch.bool)
        for _ in range(max_len):
            hidden, state = self.decoder(self.embed(token), state)
            token = self.head(self.readout(hidden, enc_out, lengths)).argmax(-1)
            out.append(token)
            done |= token[:, 0] == eos
            if done.all():
                break
        return torch.cat(out, 1)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def decode_strings(ids: torch.Tensor, data) -> list[str]:
    """Emitted ids -> strings, cut at the end mark."""
    out = []
    for row in ids.tolist():
        chars = [data.vocab[i] for i in row]
        out.append("".join(chars[: chars.index(EOS)] if EOS in chars else chars))
    return out


@torch.no_grad()
def translate(model: Seq2Seq, data, sources: list[str]) -> list[str]:
    model.eval()
    pairs = [(s, "") for s in sources]
    src, lengths, _, _ = data.tensors(pairs, reverse=model.cfg.reverse_source)
    return decode_strings(model.greedy(src, lengths, data.stoi[BOS], data.stoi[EOS]), data)


@torch.no_grad()
def exact_match_accuracy(model: Seq2Seq, data, pairs=None) -> float:
    pairs = data.val_pairs if pairs is None else pairs
    outputs = translate(model, data, [s for s, _ in pairs])
    return float(np.mean([o == t for o, (_, t) in zip(outputs, pairs)]))


def accuracy_by_length(model: Seq2Seq, data, pairs=None) -> pd.DataFrame:
    """Exact match on held-out pairs, grouped by the source's length in characters (bins of 5)."""
    pairs = data.val_pairs if pairs is None else pairs
    outputs = translate(model, data, [s for s, _ in pairs])
    frame = pd.DataFrame({"length": [len(s) for s, _ in pairs], "right": [o == t for o, (_, t) in zip(outputs, pairs)]})
    frame["bin"] = (frame["length"] // 5) * 5
    return frame.groupby("bin", as_index=False).agg(accuracy=("right", "mean"), examples=("right", "size"))


# --- the trace of both halves ----------------------------------------------------------------------------------------

@torch.no_grad()
def trace_seq2seq(model: Seq2Seq, data, source: str, target: str | None = None, teacher: bool = False,
                  top_k: int = 5):
    """Trace one source through both halves. The decoder reads the greedy outputs (or, teacher=True, the true target)
    and starts from the encoder's final (h, c). One Trace: the encoder's steps, then the decoder's; segments mark
    them; the decoder's first step reads BOS right after the hand-over."""
    from ..trace import check_replay, replay
    from ..trace_data import CELL_QUANTITIES, Trace
    model.eval()
    data.check_source(source)
    shown_source = source[::-1] if model.cfg.reverse_source else source
    src = torch.tensor(data.encode(shown_source))
    bos, eos = data.stoi[BOS], data.stoi[EOS]
    enc = replay(model.encoder, model.embed(src))
    L = model.cfg.num_layers
    h_final = enc["hidden_state"][:, 0, -1]                                # (L, H)
    c_final = enc["cell_state"][:, 0, -1]
    if teacher:
        if target is None:
            raise ValueError("teacher forcing needs the target")
        dec_in = [bos] + data.encode(target)
    else:
        emitted = model.greedy(src[None], torch.tensor([len(src)]), bos, eos)[0].tolist()
        dec_in = [bos] + (emitted[: emitted.index(eos)] if eos in emitted else emitted[:-1])
    dec_x = model.embed(torch.tensor(dec_in))
    dec = replay(model.decoder, dec_x, state=(h_final, c_final))
    # proof on screen: each half against torch's own nn.LSTM (the decoder from the encoder's final state)
    check_enc = check_replay(model.encoder, model.embed(src), enc)
    theirs, _ = model.decoder(dec_x[None], (h_final[:, None].contiguous(), c_final[:, None].contiguous()))
    dec_err = float((theirs[0] - dec["output"]).abs().max())
    check = {"max_abs_h": max(check_enc["max_abs_h"], dec_err), "module": "torch.nn.LSTM (encoder and decoder)"}
    read = dec["output"]                                                   # (T, H): the decoder's top-layer h
    align = None
    if model.combine is not None:  # attention over the encoder's top-layer outputs (replayed above)
        read, align = model.attend(dec["output"][None], enc["output"][None], torch.tensor([len(src)]))
        read, align = read[0], align[0]
    probs = torch.softmax(model.head(read), -1)                           # (T, V)
    S, T = len(src), len(dec_in)
    truth = list(target) + [EOS] if target is not None else []
    targets = [""] * S + [truth[t] if t < len(truth) else "" for t in range(T)]
    top_p, top_i = probs.topk(min(top_k, probs.shape[-1]), -1)
    k = top_p.shape[1]
    actual = [float(probs[t, data.stoi[targets[S + t]]]) if targets[S + t] else float("nan") for t in range(T)]
    preds = pd.DataFrame({"step": np.repeat(np.arange(S, S + T), k), "rank": np.tile(np.arange(1, k + 1), T),
                          "char": [data.vocab[int(i)] for i in top_i.ravel()], "prob": top_p.ravel().numpy(),
                          "actual_prob": np.repeat(actual, k)})
    names = CELL_QUANTITIES["lstm"]
    quantities = {q: torch.cat([enc[q], dec[q]], dim=2).numpy() for q in names}  # (L, 1, S+T, H)
    pre = torch.cat([enc["pre_activation"], dec["pre_activation"]], dim=2).numpy()
    inputs = list(shown_source) + [data.vocab[i] for i in dec_in]
    trace = Trace("translation", quantities, inputs, targets, preds, pre, "lstm", "next",
                  segments=[("encoder", 0, S), ("decoder", S, S + T)])
    emitted_chars = [data.vocab[int(i)] for i in probs.argmax(-1)]
    trace.extras.update(replay_check=check, emitted=emitted_chars, source=source, target=target, teacher=teacher,
                        layers=L)
    if align is not None:
        trace.extras["alignment"] = align.numpy()                         # (T decoder steps, S source characters)
    return trace
