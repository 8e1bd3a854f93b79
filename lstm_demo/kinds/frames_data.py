"""Image sequences made here, nothing downloaded: shapes that move and bounce off the frame's edges, with a seed."""
from __future__ import annotations

import numpy as np

from ..config import DataError

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
                pos = _move(pos, vel, span)
    return out


def _move(pos: np.ndarray, vel: np.ndarray, span: float) -> np.ndarray:
    """One step at constant velocity inside 0 … span, bouncing (reflecting) off the edges; vel flips in place."""
    pos = pos + vel
    for d in range(2):
        if pos[d] < 0:
            pos[d], vel[d] = -pos[d], -vel[d]
        elif pos[d] > span:
            pos[d], vel[d] = 2 * span - pos[d], -vel[d]
    return pos


# --- real handwriting: the 1,797 8×8 digits scikit-learn ships (43 writers; UCI "Optical Recognition of Handwritten
# Digits"). Read straight from the package's data file: importing sklearn would load scipy for one CSV. -------------

_DIGITS: list = []


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 8, 8) float32 in [0, 1], labels (1797,) int64), read once per process (public, read-only)."""
    if not _DIGITS:
        import importlib.util
        import os
        spec = importlib.util.find_spec("sklearn")
        if spec is None or not spec.submodule_search_locations:
            raise DataError("The handwritten digits come with scikit-learn, which is not installed "
                            "(pip install scikit-learn).")
        path = os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data", "digits.csv.gz")
        table = np.loadtxt(path, delimiter=",", dtype=np.float32)
        images = (table[:, :64] / 16.0).reshape(-1, 8, 8)
        images.setflags(write=False)
        labels = table[:, 64].astype(np.int64)
        labels.setflags(write=False)
        _DIGITS.append((images, labels))
    return _DIGITS[0]


def digit_split(val_share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the digit images used for training and for validation sequences: fixed, so a validation sequence
    never shows a handwritten image the model trained on."""
    _, labels = load_digits_images()
    order = np.random.default_rng(1234).permutation(len(labels))
    cut = int(len(order) * (1 - val_share))
    return order[:cut], order[cut:]


