"""The design's rule: the core never imports streamlit; only the lstm_demo.ui package may."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "lstm_demo"


def test_only_the_ui_package_imports_streamlit():
    offenders = []
    for path in PKG.rglob("*.py"):
        if "ui" in path.relative_to(PKG).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert not offenders
    assert (PKG / "ui" / "__init__.py").exists()
