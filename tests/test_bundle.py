"""Bundled models: small, loadable, and rebuilt bit for bit by the regeneration command."""
import hashlib
import json

import pytest

from lstm_demo.bundle import BUNDLE_DIR, BUNDLES, bundle_bytes, load_bundle, train_bundle


@pytest.mark.parametrize("key", list(BUNDLES))
def test_each_bundle_is_small_loads_and_matches_the_index(key):
    raw = bundle_bytes(key)
    assert len(raw) < 1_000_000
    index = json.loads((BUNDLE_DIR / "index.json").read_text())
    assert index[key]["sha256"] == hashlib.sha256(raw).hexdigest()
    loaded = load_bundle(key)
    assert loaded.model.cfg.cell == BUNDLES[key].cell and loaded.steps > 0
    assert loaded.model is not load_bundle(key).model  # every caller gets its own module to train


def test_regeneration_rebuilds_a_bundle_bit_for_bit():
    raw, _ = train_bundle("sine")  # the smallest preset: ~2 s
    assert raw == bundle_bytes("sine")
