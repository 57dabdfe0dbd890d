"""Query-string conventions shared by the routes: comma lists, repeatable parameters, dates, the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request

from sandbox.mirakl.errors import MiraklError
from sandbox.mirakl.formats import parse_date
from sandbox.mirakl.paging import SeekKey, check_limit, decode_token, encode_token, seek_walk
from sandbox.mirakl.store import MiraklStore

__all__ = ["date_param", "list_param", "seek_page", "store_of"]


def store_of(request: Request) -> MiraklStore:
    return request.app.state.store


def list_param(request: Request, name: str) -> list[str]:
    """A list filter given comma-separated, repeated, or both (Mirakl accepts each form somewhere)."""
    values = [part.strip() for raw in request.query_params.getlist(name) for part in raw.split(",")]
    return [value for value in values if value]


def date_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError as exc:
        raise MiraklError(400, f"Error with field {name}. The date {raw} is not a valid ISO-8601 date.") from exc


def seek_page(
    request: Request,
    *,
    read_filters: Any,
    keys_for: Any,
    accept_for: Any,
    render: Any,
    max_limit: int,
    descending: bool = False,
) -> dict[str, Any]:
    """One seek page: filters come from the query, or from the token once a `page_token` is sent."""
    try:
        limit = check_limit(int(request.query_params.get("limit", "10")), max_limit)
    except ValueError as exc:
        raise MiraklError(400, "Error with field limit. It must be an integer.") from exc
    token = request.query_params.get("page_token")
    after: SeekKey | None = None
    if token:
        filters, after = decode_token(token)
    else:
        filters = read_filters(request)
    keys = keys_for(filters)
    page, last = seek_walk(keys, after=after, limit=limit, accept=accept_for(filters), descending=descending)
    body: dict[str, Any] = {"data": [render(key) for key in page]}
    if last is not None:
        body["next_page_token"] = encode_token(filters, last)
    return body
