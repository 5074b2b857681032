"""ace_admin has no import circle: its modules' module-level imports form a graph without cycles.

Only imports executed when a module loads count (function bodies are lazy). Importing ``a.b.c`` also runs
``a/__init__`` and ``a/b/__init__``; a module's own parent packages are left out (Python is already
importing them when it gets there, which is how ``models/__init__`` re-exports its modules).
"""

from __future__ import annotations

import ast
from pathlib import Path

import ace_admin

PACKAGE = Path(ace_admin.__file__).parent
ROOT = PACKAGE.parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts}


def top_level_imports(tree: ast.Module, name: str, is_package: bool):
    """Names imported by statements that run at import time (module level, including if/try blocks)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        own_parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        edges = set()
        for target in top_level_imports(ast.parse(path.read_text()), name, path.name == "__init__.py"):
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if candidate in known and candidate not in own_parents and candidate != name:
                    edges.add(candidate)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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


def test_ace_admin_has_no_import_circle():
    assert cycles(import_graph()) == []


def test_the_walker_sees_a_circle_when_there_is_one():
    graph = import_graph()
    graph["ace_admin.stamp"] = {*graph["ace_admin.stamp"], "ace_admin.models.base"}  # models.base imports stamp
    assert ["ace_admin.models.base", "ace_admin.stamp"] in cycles(graph)


def test_the_walker_sees_the_real_imports():
    graph = import_graph()
    assert "ace_admin.stamp" in graph["ace_admin.models.base"]
    assert "ace_admin.campaigns.service" in graph["ace_admin.campaigns.tasks"]
    assert "ace_admin.campaigns.tasks" not in graph["ace_admin.campaigns.service"]  # tasks are found by name
