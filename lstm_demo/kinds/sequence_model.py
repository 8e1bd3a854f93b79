"""The sequence family's model (kinds/sequence.py): one recurrent stack between an input and an output layer.

    text:   ids (B, T)      -> Embedding -> (B, T, E) -> LSTM/GRU/RNN -> (B, T, D*H) -> Linear -> logits (B, T, V)
    melody: note ids (B, T) -> the same as text, over note tokens ("A4 ♩", "bar |", …)
    series: values (B, T, 1) -> Linear    -> (B, T, E) -> LSTM/GRU/RNN -> (B, T, D*H) -> Linear -> next value (B, T, 1)

For the fill-in-the-blank task the embedding has one extra row, the mask token (id = vocab_size).
"""
from __future__ import annotations

from torch import nn

RECURRENT = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class SequenceModel(nn.Module):
    def __init__(self, cfg):  # cfg: kinds.sequence.ModelConfig
        super().__init__()
        self.cfg = cfg.validate()
        if cfg.vocab_size:  # tokens (characters, notes): a vector per token; a series (no vocabulary): a projection
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
