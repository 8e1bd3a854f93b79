"""The one part of the package that imports streamlit: page set-up, the UI state and the pages' widget groups.

Each *_ui() function draws a group of widgets and returns a plain value (a config, a data object, a sequence).
What the UI remembers lives in one typed object (state.py, under one session key); per-visitor objects live there
only, and st.cache_resource holds only public things (bundled models' traces and the views drawn from them).

    state.py       the UI state and links (no Streamlit)
    common.py      set-up, state access, chart helper (no torch: the first screen draws before torch loads)
    cursor.py/.js  the time cursor, kept in the browser
    step.py        sequence choice and the step-following views
    cell_views.py  selectors, unit finder, interventions
    exports.py     CSV, chart and PyTorch exports of the view on screen
    train.py       data, settings, controls, live panel of the Train page
    workshop.py    scenes, links and the presenter view
    memory_lab.py  the long-memory race
"""
