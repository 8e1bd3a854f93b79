"""Every sentence or badge that compares or concludes, computed from the numbers shown beside it — in one place,
pure functions, tested on their edge cases (tests/test_conclusions.py: errors of 0 or 1e-28, ties, NaN, negative
correlations, curves that dip and recover). A view only prints what these return.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EXACT = 1e-12        # an error this small, relative to the values' own mean square, is an exact forecast
SAME = 1.05          # errors within 5 % of each other are "about the same"
BIG = 1000.0         # factors beyond this are said as "over 1,000×" (the digits would be noise)


def number(x: float, digits: int = 3) -> str:
    """A number for words: no "−0.00", no 24-digit mantissas, "not a number" for NaN."""
    if x is None or math.isnan(x):
        return "not a number"
    if math.isinf(x):
        return "infinite" if x > 0 else "minus infinite"
    text = f"{x:.{digits}g}"
    return "0" if float(text) == 0 else text


def error_text(x: float, scale: float = 1.0) -> str:
    """A mean squared error for a badge: "≈ 0 (exact)" when it is exact as compare_errors measures it (a 1e-30
    printed in full would be rounding noise shown as a result)."""
    if math.isfinite(x) and 0 <= x <= _exact(scale):
        return "≈ 0 (exact)"
    return number(x, 4)


def _exact(scale: float) -> float:
    return EXACT * max(scale, 1e-300) if math.isfinite(scale) and scale > 0 else EXACT


def factor(x: float) -> str:
    return f"over {BIG:,.0f}×" if x > BIG else f"{number(x)}×"


@dataclass(frozen=True)
class Comparison:
    """How the model's error compares with one baseline's."""
    outcome: str          # "better", "worse", "same", "unknown"
    words: str            # e.g. "the model's error is 4.2× smaller"
    badge: str            # a short text for a metric's delta, e.g. "model 4.2× better"
    colour: str           # "green" (better), "red" (worse), "gray" (same or unknown)


def compare_errors(model: float, baseline: float, scale: float = 1.0) -> Comparison:
    """The model's mean squared error against a baseline's; scale: the values' mean square (what "exact" is
    measured against)."""
    if not (math.isfinite(model) and math.isfinite(baseline)) or model < 0 or baseline < 0:
        return Comparison("unknown", "the errors cannot be compared (one is not a number)", "cannot compare", "gray")
    exact = _exact(scale)
    if baseline <= exact and model <= exact:
        return Comparison("same", "both are exact here (errors ≈ 0)", "both exact", "gray")
    if baseline <= exact:
        return Comparison("worse", "this baseline is exact here (error ≈ 0) and the model is not", "baseline exact",
                          "red")
    if model <= exact:
        return Comparison("better", "the model is exact here (error ≈ 0) and this baseline is not", "model exact",
                          "green")
    r = model / baseline
    if 1 / SAME < r < SAME:
        return Comparison("same", "the model's error is about the same", "about the same", "gray")
    if r < 1:
        return Comparison("better", f"the model's error is {factor(1 / r)} smaller", f"model {factor(1 / r)} better",
                          "green")
    return Comparison("worse", f"the model's error is {factor(r)} larger", f"model {factor(r)} worse", "red")


def forecast_verdict(model: float, baselines: dict, scale: float = 1.0) -> str:
    """One sentence on the model against its best naive forecast (the baseline with the smallest error)."""
    known = {name: err for name, err in baselines.items() if err is not None and math.isfinite(err)}
    if not math.isfinite(model) or not known:
        return "The forecasts cannot be judged: an error is not a number."
    best = min(known, key=known.get)
    c = compare_errors(model, known[best], scale)
    if c.outcome == "better":
        others = [n for n in known if n != best and compare_errors(model, known[n], scale).outcome != "better"]
        tail = "" if not others else f" (but not {', '.join(others)})"
        return f"It beats the best naive forecast, “{best}”: {c.words}{tail}."
    if c.outcome == "same":
        return f"It is about as good as the best naive forecast, “{best}”: {c.words}."
    if c.outcome == "worse":
        return f"It does not beat the best naive forecast, “{best}”: {c.words}."
    return f"The forecasts cannot be judged against “{best}”: {c.words}."


def horizon_words(free, forced, unit: str = "") -> str:
    """What the two forecasts' errors are over the horizon (free: the free-running one's absolute errors at
    1…k steps ahead, forced: the one-step one's), from the numbers the error chart draws."""
    u = f" {unit}" if unit else ""
    k = len(free)
    if k == 1:
        return f"one step ahead the forecast is off by {number(free[0])}{u}."
    a, b = number(free[0]), number(free[-1])
    trend = "about the same as" if a == b else "larger than" if free[-1] > free[0] else "smaller than"
    peak = max(range(k), key=lambda j: free[j])
    between = (f"; in between it is off by up to {number(free[peak])}{u}, {peak + 1} steps ahead"
               if 0 < peak < k - 1 and number(free[peak]) not in (a, b) else "")  # the chart's hump, said too
    return (f"one step ahead the free-running forecast is off by {a}{u}, after {k} steps by {b}{u} ({trend} at "
            f"the first step){between}; the one-step forecast is off by {number(forced[-1])}{u} at the last step.")


