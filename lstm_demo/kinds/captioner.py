"""The captioner: a small CNN looks at a picture, an LSTM describes it word by word, and at every word soft attention
decides where in the picture to look (Xu et al. 2015, "Show, Attend and Tell", with additive attention as in
Bahdanau et al. 2015).

    picture (3, 32, 32) -> 3 × [conv 3×3 -> ReLU -> max-pool 2] -> grid (F, 4, 4) -> 16 cells of F numbers
                        -> + a learned vector per cell (where it is) -> grid g (16, F)
    mean of g -> LayerNorm -> Linear -> tanh -> h0, c0                     the decoder's first state
    at word t:  e_i = v · tanh(W_g g_i + W_h h_{t-1})   (i = 1 … 16)      how well cell i fits what is needed next
                a   = softmax(e)                                           attention, sums to 1 over the cells
                z   = sum_i a_i g_i                                        the context: what the LSTM sees
                h_t, c_t = LSTMCell([embed(w_t); z], (h_{t-1}, c_{t-1}))   the one cell of trace.lstm_cell
                next word = softmax(W_o [h_t; z] + b_o)                      the head reads h and what it sees

Without attention the grid's mean (through h0, c0) is all the decoder ever sees of the picture, the LSTM reads the
word's embedding alone and the head reads h alone. Trained with teacher forcing (it reads the true previous word); at
run time it reads its own (greedy, or sampled at a temperature). The decoder is an nn.LSTMCell, so the trace replays it with lstm_cell.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..config import LIMITS, ConfigError, DataError, TrainConfig, check_int
from .captions_data import (COLOURS, END, SHAPES, SPECIALS, START, CaptionData, caption_words, check_layout,
                            covered_cells, render)

START_ID, END_ID = SPECIALS.index(START), SPECIALS.index(END)  # CaptionData's vocabulary starts with SPECIALS
IGNORE = -100  # targets that are not scored (padding), as train.IGNORE


@dataclass(frozen=True)
class CaptionerConfig:
    vocab_size: int = 0         # words the decoder reads and writes, specials included (data.vocab)
    picture: int = 32           # side of the square RGB picture in pixels; three 2× poolings give a (picture/8)² grid
    conv_channels: int = 16     # maps of the first convolution; the grid's vectors have 2× as many (F)
    embed_size: int = 16        # width of a word's embedding
    hidden_size: int = 64       # LSTM units
    attention_size: int = 32    # width of the additive attention's hidden layer (W_g, W_h map to it)
    attention: bool = True      # soft attention over the grid at every word; False: the grid's mean only
    max_words: int = 17         # longest caption the decoder may emit, the end mark included

    @property
    def cell(self) -> str:
        return "lstm"

    @property
    def grid(self) -> int:
        return self.picture // 8

    @property
    def features(self) -> int:
        return 2 * self.conv_channels

    def validate(self) -> "CaptionerConfig":
        for name, value, lo, hi in (("vocab size", self.vocab_size, 5, LIMITS.max_vocab),
                                    ("picture size", self.picture, 16, 64),
                                    ("convolution maps", self.conv_channels, 1, 32),
                                    ("embedding size", self.embed_size, 1, LIMITS.max_embed),
                                    ("hidden size", self.hidden_size, 1, LIMITS.max_hidden),
                                    ("attention size", self.attention_size, 1, LIMITS.max_hidden),
                                    ("caption length", self.max_words, 2, 64)):
            check_int(name, value, lo, hi)
        if self.picture % 8:
            raise ConfigError(f"picture size must be a multiple of 8 (three 2× poolings), got {self.picture}")
        if not isinstance(self.attention, bool):
            raise ConfigError(f"attention must be true or false, not {self.attention!r}")
        return self


def check_fits(cfg: CaptionerConfig, data: CaptionData) -> None:
    """A model config and a data set belong together (a model file must not pair them otherwise)."""
    cfg.validate()
    if cfg.vocab_size != len(data.vocab):
        raise ConfigError(f"the model knows {cfg.vocab_size} words, the captions use {len(data.vocab)}")
    if cfg.picture != data.picture:
        raise ConfigError(f"the model reads {cfg.picture}×{cfg.picture} pictures, the data's are "
                          f"{data.picture}×{data.picture}")
    if cfg.max_words < data.max_words + 1:
        raise ConfigError(f"the model may emit {cfg.max_words} words; the captions need {data.max_words + 1} "
                          f"(with the end mark)")


class Captioner(nn.Module):
    family = "captioner"
    cell = "lstm"

    def __init__(self, cfg: CaptionerConfig):
        super().__init__()
        self.cfg = cfg = cfg.validate()
        c, f, cells = cfg.conv_channels, cfg.features, cfg.grid ** 2
        self.conv1 = nn.Conv2d(3, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, f, 3, padding=1)
        self.conv3 = nn.Conv2d(f, f, 3, padding=1)
        for conv in (self.conv1, self.conv2, self.conv3):
            # He et al. 2015's scale for ReLU layers keeps the features of a mostly black picture from fading layer by
            # layer (PyTorch's default shrinks them: at the start the grid's mean hardly differed between pictures)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        self.where = nn.Parameter(torch.zeros(cells, f))   # one learned vector per grid cell: its place
        self.init_norm = nn.LayerNorm(f)   # the mean's numbers grow as the CNN learns; tanh(init) must not saturate
        self.init_h = nn.Linear(f, cfg.hidden_size)
        self.init_c = nn.Linear(f, cfg.hidden_size)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_size)
        if cfg.attention:
            self.att_grid = nn.Linear(f, cfg.attention_size)                      # W_g
            self.att_hidden = nn.Linear(cfg.hidden_size, cfg.attention_size, bias=False)  # W_h
            self.att_score = nn.Linear(cfg.attention_size, 1)                     # v
        self.decoder = nn.LSTMCell(cfg.embed_size + (f if cfg.attention else 0), cfg.hidden_size)
        # with attention the head reads the context too (Xu et al.'s "deep output"): the word for what the model
        # looks at is read straight off what it sees (one seed, lr 5e-3, 60 s on one thread, before the He init and
        # LayerNorm below were added: 94 % held-out word accuracy against 85 % with the head on h alone)
        self.head = nn.Linear(cfg.hidden_size + (f if cfg.attention else 0), cfg.vocab_size)

    # --- the picture ---------------------------------------------------------------------------------------------

    def check(self, images: torch.Tensor) -> None:
        p = self.cfg.picture
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or tuple(images.shape[1:]) != (3, p, p):
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise DataError(f"pictures must be (batch, 3, {p}, {p}), got {shape}")
        if not torch.isfinite(images).all():
            raise DataError("the picture contains NaN or infinite values")

    def encode(self, images: torch.Tensor):
        """images (B, 3, P, P) -> (grid g (B, cells, F), the first convolution's maps after ReLU (B, C, P, P))."""
        maps = F.relu(self.conv1(images))
        z = F.max_pool2d(maps, 2)                                   # (B, C, P/2, P/2)
        z = F.max_pool2d(F.relu(self.conv2(z)), 2)                  # (B, F, P/4, P/4)
        z = F.max_pool2d(F.relu(self.conv3(z)), 2)                  # (B, F, P/8, P/8)
        return z.flatten(2).transpose(1, 2) + self.where, maps      # (B, cells, F), cells in row-major order

    def start_state(self, grid: torch.Tensor):
        """(h0, c0), each (B, H), from the grid's mean (Xu et al. 2015, §3.1.2), layer-normalised: without it the
        mean's numbers grew within a hundred steps until tanh saturated and h0 was the same for every picture."""
        mean = self.init_norm(grid.mean(1))  # (B, F) scaled to mean 0, spread 1 per picture (then a learned scale)
        return torch.tanh(self.init_h(mean)), torch.tanh(self.init_c(mean))

    def attend(self, grid: torch.Tensor, grid_keys: torch.Tensor, h: torch.Tensor):
        """grid (B, cells, F), grid_keys = W_g g (B, cells, A), h (B, H) -> (context (B, F), attention (B, cells))."""
        scores = self.att_score(torch.tanh(grid_keys + self.att_hidden(h)[:, None])).squeeze(-1)  # (B, cells)
        weights = torch.softmax(scores, -1)
        return (weights[:, :, None] * grid).sum(1), weights

    def step_input(self, grid, grid_keys, word: torch.Tensor, h: torch.Tensor):
        """What the LSTM reads at one word: ([embed(word); context] (B, E+F), attention (B, cells)), or without
        attention (embed(word), None)."""
        if not self.cfg.attention:
            return self.embed(word), None
        context, weights = self.attend(grid, grid_keys, h)
        return torch.cat([self.embed(word), context], -1), weights

    def readout(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """What the head reads after a word: [h; context] with attention (the context is the tail of the LSTM's input
        x), else h."""
        return torch.cat([h, x[..., self.cfg.embed_size:]], -1) if self.cfg.attention else h

    # --- the decoder ---------------------------------------------------------------------------------------------

    def decode(self, images: torch.Tensor, words: torch.Tensor):
        """Teacher forcing: images (B, 3, P, P), words read (B, T) -> dict of logits (B, T, V), attention
        (B, T, cells) or None, and the LSTM's h and c (B, T, H)."""
        self.check(images)
        grid, _ = self.encode(images)
        keys = self.att_grid(grid) if self.cfg.attention else None
        h, c = self.start_state(grid)
        hs, cs, atts, reads = [], [], [], []
        for t in range(words.shape[1]):
            x, weights = self.step_input(grid, keys, words[:, t], h)
            h, c = self.decoder(x, (h, c))
            reads.append(self.readout(h, x))
            hs.append(h)
            cs.append(c)
            atts.append(weights)
        hidden = torch.stack(hs, 1)                                  # (B, T, H)
        return {"logits": self.head(torch.stack(reads, 1)),
                "attention": torch.stack(atts, 1) if self.cfg.attention else None,
                "hidden_state": hidden, "cell_state": torch.stack(cs, 1)}

    def forward(self, batch):
        """batch = (images (B, 3, P, P), words read (B, T)[, targets]) -> (logits (B, T, V), attention or None)."""
        out = self.decode(batch[0], batch[1])
        return out["logits"], out["attention"]

    @torch.no_grad()
    def sample(self, images: torch.Tensor, max_len: int | None = None, temperature: float | None = None,
               generator: torch.Generator | None = None, start: int = START_ID, end: int = END_ID):
        """Free-running: each word read is the word emitted before, greedily (temperature None) or drawn from
        softmax(logits / temperature). -> (ids (B, L ≤ max_len), attention (B, L, cells) or None); a row goes on
        after its end mark until every row has one (decode cuts there)."""
        max_len = self.cfg.max_words if max_len is None else max_len
        check_int("caption length", max_len, 1, self.cfg.max_words)
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                        or not math.isfinite(temperature) or not 0.01 <= temperature <= 10):
            raise ConfigError(f"temperature must be a number from 0.01 to 10, got {temperature!r}")
        self.check(images)
        grid, _ = self.encode(images)
        keys = self.att_grid(grid) if self.cfg.attention else None
        h, c = self.start_state(grid)
        word = torch.full((images.shape[0],), start, dtype=torch.long)
        out, atts, done = [], [], torch.zeros(images.shape[0], dtype=torch.bool)
        for _ in range(max_len):
            x, weights = self.step_input(grid, keys, word, h)
            h, c = self.decoder(x, (h, c))
            logits = self.head(self.readout(h, x))
            if temperature is None:
                word = logits.argmax(-1)
            else:
                word = torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=generator)[:, 0]
            out.append(word)
            atts.append(weights)
            done |= word == end
            if done.all():
                break
        return torch.stack(out, 1), (torch.stack(atts, 1) if self.cfg.attention else None)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_captioner(cfg: CaptionerConfig, seed: int = 0) -> Captioner:
    """Same config + seed -> same initial weights (the global RNG is not touched), as models.build_model."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Captioner(cfg)


def expected_shapes(cfg: CaptionerConfig) -> dict:
    """{weight name: shape} of the model a config describes, without allocating its weights (meta device): a model
    file's tensors can be checked against it before anything is built."""
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in Captioner(cfg).state_dict().items()}


