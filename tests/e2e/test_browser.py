"""In real Chromium: train a small model, then step through it with buttons and the keyboard."""
import re

from playwright.sync_api import expect

from conftest import assert_no_exception, settle


def set_steps(page, n: int):
    box = page.get_by_label("Steps per run")
    expect(box).to_have_count(1)  # widgets of the other kind of data are gone
    for _ in range(3):  # a rerun that was still replacing widgets can swallow the first entry
        box.fill(str(n))
        box.press("Enter")
        settle(page)
        page.wait_for_timeout(300)
        if box.input_value() == str(n):
            return
    raise AssertionError(f"Steps per run did not take the value {n}")


def train(page, steps=40):
    set_steps(page, steps)
    page.get_by_role("button", name=re.compile("Start training")).click()
    page.get_by_text(f"Finished {steps} steps").wait_for(timeout=90_000)
    settle(page)
    assert_no_exception(page)


def go_to_step_through(page):
    page.get_by_test_id("stSidebarNav").get_by_text("Step through").click()
    page.get_by_role("button", name=re.compile("Next")).wait_for(timeout=60_000)
    settle(page)
    page.wait_for_timeout(500)


def current_step(page) -> int:
    return int(page.get_by_label("Time step", exact=True).get_by_role("slider").input_value())


def heatmap_image(page) -> bytes:
    return page.get_by_test_id("stVegaLiteChart").last.screenshot()


def test_train_text_and_step_with_buttons_and_keys(app_url, page):
    page.goto(app_url + "/Train")
    settle(page)
    train(page)
    assert page.get_by_test_id("stVegaLiteChart").count() >= 1  # the loss chart
    go_to_step_through(page)
    assert_no_exception(page)
    assert current_step(page) == 0
    before = heatmap_image(page)
    page.get_by_role("button", name=re.compile("Next")).click()
    settle(page)
    page.wait_for_timeout(300)
    assert current_step(page) == 1
    assert heatmap_image(page) != before  # the cursor moved: the chart was redrawn
    page.locator("body").press("ArrowRight")
    settle(page)
    page.wait_for_timeout(300)
    assert current_step(page) == 2
    page.locator("body").press("ArrowLeft")
    settle(page)
    page.wait_for_timeout(300)
    assert current_step(page) == 1
    page.get_by_role("button", name=re.compile("Play")).click()
    page.wait_for_function("() => Number(document.querySelector('[aria-label=\"Time step\"] input')?.value) >= 3",
                           timeout=20_000)  # 2 steps/s: the timer moves the cursor on its own
    page.get_by_role("button", name=re.compile("Pause")).click()
    settle(page)
    assert_no_exception(page)


def test_train_series_and_step(app_url, page):
    page.goto(app_url + "/Train")
    settle(page)
    page.get_by_text("Time series (next value)").click()
    page.get_by_text("Mean ± std").wait_for()  # the series widgets have replaced the text ones
    settle(page)
    train(page, steps=30)
    assert page.get_by_text("Forecast vs truth on validation data").count() == 1
    go_to_step_through(page)
    page.get_by_role("button", name=re.compile("Next")).click()
    settle(page)
    page.wait_for_timeout(300)
    assert current_step(page) == 1, page.screenshot(path="/tmp/series_next.png", full_page=True)
    assert page.get_by_text("Predicted next", exact=True).count() == 1
    assert_no_exception(page)


def chart_image(page, index: int) -> bytes:
    return page.get_by_test_id("stVegaLiteChart").nth(index).screenshot()


def test_explainer_views_diagram_equations_finder_whatif(app_url, page):
    page.goto(app_url + "/Train")
    settle(page)
    train(page)
    go_to_step_through(page)
    diagram_before = chart_image(page, 1)  # 0: the coloured text, 1: the cell diagram
    caption = page.get_by_text(re.compile("The forget gate keeps")).inner_text()
    page.get_by_role("button", name=re.compile("Next")).click()
    settle(page)
    page.wait_for_timeout(400)
    assert chart_image(page, 1) != diagram_before  # the path widths followed the cursor
    assert page.get_by_text(re.compile("The forget gate keeps")).inner_text() != caption
    equations = page.locator(".katex").first
    expect(equations).to_contain_text("kept")
    expect(equations).to_contain_text("written")

    page.get_by_text("Find a unit", exact=True).click()
    page.get_by_text(re.compile("Best match in this sequence: unit u")).wait_for(timeout=30_000)
    best = re.search(r"unit u(\d+)", page.get_by_text(re.compile("Best match")).inner_text()).group(1)
    page.get_by_role("button", name=f"Colour the text by u{best}").click()
    settle(page)
    expect(page.get_by_role("combobox", name="Unit to explain")).to_have_value(f"u{best}")

    page.get_by_text("What if? (interventions)", exact=True).click()
    page.get_by_text(re.compile("Largest change of u")).wait_for(timeout=30_000)
    mean_change = page.get_by_test_id("stMetricValue").nth(1)
    closed = mean_change.inner_text()  # forget gate closed from this step on
    page.get_by_text("Silence the unit (h = c = 0)").click()
    settle(page)
    expect(mean_change).not_to_have_text(closed)  # another intervention, another changed run
    assert_no_exception(page)


