"""Every view of the matrix (tests/e2e/view_matrix.py), opened in Chromium and audited (tests/e2e/audit.py): no
exception; every chart has data marks; no clipped heading, text or chart title; no sideways scrolling; no nan, inf
or absurd number in the words; letters on coloured tiles at 4.5:1 or more; the cell diagram's labels apart; in the
presenter view at 1280×720 the title, words, first view, diagram and equations on one screen, a scene counter and
chart letters of 16 px or more. On Home, Train, Step through, Long memory, Family and the presenter view, in the same
page load, axe-core (vendored): no serious or critical violation.

One server and one browser page per window size serve the whole walk, in the matrix's order: the next scene is a
PageDown away (as a clicker moves through a talk), another "More views" panel or another kind of data on the Train
page a click away (view_matrix.reach); each wait is for a signal (a script run finished, words or marks drawn). The
"More views" panels that draw with the same code on every kind are opened on the text model and where their content
depends on the kind (view_matrix.TEST_PANELS); bench/gallery.py walks every panel of every model and photographs
every view. A failing view keeps its screenshot (printed with the failure).
"""
import pytest

from audit import axe_violations, check_view
from view_matrix import N_SCENES, TEST_VIEWS, open_view, prepare


class Walk:
    """A page per window size, and the view each shows now."""

    def __init__(self, browser, url):
        self.browser, self.url, self.pages = browser, url, {}

    def show(self, view):
        page, before = self.pages.get(view.viewport, (None, None))
        if page is None:
            page = self.browser.new_page(viewport={"width": view.viewport[0], "height": view.viewport[1]})
            prepare(page)
        self.pages[view.viewport] = (page, None)  # unknown state until the view has opened
        open_view(page, self.url, view, before)
        self.pages[view.viewport] = (page, view)
        return page

    def close(self):
        for page, _ in self.pages.values():
            page.close()


@pytest.fixture(scope="module")
def walk(browser, app_url):
    w = Walk(browser, app_url)
    yield w
    w.close()


def _report(page, view, failures: dict, shots) -> str:
    shot = shots / f"{view.name}.png"
    page.screenshot(path=str(shot))
    lines = [f"{view.name} ({view.caption}, {view.path} at {view.viewport[0]}×{view.viewport[1]}); screenshot {shot}"]
    for check, found in failures.items():
        lines.append(f"  {check}: {len(found)}")
        lines += [f"    - {f}" for f in found[:12]] + ([f"    … and {len(found) - 12} more"] if len(found) > 12 else [])
    return "\n".join(lines)


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("view_audit")


@pytest.mark.parametrize("view", TEST_VIEWS, ids=lambda v: v.name)
def test_view(walk, shots, view):
    page = walk.show(view)
    failures = check_view(page, presenter_scene=view.scene, n_scenes=N_SCENES, first_screen=view.first_screen or None)
    if view.axe and (serious := axe_violations(page)):
        failures["axe serious/critical"] = serious
    if failures:
        pytest.fail(_report(page, view, failures, shots), pytrace=False)
