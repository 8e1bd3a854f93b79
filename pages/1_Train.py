"""Train an LSTM live on text or a time series."""
import streamlit as st

from lstm_demo import ui

ui.setup("Train")
st.title("Train an LSTM live")
st.caption("Pick data, press Start, and watch the loss fall. Training runs in the background: you can keep "
           "using the page, change the learning rate, pause or stop.")

ex = ui.experiment()
training = ex is not None and ex.training
data = ui.data_ui(locked=training)
if data is None:
    st.stop()
model_cfg, train_cfg = ui.settings_ui(data, training)
ex = ui.sync_experiment(data, model_cfg, train_cfg)
if ex is None:
    st.stop()

st.subheader("3 · Training")
ui.controls_ui(ex, train_cfg)
ui.live_panel(ex)
ui.model_file_ui(ex)
if ex.trained_steps or ex.job is not None:
    st.page_link("pages/2_Step_through.py", label="Step through this model's gates →", icon="🔍")
ui.scoreboard_ui()
