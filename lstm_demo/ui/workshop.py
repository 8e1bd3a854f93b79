"""Workshop mode: bundled models on the first screen, guided scenes, state in the URL, and a presenter view."""
from __future__ import annotations

import streamlit as st

from ..bundle import BUNDLES, DEFAULT_BUNDLE, load_bundle
from ..jobs import Experiment
from ..scenes import SCENES, describe, scene_trace
from ..store import ModelFileError
from .step import heatmap_specs, step_view

# what the URL may carry, and how to read each value (anything else is ignored)
URL_KEYS = ("scene", "step", "unit", "present")

PRESENTER_CSS = """
<style>
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none}
  .block-container {padding-top: 1.5rem; max-width: 100% !important}
  .stMarkdown p, .stMarkdown li, [data-testid="stCaptionContainer"] {font-size: 1.45rem !important; line-height: 1.5}
  h1 {font-size: 2.6rem !important} h3 {font-size: 1.9rem !important}
  .st-key-prev, .st-key-next, .st-key-play, .st-key-speed, .st-key-step, .st-key-scene_prev, .st-key-scene_next,
  [class*="st-key-focus_"], [class*="st-key-colour_"], [class*="st-key-layer_"], .st-key-direction
    {display: none !important}
  .katex {font-size: 1.6em !important}
</style>
"""


def _int(value, lo: int, hi: int) -> int | None:
    try:
        v = int(str(value))
    except ValueError:
        return None
    return v if lo <= v <= hi else None


def read_url_once() -> None:
    """On a session's first run, take scene / step / unit / present from the link; bad values are ignored, said."""
    if st.session_state.get("url_read"):
        return
    st.session_state.url_read = True
    params = st.query_params
    scene = _int(params.get("scene", "1"), 1, len(SCENES))
    if scene is None:
        st.session_state.url_notice = (f"The link asks for scene {params.get('scene')!r}, which does not exist; "
                                       f"showing scene 1 of {len(SCENES)}.")
        scene = 1
    st.session_state.scene = scene
    st.session_state.present = params.get("present") in ("1", "true", "yes")
    st.session_state.url_step = _int(params.get("step", ""), 0, 10_000)
    st.session_state.url_unit = _int(params.get("unit", ""), 0, 10_000)


def write_url(step: int, unit: int) -> None:
    wanted = {"scene": str(st.session_state.scene), "step": str(step), "unit": str(unit)}
    if st.session_state.get("present"):
        wanted["present"] = "1"
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def presenter_css() -> None:
    if st.session_state.get("present"):
        st.html(PRESENTER_CSS)  # our own static CSS; no visitor text goes into HTML


def _go(delta: int) -> None:
    st.session_state.scene = (st.session_state.scene - 1 + delta) % len(SCENES) + 1
    st.session_state.pop("scene_applied", None)


def _toggle_present() -> None:
    st.session_state.present = not st.session_state.get("present", False)


def scene_controls() -> None:
    c1, c2, c3, c4 = st.columns([2, 2, 3.5, 2], vertical_alignment="center")
    c1.button("Previous scene", key="scene_prev", on_click=_go, args=(-1,), shortcut="PageUp",
              icon=":material/skip_previous:", help="Keyboard or clicker: PageUp")
    c2.button("Next scene", key="scene_next", on_click=_go, args=(1,), shortcut="PageDown",
              icon=":material/skip_next:", help="Keyboard or clicker: PageDown")
    c3.markdown(f"Scene **{st.session_state.scene}** of {len(SCENES)} · ← → move through time")
    c4.button("Exit presenter view" if st.session_state.get("present") else "Presenter view", key="present_toggle",
              on_click=_toggle_present, shortcut="Escape" if st.session_state.get("present") else None,
              icon=":material/slideshow:", help="Large type, controls hidden; PageUp/PageDown change scenes, "
                                                "← → step. Esc leaves it.")


def _bundled(key: str):
    """This session's copy of a bundled model, loaded once (each visitor has their own module)."""
    cache = st.session_state.setdefault("bundled", {})
    if key not in cache:
        loaded = load_bundle(key)
        cache[key] = Experiment(loaded.data, loaded.model.cfg, loaded.train_cfg, model=loaded.model,
                                trained_steps=loaded.steps, origin=f"bundled:{key}")
    return cache[key]


