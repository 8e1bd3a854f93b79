"""The time cursor: a small custom element (cursor.js) that keeps the step in the browser.

Streamlit runs no script when the step moves: every step-following chart binds its `step` parameter to the page's
body, where the cursor keeps the step (lstm_demo.step_charts.STEP_BUS, STEP_EVENT). The cursor reports the step back only when the page
asks (report=True: "what if" and exports need it) and only once it has come to rest; it writes the address bar
itself at rest. Only trusted, static HTML/JS/CSS goes into the component: visitor data travels as `data` (JSON).
"""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from .common import state

_HERE = Path(__file__).resolve().parent
SPEEDS = (1, 2, 4, 8, 15, 30)  # steps per second offered by Play
KEYS_HINT = "Keys anywhere on the page: ← → step · space plays or pauses · Home / End jump to the ends"
HTML = """
<div class="lstm-cursor" data-testid="lstm-cursor">
  <button type="button" class="lstm-prev" aria-label="Prev" title="Keyboard: ←">◀ Prev</button>
  <button type="button" class="lstm-play" aria-label="Play" title="Keyboard: space">▶ Play</button>
  <button type="button" class="lstm-next" aria-label="Next" title="Keyboard: →">Next ▶</button>
  <select class="lstm-speed" aria-label="Speed" title="Play speed"></select>
  <div class="lstm-step">
    <label for="lstm-time-step">Time step</label>
    <input id="lstm-time-step" class="lstm-time-step" type="range" min="0" max="0" step="1" value="0"
           aria-label="Time step">
    <span class="lstm-readout" aria-live="off">0 / 0</span>
  </div>
  <div class="lstm-keys">{keys}</div>
</div>
""".format(keys=KEYS_HINT)
_COMPONENT = st.components.v2.component("lstm_cursor", html=HTML, css=(_HERE / "cursor.css").read_text(),
                                        js=(_HERE / "cursor.js").read_text(), isolate_styles=False)


def _on_step() -> None:
    result = st.session_state.get("cursor")
    step = getattr(result, "step", None) if result is not None else None
    if isinstance(step, int) and not isinstance(step, bool) and step >= 0:
        state().cursor.step = step  # the browser's step at rest; clamped by the view that uses it


def _on_speed() -> None:
    result = st.session_state.get("cursor")
    speed = getattr(result, "speed", None) if result is not None else None
    if speed in SPEEDS:
        state().cursor.speed = speed


def cursor_ui(view_id: str, n_steps: int, query: list | None = None, report: bool = False,
              compact: bool = False, keys: bool = True) -> None:
    """Mount the cursor for a view of n_steps steps. view_id changes with the sequence or unit on screen.
    query: the address bar's parameters as [key, value] pairs, value None where the step goes (None: leave the
    address bar alone). report: send the step back at rest (a script run) because the page needs it. keys: say
    the keyboard's keys under the slider (False: the page says them elsewhere, KEYS_HINT)."""
    cursor = state().cursor
    cursor.step = min(max(cursor.step, 0), n_steps - 1)
    # JSON as bytes, which Streamlit forwards as they are: for a dict or a string it first checks for data frames,
    # and that check imports pandas (0.45 s of a cold server's first screen, which otherwise needs no pandas)
    data = json.dumps({"n": n_steps, "trace": view_id, "step": cursor.step, "jump": cursor.jump,
                       "speed": cursor.speed, "speeds": list(SPEEDS), "query": query, "report": report,
                       "compact": compact, "keys": keys}).encode("utf-8")
    _COMPONENT(key="cursor", data=data,
               default={"step": cursor.step, "speed": cursor.speed},
               on_step_change=_on_step, on_speed_change=_on_speed)
