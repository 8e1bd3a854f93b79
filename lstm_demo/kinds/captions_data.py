"""Pictures with captions, made here, nothing downloaded: one to three coloured shapes on a 32×32 black canvas and a
sentence from a small grammar that names every shape and where it is.

    a picture (3, 32, 32) RGB in [0, 1]       "a small red circle left of a big blue square"
    ┌────────────────┐                        phrase  = "a" size colour shape          ("a small red circle")
    │  ●        ■■■  │                        caption = phrase (relation phrase)*      relation = "left of" | "above"
    │           ■■■  │
    └────────────────┘

The shapes are mentioned in order along the layout's longer axis: left to right ("left of") when the centres spread
further across than down, else top to bottom ("above"), so every layout has exactly one caption.

A layout is a tuple of Shape(shape, colour, size, x, y): (x, y) is the top-left corner of the shape's square box in
pixels (column, row). Boxes may not overlap and must lie inside the canvas; check_layout says what is wrong otherwise.
The captioner's feature grid splits the canvas into 4 × 4 cells of 8 × 8 pixels; covered_cells says which cells each
shape has pixels in (to measure where the model looks when it names a shape).
"""
from __future__ import annotations

import math
import zlib
from typing import NamedTuple

import numpy as np

from ..config import DataError

PICTURE = 32                       # pixels per side
GRID = 4                           # feature-grid cells per side (the captioner pools 32 -> 4)
SHAPES = ("square", "circle", "triangle", "cross")
COLOURS = {"red": (0.95, 0.15, 0.1), "green": (0.15, 0.8, 0.2), "blue": (0.2, 0.35, 1.0), "yellow": (0.95, 0.85, 0.1)}
COLOUR_NAMES = tuple(COLOURS)
SIZES = {"small": 8, "big": 12}    # side of the shape's box in pixels
RELATIONS = {"x": ("left", "of"), "y": ("above",)}
MAX_SHAPES = 3
CLEAR = 4       # generated layouts: pixels by which the chosen axis must win and neighbours along it must be apart
HOLD_BIN = 4    # held-out layouts are picked by a hash of the layout with positions in bins of this many pixels
HOLD_EVERY = 8  # one layout key in this many is held out (never drawn for training)
VAL_PICTURES = 256
PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)
WORDS = ("a", *SIZES, *COLOURS, *SHAPES, "left", "of", "above")
MAX_WORDS = 4 * MAX_SHAPES + 2 * (MAX_SHAPES - 1)  # 16: three phrases and two "left of"
MAX_VOCAB = 256


class Shape(NamedTuple):
    shape: str     # one of SHAPES
    colour: str    # one of COLOURS
    size: str      # one of SIZES
    x: int         # column of the box's left edge, pixels
    y: int         # row of the box's top edge, pixels

    @property
    def side(self) -> int:
        return SIZES[self.size]

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.side / 2, self.y + self.side / 2

    @property
    def name(self) -> str:
        return f"{self.size} {self.colour} {self.shape}"


# the bundled scene: "the LSTM looks at the red circle when it says red"
SHOWCASE = (Shape("circle", "red", "small", 3, 5), Shape("square", "blue", "big", 17, 13))


# --- checking a layout (a visitor's edited scene comes through here) --------------------------------------------------

