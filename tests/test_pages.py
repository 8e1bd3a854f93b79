"""Every page run headless with AppTest: a short real training run, then stepping through its trace."""
import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from lstm_demo.scenes import SCENES
from support import wait_until

TIMEOUT = 60


def new(page=None):
    """An app session (app.py is the entry point, as in the browser), optionally switched to a page."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    if page:
        at.switch_page(page)
    return at


def lab(at):
    """The visitor's UI state (lstm_demo/ui/state.py)."""
    return at.session_state["lab"]


def specs(at):
    return [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]


def small_settings(at, kind="text"):
    at.select_slider(key=f"{kind}_hidden").set_value(8)
    at.select_slider(key=f"{kind}_seq_len").set_value(16)
    at.select_slider(key=f"{kind}_batch").set_value(4)
    at.number_input(key=f"{kind}_steps").set_value(30)
    return at.run()


def train_until_done(at, limit=60):
    at.button(key="start").click().run()
    ex = lab(at).experiment
    wait_until(lambda: ex.job is not None and not ex.job.view().active, limit, what="training to finish")
    return at.run()


def trained_step_through():
    """A small model trained on the Train page, then Step through opened on it: (the step page, the UI state)."""
    at = train_until_done(small_settings(new("pages/1_Train.py").run()))
    step = at.switch_page("pages/2_Step_through.py").run()
    return step, lab(step)


def named_dataset(at, name):
    """A named dataset of a chart as the browser receives it (Streamlit ships them as Arrow next to the spec)."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
    for el in at.get("vega_lite_chart"):
        for ds in el.proto.datasets:
            if ds.name == name:
                return convert_arrow_bytes_to_pandas_df(ds.data.data)
    raise AssertionError(f"no chart has a dataset {name!r}")


def step_following_charts(at) -> list:
    """Specs of the charts that follow the browser's cursor (their `step` is bound to the cursor's element)."""
    from lstm_demo.step_charts import STEP_BUS
    return [sp for sp in specs(at) if any(p.get("bind", {}).get("element") == STEP_BUS for p in sp.get("params", []))]


def test_home_page_explains_and_links():
    at = new().run()
    assert not at.exception
    assert any("forget gate" in m.value and "cell state" in m.value for m in at.markdown)  # the paragraph
    assert f"Scene 1 of {len(SCENES)}" in [m.value for m in at.markdown]
    assert len(step_following_charts(at)) >= 9  # strip, diagram, equations, top guesses, 6 heatmaps


@pytest.mark.parametrize("n", [n for n, sc in enumerate(SCENES, 1) if sc.compare])
def test_a_scenes_two_model_chart_stays_while_visitors_browse_its_units(n):
    """The scenes with a second model open on both models' guesses. The scene's views are shared by its visitors in
    a bounded memo; many units and colours browsed there (more entries than it keeps) must not take that chart away."""
    from lstm_demo.ui.step import MEMO_ENTRIES

    def two_model_charts(at):  # charts that name both models
        assert not at.exception, at.exception
        return [el for el in at.get("vega_lite_chart")
                if all(name in el.proto.spec for name in SCENES[n - 1].compare_label.split("|"))]

    at = new()
    at.query_params["scene"] = str(n)
    at.run()
    assert len(two_model_charts(at)) == 1
    for i in range(MEMO_ENTRIES + 1):  # what visitors browsing the scene's units put in its shared memo
        lab(at).view.memo.get_or(("browsed", i), dict)
    other = new()
    other.query_params["scene"] = str(n)
    other.run()
    assert len(two_model_charts(other)) == 1


def test_step_through_without_a_model_opens_a_bundled_one():
    at = new("pages/2_Step_through.py").run()
    assert not at.exception, at.exception
    assert "ships with the app" in at.info[0].value
    ex = lab(at).experiment
    assert ex.origin == "bundled:agreement" and lab(at).view.trace.n_steps > 0


@pytest.mark.parametrize("kind", ["text", "series"])
def test_train_then_step_through(kind):
    at = new("pages/1_Train.py").run()
    if kind == "series":
        at.radio(key="kind").set_value("series").run()
    small_settings(at, kind)
    at = train_until_done(at)
    assert not at.exception, at.exception
    ex = lab(at).experiment
    assert ex.trained_steps == 30 and (ex.job is None or ex.job.view().status == "done")
    assert any("Finished 30 steps" in s.value for s in at.success)
    assert not any("nan" in m.value for m in at.metric)  # a loss not measured says so (conclusions.loss_text)
    row = lab(at).scoreboard[-1]
    assert all(row[k] is None or np.isfinite(row[k]) for k in ("validation loss", "validation accuracy"))
    if kind == "series":  # the forecast is judged against naive ones
        assert {"Model: one-step MSE", "Repeat the last value"} <= {m.label for m in at.metric}

    step = at.switch_page("pages/2_Step_through.py").run()
    assert not step.exception, step.exception
    trace = lab(step).view.trace
    assert lab(step).view.model is not None and trace.kind == kind
    charts = step_following_charts(step)
    assert len(charts) >= 3  # the strip or series, the diagram, the equations (and top guesses for text)
    terms = named_dataset(step, "terms")  # every step's numbers for the unit on screen, sent once
    unit = lab(step).cursor.unit
    assert len(terms) == trace.n_steps
    assert np.allclose(terms["h"], trace.get("hidden_state")[:, unit], atol=1e-6)
    lab(step).cursor.unit = (unit + 1) % trace.n_units  # another unit: the views are drawn again for it
    step.run()
    assert np.allclose(named_dataset(step, "terms")["h"], trace.get("hidden_state")[:, (unit + 1) % trace.n_units],
                       atol=1e-6)
    assert not step.exception
    if kind == "series":  # judged forecasts: a rollout from the cursor (the baselines are checked on Train above)
        lab(step).cursor.step = 10
        step.segmented_control(key="panel").set_value("forecast").run()
        assert not step.exception, step.exception
        assert any(m.value.startswith("**Forecast from step 10**") for m in step.markdown)


def test_the_train_pages_opening_preview_is_sampled_once_per_process_and_before_anyone_asks(monkeypatch):
    """The bundled model's sample text is the same for every visitor: the home page's warm-up samples it with the
    page's own defaults, and neither of two new visitors of the Train page samples again; a changed prompt does."""
    from lstm_demo import predict
    from lstm_demo.ui import workshop
    from lstm_demo.ui.kinds import sequence as sequence_ui
    sequence_ui.shared_preview.clear()
    sampled = []
    real = predict.generate_text
    monkeypatch.setattr(predict, "generate_text", lambda *a, **k: sampled.append(a[2:]) or real(*a, **k))
    workshop.warm_train_page()
    assert len(sampled) == 1
    texts = []
    for _ in range(2):  # two visitors
        at = new("pages/1_Train.py").run()
        assert not at.exception, at.exception
        texts.append([c.value for c in at.code])
    assert len(sampled) == 1 and texts[0] == texts[1] and texts[0], (sampled, texts)
    at.text_input(key="prompt").set_value("the dog").run()
    assert not at.exception, at.exception
    assert len(sampled) == 2 and sampled[-1][0] == "the dog"


