"""Reading the per-item outcome of a batch write, so one bad item never sinks the other 49.

BigCommerce does not document how a refused batch item is pointed at: observed and documented answers use the
item's position (`"3"`, `"items[3].price"`), the variant id (`"105"`) or an `instance` path
(`/catalog/variants/105`). These functions accept all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.bigcommerce.errors import BatchItemError, BatchRejectedError
from connectors.bigcommerce.models import SavedMetafield

__all__ = ["locate_rejected_variants", "unsaved_metafields"]

_INDEX_KEY = re.compile(r"^[A-Za-z_]*(?:\[(\d+)\]|\.?(\d+)\.)")
_ID_IN_PATH = re.compile(r"(?:^|[/=\s])(\d+)(?=$|[/?&#\s])")


def locate_rejected_variants(ids: Sequence[int], errors: list[BatchItemError]) -> dict[int, str]:
    """Variant id -> message for every error that points at a submitted item (unlocated errors are left out).

    Keys are read liberally: `3.price`, `items[3].price` or `[3]` is a position; a bare number is a variant id
    when one was submitted, else a position; any other key (an `instance` such as `/catalog/variants/105` or
    `/v3/catalog/variants?id=105`) names a variant id as a whole path segment or query value.
    """
    rejected: dict[int, str] = {}
    for error in errors:
        variant_id = next((found for key in error.keys if (found := _locate(key, ids)) is not None), None)
        if variant_id is not None:
            earlier = rejected.get(variant_id)
            rejected[variant_id] = f"{earlier}; {error.message}" if earlier else error.message
    return rejected


def _locate(key: str, ids: Sequence[int]) -> int | None:
    key = key.strip()
    if key.isdigit():
        number = int(key)
        if number in ids:
            return number
        return ids[number] if number < len(ids) else None
    index_match = _INDEX_KEY.match(key)
    if index_match:
        position = int(index_match.group(1) or index_match.group(2))
        return ids[position] if position < len(ids) else None
    named = [int(n) for n in _ID_IN_PATH.findall(key) if int(n) in ids]
    return named[-1] if named else None


def unsaved_metafields(
    bodies: Sequence[Mapping[str, Any]], saved: Sequence[SavedMetafield], exc: BatchRejectedError
) -> list[tuple[int, str]]:
    """(position, the API's best message) of each body of a partially saved metafield batch that was not saved.

    An update (a body with an `id`) is saved when its id comes back; a create when its (resource, namespace, key)
    does."""
    saved_ids = {m.id for m in saved}
    saved_keys = {(m.resource_id, m.namespace, m.key) for m in saved}
    by_position = {}
    for error in exc.item_errors:
        for key in error.keys:
            if key.isdigit() and int(key) < len(bodies):
                by_position[int(key)] = error.message
    unsaved = []
    for position, body in enumerate(bodies):
        if body.get("id") is not None:
            done = body["id"] in saved_ids
        else:
            done = (body.get("resource_id"), body.get("namespace"), body.get("key")) in saved_keys
        if not done:
            unsaved.append((position, by_position.get(position, exc.api_message)))
    return unsaved
