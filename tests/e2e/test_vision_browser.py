"""In real Chromium, the LSTMs that see (issue 12): train a ConvLSTM and a CNN-LSTM on image sequences, step through
them with the browser's cursor, pick a ConvLSTM pixel by clicking it, save and reopen each model; open the bundled CNN-LSTM from the
Family page and the ConvLSTM scene from a home-page link."""
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from conftest import (assert_no_exception, charts_drawn, count_script_runs, equations_at, script_runs, settle,
                      sidebar_link, slider_step)
from test_browser import download_model, go_to_step_through, open_model_file, train


def equations_head(page) -> str:
    return page.evaluate("""() => (Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))
        .find(t => t.textContent.startsWith('Equations for ')) || {}).textContent || ''""")


def pick_chart(page):
    return page.get_by_test_id("stVegaLiteChart").filter(has_text="Click a pixel to explain it")


MODELS = {  # what the Train page offers, what its preview says, how Step through and an opened file name it
    "convlstm": ("Moving shapes — predict the next frame (ConvLSTM)", "Next-frame error (validation MSE)",
                 r"ConvLSTM, 8 hidden channels.*trained 20 steps", r"ConvLSTM 8 ch, 3×3, trained 20 steps"),
    "cnnlstm": ("Which digit came first? — a handwritten digit, then distractors (CNN-LSTM)",
                "Validation accuracy: which digit came first?", r"CNN-LSTM, 16 \+ 32 convolution maps.*trained 20 steps",
                r"CNN-LSTM 16 maps → 32 units, trained 20 steps"),
}


@pytest.mark.parametrize("model", list(MODELS))
def test_train_an_image_model_step_through_it_save_and_reopen(app_url, page, tmp_path, model):
    task, preview, described, opened = MODELS[model]
    page.goto(app_url + "/Train")
    settle(page)
    page.get_by_text("Image sequences (CNN-LSTM, ConvLSTM)").click()
    settle(page)
    if model == "cnnlstm":
        page.get_by_role("combobox", name="Image sequences").click()
        page.get_by_role("option", name=task).click()
        settle(page)
    expect(page.get_by_text(task).first).to_be_visible()
    # before Start: the bundled model trained on this preset, and its preview
    page.get_by_text(re.compile("^Before you press Start:")).wait_for(timeout=60_000)
    expect(page.get_by_text(preview).first).to_be_visible()
    train(page, steps=20)
    expect(page.get_by_text(preview)).to_be_visible()
    go_to_step_through(page)
    expect(page.get_by_text(re.compile(described))).to_be_visible()
    charts_drawn(page)
    count_script_runs(page)
    start = slider_step(page)
    page.locator("body").press("ArrowRight")
    equations_at(page, start + 1)
    assert script_runs(page) == 0  # every map, frame and equation redrawn in the browser
    if model == "convlstm":
        click_a_pixel(page)
    save_and_reopen(page, app_url, tmp_path / f"{model}.safetensors", opened, described)


