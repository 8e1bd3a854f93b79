"""The melody kind: notes in, the next note out. The model is the sequence family's (kinds/sequence.py: an embedding
of the note tokens -> nn.LSTM -> a linear head over them, trained like text); the data is kinds/music.py's MelodyData
(folk tunes as tokens: "A4 ♩", "bar |", "beat ·", "start 6/8", "end ‖"), rebuilt in a model file from its recipe.

Beside the model's held-out cross-entropy and accuracy the Train page quotes a bigram baseline trained on the same
tunes (music.Bigram), and what a continuation written by the model does: how many of its notes lie in the key of its
seed phrase and whether its bar lines stand where the metre puts them (music.share_in_key, music.bar_lines_ok).
Sound, MIDI and uploads: kinds/melody_io.py. The piano-roll strip of Step through: kinds/melody_views.py.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from ..config import LIMITS, ConfigError, DataError, ModelFileError, TrainConfig
from . import melody_io, music
from .base import BYTES_PER_CHAR, Bundle
from .sequence import ModelConfig, SequenceKind, trace_sequence
from .text import TextKind

PRESETS = {f"tunes_{c}" + ("_common" if common else ""): (c, common)   # preset -> (collection, transposed)
           for c in music.COLLECTIONS for common in (False, True)}
SEED_BARS = 2            # a seed phrase from a held-out tune: its opening up to the end of its second full bar
MAX_SEED_TOKENS = 128    # a seed phrase from a visitor's melody: at most this many tokens of its opening
NEW_TOKENS = 120         # a continuation stops at the end token or after this many tokens
OPEN_LENGTH = 128        # steps of a held-out tune Step through opens on
SAMPLE_RATE = 16_000     # the waveforms played on the pages: the tunes lie well below 8 kHz
NAME_BYTES = 24 + 3      # a token name in a model file: at most 24 characters, its quotes and a comma


def preset_key(collection: str, common_key: bool) -> str:
    return f"tunes_{collection}" + ("_common" if common_key else "")


def preset_label(key: str) -> str:
    collection, common = PRESETS[key]
    return music.COLLECTIONS[collection] + (", moved to a common key" if common else "")


# --- hypotheses for the unit finder: one value per token, from the tokens alone (music.hypotheses) -----------------

def _signal(key: str):
    return lambda inputs: music.hypotheses(list(inputs))[key]


# --- what the Train page says ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scores:
    """The model against the bigram baseline on every held-out tune (the same targets for both)."""
    tunes: int
    cross_entropy: float        # nats per token, the model's
    accuracy: float             # share of next tokens that are its top guess
    bigram_cross_entropy: float
    bigram_accuracy: float

    @property
    def words(self) -> str:
        return scores_words(self)

    @property
    def badges(self):
        """(cross-entropy, accuracy) badges against the bigram's, rounded as the metrics and the words print them
        (conclusions.Badge: a tie shows as "the same", never "+0.00")."""
        from ..conclusions import lower_badge, points_badge
        return (lower_badge(self.cross_entropy, self.bigram_cross_entropy,
                            f"the bigram's {self.bigram_cross_entropy:.2f}"),
                points_badge(self.accuracy, self.bigram_accuracy, f"the bigram's {self.bigram_accuracy:.0%}"))


def scores_words(s: Scores) -> str:
    """The held-out comparison in one sentence, computed from the numbers it quotes (rounded as it prints them)."""
    gap = round(s.bigram_cross_entropy, 2) - round(s.cross_entropy, 2)
    if gap > 0:
        relation = f"{gap:.2f} below the bigram baseline's {s.bigram_cross_entropy:.2f}"
    elif gap < 0:
        relation = (f"{-gap:.2f} above the bigram baseline's {s.bigram_cross_entropy:.2f}: it predicts worse than "
                    "counting which token follows which")
    else:
        relation = "the same as the bigram baseline's"
    return (f"On the {s.tunes} held-out tunes (whole tunes it never trained on), the model's cross-entropy is "
            f"{s.cross_entropy:.2f} nats per token (lower is better), {relation}; its top guess is the true next "
            f"token {s.accuracy:.0%} of the time, the bigram's {s.bigram_accuracy:.0%}.")


@functools.lru_cache(maxsize=8)
def bigram_scores(collection: str, transpose: bool, seed: int) -> tuple[float, float]:
    """(held-out cross-entropy, accuracy) of the bigram baseline trained on the training tunes of this recipe."""
    data = music.MelodyData(collection, transpose, seed)
    bigram = music.Bigram(data.ids[: data.cut].numpy(), len(data.vocab))
    return music.heldout_scores(bigram.logits, data)


def heldout_report(model, data) -> Scores:
    """The model and the bigram baseline scored on every held-out tune."""
    ce, acc = music.heldout_scores(music.model_predictor(model), data)
    b_ce, b_acc = bigram_scores(**data.recipe)
    return Scores(len(data.val_tunes), ce, acc, b_ce, b_acc)


def seed_phrase(data, ids: list[int], bars: int = SEED_BARS) -> list[int]:
    """A held-out tune's opening: its ids up to its (bars + 1)-th bar token — the pick-up and `bars` full bars —
    or its first half if it is shorter."""
    bar = data.id_of(music.BAR)
    cuts = [i for i, t in enumerate(ids) if t == bar]
    return list(ids[: cuts[bars]] if len(cuts) > bars else ids[: max(2, len(ids) // 2)])


def melody_seed(data, ids: list[int]) -> list[int]:
    """A visitor's melody (one tune's ids, data.fit_tune) as a seed phrase: without its end token, at most
    MAX_SEED_TOKENS long."""
    end = data.id_of(music.END)
    return list(ids[:-1] if ids and ids[-1] == end else ids)[:MAX_SEED_TOKENS]


@dataclass(frozen=True)
class Continuation:
    """A seed phrase, what the model wrote after it, and how that fits the seed's key and metre."""
    seed: tuple             # ids
    new: tuple              # ids the model wrote (the last may be the end token)
    metre: object           # music.Metre of the seed
    notes: tuple            # every note of seed + continuation (music.Note), the seed's first
    seed_notes: int         # how many of `notes` are the seed's
    key: object             # music.Key estimated from the seed's notes
    pitched: int            # pitched notes the model wrote (rests aside)
    in_key: float           # share of those in `key` (nan without any)
    bars: object            # music.BarCheck of the continuation's bar tokens

    @property
    def words(self) -> str:
        return continuation_words(self)

    def wav(self, tempo_bpm: int = melody_io.DEFAULT_TEMPO, sample_rate: int = SAMPLE_RATE) -> bytes:
        """Seed and continuation as a WAV file: the seed in a soft tone, the continuation in a brighter one."""
        wave_ = melody_io.synthesize(self.notes, tempo_bpm, sample_rate, seed_len=self.seed_notes)
        return melody_io.wav_bytes(wave_, sample_rate)

    def midi(self, tempo_bpm: int = melody_io.DEFAULT_TEMPO) -> bytes:
        """Seed and continuation as a MIDI file (a marker where the continuation begins)."""
        return melody_io.to_midi(list(self.notes), self.metre, tempo_bpm, self.seed_notes, key=self.key)


