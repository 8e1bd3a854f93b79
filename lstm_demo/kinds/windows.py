"""Cut one long sequence into training windows.

A window of length T starts at a random offset s; its input is positions s..s+T-1 and its target is the
same span shifted by one, so at every step the model predicts the next item:

    sequence   a  b  c  d  e  f  g  h  i
    offset s=2       |<-- T = 4 -->|
    x                c  d  e  f
    y (next)            d  e  f  g

Training draws B offsets per step from the train part; validation uses fixed offsets from the held-out tail, so
validation loss is comparable across steps. The split is by position (first 90 % train, last 10 % validation):
a random split of overlapping windows would leak validation items into training.
"""
from __future__ import annotations

VAL_FRACTION = 0.1  # last tenth of the sequence is held out


def min_items(seq_len: int) -> int:
    """Items a sequence needs for one training and one validation window of seq_len (+1 for the shifted target,
    +1 of slack each so a window can start at more than one place)."""
    return 2 * (seq_len + 2)


def split_point(n: int, seq_len: int) -> int:
    """Index where validation starts; both parts keep at least one full window (+1 for the shifted target)."""
    cut = int(n * (1 - VAL_FRACTION))
    return max(seq_len + 1, min(cut, n - seq_len - 1))


def random_windows(seq, batch: int, seq_len: int, gen):
    """B random windows from seq (N, ...) -> x, y of shape (B, T, ...)."""
    import torch
    starts = torch.randint(0, len(seq) - seq_len, (batch,), generator=gen)
    idx = starts[:, None] + torch.arange(seq_len + 1)[None, :]  # (B, T+1)
    chunk = seq[idx]                                             # (B, T+1, ...)
    return chunk[:, :-1], chunk[:, 1:]


def fixed_windows(seq, max_windows: int, seq_len: int):
    """Evenly spaced, non-random windows for validation -> x, y of shape (W, T, ...)."""
    import torch
    last = len(seq) - seq_len - 1
    count = max(1, min(max_windows, last + 1))
    starts = torch.linspace(0, last, count).long()
    idx = starts[:, None] + torch.arange(seq_len + 1)[None, :]
    chunk = seq[idx]
    return chunk[:, :-1], chunk[:, 1:]
