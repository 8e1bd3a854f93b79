"""The long-memory lab: tasks whose answer depends on one item far back, a fair race between a plain RNN, a GRU and
an LSTM, and measurements of why the race ends as it does (gradient norms over the gap, forget-gate products).

Tasks (each example has a *distance* knob and one scored position, at the end):

    agreement      "the cats and then near the old barn were."   the verb's 2nd letter (e/a) after N filler words
    first_symbol   "Cefhgkleh…=C"                                the first symbol, after N noise symbols
    adding         (value, marker) pairs; output the sum of the two marked values   (Hochreiter & Schmidhuber 1997)

Text tasks are character level and use the app's SequenceModel, so a trained lab model opens in the step-through
page like any other. No Streamlit here.
"""
from __future__ import annotations

import copy
import json
import math
import random
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .conclusions import reach
from .config import LIMITS, ConfigError, check_bool, check_choice, check_float, check_int
from .kinds.text_data import TextData
from .explain import rank_units
from .jobs import BackgroundRun, announce
from .kinds import KINDS
from .kinds.base import IGNORE
from .kinds.sequence import ModelConfig
from .models import build_model
from .names import CELL_NAMES
from .trace import CHUNKS, cell_type, gru_cell, layer_weights, lstm_cell, replay, rnn_cell
from .train import NonFiniteLoss, Trainer, make_optimizer

PAD = "\n"

# --- tasks ------------------------------------------------------------------------------------------------------

_SUBJECTS = [("cat", "cats"), ("dog", "dogs"), ("bird", "birds"), ("horse", "horses")]
# number-neutral filler: no word here says whether the subject was one or many
_FILLER = ["and", "then", "near", "the", "old", "barn", "by", "a", "red", "tree", "after", "lunch", "with", "joy",
           "very", "slowly", "under", "sky"]
_SYMBOLS, _NOISE = "ABCD", "efghijkl"


@dataclass(frozen=True)
class Example:
    """One task item: text (text tasks) or values (T, 2) (adding), the scored step and its answer."""
    text: str | None
    values: np.ndarray | None
    scored: int           # the step whose output is judged (its input is the last thing the model sees)
    answer: object        # the character expected after `scored`, or the sum
    distance: int
    key: object           # what the answer depends on: plural (bool), first symbol, or the two marked values


def agreement_example(distance: int, rng: random.Random) -> Example:
    plural = rng.random() < 0.5
    noun = rng.choice(_SUBJECTS)[plural]
    words = [rng.choice(_FILLER) for _ in range(distance)]
    verb = "were" if plural else "was"
    head = f"the {noun} " + "".join(w + " " for w in words)
    return Example(head + verb + ".", None, len(head), verb[1], distance, plural)  # scored: input 'w' -> 'e'/'a'


_PEOPLE = [("mary", "she"), ("anna", "she"), ("lucy", "she"), ("tom", "he"), ("ben", "he"), ("sam", "he")]
_NUT_FOODS = ["peanut cake", "nut bread", "almond cookies"]


def allergy_example(distance: int, rng: random.Random) -> Example:
    """'mary is allergic to nuts. <N filler words> she can't eat peanut cake.' (or 'mary loves nuts. … she can eat
    …'): whether she can eat it was said N words earlier. Scored: the character after 'can' (' or a space)."""
    name, pronoun = rng.choice(_PEOPLE)
    allergic = rng.random() < 0.5
    first = f"{name} is allergic to nuts. " if allergic else f"{name} loves nuts. "
    head = first + "".join(rng.choice(_FILLER) + " " for _ in range(distance)) + f"{pronoun} can"
    text = head + ("'t" if allergic else "") + f" eat {rng.choice(_NUT_FOODS)}."
    return Example(text, None, len(head) - 1, "'" if allergic else " ", distance, allergic)


def first_symbol_example(distance: int, rng: random.Random) -> Example:
    first = rng.choice(_SYMBOLS)
    text = first + "".join(rng.choice(_NOISE) for _ in range(distance)) + "=" + first
    return Example(text, None, len(text) - 2, first, distance, first)  # scored: input '=' -> the first symbol


def adding_example(distance: int, rng: random.Random) -> Example:
    """distance + 2 steps of (uniform value, marker); the first marked value sits `distance + 1` steps before
    the end, the second anywhere after it; answer = their sum."""
    T = distance + 2
    v = np.array([rng.random() for _ in range(T)], dtype=np.float32)
    marks = np.zeros(T, dtype=np.float32)
    second = rng.randint(1, T - 1)
    marks[[0, second]] = 1.0
    return Example(None, np.stack([v, marks], axis=1), T - 1, float(v[0] + v[second]), distance,
                   (float(v[0]), float(v[second])))


@dataclass(frozen=True)
class Task:
    key: str
    label: str
    make: object             # (distance, rng) -> Example
    distance_unit: str
    chance: float            # accuracy of the best guess that ignores the distant item
    what: str
    kind = ""                # the model kind its models are ("text": characters; "series": values)
    loss_label = ""

    def alphabet(self) -> str:
        """Every character the task's examples can contain."""
        if self.key == "agreement":
            return " ".join(w for pair in _SUBJECTS for w in pair) + " " + " ".join(_FILLER) + " was were." + PAD
        if self.key == "allergy":
            return (" ".join(w for pair in _PEOPLE for w in pair) + " " + " ".join(_FILLER) + " "
                    + " ".join(_NUT_FOODS) + " is allergic to nuts. loves can't eat." + PAD)
        return _SYMBOLS + _NOISE + "=" + PAD


