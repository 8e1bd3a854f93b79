"""The command line: train a model file, export a trace, and say clearly what is wrong."""
import csv

from lstm_demo.cli import main
from lstm_demo.store import load_bytes


def test_train_then_trace(tmp_path, capsys):
    model = tmp_path / "sine.safetensors"
    assert main(["train", "--preset", "sine", "--steps", "20", "--hidden", "6", "--out", str(model)]) == 0
    loaded = load_bytes(model.read_bytes())
    assert loaded.steps == 20 and loaded.model.cfg.hidden_size == 6
    out = tmp_path / "trace.csv"
    assert main(["trace", str(model), "--length", "12", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 6 * 12 * 6 and {"step", "unit", "quantity", "value"} <= set(rows[0])
    assert "validation loss" in capsys.readouterr().out


def test_text_file_and_bad_inputs(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("the cat sat on the mat. " * 40)
    model = tmp_path / "m.safetensors"
    assert main(["train", "--text", str(text), "--steps", "5", "--hidden", "4", "--out", str(model)]) == 0
    assert main(["trace", str(model), "--text", "the cat", "--out", str(tmp_path / "t.csv")]) == 0
    assert main(["trace", str(model), "--text", "the dog!", "--out", str(tmp_path / "t.csv")]) == 2
    assert "not in the model's vocabulary" in capsys.readouterr().err
    assert main(["train", "--preset", "nope", "--out", str(model)]) == 2
    assert main(["train", "--preset", "sine", "--hidden", "100000", "--out", str(model)]) == 2
    (tmp_path / "bad.safetensors").write_bytes(b"\x80\x04 not a model")
    assert main(["trace", str(tmp_path / "bad.safetensors"), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "unknown preset" in err and "hidden size" in err and "not a model file" in err.lower()


def test_zero_is_a_value_not_the_default(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    for flag, value, needle in (("--steps", "0", "steps"), ("--lr", "0", "learning rate"),
                                ("--hidden", "0", "hidden size")):
        assert main(["train", "--preset", "sine", flag, value, "--out", str(out)]) == 2
        assert needle in capsys.readouterr().err
    assert not out.exists()


def test_out_may_not_overwrite_an_input_and_its_folder_is_checked_first(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("the cat sat on the mat. " * 40)
    assert main(["train", "--text", str(text), "--steps", "5", "--out", str(text)]) == 2
    assert "also an input" in capsys.readouterr().err and text.read_text().startswith("the cat")
    missing = tmp_path / "no" / "such" / "m.safetensors"
    assert main(["train", "--preset", "sine", "--steps", "5000", "--out", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err  # refused at once, not after 5,000 steps
    model = tmp_path / "m.safetensors"
    assert main(["train", "--preset", "sine", "--steps", "5", "--hidden", "4", "--out", str(model)]) == 0
    before = model.read_bytes()
    assert main(["trace", str(model), "--out", str(model)]) == 2
    assert model.read_bytes() == before  # a trace never overwrites its model


def test_trace_length_caps_and_empty_traces(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("the cat sat on the mat. " * 40)
    model = tmp_path / "m.safetensors"
    assert main(["train", "--text", str(text), "--steps", "3", "--hidden", "4", "--out", str(model)]) == 0
    out = str(tmp_path / "t.csv")
    for args in (["--text", "t"], ["--text", "the cat " * 40], ["--length", "0"], ["--length", "257"],
                 ["--start", "100000"]):
        assert main(["trace", str(model), *args, "--out", out]) == 2, args
    err = capsys.readouterr().err
    assert "2 to 257 characters" in err and "--length must be between 1 and 256" in err
    assert main(["trace", str(model), "--length", "256", "--out", out]) == 0


def test_input_files_are_size_checked_before_reading(tmp_path, capsys):
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(6_000_000)  # sparse: no 6 MB written, and the size alone must refuse it
    assert main(["train", "--text", str(big), "--out", str(tmp_path / "m.safetensors")]) == 2
    assert "limit is 5,000,000" in capsys.readouterr().err
