"""Forecasts judged against naive baselines, and the free-running rollout (series models)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from .common import state


def _scores_ui(scores: dict, unit: str, step: str = "point") -> None:
    """The model's one-step error next to the naive forecasts', each badge and the verdict from
    conclusions.compare_errors / forecast_verdict (the numbers shown beside them)."""
    from ..conclusions import compare_errors, error_text, forecast_verdict, naive_words
    cols = st.columns(3)
    scale = scores.get("scale", 1.0)
    cols[0].metric("Model: one-step MSE", error_text(scores["model"], scale),
                   help=f"mean squared error in {unit or 'units'}²")
    names = {"last value": "repeat the last value", "last season": "repeat last season"}
    baselines = {names[name]: scores[name] for name in names if name in scores}
    helps = {"last value": naive_words(step),
             "last season": "The seasonal naive forecast, with the season found in the training data."}
    for col, name in zip(cols[1:], ("last value", "last season")):
        title = "Repeat the last value" if name == "last value" else \
            f"Repeat last season ({scores['period']} steps ago)" if name in scores else "Repeat last season"
        if name not in scores:
            col.metric(title, "—", help=f"Not judged: {scores.get('no season', 'no clear season')}.")
            continue
        c = compare_errors(scores["model"], scores[name], scale)
        col.metric(title, error_text(scores[name], scale), delta=c.badge, delta_color=c.colour, delta_arrow="off",
                   help=helps[name] + f" Against the model: {c.words}.")
    st.caption(forecast_verdict(scores["model"], baselines, scale))


def forecast_ui(data, judged: dict, title: str) -> None:
    """One-step forecast vs truth with the baselines' errors (judged: predict.judged_forecast)."""
    from .. import charts
    index = judged["index"]
    t = data.dates[index] if data.dates is not None else index
    frame = pd.concat([pd.DataFrame({"t": t, "value": judged["actual"], "what": "actual"}),
                       pd.DataFrame({"t": t, "value": judged["predicted"], "what": "predicted"})], ignore_index=True)
    st.altair_chart(charts.series_chart(frame, data.unit, title), width="stretch")
    _scores_ui(judged["scores"], data.unit, data.step_name())


def rollout_ui(ex, view) -> None:
    """Step-through panel for series: from the cursor's step, the model fed its own predictions vs fed the truth."""
    from .. import charts
    from ..conclusions import horizon_words
    from ..predict import judge, judged_steps, rollout, seasonal_period
    trace, s = view.trace, state()
    step = min(s.cursor.step, trace.n_steps - 2)
    left = trace.n_steps - step
    horizon = st.slider("Horizon (steps to forecast from the cursor)", 1, max(2, left), min(32, left),
                        key="rollout_horizon") if left > 1 else 1
    res = rollout(view.model, ex.data, view.seq, step, horizon)
    frame = pd.concat([pd.DataFrame({"h": res["h"], "value": res[k], "what": name}) for k, name in (
        ("actual", "actual"), ("forced", "teacher-forced (fed the truth)"),
        ("free", "free-running (fed its own predictions)"))], ignore_index=True)
    errors = pd.concat([pd.DataFrame({"h": res["h"], "value": res[f"{k}_error"], "what": name}) for k, name in (
        ("forced", "teacher-forced (fed the truth)"), ("free", "free-running (fed its own predictions)"))],
        ignore_index=True)
    st.markdown(f"**Forecast from step {step}** (stop the cursor elsewhere to start from another step): "
                + horizon_words(res['free_error'], res['forced_error'], ex.data.unit))
    c1, c2 = st.columns(2)
    c1.altair_chart(charts.rollout_chart(frame, "Forecast over the horizon", ex.data.unit), width="stretch")
    c2.altair_chart(charts.rollout_chart(errors, "Absolute error at each step ahead", ex.data.unit),
                    width="stretch")
    p = trace.predictions
    values = np.concatenate([[trace.inputs[0]], p["actual"].to_numpy()])    # the traced points in order
    period = seasonal_period(ex.data.values[: len(ex.data.parts(ex.train_cfg.seq_len)[0])])
    idx = judged_steps(len(values), period)
    scores = judge(values, idx, p["predicted"].to_numpy()[idx - 1], period)
    # values[i] is what step i - 1 forecasts (values[0]: the first input): the steps named as the cursor names them
    st.markdown(f"**One-step forecasts made at steps {idx[0] - 1}–{idx[-1] - 1} of this sequence, against naive "
                "forecasts** "
                "(the Train page judges the start of the validation part, so its numbers differ):")
    _scores_ui(scores, ex.data.unit, ex.data.step_name())

