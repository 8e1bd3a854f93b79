"""The long-memory lab: task generators, the gradient measurement against autograd, and the race's outcome."""
import random
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_demo import charts, jobs
from lstm_demo.config import ConfigError
from lstm_demo.memory import (IGNORE, TASKS, Race, RaceConfig, RaceRecord, encode_batch, forget_products,
                              hidden_grad_norms, matched_hidden, model_config, set_forget_bias, summary, task_data,
                              train_examples)
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
            elif key == "allergy":  # "mary is allergic to nuts. … she can|'t eat …"
                assert e.text[e.scored - 2 : e.scored + 1] == "can" and e.answer == e.text[e.scored + 1]
                assert e.text.split(".")[0].endswith("allergic to nuts") == e.key == (e.answer == "'")
                words = e.text.split(".")[1].split()  # filler, then "she can't eat <food>"
                assert [i for i, w in enumerate(words) if w in ("she", "he")] == [distance]
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
            elif key == "allergy":
                between = e.text[: e.scored].split(".")[1].split()[:-2]
                assert not set(between) & {"allergic", "loves", "nuts", "can", "can't", "eat"}
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


@pytest.fixture(scope="module")
def default_races():
    """The default race for seeds 0-2, two at a time (the app's two training slots; bench/bench_memory.py runs
    seeds 0-4). Three at once were measured no faster here: one process, and a race's steps are small."""
    races = [Race(RaceConfig(seed=seed)).start() for seed in range(3)]
    for race in races:
        while race.thread.is_alive():
            race.touch()  # a race nobody looks at stops itself
            race.join(5)
    return races


@pytest.mark.parametrize("seed", range(3))
def test_the_default_race_teaches_the_lesson_for_every_seed(default_races, seed):
    """The tutorials' claim, as the issue states it: the plain RNN right (>= 90 %) at the shortest distance and
    within 15 points of chance at the longest; the LSTM and the GRU right (>= 90 %) at every distance."""
    race = default_races[seed]
    assert race.status == "done", race.message
    acc = race.results["accuracy"].pivot(index="distance", columns="cell", values="accuracy")
    chance = TASKS[race.cfg.task].chance
    shortest, longest = acc.index.min(), acc.index.max()
    assert acc.loc[shortest, "rnn"] >= 0.9, acc
    assert acc.loc[longest, "rnn"] <= chance + 0.15, acc
    assert (acc["lstm"] >= 0.9).all() and (acc["gru"] >= 0.9).all(), acc
    words = summary(race.results["accuracy"], race.task)
    rnn = acc["rnn"].sort_index()
    far = rnn.index[0] if rnn.iloc[1] < 0.9 else None  # the default race: right at the shortest, not at the next
    if far is not None:  # (not "every distance up to 0": only the shortest)
        assert f"plain RNN: accurate (≥ 90%) at the shortest distance, {far} filler words, " in words, words
    assert f"LSTM: accurate (≥ 90%) at every distance up to {longest} filler words" in words, words
    g = race.results["gradients"]
    rnn0 = g[(g.cell == "rnn") & (g.when == "at initialisation")].set_index("k")["norm"]
    assert rnn0[30] < rnn0[0] * 1e-3  # the plain RNN's gradient vanishes over the gap at initialisation
    for chart in (charts.accuracy_chart(race.results["accuracy"], chance, "words"), charts.gradient_chart(g),
                  charts.forget_chart(race.results["forget"]), charts.race_loss_chart(race.histories(), race.task.loss_label)):
        chart.to_dict()  # valid Vega-Lite


