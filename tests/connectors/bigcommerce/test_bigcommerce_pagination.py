"""The paginators as pure state machines fed canned responses: when they stop, what they ask next, loop guards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.bigcommerce import PaginationLoopError
from connectors.bigcommerce.pagination import CursorPaginator, V2PagePaginator, V3OffsetPaginator
from connectors.http import MalformedResponseError
from tests.connectors.bigcommerce.bc_doubles import load_fixture


def _v3(ids: list[int], *, current: int | None = None, total_pages: int | None = None) -> httpx.Response:
    meta: dict[str, Any] = {}
    if current is not None:
        meta["pagination"] = {"current_page": current, "total_pages": total_pages, "count": len(ids)}
    return httpx.Response(200, json={"data": [{"id": i} for i in ids], "meta": meta})


def test_v3_offset_follows_meta_until_last_page():
    pager = V3OffsetPaginator("iter_variants", limit=2)
    seen = []
    for response in (_v3([1, 2], current=1, total_pages=2), _v3([3], current=2, total_pages=2)):
        assert not pager.done
        seen.append((pager.params(), [r["id"] for r in pager.update(response)]))

    assert seen == [({"page": 1, "limit": 2}, [1, 2]), ({"page": 2, "limit": 2}, [3])]
    assert pager.done


def test_v3_offset_reads_the_fixture_page_and_stops():
    pager = V3OffsetPaginator("iter_variants", limit=250)

    records = pager.update(httpx.Response(200, json=load_fixture("variants_page.json")))

    assert [r["sku"] for r in records] == ["MK-MUG-RED", "NT-TEE-M"]
    assert pager.done


def test_v3_offset_without_meta_pages_until_a_short_page():
    pager = V3OffsetPaginator("iter_refunds", limit=2)

    pager.update(_v3([1, 2]))
    assert not pager.done and pager.params() == {"page": 2, "limit": 2}
    pager.update(_v3([3]))
    assert pager.done


def test_v3_offset_empty_page_stops_even_if_meta_claims_more():
    pager = V3OffsetPaginator("iter_products", limit=2)

    assert pager.update(_v3([], current=1, total_pages=5)) == []
    assert pager.done


def test_v3_offset_refuses_a_repeated_page_number():
    pager = V3OffsetPaginator("iter_variants", limit=2)
    pager.update(_v3([1, 2], current=1, total_pages=3))

    with pytest.raises(PaginationLoopError, match="page 1 was served twice"):
        pager.update(_v3([3, 4], current=1, total_pages=3))


def test_v3_offset_refuses_repeated_contents_when_meta_is_empty():
    pager = V3OffsetPaginator("iter_refunds", limit=2)
    pager.update(_v3([1, 2]))

    with pytest.raises(PaginationLoopError):
        pager.update(_v3([1, 2]))


def test_v3_offset_body_without_data_list_is_malformed():
    pager = V3OffsetPaginator("iter_products", limit=2)

    with pytest.raises(MalformedResponseError, match="expected a `data` list"):
        pager.update(httpx.Response(200, json={"title": "oops"}))
    assert not pager.done and pager.params() == {"page": 1, "limit": 2}


def test_v2_204_is_an_empty_last_page():
    pager = V2PagePaginator("iter_orders", limit=250)

    assert pager.update(httpx.Response(204)) == []
    assert pager.done


def test_v2_short_page_stops_and_full_page_continues():
    pager = V2PagePaginator("iter_orders", limit=2)

    pager.update(httpx.Response(200, json=[{"id": 1}, {"id": 2}]))
    assert not pager.done and pager.params() == {"page": 2, "limit": 2}
    pager.update(httpx.Response(200, json=[{"id": 3}]))
    assert pager.done


def test_v2_repeated_page_raises():
    pager = V2PagePaginator("iter_orders", limit=2)
    pager.update(httpx.Response(200, json=[{"id": 1}, {"id": 2}]))

    with pytest.raises(PaginationLoopError):
        pager.update(httpx.Response(200, json=[{"id": 1}, {"id": 2}]))


def test_v2_truncated_body_is_malformed_not_the_end():
    pager = V2PagePaginator("iter_orders", limit=2)

    with pytest.raises(MalformedResponseError):
        pager.update(httpx.Response(200, content=b'[{"id": 1'))
    assert not pager.done


def test_cursor_follows_end_cursor_until_no_next_link():
    pager = CursorPaginator("iter_variant_metafields", limit=1)
    assert pager.params() == {"limit": 1}

    pager.update(httpx.Response(200, json=load_fixture("metafields_cursor_page.json")))
    assert pager.params() == {"limit": 1, "after": "aWQ6OTAwMQ=="}

    last = {"data": [{"id": 9002}], "meta": {"cursor_pagination": {"end_cursor": "aWQ6OTAwMg==", "links": {}}}}
    pager.update(httpx.Response(200, json=last))
    assert pager.done


def test_cursor_refuses_a_repeated_cursor():
    pager = CursorPaginator("iter_variant_metafields", limit=1)
    first = load_fixture("metafields_cursor_page.json")
    pager.update(httpx.Response(200, json=first))
    again = {**first, "data": [{"id": 9002}]}

    with pytest.raises(PaginationLoopError, match="cursor"):
        pager.update(httpx.Response(200, json=again))


def test_cursor_falls_back_to_page_numbers_when_no_cursor_is_offered():
    pager = CursorPaginator("list_order_metafields", limit=1)

    pager.update(_v3([1], current=1, total_pages=2))
    assert pager.params() == {"page": 2, "limit": 1}
    pager.update(_v3([2], current=2, total_pages=2))
    assert pager.done
