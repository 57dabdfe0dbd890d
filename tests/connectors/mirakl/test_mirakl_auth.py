"""OAuth client credentials: one token per lifetime, one refresh on a 401, secrets never in a repr."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from connectors.http import AuthError, TransientApiError
from connectors.mirakl import AccessTokenAuth, ApiKeyAuth, MiraklClient, OAuthClientCredentials, RoleAuth
from connectors.mirakl.roles import Role
from tests.connectors.mirakl.mirakl_fakes import BASE_URL
from tests.support.clock import FakeClock
from tests.support.doubles import RecordingSleep

TOKEN_URL = "https://auth.mirakl.net/oauth/token"


class FakeIdentityProvider:
    """Issues numbered tokens and serves SH21 only to the current token; can revoke it or reject every token."""

    def __init__(self, *, expires_in: int = 3599) -> None:
        self.expires_in = expires_in
        self.issued: list[str] = []
        self.token_forms: list[dict[str, list[str]]] = []
        self.api_auth_headers: list[str] = []
        self.revoked: set[str] = set()
        self.reject_all = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.token_forms.append(parse_qs(request.content.decode()))
            token = f"tok-{len(self.issued) + 1}"
            self.issued.append(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
            )
        header = request.headers.get("Authorization", "")
        self.api_auth_headers.append(header)
        token = header.removeprefix("Bearer ")
        if self.reject_all or token in self.revoked or token != self.issued[-1]:
            return httpx.Response(401, json={"message": "Unauthorized", "status": 401})
        return httpx.Response(200, json={"carriers": []})


def _client(idp: FakeIdentityProvider, oauth: OAuthClientCredentials) -> MiraklClient:
    return MiraklClient.create(
        BASE_URL,
        front=oauth,
        operator=ApiKeyAuth("operator"),
        transport=httpx.MockTransport(idp),
        sleep=RecordingSleep(),
    )


async def test_token_is_fetched_once_and_reused_until_shortly_before_expiry() -> None:
    idp, clock = FakeIdentityProvider(expires_in=3600), FakeClock()
    oauth = OAuthClientCredentials(TOKEN_URL, "client-1", "s3cret", clock=clock)
    client = _client(idp, oauth)

    await client.list_carriers()
    await client.list_carriers()
    clock.now += 3600 - 300 - 1
    await client.list_carriers()
    assert idp.issued == ["tok-1"]

    clock.now += 2
    await client.list_carriers()

    assert idp.issued == ["tok-1", "tok-2"]
    assert idp.api_auth_headers == ["Bearer tok-1"] * 3 + ["Bearer tok-2"]
    assert idp.token_forms[0] == {
        "grant_type": ["client_credentials"],
        "client_id": ["client-1"],
        "client_secret": ["s3cret"],
    }


async def test_a_401_refreshes_the_token_once_and_repeats_the_request() -> None:
    idp = FakeIdentityProvider()
    client = _client(idp, OAuthClientCredentials(TOKEN_URL, "client-1", "s3cret"))
    await client.list_carriers()
    idp.revoked.add("tok-1")

    assert await client.list_carriers() == []
    assert idp.issued == ["tok-1", "tok-2"]
    assert idp.api_auth_headers == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


async def test_a_second_401_after_refresh_fails_with_auth_error() -> None:
    idp = FakeIdentityProvider()
    client = _client(idp, OAuthClientCredentials(TOKEN_URL, "client-1", "s3cret"))
    idp.reject_all = True

    with pytest.raises(AuthError):
        await client.list_carriers()
    assert idp.issued == ["tok-1", "tok-2"]
    assert client.transport.calls["SH21"] == 1


@pytest.mark.parametrize(("status", "expected"), [(400, AuthError), (401, AuthError), (503, TransientApiError)])
async def test_token_endpoint_errors_are_classified(status: int, expected: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": "invalid_client"})

    client = MiraklClient.create(
        BASE_URL,
        front=OAuthClientCredentials(TOKEN_URL, "client-1", "s3cret"),
        operator=ApiKeyAuth("operator"),
        transport=httpx.MockTransport(handler),
        sleep=RecordingSleep(),
    )

    with pytest.raises(expected):
        await client.list_carriers()


def test_credentials_never_appear_in_reprs() -> None:
    assert "s3cret" not in repr(OAuthClientCredentials(TOKEN_URL, "client-1", "s3cret"))
    assert "key-123" not in repr(ApiKeyAuth("key-123"))
    assert "tok-123" not in repr(AccessTokenAuth("tok-123"))
    assert "key-123" not in repr(
        RoleAuth({Role.FRONT: ApiKeyAuth("key-123"), Role.OPERATOR: AccessTokenAuth("tok-123")})
    )
