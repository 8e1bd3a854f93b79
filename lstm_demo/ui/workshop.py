"""Workshop mode: bundled models on the first screen, guided scenes, links that reopen a view, a presenter view.

The home page draws a scene from a precomputed trace (lstm_demo/bundled/scenes/): no torch and no model until a
view needs one (what-if, exports).
"""
from __future__ import annotations

import streamlit as st

from ..bundle import DEFAULT_BUNDLE
from ..scenes import SCENES, compare_view, load_scene, model_line, scene_colour, scene_title, scene_words
from .bundles import bundled, shared_bundle
from .common import state
from .kinds import UI_KINDS
from .state import Link, TraceView, model_key
from .step import REPORTING_PANELS, Memo

PRESENTER_CSS = """
<style>
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none}
  .block-container {padding: 0.6rem 2rem 0 2rem !important; max-width: 100% !important}
  .stMarkdown p, .stMarkdown li {font-size: 1.3rem !important; line-height: 1.35}
  h1, [data-testid="stCaptionContainer"] {display: none}
  h2 {font-size: 1.6rem !important; padding: 0 !important}
  [data-testid="stVerticalBlock"] {gap: 0.5rem}
  .st-key-cursor, .st-key-scene_prev, .st-key-scene_next, .st-key-layer, .st-key-direction, .st-key-unit,
  .st-key-colour {display: none !important}
</style>
"""


TITLE = "LSTM gate lab"


def read_home_link() -> None:
    """On a session's first run of the home page: scene, step, unit, colour and presenter view from the link.
    Bad values are ignored and said."""
    s = state()
    if "home" in s.links_read:
        return
    s.links_read.add("home")
    link = Link.parse(st.query_params, n_scenes=len(SCENES))
    s.scene = link.scene or 1
    s.present = link.present
    s.pending_links["home"] = link
    if link.notes:
        s.notice("url", " ".join(link.notes))


def presenter_css() -> None:
    if state().present:
        st.html(PRESENTER_CSS)  # our own static CSS; no visitor text goes into HTML


def next_scene(scene: int, delta: int, n_scenes: int) -> int:
    """The scene PageUp (delta -1) or PageDown (+1) leads to: it stops at the first and the last scene (a clicker
    pressed once too often must not jump from the end back to the start)."""
    return min(max(scene + delta, 1), n_scenes)


def _go(delta: int) -> None:
    s = state()
    scene = next_scene(s.scene, delta, len(SCENES))
    if scene != s.scene:
        s.scene = scene
        s.scene_applied = None


def _toggle_present() -> None:
    s = state()
    s.present = not s.present


def scene_controls() -> None:
    """Previous / Next scene (PageUp / PageDown, a presentation clicker's keys) and the presenter view. In the
    presenter view the buttons are hidden but keep their keys; its exit button sits beside the scene's title."""
    s = state()
    if s.present:
        st.title(TITLE)  # hidden (PRESENTER_CSS): the page keeps its h1
        st.button("Previous scene", key="scene_prev", on_click=_go, args=(-1,), shortcut="PageUp")
        st.button("Next scene", key="scene_next", on_click=_go, args=(1,), shortcut="PageDown")
        return
    c0, c1, c2, c3, c4 = st.columns([3.2, 1.9, 1.8, 1.3, 1.9], vertical_alignment="center")  # fits at 1280 px
    c0.title(TITLE)
    c1.button("Previous scene", key="scene_prev", on_click=_go, args=(-1,), shortcut="PageUp",
              icon=":material/arrow_back:", help="Keyboard or clicker: PageUp")
    c2.button("Next scene", key="scene_next", on_click=_go, args=(1,), shortcut="PageDown",
              icon=":material/arrow_forward:", help="Keyboard or clicker: PageDown")
    c3.markdown(f"Scene {s.scene} of {len(SCENES)}", help="← → move through time · space plays")
    c4.button("Presenter view", key="present_toggle", on_click=_toggle_present, icon=":material/slideshow:",
              help="Large type, controls hidden; PageUp/PageDown change scenes, ← → step, space plays. Esc leaves "
                   "it.")


@st.cache_resource(max_entries=len(SCENES), show_spinner=False)
def _shared_scene(key: str):
    """A scene's trace, facts and step, loaded once per process (public, read-only), with a shared memo for the
    views drawn from it (every visitor of a scene sees the same thing) and its comparison chart or None. That chart
    stays outside the memo: the memo drops its least recently used entries as visitors browse units."""
    scene = next(s for s in SCENES if s.key == key)
    trace, facts, step, views = load_scene(scene)
    compare = views.pop(("compare",), None)
    if compare is None and "compare" in facts:  # not precomputed (stale views): built once here
        compare = compare_view(scene, facts)
    memo = Memo()
    memo.update(views)  # the charts the scene opens on, built with the bundles
    return trace, facts, step, memo, compare