def judge(data, seed: list[int], new: list[int]) -> Continuation:
    """Measure a continuation against its seed: the key of the seed's notes (Krumhansl–Schmuckler) and the share of
    the new notes in it; the new bar tokens against the metre."""
    metre, seed_notes = music.tokens_to_notes(data.tokens_of(seed))
    _, notes = music.tokens_to_notes(data.tokens_of(list(seed) + list(new)), metre)
    key = music.estimate_key(seed_notes) if any(n.pitch != music.REST for n in seed_notes) else music.Key(0, "major")
    written = notes[len(seed_notes):]
    pitched = sum(n.pitch != music.REST for n in written)
    return Continuation(tuple(seed), tuple(new), metre, tuple(notes), len(seed_notes), key, pitched,
                        music.share_in_key(written, key),
                        music.bar_lines_ok(data.tokens_of(list(seed) + list(new)), metre, start=len(seed)))


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def continuation_words(c: Continuation) -> str:
    """What the continuation does, in one or two sentences computed from its measures."""
    if not c.pitched:
        return "The model wrote no note after the seed (it ended the melody, or wrote only rests and bar lines)."
    in_key = round(c.in_key * c.pitched)
    words = (f"Of the {_count(c.pitched, 'note')} the model wrote, {in_key} ({c.in_key:.0%}) "
             f"{'is' if in_key == 1 else 'are'} in the key its seed phrase suggests ({c.key}, estimated from the "
             "seed's notes).")
    lines, bars = c.bars.bars + c.bars.bars_missing, c.bars
    if not lines:
        return words + " No bar line was due, and it wrote none."
    missing = f" ({bars.bars_missing} due but not written)" if bars.bars_missing else ""
    return words + (f" {bars.bars_in_place} of the {_count(lines, 'bar line')}{missing} stand where {c.metre} puts "
                    "them.")