def test_a_bundled_model_a_visitor_trains_on_gets_a_preview_of_its_own():
    """Only the read-only bundled model's preview is shared between visitors: once a visitor trains on from it (the
    model keeps its bundle's origin), their preview is computed for them, never served from the shared ones."""
    from dataclasses import replace

    from lstm_demo.bundle import DEFAULT_BUNDLE
    from lstm_demo.ui.bundles import shared_bundle
    from lstm_demo.jobs import Experiment
    loaded = shared_bundle(DEFAULT_BUNDLE)
    ex = Experiment(loaded.data, loaded.model.cfg, loaded.train_cfg, model=loaded.model,
                    trained_steps=loaded.steps, origin=f"bundled:{DEFAULT_BUNDLE}", loaded=loaded, shared=True)
    assert ex.shared  # the previews are shared while the model is the read-only copy (ui/kinds/sequence.py once)
    ex.start(replace(ex.train_cfg, steps=2)).join()
    ex.finish_job()
    assert ex.origin.startswith("bundled:") and ex.trained_steps == loaded.steps + 2
    assert not ex.shared


def test_train_opens_on_the_bundled_model_of_the_preset_until_start():
    at = new("pages/1_Train.py").run()
    assert not at.exception, at.exception
    ref = [m.value for m in at.info if m.value.startswith("**Before you press Start:**")]
    assert ref and "exactly these settings" in ref[0]
    assert at.get("vega_lite_chart")  # its loss curve
    assert any("Text the model writes" in m.value for m in at.markdown)
    at.select_slider(key="text_hidden").set_value(8).run()
    ref = [m.value for m in at.info if m.value.startswith("**Before you press Start:**")]
    assert ref and "hidden units 64 (yours: 8)" in ref[0]
    small_settings(at)
    train_until_done(at)
    assert not any(m.value.startswith("**Before you press Start:**") for m in at.info)
    at.selectbox(key="text_source").set_value("__own__").run()  # data without a bundled model: no reference
    assert not any(m.value.startswith("**Before you press Start:**") for m in at.info)