def _scene_view(scene) -> TraceView:
    s = state()
    key = ("scene", scene.key)
    if s.view is None or s.view.key != key:
        trace, facts, step, memo, _ = _shared_scene(scene.key)
        s.view = TraceView(key, trace, memo=memo)
        s.whatif = None
    return s.view


def _with_model(scene, view: TraceView):
    """The scene's bundled model and sequence, for the views that run it (loads torch on first use)."""
    ex = bundled(scene.bundle)
    if view.model is None:
        view.model, view.choice = ex.model, ex.spec.scene_choice(scene, ex.data)
    return ex


def scene_view(about=None) -> None:
    """The current scene: its words, then the step-through view of its model and sequence (the words beside the
    view's controls where the view offers the room: state.scene_intro). about(): what an LSTM is and links to the
    other pages, folded under the words."""
    s = state()
    scene = SCENES[s.scene - 1]
    view = _scene_view(scene)
    _, facts, scene_step, _, compare = _shared_scene(scene.key)
    trace = view.trace
    if s.scene_applied != scene.key:  # entering a scene sets its step, unit and colour (a link's, the first time)
        s.scene_applied = scene.key
        c = s.cursor
        c.move_to(scene_step)
        c.follow(f"bundled:{scene.bundle}")
        c.unit, c.layer, c.direction = facts["unit"], 0, scene.direction
        c.colour = scene_colour(scene, trace)
        link = s.pending_links.pop("home", None)
        if link is not None:
            link.apply(c)
        c.fit(trace.n_steps, trace.n_layers, trace.n_directions, trace.n_units)
    words = scene_words(scene, facts)
    if s.present:
        c1, c2, c3 = st.columns([6, 1.3, 1], vertical_alignment="center")
        c1.header(f"{s.scene} · {scene_title(scene, facts)}")
        c2.markdown(f"Scene {s.scene} of {len(SCENES)}")  # the audience sees where the talk is
        c3.button("Exit", key="present_toggle", on_click=_toggle_present, shortcut="Escape",
                  icon=":material/close_fullscreen:", help="Leave the presenter view (Esc)")
        st.markdown(words)
        slot = None
    else:
        slot = st.container()  # the words, unless the step view draws them beside its controls

    def intro():
        st.header(f"{s.scene} · {scene_title(scene, facts)}")
        st.markdown(words)
        if compare is not None:
            st.vega_lite_chart(compare["chart"], width="content", key="compare_guesses")
        s.scene_intro_drawn = view.key

    def aside():  # which model this is, what an LSTM is and the other pages
        st.caption(model_line(scene, facts))
        if about is not None:
            with st.expander("What an LSTM is, in one paragraph — and the other pages"):
                about()

    s.scene_intro, s.scene_intro_drawn = (view.key, intro, aside), None
    ui = UI_KINDS[trace.kind]
    ex = _with_model(scene, view) if ui.panels_run_model and s.cursor.panel in REPORTING_PANELS and not s.present \
        else None
    ui.scene_view(view, lambda: s.to_query("home"), s.present, ex)
    if slot is not None and s.scene_intro_drawn != view.key:  # a view that draws no words beside its controls
        with slot:
            intro()
            aside()


def open_bundled(key: str) -> None:
    """Put a bundled model on the Step-through page. The visitor's own model (trained or opened here) is kept aside,
    not dropped: the page offers to go back to it."""
    s = state()
    ex = s.experiment
    if ex is not None and not ex.origin.startswith("bundled") and (ex.trained_steps or ex.job is not None):
        s.stash = ex
    s.experiment = bundled(key)
    s.forget_view()
    s.cursor.follow(model_key(s.experiment))
    s.cursor.move_to(0)
    s.sequence.frames_index = 0


def back_to_own() -> None:
    s = state()
    if s.stash is not None:
        s.experiment, s.stash = s.stash, None
        s.forget_view()
        s.cursor.follow(model_key(s.experiment))


def warm_step_through() -> None:
    """The view Step through opens on for the default bundle, drawn before anyone asks."""
    loaded = shared_bundle(DEFAULT_BUNDLE)
    UI_KINDS[loaded.data.kind].warm_opening_view(f"bundled:{DEFAULT_BUNDLE}", loaded)


def warm_train_page() -> None:
    """The Train page's opening preview (the default bundle's), computed before anyone asks."""
    loaded = shared_bundle(DEFAULT_BUNDLE)
    UI_KINDS[loaded.data.kind].warm_preview(f"bundled:{DEFAULT_BUNDLE}", loaded)


def default_experiment():
    """The model a visitor sees before training one: the default bundle."""
    return bundled(DEFAULT_BUNDLE)
