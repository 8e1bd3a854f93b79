"""Checks of what a view shows, in Chromium: each is a function of a Playwright `page` (already drawn) that returns a
list of human-readable failures — empty when the view passes. They catch classes of defects a person sees (an empty
chart, a cut-off title, a page wider than the phone, 'nan' in the words, white letters on a yellow tile, labels on top
of each other, a presenter view that does not fit the projector); they do not replace looking at the screenshots.

    from audit import check_view, axe_violations
    failures = check_view(page)                       # every general check, by name
    failures = check_view(page, presenter_scene=4)    # plus the presenter view's fit, counter and letter size
    serious = axe_violations(page)                    # axe-core (vendored), serious and critical only

Each JavaScript check shares one prelude of helpers (PRELUDE): names for charts and elements in the messages, and
the WCAG contrast formula.
"""
from __future__ import annotations

import re
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHART = "[data-testid=stVegaLiteChart]"
MIN_CONTRAST = 4.5         # WCAG AA for normal text
MIN_PRESENTER_PX = 16      # chart letters on a projector, in CSS pixels as drawn
BIG = 1e6                  # |x| at or above this, in e-notation, is an absurd number for this app's views
TINY = 1e-15               # non-zero |x| below this is floating-point noise shown as if it were a value
MAX_DIGITS = 12            # more digits than this in one number is not a number anyone reads

PRELUDE = r"""
const visible = el => { if (!el || !el.getClientRects().length) return false;
    const s = getComputedStyle(el); return s.visibility !== 'hidden' && s.display !== 'none' && +s.opacity > 0; };
const short = (s, n = 60) => { s = (s || '').replace(/\s+/g, ' ').trim(); return s.length > n ? s.slice(0, n) + '…' : s; };
const keyOf = el => { for (let e = el; e; e = e.parentElement) { const k = Array.from(e.classList || [])
    .find(c => c.startsWith('st-key-')); if (k) return '.' + k; } return ''; };
const where = el => { const t = el.closest('[data-testid]'); const id = t ? `[data-testid=${t.dataset.testid}]` : el.tagName;
    const k = keyOf(el); return k ? `${k} ${id}` : id; };
// charts a visitor can see: laid out, not in a closed expander
const charts = () => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]')).filter(c => visible(c)
    && !c.closest('details:not([open])') && c.getBoundingClientRect().height > 0
    && !c.closest('[data-testid=stExpander] [data-testid=stExpanderDetails][hidden]'));
const chartName = c => { const k = charts().indexOf(c);
    const t = c.querySelector('.role-title-text') || c.querySelector('.role-mark text') || c.querySelector('.role-axis-title text');
    return `chart #${k + 1} ${keyOf(c)} '${short(t ? t.textContent : '', 50)}'`; };
const rgb = s => { const m = (s || '').match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
const over = (top, bottom) => ({r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const contrast = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
const hex = c => '#' + [c.r, c.g, c.b].map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
const paint = (el, what) => { const s = getComputedStyle(el); const c = rgb(s[what]); if (!c) return null;
    c.a *= +s[what + 'Opacity'] * +s.opacity; return c; };
const box = el => { const r = el.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height,
    right: r.right, bottom: r.bottom}; };
const fmt = b => `(${Math.round(b.x)}, ${Math.round(b.y)}, ${Math.round(b.w)}×${Math.round(b.h)})`;
const WHITE = {r: 255, g: 255, b: 255, a: 1};
// the main column, and the sidebar when it is open (on a phone it is collapsed, off the screen)
const roots = () => [document.querySelector('[data-testid=stMain]'), document.querySelector('[data-testid=stSidebar]')]
    .filter(r => r && visible(r) && r.getAttribute('aria-expanded') !== 'false' && r.getBoundingClientRect().right > 0);
"""


def _run(page, body: str, arg=None):
    """Evaluate body (JavaScript statements ending in a return) after the prelude."""
    return page.evaluate(f"(arg) => {{ {PRELUDE}\n{body} }}", arg)


# --- exceptions and error boxes ------------------------------------------------------------------------------------

def exceptions(page) -> list[str]:
    """Streamlit exception boxes (a traceback the visitor sees, or its short form)."""
    return [f"exception shown: {text}" for text in _run(page, """
        return Array.from(document.querySelectorAll('[data-testid=stException]')).map(e => short(e.innerText, 200));""")]


def error_boxes(page) -> list[str]:
    """st.error boxes: on a view opened with good input they mean something went wrong."""
    return [f"error box: {text}" for text in _run(page, """
        return Array.from(document.querySelectorAll('[data-testid=stAlertContentError]')).filter(visible)
            .map(e => short(e.innerText, 200));""")]


# --- charts --------------------------------------------------------------------------------------------------------

