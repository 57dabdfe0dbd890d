"""What the operations handbook says the artifacts hold, read from its pages, so tests can hold the code to it."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["ARTIFACTS_PAGE", "handbook_classes", "handbook_columns"]

ARTIFACTS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "handbook" / "artifacts.md"
_NAME = re.compile(r"`([a-z0-9_]+)`")


def handbook_columns(key: str) -> list[str]:
    """The columns the handbook's row for artifact `key` lists (`columns: `a`, `b` — ...`), in order."""
    row = next(line for line in ARTIFACTS_PAGE.read_text().splitlines() if line.startswith(f"| `{key}` |"))
    listed = row.split("columns:", 1)[1].split("—", 1)[0]
    return _NAME.findall(listed)


def handbook_classes() -> set[str]:
    """The reconciliation classes in the handbook's class table."""
    lines = ARTIFACTS_PAGE.read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("| class |")) + 2
    classes: set[str] = set()
    for line in lines[start:]:
        if not line.startswith("| `"):
            break
        classes.update(_NAME.findall(line.split("|")[1]))
    return classes
