"""In real Chromium: train a small model, then step through it with buttons and the keyboard."""
import re

from playwright.sync_api import expect

from conftest import (assert_no_exception, bus_step, chart_drawings, count_script_runs, equations_at, script_runs,
                      settle, sidebar_link, slider_step, two_frames, charts_drawn, drawn_with)


# One → press, observed in the text strip's SVG: how many of its text elements were rewritten or replaced, of how
# many. The strip's tiles and letters do not depend on the step; only its caption and outline do.
STRIP_TEXTS_TOUCHED_BY_A_MOVE = """async () => {
  const svg = document.querySelector('.st-key-view_strip [data-testid=stVegaLiteChart] svg');
  const touched = new Set();
  const note = n => { const el = n.nodeType === 1 ? n : n.parentElement; const t = el && el.closest('text');
                      if (t) touched.add(t); };
  const mo = new MutationObserver(rs => rs.forEach(r => { note(r.target); r.addedNodes.forEach(note); }));
  mo.observe(svg, {subtree: true, attributes: true, childList: true, characterData: true});
  const shows = n => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))
      .some(t => t.textContent.startsWith('Equations for ') && t.textContent.endsWith('at step ' + n));
  const n = Number(document.body.value) + 1;
  document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
  while (!shows(n)) await new Promise(r => requestAnimationFrame(r));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  mo.takeRecords().forEach(r => { note(r.target); r.addedNodes.forEach(note); });
  mo.disconnect();
  return [touched.size, svg.querySelectorAll('text').length];
}"""


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
    sidebar_link(page, "Step through").click()
    page.get_by_label("Time step", exact=True).wait_for(timeout=60_000)
    settle(page)
    equations_at(page, slider_step(page), timeout=30_000)  # the views are drawn at the cursor
    charts_drawn(page)


def download_model(page, path) -> None:
    """Train page → "Save or open": this session's model downloaded to path."""
    sidebar_link(page, "Train").click()
    settle(page)
    page.get_by_text("Save or open a model file (.safetensors)").click()
    settle(page)
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name=re.compile("Download this model")).click()
    dl.value.save_as(path)


def open_model_file(page, app_url, path, said: str) -> None:
    """A new session opens the file on the Train page; the page says `said` (a pattern) about it."""
    page.goto(app_url + "/Train")
    settle(page)
    page.get_by_text("Save or open a model file (.safetensors)").click()
    page.get_by_test_id("stFileUploader").filter(has_text="Open a model file").locator("input[type=file]") \
        .set_input_files(str(path))
    page.get_by_text(re.compile(said)).wait_for(timeout=30_000)
    settle(page)


def test_step_with_keys_slider_and_play_in_the_browser(app_url, page):
    page.goto(app_url + "/Step_through?model=agreement")
    page.get_by_label("Time step", exact=True).wait_for(timeout=60_000)
    settle(page)
    equations_at(page, 0)
    charts_drawn(page)
    assert_no_exception(page)
    assert slider_step(page) == 0 and bus_step(page) == 0
    count_script_runs(page)
    before = chart_drawings(page)
    page.locator("body").press("ArrowRight")
    equations_at(page, 1)
    two_frames(page)
    after = chart_drawings(page)
    same = [k for k, (a, b) in enumerate(zip(before, after)) if a == b]
    assert len(after) >= 9 and not same, f"every view follows the cursor; unchanged: {same} of {len(after)}"
    touched, letters = page.evaluate(STRIP_TEXTS_TOUCHED_BY_A_MOVE)
    assert letters >= 100 and touched <= 3, f"a move redraws the caption and the outline, not the {letters} " \
                                            f"letters of the text strip: {touched} text elements touched"
    equations_at(page, 2)  # that press moved the cursor on
    page.locator("body").press("ArrowLeft")
    equations_at(page, 1)
    assert slider_step(page) == 1 and script_runs(page) == 0  # stepping ran no script on the server
    last = int(page.get_by_label("Time step", exact=True).get_attribute("max"))
    page.locator("body").press("End")
    equations_at(page, last)
    page.locator("body").press("Home")
    equations_at(page, 0)

    # dragging the slider: the views follow the drag itself, not only the release
    page.get_by_label("Time step", exact=True).scroll_into_view_if_needed()
    box = page.get_by_label("Time step", exact=True).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    seen = set()
    for k in range(1, 6):
        page.mouse.move(box["x"] + box["width"] * k / 10, y, steps=3)
        now = slider_step(page)
        equations_at(page, now)  # drawn while the button is still held
        seen.add(now)
    page.mouse.up()
    assert len(seen) >= 4 and script_runs(page) == 0

    # Play at the fastest speed moves the cursor on its own; Pause stops it
    page.locator("body").press("Home")
    page.get_by_label("Speed").select_option("30")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.body.value) >= 15", timeout=20_000)
    page.get_by_role("button", name="Pause").click()
    stopped = bus_step(page)
    equations_at(page, stopped)
    two_frames(page)
    assert bus_step(page) == stopped
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
    page.get_by_role("button", name="Next").click()
    equations_at(page, 1)
    page.get_by_text(re.compile(r"^Step 1: input .* → predicted next .*, actual")).wait_for(timeout=10_000)
    assert_no_exception(page)