CHART_MARKS = r"""
const DATA = ['rect', 'symbol', 'line', 'area', 'image', 'arc', 'trail', 'shape', 'path', 'rule'];
const out = [];
for (const c of charts()) {
  const svg = c.querySelector('svg.marks');
  if (!svg) { if (c.querySelector('canvas')) continue; out.push(`${chartName(c)}: nothing drawn (no SVG)`); continue; }
  const name = chartName(c);
  // a view of the chart = the group that owns axes (a layer, or one panel of a concat); the root owns the rest
  // (a facet's shared axes sit in header groups: they belong to no one panel and are left out)
  const own = a => !a.closest('[class*=role-row-], [class*=role-column-]');
  const owners = new Set(Array.from(svg.querySelectorAll('g.role-axis')).filter(own).map(a => a.parentElement.closest(
      'g.role-scope, g.role-frame')));
  const markItems = scope => Array.from(scope.querySelectorAll('g.role-mark')).flatMap(g => {
      const type = (g.getAttribute('class').match(/mark-(\w+)/) || [])[1];
      return Array.from(g.children).map(el => ({type, el}));
  });
  const shows = ({type, el}) => {
      if (!visible(el)) return false;
      const r = el.getBoundingClientRect();
      const fill = paint(el, 'fill'), stroke = paint(el, 'stroke');
      const inked = (fill && fill.a > 0.02) || (stroke && stroke.a > 0.02 && parseFloat(getComputedStyle(el).strokeWidth) > 0)
          || type === 'image';
      if (!inked) return false;
      if (type === 'rect' || type === 'area' || type === 'image' || type === 'arc') return r.width > 0.5 && r.height > 0.5;
      return r.width > 0.5 || r.height > 0.5;  // a line or a rule may be flat in one direction
  };
  for (const owner of owners) {
    const items = markItems(owner).filter(i => DATA.includes(i.type));
    const drawn = items.filter(shows);
    const label = owner.getAttribute('class').includes('root') ? name : `${name}, panel ${short(
        (owner.querySelector('.role-title-text, .role-axis-title text') || {}).textContent || '', 40)}`;
    const axisWords = Array.from(owner.querySelectorAll('.role-axis-label text')).length;
    if (!drawn.filter(i => i.type !== 'rule').length) {
      out.push(`${label}: axes only — ${axisWords} axis labels and ${items.length ? items.length + ' data marks of zero size or no ink'
          : 'no data marks'}${drawn.length ? ' (only rules)' : ''}`);
      continue;
    }
    const lines = drawn.filter(i => i.type === 'line' || i.type === 'trail' || i.type === 'area');
    const plot = owner.querySelector(':scope > g > path.background, :scope > path.background');
    const plotH = plot ? plot.getBoundingClientRect().height : 0;
    const axes = Array.from(owner.querySelectorAll('g.role-axis')).filter(a => own(a) && a.parentElement.closest('g.role-scope, g.role-frame') === owner);
    const yAxis = axes.find(a => /^Y-axis/.test(a.getAttribute('aria-label') || ''));
    if (plot && yAxis && plotH < 50 && !/band|point|ordinal|discrete/.test(yAxis.getAttribute('aria-label')))
      out.push(`${label}: its plot is squeezed to ${Math.round(plotH)} px tall (the title, legend or axis titles take the room)`);
    for (const a of axes) {
      const aria = a.getAttribute('aria-label') || '';
      const ticks = Array.from(a.querySelectorAll('.role-axis-label text')).map(t => t.textContent);
      if (/^X-axis titled '[^']*\bsteps?\b[^']*'/i.test(aria) && /linear/.test(aria) && ticks.some(t => /^[-−]?\d+\.\d+$/.test(t)))
        out.push(`${label}: a time-step axis ticked at fractions of a step (${ticks.slice(0, 6).join(', ')} …)`);
    }
    if (lines.length && lines.length === drawn.filter(i => i.type !== 'rule' && i.type !== 'symbol').length && plotH > 30
        && lines.every(i => i.el.getBoundingClientRect().height < 1.5))
      out.push(`${label}: every line is flat (${lines.length} line(s) of height < 1.5 px in a ${Math.round(plotH)} px plot)`);
    // bars: a band of equal widths (vertical bars) or heights (horizontal); the other side is the value
    const bars = drawn.filter(i => i.type === 'rect').map(i => i.el.getBoundingClientRect());
    const plotW = plot ? plot.getBoundingClientRect().width : 0;
    const same = xs => xs.length > 1 && Math.max(...xs) - Math.min(...xs) < 0.5;
    if (bars.length > 1 && bars.length === drawn.filter(i => i.type !== 'rule' && i.type !== 'text').length) {
      const [value, room] = same(bars.map(r => r.width)) ? [bars.map(r => r.height), plotH]
          : same(bars.map(r => r.height)) ? [bars.map(r => r.width), plotW] : [null, 0];
      if (value && room > 30 && Math.max(...value) < 0.05 * room)
        out.push(`${label}: every bar is under 5 % of the plot (longest ${Math.max(...value).toFixed(1)} px of ${Math.round(room)} px, ${bars.length} bars): the values cannot be seen at this scale`);
    }
    for (const a of axes) {
      const aria = a.getAttribute('aria-label') || '';
      const ticks = a.querySelectorAll('.role-axis-label text').length;
      if (/^Y-axis/.test(aria) && /linear|log|pow|sqrt|symlog/.test(aria) && ticks < 2)
        out.push(`${label}: its y axis has ${ticks} tick label(s) (${short(aria, 120)})`);
    }
    const strokes = new Set(drawn.filter(i => i.type === 'line').map(i => getComputedStyle(i.el).stroke));
    if (strokes.size >= 2 && !c.querySelector('.role-legend')
        && !owner.querySelectorAll('g.mark-text.role-mark text').length)
      out.push(`${label}: ${strokes.size} lines in different colours and no legend or label saying which is which`);
  }
  if (!owners.size && !markItems(svg).filter(shows).length)
    out.push(`${name}: empty — no axes and no marks`);
}
return out;
"""