def test_words_as_tokens_open_on_the_bundled_word_level_model_and_step_through_words():
    """Tokens: words — the data reads a word at a time, the reference is the bundled word-level model (its text in
    words), the fill-in offers no "hide" choice, and Step through reads the visitor's own sentence word by word."""
    at = new("pages/1_Train.py").run()
    at.radio(key="text_tokens").set_value("words").run()
    assert not at.exception, at.exception
    s = lab(at)
    assert s.data.tokens == "words" and s.data_id == ("text", "agreement:words")
    ref = [m.value for m in at.info if m.value.startswith("**Before you press Start:**")]
    assert ref and "exactly these settings" in ref[0] and "word-level LSTM" in ref[0]
    written = at.code[-1].value  # the text the bundled model writes, as words with a space between
    from lstm_demo.kinds.text_data import split_words
    assert len(split_words(written)) == 300 and "  " not in written and set(split_words(written)) <= set(s.data.vocab)
    at.radio(key="text_task").set_value("masked").run()
    assert not [r for r in at.radio if r.key == "text_hide"]
    step = new()  # the bundled word-level model by link (before training, Step through shows the default bundle)
    step.query_params["model"] = "agreement_words"
    step.switch_page("pages/2_Step_through.py").run()
    assert not step.exception, step.exception
    assert lab(step).experiment.origin == "bundled:agreement_words"
    step.radio(key="seq_source").set_value("own").run()
    step.text_input(key="seq_text").input("the dogs , that ate the fish , were full .").run()
    assert not step.exception, step.exception
    trace = lab(step).view.trace
    assert trace.inputs[:3] == ["the", "dogs", ","] and str(trace.extras["tokens"]) == "words"


def test_short_series_data_gets_a_sequence_length_it_can_fill():
    at = new("pages/1_Train.py").run()
    at.radio(key="kind").set_value("series").run()
    at.selectbox(key="series_source").set_value("stock_aapl").run()
    assert not at.exception, at.exception
    s = lab(at)
    n = len(s.data.values)
    seq_len = at.select_slider(key="series_seq_len").value
    assert seq_len == max(L for L in (8, 16, 32, 64) if 2 * (L + 2) <= n) < 64  # the longest offered that fits
    ref = [m.value for m in at.info if m.value.startswith("**Before you press Start:**")]
    assert ref and "exactly these settings" in ref[0]


def test_bad_own_text_keeps_the_trained_model_and_data():
    at = new("pages/1_Train.py").run()
    small_settings(at)
    at = train_until_done(at)
    ex, data = lab(at).experiment, lab(at).data
    at.selectbox(key="text_source").set_value("__own__").run()
    at.text_area(key="own_text_area").input("   \n  ")
    submit = next(b for b in at.get("button") if "Use this text" in str(b.proto.label))
    submit.click().run()
    assert not at.exception
    assert any("empty" in e.value and "Still using the previous data" in e.value for e in at.error)
    assert lab(at).experiment is ex and lab(at).data is data
    assert ex.trained_steps == 30


def test_explainer_views_follow_the_trace():
    """Diagram, equations, finder and what-if on a trained LSTM: numbers equal the trace; what-if starts at the
    step the browser reported (set here as the cursor would at rest)."""
    step, s = trained_step_through()
    ex, trace = s.experiment, s.view.trace
    unit = s.cursor.unit
    edges = named_dataset(step, "dg_terms").set_index("k")["value"]
    assert edges["f@5"] == pytest.approx(float(trace.get("forget_gate")[5, unit]), abs=1e-6)
    assert edges["c@5"] == pytest.approx(float(trace.get("cell_state")[5, unit]), abs=1e-6)
    assert edges["c_prev@5"] == pytest.approx(float(trace.get("cell_state")[4, unit]), abs=1e-6)

    step.segmented_control(key="panel").set_value("finder").run()
    assert not step.exception, step.exception
    step.selectbox(key="hyp_text").set_value("plural").run()
    said = lambda: [m.value for m in [*step.success, *step.info] if "unit u" in m.value]  # a match, or the closest
    assert len(said()) == 1 and "in this sequence" in said()[0]
    step.selectbox(key="hyp_text").set_value("sentence_end")
    step.radio(key="finder_over").set_value("windows").run()  # 16-character windows: sentence ends, not subjects
    assert not step.exception, step.exception
    assert "over the validation windows" in said()[0]
    best = int(said()[0].split("unit u")[1].split(",")[0])
    step.button(key="finder_pick").click().run()
    assert s.cursor.unit == best and step.selectbox(key="unit").value == best

    s.cursor.step = 5                      # the browser's cursor came to rest at step 5 and said so
    step.segmented_control(key="panel").set_value("whatif").run()
    step.radio(key="whatif_lstm").set_value("f0").run()
    assert not step.exception, step.exception
    changed = s.whatif[1]
    assert np.all(changed.get("forget_gate")[5:, best] == 0) and np.all(changed.get("forget_gate")[:5, best] > 0)
    assert ex.trained_steps == 30
    assert any("Largest change" in m.label for m in step.metric)
    s.cursor.step = 9                      # the cursor moved and came to rest again
    step.run()
    assert np.all(s.whatif[1].get("forget_gate")[:9, best] > 0)


