"""Page set-up and helpers every page uses."""
from __future__ import annotations

import streamlit as st

from .. import charts
from ..jobs import Experiment, configure_torch


def setup(title: str) -> None:
    """First call of every page (a deep link runs a page without app.py)."""
    st.set_page_config(page_title=f"{title} · LSTM gate lab", page_icon="🧠", layout="wide")
    configure_torch(1)
    st.session_state.setdefault("experiment", None)
    st.session_state.setdefault("data", None)
    st.session_state.setdefault("notice", None)
    st.session_state.setdefault("scoreboard", [])


def experiment() -> Experiment | None:
    return st.session_state.get("experiment")


def show_chart(spec: dict, key: str | None = None, width="stretch", **frames) -> None:
    st.vega_lite_chart(charts.with_data(spec, **frames), width=width, key=key)


def memo(store: dict, key, build):
    """Compute once per trace: store is the dict get_trace() keeps next to the trace."""
    if key not in store:
        store[key] = build()
    return store[key]


def visitor_alive():
    """A check the training thread can call: is this visitor's browser still connected? (None outside a server,
    e.g. in AppTest.) Streamlit marks a session inactive as soon as its websocket closes."""
    from streamlit.runtime import Runtime, exists
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx()
    if ctx is None or not exists():
        return None
    runtime, session_id = Runtime.instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)