def chart_marks(page) -> list[str]:
    """Charts without data marks ('axes only': axes and labels drawn but no bar, line, point or image of any size),
    charts whose every line is flat or every bar under 5 % of the plot, plots squeezed under 50 px tall, linear y axes
    with fewer than two tick labels, time-step axes ticked at fractions of a step, and several coloured lines with no
    legend. A chart's views are the groups that own axes (each panel of a concatenated chart, or the root)."""
    return _run(page, CHART_MARKS)


CLIPPED = r"""
const out = [];
const W = innerWidth;
const hides = v => ['hidden', 'clip'].includes(v);
const scrolls = v => ['auto', 'scroll'].includes(v);
// the boxes that clip el: ancestors that hide overflow, up to the first that scrolls (that one is scrolled, not cut)
const clipOf = el => { let c = {l: -Infinity, t: -Infinity, r: Infinity, b: Infinity, by: null};
  for (let e = el; e && e !== document.body; e = e.parentElement) {
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    if (scrolls(s.overflowX) || scrolls(s.overflowY)) break;
    if (hides(s.overflowX) || e.tagName.toLowerCase() === 'svg') { if (r.left > c.l) { c.l = r.left; c.by = c.by || e; } if (r.right < c.r) { c.r = r.right; c.by = e; } }
    if (hides(s.overflowY) || e.tagName.toLowerCase() === 'svg') { if (r.top > c.t) { c.t = r.top; c.by = c.by || e; } if (r.bottom < c.b) { c.b = r.bottom; c.by = e; } }
  }
  return c; };
const cutBy = (r, c, tol) => [['left', c.l - r.left], ['right', r.right - c.r], ['top', c.t - r.top], ['bottom', r.bottom - c.b]]
    .filter(([, d]) => d > tol);
// HTML text: the laid-out text (a Range over its text node) reaches past a box that hides the rest
const seen = new Set();
for (const root of roots()) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || el.closest('svg, pre, textarea, input, [data-testid=stCode]') || !visible(el)) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
    if (!rects.length) continue;
    const c = clipOf(el);
    const r = {left: Math.min(...rects.map(x => x.left)), right: Math.max(...rects.map(x => x.right)),
               top: Math.min(...rects.map(x => x.top)), bottom: Math.max(...rects.map(x => x.bottom))};
    const cut = cutBy(r, c, Math.max(2, 0.3 * Math.min(...rects.map(x => x.height))));
    const key = (c.by ? where(c.by) : '') + n.textContent;
    if (cut.length && !seen.has(key)) { seen.add(key);
      const ell = getComputedStyle(el).textOverflow === 'ellipsis' || (c.by && getComputedStyle(c.by).textOverflow === 'ellipsis');
      out.push(`text cut off${ell ? ' (shown with an ellipsis)' : ''}: '${short(n.textContent, 70)}' in ${where(el)} — `
               + cut.map(([s, d]) => `${Math.round(d)} px past the ${s} edge`).join(', ')); }
  }
}
for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
  if (!visible(h)) continue;
  const r = h.getBoundingClientRect();
  if (r.right > W + 1 || r.left < -1) out.push(`heading '${short(h.textContent)}' runs past the window (${Math.round(r.left)}…${Math.round(r.right)} of ${W} px)`);
}
// SVG: a chart's text past the edge of its SVG (or of a box that clips it), or truncated by Vega with '…'
for (const c of charts()) {
  const svg = c.querySelector('svg.marks'); if (!svg) continue;
  const name = chartName(c);
  const clip = clipOf(svg);
  for (const t of svg.querySelectorAll('text')) {
    const text = t.textContent; if (!text.trim() || !visible(t)) continue;
    const r = t.getBoundingClientRect();
    const role = ((t.parentElement.getAttribute('class') || '').match(/role-([\w-]+)/) || [])[1] || 'text';
    const cut = cutBy(r, clip, Math.max(2, 0.3 * Math.min(r.width, r.height)));
    if (cut.length) out.push(`${name}: ${role} '${short(text)}' cut off: ${cut.map(([s, d]) => `${Math.round(d)} px past the ${s} edge`).join(', ')}`);
    else if (/…$/.test(text) && /title|axis-title|legend-title|axis-label|legend-label/.test(role))
      out.push(`${name}: ${role} truncated by the chart: '${short(text)}'`);
  }
  // a chart wider than its column runs under the column beside it (no box clips it, so the checks above miss it)
  const col = c.closest('[data-testid=stColumn]');
  if (col) { let scrolled = false;
    for (let e = svg.parentElement; e && e !== col; e = e.parentElement) if (scrolls(getComputedStyle(e).overflowX)) scrolled = true;
    const rc = col.getBoundingClientRect(), rs = svg.getBoundingClientRect();
    if (!scrolled && (rs.right > rc.right + 2 || rs.left < rc.left - 2))
      out.push(`${name} runs past its column by ${Math.round(Math.max(rs.right - rc.right, rc.left - rs.left))} px `
               + `(into the next column or off the page)`); }
}
return out;
"""


def clipped_text(page) -> list[str]:
    """Headings, metrics, labels and chart text cut off: text wider than a box that hides the rest (scrollWidth >
    clientWidth), an ellipsis, a heading past the window, SVG text past its SVG or a clipping parent, and chart titles
    or labels Vega shortened with '…'."""
    return _run(page, CLIPPED)


