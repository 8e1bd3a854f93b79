"""The step-following views of the two LSTMs that see, drawn in the browser at the cursor (as step_charts.py: every
step's data is sent once, the `step` parameter picks what shows). Pure Altair; no Streamlit, no torch.

Frames and maps travel as small PNG images, one pixel per pixel (the page scales them up without smoothing): a
ConvLSTM's 6 quantities × 8 channels × 12 steps are 576 images of 16×16, about 100 kB, and a move of the cursor
only changes which of them show.
"""
from __future__ import annotations

import base64
import io

import altair as alt
import numpy as np
import pandas as pd

from ..charts import COLORS
from ..colours import ramp, scale_of
from ..step_charts import AT_STEP, finish, text_rule

MAP_QUANTITIES = ("forget_gate", "input_gate", "candidate", "output_gate", "cell_state", "hidden_state")
MAP_NAMES = {"forget_gate": "f forget", "input_gate": "i input", "candidate": "g candidate",
             "output_gate": "o output", "cell_state": "c cell", "hidden_state": "h hidden"}
_GREYS = np.array([[255, 255, 255], [0, 0, 0]], dtype=float)


def png(rgb: np.ndarray) -> str:
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def grey_url(image: np.ndarray) -> str:
    """A frame in [0, 1] -> PNG data URL, ink dark on white (NaN: a light grey 'no frame')."""
    v = np.clip(np.nan_to_num(image, nan=0.0), 0, 1)[..., None]
    rgb = (_GREYS[0] * (1 - v) + _GREYS[1] * v).round().astype(np.uint8)
    if np.isnan(image).all():
        rgb[:] = 235
    return png(rgb)


def map_url(values: np.ndarray, quantity: str, scale_values: np.ndarray) -> str:
    """A map coloured as the step views colour its quantity (colours.scale_of over scale_values): gates 0…1
    viridis; g, h −1…1 red-blue; c red-blue symmetric over scale_values (blue < 0 < red)."""
    scheme, lo, hi, reverse = scale_of(quantity, scale_values)
    return png(ramp(values, lo, hi, scheme, reverse))


def _image_grid(data: str, col: str, row: str | None, size: int, col_title, row_title, col_sort=None, row_sort=None,
                title="", font: float = 13, col_labels: str | None = None) -> alt.Chart:
    """Images at the cursor placed on a grid of bands (col × row)."""
    # the orders given are the scales' domains: domains taken from the data at the cursor would be recomputed, and
    # every image re-encoded, at every step
    enc = {"x": alt.X(f"{col}:O", title=col_title, sort=col_sort,
                      axis=alt.Axis(labelAngle=0, orient="top", labelFontSize=font, titleFontSize=font,
                                    labelExpr=col_labels or alt.Undefined),
                      scale=alt.Scale(domain=col_sort) if col_sort else alt.Undefined),
           "url": "url:N"}
    if row:
        enc["y"] = alt.Y(f"{row}:O", title=row_title, sort=row_sort, axis=alt.Axis(labelFontSize=font),
                         scale=alt.Scale(domain=row_sort) if row_sort else alt.Undefined)
    chart = alt.Chart(alt.NamedData(data)).transform_filter(AT_STEP).mark_image(
        width=size, height=size, aspect=False).encode(**enc)
    return chart.properties(width=alt.Step(size + 8), height=alt.Step(size + 8) if row else size + 8, title=title)


# --- ConvLSTM ------------------------------------------------------------------------------------------------------

def convlstm_frames(trace) -> dict:
    """Datasets of the frame views: "frames" (step, panel, url) and "scores" (step, mse, copy_mse, text)."""
    ex = trace.extras
    rows = []
    for t in range(trace.n_steps):
        rows += [{"step": t, "panel": "1 input frame t", "url": grey_url(ex["frames"][t])},
                 {"step": t, "panel": "2 predicted frame t+1", "url": grey_url(ex["predicted"][t])},
                 {"step": t, "panel": "3 true frame t+1", "url": grey_url(ex["truth"][t])}]
    from ..step_charts import lines
    p = trace.predictions
    text = [(f"Step {t}: squared error of the prediction {m:.4f} — “copy frame t” would make {c:.4f}"
             + (f" ({c / m:.1f}× worse)" if m > 0 and c >= m else ""))
            if np.isfinite(m) else f"Step {t}: the last frame — there is no true next frame to compare with"
            for t, m, c in zip(p["step"], p["mse"], p["copy_mse"])]
    chars = int(frames_width() / (FRAME_WORDS_FONT * 0.56))  # lines as wide as the three frames
    return {"frames": pd.DataFrame(rows), "scores": p.assign(text=["\n".join(lines(x, chars)) for x in text])}


