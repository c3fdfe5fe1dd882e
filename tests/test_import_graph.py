"""The import graph: dependencies point one way, and nothing imports in a circle.

Walks every non-test module of the project with ``ast`` (no module is
imported), counting function-local imports too: a circle kept alive by an
import inside a function is still a circle. Imports under ``if
TYPE_CHECKING:`` are left out; they never run.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The benchmarks measure the services' own code in-process as well.
BENCH_IMPORTS = {
    "observe",
    "stack",
    "shared_events",
    "service_kit",
    "customer_service",
    "order_service",
}

# Which of the project's top-level packages each one may import. The order
# is the floors of the building: a package imports only those below it.
ALLOWED: dict[str, set[str]] = {
    "shared_events": set(),
    "service_kit": {"shared_events"},
    "customer_service": {"service_kit", "shared_events"},
    "order_service": {"service_kit", "shared_events"},
    # A service that joins later knows the events, never the services.
    "analytics_service": {"service_kit", "shared_events"},
    "stack": {"shared_events"},
    "observe": {"stack", "shared_events"},
    "bench": BENCH_IMPORTS,
    "lab": {"observe", "stack", "shared_events"},
    # The strangler fig moves a running platform between approaches, with its
    # data: it reads and writes the databases (stack) and asks the auditor.
    "strangler": {"observe", "stack", "shared_events"},
    # The top floor: the lab, the benchmarks, the cockpit and all they import
    # (``manage.py cockpit`` starts the cockpit).
    "platform_cli": {"lab", "bench", "cockpit", "strangler", *BENCH_IMPORTS},
    # Below it: the cockpit draws and measures the platform, and shows the
    # lab's runs with the lab's own charts; only the command line imports it.
    "cockpit": {"lab", "observe", "stack", "shared_events"},
    "manage": {"platform_cli", "stack"},
}


def is_test_module(path: Path) -> bool:
    parts = path.relative_to(REPO).parts
    return (
        parts[0] == "tests"
        or "tests" in parts
        or path.name == "conftest.py"
        or path.name.startswith("test_")
    )


def project_modules() -> dict[str, Path]:
    modules = {}
    for top in ALLOWED:
        if top == "manage":
            modules["manage"] = REPO / "manage.py"
            continue
        for path in (REPO / top).rglob("*.py"):
            if "migrations" in path.parts or is_test_module(path):
                continue
            dotted = ".".join(path.relative_to(REPO).with_suffix("").parts)
            modules[dotted.removesuffix(".__init__")] = path
    return modules


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement except those under ``if TYPE_CHECKING:``."""
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped
    ]


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()

    def resolve(name: str) -> str | None:
        while name:
            if name in modules:
                return name
            name = name.rpartition(".")[0]
        return None

    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _runtime_imports(tree):
            for name in _imported_names(node, module, path.name == "__init__.py"):
                target = resolve(name)
                if target and target != module:
                    graph[module].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
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


def top(module: str) -> str:
    return module.partition(".")[0]


def wrong_way_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if top(target) != top(module) and top(target) not in ALLOWED[top(module)]
    )


def test_no_module_imports_in_a_circle():
    assert circles(import_graph()) == []


def test_top_level_packages_import_only_the_floors_below():
    assert wrong_way_imports(import_graph()) == []


def test_the_checker_finds_circles_and_wrong_way_imports():
    graph = {
        "lab.cli": {"lab.runner"},
        "lab.runner": {"observe.audit"},
        "observe.audit": {"lab.cli", "stack.postgres"},
        "stack.postgres": set(),
    }
    assert circles(graph) == [["lab.cli", "lab.runner", "observe.audit"]]
    assert wrong_way_imports(graph) == ["observe.audit imports lab.cli"]
