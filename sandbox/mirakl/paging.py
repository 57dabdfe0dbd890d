"""Mirakl's two pagination schemes, served in O(page) from pre-sorted indexes.

Offset paging (`max`/`offset`, `total_count`, a `Link: rel="next"` header; `max` capped at 100) backs OR11,
S20, PA11, PA12 and IV01. Seek paging (`limit`/`page_token` → `next_page_token`) backs OF04, TL02 and SBC11;
its token is opaque to clients and carries the filters, because Mirakl ignores other filters once a
`page_token` is sent.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Annotated, Any

from fastapi import Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.errors import MiraklError
from sandbox.mirakl.formats import MiraklJSONResponse

__all__ = [
    "MAX_OFFSET_PAGE",
    "OffsetPage",
    "OffsetParams",
    "SeekKey",
    "check_limit",
    "decode_token",
    "encode_token",
    "offset_params",
    "offset_response",
    "seek_walk",
]

MAX_OFFSET_PAGE = 100
DEFAULT_PAGE = 10

SeekKey = tuple[int, int]  # (sort value, e.g. epoch millis; tie-breaking id)


@dataclass(frozen=True)
class OffsetParams:
    max: int
    offset: int
    paginate: bool


def offset_params(
    max: Annotated[int, Query(ge=1)] = DEFAULT_PAGE,  # Mirakl's parameter name
    offset: Annotated[int, Query(ge=0)] = 0,
    paginate: bool = True,
) -> OffsetParams:
    """`max` above 100 is served as 100: clients must page on `total_count`, not on the size they asked."""
    return OffsetParams(max=min(max, MAX_OFFSET_PAGE), offset=offset, paginate=paginate)


OffsetPage = Annotated[OffsetParams, Depends(offset_params)]


def offset_response(
    request: Request,
    key: str,
    candidates: Iterable[Any],
    total: int,
    params: OffsetParams,
    render: Callable[[Any], Any],
) -> Response:
    """One offset page of `candidates` (already filtered and sorted), rendered lazily: only the page is built."""
    end = params.offset + params.max
    window = islice(candidates, params.offset, end) if params.paginate else iter(candidates)
    body: dict[str, Any] = {key: [render(item) for item in window], "total_count": total}
    headers = {}
    if params.paginate and params.offset + params.max < total:
        next_url = request.url.include_query_params(offset=params.offset + params.max, max=params.max)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return MiraklJSONResponse(body, headers=headers)


def encode_token(filters: dict[str, Any], last: SeekKey) -> str:
    raw = json.dumps({"f": filters, "k": list(last)}, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[dict[str, Any], SeekKey]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return dict(data["f"]), (int(data["k"][0]), int(data["k"][1]))
    except (binascii.Error, ValueError, KeyError, TypeError, IndexError) as exc:
        raise MiraklError(400, "The page_token is invalid") from exc


def check_limit(limit: int, maximum: int) -> int:
    if limit < 1 or limit > maximum:
        raise MiraklError(400, f"The limit must be between 1 and {maximum}")
    return limit


def seek_walk(
    keys: Sequence[SeekKey],
    *,
    after: SeekKey | None,
    limit: int,
    accept: Callable[[SeekKey], bool] = lambda _key: True,
    descending: bool = False,
) -> tuple[list[SeekKey], SeekKey | None]:
    """Up to `limit` accepted keys after `after` in `keys` (sorted ascending), and the resume key if more match.

    The walk stops as soon as one more accepted key proves another page exists, so its cost is the page plus
    the keys the filters skip, never the whole index.
    """
    if descending:
        start = len(keys) - 1 if after is None else bisect_left(keys, after) - 1
        positions: Iterable[int] = range(start, -1, -1)
    else:
        start = 0 if after is None else bisect_right(keys, after)
        positions = range(start, len(keys))
    page: list[SeekKey] = []
    for position in positions:
        key = keys[position]
        if not accept(key):
            continue
        if len(page) == limit:
            return page, page[-1]
        page.append(key)
    return page, None