def continue_and_judge(model, data, seed: list[int], temperature: float = 1.0, sample: int = 0,
                       max_tokens: int = NEW_TOKENS) -> Continuation:
    """Let the model continue the seed phrase (music.continue_melody) and measure what it wrote."""
    new = music.continue_melody(model, data, seed, max_tokens, temperature, seed=sample)
    return judge(data, seed, new)


def tune_choice(data, index: int, length: int = OPEN_LENGTH):
    """(ids (T+1,), None): the first length + 1 tokens of held-out tune `index` (all of it if shorter), as the
    step-through traces a sequence."""
    import torch
    tunes = data.val_sequences()
    if not 0 <= index < len(tunes):
        raise DataError(f"There are {len(tunes)} held-out tunes; tune {index} does not exist.")
    ids = tunes[index][: max(2, min(length, LIMITS.max_seq_len) + 1)]
    return torch.tensor(ids, dtype=torch.long), None


def unit_correlations(model, data, hypothesis: str, quantity: str = "cell_state") -> np.ndarray:
    """(H,) each unit's correlation with a hypothesis (music.MELODY_HYPOTHESES) over every held-out tune, each
    traced from its start (at most LIMITS.max_seq_len tokens), layer 1: the unit finder's ranking over many tunes."""
    from ..explain import rank_units
    values, signal = [], []
    for index in range(len(data.val_sequences())):
        trace = trace_sequence(model, data, tune_choice(data, index, LIMITS.max_seq_len)[0], check=False)
        values.append(trace.get(quantity))
        signal.append(music.hypotheses(trace.inputs)[hypothesis])
    ranked = rank_units(np.concatenate(values), np.concatenate(signal))
    return ranked.sort_values("unit")["correlation"].to_numpy()


def bar_facts(names: list, values: np.ndarray) -> dict:
    """A unit's value at the bar tokens (their count, lowest and highest) and, averaged over the bars, on a bar's
    first note (a pitched note right after a bar token) and its last (one right before a bar token). names: the
    tokens read."""
    bars = [t for t, name in enumerate(names) if name == music.token_name(music.BAR)]
    is_note = [name.split(" ")[0] not in ("bar", "beat", "start", "end", "rest") for name in names]  # pitched
    first = [t + 1 for t in bars if t + 1 < len(names) and is_note[t + 1]]
    last = [t - 1 for t in bars if t >= 1 and is_note[t - 1]]
    mean = lambda steps: float(np.mean(values[steps])) if steps else float("nan")  # noqa: E731
    return {"bars": len(bars), "c_bar_low": float(values[bars].min()) if bars else float("nan"),
            "c_bar_high": float(values[bars].max()) if bars else float("nan"),
            "c_first": mean(first), "c_last": mean(last)}


