"""The bad-input corpus across text, CSV and hyperparameters (model files: tests/test_store.py), and property-based
tests of the parsers: whatever the bytes, the answer is a value or a clear DataError/ModelFileError — never
another exception, never a hang."""
import gzip
import math
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_demo.config import LIMITS, ConfigError, TrainConfig

from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData, decode_text
from lstm_demo.kinds.series_data import SeriesData, read_csv, series_from_frame
from lstm_demo.config import DataError
from lstm_demo.memory import RaceConfig
from lstm_demo.store import ModelFileError, load_bytes

CSV_CASES = {
    "header only": (b"date,temp\n", "no rows"),
    "ragged rows": (b"a,b\n1,2\n3,4,5,6\n7,8\n", "could not be read"),
    "200,000 columns": (b",".join(b"c%d" % i for i in range(200_000)) + b"\n" + b"1," * 199_999 + b"1\n",
                        "columns"),
    "gzip bomb posing as CSV": (gzip.compress(b"1\n" * 2_000_000), "binary|UTF-8"),
    "UTF-16 file": ("v\n1\n2\n".encode("utf-16"), "binary|UTF-8"),
    "Latin-1 file": ("température\n1,5\n".encode("latin-1"), "UTF-8"),
    "NUL bytes inside": (b"v\n1\n\x00\n2\n", "binary"),
    "oversized file": (b"v\n" + b"1\n" * (LIMITS.max_upload_bytes // 2 + 10), "limit"),
}


@pytest.mark.parametrize("name", list(CSV_CASES))
def test_bad_csv_corpus(name):
    raw, needle = CSV_CASES[name]
    with pytest.raises(DataError, match=needle):
        read_csv(raw)


SERIES_CASES = {
    "1e309 overflows to infinity": (b"v\n1\n1e309\n3\n4\n", "infinite"),
    "NaN spelled out": (b"v\n1\nNaN\n3\n4\n", "NaN"),
    "text in a number column": (b"v\n1\n2\nthree\n4\n", "non-numeric"),
    "constant": (b"v\n" + b"7\n" * 50, "constant"),
    "a single value": (b"v\n1\n", "at least 2"),
    "values whose spread overflows": (b"v\n1e308\n-1e308\n1e308\n", "too large"),
}


@pytest.mark.parametrize("name", list(SERIES_CASES))
def test_bad_series_corpus(name):
    raw, needle = SERIES_CASES[name]
    with pytest.raises(DataError, match=needle):
        series_from_frame(read_csv(raw), "v")


def test_odd_and_html_column_names_are_plain_data():
    raw = b'"<b>temp</b> <script>x</script>";"  ";"=cmd|\' /C calc\'!A0"\n1,5;2;3\n2,5;3;4\n3,5;4;5\n'
    frame = read_csv(raw)
    assert list(frame.columns)[0] == "<b>temp</b> <script>x</script>"  # kept as text; the UI never renders HTML
    data = series_from_frame(frame, "<b>temp</b> <script>x</script>", name="x")
    assert data.values.tolist() == [1.5, 2.5, 3.5]
    with pytest.raises(DataError):
        series_from_frame(frame, "no such column")


TEXT_CASES = {
    "20,000 distinct characters": ("".join(map(chr, range(0x4E00, 0x4E00 + 20_000))), "distinct"),
    "NUL characters": ("abc\x00def" * 10, "NUL"),
    "only white space": ("\n\n   \t", "empty"),
    "one symbol": ("zzzzzz", "single symbol"),
}


@pytest.mark.parametrize("name", list(TEXT_CASES))
def test_bad_text_corpus(name):
    text, needle = TEXT_CASES[name]
    with pytest.raises(DataError, match=needle):
        TextData(text)


def test_html_in_text_is_just_characters():
    data = TextData("<img src=x onerror=alert(1)> <b>bold</b> " * 5)
    assert "<" in data.vocab and data.decode(data.encode("<b>")) == "<b>"


# min-1 / max+1 / NaN / huge for every hyperparameter the pages and the CLI accept
HYPER = [("hidden_size", 0), ("hidden_size", LIMITS.max_hidden + 1), ("num_layers", 0),
         ("num_layers", LIMITS.max_layers + 1), ("embed_size", 0), ("embed_size", 10**9), ("vocab_size", 1),
         ("vocab_size", LIMITS.max_vocab + 1), ("hidden_size", math.nan), ("cell", "lstm; rm -rf /"),
         ("task", "masked"), ("input_size", 0)]


@pytest.mark.parametrize("field,value", HYPER)
def test_bad_model_hyperparameters(field, value):
    kw = {"kind": "series" if field in ("task", "input_size") else "text", "vocab_size": 10, field: value}
    with pytest.raises(ConfigError):
        ModelConfig(**kw).validate()


TRAIN = [("seq_len", 1), ("seq_len", LIMITS.max_seq_len + 1), ("batch_size", 0), ("batch_size", LIMITS.max_batch + 1),
         ("steps", 0), ("steps", LIMITS.max_steps + 1), ("lr", 0.0), ("lr", 1.01), ("lr", math.nan), ("lr", 1e308),
         ("seed", -1), ("grad_clip", -0.1), ("eval_every", 0.0)]


@pytest.mark.parametrize("field,value", TRAIN)
def test_bad_training_hyperparameters(field, value):
    with pytest.raises(ConfigError):
        TrainConfig(**{field: value}).validate()


@pytest.mark.parametrize("kw", [{"max_distance": 101}, {"min_distance": -1}, {"steps": 10**9}, {"lr": math.inf},
                                {"lstm_hidden": 1}, {"task": "<script>"}, {"forget_bias": math.nan}])
def test_bad_race_settings(kw):
    with pytest.raises(ConfigError):
        RaceConfig(**kw).validate()


# --- property-based: the parsers never fail in any other way -------------------------------------------------------

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=3000))
def test_decode_text_returns_text_or_says_why(raw):
    try:
        assert isinstance(decode_text(raw), str)
    except DataError as e:
        assert str(e)


