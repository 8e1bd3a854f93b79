"""In real Chromium, the captioner (issue 24): the bundled model's picture with its attention drawn, stepped with the
keyboard (no script run per move) while the word and the attention follow; teacher-forced against free-running; a
scene of one's own edited (an impossible layout refused, the last good one kept) with its caption and a sampled
caption following; the Train page's captions: the bundled model's held-out preview against the baseline, then a tiny
run of one's own. Every expected word is computed here by the core from the same bundled model."""
import re

import pytest
from playwright.sync_api import expect

from conftest import assert_no_exception, charts_drawn, count_script_runs, equations_at, script_runs, settle, \
    slider_step
from test_browser import train

from lstm_demo.bundle import load_bundle
from lstm_demo.kinds.captioner import greedy_captions, sampled_caption, trace_caption
from lstm_demo.kinds.captions import sample_sentence, step_caption
from lstm_demo.kinds.captions_data import END, SHOWCASE, Shape, caption, render

STRIP = ".st-key-view_strip [data-testid=stVegaLiteChart] svg"


@pytest.fixture(scope="module")
def bundled():
    loaded = load_bundle("shapes_captions")
    return loaded.model, loaded.data


def strip_texts(page) -> list[str]:
    return page.evaluate(f"() => Array.from(document.querySelectorAll('{STRIP} text')).map(t => t.textContent)")


def strip_shows(page, sentence: str, timeout=10_000) -> None:
    """Wait until the strip's caption is `sentence` (its two lines are two tspans: read back without the break)."""
    page.wait_for_function(f"""(s) => Array.from(document.querySelectorAll('{STRIP} text'))
        .some(t => t.textContent === s)""", arg=sentence.replace("\n", ""), timeout=timeout)


def attention_labels(page) -> list[str]:
    """The "Attention here" grid's 16 cell labels at the cursor, row by row ("62%")."""
    return [t for t in strip_texts(page) if re.fullmatch(r"\d+%", t)]


def to_step(page, n: int) -> None:
    page.locator("body").press("Home")
    equations_at(page, 0)
    for k in range(1, n + 1):
        page.locator("body").press("ArrowRight")
        equations_at(page, k)


def greedy_words(model, data, layout) -> str:
    return " ".join(w for w in greedy_captions(model, data, render(layout)[None])[0][0] if w != END)


def first_mistake(emitted: list, truths: list) -> tuple[int, int]:
    """The first picture whose greedy caption has a wrong word before it ends, and that word's place."""
    for i, (words, truth) in enumerate(zip(emitted, truths)):
        wrong = [k for k, (a, b) in enumerate(zip(words, truth.split() + [END])) if a != b]
        if wrong and words[wrong[0]] != END:
            return i, wrong[0]
    raise AssertionError("the bundled captioner gets every word of these pictures right: pick more pictures")


