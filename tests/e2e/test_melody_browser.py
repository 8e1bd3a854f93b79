"""In real Chromium: train a small melody model, hear what it writes, step through the notes with the keyboard (no
script run per move) and with the notes playing, save and reopen it, and open its scene and its bundle by link."""
import io
import re
import urllib.request

import mido
from playwright.sync_api import expect

from conftest import (assert_no_exception, bus_step, charts_drawn, count_script_runs, equations_at, script_runs,
                      settle, slider_step)
from test_browser import download_model, go_to_step_through, open_model_file, train

from lstm_demo.scenes import SCENES, load_scene, scene_title


def audio_sources(page) -> list:
    return page.evaluate("() => Array.from(document.querySelectorAll('audio')).map(a => a.getAttribute('src') || '')")


def test_train_a_melody_model_hear_it_step_through_the_notes_save_and_reopen(app_url, page, tmp_path):
    page.goto(app_url + "/Train")
    settle(page)
    page.get_by_text("Melodies (notes)", exact=True).click()
    page.get_by_text("Vocabulary").first.wait_for(timeout=60_000)  # the melody widgets have replaced the text ones
    settle(page)
    train(page, steps=30)
    page.get_by_text(re.compile("^The melody the model writes with the weights of step 30")).wait_for(timeout=60_000)
    expect(page.get_by_text(re.compile(r"^On the \d+ held-out tunes .* the bigram's \d+%\."))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Of the \d+ notes? the model wrote|^The model wrote no note"))).to_be_visible()
    sources = [src for src in audio_sources(page) if src]
    assert sources, "an <audio> element with a source"
    with urllib.request.urlopen(app_url + sources[-1] if sources[-1].startswith("/") else sources[-1]) as r:
        wav = r.read()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) > 1000
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name=re.compile("Download as MIDI")).click()
    midi = mido.MidiFile(file=io.BytesIO(open(dl.value.path(), "rb").read()))
    assert any(m.type == "note_on" and m.velocity for m in midi.tracks[0])
    assert [m.text for m in midi.tracks[0] if m.type == "marker"] == ["continuation"]

    # a melody of one's own as the seed: a broken MIDI file is refused in words, nothing else changes
    page.get_by_text("Your own melody (MIDI or text)", exact=True).click()
    settle(page)
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00")
    page.get_by_test_id("stFileUploader").filter(has_text="A MIDI file").locator("input[type=file]") \
        .set_input_files(str(bad))
    page.get_by_role("button", name=re.compile("Use this melody")).click()
    page.get_by_text(re.compile("The MIDI file is damaged")).wait_for(timeout=30_000)
    expect(page.get_by_text(re.compile("The melody the model writes"))).to_be_visible()
    assert_no_exception(page)

    # Step through: the keyboard moves the cursor and every view without a script run; the notes play with it
    go_to_step_through(page)
    expect(page.get_by_text(re.compile("trained 30 steps on O'Neill's and Ryan's folk tunes"))).to_be_visible()
    count_script_runs(page)
    for n in (1, 2, 3):
        page.locator("body").press("ArrowRight")
        equations_at(page, n)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text'))
        .some(t => t.textContent.startsWith('Step 3: reads '))""")
    assert slider_step(page) == 3 and script_runs(page) == 0
    player = page.get_by_test_id("melody-player")
    player.get_by_role("button", name=re.compile("Play the notes")).click()
    page.wait_for_function("() => Number(document.body.value) >= 6", timeout=30_000)  # the notes move the cursor
    expect(player).to_have_attribute("data-playing", "1")
    assert int(player.get_attribute("data-sounded") or 0) > 0
    player.get_by_role("button", name=re.compile("Stop the notes")).click()
    expect(player).to_have_attribute("data-playing", "0")
    stopped = bus_step(page)
    equations_at(page, stopped)
    assert slider_step(page) == stopped and script_runs(page) == 0

    path = tmp_path / "melody.safetensors"
    download_model(page, path)
    open_model_file(page, app_url, path, r"Opened melody\.safetensors: LSTM, 1 layer\(s\) × 64 units, trained 30 "
                                         r"steps")
    expect(page.get_by_role("button", name=re.compile(r"Continue \(\+30 steps\)"))).to_be_visible()
    go_to_step_through(page)
    expect(page.get_by_text(re.compile("trained 30 steps on O'Neill's and Ryan's folk tunes"))).to_be_visible()
    assert_no_exception(page)


def test_the_melody_scene_and_the_bundled_model_open_by_link(app_url, page):
    number, scene = next((n, s) for n, s in enumerate(SCENES, 1) if s.bundle == "folk")
    _, facts, step, _ = load_scene(scene)
    page.goto(app_url + f"/?scene={number}")
    page.get_by_text(re.compile(f"^{number} · {scene_title(scene, load_scene(scene)[1])}")).wait_for(timeout=60_000)
    settle(page)
    equations_at(page, step, timeout=30_000)
    expect(page.get_by_text(re.compile(f"unit u{facts['unit']}'s cell state keeps count"))).to_be_visible()
    expect(page.get_by_role("combobox", name="Unit to explain")).to_have_value(f"u{facts['unit']}")
    charts_drawn(page)
    assert_no_exception(page)

    page.goto(app_url + "/Step_through?model=folk&seq=2&step=5")
    page.get_by_label("Time step", exact=True).wait_for(timeout=60_000)
    settle(page)
    equations_at(page, 5, timeout=30_000)
    expect(page.get_by_role("combobox", name=re.compile("Held-out tune"))).to_have_value(re.compile("^2: "))
    assert_no_exception(page)
