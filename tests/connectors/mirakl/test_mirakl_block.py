"""The Mirakl credentials Block: one complete credential per role, and a ready client sending each with its role."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from connectors.mirakl import MiraklClient, OAuthClientCredentials
from connectors.mirakl.block import MiraklCredentials

TOKEN_URL = "https://auth.mirakl.net/oauth/token"


async def test_block_client_sends_each_operation_with_its_roles_credential() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/refund"):
            return httpx.Response(200, json={"refunds": []})
        return httpx.Response(200, json={"carriers": []})

    client = MiraklCredentials(
        base_url="http://sandbox/mirakl", front_api_key="k-front", operator_access_token="t-operator"
    ).get_client(transport=httpx.MockTransport(handler))
    await client.list_carriers()
    await client.create_refunds([])

    assert isinstance(client, MiraklClient)
    assert [(request.url.path, request.headers["Authorization"]) for request in seen] == [
        ("/mirakl/api/shipping/carriers", "k-front"),
        ("/mirakl/api/orders/refund", "Bearer t-operator"),
    ]


def test_block_with_an_oauth_client_per_role_uses_client_credentials() -> None:
    block = MiraklCredentials(
        base_url="https://acme.mirakl.net",
        oauth_token_url=TOKEN_URL,
        front_oauth_client_id="front-1",
        front_oauth_client_secret="s3cret-front",
        operator_oauth_client_id="operator-1",
        operator_oauth_client_secret="s3cret-operator",
    )

    client = block.get_client()

    assert repr(client.transport.http.auth).count(OAuthClientCredentials.__name__) == 2
    assert "s3cret" not in repr(block) and "s3cret" not in repr(client.transport.http.auth)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "front credential missing: set front_api_key"),
        ({"front_api_key": "k"}, "operator credential missing: set operator_api_key"),
        (
            {"front_api_key": "k", "operator_oauth_client_id": "c", "operator_oauth_client_secret": "s"},
            "operator OAuth needs all of .*oauth_token_url",
        ),
        (
            {"front_api_key": "k", "front_access_token": "t", "operator_api_key": "o"},
            "front credential is ambiguous",
        ),
    ],
)
def test_block_refuses_a_missing_partial_or_double_credential(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MiraklCredentials(base_url="https://acme.mirakl.net", **fields)


def test_block_type_name_and_field_descriptions() -> None:
    assert MiraklCredentials.get_block_type_name() == "Mirakl Credentials"
    assert all(field.description for field in MiraklCredentials.model_fields.values())