CLEAR = 0.4          # |r| above this is a clear relation: "follows", "separates", "remembers", "a match"


def clear(r: float) -> bool:
    """A correlation clear enough to name a unit for it (the finder's, the race's and the scenes' one bar)."""
    return r is not None and math.isfinite(r) and abs(r) > CLEAR


def follows(r: float, hypothesis: str) -> str:
    """How strongly a unit follows a hypothesis, from the Pearson correlation r, with its sign said."""
    if r is None or not math.isfinite(r):
        return f"cannot be said to follow “{hypothesis}”"
    a = abs(r)
    word = "strongly follows" if a > 0.7 else "moderately follows" if a > CLEAR else \
        "only weakly follows" if a > 0.1 else "does not follow"  # (|r| 0.46 is no "clearly")
    said = f"{word} “{hypothesis}”"
    # (a correlation is relative: "higher when it is false", not "high" — outside the quotes u.. sat near 0)
    return said + (", with the opposite sign (higher when it is false)" if r < 0 and a > 0.1 else "")


def best_match(unit: int, r: float, hypothesis: str, where: str) -> tuple[str, bool]:
    """The finder's sentence on its top-ranked unit, and whether it is a match worth the name (|r| > 0.4): a unit at
    r = 0.05 is the "best" of a bad lot, and is said so."""
    words = follows(r, hypothesis)
    good = clear(r)
    head = f"Best match {where}" if good else f"No unit clearly matches {where}; the closest is"
    sentence = f"{head}: unit u{unit}, correlation {number(r, 2) if not math.isfinite(r) else f'{r:+.2f}'}"
    return sentence + f" — it {words}.", good


def reach(distances, means, bar: float):
    """The longest distance D such that the model is at or above `bar` at every tested distance up to D (None if not
    even at the shortest): a curve that dips and recovers reaches only to before the dip."""
    d, m = np.asarray(distances), np.asarray(means, dtype=float)
    order = np.argsort(d)
    d, m = d[order], m[order]
    ok = np.isfinite(m) & (m >= bar)
    if not len(ok) or not ok[0]:
        return None
    bad = np.flatnonzero(~ok)
    return int(d[bad[0] - 1]) if len(bad) else int(d[-1])


def tally(better: np.ndarray) -> str:
    """How often one curve beats another over groups: better (+1), worse (-1), equal (0) per group."""
    b = np.asarray(better)
    n, up, down = len(b), int((b > 0).sum()), int((b < 0).sum())
    same = n - up - down
    parts = [f"better in {up}"] + ([f"worse in {down}"] if down else []) + ([f"equal in {same}"] if same else [])
    return ", ".join(parts) + f" of {n} length groups"


# --- what a scene's words claim about its picture --------------------------------------------------------------------

