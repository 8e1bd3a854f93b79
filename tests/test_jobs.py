"""The background job: it trains, obeys Stop and a new learning rate, keeps the last good weights on NaN, and
queues when the process-wide limit of concurrent jobs is reached."""
import time
from dataclasses import replace
from unittest import mock

import torch

from lstm_demo import jobs, train
from lstm_demo.config import ModelConfig, TrainConfig
from lstm_demo.data import TextData
from lstm_demo.jobs import Experiment

DATA = TextData("the cat was full. the cats were full. " * 20)
MODEL = ModelConfig("text", vocab_size=len(DATA.vocab), embed_size=4, hidden_size=8)
TRAIN = TrainConfig(seq_len=16, batch_size=4, steps=40, eval_every=0.05)


def wait(job, limit=30):
    end = time.monotonic() + limit
    while job.view().active and time.monotonic() < end:
        job.touch()
        time.sleep(0.02)
    return job.view()


def test_training_lowers_the_loss_and_records_history():
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=150))
    view = wait(ex.start(ex.train_cfg))
    assert view.status == "done" and view.step == 150 and len(view.history) == 150
    assert view.history[-1][1] < view.history[0][1] * 0.7
    assert view.val_history and view.val_history[-1][0] == 150
    ex.finish_job()
    assert ex.trained_steps == 150
    view = wait(ex.start(replace(TRAIN, steps=10)))  # continue from the same weights
    assert view.step == 160


def test_stop_and_learning_rate_change_mid_run():
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=5000))
    job = ex.start(ex.train_cfg)
    while job.view().step < 5:
        time.sleep(0.01)
    job.set_lr(1e-4)
    time.sleep(0.1)
    assert ex.optimizer.param_groups[0]["lr"] == 1e-4
    job.stop()
    view = wait(job)
    assert view.status == "stopped" and view.step < 5000


def test_nan_loss_stops_and_keeps_last_good_weights():
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=1000))
    calls = {"n": 0}
    real = train.loss_of

    def poisoned(*args):
        calls["n"] += 1
        loss = real(*args)
        return loss * float("nan") if calls["n"] > 20 else loss

    with mock.patch.object(train, "loss_of", poisoned):
        view = wait(ex.start(ex.train_cfg))
    assert view.status == "failed" and "nan" in view.message and "last good weights" in view.message
    assert all(torch.isfinite(p).all() for p in ex.model.parameters())
    assert view.step <= 20


def test_jobs_beyond_the_limit_wait_in_a_queue():
    running = [Experiment(DATA, MODEL, replace(TRAIN, steps=5000)) for _ in range(jobs.LIMITS.max_concurrent_jobs)]
    started = [ex.start(ex.train_cfg) for ex in running]
    waiting = Experiment(DATA, MODEL, TRAIN)
    job = waiting.start(waiting.train_cfg)
    time.sleep(0.5)
    assert job.view().status == "queued" and job.view().queue_position == 1
    for j in started:
        j.stop()
    assert wait(job).status == "done"


def test_visitors_do_not_share_models():
    a, b = Experiment(DATA, MODEL, TRAIN), Experiment(DATA, MODEL, replace(TRAIN, seed=1))
    wait(a.start(a.train_cfg))
    assert a.model is not b.model
    assert not torch.equal(a.model.rnn.weight_hh_l0, b.model.rnn.weight_hh_l0)


def test_a_job_stops_within_seconds_once_its_visitor_is_gone():
    """The UI passes alive(): Streamlit's 'is this session still connected'. A brief reconnect is not leaving."""
    connected = {"now": True}
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=5000))
    ex.alive = lambda: connected["now"]
    with mock.patch.object(jobs, "GONE_GRACE", 0.3):
        job = ex.start(ex.train_cfg)
        time.sleep(0.3)
        connected["now"] = False  # the tab was closed (the page's polling also stops: no touch() any more)
        time.sleep(0.1)
        connected["now"] = True   # … and came back within the grace period: keeps going
        time.sleep(0.5)
        assert job.view().status == "running"
        connected["now"] = False
        t0 = time.monotonic()
        while job.view().active and time.monotonic() - t0 < 10:
            time.sleep(0.05)
    view = job.view()
    assert view.status == "stopped" and "visitor left" in view.message and view.step < 5000
