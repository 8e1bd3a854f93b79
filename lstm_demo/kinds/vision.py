"""What the two kinds that see share (kinds/frames.py: the ConvLSTM; kinds/digits.py: the CNN-LSTM): image
sequences made from a recipe (data/frames.py), batches of fresh sequences, a validation sequence to step through."""
from __future__ import annotations

from ..config import DataError, ModelFileError
from .base import Kind, held_out_choice


class FrameBatches:
    """Batches of fresh image sequences (FramesData.train_batch) and the fixed validation sequences. Next-frame task:
    x = frames 0 … T-2, y = frames 1 … T-1; digits task: x = all frames, y = the label."""

    def __init__(self, data, batch_size: int, seed: int):
        import torch
        self.data, self.batch_size = data, batch_size
        self.gen = torch.Generator().manual_seed(seed)
        labels = data.val_labels
        self.val_x, self.val_y = self._pair(torch.from_numpy(data.val_frames),
                                            torch.from_numpy(labels) if labels is not None else None)

    @staticmethod
    def _pair(frames, labels):
        return (frames, labels) if labels is not None else (frames[:, :-1], frames[:, 1:])

    def next(self):
        import torch
        frames, labels = self.data.train_batch(self.batch_size, int(torch.randint(2**31 - 1, (1,), generator=self.gen)))
        return self._pair(torch.from_numpy(frames), torch.from_numpy(labels) if labels is not None else None)

    @property
    def items_per_batch(self) -> int:
        return self.batch_size * self.data.steps


class VisionKind(Kind):
    """Image sequences: the recipe is the data; Step through traces one validation sequence (choice: its index)."""
    items = "frames/s"
    strip = "frames"
    panels = ()

    def batches(self, data, model_cfg, train_cfg, seed: int):
        return FrameBatches(data, train_cfg.batch_size, seed)

    def open_data(self, info: dict, model_cfg, train_cfg):
        from .frames_data import FramesData
        recipe = info.get("recipe")
        if info.get("kind") != self.name or not isinstance(recipe, dict) or \
                set(recipe) != {"task", "steps", "frame", "seed"}:
            raise ModelFileError("The file's image-sequence recipe is malformed.")
        try:
            data = FramesData(**recipe)
        except (DataError, TypeError) as e:
            raise ModelFileError(f"The file's image sequences are not allowed here: {str(e)[:300]}") from None
        if data.kind != self.name:
            raise ModelFileError("The file's image sequences do not fit its model (task).")
        return data

    def preset_data(self, preset: str):
        from .frames_data import FramesData
        return FramesData(preset)

    def presets(self) -> dict:
        from .frames_data import FRAME_TASKS
        return {key: label for key, (label, kind) in FRAME_TASKS.items() if kind == self.name}

    def cli_choice(self, loaded, text=None, start=None, length=None, seq=None):
        """What `python -m lstm_demo.cli trace` steps through: a validation sequence (--seq, default 0)."""
        return held_out_choice(text, start, length, seq, len(loaded.data.val_frames), "an image-sequence model",
                               "validation sequences")

    def scene_trace(self, scene, model, data, check: bool = True):
        """A validation sequence, at `offset` steps from its end."""
        import torch
        with torch.no_grad():
            trace = self.trace(model, data, scene.frames)
        return trace, max(0, trace.n_steps - 1 - scene.offset)

    def scene_views(self, scene, trace, facts: dict) -> dict:
        return self.views(trace, facts["unit"])

    def check_frame(self, data, frame: int) -> None:
        if data.frame != frame:
            raise DataError(f"the model reads {frame}×{frame} frames but the image sequences have "
                            f"{data.frame}×{data.frame} frames")
