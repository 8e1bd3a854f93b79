"""Long-memory page: settings, the live race, and the results (accuracy vs distance, gradients, the unit)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import charts
from ..config import ConfigError, TrainConfig
from ..jobs import Experiment
from ..memory import TASKS, Race, RaceConfig, summary
from .common import state, visitor_alive

DEFAULT = RaceConfig()


def settings_ui(locked: bool) -> RaceConfig | None:
    c1, c2 = st.columns([2, 3])
    task = c1.selectbox("Task", list(TASKS), format_func=lambda k: TASKS[k].label, key="lab_task",
                        disabled=locked)
    t = TASKS[task]
    c1.caption(f"Scored only on {t.what}. Chance: {t.chance:.0%}.")
    lo, hi = c2.slider(f"Distances to train and test on ({t.distance_unit})", 0, 100,
                       (DEFAULT.min_distance, DEFAULT.max_distance), key="lab_range", disabled=locked)
    c1, c2, c3, c4 = st.columns(4)
    hidden = c1.select_slider("LSTM hidden units (the others are sized to match)", [8, 16, 24, 32, 48, 64],
                              DEFAULT.lstm_hidden, key="lab_hidden", disabled=locked)
    steps = c2.number_input("Steps per model", 50, 5000, DEFAULT.steps, step=100, key="lab_steps", disabled=locked)
    lr = c3.select_slider("Learning rate", [1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2], DEFAULT.lr, key="lab_lr",
                          disabled=locked)
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0, key="lab_seed", disabled=locked)
    try:
        return RaceConfig(task=task, min_distance=int(lo), max_distance=int(max(hi, 1)), lstm_hidden=int(hidden),
                          steps=int(steps), lr=float(lr), seed=int(seed)).validate()
    except ConfigError as e:
        st.error(f"{e}. Nothing was started.")
        return None


def _start(cfg: RaceConfig) -> None:
    s = state()
    if s.race is not None:
        s.race.stop()
    try:
        s.race = Race(cfg, alive=visitor_alive()).start()
    except ConfigError as e:
        s.notice("lab", f"Could not start: {e}")


def controls_ui(cfg: RaceConfig | None, race) -> None:
    active = race is not None and race.active
    c1, c2, _ = st.columns([2, 1, 4])
    c1.button("Race: plain RNN vs GRU vs LSTM", type="primary", key="lab_start", disabled=active or cfg is None,
              on_click=_start, args=(cfg,), icon=":material/flag:")
    c2.button("Stop", key="lab_stop", disabled=not active, on_click=race.stop if active else None,
              icon=":material/stop:")
    if (notice := state().take_notice("lab")) is not None:
        st.error(notice)


def race_panel(race) -> None:
    """Progress and loss curves while the race runs (polled), then the results."""
    active = race.active

    @st.fragment(run_every=0.5 if active else None)
    def panel():
        race.touch()
        if active and not race.active:
            st.rerun()  # a full rerun stops the polling and draws the results
        counts = race.param_counts()
        st.caption("Same data, seed and steps; sizes matched by parameter count: " + ", ".join(
            f"{charts.CELL_NAMES[c]} {h} units = {n:,} parameters" for c, (h, n) in counts.items())
            + f". The LSTM starts with its forget-gate bias at {race.cfg.forget_bias:g} (the usual recipe; PyTorch "
              "starts near 0, which halves the cell state at every step).")
        label = {"queued": "waiting for a free training slot", "evaluating": "measuring accuracy and gradients"
                 }.get(race.status, race.status)
        st.progress(race.step / race.cfg.steps, text=f"{label} — step {race.step:,} of {race.cfg.steps:,}")
        if race.status in ("stopped", "failed"):
            st.warning(race.message)
        history = race.histories()
        if len(history):
            stride = max(1, len(history) // 3000)
            st.altair_chart(charts.race_loss_chart(history.iloc[::stride], race.task.kind), width="content")

    panel()
    if race.status == "done" and race.results is not None:
        results_ui(race)


def results_ui(race) -> None:
    st.success(race.message)
    res = race.results
    st.subheader("Accuracy vs distance")
    st.altair_chart(charts.accuracy_chart(res["accuracy"], race.task.chance, race.task.distance_unit),
                    width="stretch")
    st.markdown("**What this run shows:** " + summary(race))
    st.caption("Each model trained on distances drawn from the whole range, then was tested on fresh examples at each "
               "distance; only the item that depends on the distant one is scored.")
    st.subheader("Why: the vanishing gradient, measured")
    left, right = st.columns(2)
    left.altair_chart(charts.gradient_chart(res["gradients"]), width="stretch")
    right.altair_chart(charts.forget_chart(res["forget"]), width="stretch")
    st.markdown(_gradient_words(res))
    if "unit" in res:
        _unit_ui(race, res["unit"])


def _gradient_words(res) -> str:
    g = res["gradients"]
    parts = []
    for cell in ("rnn", "gru", "lstm"):
        init = g[(g.cell == cell) & (g.when == "at initialisation")].sort_values("k")
        if len(init) > 10:
            ratio = init["norm"].iloc[10] / init["norm"].iloc[0]
            parts.append(f"{charts.CELL_NAMES[cell]} keeps {ratio:.1e} of it after 10 steps")
    f = res["forget"]
    k = min(len(f) - 1, 20)
    return ("Left: how strongly the loss at the scored step still depends on the hidden state k steps earlier. "
            "At initialisation (dashed) the signal shrinks by a factor at every step back — " + "; ".join(parts)
            + ". A model cannot learn to use what its gradient does not reach. Right: for the LSTM, the product of "
            f"forget gates over the gap — after training, the best unit keeps {f['best unit'].iloc[k]:.0%} of its "
            f"cell state over {k} steps, while the average unit keeps {f['mean over units'].iloc[k]:.0%}: a few "
            "units become the long-term memory, the conveyor belt.")


def _open_unit(race, unit: int, sentence: str) -> None:
    """Make the race's LSTM the visitor's model, with the sentence loaded and the remembering unit on screen."""
    r = race.racers["lstm"]
    ex = Experiment(race.data, r.model.cfg, TrainConfig(seq_len=64, steps=race.cfg.steps, lr=race.cfg.lr),
                    model=r.model, optimizer=r.optimizer, trained_steps=race.cfg.steps)
    s = state()
    if s.experiment is not None and s.experiment is not ex:
        s.experiment.close()
    s.experiment, s.data = ex, race.data
    s.forget_view()
    s.sequence.source, s.sequence.text = "own", sentence
    s.cursor.unit, s.cursor.colour, s.cursor.layer, s.cursor.direction = unit, "cell_state", 0, 0
    s.cursor.move_to(max(0, sentence.rfind(" w") + 1))  # the verb's w
    s.caches["open_step_through"] = True


def _unit_ui(race, found: dict) -> None:
    st.subheader("The unit that remembers")
    unit, r = found["unit"], found["correlation"]
    st.markdown(f"In the LSTM, unit **u{unit}**'s cell state just before the verb separates plural from singular "
                f"subjects with correlation **{r:+.2f}** over 128 sentences with {race.cfg.max_distance} filler words.")
    ranked = found["ranked"].head(8).assign(unit=lambda f: "u" + f["unit"].astype(str))
    st.dataframe(pd.DataFrame(ranked[["unit", "correlation"]]), hide_index=True, width=300)
    st.button(f"Open u{unit} in Step through with this sentence", key="lab_open_unit", type="primary",
              on_click=_open_unit, args=(race, unit, found["sentence"]), icon=":material/search:",
              help="Makes this LSTM the model of the Train and Step-through pages (your previous model is replaced).")
    st.caption(f"“{found['sentence']}”")
