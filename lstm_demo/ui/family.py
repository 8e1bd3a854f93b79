"""The Family page: the tutorials' LSTMs side by side, each with a sentence, a look at its data and a trained one."""
from __future__ import annotations

import streamlit as st

from ..bundle import BUNDLES
from ..family import FAMILY
from .bundles import bundled
from .kinds import UI_KINDS
from .workshop import open_bundled


@st.cache_data(max_entries=8, show_spinner=False)
def _picture(key: str):
    """What the member's data looks like: a few frames, or a stretch of its text (from the bundled model's data)."""
    data = bundled(key).data
    return UI_KINDS[data.kind].picture(data)


def family_ui() -> None:
    for member in FAMILY:
        key = member["bundle"]
        with st.container(border=True, key=f"family_{key}"):
            c1, c2 = st.columns([1.2, 1], vertical_alignment="center")
            with c1:
                st.header(member["name"])  # h2 under the page's h1 (no skipped heading level)
                st.markdown(member["what"])
                label = BUNDLES[key].label
                st.caption("Data: " + member["data"] + f" · Trained model: {label}"
                           + ("" if label.endswith(("?", "!", ".")) else "."))
                if st.button(f"Open the trained {member['name']}", key=f"open_{key}", icon=":material/search:"):
                    open_bundled(key)
                    st.switch_page("pages/2_Step_through.py")
            with c2:
                kind, value, *words = _picture(key)  # a kind may say what its picture shows
                if kind == "image":
                    st.image(value, clamp=True, caption=words[0] if words else "Two validation sequences, time →",
                             alt=f"Two validation sequences of the {member['name']}'s data, a row of frames each")
                else:  # wrapped, not scrolled: every line readable, nothing to focus
                    st.code(value, language=None, wrap_lines=True)