def caption_loss(model: Captioner, batch) -> torch.Tensor:
    """Cross-entropy of the next word under teacher forcing; padding (-100) is not scored."""
    images, words_in, targets = batch
    logits, _ = model((images, words_in))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)


def caption_defaults(data: CaptionData):
    """(model config, train config) of the preset. bench/bench_captions.py, one torch thread, seeds 0-2, 3 shapes at
    most: after 60 s of training (896-1,235 steps here, over two runs) held-out word accuracy 91.5-97.3 %, exact
    match 80.9-91.0 % (baselines: 21-35 % and <= 1.6 %), median attention share on the named shape 0.60-0.90;
    without attention 69.6-77.5 % and 9-47 %. `steps` is about those 60 s on this machine."""
    return (CaptionerConfig(vocab_size=len(data.vocab), conv_channels=16, embed_size=16, hidden_size=64,
                            attention_size=32, attention=True, max_words=data.max_words + 1),
            TrainConfig(batch_size=64, lr=5e-3, steps=1200, seed=0, eval_every=1.0))


# --- captions and how good they are ---------------------------------------------------------------------------------

def _split(ids_row, data: CaptionData) -> list[str]:
    """Emitted ids -> words up to and including the first end mark."""
    words = []
    for i in ids_row:
        words.append(data.vocab[int(i)])
        if words[-1] == END:
            break
    return words


