"""The sequence family, shared by the text and series kinds (kinds/text.py, kinds/series.py):

    text:   ids (B, T)      -> Embedding -> (B, T, E) -> LSTM/GRU/RNN -> (B, T, D*H) -> Linear -> logits (B, T, V)
    series: values (B, T, 1) -> Linear    -> (B, T, E) -> LSTM/GRU/RNN -> (B, T, D*H) -> Linear -> next value (B, T, 1)

Training uses PyTorch's fused kernels; the trace replays the same weights step by step (trace.replay) to read the
gates. For the fill-in-the-blank task the embedding has one extra row, the mask token (id = vocab_size).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..config import LIMITS, ConfigError, check_bool, check_choice, check_int
from .windows import min_items
from ..names import CELL_NAMES
from .base import IGNORE, Kind

VAL_WINDOWS = 16  # fixed validation windows: enough for a stable curve, cheap enough to run every second
MASK_RATE = 0.15  # fill-in-the-blank task: share of characters hidden in each window (as in BERT)
SEQ_LEN_CHOICES = (8, 16, 32, 64, 100, 128, 200, 256)  # what the Train page offers
CELL_TYPES = ("lstm", "gru", "rnn")
SEQUENCE_KINDS = ("text", "series", "melody")  # the kinds whose model is this family's (kinds/text.py, series.py, …)
TOKEN_KINDS = ("text", "melody")  # … of which these read tokens (characters, notes) through an embedding


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "text"       # "text": embedding -> LSTM -> next-character logits; "series": linear -> LSTM -> next value;
                             # "melody": embedding -> LSTM -> next-note logits (kinds/melody.py)
    vocab_size: int = 0      # text and melody: number of distinct tokens (input and output size); a series: 0
    embed_size: int = 32     # width of the embedding (text) or of the linear input projection (series)
    hidden_size: int = 64    # LSTM units per layer
    num_layers: int = 1      # stacked layers
    cell: str = "lstm"       # "lstm", "gru" or "rnn" (plain tanh RNN)
    bidirectional: bool = False  # a second layer reads the sequence backwards (task "masked" only)
    task: str = "next"       # "next": predict the next item; "masked": fill in hidden characters (text only)
    input_size: int = 1      # series only: features per step (the adding problem feeds value and marker)

    def validate(self) -> "ModelConfig":
        check_choice("kind", self.kind, SEQUENCE_KINDS)
        check_choice("cell type", self.cell, CELL_TYPES)
        check_choice("task", self.task, ("next", "masked"))
        check_bool("bidirectional", self.bidirectional)
        if self.bidirectional and self.task != "masked":
            raise ConfigError("a bidirectional model reads the characters after each position too, so predicting "
                              "the next character would be cheating; use the fill-in-the-blank task with it")
        check_int("embedding size", self.embed_size, 1, LIMITS.max_embed)
        check_int("input features", self.input_size, 1, 8)
        check_int("hidden size", self.hidden_size, 1, LIMITS.max_hidden)
        check_int("layers", self.num_layers, 1, LIMITS.max_layers)
        if self.kind in TOKEN_KINDS:
            check_int("vocab size", self.vocab_size, 2, LIMITS.max_vocab)
        else:
            check_int("vocab size", self.vocab_size, 0, 0)  # a series has no vocabulary
        if self.task == "masked" and self.kind != "text":
            raise ConfigError("the fill-in-the-blank task is for text only")
        return self


def task_words(model_cfg, train_cfg, data) -> str:
    """The model's task in words, from its settings and data: what a fill-in model hides is a word when it hides
    whole words or reads words as tokens, else a character; a next-item text model predicts the next character or
    word."""
    if model_cfg.task == "masked":
        words = getattr(train_cfg, "hide", "chars") == "words" or getattr(data, "tokens", "chars") == "words"
        return f"fill in hidden {'words' if words else 'characters'}"
    return f"next {data.unit}" if data.kind == "text" else "next item"


def fitting_seq_len(n_items: int, preferred: int) -> int:
    """The longest offered sequence length up to `preferred` that a series or text of n_items can train and
    validate on (one window each); the shortest if none fits."""
    fits = [n for n in SEQ_LEN_CHOICES if n <= preferred and min_items(n) <= n_items]
    return max(fits) if fits else SEQ_LEN_CHOICES[0]


# --- batches: random training windows, fixed validation windows ------------------------------------------------------

def mask_windows(x, mask_id: int, gen, rate: float = MASK_RATE, letters=None):
    """Fill-in-the-blank batch from windows x (B, T): hide `rate` of the characters (at least one per window), or
    with `letters` ((V,) bool: which ids are letters) `rate` of the words, every letter of each.
    -> (input with mask_id at hidden positions, target = original there and IGNORE elsewhere)."""
    import torch
    B, T = x.shape
    if letters is None:
        hide = torch.rand(x.shape, generator=gen) < rate
    else:
        is_letter = letters[x]
        starts = is_letter & ~torch.cat([torch.zeros(B, 1, dtype=torch.bool), is_letter[:, :-1]], 1)
        word = torch.cumsum(starts, 1)                      # the word each position belongs to (0: before any)
        hide = is_letter & torch.gather(torch.rand(B, T + 1, generator=gen) < rate, 1, word)
    hide[torch.arange(B), torch.randint(0, T, (B,), generator=gen)] = True
    return torch.where(hide, mask_id, x), torch.where(hide, x, IGNORE)


class Batches:
    """Random training windows and fixed validation windows for one dataset at one sequence length."""

    def __init__(self, data, seq_len: int, batch_size: int, seed: int, mask_id: int | None = None,
                 words: bool = False):
        import torch

        from .windows import fixed_windows
        self.train, self.val = data.parts(seq_len)  # raises DataError when too short
        self.seq_len, self.batch_size, self.mask_id = seq_len, batch_size, mask_id
        self.letters = torch.tensor([c.isalpha() for c in data.vocab]) if words else None
        self.gen = torch.Generator().manual_seed(seed)
        self.val_x, self.val_y = fixed_windows(self.val, VAL_WINDOWS, seq_len)
        if mask_id is not None:  # the same hidden positions at every evaluation: comparable validation loss
            self.val_x, self.val_y = mask_windows(self.val_x, mask_id, torch.Generator().manual_seed(12345),
                                                  letters=self.letters)

    def next(self):
        from .windows import random_windows
        x, y = random_windows(self.train, self.batch_size, self.seq_len, self.gen)
        if self.mask_id is not None:
            return mask_windows(x, self.mask_id, self.gen, letters=self.letters)
        return x, y

    @property
    def items_per_batch(self) -> int:
        return self.batch_size * self.seq_len


# --- the trace of one sequence ------------------------------------------------------------------------------------

def trace_sequence(model, data, seq, top_k: int = 5, state=None, intervention=None, mask=None, check: bool = True):
    """Trace one sequence through a SequenceModel (the replay of trace.py, proved against nn.LSTM/GRU/RNN).

    seq: text ids (T+1,) or normalised series values (T+1, 1). Task "next": steps 0..T-1 are fed and item t+1 is
    step t's target. Task "masked": items 0..T-1 are fed with the positions in `mask` (T,) hidden, and each step's
    target is its own original character.
    """
    import torch

    from ..trace import check_replay, replay
    from ..trace_data import CELL_QUANTITIES, default_mask
    from . import KINDS
    with torch.no_grad():
        model.eval()
        cfg = model.cfg
        if cfg.task == "masked":
            original = seq[:-1]
            mask = np.asarray(mask if mask is not None else default_mask(len(original)), dtype=bool)
            if mask.shape != (len(original),):
                raise ValueError("mask must have one entry per step")
            x_in = torch.where(torch.from_numpy(mask), cfg.vocab_size, original)  # vocab_size is the mask id
            target = original
        else:
            x_in, target, mask = seq[:-1], seq[1:], None
        emb = model.encoder(x_in)                       # (T, E)
        rep = replay(model.rnn, emb, state, intervention)
        # proof on screen: the replayed numbers against torch's own forward (not for a changed run: it differs on
        # purpose)
        extras = {"replay_check": check_replay(model.rnn, emb, rep)} \
            if check and intervention is None and state is None else {}
        logits = model.head(rep["output"])              # (T, V) or (T, 1)
        quantities = {q: rep[q].numpy() for q in CELL_QUANTITIES[cfg.cell]}
        common = dict(pre_activation=rep["pre_activation"].numpy(), cell=cfg.cell, task=cfg.task, masked=mask,
                      extras=extras)
        return KINDS[cfg.kind].readout(data, quantities, logits, x_in, target, mask, top_k, common)


# --- guided scenes on a bundled model (scenes.py) -------------------------------------------------------------------

def scene_step(scene, inputs: list) -> int:
    """The step a scene opens on: where its `at` text starts (plus `offset`), or the last step."""
    if scene.at is None:
        return len(inputs) - 1
    text = "".join(c if isinstance(c, str) else "?" for c in inputs)
    where = text.find(scene.at)
    return int(np.clip((where if where >= 0 else 0) + scene.offset, 0, len(inputs) - 1))


def scene_sequence(scene, data):
    """The sequence a scene traces (ids, or the last points of the model's series). A fill-in scene gets one item
    more: a fill-in trace scores every item it reads, so the last one needs a (never shown) successor."""
    if scene.text is None:
        return data.normed[-scene.series_points - 1 :]
    return data.encode(scene.text + (scene.text[-1] if scene.hide else ""))


def scene_mask(scene):
    """The hidden positions of a fill-in scene (None for the others)."""
    if not scene.hide:
        return None
    mask = np.zeros(len(scene.text), dtype=bool)
    at = scene.text.index(scene.hide)
    mask[at : at + len(scene.hide)] = True
    return mask


class SequenceKind(Kind):
    """What text and series share: the model, the windows, the trace. Subclasses say how items go in and out."""
    family = "sequence"
    config_type = ModelConfig
    panels = ("heatmaps", "units", "finder", "training", "whatif", "export")
    default_config = ModelConfig()
    default_train = None

    def accepts(self, model_cfg) -> bool:
        return model_cfg.kind == self.name

    def defaults(self, data):
        model_cfg, train_cfg = self.default_config, self.default_train
        return model_cfg, replace(train_cfg, seq_len=fitting_seq_len(self.n_items(data), train_cfg.seq_len))

    def with_overrides(self, data, model: dict, train: dict):
        model_cfg, train_cfg = self.defaults(data)
        return replace(model_cfg, **model), replace(train_cfg, **train)

    def n_items(self, data) -> int:
        raise NotImplementedError

    def adapt(self, model_cfg, train_cfg, data):
        """A short series or text cannot fill windows of any length: the longest offered one it has room for."""
        fit = fitting_seq_len(self.n_items(data), train_cfg.seq_len)
        if fit >= train_cfg.seq_len:
            return model_cfg, train_cfg, None
        return model_cfg, replace(train_cfg, seq_len=fit), (f"{data.name} has room for windows of {fit} steps: the "
                                                            f"sequence length was set to {fit}.")

    def family_name(self, model_cfg) -> str:
        return model_cfg.cell

    def check(self, model_cfg, train_cfg, data) -> None:
        data.parts(train_cfg.seq_len)  # DataError when the data cannot fill a training and a validation window

    def build(self, model_cfg):
        from .sequence_model import SequenceModel
        return SequenceModel(model_cfg)

    def batches(self, data, model_cfg, train_cfg, seed: int):
        return Batches(data, train_cfg.seq_len, train_cfg.batch_size, seed,
                       mask_id=model_cfg.vocab_size if model_cfg.task == "masked" else None,
                       words=model_cfg.task == "masked" and train_cfg.hide == "words")

    def trace(self, model, data, choice, **kwargs):
        """choice: (sequence, hidden positions or None)."""
        seq, mask = choice
        return trace_sequence(model, data, seq, mask=mask, **kwargs)

    def scene_choice(self, scene, data):
        """What a scene traces, as trace() takes it (the views that run the model again need it)."""
        return scene_sequence(scene, data), scene_mask(scene)

    def scene_trace(self, scene, model, data, check: bool = True):
        """(trace, step) of a scene's sequence; a fill-in scene opens on the first hidden character."""
        trace = trace_sequence(model, data, scene_sequence(scene, data), mask=scene_mask(scene), check=check)
        step = scene.text.index(scene.hide) if scene.hide else scene_step(scene, trace.inputs)
        return trace, step

    def items(self, data):
        """The whole sequence as the model reads it (ids, or normalised values (N, 1))."""
        raise NotImplementedError

    cheaper = "Choose a smaller batch, a shorter sequence length, fewer units or fewer layers."

    def cost(self, model_cfg, train_cfg, data):
        from ..budget import Cost, lstm_floats
        from ..trace import CHUNKS
        c = model_cfg
        D, H, E, k = 2 if c.bidirectional else 1, c.hidden_size, c.embed_size, CHUNKS[c.cell]
        out = self.outputs(c)
        forward, cell = 0, lstm_floats(k, H)
        for layer in range(c.num_layers):
            width = E if layer == 0 else D * H
            forward += D * 2 * k * H * (width + H)              # x W_ih + h W_hh, per direction
        forward += 2 * D * H * out                               # the head
        per_step = E + c.num_layers * D * cell + 3 * out         # kept for the backward pass (logits and softmax)
        items = train_cfg.batch_size * train_cfg.seq_len
        return Cost(self.parameters(c), items * per_step, 3.0 * items * forward,
                    train_cfg.seq_len * (E + c.num_layers * D * (k + 2) * H + 2 * out))

    def outputs(self, model_cfg) -> int:
        """The head's outputs per step."""
        return 1

    def text_choice(self, data, text: str):
        raise ConfigError("--text is for text models; use --start/--length for a series")

    def cli_choice(self, loaded, text=None, start=None, length=None, seq=None):
        """What `python -m lstm_demo.cli trace` steps through: --text, or a slice of the model's data."""
        if seq is not None:
            raise ConfigError("--seq is for image-sequence models; use --start/--length (or --text for text)")
        if text is not None:
            if start is not None or length is not None:
                raise ConfigError("give either --text or --start/--length, not both")
            return self.text_choice(loaded.data, text)
        start, length = 0 if start is None else start, 128 if length is None else length
        n = self.n_items(loaded.data)
        if not 1 <= length <= LIMITS.max_seq_len:
            raise ConfigError(f"--length must be between 1 and {LIMITS.max_seq_len} steps")
        if not 0 <= start <= n - 2:
            raise ConfigError(f"--start must be between 0 and {n - 2} (the model file holds {n} items)")
        return self.items(loaded.data)[start : start + length + 1], None

    def describe(self, model_cfg) -> str:
        return (f"{CELL_NAMES[model_cfg.cell]}{', bidirectional' if model_cfg.bidirectional else ''}, "
                f"{model_cfg.num_layers} layer(s) × {model_cfg.hidden_size} units")

    def max_config(self):
        """The largest model of this kind the caps allow (sizes the model file's limit)."""
        return replace(self.default_config, embed_size=LIMITS.max_embed, hidden_size=LIMITS.max_hidden,
                       num_layers=LIMITS.max_layers)
