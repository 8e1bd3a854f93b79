"""The home page's first screen is drawn from precomputed scenes: a cold server's first visitor should not wait for
pandas, pyarrow, altair or torch (together seconds of imports on a small box). Run in a fresh interpreter, so that
what this test process already imported does not hide anything."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = r"""
import builtins, json, sys
from streamlit.testing.v1 import AppTest  # AppTest itself uses pandas: forget what it loaded, then watch the app
HEAVY = ("pandas", "pyarrow", "altair", "torch")
for name in [m for m in sys.modules if m.split(".")[0] in HEAVY]:
    del sys.modules[name]
seen, real = [], builtins.__import__
def watch(name, globals=None, locals=None, fromlist=(), level=0):
    caller = (globals or {}).get("__name__") or ""
    if name.split(".")[0] in HEAVY and name.split(".")[0] not in sys.modules and \
            not caller.startswith("streamlit.testing"):
        seen.append(f"{name} (imported by {caller})")
    return real(name, globals, locals, fromlist, level)
builtins.__import__ = watch
import lstm_demo.ui.common as common  # noqa: E402 (watched: the app imports it too)
common.WARM_DELAY = 3600  # the background warm-up after the first screen is not part of it
at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
print(json.dumps({"seen": seen, "errors": [e.value for e in at.exception],
                  "equations": any("Equations for" in c.proto.spec for c in at.get("vega_lite_chart"))}))
"""


def test_the_home_pages_first_run_needs_no_pandas_altair_or_torch():
    out = subprocess.run([sys.executable, "-c", CODE, str(ROOT / "app.py")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert not result["errors"]
    assert result["equations"], "the scene's views are on the first screen"
    assert not result["seen"], f"imported for the first screen: {result['seen']}"