@torch.no_grad()
def greedy_captions(model: Captioner, data: CaptionData, images, chunk: int = 256):
    """(captions as word lists up to and including END, attention (N, L, cells) per row or None) for pictures
    (N, 3, P, P)."""
    model.eval()
    images = torch.as_tensor(images)
    words, atts = [], []
    for i in range(0, len(images), chunk):
        ids, att = model.sample(images[i : i + chunk], start=data.stoi[START], end=data.stoi[END])
        words += [_split(row, data) for row in ids.tolist()]
        atts += list(att.numpy()) if att is not None else []
    return words, (atts or None)


MAX_SEED = 2**31 - 1  # sampling seeds a visitor may pick (torch.Generator takes any 64-bit number; a page needs fewer)


@torch.no_grad()
def sampled_caption(model: Captioner, data: CaptionData, image, temperature: float, seed: int) -> list[str]:
    """One caption of a picture (3, P, P), or a layout drawn first, each word drawn from softmax(logits / temperature)
    by a generator seeded with `seed`: the same picture, temperature and seed give the same words on every rerun.
    Temperature 0 is greedy (the likeliest word every time; the seed is not used). -> the words up to and including
    the end mark (no end mark if the caption reached the model's max_words without one)."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not math.isfinite(temperature) \
            or not (temperature == 0 or 0.01 <= temperature <= 10):
        raise ConfigError(f"temperature must be 0 (greedy) or a number from 0.01 to 10, got {temperature!r}")
    check_int("sampling seed", seed, 0, MAX_SEED)
    pic, _ = _picture(image, data)
    model.eval()
    ids, _ = model.sample(pic[None], temperature=temperature or None, generator=torch.Generator().manual_seed(seed),
                          start=data.stoi[START], end=data.stoi[END])
    return _split(ids[0].tolist(), data)


def score(emitted: list, truths: list[str]) -> dict:
    """Word accuracy: position by position over each truth's words plus its end mark, the share the emitted caption
    has right (a missing or extra word counts as wrong where it falls); exact match: the share of captions right
    word for word, end included."""
    right = total = exact = 0
    for words, truth in zip(emitted, truths):
        want = truth.split() + [END]
        right += sum(a == b for a, b in zip(words, want))
        total += len(want)
        exact += list(words[: len(want)]) == want
    n = len(truths)
    return {"word_accuracy": right / total if total else float("nan"), "exact_match": exact / n if n else float("nan")}


def baselines(data: CaptionData, n: int = 4096, seed: int = 999) -> dict:
    """What knowing only the training captions gets on the held-out set: {"most common caption": score,
    "most frequent word per position": score}, from n training captions."""
    train = [caption_words(s)[0] + [END] for s in data.train_layouts(n, seed)]
    texts = pd.Series([" ".join(w[:-1]) for w in train])
    common = texts.value_counts().index[0].split() + [END]
    per_position = []
    for j in range(max(map(len, train))):
        counts = pd.Series([w[j] for w in train if len(w) > j]).value_counts()
        per_position.append(counts.index[0])
        if per_position[-1] == END:
            break
    truths = data.val_captions
    return {"most common caption": score([common] * len(truths), truths),
            "most frequent word per position": score([per_position] * len(truths), truths)}


NAMING = set(COLOURS) | set(SHAPES)


def attention_on_named(data: CaptionData, emitted: list, attention: list) -> np.ndarray:
    """For every held-out word the model got right (same word at the same place as the truth) that is a colour or a
    shape, the share of that word's attention on the grid cells the named shape covers. -> (n words,) in [0, 1]."""
    shares = []
    for layout, words, att in zip(data.val_layouts, emitted, attention):
        truth, named = caption_words(layout)
        cells = covered_cells(layout, data.grid)                      # (shapes, cells)
        for t, (word, want) in enumerate(zip(words, truth)):
            if word == want and word in NAMING:
                shares.append(float(att[t][cells[named[t]]].sum()))
    return np.asarray(shares)