def test_the_summary_of_a_curve_that_dips_and_recovers_reaches_only_to_the_dip():
    import pandas as pd
    task = TASKS["agreement"] if "agreement" in TASKS else next(iter(TASKS.values()))
    bar = task.chance + 0.8 * (1 - task.chance)
    rows = []
    for cell, curve in {"rnn": [1.0, bar - 0.2, 1.0, 1.0], "gru": [bar - 0.1] * 4, "lstm": [1.0] * 4}.items():
        rows += [{"seed": 0, "cell": cell, "distance": d, "accuracy": a} for d, a in zip((5, 10, 20, 40), curve)]
    words = summary(pd.DataFrame(rows), task)
    assert f"plain RNN: accurate (≥ {bar:.0%}) at the shortest distance, 5 {task.distance_unit}, not at the next " \
           "(accurate again at 20, 40)" in words, words
    assert "GRU: never accurate in this range" in words and "up to 40" in words
    rows = [{"seed": 0, "cell": c, "distance": d, "accuracy": 1.0 if d == 0 or c != "rnn" else 0.3}
            for c in ("rnn", "gru", "lstm") for d in (0, 5, 10)]  # the precomputed race's plain RNN: only at 0
    words = summary(pd.DataFrame(rows), task)
    assert f"plain RNN: accurate (≥ {bar:.0%}) at the shortest distance, 0 {task.distance_unit}, and at no longer " \
           "one;" in words and "up to 0" not in words, words


def test_a_race_record_survives_json_and_draws_the_same_summary(default_races):
    race = default_races[0]
    record = RaceRecord.from_json(race.record().to_json())
    assert record.cfg == race.cfg and record.message == race.message
    pd.testing.assert_frame_equal(record.results["accuracy"], race.results["accuracy"], check_dtype=False)
    assert summary(record.results["accuracy"], record.task) == summary(race.results["accuracy"], race.task)
    assert record.results["unit"]["unit"] == race.results["unit"]["unit"]
    pd.testing.assert_frame_equal(record.results["unit"]["ranked"], race.results["unit"]["ranked"])  # units: ints
    assert set(record.history["cell"]) == {"rnn", "gru", "lstm"}


def test_several_seeds_and_a_sweep_run_one_training_per_seed_and_distance():
    """Three seeds: every distance once per seed, and the chart draws a band from the worst to the best. A sweep:
    each distance's models trained on that distance alone."""
    cfg = replace(SMALL, seeds=3)
    race = Race(cfg).start()
    race.join(120)
    assert race.status == "done", race.message
    assert "3 runs" in race.message
    acc = race.results["accuracy"]
    assert sorted(acc["seed"].unique()) == [0, 1, 2] and len(acc) == 3 * 3 * len(cfg.distances())
    spec = charts.accuracy_chart(acc, 0.25, "symbols").to_dict()
    assert any(layer.get("mark", {}).get("type") == "area" for layer in spec["layer"])
    # the band spans the seeds' own accuracies, computed here directly
    per = acc[(acc.cell == "lstm") & (acc.distance == cfg.distances()[-1])]["accuracy"]
    band = [row for rows in spec["datasets"].values() for row in rows
            if row.get("cell") == "lstm" and row.get("distance") == cfg.distances()[-1] and "low" in row]
    assert band and band[0]["low"] == pytest.approx(per.min()) and band[0]["high"] == pytest.approx(per.max())

    seen = []
    real = memory.train_examples
    with mock.patch.object(memory, "train_examples",
                           lambda task, c, rng, distance=None: seen.append(distance) or real(task, c, rng, distance)):
        race = Race(replace(SMALL, sweep=True)).start()
        race.join(120)
    assert race.status == "done", race.message
    assert sorted(set(seen)) == SMALL.distances() and len(seen) == SMALL.steps * len(SMALL.distances())
    acc = race.results["accuracy"]
    assert len(acc) == 3 * len(SMALL.distances())  # each run tested at its own distance only
    assert race.racers["lstm"] is not None and race.explained.distance == SMALL.distances()[-1]


def test_batches_mix_distances_up_to_one_drawn_distance():
    cfg = RaceConfig(min_distance=2, max_distance=12, batch_size=16)
    rng = random.Random(0)
    task = TASKS["agreement"]
    for _ in range(50):
        batch = train_examples(task, cfg, rng)
        top = max(e.distance for e in batch)
        assert sum(e.distance == top for e in batch) >= 8 and all(2 <= e.distance <= 12 for e in batch)
    draws = [memory.draw_distance(RaceConfig(max_distance=20, skew=2.0), rng) for _ in range(4000)]
    # skew 2: P(d <= 6) = sqrt(7 / 21), computed from the formula's inverse, not from the code
    assert np.mean(np.array(draws) <= 6) == pytest.approx((7 / 21) ** 0.5, abs=0.03)


