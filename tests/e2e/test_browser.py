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