def test_gru_bidirectional_fill_in(app_url, page):
    page.goto(app_url + "/Train")
    settle(page)
    page.get_by_role("combobox", name="Cell type").click()
    page.get_by_role("option", name="GRU").click()
    settle(page)
    page.get_by_text("Fill in hidden characters").click()
    settle(page)
    bidirectional = page.get_by_role("checkbox", name="Bidirectional")
    expect(bidirectional).to_be_enabled()  # it unlocks only once the rerun for the fill-in task has drawn it
    page.get_by_test_id("stCheckbox").filter(has_text="Bidirectional").click()
    expect(bidirectional).to_be_checked()
    settle(page)
    train(page, steps=30)
    assert page.get_by_text(re.compile("Fill in the blanks")).count() == 1
    expect(page.get_by_text("Runs so far")).to_be_visible()
    go_to_step_through(page)
    expect(page.get_by_text(re.compile("Model: GRU, bidirectional"))).to_be_visible()
    page.get_by_role("radiogroup", name="Direction").get_by_text("backward").click()
    settle(page)
    page.get_by_role("button", name=re.compile("Next")).click()
    settle(page)
    expect(page.get_by_text(re.compile("The update gate keeps"))).to_be_visible()
    expect(page.locator(".katex").first).to_contain_text("t+1")  # the backward direction's previous step
    assert_no_exception(page)


def test_long_memory_lab_race_and_open_the_unit(app_url, page):
    page.goto(app_url + "/Long_memory")
    settle(page)
    box = page.get_by_label("Steps per model")
    box.fill("60")
    box.press("Enter")
    settle(page)
    expect(box).to_have_value("60")
    page.get_by_role("button", name=re.compile("Race: plain RNN vs GRU vs LSTM")).click()
    page.get_by_text("Accuracy vs distance").wait_for(timeout=120_000)
    settle(page)
    expect(page.get_by_text(re.compile("What this run shows"))).to_be_visible()
    expect(page.get_by_text(re.compile("The unit that remembers"))).to_be_visible()
    open_unit = page.get_by_role("button", name=re.compile(r"Open u\d+ in Step through"))
    unit = re.search(r"u(\d+)", open_unit.inner_text()).group(0)
    open_unit.click()
    page.get_by_role("button", name=re.compile("Next")).wait_for(timeout=60_000)
    settle(page)
    expect(page.get_by_role("combobox", name="Unit to explain")).to_have_value(unit)
    expect(page.get_by_label("Your text (characters the model knows)")).to_have_value(re.compile(r"^the .* (was|were)\.$"))
    assert_no_exception(page)


def test_save_reopen_and_step_through_a_model_file(app_url, page, tmp_path):
    page.goto(app_url + "/Train")
    settle(page)
    train(page, steps=30)
    page.get_by_text("Save or open a model file (.safetensors)").click()
    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile("Download this model")).click()
    path = tmp_path / "model.safetensors"
    dl.value.save_as(path)
    assert path.stat().st_size > 1000

    page.goto(app_url + "/Train")  # a new session: the model is gone until the file is opened
    settle(page)
    page.get_by_text("Save or open a model file (.safetensors)").click()
    page.get_by_test_id("stFileUploader").filter(has_text="Open a model file").locator("input[type=file]") \
        .set_input_files(str(path))
    page.get_by_text(re.compile(r"Opened model\.safetensors: LSTM, 1 layer\(s\) × 128 units, trained 30 steps")) \
        .wait_for(timeout=30_000)
    settle(page)
    expect(page.get_by_role("button", name=re.compile(r"Continue \(\+30 steps\)"))).to_be_visible()
    go_to_step_through(page)
    expect(page.get_by_text(re.compile("trained 30 steps on Agreement"))).to_be_visible()
    assert_no_exception(page)

    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(b"\x80\x04\x95" + b"not a model" * 10)  # a pickle's first bytes
    page.goto(app_url + "/Train")
    settle(page)
    page.get_by_text("Save or open a model file (.safetensors)").click()
    page.get_by_test_id("stFileUploader").filter(has_text="Open a model file").locator("input[type=file]") \
        .set_input_files(str(bad))
    page.get_by_text(re.compile("Nothing was changed")).wait_for(timeout=30_000)
    assert_no_exception(page)
