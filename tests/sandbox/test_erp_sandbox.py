"""The ERP receiver stores each order once per idempotency key and guards its door with a bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.erp import create_erp_app

AUTH = {"Authorization": "Bearer sandbox-erp-token"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_erp_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def test_repeated_idempotency_key_returns_the_original_response_without_storing_twice(
    client: httpx.AsyncClient,
) -> None:
    headers = AUTH | {"Idempotency-Key": "bc-order-100"}
    first = await client.post("/orders", json={"order_id": 100, "lines": [{"sku": "NAT-00001"}]}, headers=headers)
    again = await client.post("/orders", json={"order_id": 100, "lines": [{"sku": "NAT-00001"}]}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json() == {"id": "ERP-000001", "status": "received"}
    received = (await client.get("/orders", headers=AUTH)).json()
    assert received["total"] == 1
    assert received["orders"][0]["order"] == {"order_id": 100, "lines": [{"sku": "NAT-00001"}]}
    assert received["orders"][0]["idempotency_key"] == "bc-order-100"


async def test_distinct_keys_are_distinct_orders(client: httpx.AsyncClient) -> None:
    for key in ("a", "b"):
        response = await client.post("/orders", json={"k": key}, headers=AUTH | {"Idempotency-Key": key})
        assert response.status_code == 201
    assert [o["id"] for o in (await client.get("/orders", headers=AUTH)).json()["orders"]] == [
        "ERP-000001",
        "ERP-000002",
    ]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "sandbox-erp-token"}])
async def test_bad_or_missing_token_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post("/orders", json={}, headers=headers | {"Idempotency-Key": "x"})
    assert response.status_code == 401
    assert (await client.get("/orders", headers=headers)).status_code == 401
    assert (await client.get("/orders", headers=AUTH)).json()["total"] == 0


async def test_missing_idempotency_key_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={"order_id": 1}, headers=AUTH)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["message"]
