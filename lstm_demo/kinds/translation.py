"""The translation kind: an encoder–decoder (seq2seq.py) on tasks made in data/translation.py — numbers or dates
in words to digits, copy and reverse. Step through traces both halves as one Trace (the encoder's steps, then the
decoder's) with the same cursor; choice is (source, truth or None, teacher forcing?)."""
from __future__ import annotations

from ..config import ConfigError, DataError, ModelFileError, TrainConfig
from .base import IGNORE, Bundle, Kind


class TranslationBatches:
    """Batches of fresh source–target pairs (TranslationData.train_pairs) and the fixed validation pairs:
    x = (source ids, source lengths, decoder inputs BOS + answer), y = answer + EOS (padding not scored)."""

    def __init__(self, data, batch_size: int, seed: int, reverse: bool = False):
        import torch
        self.data, self.batch_size, self.reverse = data, batch_size, reverse
        self.gen = torch.Generator().manual_seed(seed)
        src, lengths, dec, y = data.tensors(data.val_pairs, reverse=reverse)
        self.val_x, self.val_y = (src, lengths, dec), y

    def next(self):
        import torch
        pairs = self.data.train_pairs(self.batch_size, int(torch.randint(2**31 - 1, (1,), generator=self.gen)))
        src, lengths, dec, y = self.data.tensors(pairs, reverse=self.reverse)
        return (src, lengths, dec), y

    @property
    def items_per_batch(self) -> int:
        return self.batch_size


