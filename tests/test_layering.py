"""The layers import one way: flows -> tasks -> connectors; the sandbox imports nothing of the bridge.

A wrong import is how a business rule creeps into a connector, or how the emulator starts sharing the client's
assumptions; this test reads every module's imports (without importing them) and names the offender.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BRIDGE = {"bcmirakl", "connectors", "tasks", "flows", "expectations", "deployments", "sandbox"}
FORBIDDEN: dict[str, set[str]] = {
    "connectors": {"tasks", "flows", "sandbox", "bcmirakl", "deployments", "expectations"},
    "expectations": {"tasks", "flows", "sandbox", "bcmirakl", "deployments"},
    "tasks": {"flows", "sandbox", "deployments"},
    "flows": {"sandbox", "deployments"},
    "sandbox": BRIDGE - {"sandbox"},
}


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(_top_level_imports(path) & FORBIDDEN[layer])}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        if _top_level_imports(path) & FORBIDDEN[layer]
    ]
    assert offenders == []
