"""Who may call the emulated tenant, and with which role: a raw API key, a generated access token or an OAuth token.

Mirakl's legacy key goes raw in `Authorization` (no prefix); generated access tokens and OAuth 2 tokens go as
`Bearer <token>` (the specs' `Front-Bearer-Token` / `Operator-Bearer-Token` schemes), and OAuth tokens expire
after ~1 h (`expires_in: 3599`). Every credential belongs to one role, front or operator; each route accepts
the roles the specs declare for its operation (`sandbox.mirakl.roles`). An unknown credential is a 401, a known
one of the wrong role a 403, both with Mirakl's error body.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.mirakl.errors import MiraklError
from sandbox.mirakl.formats import MiraklJSONResponse
from sandbox.mirakl.roles import FRONT, OPERATOR, ROUTE_ROLES
from sandbox.mirakl.settings import MiraklSandboxSettings
from sandbox.mirakl.store import MiraklStore

__all__ = ["caller_role", "oauth_router", "require_auth"]


def _store(request: Request) -> MiraklStore:
    return request.app.state.store


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def caller_role(request: Request) -> str:
    """The role of the request's credential; 401 when it has none the tenant knows."""
    header = request.headers.get("Authorization")
    if not header:
        raise MiraklError(401, "Unauthorized: the Authorization header is missing")
    store = _store(request)
    settings = store.settings
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        for role, generated in ((FRONT, settings.front_access_token), (OPERATOR, settings.operator_access_token)):
            if _same(token, generated):
                return role
        issued_role = store.token_role(token)
        if issued_role is not None:
            return issued_role
        raise MiraklError(401, "Unauthorized: the access token is invalid or expired")
    for role, key in ((FRONT, settings.front_api_key), (OPERATOR, settings.operator_api_key)):
        if _same(header.strip(), key):
            return role
    raise MiraklError(401, "Unauthorized: the API key is invalid")


def require_auth(request: Request) -> None:
    """Dependency on every `/api` route: a known credential whose role the route's operation accepts."""
    role = caller_role(request)
    route = request.scope.get("route")
    path = route.path if isinstance(route, Route) else request.url.path
    entry = ROUTE_ROLES.get((request.method, path))
    if entry is None:
        # Every /api route is in the table (tests/sandbox check it): a missing one is an emulator bug.
        raise MiraklError(500, f"no role declared for {request.method} {path}")
    _operation, allowed = entry
    if role not in allowed:
        raise MiraklError(403, "Forbidden")


def _client_role(settings: MiraklSandboxSettings, client_id: str, client_secret: str) -> str | None:
    clients = (
        (FRONT, settings.front_oauth_client_id, settings.front_oauth_client_secret),
        (OPERATOR, settings.operator_oauth_client_id, settings.operator_oauth_client_secret),
    )
    for role, known_id, known_secret in clients:
        if _same(client_id, known_id) and _same(client_secret, known_secret):
            return role
    return None


oauth_router = APIRouter()


@oauth_router.post("/oauth/token")
async def issue_token(request: Request) -> Response:
    """Client-credentials grant, as at `https://auth.mirakl.net/oauth/token` (form-encoded body)."""
    form = {key: values[0] for key, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        raise MiraklError(400, f"Unsupported grant_type {form.get('grant_type')}")
    role = _client_role(_store(request).settings, form.get("client_id", ""), form.get("client_secret", ""))
    if role is None:
        raise MiraklError(401, "Unauthorized: invalid client credentials")
    token = _store(request).issue_token(role)
    return MiraklJSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3599})
