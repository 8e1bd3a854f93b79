"""The LSTM family the tutorials list, and the two members that see: presets for image sequences.

Each preset was measured on one torch thread (bench/bench_convlstm.py, bench/bench_cnnlstm.py): the ConvLSTM beats
"copy the last frame" by over 2× in MSE, and the CNN-LSTM answers "which digit came first?" over 90 % right on
handwriting it never saw, each within 60 s.
"""
from __future__ import annotations

from .cnnlstm import CNNLSTMConfig
from .config import TrainConfig
from .convlstm import ConvLSTMConfig
from .data.frames import FRAME_TASKS, FramesData

VISION_MODELS = {"frames": "ConvLSTM", "digits": "CNN-LSTM"}


def vision_defaults(task: str, frame: int | None = None):
    """(model config, train config) of the preset for an image-sequence task."""
    data_kind = FRAME_TASKS[task][1]
    if data_kind == "digits":
        cfg = CNNLSTMConfig(frame=frame or 12, conv_channels=16, embed_size=32, hidden_size=32)
        return cfg, TrainConfig(batch_size=32, lr=2e-3, steps=2000, seed=0, eval_every=1.0)
    side = frame or 16
    return (ConvLSTMConfig(in_channels=1, hidden_channels=8, kernel=3, height=side, width=side),
            TrainConfig(batch_size=16, lr=1e-2, steps=1200, seed=0, eval_every=1.0))


def model_config_for(data: FramesData, hidden: int, kernel: int = 3, peephole: bool = False, conv: int = 16,
                     embed: int = 32):
    """The model config that fits an image-sequence data set (its frame size) with the visitor's sizes."""
    if data.kind == "digits":
        return CNNLSTMConfig(frame=data.frame, conv_channels=conv, embed_size=embed, hidden_size=hidden).validate()
    return ConvLSTMConfig(hidden_channels=hidden, kernel=kernel, height=data.frame, width=data.frame,
                          peephole=peephole).validate()


def translation_defaults(data):
    """(model config, train config) of the encoder–decoder preset: numbers up to 3 digits reach >= 95 % exact match
    on held-out numbers well within 60 s on one core (bench/bench_seq2seq.py)."""
    from .seq2seq import Seq2SeqConfig
    return (Seq2SeqConfig(vocab_size=len(data.vocab), embed_size=32, hidden_size=128, num_layers=1),
            TrainConfig(batch_size=64, lr=5e-3, steps=600, seed=0, eval_every=1.0))


# The family view: what each member is, in a sentence, what its data looks like, and a trained one to open.
FAMILY = [
    {"name": "Vanilla LSTM", "bundle": "agreement",
     "what": "One layer of LSTM cells reads a sequence one item at a time; the cell state carries what matters.",
     "data": "Characters of text: “the cats, which ate the fish, were full.”"},
    {"name": "Stacked LSTM", "bundle": "python_stacked",
     "what": "Two or more LSTM layers, each reading the hidden states of the one below (here two); in Step through, "
             "pick the layer to explain.",
     "data": "Characters of Python code: brackets, indentation, names."},
    {"name": "Bidirectional LSTM", "bundle": "places_bi",
     "what": "Two LSTMs, one reading forwards and one backwards; each position sees both sides — here to fill in a "
             "hidden word.",
     "data": "A sentence with a blank: “go to ▮▮▮▮▮▮ in …”."},
    {"name": "CNN-LSTM", "bundle": "first_digit",
     "what": "A small CNN turns each frame into a vector and an LSTM reads the vectors: it sees, then remembers — "
             "which handwritten digit came first, after four distractors.",
     "data": "12×12 frames with real handwritten digits (scikit-learn's 8×8 digits by 43 writers)."},
    {"name": "ConvLSTM", "bundle": "shapes",
     "what": "Every gate is a convolution, so gates, cell state and hidden state are maps: the forget gate decides, "
             "pixel by pixel, what of a moving shape to keep. It predicts the next frame.",
     "data": "16×16 frames of squares, discs and crosses that move and bounce."},
    {"name": "Encoder–decoder", "bundle": "numbers",
     "what": "One LSTM reads the source; its final (h, c) — one vector — starts a second LSTM that writes the answer "
             "character by character. Everything passes through that hand-over: the bottleneck.",
     "data": "Numbers in words → digits: “three hundred and four” → 304."},
]