def _pixel(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DataError(f"The {what} must be a number of pixels, got {value!r}.")
    if not math.isfinite(float(value)):
        raise DataError(f"The {what} must be a finite number of pixels, got {value!r}.")
    if abs(float(value)) > 10 * PICTURE:
        raise DataError(f"The {what} is {float(value):g} pixels; the picture is {PICTURE} pixels wide.")
    return int(round(float(value)))


def _one_shape(item, n: int) -> Shape:
    if isinstance(item, dict):
        unknown = set(item) - set(Shape._fields)
        if unknown:
            raise DataError(f"Shape {n} has settings this picture does not know: {', '.join(map(str, unknown))}.")
        missing = [f for f in Shape._fields if f not in item]
        if missing:
            raise DataError(f"Shape {n} lacks its {', '.join(missing)}.")
        item = tuple(item[f] for f in Shape._fields)
    if not isinstance(item, (tuple, list)) or len(item) != 5:
        raise DataError(f"Shape {n} must be (shape, colour, size, x, y), got {str(item)[:80]}.")
    shape, colour, size, x, y = item
    for value, allowed, what in ((shape, SHAPES, "shape"), (colour, COLOURS, "colour"), (size, SIZES, "size")):
        if not isinstance(value, str) or value not in allowed:
            raise DataError(f"Shape {n}: the {what} must be one of {', '.join(allowed)}, got {str(value)[:40]!r}.")
    out = Shape(shape, colour, size, _pixel(x, f"left edge of shape {n}"), _pixel(y, f"top edge of shape {n}"))
    if not (0 <= out.x <= PICTURE - out.side and 0 <= out.y <= PICTURE - out.side):
        raise DataError(f"The {out.name} (shape {n}) sticks out of the picture: a {out.size} shape is {out.side} "
                        f"pixels wide, so its corner must be within 0 … {PICTURE - out.side} on both axes, "
                        f"got ({out.x}, {out.y}).")
    return out


def _overlap(a: Shape, b: Shape) -> bool:
    return a.x < b.x + b.side and b.x < a.x + a.side and a.y < b.y + b.side and b.y < a.y + a.side


def check_layout(layout) -> tuple[Shape, ...]:
    """A layout as Shapes (from Shapes, (shape, colour, size, x, y) tuples or dicts with those keys), or a DataError
    that says in words what cannot be drawn. Positions are rounded to whole pixels."""
    if isinstance(layout, (str, bytes)) or not hasattr(layout, "__len__"):
        raise DataError("A scene is a list of shapes.")
    if not 1 <= len(layout) <= MAX_SHAPES:
        raise DataError(f"A scene has 1 to {MAX_SHAPES} shapes, this one has {len(layout)}.")
    shapes = tuple(_one_shape(item, n + 1) for n, item in enumerate(layout))
    for i, a in enumerate(shapes):
        for j in range(i + 1, len(shapes)):
            if _overlap(a, shapes[j]):
                raise DataError(f"The {a.name} (shape {i + 1}) overlaps the {shapes[j].name} (shape {j + 1}); "
                                f"move one of them.")
    return shapes


# --- the grammar --------------------------------------------------------------------------------------------------

def mention_order(layout) -> tuple[str, list[int]]:
    """(axis "x" or "y", indices of the shapes in the order the caption names them): along x when the centres spread
    at least as far across as down, else along y; ties keep the layout's order."""
    return _order(check_layout(layout))


def _order(shapes: tuple[Shape, ...]) -> tuple[str, list[int]]:
    xs = [s.centre[0] for s in shapes]
    ys = [s.centre[1] for s in shapes]
    axis = "x" if max(xs) - min(xs) >= max(ys) - min(ys) else "y"
    key = xs if axis == "x" else ys
    return axis, sorted(range(len(shapes)), key=lambda i: key[i])


def caption_words(layout) -> tuple[list[str], list[int]]:
    """(the caption's words, for each word the index in the layout of the shape it names, or -1 for a relation)."""
    shapes = check_layout(layout)
    axis, order = _order(shapes)
    words, named = [], []
    for k, i in enumerate(order):
        if k:
            words += RELATIONS[axis]
            named += [-1] * len(RELATIONS[axis])
        s = shapes[i]
        words += ["a", s.size, s.colour, s.shape]
        named += [i] * 4
    return words, named


def caption(layout) -> str:
    """'a small red circle left of a big blue square' (see the module's docstring for the grammar)."""
    return " ".join(caption_words(layout)[0])


def _clear(shapes: tuple[Shape, ...]) -> bool:
    """Is the caption of a generated layout beyond doubt: the chosen axis wins by CLEAR pixels and neighbours along
    it are CLEAR pixels apart (a visitor's scene may be borderline; it still gets its one caption)."""
    if len(shapes) == 1:
        return True
    xs = [s.centre[0] for s in shapes]
    ys = [s.centre[1] for s in shapes]
    if abs((max(xs) - min(xs)) - (max(ys) - min(ys))) < CLEAR:
        return False
    axis, order = _order(shapes)
    key = xs if axis == "x" else ys
    return all(key[b] - key[a] >= CLEAR for a, b in zip(order, order[1:]))


# --- pictures -----------------------------------------------------------------------------------------------------

def _stamp(shape: str, side: int) -> np.ndarray:
    """A side × side mask (1 inside the shape)."""
    yy, xx = np.mgrid[:side, :side] + 0.5
    r = side / 2
    if shape == "square":
        return np.ones((side, side), dtype=np.float32)
    if shape == "circle":
        return (((yy - r) ** 2 + (xx - r) ** 2) <= r * r).astype(np.float32)
    if shape == "triangle":  # point up: row y is (y / side) of the base wide
        return (np.abs(xx - r) <= yy / 2).astype(np.float32)
    band = max(2, round(side / 3))  # cross: a plus sign
    lo, hi = (side - band) // 2, (side - band) // 2 + band
    mask = np.zeros((side, side), dtype=np.float32)
    mask[lo:hi, :] = 1
    mask[:, lo:hi] = 1
    return mask


STAMPS = {(shape, size): _stamp(shape, side) for shape in SHAPES for size, side in SIZES.items()}


def render_into(out: np.ndarray, shapes) -> np.ndarray:
    """Draw checked shapes into out (3, 32, 32) (zeros: a black canvas)."""
    for s in shapes:
        stamp = STAMPS[s.shape, s.size]
        colour = np.asarray(COLOURS[s.colour], dtype=np.float32)[:, None, None]
        out[:, s.y : s.y + s.side, s.x : s.x + s.side] = stamp * colour  # boxes never overlap
    return out


def render(layout) -> np.ndarray:
    """The picture of a layout: float32 (3, 32, 32) RGB in [0, 1] on black."""
    return render_into(np.zeros((3, PICTURE, PICTURE), dtype=np.float32), check_layout(layout))


def covered_cells(layout, grid: int = GRID) -> np.ndarray:
    """(shapes, grid * grid) bool: the feature-grid cells (row-major) each shape has at least one pixel in."""
    shapes = check_layout(layout)
    cell = PICTURE // grid
    out = np.zeros((len(shapes), grid * grid), dtype=bool)
    for n, s in enumerate(shapes):
        mask = np.zeros((PICTURE, PICTURE), dtype=np.float32)
        mask[s.y : s.y + s.side, s.x : s.x + s.side] = STAMPS[s.shape, s.size]
        per_cell = mask.reshape(grid, cell, grid, cell).sum(axis=(1, 3))  # (grid, grid) pixels per cell
        out[n] = per_cell.ravel() > 0
    return out


# --- random layouts and the held-out split ---------------------------------------------------------------------------

def random_layout(rng: np.random.Generator, max_shapes: int) -> tuple[Shape, ...]:
    """1 … max_shapes shapes, none overlapping, the caption beyond doubt (redrawn until so)."""
    n = int(rng.integers(1, max_shapes + 1))
    while True:
        shapes = []
        for a, b, c, d, e in rng.random((n, 5)).tolist():  # one draw per attempt: rng calls cost more than this
            size = "small" if c < 0.5 else "big"
            span = PICTURE - SIZES[size] + 1                 # corners 0 … PICTURE - side keep the shape inside
            shapes.append(Shape(SHAPES[int(a * len(SHAPES))], COLOUR_NAMES[int(b * len(COLOURS))], size,
                                int(d * span), int(e * span)))
        shapes = tuple(shapes)
        if not any(_overlap(a, b) for i, a in enumerate(shapes) for b in shapes[i + 1:]) and _clear(shapes):
            return shapes


def layout_key(shapes, seed: int) -> int:
    """A hash of the layout with positions in HOLD_BIN-pixel bins and the shapes in a fixed order: layouts that
    differ by a pixel or two share a key, so holding keys out holds out their neighbourhoods too."""
    parts = sorted((s.shape, s.colour, s.size, s.x // HOLD_BIN, s.y // HOLD_BIN) for s in shapes)
    return zlib.crc32(repr((seed, parts)).encode())


def held_out(shapes, seed: int) -> bool:
    return layout_key(shapes, seed) % HOLD_EVERY == 0


# --- the data object ------------------------------------------------------------------------------------------------

def _whole(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DataError(f"{name} must be a whole number from {lo} to {hi}, got {str(value)[:40]!r}")
    return value


RECIPE_KEYS = ("max_shapes", "seed")


def check_recipe(recipe) -> dict:
    """A recipe from a model file (or anywhere): exactly {"max_shapes": 1…3, "seed": 0…2**31-1}, or a DataError."""
    if not isinstance(recipe, dict) or set(recipe) != set(RECIPE_KEYS):
        keys = ", ".join(map(str, recipe)) if isinstance(recipe, dict) else type(recipe).__name__
        raise DataError(f"A picture recipe holds exactly {' and '.join(RECIPE_KEYS)}, got {keys[:120]}.")
    _whole("shapes per picture", recipe["max_shapes"], 1, MAX_SHAPES)
    _whole("seed", recipe["seed"], 0, 2**31 - 1)
    return dict(recipe)


class CaptionData:
    """Pictures and captions from a recipe (max_shapes, seed) — the recipe is all a model file stores. Training draws
    fresh layouts for every batch; the VAL_PICTURES held-out layouts are fixed and never drawn for training (their
    layout keys are held out, see layout_key).

    Tensors for the decoder (T = the longest caption in the batch + 1):
        words_in  (B, T)  <start> w1 w2 … wn <pad> …      what the decoder reads (teacher forcing)
        targets   (B, T)  w1 w2 … wn <end> -100 …         what it must say; -100 is not scored
    """
    kind = "captions"

    def __init__(self, max_shapes: int = MAX_SHAPES, seed: int = 0):
        check_recipe({"max_shapes": max_shapes, "seed": seed})
        self.max_shapes, self.seed = max_shapes, seed
        self.picture, self.grid = PICTURE, GRID
        self.name = f"Shapes and captions (up to {max_shapes} shape{'s' * (max_shapes > 1)})"
        self.vocab = list(SPECIALS) + list(WORDS)
        self.stoi = {w: i for i, w in enumerate(self.vocab)}
        self.max_words = 4 * max_shapes + 2 * (max_shapes - 1)
        rng = np.random.default_rng([seed, 10_007])
        val, seen = [], set()
        while len(val) < VAL_PICTURES:  # about HOLD_EVERY draws per picture; every recipe has thousands to draw
            shapes = random_layout(rng, max_shapes)
            if held_out(shapes, seed) and frozenset(shapes) not in seen:
                seen.add(frozenset(shapes))
                val.append(shapes)
        self.val_layouts = val
        self.val_images = np.stack([render(s) for s in val])            # (N, 3, 32, 32)
        self.val_captions = [caption(s) for s in val]

    @classmethod
    def from_recipe(cls, recipe) -> "CaptionData":
        return cls(**check_recipe(recipe))

    @property
    def recipe(self) -> dict:
        return {"max_shapes": self.max_shapes, "seed": self.seed}

    @property
    def pad_id(self) -> int:
        return self.stoi[PAD]

    def encode(self, text: str) -> list[int]:
        """A caption's words -> ids (no start or end mark); unknown words are refused with the list of known ones."""
        if not isinstance(text, str):
            raise DataError(f"A caption is text, got {type(text).__name__}.")
        words = text.split()
        if len(words) > self.max_words:
            raise DataError(f"The caption has {len(words)} words; captions here have at most {self.max_words}.")
        bad = [w for w in words if w not in self.stoi or w in SPECIALS]
        if bad:
            raise DataError(f"Words outside the vocabulary: {', '.join(bad[:5])[:120]} (known: {', '.join(WORDS)}).")
        return [self.stoi[w] for w in words]

    def decode(self, ids) -> str:
        """Ids -> words, cut at the end mark, without start or padding."""
        out = []
        for i in ids:
            word = self.vocab[int(i)] if 0 <= int(i) < len(self.vocab) else UNK
            if word == END:
                break
            if word not in (START, PAD):
                out.append(word)
        return " ".join(out)

    def train_layouts(self, n: int, seed: int) -> list:
        """n fresh layouts, none held out."""
        _whole("pictures per batch", n, 1, 4096)
        rng = np.random.default_rng([self.seed, seed])
        out = []
        while len(out) < n:
            shapes = random_layout(rng, self.max_shapes)
            if not held_out(shapes, self.seed):
                out.append(shapes)
        return out

    def tensors(self, layouts):
        """(images (B, 3, 32, 32), words_in (B, T), targets (B, T)) for checked layouts (see the class docstring)."""
        import torch
        images = np.zeros((len(layouts), 3, PICTURE, PICTURE), dtype=np.float32)
        ids = []
        for b, shapes in enumerate(layouts):
            render_into(images[b], shapes)
            ids.append([self.stoi[w] for w in caption_words(shapes)[0]])
        T = max(map(len, ids)) + 1
        words_in = torch.full((len(layouts), T), self.pad_id, dtype=torch.long)
        targets = torch.full((len(layouts), T), -100, dtype=torch.long)
        for b, row in enumerate(ids):
            words_in[b, : len(row) + 1] = torch.tensor([self.stoi[START]] + row)
            targets[b, : len(row) + 1] = torch.tensor(row + [self.stoi[END]])
        return torch.from_numpy(images), words_in, targets

    def train_batch(self, n: int, seed: int):
        """n fresh training pictures with their captions: (images, words_in, targets) as in tensors()."""
        return self.tensors(self.train_layouts(n, seed))

    def val_tensors(self):
        return self.tensors(self.val_layouts)

    def val_cells(self) -> list:
        """Per held-out picture: (shapes, 16) bool, the grid cells each shape covers (layout order)."""
        return [covered_cells(s, self.grid) for s in self.val_layouts]

    def summary(self) -> dict:
        return {"picture": f"{PICTURE}×{PICTURE} RGB", "shapes per picture": f"1 to {self.max_shapes}",
                "words": len(WORDS), "held-out pictures": len(self.val_layouts),
                "training pictures": "fresh every batch"}
