"""Training is written once (train.Trainer): the job, the command line's fit, the long-memory race and the
bottleneck measurement all step through it, with the same gradient clip and the same policy for NaN — a step whose
loss or gradient is not finite is skipped (weights untouched), and MAX_BAD_STEPS in a row end the run with the last
good weights restored."""
from contextlib import contextmanager
from dataclasses import replace
from unittest import mock

import pytest
import torch

from lstm_demo import train
from lstm_demo.config import TrainConfig
from lstm_demo.kinds import KINDS
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData
from lstm_demo.models import build_model
from lstm_demo.train import MAX_BAD_STEPS, NonFiniteLoss, Trainer, make_optimizer
from support import wait_until

DATA = TextData("the cat was full. the cats were full. " * 20)
MODEL = ModelConfig("text", vocab_size=len(DATA.vocab), embed_size=4, hidden_size=8)
TRAIN = TrainConfig(seq_len=16, batch_size=4, steps=12, eval_every=0.05)


@contextmanager
def poisoned(kind, every: int):
    """The kind's training loss becomes NaN on every `every`-th training call (evaluations stay clean)."""
    real, calls = kind.loss, {"n": 0}

    def loss(model, x, y):
        value = real(model, x, y)
        if model.training:
            calls["n"] += 1
            if calls["n"] % every == 0:
                return value * float("nan")
        return value

    with mock.patch.object(kind, "loss", loss):
        yield calls


@contextmanager
def watched_steps():
    """Every Trainer.step taken in the block: (its clip, its result) — None for a skipped step."""
    real, seen = Trainer.step, []

    def step(self, *args):
        try:
            out = real(self, *args)
        except NonFiniteLoss:
            seen.append((self.grad_clip, "gave up"))
            raise
        seen.append((self.grad_clip, out))
        return out

    with mock.patch.object(Trainer, "step", step):
        yield seen


def test_a_step_with_a_non_finite_loss_is_skipped_and_too_many_in_a_row_restore_the_good_weights():
    model = build_model(MODEL)
    trainer = Trainer(model, make_optimizer(model, 1e-2), KINDS["text"], 1.0, KINDS["text"].batches(
        DATA, MODEL, TRAIN, 0))
    for _ in range(3):
        assert trainer.step() is not None
    trainer.keep_good()
    good = {k: v.clone() for k, v in model.state_dict().items()}
    with poisoned(KINDS["text"], every=2):
        results = [trainer.step() for _ in range(6)]
    assert [r is None for r in results] == [False, True] * 3 and trainer.skipped == 3
    assert all(torch.isfinite(p).all() for p in model.parameters())
    trainer.step()  # weights moved on from the good ones
    with poisoned(KINDS["text"], every=1), pytest.raises(NonFiniteLoss, match="loss became nan"):
        for _ in range(MAX_BAD_STEPS + 1):
            trainer.step()
    assert trainer.bad_in_a_row == MAX_BAD_STEPS
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in good.items())  # the last good weights are back


def test_the_clip_bounds_the_gradient_the_optimiser_applies():
    model = build_model(MODEL)
    opt = make_optimizer(model, 1e-2)
    kind = KINDS["text"]
    norms = []
    real_step = opt.step
    opt.step = lambda: (norms.append(float(torch.norm(torch.stack([p.grad.norm() for p in model.parameters()
                                                                   if p.grad is not None])))), real_step())[1]
    trainer = Trainer(model, opt, kind, 0.5, kind.batches(DATA, MODEL, TRAIN, 0))
    with mock.patch.object(kind, "loss", lambda m, x, y: 1e4 * KINDS["text"].__class__.loss(kind, m, x, y)):
        for _ in range(3):
            trainer.step()
    assert norms and max(norms) <= 0.5 + 1e-4


def _job(kind_name="text"):
    from lstm_demo.jobs import Experiment
    ex = Experiment(DATA, MODEL, TRAIN)
    job = ex.start(ex.train_cfg)

    def done():
        job.touch()
        return not job.view().active
    wait_until(done, 60, what="the job")
    return ex, job.view()


def _fit():
    return train.fit(MODEL, DATA, TRAIN)


def _race():
    from lstm_demo.memory import Race, RaceConfig
    race = Race(RaceConfig(task="first_symbol", min_distance=1, max_distance=3, lstm_hidden=4, steps=12,
                           val_per_distance=8)).start()
    race.join(120)
    return race