def changes_most_at(values, span: tuple, margin: float = 1.5) -> bool:
    """"Took note at X": the largest step-to-step change of the values happens inside span = (first, end) (the
    steps where X is read), clearly (`margin` times) larger than any change elsewhere — a ramp took note nowhere."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2 or not np.isfinite(v).all():
        return False
    jumps = np.abs(np.diff(v))                     # jumps[k]: the change made at step k + 1
    inside = np.zeros(len(jumps), dtype=bool)
    inside[max(span[0] - 1, 0) : max(span[1] - 1, 0)] = True
    if not inside.any() or jumps[inside].max() == 0:
        return False
    return bool(not (~inside).any() or jumps[inside].max() >= margin * jumps[~inside].max())


def carried(values, span: tuple, scale_max: float, share: float = 0.5) -> bool:
    """"Carried along the belt": over span, every value keeps the same sign and at least `share` of the colour scale's
    reach (scale_max: the largest |value| the view's colour scale shows at full strength) — a visible colour."""
    v = np.asarray(values, dtype=float)[span[0] : span[1]]
    if not len(v) or not scale_max > 0:
        return False
    return bool((np.abs(v) >= share * scale_max).all() and (np.sign(v) == np.sign(v[0])).all())


def loss_progress(val_history, step: int) -> str:
    """How the validation loss has moved up to `step`, from the (step, loss) pairs recorded so far: words only for
    what the numbers show ("validation loss 3.21 at step 0 → 1.45 at step 300"), nothing when there is no pair yet."""
    seen = [(s, v) for s, v in val_history if s <= step and math.isfinite(v)]
    if not seen:
        return ""
    (s0, v0), (s1, v1) = seen[0], seen[-1]
    if s1 == s0:
        return f"validation loss {v1:.2f} at step {s1:,}"
    trend = "down" if v1 < v0 else "up" if v1 > v0 else "unchanged"
    return f"validation loss {v0:.2f} at step {s0:,} → {v1:.2f} at step {s1:,} ({trend})"


def remembering_heading(r: float) -> str:
    """The heading over the race's best unit: a unit that separates the two cases (|r| > 0.4, as the finder says) is
    one that remembers; below that it is only the closest."""
    return "The unit that remembers" if clear(r) else \
        "No unit clearly remembers; the closest"


def separates(r: float, yes: str, no: str) -> str:
    """How well a unit's value tells two cases apart, from the correlation r with the case (+1 yes, -1 no): on the
    same bar as the finder and the race's heading (|r| > 0.4), "separates" only when it clearly does."""
    if r is None or not math.isfinite(r):
        return f"cannot be said to separate {yes} from {no} (the correlation is not a number)"
    a = abs(r)
    if a > CLEAR:
        return f"separates {yes} from {no} with correlation {r:+.2f}"
    if a > 0.1:
        return f"only weakly separates {yes} from {no} (correlation {r:+.2f})"
    return f"does not separate {yes} from {no} (correlation {r:+.2f})"


REPLAY_TOL = 1e-4    # a replay this close to torch's own forward pass reproduces it (float32 round-off is ~1e-6)


def replay_verdict(check: dict, tol: float = REPLAY_TOL) -> str:
    """The proof line under the equations, from the replay check measured on this very sequence (trace.check_replay
    and the kinds' own checks: {"max_abs_h": largest difference, "module": what ran the forward pass, optionally
    "compared": what was compared when it is not h, "by_layer": per layer and direction}): ✓ and "reproduces" only
    when the largest difference is within tol."""
    err, module = check.get("max_abs_h", float("nan")), check.get("module", "the model")
    what = check.get("compared")
    if err is None or not math.isfinite(err):
        return (f"✗ The replay could not be checked against `{module}` on this sequence (its difference is not a "
                "number): these views may not show the model's own numbers.")
    e = f"{err:.1e}".replace("-", "\u2011")  # a non-breaking hyphen: "1.3e-" and "06" were wrapped apart
    size = f"max |Δ| = {e} in {what}" if what else f"max |Δh| = {e}"
    if err <= tol:
        return (f"✓ These are the model's own numbers: replaying its weights step by step reproduces `{module}`'s "
                f"forward pass on this sequence to {size}"
                + (" (every layer and direction)." if "by_layer" in check else "."))
    t = f"{tol:.0e}".replace("-", "\u2011")
    return (f"✗ The step-by-step replay differs from `{module}`'s forward pass on this sequence: {size}, more "
            f"than the {t} that float round-off explains. These views do not reproduce the model's numbers.")


@dataclass(frozen=True)
class Badge:
    """A metric's delta: its text and colour, judged on the numbers as the sentence beside it prints them."""
    text: str
    colour: str           # "green" (better), "red" (worse), "gray" (the same, or unknown)


def points_badge(model: float, baseline: float, against: str) -> Badge:
    """A share (higher is better) against a baseline's, in whole percentage points as they are printed (0.504 and
    0.496 both show as 50 %: the same)."""
    if not (math.isfinite(model) and math.isfinite(baseline)):
        return Badge("cannot compare", "gray")
    d = round(100 * model) - round(100 * baseline)
    if d == 0:
        return Badge(f"the same as {against}", "gray")
    return Badge(f"{d:+d} points vs {against}", "green" if d > 0 else "red")


def lower_badge(model: float, baseline: float, against: str, digits: int = 2) -> Badge:
    """A loss (lower is better) against a baseline's, compared as both are printed (to `digits` decimals)."""
    if not (math.isfinite(model) and math.isfinite(baseline)):
        return Badge("cannot compare", "gray")
    d = round(model, digits) - round(baseline, digits)
    if round(d, digits) == 0:
        return Badge(f"the same as {against}", "gray")
    return Badge(f"{abs(d):.{digits}f} {'below' if d < 0 else 'above'} {against}", "green" if d < 0 else "red")


def measured(x) -> float | None:
    """A measurement for a table: None (an empty cell) when there is none yet, never NaN."""
    return float(x) if x is not None and math.isfinite(x) else None


def loss_text(x) -> str:
    """A loss for a metric: "not measured yet" before the first value (never "nan")."""
    return f"{x:.4f}" if x is not None and math.isfinite(x) else "not measured yet"


def naive_words(step: str) -> str:
    """The last-value baseline in words for a series whose steps are `step`s (SeriesData.step_name)."""
    if step == "day":
        return "The naive forecast: tomorrow is like today."
    return f"The naive forecast: the next {step} is like this one."
