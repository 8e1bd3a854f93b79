"""Bad input gets a clear DataError/ConfigError; good data splits and windows as documented."""
import math

import numpy as np
import pytest
import torch

from lstm_demo.config import LIMITS, ConfigError, TrainConfig

from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData, decode_text, load_text_preset
from lstm_demo.kinds.series_data import SeriesData, load_series_preset, numeric_columns, read_csv, series_from_frame
from lstm_demo.config import DataError
from lstm_demo.kinds.windows import fixed_windows, random_windows


@pytest.mark.parametrize("text,needle", [("", "empty"), ("   \n\t ", "empty"), ("aaaaaaaa", "single symbol"),
                                         ("x" * (LIMITS.max_text_chars + 1) + "y", "limit"),
                                         ("".join(map(chr, range(0x4E00, 0x4E00 + 300))), "distinct")])
def test_bad_text_is_refused_with_a_reason(text, needle):
    with pytest.raises(DataError, match=needle):
        TextData(text)


@pytest.mark.parametrize("raw,needle", [(b"\xff\xfe\x00a\x00b", "binary"), (b"caf\xe9 au lait", "not UTF-8"),
                                        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary")])
def test_bad_text_files_are_refused(raw, needle):
    with pytest.raises(DataError, match=needle):
        decode_text(raw)


def test_utf8_file_with_bom_decodes():
    assert decode_text("\ufeffhé".encode("utf-8")) == "hé"


@pytest.mark.parametrize("raw,needle", [(b"", "empty"), (b"a,b\n", "no rows"), (b"\x00\x01\x02", "binary"),
                                        (b"\xe9t\xe9,1\n", "not UTF-8")])
def test_bad_csv_files_are_refused(raw, needle):
    with pytest.raises(DataError, match=needle):
        read_csv(raw)


def test_csv_without_numeric_column_has_none():
    assert numeric_columns(read_csv(b"name,city\nann,paris\nbob,rome\n")) == []


def test_semicolon_csv_is_sniffed_and_nan_cells_are_named():
    frame = read_csv(b"date;temp\n2020-01-01;1.5\n2020-01-02;\n2020-01-03;2.5\n")
    assert list(frame.columns) == ["date", "temp"]
    with pytest.raises(DataError, match="1 empty, non-numeric, NaN or infinite"):
        series_from_frame(frame, "temp", "date")


def test_infinite_cells_and_constant_series_are_refused():
    frame = read_csv(b"v\n1\ninf\n3\n")
    with pytest.raises(DataError, match="infinite"):
        series_from_frame(frame, "v")
    with pytest.raises(DataError, match="constant"):
        SeriesData(np.full(100, 3.0))


def test_series_shorter_than_window_says_what_to_do():
    data = SeriesData(np.arange(50.0))
    with pytest.raises(DataError, match="shorter sequence length"):
        data.parts(64)


def test_csv_with_dates_gives_series_in_original_units():
    frame = read_csv(b"day,value\n" + b"".join(f"2020-01-{d:02d},{d * 1.5}\n".encode() for d in range(1, 29)))
    data = series_from_frame(frame, "value", "day")
    assert data.dates is not None and np.allclose(data.denorm(data.normed[:, 0].numpy()), data.values, atol=1e-5)


@pytest.mark.parametrize("cfg", [ModelConfig(hidden_size=0, vocab_size=5), ModelConfig(hidden_size=10**6, vocab_size=5),
                                 ModelConfig(num_layers=4, vocab_size=5), ModelConfig(vocab_size=1),
                                 ModelConfig(hidden_size=True, vocab_size=5)])
def test_model_caps_are_enforced_in_the_core(cfg):
    with pytest.raises(ConfigError):
        cfg.validate()


@pytest.mark.parametrize("kw", [{"lr": math.nan}, {"lr": 0.0}, {"lr": 1e9}, {"steps": LIMITS.max_steps + 1},
                                {"seq_len": 1}, {"batch_size": LIMITS.max_batch + 1}, {"steps": 10.5},
                                {"grad_clip": math.inf}])
def test_training_caps_are_enforced_in_the_core(kw):
    with pytest.raises(ConfigError):
        TrainConfig(**kw).validate()


def test_presets_load_and_split_without_overlap():
    for key in ("agreement", "brackets", "python"):
        data = load_text_preset(key)
        train, val = data.parts(64)
        assert len(train) + len(val) == len(data.ids) and len(val) > 64
    series = load_series_preset("seattle_daily")
    assert series.unit == "°C" and series.dates is not None and len(series.values) == 1461


def test_agreement_corpus_verbs_agree_with_subjects():
    text = load_text_preset("agreement").text
    for line in text.strip().split("\n"):
        subject = line.split()[1].rstrip(",")
        verb = "were" if subject in {"cats", "dogs", "birds", "foxes", "children", "horses", "mice", "teachers"} else "was"
        final_verb = line.split()[-2]  # "… were full." / "… was late.": the verb is the second-to-last word
        assert final_verb == verb, line


def test_windows_target_is_input_shifted_by_one():
    seq = torch.arange(100)
    x, y = random_windows(seq, 5, 10, torch.Generator().manual_seed(0))
    assert x.shape == (5, 10) and torch.equal(y, x + 1)
    vx, vy = fixed_windows(seq, 4, 10)
    assert torch.equal(vy, vx + 1) and vx[0, 0] == 0 and vy[-1, -1] == 99


def test_single_column_and_decimal_comma_csvs():
    assert read_csv(b"value\n1\n2\n3\n").columns.tolist() == ["value"]
    frame = read_csv(b"day;temp\n1;1,5\n2;2,5\n")
    assert frame["temp"].tolist() == [1.5, 2.5]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.integers(12, 3000), st.sampled_from([4, 8, 16, 32, 64]))
@settings(max_examples=80, deadline=None)
def test_the_validation_line_and_words_are_where_training_stops(n, seq_len):
    """The gray line and the slider's words: the point where data.parts cuts, and the share it holds out — a short
    series holds out more than a tenth (AAPL at sequence length 32: from point 90 of 123, 27 %)."""
    data = SeriesData(np.sin(np.arange(n) / 3.0))
    if n < 2 * (seq_len + 2):
        return
    train, val = data.parts(seq_len)
    assert data.validation_start(seq_len) == len(train)
    words = data.validation_words(seq_len)
    assert f"starts at point {len(train):,}" in words and f"the last {len(val) / n:.0%}" in words
    assert f"sequence length {seq_len}" in words


def test_the_aapl_series_holds_out_more_than_a_tenth():
    aapl = load_series_preset("stock_aapl")
    assert len(aapl.values) == 123 and aapl.validation_start(32) == 90
    assert "the last 27%" in aapl.validation_words(32)


@pytest.mark.parametrize("preset,step", [("seattle_daily", "day"), ("seattle_hourly", "hour"),
                                         ("stock_aapl", "month"), ("sine", "point")])
def test_a_series_step_is_named_from_its_dates(preset, step):
    """"Tomorrow is like today" only for daily data: the naive forecast's words take the step from the dates."""
    from lstm_demo.conclusions import naive_words
    data = load_series_preset(preset)
    assert data.step_name() == step
    assert ("tomorrow" in naive_words(step)) == (step == "day")
    if data.dates is not None:  # the spacing, measured here in whole days or hours
        gap = np.median(np.diff(data.dates)) / np.timedelta64(1, "h")
        assert {"day": 24, "hour": 1}.get(step, gap) == gap or (step == "month" and 28 * 24 <= gap <= 31 * 24)


def test_irregular_dates_are_points():
    dates = np.array(["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-24", "2020-03-14"], dtype="datetime64[D]")
    data = SeriesData(np.arange(5.0) ** 2, dates=dates)
    assert data.step_name() == "point"
