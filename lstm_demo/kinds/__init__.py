"""Model kinds: each kind of model and data is one module here, and `KINDS` is the one registry.

A kind answers the small protocol of `kinds.base.Kind`; everything outside this package (and `lstm_demo/ui/kinds/`)
asks the registry instead of branching on a kind's name. A kind's module may name its own model and data modules
(e.g. kinds/translation.py uses kinds/seq2seq.py and kinds/translation_data.py); nothing else names them.

    name         the kind of data, of the trace and of the registry key      "text", "frames", …
    family       what a model file calls the model family                    "sequence", "convlstm", …
    config_type  the model config: a frozen dataclass with validate()

    defaults(data)                            -> (model config, train config): the preset for this data
    check(model_cfg, train_cfg, data)         cross-field facts (vocabulary vs data, classes, a held-out split)
                                              -> ConfigError; called for configs from widgets, files and the CLI
    build(model_cfg)                          -> nn.Module (models.build_model seeds it)
    batches(data, model_cfg, train_cfg, seed) -> Batches: next() -> (x, y); val_x, val_y; items_per_batch
    loss(model, x, y)                         -> scalar tensor; train.Trainer is the one loop around it
    accuracy(model, data, val_x, val_y)       -> float or None: the metric the kind reports beside its loss
    trace(model, data, choice)                -> Trace; choice is what the kind steps through (a sequence and
                                                 its hidden positions, a validation index, a source …)
    file_info(data) / open_data(info, model_cfg, train_cfg)
                                              what a model file keeps of the data, and reading it back (checked:
                                                 ModelFileError)
    preset_data(preset)                       -> data, for bundles and the command line
    describe(model_cfg)                       -> one line about the model
    cost(model_cfg, train_cfg, data)          -> Cost: estimated memory and time of a step, a preview and an open
    scene(scene, model, data)                 -> (trace, facts, step) for a guided scene on a bundled model
    views(trace, facts) / facts for views     loss_label, items, strip, guesses, panels, hypotheses

Add a kind: write kinds/<name>.py exporting KIND (a Kind subclass instance), its UI in ui/kinds/<name>.py, and one
line in each registry (`_MODULES` here, `ui.kinds._MODULES`). CONTRIBUTING.md ("Add a model kind") has the checklist.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping

_MODULES = {  # kind name -> module in this package (imported on first use: the first screen needs none of them)
    "text": "text",
    "series": "series",
    "frames": "frames",
    "digits": "digits",
    "translation": "translation",
    "captions": "captions",
    "melody": "melody",
}


class Registry(Mapping):
    """name -> kind object, importing a kind's module the first time it is asked for."""

    def __init__(self, modules: dict):
        self._modules = modules

    def __getitem__(self, name):
        if name not in self._modules:
            raise KeyError(f"no model kind {name!r}; the kinds are {', '.join(self._modules)}")
        return importlib.import_module(f"{__name__}.{self._modules[name]}").KIND

    def __iter__(self):
        return iter(self._modules)

    def __len__(self):
        return len(self._modules)

    def for_config(self, cfg):
        """The kind that builds a model from this config (text and series share one config type: its `kind` field
        says which)."""
        for kind in self.values():
            if isinstance(cfg, kind.config_type) and kind.accepts(cfg):
                return kind
        raise TypeError(f"not a model config: {type(cfg).__name__}")

    def for_file(self, family: str, data_kind):
        """The kind a model file's family and data belong to, or None."""
        for kind in self.values():
            if kind.family == family and kind.name == data_kind:
                return kind
        return None


KINDS = Registry(_MODULES)
