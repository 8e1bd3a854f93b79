"""The text kind: characters in, the next character (or a hidden one) out. The model is the sequence family's
(kinds/sequence.py); the data is data/text.py's TextData."""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ..config import ConfigError, DataError, ModelFileError, TrainConfig
from ..words import NOUNS
from .base import BYTES_PER_CHAR, IGNORE, Bundle
from .sequence import ModelConfig, SequenceKind

SAMPLE_CHARS = 20_000   # text kept in a model file, so the model can be inspected without the original data
NAME_CHARS = 200


# --- hypotheses for the unit finder: one value per character ---------------------------------------------------------

def inside_quotes(chars: list) -> np.ndarray:
    inside, out = False, []
    for ch in chars:
        if ch == '"':
            inside = not inside
        out.append(inside)
    return np.array(out, dtype=float)


def bracket_depth(chars: list) -> np.ndarray:
    depth, out = 0, []
    for ch in chars:
        if ch in "([{":
            depth += 1
        out.append(depth)
        if ch in ")]}":
            depth = max(0, depth - 1)
    return np.array(out, dtype=float)


def after_sentence_end(chars: list) -> np.ndarray:
    """1 on a full stop / ! / ? and the white space after it, until the next sentence starts."""
    on, out = False, []
    for ch in chars:
        if ch in ".!?":
            on = True
        elif not ch.isspace():
            on = False
        out.append(on)
    return np.array(out, dtype=float)


PLURALS = {plural for _, plural in NOUNS}  # the agreement corpus's own nouns


def plural_subject(chars: list) -> np.ndarray:
    """Agreement corpus: +1 while a plural subject waits for its verb, −1 for a singular one, 0 elsewhere.
    The span runs from the end of the subject noun to the start of was/were (the gap the model must bridge).
    Words as tokens: from the step after the noun to the step before the verb."""
    if is_words(chars):
        return _plural_subject_words(chars)
    text = "".join(ch if len(ch) == 1 else "?" for ch in chars)
    out = np.zeros(len(text))
    for m in re.finditer(r"(?m)^the (\w+)(.*?)\b(was|were)\b", text):
        sign = 1.0 if m.group(1) in PLURALS else -1.0
        out[m.end(1) : m.start(3)] = sign
    return out


def is_words(tokens: list) -> bool:
    """Does a sequence read words (some token longer than one character, the mask ▮ aside)?"""
    from ..trace_data import MASK
    return any(isinstance(t, str) and len(t) > 1 and t != MASK for t in tokens)


def _plural_subject_words(words: list) -> np.ndarray:
    """plural_subject over words: from the step after a line's subject noun ("the cats") to the step before its
    verb."""
    out, sign = np.zeros(len(words)), 0.0
    for t, w in enumerate(words):
        if w in ("was", "were"):
            sign = 0.0
        out[t] = sign
        if t >= 1 and words[t - 1] == "the" and (t == 1 or words[t - 2] == "\n"):
            sign = 1.0 if w in PLURALS else -1.0 if w in SINGULARS else 0.0
    return out


SINGULARS = {singular for singular, _ in NOUNS}


def words_trace(trace) -> bool:
    """Was the trace read in words (TextData tokens "words")?"""
    return str(trace.extras.get("tokens", "chars")) == "words"


