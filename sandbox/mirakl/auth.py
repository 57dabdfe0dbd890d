"""Who may call the emulated tenant: the raw front API key, or a Bearer token from the client-credentials flow.

Mirakl's legacy key goes raw in `Authorization` (no prefix); OAuth 2 tokens go as `Bearer <token>` and expire
after ~1 h (`expires_in: 3599`). Anything else is a 401 with Mirakl's error body.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.errors import MiraklError
from sandbox.mirakl.formats import MiraklJSONResponse
from sandbox.mirakl.store import MiraklStore

__all__ = ["oauth_router", "require_auth"]


def _store(request: Request) -> MiraklStore:
    return request.app.state.store


def require_auth(request: Request) -> None:
    """Dependency on every `/api` route."""
    header = request.headers.get("Authorization")
    if not header:
        raise MiraklError(401, "Unauthorized: the Authorization header is missing")
    store = _store(request)
    if header.lower().startswith("bearer "):
        if store.token_valid(header[7:].strip()):
            return
        raise MiraklError(401, "Unauthorized: the access token is invalid or expired")
    if hmac.compare_digest(header.strip().encode(), store.settings.api_key.encode()):
        return
    raise MiraklError(401, "Unauthorized: the API key is invalid")


oauth_router = APIRouter()


@oauth_router.post("/oauth/token")
async def issue_token(request: Request) -> Response:
    """Client-credentials grant, as at `https://auth.mirakl.net/oauth/token` (form-encoded body)."""
    form = {key: values[0] for key, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        raise MiraklError(400, f"Unsupported grant_type {form.get('grant_type')}")
    settings = _store(request).settings
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    valid = hmac.compare_digest(client_id.encode(), settings.oauth_client_id.encode()) and hmac.compare_digest(
        client_secret.encode(), settings.oauth_client_secret.encode()
    )
    if not valid:
        raise MiraklError(401, "Unauthorized: invalid client credentials")
    token = _store(request).issue_token()
    return MiraklJSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3599})
