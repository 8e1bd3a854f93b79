"""The visitor's last trained model, kept in their own browser, so that a server restart (or a move to another
replica) loses nothing they trained.

After a training run finishes, remember(ex) hands the browser the same safetensors bytes a download gives; keep.js
stores them in the browser's IndexedDB for this site (one model, the last). A new session calls offer_restore() at
the top of the Train and Step-through pages: if the browser holds a model and the session has none of its own, the
page offers it back. Restored bytes go through the same loader and checks as an upload (train.open_model_bytes ->
store.load_bytes); a copy that no longer opens is removed, and the page says so. The server stores nothing: another
browser, or another person's, has its own storage and is never offered this one. Only trusted, static HTML/JS goes
into the component; everything else travels as data (bytes) and is written with textContent, never as markup.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from .common import experiment, state

KEEP_MAX_BYTES = 15_000_000  # a restore sends the file back as base64 (4/3 larger) within the 25 MB websocket message
STATE_KEY = "keep_state"
_COMPONENT = st.components.v2.component("lstm_keep", html='<div hidden data-testid="lstm-keep"></div>',
                                        js=(Path(__file__).resolve().parent / "keep.js").read_text())
_LABEL = re.compile(r"^[\w ,.×()+→–-]{1,120}$")  # what a label written by remember() looks like


@dataclass
class KeepState:
    """This session's side of the browser's copy (session state; nothing here is shared between visitors)."""
    token: str = field(default_factory=lambda: uuid.uuid4().hex)  # this session, as the open page sees it
    kept: dict | None = None      # what the browser said it holds: {id, label, steps, size, age}
    lost: bool = False            # the page outlived the server session it had before this one
    answered: bool = False        # restored or declined in this session: not offered again
    seq: int = 0                  # numbers the browser actions, so each runs once
    op: str = "peek"              # the offer component's action: peek, send (for a restore) or clear
    saving: tuple | None = None   # (id, bytes, label, steps) handed to the browser until it says it stored them
    saved_id: str | None = None   # the model this session trained that the browser holds
    remembered: tuple | None = None  # (experiment, steps) last handed over, so each run's model is sent once
    message: tuple | None = None  # (kind, text) to show once


def _state() -> KeepState:
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = KeepState()
    return st.session_state[STATE_KEY]


def _result(key: str, name: str):
    result = st.session_state.get(key)
    return getattr(result, name, None) if result is not None else None


def _act(op: str) -> None:
    k = _state()
    k.op, k.seq = op, k.seq + 1


# --- callbacks (run before the page, so a restore may set the Train page's widgets) ----------------------------------

def _on_kept() -> None:
    kept = _result("keep_offer", "kept")
    _state().kept = kept if isinstance(kept, dict) and isinstance(kept.get("id"), str) else None


def _on_lost() -> None:
    _state().lost = bool(_result("keep_offer", "lost"))


def _on_error() -> None:
    k, error = _state(), _result("keep_offer", "error") or _result("keep_save", "error")
    if error:
        k.saving = None
        k.message = ("warning", f"This browser did not keep a copy of the model ({str(error)[:80]}); download it to "
                                "keep it.")


def _on_saved() -> None:
    k = _state()
    if k.saving is not None and _result("keep_save", "saved") == k.saving[0]:
        k.saved_id, k.kept = k.saving[0], {"id": k.saving[0], "label": k.saving[2], "steps": k.saving[3]}
        k.saving = None


def _on_bytes() -> None:
    """The browser sent the kept file: open it like an upload; a copy that does not open is removed."""
    from .train import open_model_bytes
    k, encoded = _state(), _result("keep_offer", "bytes")
    k.op, k.answered = "peek", True
    try:
        raw = base64.b64decode(encoded or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raw = b""
    if raw and len(raw) <= KEEP_MAX_BYTES and open_model_bytes(raw, "the model kept in this browser"):
        k.message = ("success", "Restored the model this browser kept. It is yours again in this session: step "
                                "through it or train it further.")
        return
    why = state().take_notice("file") if raw else None
    reason = why[1] if why else "The copy was missing or damaged."
    k.message = ("error", f"The model kept in this browser could not be opened, so it was removed from this browser. "
                          f"{reason}")
    k.kept = None
    _act("clear")


def _restore() -> None:
    _act("send")


def _decline() -> None:
    k = _state()
    k.answered, k.kept, k.saved_id = True, None, None
    _act("clear")


# --- what the pages call -------------------------------------------------------------------------------------------

def _mount(who: str, payload: bytes = b"", **head) -> None:
    k = _state()
    line = json.dumps({"who": who, "token": k.token, **head}).encode("utf-8")
    _COMPONENT(key=f"keep_{who}", data=line + b"\n" + payload, height="content",
               on_kept_change=_on_kept, on_lost_change=_on_lost, on_error_change=_on_error,
               on_saved_change=_on_saved, on_bytes_change=_on_bytes)


def _has_own_model() -> bool:
    ex = experiment()
    return ex is not None and (ex.trained_steps > 0 or ex.job is not None) and not ex.origin.startswith("bundled")


def offer_restore() -> None:
    """Top of the Train and Step-through pages: say when the page outlived its server session, and offer the model
    the browser kept when this session has no model of its own. All of it in one keyed container, so that the offer
    arriving a moment after the page does not shift the page's other elements (Streamlit would draw them anew: an
    expander the visitor had opened would close)."""
    with st.container(key="keep_offer_box"):
        _offer()


def _offer() -> None:
    k = _state()
    _mount("offer", op=k.op, seq=k.seq)
    if k.message is not None:
        kind, text = k.message
        k.message = None
        getattr(st, kind)(text)
    if _has_own_model():
        return
    kept = k.kept if not k.answered else None
    if k.lost:
        st.warning("**Your session on the server ended while this page was open** (the server restarted, or you "
                   "were moved to another one), so the page started afresh. "
                   + ("Your last trained model is kept in this browser: restore it below." if kept else
                      "A model you trained then is gone unless you downloaded it."), icon=":material/sync_problem:")
    if kept:
        label = kept.get("label") if _LABEL.match(str(kept.get("label", ""))) else "a model"
        age = _age(kept.get("age"))
        st.info(f"This browser kept a copy of the model you trained last: **{label}**{age}. Restore it?",
                icon=":material/restore:")
        c1, c2, _ = st.columns([1, 1.6, 3])
        c1.button("Restore it", key="keep_restore", on_click=_restore, icon=":material/restore:", type="primary")
        c2.button("No, remove it from this browser", key="keep_decline", on_click=_decline,
                  icon=":material/delete:")


def _age(seconds) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < 1e10:
        return ""
    minutes = round(seconds / 60)
    if minutes < 1:
        return ", kept less than a minute ago"
    if minutes < 120:
        return f", kept {minutes} minute{'s' if minutes != 1 else ''} ago"
    return f", kept {round(minutes / 60)} hours ago" if minutes < 48 * 60 else f", kept {round(minutes / 1440)} days ago"


def describe(ex) -> str:
    """A short label for the kept model (from the config, never from visitor strings)."""
    from .kinds import UI_KINDS
    return f"{UI_KINDS[ex.kind].short(ex.model_cfg)}, {ex.trained_steps:,} steps"


def remember(ex) -> None:
    """Below the Train page's live panel: once a run of this session has finished, hand the browser the model's
    file (the same bytes a download gives); then say that it is kept, with a button to clear it."""
    k = _state()
    if ex is None or ex.training or not ex.runs or not ex.trained_steps:
        return
    now = (id(ex), ex.trained_steps)
    if k.remembered != now:
        from .train import model_bytes
        raw = model_bytes(ex)
        k.remembered = now
        if len(raw) > KEEP_MAX_BYTES:
            k.saving = None
            st.caption(f"This model's file ({len(raw) / 1e6:.1f} MB) is too big to keep in the browser (at most "
                       f"{KEEP_MAX_BYTES / 1e6:.0f} MB): download it to keep it.")
            return
        k.saving = (uuid.uuid4().hex, raw, describe(ex), ex.trained_steps)
    if k.saving is not None:
        _mount("save", k.saving[1], op="save", seq=k.saving[0], id=k.saving[0], label=k.saving[2], steps=k.saving[3])
    elif k.saved_id is not None:
        c1, c2 = st.columns([4, 1.2])
        c1.caption(f"A copy of this model ({k.kept['label'] if k.kept else 'the last one'}) is kept in this browser, "
                   "so a server restart does not lose it. Only this browser has it.")
        c2.button("Clear it from this browser", key="keep_clear", on_click=_decline, icon=":material/delete:")
