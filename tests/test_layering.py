"""The design's rule: the core never imports streamlit; only the lstm_demo.ui package may."""
import ast
import re
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


# --- the shape of the package (issue "one family, one way in") ---------------------------------------------------

def _module(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """(module imported, names imported from it, line) for every import in the file, also inside functions, with
    relative imports resolved."""
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                root = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(root + ([base] if base else []))
            names = [a.name for a in node.names]
            modules = [f"{base}.{n}" for n in names]
            yield base, names, node.lineno
            for m in modules:  # "from . import step" imports the module lstm_demo.ui.step
                yield m, [], node.lineno


def _graph() -> dict:
    known = {_module(p): p for p in PKG.rglob("*.py")}
    graph = {m: set() for m in known}
    for m, p in known.items():
        for target, _, _ in _imports(p):
            if target in known and target != m:
                graph[m].add(target)
    return graph


def test_there_are_no_import_cycles():
    """No module imports (directly or through others, at the top or inside a function) one that imports it back:
    the kinds, the trainer, the store, the scenes and the UI depend one way."""
    graph, cycles = _graph(), []
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_name_is_imported_across_modules():
    offenders = []
    for path in PKG.rglob("*.py"):
        for target, names, line in _imports(path):
            if target.startswith("lstm_demo"):
                offenders += [f"{_module(path)}:{line} imports {n} from {target}" for n in names
                              if n.startswith("_") and not n.startswith("__")]
    assert not offenders, "\n".join(offenders)


KIND_DIRS = (PKG / "kinds", PKG / "ui" / "kinds")
KIND_NAMES = ("text", "series", "frames", "digits", "translation", "melody")
BRANCH = re.compile(r"\bkind\s*(==|!=|in\b|not in\b)|isinstance\([^)]*(Config|Data)\b")


def _outside_kinds():
    for path in sorted(PKG.rglob("*.py")):
        if not any(d in path.parents for d in KIND_DIRS):
            yield path


def test_kind_branches_live_in_the_kinds_modules():
    """Outside lstm_demo/kinds/ and lstm_demo/ui/kinds/, code asks the registry instead of branching on a kind."""
    found = [f"{p.relative_to(PKG)}:{n}: {line.strip()}" for p in _outside_kinds()
             for n, line in enumerate(p.read_text().splitlines(), 1) if BRANCH.search(line)]
    assert len(found) <= 10, "\n".join(found)


def test_no_module_outside_the_kinds_names_a_kinds_data():
    """A new kind is a module and a registry line: no other module names a particular kind (its data, its model)."""
    quoted = re.compile(r"""["'](""" + "|".join(KIND_NAMES[2:]) + r""")["']""")
    found = [f"{p.relative_to(PKG)}:{n}: {line.strip()}" for p in _outside_kinds()
             for n, line in enumerate(p.read_text().splitlines(), 1) if quoted.search(line)]
    assert not found, "\n".join(found)
