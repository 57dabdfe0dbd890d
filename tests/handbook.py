"""What the operations handbook says the artifacts hold and the UI shows, read from its pages, so tests can hold
the code to it."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "ARTIFACTS_PAGE",
    "DEPLOYING_PAGE",
    "handbook_classes",
    "handbook_columns",
    "section_table",
]

HANDBOOK = Path(__file__).resolve().parents[1] / "docs" / "handbook"
ARTIFACTS_PAGE = HANDBOOK / "artifacts.md"
DEPLOYING_PAGE = HANDBOOK / "deploying.md"
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


def section_table(page: Path, heading: str) -> list[list[str]]:
    """The cells of the first table under `## heading` on `page`, header and separator rows left out."""
    lines = page.read_text().splitlines()
    start = lines.index(f"## {heading}") + 1
    rows: list[list[str]] = []
    for line in lines[start:]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]