@dataclass(frozen=True)
class TextTask(Task):
    """Characters in, the character at the scored step out: the text kind's model."""
    kind = "text"
    loss_label = "loss at the scored step (cross-entropy)"

    def data(self):
        """The vocabulary of the task, as text data (so the step-through page can decode and encode)."""
        rng = random.Random(1)
        corpus = PAD.join(self.make(rng.randint(0, 6), rng).text for _ in range(400)) + PAD + self.alphabet()
        return TextData(corpus, name=self.label)

    def model_config(self, data, cell: str, hidden: int) -> ModelConfig:
        return ModelConfig("text", vocab_size=len(data.vocab), embed_size=16, hidden_size=hidden, cell=cell)

    def encode(self, examples: list, data):
        """Examples -> x (B, T) ids, y (B, T) with only the scored step set (IGNORE elsewhere)."""
        B, T = len(examples), max(len(e.text) - 1 for e in examples)
        x = torch.full((B, T), data.stoi[PAD], dtype=torch.long)
        y = torch.full((B, T), IGNORE, dtype=torch.long)
        for b, e in enumerate(examples):
            ids = data.encode(e.text)
            x[b, : len(ids) - 1] = ids[:-1]  # right-padded: the scored step comes before the padding
            y[b, e.scored] = data.stoi[e.answer]
        return x, y

    def right(self, pred, y, scored):
        """Whether each scored answer is right: the top guess is the answer."""
        return pred.argmax(-1)[scored] == y[scored]


@dataclass(frozen=True)
class SeriesTask(Task):
    """Values (and markers) in, a number at the scored step out: the series kind's model."""
    kind = "series"
    loss_label = "loss at the scored step (squared error)"

    def data(self):
        return None

    def model_config(self, data, cell: str, hidden: int) -> ModelConfig:
        return ModelConfig("series", embed_size=16, hidden_size=hidden, cell=cell, input_size=2)

    def encode(self, examples: list, data):
        """Examples -> x (B, T, 2) values and markers, y (B, T, 1) with only the scored step set (NaN elsewhere)."""
        B, T = len(examples), max(len(e.values) for e in examples)
        x = torch.zeros(B, T, 2)
        y = torch.full((B, T, 1), float("nan"))
        for b, e in enumerate(examples):
            x[b, : len(e.values)] = torch.from_numpy(e.values)
            y[b, e.scored, 0] = e.answer
        return x, y

    def right(self, pred, y, scored):
        """Whether each scored answer is right: within ACCURACY_TOLERANCE of the sum."""
        return (pred[..., 0][scored] - y[..., 0][scored]).abs() < ACCURACY_TOLERANCE


# P(|a + b - 1| < 0.1) for a, b ~ U(0, 1): always answering 1.0 (the mean) is "right" this often
_ADDING_CHANCE = 1 - (1 - 0.1) ** 2
TASKS = {
    "agreement": TextTask("agreement", "Agreement: the cat(s) … was/were", agreement_example, "filler words",
                          0.5, "the verb's number (was/were) after the filler"),
    "allergy": TextTask("allergy", "Allergy: mary is allergic to nuts … she can't eat", allergy_example,
                        "filler words", 0.5, "whether she can eat it (can't / can) after the filler"),
    "first_symbol": TextTask("first_symbol", "Remember the first symbol", first_symbol_example,
                             "noise symbols", 0.25, "the first of 4 symbols, after the noise"),
    "adding": SeriesTask("adding", "Adding problem (series)", adding_example, "steps", _ADDING_CHANCE,
                         "the sum of the two marked values, within ±0.1"),
}
ACCURACY_TOLERANCE = 0.1  # adding problem: an answer within this of the sum counts as right


def task_data(task: Task):
    """The vocabulary of a text task, as a TextData (None for the series task)."""
    return task.data()


def encode_batch(task: Task, examples: list, data):
    """Examples -> x, y with only the scored step set (IGNORE / NaN elsewhere)."""
    return task.encode(examples, data)


def scored_steps(y: torch.Tensor) -> torch.Tensor:
    """(B, T) bool: the steps a target is set for (IGNORE for text ids, NaN for values mark the others)."""
    return y != IGNORE if y.dtype == torch.long else torch.isfinite(y[..., 0])


@torch.no_grad()
def accuracy_by_distance(model, task: Task, data, val: dict) -> dict:
    """{distance: accuracy} on the fixed validation examples; only the scored step counts."""
    model.eval()
    out = {}
    for d, (x, y) in val.items():
        pred, _ = model(x)
        out[d] = task.right(pred, y, scored_steps(y)).float().mean().item()
    return out


# --- a fair race ------------------------------------------------------------------------------------------------