@pytest.mark.parametrize("cell,bidirectional,layers", [("gru", True, 1), ("rnn", False, 1), ("lstm", True, 2)])
def test_gru_bidirectional_rnn_and_stacked_train_and_step(cell, bidirectional, layers):
    at = new("pages/1_Train.py").run()
    at.selectbox(key="text_cell").set_value(cell).run()
    at.select_slider(key="text_layers").set_value(layers).run()
    if bidirectional:
        at.radio(key="text_task").set_value("masked").run()
        at.checkbox(key="text_bidir").check().run()
    small_settings(at)
    at = train_until_done(at)
    assert not at.exception, at.exception
    cfg = lab(at).experiment.model_cfg
    assert (cfg.cell, cfg.bidirectional, cfg.task) == (cell, bidirectional, "masked" if bidirectional else "next")
    assert lab(at).scoreboard[-1]["steps"] == 30
    if bidirectional:  # the fill-in preview counts what its own mask hides (predict.blanks_heading)
        heading = next(m.value for m in at.markdown if m.value.startswith("**Fill in the blanks**"))
        assert " characters hidden (▮" in heading and "15 %" not in heading
    if cell == "rnn":  # the Train page's gate-saturation panel says why it has nothing to show
        assert any("no gates" in c.value for c in at.caption)
    step = at.switch_page("pages/2_Step_through.py").run()
    assert not step.exception, step.exception
    trace = lab(step).view.trace
    assert trace.cell == cell and trace.n_directions == (2 if bidirectional else 1)
    assert trace.n_layers == layers
    layer = layers - 1
    if layers > 1:
        step.radio(key="layer").set_value(layer).run()
    direction = 1 if bidirectional else 0
    if bidirectional:
        step.radio(key="direction").set_value(1).run()
        assert not step.exception, step.exception
        assert "▮" in "".join(trace.inputs)
    assert (lab(step).cursor.layer, lab(step).cursor.direction) == (layer, direction)
    unit = lab(step).cursor.unit
    h = named_dataset(step, "terms")["h"].to_numpy()
    assert np.allclose(h, trace.get("hidden_state", layer, direction)[:, unit], atol=1e-6)


def test_long_memory_opens_on_the_precomputed_race_and_its_unit_opens_the_bundled_lstm():
    at = new("pages/3_Long_memory.py").run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("**Precomputed:**") for m in at.info)
    assert any("What this run shows" in m.value for m in at.markdown) and len(at.get("vega_lite_chart")) >= 3
    from lstm_demo.memory import RaceRecord
    from lstm_demo.bundle import BUNDLE_DIR
    record = RaceRecord.from_json((BUNDLE_DIR / "race_default.json").read_text())
    at.button(key="lab_open_unit").click().run()
    assert not at.exception, at.exception
    s = lab(at)
    assert s.experiment.origin == "bundled:memory_lstm" and s.cursor.unit == record.results["unit"]["unit"]
    assert s.sequence.text == record.results["unit"]["sentence"]


