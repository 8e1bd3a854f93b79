"""Image sequences made here, nothing downloaded: shapes that move and bounce off the frame's edges, with a seed."""
from __future__ import annotations

import numpy as np

from .text import DataError

SHAPES = ("square", "disc", "cross")


def _stamp(shape: str, size: int) -> np.ndarray:
    """A size × size mask of the shape (1 inside)."""
    yy, xx = np.mgrid[:size, :size] + 0.5
    r = size / 2
    if shape == "square":
        return np.ones((size, size), dtype=np.float32)
    if shape == "disc":
        return (((yy - r) ** 2 + (xx - r) ** 2) <= r * r).astype(np.float32)
    band = max(1, size // 3)
    lo, hi = (size - band) // 2, (size - band) // 2 + band
    mask = np.zeros((size, size), dtype=np.float32)
    mask[lo:hi, :] = 1
    mask[:, lo:hi] = 1
    return mask


def moving_shapes(n_sequences: int, steps: int, frame: int = 16, objects: int = 1, size: int = 4,
                  seed: int = 0) -> np.ndarray:
    """(n_sequences, steps, 1, frame, frame) float32 in [0, 1]: each sequence has `objects` shapes moving at a
    constant velocity of 1–2 pixels per step that bounces off the edges, so the next frame follows from the last two
    (one frame alone does not tell the direction: the memory a ConvLSTM must keep)."""
    for name, value, lo, hi in (("sequences", n_sequences, 1, 10_000), ("steps", steps, 2, 256),
                                ("frame size", frame, 8, 64), ("objects", objects, 1, 4), ("shape size", size, 1, 16)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise DataError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    if size >= frame:
        raise DataError(f"a shape of {size} pixels does not fit a frame of {frame}")
    rng = np.random.default_rng(seed)
    out = np.zeros((n_sequences, steps, 1, frame, frame), dtype=np.float32)
    span = frame - size  # top-left corners 0 … span keep the shape inside
    for n in range(n_sequences):
        for _ in range(objects):
            stamp = _stamp(SHAPES[rng.integers(len(SHAPES))], size)
            pos = rng.uniform(0, span, size=2)
            vel = rng.uniform(1, 2, size=2) * rng.choice([-1, 1], size=2)
            for t in range(steps):
                y, x = int(round(pos[0])), int(round(pos[1]))
                region = out[n, t, 0, y : y + size, x : x + size]
                np.maximum(region, stamp, out=region)
                pos = pos + vel
                for d in range(2):  # bounce: reflect off the edge
                    if pos[d] < 0:
                        pos[d], vel[d] = -pos[d], -vel[d]
                    elif pos[d] > span:
                        pos[d], vel[d] = 2 * span - pos[d], -vel[d]
    return out