OVERFLOW = r"""
const W = document.documentElement.clientWidth;
const scrollers = [document.documentElement, document.body, ...document.querySelectorAll(
    '[data-testid=stMain], [data-testid=stAppViewContainer], [data-testid=stAppScrollToBottomContainer]')].filter(Boolean);
const widest = Math.max(...scrollers.map(s => s.scrollWidth - s.clientWidth + W));
if (widest <= W + 1) return [];
const scrollsItself = el => { for (let e = el.parentElement; e && !scrollers.includes(e); e = e.parentElement) {
    const s = getComputedStyle(e); if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) return true; } return false; };
const offenders = Array.from(document.querySelectorAll('[data-testid=stMain] *, [data-testid=stSidebar] *'))
    .filter(el => visible(el) && el.getBoundingClientRect().right > W + 1 && !scrollsItself(el));
const top = offenders.filter(el => !offenders.includes(el.parentElement))
    .sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right).slice(0, 3);
return [`the page scrolls sideways: content is ${widest} px wide in a ${W} px window; widest: ` + top.map(el =>
    `${where(el)} <${el.tagName.toLowerCase()}> '${short(el.textContent, 40)}' to x=${Math.round(el.getBoundingClientRect().right)}`).join('; ')];
"""


def page_overflow(page) -> list[str]:
    """The page is wider than the window (the document or Streamlit's main scroller), naming the widest elements
    that stick out (not those inside a box that scrolls on its own, like a code block or a table)."""
    return _run(page, OVERFLOW)


# --- words ---------------------------------------------------------------------------------------------------------

VISIBLE_TEXTS = r"""
const out = [];
const skip = 'pre, code, textarea, input, [data-testid=stCode], [data-testid=stSidebarNav], .stTooltipContent';
for (const root of roots()) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || el.closest(skip) || el.closest('svg') || !visible(el)) continue;
    out.push([n.textContent, where(el), '']);
  }
}
for (const c of charts()) for (const t of c.querySelectorAll('svg text'))
  if (t.textContent.trim() && visible(t)) out.push([t.textContent, `${chartName(c)}`,
      ((t.parentElement.getAttribute('class') || '').match(/role-([\w-]+)/) || [])[1] || '']);
return out;
"""

_NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+−\u2011]?\d+)?(?![\w])")  # (‑: no-break)
_NEG_ZERO = re.compile(r"(?<![\w.)\]])[-−]0(?:\.0+)?(?![\d.])")  # "−0.00": a value that rounds to zero, shown negative
_NAN = re.compile(r"(?<![A-Za-z])(?:nan|NaN|NAN|[-+−]?inf|[-+−]?Inf|[-+−]?Infinity|undefined)(?![A-Za-z])")
_PLACEHOLDER = re.compile(r"(?<!')(?:''|‘’|“”|\"\")(?!')(?=[\s:,.)]|$)|\bNone\b|\bnull\b|emits '\?'|→ \?(?:\s|$)")


def visible_texts(page) -> list[tuple[str, str, str]]:
    """(text, where, role) for every visible text node of the page and every text of its charts (role: Vega's, e.g.
    'axis-label', '' for HTML), without code blocks, inputs and the sidebar's page list."""
    return [tuple(t) for t in _run(page, VISIBLE_TEXTS)]


def _absurd(token: str) -> str | None:
    """Why a written number is absurd, or None."""
    digits = re.sub(r"\D", "", token.split("e")[0].split("E")[0])
    if len(digits) > MAX_DIGITS:
        return f"{len(digits)} digits"
    if "e" in token.lower():
        try:
            value = abs(float(token.replace(",", "").replace("−", "-").replace("\u2011", "-")))
        except ValueError:
            return None
        if value >= BIG:
            return f"|x| ≥ {BIG:.0e} in e-notation"
        if 0 < value < TINY:
            return f"0 < |x| < {TINY:.0e}: floating-point noise shown as a value"
    return None


def bad_numbers(page, texts: list | None = None) -> list[str]:
    """nan / inf / undefined in the visible words and charts, negative zeros ('−0.00'), and absurd numbers (|x| ≥ 1e6
    in e-notation, more than 12 digits, or non-zero noise below 1e-15; axis ticks are exempt from the size rules)."""
    found = {}
    for text, at, role in visible_texts(page) if texts is None else texts:
        for m in _NAN.finditer(text):
            found.setdefault(f"'{m.group(0)}' in '{_around(text, m)}' ({at})", None)
        for m in _NEG_ZERO.finditer(text):
            found.setdefault(f"negative zero '{m.group(0)}' in '{_around(text, m)}' ({at})", None)
        if role == "axis-label":
            continue  # a tick of a log scale may well be 1e-24: a position on the axis, not a value said
        for m in _NUMBER.finditer(text):
            why = _absurd(m.group(0))
            if why:
                found.setdefault(f"absurd number {m.group(0)} ({why}) in '{_around(text, m)}' ({at})", None)
    return list(found)


def placeholders(page, texts: list | None = None) -> list[str]:
    """Words with a hole in them: empty quotes ('' as a value), None, null, or '?' where a character should be."""
    found = {}
    for text, at, _ in visible_texts(page) if texts is None else texts:
        for m in _PLACEHOLDER.finditer(text):
            found.setdefault(f"placeholder {m.group(0).strip()!r} in '{_around(text, m)}' ({at})", None)
    return list(found)


