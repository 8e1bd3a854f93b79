"""The long-memory lab: task generators, the gradient measurement against autograd, and the race's outcome."""
import random
from dataclasses import replace

import numpy as np
import pytest
import torch

from lstm_demo import charts, jobs
from lstm_demo.config import ConfigError
from lstm_demo.memory import (IGNORE, TASKS, Race, RaceConfig, encode_batch, forget_products, hidden_grad_norms,
                              matched_hidden, model_config, set_forget_bias, summary, task_data)
from lstm_demo.models import build_model


@pytest.mark.parametrize("key", list(TASKS))
def test_each_example_is_scored_once_and_its_answer_depends_only_on_the_distant_item(key):
    task = TASKS[key]
    data = task_data(task) if task.kind == "text" else None
    for distance in (0, 3, 17):
        rng = random.Random(distance)
        for _ in range(50):
            e = task.make(distance, rng)
            if key == "agreement":
                assert e.answer == ("e" if e.key else "a") and e.text[e.scored] == "w"
                assert ("s " in e.text.split()[1] + " ") == e.key  # plural subject <-> the verb's number
            elif key == "first_symbol":
                assert e.text[e.scored] == "=" and e.answer == e.text[0] and len(e.text) == distance + 3
            else:
                marked = e.values[:, 1] == 1
                assert marked.sum() == 2 and marked[0] and e.scored == len(e.values) - 1
                assert e.answer == pytest.approx(e.values[marked, 0].sum())
    # the answer is a function of the distant item alone, and nothing between carries it: over many examples,
    # each key has one answer, and the filler/noise never names the subject's number or the symbol
    rng = random.Random(99)
    examples = [task.make(rng.randint(0, 12), rng) for _ in range(300)]
    if key != "adding":
        answers = {}
        for e in examples:
            answers.setdefault(e.key, set()).add(e.answer)
        assert all(len(a) == 1 for a in answers.values()) and len(answers) > 1
        for e in examples:
            if key == "agreement":  # "the <noun> <filler …> w|ere": the words after the subject, before the verb
                between = e.text[: e.scored].split()[2:]
                assert not set(between) & {"cat", "cats", "dog", "dogs", "bird", "birds", "horse", "horses",
                                                   "was", "were"}
            else:
                assert not set(e.text[1 : e.scored]) & set("ABCD")
    x, y = encode_batch(task, [task.make(d, random.Random(d)) for d in (2, 5, 9)], data)
    scored = (y != IGNORE) if y.dtype == torch.long else torch.isfinite(y)
    assert scored.reshape(3, -1).sum(1).tolist() == [1, 1, 1]


def test_gradient_norms_match_autograd_through_nn_lstm_and_nn_rnn():
    """‖∂L/∂h(t)‖ from the app's unroll equals autograd through torch's own fused module, restarted at step t."""
    task = TASKS["first_symbol"]
    data = task_data(task)
    rng = random.Random(0)
    x, y = encode_batch(task, [task.make(6, rng) for _ in range(5)], data)
    for cell in ("lstm", "rnn", "gru"):
        model = build_model(model_config(task, data, cell, 7), seed=1)
        norms = hidden_grad_norms(model, x, y)
        s = len(norms) - 1
        emb = model.encoder(x).detach()
        for t in (0, 2, s):
            with torch.no_grad():
                _, state = model.rnn(emb[:, : t + 1])
            h = state[0].detach().clone().requires_grad_() if cell == "lstm" else state.detach().clone().requires_grad_()
            rest = (h, state[1].detach()) if cell == "lstm" else h
            out, _ = model.rnn(emb[:, t + 1 : s + 1], rest) if t < s else (h.transpose(0, 1), None)
            last = out[:, -1] if t < s else h[0]
            loss = torch.nn.functional.cross_entropy(model.head(last), y[:, s])
            grad, = torch.autograd.grad(loss, h)
            assert norms[s - t] == pytest.approx(grad[0].norm(dim=-1).mean().item(), rel=1e-4), (cell, t)


def test_forget_products_and_forget_bias():
    task = TASKS["first_symbol"]
    data = task_data(task)
    model = build_model(model_config(task, data, "lstm", 5))
    set_forget_bias(model, 50.0)  # f = 1: everything survives
    x, y = encode_batch(task, [task.make(8, random.Random(i)) for i in range(4)], data)
    f = forget_products(model, x, y)
    assert np.allclose(f["mean over units"], 1.0, atol=1e-5) and len(f) == 10
    set_forget_bias(model, -50.0)  # f = 0: nothing survives even one step
    assert np.allclose(forget_products(model, x, y)["best unit"][1:], 0.0, atol=1e-6)


