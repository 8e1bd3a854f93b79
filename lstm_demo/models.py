"""One sequence model for both kinds of data:

    text:   ids (B, T)      -> Embedding -> (B, T, E) -> LSTM/GRU/RNN -> (B, T, D*H) -> Linear -> logits (B, T, V)
    series: values (B, T, 1) -> Linear    -> (B, T, E) -> LSTM/GRU/RNN -> (B, T, D*H) -> Linear -> next value (B, T, 1)

Training uses PyTorch's fused kernels; trace.py replays the same weights step by step to read the gates.
For the fill-in-the-blank task the embedding has one extra row, the mask token (id = vocab_size).
"""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig

RECURRENT = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class SequenceModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg.validate()
        if cfg.kind == "text":
            self.encoder = nn.Embedding(cfg.vocab_size + (cfg.task == "masked"), cfg.embed_size)
            out_size = cfg.vocab_size
        else:
            self.encoder = nn.Linear(cfg.input_size, cfg.embed_size)
            out_size = 1
        self.rnn = RECURRENT[cfg.cell](cfg.embed_size, cfg.hidden_size, cfg.num_layers, batch_first=True,
                                       bidirectional=cfg.bidirectional)
        self.head = nn.Linear(cfg.hidden_size * (2 if cfg.bidirectional else 1), out_size)

    @property
    def mask_id(self) -> int:
        return self.cfg.vocab_size

    def forward(self, x, state=None):
        """x: (B, T) ids or (B, T, 1) values -> (outputs (B, T, V or 1), final state)."""
        hidden, state = self.rnn(self.encoder(x), state)  # (B, T, D*H)
        return self.head(hidden), state

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_model(cfg, seed: int = 0) -> nn.Module:
    """Same config + seed -> same initial weights (the global RNG is not touched). The config's type picks the
    family: ModelConfig (text and series), ConvLSTMConfig, CNNLSTMConfig, Seq2SeqConfig (translation)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if isinstance(cfg, ModelConfig):
            return SequenceModel(cfg)
        from .cnnlstm import CNNLSTM, CNNLSTMConfig
        from .convlstm import ConvLSTM, ConvLSTMConfig
        from .seq2seq import Seq2Seq, Seq2SeqConfig
        if isinstance(cfg, Seq2SeqConfig):
            return Seq2Seq(cfg)
        if isinstance(cfg, ConvLSTMConfig):
            return ConvLSTM(cfg)
        if isinstance(cfg, CNNLSTMConfig):
            return CNNLSTM(cfg)
        raise TypeError(f"not a model config: {type(cfg).__name__}")


def count_parameters(cfg: ModelConfig) -> int:
    """Parameters of the model a config describes, without allocating its weights (meta device)."""
    with torch.device("meta"):
        return SequenceModel(cfg).n_params()


def max_parameters() -> int:
    """The most parameters any config within the caps can have: sizes file and memory limits."""
    from .config import LIMITS
    biggest = ModelConfig("text", vocab_size=LIMITS.max_vocab, embed_size=LIMITS.max_embed,
                          hidden_size=LIMITS.max_hidden, num_layers=LIMITS.max_layers, cell="lstm", task="masked",
                          bidirectional=True)
    return count_parameters(biggest)
