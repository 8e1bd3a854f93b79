"""Time series: seeded generators, real series shipped by `vega_datasets`, and the user's CSV.

Values are normalised to mean 0 / std 1 for training (the parameters are kept so charts show original units).
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..config import LIMITS, ConfigError
from ..config import DataError
from .windows import min_items, split_point


# --- generators (seeded, deterministic) --------------------------------------------------------------------------

def sine(n: int = 2000, period: float = 50.0, seed: int = 0) -> np.ndarray:
    return np.sin(2 * np.pi * np.arange(n) / period)


def sines_noise(n: int = 2000, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sin(2 * np.pi * t / 40) + 0.5 * np.sin(2 * np.pi * t / 13 + 1.0) + 0.1 * rng.standard_normal(n)


def square(n: int = 2000, period: int = 40, seed: int = 0) -> np.ndarray:
    return np.where((np.arange(n) % period) < period // 2, 1.0, -1.0)


def sawtooth(n: int = 2000, period: int = 40, seed: int = 0) -> np.ndarray:
    return 2 * (np.arange(n) % period) / period - 1


def mackey_glass(n: int = 2000, tau: int = 17, seed: int = 0) -> np.ndarray:
    """Mackey-Glass delay differential equation (chaotic for tau >= 17), Euler steps of 1, sampled every step."""
    rng = np.random.default_rng(seed)
    history = 1.2 + 0.01 * rng.standard_normal(tau + 1)
    x = list(history)
    for _ in range(n + 200):  # 200 steps of burn-in so the start is on the attractor
        x_tau = x[-tau - 1]
        x.append(x[-1] + 0.2 * x_tau / (1 + x_tau ** 10) - 0.1 * x[-1])
    return np.array(x[-n:])


# --- real series shipped with vega_datasets (local files, no download) -------------------------------------------

def _seattle_daily_max():
    from vega_datasets import local_data
    df = local_data.seattle_weather()
    return df["temp_max"].to_numpy(float), pd.to_datetime(df["date"]).to_numpy(), "°C"


def _seattle_hourly():
    from vega_datasets import local_data
    df = local_data.seattle_temps()
    return df["temp"].to_numpy(float), pd.to_datetime(df["date"]).to_numpy(), "°F"


def _stock(symbol: str):
    from vega_datasets import local_data
    df = local_data.stocks()
    df = df[df["symbol"] == symbol]
    return df["price"].to_numpy(float), pd.to_datetime(df["date"]).to_numpy(), "USD"


def _generated(fn, unit=""):
    return lambda seed=0: (fn(seed=seed), None, unit)


SERIES_PRESETS = {
    "sine": ("Sine wave (period 50)", _generated(sine)),
    "sines_noise": ("Two sines + noise", _generated(sines_noise)),
    "square": ("Square wave", _generated(square)),
    "sawtooth": ("Sawtooth wave", _generated(sawtooth)),
    "mackey_glass": ("Mackey–Glass (chaotic)", _generated(mackey_glass)),
    "seattle_daily": ("Seattle daily max temperature 2012–2015 (real)", lambda seed=0: _seattle_daily_max()),
    "seattle_hourly": ("Seattle hourly temperature 2010 (real)", lambda seed=0: _seattle_hourly()),
    "stock_aapl": ("AAPL monthly stock price (real)", lambda seed=0: _stock("AAPL")),
}


# --- user CSV ----------------------------------------------------------------------------------------------------

_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+(,\d+)?\s*")


def read_csv(raw: bytes) -> pd.DataFrame:
    """Bytes of an uploaded CSV -> DataFrame; refuses binary/non-UTF-8/empty/ragged files with a clear message."""
    if not isinstance(raw, (bytes, bytearray)):
        raise DataError(f"read_csv expects the bytes of a file, not {type(raw).__name__}.")
    if len(raw) > LIMITS.max_upload_bytes:
        raise DataError(f"The file is {len(raw):,} bytes; the limit is {LIMITS.max_upload_bytes:,}.")
    if b"\x00" in raw[:8192]:
        raise DataError("This looks like a binary file (it contains NUL bytes). Upload a CSV text file.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"The CSV is not UTF-8 text (bad byte at position {e.start}).") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # old Mac files end lines with CR alone
    if not text.strip():
        raise DataError("The CSV file is empty.")
    sep = _sniff_separator(text)
    lines = text.split("\n")
    header = lines[0]
    if header.count(sep) >= 1000:  # refuse before pandas builds a frame 200,000 columns wide
        raise DataError(f"The CSV has {header.count(sep) + 1:,} columns; at most 1,000 are accepted.")
    rows = [line for line in lines[1:] if line.strip()]
    if sep == "," and "," not in header and rows and all(_DECIMAL_COMMA.fullmatch(r) for r in rows):
        sep, decimal = "\x1f", ","  # one column of numbers with decimal commas ("1,5"), not two columns
    else:
        decimal = "," if sep == ";" else "."  # European CSVs pair ';' with decimal commas
    df = _parse(text, sep, decimal)
    if not df.index.equals(pd.RangeIndex(len(df))):
        # pandas turns the first field into an index when rows have more fields than the header names
        raise DataError(f"The rows have more fields than the header has column names (separator {sep!r}). "
                        "Give every column a name, or use ';' between columns if the numbers have decimal commas.")
    if df.shape[1] > 1000:
        raise DataError(f"The CSV has {df.shape[1]:,} columns; at most 1,000 are accepted.")
    if len(df) == 0:
        raise DataError("The CSV has a header but no rows.")
    return df


def _parse(text: str, sep: str, decimal: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, nrows=LIMITS.max_series_len + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as e:
        raise DataError(f"The CSV could not be read: {str(e).splitlines()[0][:200]}") from None


def _sniff_separator(text: str) -> str:
    """Only , ; tab or | can separate columns (an unrestricted sniffer happily picks a letter)."""
    try:
        return csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """Columns where most cells parse as numbers."""
    out = []
    for col in df.columns:
        values = pd.to_numeric(df[col], errors="coerce")
        if values.notna().mean() >= 0.9:
            out.append(str(col))
    return out


def series_from_frame(df: pd.DataFrame, value_col: str, date_col: str | None = None, name: str = "CSV"):
    if value_col not in map(str, df.columns):
        raise DataError(f"There is no column named {value_col!r}.")
    cols = {str(c): c for c in df.columns}
    raw = pd.to_numeric(df[cols[value_col]], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(raw)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(f"Column {value_col!r} has {int(bad.sum())} empty, non-numeric, NaN or infinite cells "
                        f"(first at row {first + 1}). Clean them and upload again.")
    dates = None
    if date_col:
        dates = pd.to_datetime(df[cols[date_col]], errors="coerce")
        if dates.isna().any():
            raise DataError(f"Column {date_col!r} has cells that are not dates.")
        dates = dates.to_numpy()
    return SeriesData(raw, name=name, dates=dates)


# --- the data object the trainer uses ----------------------------------------------------------------------------

@dataclass
class SeriesData:
    values: np.ndarray                  # (N,) in original units
    name: str = "series"
    dates: np.ndarray | None = None     # (N,) datetimes, or None for a plain step index
    unit: str = ""
    kind: str = "series"
    norm: tuple | None = None           # (mean, std) to use instead of the series' own (a loaded model's)
    mean: float = field(init=False)
    std: float = field(init=False)
    normed: torch.Tensor = field(init=False)  # (N, 1) float32, (values - mean) / std

    def __post_init__(self):
        v = np.asarray(self.values, dtype=float).ravel()
        if len(v) < 2:
            raise DataError("The series needs at least 2 points.")
        if len(v) > LIMITS.max_series_len:
            raise DataError(f"The series has {len(v):,} points; the limit is {LIMITS.max_series_len:,}.")
        if not np.isfinite(v).all():
            raise DataError("The series contains NaN or infinite values.")
        if self.norm is not None:  # a loaded model's normalisation: the sample may well be flat at its end
            mean, std = (float(x) for x in self.norm)
            if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
                raise DataError("The normalisation (mean, std) must be finite with std > 0.")
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                mean, std, spread = float(v.mean()), float(v.std()), float(np.ptp(v))
            if not (math.isfinite(std) and math.isfinite(mean) and math.isfinite(spread)):
                raise DataError("The values are too large to work with (their spread overflows); rescale the "
                                "column.")
            # constant relative to the values' own scale: 1e-13 … 9e-13 varies, 1e6 ± rounding noise does not
            if not spread > 1e-12 * float(np.abs(v).max()) or not std > 0:
                raise DataError("The series is constant; there is nothing to forecast.")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            normed = ((v - mean) / std).astype(np.float32)  # the model computes in float32
        if not np.isfinite(normed).all():
            raise DataError("The values cannot be normalised to finite numbers; rescale the column.")
        self.values, self.mean, self.std = v, mean, std
        self.normed = torch.from_numpy(normed)[:, None]

    def denorm(self, x):
        return np.asarray(x, dtype=float) * self.std + self.mean

    def parts(self, seq_len: int):
        if len(self.values) < min_items(seq_len):
            raise DataError(f"The series has {len(self.values)} points; with window length {seq_len} it needs at "
                            f"least {min_items(seq_len)} (one training and one validation window). "
                            "Use a shorter sequence length or a longer series.")
        cut = split_point(len(self.values), seq_len)
        return self.normed[:cut], self.normed[cut:]

    def step_name(self) -> str:
        """What one step of the series is, from its dates' typical spacing ("hour", "day", "month" …); "point"
        without dates or with an irregular spacing."""
        if self.dates is None or len(self.dates) < 2:
            return "point"
        gap = float(np.median(np.diff(np.asarray(self.dates, dtype="datetime64[s]")).astype(float)))  # seconds
        day = 86_400.0
        for name, seconds in (("minute", 60.0), ("hour", 3600.0), ("day", day), ("week", 7 * day),
                              ("month", 30.44 * day), ("quarter", 91.3 * day), ("year", 365.25 * day)):
            if abs(gap - seconds) <= 0.1 * seconds:
                return name
        return "point"

    def validation_start(self, seq_len: int) -> int:
        """The first point of the validation part at this window length (where parts() cuts)."""
        return split_point(len(self.values), seq_len)

    def validation_words(self, seq_len: int) -> str:
        """Where validation starts, and its share, as parts() cuts at this window length (both parts keep a whole
        window, so a short series holds out more than the usual tenth)."""
        n, cut = len(self.values), self.validation_start(seq_len)
        return f"validation starts at point {cut:,} (the last {(n - cut) / n:.0%} at sequence length {seq_len})"

    def summary(self) -> dict:
        return {"points": len(self.values), "min": float(self.values.min()), "max": float(self.values.max()),
                "mean": self.mean, "std": self.std}


def load_series_preset(key: str, seed: int = 0) -> SeriesData:
    if key not in SERIES_PRESETS:
        raise ConfigError(f"Unknown series preset {key!r}; choose one of {sorted(SERIES_PRESETS)}.")
    label, build = SERIES_PRESETS[key]
    values, dates, unit = build(seed=seed)
    return SeriesData(values, name=label, dates=dates, unit=unit)