def evaluate_captions(model: Captioner, data: CaptionData) -> dict:
    """Held-out word accuracy and exact match of greedy captions, and with attention the median share of attention on
    the named shape when the model says its colour or shape."""
    emitted, attention = greedy_captions(model, data, data.val_images)
    out = score(emitted, data.val_captions)
    if attention is not None:
        shares = attention_on_named(data, emitted, attention)
        out["attention_on_named"] = float(np.median(shares)) if len(shares) else float("nan")
        out["named_words"] = len(shares)
    return out


# --- the trace of one caption -----------------------------------------------------------------------------------

def _picture(image, data: CaptionData):
    """image: a picture (3, P, P) or a layout (shapes) -> (picture tensor, the layout or None)."""
    if isinstance(image, (np.ndarray, torch.Tensor)):
        pic = torch.as_tensor(np.asarray(image, dtype=np.float32))
        if tuple(pic.shape) != (3, data.picture, data.picture):
            raise DataError(f"A picture is 3 × {data.picture} × {data.picture} (RGB), got {tuple(pic.shape)}.")
        if not torch.isfinite(pic).all():
            raise DataError("The picture contains NaN or infinite values.")
        return pic, None
    layout = check_layout(image)
    return torch.from_numpy(render(layout)), layout


@torch.no_grad()
def trace_caption(model: Captioner, data: CaptionData, image, caption: str | None = None, teacher: bool = False,
                  top_k: int = 5):
    """Trace one picture (3, P, P), or a layout that is drawn first, through the decoder word by word with
    trace.lstm_cell. The decoder reads <start> and then the true caption (teacher=True) or its own greedy words.
    Quantities (1, 1, T, H); inputs: the words read; targets: the truth's words and <end> ("" past its end or with no
    truth); extras: image (3, P, P), attention (T, cells), emitted (T,) words, grid (cells per side), maps (the first
    convolution's), replay_check (vs the model's own forward pass and nn.LSTMCell), initial_hidden_state and
    initial_cell_state (1, 1, H): the state the picture starts the decoder in, caption (the truth, "" if none), and
    for a layout its shapes (n, 5) as text, cells (n, cells) covered and named (T,): the shape each truth word names
    (-1: none)."""
    from ..trace_data import Trace
    model.eval()
    check_fits(model.cfg, data)
    pic, layout = _picture(image, data)
    if caption is None and layout is not None:
        caption = " ".join(caption_words(layout)[0])
    truth = data.encode(caption) if caption is not None else None
    start, end = data.stoi[START], data.stoi[END]
    if teacher:
        if truth is None:
            raise DataError("Teacher forcing needs the true caption.")
        read = [start] + truth
    else:
        emitted = model.sample(pic[None], start=start, end=end)[0][0].tolist()
        read = [start] + (emitted[: emitted.index(end)] if end in emitted else emitted[:-1])
    quantities, pre, probs, attention, maps, start_state = _replay_decoder(model, pic, read)
    trace = _as_trace(data, read, truth, probs, quantities, pre, top_k, Trace)
    trace.extras.update(replay_check=_replay_check(model, pic, read, quantities, probs, attention),
                        image=pic.numpy(), emitted=np.array([data.vocab[int(i)] for i in probs.argmax(-1)]),
                        grid=np.asarray(model.cfg.grid), teacher=np.asarray(teacher),
                        caption=np.asarray(caption if caption is not None else ""), maps=maps,
                        **start_state)  # arrays, so Trace.to_npz keeps them
    if attention is not None:
        trace.extras["attention"] = attention
    if layout is not None:
        trace.extras.update(shapes=np.array([[str(v) for v in s] for s in layout]),  # rows shape, colour, size, x, y
                            cells=covered_cells(layout, model.cfg.grid),
                            named=np.asarray(caption_words(layout)[1] + [-1]))
    return trace


