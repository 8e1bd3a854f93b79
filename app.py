"""Home page: what an LSTM cell does, and where to start."""
import streamlit as st

from lstm_demo import ui

ui.setup("Home")
st.title("🧠 LSTM gate lab")
st.markdown(
    """
An **LSTM** reads a sequence one step at a time and carries a **cell state** *c* along — a conveyor belt that runs
through every step with only small, controlled changes. Three **gates**, each a sigmoid valve between 0 (shut) and
1 (open), decide at every step:

| gate | symbol | question it answers |
|---|---|---|
| forget gate | *f* | how much of the old cell state to keep |
| input gate | *i* | how much of the new candidate *g* (a tanh, −1…1) to write |
| output gate | *o* | how much of the cell to show as the hidden state *h* |

`c = f·c_prev + i·g` and `h = o·tanh(c)`. Because the cell state is *added to* rather than rewritten, an LSTM can
carry "the subject was plural" across a long clause — *the cats, which already ate the fish, **were** full* —
where a plain RNN tends to forget.

Here you **train a small LSTM yourself**, live, and then **step through a sequence** and watch what the gates of
*your* model actually do.
"""
)
c1, c2, c3 = st.columns(3)
with c1:
    st.page_link("pages/1_Train.py", label="1 · Train a model (about 30 s)", icon="🏋️")
with c2:
    st.page_link("pages/2_Step_through.py", label="2 · Step through its gates", icon="🔍")
with c3:
    st.page_link("pages/3_Long_memory.py", label="3 · Race an RNN, a GRU and an LSTM over a long gap", icon="🏁")
