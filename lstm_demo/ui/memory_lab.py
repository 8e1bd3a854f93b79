"""Long-memory page: settings, the live race, and the results (accuracy vs distance, gradients, the unit). Before a
visitor races, the page shows the default race's result, computed when the bundled models were built."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import charts
from ..config import ConfigError, TrainConfig
from ..memory import TASKS, Race, RaceConfig, RaceRecord, gradient_words, precomputed_words, summary, sweep_help, \
    unit_words
from .common import lazy_expander, state, visitor_alive
from .state import model_key

DEFAULT = RaceConfig()
PRECOMPUTED = "race_default.json"   # in lstm_demo/bundled/, written by `python -m lstm_demo.cli bundle`
SEEDS = {1: "1 seed", 3: "3 seeds (shows the spread)"}


@st.cache_resource(show_spinner=False)
def precomputed() -> RaceRecord | None:
    """The default race's record, if it was built with today's defaults (else None: the page just offers Race)."""
    from ..bundle import BUNDLE_DIR
    try:
        record = RaceRecord.from_json((BUNDLE_DIR / PRECOMPUTED).read_text())
    except (OSError, ValueError, KeyError, TypeError, ConfigError):
        return None
    return record if record.cfg == DEFAULT else None


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
    c1, c2 = st.columns([1, 3])
    seeds = c1.radio("Runs", list(SEEDS), format_func=SEEDS.get, key="lab_seeds", disabled=locked,
                     help="Train with seeds seed, seed + 1, seed + 2 and draw the spread of their accuracies: a "
                          "lesson that holds for one seed only is luck.")
    sweep = c2.checkbox("Per-distance sweep: one run per distance, trained on that distance only", key="lab_sweep",
                        disabled=locked,
                        help=sweep_help(int(lo), int(max(hi, 1))))
    try:
        cfg = RaceConfig(task=task, min_distance=int(lo), max_distance=int(max(hi, 1)), lstm_hidden=int(hidden),
                         steps=int(steps), lr=float(lr), seed=int(seed), seeds=int(seeds),
                         sweep=bool(sweep)).validate()
    except ConfigError as e:
        st.error(f"{e}. Nothing was started.")
        return None
    runs = cfg.seeds * (len(cfg.distances()) if cfg.sweep else 1)
    if runs > 1:
        c2.caption(f"{runs} runs of {cfg.steps:,} steps each; the progress bar shows the time left as it goes.")
    return cfg


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


def _sizes_caption(counts: dict, cfg: RaceConfig) -> None:
    init = ("with the chrono initialisation (forget-gate biases spread over the time scales up to the longest gap; "
            "PyTorch starts near 0, which halves the cell state at every step)" if cfg.chrono else
            f"with its forget-gate bias at {cfg.forget_bias:g} (PyTorch starts near 0, which halves the cell state "
            "at every step)")
    st.caption("Same data, seed and steps; sizes matched by parameter count: " + ", ".join(
        f"{charts.CELL_NAMES[c]} {h} units = {n:,} parameters" for c, (h, n) in counts.items())
        + f". The LSTM starts {init}.")


def _loss_chart(history: pd.DataFrame, what: str) -> None:
    if len(history):
        stride = max(1, len(history) // 3000)
        st.altair_chart(charts.race_loss_chart(history.iloc[::stride], what), width="content")


def race_panel(race) -> None:
    """Progress and loss curves while the race runs (polled), then the results."""
    active = race.active

    @st.fragment(run_every=0.5 if active else None)
    def panel():
        race.touch()
        if active and not race.active:
            st.rerun()  # a full rerun stops the polling and draws the results
        _sizes_caption(race.param_counts(), race.cfg)
        label = {"queued": "waiting for a free training slot", "evaluating": "measuring accuracy and gradients"
                 }.get(race.status, race.status)
        runs = len(race.runs)
        run = f" — run {race.run_index + 1} of {runs}" if runs > 1 else ""
        eta = race.eta_seconds() if race.status == "running" else None
        left = f" — about {eta:.0f} s left" if eta is not None else ""
        st.progress(race.step / race.total_steps,
                    text=f"{label}{run} — step {race.step:,} of {race.total_steps:,}{left}")
        if race.status in ("stopped", "failed"):
            st.warning(race.message)
        _loss_chart(race.histories(), race.task.loss_label)

    panel()
    if race.status == "done" and race.results is not None:
        record = race.record()
        st.success(record.message)
        results_ui(record, open_unit=lambda: _open_race_unit(race))


def precomputed_ui(cfg: RaceConfig | None = None) -> None:
    """The default race's result before the visitor runs one, labelled as such (and how the settings on screen,
    cfg, differ from its own)."""
    record = precomputed()
    if record is None:
        st.info("Press **Race** to train the three models and see where each one stops remembering.")
        return
    st.info(precomputed_words(record.cfg, cfg), icon=":material/history:")
    box = lazy_expander("Its training loss", key="race_loss")
    with box:
        if box.open:
            _sizes_caption(record.counts, record.cfg)
            _loss_chart(record.history, record.task.loss_label)
    results_ui(record, open_unit=_open_bundled_unit)


def results_ui(record: RaceRecord, open_unit) -> None:
    res, task = record.results, record.task
    st.header("Accuracy vs distance")
    st.altair_chart(charts.accuracy_chart(res["accuracy"], task.chance, task.distance_unit), width="stretch")
    st.markdown("**What this run shows:** " + summary(res["accuracy"], task))
    how = ("Each run trained a fresh set of models on one distance only, then tested them at that distance"
           if record.cfg.sweep else
           "Each model trained on distances drawn from the whole range (more of the short ones), then was tested on "
           "fresh examples at each distance")
    n = res["accuracy"]["seed"].nunique()
    st.caption(how + "; only the item that depends on the distant one is scored."
               + (f" Lines: the mean of {n} seeds; bands: from the worst seed to the best." if n > 1 else ""))
    st.header("Why: the vanishing gradient, measured")
    left, right = st.columns(2)
    left.altair_chart(charts.gradient_chart(res["gradients"]), width="stretch")
    right.altair_chart(charts.forget_chart(res["forget"]), width="stretch")
    which = "" if len(res["accuracy"]) == 3 * len(record.cfg.distances()) else (
        " (measured on the models of the first seed" + (", trained at the longest distance)" if record.cfg.sweep
                                                          else ")"))
    st.markdown(gradient_words(res) + which)
    if "unit" in res:
        _unit_ui(record, res["unit"], open_unit)


def _show_unit(ex, data, unit: int, sentence: str, scored: int) -> None:
    """Make ex the visitor's model, with the sentence loaded and the remembering unit on screen."""
    s = state()
    if s.experiment is not None and s.experiment is not ex:
        s.experiment.close()
    s.experiment, s.data = ex, data
    s.forget_view()
    s.sequence.source, s.sequence.text = "own", sentence
    s.cursor.follow(model_key(ex))
    s.cursor.unit, s.cursor.colour = unit, "cell_state"
    s.cursor.move_to(scored)  # the step whose answer depends on the distant fact
    s.open_step_through = True


