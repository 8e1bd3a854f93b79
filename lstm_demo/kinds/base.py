"""The protocol every model kind answers (the list is in lstm_demo/kinds/__init__.py), with the defaults most kinds
share. No torch at import time: the first screen reads a kind's view facts before torch is loaded."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..config import ConfigError, DataError, ModelFileError

IGNORE = -100  # a target position that is not scored (cross_entropy's ignore_index)
# Worst case per character in a model file's header: a control character becomes \\u0001 in the inner JSON string
# (6 bytes), and its backslash is escaped again when that string sits in the header's JSON (7 bytes). Anything else
# costs at most 4 bytes (UTF-8); numbers at most 26 (a float's repr and a separator).
BYTES_PER_CHAR, BYTES_PER_NUMBER = 7, 26
PANELS = ("heatmaps", "units", "finder", "training", "whatif", "forecast", "export")  # Step through's "More views"


def rows(x) -> int:
    """Items in a batch (a tensor, or a tuple of tensors whose first is the batch)."""
    return len(x[0]) if isinstance(x, tuple) else len(x)


def take(x, start: int, n: int):
    """Items start … start + n of a batch (a tensor, or a tuple of tensors)."""
    return tuple(t[start : start + n] for t in x) if isinstance(x, tuple) else x[start : start + n]


@dataclass(frozen=True)
class Bundle:
    """A model that ships with the app (lstm_demo/bundled/), trained by `python -m lstm_demo.cli bundle`."""
    key: str
    kind: str            # the model kind, or "race": one model of a long-memory race (memory.py)
    preset: str          # the data preset, or the long-memory task (race)
    label: str
    model: tuple = ()    # (field, value) pairs of the model config that differ from the kind's preset
    train: tuple = ()    # likewise for the train config (e.g. ("steps", 2000))
    checkpoint_bytes: int | None = None  # None: the store's budget for bundles (a larger model keeps fewer)

    @property
    def cell(self) -> str:
        return dict(self.model).get("cell", "lstm")

    @property
    def from_race(self) -> bool:
        return self.kind == "race"


def held_out_choice(text, start, length, seq, n: int, what: str, items: str) -> int:
    """What `python -m lstm_demo.cli trace` steps through for a kind whose choice is one of its n held-out items
    (--seq, default 0): text, start and length belong to sequence kinds and are refused."""
    if text is not None or start is not None or length is not None:
        raise ConfigError(f"{what} steps through one of its {items}: use --seq N")
    seq = 0 if seq is None else seq
    if not 0 <= seq < n:
        raise ConfigError(f"--seq must be between 0 and {n - 1} (the {items})")
    return seq


class Kind:
    """One kind of model and data. Subclasses set the facts and implement the methods; each kind module exports one
    instance as KIND."""
    name = ""                 # the data's, the trace's and the registry's name for it
    family = ""               # the model file's "family" field
    config_type = None        # the model config class (frozen dataclass with validate())
    label = ""                # what the kind is, in a few words
    loss_label = "loss"       # the loss chart's axis title
    items = "items/s"         # what the training throughput counts
    accuracy_label = "validation accuracy"  # what accuracy() measures
    preview_words = "predictions"          # what the Train page's preview of it shows
    strip = "text"            # the first row of Step through: "text" (coloured characters), "series", or the kind's
                              # own (its step_views draws it)
    panels = ("heatmaps", "units", "finder", "training", "whatif", "export")  # the "More views" it offers
    hypotheses: dict = {}     # the unit finder's hypotheses: key -> (label, signal(inputs) -> (T,) array)
    bundles: tuple = ()       # the models of this kind that ship with the app (Bundle)
    family_entries: tuple = ()  # the Family page's entries: dicts of name, what, data, bundle

    @property
    def colour_label(self) -> str | None:
        """The words of Step through's choice of what colours the strip, or None: the strip has no colours."""
        return "Colour the text by" if self.strip == "text" else None

    def guesses(self, trace) -> str | None:
        """What the top guesses at a step are guesses of ("the next character"), or None: no such chart."""
        return None

    # --- configs ----------------------------------------------------------------------------------------------
    def accepts(self, model_cfg) -> bool:
        """Is this config one of this kind's? (Kinds sharing a config type tell theirs apart here.)"""
        return True

    def defaults(self, data):
        """(model config, train config): the preset for this data."""
        raise NotImplementedError

    def check(self, model_cfg, train_cfg, data) -> None:
        """Facts that involve more than one field or the data (each config checks its own fields in validate()).
        Raises ConfigError with a message a visitor understands."""

    def checked(self, model_cfg, train_cfg, data, budget: bool = True):
        """Both configs validated, checked against the data and (to train) against the budget (budget.py) ->
        (model_cfg, train_cfg); a ConfigError that says what is wrong otherwise. A model is opened and stepped
        through without the budget (a trace reads one sequence); training it must fit."""
        from ..budget import check as check_budget
        if not isinstance(model_cfg, self.config_type) or not self.accepts(model_cfg):
            raise ConfigError(f"that model config is not a {self.label} model's")
        model_cfg, train_cfg = model_cfg.validate(), train_cfg.validate()
        try:
            self.check(model_cfg, train_cfg, data)
        except DataError as e:
            raise ConfigError(str(e)) from None
        if budget:
            check_budget(self.cost(model_cfg, train_cfg, data), f"Training this {self.label} model with a batch of "
                         f"{train_cfg.batch_size}", self.cheaper)
        return model_cfg, train_cfg

    cheaper = "Choose a smaller batch or a smaller model."  # what makes a step cheaper, in the kind's words

    def cost(self, model_cfg, train_cfg, data):
        """What one training step costs (budget.Cost), estimated from the settings before anything is built."""
        raise NotImplementedError

    def parameters(self, model_cfg) -> int:
        """The model's parameter count, without allocating its weights (the meta device)."""
        import torch
        with torch.device("meta"):
            return sum(p.numel() for p in self.build(model_cfg).parameters())

    def adapt(self, model_cfg, train_cfg, data):
        """The configs fitted to this data (its vocabulary, frame size, a window it has room for) -> (model_cfg,
        train_cfg, a sentence saying what changed, or None)."""
        return model_cfg, train_cfg, None

    def family_name(self, model_cfg) -> str:
        """What a saved file's name calls the model ("lstm", "convlstm" …)."""
        return self.family

    def with_overrides(self, data, model: dict, train: dict):
        """The preset with some fields changed (a bundle's recipe): (model config, train config)."""
        model_cfg, train_cfg = self.defaults(data)
        return replace(model_cfg, **model), replace(train_cfg, **train)

    # --- model and training -------------------------------------------------------------------------------------
    def build(self, model_cfg):
        raise NotImplementedError

    def batches(self, data, model_cfg, train_cfg, seed: int):
        raise NotImplementedError

    def loss(self, model, x, y):
        raise NotImplementedError

    def accuracy(self, model, data, val_x, val_y) -> float | None:
        return None

    def scored(self, x, y) -> int:
        """How many targets a batch scores (a chunk's weight in a mean over chunks): by default its items."""
        return rows(x)

    def val_loss(self, model, val_x, val_y, chunk: int | None = None, stop=None) -> float | None:
        """The loss over a validation batch without gradients, read `chunk` items at a time (all at once when they
        fit), each chunk weighted by the targets it scores: the same mean, within the budget. None when stop()
        is true between chunks."""
        import torch
        with torch.no_grad():
            model.eval()
            n = rows(val_x)
            if chunk is None or chunk >= n:
                return self.loss(model, val_x, val_y).item()
            total = weight = 0.0
            for start in range(0, n, chunk):
                if stop is not None and stop():
                    return None
                x, y = take(val_x, start, chunk), take(val_y, start, chunk)
                w = float(self.scored(x, y))
                if w:
                    total += self.loss(model, x, y).item() * w
                    weight += w
            return total / weight

    def outputs_in_chunks(self, model, x, chunk: int | None = None):
        """model(x)'s outputs without gradients, `chunk` items at a time (previews of many validation items)."""
        import torch
        with torch.no_grad():
            model.eval()
            n = rows(x)
            if chunk is None or chunk >= n:
                return model(x)[0]
            return torch.cat([model(take(x, start, chunk))[0] for start in range(0, n, chunk)])

    def describe(self, model_cfg) -> str:
        return self.label

    # --- data in a model file -----------------------------------------------------------------------------------
    def file_info(self, data) -> dict:
        """What a model file keeps of the data (JSON), enough for open_data to rebuild it."""
        return {"kind": self.name, "recipe": data.recipe}

    def max_info_bytes(self) -> int:
        """The most bytes file_info can take in a file's header (sizes the header's cap): a recipe is small."""
        return 2048

    def open_data(self, info: dict, model_cfg, train_cfg):
        """The data a model file describes, checked against its model; ModelFileError otherwise."""
        raise NotImplementedError

    def open_checked(self, info: dict, model_cfg, train_cfg):
        """open_data, then the kind's cross-field facts: a file that could not be trained here is refused."""
        data = self.open_data(info, model_cfg, train_cfg)
        try:
            self.check(model_cfg, train_cfg, data)
        except (ConfigError, DataError) as e:
            raise ModelFileError(f"The file's model does not fit its data: {str(e)[:300]}") from None
        return data

    def preset_data(self, preset: str):
        raise NotImplementedError

    # --- the step-through views and guided scenes -------------------------------------------------------------
    def captions(self, trace, unit_of: str = "") -> list:
        """One sentence per step: what goes in and what the model should answer."""
        return [f"Step {t}" for t in range(trace.n_steps)]

    def no_guess(self, trace, step: int) -> str:
        """What the top guesses say at a step where the model gives none."""
        return f"No guess at step {step}"

    def step_views(self, trace, layer: int, direction: int, unit: int, colour: str, unit_of: str = "",
                   presenter: bool = False) -> dict:
        """The views above "More views" for a trace of this kind (step_charts.main_views with this kind's facts)."""
        from ..step_charts import main_views
        return main_views(trace, layer, direction, unit, colour, self.strip, self.captions(trace, unit_of),
                          self.guesses(trace), unit_of, presenter, no_guess=lambda t: self.no_guess(trace, t))

    def scene_trace(self, scene, model, data, check: bool = True):
        """(trace, step) a guided scene opens on."""
        raise NotImplementedError

    def scene_facts(self, scene, trace, step: int) -> dict:
        """What a scene's words quote that only this kind can measure (it overrides the generic unit facts)."""
        return {}

    def scene_views(self, scene, trace, facts: dict) -> dict:
        """The charts a scene opens on (its unit, colour, layer 1), keyed as the step view memoises them."""
        from ..step_charts import heatmap_views
        from ..view_store import heat_key, main_key
        colour = scene.colour if scene.colour in trace.names else "hidden_state"
        d = scene.direction
        return {main_key(0, d, facts["unit"], colour): self.step_views(trace, 0, d, facts["unit"], colour),
                heat_key(0, d): heatmap_views(trace, 0, d)}
