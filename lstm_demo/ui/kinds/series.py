"""The series kind's UI: generated and real series or the visitor's CSV, the settings, the preview (the forecast
on validation data, judged against naive forecasts), and the range to step through."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from ...config import LIMITS, DataError
from ..common import state
from ..widgets import pick
from .base import FILE, file_label, file_options, file_source, timed
from .sequence import CELL, OPEN_POINTS, SequenceUI, once, size_and_training

UPLOAD_MB = LIMITS.max_upload_bytes // 1_000_000
OWN = "__own__"


@st.cache_data(max_entries=16, show_spinner=False)
def _preset(key: str):
    from ...kinds import KINDS
    return KINDS["series"].preset_data(key)


def opening_range(n: int) -> tuple[int, int]:
    """The points of a series Step through opens on: the last OPEN_POINTS."""
    return max(0, n - OPEN_POINTS), n - 1


class SeriesUI(SequenceUI):
    choice = "series"
    label = "Time series (next value)"
    kinds = ("series",)

    # --- data -------------------------------------------------------------------------------------------------
    def data_ui(self, locked: bool):
        from ...kinds import KINDS
        presets = KINDS["series"].presets()
        options = list(presets) + [OWN] + file_options("series")
        labels = {**presets, OWN: "Your own CSV file", **{k: file_label() for k in options if k == FILE}}
        names = labels.get  # a plain mapping: the widget may format an option after this run
        source = pick(st.selectbox, "Series", "series_source", options[0], options=options, format_func=names,
                      disabled=locked)
        if source == OWN:
            return self._own_csv(locked)
        if source == FILE:
            return file_source()
        return "series", source, lambda: _preset(source)

    def _own_csv(self, locked: bool):
        from ...kinds.series_data import numeric_columns, read_csv, series_from_frame
        upload = st.file_uploader("Upload a CSV file (comma, semicolon or tab separated)", type=["csv", "txt"],
                                  key="own_csv_file", disabled=locked, max_upload_size=UPLOAD_MB)
        if upload is None:
            st.info("Upload a CSV with at least one numeric column." + self.kept_note())
            return None
        try:
            frame = read_csv(upload.getvalue())
        except DataError as e:
            self.error(str(e))
            return None
        numeric = numeric_columns(frame)
        if not numeric:
            self.error("The CSV has no numeric column to forecast.")
            return None
        c1, c2 = st.columns(2)
        value_col = c1.selectbox("Value column", numeric, key="csv_value_col", disabled=locked)
        others = [str(c) for c in frame.columns if str(c) != value_col]
        date_col = c2.selectbox("Date column (optional)", [None] + others, key="csv_date_col", disabled=locked)
        if not st.button("Use this series", disabled=locked):
            return None
        try:
            data = series_from_frame(frame, value_col, date_col, name=f"{upload.name}: {value_col}")
        except DataError as e:
            self.error(str(e))
            return None
        ident = hashlib.sha1(upload.getvalue()).hexdigest() + value_col + str(date_col)
        return "series", ident, lambda: data

    def data_summary(self, data) -> None:
        import pandas as pd

        from ... import charts
        s = data.summary()
        c1, c2, c3 = st.columns(3)
        c1.metric("Points", f"{s['points']:,}")
        c2.metric("Range", f"{s['min']:,.2f} … {s['max']:,.2f} {data.unit}")
        c3.metric("Mean ± std", f"{s['mean']:z,.2f} ± {s['std']:z,.2f}")
        t = data.dates if data.dates is not None else np.arange(len(data.values))
        frame = pd.DataFrame({"t": t, "value": data.values, "what": "series"})
        from ...kinds import KINDS
        seq_len = (state().train.settings.get(data.kind) or KINDS[data.kind].defaults(data))[1].seq_len
        cut = data.validation_start(seq_len)  # where training stops at these settings (data.parts)
        st.altair_chart(charts.series_chart(frame, data.unit, f"{data.name} — gray line: "
                                            f"{data.validation_words(seq_len)}", split_at=t[cut]), width="stretch")

    # --- settings and the preview -----------------------------------------------------------------------------
    def settings(self, data) -> list:
        return [[CELL]] + size_and_training()

    def preview(self, ex, due) -> None:
        from ...predict import judged_forecast
        from ..forecast import forecast_ui
        s = state()
        key = ("forecast", id(ex), ex.weights_step)
        if due(key, not ex.training):
            model = ex.current_weights_model()
            s.preview = timed(key, once(ex.origin, model, ex.shared, ("forecast", ex.weights_step), lambda:
                                         judged_forecast(model, ex.data, ex.train_cfg.seq_len)))
        forecast_ui(ex.data, s.preview.value, "Forecast vs truth on validation data (one step ahead)")

    # --- Step through -----------------------------------------------------------------------------------------
    def opening(self, data, train_cfg, masked: bool):
        lo, hi = opening_range(len(data.values))
        return data.normed[lo : hi + 1], None

    def sequence_ui(self, ex):
        data = ex.data
        c1, c2 = st.columns([1, 3])
        c1.markdown("**Range of the series**")
        n = len(data.values)
        lo, hi = c2.slider(f"Points ({data.validation_words(ex.train_cfg.seq_len)})", 0, n - 1, opening_range(n),
                           key="seq_range")
        if hi - lo < 2:
            st.error("Choose a range of at least 3 points.")
            return None
        if hi - lo > LIMITS.max_seq_len:
            st.warning(f"At most {LIMITS.max_seq_len} steps are traced; using points {lo}…{lo + LIMITS.max_seq_len}.")
            hi = lo + LIMITS.max_seq_len
        return data.normed[lo : hi + 1], None

    def change_input(self, data, trace, seq, step: int):
        """What if: another value at this step (seq is changed in place) -> (the new input, the words)."""
        new = st.number_input("New input value at this step (original units)", -1e6, 1e6,
                              float(np.round(trace.inputs[step], 3)), key="whatif_value")
        seq[step, 0] = (new - data.mean) / data.std
        return new, f"input {trace.inputs[step]:.3f} → {new:.3f} at step {step}"

    def prediction_change(self, col, trace, changed, cmp, later, data) -> None:
        diff = np.abs(cmp["prediction"].query("run == 'changed'")["value"].to_numpy()
                      - cmp["prediction"].query("run == 'original'")["value"].to_numpy())[later]
        col.metric("Largest change of the forecast", f"{diff.max():.3f} {data.unit}")

    def read_link(self, link, seq_state) -> list:
        notes = []
        if link.text is not None:
            notes.append(f"A series model reads numbers, not text: the link's text={link.text[:30]!r} was ignored.")
        if link.seq is not None:
            notes.append(f"A series model has no validation sequences to pick; seq={link.seq} was ignored.")
        return notes

    def picture(self, data):
        return "text", data.name


UI = SeriesUI()
