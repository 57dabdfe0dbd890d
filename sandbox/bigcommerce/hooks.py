"""Webhooks v3 routes: list and create subscriptions with the constraints real stores enforce.

A destination must be HTTPS on the default port, and one (scope, destination) pair may exist once per client
(bigcommerce.md §6.1). The emulator records subscriptions; it does not deliver events.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.requests import Request

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.paging import collection, page_request
from sandbox.bigcommerce.settings import CLIENT_ID
from sandbox.bigcommerce.store import BigCommerceStore
from sandbox.bigcommerce.wire import ApiJSONResponse, read_json

__all__ = ["hooks_router"]


def _invalid(errors: dict[str, str]) -> ApiError:
    return ApiError("v3", 422, "JSON data is missing or invalid", errors=errors)


def _validated(store: BigCommerceStore, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid({"body": "must be an object"})
    missing = {name: "error.path.missing" for name in ("scope", "destination") if not body.get(name)}
    if missing:
        raise _invalid(missing)
    scope, destination = body["scope"], body["destination"]
    if not isinstance(scope, str) or not scope.startswith("store/"):
        raise _invalid({"scope": "must be a webhook scope such as store/order/created"})
    parts = urlsplit(destination) if isinstance(destination, str) else None
    if parts is None or parts.scheme != "https" or parts.port not in (None, 443) or not parts.hostname:
        raise _invalid({"destination": "must be an https URL on port 443"})
    headers = body.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise _invalid({"headers": "must map header names to strings"})
    if any(h["scope"] == scope and h["destination"] == destination for h in store.hooks):
        raise _invalid({"destination": "a webhook with this scope and destination already exists"})
    return {"scope": scope, "destination": destination, "headers": headers, "is_active": body.get("is_active", True)}


def hooks_router(store: BigCommerceStore) -> APIRouter:
    router = APIRouter(prefix="/stores/{store_hash}/v3/hooks")

    @router.get("")
    async def list_hooks(request: Request) -> ApiJSONResponse:
        page = page_request(request, "v3")
        query = request.query_params
        active = query.get("is_active")
        hooks = [
            h
            for h in store.hooks
            if (active is None or h["is_active"] == (active.lower() == "true"))
            and (query.get("scope") is None or h["scope"] == query["scope"])
            and (query.get("destination") is None or h["destination"] == query["destination"])
        ]
        data = page.slice(hooks)
        return ApiJSONResponse(collection(request, page, len(hooks), data))

    @router.post("")
    async def create_hook(request: Request) -> ApiJSONResponse:
        fields = _validated(store, await read_json(request, "v3"))
        now = int(time.time())
        hook = {
            "id": store.next_id("hook"),
            "client_id": CLIENT_ID,
            "store_hash": store.settings.store_hash,
            **fields,
            "created_at": now,
            "updated_at": now,
        }
        store.hooks.append(hook)
        return ApiJSONResponse({"data": hook, "meta": {}})

    return router