def test_long_memory_race_then_open_the_remembering_unit():
    at = new("pages/3_Long_memory.py").run()
    assert not at.exception, at.exception
    at.slider(key="lab_range").set_value((0, 3))
    at.select_slider(key="lab_hidden").set_value(8)
    at.number_input(key="lab_steps").set_value(60).run()
    at.button(key="lab_start").click().run()
    race = lab(at).race
    race.join(90)
    at.run()
    assert not at.exception, at.exception
    assert race.status == "done" and any("Finished 60 steps" in m.value for m in at.success)
    assert any("What this run shows" in m.value for m in at.markdown)
    assert not any(m.value.startswith("**Precomputed:**") for m in at.info)
    unit = race.results["unit"]["unit"]
    at.button(key="lab_open_unit").click().run()
    assert not at.exception, at.exception
    s = lab(at)
    assert s.experiment.model is race.racers["lstm"].model and s.cursor.unit == unit
    trace = s.view.trace
    assert "".join(trace.inputs) + trace.targets[-1] == race.results["unit"]["sentence"]
    assert trace.inputs[s.cursor.step] == "w"  # the cursor waits on the verb


def _everything_shown(at) -> str:
    """All text the session renders plus a dump of its session state."""
    parts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)
    walk(at._tree)
    state = at.session_state
    parts += [f"{k}={state[k]!r}" for k in state]
    return "\n".join(parts)


def test_two_visitors_never_see_each_others_data_model_or_trace():
    secret = "zebra quartz ovulation mnemonic " * 40
    a = new("pages/1_Train.py").run()
    a.selectbox(key="text_source").set_value("__own__").run()
    a.text_area(key="own_text_area").input(secret)
    next(b for b in a.get("button") if "Use this text" in str(b.proto.label)).click().run()
    small_settings(a)
    a = train_until_done(a)
    a_step = a.switch_page("pages/2_Step_through.py").run()
    assert not a_step.exception, a_step.exception
    ex_a = lab(a_step).experiment
    assert ex_a.data.text == secret and "zebra" in _everything_shown(a_step)

    b = new("pages/1_Train.py").run()  # a second visitor, same process, at the same time
    small_settings(b)
    b = train_until_done(b)
    b_step = b.switch_page("pages/2_Step_through.py").run()
    ex_b = lab(b_step).experiment
    assert ex_b is not ex_a and ex_b.model is not ex_a.model and ex_b.data is not ex_a.data
    assert not set(ex_a.model.state_dict().values()) & set(ex_b.model.state_dict().values())
    shown_b = _everything_shown(b_step)
    assert "zebra" not in shown_b and "quartz" not in shown_b
    assert lab(b_step).view.trace is not lab(a_step).view.trace
    home_b = b.switch_page("app.py").run()
    assert "zebra" not in _everything_shown(home_b)