def pick_option(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key}").get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def test_step_through_a_caption_with_its_gaze_teacher_or_free_and_a_scene_of_ones_own(app_url, page, bundled):
    model, data = bundled
    emitted, _ = greedy_captions(model, data, data.val_images[:64])
    seq, wrong = first_mistake(emitted, data.val_captions)  # a held-out picture and the first word it gets wrong
    truth = data.val_captions[seq].split()
    free = trace_caption(model, data, data.val_layouts[seq])
    forced = trace_caption(model, data, data.val_layouts[seq], teacher=True)

    page.goto(app_url + f"/Step_through?model=shapes_captions&seq={seq}")
    page.get_by_label("Time step", exact=True).wait_for(timeout=60_000)
    settle(page)
    equations_at(page, 0, timeout=30_000)
    charts_drawn(page)
    assert_no_exception(page)
    # the picture (one image) under a white veil per grid cell, and the attention's numbers cell by cell
    drawn = page.evaluate(f"""() => {{ const svg = document.querySelector('{STRIP}');
        return [svg.querySelectorAll('g.mark-image image').length,
                Array.from(svg.querySelectorAll('g.mark-rect')).map(g => g.children.length)]; }}""")
    assert drawn[0] == 1 and drawn[1].count(16) >= 3, drawn  # the veil, the grid's outline, the attention tiles
    strip_shows(page, step_caption(free, 0))
    assert attention_labels(page) == [f"{w:.0%}" for w in free.extras["attention"][0]]

    # the keyboard: the word said and the attention follow the cursor with no script run
    count_script_runs(page)
    for n in range(1, wrong + 2):
        page.locator("body").press("ArrowRight")
        equations_at(page, n)
        strip_shows(page, step_caption(free, n))
        assert attention_labels(page) == [f"{w:.0%}" for w in free.extras["attention"][n]]
    assert slider_step(page) == wrong + 1 and script_runs(page) == 0
    assert f"reads “{emitted[seq][wrong]}”" in step_caption(free, wrong + 1)  # it reads its own mistake

    # teacher forcing: the decoder reads the truth instead
    page.get_by_text("the truth (teacher forcing)", exact=True).click()
    settle(page)
    to_step(page, wrong + 1)
    strip_shows(page, step_caption(forced, wrong + 1))
    assert f"reads “{truth[wrong]}”" in step_caption(forced, wrong + 1)
    assert attention_labels(page) == [f"{w:.0%}" for w in forced.extras["attention"][wrong + 1]]

    # a scene of one's own (still teacher-forced): its caption follows an edit, an impossible one is refused and the
    # last good one stays. The caption below the views is the free-running one, checked against greedy decoding.
    shown = lambda layout: page.get_by_text(  # noqa: E731
        f"✓ The caption shown is the model's greedy output for this picture: “{greedy_words(model, data, layout)}”.")
    page.get_by_text("Your own scene", exact=True).click()
    settle(page)
    shown(SHOWCASE).wait_for(timeout=30_000)
    page.locator(".st-key-cap_on_2").get_by_text("Shape 3").click()  # a small green triangle, top right
    settle(page)
    three = SHOWCASE + (Shape("triangle", "green", "small", 20, 2),)
    shown(three).wait_for(timeout=30_000)
    strip_shows(page, step_caption(trace_caption(model, data, three, teacher=True), slider_step(page)))
    pick_option(page, "cap_size_2", "big")
    page.get_by_text("The big blue square (shape 2) overlaps the big green triangle (shape 3); move one of them. "
                     "Showing the last scene that worked.").wait_for(timeout=30_000)
    expect(shown(three)).to_be_visible()
    assert_no_exception(page)

    # a caption drawn at a temperature with a seed: for each seed the words the core draws
    greedy = sampled_caption(model, data, three, 0, 0)
    for seed in (0, 5):
        if seed:
            box = page.get_by_role("spinbutton", name="Sampling seed", exact=True)
            box.fill(str(seed))
            box.press("Enter")
            settle(page)
        said = sampled_caption(model, data, three, 1.0, seed)
        page.get_by_text(sample_sentence(said, greedy, caption(three), 1.0, seed)).wait_for(timeout=30_000)
    assert_no_exception(page)


def test_the_train_pages_captions_preview_and_a_tiny_run(app_url, page, bundled):
    model, data = bundled
    said = [" ".join(w for w in words if w != END) for words in greedy_captions(model, data, data.val_images[:8])[0]]
    truths = data.val_captions[:8]
    page.goto(app_url + "/Train")
    settle(page)
    page.get_by_text("Captions (picture → words)", exact=True).click()
    page.get_by_text(re.compile("^Before you press Start:.*captions of the bundled model")).wait_for(timeout=60_000)
    settle(page)
    # the bundled model on the held-out pictures: word accuracy and exact match against the baseline, and its
    # captions under the pictures, with the truth where they differ
    accuracy = page.get_by_test_id("stMetric").filter(has_text="Word accuracy (held-out, greedy)")
    expect(accuracy).to_contain_text(re.compile(r"\d+%.*points vs the best baseline", re.S))
    expect(page.get_by_test_id("stMetric").filter(has_text="Exact match (whole captions)")).to_have_count(1)
    expect(page.get_by_text(re.compile(r"^On 256 held-out pictures the model's greedy captions get \d+ % of the words "
                                       r"and \d+ % of the captions exactly right; .* the model is ahead of that "
                                       r"baseline on words\.$"))).to_be_visible()
    captions = page.get_by_test_id("stImageCaption").filter(has_text=re.compile("^[✓✗] model: "))
    expect(captions).to_have_count(8)
    shown = sorted(captions.all_inner_texts())
    assert shown == sorted(f"✓ model: {s}" if s == t else f"✗ model: {s or '(nothing)'} · truth: {t}"
                           for s, t in zip(said, truths))
    # a tiny run of one's own: ten steps (the fewest the page allows), then its own preview replaces the bundled one's
    train(page, steps=10)
    expect(page.get_by_text(re.compile("^Before you press Start:"))).to_have_count(0)
    page.get_by_text("With the weights of step 10; refreshed every few seconds while training.").wait_for(
        timeout=30_000)
    expect(page.get_by_text(re.compile(r"^On 256 held-out pictures the model's greedy captions get"))).to_be_visible()
    expect(captions).to_have_count(8)
    assert_no_exception(page)