def _replay_decoder(model: Captioner, pic: torch.Tensor, read: list):
    """The decoder replayed word by word with the one LSTM cell, fed the LSTMCell's own weights and x = [embed(word);
    context]. -> (quantities {name: (1, 1, T, H)}, pre-activations (1, 1, T, 4H), probabilities (T, V), attention
    (T, cells) or None, the first convolution's maps (C, P, P), the start state {initial_hidden_state,
    initial_cell_state: (1, 1, H)})."""
    from ..trace import lstm_cell
    from ..trace_data import CELL_QUANTITIES
    grid, maps = model.encode(pic[None])
    keys = model.att_grid(grid) if model.cfg.attention else None
    h, c = model.start_state(grid)
    # the state before the first word (from the picture, not zeros): the equations of step 0 read it
    start_state = {"initial_hidden_state": h[None].numpy(), "initial_cell_state": c[None].numpy()}  # (1, 1, H)
    cell = model.decoder
    steps, atts, inputs = [], [], []
    for word in read:
        x, weights = model.step_input(grid, keys, torch.tensor([word]), h)
        step = lstm_cell(x, h, c, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        h, c = step.hidden_state, step.cell_state
        steps.append(step)
        atts.append(weights)
        inputs.append(x[0])
    quantities = {q: torch.stack([getattr(s, q)[0] for s in steps])[None, None].numpy()
                  for q in CELL_QUANTITIES["lstm"]}                             # (1, 1, T, H)
    pre = torch.stack([s.pre_activation[0] for s in steps])[None, None].numpy()  # (1, 1, T, 4H)
    hidden = torch.from_numpy(quantities["hidden_state"][0, 0])                 # (T, H)
    probs = torch.softmax(model.head(model.readout(hidden, torch.stack(inputs))), -1)  # (T, V)
    attention = torch.cat(atts).numpy() if model.cfg.attention else None        # (T, cells)
    return quantities, pre, probs, attention, maps[0].numpy(), start_state


def _as_trace(data, read, truth, probs, quantities, pre, top_k, Trace):
    """The Trace's words and top-k table: targets are the truth's words plus <end>, "" where there is none."""
    T = len(read)
    want = [data.vocab[i] for i in truth] + [END] if truth is not None else []
    targets = [want[t] if t < len(want) else "" for t in range(T)]
    top_p, top_i = probs.topk(min(top_k, probs.shape[-1]), -1)                # (T, k)
    k = top_p.shape[1]
    actual = [float(probs[t, data.stoi[targets[t]]]) if targets[t] else float("nan") for t in range(T)]
    preds = pd.DataFrame({"step": np.repeat(np.arange(T), k), "rank": np.tile(np.arange(1, k + 1), T),
                          "char": [data.vocab[int(i)] for i in top_i.ravel()], "prob": top_p.ravel().numpy(),
                          "actual_prob": np.repeat(actual, k)})
    return Trace("captions", quantities, [data.vocab[i] for i in read], targets, preds, pre, "lstm", "next")


def _replay_check(model, pic, read, quantities, probs, attention) -> dict:
    """The proof on screen: the replay against the model's own batch forward pass (teacher-forced on the same words:
    logits, h, c, attention) and against torch's nn.LSTMCell fed the replay's inputs at every word."""
    out = model.decode(pic[None], torch.tensor([read]))
    h = torch.from_numpy(quantities["hidden_state"][0, 0])
    c = torch.from_numpy(quantities["cell_state"][0, 0])
    errors = [(out["hidden_state"][0] - h).abs().max(), (out["cell_state"][0] - c).abs().max(),
              (torch.softmax(out["logits"][0], -1) - probs).abs().max()]
    if attention is not None:
        errors.append((out["attention"][0] - torch.from_numpy(attention)).abs().max())
    return {"max_abs_h": float(max(errors)), "module": "Captioner.decode",  # a name: the verdict says "…'s forward pass"
            "compared": "h, c, the word probabilities" + (" and the attention" if attention is not None else "")}


# --- where the model looks, in words ----------------------------------------------------------------------------------

def gaze(trace, step: int) -> dict:
    """At one word of a traced layout: the word emitted, the shape it names (index into the layout, or -1: a
    relation word, a wrong word, or no truth) and the share of the word's attention on each shape's grid cells."""
    word = str(trace.extras["emitted"][step])
    named = int(trace.extras["named"][step]) if "named" in trace.extras and step < len(trace.extras["named"]) else -1
    if word != trace.targets[step] or word not in NAMING:
        named = -1  # it names a shape only when it is the truth's colour or shape word at this place
    shares = [float(trace.extras["attention"][step][cells].sum()) for cells in trace.extras["cells"]] \
        if "attention" in trace.extras and "cells" in trace.extras else []
    return {"word": word, "named": named, "shares": shares}


def gaze_sentence(trace, step: int) -> str:
    """One sentence on where the decoder looks when it emits the word at `step`, from the numbers gaze() returns."""
    if "attention" not in trace.extras:
        return "This captioner has no attention: it saw the picture once, through the mean of the grid."
    g = gaze(trace, step)
    if not g["shares"]:
        att = trace.extras["attention"][step]
        grid = int(trace.extras["grid"])
        row, col = divmod(int(att.argmax()), grid)
        return f"Saying “{g['word']}”, it looks hardest at the cell in row {row + 1}, column {col + 1} " \
               f"({att.max():.0%})."
    names = [f"{s[2]} {s[1]} {s[0]}" for s in trace.extras["shapes"]]
    top = int(np.argmax(g["shares"]))
    if g["named"] >= 0:
        share = g["shares"][g["named"]]
        text = f"Saying “{g['word']}”, it puts {share:.0%} of its attention on the {names[g['named']]}, the shape " \
               f"that word names"
        return text + ("." if top == g["named"] else f"; more ({g['shares'][top]:.0%}) is on the {names[top]}.")
    return f"Saying “{g['word']}”, it puts the most attention ({g['shares'][top]:.0%}) on the {names[top]}."
