"""The series kind: one number in, the next number out (one-step forecasting). The model is the sequence family's
(kinds/sequence.py); the data is data/series.py's SeriesData, normalised to mean 0 and spread 1."""
from __future__ import annotations

import math

import numpy as np

from ..config import ConfigError, DataError, ModelFileError, TrainConfig
from .base import BYTES_PER_CHAR, BYTES_PER_NUMBER, Bundle
from .sequence import ModelConfig, SequenceKind

SAMPLE_POINTS = 5_000   # series points kept in a model file
NAME_CHARS, UNIT_CHARS = 200, 40


def rising(values: list) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.concatenate([[0.0], (np.diff(v) > 0).astype(float)])


def above_mean(values: list) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return (v > v.mean()).astype(float)


class SeriesKind(SequenceKind):
    name = "series"
    label = "Time series"
    loss_label = "mean squared error (normalised units)"
    items = "windows·steps/s"
    strip = "series"
    preview_words = "forecast"
    panels = ("heatmaps", "units", "finder", "training", "whatif", "forecast", "export")
    hypotheses = {
        "rising": ("series rising (this value above the last)", rising),
        "above_mean": ("series above its mean in this window", above_mean),
    }
    bundles = (  # every series preset at the Train page's default settings (the Train page opens on these)
        Bundle("sine", "series", "sine", "LSTM on a sine wave"),
        Bundle("sines_noise", "series", "sines_noise", "LSTM on two sines + noise"),
        Bundle("square", "series", "square", "LSTM on a square wave"),
        Bundle("sawtooth", "series", "sawtooth", "LSTM on a sawtooth wave"),
        Bundle("mackey_glass", "series", "mackey_glass", "LSTM on the Mackey–Glass series"),
        Bundle("seattle", "series", "seattle_daily", "LSTM on Seattle daily temperature"),
        Bundle("seattle_hourly", "series", "seattle_hourly", "LSTM on Seattle hourly temperature"),
        Bundle("stock_aapl", "series", "stock_aapl", "LSTM on AAPL's monthly price"),
    )
    default_config = ModelConfig(kind="series", embed_size=16, hidden_size=32, num_layers=1)
    default_train = TrainConfig(seq_len=64, batch_size=32, lr=5e-3, steps=1000)

    def captions(self, trace, unit_of: str = "") -> list:
        p = trace.predictions
        return [f"Step {t}: input {trace.inputs[t]:z.3f}{unit_of} → predicted next {p['predicted'].iloc[t]:z.3f}, "
                f"actual {p['actual'].iloc[t]:z.3f} (error {p['predicted'].iloc[t] - p['actual'].iloc[t]:+z.3f})"
                for t in range(trace.n_steps)]

    def n_items(self, data) -> int:
        return len(data.values)

    def items(self, data):
        return data.normed

    def check(self, model_cfg, train_cfg, data) -> None:
        if model_cfg.input_size != 1:
            raise ConfigError(f"the model reads {model_cfg.input_size} numbers per step; a series here has one")
        super().check(model_cfg, train_cfg, data)

    def scored(self, x, y) -> int:
        import torch
        return int(torch.isfinite(y).sum())

    def loss(self, model, x, y):
        import torch
        import torch.nn.functional as F
        out, _ = model(x)                                                  # (B, T, 1)
        scored = torch.isfinite(y)  # NaN targets are not scored (tasks that are judged only at the end)
        return F.mse_loss(out[scored], y[scored])

    def readout(self, data, quantities, logits, x_in, target, mask, top_k, common):
        import pandas as pd

        from ..trace_data import Trace
        predicted = data.denorm(logits[:, 0].numpy())
        actual = data.denorm(target[:, 0].numpy())
        preds = pd.DataFrame({"step": np.arange(len(x_in)), "predicted": predicted, "actual": actual})
        return Trace("series", quantities, list(data.denorm(x_in[:, 0].numpy())), list(actual), preds, **common)

    def window_inputs(self, data, x) -> list:
        return [list(data.denorm(row[:, 0].numpy())) for row in x]

    def prediction_values(self, trace):
        return trace.predictions["predicted"].to_numpy(), "predicted next value"

    # --- model files ----------------------------------------------------------------------------------------------
    def file_info(self, data) -> dict:
        return {"kind": "series", "name": data.name[:NAME_CHARS], "unit": data.unit[:UNIT_CHARS],
                "mean": data.mean, "std": data.std, "sample": [float(v) for v in data.values[-SAMPLE_POINTS:]]}

    def max_info_bytes(self) -> int:
        return SAMPLE_POINTS * BYTES_PER_NUMBER + (NAME_CHARS + UNIT_CHARS) * BYTES_PER_CHAR + 4 * BYTES_PER_NUMBER

    def open_data(self, info: dict, model_cfg, train_cfg):
        from .series_data import SeriesData
        from ..filecheck import number_field, text_field
        if model_cfg.input_size != 1:
            raise ModelFileError(f"The file's model reads {model_cfg.input_size} numbers per step; a series here "
                                 "has one.")
        sample = info.get("sample")
        if not (isinstance(sample, list) and 2 <= len(sample) <= SAMPLE_POINTS
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sample)):
            raise ModelFileError("The file's series sample is malformed.")
        mean, std = number_field(info, "mean"), number_field(info, "std")
        if not std > 0:
            raise ModelFileError("The file's normalisation has a spread (std) that is not positive.")
        with np.errstate(all="ignore"):
            # the model's outputs are in normalised units: their inverse must stay finite for any plausible output
            if not math.isfinite(abs(mean) + 1e6 * std):
                raise ModelFileError("The file's normalisation would turn the model's outputs into infinite numbers.")
            normed = (np.asarray(sample, dtype=float) - mean) / std
        if not np.isfinite(normed).all():
            raise ModelFileError("The file's normalisation turns its own data sample into infinite numbers.")
        name = text_field(info, "name", NAME_CHARS, "loaded model")
        try:
            return SeriesData(np.asarray(sample, dtype=float), name=f"{name} (from the model file)",
                              unit=text_field(info, "unit", UNIT_CHARS), norm=(mean, std))
        except DataError as e:
            raise ModelFileError(f"The file's data is not usable: {e}") from None

    def preset_data(self, preset: str):
        from .series_data import load_series_preset
        return load_series_preset(preset)

    def presets(self) -> dict:
        from .series_data import SERIES_PRESETS
        return {key: label for key, (label, _) in SERIES_PRESETS.items()}


KIND = SeriesKind()