def _around(text: str, m, n: int = 50) -> str:
    start = max(0, m.start() - n)
    return ("…" if start else "") + " ".join(text[start : m.end() + n].split()) + ("…" if m.end() + n < len(text) else "")


_VERDICT = re.compile(r"It (beats|does not beat|is about as good as) the best naive forecast, “([^”]+)”")
_NAMES = {"repeat the last value": "Repeat the last value", "repeat last season": "Repeat last season"}

FORECAST_METRICS = r"""
return Array.from(document.querySelectorAll('[data-testid=stMetric]')).filter(visible).map(m => {
  const d = m.querySelector('[data-testid=stMetricDelta]');
  const c = d ? rgb(getComputedStyle(d).color) : null;
  return {label: (m.querySelector('[data-testid=stMetricLabel]') || {}).innerText || '',
          value: (m.querySelector('[data-testid=stMetricValue]') || {}).innerText || '',
          delta: d ? d.innerText : '', colour: c ? (c.g > c.r + 30 ? 'green' : c.r > c.g + 30 ? 'red' : 'grey') : '',
          where: where(m)};
});
"""


def forecast_claims(page, texts: list | None = None) -> list[str]:
    """The forecast panels' words and badges against their own numbers: "it beats the best naive forecast, 'X'" must
    mean X has the smallest error of the naive forecasts shown and the model's is below it; a badge "model N×
    better" is green and the model's error is N times smaller than the baseline's shown beside it ("worse": red and
    larger; "baseline exact": red)."""
    out = []
    metrics = _run(page, FORECAST_METRICS)
    model = next((_float(x["value"]) for x in metrics if x["label"].startswith("Model: one-step")), None)
    shown = {name: _float(x["value"]) for x in metrics for name, label in _NAMES.items()
             if x["label"].startswith(label) and _float(x["value"]) is not None}
    for text, at, _ in visible_texts(page) if texts is None else texts:
        m = _VERDICT.search(text)
        if not m or model is None or not shown:
            continue
        best = min(shown, key=shown.get)
        if m.group(2) != best:
            out.append(f"the words name “{m.group(2)}” the best naive forecast, but “{best}” has the smallest error "
                       f"shown ({at})")
        ok = {"beats": model < shown[best], "does not beat": model >= shown[best] * 0.95,
              "is about as good as": abs(model - shown[best]) <= 0.06 * max(model, shown[best])}[m.group(1)]
        if not ok:
            out.append(f"the words say the model {m.group(1)} “{best}”, but the errors shown are {model:g} and "
                       f"{shown[best]:g} ({at})")
    for x in metrics:
        m = re.search(r"model (over [\d,]+|[\d.e+-]+)× (better|worse)", x["delta"])
        if x["delta"] == "baseline exact" and x["colour"] != "red":
            out.append(f"'{x['label']}': badge 'baseline exact' is {x['colour']}, not red ({x['where']})")
        if not m:
            continue
        want = "green" if m.group(2) == "better" else "red"
        if x["colour"] != want:
            out.append(f"'{x['label']}': badge '{x['delta']}' is {x['colour']}, not {want} ({x['where']})")
        base = _float(x["value"])
        if model is not None and base and not m.group(1).startswith("over"):
            r = model / base if m.group(2) == "worse" else base / model if model else float("inf")
            if abs(r - float(m.group(1))) > 0.006 * r + 0.01:
                out.append(f"'{x['label']}': badge '{x['delta']}', the numbers shown give {r:.4g}× ({x['where']})")
    return out


def _float(text: str):
    if isinstance(text, str) and text.startswith("≈ 0"):   # "≈ 0 (exact)"
        return 0.0
    try:
        return float(text.replace(",", "").replace("−", "-"))
    except (ValueError, AttributeError):
        return None


STEP_WORDS = r"""
const step = Number(document.body.value);
if (!Number.isFinite(step) || document.body.value === undefined || document.body.value === '') return [];
const out = [];
for (const c of charts()) for (const t of c.querySelectorAll('svg text')) {
  const m = t.textContent.match(/^(?:Step|Encoder step|Decoder step) (\d+)\b|^Equations for .* at step (\d+)$/);
  if (m && visible(t) && Number(m[1] ?? m[2]) !== step)
    out.push(`${chartName(c)} says step ${m[1] ?? m[2]} while the cursor is at step ${step}: '${short(t.textContent, 80)}'`);
}
return out;
"""


def step_words(page) -> list[str]:
    """Every chart that names the step (a 'Step n:' heading, 'Equations for … at step n') names the cursor's."""
    return _run(page, STEP_WORDS)


DIRECTION_WORDS = r"""
const texts = charts().flatMap(c => Array.from(c.querySelectorAll('svg text')).filter(visible).map(t => [t.textContent, c]));
const backward = texts.find(([t]) => /c\(t\+1\)|h\(t\+1\)/.test(t));
const forward = texts.find(([t, c]) => /c\(t[−-]1\)|h\(t[−-]1\)/.test(t) && c.closest('.st-key-view_diagram'));
return backward && forward ? [`the equations read the backward direction ('${short(backward[0], 40)}') but the cell diagram `
    + `says '${short(forward[0], 30)}' (${chartName(forward[1])})`] : [];
"""


