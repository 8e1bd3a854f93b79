"""Step through one sequence and watch the trained model's gates, cell state and hidden state."""
import streamlit as st

from lstm_demo import ui
from lstm_demo.ui import exports, workshop
from lstm_demo.config import CELLS

ui.setup("Step through")
st.title("Step through the gates")

ex = ui.experiment()
if ex is None or (not ex.trained_steps and ex.job is None):
    ex = workshop.default_experiment()  # a bundled, trained model: real gates at once, no training needed
    st.session_state.experiment = ex
if ex.origin.startswith("bundled"):
    st.info("You are looking at a model that ships with the app (trained on the agreement text). Train your own "
            "on the Train page — it takes about 30 seconds — and it will appear here.")
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
ui.step_view(ex, trace, memo)
exports.exports_ui(ex, trace)
