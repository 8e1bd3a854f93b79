"""Page set-up and helpers every page uses. Nothing here imports torch: the first screen draws a precomputed trace
before torch is loaded (warm_up() loads it in the background afterwards)."""
from __future__ import annotations

import threading

import streamlit as st

from .. import charts
from .state import UIState

STATE_KEY = "lab"          # the one session key of the UI state
_WARM = threading.Event()  # set once a background import of torch has been started in this process


def setup(title: str) -> UIState:
    """First call of every page (a deep link runs a page without app.py)."""
    st.set_page_config(page_title=f"{title} · LSTM gate lab", page_icon="🧠", layout="wide")
    return state()


def state() -> UIState:
    """This visitor's UI state (created on first use)."""
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = UIState()
    return st.session_state[STATE_KEY]


def experiment():
    return state().experiment


def bound(widget, label: str, key: str, value, store, **kwargs):
    """Draw `widget` showing `value` (from the UI state) and write the visitor's choice back with store(choice).
    The state stays the one source of truth: a program may change the value (a scene, a link, the unit finder)
    and the widget follows on the next run."""
    st.session_state[key] = value
    return widget(label, key=key, on_change=lambda: store(st.session_state[key]), **kwargs)


def show_chart(spec: dict, key: str | None = None, width="stretch", **frames) -> None:
    st.vega_lite_chart(charts.with_data(spec, **frames), width=width, key=key)


def memo(store: dict, key, build):
    """Compute once per trace: store is the dict kept next to the trace (TraceView.memo)."""
    if key not in store:
        store[key] = build()
    return store[key]


def warm_up() -> None:
    """Import torch in the background once the first screen is drawn, so the first click that needs a model
    does not wait for it (about 2 s on a small machine)."""
    if not _WARM.is_set():
        _WARM.set()
        threading.Thread(target=lambda: __import__("torch"), name="warm-torch", daemon=True).start()


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
