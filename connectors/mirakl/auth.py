"""How requests prove who we are to Mirakl, per role: a legacy API key, a generated access token, or OAuth 2.

Mirakl's front and operator roles have separate credentials (`connectors.mirakl.roles`); each role is
configured with exactly one of an API key (sent raw), a generated access token (sent as `Bearer`) or an OAuth
client (client credentials, tokens as `Bearer`). `RoleAuth` picks the credential of the role the client
marked on the request. All are `httpx.Auth`, so the token dance happens inside the client's own transport (the
sandbox's ASGI transport in tests) and the client code never touches a secret. Keys and tokens are never
logged and never shown in a repr.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping

import httpx

from connectors.http import AuthError, ConfigurationError, MalformedResponseError, TransientApiError
from connectors.mirakl.errors import error_message
from connectors.mirakl.roles import ROLE_HEADER, Role
from connectors.mirakl.settings import OAUTH_REFRESH_MARGIN_S, SYSTEM

__all__ = [
    "CREDENTIAL_FIELDS",
    "AccessTokenAuth",
    "ApiKeyAuth",
    "OAuthClientCredentials",
    "RoleAuth",
    "credential_problem",
    "role_credential_auth",
]

# The per-role settings, named `<prefix><role>_<field>` wherever they are configured (environment, Block).
CREDENTIAL_FIELDS = ("api_key", "access_token", "oauth_client_id", "oauth_client_secret")

_TOKEN_OPERATION = "oauth-token"


class ApiKeyAuth(httpx.Auth):
    """A front or operator API key, sent raw in `Authorization` as Mirakl expects: no `Bearer` prefix."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the Mirakl API key is empty")
        self._key = key

    def __repr__(self) -> str:
        return "ApiKeyAuth(key=***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._key
        yield request


class AccessTokenAuth(httpx.Auth):
    """A generated access token (the specs' `Front-Bearer-Token` / `Operator-Bearer-Token` schemes): `Bearer`."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the Mirakl access token is empty")
        self._token = token

    def __repr__(self) -> str:
        return "AccessTokenAuth(token=***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
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


class RoleAuth(httpx.Auth):
    """Sends each request with the credential of the role the client marked on it (`ROLE_HEADER`).

    The marker is removed before the request leaves, so Mirakl never sees it; a request without one is a client
    defect and is refused here rather than sent with a guessed credential.
    """

    requires_response_body = True  # OAuth reads the token answer and a 401's body

    def __init__(self, credentials: Mapping[Role, httpx.Auth]) -> None:
        missing = [role.value for role in Role if role not in credentials]
        if missing:
            raise ConfigurationError(f"Mirakl credential missing for role(s): {', '.join(missing)}")
        self._credentials = dict(credentials)

    def __repr__(self) -> str:
        return f"RoleAuth({', '.join(f'{role.value}={auth!r}' for role, auth in self._credentials.items())})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        marker = request.headers.pop(ROLE_HEADER, None)
        if marker is None:
            raise ConfigurationError(f"Mirakl request {request.method} {request.url.path} carries no role")
        yield from self._credentials[Role(marker)].auth_flow(request)


def credential_problem(
    role: Role, values: Mapping[str, object], token_url: object, name: Callable[[str], str]
) -> str | None:
    """What is wrong with one role's credential settings, naming them with `name(field)`; None when usable.

    Args:
        role: the role being checked.
        values: `CREDENTIAL_FIELDS` -> configured value (None when unset).
        token_url: the OAuth token endpoint (shared by both roles' OAuth clients).
        name: turns a field (or `oauth_token_url`) into the name the operator sets, e.g. an environment variable.
    """
    key, token = values.get("api_key"), values.get("access_token")
    client_id, secret = values.get("oauth_client_id"), values.get("oauth_client_secret")
    has_oauth = client_id is not None or secret is not None
    chosen = [kind for kind, given in (("api_key", key), ("access_token", token)) if given is not None]
    if has_oauth:
        chosen.append("oauth_client_id")
    if not chosen:
        return (
            f"Mirakl {role.value} credential missing: set {name('api_key')}, or {name('access_token')}, or "
            f"{name('oauth_client_id')} and {name('oauth_client_secret')} (with {name('oauth_token_url')})"
        )
    if len(chosen) > 1:
        return f"Mirakl {role.value} credential is ambiguous: set only one of {', '.join(name(f) for f in chosen)}"
    if has_oauth and (client_id is None or secret is None or token_url is None):
        return (
            f"Mirakl {role.value} OAuth needs all of {name('oauth_client_id')}, {name('oauth_client_secret')} "
            f"and {name('oauth_token_url')}"
        )
    return None


def role_credential_auth(
    *,
    api_key: str | None = None,
    access_token: str | None = None,
    oauth_client_id: str | None = None,
    oauth_client_secret: str | None = None,
    oauth_token_url: str | None = None,
) -> httpx.Auth:
    """The `httpx.Auth` of one role's credential, already checked by `credential_problem`."""
    if api_key is not None:
        return ApiKeyAuth(api_key)
    if access_token is not None:
        return AccessTokenAuth(access_token)
    if oauth_client_id and oauth_client_secret and oauth_token_url:
        return OAuthClientCredentials(oauth_token_url, oauth_client_id, oauth_client_secret)
    raise ConfigurationError("a Mirakl role has neither an API key, an access token nor a complete OAuth client")