class MelodyKind(SequenceKind):
    name = "melody"
    label = "Melody"
    loss_label = "cross-entropy (nats per note token)"
    items = "tokens/s"
    strip = "roll"
    preview_words = "melodies"
    hypotheses = {key: (label, _signal(key)) for key, label in music.MELODY_HYPOTHESES.items()}
    bundles = (Bundle("folk", "melody", "tunes_all", "LSTM on folk tunes: notes, bar lines and beats"),)
    family_entries = (
        {"name": "Melody LSTM", "bundle": "folk",
         "what": "The vanilla LSTM reading notes instead of characters: each token is a pitch with its length "
                 "(“A4 ♩”), a bar line or a beat. It learns to continue a folk tune in its key and metre.",
         "data": "Folk tunes from O'Neill's Music of Ireland (1903) and Ryan's Mammoth Collection (1883)."},
    )
    # the preset of bench/bench_melody.py (music.MELODY_PRESET): its lowest held-out loss in ~20 s on one thread
    default_config = ModelConfig(kind="melody", embed_size=music.MELODY_PRESET["embed_size"],
                                 hidden_size=music.MELODY_PRESET["hidden_size"],
                                 num_layers=music.MELODY_PRESET["num_layers"])
    default_train = TrainConfig(seq_len=music.MELODY_PRESET["seq_len"], batch_size=music.MELODY_PRESET["batch_size"],
                                lr=music.MELODY_PRESET["lr"], steps=music.MELODY_PRESET["steps"])

    # the same cross-entropy over tokens as text, the same count of scored targets and the same accuracy
    loss, scored, accuracy = TextKind.loss, TextKind.scored, TextKind.accuracy

    def guesses(self, trace) -> str:
        return "the next note"

    def captions(self, trace, unit_of: str = "") -> list:
        top = trace.predictions[trace.predictions["rank"] == 1]
        return [f"Step {t}: reads {trace.inputs[t]} → top guess {guess} ({p:.0%}); the true next is "
                f"{trace.targets[t]}" for t, guess, p in zip(top["step"], top["char"], top["prob"])]

    def step_views(self, trace, layer: int, direction: int, unit: int, colour: str, unit_of: str = "",
                   presenter: bool = False) -> dict:
        """The piano-roll strip (kinds/melody_views.py), then the cell's diagram, equations and top guesses."""
        from ..step_charts import PRESENTER, main_views, scaled
        from .melody_views import roll_strip
        captions = self.captions(trace)
        strip = roll_strip(trace, trace.get(colour, layer, direction)[:, unit], colour, unit, captions, presenter)
        views = main_views(trace, layer, direction, unit, colour, self.strip, captions, self.guesses(trace),
                           unit_of, presenter)
        return {"strip": scaled(strip, PRESENTER["fonts"]) if presenter else strip, **views}

    # --- configs --------------------------------------------------------------------------------------------------
    def defaults(self, data):
        model_cfg, train_cfg = super().defaults(data)
        return replace(model_cfg, vocab_size=len(data.vocab)), train_cfg

    def adapt(self, model_cfg, train_cfg, data):
        model_cfg, train_cfg, note = super().adapt(model_cfg, train_cfg, data)
        return replace(model_cfg, vocab_size=len(data.vocab)), train_cfg, note

    def check(self, model_cfg, train_cfg, data) -> None:
        if model_cfg.vocab_size != len(data.vocab):
            raise ConfigError(f"the model reads {model_cfg.vocab_size} distinct note tokens but the tunes have "
                              f"{len(data.vocab)}; a model must know every token of its tunes")
        super().check(model_cfg, train_cfg, data)

    def outputs(self, model_cfg) -> int:
        return model_cfg.vocab_size

    def n_items(self, data) -> int:
        return len(data.ids)

    def items(self, data):
        return data.ids

    def text_choice(self, data, text: str):
        raise ConfigError("--text is for text models; a melody model steps through --start/--length of its tunes")

    def max_config(self):
        return replace(super().max_config(), vocab_size=LIMITS.max_vocab)

    # --- the trace --------------------------------------------------------------------------------------------------
    def readout(self, data, quantities, logits, x_in, target, mask, top_k, common):
        """The trace's inputs, targets (token names) and top guesses from the head's logits (T, V)."""
        import pandas as pd
        import torch

        from ..trace_data import Trace
        T = len(x_in)
        probs = torch.softmax(logits, dim=-1)                            # (T, V)
        top_p, top_i = probs.topk(min(top_k, probs.shape[-1]), dim=-1)   # (T, k)
        k = top_p.shape[1]
        preds = pd.DataFrame({"step": np.repeat(np.arange(T), k), "rank": np.tile(np.arange(1, k + 1), T),
                              "char": [data.vocab[int(i)] for i in top_i.ravel()], "prob": top_p.ravel().numpy()})
        preds["actual_prob"] = np.repeat(probs[torch.arange(T), target].numpy(), k)
        return Trace("melody", quantities, data.decode(x_in), data.decode(target), preds, **common)

    def window_inputs(self, data, x) -> list:
        return [data.decode(row) for row in x]

    def prediction_values(self, trace):
        p = trace.predictions
        return p[p["rank"] == 1]["actual_prob"].to_numpy(), "probability of the true next token"

    def scene_choice(self, scene, data):
        """The held-out tune a scene steps through (scene.frames: which one)."""
        return tune_choice(data, scene.frames)

    def scene_trace(self, scene, model, data, check: bool = True):
        """The scene's held-out tune; a finder scene also ranks the units over every held-out tune (a sturdier
        ranking than one tune's), kept with the trace for its words (scene_facts)."""
        trace = trace_sequence(model, data, self.scene_choice(scene, data)[0], check=check)
        if scene.unit_rule.startswith("finder:"):
            quantity = "cell_state" if "cell_state" in trace.names else "hidden_state"
            trace.extras["heldout_r"] = unit_correlations(model, data, scene.unit_rule.split(":", 1)[1], quantity)
            trace.extras["heldout_tunes"] = np.array([len(data.val_sequences())])
        return trace, int(np.clip(scene.offset, 0, trace.n_steps - 1))

    def scene_facts(self, scene, trace, step: int) -> dict:
        """A finder scene: the unit that follows its hypothesis best over every held-out tune, that correlation and
        the one over the scene's tune, and the unit's cell state at the bar lines and on the first and last note of
        the tune's bars."""
        if "heldout_r" not in trace.extras:
            return {}
        r_all = np.asarray(trace.extras["heldout_r"])
        unit = int(np.argmax(np.abs(r_all)))
        hypothesis = scene.unit_rule.split(":", 1)[1]
        quantity = "cell_state" if "cell_state" in trace.names else "hidden_state"
        values = trace.get(quantity)[:, unit].astype(np.float64)
        r = float(np.corrcoef(values, music.hypotheses(trace.inputs)[hypothesis])[0, 1])
        return {"unit": unit, "r": r, "r_all": float(r_all[unit]), "tunes": int(trace.extras["heldout_tunes"][0]),
                **bar_facts(trace.inputs, values)}

    # --- model files ----------------------------------------------------------------------------------------------
    def file_info(self, data) -> dict:
        return {"kind": "melody", "recipe": data.recipe, "vocab": list(data.vocab)}

    def max_info_bytes(self) -> int:
        return LIMITS.max_vocab * NAME_BYTES * BYTES_PER_CHAR + 512

    def open_data(self, info: dict, model_cfg, train_cfg):
        """The tunes a file's recipe names, and its vocabulary checked name by name against them."""
        recipe = info.get("recipe")
        if not (isinstance(recipe, dict) and set(recipe) == {"collection", "transpose", "seed"}):
            raise ModelFileError("The file's melody recipe is malformed (it needs a collection, transpose and seed).")
        try:
            data = music.MelodyData(**recipe)
        except DataError as e:
            raise ModelFileError(f"The file's melody recipe is not usable: {e}") from None
        try:
            tokens = music.vocab_from_names(info.get("vocab"))
        except DataError as e:
            raise ModelFileError(f"The file's note vocabulary is not usable: {e}") from None
        if len(tokens) != model_cfg.vocab_size:
            raise ModelFileError(f"The file's note vocabulary has {len(tokens)} tokens but its model reads "
                                 f"{model_cfg.vocab_size}.")
        if tokens != data.tokens:
            raise ModelFileError(f"The file's note vocabulary ({len(tokens)} tokens) is not the one of the tunes it "
                                 f"names ({len(data.tokens)} tokens): it was trained on other melodies than the ones "
                                 "shipped here.")
        return data

    def preset_data(self, preset: str):
        if preset not in PRESETS:
            raise ConfigError(f"Unknown melody preset {preset!r}; choose one of {', '.join(PRESETS)}.")
        collection, common = PRESETS[preset]
        return music.MelodyData(collection, transpose=common)

    def presets(self) -> dict:
        return {key: preset_label(key) for key in PRESETS}


KIND = MelodyKind()
