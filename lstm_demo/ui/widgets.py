"""The Train page's widgets, drawn from the UI state (TrainChoices) and writing the visitor's choice back: the state
is the one source of truth, so opening a model file is one assignment and the widgets follow it on the next run.

A kind's settings are a list of `Setting`s, one per config field it lets the visitor choose; a field a kind does
not offer keeps the value of the config in the state (config -> widgets -> config loses nothing). The options of
a setting are its presets plus the current value, so a file's own sizes show as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from .common import bound, state


@dataclass(frozen=True)
class Setting:
    field: str                 # the config field it sets
    label: str
    key: str                   # the widget's key, after the kind's name ("hidden" -> "text_hidden")
    widget: str = "slider"     # "slider" (a select slider), "number", "check", "radio", "select"
    options: tuple = ()        # the presets offered (the current value is always added)
    on: str = "model"          # which config it sets: "model" or "train"
    live: bool = False         # may change while training (the learning rate)
    help: str | None = None
    names: dict | None = None  # option -> what the widget shows
    to_widget: object = None   # config value -> widget value (e.g. grad_clip 1.0 -> the box ticked)
    to_config: object = None   # widget value -> config value
    when: object = None        # (model_cfg, train_cfg) -> may it be changed now? (else shown greyed)
    lo: int = 0                # number inputs: the range and step
    hi: int = 0
    step: int = 1


def pick(widget, label: str, key: str, default, **kwargs):
    """A data widget (kind, source, task, length …) whose value the state remembers across pages and runs."""
    picks = state().train.picks
    value = picks.get(key, default)
    if "options" in kwargs and value not in kwargs["options"]:
        value = default
    return bound(widget, label, key, value, lambda v: picks.__setitem__(key, v), **kwargs)


def _options(setting: Setting, value) -> list:
    return sorted(set(setting.options) | {value}) if setting.widget == "slider" else list(setting.options)


def settings_ui(kind: str, rows: list, training: bool, per_row: int = 4):
    """Draw a kind's settings (rows of Settings, at most per_row each) from the state's configs; -> (model config,
    train config) as the visitor left them."""
    choices = state().train
    for row in rows:
        cols = st.columns(per_row)
        for col, setting in zip(cols, row):
            model_cfg, train_cfg = choices.settings[kind]
            cfg = model_cfg if setting.on == "model" else train_cfg
            value = getattr(cfg, setting.field)
            shown = setting.to_widget(value) if setting.to_widget else value
            enabled = setting.when is None or setting.when(model_cfg, train_cfg)
            _draw(col, kind, setting, shown, training and not setting.live or not enabled)
    return choices.settings[kind]


def _store(kind: str, setting: Setting, shown) -> None:
    choices = state().train
    model_cfg, train_cfg = choices.settings[kind]
    value = setting.to_config(shown) if setting.to_config else shown
    if setting.on == "model":
        model_cfg = replace(model_cfg, **{setting.field: value})
    else:
        train_cfg = replace(train_cfg, **{setting.field: value})
    choices.settings[kind] = (model_cfg, train_cfg)


def _draw(col, kind: str, setting: Setting, shown, disabled: bool) -> None:
    key = f"{kind}_{setting.key}"
    store = lambda v: _store(kind, setting, v)
    common = dict(disabled=disabled, help=setting.help)
    if setting.widget == "slider":
        bound(col.select_slider, setting.label, key, shown, store, options=_options(setting, shown),
              format_func=lambda v: (setting.names or {}).get(v, _plain(v)), **common)
    elif setting.widget == "number":
        bound(col.number_input, setting.label, key, shown, lambda v: store(int(v)), min_value=setting.lo,
              max_value=max(setting.hi, shown), step=setting.step, **common)
    elif setting.widget == "check":
        bound(col.checkbox, setting.label, key, bool(shown), store, **common)
    elif setting.widget in ("radio", "select"):
        widget = col.radio if setting.widget == "radio" else col.selectbox
        options = list(setting.options) if shown in setting.options else list(setting.options) + [shown]
        extra = {"horizontal": True} if setting.widget == "radio" else {}
        bound(widget, setting.label, key, shown, store, options=options,
              format_func=lambda v: (setting.names or {}).get(v, str(v)), **extra, **common)
    else:
        raise ValueError(f"no widget {setting.widget!r}")


def _plain(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# settings every kind's training has
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2)


def lr_setting(options=LEARNING_RATES) -> Setting:
    return Setting("lr", "Learning rate (can change while training)", "lr", options=tuple(options), on="train",
                   live=True)


def steps_setting() -> Setting:
    from ..config import LIMITS
    return Setting("steps", "Steps per run", "steps", widget="number", on="train", lo=10, hi=LIMITS.max_steps,
                   step=100)


def seed_setting() -> Setting:
    return Setting("seed", "Seed", "seed", widget="number", on="train", lo=0, hi=2**31 - 1)


def batch_setting(options) -> Setting:
    return Setting("batch_size", "Batch size", "batch", options=tuple(options), on="train")
