"""The background job: it trains, obeys Stop and a new learning rate, keeps the last good weights on NaN, and
queues when the process-wide limit of concurrent jobs is reached. No sleeps: every wait polls a condition."""
from dataclasses import replace
from unittest import mock

import pytest
import torch

from lstm_demo import jobs, train
from lstm_demo.config import TrainConfig
from lstm_demo.kinds.sequence import ModelConfig
from lstm_demo.kinds.text_data import TextData
from lstm_demo.jobs import Experiment
from lstm_demo.kinds import KINDS
from support import wait_until

DATA = TextData("the cat was full. the cats were full. " * 20)
MODEL = ModelConfig("text", vocab_size=len(DATA.vocab), embed_size=4, hidden_size=8)
TRAIN = TrainConfig(seq_len=16, batch_size=4, steps=40, eval_every=0.05)


@pytest.fixture(autouse=True)
def no_run_holds_a_slot():
    """Each test starts with every training slot free (a run stopped by the test before may still be finishing
    its last step)."""
    wait_until(lambda: jobs._RUNNING[0] == 0, 60, what="the slots of earlier runs to be given back")
    yield


def finished(job, limit=60):
    """Wait for the job to end, stamping its heartbeat as the page would."""
    def done():
        job.touch()
        return not job.view().active
    wait_until(done, limit, what="the job to finish")
    return job.view()


def test_training_lowers_the_loss_and_records_history():
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=150))
    view = finished(ex.start(ex.train_cfg))
    assert view.status == "done" and view.step == 150 and len(view.history) == 150
    assert view.history[-1][1] < view.history[0][1] * 0.7
    assert view.val_history and view.val_history[-1][0] == 150
    ex.finish_job()
    assert ex.trained_steps == 150
    view = finished(ex.start(replace(TRAIN, steps=10)))  # continue from the same weights
    assert view.step == 160


def test_stop_and_learning_rate_change_mid_run():
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=5000))
    job = ex.start(ex.train_cfg)
    wait_until(lambda: job.view().step >= 5, what="five steps")
    job.set_lr(1e-4)
    wait_until(lambda: ex.optimizer.param_groups[0]["lr"] == 1e-4, what="the new learning rate to apply")
    job.stop()
    view = finished(job)
    assert view.status == "stopped" and view.step < 5000


def test_nan_loss_stops_and_keeps_last_good_weights():
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=1000))
    calls = {"n": 0}
    kind = KINDS["text"]
    real = kind.loss

    def poisoned(*args):
        calls["n"] += 1
        loss = real(*args)
        return loss * float("nan") if calls["n"] > 20 else loss

    with mock.patch.object(kind, "loss", poisoned):
        view = finished(ex.start(ex.train_cfg))
    assert view.status == "failed" and "nan" in view.message and "last good weights" in view.message
    assert all(torch.isfinite(p).all() for p in ex.model.parameters())
    assert view.step <= 20


def test_jobs_beyond_the_limit_wait_in_a_queue():
    running = [Experiment(DATA, MODEL, replace(TRAIN, steps=5000)) for _ in range(jobs.LIMITS.max_concurrent_jobs)]
    started = [ex.start(ex.train_cfg) for ex in running]
    wait_until(lambda: all(j.view().status == "running" for j in started), what="both slots to be taken")
    waiting = Experiment(DATA, MODEL, TRAIN)
    job = waiting.start(waiting.train_cfg)
    wait_until(lambda: job.view().queue_position == 1, what="the third job to queue")
    assert job.view().status == "queued" and job.view().step == 0
    for j in started:
        j.stop()
    assert finished(job).status == "done"