def model_config(task: Task, data, cell: str, hidden: int) -> ModelConfig:
    return task.model_config(data, cell, hidden)


def matched_hidden(task: Task, data, cell: str, target_params: int) -> int:
    """The hidden size whose parameter count is closest to target_params (so the race is fair in size).
    The count grows with the hidden size, so a bisection needs ~8 model builds."""
    count = lambda h: build_model(model_config(task, data, cell, h)).n_params()
    lo, hi = 2, LIMITS.max_hidden
    while lo < hi:
        mid = (lo + hi) // 2
        if count(mid) < target_params:
            lo = mid + 1
        else:
            hi = mid
    return min({max(2, lo - 1), lo}, key=lambda h: (abs(count(h) - target_params), h))


@dataclass(frozen=True)
class RaceConfig:
    """Defaults chosen so the lesson holds for every seed tried (README): the plain RNN right at 0 filler words and
    at chance from a few words on, the GRU and the LSTM right across 0-20 words; about 10 s per run on one core.

    Two choices make it robust. Training distances lean short (skew 2) so no model drowns in unlearnable long
    examples; and the LSTM starts with the chrono initialisation (gates tuned to the longest gap), so it learns the
    long gaps in a few hundred steps. Trained much longer, a plain RNN sometimes finds a saturated "latch" unit and
    carries one bit far: the lesson is about what gradient descent finds, not what an RNN can represent."""
    task: str = "agreement"
    min_distance: int = 0
    max_distance: int = 20
    lstm_hidden: int = 32       # the GRU and the RNN get the hidden size that matches its parameter count
    steps: int = 350
    batch_size: int = 16
    lr: float = 1e-2
    seed: int = 0
    val_per_distance: int = 128  # a model at chance scores 50 % ± 4.4 points here
    forget_bias: float = 1.0    # without chrono: the LSTM's forget-gate bias at the start; 1 is the usual recipe
                                # (Gers et al. 2000, Jozefowicz et al. 2015); PyTorch starts near 0 (forgets half)
    skew: float = 2.0           # training distances: 1 uniform over the range, 2 more of the short ones
    chrono: bool = True         # LSTM gate biases from the "chrono" initialisation (Tallec & Ollivier 2018)
                                # instead of forget_bias: b_f ~ log U(1, T - 1), b_i = -b_f, T the longest example
    cooldown: float = 0.3       # the last 30 % of the steps lower the learning rate linearly to 0, so a run ends
                                # settled rather than wherever its last few batches pushed it
    seeds: int = 1              # runs with seeds seed, seed + 1, …: the accuracy chart shows their spread
    sweep: bool = False         # one run per tested distance, trained on that distance only (slower, cleaner)

    def validate(self) -> "RaceConfig":
        check_choice("task", self.task, tuple(TASKS))
        for name, v, lo, hi in (("shortest distance", self.min_distance, 0, 100),
                                ("longest distance", self.max_distance, 1, 100),
                                ("LSTM hidden size", self.lstm_hidden, 2, 128), ("steps", self.steps, 10, 5000),
                                ("batch size", self.batch_size, 1, LIMITS.max_batch), ("seeds", self.seeds, 1, 5),
                                ("seed", self.seed, 0, 2**31 - 1),
                                ("validation examples per distance", self.val_per_distance, 8, 1024)):
            check_int(name, v, lo, hi)
        check_float("cooldown", self.cooldown, 0.0, 1.0)
        check_bool("sweep", self.sweep)
        check_bool("chrono", self.chrono)
        if self.min_distance > self.max_distance:
            raise ConfigError("the shortest distance must not be longer than the longest")
        check_float("learning rate", self.lr, 1e-5, 0.1)
        check_float("forget-gate bias", self.forget_bias, -5.0, 5.0)
        check_float("distance skew", self.skew, 0.25, 4.0)
        return self

    def distances(self) -> list[int]:
        """Up to 8 evenly spread distances to evaluate (training draws from the whole range)."""
        return spread_distances(self.min_distance, self.max_distance)


def spread_distances(lo: int, hi: int) -> list[int]:
    """Up to 8 evenly spread distances from lo to hi (fewer where the range holds fewer)."""
    return sorted(set(np.linspace(lo, hi, 8).round().astype(int).tolist()))


def sweep_help(lo: int, hi: int) -> str:
    """The sweep checkbox's help for the range lo … hi: as many distances as the sweep will run."""
    d = spread_distances(lo, hi)
    which = (f"each of the {len(d)} distances {', '.join(map(str, d))}, each trained on its distance only" if len(d) > 1
             else f"the one distance {d[0]}, trained on it only")
    return ("The classic experiment (Hochreiter & Schmidhuber 1997): a fresh set of models for "
            f"{which}. A cleaner curve — a model never gets to learn the short cases first — at about "
            f"{f'{len(d)} times ' if len(d) > 1 else ''}the time of one race, more for long distances.")


def set_forget_bias(model, value: float) -> None:
    """Set every LSTM layer's forget-gate bias (rows H..2H; bias_ih carries it, bias_hh's slice is zeroed)."""
    H = model.rnn.hidden_size
    with torch.no_grad():
        for name, p in model.rnn.named_parameters():
            if name.startswith("bias_"):
                p[H : 2 * H] = value if name.startswith("bias_ih") else 0.0


