"""Code conventions of mdf_neel.physics (numba caching, no print in library code, no import
cycles)."""

import ast
import pathlib
import re

PHYS = pathlib.Path(__file__).resolve().parents[2] / "mdf_neel" / "physics"


def test_every_njit_is_cached():
    for f in PHYS.rglob("*.py"):
        for m in re.finditer(r"@(?:numba\.)?njit(\([^)]*\))?", f.read_text()):
            assert m.group(1) and "cache=True" in m.group(1), f"{f.name}: {m.group(0)} lacks cache=True"


def test_no_print_in_library_code():
    for f in PHYS.rglob("*.py"):
        assert not re.search(r"^\s*print\(", f.read_text(), re.M), f.name


def _module_name(path):
    rel = path.relative_to(PHYS.parent.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path, name):
    """Modules of mdf_neel.physics that ``path`` imports anywhere (also inside functions)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(c for c in candidates if c.startswith("mdf_neel.physics"))
    return found


def test_no_import_cycles():
    modules = {_module_name(p): p for p in PHYS.rglob("*.py")}
    graph = {name: {m for m in _imports(path, name) if m in modules and m != name} for name, path in modules.items()}
    # a package imports its own submodules by design; every other edge must be acyclic
    for name in graph:
        graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != "open", "import cycle: " + " -> ".join(stack + [node, nxt])
            if nxt not in state:
                visit(nxt, stack + [node])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
