"""The stages of the pipeline import one another in one direction only.

Each stage folder of ``shared_events`` may import the stages listed for it
here, and the leaves at the top of the package (``models``, ``correlation``,
``event_keys``: the producer's and consumers' keys, read from settings and
used by every stage that signs or verifies; ``telemetry``: the traces and
metrics every stage records), nothing else: no stage imports
the composition, the entry points or a later stage. Walks the code with
``ast`` (nothing is imported), function-local imports included, tests left
out.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent

STAGES: dict[str, set[str]] = {
    "events": set(),
    "write_side": {"events"},
    "transport": {"events"},
    "outbox": {"transport", "events"},
    "consume": {"transport", "events"},
    "read_side": {"consume", "events"},
    "event_source_mapping": {"transport"},
}
LEAVES = {"models", "correlation", "event_keys", "telemetry"}


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def wrong_way_imports() -> list[str]:
    found = []
    for stage, allowed in STAGES.items():
        for path in (PACKAGE / stage).rglob("*.py"):
            if "tests" in path.relative_to(PACKAGE).parts:
                continue
            for name in _imported(path):
                parts = name.split(".")
                if parts[0] != "shared_events" or len(parts) < 2:
                    continue
                target = parts[1]
                if target in (stage, *allowed, *LEAVES):
                    continue
                found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return sorted(found)


def test_each_stage_imports_only_the_stages_before_it():
    assert wrong_way_imports() == []
