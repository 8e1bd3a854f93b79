"""Cell types, directions and the fill-in-the-blank task: configuration rules and what training achieves."""
import pytest
import torch

from lstm_demo.config import ConfigError

from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import load_text_preset
from lstm_demo.models import build_model
from lstm_demo.kinds import KINDS
from lstm_demo.kinds.base import IGNORE
from lstm_demo.kinds.sequence import Batches, mask_windows
from lstm_demo.train import Trainer, make_optimizer


def test_config_rules_for_cells_tasks_and_directions():
    ok = ModelConfig("text", vocab_size=10, cell="gru", task="masked", bidirectional=True).validate()
    assert ok.bidirectional
    with pytest.raises(ConfigError, match="cheating"):
        ModelConfig("text", vocab_size=10, bidirectional=True).validate()
    with pytest.raises(ConfigError, match="text only"):
        ModelConfig("series", task="masked").validate()
    with pytest.raises(ConfigError, match="cell type"):
        ModelConfig("text", vocab_size=10, cell="transformer").validate()
    with pytest.raises(ConfigError, match="true or false"):
        ModelConfig("text", vocab_size=10, task="masked", bidirectional="yes").validate()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_models_of_every_cell_type_have_the_right_shapes(cell):
    m = build_model(ModelConfig("text", vocab_size=7, hidden_size=5, num_layers=2, cell=cell, task="masked",
                                bidirectional=True))
    assert type(m.rnn).__name__ == cell.upper() and m.encoder.num_embeddings == 8  # + the mask token
    out, _ = m(torch.zeros(3, 11, dtype=torch.long))
    assert out.shape == (3, 11, 7)


def test_mask_windows_hide_and_score_only_hidden_positions():
    x = torch.arange(200).reshape(4, 50) % 9
    inp, tgt = mask_windows(x, 9, torch.Generator().manual_seed(0))
    hidden = inp == 9
    assert hidden.any(1).all() and 0.08 < hidden.float().mean() < 0.3
    assert torch.equal(tgt[hidden], x[hidden]) and torch.all(tgt[~hidden] == IGNORE)


def _fill_in_accuracy(data, bidirectional, steps=150):
    cfg = ModelConfig("text", vocab_size=len(data.vocab), embed_size=16, hidden_size=32, task="masked",
                      bidirectional=bidirectional)
    model = build_model(cfg, seed=0)
    batches = Batches(data, 32, 16, seed=0, mask_id=model.mask_id)
    trainer = Trainer(model, make_optimizer(model, 1e-2), KINDS["text"], 1.0, batches)
    for _ in range(steps):
        trainer.step()
    return KINDS["text"].accuracy(model, data, batches.val_x, batches.val_y)


def test_bidirectional_fills_in_better_than_one_direction_on_the_same_data():
    """'Students go to ___ ; students come out of school': the right side helps. Same data, seed and steps."""
    torch.manual_seed(0)
    data = load_text_preset("agreement")
    one, both = _fill_in_accuracy(data, False), _fill_in_accuracy(data, True)
    assert both > one + 0.1, (one, both)


@pytest.mark.parametrize("key,task", [("places_bi", "fill in hidden words"), ("places_uni", "fill in hidden words"),
                                      ("agreement", "next character"), ("agreement_words", "next word"),
                                      ("sine", "next item")])
def test_the_task_said_of_a_bundled_model_is_what_it_was_trained_to_do(key, task):
    """Step through's "task:" from the model's own settings: the places models hide whole words (hide=words)."""
    from lstm_demo.bundle import load_bundle
    from lstm_demo.kinds.sequence import task_words
    loaded = load_bundle(key)
    assert task_words(loaded.model.cfg, loaded.train_cfg, loaded.data) == task
    if task.startswith("fill in"):
        assert loaded.model.cfg.task == "masked" and loaded.train_cfg.hide == "words"


def test_a_character_fill_in_model_fills_in_characters():
    from types import SimpleNamespace as NS
    from lstm_demo.kinds.sequence import task_words
    chars = NS(kind="text", tokens="chars", unit="character")
    assert task_words(NS(task="masked"), NS(hide="chars"), chars) == "fill in hidden characters"
    assert task_words(NS(task="masked"), NS(hide="chars"), NS(kind="text", tokens="words", unit="word")) == \
        "fill in hidden words"
