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
    The span runs from the end of the subject noun to the start of was/were (the gap the model must bridge)."""
    text = "".join(ch if len(ch) == 1 else "?" for ch in chars)
    out = np.zeros(len(text))
    for m in re.finditer(r"(?m)^the (\w+)(.*?)\b(was|were)\b", text):
        sign = 1.0 if m.group(1) in PLURALS else -1.0
        out[m.end(1) : m.start(3)] = sign
    return out


class TextKind(SequenceKind):
    name = "text"
    label = "Text"
    loss_label = "cross-entropy (nats per character)"
    items = "characters/s"
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
        return "this hidden character" if trace.task == "masked" else "the next character"

    def captions(self, trace, unit_of: str = "") -> list:
        from ..names import show

        def truth(t):
            if trace.task == "masked":
                return "the hidden character is" if trace.masked[t] else "this character is"
            return "the true next character is"
        return [f"Step {t}: input '{show(trace.inputs[t])}' → {truth(t)} '{show(trace.targets[t])}'"
                for t in range(trace.n_steps)]

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
        if not 2 <= len(text) <= LIMITS.max_seq_len + 1:
            raise ConfigError(f"--text must have 2 to {LIMITS.max_seq_len + 1} characters (a trace of at most "
                              f"{LIMITS.max_seq_len} steps, as on the page)")
        return data.encode(text), None

    def check(self, model_cfg, train_cfg, data) -> None:
        if model_cfg.vocab_size != len(data.vocab):
            raise ConfigError(f"the model reads {model_cfg.vocab_size} distinct characters but the text has "
                              f"{len(data.vocab)}; a model must know every character of its text")
        super().check(model_cfg, train_cfg, data)

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
        return Trace("text", quantities, shown, [data.vocab[int(i)] for i in target], preds, **common)

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
        return {"kind": "text", "name": data.name[:NAME_CHARS], "vocab": data.vocab,
                "sample": data.text[-SAMPLE_CHARS:]}

    def max_info_bytes(self) -> int:
        from ..config import LIMITS
        return (SAMPLE_CHARS + LIMITS.max_vocab * 4 + NAME_CHARS) * BYTES_PER_CHAR

    def open_data(self, info: dict, model_cfg, train_cfg):
        from .text_data import TextData
        from ..filecheck import encodable, text_field
        vocab, sample = info.get("vocab"), text_field(info, "sample", SAMPLE_CHARS)
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
        from .text_data import load_text_preset
        return load_text_preset(preset)

    def presets(self) -> dict:
        from .text_data import TEXT_PRESETS
        return {key: label for key, (label, _) in TEXT_PRESETS.items()}

    def max_config(self):
        from ..config import LIMITS
        return replace(super().max_config(), vocab_size=LIMITS.max_vocab, task="masked", bidirectional=True)


KIND = TextKind()
