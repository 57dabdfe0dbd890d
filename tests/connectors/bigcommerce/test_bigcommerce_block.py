"""The credentials Block: described fields, a secret that stays hidden, and a ready client from `get_client`."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from connectors.bigcommerce import BigCommerceClient
from connectors.bigcommerce.block import BigCommerceCredentials


def test_block_declares_its_type_name_and_describes_every_field():
    assert BigCommerceCredentials.get_block_type_name() == "BigCommerce Credentials"
    fields = BigCommerceCredentials.model_fields
    assert set(fields) >= {"base_url", "store_hash", "access_token", "reserve_share"}
    assert all(fields[name].description for name in ("base_url", "store_hash", "access_token", "reserve_share"))
    assert fields["base_url"].default == "https://api.bigcommerce.com"


def test_token_never_appears_in_repr_or_dump():
    block = BigCommerceCredentials(store_hash="abc123", access_token="super-secret-token")

    assert "super-secret-token" not in repr(block)
    assert "super-secret-token" not in str(block.model_dump())


def test_reserve_share_outside_unit_interval_is_refused():
    with pytest.raises(ValidationError):
        BigCommerceCredentials(store_hash="abc123", access_token="t", reserve_share=1.0)


async def test_get_client_sends_the_unwrapped_token_to_the_configured_base_url():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    block = BigCommerceCredentials(
        base_url="http://sandbox.test/bigcommerce", store_hash="sandbox", access_token="sandbox-token"
    )
    async with block.get_client(transport=httpx.MockTransport(handler)) as client:
        assert isinstance(client, BigCommerceClient)
        await client.list_order_statuses()

    assert str(seen[0].url) == "http://sandbox.test/bigcommerce/stores/sandbox/v2/order_statuses"
    assert seen[0].headers["X-Auth-Token"] == "sandbox-token"
    assert client.transport.limiter.reserve_share == 0.1
