"""The audit's checks (tests/e2e/audit.py) on small hand-made pages in Chromium, each with one planted defect and a
clean twin: a check must find the defect and stay quiet on the twin. The pages imitate the markup the checks read
(Streamlit's data-testid attributes, Vega's SVG classes); no server is needed."""
import pytest

import audit

CHART = '<div data-testid="stVegaLiteChart" style="width:{w}px"><svg class="marks" width="{w}" height="{h}" ' \
        'viewBox="0 0 {w} {h}">{body}</svg></div>'


def page_with(page, body: str, width=800, height=600):
    page.set_viewport_size({"width": width, "height": height})
    page.set_content(f'<html><body style="margin:0;font:16px sans-serif"><section data-testid="stMain" '
                     f'style="width:{width}px">{body}</section></body></html>')
    return page


def chart(body: str, w=300, h=100) -> str:
    return CHART.format(w=w, h=h, body=body)


def wcag(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (the definition, written out independently of audit.PRELUDE)."""
    def lum(c):
        rgb = [int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture
def blank(browser):
    p = browser.new_page()
    yield p
    p.close()


def tiles(ink: str, tile: str) -> str:
    return chart(f'<g class="mark-rect role-mark"><path d="M0,0h30v30h-30Z" fill="{tile}"></path></g>'
                 f'<g class="mark-text role-mark"><text x="10" y="20" fill="{ink}" font-size="16">a</text></g>')


def test_tile_contrast_finds_white_on_yellow_and_passes_black_on_yellow(blank):
    yellow = "#fbe724"
    found = audit.tile_contrast(page_with(blank, tiles("#ffffff", yellow)))
    assert len(found) == 1 and f"{wcag('#ffffff', yellow):.2f}:1" in found[0]
    assert audit.tile_contrast(page_with(blank, tiles("#000000", yellow))) == []
    assert wcag("#000000", yellow) >= 4.5


def test_overlapping_diagram_labels(blank):
    def diagram(x2):
        return ('<div class="st-key-view_diagram">' + chart(
            f'<g class="mark-text role-mark"><text x="10" y="40" font-size="16">c(t−1) +0.07</text>'
            f'<text x="{x2}" y="40" font-size="16">kept</text></g>') + '</div>')
    assert len(audit.overlapping_labels(page_with(blank, diagram(40)))) == 1
    assert audit.overlapping_labels(page_with(blank, diagram(200))) == []


def test_label_spilling_out_of_its_box(blank):
    def boxed(width):
        return '<div class="st-key-view_diagram">' + chart(
            f'<g class="mark-rect role-mark"><path d="M20,10h{width}v40h-{width}Z" fill="#fff" stroke="#333"></path></g>'
            '<g class="mark-text role-mark"><text x="70" y="36" text-anchor="middle" font-size="16">cand. tanh</text></g>'
            ) + '</div>'
    found = audit.overlapping_labels(page_with(blank, boxed(60)))
    assert len(found) == 1 and "spills out of its box" in found[0]
    assert audit.overlapping_labels(page_with(blank, boxed(100))) == []


def test_chart_text_past_the_svg_edge_and_a_truncated_title(blank):
    cut = chart('<g class="mark-group role-title"><g class="mark-text role-title-text">'
                '<text x="-40" y="20" font-size="16">Prediction: probability</text></g></g>')
    found = audit.clipped_text(page_with(blank, cut))
    assert len(found) == 1 and "past the left edge" in found[0]
    whole = chart('<g class="mark-text role-title-text"><text x="5" y="20" font-size="16">Prediction</text></g>')
    assert audit.clipped_text(page_with(blank, whole)) == []
    short = chart('<g class="mark-text role-title-text"><text x="5" y="20" font-size="16">output gate o (after…</text></g>')
    assert "truncated" in audit.clipped_text(page_with(blank, short))[0]


def test_chart_wider_than_its_column(blank):
    def columns(w):
        return ('<div style="display:flex;gap:16px"><div data-testid="stColumn" style="width:300px">' + chart(
            '<g class="mark-text role-mark"><text x="5" y="20" font-size="16">a b c</text></g>', w=w)
            + '</div><div data-testid="stColumn" style="width:300px">next</div></div>')
    found = audit.clipped_text(page_with(blank, columns(420)))
    assert len(found) == 1 and "runs past its column by 120 px" in found[0]
    assert audit.clipped_text(page_with(blank, columns(290))) == []


def test_html_text_cut_by_a_box_that_hides_overflow(blank):
    cut = '<div style="width:80px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis">Repeat last season</div>'
    assert len(audit.clipped_text(page_with(blank, cut))) == 1
    fits = '<div style="width:300px;overflow:hidden;white-space:nowrap">Repeat last season</div>'
    assert audit.clipped_text(page_with(blank, fits)) == []


def test_page_overflow_names_the_widest_element(blank):
    found = audit.page_overflow(page_with(blank, '<div data-testid="stVegaLiteChart" style="width:900px">wide</div>',
                                          width=390))
    assert len(found) == 1 and "stVegaLiteChart" in found[0] and "390 px window" in found[0]
    scrolls = '<pre style="overflow-x:auto;width:300px"><code>' + "x" * 300 + "</code></pre>"
    assert audit.page_overflow(page_with(blank, scrolls, width=390)) == []


@pytest.mark.parametrize("text, bad", [
    ("truth '': nan%", True), ("model × 617206258219057523195904.00", True), ("Repeat last season 1.245e-28", True),
    ("error 3.2e+07", True), ("x = -inf", True), ("max |Δh| = 9.5e-07", False), ("1,797 digits by 43 writers", False),
    ("max |Δh| = 9.5e\u201107", False), ("x = 1e\u201120", True),  # (a no-break hyphen in the exponent)
    ("step 1,000 of 5,000", False), ("0.0002586", False), ("Infinite patience", False),
    ("kept −0.00", True), ("Mean ± std -0.00 ± 0.71", True), ("c(t−1) −0.01", False), ("h(t−1) +0.00", False),
    ("−0", True), ("from −0.5 to 1", False)])
def test_bad_numbers(blank, text, bad):
    found = audit.bad_numbers(page_with(blank, f"<p>{text}</p>"))
    assert bool(found) == bad, found


def test_placeholders(blank):
    assert audit.placeholders(page_with(blank, "<p>reads '^' → emits '?', the truth is '7'</p>"))
    assert audit.placeholders(page_with(blank, "<p>truth '': 100%</p>"))
    assert audit.placeholders(page_with(blank, "<p>reads '^' → emits '7'</p>")) == []
    assert audit.placeholders(page_with(blank, "<p>the true next character is '''</p>")) == []  # an apostrophe


def test_axes_only_chart_and_a_chart_with_bars(blank):
    def bars(height):
        return chart('<g class="mark-group role-frame root"><g><path class="background" d="M0,0h300v100h-300Z" '
                     'fill="none"></path><g>'
                     '<g class="mark-group role-axis" aria-label="X-axis titled \'unit\' for a discrete scale"><g>'
                     '<g class="mark-text role-axis-label"><text x="20" y="95">u1</text><text x="60" y="95">u2</text>'
                     '</g></g></g>'
                     f'<g class="mark-rect role-mark"><path d="M10,80h20v-{height}h-20Z" fill="#4c78a8"></path>'
                     f'<path d="M50,80h20v-{height}h-20Z" fill="#4c78a8"></path></g></g></g></g>')
    found = audit.chart_marks(page_with(blank, bars(0)))
    assert len(found) == 1 and "axes only" in found[0]
    assert audit.chart_marks(page_with(blank, bars(40))) == []


def test_forecast_words_and_badges_against_their_numbers(blank):
    def panel(words, colour="rgb(9, 171, 59)", badge="model 31.1× better", season="1.245e-28"):
        return ('<div data-testid="stMetric"><div data-testid="stMetricLabel">Model: one-step MSE</div>'
                '<div data-testid="stMetricValue">0.0002586</div></div>'
                '<div data-testid="stMetric"><div data-testid="stMetricLabel">Repeat the last value</div>'
                '<div data-testid="stMetricValue">0.008032</div>'
                f'<div data-testid="stMetricDelta" style="color:{colour}">{badge}</div></div>'
                '<div data-testid="stMetric"><div data-testid="stMetricLabel">Repeat last season (50 steps ago)</div>'
                f'<div data-testid="stMetricValue">{season}</div>'
                '<div data-testid="stMetricDelta" style="color:rgb(255, 43, 43)">baseline exact</div></div>'
                f'<p>{words}</p>')
    wrong = "It beats the best naive forecast, “repeat the last value”: the model's error is 31.1× smaller."
    right = "It does not beat the best naive forecast, “repeat last season”: this baseline is exact here."
    assert len(audit.forecast_claims(page_with(blank, panel(wrong)))) == 2  # not the best one, and not beaten
    assert audit.forecast_claims(page_with(blank, panel(right))) == []
    found = audit.forecast_claims(page_with(blank, panel(right, colour="rgb(255, 43, 43)")))
    assert len(found) == 1 and "is red" in found[0]
    found = audit.forecast_claims(page_with(blank, panel(right, badge="model 3× better")))
    assert len(found) == 1 and "31.06" in found[0]
    assert audit.forecast_claims(page_with(blank, panel(right, season="≈ 0 (exact)"))) == []


def test_presenter_fit(blank):
    def scene(top):
        return ('<h3>4 · The cell state follows the phase of a sine</h3>'
                '<div data-testid="stMarkdownContainer"><p>The input is one number per step.</p></div>'
                '<div class="st-key-view_strip" style="height:200px">strip</div>'
                f'<div style="height:{top}px"></div>'
                '<div class="st-key-view_diagram" style="height:250px">diagram</div>'
                '<div class="st-key-view_equations" style="height:250px">equations</div>')
    found = audit.presenter_fit(page_with(blank, scene(300), 1280, 720), 4)
    assert any("view_diagram" in f and "below" in f for f in found)
    assert audit.presenter_fit(page_with(blank, scene(0).replace("height:250px", "height:100px"), 1280, 720), 4) == []


def test_direction_words(blank):
    def views(diagram):
        return ('<div class="st-key-view_diagram">' + chart(f'<g class="mark-text role-mark"><text x="5" y="20">{diagram}'
                '</text></g>') + '</div><div class="st-key-view_equations">' + chart(
                '<g class="mark-text role-mark"><text x="5" y="20">c(t) = f·c(t+1) + i·g</text></g>') + "</div>")
    assert len(audit.direction_words(page_with(blank, views("c(t−1) −2.65")))) == 1
    assert audit.direction_words(page_with(blank, views("c(t+1) −2.65"))) == []