def _weights(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _unusable_model_file() -> bytes:
    """A well-formed file from this app whose data sample is too short for its sequence length."""
    import struct
    from lstm_demo.config import TrainConfig
    from lstm_demo.kinds.sequence import ModelConfig
    from lstm_demo.kinds.text_data import TextData
    from lstm_demo.models import build_model
    from lstm_demo.store import _canonical, save_bytes
    model = build_model(ModelConfig("text", vocab_size=2, hidden_size=3))
    raw = save_bytes(model, TextData("ab" * 40), TrainConfig(seq_len=16), 5)
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header["__metadata__"]["train_config"] = json.dumps({**json.loads(header["__metadata__"]["train_config"]),
                                                         "seq_len": 64})
    text = json.dumps(header).encode()
    return _canonical(struct.pack("<Q", len(text)) + text + raw[8 + n :])


@pytest.mark.parametrize("name,raw", [("evil.safetensors", b"\x80\x04\x95" + b"not a model" * 10),
                                      ("short.safetensors", _unusable_model_file()),
                                      ("empty.safetensors", b"")])
def test_a_bad_model_file_never_replaces_or_stops_the_current_model(name, raw):
    at = new("pages/1_Train.py").run()
    small_settings(at)
    at = train_until_done(at)
    ex = lab(at).experiment
    before = _weights(ex.model)
    at.file_uploader(key="model_upload").set_value((name, raw, "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert any("Nothing was changed" in e.value for e in at.error), [e.value for e in at.error]
    assert lab(at).experiment is ex and ex.trained_steps == 30
    assert all(torch.equal(v, ex.model.state_dict()[k]) for k, v in before.items())
    at.button(key="start").click().run()  # and it can still be trained further
    assert lab(at).experiment is ex and ex.job is not None
    ex.job.stop()
    ex.job.join(30)


@pytest.mark.parametrize("raw", [b"v\n1\n1e309\n3\n", b"\x00\x01\x02binary", b"v\n7\n7\n7\n7\n",
                                 b"a,b\n1,2,3\n4,5,6\n"])
def test_a_bad_csv_keeps_the_series_data_and_model(raw):
    at = new("pages/1_Train.py").run()
    at.radio(key="kind").set_value("series").run()
    small_settings(at, "series")
    at = train_until_done(at)
    ex, data = lab(at).experiment, lab(at).data
    before = _weights(ex.model)
    at.selectbox(key="series_source").set_value("__own__").run()
    at.file_uploader(key="own_csv_file").set_value(("bad.csv", raw, "text/csv")).run()
    use = [b for b in at.get("button") if "Use this series" in str(b.proto.label)]
    if use:  # the file parsed and has a numeric column: the series itself is refused on use
        use[0].click().run()
    assert not at.exception, at.exception
    assert any("Still using the previous data" in e.value for e in at.error), [e.value for e in at.error]
    assert lab(at).experiment is ex and lab(at).data is data and ex.trained_steps == 30
    assert all(torch.equal(v, ex.model.state_dict()[k]) for k, v in before.items())


def test_training_step_slider_replays_a_checkpoint_and_the_unit_across_training():
    step, s = trained_step_through()
    ex, unit = s.experiment, s.cursor.unit
    slider = step.select_slider(key="training_step")
    assert slider.value == 30 and len(ex.all_checkpoints()) == 31          # every step of a 30-step run kept
    final_h = named_dataset(step, "terms")["h"].to_numpy()
    slider.set_value(0).run()                                               # the untrained weights
    assert not step.exception, step.exception
    assert s.checkpoint == 0 and s.view.key[-1] == 0
    early_h = named_dataset(step, "terms")["h"].to_numpy()
    from lstm_demo.kinds.sequence import trace_sequence
    reference = trace_sequence(ex.checkpoint_model(0), ex.data, s.view.seq, check=False)
    assert np.allclose(early_h, reference.get("hidden_state")[:, unit], atol=1e-6) and not np.allclose(early_h,
                                                                                                       final_h)
    assert named_dataset(step, "mark")["step"].tolist() == [0]             # the loss curve marks where we are
    step.segmented_control(key="panel").set_value("training").run()
    assert not step.exception, step.exception
    across = s.across[1]                                          # (checkpoints, T, units)
    assert across.shape[0] == 31 and np.allclose(across[0, :, unit], reference.get(s.cursor.colour)[:, unit],
                                                  atol=2e-3)


def _saved(kind: str) -> tuple:
    """A model file of each kind whose settings are NOT the Train page's presets (sizes no widget offers, every
    option changed): (file bytes, model config, train config)."""
    from lstm_demo.config import TrainConfig
    from lstm_demo.kinds.cnnlstm import CNNLSTMConfig
    from lstm_demo.kinds.convlstm import ConvLSTMConfig
    from lstm_demo.kinds.frames_data import FramesData
    from lstm_demo.kinds.seq2seq import Seq2SeqConfig
    from lstm_demo.kinds.sequence import ModelConfig
    from lstm_demo.kinds.series_data import SeriesData
    from lstm_demo.kinds.text_data import TextData
    from lstm_demo.kinds.translation_data import TranslationData
    from lstm_demo.models import build_model
    from lstm_demo.store import save_bytes
    if kind == "text":
        data = TextData("the cats were full. the dog was happy. " * 12)
        cfg = ModelConfig("text", vocab_size=len(data.vocab), embed_size=24, hidden_size=100, num_layers=2, cell="gru",
                          task="masked", bidirectional=True)
        tc = TrainConfig(seq_len=100, batch_size=8, lr=2e-3, steps=50, seed=3, grad_clip=0.0, hide="words")
    elif kind == "series":
        data = SeriesData(np.sin(np.arange(600) / 7.0), name="a sine", unit="m")
        cfg = ModelConfig("series", embed_size=20, hidden_size=40, cell="rnn")
        tc = TrainConfig(seq_len=32, batch_size=16, lr=1e-3, steps=70, seed=5)
    elif kind == "frames":
        data = FramesData("shapes", steps=4, frame=12)
        cfg = ConvLSTMConfig(hidden_channels=6, kernel=5, height=12, width=12, peephole=True)
        tc = TrainConfig(batch_size=8, lr=3e-3, steps=40, seed=2)
    elif kind == "digits":
        data = FramesData("first_digit", steps=3, frame=12)
        cfg = CNNLSTMConfig(frame=12, conv_channels=6, embed_size=24, hidden_size=20)
        tc = TrainConfig(batch_size=8, lr=1e-3, steps=30, seed=1)
    elif kind == "melody":
        from lstm_demo.kinds.music import MelodyData
        data = MelodyData("ryans", transpose=True, seed=4)
        cfg = ModelConfig("melody", vocab_size=len(data.vocab), embed_size=20, hidden_size=100, num_layers=3,
                          cell="gru")
        tc = TrainConfig(seq_len=100, batch_size=8, lr=2e-3, steps=60, seed=6, grad_clip=0.0)
    elif kind == "captions":
        from lstm_demo.kinds.captioner import CaptionerConfig
        from lstm_demo.kinds.captions_data import CaptionData
        data = CaptionData(max_shapes=2, seed=7)
        cfg = CaptionerConfig(vocab_size=len(data.vocab), conv_channels=6, embed_size=12, hidden_size=40,
                              attention_size=20, attention=False, max_words=data.max_words + 3)
        tc = TrainConfig(batch_size=24, lr=2e-3, steps=30, seed=6, grad_clip=0.0)
    else:
        data = TranslationData("copy", 5)
        cfg = Seq2SeqConfig(vocab_size=len(data.vocab), embed_size=12, hidden_size=100, num_layers=2,
                            reverse_source=True, attention=True)
        tc = TrainConfig(batch_size=16, lr=2e-3, steps=25, seed=4)
    return save_bytes(build_model(cfg, seed=9), data, tc, 7), cfg, tc


@pytest.mark.parametrize("kind", ["text", "series", "frames", "digits", "translation", "melody", "captions"])
def test_opening_a_model_file_restores_the_train_pages_settings_exactly(kind):
    """Open -> the widgets show the file's config (also sizes the presets do not offer) -> Start trains exactly that
    config and the opened weights: nothing is reset."""
    raw, cfg, tc = _saved(kind)
    at = new("pages/1_Train.py").run()
    at.file_uploader(key="model_upload").set_value((f"{kind}.safetensors", raw, "application/octet-stream")).run()
    assert not at.exception, at.exception
    s = lab(at)
    ex = s.experiment
    assert ex.origin == f"file:{kind}.safetensors" and ex.trained_steps == 7
    assert ex.model_cfg == cfg and s.train.settings[kind] == (cfg, tc)
    assert not any("reset" in m.value for m in at.info), [m.value for m in at.info]
    size = {"frames": "hidden_channels"}.get(kind, "hidden_size")
    assert at.select_slider(key=f"{kind}_hidden").value == getattr(cfg, size)
    assert at.number_input(key=f"{kind}_steps").value == tc.steps
    assert at.number_input(key=f"{kind}_seed").value == tc.seed
    at.button(key="start").click().run()
    assert not at.exception, at.exception
    assert lab(at).experiment is ex and ex.job is not None
    assert ex.job.cfg == tc and ex.model_cfg == cfg
    ex.job.stop()
    ex.job.join(60)
    ex.finish_job()
    assert ex.trained_steps >= 7  # continued from the opened weights, not from new random ones


@pytest.mark.parametrize("model", ["agreement", "places_bi", "python_stacked", "sine", "numbers"])
def test_every_more_views_panel_of_a_bundled_model_draws_without_an_error(model):
    """Each panel a bundled model offers (every kind that has them, a bidirectional and a stacked one) renders: the export panel once
    raised KeyError for every bundled model."""
    from lstm_demo.ui.step import PANEL_LABELS
    at = new()
    at.query_params["model"] = model
    at.switch_page("pages/2_Step_through.py").run()
    assert not at.exception, at.exception
    assert lab(at).experiment.origin == f"bundled:{model}"
    offered = [p for p, label in PANEL_LABELS.items() if label in at.segmented_control(key="panel").options]
    assert "heatmaps" in offered and len(offered) >= 2, offered
    for panel in offered:
        at.segmented_control(key="panel").set_value(panel).run()
        assert not at.exception, (panel, at.exception)
        assert not at.error, (panel, [e.value for e in at.error])
        assert lab(at).cursor.panel == panel


def test_a_melody_of_ones_own_seeds_the_model_and_a_bad_one_is_refused_keeping_it():
    """Train page, melodies, before Start (the bundled model's preview): a typed melody becomes the seed phrase and
    what was changed to fit the model's tokens is said; a bad one is refused in words and the first one stays."""
    at = new("pages/1_Train.py").run()
    at.radio(key="kind").set_value("melody").run()
    at.radio(key="melody_seed_source").set_value("yours").run()
    assert not at.exception, at.exception
    submit = lambda: next(b for b in at.get("button") if "Use this melody" in str(b.proto.label))  # noqa: E731
    at.text_area(key="melody_text").input("M:3/4 K:G  D4 q | G4 q. A4 e B4 q | D5 h B4 q | G4 h. | A4 e3 B4 e3 C5 e3 "
                                          "D5 h")
    submit().click().run()
    assert not at.exception, at.exception
    words = [m.value for m in at.markdown]
    assert any("after your melody “typed melody” as the seed phrase" in w for w in words), words
    assert any(i.value.startswith("To fit this model's tokens:") for i in at.info)  # the triplets are split
    assert lab(at).kept["melody_upload"][0] == "typed melody"
    at.text_area(key="melody_text").input("M:3/4 H9 q")
    submit().click().run()
    assert not at.exception, at.exception
    assert any("not a note name" in e.value and "Still using your melody “typed melody”" in e.value
               for e in at.error), [e.value for e in at.error]
    assert any("after your melody “typed melody”" in m.value for m in at.markdown)


def test_step_through_a_caption_own_scene_impossible_layout_teacher_toggle_and_temperature():
    """Step through on the bundled captioner: a held-out picture free-running, then teacher-forced (the trace reads
    the truth); the visitor's own scene (its caption follows an edit); an impossible layout gets a message and the
    last good scene stays; the sampled caption is the core's, greedy at temperature 0 and the same on a rerun."""
    from lstm_demo.kinds.captioner import sampled_caption
    from lstm_demo.kinds.captions import sample_sentence
    from lstm_demo.kinds.captions_data import START, SHOWCASE, caption
    at = new()
    at.query_params["model"] = "shapes_captions"
    at.switch_page("pages/2_Step_through.py").run()
    assert not at.exception, at.exception
    s = lab(at)
    ex, trace = s.experiment, s.view.trace
    assert ex.origin == "bundled:shapes_captions" and trace.kind == "captions"
    assert not trace.extras["teacher"] and trace.extras["attention"].shape == (trace.n_steps, 16)

    def sampling_said():
        return [m.value for m in at.markdown if m.value.startswith("At temperature ")]

    image, truth = trace.extras["image"], str(trace.extras["caption"])
    said = sampled_caption(ex.model, ex.data, image, 1.0, 0)
    greedy = sampled_caption(ex.model, ex.data, image, 0, 0)
    assert sampling_said() == [sample_sentence(said, greedy, truth, 1.0, 0)]
    at.slider(key="cap_temperature").set_value(0.0).run()
    assert sampling_said() == [sample_sentence(greedy, greedy, truth, 0, 0)]
    assert any(c.value.startswith("✓ The caption shown is the model's greedy output") for c in at.caption)
    at.slider(key="cap_temperature").set_value(2.5).run()
    at.number_input(key="cap_sample_seed").set_value(42).run()
    hot = sampling_said()
    assert hot == [sample_sentence(sampled_caption(ex.model, ex.data, image, 2.5, 42), greedy, truth, 2.5, 42)]
    at.run()
    assert sampling_said() == hot  # a rerun draws the same words

    at.radio(key="cap_mode").set_value("teacher").run()
    assert not at.exception, at.exception
    forced = lab(at).view.trace
    assert forced.extras["teacher"] and not trace.extras["teacher"]
    assert forced.inputs == [START] + truth.split() and forced.targets[:-1] == truth.split()

    at.radio(key="cap_source").set_value("own").run()
    assert not at.exception, at.exception
    assert lab(at).sequence.layout == tuple(SHOWCASE)
    at.selectbox(key="cap_colour_0").set_value("green").run()
    at.checkbox(key="cap_on_2").check().run()  # a small green triangle, top right, clear of the others
    good = lab(at).sequence.layout
    assert len(good) == 3 and good[0].colour == "green" and not at.error
    assert str(lab(at).view.trace.extras["caption"]) == caption(good)
    assert lab(at).view.trace.inputs == [START] + caption(good).split()  # still teacher-forced
    at.selectbox(key="cap_size_2").set_value("big").run()  # now it reaches into the big blue square
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["The big blue square (shape 2) overlaps the big green triangle (shape 3); "
                                           "move one of them. Showing the last scene that worked."]
    assert lab(at).sequence.layout == good and str(lab(at).view.trace.extras["caption"]) == caption(good)
    at.selectbox(key="cap_size_2").set_value("small").run()
    assert not at.error and lab(at).sequence.layout == good
