"""The CNN-LSTM kind: "which handwritten digit came first?" — a small CNN turns each frame into a vector, an
nn.LSTM reads the vectors, and the answer is asked after every frame. The model is in cnnlstm.py; the data in
data/frames.py (scikit-learn's shipped 8×8 digits)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..config import ConfigError, TrainConfig
from .base import Bundle
from .vision import VisionKind

DIGIT_CLASSES = 10


def kept(probs, label: int, step: int) -> str:
    """What the answers after the first frame and after `step` show (probs: (T, classes)): "right" (it read the
    first frame right and answered the same to the end), "misread" (it read it wrong and held that), "recovered"
    (wrong first, right at the end), "lost" (right first, wrong at the end) or "wrong" (wrong, then another wrong)."""
    first, last = int(np.argmax(probs[0])), int(np.argmax(probs[step]))
    if first == last:
        return "right" if last == label else "misread"
    return "recovered" if last == label else "lost" if first == label else "wrong"


def remembers(probs, label: int, step: int) -> str:
    """What the answers after the first frame and after `step` say about remembering, in each case of `kept`; it
    names what is seen — the answers — not what carried them."""
    first, last = int(np.argmax(probs[0])), int(np.argmax(probs[step]))
    said = (f"After the first frame (frame 0) it answers {first} ({probs[0][first]:.0%}); after frame {step} it "
            f"answers {last} ({probs[step][last]:.0%}); the truth is {label}.")  # (numbered as the frames' labels)
    between = f"{step} distractor{'s' if step != 1 else ''}"
    return said + {
        "right": f" Its answer stayed the same through {between}: what it saw first was kept.",
        "misread": f" It misread the first frame and held that reading through {between}: it kept what it saw, "
                   "wrongly.",
        "recovered": " It got there by the end, not from the first frame alone.",
        "lost": f" It read the first frame right but changed its answer within {between}: here it did not "
                "remember.",
        "wrong": " Its answer changed and ended wrong.",
    }[kept(probs, label, step)]


class DigitsKind(VisionKind):
    name = "digits"
    family = "cnnlstm"
    label = "CNN-LSTM"
    loss_label = "cross-entropy (nats per answer)"
    accuracy_label = "answer after the last frame right"
    bundles = (Bundle("first_digit", "digits", "first_digit", "CNN-LSTM: which handwritten digit came first?"),)
    family_entries = (
        {"name": "CNN-LSTM", "bundle": "first_digit",
         "what": "A small CNN turns each frame into a vector and an LSTM reads the vectors: it sees, then remembers "
                 "— which handwritten digit came first, after four distractors.",
         "data": "12×12 frames with real handwritten digits (scikit-learn's 8×8 digits by 43 writers)."},
    )

    @property
    def config_type(self):
        from .cnnlstm import CNNLSTMConfig
        return CNNLSTMConfig

    def defaults(self, data):
        # over 90 % right on handwriting it never saw within 60 s on one core (bench/bench_cnnlstm.py)
        return (self.config_type(frame=data.frame, conv_channels=16, embed_size=32, hidden_size=32),
                TrainConfig(batch_size=32, lr=2e-3, steps=2000, seed=0, eval_every=1.0))

    def adapt(self, model_cfg, train_cfg, data):
        return replace(model_cfg, frame=data.frame), train_cfg, None

    def check(self, model_cfg, train_cfg, data) -> None:
        if data.kind != self.name:
            raise ConfigError("a CNN-LSTM answers which digit came first; these sequences ask another question")
        self.check_frame(data, model_cfg.frame)
        if model_cfg.classes != DIGIT_CLASSES:
            raise ConfigError(f"the model answers with {model_cfg.classes} classes but the digits are "
                              f"{DIGIT_CLASSES} (0 … 9)")

    cheaper = "Choose a smaller batch, fewer or smaller frames, fewer convolution maps or fewer units."

    def cost(self, model_cfg, train_cfg, data):
        from ..budget import Cost, lstm_floats
        c = model_cfg
        F, C, E, H, T = c.frame, c.conv_channels, c.embed_size, c.hidden_size, data.steps
        forward = (2 * C * 9 * F * F + 2 * 2 * C * C * 9 * (F // 2) ** 2 + 2 * 2 * C * (F // 4) ** 2 * E
                   + 2 * 4 * H * (E + H) + 2 * H * c.classes)
        per_step = 3 * C * F * F + 3 * 2 * C * (F // 2) ** 2 + 2 * C * (F // 4) ** 2 + E + lstm_floats(4, H) + 3 * c.classes
        items = train_cfg.batch_size * T
        return Cost(self.parameters(c), items * per_step, 3.0 * items * forward, T * per_step)

    def build(self, model_cfg):
        from .cnnlstm import CNNLSTM
        return CNNLSTM(model_cfg)

    def loss(self, model, x, y):
        import torch.nn.functional as F
        out, _ = model(x)                    # (B, T, classes)
        # the question is asked after every frame (the same answer throughout): a dense signal to learn from
        return F.cross_entropy(out.flatten(0, 1), y.repeat_interleave(out.shape[1]))

    def accuracy(self, model, data, val_x, val_y) -> float:
        """Share of validation sequences answered right after the last frame."""
        import torch
        with torch.no_grad():
            model.eval()
            out, _ = model(val_x)
        return (out[:, -1].argmax(-1) == val_y).float().mean().item()

    def trace(self, model, data, choice, **kwargs):
        from .cnnlstm import trace_cnnlstm
        frames, label = data.sequence(choice)
        return trace_cnnlstm(model, frames, label)

    def describe(self, model_cfg) -> str:
        return (f"CNN-LSTM, {model_cfg.conv_channels} + {2 * model_cfg.conv_channels} convolution maps → LSTM × "
                f"{model_cfg.hidden_size} units")

    def max_config(self):
        from ..config import LIMITS
        return self.config_type(frame=32, conv_channels=32, embed_size=LIMITS.max_embed,
                                hidden_size=LIMITS.max_hidden, classes=100)

    # --- scenes and views -----------------------------------------------------------------------------------------
    def scene_facts(self, scene, trace, step: int) -> dict:
        probs, label = trace.extras["probs"], int(trace.extras["label"])
        answer, first = int(np.argmax(probs[step])), int(np.argmax(probs[0]))
        return {"step": step, "unit": int(np.argmax(trace.get("cell_state").std(0))),
                "answer": str(answer), "p_right": float(probs[step][label]), "truth": str(label),
                "distractors": trace.n_steps - 1, "remembers": remembers(probs, label, step),
                "kept": kept(probs, label, step)}

    def default_unit(self, trace) -> int:
        """The unit whose cell state varies most."""
        return int(np.argmax(trace.get("cell_state").std(axis=0)))

    def unit_label(self, trace, unit: int) -> str:
        return f"unit u{unit}"

    def views(self, trace, unit: int) -> dict:
        from .vision_views import cnnlstm_views
        return cnnlstm_views(trace, unit, self.unit_label(trace, unit))


KIND = DigitsKind()