def _open_race_unit(race) -> None:
    from ..jobs import Experiment
    r = race.racers["lstm"]
    found = race.results["unit"]
    ex = Experiment(race.data, r.model.cfg, TrainConfig(seq_len=64, steps=race.cfg.steps, lr=race.cfg.lr),
                    model=r.model, optimizer=r.trainer.optimizer, trained_steps=race.cfg.steps)
    _show_unit(ex, race.data, found["unit"], found["sentence"], found["scored"])


def _open_bundled_unit() -> None:
    """The precomputed race's LSTM is the bundled memory_lstm model (the bundles keep it)."""
    from .bundles import bundled
    ex = bundled("memory_lstm")
    found = precomputed().results["unit"]
    _show_unit(ex, ex.data, found["unit"], found["sentence"], found["scored"])


def _unit_ui(record: RaceRecord, found: dict, open_unit) -> None:
    from ..conclusions import remembering_heading
    unit, r = found["unit"], found["correlation"]
    st.header(remembering_heading(r))
    st.markdown(unit_words(found, record.cfg))
    ranked = found["ranked"].head(8).assign(unit=lambda f: "u" + f["unit"].astype(str))
    st.dataframe(pd.DataFrame(ranked[["unit", "correlation"]]), hide_index=True, width=300)
    st.button(f"Open u{unit} in Step through with this sentence", key="lab_open_unit", type="primary",
              on_click=open_unit, icon=":material/search:",
              help="Makes this LSTM the model of the Train and Step-through pages (your previous model is replaced).")
    st.caption(f"“{found['sentence']}”")
