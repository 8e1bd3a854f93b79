"""Every view of the app a new visitor or an instructor opens, and how to open one in Chromium and wait until it is
drawn: every scene at 1440×900 and in the presenter view at 1280×720; Step through of every bundled kind with
each of its "More views" panels; the Train page's preview for each kind of data; Long memory; Family; the home page
and Step through on a phone (390×844). Shared by tests/e2e/test_view_audit.py and bench/gallery.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout


from lstm_demo.scenes import SCENES

DESKTOP, PROJECTOR, PHONE = (1440, 900), (1280, 720), (390, 844)
N_SCENES = len(SCENES)
# "More views" on Step through: the option's words, and words that say its content has arrived
PANELS = {"heatmaps": ("Every unit (heatmaps)", r"Every unit at every step"),
          "units": ("Selected units over time", r"Units to follow"),
          "finder": ("Find a unit", r"Best match |No unit clearly matches "),
          "training": ("Across training", r"how it learned"),
          "whatif": ("What if? (interventions)", r"Largest change of u"),
          "forecast": ("Forecast from here", r"One-step forecasts made at steps "),
          "export": ("Export this step", r"Trace as CSV")}
ONE_NETWORK = ("heatmaps", "units", "finder", "training", "whatif", "export")
STEP_MODELS = {  # bundle key -> (what it is, its panels)
    "agreement": ("text: next character (LSTM on the agreement text)", ONE_NETWORK),
    "sine": ("series: next value (LSTM on a sine)", ONE_NETWORK[:5] + ("forecast", "export")),
    "python_stacked": ("stacked LSTM, 2 layers, on Python source", ONE_NETWORK),
    "places_bi": ("bidirectional LSTM filling in hidden words", ONE_NETWORK),
    "shapes": ("ConvLSTM on moving shapes", ()),
    "first_digit": ("CNN-LSTM: which digit came first?", ()),
    "numbers": ("encoder–decoder: numbers in words → digits", ("heatmaps", "units")),
    "folk": ("melody: next note (LSTM on folk tunes)", ONE_NETWORK),
}
# The panels the test suite opens (bench/gallery.py opens them all): every panel on the text model, and on the others
# those whose content depends on the kind (the series' what-if and forecast, the stacked model's layers across
# training, the bidirectional model's finder and what-if, the melody's units, finder and what-if) — the rest draw
# with the same code as the text model's.
TEST_PANELS = {"agreement": ONE_NETWORK, "sine": ("heatmaps", "whatif", "forecast"),
               "python_stacked": ("heatmaps", "training"), "places_bi": ("heatmaps", "finder", "whatif"),
               "numbers": ("heatmaps", "units"), "folk": ("heatmaps", "units", "finder", "whatif")}
TRAIN_KINDS = {  # Train page before Start: the radio's words, and the image task to pick (None: the default)
    "text": ("Text (next character)", None),
    "series": ("Time series (next value)", None),
    "frames": ("Image sequences (CNN-LSTM, ConvLSTM)", None),
    "digits": ("Image sequences (CNN-LSTM, ConvLSTM)",
               "Which digit came first? — a handwritten digit, then distractors (CNN-LSTM)"),
    "translation": ("Translation (encoder–decoder)", None),
    "melody": ("Melodies (notes)", None),
}


@dataclass(frozen=True)
class View:
    name: str                    # the screenshot's file name and the test's id
    caption: str                 # what it is, for the gallery
    path: str                    # the address from the app's root
    viewport: tuple = DESKTOP
    panel: str | None = None     # a key of PANELS to click under "More views"
    train_kind: str | None = None  # a key of TRAIN_KINDS to choose on the Train page
    expand: str | None = None    # an expander's words to open
    scene: int | None = None     # the presenter view of this scene
    first_screen: tuple = ()     # keyed views that must show whole on the first screen
    axe: bool = False            # run axe-core on it too
    wait_for: str | None = None  # words (a regex) that say the view's content has arrived
    in_test: bool = True         # walked by tests/e2e/test_view_audit.py too (False: only by bench/gallery.py)


def matrix() -> list[View]:
    """The views in the order a walk on one page per window size opens them most cheaply: the scenes one after the
    other (the next is a key press away), a model's "More views" panels together (a click each), the Train page's
    kinds together (a click each)."""
    views = []
    for n in range(1, N_SCENES + 1):
        views.append(View(f"scene{n:02d}", f"Home, scene {n} at 1440×900", f"/?scene={n}",
                          wait_for=re.escape(f"{n} · "), first_screen=("view_strip", "view_diagram") if n == 1 else (),
                          axe=n == 1))
    views.append(View("home-laptop", "Home, scene 1 at 1280×720 (a laptop; normal view, not the presenter's)",
                      "/?scene=1", PROJECTOR, wait_for=re.escape("1 · "), first_screen=("view_strip", "view_diagram")))
    for n in range(1, N_SCENES + 1):
        views.append(View(f"scene{n:02d}-present", f"Presenter view, scene {n} at 1280×720",
                          f"/?scene={n}&present=1", PROJECTOR, scene=n, wait_for=re.escape(f"{n} · "), axe=n == 1))
    for key, (what, panels) in STEP_MODELS.items():
        base = f"/Step_through?model={key}"
        if not panels:
            views.append(View(f"step-{key}", f"Step through: {what}", base, axe=key == "agreement"))
        for panel in panels:
            views.append(View(f"step-{key}-{panel}", f"Step through: {what} — More views: {PANELS[panel][0]}", base,
                              panel=panel, axe=key == "agreement" and panel == "heatmaps",
                              in_test=panel in TEST_PANELS.get(key, panels)))
        if key == "first_digit":
            views.append(View("step-first_digit-heatmaps", "Step through: CNN-LSTM — its heatmaps expander opened",
                              base, expand="Every LSTM unit at every step (heatmaps)"))
    views.append(View("step-numbers-decoder", "Step through: encoder–decoder at its first decoder step (the hand-over)",
                      "/Step_through?model=numbers&step=27"))
    views.append(View("step-numbers-typed", "Step through: encoder–decoder, a typed source ('twelve': no truth), "
                      "at the hand-over", "/Step_through?model=numbers&text=twelve&step=6"))
    for kind, (words, task) in TRAIN_KINDS.items():
        views.append(View(f"train-{kind}", f"Train page before Start: {task or words}", "/Train", train_kind=kind,
                          wait_for=r"^Before you press Start:", axe=kind == "text"))
    views.append(View("long-memory", "Long memory: the precomputed race", "/Long_memory", wait_for=r"^Precomputed:",
                      axe=True))
    views.append(View("family", "Family", "/Family", wait_for="Encoder–decoder", axe=True))
    views.append(View("phone-home", "Home on a phone (390×844)", "/", PHONE, wait_for=re.escape("1 · ")))
    views.append(View("phone-step", "Step through on a phone (390×844)", "/Step_through?model=agreement", PHONE))
    return views


VIEWS = matrix()
TEST_VIEWS = [v for v in VIEWS if v.in_test]
BY_NAME = {v.name: v for v in VIEWS}

# Chromium draws a chart's axes before Streamlit hands it its data: wait until each chart on the page has either a
# data mark or no axes (a chart of words), or give up after CHARTS_SETTLE ms and let the audit say which is empty.
CHARTS_SETTLE = 8_000
CHARTS_COMPLETE = """() => { const cs = Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))
    .filter(c => c.getClientRects().length);
  return document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]') && cs.every(c => {
    const svg = c.querySelector('svg.marks'); if (!svg) return !!c.querySelector('canvas');
    if (!svg.querySelector('g.mark-group')) return false;
    return !svg.querySelector('g.role-axis') || svg.querySelector('g.role-mark:not(.mark-text):not(.mark-rule) > *'); }); }"""

# Script runs, counted in the page from its first moment (an init script, so every document of the page has it): an
# action that reruns the script is done when a run has ended since and the app is idle — a signal, not a pause long
# enough for the run to have begun. A run is counted when it ends (the state turns 'notRunning' from anything else):
# React may draw a quick run's 'rerunRequested' and skip its 'running'.
RUN_COUNTER = """(() => { window.__runs = 0;
  new MutationObserver(ms => { for (const m of ms) if (m.target.dataset.testScriptState === 'notRunning'
      && m.oldValue !== 'notRunning') window.__runs++; })
    .observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                        attributeFilter: ['data-test-script-state']}); })()"""
RAN = """(n) => window.__runs > n && document.querySelector('[data-testid=stApp]').dataset.testScriptState === 'notRunning'"""
NO_RUN_MS = 10_000  # a widget change that has not started a run by then never will (see rerun)
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"


# Resolves once every chart's drawing keeps its size and place over two animation frames (a chart given new data
# may lay itself out again a frame later); gives up after `arg` frames.
STILL = """async (frames) => { const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const shape = () => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] svg.marks')).map(s => {
      const r = s.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].map(Math.round).join(','); }).join(';');
  let last = shape();
  for (let k = 0; k < frames; k++) { await frame(); const now = shape(); if (now === last) return true; last = now; }
  return false; }"""


def prepare(page) -> None:
    """Once per page, before its first view: count its script runs."""
    page.add_init_script(RUN_COUNTER)


def idle(page, timeout: int = 60_000) -> None:
    """The app has finished its script run (after a page load: its first; the state reads 'initial' before it)."""
    page.wait_for_selector(IDLE, timeout=timeout)


def rerun(page, action, timeout: int = 60_000) -> None:
    """Do action (a click, a key) and wait until the script run it starts has finished. Seen about once in ten page
    loads: a click on a "More views" option soon after the page loaded changed the option on screen but started no
    run (Streamlit's frontend; not this app's code) — the view would wait for ever. Then the page is rerun with its
    widgets as they are (Streamlit's R key, as a visitor would), and this is printed."""
    idle(page, timeout)
    page.evaluate(STILL, 60)  # and for the charts to stop growing: a click on a control that moves may miss it
    before = page.evaluate("() => window.__runs ?? -1")
    if before < 0:  # a page prepared without the counter (bench/gallery.py's own pages)
        page.evaluate(RUN_COUNTER)
        before = 0
    action()
    try:
        page.wait_for_function(RAN, arg=before, timeout=min(NO_RUN_MS, timeout))
    except PlaywrightTimeout:
        print(f"view_matrix.rerun: no script run {NO_RUN_MS} ms after the action on {page.url}: pressing R")
        before = page.evaluate("() => window.__runs")
        page.locator("body").press("r")
        page.wait_for_function(RAN, arg=before, timeout=timeout)


def wait_drawn(page, timeout: int = CHARTS_SETTLE) -> bool:
    """Every chart on the page drawn with its data (False: some never got any within timeout)."""
    try:
        page.wait_for_function(CHARTS_COMPLETE, timeout=timeout)
        return True
    except PlaywrightTimeout:
        return False


def scroll_through(page) -> None:
    """Scroll Streamlit's main column to the bottom and back, a screen at a time, so charts below the fold are laid
    out and drawn, then wait for them."""
    page.evaluate("""async () => { const m = document.querySelector('[data-testid=stMain]') || document.scrollingElement;
        const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        for (let y = 0; y < m.scrollHeight; y += m.clientHeight) { m.scrollTo(0, y); await frame(); }
        m.scrollTo(0, 0); await frame(); }""")


def scene_of(view: View) -> int | None:
    """The home page's scene a view shows (in either mode), or None."""
    m = re.match(r"/\?scene=(\d+)", view.path)
    return int(m.group(1)) if m else None


def reach(before: View | None, view: View) -> str | None:
    """How to get from the view a page shows now to `view` without loading a page: "panel" (another "More views"
    panel of the same Step through: a click), "expand" (an expander of the same page), "next scene" (the scene after
    it, in the same mode: PageDown, as a clicker does), "train kind" (another kind of data on the Train page: a
    click) — or None: load the view's address."""
    if before is None or before.viewport != view.viewport:
        return None
    plain = before.panel is None and before.expand is None and before.train_kind is None
    if view.panel is not None and before.path == view.path and before.train_kind is None and before.expand is None:
        return "panel"
    if view.expand is not None and before.path == view.path and plain:
        return "expand"
    a, b = scene_of(before), scene_of(view)
    if a is not None and b == a + 1 and ("present=1" in before.path) == ("present=1" in view.path):
        return "next scene"
    if view.train_kind is not None and before.train_kind is not None:
        return "train kind"
    return None


def same_page(before: View | None, view: View) -> bool:
    """view is a click or a key press away from the view before (see reach)."""
    return reach(before, view) is not None


def open_view(page, base: str, view: View, before: View | None = None, timeout: int = 60_000) -> None:
    """Open the view in page (its viewport already set) and wait until it is drawn. before: the view the page shows
    now, if any — the next scene, another panel or expander of the same page, another kind of data on the Train page
    is then a key press or a click away (reach)."""
    how = reach(before, view)
    if how is not None:
        try:
            _move(page, view, how, timeout)
            _drawn(page, timeout)
            return
        except PlaywrightError:
            pass  # the page was not in the state expected: open the view afresh
    page.goto(base + view.path)
    idle(page, timeout)
    if view.wait_for:
        page.get_by_text(re.compile(view.wait_for)).first.wait_for(timeout=timeout)
    if view.path.startswith("/Step_through"):
        _wait_words(page, r"^Equations for |^Step \d|^Encoder step|Click a pixel", timeout)
    if view.train_kind:
        _train_kind(page, view, timeout)
    if view.panel:
        _panel(page, view.panel, timeout)
    if view.expand:
        _expand(page, view.expand, timeout)
    _drawn(page, timeout)


def _move(page, view: View, how: str, timeout: int) -> None:
    if how == "panel":
        _panel(page, view.panel, timeout)
    elif how == "expand":
        _expand(page, view.expand, timeout)
    elif how == "next scene":
        rerun(page, lambda: page.keyboard.press("PageDown"), timeout)
        page.get_by_role("heading", name=re.compile("^" + view.wait_for)).first.wait_for(timeout=timeout)
    elif how == "train kind":
        _train_kind(page, view, timeout)


def _train_kind(page, view: View, timeout: int) -> None:
    words, task = TRAIN_KINDS[view.train_kind]
    radio = page.get_by_role("radio", name=words, exact=True)
    if not radio.is_checked():
        rerun(page, lambda: page.get_by_text(words, exact=True).click(), timeout)
    if task:
        chosen = page.locator("[data-testid=stSelectbox]").filter(has_text="Image sequences").first.inner_text()
        if task not in chosen:  # (a closed selectbox shows its label and its choice)
            page.get_by_role("combobox", name="Image sequences").click()
            rerun(page, lambda: page.get_by_role("option", name=task).click(), timeout)
    page.get_by_text(re.compile(r"^Before you press Start:")).first.wait_for(timeout=timeout)


def _panel(page, panel: str, timeout: int) -> None:
    label, arrived = PANELS[panel]
    if not page.locator("[data-testid=stButtonGroup] button[aria-checked=true]", has_text=label).count():
        # (a click on the chosen option would unchoose it)
        rerun(page, lambda: page.get_by_text(label, exact=True).click(), timeout)
    _arrived(page, arrived, timeout)


def _expand(page, words: str, timeout: int) -> None:
    """Open a folded expander whose content is drawn once it is opened (ui/common.lazy_expander: a script run)."""
    rerun(page, lambda: page.get_by_text(words, exact=True).click(), timeout)
    page.locator("details[open]", has_text=words).first.wait_for(timeout=timeout)





# Resolves when the page's animations (an expander opening) have finished: a box measured mid-animation cuts its
# content.
ANIMATIONS = """() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null))).then(() => true)"""


def _drawn(page, timeout: int) -> None:
    complete = wait_drawn(page)
    scroll_through(page)
    wait_drawn(page, CHARTS_SETTLE if complete else 1_000)  # a chart that stayed empty once is not waited for twice
    idle(page, timeout)
    page.evaluate(ANIMATIONS)
    page.evaluate(STILL, 60)


def _wait_words(page, pattern: str, timeout: int) -> None:
    """Wait until some chart draws text matching pattern (the step views are drawn in the browser)."""
    page.wait_for_function("""(p) => { const re = new RegExp(p);
        return Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart] text')).some(t => re.test(t.textContent)); }""",
                           arg=pattern, timeout=timeout)


def _arrived(page, pattern: str, timeout: int) -> None:
    """A panel's content, or the exception that replaced it."""
    page.wait_for_function("""(p) => { const re = new RegExp(p);
        return document.querySelector('[data-testid=stException]') || Array.from(document.querySelectorAll(
            '[data-testid=stMain] p, [data-testid=stMain] label, [data-testid=stMain] [data-testid=stMetricLabel], [data-testid=stMain] h4, [data-testid=stMain] div'))
            .some(e => re.test(e.textContent)); }""", arg=pattern, timeout=timeout)
