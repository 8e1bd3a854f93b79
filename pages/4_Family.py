"""The LSTM family side by side: what each member is, what its data looks like, and a trained one to open."""
import streamlit as st

from lstm_demo.ui import common, family

common.setup("Family")
st.title("The LSTM family")
st.caption("The tutorials list these kinds of LSTM. Each one below ships trained with the app: open it and step "
           "through its gates with the same cursor.")
family.family_ui()