def test_the_chrono_initialisation_spreads_forget_biases_over_the_gap():
    race = Race(RaceConfig(lstm_hidden=32, steps=10))
    lstm = race.racers["lstm"].model.rnn
    H, T = 32, race.longest_example()
    b_f = (lstm.bias_ih_l0 + lstm.bias_hh_l0)[H : 2 * H].detach()
    b_i = (lstm.bias_ih_l0 + lstm.bias_hh_l0)[:H].detach()
    assert torch.all(b_f >= 0) and torch.all(b_f <= np.log(T - 1) + 1e-5) and b_f.max() > np.log(T) - 1.5
    assert torch.allclose(b_i, -b_f)
    # the time scale 1 / (1 - sigmoid(b_f)) of the slowest unit reaches the longest example's length
    assert (1 / (1 - torch.sigmoid(b_f))).max() > T / 4


# --- the race's safeguards --------------------------------------------------------------------------------------

from unittest import mock  # noqa: E402

from lstm_demo import memory  # noqa: E402
from support import wait_until  # noqa: E402

SMALL = RaceConfig(task="first_symbol", min_distance=1, max_distance=3, lstm_hidden=4, steps=40, val_per_distance=8)


def test_a_race_skips_non_finite_steps_keeps_finite_weights_and_says_so():
    kind = memory.KINDS["text"]
    real = kind.loss
    calls = {"n": 0}

    def poisoned(model, x, y):
        loss = real(model, x, y)
        if model.cfg.cell == "gru":
            calls["n"] += 1
            if calls["n"] % 3 == 0:
                return loss * float("nan")
        return loss

    with mock.patch.object(kind, "loss", poisoned):
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

    with mock.patch.object(jobs, "LIMITS", replace(jobs.LIMITS, max_wall_seconds=0.0)):
        race = Race(RaceConfig(**{**SMALL.__dict__, "steps": 5000})).start()
        race.join(60)
    assert race.status == "stopped" and "time limit" in race.message


# --- the results' words (issue #21's claims audit): each part computed from the numbers the charts draw ------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lstm_demo.memory import (KEEPS, gradient_words, precomputed_words, settings_differ, unit_words,  # noqa: E402
                              units_keeping)


def test_units_keeping_counts_the_units_whose_forget_product_stays_high():
    task = TASKS["first_symbol"]
    data = task_data(task)
    model = build_model(model_config(task, data, "lstm", 5))
    x, y = encode_batch(task, [task.make(8, random.Random(i)) for i in range(4)], data)
    set_forget_bias(model, 50.0)                                  # f = 1: every unit keeps everything
    assert (units_keeping(model, x, y)["keeping"] == 5).all()
    set_forget_bias(model, -50.0)                                 # f = 0: none keeps anything past one step
    kept = units_keeping(model, x, y)
    assert kept["keeping"].iloc[0] == 5 and (kept["keeping"].iloc[1:] == 0).all() and (kept["units"] == 5).all()


def _results(init_norms: dict, best: float, mean: float, keeping: int | None, units: int = 32, k_max: int = 25):
    grads = pd.DataFrame([{"cell": c, "when": "at initialisation", "k": k, "norm": n}
                          for c, norms in init_norms.items() for k, n in enumerate(norms)])
    k = np.arange(k_max + 1)
    res = {"gradients": grads, "forget": pd.DataFrame({"k": k, "mean over units": mean, "best unit": best})}
    if keeping is not None:
        res["keeping"] = pd.DataFrame({"k": k, "keeping": keeping, "units": units})
    return res


@given(st.floats(0.3, 3.0), st.floats(0.3, 3.0), st.integers(2, 30))
@settings(max_examples=60, deadline=None)
def test_the_gradient_words_say_shrinks_only_where_the_gradient_shrinks(rnn_rate, lstm_rate, steps):
    norms = {"rnn": rnn_rate ** np.arange(steps), "lstm": lstm_rate ** np.arange(steps)}
    words = gradient_words(_results(norms, 1.0, 0.5, None))
    k = min(10, steps - 1)
    for name, rate in (("plain RNN", rnn_rate), ("LSTM", lstm_rate)):
        ratio = rate ** k                                          # norm[k] / norm[0], computed here
        assert (f"{name} keeps {ratio:.1e} of it after {k} steps" in words) == (ratio < 1)
        assert (f"{name} has {ratio:.1e} times as much after {k} steps" in words) == (ratio >= 1)
    shrinks = [rnn_rate ** k < 1, lstm_rate ** k < 1]
    assert ("the signal shrinks as it goes back" in words) == all(shrinks)
    assert ("does not reach" in words) == any(shrinks)
    assert "— ." not in words and "nan" not in words