FRAME_SIZE = 150        # px: each of the three frames
FRAME_WORDS_FONT = 15   # px: the sentence under them


def frames_width(size: int = FRAME_SIZE) -> int:
    return 3 * size + 32


def _framed(data: str, where: str, size: int, title: str) -> alt.LayerChart:
    """One image at the cursor (rows of `data` matching `where`), in a grey frame, with a title."""
    base = alt.Chart(alt.NamedData(data)).transform_filter(AT_STEP).transform_filter(where)
    image = base.mark_image(width=size, height=size, aspect=False, align="left", baseline="top").encode(
        x=alt.value(0), y=alt.value(0), url="url:N")
    border = alt.Chart(alt.Data(values=[{"one": 1}])).mark_rect(fill=None, stroke="#999", strokeWidth=1).encode(
        x=alt.value(0), x2=alt.value(size), y=alt.value(0), y2=alt.value(size))
    return alt.layer(image, border).properties(width=size, height=size, title=alt.TitleParams(title, fontSize=15))


def convlstm_frames_spec(size: int = FRAME_SIZE, word_lines: int = 2) -> dict:
    """The input frame, the predicted and the true next frame at the cursor, and a sentence of word_lines lines
    under them (convlstm_frames breaks it to the frames' width). Datasets "frames", "scores"."""
    panels = (("1 input frame t", "input: frame t"), ("2 predicted frame t+1", "predicted: frame t+1"),
              ("3 true frame t+1", "truth: frame t+1"))
    grid = alt.hconcat(*[_framed("frames", f"datum.panel == '{p}'", size, title) for p, title in panels],
                       spacing=16)
    words = alt.Chart(alt.NamedData("scores")).transform_filter(AT_STEP).mark_text(
        align="left", baseline="top", fontSize=FRAME_WORDS_FONT, color="#333", lineBreak="\n", lineHeight=19).encode(
        x=alt.value(0), y=alt.value(0), text="text:N").properties(height=19 * word_lines + 3, width=frames_width(size))
    return finish(alt.vconcat(grid, words, spacing=8).properties(
        title="What the ConvLSTM sees and predicts at the cursor"))


def convlstm_maps(trace, channels: int = 8) -> pd.DataFrame:
    """Dataset "maps": (step, quantity, channel, url) for every step, quantity and the first `channels` channels."""
    rows = []
    for q in MAP_QUANTITIES:
        values = trace.quantities[q][0, 0]                               # (T, C, H, W)
        for ch in range(min(channels, values.shape[1])):
            for t in range(values.shape[0]):  # c: each channel on its own symmetric scale
                rows.append({"step": t, "quantity": MAP_NAMES[q], "channel": f"ch {ch}",
                             "url": map_url(values[t, ch], q, values[:, ch])})
    return pd.DataFrame(rows)


MAPS_TITLE = "Gates and states as maps at the cursor (gates: dark = shut, yellow = open; g, c, h: blue < 0 < red)"


def convlstm_maps_spec(channels: int, size: int = 64, compact: bool = False) -> dict:
    """Every gate, the candidate, c and h as a map per channel, at the cursor. compact: the presenter view's —
    smaller maps, larger letters, so the scene's diagram and equations fit the projector's screen below them."""
    from ..step_charts import wrap
    order = [MAP_NAMES[q] for q in MAP_QUANTITIES]
    font = 16 if compact else 13
    title = alt.TitleParams(wrap(MAPS_TITLE, 52 if compact else 90), fontSize=16, limit=0)
    chart = _image_grid("maps", "channel", "quantity", 34 if compact else size, "channel", None,
                        col_sort=[f"ch {c}" for c in range(channels)], row_sort=order, title=title, font=font,
                        col_labels="replace(datum.label, 'ch ', '')" if compact else None)
    return finish(chart)


def pixel_grid(trace, channel: int, y: int, x: int) -> pd.DataFrame:
    """Dataset "pixels": (step, x, y, value, picked) of the input frame, one row per pixel and step, for picking."""
    frames = trace.extras["frames"]                                      # (T, H, W)
    T, H, W = frames.shape
    t, yy, xx = (a.ravel() for a in np.meshgrid(np.arange(T), np.arange(H), np.arange(W), indexing="ij"))
    return pd.DataFrame({"step": t, "x": xx, "y": yy, "value": frames.ravel(),
                         "picked": (yy == y) & (xx == x)})


