"""No import cycles inside ``mdf_neel``: module-level and function-level imports both count."""

import ast
from pathlib import Path

import mdf_neel

PACKAGE_DIR = Path(mdf_neel.__file__).parent


def _modules(root: Path) -> dict:
    """Dotted module name → source file, for every module of the package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _imports(root: Path = PACKAGE_DIR):
    """Yield (module, imported name, line) for every import of the package inside the package.

    ``from pkg import name`` yields ``pkg.name`` when that is a module, else ``pkg``.
    """
    modules = _modules(root)
    prefix = root.name
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node.level, node.module)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
                ]
            else:
                continue
            for target in targets:
                if target == prefix or target.startswith(prefix + "."):
                    yield module, target, node.lineno


def import_graph(root: Path = PACKAGE_DIR) -> dict:
    """Intra-package edges: module → set of modules it imports (anywhere in its body)."""
    modules = _modules(root)
    graph = {module: set() for module in modules}
    for module, target, _ in _imports(root):
        if target in modules and target != module:
            graph[module].add(target)
    return graph


def find_cycle(graph: dict) -> list | None:
    """One cycle as a list of modules (first == last), or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_graph_sees_relative_and_submodule_imports():
    graph = import_graph()
    assert "mdf_neel.mdf.writer" in graph["mdf_neel.mdf"]
    assert "mdf_neel.errors" in graph["mdf_neel.mdf.reader"]


def test_find_cycle_names_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_internal_import_names_a_module():
    modules = _modules(PACKAGE_DIR)
    missing = sorted({f"{m} line {line}: {t}" for m, t, line in _imports() if t not in modules})
    assert not missing, "imports of modules that do not exist: " + "; ".join(missing)


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
