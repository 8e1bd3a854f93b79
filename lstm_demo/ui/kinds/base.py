"""What every UI kind shares (the protocol is listed in lstm_demo/ui/kinds/__init__.py)."""
from __future__ import annotations

import time

import streamlit as st

from ...conclusions import measured
from ..common import state
from ..widgets import settings_ui


FILE = "__file__"  # the data that came inside an opened model file, as a data choice


def file_options(choice: str) -> list:
    """[FILE] when the opened model file's data belongs to this Train-page choice, else []."""
    from . import UI_KINDS
    data = state().file_data
    return [FILE] if data is not None and UI_KINDS[data.kind].choice == choice else []


def file_label() -> str:
    return f"Data saved in the model file: {state().file_data.name}"


def file_source():
    """The opened model file's data as a data choice: (kind, identity, build)."""
    s = state()
    return s.file_data.kind, FILE + s.file_sha, lambda: s.file_data


def timed(key: tuple, value):
    """A preview or plot computed now from what `key` says."""
    from ..state import Timed
    return Timed(key, value, time.monotonic())


class UIKind:
    choice = ""          # the Train page's "Kind of data" option
    label = ""           # that option's words
    kinds: tuple = ()    # the model kinds it shows
    saturation = False   # the Train page draws Karpathy's gate-saturation plot for it
    panels_run_model = False  # its Step-through panels (what if, forecast, exports) run the model on its sequence
    items_text = "items"

    def settings(self, data) -> list:
        """The widgets of this kind's settings (ui/widgets.Setting), for this data."""
        return []

    def heading(self, data) -> None:
        """Words above the settings (what the model is)."""

    def settings_ui(self, data, training: bool):
        self.heading(data)
        return settings_ui(data.kind, self.settings(data), training)

    def describe(self, ex) -> str:
        return f"Model: {ex.spec.describe(ex.model_cfg)}, trained {ex.weights_step:,} steps on {ex.data.name}."

    def row(self, cfg) -> dict:
        """This kind's columns of "Runs so far": cell, task, layers, units."""
        return {"cell": "", "task": "", "layers": 1, "units": None}

    def short(self, cfg) -> str:
        """The model in a few words (the notice of an opened file)."""
        return self.row(cfg)["cell"]

    def record(self, ex, view) -> dict:
        acc = ex.validation_accuracy()
        return {"data": ex.data.name, **self.row(ex.model_cfg), "parameters": sum(p.numel() for p in
                                                                                 ex.model.parameters()),
                "steps": view.step, "validation loss": measured(view.val_history[-1][1] if view.val_history else None),
                "validation accuracy": measured(acc)}  # None: an empty cell, not "nan"

    def link(self, ex, model: str):
        """The address bar of this kind's Step-through view of a bundled model."""
        return lambda: state().to_query("step", model=model)

    def read_link(self, link, seq_state) -> list:
        """Put a link's sequence into the state; -> notices for the parameters this kind cannot use."""
        notes = []
        if link.text is not None:
            notes.append(f"This model does not read typed text; the link's text={link.text[:30]!r} was ignored.")
        if link.seq is not None:
            notes.append(f"This model has no validation sequences to pick; seq={link.seq} was ignored.")
        return notes

    def data_summary(self, data) -> None:
        pass

    def warm_preview(self, origin: str, loaded) -> None:
        """Compute the Train page's opening preview of a bundled model before anyone asks (if the kind has one
        worth it)."""

    def picture(self, data):
        """What the data looks like on the Family page: ("text", str) or ("image", array[, what it shows])."""
        return "text", getattr(data, "name", "")

    def kept_note(self) -> str:
        data = state().data
        return f" Still using the previous data: {data.name}." if data is not None else ""

    def error(self, message: str) -> None:
        st.error(message + self.kept_note())