def lr_factor(cfg: RaceConfig, step: int) -> float:
    """The learning rate at a step (1-based), as a fraction of cfg.lr: constant, then a linear cool-down to 0."""
    start = cfg.steps * (1 - cfg.cooldown)
    return 1.0 if step <= start else max(0.0, (cfg.steps - step + 1) / (cfg.steps - start + 1))


def set_chrono_bias(model, t_max: int, seed: int) -> None:
    """Chrono initialisation (Tallec & Ollivier 2018, "Can recurrent neural networks warp time?"): forget-gate
    biases log U(1, t_max - 1), so the units' memory spans cover time scales up to the longest gap, and input-gate
    biases their negatives, so the filler does not overwrite them at the start."""
    H = model.rnn.hidden_size
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.rnn.named_parameters():
            if name.startswith("bias_ih"):
                b_f = torch.log(1 + torch.rand(H, generator=g) * max(1, t_max - 2))
                p[H : 2 * H], p[:H] = b_f, -b_f
            elif name.startswith("bias_hh"):
                p[: 2 * H] = 0.0


def draw_distance(cfg: RaceConfig, rng: random.Random) -> int:
    """A training distance, with more weight near the shortest: d = min + floor((max - min + 1) * u**skew). With
    skew 1 every distance is equally likely; with skew 2 the shortest third of the range gets 58 % of the examples.
    (Measured: a plain RNN trained on 0-20 words drawn uniformly learned not even the 0-word case — the long,
    unlearnable examples drown the short ones — while one trained on 0-8 words got 0 words right.)"""
    span = cfg.max_distance - cfg.min_distance + 1
    return cfg.min_distance + min(span - 1, int(span * rng.random() ** cfg.skew))


def train_examples(task: Task, cfg: RaceConfig, rng: random.Random, distance: int | None = None) -> list:
    """One training batch: half of it at one distance D (drawn, unless given), the other half at distances drawn
    evenly from the shortest up to D. A batch is as long as its longest example, so this costs what a batch at D
    costs (a batch mixing the whole range would cost the longest every time: 3x slower, measured); and every batch
    holds short examples, so a model does not drift between batches (measured: with one distance per batch, a
    plain RNN's accuracy at 0 words swung between 50 % and 100 % from one batch to the next)."""
    if distance is not None:
        return [task.make(distance, rng) for _ in range(cfg.batch_size)]
    top = draw_distance(cfg, rng)
    half = cfg.batch_size // 2
    return [task.make(top if i < cfg.batch_size - half else rng.randint(cfg.min_distance, top), rng)
            for i in range(cfg.batch_size)]


@dataclass
class Racer:
    cell: str
    trainer: Trainer          # its model, optimiser and the one training step (train.py)
    initial: dict              # state_dict at initialisation (for the gradient curve "before training")
    history: list = field(default_factory=list)  # (step, loss)
    failed: str = ""           # why it stopped training early (it diverged), if it did

    @property
    def model(self):
        return self.trainer.model

    @property
    def skipped(self) -> int:
        """Steps skipped because the loss or gradient was not finite."""
        return self.trainer.skipped


@dataclass(frozen=True)
class Run:
    """One training of the three models: a seed, and (per-distance sweep) the one distance it trains and is tested
    on; None: distances drawn from the whole range."""
    seed: int
    distance: int | None = None


