"""Links to a bundled model's Step-through view: reading one (the first run of the page in a session), putting its
cursor into the view once the trace exists, and the address bar of the view on screen."""
from __future__ import annotations

import streamlit as st

from ..bundle import BUNDLES
from .bundles import bundled
from .common import state
from .kinds import UI_KINDS
from .state import Link


def read_step_link():
    """Step-through links for bundled models, read on a session's first run of that page:
    ?model=<bundle>&text=<sequence>&step=<n>&unit=<u>[&layer=&direction=&colour=&seq=]. Returns the bundled
    experiment the link names, or None. A parameter the model's view cannot use is said, not silently dropped."""
    s = state()
    if "step" in s.links_read:
        return None
    link = Link.parse(st.query_params, models=tuple(BUNDLES))
    notes = list(link.notes)
    # loading a bundle can take a second: a rerun that interrupts it (the browser's components report on their
    # first mount) must read the link again, so the link counts as read only once the model is there
    ex = bundled(link.model) if link.model is not None else None
    # read only now: a run interrupted while the bundle loads (a second or more for a captioner's held-out
    # pictures; the browser's first component messages rerun the page) reads the link again
    s.links_read.add("step")
    if ex is not None:
        notes += UI_KINDS[ex.kind].read_link(link, s.sequence)
        s.pending_links["step"] = link
    if notes:
        s.notice("url", " ".join(notes))
    return ex


def apply_step_link(trace) -> None:
    """Put a link's cursor into the view once its trace exists."""
    s = state()
    link = s.pending_links.pop("step", None)
    if link is not None:
        link.apply(s.cursor)
        s.cursor.fit(trace.n_steps, trace.n_layers, trace.n_directions, trace.n_units)


def step_query(ex):
    """The address bar of the step-through page: bundled models get a shareable link; a model trained in this
    session lives only here, so its view has no link (the address bar is cleared)."""
    if not ex.origin.startswith("bundled:"):
        return lambda: []
    return UI_KINDS[ex.kind].link(ex, ex.origin.split(":", 1)[1])
