"""The HTTP behaviour shared by variant and order metafield endpoints: listings, creates, updates, batches.

Per-resource writes answer 409 on a duplicate (namespace, key) and 422 on an invalid body; batch writes apply what
is valid and answer 422 with `{data, errors, meta{total, success, failed}}` when some items failed, each error
keyed by the item's index in the request (`ErrorDetail` in the catalog spec). Batch listings page by offset or by
cursor (`after`/`before`, `meta.cursor_pagination`, cursor = base64 "id:<last id>"). Every metafield belongs to
the API account that created it: an `app_only` one is invisible to other accounts, and only the `write` sets let
them change it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.metafields import decode_cursor, encode_cursor, metafield_errors, visible_to, writable_by
from sandbox.bigcommerce.paging import page_request, pagination_meta
from sandbox.bigcommerce.settings import CLIENT_ID, CLIENT_STATE_KEY, ERROR_TYPE
from sandbox.bigcommerce.store import BigCommerceStore

__all__ = ["batch_create", "batch_update", "caller_client", "create_metafield", "list_metafields", "update_metafield"]


def caller_client(request: Request) -> str:
    """The API account the gateway authenticated (the bridge's own when the gateway is not in front)."""
    return request.scope.get("state", {}).get(CLIENT_STATE_KEY, CLIENT_ID)


def _set_filter(request: Request, name: str) -> set[str] | None:
    values: set[str] = set()
    if (single := request.query_params.get(name)) is not None:
        values.add(single)
    if (many := request.query_params.get(f"{name}:in")) is not None:
        values.update(part for part in many.split(",") if part)
    return values or None


def list_metafields(
    request: Request, store: BigCommerceStore, resource_type: str, resource_ids: list[int] | None = None
) -> dict[str, Any]:
    """`{data, meta}` for a metafield listing, offset-paged or cursor-paged."""
    page = page_request(request, "v3")
    # product-variants_catalog.v3.yml, GET /catalog/variants/metafields documents `key`, `key:in`, `namespace`,
    # `namespace:in`, dates, paging and cursors, but no `resource_id:in`: it is ignored here, as by an API that
    # does not know it. Order metafields are listed per order (the path carries the resource).
    caller = caller_client(request)
    ids = store.metafields.select(
        resource_type,
        resource_ids=resource_ids,
        namespaces=_set_filter(request, "namespace"),
        keys=_set_filter(request, "key"),
    )

    def visible(metafield_id: int) -> bool:
        return visible_to(store.metafields.records[metafield_id], caller)

    descending = request.query_params.get("direction", "asc").lower() == "desc"
    after, before = request.query_params.get("after"), request.query_params.get("before")
    meta: dict[str, Any] = {}
    if after is not None or before is not None:
        cursor_id = decode_cursor(after if after is not None else before or "")
        if cursor_id is None:
            raise ApiError("v3", 400, "Input is invalid", detail="Invalid cursor")
        chosen, more = _cursor_page(
            ids, cursor_id, page.limit, forward=after is not None, descending=descending, keep=visible
        )
    else:
        ids = [i for i in ids if visible(i)]
        ordered = ids[::-1] if descending else ids
        chosen = page.slice(ordered)
        more = page.offset + len(chosen) < len(ids)
        meta["pagination"] = pagination_meta(request, page, len(ids), len(chosen))
    data = [_project(store.metafields.records[i], request) for i in chosen]
    meta["cursor_pagination"] = _cursor_meta(request, chosen, page.limit, more)
    return {"data": data, "meta": meta}


def _cursor_page(
    ids: list[int], cursor_id: int, limit: int, *, forward: bool, descending: bool, keep: Callable[[int], bool]
) -> tuple[list[int], bool]:
    """The `limit` ids next to the cursor that `keep` accepts, and whether more follow.

    Walks from the cursor's position and stops one past the page, so a cursor page costs its own length, not the
    listing's: a store with a million metafields is listed in thousands of pages.
    """
    if forward != descending:  # moving towards larger ids
        start = bisect_right(ids, cursor_id)
        nearest = range(start, len(ids))
    else:
        nearest = range(bisect_left(ids, cursor_id) - 1, -1, -1)
    found: list[int] = []
    for position in nearest:
        if keep(ids[position]):
            found.append(ids[position])
            if len(found) > limit:
                break
    chosen, more = found[:limit], len(found) > limit
    if not forward:
        chosen = chosen[::-1]
    return chosen, more


def _cursor_meta(request: Request, chosen: list[int], limit: int, more: bool) -> dict[str, Any]:
    start = encode_cursor(chosen[0]) if chosen else ""
    end = encode_cursor(chosen[-1]) if chosen else ""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "after", "before", "limit")]
    links: dict[str, str] = {"current": "?" + urlencode(request.query_params.multi_items(), safe=":,")}
    if more and chosen:
        links["next"] = "?" + urlencode([*kept, ("after", end), ("limit", str(limit))], safe=":,")
    return {"count": len(chosen), "per_page": limit, "start_cursor": start, "end_cursor": end, "links": links}


