"""No import cycles: neither between modules nor between packages (a package standing for all its
modules), over every package of the project. Imports are read from the source, wherever they
stand: one deferred into a function to dodge a loop is still the loop. An import inside
`if TYPE_CHECKING:` is for the type checker only and is left out. Importing `a.b.c` from outside
`a.b` runs `a/b/__init__.py` first, so that is an edge too: a package that imports its modules
in its `__init__` ties every importer of one of them to all of them."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections", "api", "readers")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import | ast.ImportFrom):
                yield inner


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the module's package
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                           for a in node.names]
            for target in targets:
                graph[name] |= {t for t in _run_by_importing(target, name, known) if t != name}
    return graph


def _run_by_importing(target: str, importer: str, known: Mapping[str, Path]) -> list[str]:
    """What importing `target` runs: the module, and each package above it that the importer
    is not inside of (its own packages are initialised already when it runs)."""
    if target not in known:
        return []
    parts = target.split(".")
    packages = [".".join(parts[:n]) for n in range(1, len(parts))]
    return [target, *(p for p in packages
                       if p in known and importer != p and not importer.startswith(f"{p}."))]


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Each module stands for its package; a package importing its own modules is no edge."""
    known = modules()

    def package_of(name: str) -> str:
        return name if known[name].name == "__init__.py" else name.rpartition(".")[0]

    packages: dict[str, set[str]] = {}
    for name, targets in graph.items():
        source = package_of(name)
        edges = packages.setdefault(source, set())
        for target in map(package_of, targets):
            # A subpackage's modules may use their parent's; the parent importing a
            # subpackage is no cycle of theirs either way.
            if target != source and not source.startswith(f"{target}."):
                edges.add(target)
    return packages


def test_no_module_imports_itself_back() -> None:
    assert cycles(import_graph()) == []


def test_no_package_imports_itself_back() -> None:
    assert cycles(package_graph(import_graph())) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
