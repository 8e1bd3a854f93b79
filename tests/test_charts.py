"""Chart builders checked through the Vega-Lite spec they produce."""
import numpy as np
import pandas as pd

from lstm_demo import charts


def layers(spec):
    return spec["layer"]


def test_heatmap_scales_cursor_and_labels():
    values = np.linspace(-3, 2, 40).reshape(10, 4)  # (T, H)
    gate = charts.heatmap_spec("forget_gate", 0, np.clip(values, 0, 1))
    cell = charts.heatmap_spec("cell_state", 1, values, n_layers=2)
    hidden = charts.heatmap_spec("hidden_state", 0, np.tanh(values))
    color = lambda s: next(l["encoding"]["color"]["scale"] for l in layers(s) if "color" in l["encoding"])
    assert color(gate)["domain"] == [0, 1] and color(gate)["scheme"] == "viridis"
    assert color(hidden)["domain"] == [-1, 1]
    assert color(cell)["domain"] == [-3.0, 3.0]  # symmetric: 0 sits in the middle of the scale
    assert any(l["data"] == {"name": "cursor"} and l["mark"]["type"] == "rule" for l in layers(gate))
    assert "after sigmoid" in gate["title"] and "layer 2 of 2" in cell["title"]
    image = next(l for l in layers(gate) if l["mark"]["type"] == "image")
    url = gate["datasets"][image["data"]["name"]].to_pylist()[0]["url"]
    assert url.startswith("data:image/png;base64,")


def test_heatmap_spec_does_not_change_with_the_cursor():
    values = np.random.default_rng(0).random((20, 5))
    spec = charts.heatmap_spec("input_gate", 0, values)
    a = charts.with_data(spec, cursor=charts.cursor_frame(3))
    b = charts.with_data(spec, cursor=charts.cursor_frame(4))
    assert {k: v for k, v in a.items() if k != "datasets"} == {k: v for k, v in b.items() if k != "datasets"}
    assert set(spec["datasets"]) <= set(a["datasets"])  # Altair's inline data is kept next to the cursor


def test_colour_ramp_ends():
    rgb = charts._ramp(np.array([0.0, 1.0]), 0, 1, "viridis")
    assert rgb[0].tolist() == [0x44, 0x01, 0x54] and rgb[1].tolist() == [0xFD, 0xE7, 0x25]


def test_loss_chart_has_train_and_validation_on_a_log_scale():
    frame = pd.DataFrame({"step": [1, 2, 2], "loss": [3.0, 2.0, 2.5], "split": ["train", "train", "validation"]})
    spec = charts.loss_chart(frame, "text").to_dict()
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert "cross-entropy" in spec["layer"][0]["encoding"]["y"]["title"]


def test_text_strip_marks_the_current_character():
    chars, cursor = charts.text_strip_frames(list("hello world\n"), 7)
    assert chars["char"].tolist()[5] == "·" and chars["char"].tolist()[-1] == "⏎"
    assert cursor.to_dict("records") == [{"step": 7, "row": 0, "col": 7}]


def test_saturation_chart_facets_one_gate_per_panel():
    sat = pd.DataFrame({"layer": 0, "unit": [0, 1, 0, 1], "gate": ["forget_gate"] * 2 + ["input_gate"] * 2,
                        "left": [0.1, 0.2, 0.3, 0.4], "right": [0.5, 0.6, 0.7, 0.8]})
    spec = charts.saturation_chart(sat, "t").to_dict()
    assert spec["facet"]["column"]["field"] == "gate_label"
    points = next(l for l in spec["spec"]["layer"] if l["mark"]["type"] == "circle")
    assert "data" not in points  # the points take the facet's data, so each panel shows only its gate


def test_diagram_spec_is_the_same_at_every_step():
    spec = charts.diagram_spec("LSTM cell, unit u3")
    assert {l.get("data", {}).get("name") for l in spec["layer"]} == {"edges", "nodes"}
