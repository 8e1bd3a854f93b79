"""The one part of the package that imports streamlit: page set-up, session state and the pages' widget groups.

Each *_ui() function draws a group of widgets and returns a plain value (a config, a data object, a sequence).
Per-visitor objects live in st.session_state only; st.cache_data holds just the deterministic preset builders.

    common.py      set-up, session access, chart helper
    train.py       data, settings, controls, live panel of the Train page
    step.py        sequence, cursor and the step-through fragment
    cell_views.py  the explainer views: diagram, equations, coloured text, unit finder, interventions
"""
from .common import experiment, setup, show_chart  # noqa: F401
from .step import get_trace, sequence_ui, step_view  # noqa: F401
from .train import (controls_ui, data_ui, live_panel, model_file_ui, scoreboard_ui, settings_ui,  # noqa: F401
                    sync_experiment)
