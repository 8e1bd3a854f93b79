"""Long-memory lab: a plain RNN, a GRU and an LSTM race on tasks where the answer lies far back."""
import streamlit as st

from lstm_demo.ui import common, memory_lab

s = common.setup("Long memory")
st.title("Long-memory lab: RNN vs GRU vs LSTM")
st.caption("Every tutorial says a plain RNN cannot carry information across a long gap and an LSTM can. Run the "
           "experiment: three models of the same size train on the same data, then we test each at every distance "
           "and measure how far back the training signal reaches. While it runs, a progress bar shows the time left.")

race = s.race
locked = race is not None and race.active
cfg = memory_lab.settings_ui(locked)
memory_lab.controls_ui(cfg, race)
if s.open_step_through:
    s.open_step_through = False
    st.switch_page("pages/2_Step_through.py")
if race is not None:
    memory_lab.race_panel(race)
else:
    memory_lab.precomputed_ui(cfg)