@st.cache_resource(max_entries=len(SCENES), show_spinner=False)
def _shared_scene(key: str):
    """A scene's trace, facts, step and heatmap specs, computed once per process: scenes use only bundled models
    and fixed sequences, so every visitor would compute the same thing."""
    scene = next(s for s in SCENES if s.key == key)
    loaded = load_bundle(scene.bundle)
    trace, step = scene_trace(scene, loaded.model, loaded.data)
    return trace, describe(scene, loaded.model, loaded.data, trace, step), step, heatmap_specs(trace)


def scene_view() -> None:
    """The current scene: its words, then the step-through view of its model and sequence."""
    scene = SCENES[st.session_state.scene - 1]
    try:
        ex = _bundled(scene.bundle)
    except (ModelFileError, OSError) as e:
        st.error(f"The bundled model for this scene could not be loaded ({e}). Rebuild them with "
                 "`python -m lstm_demo.cli bundle`.")
        return
    key = ("scene", scene.key)
    cache = st.session_state.get("trace_cache")
    if cache is None or cache[0] != key:
        trace, facts, step, specs = _shared_scene(scene.key)
        seq = ex.data.encode(scene.text) if scene.text is not None else ex.data.normed[-scene.series_points - 1 :]
        cache = (key, trace, {"model": ex.model, "seq": seq, "mask": None, "facts": facts, "scene_step": step,
                              **specs})  # this visitor's own memo dict; the shared parts are read-only
        st.session_state.trace_cache = cache
    _, trace, memo = cache
    facts = memo["facts"]
    if st.session_state.get("scene_applied") != scene.key:  # entering a scene sets its step, unit and colour
        st.session_state.scene_applied = scene.key
        url_step, url_unit = st.session_state.pop("url_step", None), st.session_state.pop("url_unit", None)
        st.session_state.step = min(url_step, trace.n_steps - 1) if url_step is not None else memo["scene_step"]
        unit = url_unit if url_unit is not None and url_unit < trace.n_units else facts["unit"]
        st.session_state[f"focus_{trace.n_units}"] = unit
        st.session_state[f"colour_{trace.cell}"] = scene.colour if scene.colour in trace.names else "hidden_state"
        st.session_state.playing = False
    st.subheader(f"{st.session_state.scene} · {scene.title}")
    st.markdown(scene.notice.format(**facts))
    st.caption(f"Model: {BUNDLES[scene.bundle].label} (bundled, trained {ex.trained_steps:,} steps).")
    step_view(ex, trace, memo, panels=not st.session_state.get("present"), on_step=write_url)


def default_experiment() -> Experiment:
    """The model a visitor sees before training one: the default bundle."""
    return _bundled(DEFAULT_BUNDLE)


def step_page_from_url():
    """Step-through links for bundled models, read on a session's first run:
    ?model=<bundle>&text=<sequence>&step=<n>&unit=<u>. Returns the bundled experiment the link names, or None."""
    if st.session_state.get("step_url_read"):
        return None
    st.session_state.step_url_read = True
    params = st.query_params
    key = params.get("model")
    if key is None:
        return None
    if key not in BUNDLES:
        st.session_state.url_notice = f"The link names a model {key[:40]!r} that does not exist; showing the default."
        return None
    ex = _bundled(key)
    text = params.get("text")
    if text is not None and ex.kind == "text":
        st.session_state.update(seq_source="own", seq_text=text[:256])
    st.session_state.url_step = _int(params.get("step", ""), 0, 10_000)
    st.session_state.url_unit = _int(params.get("unit", ""), 0, 10_000)
    return ex


def apply_url_cursor(trace) -> None:
    """Put a link's step and unit into the view once the trace exists (before the widgets are drawn)."""
    step, unit = st.session_state.pop("url_step", None), st.session_state.pop("url_unit", None)
    if step is not None:
        st.session_state.step = min(step, trace.n_steps - 1)
    if unit is not None and unit < trace.n_units:
        st.session_state[f"focus_{trace.n_units}"] = unit


def step_url_writer(ex):
    """on_step callback for the step-through page: bundled models get a shareable URL; a visitor's own model
    lives only in their session, so its view cannot be linked (the URL is cleared)."""
    def write(step: int, unit: int) -> None:
        if not ex.origin.startswith("bundled:"):
            if st.query_params:
                st.query_params.clear()
            return
        wanted = {"model": ex.origin.split(":", 1)[1], "step": str(step), "unit": str(unit)}
        if st.session_state.get("seq_source") == "own" and st.session_state.get("seq_text"):
            wanted["text"] = st.session_state.seq_text
        if dict(st.query_params) != wanted:
            st.query_params.from_dict(wanted)
    return write
