"""No import circles among the service's modules (``src/``); the platform's are checked where it is built.

Every ``import`` counts, also one inside a function: a lazy import hides a circle from
Python's loader, not from the reader who has to understand either module first. Only the
imports under ``if TYPE_CHECKING:`` do not: they never run and name types, not behaviour.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = (ROOT / "src",)


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of every package under the source roots."""
    found = {}
    for source_root in SOURCE_ROOTS:
        for init in source_root.glob("*/__init__.py"):
            for path in init.parent.rglob("*.py"):
                parts = path.relative_to(source_root).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = path
    return found


def runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree`` outside ``if TYPE_CHECKING:`` blocks."""
    found = []
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The known modules that the module ``name`` (at ``path``) imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {target for target in targets if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


# Circles that are known and kept, each with its reason; none today. An entry that no longer
# matches a circle fails below.
KNOWN_CIRCLES: tuple[list[str], ...] = ()


def test_the_graph_sees_the_service():
    graph = import_graph()
    (handler,) = [name for name in graph if name.endswith(".handler")]
    package = handler.rpartition(".")[0]
    assert f"{package}.schema" in graph and f"{package}.config" in graph


def test_circles_are_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_no_import_circle():
    found = circles(import_graph())
    new = [group for group in found if group not in KNOWN_CIRCLES]
    assert not new, "import circles (each group imports itself through the others): " + "; ".join(
        " <-> ".join(group) for group in new
    )
    stale = [group for group in KNOWN_CIRCLES if group not in found]
    assert not stale, f"KNOWN_CIRCLES lists circles that are gone, remove them: {stale}"
