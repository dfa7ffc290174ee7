"""The matcher's house rules, checked on its source: imports at module top and no import loop between its modules.

An import may stay inside a function only for a heavy or optional dependency, marked
``# noqa: PLC0415 — <measured reason>`` on its line (see :mod:`matcher.text`, :mod:`matcher.dense`,
:mod:`matcher.feedback`). ``if TYPE_CHECKING:`` blocks are not allowed either: they are how a loop hides.
"""

from __future__ import annotations

import ast
from pathlib import Path

MATCHER = Path(__file__).resolve().parents[2] / "matcher"
MARK = "PLC0415 —"


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(MATCHER.glob("*.py"))}


def _sources() -> dict[str, list[str]]:
    return {p.stem: p.read_text(encoding="utf-8").splitlines() for p in sorted(MATCHER.glob("*.py"))}


def test_imports_are_at_module_top_unless_marked_with_their_reason() -> None:
    sources = _sources()
    offending: list[str] = []
    for name, tree in _modules().items():
        top = set(map(id, tree.body))  # module-level statements, and the bodies of module-level try blocks
        top |= {id(n) for t in tree.body if isinstance(t, ast.Try) for n in t.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top:
                line = sources[name][node.lineno - 1]
                if MARK not in line:
                    offending.append(f"matcher/{name}.py:{node.lineno}: {line.strip()}")
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                offending.append(f"matcher/{name}.py:{node.lineno}: if TYPE_CHECKING")
    assert offending == []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, tree in _modules().items():
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "matcher":
                    deps.update(a.name for a in node.names)
                elif node.module.startswith("matcher."):
                    deps.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                deps.update(a.name.split(".")[1] for a in node.names if a.name.startswith("matcher."))
        graph[name] = deps - {name}
    return graph


def test_no_import_loop_between_matcher_modules() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    loops: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                loops.append([*path[path.index(dep) :], dep] if dep in path else [node, dep])
            elif dep in graph and not state.get(dep):
                visit(dep, [*path, dep])
        state[node] = 2

    for module in sorted(graph):
        if not state.get(module):
            visit(module, [module])
    assert loops == []
    assert "rank" not in _reachable(graph, "corpus") and "index" not in _reachable(graph, "rank")


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_no_matcher_file_is_over_800_lines() -> None:
    sizes = {name: len(lines) for name, lines in _sources().items()}
    assert {name: n for name, n in sizes.items() if n > 800} == {}
