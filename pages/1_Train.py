"""Train an LSTM live on text, a time series, image sequences or a translation task."""
import streamlit as st

from lstm_demo.ui import common, keep, train

s = common.setup("Train")
st.title("Train an LSTM live")
st.caption("Pick data, press Start, and watch the loss. Training runs in the background: you can keep "
           "using the page, change the learning rate, pause or stop.")
if st.query_params:
    st.query_params.clear()  # this page has no link of its own (a model you train lives only in your session)
keep.offer_restore()  # a model this browser kept from an earlier session

ex = s.experiment
training = ex is not None and ex.training
data = train.data_ui(locked=training)
if data is None:
    st.stop()
model_cfg, train_cfg = train.settings_ui(data, training)
ex = train.sync_experiment(data, model_cfg, train_cfg)
if ex is None:
    st.stop()

st.header("3 · Training")
train.controls_ui(ex, train_cfg)
train.live_panel(ex, train_cfg)
keep.remember(ex)  # a finished run's model is kept in the visitor's browser too
train.model_file_ui(ex)
if ex.trained_steps or ex.job is not None:
    st.page_link("pages/2_Step_through.py", label="Step through this model's gates →", icon=":material/step_into:")
train.scoreboard_ui()
train.after_training_ui(data)
