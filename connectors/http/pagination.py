"""What every paginator shares: the protocol a paging loop drives, and the guard that refuses a page twice.

A paginator is a small state machine (as dlt's and the Meltano SDK's are): `params()` is what to ask for next,
`done` says the walk is over, and each system's own method reads a response into it. A server that ignores
the paging parameters, or hands back a token it gave before, would make the loop run forever; `LoopGuard`
turns that into one `PaginationLoopError`, whatever the system and the scheme.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from pydantic_core import to_json

from common.errors import PaginationLoopError

__all__ = ["LoopGuard", "Paginator"]


class Paginator(Protocol):
    """What a paging loop needs of a paginator: the operation it pages, the next request's parameters, and
    whether to stop."""

    operation: str
    done: bool

    def params(self) -> dict[str, Any]: ...


class LoopGuard:
    """Remembers every page served (by token, number or contents) and refuses to follow one twice."""

    def __init__(self, *, system: str, operation: str) -> None:
        self.system = system
        self.operation = operation
        self._seen: set[str] = set()

    def once(self, marker: str, where: str) -> None:
        """Record `marker` (a page number, a token); raise when it was recorded before."""
        if marker in self._seen:
            raise PaginationLoopError(f"{where} was served twice", system=self.system, operation=self.operation)
        self._seen.add(marker)

    def contents(self, records: list[Any], where: str) -> None:
        """Record a page by its contents; an empty page proves nothing and is not recorded.

        The records are decoded JSON, so pydantic_core's serialiser (Rust) writes them (under a third of
        `json.dumps(sort_keys=True)`'s time on a 250-variant page); keys are not sorted, since a server serving a
        page again serves it as it did the first time, and the signature is only compared within one walk.
        """
        if records:
            signature = hashlib.sha1(to_json(records, fallback=str)).hexdigest()
            self.once(f"contents:{signature}", where)
