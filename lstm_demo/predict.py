"""What a (partly) trained model predicts: sampled text, and one-step-ahead forecasts on validation data."""
from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def generate_text(model, data, prompt: str = "", length: int = 200, temperature: float = 0.8, seed: int = 0) -> str:
    """Sample `length` characters (or words) after `prompt` (characters not in the vocabulary are dropped; unknown
    words read as the unknown-word token)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    ids = data.prompt_ids(prompt) or [int(data.ids[0])]
    out, state = model(torch.tensor([ids]))              # warm up on the prompt: (1, P, V)
    logits, chars = out[0, -1], []
    for _ in range(length):
        probs = torch.softmax(logits / max(temperature, 1e-3), dim=-1)
        nxt = int(torch.multinomial(probs, 1, generator=gen))
        chars.append(data.vocab[nxt])
        out, state = model(torch.tensor([[nxt]]), state)
        logits = out[0, -1]
    return data.join(chars)


@torch.no_grad()
def forecast_validation(model, data, seq_len: int, max_points: int = 400):
    """One-step-ahead predictions over the start of the validation part, in original units.

    Returns (index, actual, predicted) arrays; index counts points from the start of the whole series.
    """
    model.eval()
    train, val = data.parts(seq_len)
    n = min(len(val), max_points)
    out, _ = model(val[None, : n - 1])                    # (1, n-1, 1), teacher forcing: true values as input
    index = np.arange(len(train) + 1, len(train) + n)
    return index, data.denorm(val[1:n, 0].numpy()), data.denorm(out[0, :, 0].numpy())


@torch.no_grad()
def fill_in(model, data, ids: torch.Tensor, mask) -> tuple[str, str, float]:
    """Fill-in-the-blank models: hide `mask` (T,) bool positions of ids (T,) and let the model guess them.
    Returns (text with the hidden characters (or words) shown as ▮, text with the model's guesses there,
    accuracy)."""
    from .trace import MASK
    model.eval()
    mask = torch.as_tensor(mask, dtype=torch.bool)
    out, _ = model(torch.where(mask, model.mask_id, ids)[None])
    guess = out[0, :, : len(data.vocab)].argmax(-1)
    hidden = data.join([MASK if m else data.vocab[int(i)] for i, m in zip(ids, mask)])
    filled = data.join([data.vocab[int(g)] if m else data.vocab[int(i)] for i, g, m in zip(ids, guess, mask)])
    acc = (guess[mask] == ids[mask]).float().mean().item()
    return hidden, filled, acc


def blanks_heading(data, ids, mask, hide: str, acc: float) -> str:
    """The fill-in preview's heading, counted from the mask it shows (masking is random per item, so the shown text
    has about, not exactly, 15 % hidden): "23 of its 160 characters hidden (▮, in 5 words)"."""
    m = np.asarray(mask, dtype=bool)
    k, n, unit = int(m.sum()), len(m), data.unit
    what = f"{k} of its {n} {unit}s hidden (▮"
    if hide == "words" and data.tokens == "chars":  # whole words: count the hidden runs that hold a letter
        letters = np.array([str(data.vocab[int(i)]).isalpha() for i in ids])
        runs = np.flatnonzero(m & ~np.r_[False, m[:-1]])                        # where each hidden run starts
        ends = np.flatnonzero(m & ~np.r_[m[1:], False]) + 1
        words = sum(bool(letters[a:b].any()) for a, b in zip(runs, ends))
        what += f", in {words} word{'s' if words != 1 else ''}"
    right = f"right on {acc:.0%} of the hidden {unit}s here" if k and np.isfinite(acc) else "nothing hidden to guess"
    return f"**Fill in the blanks** — validation text with {what}), and the model's guesses ({right}):"


def fill_in_preview(model, data, ids, mask, hide: str) -> tuple[str, str, str]:
    """(hidden text, filled text, heading) of the Train page's fill-in preview."""
    hidden, filled, acc = fill_in(model, data, ids, mask)
    return hidden, filled, blanks_heading(data, ids, mask, hide, acc)


# --- forecasts judged against naive baselines -----------------------------------------------------------------------

