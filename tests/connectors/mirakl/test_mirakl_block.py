"""The Mirakl credentials Block: exactly one complete authentication, and a ready client from it."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from connectors.mirakl import MiraklClient, OAuthClientCredentials
from connectors.mirakl.block import MiraklCredentials


async def test_block_client_reaches_the_prefixed_base_url_with_the_raw_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"carriers": []})

    client = MiraklCredentials(base_url="http://sandbox/mirakl", api_key="k-1").get_client(
        transport=httpx.MockTransport(handler)
    )
    await client.list_carriers()

    assert isinstance(client, MiraklClient)
    assert (seen[0].url.path, seen[0].headers["Authorization"]) == ("/mirakl/api/shipping/carriers", "k-1")


def test_block_with_the_oauth_trio_uses_client_credentials() -> None:
    block = MiraklCredentials(
        base_url="https://acme.mirakl.net",
        oauth_token_url="https://auth.mirakl.net/oauth/token",
        oauth_client_id="client-1",
        oauth_client_secret="s3cret",
    )

    client = block.get_client()

    assert isinstance(client.transport.http.auth, OAuthClientCredentials)
    assert "s3cret" not in repr(block)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one Mirakl authentication"),
        ({"oauth_client_id": "client-1"}, "needs all of oauth_token_url"),
        (
            {
                "api_key": "k",
                "oauth_token_url": "https://auth.mirakl.net/oauth/token",
                "oauth_client_id": "c",
                "oauth_client_secret": "s",
            },
            "exactly one Mirakl authentication",
        ),
    ],
)
def test_block_refuses_missing_partial_or_double_authentication(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MiraklCredentials(base_url="https://acme.mirakl.net", **fields)


def test_block_type_name_and_field_descriptions() -> None:
    assert MiraklCredentials.get_block_type_name() == "Mirakl Credentials"
    assert all(field.description for field in MiraklCredentials.model_fields.values())