class TextKind(SequenceKind):
    name = "text"
    label = "Text"
    loss_label = "cross-entropy (nats per character, or per word)"
    items = "characters (or words)/s"
    strip = "text"
    preview_words = "text"
    hypotheses = {
        "quotes": ("inside quotes \"…\"", inside_quotes),
        "brackets": ("inside brackets (depth of ( [ {)", bracket_depth),
        "sentence_end": ("just after a sentence end (. ! ?)", after_sentence_end),
        "plural": ("plural subject waiting for its verb (agreement text)", plural_subject),
    }
    # 64 units and 1,000 steps reach the validation loss of 128 units and 1,500 steps (0.24 nats/char on the
    # agreement text) in a third of the time: a visibly useful model within 30 s (README, bench/bench_watched.py)
    bundles = (
        # every text preset at the Train page's default settings (the Train page opens on these)
        Bundle("agreement", "text", "agreement", "LSTM on the agreement text (cat/cats … was/were)"),
        Bundle("brackets", "text", "brackets", "LSTM on brackets and quotes"),
        Bundle("python", "text", "python", "LSTM on Python source"),
        # the scenes' models: the long-memory races' (memory.py trains them), a plain RNN, both directions, stacked
        Bundle("memory_lstm", "race", "agreement", "LSTM from the long-memory race: was/were after filler words"),
        Bundle("memory_rnn", "race", "agreement", "plain RNN from the same race (same size, data and seed)",
               model=(("cell", "rnn"),)),
        Bundle("allergy_lstm", "race", "allergy", "LSTM from the allergy race: can/can't after filler words"),
        Bundle("allergy_rnn", "race", "allergy", "plain RNN from the allergy race (same size, data and seed)",
               model=(("cell", "rnn"),)),
        Bundle("colours_rnn", "text", "colours", "plain RNN on “the colour of the sky is blue”",
               model=(("cell", "rnn"),)),
        Bundle("places_bi", "text", "places", "bidirectional LSTM filling in hidden words (places text)",
               model=(("task", "masked"), ("bidirectional", True)), train=(("hide", "words"), ("steps", 2000))),
        Bundle("places_uni", "text", "places", "one-directional LSTM filling in hidden words (places text)",
               model=(("task", "masked"),), train=(("hide", "words"), ("steps", 2000))),  # 1000: the bi one unsure
        Bundle("python_stacked", "text", "python", "stacked LSTM (2 layers) on Python source",
               model=(("num_layers", 2),)),
        # words as tokens: the agreement text read a word at a time ("the cats , which … , were full .")
        Bundle("agreement_words", "text", "agreement:words", "word-level LSTM on the agreement text (words as "
                                                            "tokens)"),
    )
    family_entries = (
        {"name": "Vanilla LSTM", "bundle": "agreement",
         "what": "One layer of LSTM cells reads a sequence one item at a time; the cell state carries what matters.",
         "data": "Characters of text: “the cats, which ate the fish, were full.”"},
        {"name": "Stacked LSTM", "bundle": "python_stacked",
         "what": "Two or more LSTM layers, each reading the hidden states of the one below (here two); in Step "
                 "through, pick the layer to explain.",
         "data": "Characters of Python code: brackets, indentation, names."},
        {"name": "Bidirectional LSTM", "bundle": "places_bi",
         "what": "Two LSTMs, one reading forwards and one backwards; each position sees both sides — here to fill in "
                 "a hidden word.",
         "data": "A sentence with a blank: “go to ▮▮▮▮▮▮ in …”."},
    )
    default_config = ModelConfig(kind="text", embed_size=32, hidden_size=64, num_layers=1)
    default_train = TrainConfig(seq_len=64, batch_size=32, lr=5e-3, steps=1000)

    def guesses(self, trace) -> str:
        unit = "word" if words_trace(trace) else "character"
        # (a fill-in model guesses every position, hidden or shown: the title is true at any step of the cursor)
        return f"the {unit} at this position" if trace.task == "masked" else f"the next {unit}"

    def captions(self, trace, unit_of: str = "") -> list:
        from ..names import quote
        unit = "word" if words_trace(trace) else "character"

        def truth(t):
            if trace.task == "masked":
                return f"the hidden {unit} is" if trace.masked[t] else f"this {unit} is"
            return f"the true next {unit} is"
        return [f"Step {t}: input {quote(trace.inputs[t])} → {truth(t)} {quote(trace.targets[t])}"
                for t in range(trace.n_steps)]

    def step_views(self, trace, layer: int, direction: int, unit: int, colour: str, unit_of: str = "",
                   presenter: bool = False) -> dict:
        """As every sequence model's (step_charts.main_views); a word-level trace's strip has a tile per word
        (word_views.text_word_strip), as wide as the word."""
        views = super().step_views(trace, layer, direction, unit, colour, unit_of, presenter)
        if not words_trace(trace):
            return views
        from ..step_charts import PRESENTER, scaled
        from .word_views import text_word_strip
        values = trace.get(colour, layer, direction)[:, unit]
        p = trace.predictions[trace.predictions["rank"] <= 3]
        guesses = p.groupby("step").apply(lambda g: "  ".join(f"{c} {q:.0%}" for c, q in zip(g["char"], g["prob"])),
                                          include_groups=False).reindex(range(trace.n_steps)).fillna("")
        title = (f"The words coloured by unit u{unit}'s {colour.replace('_', ' ')}"
                 + ("" if presenter else " — hover a word for the model's top guesses")
                 + ("; ▮ = hidden" if trace.masked is not None else ""))
        strip = text_word_strip(trace, values, colour, title, self.captions(trace, unit_of), list(guesses),
                                presenter=presenter)
        return {**views, "strip": scaled(strip, PRESENTER["fonts"]) if presenter else strip}

    def scene_facts(self, scene, trace, step: int) -> dict:
        """The true next (or hidden) character at the scene's step and the model's probability of it."""
        preds = trace.predictions[trace.predictions["step"] == step]
        return {"answer": trace.targets[step], "p_right": float(preds["actual_prob"].iloc[0])}

    def defaults(self, data):
        model_cfg, train_cfg = super().defaults(data)
        return replace(model_cfg, vocab_size=len(data.vocab)), train_cfg

    def outputs(self, model_cfg) -> int:
        return model_cfg.vocab_size

    def n_items(self, data) -> int:
        return len(data.ids)

    def adapt(self, model_cfg, train_cfg, data):
        model_cfg, train_cfg, note = super().adapt(model_cfg, train_cfg, data)
        return replace(model_cfg, vocab_size=len(data.vocab)), train_cfg, note

    def items(self, data):
        return data.ids

    def text_choice(self, data, text: str):
        from ..config import LIMITS
        n = len(data.split(text))
        if not 2 <= n <= LIMITS.max_seq_len + 1:
            raise ConfigError(f"--text must have 2 to {LIMITS.max_seq_len + 1} {data.unit}s (a trace of at most "
                              f"{LIMITS.max_seq_len} steps, as on the page)")
        return data.encode(text), None

    def check(self, model_cfg, train_cfg, data) -> None:
        if model_cfg.vocab_size != len(data.vocab):
            raise ConfigError(f"the model reads {model_cfg.vocab_size} distinct {data.unit}s but the text has "
                              f"{len(data.vocab)}; a model must know every {data.unit} of its text")
        super().check(model_cfg, train_cfg, data)

    def batches(self, data, model_cfg, train_cfg, seed: int):
        """Hiding "whole words" groups a word's letters: with words as tokens a hidden step is a whole word."""
        from .sequence import Batches
        return Batches(data, train_cfg.seq_len, train_cfg.batch_size, seed,
                       mask_id=model_cfg.vocab_size if model_cfg.task == "masked" else None,
                       words=model_cfg.task == "masked" and train_cfg.hide == "words" and data.tokens == "chars")

    def scored(self, x, y) -> int:
        return int((y != IGNORE).sum())

    def loss(self, model, x, y):
        import torch.nn.functional as F
        out, _ = model(x)                                                  # (B, T, V)
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=IGNORE)

    def accuracy(self, model, data, val_x, val_y) -> float:
        """Share of scored positions (the next character, or a hidden one) where the top guess is right."""
        import torch
        with torch.no_grad():
            model.eval()
            out, _ = model(val_x)
        scored = val_y != IGNORE
        return (out.argmax(-1)[scored] == val_y[scored]).float().mean().item()

    def readout(self, data, quantities, logits, x_in, target, mask, top_k, common):
        """The trace's inputs, targets and top guesses from the head's logits (T, V)."""
        import pandas as pd
        import torch

        from ..trace_data import MASK, Trace
        T = len(x_in)
        probs = torch.softmax(logits[:, : len(data.vocab)], dim=-1)  # the mask token is never an answer
        top_p, top_i = probs.topk(min(top_k, probs.shape[-1]), dim=-1)  # (T, k)
        k = top_p.shape[1]
        preds = pd.DataFrame({"step": np.repeat(np.arange(T), k), "rank": np.tile(np.arange(1, k + 1), T),
                              "char": [data.vocab[int(i)] for i in top_i.ravel()],
                              "prob": top_p.ravel().numpy()})
        preds["actual_prob"] = np.repeat(probs[torch.arange(T), target].numpy(), k)
        shown = [MASK if mask is not None and mask[t] else data.vocab[int(i)] for t, i in enumerate(x_in[:T])]
        trace = Trace("text", quantities, shown, [data.vocab[int(i)] for i in target], preds, **common)
        if data.tokens == "words":
            trace.extras["tokens"] = np.asarray("words")  # an array: a stored trace keeps it
        return trace

    def window_inputs(self, data, x) -> list:
        """Validation windows (B, T) -> what each step reads, as the trace shows it (the mask as ▮)."""
        from ..trace_data import MASK
        return [[data.vocab[int(i)] if int(i) < len(data.vocab) else MASK for i in row] for row in x]

    def prediction_values(self, trace):
        """(one number per step to compare two runs by, what it is)."""
        p = trace.predictions
        return p[p["rank"] == 1]["actual_prob"].to_numpy(), "probability of the true character"

    # --- model files ----------------------------------------------------------------------------------------------
    def file_info(self, data) -> dict:
        info = {"kind": "text", "name": data.name[:NAME_CHARS], "vocab": data.vocab,
                "sample": data.text[-SAMPLE_CHARS:]}
        if data.tokens == "words":  # (character files stay as they were, without the field)
            info["tokens"] = "words"
        return info

    def max_info_bytes(self) -> int:
        from ..config import LIMITS
        from .text_data import MAX_WORD_CHARS
        return (SAMPLE_CHARS + LIMITS.max_vocab * (MAX_WORD_CHARS + 3) + NAME_CHARS + 20) * BYTES_PER_CHAR

    def open_data(self, info: dict, model_cfg, train_cfg):
        from ..filecheck import text_field
        tokens = info.get("tokens", "chars")
        if tokens == "words":
            return self._open_words(info, model_cfg, text_field(info, "sample", SAMPLE_CHARS))
        if tokens != "chars":
            raise ModelFileError("The file's text says its tokens are neither characters nor words.")
        return self._open_chars(info, model_cfg, text_field(info, "sample", SAMPLE_CHARS))

    def _open_words(self, info: dict, model_cfg, sample: str):
        """A word-level file: its own vocabulary (the sample alone would count other words), checked token by
        token, then the sample read with it."""
        from ..filecheck import encodable, text_field
        from .text_data import TextData, check_word_vocabulary
        vocab = info.get("vocab")
        try:
            check_word_vocabulary(vocab)
        except DataError as e:
            raise ModelFileError(f"The file's word vocabulary is malformed: {e}") from None
        if len(vocab) != model_cfg.vocab_size:
            raise ModelFileError("The file's vocabulary does not match its model (one entry per word).")
        encodable("".join(vocab), "vocabulary")
        name = text_field(info, "name", NAME_CHARS, "loaded model")
        try:
            return TextData(sample, name=f"{name} (from the model file)", tokens="words", word_vocab=vocab)
        except DataError as e:
            raise ModelFileError(f"The file's data is not usable: {e}") from None

    def _open_chars(self, info: dict, model_cfg, sample: str):
        from .text_data import TextData
        from ..filecheck import encodable, text_field
        vocab = info.get("vocab")
        if not (isinstance(vocab, list) and all(isinstance(c, str) and len(c) == 1 for c in vocab)
                and len(set(vocab)) == len(vocab) == model_cfg.vocab_size and vocab == sorted(vocab)):
            raise ModelFileError("The file's vocabulary does not match its model (one entry per distinct character).")
        encodable("".join(vocab), "vocabulary")
        if set(sample) - set(vocab):
            raise ModelFileError("The file's text sample uses characters outside its vocabulary.")
        name = text_field(info, "name", NAME_CHARS, "loaded model")
        try:
            data = TextData(sample + "".join(vocab), name=f"{name} (from the model file)")
        except DataError as e:
            raise ModelFileError(f"The file's data is not usable: {e}") from None
        if data.vocab != vocab:
            raise ModelFileError("The file's vocabulary does not match its text sample.")
        return data

    def preset_data(self, preset: str):
        """A preset's text; "<preset>:words" reads it a word at a time."""
        from .text_data import load_text_preset
        key, _, tokens = preset.partition(":")
        if tokens not in ("", "words"):
            raise ConfigError(f"Unknown text preset {preset!r}; a preset reads characters, or words with :words.")
        return load_text_preset(key, tokens=tokens or "chars")

    def presets(self) -> dict:
        from .text_data import TEXT_PRESETS
        chars = {key: label for key, (label, _) in TEXT_PRESETS.items()}
        return {**chars, **{f"{key}:words": f"{label} — words as tokens" for key, label in chars.items()}}

    def max_config(self):
        from ..config import LIMITS
        return replace(super().max_config(), vocab_size=LIMITS.max_vocab, task="masked", bidirectional=True)


KIND = TextKind()
