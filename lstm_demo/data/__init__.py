"""Data for the two kinds of model: character-level text and time series."""
from .series import SERIES_PRESETS, SeriesData, load_series_preset, numeric_columns, read_csv, series_from_frame
from .text import TEXT_PRESETS, DataError, TextData, check_text, decode_text, load_text_preset

__all__ = ["SERIES_PRESETS", "SeriesData", "load_series_preset", "numeric_columns", "read_csv", "series_from_frame",
           "TEXT_PRESETS", "DataError", "TextData", "check_text", "decode_text", "load_text_preset"]
