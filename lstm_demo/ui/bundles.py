"""Bundled models as the pages use them: each loaded once per process (public and read-only), and this visitor's
experiment around one (the model stays the shared copy until the visitor trains it: Experiment.shared)."""
from __future__ import annotations

import streamlit as st

from ..bundle import BUNDLES
from .common import state


@st.cache_resource(max_entries=len(BUNDLES), show_spinner=False)
def shared_bundle(key: str):
    """A bundled model, loaded once per process: public and read-only (a visitor who trains it gets a copy)."""
    from ..bundle import load_bundle
    return load_bundle(key)


def bundled(key: str):
    """This session's experiment around a bundled model (the model itself is shared until trained)."""
    from ..jobs import Experiment
    cache = state().bundled
    if key not in cache:
        loaded = shared_bundle(key)
        cache[key] = Experiment(loaded.data, loaded.model.cfg, loaded.train_cfg, model=loaded.model,
                                trained_steps=loaded.steps, origin=f"bundled:{key}", loaded=loaded, shared=True)
    return cache[key]