def test_the_queue_is_first_come_first_served():
    """Slots full, six more jobs queue in order; each time a slot frees, the first in line takes it and nobody
    else moves ahead (a bare semaphore let whichever waiter looked first take the slot)."""
    long = replace(TRAIN, steps=5000)
    holders = [Experiment(DATA, MODEL, long).start(long) for _ in range(jobs.LIMITS.max_concurrent_jobs)]
    wait_until(lambda: all(j.view().status == "running" for j in holders), what="every slot to be taken")
    line = []
    for k in range(6):
        line.append(Experiment(DATA, MODEL, long).start(long))
        wait_until(lambda: line[-1].view().queue_position == k + 1, what=f"job {k + 1} to queue")
    for k, job in enumerate(line):
        holders.pop(0).stop()
        wait_until(lambda: job.view().status == "running", what=f"job {k + 1} to take the freed slot")
        assert [j.view().queue_position for j in line[k + 1:]] == list(range(1, len(line) - k))
        assert all(j.view().status == "queued" for j in line[k + 1:])
        holders.append(job)
    for job in holders:
        job.stop()
    for job in holders:  # gone, slot given back: the next test starts with every slot free
        job.join(60)
        assert not job.thread.is_alive()


def test_visitors_do_not_share_models():
    a, b = Experiment(DATA, MODEL, TRAIN), Experiment(DATA, MODEL, replace(TRAIN, seed=1))
    finished(a.start(a.train_cfg))
    assert a.model is not b.model
    assert not torch.equal(a.model.rnn.weight_hh_l0, b.model.rnn.weight_hh_l0)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_brief_disconnect_is_not_leaving_but_a_long_one_is():
    """visitor_gone() on a controlled clock: away 3 s, back, away 6 s (GONE_GRACE is 5 s)."""
    clock, connected = Clock(), {"now": True}
    job = mock.Mock(alive=lambda: connected["now"], _gone_since=None)
    with mock.patch.object(jobs.time, "monotonic", clock):
        assert not jobs.visitor_gone(job)
        connected["now"] = False
        assert not jobs.visitor_gone(job)
        clock.now += 3
        assert not jobs.visitor_gone(job)
        connected["now"] = True
        assert not jobs.visitor_gone(job) and job._gone_since is None  # came back: the count restarts
        connected["now"] = False
        assert not jobs.visitor_gone(job)
        clock.now += jobs.GONE_GRACE + 1
        assert jobs.visitor_gone(job)
    broken = mock.Mock(alive=mock.Mock(side_effect=RuntimeError("session lookup failed")), _gone_since=None)
    assert not jobs.visitor_gone(broken)  # a failing check never kills a job by itself


def test_a_job_stops_within_seconds_once_its_visitor_is_gone():
    connected = {"now": True}
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=5000))
    ex.alive = lambda: connected["now"]
    with mock.patch.object(jobs, "GONE_GRACE", 0.3):
        job = ex.start(ex.train_cfg)
        wait_until(lambda: job.view().step >= 3, what="training to start")
        connected["now"] = False  # the tab was closed (the page's polling also stops: no touch() any more)
        wait_until(lambda: not job.view().active, timeout=20, what="the job to notice the visitor left")
    view = job.view()
    assert view.status == "stopped" and "visitor left" in view.message and view.step < 5000


def test_threads_follow_the_jobs_and_the_hosted_setting(monkeypatch):
    monkeypatch.setattr(jobs, "available_cores", lambda: 4)
    monkeypatch.delenv("LSTM_LAB_THREADS_PER_JOB", raising=False)
    assert [jobs.threads_per_job(n) for n in (1, 2, 3, 4, 8)] == [4, 2, 1, 1, 1]  # never more threads than cores
    monkeypatch.setenv("LSTM_LAB_THREADS_PER_JOB", "1")
    assert jobs.threads_per_job(1) == 1
    monkeypatch.setenv("LSTM_LAB_THREADS_PER_JOB", "99")
    assert jobs.threads_per_job(1) == 4
    monkeypatch.setenv("LSTM_LAB_THREADS_PER_JOB", "many")
    assert jobs.threads_per_job(2) == 2


