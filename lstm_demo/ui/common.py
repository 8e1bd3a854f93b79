"""Page set-up and helpers every page uses. Nothing here imports torch: the first screen draws a precomputed trace
before torch is loaded (warm_up() loads it in the background afterwards)."""
from __future__ import annotations

import logging
import threading

import streamlit as st

from ..view_store import with_data
from .state import UIState

STATE_KEY = "lab"          # the one session key of the UI state
_WARM = threading.Event()  # set once a background import of torch has been started in this process


# The sidebar's pages, drawn by every page (client.showSidebarNavigation = false hides Streamlit's own list, which
# would name the first entry after app.py): (script, label, Material icon — Streamlit ships the font; emoji need
# one the visitor's machine may not have).
PAGES = (("app.py", "Home", ":material/home:"), ("pages/1_Train.py", "Train", ":material/model_training:"),
         ("pages/2_Step_through.py", "Step through", ":material/step_into:"),
         ("pages/3_Long_memory.py", "Long memory", ":material/timeline:"),
         ("pages/4_Family.py", "Family", ":material/account_tree:"))
ICON = ":material/neurology:"

CSS = """<style>
  h2 {font-size: 1.55rem !important}  /* sections are h2 under the page's h1 (no skipped level), sized like h3 */
  .block-container {padding-top: 3rem; padding-left: 3rem; padding-right: 3rem}
  /* the page's title a size smaller than Streamlit's and without its deep padding: at 1280×720 the home page's
     coloured text and whole cell diagram fit above the fold */
  h1 {font-size: 2.25rem !important; padding: 0.25rem 0 !important}
  /* the header's row overlaps the page's top by a few pixels: only its own buttons take clicks there (the
     scene buttons' upper edge went to the header's toolbar) */
  header[data-testid=stHeader], header [data-testid=stToolbar] {pointer-events: none}
  header button, header a, header [role=button] {pointer-events: auto}
  .st-key-compare_guesses {overflow-x: auto}
  /* the cell diagram and the equations are drawn at the size their letters need; a narrower column scales them
     down whole instead of cutting them (a phone, a laptop with the sidebar open) */
  .st-key-view_diagram [data-testid=stVegaLiteChart], .st-key-view_equations [data-testid=stVegaLiteChart],
  .st-key-view_diagram .vega-embed, .st-key-view_equations .vega-embed {max-width: 100%}
  .st-key-view_diagram svg.marks, .st-key-view_equations svg.marks {max-width: 100%; height: auto}
  /* the coloured text: in a column a little narrower than it (a 1280 px laptop with the sidebar open) it is scaled
     down whole rather than running under the diagram beside it; on a phone it keeps its letters' size and scrolls
     inside its own box */
  @media (min-width: 641px) {
    .st-key-view_strip [data-testid=stVegaLiteChart], .st-key-view_strip .vega-embed {max-width: 100%}
    .st-key-view_strip svg.marks {max-width: 100%; height: auto}
  }
  @media (max-width: 640px) {  /* (the equations and the diagram too: scaled to a phone's width their letters were
                                  6–7 px tall) */
    .st-key-view_strip [data-testid=stVegaLiteChart], .st-key-view_equations [data-testid=stVegaLiteChart],
    .st-key-view_diagram [data-testid=stVegaLiteChart] {max-width: 100%; overflow-x: auto; overflow-y: hidden}
    .st-key-view_equations svg.marks, .st-key-view_diagram svg.marks {max-width: none}
  }
  /* a disabled widget's label (e.g. "Hide" before the fill-in task is chosen) stays readable (WCAG AA, 6:1); the
     greyed control says it is off */
  .stElementContainer:has(input:disabled, button:disabled, [aria-disabled=true]) [data-testid=stWidgetLabel] {
    color: #5f6168 !important}
</style>"""


def setup(title: str, sidebar: str = "auto") -> UIState:
    """First call of every page (a deep link runs a page without app.py): the page's title and icon, the CSS
    every page shares and the sidebar's links. sidebar: "collapsed" to start with it closed."""
    st.set_page_config(page_title=f"{title} · LSTM gate lab", page_icon=ICON, layout="wide",
                       initial_sidebar_state=sidebar)
    st.html(CSS)  # our own static CSS; no visitor text goes into HTML
    nav()
    return state()


def nav() -> None:
    """The sidebar's list of pages, the first named Home (in a keyed box: tests and the audit find it there)."""
    with st.sidebar, st.container(key="nav"):
        for script, label, icon in PAGES:
            st.page_link(script, label=label, icon=icon)


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
    st.vega_lite_chart(with_data(spec, **frames) if frames else spec, width=width, key=key)


def lazy_expander(label: str, key: str):
    """A folded expander whose content is computed and sent only once it is opened (opening it reruns the page):
    six heatmaps, a tune's audio or a loss curve nobody asked for are not drawn into every page. Use:
    `box = lazy_expander(...)`, then `with box:` and draw `if box.open`."""
    return st.expander(label, key=key, on_change="rerun")


def memo(store: dict, key, build):
    """Compute once per trace: store is the dict kept next to the trace (TraceView.memo)."""
    if key not in store:
        store[key] = build()
    return store[key]


WARM_MODULES = ("lstm_demo.step_charts", "torch", "lstm_demo.trace", "lstm_demo.jobs")
WARM_DELAY = 4.0  # seconds: let the visitor's browser draw the first screen first (measured: importing torch at
                  # once made the first screen 1.2 s slower on 2 cores, bench/bench_home.py)


def warm_up(*then) -> None:
    """Import what the next clicks need (the chart builders, torch: about 2.5 s on a small machine) in the
    background a moment after the first screen has been sent, instead of making the first click wait; then call
    each of `then` (views every visitor opens, computed once per process)."""
    if not _WARM.is_set():
        _WARM.set()
        import importlib

        def warm():
            for name in WARM_MODULES:
                importlib.import_module(name)
            for step in then:
                try:
                    step()
                except Exception:  # a warm-up is an optimisation: the page computes the same when asked
                    logging.getLogger(__name__).exception("warm-up step failed")

        timer = threading.Timer(WARM_DELAY, warm)
        timer.daemon = True
        timer.start()


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
