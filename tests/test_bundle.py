"""Bundled models: small, loadable, and rebuilt by the regeneration command.

A rebuild is compared twice: bit for bit against another rebuild on the machine running the test (determinism), and
against the shipped file with a tolerance on the weights and the losses (another CPU rounds differently: oneDNN and
BLAS pick kernels by CPU; measured here between two kernel paths: 3e-7 after 400 steps) and exact equality of
everything else (names, shapes, configs, data, steps).
"""
import hashlib
import json
import struct

import pytest
import torch

from lstm_demo.bundle import BUNDLE_DIR, BUNDLES, bundle_bytes, load_bundle, train_bundle
from lstm_demo.store import load_bytes

WEIGHT_TOL = 1e-4   # 300x the drift measured between kernel paths; a changed seed or setting moves weights by ~0.1


@pytest.mark.parametrize("key", list(BUNDLES))
def test_each_bundle_is_small_loads_and_matches_the_index(key):
    raw = bundle_bytes(key)
    assert len(raw) < 2_000_000
    index = json.loads((BUNDLE_DIR / "index.json").read_text())
    assert index[key]["sha256"] == hashlib.sha256(raw).hexdigest()
    loaded = load_bundle(key)
    assert loaded.model.cfg.cell == BUNDLES[key].cell and loaded.steps > 0
    assert loaded.model is not load_bundle(key).model  # every caller gets its own module to train


def _header(raw: bytes) -> dict:
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n])


def _without_losses(meta: dict) -> dict:
    """The metadata with the loss values taken out (compared with a tolerance); their steps stay."""
    history = json.loads(meta["history"])
    steps = {split: [s for s, _ in rows] for split, rows in history.items()}
    return {**meta, "history": json.dumps(steps)}


@pytest.fixture(scope="module")
def rebuilt():
    return train_bundle("stock_aapl")[0]  # the quickest to build: 123 points, windows of 32


def test_regeneration_is_deterministic_on_this_machine():
    assert train_bundle("stock_aapl", steps=150)[0] == train_bundle("stock_aapl", steps=150)[0]


def test_the_shipped_bundle_equals_a_rebuild_within_rounding(rebuilt):
    shipped = bundle_bytes("stock_aapl")
    a, b = _header(rebuilt), _header(shipped)
    assert {k: (v["dtype"], v["shape"]) for k, v in a.items() if k != "__metadata__"} == \
        {k: (v["dtype"], v["shape"]) for k, v in b.items() if k != "__metadata__"}
    assert _without_losses(a["__metadata__"]) == _without_losses(b["__metadata__"])
    new, old = load_bytes(rebuilt), load_bytes(shipped)
    for name, weight in old.model.state_dict().items():
        assert torch.allclose(new.model.state_dict()[name], weight, atol=WEIGHT_TOL, rtol=0), name
    for (sa, wa), (sb, wb) in zip(new.checkpoints, old.checkpoints, strict=True):
        assert sa == sb and all(torch.allclose(wa[k].float(), wb[k].float(), atol=2e-3, rtol=2e-3) for k in wa)
    for split in ("train", "val"):
        for (sa, la), (sb, lb) in zip(new.history[split], old.history[split], strict=True):
            assert sa == sb and la == pytest.approx(lb, rel=1e-3, abs=1e-6)


def test_the_comparison_would_catch_a_different_model(rebuilt):
    """The tolerance is tight enough to see a real change: another seed gives other weights."""
    from dataclasses import replace

    from lstm_demo.bundle import configs, load_data
    from lstm_demo.train import fit
    b = BUNDLES["stock_aapl"]
    data = load_data(b)
    model_cfg, train_cfg = configs(b, data)
    other = fit(model_cfg, data, replace(train_cfg, seed=1, steps=50)).model
    shipped = load_bytes(bundle_bytes("stock_aapl")).model
    assert any(not torch.allclose(other.state_dict()[k], w, atol=WEIGHT_TOL, rtol=0)
               for k, w in shipped.state_dict().items())