def test_a_lone_job_runs_each_step_at_the_thread_count_its_choice_names(monkeypatch):
    """The job asks its ThreadChoice before every step, within its share of the cores, sets torch to that count and
    reports that step's time; with LSTM_LAB_THREADS_PER_JOB set it uses that count and asks nothing."""
    monkeypatch.setattr(jobs, "available_cores", lambda: 2)
    monkeypatch.delenv("LSTM_LAB_THREADS_PER_JOB", raising=False)
    # a stopped job of an earlier test is "stopped" before its thread gives the slot back: alone means alone
    wait_until(lambda: jobs._RUNNING[0] == 0, what="earlier tests' jobs to give their slots back")
    asked, told, seen = [], [], []

    class Alternate:  # 2, 1, 2, 1, ...
        def next_step(self, cap, now):
            asked.append(cap)
            return 2 if len(asked) % 2 else 1

        def took(self, threads, seconds, now):
            told.append((threads, seconds > 0))

    monkeypatch.setattr(jobs, "ThreadChoice", Alternate)
    real = jobs.Trainer.step
    monkeypatch.setattr(jobs.Trainer, "step", lambda *a: (seen.append(torch.get_num_threads()), real(*a))[1])
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=6))
    finished(ex.start(ex.train_cfg))
    assert asked == [2] * 6 and seen == [2, 1, 2, 1, 2, 1] and told == [(t, True) for t in seen]

    monkeypatch.setenv("LSTM_LAB_THREADS_PER_JOB", "1")
    asked.clear(), seen.clear()
    finished(ex.start(replace(TRAIN, steps=3)))
    assert asked == [] and seen == [1, 1, 1]
    torch.set_num_threads(1)


def _steps(choice, cap, cost, until, clock):
    """Steps through choice until the clock reads `until`; cost(threads, now) -> that step's seconds."""
    used = []
    while clock[0] < until:
        threads = choice.next_step(cap, clock[0])
        seconds = cost(threads, clock[0])
        clock[0] += seconds
        choice.took(threads, seconds, clock[0])
        used.append(threads)
    return used


@pytest.mark.parametrize("fast", [1, 2])
def test_the_thread_choice_keeps_the_faster_count_and_follows_a_change(fast):
    """Steps at one count cost 3x those at the other: after its first timing the choice runs at the faster one
    almost always, times both again now and then, and moves when the machine's load turns the costs round."""
    slow = 3 - fast
    choice, clock = jobs.ThreadChoice(every=10.0), [0.0]
    used = _steps(choice, 2, lambda t, now: 0.01 if t == fast else 0.03, 300.0, clock)
    assert set(used[:8]) == {1, 2}                      # both timed at the start
    assert used[8:].count(slow) / len(used) < 0.01      # then the faster one, re-checked rarely
    assert used[-1] == fast
    flipped = _steps(choice, 2, lambda t, now: 0.03 if t == fast else 0.01, 300.0 + 2 * choice.MAX_WAIT, clock)
    assert flipped[-1000:] == [slow] * 1000             # the other count is the faster one now


def test_the_thread_choice_uses_one_thread_without_timing_when_it_may_use_one_core():
    choice, clock = jobs.ThreadChoice(), [0.0]
    assert set(_steps(choice, 1, lambda t, now: 0.01, 5.0, clock)) == {1}
    used = _steps(choice, 2, lambda t, now: 0.01 if t == 1 else 0.02, 10.0, clock)  # a second core came free
    assert set(used[:8]) == {1, 2} and used[-1] == 1
    assert set(_steps(choice, 1, lambda t, now: 0.01, 15.0, clock)) == {1}  # another job came and went:
    used = _steps(choice, 2, lambda t, now: 0.02 if t == 1 else 0.01, 20.0, clock)  # the load is not what it was
    assert set(used[:8]) == {1, 2} and used[-1] == 2


