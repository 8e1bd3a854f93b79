"""In real Chromium: the model a visitor trained survives a server restart in their own browser (lstm_demo/ui/keep.py),
comes back only when they accept, through the same checks as an upload, and is never offered to another browser."""
import os
import re
from contextlib import contextmanager

from playwright.sync_api import TimeoutError as PlaywrightTimeout, expect

from conftest import (_free_port, _healthy, assert_no_exception, equations_at, settle, sidebar_link, slider_step,
                      start_server)
from test_browser import go_to_step_through, set_steps

OFFER = "This browser kept a copy of the model you trained last"
KEPT = "is kept in this browser, so a server restart does not lose it"


@contextmanager
def server_on(port: int, log):
    server, _ = start_server(log, port=port)
    try:
        assert _healthy(server, port), log.read_text()
        yield
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
    assert "Traceback" not in log.read_text(), log.read_text()


def looked(page, kept: bool) -> None:
    """Wait until the page has asked this browser what it keeps, and check the answer."""
    page.wait_for_selector("[data-testid=lstm-keep][data-kept]", state="attached", timeout=30_000)
    settle(page)
    assert page.locator("[data-testid=lstm-keep]").first.get_attribute("data-kept") == ("1" if kept else "0")
    expect(page.get_by_text(OFFER)).to_have_count(1 if kept else 0)


def run(page, button: str, steps: int) -> None:
    """Press `button` for a run of `steps` steps; wait until it is done and the browser has stored the model."""
    page.get_by_role("button", name=re.compile(button)).click()
    page.get_by_text(f"Finished {steps} steps").wait_for(timeout=90_000)
    page.get_by_text(KEPT).wait_for(timeout=30_000)  # the browser said it stored the file
    assert_no_exception(page)


def test_a_trained_model_survives_a_server_restart_in_this_browser_only(browser, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    mine = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = mine.new_page()
    with server_on(port, tmp_path / "first.log"):
        page.goto(url + "/Train")
        settle(page)
        set_steps(page, 20)
        run(page, "Start training", 20)

    with server_on(port, tmp_path / "second.log"):
        # the open page reconnects to the restarted server, which has never heard of this visitor; its next click
        # runs on a new session there (the frontend reruns nothing by itself after reconnecting)
        lost = page.get_by_text("Your session on the server ended while this page was open")
        for _ in range(6):
            sidebar_link(page, "Train").click()
            try:
                lost.wait_for(timeout=10_000)
                break
            except PlaywrightTimeout:  # still reconnecting: click again
                pass
        expect(lost).to_be_visible()
        expect(page.get_by_text(OFFER)).to_be_visible()
        expect(page.get_by_text("20 steps")).to_have_count(1)

        other = browser.new_context().new_page()  # another browser's storage: never offered the first one's model
        other.goto(url + "/Train")
        looked(other, kept=False)
        other.context.close()

        page.get_by_role("button", name="Restore it").click()
        page.get_by_text("Restored the model this browser kept").wait_for(timeout=30_000)
        assert_no_exception(page)
        go_to_step_through(page)  # the restored model's gates
        expect(page.get_by_text(re.compile(r"trained 20 steps"))).to_be_visible()
        before = slider_step(page)
        page.get_by_role("button", name="Next", exact=True).click()
        equations_at(page, before + 1)

        # train it on, then clear the copy: a new session is offered nothing
        sidebar_link(page, "Train").click()
        settle(page)
        run(page, r"Continue \(\+20 steps\)", 20)
        page.get_by_role("button", name="Clear it from this browser").click()
        settle(page)
        page.reload()
        looked(page, kept=False)

        # train again and decline the offer in the next session: removed too
        page.goto(url + "/Train")
        settle(page)
        set_steps(page, 20)
        run(page, "Start training", 20)
        page.reload()
        looked(page, kept=True)
        page.get_by_role("button", name="No, remove it from this browser").click()
        settle(page)
        expect(page.get_by_text(OFFER)).to_have_count(0)
        page.reload()
        looked(page, kept=False)

        # a damaged copy goes through the loader's checks, is refused with a message and removed
        page.evaluate("""() => new Promise((ok, fail) => { const r = indexedDB.open("lstm-gate-lab", 1);
            r.onsuccess = () => { const t = r.result.transaction("kept", "readwrite");
                t.objectStore("kept").put({id: "x", label: "LSTM, 64 units, 20 steps", steps: 20, saved: Date.now(),
                                           bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer}, "last-model");
                t.oncomplete = ok; t.onerror = fail; }; r.onerror = fail; })""")
        page.reload()
        looked(page, kept=True)
        page.get_by_role("button", name="Restore it").click()
        page.get_by_text("could not be opened, so it was removed from this browser").wait_for(timeout=30_000)
        assert_no_exception(page)
        page.reload()
        looked(page, kept=False)
    mine.close()