def direction_words(page) -> list[str]:
    """A backward direction's view: the equations say c(t+1), so the cell diagram must not say c(t−1)."""
    return _run(page, DIRECTION_WORDS)


# --- colour --------------------------------------------------------------------------------------------------------

TILE_CONTRAST = r"""
const out = [];
for (const c of charts()) {
  const svg = c.querySelector('svg.marks'); if (!svg) continue;
  const tiles = Array.from(svg.querySelectorAll('g.mark-rect.role-mark > path')).map(p => ({p, r: p.getBoundingClientRect(),
      fill: paint(p, 'fill')})).filter(t => t.fill && t.fill.a > 0.02 && t.r.width > 2 && t.r.height > 2);
  if (!tiles.length) continue;
  let n = 0; const bad = [];
  for (const t of svg.querySelectorAll('g.mark-text.role-mark > text')) {
    if (!t.textContent.trim() || !visible(t)) continue;
    const r = t.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    const under = tiles.filter(u => u.r.left <= x && x <= u.r.right && u.r.top <= y && y <= u.r.bottom);
    if (!under.length) continue;
    const tile = under.reduce((bg, u) => over(u.fill, bg), WHITE);   // later tiles are drawn on top
    const ink = paint(t, 'fill'); if (!ink) continue;
    n++;
    const k = contrast(over(ink, tile), tile);
    if (k < arg) bad.push({ch: t.textContent, k, ink: hex(over(ink, tile)), bg: hex(tile)});
  }
  if (bad.length) {
    bad.sort((a, b) => a.k - b.k);
    const inks = new Map(); bad.forEach(b => { if (!inks.has(b.ink)) inks.set(b.ink, []); inks.get(b.ink).push(b); });
    out.push(`${chartName(c)}: ${bad.length} of ${n} letters on tiles below ${arg}:1 — ` + Array.from(inks.entries())
        .map(([ink, bs]) => `${bs.length} ${ink} letter(s), worst ` + bs.slice(0, 3).map(b => `'${b.ch}' on ${b.bg} ${b.k.toFixed(2)}:1`)
        .join(', ')).join('; '));
  }
}
return out;
"""


def tile_contrast(page, minimum: float = MIN_CONTRAST) -> list[str]:
    """Letters drawn on coloured tiles (the text coloured by a unit, and any chart text over a rect): WCAG contrast
    of the letter's computed colour against the tile under it (tiles blended over the white page) ≥ minimum."""
    return _run(page, TILE_CONTRAST, minimum)


EMOJI = r"""
const seen = new Map();
for (const root of roots()) { const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = w.nextNode(); n; n = w.nextNode()) { if (!visible(n.parentElement)) continue;
    for (const m of n.textContent.matchAll(/\p{Extended_Pictographic}/gu)) if (!seen.has(m[0])) seen.set(m[0], n.parentElement); } }
const cv = document.createElement('canvas'); cv.width = cv.height = 40; const g = cv.getContext('2d', {willReadFrequently: true});
const draw = (ch, font) => { g.clearRect(0, 0, 40, 40); g.font = font; g.fillStyle = '#000'; g.fillText(ch, 4, 30);
    return Array.from(g.getImageData(0, 0, 40, 40).data).join(','); };
const out = [];
for (const [ch, el] of seen) { const font = `24px ${getComputedStyle(el).fontFamily}`;
  const missing = draw('\u{10FFFD}', font);   // a private-use code point no font has: the 'no glyph' box
  if (draw(ch, font) === missing) out.push(`emoji ${ch} (U+${ch.codePointAt(0).toString(16).toUpperCase()}) renders as an empty box (no emoji font) in ${where(el)}`); }
return out;
"""


def emoji_boxes(page) -> list[str]:
    """Emoji in the page's words that this browser draws as the 'no glyph' box (Debian's Chromium has no emoji
    font): drawn on a canvas in the element's font and compared with a code point no font has."""
    return _run(page, EMOJI)


def nav_labels(page) -> list[str]:
    """The sidebar's page list (Streamlit's own, or page links drawn in the sidebar): there is one, every entry is
    a title, not a file name ('app'), and the first is the home page's, 'Home'."""
    names = page.evaluate("""() => { const own = Array.from(document.querySelectorAll('[data-testid=stSidebarNav] a'));
        const links = own.length ? own : Array.from(document.querySelectorAll('[data-testid=stSidebar] [data-testid=stPageLink] a'));
        return links.map(a => { const c = a.cloneNode(true);   // the words, without an icon's ligature ('home')
            c.querySelectorAll('[data-testid=stIconMaterial], [data-testid=stIconEmoji]').forEach(i => i.remove());
            return c.textContent.trim(); }); }""")
    if not names:
        return ["the sidebar has no list of pages"]
    found = [f"sidebar entry {k + 1} reads {n!r} (a file name, not a page title)" for k, n in enumerate(names)
             if re.fullmatch(r"[a-z0-9_ ]+", n)]
    return found + ([f"the sidebar's first entry reads {names[0]!r}, not 'Home'"] if names[0] != "Home" else [])


# --- layout --------------------------------------------------------------------------------------------------------

