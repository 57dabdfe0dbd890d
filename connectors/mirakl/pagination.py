"""The two paging schemes Mirakl really uses, as small state machines plus the loops that drive them.

Offset paging (`max`/`offset`) stops when `offset >= total_count`: the `Link` header is never parsed, since
Mirakl leaves list parameters unencoded in it. Seek paging (`limit`/`page_token`) follows `next_page_token`.
Both refuse a page already served (offset paging by its contents, seek paging by its token) through the
shared `LoopGuard`, so a server bug cannot loop us forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from connectors.http.pagination import LoopGuard
from connectors.mirakl.settings import SYSTEM

__all__ = ["OffsetPaginator", "SeekPaginator", "iter_offset_pages", "iter_seek_pages"]

OffsetFetch = Callable[[dict[str, Any]], Awaitable[tuple[list[Any], int]]]
SeekFetch = Callable[[dict[str, Any]], Awaitable[tuple[list[Any], str | None]]]


class OffsetPaginator:
    """Offset paging state: which `max`/`offset` to ask for next, and whether the set is exhausted."""

    def __init__(self, page_size: int, *, operation: str = "offset list") -> None:
        if page_size <= 0:
            raise ValueError("page_size must be positive")
        self.page_size = page_size
        self.operation = operation
        self.offset = 0
        self.done = False
        self._guard = LoopGuard(system=SYSTEM, operation=operation)

    def params(self) -> dict[str, Any]:
        return {"max": self.page_size, "offset": self.offset}

    def advance(self, items: list[Any], total_count: int) -> None:
        """Record a page; an empty page also ends the walk, whatever `total_count` claims, and a page whose
        contents were already served (the offset ignored) raises `PaginationLoopError`."""
        self._guard.contents(items, f"offset {self.offset}")
        self.offset += self.page_size
        self.done = not items or self.offset >= total_count


class SeekPaginator:
    """Seek paging state: the token to send next, and every token seen so far."""

    def __init__(self, limit: int, *, operation: str) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self.limit = limit
        self.operation = operation
        self.token: str | None = None
        self.done = False
        self._guard = LoopGuard(system=SYSTEM, operation=operation)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": self.limit}
        if self.token is not None:
            params["page_token"] = self.token
        return params

    def advance(self, next_token: str | None) -> None:
        """Record a page's `next_page_token`; a missing one ends the walk, a repeated one raises."""
        if not next_token:
            self.done = True
            return
        self._guard.once(next_token, f"next_page_token {next_token!r}")
        self.token = next_token


async def iter_offset_pages(
    fetch: OffsetFetch, *, page_size: int, operation: str, params: Mapping[str, Any] | None = None
) -> AsyncIterator[list[Any]]:
    """Yield every non-empty page; `fetch(params)` returns the page's items and the `total_count`."""
    paginator = OffsetPaginator(page_size, operation=operation)
    while not paginator.done:
        items, total_count = await fetch({**(params or {}), **paginator.params()})
        paginator.advance(items, total_count)  # before the page is handed on: a repeated page never is
        if items:
            yield items


async def iter_seek_pages(
    fetch: SeekFetch, *, limit: int, operation: str, params: Mapping[str, Any] | None = None
) -> AsyncIterator[list[Any]]:
    """Yield every non-empty page; `fetch(params)` returns the page's items and its `next_page_token`."""
    paginator = SeekPaginator(limit, operation=operation)
    while not paginator.done:
        items, next_token = await fetch({**(params or {}), **paginator.params()})
        if items:
            yield items
        paginator.advance(next_token)
