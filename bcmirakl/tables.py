"""Terminal tables for `bcmirakl status`, `report` and `demo`, through rich: states in colour, problems stand out.

On a terminal a failed run is red and a non-zero stuck or failed count yellow; piped to a file or read by a
test, the same tables print as plain aligned text (no colour codes, no box characters), one row per line.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["STATE_STYLES", "plain_console", "rows_table", "terminal_console"]

STATE_STYLES = {"COMPLETED": "green", "FAILED": "bold red", "CRASHED": "bold red", "CANCELLED": "yellow"}
# Columns where anything but 0 or "-" needs a look.
PROBLEM_COLUMNS = frozenset({"stuck", "failed", "quarantined", "open cases", "records", "cases", "items"})


def rows_table(rows: Sequence[dict[str, Any]], title: str | None = None) -> Table:
    """One table from dict rows (headers from the first row); `state` and problem columns are coloured."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    headers = list(rows[0]) if rows else []
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(header, row[header]) for header in headers))
    return table


def terminal_console() -> Console:
    """The console commands print to: the terminal's width and colours, or 200 plain columns when piped."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def plain_console(width: int = 240) -> Console:
    """A console that writes plain text into a `StringIO` (`console.file.getvalue()`): no colour codes."""
    return Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)


def _cell(header: str, value: Any) -> Text:
    text = str(value)
    if header == "state":
        return Text(text, style=STATE_STYLES.get(text, "yellow"))
    if header in PROBLEM_COLUMNS and text not in ("0", "-", ""):
        return Text(text, style="yellow")
    return Text(text)
