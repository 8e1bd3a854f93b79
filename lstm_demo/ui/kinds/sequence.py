"""What the text and series UIs share (ui/kinds/text.py, ui/kinds/series.py): the recurrent model's settings, a
validation sample or the visitor's own sequence to step through, the training-step slider, the step-following
views, and a bundled model's previews computed once per process."""
from __future__ import annotations

import streamlit as st

from ...config import LIMITS, DataError
from ...kinds.sequence import CELL_TYPES, SEQ_LEN_CHOICES, task_words
from ...names import CELL_NAMES
from .. import scrub, step
from ..common import state
from ..widgets import Setting, batch_setting, lr_setting, seed_setting, steps_setting
from .base import UIKind

OPEN_LENGTH = 128   # steps of a validation sample Step through opens on
OPEN_POINTS = 129   # a series: the last points it opens on


CELL = Setting("cell", "Cell type", "cell", widget="select", options=CELL_TYPES, names=CELL_NAMES,
               help="LSTM: gates and a cell state. GRU: two gates, no separate cell state. Plain RNN: one tanh, no "
                    "gates — it forgets fast.")


def size_and_training() -> list:
    """Rows of the model's size and the training settings every sequence model has."""
    return [
        [Setting("hidden_size", "Hidden units", "hidden", options=(4, 8, 16, 32, 64, 96, 128, 192, 256)),
         Setting("num_layers", "Layers", "layers", options=(1, 2, 3)),
         Setting("seq_len", "Sequence length (steps per window)", "seq_len", options=SEQ_LEN_CHOICES, on="train"),
         batch_setting((1, 4, 8, 16, 32, 64, 128))],
        [lr_setting(), steps_setting(), seed_setting(),
         Setting("grad_clip", "Gradient clipping (norm 1.0)", "clip", widget="check", on="train",
                 to_widget=lambda v: v > 0, to_config=lambda on: 1.0 if on else 0.0,
                 help="Scales down a too-large gradient before the step: keeps training stable.")],
    ]


@st.cache_resource(max_entries=64, show_spinner=False)
def shared_preview(origin: str, model_id: int, args: tuple, _compute):
    return _compute()


def once(origin: str, model, shared: bool, args: tuple, compute):
    """A bundled model's preview (sampled text, filled-in blanks, forecast) is the same for every visitor with the
    same settings: computed once per process, not once per visitor (sampling 300 characters was ~1.2 s of every
    Train page visit under py-spy) — while the model is the process-wide read-only copy (shared; keyed by that
    copy's identity). A visitor who trains on from a bundle keeps its origin, but their preview is theirs alone."""
    return shared_preview(origin, id(model), args, compute) if shared else compute()


class SequenceUI(UIKind):
    saturation = True
    panels_run_model = True

    def describe(self, ex) -> str:
        cfg = ex.model_cfg
        task = task_words(cfg, ex.train_cfg, ex.data)
        return f"Model: {ex.spec.describe(cfg)}, task: {task}, trained {ex.weights_step:,} steps on {ex.data.name}."

    def short(self, cfg) -> str:
        return f"{CELL_NAMES[cfg.cell]}, {cfg.num_layers} layer(s) × {cfg.hidden_size} units"

    def row(self, cfg) -> dict:
        return {"cell": CELL_NAMES[cfg.cell] + (" ×2 directions" if cfg.bidirectional else ""),
                "task": {"next": "next item", "masked": "fill in"}[cfg.task], "layers": cfg.num_layers,
                "units": cfg.hidden_size}

    # --- Step through -----------------------------------------------------------------------------------------
    def opening(self, data, train_cfg, masked: bool):
        """(sequence, mask) Step through opens on before the visitor chooses."""
        raise NotImplementedError

    def sequence_ui(self, ex):
        """Choose what to trace -> (sequence of T+1 items, hidden positions or None), or None."""
        raise NotImplementedError

    def step_page(self, ex) -> None:
        from .. import links
        st.caption(self.describe(ex))
        chosen = self.sequence_ui(ex)
        if chosen is None:
            return
        checkpoint = scrub.training_step_ui(ex)
        view = step.get_view(ex, chosen, checkpoint)
        links.apply_step_link(view.trace)
        step.step_view(ex, view, query=links.step_query(ex))

    def scene_view(self, view, query, compact: bool, ex) -> None:
        step.step_view(ex, view, query=query, panels=not compact, compact=compact)

    def warm_opening_view(self, origin: str, loaded) -> None:
        """Trace the sequence Step through opens on for a bundled model and draw its views, once per process and in
        the background (common.warm_up), so that no visitor waits for it: under bench_load.py every visitor's first
        Step through waited on the first one's (about 3 s of CPU). The same defaults as sequence_ui and
        cell_views.selectors_ui, so the same memo keys."""
        from ...kinds import KINDS
        from ...view_store import heat_key, main_key
        from ..cell_views import busiest_units, state_of
        data = loaded.data
        choice = self.opening(data, loaded.train_cfg, loaded.model.cfg.task == "masked")
        trace, shared = step.shared_view(origin, loaded, choice)
        unit, colour = busiest_units(trace, 0, 0)[0], state_of(trace)
        unit_of = step.unit_words(data)
        kind = KINDS[data.kind]
        shared.get_or(main_key(0, 0, unit, colour, unit_of),
                      lambda: kind.step_views(trace, 0, 0, unit, colour, unit_of))
        from ...step_charts import heatmap_views
        shared.get_or(heat_key(0, 0), lambda: heatmap_views(trace, 0, 0))


def validation_sample(val, length: int, start: int, masked: bool):
    """(sequence of length + 1 items from start, hidden positions or None) of the validation text."""
    from ...trace_data import default_mask
    return val[start : start + length + 1], default_mask(length, seed=start) if masked else None


def own_sequence(data, text: str, hide: str, masked: bool):
    """The visitor's own text as a sequence (and, for a fill-in model, the part to hide), in the data's tokens."""
    import numpy as np
    import torch
    ids = data.encode(text)
    if len(ids) < 2 or len(ids) > LIMITS.max_seq_len:
        raise DataError(f"Type 2 to {LIMITS.max_seq_len} {data.unit}s.")
    seq = torch.cat([ids, ids[-1:]])  # one extra item: the last step's "next" (never shown)
    if not masked:
        return seq[:-1], None
    found = data.span(text, hide) if hide else None
    if found is None:
        raise DataError(f"“{hide}” is not in your text; type a part of it to hide.")
    mask = np.zeros(len(ids), dtype=bool)
    mask[found[0] : found[0] + found[1]] = True
    return seq, mask


def max_trace_length(val) -> int:
    return min(LIMITS.max_seq_len, len(val) - 1)


def seq_state():
    return state().sequence
