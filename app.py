"""Home page: a trained model's gates at once, in guided scenes from the LSTM tutorials."""
import streamlit as st

from lstm_demo.ui import common, workshop


def about() -> None:
    """What an LSTM is, in one paragraph, and the other pages (folded under the scene's words)."""
    st.markdown(
        """
An **LSTM** reads a sequence one step at a time and carries a **cell state** *c* along — a conveyor belt that runs
through every step with only small, controlled changes. Three **gates**, sigmoid valves between 0 (shut) and 1
(open), decide at every step: the **forget gate** *f* how much of the old cell to keep, the **input gate** *i* how
much of the candidate *g* to write, the **output gate** *o* how much of the cell to show as the hidden state *h*:
`c = f·c_prev + i·g`, `h = o·tanh(c)`. Because the cell state is *added to* rather than rewritten, an LSTM can carry
"the subject was plural" across a long clause — *the cats, which already ate the fish, **were** full* — where a
plain RNN forgets.

The scenes use **trained models that ship with the app** to walk through the tutorials' examples. Then train your
own.
"""
    )
    st.page_link("pages/1_Train.py", label="Train your own model", icon=":material/model_training:")
    st.page_link("pages/2_Step_through.py", label="Step through any sequence", icon=":material/step_into:")
    st.page_link("pages/3_Long_memory.py", label="Race RNN vs GRU vs LSTM", icon=":material/timeline:")


s = common.setup("Home", sidebar="collapsed")  # the first screen's room goes to the gates (links: in the sidebar
workshop.read_home_link()                        # and under the scene's words)
workshop.presenter_css()
workshop.scene_controls()
if (notice := s.take_notice("url")) is not None:
    st.warning(notice)
workshop.scene_view(about)
# the first screen is drawn: load torch and draw what the next clicks open on, in the background
common.warm_up(workshop.warm_step_through, workshop.warm_train_page)
