"""Lookups by undocumented list filters: chunked URLs, every row checked, one sweep when the store ignores them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from connectors.bigcommerce import BigCommerceClient
from connectors.bigcommerce import settings as bc
from connectors.bigcommerce.matching import Sweep
from connectors.bigcommerce.models import Variant
from tests.support.doubles import ScriptedServer

CATALOG = [{"id": i, "product_id": 1, "sku": f"SKU-{i}"} for i in range(1, 501)]


def _listing(honour: bool) -> Callable[[httpx.Request], httpx.Response]:
    """A variant listing that honours `id:in`/`sku:in`, or ignores them like an API that does not know them."""

    def answer(request: httpx.Request) -> httpx.Response:
        query = {name: values[0] for name, values in parse_qs(request.url.query.decode()).items()}
        rows: list[dict[str, Any]] = CATALOG
        if honour and "id:in" in query:
            rows = [row for row in rows if str(row["id"]) in query["id:in"].split(",")]
        if honour and "sku:in" in query:
            rows = [row for row in rows if row["sku"] in query["sku:in"].split(",")]
        limit, page = int(query.get("limit", 250)), int(query.get("page", 1))
        chunk = rows[(page - 1) * limit : page * limit]
        pages = max(1, -(-len(rows) // limit))
        meta = {
            "pagination": {
                "total": len(rows),
                "count": len(chunk),
                "per_page": limit,
                "current_page": page,
                "total_pages": pages,
            }
        }
        return httpx.Response(200, json={"data": chunk, "meta": meta})

    return answer


async def _ids(make_client: Callable[..., BigCommerceClient], server: ScriptedServer, wanted: list[int]) -> list[int]:
    client = make_client(server)
    return [variant.id async for page in client.iter_variants_by_id(wanted) for variant in page]


async def test_a_store_honouring_id_in_is_asked_in_chunks_and_answers_only_those(
    make_client: Callable[..., BigCommerceClient],
) -> None:
    server = ScriptedServer(_listing(honour=True))
    wanted = list(range(1, 2 * bc.IDS_PER_FILTER + 2))

    found = await _ids(make_client, server, wanted)

    assert sorted(found) == [i for i in wanted if i <= len(CATALOG)]
    asked = [parse_qs(request.url.query.decode())["id:in"][0].split(",") for request in server.requests]
    assert len(asked) == 3 and max(len(chunk) for chunk in asked) == bc.IDS_PER_FILTER


async def test_a_store_ignoring_id_in_costs_one_sweep_and_yields_only_the_ids_asked(
    make_client: Callable[..., BigCommerceClient],
) -> None:
    server = ScriptedServer(_listing(honour=False))
    wanted = [3, 250, 251, 499, *range(1000, 1000 + 2 * bc.IDS_PER_FILTER)]  # spans three chunks

    found = await _ids(make_client, server, wanted)

    assert found == [3, 250, 251, 499]
    assert len(server.requests) == 2  # the first chunk's listing, read to its end (500 rows, 250 a page)


async def test_a_store_ignoring_sku_in_never_matches_an_unrelated_variant(
    make_client: Callable[..., BigCommerceClient],
) -> None:
    client = make_client(ScriptedServer(_listing(honour=False)))

    found = [v.sku async for page in client.iter_variants_by_sku(["SKU-7", "NOPE"]) for v in page]

    assert found == ["SKU-7"]


async def test_lookups_can_list_only_the_fields_a_caller_reads(
    make_client: Callable[..., BigCommerceClient],
) -> None:
    server = ScriptedServer(_listing(honour=True))
    client = make_client(server)

    by_id = [v.id async for page in client.iter_variants_by_id([1, 2], fields=["product_id"]) for v in page]
    by_sku = [v.sku async for page in client.iter_variants_by_sku(["SKU-3"], fields=["product_id"]) for v in page]
    everything = [v.id async for page in client.iter_variants_by_id([4]) for v in page]

    assert (by_id, by_sku, everything) == ([1, 2], ["SKU-3"], [4])
    included = [parse_qs(request.url.query.decode()).get("include_fields") for request in server.requests]
    # GET /v3/catalog/variants `include_fields`: "The ID and the specified fields will be returned"; a SKU
    # lookup always asks the SKU, which is how its rows are matched.
    assert included == [["product_id"], ["sku,product_id"], None]


async def test_a_sweep_keeps_the_rows_a_second_lookup_wants_when_the_store_ignores_the_filter(
    make_client: Callable[..., BigCommerceClient],
) -> None:
    client = make_client(ScriptedServer(_listing(honour=False)))
    sweep: Sweep[Variant] = Sweep(lambda variant: variant.sku in {"SKU-7", "SKU-3", "SKU-400"})

    found = [v.id async for page in client.iter_variants_by_id([3, 250], sweep=sweep) for v in page]

    assert found == [3, 250]
    assert sweep.complete  # the whole collection was read: a SKU absent from `rows` is absent from the store
    assert [v.sku for v in sweep.rows] == ["SKU-7", "SKU-400"]  # SKU-3 was yielded by id, not kept twice


async def test_a_sweep_concludes_nothing_when_the_store_honours_the_filter(
    make_client: Callable[..., BigCommerceClient],
) -> None:
    client = make_client(ScriptedServer(_listing(honour=True)))
    sweep: Sweep[Variant] = Sweep(lambda variant: True)

    found = [v.id async for page in client.iter_variants_by_id([3, 250], sweep=sweep) for v in page]

    assert (found, sweep.complete, sweep.rows) == ([3, 250], False, [])
