"""The two Mirakl paging schemes as pure state machines, and the loops that drive them, on canned pages."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.mirakl.errors import PaginationLoopError
from connectors.mirakl.pagination import OffsetPaginator, SeekPaginator, iter_offset_pages, iter_seek_pages


def test_offset_paginator_stops_once_offset_reaches_total_count() -> None:
    paginator = OffsetPaginator(100)
    asked = []
    while not paginator.done:
        asked.append(paginator.params())
        paginator.advance(list(range(paginator.offset, min(paginator.offset + 100, 250))), total_count=250)

    assert asked == [{"max": 100, "offset": 0}, {"max": 100, "offset": 100}, {"max": 100, "offset": 200}]


def test_offset_paginator_stops_on_an_empty_page_even_if_total_count_claims_more() -> None:
    paginator = OffsetPaginator(100)
    paginator.advance([], total_count=500)

    assert paginator.done


def test_seek_paginator_follows_tokens_and_stops_without_one() -> None:
    paginator = SeekPaginator(2000, operation="TL02")
    assert paginator.params() == {"limit": 2000}
    paginator.advance("tok-2")
    assert paginator.params() == {"limit": 2000, "page_token": "tok-2"}
    paginator.advance(None)

    assert paginator.done


def test_seek_paginator_refuses_a_repeated_token() -> None:
    paginator = SeekPaginator(10, operation="OF04")
    paginator.advance("a")
    paginator.advance("b")

    with pytest.raises(PaginationLoopError) as caught:
        paginator.advance("a")
    assert caught.value.operation == "OF04"


async def test_iter_offset_pages_yields_each_page_with_filters_and_paging_params() -> None:
    calls: list[dict[str, Any]] = []
    data = list(range(250))

    async def fetch(params: dict[str, Any]) -> tuple[list[Any], int]:
        calls.append(params)
        return data[params["offset"] : params["offset"] + params["max"]], len(data)

    pages = [page async for page in iter_offset_pages(fetch, page_size=100, operation="S20", params={"shop_ids": "1"})]

    assert [len(page) for page in pages] == [100, 100, 50]
    assert [call["offset"] for call in calls] == [0, 100, 200]
    assert all(call["shop_ids"] == "1" for call in calls)


async def test_iter_seek_pages_raises_when_the_server_loops() -> None:
    async def fetch(params: dict[str, Any]) -> tuple[list[Any], str | None]:
        return [params.get("page_token")], "same-token"

    pages = []
    with pytest.raises(PaginationLoopError):
        async for page in iter_seek_pages(fetch, limit=5, operation="SBC11"):
            pages.append(page)
    assert pages == [[None], ["same-token"]]


async def test_iter_offset_pages_raises_when_the_server_ignores_the_offset() -> None:
    async def fetch(params: dict[str, Any]) -> tuple[list[Any], int]:
        return [{"order_id": "A-1"}, {"order_id": "A-2"}], 10  # the first page, whatever offset was asked

    pages = []
    with pytest.raises(PaginationLoopError, match="offset 2 was served twice") as caught:
        async for page in iter_offset_pages(fetch, page_size=2, operation="OR11"):
            pages.append(page)
    assert len(pages) == 1 and caught.value.operation == "OR11" and caught.value.system == "mirakl"


def test_both_systems_raise_one_loop_error_class() -> None:
    from connectors.bigcommerce import PaginationLoopError as BigCommerceLoop
    from connectors.http import PaginationLoopError as SharedLoop

    assert PaginationLoopError is SharedLoop is BigCommerceLoop