def _bottleneck():
    from lstm_demo.kinds.bottleneck import BottleneckConfig, BottleneckRun
    run = BottleneckRun(BottleneckConfig(task="copy", length=6, hidden=8, embed=4, steps=6, batch=8)).start()
    wait_until(lambda: (run.touch(), not run.active)[1], 120, what="the bottleneck measurement")
    return run


CONSUMERS = {"job": ("text", _job), "fit": ("text", _fit), "race": ("text", _race),
             "bottleneck": ("translation", _bottleneck)}


@pytest.mark.parametrize("name", list(CONSUMERS))
def test_every_consumer_trains_through_the_one_trainer_with_its_clip_and_nan_policy(name):
    kind, run = CONSUMERS[name]
    with watched_steps() as seen, poisoned(KINDS[kind], every=4) as calls:  # (4: the race's 3 models take turns)
        run()
    assert seen and {clip for clip, _ in seen} == {train.GRAD_CLIP}
    assert sum(out is None for _, out in seen) == calls["n"] // 4  # exactly the poisoned steps were skipped


@pytest.mark.parametrize("name", list(CONSUMERS))
def test_every_consumer_stops_the_same_way_when_training_diverges(name):
    kind, run = CONSUMERS[name]
    with watched_steps() as seen, poisoned(KINDS[kind], every=1):
        if name == "fit":
            with pytest.raises(NonFiniteLoss, match="loss became nan"):
                run()
            return
        out = run()
    if name == "race":  # three models take turns: each skips MAX_BAD_STEPS - 1 steps, then gives up
        assert [o for _, o in seen].count("gave up") == 3
        assert [o for _, o in seen].count(None) == 3 * (MAX_BAD_STEPS - 1)
    else:
        assert [o for _, o in seen[:MAX_BAD_STEPS]] == [None] * (MAX_BAD_STEPS - 1) + ["gave up"]
    if name == "job":
        ex, view = out
        assert view.status == "failed" and "last good weights" in view.message
        assert all(torch.isfinite(p).all() for p in ex.model.parameters())
    elif name == "race":
        assert out.status == "done" and all(r.failed for r in out.racers.values())
        assert "stopped training early" in out.message
    else:
        assert out.status == "failed" and "loss became nan" in out.message


def test_a_job_given_a_new_learning_rate_sets_it_through_the_trainer():
    from lstm_demo.jobs import Experiment
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=5000))
    job = ex.start(ex.train_cfg)
    wait_until(lambda: job.view().step >= 2, what="two steps")
    job.set_lr(1e-4)
    wait_until(lambda: ex.optimizer.param_groups[0]["lr"] == 1e-4, what="the new learning rate")
    job.stop()
    job.join(30)


def test_an_evaluation_stops_between_its_chunks_when_asked():
    """A long evaluation need not finish before a Stop acts: stop() is asked before every chunk, and the loss is
    the plain mean when nobody asks (against one pass over the whole validation batch)."""
    kind = KINDS["text"]
    model = build_model(MODEL, seed=0)
    batches = kind.batches(DATA, MODEL, TRAIN, 0)
    whole = kind.val_loss(model, batches.val_x, batches.val_y)
    assert kind.val_loss(model, batches.val_x, batches.val_y, chunk=1, stop=lambda: False) == pytest.approx(whole)
    asked = []
    stop_on_third = lambda: (asked.append(1), len(asked) >= 3)[1]  # noqa: E731
    assert kind.val_loss(model, batches.val_x, batches.val_y, chunk=1, stop=stop_on_third) is None
    assert len(asked) == 3


def test_evaluation_chunks_are_bounded_in_time_as_well_as_memory():
    from lstm_demo.budget import EVAL_CHUNK_SECONDS, REFERENCE_FLOPS, Cost, chunk_items
    cost = Cost(parameters=10, activations=10, flops=3e10, eval_floats_per_item=1)  # 1e10 forward flops per item
    assert chunk_items(cost, 1000) == 1000                       # memory alone: all of them fit
    per_chunk = chunk_items(cost, 1000, batch=1)
    assert per_chunk == max(1, int(EVAL_CHUNK_SECONDS * REFERENCE_FLOPS / 1e10))
    cheap = Cost(parameters=10, activations=10, flops=3e3, eval_floats_per_item=1)
    assert chunk_items(cheap, 1000, batch=1) == 1000
