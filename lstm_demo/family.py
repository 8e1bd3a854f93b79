"""The LSTM family the tutorials list, as the Family page shows it: each kind (lstm_demo/kinds/) names its members —
a sentence each, what its data looks like, and the bundled model to open."""
from __future__ import annotations

from .kinds import KINDS

ORDER = ("Vanilla LSTM", "Stacked LSTM", "Bidirectional LSTM", "CNN-LSTM", "ConvLSTM", "Encoder–decoder")


def family() -> list:
    """Every kind's Family entries, the tutorials' order first and any newer member after."""
    entries = [entry for kind in KINDS.values() for entry in kind.family_entries]
    rank = {name: n for n, name in enumerate(ORDER)}
    return sorted(entries, key=lambda e: rank.get(e["name"], len(ORDER)))


FAMILY = family()
