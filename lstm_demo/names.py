"""Names and colours of the cells' quantities, shared by every chart and label (plain data: no plotting library
needed to use them)."""

# One colour per quantity, used in every chart (colour-blind-safe Tableau hues).
COLORS = {"input_gate": "#4e79a7", "forget_gate": "#e15759", "candidate": "#59a14f", "output_gate": "#f28e2b",
          "cell_state": "#b07aa1", "hidden_state": "#76b7b2",
          "reset_gate": "#edc948", "update_gate": "#e15759", "new_gate": "#59a14f"}
SIGMOID_GATES = ("input_gate", "forget_gate", "output_gate", "reset_gate", "update_gate")

LABELS = {
    "input_gate": "input gate i — how much new to write (after sigmoid, 0…1)",
    "forget_gate": "forget gate f — how much of the cell to keep (after sigmoid, 0…1)",
    "candidate": "candidate g — values offered to the cell (after tanh, −1…1)",
    "output_gate": "output gate o — how much of the cell to show (after sigmoid, 0…1)",
    "cell_state": "cell state c — the conveyor belt (unbounded, 0 in the middle)",
    "hidden_state": "hidden state h (−1…1)",
    "reset_gate": "reset gate r — how much of h(t−1) the candidate sees (0…1)",
    "update_gate": "update gate z — how much of h(t−1) to keep (0…1)",
    "new_gate": "candidate n — the new content (after tanh, −1…1)",
}
SHORT = {"input_gate": "i", "forget_gate": "f", "candidate": "g", "output_gate": "o", "cell_state": "c",
         "hidden_state": "h", "reset_gate": "r", "update_gate": "z", "new_gate": "n"}

CELL_NAMES = {"rnn": "plain RNN", "gru": "GRU", "lstm": "LSTM"}


def quote(ch) -> str:
    """A token in quotes as the views' sentences name it: 'a', '·' — and an apostrophe in double quotes (three
    single quotes in a row read as noise on screen)."""
    shown = show(ch)
    return f"“{shown}”" if "'" in shown else f"'{shown}'"


def show(ch) -> str:
    """Make whitespace visible in charts and labels; numbers to three significant digits."""
    if not isinstance(ch, str):
        return f"{ch:.3g}"
    return {" ": "·", "\n": "⏎", "\t": "⇥"}.get(ch, ch)