@FAST
@given(st.one_of(st.binary(max_size=2000),
                 st.text(alphabet=string.printable + "é;,\t|\"'", max_size=2000).map(str.encode)))
def test_read_csv_returns_a_frame_or_says_why(raw):
    try:
        frame = read_csv(raw)
        assert len(frame) > 0 and frame.shape[1] <= 1000
    except DataError as e:
        assert str(e)


@FAST
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30)),
                max_size=60))
def test_series_from_any_numbers_is_usable_or_refused(values):
    try:
        data = SeriesData(np.array(values, dtype=float))
    except (DataError, OverflowError) as e:
        assert str(e)
        return
    assert np.isfinite(data.normed.numpy()).all()


@FAST
@given(st.text(max_size=500))
def test_text_data_from_any_string(text):
    try:
        data = TextData(text)
    except DataError as e:
        assert str(e)
        return
    assert data.decode(data.ids) == text


@FAST
@given(st.binary(max_size=2000))
def test_model_loader_refuses_any_random_bytes(raw):
    with pytest.raises(ModelFileError):
        load_bytes(raw)


# --- valid inputs that used to be misread or refused ------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    (b"v\n1,5\n2,5\n-3,25\n", [1.5, 2.5, -3.25]),        # one column with decimal commas: not 1, 2, -3 as an index
    (b"v\r1\r2\r3\r", [1.0, 2.0, 3.0]),                  # old Mac line endings (CR only)
    (b"v\r\n1\r\n2\r\n3\r\n", [1.0, 2.0, 3.0]),          # Windows line endings
    (b"a;b\n1,5;9\n2,5;9\n", [1.5, 2.5]),                # European: ';' between columns, decimal commas
])
def test_csv_numbers_are_read_as_written(raw, expected):
    frame = read_csv(raw)
    col = frame.columns[0]
    assert pd.to_numeric(frame[col]).tolist() == expected


def test_rows_with_more_fields_than_the_header_are_refused_not_shifted():
    with pytest.raises(DataError, match="more fields than the header"):
        read_csv(b"a,b\n1,2,3\n4,5,6\n")


def test_small_but_varying_values_are_not_constant():
    values = np.arange(1, 10) * 1e-13
    data = SeriesData(values)
    assert np.allclose(data.denorm(data.normed[:, 0].numpy()), values, rtol=1e-5)
    with pytest.raises(DataError, match="constant"):
        SeriesData(np.full(20, 1e-13))
    with pytest.raises(DataError, match="constant"):
        SeriesData(1e6 + np.array([0.0, 1e-10, 0.0, 1e-10]))  # rounding noise on a big value is not a signal


def test_decode_text_refuses_a_str_clearly():
    with pytest.raises(DataError, match="bytes"):
        decode_text("already text")
