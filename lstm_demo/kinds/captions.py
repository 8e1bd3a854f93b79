"""The captions kind: a small CNN looks at a picture of shapes and an LSTM with soft attention describes it word by
word (captioner.py; the pictures and their grammar in captions_data.py). Step through traces the decoder word by
word with the same cursor as every kind; choice is (a layout or a picture, the true caption or None, teacher
forcing?). No torch at import: the first screen reads this kind's facts before torch is loaded."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..config import ConfigError, DataError, ModelFileError
from .base import IGNORE, Bundle, Kind, held_out_choice

PRESET = "captions"   # the one data preset: up to three shapes, seed 0


class CaptionBatches:
    """Batches of fresh pictures with their captions (CaptionData.train_batch) and the fixed held-out ones:
    x = (pictures (B, 3, P, P), words read (B, T)), y = the words to say (B, T), padding IGNORE (not scored)."""

    def __init__(self, data, batch_size: int, seed: int):
        import torch
        self.data, self.batch_size = data, batch_size
        self.gen = torch.Generator().manual_seed(seed)
        images, words_in, targets = data.val_tensors()
        self.val_x, self.val_y = (images, words_in), targets

    def next(self):
        import torch
        images, words_in, targets = self.data.train_batch(
            self.batch_size, int(torch.randint(2**31 - 1, (1,), generator=self.gen)))
        return (images, words_in), targets

    @property
    def items_per_batch(self) -> int:
        return self.batch_size


# --- what the views and the preview say (computed from the numbers beside them) ---------------------------------------

def step_caption(trace, t: int) -> str:
    """Step t in two lines: what the decoder reads and says (against the truth), and where it looks."""
    from .captioner import gaze_sentence
    read, said, truth = str(trace.inputs[t]), str(trace.extras["emitted"][t]), trace.targets[t]
    verdict = " (right)" if said == truth else f" (the truth: “{truth}”)" if truth else \
        " (the true caption has ended)"
    return f"Step {t}: reads “{read}” → says “{said}”{verdict}\n{gaze_sentence(trace, t)}"


def said_caption(trace) -> str:
    """The words the trace's decoder says, up to its end mark (free-running: the model's greedy caption)."""
    from .captions_data import END
    words = []
    for word in trace.extras["emitted"]:
        if word == END:
            break
        words.append(str(word))
    return " ".join(words)


def _pct(x: float) -> int:
    return int(round(100 * x))


def comparison(scores: dict, base: dict, n: int) -> str:
    """One sentence: the model's held-out word accuracy and exact match against the best baseline's (the one with
    the higher word accuracy); ahead, level or behind is judged on the whole percentages the sentence shows."""
    if n == 0 or not np.isfinite(scores["word_accuracy"]):
        return "There are no held-out pictures to score the model on."
    name, best = max(base.items(), key=lambda kv: kv[1]["word_accuracy"])
    wa, em, bw, be = (_pct(v) for v in (scores["word_accuracy"], scores["exact_match"], best["word_accuracy"],
                                        best["exact_match"]))
    words = "ahead of" if wa > bw else "level with" if wa == bw else "behind"
    return (f"On {n} held-out pictures the model's greedy captions get {wa} % of the words and {em} % of the "
            f"captions exactly right; knowing only the training captions ({name}) gets {bw} % and {be} %: the "
            f"model is {words} that baseline on words.")


def comparison_badges(scores: dict, base: dict) -> dict:
    """metric -> (badge, baseline name): each metric against the baseline best at that metric (the exact-match badge
    is not measured against the best baseline by word accuracy), in whole points as the sentence rounds them."""
    from ..conclusions import points_badge
    out = {}
    for metric in ("word_accuracy", "exact_match"):
        name, best = max(base.items(), key=lambda kv: kv[1][metric])
        out[metric] = (points_badge(scores[metric], best[metric], "the best baseline"), name)
    return out


def greedy_check(model, data, trace) -> str:
    """The free-running trace's caption against the model's own greedy decoding of the same picture (the batch
    sampler, not the trace's replay), in one sentence."""
    from .captioner import greedy_captions
    from .captions_data import END
    words = greedy_captions(model, data, trace.extras["image"][None])[0][0]
    greedy = " ".join(w for w in words if w != END)
    shown = said_caption(trace)
    if shown == greedy:
        return f"✓ The caption shown is the model's greedy output for this picture: “{greedy}”."
    return f"✗ The caption shown (“{shown}”) differs from the model's greedy output (“{greedy}”)."


def _spoken(words: list) -> str:
    """Words up to the end mark as a quoted caption (or "nothing …" when the first word is the end mark)."""
    from .captions_data import END
    words = list(words[: words.index(END)]) if END in words else list(words)
    said = " ".join(map(str, words))
    return f"“{said}”" if said else "nothing (its first word is the end mark)"


def sample_sentence(said: list, greedy: list, truth: str, temperature: float, seed: int) -> str:
    """What one sampled caption is, in words: how it was drawn (temperature 0: greedy; below 1 the guesses
    sharpened, above 1 flattened), whether it ended, and against the model's greedy caption (word by word, the end
    mark included) and the picture's own (truth "" for a picture without one). said and greedy: words as
    captioner.sampled_caption returns them, up to and including the end mark if there is one."""
    from itertools import zip_longest

    from .captions_data import END
    if temperature == 0:
        text = f"At temperature 0 the model says its likeliest word every time (greedy): {_spoken(said)}."
    else:
        how = "its guesses sharpened" if temperature < 1 else "its guesses as they are" if temperature == 1 else \
            "its guesses flattened"
        text = f"At temperature {temperature:g} (seed {seed}) the model draws each word from {how}: {_spoken(said)}."
    if END not in said:
        text += f" It had not ended after {len(said)} words, the most this model may say."
    if temperature != 0:
        places = list(zip_longest(said, greedy))
        differ = sum(a != b for a, b in places)
        text += " It is word for word its greedy caption." if not differ else \
            f" It differs from its greedy caption ({_spoken(greedy)}) at {differ} of {len(places)} places."
    if truth:
        right = list(said) == truth.split() + [END]
        text += " It is the picture's true caption." if right else f" The picture's caption is “{truth}”."
    return text


class CaptionsKind(Kind):
    name = "captions"
    family = "captioner"
    label = "captioner"
    loss_label = "cross-entropy (nats per word)"
    items = "captions/s"
    accuracy_label = "word accuracy of greedy captions on the held-out pictures"
    preview_words = "captions"
    strip = "text"                  # the words it reads are the strip (with the picture beside them)
    panels = ("heatmaps", "units")  # the finder, what-if, scrubber and exports read a one-network model
    bundles = (Bundle("shapes_captions", "captions", PRESET,
                      "captioner with attention: a CNN sees the picture, an LSTM describes it"),)
    family_entries = (
        {"name": "Captioner (CNN + LSTM with attention)", "bundle": "shapes_captions",
         "what": "A small CNN turns the picture into a 4 × 4 grid of features; an LSTM writes the sentence word by "
                 "word, and before each word its attention chooses where in the grid to look (Show, Attend and "
                 "Tell).",
         "data": "Pictures of up to three coloured shapes, each with its one true sentence: “a small red circle "
                 "left of a big blue square”."},
    )

    @property
    def config_type(self):
        from .captioner import CaptionerConfig
        return CaptionerConfig

    def guesses(self, trace) -> str:
        return "the next word"

    def captions(self, trace, unit_of: str = "") -> list:
        return [step_caption(trace, t) for t in range(trace.n_steps)]

    def step_views(self, trace, layer: int, direction: int, unit: int, colour: str, unit_of: str = "",
                   presenter: bool = False) -> dict:
        from .caption_views import step_views
        return step_views(trace, layer, direction, unit, colour, self.captions(trace), self.guesses(trace),
                          presenter)

    # --- configs ----------------------------------------------------------------------------------------------
    def defaults(self, data):
        from .captioner import caption_defaults
        return caption_defaults(data)

    def adapt(self, model_cfg, train_cfg, data):
        return replace(model_cfg, vocab_size=len(data.vocab), picture=data.picture,
                       max_words=max(model_cfg.max_words, data.max_words + 1)), train_cfg, None

    def check(self, model_cfg, train_cfg, data) -> None:
        from .captioner import check_fits
        if getattr(data, "kind", None) != self.name:
            raise ConfigError("a captioner describes pictures; this data asks another question")
        check_fits(model_cfg, data)

    cheaper = "Choose a smaller batch, fewer convolution maps or fewer units."

    def cost(self, model_cfg, train_cfg, data):
        """A batch's pictures through three convolutions, then up to max_words + 1 decoder steps each."""
        from ..budget import Cost, lstm_floats
        c = model_cfg
        P, C, F, E, H, A, V = c.picture, c.conv_channels, c.features, c.embed_size, c.hidden_size, \
            c.attention_size, c.vocab_size
        cells, T = c.grid ** 2, data.max_words + 1
        conv = 2 * 9 * (3 * C * P * P + C * F * (P // 2) ** 2 + F * F * (P // 4) ** 2)
        # kept for the backward pass: the picture, each convolution's output, its ReLU, its pooling indices and
        # output, and the grid (bench/bench_budget.py: within 2 % of the measured peak at the preset)
        maps = 3 * P * P + 3 * C * P * P + 3 * F * (P // 2) ** 2 + 3 * F * (P // 4) ** 2 + C * (P // 2) ** 2 \
            + F * (P // 4) ** 2 + 2 * cells * F
        x = E + (F if c.attention else 0)
        word = 2 * 4 * H * (x + H) + 2 * (H + (F if c.attention else 0)) * V
        kept = x + lstm_floats(4, H) + 4 * V + H
        if c.attention:
            word += 2 * H * A + 2 * cells * A + 2 * cells * F + 4 * cells * A
            kept += 3 * cells * A + 3 * cells + F
        per_item = maps + T * kept
        B = train_cfg.batch_size
        return Cost(self.parameters(c), B * per_item, 3.0 * B * (conv + T * word), per_item)

    def describe(self, model_cfg) -> str:
        c = model_cfg
        return (f"captioner: CNN {c.conv_channels} + {c.features} + {c.features} maps → LSTM × {c.hidden_size} "
                f"units" + (f", attention over a {c.grid} × {c.grid} grid" if c.attention else ", no attention"))

    def max_config(self):
        """The largest captioner the caps allow (sizes the model file's limit): the pictures and words are the
        data's (check_fits refuses any other), the rest at its caps."""
        from ..config import LIMITS
        from .captions_data import MAX_WORDS, PICTURE, SPECIALS, WORDS
        return self.config_type(vocab_size=len(SPECIALS) + len(WORDS), picture=PICTURE, conv_channels=32,
                                embed_size=LIMITS.max_embed, hidden_size=LIMITS.max_hidden,
                                attention_size=LIMITS.max_hidden, attention=True, max_words=MAX_WORDS + 1)

    # --- model and training -----------------------------------------------------------------------------------
    def build(self, model_cfg):
        from .captioner import Captioner
        return Captioner(model_cfg)

    def batches(self, data, model_cfg, train_cfg, seed: int):
        return CaptionBatches(data, train_cfg.batch_size, seed)

    def scored(self, x, y) -> int:
        return int((y != IGNORE).sum())

    def loss(self, model, x, y):
        from .captioner import caption_loss
        return caption_loss(model, (x[0], x[1], y))

    def accuracy(self, model, data, val_x, val_y) -> float:
        """Word accuracy of the greedy captions of the held-out pictures (captioner.score: position by position,
        the end mark included)."""
        from .captioner import greedy_captions, score
        emitted, _ = greedy_captions(model, data, val_x[0])
        truths = [data.decode([i for i in row.tolist() if i != IGNORE]) for row in val_y]
        return score(emitted, truths)["word_accuracy"]

    def held_out(self, model, data) -> dict:
        """Word accuracy, exact match (and the attention on the named shapes) of greedy captions over the held-out
        pictures, the baselines beside them, the comparison sentence, and the first captions said."""
        from .captioner import evaluate_captions, greedy_captions
        from .captions_data import END
        scores = evaluate_captions(model, data)
        base = baselines_of(data)
        shown = greedy_captions(model, data, data.val_images[:8])[0]
        said = [" ".join(w for w in words if w != END) for words in shown]
        return {"scores": scores, "baselines": base, "sentence": comparison(scores, base, len(data.val_layouts)),
                "said": said}

    def trace(self, model, data, choice, **kwargs):
        """choice: (a layout or a picture (3, P, P), the true caption or None (a layout's own), teacher forcing?)."""
        from .captioner import trace_caption
        image, caption, teacher = choice
        return trace_caption(model, data, image, caption, teacher=teacher)

    def cli_choice(self, loaded, text=None, start=None, length=None, seq=None):
        """What `python -m lstm_demo.cli trace` steps through: a held-out picture (--seq, default 0), free-running."""
        seq = held_out_choice(text, start, length, seq, len(loaded.data.val_layouts), "a captioner",
                              "held-out pictures")
        return loaded.data.val_layouts[seq], None, False

    # --- data in a model file ---------------------------------------------------------------------------------
    def open_data(self, info: dict, model_cfg, train_cfg):
        """The pictures a file's recipe makes — checked before anything is built: exactly max_shapes (1 … 3) and
        seed, whole numbers (a recipe for huge pictures or another vocabulary has no key to say so)."""
        from .captions_data import CaptionData, check_recipe
        if info.get("kind") != self.name or set(info) != {"kind", "recipe"}:
            raise ModelFileError("The file's picture recipe is malformed.")
        try:
            return CaptionData(**check_recipe(info["recipe"]))
        except DataError as e:
            raise ModelFileError(f"The file's pictures are not allowed here: {str(e)[:300]}") from None

    def preset_data(self, preset: str):
        from .captions_data import CaptionData
        if preset != PRESET:
            raise ConfigError(f"unknown captions preset {preset!r}; the preset is {PRESET!r}")
        return CaptionData()

    def presets(self) -> dict:
        return {PRESET: "Shapes and captions (up to 3 shapes, a sentence each)"}

    # --- scenes -------------------------------------------------------------------------------------------------
    def scene_trace(self, scene, model, data, check: bool = True):
        """The scene's picture, free-running; it opens on the first word the model says that is the scene's `at`
        word (step 0 if it never says it: the facts then say what it says instead)."""
        import torch

        from .captioner import trace_caption
        with torch.no_grad():
            trace = trace_caption(model, data, scene.shapes)
        said = [str(w) for w in trace.extras["emitted"]]
        return trace, said.index(scene.at) if scene.at in said else 0

    def scene_facts(self, scene, trace, step: int) -> dict:
        """Where the decoder looks as it says the scene's word: the share of its attention on the named shape's
        grid cells and on the rest, and the caption it says against the picture's."""
        from .captioner import gaze
        g = gaze(trace, step)
        shapes = [f"{s[2]} {s[1]} {s[0]}" for s in trace.extras["shapes"]]
        named = g["named"]
        said, truth = said_caption(trace), str(trace.extras["caption"])
        return {"unit": int(np.argmax(trace.get("cell_state").std(0))), "step": step, "word": g["word"],
                "shape": shapes[named] if named >= 0 else "no shape", "named": named,
                "share": g["shares"][named] if named >= 0 else 0.0,
                "rest": 1.0 - (g["shares"][named] if named >= 0 else 0.0),
                "cells": int(np.asarray(trace.extras["cells"])[named].sum()) if named >= 0 else 0,
                "said": said, "truth": truth,
                "verdict": "word for word the picture's caption" if said == truth else f"the picture's caption is "
                                                                                       f"“{truth}”"}


_BASELINES: dict = {}


def baselines_of(data) -> dict:
    """captioner.baselines for this data's recipe, once per process (4,096 training captions: about 0.4 s)."""
    from .captioner import baselines
    key = tuple(sorted(data.recipe.items()))
    if key not in _BASELINES:
        _BASELINES[key] = baselines(data)
    return _BASELINES[key]


KIND = CaptionsKind()