OVERLAPS = r"""
const out = [];
const inter = (a, b) => [Math.min(a.right, b.right) - Math.max(a.left, b.left), Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top)];
const lines = t => Math.max(1, t.querySelectorAll('tspan').length);
for (const scope of document.querySelectorAll(arg)) {
  if (!visible(scope)) continue;
  const name = keyOf(scope) || where(scope);
  const texts = Array.from(scope.querySelectorAll('svg text')).filter(t => t.textContent.trim() && visible(t))
      .map(t => ({t, r: t.getBoundingClientRect(), s: short(t.textContent, 30)}));
  // nodes: the boxes and circles of the diagram (rects and symbols with an outline)
  const nodes = Array.from(scope.querySelectorAll('g.mark-rect.role-mark > path, g.mark-symbol.role-mark > path'))
      .filter(p => { const k = paint(p, 'stroke'); return visible(p) && k && k.a > 0.3; }).map(p => ({p, r: p.getBoundingClientRect()}));
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
    const a = texts[i].r, b = texts[j].r, [w, h] = inter(a, b);
    if (w > 2 && h > 0.3 * Math.min(a.height / lines(texts[i].t), b.height / lines(texts[j].t)))
      out.push(`${name}: labels '${texts[i].s}' and '${texts[j].s}' overlap (${Math.round(w)}×${Math.round(h)} px at ${Math.round(Math.max(a.left, b.left))}, ${Math.round(Math.max(a.top, b.top))})`);
  }
  for (const x of texts) {
    const line = x.r.height / lines(x.t), cx = x.r.left + x.r.width / 2, cy = x.r.top + x.r.height / 2;
    for (const n of nodes) {
      const inside = n.r.left <= cx && cx <= n.r.right && n.r.top <= cy && cy <= n.r.bottom;
      const [w, h] = inter(x.r, n.r);
      if (inside) {
        const spill = [['left', n.r.left - x.r.left, 2], ['right', x.r.right - n.r.right, 2], ['top', n.r.top - x.r.top, 0.2 * line],
                       ['bottom', x.r.bottom - n.r.bottom, 0.2 * line]].filter(([, d, tol]) => d > tol);
        if (spill.length) out.push(`${name}: label '${x.s}' spills out of its ${n.p.parentElement.getAttribute('class').includes('symbol') ? 'circle' : 'box'} `
            + `(${spill.map(([s, d]) => `${Math.round(d)} px past the ${s}`).join(', ')})`);
      } else if (w > 2 && h > 0.3 * line) {
        const own = texts.find(y => y !== x && n.r.left <= y.r.left + y.r.width / 2 && y.r.left + y.r.width / 2 <= n.r.right
            && n.r.top <= y.r.top + y.r.height / 2 && y.r.top + y.r.height / 2 <= n.r.bottom);
        out.push(`${name}: label '${x.s}' runs into the ${n.p.parentElement.getAttribute('class').includes('symbol') ? 'circle' : 'box'}`
            + `${own ? ` of '${own.s}'` : ''} (${Math.round(w)}×${Math.round(h)} px)`);
      }
    }
  }
}
return out;
"""


def overlapping_labels(page, scope: str = ".st-key-view_diagram") -> list[str]:
    """SVG text labels in scope (default: the cell diagram) that collide: two labels whose boxes intersect (more than
    2 px wide and 30 % of a line's height), a label that spills out of the box or circle it is written in, or runs
    into another node's box or circle."""
    return _run(page, OVERLAPS, scope)


FIT = r"""
const [W, H, scene] = arg;
const out = [];
const inside = (what, el) => { if (!el) { out.push(`${what}: not on the page`); return; }
  const r = el.getBoundingClientRect();
  if (r.height < 2) out.push(`${what}: drawn with no height`);
  else if (r.top < -1 || r.bottom > H + 1 || r.left < -1 || r.right > W + 1)
    out.push(`${what} is not within the ${W}×${H} screen: ${fmt(box(el))}` + (r.top >= H ? ' — entirely below the screen' :
        r.bottom > H + 1 ? ` — ${Math.round(r.bottom - H)} px below the bottom edge` : ''));
};
const title = Array.from(document.querySelectorAll('h1, h2, h3')).find(h => visible(h) && h.textContent.trim().startsWith(scene + ' ·'));
inside(`the title '${scene} · …'`, title);
const words = title && Array.from(document.querySelectorAll('[data-testid=stMain] [data-testid=stMarkdownContainer]'))
    .find(m => visible(m) && !m.closest('[data-testid=stHeading]') && m.getBoundingClientRect().top >= title.getBoundingClientRect().bottom - 1);
inside('the words', words);
const first = ['.st-key-view_maps', '.st-key-view_strip'].map(s => document.querySelector(s)).filter(e => e && visible(e))
    .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)[0];
inside('the first view (' + (first ? keyOf(first) : '.st-key-view_strip / .st-key-view_maps') + ')', first);
for (const k of ['view_diagram', 'view_equations']) {
  const el = document.querySelector('.st-key-' + k);
  inside(`.st-key-${k}`, el);
  const svg = el && el.querySelector('svg.marks');
  if (svg) inside(`.st-key-${k}'s chart`, svg);
}
return out;
"""


def presenter_fit(page, scene: int, width: int = 1280, height: int = 720) -> list[str]:
    """The presenter view on one screen: the scene's title, its words, the first view (text strip or gate maps), the
    cell diagram and the equations, each whole within width × height."""
    return _run(page, FIT, [width, height, scene])


