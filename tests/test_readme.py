"""The README's notebook snippet runs as written (with fewer training steps): its imports and calls are the
package's real ones."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_notebook_snippet_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    snippet = next(b for b in blocks if "trace_sequence" in b)
    assert "steps=300" in snippet
    scope: dict = {}
    exec(compile(snippet.replace("steps=300", "steps=3"), "README.md", "exec"), scope)  # noqa: S102
    trace, data = scope["trace"], scope["data"]
    # each step reads one character and predicts the next: the last one has nothing after it
    assert trace.n_steps == len(data.encode("the cats, which ate the fish, were full.")) - 1
    assert set(scope["frame"].quantity) >= {"forget_gate", "cell_state", "hidden_state"}
