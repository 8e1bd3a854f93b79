"""What a (partly) trained model predicts: sampled text, and one-step-ahead forecasts on validation data."""
from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def generate_text(model, data, prompt: str = "", length: int = 200, temperature: float = 0.8, seed: int = 0) -> str:
    """Sample `length` characters after `prompt` (characters not in the vocabulary are dropped)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    ids = [data.stoi[ch] for ch in prompt if ch in data.stoi] or [int(data.ids[0])]
    out, state = model(torch.tensor([ids]))              # warm up on the prompt: (1, P, V)
    logits, chars = out[0, -1], []
    for _ in range(length):
        probs = torch.softmax(logits / max(temperature, 1e-3), dim=-1)
        nxt = int(torch.multinomial(probs, 1, generator=gen))
        chars.append(data.vocab[nxt])
        out, state = model(torch.tensor([[nxt]]), state)
        logits = out[0, -1]
    return "".join(chars)


@torch.no_grad()
def forecast_validation(model, data, seq_len: int, max_points: int = 400):
    """One-step-ahead predictions over the start of the validation part, in original units.

    Returns (index, actual, predicted) arrays; index counts points from the start of the whole series.
    """
    model.eval()
    train, val = data.parts(seq_len)
    n = min(len(val), max_points)
    out, _ = model(val[None, : n - 1])                    # (1, n-1, 1), teacher forcing: true values as input
    index = np.arange(len(train) + 1, len(train) + n)
    return index, data.denorm(val[1:n, 0].numpy()), data.denorm(out[0, :, 0].numpy())


@torch.no_grad()
def fill_in(model, data, ids: torch.Tensor, mask) -> tuple[str, str, float]:
    """Fill-in-the-blank models: hide `mask` (T,) bool positions of ids (T,) and let the model guess them.
    Returns (text with the hidden characters shown as ▮, text with the model's guesses there, accuracy)."""
    from .trace import MASK
    model.eval()
    mask = torch.as_tensor(mask, dtype=torch.bool)
    out, _ = model(torch.where(mask, model.mask_id, ids)[None])
    guess = out[0, :, : len(data.vocab)].argmax(-1)
    hidden = "".join(MASK if m else data.vocab[int(i)] for i, m in zip(ids, mask))
    filled = "".join(data.vocab[int(g)] if m else data.vocab[int(i)] for i, g, m in zip(ids, guess, mask))
    acc = (guess[mask] == ids[mask]).float().mean().item()
    return hidden, filled, acc