class Race(BackgroundRun):
    """Train an RNN, a GRU and an LSTM of similar size on the same batches, one step each in turn, in one thread
    (one of the process's training slots, through the one lifecycle of jobs.BackgroundRun); once per seed, and per
    distance in a sweep. Results land in `results` when done; `racers` then holds the models the results explain
    (the first seed; in a sweep, its longest distance)."""
    failure = "The race failed"
    thread_name = "lstm-race"

    def __init__(self, cfg: RaceConfig, alive=None):
        super().__init__(alive)
        self.cfg = cfg.validate()
        self.task = TASKS[cfg.task]
        self.data = task_data(self.task)
        lstm_params = build_model(model_config(self.task, self.data, "lstm", cfg.lstm_hidden)).n_params()
        self.hidden = {cell: cfg.lstm_hidden if cell == "lstm" else
                       matched_hidden(self.task, self.data, cell, lstm_params) for cell in ("rnn", "gru", "lstm")}
        distances = cfg.distances()
        self.runs = [Run(cfg.seed + i, d) for i in range(cfg.seeds) for d in (distances if cfg.sweep else [None])]
        self.explained = self.runs[len(distances) - 1] if cfg.sweep else self.runs[0]
        self.racers = self._racers(self.runs[0])
        rng = random.Random(10_000 + cfg.seed)  # validation examples: fixed, separate from the training stream
        self.val = {d: encode_batch(self.task, [self.task.make(d, rng) for _ in range(cfg.val_per_distance)],
                                    self.data) for d in distances}
        self.step, self.results = 0, None
        self.run_index, self.started = 0, None

    def _racers(self, run: Run) -> dict:
        racers = {}
        for cell, hidden in self.hidden.items():
            model = build_model(model_config(self.task, self.data, cell, hidden), seed=run.seed)
            if cell == "lstm" and self.cfg.chrono:
                set_chrono_bias(model, self.longest_example(), run.seed)
            elif cell == "lstm":
                set_forget_bias(model, self.cfg.forget_bias)
            trainer = Trainer(model, make_optimizer(model, self.cfg.lr), KINDS[self.task.kind])
            racers[cell] = Racer(cell, trainer, copy.deepcopy(model.state_dict()))
        return racers

    @property
    def total_steps(self) -> int:
        return self.cfg.steps * len(self.runs)

    def longest_example(self) -> int:
        """Steps in a typical example at the longest distance (the chrono initialisation's time scale)."""
        rng = random.Random(0)
        return max(len(e.text) if e.text is not None else len(e.values)
                   for e in (self.task.make(self.cfg.max_distance, rng) for _ in range(32)))

    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far (None before the first steps)."""
        if self.started is None or self.step < 20:
            return None
        done = time.monotonic() - self.started
        return done / self.step * (self.total_steps - self.step)

    def histories(self) -> pd.DataFrame:
        """The loss curves of the run in progress (of the explained run once done)."""
        with self.lock:
            rows = [(cell, s, l) for cell, r in self.racers.items() for s, l in r.history]
        return pd.DataFrame(rows, columns=["cell", "step", "loss"])

    def param_counts(self) -> dict:
        return {cell: (r.model.cfg.hidden_size, r.model.n_params()) for cell, r in self.racers.items()}

    def work(self):
        self.started = time.monotonic()
        rows, kept = [], None
        for i, run in enumerate(self.runs):
            if i:
                racers = self._racers(run)
                with self.lock:
                    self.racers, self.run_index = racers, i
            stopped = self._train_run(run, i)
            if stopped:
                return self.finish("stopped", stopped)
            for d, a in self._accuracy(run).items():
                rows += [{"seed": run.seed, "cell": cell, "distance": d, "accuracy": a[cell]} for cell in a]
            if run == self.explained:
                kept = self.racers
        with self.lock:
            self.status, self.racers = "evaluating", kept
        self.results = evaluate_race(self, pd.DataFrame(rows, columns=["seed", "cell", "distance", "accuracy"]))
        notes = [f"the {CELL_NAMES[c]} skipped {r.skipped} step(s) whose loss or gradient was not finite"
                 for c, r in kept.items() if r.skipped and not r.failed]
        notes += [f"the {CELL_NAMES[c]} stopped training early ({r.failed}; its last good weights were kept)"
                  for c, r in kept.items() if r.failed]
        runs = f"{len(self.runs)} runs of " if len(self.runs) > 1 else ""
        self.finish("done", f"Finished {runs}{self.cfg.steps} steps for each model in "
                     f"{time.monotonic() - self.started:.0f} s."
                     + (" Note: " + "; ".join(notes) + " (their weights were kept)." if notes else ""))

    def _train_run(self, run: Run, index: int) -> str | None:
        """Train the current racers for one run, in lockstep on the same batches; returns why it stopped early."""
        rng = random.Random(run.seed if run.distance is None else run.seed * 1009 + run.distance)
        for step in range(1, self.cfg.steps + 1):
            why = self.between_steps()
            if why:
                return self.stop_message(why, f"step {self.step:,} of {self.total_steps:,}")
            examples = train_examples(self.task, self.cfg, rng, run.distance)
            x, y = encode_batch(self.task, examples, self.data)  # the same batch for all three
            losses = {}
            for cell, r in self.racers.items():
                if r.failed:
                    continue
                r.trainer.set_lr(self.cfg.lr * lr_factor(self.cfg, step))
                try:
                    loss = r.trainer.step(x, y)
                except NonFiniteLoss as e:
                    r.failed = str(e)
                    continue
                if loss is not None:
                    losses[cell] = loss
                if step % 25 == 0:
                    r.trainer.keep_good()
            with self.lock:
                for cell, loss in losses.items():
                    self.racers[cell].history.append((step, loss))
                self.step = index * self.cfg.steps + step
            announce()
        return None

    def _accuracy(self, run: Run) -> dict:
        """{distance: {cell: accuracy}}: every distance, or a sweep run's own."""
        val = self.val if run.distance is None else {run.distance: self.val[run.distance]}
        by_cell = {cell: accuracy_by_distance(r.model, self.task, self.data, val) for cell, r in self.racers.items()}
        return {d: {cell: by_cell[cell][d] for cell in by_cell} for d in val}

    def record(self) -> "RaceRecord":
        """The finished race's numbers, without its models."""
        return RaceRecord(self.cfg, self.message, self.results, self.param_counts(), self.histories())


def _frame_json(df: pd.DataFrame) -> dict:
    """Column by column, so each keeps its type (a unit number stays an int next to a float correlation)."""
    return {str(c): df[c].tolist() for c in df.columns}


def _frame(d: dict) -> pd.DataFrame:
    return pd.DataFrame(d)