def test_race_config_checks_and_matched_sizes():
    with pytest.raises(ConfigError):
        RaceConfig(min_distance=9, max_distance=3).validate()
    with pytest.raises(ConfigError):
        RaceConfig(lr=float("nan")).validate()
    task = TASKS["adding"]
    lstm = build_model(model_config(task, None, "lstm", 32)).n_params()
    for cell in ("rnn", "gru"):
        n = build_model(model_config(task, None, cell, matched_hidden(task, None, cell, lstm))).n_params()
        assert abs(n - lstm) / lstm < 0.05


def test_lstm_learns_a_gap_a_plain_rnn_of_the_same_size_fails_on():
    """Adding problem, gaps of 1-40 steps, ~1,400 parameters each, 400 steps, fixed seeds (measured: 0.94 vs 0.20)."""
    race = Race(RaceConfig(task="adding", min_distance=1, max_distance=40, lstm_hidden=16, steps=400, lr=1e-2,
                           val_per_distance=48)).start()
    race.join(120)
    assert race.status == "done", race.message
    acc = race.results["accuracy"]
    far = acc[acc.distance >= 20].groupby("cell")["accuracy"].mean()
    assert far["lstm"] > 0.8 and far["rnn"] < TASKS["adding"].chance + 0.15, far.to_dict()
    assert "plain RNN" in summary(race)
    for chart in (charts.accuracy_chart(acc, 0.19, "steps"), charts.gradient_chart(race.results["gradients"]),
                  charts.forget_chart(race.results["forget"]), charts.race_loss_chart(race.histories(), "series")):
        chart.to_dict()  # valid Vega-Lite
    g = race.results["gradients"]
    rnn0 = g[(g.cell == "rnn") & (g.when == "at initialisation")].set_index("k")["norm"]
    assert rnn0[30] < rnn0[0] * 1e-3  # the plain RNN's gradient vanishes over the gap at initialisation


# --- the race's safeguards --------------------------------------------------------------------------------------

from unittest import mock  # noqa: E402

from lstm_demo import memory  # noqa: E402
from support import wait_until  # noqa: E402

SMALL = RaceConfig(task="first_symbol", min_distance=1, max_distance=3, lstm_hidden=4, steps=40, val_per_distance=8)


def test_a_race_skips_non_finite_steps_keeps_finite_weights_and_says_so():
    real = memory.loss_of
    calls = {"n": 0}

    def poisoned(model, x, y, kind):
        loss = real(model, x, y, kind)
        if model.cfg.cell == "gru":
            calls["n"] += 1
            if calls["n"] % 3 == 0:
                return loss * float("nan")
        return loss

    with mock.patch.object(memory, "loss_of", poisoned):
        race = Race(SMALL).start()
        race.join(120)
    assert race.status == "done", race.message
    assert race.racers["gru"].skipped == 40 // 3 and race.racers["lstm"].skipped == 0
    assert "GRU skipped 13 step(s)" in race.message
    assert all(torch.isfinite(p).all() for r in race.racers.values() for p in r.model.parameters())


def test_a_race_stops_on_request_when_its_visitor_leaves_and_at_the_time_cap():
    race = Race(RaceConfig(**{**SMALL.__dict__, "steps": 5000})).start()
    wait_until(lambda: race.step >= 2, what="the race to start")
    race.stop()
    race.join(60)
    assert race.status == "stopped" and race.step < 5000

    connected = {"now": True}
    with mock.patch.object(jobs, "GONE_GRACE", 0.2):
        race = Race(RaceConfig(**{**SMALL.__dict__, "steps": 5000}), alive=lambda: connected["now"]).start()
        wait_until(lambda: race.step >= 2, what="the race to start")
        connected["now"] = False
        race.join(60)
    assert race.status == "stopped" and "visitor left" in race.message

    with mock.patch.object(memory, "LIMITS", replace(memory.LIMITS, max_wall_seconds=0.0)):
        race = Race(RaceConfig(**{**SMALL.__dict__, "steps": 5000})).start()
        race.join(60)
    assert race.status == "stopped" and "time limit" in race.message