def pixel_pick_spec(side: int, size: int = 220) -> dict:
    """The input frame at the cursor as a grid of cells; clicking one picks that pixel (the selection "pixel")."""
    pick = alt.selection_point(name="pixel", fields=["x", "y"], on="click", clear=False, empty=False)
    scale = lambda: alt.Scale(domain=list(range(side)))
    base = alt.Chart(alt.NamedData("pixels")).transform_filter(AT_STEP)
    cells = base.mark_rect(stroke="#ddd", strokeWidth=0.5).encode(
        x=alt.X("x:O", scale=scale(), axis=None), y=alt.Y("y:O", scale=scale(), axis=None),
        color=alt.Color("value:Q", scale=alt.Scale(domain=[0, 1], range=["white", "black"]), legend=None),
        tooltip=[alt.Tooltip("x:Q", title="column"), alt.Tooltip("y:Q", title="row"),
                 alt.Tooltip("value:Q", format=".2f", title="ink")]).add_params(pick)
    mark = base.transform_filter("datum.picked").mark_rect(fill=None, stroke="#e15759", strokeWidth=3).encode(
        x=alt.X("x:O", scale=scale(), axis=None), y=alt.Y("y:O", scale=scale(), axis=None))
    return finish(alt.layer(cells, mark).properties(width=size, height=size, title="Click a pixel to explain it"))


def pixel_gates_frame(terms: pd.DataFrame) -> pd.DataFrame:
    """Dataset "pix": (step, quantity, value) of one channel at one pixel, from explain.step_terms."""
    names = {"f": "forget_gate", "i": "input_gate", "o": "output_gate", "g": "candidate", "c": "cell_state",
             "h": "hidden_state"}
    long = terms.melt(id_vars="step", value_vars=list(names), var_name="term", value_name="value")
    return long.assign(quantity=long["term"].map(names))


def pixel_gates_spec(label: str, n_steps: int) -> dict:
    """The chosen pixel's gates over time as a heatmap (0…1) with the cursor."""
    from ..step_charts import STEP_AXIS, heading
    gate_order = ["f", "i", "o"]
    steps = alt.Scale(domain=[-0.5, n_steps - 0.5], nice=False, zero=False)
    heat = alt.Chart(alt.NamedData("pix")).transform_filter(alt.FieldOneOfPredicate("term", gate_order)) \
        .transform_calculate(x0="datum.step - 0.5", x1="datum.step + 0.5").mark_rect().encode(
        x=alt.X("x0:Q", scale=steps, title="time step", axis=STEP_AXIS), x2="x1:Q",
        y=alt.Y("term:N", sort=gate_order, title="gate", axis=alt.Axis(labelFontSize=15, minExtent=50)),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]), title="gate value",
                        legend=alt.Legend(orient="top", gradientLength=160)),
        tooltip=["step:Q", "term:N", alt.Tooltip("value:Q", format=".3f")])
    cursor = text_rule().mark_rule(color="black", strokeWidth=3, clip=True).encode(x=alt.X("step:Q", scale=steps))
    return finish(alt.layer(heat, cursor).properties(
        height=110, width="container", title=heading(f"{label}: its gates at every step (black line: the cursor)",
                                                     chars=80)))


def pixel_states_spec(label: str, n_steps: int) -> dict:
    """The chosen pixel's g, c and h over time as lines (a legend names them), with the cursor."""
    from ..step_charts import STEP_AXIS, heading
    steps = alt.Scale(domain=[-0.5, n_steps - 0.5], nice=False, zero=False)
    line_colors = {t: COLORS[q] for t, q in (("g", "candidate"), ("c", "cell_state"), ("h", "hidden_state"))}
    names = {"g": "g candidate", "c": "c cell state", "h": "h hidden state"}
    lines = alt.Chart(alt.NamedData("pix")).transform_filter(alt.FieldOneOfPredicate("term", list(line_colors))) \
        .mark_line(point=True).encode(
        x=alt.X("step:Q", scale=steps, title="time step", axis=STEP_AXIS),
        y=alt.Y("value:Q", title="value", axis=alt.Axis(minExtent=50)),
        color=alt.Color("term:N", scale=alt.Scale(domain=list(line_colors), range=list(line_colors.values())),
                        legend=alt.Legend(orient="top", title=None, labelExpr=" || ".join(
                            f"(datum.label == '{k}' && '{v}')" for k, v in names.items()))))
    cursor = text_rule().mark_rule(color="black", strokeWidth=3, clip=True).encode(x=alt.X("step:Q", scale=steps))
    return finish(alt.layer(lines, cursor).properties(
        height=150, width="container", title=heading(f"{label}: its candidate, cell state and hidden state",
                                                     chars=80)))


# --- CNN-LSTM ------------------------------------------------------------------------------------------------------