def test_explainer_views_finder_and_a_what_if_from_the_browsers_step(app_url, page):
    page.goto(app_url + "/Step_through?model=agreement")
    page.get_by_label("Time step", exact=True).wait_for(timeout=60_000)
    settle(page)
    equations_at(page, 0)
    page.get_by_text(re.compile("The forget gate keeps")).wait_for()
    words = page.get_by_text(re.compile("The forget gate keeps")).text_content()
    page.locator("body").press("ArrowRight")
    equations_at(page, 1)
    page.wait_for_function("(w) => !Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))"
                           ".some(t => t.textContent === w)", arg=words)  # the words follow the cursor

    page.get_by_text("Find a unit", exact=True).click()
    found = page.get_by_text(re.compile("(Best match|No unit clearly matches) in this sequence.*unit u"))
    found.wait_for(timeout=30_000)  # the sentence depends on |r| (conclusions.best_match)
    best = re.search(r"unit u(\d+)", found.inner_text()).group(1)
    page.get_by_role("button", name=f"Colour the text by u{best}").click()
    settle(page)
    expect(page.get_by_role("combobox", name="Unit to explain")).to_have_value(f"u{best}")

    page.get_by_text("What if? (interventions)", exact=True).click()
    page.get_by_text(re.compile(r"What if, from step 1 on")).wait_for(timeout=30_000)
    settle(page)
    for _ in range(4):                              # choose the step in the browser …
        page.locator("body").press("ArrowRight")
    equations_at(page, 5)
    page.get_by_text(re.compile(r"What if, from step 5 on")).wait_for(timeout=30_000)  # … the server hears it at rest
    page.get_by_text(re.compile("Largest change of u")).wait_for(timeout=30_000)
    mean_change = page.get_by_test_id("stMetricValue").nth(1)
    closed = mean_change.inner_text()  # forget gate closed from step 5 on
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
    page.get_by_role("button", name="Next").click()
    equations_at(page, 1)
    page.get_by_text(re.compile("The update gate keeps")).wait_for()
    page.get_by_text("h(t) = z·h(t+1) + (1−z)·n").wait_for()  # the backward direction's previous step
    assert_no_exception(page)


def test_long_memory_opens_on_the_precomputed_race_then_races_live_and_opens_the_unit(app_url, page):
    page.goto(app_url + "/Long_memory")
    page.get_by_text(re.compile("^Precomputed:")).wait_for(timeout=60_000)
    charts_drawn(page)  # accuracy, gradients, forget products: before any click
    assert page.get_by_test_id("stVegaLiteChart").count() >= 3
    drawn_with(page, "plain RNN", "LSTM", "chance")
    expect(page.get_by_text(re.compile("What this run shows"))).to_be_visible()
    expect(page.get_by_text(re.compile("The unit that remembers"))).to_be_visible()
    box = page.get_by_label("Steps per model")
    box.fill("60")
    box.press("Enter")
    settle(page)
    expect(box).to_have_value("60")
    page.get_by_role("button", name=re.compile("Race: plain RNN vs GRU vs LSTM")).click()
    page.get_by_text(re.compile("^Finished 60 steps for each model")).wait_for(timeout=120_000)
    settle(page)
    expect(page.get_by_text(re.compile("^Precomputed:"))).to_have_count(0)  # the live result replaced it
    expect(page.get_by_text(re.compile("What this run shows"))).to_be_visible()
    open_unit = page.get_by_role("button", name=re.compile(r"Open u\d+ in Step through"))
    unit = re.search(r"u(\d+)", open_unit.inner_text()).group(0)
    open_unit.click()
    page.get_by_label("Time step", exact=True).wait_for(timeout=60_000)
    settle(page)
    expect(page.get_by_role("combobox", name="Unit to explain")).to_have_value(unit)
    # the strip's sentence wraps into lines (tspans, no space between them in the text): any space may be a break
    page.get_by_text(re.compile(r"^Step \d+:\s?input\s?'w'\s?→\s?the\s?true\s?next\s?character\s?is\s?'[ae]'")).wait_for()
    expect(page.get_by_label("Your text (characters the model knows)")).to_have_value(re.compile(r"^the .* (was|were)\.$"))
    assert_no_exception(page)


def test_train_text_step_through_save_and_reopen_it(app_url, page, tmp_path):
    page.goto(app_url + "/Train")
    settle(page)
    # before Start: the bundled model trained on this preset, its loss curve and the text it writes
    page.get_by_text(re.compile("^Before you press Start:")).wait_for(timeout=60_000)
    charts_drawn(page)
    expect(page.get_by_text(re.compile("^Text the model writes"))).to_be_visible()
    train(page, steps=30)
    expect(page.get_by_text(re.compile("^Before you press Start:"))).to_have_count(0)
    assert page.get_by_test_id("stVegaLiteChart").count() >= 1  # the loss chart
    go_to_step_through(page)                                     # the model just trained, at the cursor
    expect(page.get_by_text(re.compile("trained 30 steps on Agreement"))).to_be_visible()
    count_script_runs(page)
    page.locator("body").press("ArrowRight")
    equations_at(page, 1)
    assert script_runs(page) == 0
    path = tmp_path / "model.safetensors"
    download_model(page, path)
    assert path.stat().st_size > 1000
    # a new session: the model is gone until the file is opened
    open_model_file(page, app_url, path, r"Opened model\.safetensors: LSTM, 1 layer\(s\) × 64 units, trained 30 steps")
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
