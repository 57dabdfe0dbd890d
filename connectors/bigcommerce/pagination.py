"""The three paging schemes BigCommerce really uses, as small state machines fed one response at a time.

    V3OffsetPaginator   v3 collections: `page`/`limit`, `meta.pagination{current_page,total_pages}`; when `meta`
                        is empty (refund lists) a short page ends the collection
    V2PagePaginator     v2 lists: `page`/`limit`, bare arrays, 204 No Content or a short page ends the list
    CursorPaginator     batch metafield lists: `after=<meta.cursor_pagination.end_cursor>`, falling back to
                        page numbers when the response carries only `meta.pagination`

Each paginator refuses to follow a page it has already been served (same page number, cursor or contents)
through the shared `LoopGuard`, because a server that ignores the paging parameters would otherwise make the
client loop forever.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from connectors.bigcommerce.settings import SYSTEM
from connectors.http import MalformedResponseError, decode_json
from connectors.http.pagination import LoopGuard, Paginator

__all__ = ["CursorPaginator", "ResponsePaginator", "V2PagePaginator", "V3OffsetPaginator"]


class ResponsePaginator(Paginator, Protocol):
    """A BigCommerce paginator: the shared protocol, fed one HTTP response at a time."""

    def update(self, response: httpx.Response) -> list[Any]: ...


class _Paginator:
    """Shared state: the page size, whether paging is over, and the loop guard on page contents."""

    def __init__(self, operation: str, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be positive")
        self.operation = operation
        self.limit = limit
        self.done = False
        self._guard = LoopGuard(system=SYSTEM, operation=operation)

    def _decode(self, response: httpx.Response) -> Any:
        return decode_json(response, system=SYSTEM, operation=self.operation)

    def _v3_data(self, body: Any) -> list[Any]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise MalformedResponseError("expected a `data` list", system=SYSTEM, operation=self.operation, status=200)
        return data


class V3OffsetPaginator(_Paginator):
    """Pages of a v3 collection, 1-based."""

    def __init__(self, operation: str, limit: int) -> None:
        super().__init__(operation, limit)
        self.page = 1

    def params(self) -> dict[str, Any]:
        return {"page": self.page, "limit": self.limit}

    def update(self, response: httpx.Response) -> list[Any]:
        """Read one page's records and decide whether another page follows."""
        if response.status_code == 204:
            self.done = True
            return []
        return self.read(self._decode(response))

    def read(self, body: Any) -> list[Any]:
        """The same as `update`, on an already decoded body."""
        data = self._v3_data(body)
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        pagination = meta.get("pagination") if isinstance(meta.get("pagination"), dict) else None
        self._guard.contents(data, f"page {self.page}")
        if pagination and pagination.get("current_page") is not None:
            current = int(pagination["current_page"])
            self._guard.once(f"page:{current}", f"page {current}")
            total_pages = pagination.get("total_pages")
            if total_pages is not None:
                has_next = current < int(total_pages)
            else:
                has_next = bool((pagination.get("links") or {}).get("next"))
            self.page = current + 1
        else:
            # No pagination meta (refund lists document `meta: {}`): only a full page can have a successor.
            has_next = len(data) >= self.limit
            self.page += 1
        self.done = not (data and has_next)
        return data


class V2PagePaginator(_Paginator):
    """Pages of a v2 list, 1-based; the API has no meta, so the page length is the only signal."""

    def __init__(self, operation: str, limit: int) -> None:
        super().__init__(operation, limit)
        self.page = 1

    def params(self) -> dict[str, Any]:
        return {"page": self.page, "limit": self.limit}

    def update(self, response: httpx.Response) -> list[Any]:
        """Read one page; 204 (v2's empty collection) and a short page end the list."""
        if response.status_code == 204:
            self.done = True
            return []
        body = self._decode(response)
        if not isinstance(body, list):
            raise MalformedResponseError("expected a JSON array", system=SYSTEM, operation=self.operation, status=200)
        self._guard.contents(body, f"page {self.page}")
        self.page += 1
        self.done = len(body) < self.limit
        return body


class CursorPaginator(_Paginator):
    """Pages of a batch metafield list by cursor, or by page number when the API gives no cursor."""

    def __init__(self, operation: str, limit: int) -> None:
        super().__init__(operation, limit)
        self.after: str | None = None
        self._offset = V3OffsetPaginator(operation, limit)
        self._by_page = False

    def params(self) -> dict[str, Any]:
        if self._by_page:
            return self._offset.params()
        return {"limit": self.limit} | ({"after": self.after} if self.after else {})

    def update(self, response: httpx.Response) -> list[Any]:
        """Read one page and move the cursor to its `end_cursor`, if a next page is announced."""
        if response.status_code == 204:
            self.done = True
            return []
        body = self._decode(response)
        data = self._v3_data(body)
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        cursor = meta.get("cursor_pagination") if isinstance(meta.get("cursor_pagination"), dict) else None
        if self._by_page or (cursor is None and self.after is None):
            # No cursor offered: this collection pages by number; the first response was page 1.
            self._by_page = True
            records = self._offset.read(body)
            self.done = self._offset.done
            return records
        self._guard.contents(data, f"cursor {self.after or 'start'}")
        end_cursor = (cursor or {}).get("end_cursor")
        has_next = bool(((cursor or {}).get("links") or {}).get("next")) and bool(end_cursor) and bool(data)
        if has_next:
            self._guard.once(f"cursor:{end_cursor}", f"cursor {end_cursor}")
            self.after = end_cursor
        self.done = not has_next
        return data
