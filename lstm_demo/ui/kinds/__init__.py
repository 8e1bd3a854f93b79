"""The UI of each model kind, one module per kind (as lstm_demo/kinds/ for the core), and one registry.

A UI kind is an object with:

    choice, label       the Train page's "Kind of data" option it belongs to, and that option's words
    kinds               the model kinds (lstm_demo/kinds/) it shows
    data_ui(locked)     -> (kind, identity, build) of the chosen data, or None (a bad choice says why)
    data_summary(data)  what the data looks like
    settings_ui(data, training) -> (model config, train config): the widgets, drawn from the UI state
    preview(ex, due)    what the model does now (sampled text, a forecast, predicted frames, translations …)
    record(ex, view)    a row of "Runs so far"
    describe(ex)        one line about the model on Step through
    step_page(ex)       everything Step through shows of this kind's model
    scene_view(view, query, compact, ex)   a guided scene's views
    link(ex) / read_link(link, ex)         the address bar of its Step-through view, and reading one back
    picture(data)       what its data looks like on the Family page
    saturation          whether the Train page draws the gate-saturation plot for it
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping

_MODULES = {  # model kind -> module in this package
    "text": "text",
    "series": "series",
    "frames": "vision",
    "digits": "vision",
    "translation": "translation",
    "captions": "captions",
    "melody": "melody",
}


class UIRegistry(Mapping):
    def __init__(self, modules: dict):
        self._modules = modules

    def __getitem__(self, name):
        return importlib.import_module(f"{__name__}.{self._modules[name]}").UI

    def __iter__(self):
        return iter(self._modules)

    def __len__(self):
        return len(self._modules)

    def choices(self) -> dict:
        """The Train page's "Kind of data" options, in order: choice -> UI kind."""
        out = {}
        for name in self._modules:
            out.setdefault(self[name].choice, self[name])
        return out


UI_KINDS = UIRegistry(_MODULES)
