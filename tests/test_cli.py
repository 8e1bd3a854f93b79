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