@dataclass
class RaceRecord:
    """What the results view draws: a finished race's config, message, results and loss curves, without models.
    A live race makes one; the default race's is saved with the bundles so the page opens on it."""
    cfg: RaceConfig
    message: str
    results: dict             # accuracy, gradients, forget (DataFrames); unit (dict with a ranked DataFrame)
    counts: dict              # cell -> (hidden size, parameters)
    history: pd.DataFrame     # cell, step, loss of the explained run

    @property
    def task(self) -> Task:
        return TASKS[self.cfg.task]

    def to_json(self) -> str:
        res = {k: _frame_json(v) for k, v in self.results.items() if isinstance(v, pd.DataFrame)}
        if "unit" in self.results:
            u = self.results["unit"]
            res["unit"] = {**{k: v for k, v in u.items() if k != "ranked"}, "ranked": _frame_json(u["ranked"])}
        stride = max(1, len(self.history) // 1800)  # three curves of ~600 points draw the same picture
        history = self.history.groupby("cell", sort=False).nth(slice(None, None, stride)) if stride > 1 else \
            self.history
        import dataclasses
        return json.dumps({"cfg": dataclasses.asdict(self.cfg), "message": self.message, "results": res,
                           "counts": self.counts, "history": _frame_json(history)}, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> "RaceRecord":
        raw = json.loads(text)
        res = {k: _frame(v) for k, v in raw["results"].items() if k != "unit"}
        if "unit" in raw["results"]:
            u = raw["results"]["unit"]
            res["unit"] = {**u, "ranked": _frame(u["ranked"])}
        return cls(RaceConfig(**raw["cfg"]).validate(), raw["message"], res,
                   {c: tuple(v) for c, v in raw["counts"].items()}, _frame(raw["history"]))


# --- why: gradients over the gap, forget-gate products, the unit that remembers ----------------------------------

def hidden_grad_norms(model, x, y) -> np.ndarray:
    """‖∂L/∂h(t)‖ for every step t of a batch whose examples are all scored at the same, last scored step s.

    Returns norms indexed by k = s − t (k = 0 … s), averaged over the batch. The network is unrolled with the same
    cell functions as the trace (trace.lstm_cell / gru_cell / rnn_cell), with autograd on; L is the task loss."""
    model.eval()
    rnn = model.rnn
    cell = cell_type(rnn)
    if rnn.num_layers != 1 or rnn.bidirectional:
        raise ValueError("the gradient curve is measured for one-layer, one-directional models")
    steps = scored_steps(y).any(0).nonzero().flatten()
    if len(steps) != 1:
        raise ValueError("every example in the batch must be scored at the same step")
    s = int(steps[0])
    emb = model.encoder(x)                                   # (B, T, E)
    B, H = x.shape[0], rnn.hidden_size
    weights = layer_weights(rnn, 0, 0, CHUNKS[cell])
    h, c = torch.zeros(B, H), torch.zeros(B, H)
    hs = []
    for t in range(s + 1):
        if cell == "lstm":
            st = lstm_cell(emb[:, t], h, c, *weights)
            c = st.cell_state
        elif cell == "gru":
            st = gru_cell(emb[:, t], h, *weights)
        else:
            st = rnn_cell(emb[:, t], h, *weights)
        h = st.hidden_state
        h.retain_grad()
        hs.append(h)
    out = model.head(h)                                      # the output at the scored step
    if y.dtype == torch.long:
        loss = torch.nn.functional.cross_entropy(out, y[:, s])
    else:
        loss = torch.nn.functional.mse_loss(out, y[:, s])
    model.zero_grad(set_to_none=True)
    loss.backward()
    norms = np.array([hs[t].grad.norm(dim=-1).mean().item() for t in range(s + 1)])
    model.zero_grad(set_to_none=True)
    return norms[::-1].copy()                                # index k = s - t


@torch.no_grad()
def _survival(model, x, y) -> torch.Tensor:
    """∏ f over the k steps before the scored step, per k and unit, averaged over the batch: (s+1, H)."""
    scored = scored_steps(y).any(0).nonzero().flatten()
    s = int(scored[0])
    f = replay(model.rnn, model.encoder(x).transpose(0, 1))["forget_gate"][0, 0, : s + 1]  # (s+1, B, H)
    # survival from step t to s: product of f over t+1 … s (k = s - t factors)
    rev = torch.flip(f[1:], dims=[0])                        # f_s, f_{s-1}, …
    prods = torch.cat([torch.ones(1, *f.shape[1:]), torch.cumprod(rev, dim=0)])  # (s+1, B, H)
    return prods.mean(1)                                     # (s+1, H)


def forget_products(model, x, y) -> pd.DataFrame:
    """LSTM only: how much of the cell state survives k steps before the scored step, ∏ f over those steps.

    Returns k, mean over units, max over units (each averaged over the batch)."""
    per_unit = _survival(model, x, y)
    return pd.DataFrame({"k": np.arange(len(per_unit)), "mean over units": per_unit.mean(1).numpy(),
                         "best unit": per_unit.max(1).values.numpy()})


KEEPS = 0.9   # a unit "keeps" its cell state over k steps when ∏ f over them is at least this


def units_keeping(model, x, y) -> pd.DataFrame:
    """LSTM only: per k, how many units keep at least KEEPS of their cell state over the k steps before the scored
    step (k, keeping, units) — what "a few units are the memory" is checked against."""
    per_unit = _survival(model, x, y)
    return pd.DataFrame({"k": np.arange(len(per_unit)), "keeping": (per_unit >= KEEPS).sum(1).numpy(),
                         "units": per_unit.shape[1]})


@torch.no_grad()
def remembering_unit(model, task: Task, data, examples: list, quantity: str = "cell_state") -> dict:
    """Tasks whose answer hangs on a yes/no fact said far back (agreement: plural subject; allergy: allergic): the
    LSTM unit whose cell state (or other quantity), just before the scored step, best separates the two. Returns
    unit, correlation, the ranking, one example sentence and its scored step for the step-through page."""
    x, _ = encode_batch(task, examples, data)
    c = replay(model.rnn, model.encoder(x).transpose(0, 1))[quantity][0, 0]  # (T, B, H)
    at_verb = torch.stack([c[e.scored - 1, b] for b, e in enumerate(examples)])  # state after the space before w
    signal = np.array([1.0 if e.key else -1.0 for e in examples])
    ranked = rank_units(at_verb.numpy(), signal)
    unit, r = int(ranked["unit"].iloc[0]), float(ranked["correlation"].iloc[0])
    # the longest example with the subject the unit is most sure about
    pick = max(examples, key=lambda e: (e.distance, (1 if e.key else -1) * r > 0))
    return {"unit": unit, "correlation": r, "sentence": pick.text, "scored": pick.scored, "ranked": ranked,
            "examples": len(examples)}


FACTS = {"agreement": ("plural", "singular", "subjects"), "allergy": ("allergic", "not allergic", "people")}
UNIT_EXAMPLES = 128   # sentences the remembering unit is found on (the race's and the scenes')


def evaluate_race(race: Race, acc: pd.DataFrame) -> dict:
    """acc (seed, cell, distance, accuracy) with, measured on the explained run's models: gradient norms at
    initialisation and after training, forget products and the remembering unit."""
    task, cfg = race.task, race.cfg
    gx, gy = race.val[cfg.distances()[-1]]                   # the longest gap
    grads = []
    for cell, r in race.racers.items():
        fresh = build_model(r.model.cfg)
        fresh.load_state_dict(r.initial)
        for when, model in (("at initialisation", fresh), ("after training", r.model)):
            try:
                norms = hidden_grad_norms(model, *_same_scored_step(task, gx, gy))
            except ValueError:
                continue
            grads += [{"cell": cell, "when": when, "k": k, "norm": float(n)} for k, n in enumerate(norms)]
    out = {"accuracy": acc, "gradients": pd.DataFrame(grads, columns=["cell", "when", "k", "norm"])}
    lstm = race.racers["lstm"].model
    out["forget"] = forget_products(lstm, *_same_scored_step(task, gx, gy))
    out["keeping"] = units_keeping(lstm, *_same_scored_step(task, gx, gy))
    if task.key in FACTS:
        rng = random.Random(777)
        examples = [task.make(cfg.max_distance, rng) for _ in range(UNIT_EXAMPLES)]
        out["unit"] = remembering_unit(lstm, task, race.data, examples)
    return out


def _same_scored_step(task: Task, x, y):
    """Keep the examples scored at the most common step (agreement sentences vary in length)."""
    scored = scored_steps(y).float().argmax(1)
    common = int(scored.mode().values)
    keep = scored == common
    return x[keep], y[keep]


def summary(acc: pd.DataFrame, task: Task) -> str:
    """The race's outcome in plain words, from the measured numbers (acc: seed, cell, distance, accuracy); over
    several seeds, the mean and the range."""
    chance = task.chance
    bar = chance + 0.8 * (1 - chance)
    n = acc["seed"].nunique()
    lines = []
    for cell in ("rnn", "gru", "lstm"):
        a = acc[acc.cell == cell].groupby("distance")["accuracy"].agg(["mean", "min", "max"]).sort_index()
        far = reach(a.index, a["mean"], bar)             # every tested distance up to it is accurate
        again = [int(x) for x in a.index[a["mean"] >= bar] if far is None or x > far]
        d, worst = int(a.index[-1]), a.iloc[-1]
        at = f"{worst['mean']:.0%}" + (f" (seeds: {worst['min']:.0%}–{worst['max']:.0%})" if n > 1 else "")
        avg = " on average" if n > 1 else ""
        if far is not None and far == int(a.index[0]) and len(a) > 1:  # ("every distance up to" the first: one)
            said = f"accurate (≥ {bar:.0%}{avg}) at the shortest distance, {far} {task.distance_unit}, " + (
                "not at the next" if again else "and at no longer one")
        elif far is not None:
            said = f"accurate (≥ {bar:.0%}{avg}) at every distance up to {far} {task.distance_unit}"
        elif again:
            said = f"not accurate (< {bar:.0%}{avg}) already at the shortest distance, {int(a.index[0])}"
        else:
            said = "never accurate in this range"
        if again:
            said += f" (accurate again at {', '.join(map(str, again))})"
        lines.append(f"{CELL_NAMES[cell]}: " + said
                     + f"; {at} at {d} (chance {chance:.0%}).")
    return " ".join(lines)


# --- the results' words, from the numbers the page draws -------------------------------------------------------------

def unit_words(found: dict, cfg: RaceConfig) -> str:
    """The sentence under the remembering unit's heading (conclusions.remembering_heading): "separates" on the same
    bar as the heading, the number of sentences as measured (said only when the record has it)."""
    from .conclusions import separates
    yes, no, who = FACTS[cfg.task]
    n = found.get("examples")
    over = f" over {n:,} sentences" if n else " over its test sentences"
    return (f"In the LSTM, unit **u{found['unit']}**'s cell state just before the answer "
            f"{separates(found['correlation'], yes, f'{no} {who}')}{over} with {cfg.max_distance} filler words.")


def _initial_gradients(g: pd.DataFrame, far: int = 10) -> list:
    """(cell, k, ratio): how much of the gradient at the scored step reaches k = min(far, longest) steps back, for
    each cell at initialisation."""
    out = []
    for cell in ("rnn", "gru", "lstm"):
        init = g[(g.cell == cell) & (g.when == "at initialisation")].sort_values("k")
        if len(init) < 2 or not init["norm"].iloc[0] > 0:
            continue
        k = int(min(far, init["k"].iloc[-1]))
        ratio = float(init.loc[init["k"] == k, "norm"].iloc[0] / init["norm"].iloc[0])
        if math.isfinite(ratio):
            out.append((cell, k, ratio))
    return out


def gradient_words(res: dict) -> str:
    """The words under the gradient and forget-gate charts, each part computed from the numbers they draw: "shrinks"
    only for a cell whose gradient does, "a few units are the memory" only when few units keep their cell state
    (KEEPS) and the best keeps far more than the average."""
    ratios = _initial_gradients(res["gradients"])
    left = "Left: how strongly the loss at the scored step still depends on the hidden state k steps earlier."
    if ratios:
        said = "; ".join(f"{CELL_NAMES[c]} keeps {r:.1e} of it after {k} steps" if r < 1 else
                         f"{CELL_NAMES[c]} has {r:.1e} times as much after {k} steps" for c, k, r in ratios)
        trend = "shrinks" if all(r < 1 for *_, r in ratios) else "grows" if all(r > 1 for *_, r in ratios) else \
            "shrinks for some cells and grows for others"
        left += f" At initialisation (dashed) the signal {trend} as it goes back — {said}."
        if any(r < 1 for *_, r in ratios):
            left += " A model cannot learn to use what its gradient does not reach."
    f = res["forget"]
    k = min(len(f) - 1, 20)
    if k < 1:
        return left + " Right: the gap is too short to measure what the forget gates keep."
    best, mean = float(f["best unit"].iloc[k]), float(f["mean over units"].iloc[k])
    right = (f" Right: for the LSTM, the product of forget gates over the gap — after training, the best unit keeps "
             f"{best:.0%} of its cell state over {k} steps, the average unit {mean:.0%}")
    keeping = res.get("keeping")
    if keeping is not None and k < len(keeping):
        n, units = int(keeping["keeping"].iloc[k]), int(keeping["units"].iloc[k])
        right += f"; {n} of {units} units keep at least {KEEPS:.0%}"
        if n <= units / 4 and best - mean >= 0.3 and n > 0:
            right += ": a few units become the long-term memory, the conveyor belt"
        elif n >= units / 2:
            right += ": most units keep their cell state over this gap"
    elif best - mean >= 0.3:
        right += ": the best unit keeps far more than the average one"
    return left + right + "."


SETTING_LABELS = {"task": "task", "min_distance": "shortest distance", "max_distance": "longest distance",
                  "lstm_hidden": "LSTM hidden units", "steps": "steps per model", "lr": "learning rate",
                  "seed": "seed", "seeds": "runs", "sweep": "per-distance sweep"}


def settings_differ(record: RaceConfig, mine: RaceConfig | None) -> str:
    """How a precomputed race's settings stand to the ones on screen: "" when they are the same, else the
    differences ("LSTM hidden units 32 (yours: 64)")."""
    if mine is None:
        return ""
    out = []
    for name, label in SETTING_LABELS.items():
        a, b = getattr(record, name), getattr(mine, name)
        if a != b:
            out.append(f"{label} {a:g} (yours: {b:g})" if isinstance(a, (int, float)) and not isinstance(a, bool)
                       else f"{label} {a} (yours: {b})")
    if not out and record != mine:
        out.append("settings not on this page")
    return ", ".join(out)


def precomputed_words(record: RaceConfig, mine: RaceConfig | None) -> str:
    """The line over the precomputed race: it was run with the settings above only when they are its settings."""
    differ = settings_differ(record, mine)
    with_ = ("with the settings above" if mine is not None and not differ else
             "with the default settings" + (f" — yours differ: {differ}" if differ else ""))
    return (f"**Precomputed:** the default race below (seed {record.seed}) was run when the app's bundled models "
            f"were built, {with_}. Press **Race** to run " + ("it" if not differ else "yours")
            + " live on this machine" + (", or change the settings first." if not differ else "."))