def _check(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DataError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")


def moving_digits(n_sequences: int, steps: int, frame: int = 16, seed: int = 0, pool=None) -> np.ndarray:
    """(n, steps, 1, frame, frame): one handwritten digit per sequence drifting and bouncing like moving_shapes
    (Moving MNIST in miniature). pool: indices of the digit images to draw from (default: all)."""
    _check("sequences", n_sequences, 1, 10_000)
    _check("steps", steps, 2, 256)
    _check("frame size", frame, 10, 64)
    images, _ = load_digits_images()
    pool = np.arange(len(images)) if pool is None else np.asarray(pool)
    rng = np.random.default_rng(seed)
    out = np.zeros((n_sequences, steps, 1, frame, frame), dtype=np.float32)
    span = frame - 8
    for n in range(n_sequences):
        img = images[pool[rng.integers(len(pool))]]
        pos = rng.uniform(0, span, size=2)
        vel = rng.uniform(0.7, 1.5, size=2) * rng.choice([-1, 1], size=2)
        for t in range(steps):
            y, x = int(round(pos[0])), int(round(pos[1]))
            out[n, t, 0, y : y + 8, x : x + 8] = img
            pos = _move(pos, vel, span)
    return out


def first_digit_sequences(n_sequences: int, steps: int, frame: int = 16, seed: int = 0, pool=None):
    """The CNN-LSTM's question, "which digit was shown first?": frame 0 shows a handwritten digit, the next
    steps - 1 frames show other digits (different classes from the first), each at a random place. The answer is
    scored after the last frame, so the first digit must be recognised and then held through the distractors.
    -> (frames (n, steps, 1, frame, frame) float32, labels (n,) int64: the first digit)."""
    _check("sequences", n_sequences, 1, 10_000)
    _check("steps", steps, 1, 64)
    _check("frame size", frame, 8, 64)
    images, classes = load_digits_images()
    pool = np.arange(len(images)) if pool is None else np.asarray(pool)
    rng = np.random.default_rng(seed)
    out = np.zeros((n_sequences, steps, 1, frame, frame), dtype=np.float32)
    labels = np.zeros(n_sequences, dtype=np.int64)
    span = frame - 8
    for n in range(n_sequences):
        first = pool[rng.integers(len(pool))]
        labels[n] = classes[first]
        others = pool[classes[pool] != labels[n]]
        for t in range(steps):
            img = images[first] if t == 0 else images[others[rng.integers(len(others))]]
            y, x = rng.integers(0, span + 1, size=2)
            out[n, t, 0, y : y + 8, x : x + 8] = img
    return out, labels


# --- one data object for the Train page, the models' batches and the model file --------------------------------------

FRAME_TASKS = {  # key -> (label, kind): "frames" predicts the next frame, "digits" answers which digit came first
    "shapes": ("Moving shapes — predict the next frame (ConvLSTM)", "frames"),
    "moving_digits": ("Moving handwritten digits — predict the next frame (ConvLSTM)", "frames"),
    "first_digit": ("Which digit came first? — a handwritten digit, then distractors (CNN-LSTM)", "digits"),
}
FRAME_DEFAULTS = {"shapes": dict(steps=12, frame=16), "moving_digits": dict(steps=12, frame=16),
                  "first_digit": dict(steps=5, frame=12)}
VAL_SEQUENCES = 64


class FramesData:
    """Image sequences made from a recipe (task, steps, frame size, seed) — the recipe is all a model file stores.
    Training draws fresh sequences for every batch (endless data: nothing to memorise, nothing large to hold);
    the validation sequences are fixed, and for the digits they use handwritten images training never sees."""

    def __init__(self, task: str = "shapes", steps: int | None = None, frame: int | None = None, seed: int = 0):
        if task not in FRAME_TASKS:
            raise DataError(f"Unknown image-sequence task {task!r}; choose one of {', '.join(FRAME_TASKS)}.")
        steps = FRAME_DEFAULTS[task]["steps"] if steps is None else steps
        frame = FRAME_DEFAULTS[task]["frame"] if frame is None else frame
        _check("frames per sequence", steps, 2 if task == "first_digit" else 3, 32)
        _check("frame size", frame, 12, 32)
        if frame % 4:
            raise DataError(f"frame size must be a multiple of 4, got {frame}")
        _check("seed", seed, 0, 2**31 - 1)
        self.task, self.steps, self.frame, self.seed = task, steps, frame, seed
        self.name, self.kind = FRAME_TASKS[task]
        if task != "shapes":
            self._train_pool, self._val_pool = digit_split()
        self.val_frames, self.val_labels = self._make(VAL_SEQUENCES, seed + 10_007, split="val")

    def _make(self, n: int, seed: int, split: str = "train"):
        if self.task == "shapes":
            return moving_shapes(n, self.steps, self.frame, seed=seed), None
        pool = self._train_pool if split == "train" else self._val_pool
        if self.task == "moving_digits":
            return moving_digits(n, self.steps, self.frame, seed, pool), None
        return first_digit_sequences(n, self.steps, self.frame, seed, pool)

    def train_batch(self, n: int, seed: int):
        """n fresh training sequences (n, T, 1, F, F) and their labels (or None)."""
        return self._make(n, seed)

    @property
    def recipe(self) -> dict:
        return {"task": self.task, "steps": self.steps, "frame": self.frame, "seed": self.seed}

    @property
    def labels(self):
        return self.val_labels

    def sequence(self, index: int):
        """Validation sequence `index` (T, 1, F, F) and its label (or None), for tracing."""
        n = len(self.val_frames)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise DataError(f"there are {n} validation sequences; choose 0 to {n - 1}")
        return self.val_frames[index], (int(self.val_labels[index]) if self.val_labels is not None else None)

    def summary(self) -> dict:
        return {"frames per sequence": self.steps, "frame": f"{self.frame}×{self.frame}",
                "validation sequences": len(self.val_frames), "training sequences": "fresh every batch"}
