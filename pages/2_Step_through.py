"""Step through one sequence and watch the trained model's gates, cell state and hidden state."""
import streamlit as st

from lstm_demo.ui import common, keep, links, workshop
from lstm_demo.ui.kinds import UI_KINDS
from lstm_demo.ui.state import model_key

s = common.setup("Step through")
st.title("Step through the gates")
keep.offer_restore()  # a model this browser kept from an earlier session

linked = links.read_step_link()  # a shared link to a bundled model's view
if linked is not None and (s.experiment is None or not s.experiment.trained_steps):
    s.experiment = linked
    s.forget_view()
if (notice := s.take_notice("url")) is not None:
    st.warning(notice)
ex = s.experiment
if ex is None or (not ex.trained_steps and ex.job is None):
    ex = s.experiment = workshop.default_experiment()  # a bundled, trained model: real gates at once
s.cursor.follow(model_key(ex))
if s.stash is not None and ex.origin.startswith("bundled"):
    st.button("Back to your own model", on_click=workshop.back_to_own, icon=":material/undo:",
              help="The model you trained or opened in this session is kept; this brings it back.")
if ex.origin.startswith("bundled"):
    st.info(f"You are looking at a model that ships with the app ({ex.data.name.split(' (')[0]}). Train your own "
            "on the Train page and it will appear here. The address bar always "
            "holds a link to this view.")
    st.page_link("pages/1_Train.py", label="Train your own", icon=":material/model_training:")
if ex.training:
    st.caption("Training is still running: this view uses the latest weights at the moment the page ran.")
UI_KINDS[ex.kind].step_page(ex)