def seasonal_period(values, min_r: float = 0.5, max_lag: int = 1000) -> int | None:
    """The series' season, if it has a clear one: the lag of the highest autocorrelation after the autocorrelation
    has first dropped below zero, if that peak reaches min_r — in the series, else in its differences (a daily cycle
    under a yearly trend). A random walk (high autocorrelation at every lag; white-noise differences) has none."""
    values = np.asarray(values, dtype=float)
    found = _acf_period(values, min_r, max_lag)
    return found if found is not None else _acf_period(np.diff(values), min_r, max_lag)


def _acf_period(values, min_r: float, max_lag: int) -> int | None:
    v = np.asarray(values, dtype=float)
    v = v - v.mean()
    n = len(v)
    top = min(max_lag, n // 3)
    if top < 4 or not v.any():
        return None
    denom = float((v * v).sum())
    acf = np.array([float((v[:-lag] * v[lag:]).sum()) / denom for lag in range(1, top + 1)])
    below = np.nonzero(acf < 0)[0]
    if not len(below):
        return None
    after = acf[below[0]:]
    lag = int(below[0] + np.argmax(after)) + 1
    return lag if after.max() >= min_r and lag >= 2 else None


def judge(values, index, predicted, period: int | None) -> dict:
    """One-step predictions for values[index] against "repeat the last value" (values[index - 1]) and, with a
    period, "repeat last season" (values[index - period]): mean squared errors and the model's ratio to each."""
    values, index = np.asarray(values, dtype=float), np.asarray(index)
    actual = values[index]
    mse = lambda guess: float(np.mean((np.asarray(guess, dtype=float) - actual) ** 2))
    out = {"model": mse(predicted), "last value": mse(values[index - 1]), "period": period,
           "scale": float(np.mean(actual ** 2))}  # what "exact" is measured against (conclusions.compare_errors)
    if period is not None and index.min() >= period:
        out["last season"] = mse(values[index - period])
    elif period is not None:
        out["no season"] = (f"the range starts less than one season ({period} steps) in: there is no point a season "
                            "back to repeat")
    else:
        out["no season"] = "the training data has no clear season"
    return out


def judged_steps(n: int, period: int | None, least: int = 10) -> np.ndarray:
    """The steps of a traced range of n points to judge: from one season in when the range leaves at least `least`
    steps after it (so both naive forecasts are judged on the same steps), else from step 1."""
    start = period if period and n - period >= least else 1
    return np.arange(start, n)



@torch.no_grad()
def judged_forecast(model, data, seq_len: int, max_points: int = 400) -> dict:
    """One-step forecast on the start of the validation part, with the naive baselines and their errors."""
    index, actual, predicted = forecast_validation(model, data, seq_len, max_points)
    train, _ = data.parts(seq_len)
    period = seasonal_period(data.values[: len(train)])
    scores = judge(data.values, index, predicted, period)
    baselines = {"repeat the last value": data.values[index - 1]}
    if "last season" in scores:
        baselines["repeat last season"] = data.values[index - period]
    return {"index": index, "actual": actual, "predicted": predicted, "baselines": baselines, "scores": scores}


@torch.no_grad()
def rollout(model, data, seq: torch.Tensor, start: int, horizon: int) -> dict:
    """From step `start` of seq (normalised values, (T+1, 1)), predict `horizon` steps two ways: teacher-forced (each
    step sees the true previous value) and free-running (each step sees the model's own previous prediction).
    Returns h (1…k), actual, forced, free in original units, and each one's absolute error."""
    model.eval()
    horizon = max(1, min(horizon, len(seq) - 1 - start))
    out, state = model(seq[None, : start + 1])                       # teacher-forced up to start: (1, start+1, 1)
    forced_all, _ = model(seq[None, : start + horizon])              # one step ahead at every step
    forced = forced_all[0, start : start + horizon, 0]
    free, nxt = [], out[:, -1:, :]                                   # the prediction for step start + 1
    for _ in range(horizon):
        free.append(float(nxt[0, 0, 0]))
        nxt, state = model(nxt, state)                               # feed the model its own prediction
    actual = data.denorm(seq[start + 1 : start + 1 + horizon, 0].numpy())
    forced, free = data.denorm(forced.numpy()), data.denorm(np.array(free))
    return {"h": np.arange(1, horizon + 1), "actual": actual, "forced": forced, "free": free,
            "forced_error": np.abs(forced - actual), "free_error": np.abs(free - actual)}