def test_checkpoints_spread_over_runs_within_the_memory_budget(monkeypatch):
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=60))
    finished(ex.start(ex.train_cfg))
    ex.finish_job()
    steps = [s for s, _ in ex.checkpoints]
    assert steps[0] == 0 and steps[-1] == 60 and len(steps) <= jobs.MAX_CHECKPOINTS
    assert all(v.dtype == torch.float16 for _, state in ex.checkpoints for v in state.values())
    assert torch.allclose(ex.checkpoint_model(60).head.bias, ex.model.head.bias, atol=1e-2)
    monkeypatch.setattr(jobs, "CHECKPOINT_MEMORY", 2 * ex.model.n_params() * 5)   # room for 5 checkpoints
    finished(ex.start(replace(TRAIN, steps=40)))
    ex.finish_job()
    steps = [s for s, _ in ex.checkpoints]
    assert len(steps) == 5 and steps[0] == 0 and steps[-1] == 100
    nbytes = sum(v.numel() * v.element_size() for _, state in ex.checkpoints for v in state.values())
    assert nbytes <= jobs.CHECKPOINT_MEMORY


def test_resetting_the_view_stops_a_bottleneck_measurement_and_frees_its_slot():
    """What runs for a view stops with it: a measurement nobody watches must not keep one of the two slots."""
    from lstm_demo.kinds.bottleneck import BottleneckConfig, BottleneckRun
    from lstm_demo.ui.state import UIState
    s = UIState()
    run = BottleneckRun(BottleneckConfig(task="copy", length=8, hidden=8, embed=4, steps=600, batch=8)).start()
    s.set_bottleneck(run)
    wait_until(lambda: (run.touch(), run.status == "running")[1], what="the measurement to take a slot")
    assert jobs._RUNNING[0] >= 1
    s.forget_view()
    assert s.bottleneck is None
    run.join(jobs.LIMITS.heartbeat_timeout)
    assert run.status == "stopped" and not run.thread.is_alive() and jobs._RUNNING[0] == 0


def test_a_paused_job_gives_its_slot_back_and_queues_again_on_resume(monkeypatch):
    """Two visitors pause and keep their tabs open: after PAUSE_RELEASE seconds their slots go to whoever waits; on
    Resume they queue again (first in, first out)."""
    monkeypatch.setattr(jobs, "PAUSE_RELEASE", 0.3)
    paused = [Experiment(DATA, MODEL, replace(TRAIN, steps=5000)) for _ in range(jobs.LIMITS.max_concurrent_jobs)]
    running = [ex.start(ex.train_cfg) for ex in paused]
    wait_until(lambda: all((j.touch(), j.view().status == "running")[1] for j in running), what="both slots")
    for j in running:
        j.pause()
    third = Experiment(DATA, MODEL, replace(TRAIN, steps=5))
    job = third.start(third.train_cfg)
    view = finished(job)  # it gets a slot although nobody stopped the paused jobs
    assert view.status == "done" and view.step == 5
    wait_until(lambda: all((j.touch(), "training slot went" in j.view().message)[1] for j in running),
               what="both paused jobs to give their slots back")
    for j in running:
        j.resume()
    wait_until(lambda: all((j.touch(), j.view().status == "running")[1] for j in running), what="both to resume")
    for j in running:
        j.stop()
        finished(j)


def test_the_wall_cap_counts_paused_time_while_a_slot_is_held(monkeypatch):
    monkeypatch.setattr(jobs, "LIMITS", replace(jobs.LIMITS, max_wall_seconds=0.5))
    monkeypatch.setattr(jobs, "PAUSE_RELEASE", 60.0)
    ex = Experiment(DATA, MODEL, replace(TRAIN, steps=5000))
    job = ex.start(ex.train_cfg)
    wait_until(lambda: (job.touch(), job.view().status == "running")[1], what="the job to run")
    job.pause()
    # what is tested is wall time passing while paused, and a paused job announces nothing: wait that long (not
    # on the change notification, which would only return at its timeout), then check it was held that long
    from lstm_demo.jobs import wait_for_change
    wait_for_change(lambda: (job.touch(), job.held_seconds() > 0.6)[1], 0.8)
    assert job.held_seconds() > 0.6 and job.view().status == "paused"
    job.resume()
    view = finished(job)
    assert view.status == "stopped" and "time limit" in view.message
