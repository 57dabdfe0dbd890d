"""Offset paging as BigCommerce does it: `page`/`limit`, 413 above the maximum, v3 `meta.pagination`.

v3 links are query strings only (`?page=3&limit=50`, other filters kept so a client can follow them as they are);
v2 has no meta, and an empty page is a 204 (bigcommerce.md §0.3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.settings import DEFAULT_LIMIT, MAX_PAGE_LIMIT

__all__ = ["PageRequest", "collection", "page_request", "pagination_meta"]

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def slice(self, items: Sequence[T]) -> list[T]:
        return list(items[self.offset : self.offset + self.limit])


def _positive_int(request: Request, name: str, default: int, version: str) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(version, 400, "Input is invalid", errors={name: "must be an integer"}) from None
    return value if value > 0 else default


def page_request(
    request: Request, version: str, *, max_limit: int = MAX_PAGE_LIMIT, default_limit: int = DEFAULT_LIMIT
) -> PageRequest:
    page = _positive_int(request, "page", 1, version)
    limit = _positive_int(request, "limit", default_limit, version)
    if limit > max_limit:
        raise ApiError(
            version,
            413,
            "The specified limit exceeds the maximum allowed.",
            errors={"limit": f"must be less than or equal to {max_limit}"},
            details={"max_limit": max_limit},
        )
    return PageRequest(page, limit)


def _link(request: Request, page: int, limit: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "limit")]
    params += [("page", str(page)), ("limit", str(limit))]
    return "?" + urlencode(params, safe=":,")


def pagination_meta(request: Request, page: PageRequest, total: int, count: int) -> dict[str, Any]:
    total_pages = math.ceil(total / page.limit)
    links: dict[str, str] = {}
    if page.page > 1:
        links["previous"] = _link(request, page.page - 1, page.limit)
    links["current"] = _link(request, page.page, page.limit)
    if page.page < total_pages:
        links["next"] = _link(request, page.page + 1, page.limit)
    return {
        "total": total,
        "count": count,
        "per_page": page.limit,
        "current_page": page.page,
        "total_pages": total_pages,
        "links": links,
    }


def collection(request: Request, page: PageRequest, total: int, data: list[Any]) -> dict[str, Any]:
    """The v3 collection envelope `{data, meta: {pagination}}`."""
    return {"data": data, "meta": {"pagination": pagination_meta(request, page, total, len(data))}}
