"""Chart builders checked through the Vega-Lite spec or the image they produce (step views: test_step_charts.py)."""
import base64
import io

import numpy as np
import pytest
import pandas as pd
from PIL import Image

from lstm_demo import charts


def test_colour_scales_gates_zero_to_one_states_symmetric():
    values = np.linspace(-3, 2, 40).reshape(10, 4)
    assert charts.color_scale("forget_gate").domain == [0, 1] and charts.color_scale("forget_gate").scheme == "viridis"
    assert charts.color_scale("hidden_state").domain == [-1, 1]
    assert charts.color_scale("cell_state", values).domain == [-3.0, 3.0]  # 0 sits in the middle of the scale


def test_colour_ramp_ends():
    rgb = charts.ramp(np.array([0.0, 1.0]), 0, 1, "viridis")
    assert rgb[0].tolist() == [0x44, 0x01, 0x54] and rgb[1].tolist() == [0xFD, 0xE7, 0x25]


def test_heatmap_image_puts_each_unit_and_step_in_its_own_block():
    """Decode the PNG: unit u at step t is the block at row u, column t, coloured by the value (viridis 0…1)."""
    values = np.zeros((8, 3))    # (T, H)
    values[5, 2] = 1.0           # one bright cell: step 5, unit 2
    decode = lambda url: np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
    pixels = decode(charts.heatmap_image("forget_gate", values))  # one pixel per cell, scaled by the page
    assert pixels.shape == (3, 8, 3) and pixels[2, 5].tolist() == [0xFD, 0xE7, 0x25]
    assert pixels[0, 0].tolist() == [0x44, 0x01, 0x54] and (pixels.sum(-1) > 0).all()
    image = decode(charts.heatmap_image("forget_gate", values, blocks=True))  # for files: blocks of pixels
    cell_w, cell_h = 1024 // 8, 256 // 3
    assert image.shape == (3 * cell_h, 8 * cell_w, 3)
    bright = image[2 * cell_h + 1, 5 * cell_w + 1]
    dark = image[0, 0]
    assert bright.tolist() == [0xFD, 0xE7, 0x25] and dark.tolist() == [0x44, 0x01, 0x54]
    assert (image[2 * cell_h : 3 * cell_h, 5 * cell_w : 6 * cell_w] == bright).all()


def test_loss_chart_has_train_and_validation_on_a_log_scale():
    frame = charts.loss_frame([(1, 3.0), (2, 2.0), (3, float("nan"))], [(2, 2.5)])
    assert frame["split"].tolist() == ["train", "train", "validation"]  # NaN dropped: a log scale cannot show it
    spec = charts.loss_spec("cross-entropy (nats per character)", marked=True)
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert "cross-entropy" in spec["layer"][0]["encoding"]["y"]["title"]
    assert {l["data"]["name"] for l in spec["layer"]} == {"loss", "mark"}


def test_saturation_chart_facets_one_gate_per_panel():
    sat = pd.DataFrame({"layer": 0, "unit": [0, 1, 0, 1], "gate": ["forget_gate"] * 2 + ["input_gate"] * 2,
                        "left": [0.1, 0.2, 0.3, 0.4], "right": [0.5, 0.6, 0.7, 0.8]})
    spec = charts.saturation_chart(sat, "t").to_dict()
    assert spec["facet"]["column"]["field"] == "gate_label"
    points = next(l for l in spec["spec"]["layer"] if l["mark"]["type"] == "circle")
    assert "data" not in points  # the points take the facet's data, so each panel shows only its gate


@pytest.mark.parametrize("shape", ["single", "layered", "faceted", "stacked", "untitled"])
def test_configured_spec_gives_what_configure_gives(shape):
    """The two ways a chart gets the shared settings — on altair's chart (configure, for st.altair_chart) and on the
    spec dict (configured_spec, the step views) — give the same spec: sizing, padding, description, config."""
    import altair as alt
    import pandas as pd

    from lstm_demo.charts import configure, configured_spec, fit_width
    from lstm_demo.view_store import arrow
    frame = pd.DataFrame({"x": [0, 1, 2, 3], "y": [0.5, -0.2, 0.1, 0.9], "g": ["a", "a", "b", "b"]})
    line = alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q")
    chart = {"single": line.properties(title="One line", width="container"),
             "layered": alt.layer(line, line.mark_point()).properties(title=["Two", "lines"], width="container"),
             "faceted": line.encode(column="g:N").properties(title=alt.TitleParams("Panels", subtitle="by g")),
             "stacked": alt.vconcat(line.properties(width="container"), line.properties(width="container"),
                                    title="Stacked"),
             "untitled": line}[shape]
    old = fit_width(configure(chart).to_dict(validate=False))  # the chart route, then sized as a dict
    old["datasets"] = {k: arrow(v) for k, v in old.get("datasets", {}).items()}
    new = configured_spec(chart)
    assert {k: v for k, v in new.items() if k != "datasets"} == {k: v for k, v in old.items() if k != "datasets"}
    assert {k: bytes(v) for k, v in new["datasets"].items()} == {k: bytes(v) for k, v in old["datasets"].items()}