SMALL_TEXT = r"""
const [H, min] = arg;
const out = [];
for (const c of charts()) {
  const svg = c.querySelector('svg.marks'); if (!svg) continue;
  const rs = svg.getBoundingClientRect(); if (rs.top >= H) continue;
  const scale = rs.width / (svg.width.baseVal.value || rs.width);
  const small = Array.from(svg.querySelectorAll('text')).filter(t => t.textContent.trim() && visible(t)
      && t.getBoundingClientRect().top < H).map(t => ({t, px: parseFloat(getComputedStyle(t).fontSize) * scale}))
      .filter(x => x.px < min - 0.05);
  if (small.length) { small.sort((a, b) => a.px - b.px);
    out.push(`${chartName(c)}: ${small.length} text(s) below ${min} px on the first screen — smallest ` +
             small.slice(0, 3).map(x => `'${short(x.t.textContent, 25)}' ${x.px.toFixed(1)} px`).join(', ')); }
}
return out;
"""


def small_chart_text(page, minimum: float = MIN_PRESENTER_PX, height: int = 720) -> list[str]:
    """Chart text on the first screen (above `height`) drawn smaller than `minimum` CSS pixels (the font size times
    the SVG's scale)."""
    return _run(page, SMALL_TEXT, [height, minimum])


def scene_counter(page, scene: int, n_scenes: int, height: int = 720) -> list[str]:
    """The presenter view tells the audience where they are: 'scene of n_scenes' visible on the first screen."""
    shown = _run(page, """const [H, pattern] = arg; const re = new RegExp(pattern);
        return Array.from(document.querySelectorAll('[data-testid=stMain] *')).some(el => visible(el)
            && el.children.length === 0 && re.test(el.textContent) && el.getBoundingClientRect().top < H
            && el.getBoundingClientRect().bottom > 0);""", [height, rf"\b{scene}\s*(?:of|/)\s*{n_scenes}\b"])
    return [] if shown else [f"no scene counter ('{scene} of {n_scenes}') visible on the first screen"]


def above_the_fold(page, keys=("view_strip", "view_diagram"), height: int = 900) -> list[str]:
    """The first screen shows the keyed views whole (the home page's promise: a trained model's gates at once)."""
    return _run(page, """const [keys, H] = arg; const out = [];
        for (const k of keys) { const el = document.querySelector('.st-key-' + k);
          if (!el) { out.push(`.st-key-${k}: not on the page`); continue; }
          const r = el.getBoundingClientRect();
          if (r.bottom > H + 1) out.push(`.st-key-${k} is not on the first ${H} px: ${fmt(box(el))}` + (r.top >= H ?
              ' — entirely below the fold' : ` — only its top ${Math.max(0, Math.round(H - r.top))} px are`)); }
        return out;""", [list(keys), height])


# --- axe-core -----------------------------------------------------------------------------------------------------

def axe_results(page) -> list[dict]:
    """axe-core's violations on the page (vendored tests/e2e/vendor/axe.min.js, no network): dicts with id, impact,
    help and nodes (target selectors and a failure summary)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target.join(' '),
        summary: (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200), html: n.html.slice(0, 160)}))}))""")


def axe_violations(page, impacts=("serious", "critical"), results: list[dict] | None = None) -> list[str]:
    """axe-core violations of the given impacts, one line per rule with its node count and first targets."""
    results = axe_results(page) if results is None else results
    return [f"axe {v['id']} ({v['impact']}, {len(v['nodes'])} node(s)): {v['help']} — "
            + "; ".join(n["target"] for n in v["nodes"][:4]) for v in results if v["impact"] in impacts]


# --- everything ----------------------------------------------------------------------------------------------------

GENERAL = {"exception": exceptions, "error box": error_boxes, "chart marks": chart_marks, "clipped": clipped_text,
           "overflow": page_overflow, "numbers": bad_numbers, "placeholders": placeholders,
           "forecast claims": forecast_claims, "step words": step_words, "direction words": direction_words,
           "tile contrast": tile_contrast, "diagram labels": overlapping_labels, "emoji": emoji_boxes,
           "page names": nav_labels}


def check_view(page, presenter_scene: int | None = None, n_scenes: int = 12, viewport=None,
               first_screen: tuple | None = None) -> dict[str, list[str]]:
    """Every general check, and for a presenter view (presenter_scene = the scene's number) its fit, counter and
    letter size; first_screen: keys that must show whole on the first screen. Returns {check: failures}, only the
    checks that failed."""
    width, height = viewport or (page.viewport_size["width"], page.viewport_size["height"])
    checks = dict(GENERAL)
    texts = visible_texts(page)  # read once for the checks of words
    for name in ("numbers", "placeholders", "forecast claims"):
        checks[name] = lambda p, check=checks[name]: check(p, texts)
    if presenter_scene is not None:
        checks["presenter fit"] = lambda p: presenter_fit(p, presenter_scene, width, height)
        checks["presenter counter"] = lambda p: scene_counter(p, presenter_scene, n_scenes, height)
        checks["presenter letters"] = lambda p: small_chart_text(p, MIN_PRESENTER_PX, height)
    if first_screen:
        checks["first screen"] = lambda p: above_the_fold(p, first_screen, height)
    found = {}
    for name, check in checks.items():
        failures = check(page)
        if failures:
            found[name] = failures
    return found