def _project(record: dict[str, Any], request: Request) -> dict[str, Any]:
    include = request.query_params.get("include_fields")
    if not include:
        return record
    fields = {name for name in include.split(",") if name}
    return {k: v for k, v in record.items() if k == "id" or k in fields}


def create_metafield(
    store: BigCommerceStore, resource_type: str, resource_id: int, body: Any, owner: str
) -> dict[str, Any]:
    """Create one for the API account `owner`; 422 on an invalid body, 409 when (namespace, key) is taken."""
    errors = metafield_errors(body, creating=True)
    if errors:
        raise ApiError("v3", 422, "JSON data is missing or invalid", errors=errors)
    if store.metafields.find(resource_type, resource_id, body["namespace"], body["key"]) is not None:
        raise ApiError(
            "v3",
            409,
            "Metafield with the same namespace and key already exists on this resource",
            errors={"key": "duplicate"},
        )
    return store.metafields.create(resource_type, resource_id, body, store.now(), owner)


def update_metafield(
    store: BigCommerceStore, record: dict[str, Any], body: Any, caller: str, *, complete: bool = False
) -> dict[str, Any]:
    """Change one; `complete` when the spec requires the whole body (orders.v3.yml `MetafieldPut` is
    `MetafieldBase_Post`, whose `required` is permission_set, namespace, key and value)."""
    if not visible_to(record, caller):
        raise ApiError("v3", 404, "Metafield not found")
    if not writable_by(record, caller):
        raise ApiError("v3", 403, "You don't have a required scope to access the endpoint")
    errors = metafield_errors(body, creating=complete)
    if errors:
        raise ApiError("v3", 422, "JSON data is missing or invalid", errors=errors)
    namespace, key = body.get("namespace", record["namespace"]), body.get("key", record["key"])
    clash = store.metafields.find(record["resource_type"], record["resource_id"], namespace, key)
    if clash is not None and clash["id"] != record["id"]:
        raise ApiError(
            "v3", 409, "Metafield with the same namespace and key already exists", errors={"key": "duplicate"}
        )
    return store.metafields.update(record["id"], body, store.now())


def _batch(items: Any, apply: Callable[[dict[str, Any]], dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    if not isinstance(items, list):
        raise ApiError("v3", 422, "JSON data is missing or invalid", errors={"body": "must be an array"})
    data: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            data.append(apply(item if isinstance(item, dict) else {}))
        except ApiError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in (exc.errors or {}).items()) or exc.title
            errors.append(
                {"status": exc.status, "title": exc.title, "type": ERROR_TYPE, "errors": {str(index): detail}}
            )
    meta = {"total": len(items), "success": len(data), "failed": len(errors)}
    return (422 if errors else 200), {"data": data, "errors": errors, "meta": meta}


def batch_create(
    store: BigCommerceStore, resource_type: str, items: Any, exists: Callable[[int], bool], owner: str
) -> tuple[int, dict[str, Any]]:
    def apply(item: dict[str, Any]) -> dict[str, Any]:
        resource_id = item.get("resource_id")
        if not isinstance(resource_id, int) or not exists(resource_id):
            raise ApiError("v3", 422, "Resource not found", errors={"resource_id": f"no {resource_type} {resource_id}"})
        return create_metafield(
            store, resource_type, resource_id, {k: v for k, v in item.items() if k != "resource_id"}, owner
        )

    return _batch(items, apply)


def batch_update(
    store: BigCommerceStore, resource_type: str, items: Any, caller: str, *, complete: bool = False
) -> tuple[int, dict[str, Any]]:
    """Update by `id`; `complete` where the spec's item schema requires the whole metafield, not a patch."""

    def apply(item: dict[str, Any]) -> dict[str, Any]:
        metafield_id = item.get("id")
        record = store.metafields.records.get(metafield_id) if isinstance(metafield_id, int) else None
        if record is None or record["resource_type"] != resource_type:
            raise ApiError("v3", 404, "Metafield not found", errors={"id": f"no metafield {item.get('id')}"})
        body = {k: v for k, v in item.items() if k not in ("id", "resource_id")}
        return update_metafield(store, record, body, caller, complete=complete)

    return _batch(items, apply)
