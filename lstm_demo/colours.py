"""The colour ramps of the views, exactly as Vega draws them, and the ink that reads on each colour. Plain numpy:
the images (heatmaps, maps) and the letters on coloured tiles are computed here, where the colour is known.

A scale maps a value to t = (value - lo) / (hi - lo) in 0…1, reversed if asked, and t to a colour by Vega's scheme:
its palette (copied from vega-scale, as Streamlit 1.67 ships it) interpolated piecewise-linearly in RGB and
rounded, as d3's `piecewise(interpolateRgb, colours)` does.
"""
from __future__ import annotations

import numpy as np

# vega-scale's continuous schemes, six hex digits per colour ("redblue" is its "redBlue": red at 0, blue at 1)
VEGA_SCHEMES = {
    "viridis": "440154470e61481a6c482575472f7d443a834144873d4e8a39568c35608d31688e2d708e2a788e27818e23888e21918d1f"
               "988b1fa08822a8842ab07f35b77943bf7154c56866cc5d7ad1518fd744a5db36bcdf27d2e21be9e51afde725",
    "redblue": "8c0d25bf363adf745ef4ae91fbdbc9f2efeed2e5ef9dcae15da2cb2f78b3134b85",
}
SIGMOID_GATES = ("input_gate", "forget_gate", "output_gate", "reset_gate", "update_gate")
WCAG_LARGEST_MIN = 4.58   # max(contrast with black, contrast with white) is at least this for any colour


def palette(scheme: str) -> np.ndarray:
    """The scheme's colours -> float (n, 3) in 0…255."""
    hexes = VEGA_SCHEMES[scheme]
    return np.array([[int(hexes[k + j : k + j + 2], 16) for j in (0, 2, 4)] for k in range(0, len(hexes), 6)],
                    dtype=float)


def scheme_rgb(t, scheme: str) -> np.ndarray:
    """t in 0…1 (any shape) -> uint8 (..., 3): d3's piecewise RGB interpolation of the palette, rounded."""
    colours = palette(scheme)
    n = len(colours) - 1
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0) * n
    k = np.clip(np.floor(t), 0, n - 1).astype(int)
    frac = (t - k)[..., None]
    rgb = colours[k] * (1 - frac) + colours[k + 1] * frac
    return np.floor(rgb + 0.5).clip(0, 255).astype(np.uint8)  # JavaScript's Math.round (halves round up)


def scale_of(quantity: str, values: np.ndarray | None = None) -> tuple[str, float, float, bool]:
    """(scheme, lo, hi, reverse) of a quantity's colour: gates 0…1 viridis; g and h −1…1 and c ±max|c|, red-blue
    reversed (blue below 0, red above)."""
    if quantity in SIGMOID_GATES:
        return "viridis", 0.0, 1.0, False
    if quantity == "cell_state":
        m = float(np.abs(values).max()) if values is not None and np.size(values) else 1.0
        m = m if m > 0 and np.isfinite(m) else 1.0
        return "redblue", -m, m, True
    return "redblue", -1.0, 1.0, True


def ramp(values: np.ndarray, lo: float, hi: float, scheme: str, reverse: bool = False) -> np.ndarray:
    """Values -> uint8 (..., 3) through the scheme over lo…hi (reversed: lo gets the scheme's end)."""
    t = (np.asarray(values, dtype=float) - lo) / (hi - lo)
    return scheme_rgb(1 - t if reverse else t, scheme)


def luminance(rgb) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB colours (..., 3) in 0…255."""
    c = np.asarray(rgb, dtype=float) / 255
    lin = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def contrast(a, b) -> np.ndarray:
    """WCAG 2 contrast ratio of two colours (..., 3)."""
    la, lb = luminance(a), luminance(b)
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)


def ink(rgb) -> np.ndarray:
    """"black" or "white" per colour (..., 3): whichever has the larger contrast on it (at least 4.58:1)."""
    lum = luminance(rgb)
    return np.where((lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05), "black", "white")