def click_a_pixel(page):
    """Click the pixel in row 3, column 5 of the frame: its diagram and equations follow."""
    chart = pick_chart(page)
    chart.locator("svg").first.wait_for()
    cells = chart.locator("g.mark-rect path")
    expect(cells).to_have_count(16 * 16 + 1)  # the grid, and the red box of the pixel explained
    cells.nth(3 * 16 + 5).click()
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))
        .some(t => /^Equations for ch \\d+, pixel \\(3, 5\\) at step/.test(t.textContent))""", timeout=30_000)
    assert page.get_by_label("Pixel row (0 = top)").input_value() == "3"
    assert page.get_by_label("Pixel column (0 = left)").input_value() == "5"


def save_and_reopen(page, app_url, path, opened, described):
    download_model(page, path)
    open_model_file(page, app_url, path, f"Opened {path.name}: {opened}")  # a new session
    go_to_step_through(page)
    expect(page.get_by_text(re.compile(described))).to_be_visible()
    assert_no_exception(page)


def test_family_opens_the_cnn_lstm_and_links_reopen_the_convlstm_scene_and_view(app_url, page):
    page.goto(app_url + "/Family")
    settle(page)
    for name in ("Vanilla LSTM", "Stacked LSTM", "Bidirectional LSTM", "CNN-LSTM", "ConvLSTM", "Encoder–decoder"):
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    page.get_by_role("button", name="Open the trained CNN-LSTM").click()
    page.get_by_label("Time step", exact=True).wait_for(timeout=60_000)
    settle(page)
    expect(page.get_by_text(re.compile(r"Model: CNN-LSTM, 16 \+ 32 convolution maps"))).to_be_visible()
    charts_drawn(page)
    expect(page.get_by_text(re.compile(r"The CNN's first feature maps\s?for the frame at the cursor"))).to_be_visible()
    page.locator("body").press("End")
    equations_at(page, 4)
    assert page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))
        .some(t => /^Step4:themodel'sanswerto.*afterthisframeis\\d/.test(t.textContent.replace(/\\s+/g, '')))""")

    # a home-page link to the ConvLSTM scene at step 3: the gate maps are there, at that step
    page.goto(app_url + "/?scene=10&step=3")
    settle(page)
    expect(page.get_by_role("heading", name=re.compile("ConvLSTM: the forget gate as a map"))).to_be_visible()
    equations_at(page, 3, timeout=30_000)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))
        .some(c => (c.querySelector('svg') || {}).innerHTML?.includes('Gates and states as maps')
                   && c.querySelectorAll('image').length === 6 * 8)""", timeout=30_000)  # 6 maps × 8 channels
    # a step-through link to a bundled ConvLSTM's sequence and step
    page.goto(app_url + "/Step_through?model=shapes&seq=3&step=4")
    settle(page)
    equations_at(page, 4, timeout=30_000)
    expect(page.locator("input[type=range][aria-label^='Validation sequence']")).to_have_value("3")
    page.locator("body").press("ArrowLeft")
    page.wait_for_function("() => new URLSearchParams(location.search).get('step') === '3'", timeout=10_000)
    assert parse_qs(urlparse(page.url).query).get("seq") == ["3"]
    assert_no_exception(page)


def test_train_a_translation_model_step_through_both_halves_save_and_reopen(app_url, page, tmp_path):
    page.goto(app_url + "/Train")
    settle(page)
    page.get_by_text("Translation (encoder–decoder)").click()
    settle(page)
    page.get_by_text(re.compile("^Before you press Start:")).wait_for(timeout=60_000)  # the bundled numbers model
    expect(page.get_by_text("Exact match on the held-out pairs (greedy decoding)").first).to_be_visible()
    page.get_by_text("Attention (dot-product)").click()
    settle(page)
    train(page, steps=20)
    go_to_step_through(page)
    expect(page.get_by_text(re.compile(r"encoder–decoder LSTM 1 × 128 units, attention, trained 20 steps"))) \
        .to_be_visible()
    expect(page.get_by_text("Attention: where each decoder step looked in the source")).to_be_visible()
    source = page.get_by_label("Source — the encoder reads it").input_value()
    count_script_runs(page)
    page.locator("body").press("Home")
    for _ in range(len(source)):  # through the encoder to the hand-over
        page.locator("body").press("ArrowRight")
    equations_at(page, len(source))
    page.wait_for_function("""(n) => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))
        .some(t => t.textContent.replace(/\s+/g, '').startsWith(('Decoder step ' + n +
              ": hand-over — starts from the encoder's final").replace(/\s+/g, '')))""",
                           arg=len(source), timeout=10_000)
    assert script_runs(page) == 0
    page.get_by_text("the truth (teacher forcing)").click()
    settle(page)
    expect(page.get_by_text("Teacher forcing vs free running, side by side")).to_be_visible()
    page.get_by_label("Source — the encoder reads it").fill("Three hundred!")
    page.get_by_label("Source — the encoder reads it").press("Enter")
    settle(page)
    expect(page.get_by_text(re.compile("characters outside the vocabulary.*Showing the last source that worked"))) \
        .to_be_visible()
    # the bottleneck, measured live (the quick setting): both variants' accuracy by length, and the words
    sidebar_link(page, "Train").click()
    settle(page)
    slider = page.locator("input[type=range][aria-label='Training steps per model']")
    slider.focus()
    slider.press("Home")  # 100 steps per model
    settle(page)
    page.get_by_role("button", name="Measure the bottleneck").click()
    page.get_by_text(re.compile("^Read as written, the model gets")).wait_for(timeout=120_000)
    expect(page.get_by_text(re.compile("^(The bottleneck: longer sources|Exact match by source length)"))) \
        .to_be_visible()  # the title says what the measured curve shows (bottleneck.chart_title)
    save_and_reopen(page, app_url, tmp_path / "numbers.safetensors", r"encoder–decoder LSTM 1 × 128 units, attention, "
                    r"trained 20 steps", r"encoder–decoder LSTM 1 × 128 units, attention, trained 20 steps")
    page.goto(app_url + "/?scene=12")
    settle(page)
    expect(page.get_by_role("heading", name=re.compile("Encoder–decoder: the whole number in one hand-over"))) \
        .to_be_visible()
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))
        .some(t => t.textContent.startsWith("Decoder step 30: hand-over"))""", timeout=30_000)
    assert_no_exception(page)