class TranslationKind(Kind):
    name = "translation"
    family = "seq2seq"
    label = "encoder–decoder"
    loss_label = "cross-entropy (nats per character)"
    items = "pairs/s"
    accuracy_label = "exact match on the held-out pairs"
    strip = "text"
    panels = ("heatmaps", "units")  # the finder, what-if, scrubber and exports read a one-network model
    bundles = (Bundle("numbers", "translation", "numbers", "encoder–decoder LSTM: numbers in words → digits",
                      checkpoint_bytes=1_000_000),)  # two LSTMs of 128 units: the file stays under 2 MB
    family_entries = (
        {"name": "Encoder–decoder", "bundle": "numbers",
         "what": "One LSTM reads the source; its final (h, c) — one vector — starts a second LSTM that writes the "
                 "answer character by character. Everything passes through that hand-over: the bottleneck.",
         "data": "Numbers in words → digits: “three hundred and four” → 304."},
    )

    @property
    def config_type(self):
        from .seq2seq import Seq2SeqConfig
        return Seq2SeqConfig

    def guesses(self, trace) -> str:
        return "the decoder's next character"

    def no_guess(self, trace, step: int) -> str:
        (_, _, S), _ = trace.segments
        return (f"Encoder step {step}: the decoder has not started — its first guess comes at the hand-over, "
                f"step {S}")

    def captions(self, trace, unit_of: str = "") -> list:
        """The encoder reads; at the hand-over the decoder starts from its final (h, c)."""
        from ..names import quote
        (_, _, S), (_, d0, _) = trace.segments
        emitted = trace.extras.get("emitted", [])
        out = []
        for t in range(trace.n_steps):
            if t < S:
                out.append(f"Encoder step {t}: reads {quote(trace.inputs[t])} (source character {t + 1} of {S})")
                continue
            k = t - d0
            said = f"emits {quote(emitted[k])}" if k < len(emitted) else "emits nothing (its answer ended)"
            truth = f", the truth is {quote(trace.targets[t])}" if trace.targets[t] else ""
            start = "hand-over — starts from the encoder's final (h, c), " if k == 0 else ""
            out.append(f"Decoder step {t}: {start}reads {quote(trace.inputs[t])} → {said}{truth}")
        return out

    def defaults(self, data):
        # numbers up to 3 digits reach >= 95 % exact match on held-out numbers well within 60 s on one core
        # (bench/bench_seq2seq.py)
        return (self.config_type(vocab_size=len(data.vocab), embed_size=32, hidden_size=128, num_layers=1),
                TrainConfig(batch_size=64, lr=5e-3, steps=600, seed=0, eval_every=1.0))

    def adapt(self, model_cfg, train_cfg, data):
        from dataclasses import replace
        return replace(model_cfg, vocab_size=len(data.vocab)), train_cfg, None

    def check(self, model_cfg, train_cfg, data) -> None:
        if model_cfg.vocab_size != len(data.vocab):
            raise ConfigError(f"the model reads {model_cfg.vocab_size} distinct characters but the task uses "
                              f"{len(data.vocab)}")
        data.check_held_out()  # DataError: no held-out pair, or one that training could also draw

    cheaper = "Choose a smaller batch, fewer units, one layer or a shorter length."

    def cost(self, model_cfg, train_cfg, data):
        from ..budget import Cost, lstm_floats
        from .seq2seq import MAX_ANSWER
        from .translation_data import MAX_SOURCE
        c = model_cfg
        S, A, H, E, V, L = min(MAX_SOURCE, data.longest_source()), MAX_ANSWER + 1, c.hidden_size, c.embed_size, \
            c.vocab_size, c.num_layers
        forward = 2 * 4 * H * (E + H) * L * (S + A) + 2 * H * V * A
        per_item = (S + A) * (E + L * lstm_floats(4, H)) + 3 * A * V
        if c.attention:
            forward += 2 * 2 * A * S * H + 2 * A * 2 * H * H
            per_item += 2 * A * S + 3 * A * H
        B = train_cfg.batch_size
        return Cost(self.parameters(c), B * per_item, 3.0 * B * forward, per_item)

    def build(self, model_cfg):
        from .seq2seq import Seq2Seq
        return Seq2Seq(model_cfg)

    def batches(self, data, model_cfg, train_cfg, seed: int):
        return TranslationBatches(data, train_cfg.batch_size, seed, reverse=model_cfg.reverse_source)

    def scored(self, x, y) -> int:
        return int((y != IGNORE).sum())

    def loss(self, model, x, y):
        import torch.nn.functional as F
        out, _ = model(x)                    # the answer's characters under teacher forcing: (B, T, V)
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=IGNORE)

    def accuracy(self, model, data, val_x, val_y) -> float:
        """Exact match of the greedy answers on the held-out pairs."""
        from .seq2seq import exact_match_accuracy
        return exact_match_accuracy(model, data)

    def trace(self, model, data, choice, **kwargs):
        from .seq2seq import trace_seq2seq
        source, truth, teacher = choice
        return trace_seq2seq(model, data, source, truth, teacher=teacher)

    def cli_choice(self, loaded, text=None, start=None, length=None, seq=None):
        """What `python -m lstm_demo.cli trace` steps through: a source (--text, default the first held-out one),
        the decoder free-running (with its truth when the source is a held-out one)."""
        if start is not None or length is not None or seq is not None:
            raise ConfigError("an encoder–decoder steps through a source: use --text \"seven hundred and one\"")
        data = loaded.data
        source = data.val_pairs[0][0] if text is None else text
        try:
            data.check_source(source)
        except DataError as e:
            raise ConfigError(str(e)) from None
        return source, dict(data.val_pairs).get(source), False

    def describe(self, model_cfg) -> str:
        return (f"encoder–decoder LSTM {model_cfg.num_layers} × {model_cfg.hidden_size} units"
                + (", source reversed" if model_cfg.reverse_source else "")
                + (", attention" if model_cfg.attention else ""))

    def max_config(self):
        from ..config import LIMITS
        return self.config_type(vocab_size=LIMITS.max_vocab, embed_size=LIMITS.max_embed,
                                hidden_size=LIMITS.max_hidden, num_layers=2, attention=True)

    # --- model files ----------------------------------------------------------------------------------------------
    def open_data(self, info: dict, model_cfg, train_cfg):
        from .translation_data import TranslationData
        recipe = info.get("recipe")
        if info.get("kind") != self.name or not isinstance(recipe, dict) or \
                set(recipe) != {"task", "length", "seed"}:
            raise ModelFileError("The file's translation recipe is malformed.")
        try:
            return TranslationData(**recipe)
        except (DataError, TypeError) as e:
            raise ModelFileError(f"The file's translation task is not allowed here: {str(e)[:300]}") from None

    def preset_data(self, preset: str):
        from .translation_data import TranslationData
        return TranslationData(preset)

    def presets(self) -> dict:
        from .translation_data import TASKS
        return dict(TASKS)

    # --- scenes ---------------------------------------------------------------------------------------------------
    def scene_trace(self, scene, model, data, check: bool = True):
        """The hand-over: the decoder's first step, right after the encoder's last."""
        import torch

        from .seq2seq import trace_seq2seq
        with torch.no_grad():
            trace = trace_seq2seq(model, data, scene.text, scene.answer)
        return trace, trace.segments[0][2]

    def scene_facts(self, scene, trace, step: int) -> dict:
        """The unit with the largest cell state at the hand-over, and what the decoder writes from it."""
        import numpy as np

        from ..names import show
        (_, _, S), _ = trace.segments
        c_final = trace.get("cell_state", trace.n_layers - 1)[S - 1]
        unit = int(np.argmax(np.abs(c_final)))
        emitted = trace.extras["emitted"]
        return {"unit": unit, "c_now": float(c_final[unit]), "source": scene.text, "answer": scene.answer,
                "first_out": show(emitted[0]), "answer_out": "".join(emitted).split("$")[0], "step": S,
                "units": 2 * trace.unit_shape[0] * trace.n_layers}


def handover_words(units: int, shown: int, attention: bool) -> tuple[str, str]:
    """(heading, caption) of the hand-over chart: the encoder's final state is "everything the decoder knows"
    only without attention; the caption counts the units the chart shows (shown of units)."""
    heading = "The hand-over: the encoder's final state — " + (
        "where the decoder starts; with attention it also reads every encoder step" if attention else
        "everything the decoder knows about the source")
    which = f"The {shown} units with the largest |c|" if shown < units else \
        f"All {units} units, largest |c| first,"
    return heading, (f"{which} after the last source character (top layer). Step through the encoder with one of "
                     "them as the unit to explain to see when it was written: a unit that counts characters ramps up "
                     "steadily; one that holds, say, the hundreds digit is set at that word and then kept.")


KIND = TranslationKind()
