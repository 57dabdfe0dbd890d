"""How requests prove who we are to Mirakl: the legacy front API key, or OAuth 2 client credentials.

Both are `httpx.Auth`, so the token dance happens inside the client's own transport (the sandbox's ASGI
transport in tests) and the client code never touches a secret. Keys and tokens are never logged and never
shown in a repr.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from connectors.http import AuthError, MalformedResponseError, TransientApiError
from connectors.mirakl.errors import error_message
from connectors.mirakl.settings import OAUTH_REFRESH_MARGIN_S, SYSTEM

__all__ = ["ApiKeyAuth", "OAuthClientCredentials"]

_TOKEN_OPERATION = "oauth-token"


class ApiKeyAuth(httpx.Auth):
    """The front (or shop) API key, sent raw in `Authorization` as Mirakl expects: no `Bearer` prefix."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the Mirakl API key is empty")
        self._key = key

    def __repr__(self) -> str:
        return "ApiKeyAuth(key=***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._key
        yield request


class OAuthClientCredentials(httpx.Auth):
    """OAuth 2 client-credentials bearer tokens, cached until shortly before they expire.

    A 401 on a request sent with a cached token means the token was revoked or expired early: the token is
    fetched again once and the request repeated; a second 401 is returned to the caller as it is.
    """

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        refresh_margin_s: float = OAUTH_REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (token_url and client_id and client_secret):
            raise ValueError("OAuth needs a token URL, a client id and a client secret")
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self.tokens_fetched = 0

    def __repr__(self) -> str:
        return f"OAuthClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or self._clock() >= self._expires_at:
            token_response = yield self._token_request()
            self._store(token_response)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            token_response = yield self._token_request()
            self._store(token_response)
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
            },
            headers={"Accept": "application/json"},
        )

    def _store(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            # The identity provider is busy or down, not refusing us: the request may be retried.
            raise TransientApiError(error_message(response), system=SYSTEM, operation=_TOKEN_OPERATION, status=status)
        if status >= 400:
            raise AuthError(error_message(response), system=SYSTEM, operation=_TOKEN_OPERATION, status=status)
        try:
            body = response.json()
            token = body["access_token"]
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedResponseError(
                "token response has no access_token", system=SYSTEM, operation=_TOKEN_OPERATION, status=status
            ) from exc
        self._token = str(token)
        self._expires_at = self._clock() + max(0.0, expires_in - self._refresh_margin_s)
        self.tokens_fetched += 1