@given(st.integers(0, 32), st.floats(0, 1), st.floats(0, 1))
@settings(max_examples=100, deadline=None)
def test_a_few_units_are_called_the_memory_only_when_few_keep_it_and_the_best_far_more(keeping, best, mean):
    best, mean = max(best, mean), min(best, mean)
    words = gradient_words(_results({"lstm": [1.0, 0.5]}, best, mean, keeping))
    assert f"{keeping} of 32 units keep at least {KEEPS:.0%}" in words
    assert ("a few units become the long-term memory" in words) == (0 < keeping <= 8 and best - mean >= 0.3)
    assert ("most units keep their cell state" in words) == (keeping >= 16)
    assert f"best unit keeps {best:.0%}" in words and f"the average unit {mean:.0%}" in words


def test_the_shipped_race_does_not_say_a_few_units_when_most_keep_their_state():
    from lstm_demo.bundle import BUNDLE_DIR
    record = RaceRecord.from_json((BUNDLE_DIR / "race_default.json").read_text())
    words = gradient_words(record.results)
    n = int(record.results["keeping"]["keeping"].iloc[20])
    assert f"{n} of 32 units keep at least 90%" in words
    assert ("a few units" in words) == (n <= 8)
    assert record.results["unit"]["examples"] == 128 and "over 128 sentences" in unit_words(record.results["unit"],
                                                                                            record.cfg)


def test_a_short_gap_has_no_empty_list_and_no_forget_claim():
    words = gradient_words(_results({"rnn": [1.0, 0.5, 0.25]}, 1.0, 1.0, None, k_max=0))
    assert "keeps 2.5e-01 of it after 2 steps" in words and "too short to measure" in words


@given(st.floats(-1, 1) | st.just(float("nan")), st.sampled_from([None, 128, 64]))
def test_the_unit_sentence_says_separates_on_the_headings_bar(r, n):
    from lstm_demo.conclusions import remembering_heading
    found = {"unit": 3, "correlation": r, **({"examples": n} if n else {})}
    words = unit_words(found, RaceConfig())
    assert ("cell state just before the answer separates plural" in words) == \
        (remembering_heading(r) == "The unit that remembers")
    assert (f"over {n} sentences" in words) if n else ("128" not in words)
    assert "with 20 filler words" in words and "nan" not in words


def test_the_precomputed_race_says_the_settings_above_only_when_they_are_its_own():
    default = RaceConfig()
    assert "with the settings above" in precomputed_words(default, default)
    assert settings_differ(default, default) == ""
    mine = replace(default, lstm_hidden=64, steps=500, sweep=True)
    words = precomputed_words(default, mine)
    assert "settings above" not in words and "LSTM hidden units 32 (yours: 64)" in words
    assert "steps per model 350 (yours: 500)" in words and "per-distance sweep False (yours: True)" in words
    assert "with the default settings." in precomputed_words(default, None)   # no valid settings on screen


@pytest.mark.parametrize("lo,hi", [(0, 1), (3, 3), (2, 5), (4, 40), (0, 100), (97, 100)])
def test_the_sweep_help_names_the_distances_the_sweep_runs(lo, hi):
    """The checkbox's help says how many runs the sweep makes, and which: the same as the sweep it starts."""
    import re
    from lstm_demo.memory import sweep_help
    cfg = RaceConfig(min_distance=lo, max_distance=hi, sweep=True).validate()
    words = sweep_help(lo, hi)
    listed = [int(x) for x in re.search(r"distances? ((?:\d+, )*\d+)", words).group(1).split(",")]
    assert listed == cfg.distances() and listed[0] == lo and listed[-1] == hi
    assert all(a < b for a, b in zip(listed, listed[1:])) and len(listed) <= 8
    assert (f"about {len(listed)} times the time" if len(listed) > 1 else "about the time") in words
