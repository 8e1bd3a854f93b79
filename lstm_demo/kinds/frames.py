"""The ConvLSTM kind (Shi et al. 2015): moving shapes or moving handwritten digits in, the next frame out. Every
gate is a convolution, so gates and states are maps; a "unit" of a map is a channel at a pixel. The model and the
cell's equations are in convlstm.py; the data in data/frames.py."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..config import ConfigError, TrainConfig
from .base import Bundle
from .vision import VisionKind


class FramesKind(VisionKind):
    name = "frames"
    family = "convlstm"
    label = "ConvLSTM"
    loss_label = "mean squared error (pixels)"
    bundles = (Bundle("shapes", "frames", "shapes", "ConvLSTM on moving shapes (next frame)"),
               Bundle("moving_digits", "frames", "moving_digits", "ConvLSTM on moving handwritten digits (next frame)"))
    family_entries = (
        {"name": "ConvLSTM", "bundle": "shapes",
         "what": "Every gate is a convolution, so gates, cell state and hidden state are maps: the forget gate "
                 "decides, pixel by pixel, what of a moving shape to keep. It predicts the next frame.",
         "data": "16×16 frames of squares, discs and crosses that move and bounce."},
    )

    @property
    def config_type(self):
        from .convlstm import ConvLSTMConfig
        return ConvLSTMConfig

    def defaults(self, data):
        # a visible lesson within a minute on one core: 2× better than "copy the last frame" (bench/bench_convlstm.py)
        side = data.frame
        return (self.config_type(in_channels=1, hidden_channels=8, kernel=3, height=side, width=side),
                TrainConfig(batch_size=16, lr=1e-2, steps=1200, seed=0, eval_every=1.0))

    def adapt(self, model_cfg, train_cfg, data):
        return replace(model_cfg, height=data.frame, width=data.frame), train_cfg, None

    def check(self, model_cfg, train_cfg, data) -> None:
        if data.kind != self.name:
            raise ConfigError("a ConvLSTM predicts the next frame; these sequences ask another question")
        if (model_cfg.height, model_cfg.width) != (data.frame, data.frame) or model_cfg.in_channels != 1:
            raise ConfigError(f"the model reads {model_cfg.in_channels}-channel {model_cfg.height}×{model_cfg.width}"
                              f" frames but the image sequences have 1-channel {data.frame}×{data.frame} frames")

    cheaper = "Choose a smaller batch, fewer or smaller frames, fewer hidden channels or a smaller kernel."

    def cost(self, model_cfg, train_cfg, data):
        from ..budget import Cost
        c = model_cfg
        hw, C, cin, T = c.height * c.width, c.hidden_channels, c.in_channels, data.steps - 1
        forward = 2 * 4 * C * (cin + C) * c.kernel ** 2 * hw + 2 * C * cin * hw + 12 * C * hw  # gates, head, cell
        # [x, h], pre-activations, gates, c, tanh c, h, and what oneDNN's convolutions keep for the backward pass
        # (about twice the maps themselves), and their unfolded inputs, of which about half stays allocated from
        # step to step (measured, bench/bench_budget.py: a 7×7 kernel reads 49 × [x, h] per pixel)
        unfolded = (cin + C) * c.kernel ** 2 * hw // 2
        per_step = 2 * (cin + 12 * C) * hw + unfolded
        items = train_cfg.batch_size * T
        return Cost(self.parameters(c), items * per_step, 3.0 * items * forward, T * (unfolded + 12 * C * hw))

    def build(self, model_cfg):
        from .convlstm import ConvLSTM
        return ConvLSTM(model_cfg)

    def loss(self, model, x, y):
        import torch.nn.functional as F
        out, _ = model(x)                    # next-frame prediction: x is frames 0 … T-2, y frames 1 … T-1
        return F.mse_loss(out, y)

    def trace(self, model, data, choice, **kwargs):
        """choice: the index of a validation sequence."""
        from .convlstm import trace_convlstm
        frames, _ = data.sequence(choice)
        return trace_convlstm(model, frames)

    def describe(self, model_cfg) -> str:
        return (f"ConvLSTM, {model_cfg.hidden_channels} hidden channels, {model_cfg.kernel}×{model_cfg.kernel} "
                f"convolutions" + (", peepholes" if model_cfg.peephole else ""))

    def max_config(self):
        from .convlstm import MAX_CHANNELS, MAX_FRAME, MAX_KERNEL
        return self.config_type(in_channels=1, hidden_channels=MAX_CHANNELS, kernel=MAX_KERNEL, height=MAX_FRAME,
                              width=MAX_FRAME, peephole=True)

    # --- scenes and views -----------------------------------------------------------------------------------------
    def scene_facts(self, scene, trace, step: int) -> dict:
        """The channel whose forget gate tells the shape from the background most clearly at this step, the pixel
        on the shape where it forgets most, and how much better than "copy the last frame" the model is."""
        C, H, W = trace.unit_shape
        f = trace.quantities["forget_gate"][0, 0, step]                  # (C, H, W)
        on = trace.extras["frames"][step] > 0.5
        contrast = [abs(float(f[ch][~on].mean() - f[ch][on].mean())) for ch in range(C)]
        channel = int(np.argmax(contrast))
        pixel = int(np.argmin(np.where(on, f[channel], np.inf)))
        from ..conclusions import compare_errors
        f_on, f_off = float(f[channel][on].mean()), float(f[channel][~on].mean())
        mse, copy = float(np.nansum(trace.predictions["mse"])), float(np.nansum(trace.predictions["copy_mse"]))
        differs = abs(f_on - f_off) >= 0.2                                   # a visible difference on the map
        return {"step": step, "unit": channel * H * W + pixel, "channel": channel, "f_on": f_on, "f_off": f_off,
                "ratio": copy / mse if mse > 0 else float("inf"),
                "by_pixel": (" — the cell decides pixel by pixel what of the moving shape to keep" if differs else
                             " — about the same on and off the shape at this step"),
                "vs_copy": compare_errors(mse, copy).words}

    def default_unit(self, trace) -> int:
        """The channel and pixel whose forget gate changes most over the sequence (where the shapes pass)."""
        return int(np.argmax(trace.get("forget_gate").std(axis=0)))

    def unit_label(self, trace, unit: int) -> str:
        from .vision_views import split_unit
        ch, y, x = split_unit(unit, trace.unit_shape)
        return f"ch {ch}, pixel ({y}, {x})"

    def views(self, trace, unit: int) -> dict:
        from .vision_views import convlstm_views
        return convlstm_views(trace, unit, self.unit_label(trace, unit))


KIND = FramesKind()
