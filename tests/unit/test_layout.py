"""The tree reads like the pipeline: no import cycle among the project's modules, imports
pointing one way between the stages, and no module of the product (pipeline, plugins, dags)
over 400 lines without a reason in its docstring.

The import graph is read from the source with `ast` (every import, also those inside
functions and under TYPE_CHECKING), so nothing is imported to check it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Airflow puts plugins/ and dags/ on sys.path: their modules import as `wirefeed_airflow...`
# and by file name.
SOURCES = {"pipeline": ROOT, "plugins": ROOT / "plugins", "dags": ROOT / "dags"}
# The stages in the order of the work: a stage imports only those before it.
STAGES = ("pipeline.feeds", "pipeline.text", "pipeline.stories", "pipeline.entities")
# What every stage may use, which itself knows no stage.
SHARED = (
    "pipeline.config",
    "pipeline.models",
    "pipeline.ids",
    "pipeline.workers",
    "pipeline.index",
)
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    modules = {}
    for top, base in SOURCES.items():
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules that module `name` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from package import module` imports the module; `from module import name`
            # the module.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_graph_sees_the_imports() -> None:
    # A check over an empty or unresolved graph would pass whatever the imports are.
    graph = _graph()
    assert "pipeline.cli" in graph["pipeline.__main__"]
    assert "pipeline.run" in graph["pipeline.cli"]  # imported inside a function
    assert "pipeline.workers" in graph["pipeline.worker_preload"]
    assert "pipeline.config" in graph["wirefeed_airflow.hooks"]


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_imports_point_one_way() -> None:
    backwards = []
    for name, imports in _graph().items():
        for target in imports:
            if any(_within(name, s) for s in SHARED):
                allowed = any(_within(target, s) for s in SHARED)
            elif any(_within(name, s) for s in STAGES):
                stage = next(i for i, s in enumerate(STAGES) if _within(name, s))
                allowed = any(_within(target, s) for s in (*SHARED, *STAGES[: stage + 1]))
            else:
                continue
            if not allowed:
                backwards.append(f"{name} -> {target}")
    assert backwards == []


def test_no_long_module_without_a_reason() -> None:
    too_long = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if text.count("\n") <= MAX_LINES:
                continue
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if f"over {MAX_LINES} lines" not in docstring:
                too_long.append(str(path.relative_to(ROOT)))
    assert too_long == []