def cnn_frames(trace, maps_shown: int = 16) -> dict:
    """Datasets: "strip" (step, url, answer) of every frame, and "fmaps" (step, map, url) of the first
    convolution's maps per step (viridis, 0 … the largest activation in the sequence)."""
    ex = trace.extras
    probs, label = ex["probs"], ex["label"]
    strip = [{"step": t, "url": grey_url(ex["frames"][t]),
              "answer": f"after frame {t}: {int(np.argmax(probs[t]))} ({probs[t].max():.0%})",
              "short": f"→ {int(np.argmax(probs[t]))} ({probs[t].max():.0%})"}
             for t in range(trace.n_steps)]
    maps = ex["maps"]                                                   # (T, C, F, F) after ReLU
    hi = float(maps.max()) or 1.0
    fmaps = [{"step": t, "map": f"map {k}", "row": k // 8, "col": k % 8,
              "url": png(ramp(maps[t, k], 0.0, hi, "viridis"))}
             for t in range(maps.shape[0]) for k in range(min(maps_shown, maps.shape[1]))]
    from ..step_charts import lines
    chars = int(strip_width(trace.n_steps) / (19 * 0.56))   # the sentence under the strip, in lines as wide as it
    truth = lambda t: "no truth is known" if label is None else (  # (the percentage is the model's, not the truth's)
        f"the truth is {label}, to which it gives {probs[t][label]:.0%}")
    words = [{"step": t, "text": "\n".join(lines(f"Step {t}: the model's answer to “which digit came first?” after "
                                                f"this frame is {int(np.argmax(probs[t]))} ({probs[t].max():.0%}); "
                                                f"{truth(t)}", chars)),
              "line": f"Step {t}: the model's answer to “which digit came first?” after this frame is "
                      f"{int(np.argmax(probs[t]))} ({probs[t].max():.0%}); {truth(t)}"}
             for t in range(trace.n_steps)]
    return {"strip": pd.DataFrame(strip), "fmaps": pd.DataFrame(fmaps), "answer": pd.DataFrame(words)}


STRIP_STEP = 146  # px per frame of the CNN-LSTM's strip


def strip_width(n_steps: int) -> int:
    """The width of the sentence under the CNN-LSTM's strip: the strip's, or enough for two lines of it."""
    return max(n_steps * STRIP_STEP, 620)


def cnn_strip_spec(n_steps: int, size: int = 96, compact: bool = False) -> dict:
    """Every frame of the sequence, the one at the cursor framed, with the answer after each. compact: the
    presenter view's: smaller frames, letters of 16 px, the answers in short ("→ 7 (97%)")."""
    font = 16 if compact else 13
    size = 72 if compact else size
    x = alt.X("step:O", axis=None, scale=alt.Scale(domain=list(range(n_steps))))  # not fed by the framed layer
    mid = size / 2 + 24
    base = alt.Chart(alt.NamedData("strip"))
    images = base.mark_image(width=size, height=size, aspect=False).encode(x=x, y=alt.value(mid), url="url:N")
    frame = base.transform_filter(AT_STEP).mark_rect(fill=None, stroke="#e15759", strokeWidth=4,
                                                     width=size + 8, height=size + 8).encode(x=x, y=alt.value(mid))
    labels = base.transform_calculate(label="'frame ' + datum.step").mark_text(
        fontSize=font + 1, baseline="top").encode(x=x, y=alt.value(0), text="label:N")
    answers = base.mark_text(fontSize=font, baseline="top").encode(x=x, y=alt.value(mid + size / 2 + 8),
                                                                    text="short:N" if compact else "answer:N")
    strip = alt.layer(images, frame, labels, answers).properties(width=alt.Step(STRIP_STEP), height=size + 60)
    words = alt.Chart(alt.NamedData("answer")).transform_filter(AT_STEP).mark_text(
        align="left", baseline="top", fontSize=font if compact else font + 3, color="#333", lineBreak="\n").encode(
        x=alt.value(0), y=alt.value(0), text="line:N" if compact else "text:N").properties(
        height=font + 8 if compact else 2 * (font + 8), width=1100 if compact else strip_width(n_steps))
    return finish(alt.vconcat(strip, words, spacing=2).properties(title=alt.TitleParams(
        "The sequence: a digit, then distractors", fontSize=16)))


def cnn_maps_spec(n_maps: int, size: int = 56) -> dict:
    cols, rows = min(n_maps, 8), -(-n_maps // 8)  # the grid of cnn_frames; fixed domains (see _image_grid)
    chart = alt.Chart(alt.NamedData("fmaps")).transform_filter(AT_STEP).mark_image(
        width=size, height=size, aspect=False).encode(
        x=alt.X("col:O", axis=None, scale=alt.Scale(domain=list(range(cols)))),
        y=alt.Y("row:O", axis=None, scale=alt.Scale(domain=list(range(rows)))), url="url:N", tooltip=["map:N"])
    return finish(chart.properties(width=alt.Step(size + 6), height=alt.Step(size + 6), title=alt.TitleParams(
        ["The CNN's first feature maps", "for the frame at the cursor"], limit=0)))
