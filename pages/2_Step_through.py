"""Step through one sequence and watch the trained model's gates, cell state and hidden state."""
import streamlit as st

from lstm_demo import ui
from lstm_demo.ui import exports, workshop
from lstm_demo.config import CELLS

ui.setup("Step through")
st.title("Step through the gates")

linked = workshop.step_page_from_url()  # a shared link to a bundled model's view
if linked is not None and (ui.experiment() is None or not ui.experiment().trained_steps):
    st.session_state.experiment = linked
if st.session_state.get("url_notice"):
    st.warning(st.session_state.pop("url_notice"))
ex = ui.experiment()
if ex is None or (not ex.trained_steps and ex.job is None):
    ex = workshop.default_experiment()  # a bundled, trained model: real gates at once, no training needed
    st.session_state.experiment = ex
if ex.origin.startswith("bundled"):
    st.info(f"You are looking at a model that ships with the app ({ex.data.name.split(' (')[0]}). Train your own "
            "on the Train page — it takes about 30 seconds — and it will appear here. The address bar always "
            "holds a link to this view.")
    st.page_link("pages/1_Train.py", label="Train your own", icon="🏋️")

if ex.training:
    st.caption("Training is still running: this view uses the latest weights at the moment the page ran.")
cfg = ex.model_cfg
st.caption(f"Model: {CELLS[cfg.cell]}{', bidirectional' if cfg.bidirectional else ''}, {cfg.num_layers} layer(s) × "
           f"{cfg.hidden_size} units, task: {'fill in hidden characters' if cfg.task == 'masked' else 'next item'}, "
           f"trained "
           f"{ex.job.weights()[0] if ex.job else ex.trained_steps:,} steps on {ex.data.name}.")
chosen = ui.sequence_ui(ex)
if chosen is None:
    st.stop()
trace, memo = ui.get_trace(ex, chosen[1], chosen[2])
workshop.apply_url_cursor(trace)
ui.step_view(ex, trace, memo, on_step=workshop.step_url_writer(ex))
exports.exports_ui(ex, trace)
