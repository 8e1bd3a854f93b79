"""Home page: a trained model's gates at once, in guided scenes from the LSTM tutorials."""
import streamlit as st

from lstm_demo.ui import common, workshop

s = common.setup("Home")
workshop.read_home_link()
workshop.presenter_css()
st.title("🧠 LSTM gate lab")
if (notice := s.take_notice("url")) is not None:
    st.warning(notice)
if not s.present:
    st.markdown(
        """
An **LSTM** reads a sequence one step at a time and carries a **cell state** *c* along — a conveyor belt that runs
through every step with only small, controlled changes. Three **gates**, sigmoid valves between 0 (shut) and 1
(open), decide at every step: the **forget gate** *f* how much of the old cell to keep, the **input gate** *i* how
much of the candidate *g* to write, the **output gate** *o* how much of the cell to show as the hidden state *h*:
`c = f·c_prev + i·g`, `h = o·tanh(c)`. Because the cell state is *added to* rather than rewritten, an LSTM can carry
"the subject was plural" across a long clause — *the cats, which already ate the fish, **were** full* — where a
plain RNN forgets.

Below, **trained models that ship with the app** walk through the tutorials' examples, one scene at a time. Then
train your own.
"""
    )
    c1, c2, c3 = st.columns(3)
    with c1:
        st.page_link("pages/1_Train.py", label="Train your own model", icon="🏋️")
    with c2:
        st.page_link("pages/2_Step_through.py", label="Step through any sequence", icon="🔍")
    with c3:
        st.page_link("pages/3_Long_memory.py", label="Race RNN vs GRU vs LSTM", icon="🏁")
workshop.scene_controls()
workshop.scene_view()
# the first screen is drawn: load torch and draw what the next clicks open on, in the background
common.warm_up(workshop.warm_step_through, workshop.warm_train_page)
